/**
 * The WebGPU runtime: tensors in GPU buffers, a buffer pool, a pipeline cache keyed by program key,
 * and one command encoder that collects every dispatch until something must be read back (or new
 * data written), so a whole training step is one submission.
 *
 * Works with any `GPUDevice`: the webview's (`navigator.gpu`) or Node's (the `webgpu` package, for
 * tests and benchmarks). The engine itself imports nothing GPU-specific.
 */
/// <reference types="@webgpu/types" />
import { sizeOf } from '../../shape';
import { bindings, type GpuDType, type GpuLimits, type Program } from './program';

export interface GpuTensor {
  readonly buffer: GPUBuffer;
  readonly shape: number[];
  readonly dtype: GpuDType;
  readonly size: number;
  /** Released (using it again is a bug the runtime reports). */
  released: boolean;
  /** Handles sharing the buffer (views): it goes back to the pool when the last is released. */
  readonly shared: { refs: number };
}

export interface RuntimeStats {
  pipelines: number;
  pipelineHits: number;
  buffersCreated: number;
  buffersReused: number;
  dispatches: number;
  submits: number;
  readbacks: number;
  bytesRead: number;
}

// GPUBufferUsage's values, fixed by the WebGPU specification (the global exists only in browsers)
const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08, UNIFORM = 0x40, MAP_READ = 0x01;
const USAGE = { storage: STORAGE | COPY_SRC | COPY_DST, uniform: UNIFORM | COPY_DST, read: MAP_READ | COPY_DST };

/** Pooled buffers are whole multiples of this (a storage binding must be a multiple of 4; 16 keeps vec4 loads legal). */
const ALIGN = 16;

export class GpuRuntime {
  readonly limits: GpuLimits;
  readonly stats: RuntimeStats = { pipelines: 0, pipelineHits: 0, buffersCreated: 0, buffersReused: 0, dispatches: 0, submits: 0, readbacks: 0, bytesRead: 0 };
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pool = new Map<number, GPUBuffer[]>();
  private encoder: GPUCommandEncoder | null = null;
  /** Buffers released since the last submit: reused only after it (a write must not overtake their readers). */
  private pendingRelease: GPUBuffer[] = [];
  /** Uniform buffers of recorded dispatches: destroyed once submitted. */
  private pendingUniforms: GPUBuffer[] = [];
  private errors: string[] = [];
  private lostReason: string | null = null;

  constructor(readonly device: GPUDevice) {
    const l = device.limits;
    this.limits = {
      invocations: Math.min(256, l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX),
      workgroupStorage: l.maxComputeWorkgroupStorageSize,
      maxWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    };
    device.addEventListener?.('uncapturederror', (e) => this.errors.push((e as GPUUncapturedErrorEvent).error.message));
    void device.lost.then((info) => {
      this.lostReason = info.message || String(info.reason);
    });
  }

  /** Why the device was lost, or null while it works. */
  get lost(): string | null {
    return this.lostReason;
  }

  /** A copy of `data` on the GPU. Float64 values become float32. */
  upload(data: ArrayLike<number>, shape: readonly number[], dtype: GpuDType = 'float32'): GpuTensor {
    const t = this.empty(shape, dtype);
    this.write(t, data);
    return t;
  }

  /** Overwrites a tensor's values (flushes pending work first, so the write lands after it). */
  write(t: GpuTensor, data: ArrayLike<number>): void {
    this.check(t);
    if (data.length !== t.size) throw new Error(`webgpu: writing ${data.length} values into a tensor of ${t.size}`);
    this.flush();
    const typed = t.dtype === 'int32' ? Int32Array.from(data) : data instanceof Float32Array ? data : Float32Array.from(data);
    if (typed.byteLength) this.device.queue.writeBuffer(t.buffer, 0, typed.buffer, typed.byteOffset, typed.byteLength);
  }

  /** A tensor from the pool; its contents are whatever the buffer held (programs write every element). */
  empty(shape: readonly number[], dtype: GpuDType = 'float32'): GpuTensor {
    const size = sizeOf(shape);
    return { buffer: this.acquire(Math.max(ALIGN, Math.ceil((size * 4) / ALIGN) * ALIGN)), shape: shape.slice(), dtype, size, released: false, shared: { refs: 1 } };
  }

  /** Releases a handle; the buffer goes back to the pool with its last handle. */
  release(t: GpuTensor): void {
    if (t.released) return;
    t.released = true;
    if (--t.shared.refs === 0) this.pendingRelease.push(t.buffer);
  }

  /**
   * The same buffer seen with another shape (reshape): no copy, a handle of its own. With `prefix`,
   * the view may cover only the first elements (a parameter inside its optimizer-state buffer).
   */
  view(t: GpuTensor, shape: readonly number[], prefix = false): GpuTensor {
    this.check(t);
    const n = sizeOf(shape);
    if (prefix ? n > t.size : n !== t.size) throw new Error(`webgpu: cannot view ${t.size} elements as [${shape.join(', ')}]`);
    t.shared.refs++;
    return { buffer: t.buffer, shape: shape.slice(), dtype: t.dtype, size: n, released: false, shared: t.shared };
  }

