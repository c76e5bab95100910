/**
 * Browser entry of the WebGPU kernel test (gpu.test.ts bundles it with esbuild and loads it in
 * Chromium): `window.bplRunKernelCases(cases, opts)` opens the page's device with `openDevice`
 * (`navigator.gpu`, once), runs each case with `runOp` on a `GpuRuntime`, reads its output back and
 * returns plain arrays. The CPU references and the comparison stay in Node.
 */
/// <reference types="@webgpu/types" />
import { openDevice, type GpuDeviceInfo } from '../../engine/backends/webgpu/device';
import { runOp } from '../../engine/backends/webgpu/kernels';
import type { GpuLimits } from '../../engine/backends/webgpu/program';
import { GpuRuntime, type GpuTensor } from '../../engine/backends/webgpu/runtime';

export interface WireInput {
  values: number[];
  shape: number[];
  dtype: 'float32' | 'int32';
}

export interface WireCase {
  op: string;
  inputs: WireInput[];
  attrs: Record<string, unknown>;
  outShape: readonly number[];
}

export interface WireResult {
  /** The output tensor's shape and values (int32 outputs as numbers); empty when `failure` is set. */
  shape: number[];
  values: number[];
  /** `rt.takeErrors()` after this case's readback. */
  errors: string[];
  /** Milliseconds from upload to readback (pipeline compilation included). */
  ms: number;
  /** What the page threw running the case (runOp, readback). */
  failure?: string;
}

export interface WireRun {
  adapter: GpuDeviceInfo;
  /** The runtime's limits the programs were planned for. */
  limits: GpuLimits;
  results: WireResult[];
  /** Errors reported after the last case, once the queue is idle. */
  errors: string[];
  /** Why the device was lost, or null. */
  lost: string | null;
}

export interface RunOptions {
  /** Plan the programs for these limits instead of the device's (the device must be able to run them). */
  limits?: GpuLimits;
}

let opened: Promise<{ rt: GpuRuntime; info: GpuDeviceInfo }> | null = null;

function open(): Promise<{ rt: GpuRuntime; info: GpuDeviceInfo }> {
  opened ??= (async () => {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) throw new Error('navigator.gpu is undefined (WebGPU is off, or the page is not a secure context)');
    const device = await openDevice(gpu);
    if (!device) throw new Error('navigator.gpu.requestAdapter() found no adapter (core or compatibility)');
    return { rt: new GpuRuntime(device.device), info: device.info };
  })();
  return opened;
}

/** A runtime on the same device that plans its programs for `limits` (as the Node test's `plannedFor`). */
function plannedFor(rt: GpuRuntime, limits: GpuLimits): GpuRuntime {
  const planned = new GpuRuntime(rt.device);
  Object.defineProperty(planned, 'limits', { value: limits });
  return planned;
}

async function runKernelCases(cases: WireCase[], opts: RunOptions = {}): Promise<WireRun> {
  const { rt: device, info } = await open();
  const rt = opts.limits ? plannedFor(device, opts.limits) : device;
  const results: WireResult[] = [];
  try {
    for (const c of cases) {
      const inputs: GpuTensor[] = [];
      let out: GpuTensor | null = null;
      const t0 = performance.now();
      try {
        for (const x of c.inputs) inputs.push(rt.upload(x.values, x.shape, x.dtype));
        out = runOp(rt, c.op, inputs, c.attrs, c.outShape);
        const [got] = await rt.read(out);
        results.push({ shape: out.shape.slice(), values: Array.from(got), errors: [], ms: performance.now() - t0 });
      } catch (err) {
        results.push({ shape: [], values: [], errors: [], ms: performance.now() - t0, failure: err instanceof Error ? err.message : String(err) });
      } finally {
        for (const t of out ? [...inputs, out] : inputs) rt.release(t);
      }
      results[results.length - 1].errors = rt.takeErrors();
    }
    await rt.device.queue.onSubmittedWorkDone();
    return { adapter: info, limits: rt.limits, results, errors: [...rt.takeErrors(), ...(rt === device ? [] : device.takeErrors())], lost: device.lost };
  } finally {
    if (rt !== device) rt.dispose();
  }
}

(globalThis as unknown as { bplRunKernelCases: typeof runKernelCases }).bplRunKernelCases = runKernelCases;