  /**
   * Records one dispatch of `program` on `inputs`, writing into `out` (a new tensor of `outShape` by
   * default). `scalars` fill the program's uniform buffer.
   */
  run(program: Program, inputs: readonly GpuTensor[], outShape: readonly number[], opts: { out?: GpuTensor; scalars?: readonly number[] } = {}): GpuTensor {
    if (inputs.length !== program.inputs.length) throw new Error(`webgpu: ${program.key} takes ${program.inputs.length} input(s), got ${inputs.length}`);
    inputs.forEach((t) => this.check(t));
    const out = opts.out ?? this.empty(outShape, program.output);
    if (out.size !== program.outSize && !program.inPlace) throw new Error(`webgpu: ${program.key} writes ${program.outSize} elements, the output holds ${out.size}`);
    if (program.outSize === 0) return out;
    const pipeline = this.pipeline(program);
    const entries: GPUBindGroupEntry[] = inputs.map((t, i) => ({ binding: i, resource: { buffer: t.buffer, size: bindSize(t) } }));
    entries.push({ binding: inputs.length, resource: { buffer: out.buffer, size: bindSize(out) } });
    if (program.scalars) {
      const values = new Float32Array(Math.ceil(program.scalars / 4) * 4);
      values.set(opts.scalars ?? []);
      const ubuf = this.device.createBuffer({ size: values.byteLength, usage: USAGE.uniform, mappedAtCreation: true });
      new Float32Array(ubuf.getMappedRange()).set(values);
      ubuf.unmap();
      entries.push({ binding: inputs.length + 1, resource: { buffer: ubuf } });
      this.pendingUniforms.push(ubuf);
    }
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const encoder = (this.encoder ??= this.device.createCommandEncoder());
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(...program.dispatch);
    pass.end();
    this.stats.dispatches++;
    return out;
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.stats.submits++;
    }
    // destroying a buffer that submitted work uses is allowed: it goes once that work is done
    for (const b of this.pendingUniforms) b.destroy();
    this.pendingUniforms = [];
    for (const b of this.pendingRelease) {
      const list = this.pool.get(b.size);
      if (list) list.push(b);
      else this.pool.set(b.size, [b]);
    }
    this.pendingRelease = [];
  }

  /** Reads tensors back (one submission, one staging buffer each). */
  async read(...tensors: GpuTensor[]): Promise<Float32Array[]> {
    tensors.forEach((t) => this.check(t));
    const staging = tensors.map((t) => this.device.createBuffer({ size: Math.max(ALIGN, t.size * 4), usage: USAGE.read }));
    const encoder = (this.encoder ??= this.device.createCommandEncoder());
    tensors.forEach((t, i) => t.size && encoder.copyBufferToBuffer(t.buffer, 0, staging[i], 0, t.size * 4));
    this.flush();
    this.stats.readbacks++;
    try {
      await Promise.all(staging.map((s) => s.mapAsync(MAP_READ)));
    } catch (err) {
      staging.forEach((s) => s.destroy());
      throw new Error(`webgpu: reading back failed${this.lostReason ? ` (device lost: ${this.lostReason})` : ''}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return staging.map((s, i) => {
      const t = tensors[i];
      const raw = s.getMappedRange(0, Math.max(ALIGN, t.size * 4));
      const out = t.dtype === 'int32' ? Float32Array.from(new Int32Array(raw, 0, t.size)) : new Float32Array(raw.slice(0, t.size * 4));
      s.unmap();
      s.destroy();
      this.stats.bytesRead += t.size * 4;
      return out;
    });
  }

  /** Errors the device reported since the last call (validation, out of memory). */
  takeErrors(): string[] {
    const e = this.errors;
    this.errors = [];
    return e;
  }

  /** Frees every pooled buffer. */
  dispose(): void {
    this.flush();
    for (const list of this.pool.values()) for (const b of list) b.destroy();
    this.pool.clear();
    this.pipelines.clear();
  }

  private pipeline(program: Program): GPUComputePipeline {
    const hit = this.pipelines.get(program.key);
    if (hit) {
      this.stats.pipelineHits++;
      return hit;
    }
    const code = `${bindings(program)}\n${program.wgsl()}`;
    const module = this.device.createShaderModule({ code, label: program.key });
    // an explicit layout: 'auto' would drop a binding the WGSL happens not to read
    const COMPUTE = 0x4; // GPUShaderStage.COMPUTE
    const entries: GPUBindGroupLayoutEntry[] = program.inputs.map((_, i) => ({ binding: i, visibility: COMPUTE, buffer: { type: 'read-only-storage' } }));
    entries.push({ binding: program.inputs.length, visibility: COMPUTE, buffer: { type: 'storage' } });
    if (program.scalars) entries.push({ binding: program.inputs.length + 1, visibility: COMPUTE, buffer: { type: 'uniform' } });
    const layout = this.device.createPipelineLayout({ bindGroupLayouts: [this.device.createBindGroupLayout({ entries })] });
    const pipeline = this.device.createComputePipeline({ layout, compute: { module, entryPoint: 'main' }, label: program.key });
    this.pipelines.set(program.key, pipeline);
    this.stats.pipelines++;
    return pipeline;
  }

  private acquire(bytes: number): GPUBuffer {
    const list = this.pool.get(bytes);
    const b = list?.pop();
    if (b) {
      this.stats.buffersReused++;
      return b;
    }
    this.stats.buffersCreated++;
    return this.device.createBuffer({ size: bytes, usage: USAGE.storage });
  }

  private check(t: GpuTensor): void {
    if (t.released) throw new Error(`webgpu: a tensor of shape [${t.shape.join(', ')}] was used after it was released`);
  }
}

/** Bytes a binding of `t` covers (whole buffer: the pool's buffers are at least as large as the tensor). */
const bindSize = (t: GpuTensor) => t.buffer.size;
