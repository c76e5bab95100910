/**
 * The WebAssembly matrix product behind `matmulNT` (engine/backends/cpu/matmul.ts): loads the kernels
 * that wat.ts describes and the build assembled, once and synchronously (the module is a few KB),
 * and multiplies through the module's own memory: the operands are copied in (converted to the
 * result's element type on the way), the product copied out. Where the runtime has no WebAssembly
 * SIMD (or a Content-Security-Policy forbids compiling), `wasmMatmulNT` answers false and the
 * JavaScript kernel does the work.
 */
import type { TypedArray } from '../../../dtype';
import { relaxedSimdKernels, simdKernels } from './kernels.generated';
import { WORK_BYTES } from './wat';

/** The little of the WebAssembly API used here (the engine's libraries have no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type Gemm = (a: number, b: number, c: number, m: number, k: number, n: number, work: number) => void;
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { memory: WasmMemory; gemm_f32: Gemm; gemm_f64: Gemm } };
}

interface Kernels {
  memory: WasmMemory;
  gemm_f32: Gemm;
  gemm_f64: Gemm;
}

/** Which instruction set the kernels run on here. */
export type WasmKernelKind = 'relaxed-simd' | 'simd' | 'none';

const PAGE = 65536;
/**
 * The module's memory is never given back, so it is capped: a product whose B does not fit beside
 * a band of rows of A and C under this size is left to the JavaScript kernel.
 */
const MAX_MEMORY_BYTES = 64 * 2 ** 20;

let loaded: { kernels: Kernels | null; kind: WasmKernelKind } | undefined;
let enabled = true;

function decode(base64: string): Uint8Array {
  const text = (globalThis as unknown as { atob: (s: string) => string }).atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function load(): { kernels: Kernels | null; kind: WasmKernelKind } {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return { kernels: null, kind: 'none' };
  for (const [kind, base64] of [['relaxed-simd', relaxedSimdKernels], ['simd', simdKernels]] as const) {
    const bytes = decode(base64);
    if (!wasm.validate(bytes)) continue;
    try {
      const { exports } = new wasm.Instance(new wasm.Module(bytes), {});
      return { kernels: exports, kind };
    } catch {
      // a webview whose CSP lacks 'wasm-unsafe-eval' refuses to compile: the JavaScript kernel it is
      return { kernels: null, kind: 'none' };
    }
  }
  return { kernels: null, kind: 'none' };
}

function kernels(): Kernels | null {
  loaded ??= load();
  return enabled ? loaded.kernels : null;
}

/** The instruction set the WebAssembly kernels use in this runtime ('none': the JavaScript kernels). */
export function wasmKernelKind(): WasmKernelKind {
  loaded ??= load();
  return enabled ? loaded.kind : 'none';
}

/** Turns the WebAssembly kernels off (or back on), so tests and benchmarks can run the JavaScript reference through the same ops. */
export function setWasmKernelsEnabled(on: boolean): void {
  enabled = on;
}

const align = (bytes: number) => (bytes + 15) & ~15;

/**
 * C[m×n] = A[m×k]·Bᵀ (B given as n×k rows) in WebAssembly, into c (a Float32Array or Float64Array)
 * at cOffset. Returns false, having done nothing, where the JavaScript kernel should do it: no
 * SIMD here, or a product too large for the capped memory.
 */
export function wasmMatmulNT(
  a: TypedArray, aOffset: number, b: TypedArray, bOffset: number,
  c: TypedArray, cOffset: number, m: number, k: number, n: number,
): boolean {
  if (c instanceof Int32Array) return false;
  const kern = kernels();
  if (!kern) return false;
  const f64 = c instanceof Float64Array;
  const size = f64 ? 8 : 4;
  const bAt = WORK_BYTES;
  const aAt = align(bAt + n * k * size);
  // A and C go through in bands of rows when the whole product would not fit under the cap
  const rowBytes = (k + n) * size;
  const band = Math.min(m, Math.floor((MAX_MEMORY_BYTES - aAt - 16) / rowBytes));
  if (band < 1) return false;
  const cAt = align(aAt + band * k * size);
  const need = cAt + band * n * size;
  const memory = kern.memory;
  if (memory.buffer.byteLength < need) {
    try {
      memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
    } catch {
      return false; // the runtime would not give the memory
    }
  }
  const buffer = memory.buffer;
  const View = f64 ? Float64Array : Float32Array;
  new View(buffer, bAt, n * k).set(b.subarray(bOffset, bOffset + n * k));
  const gemm = f64 ? kern.gemm_f64 : kern.gemm_f32;
  for (let i0 = 0; i0 < m; i0 += band) {
    const rows = Math.min(band, m - i0);
    new View(buffer, aAt, rows * k).set(a.subarray(aOffset + i0 * k, aOffset + (i0 + rows) * k));
    gemm(aAt, bAt, cAt, rows, k, n, 0);
    c.set(new View(buffer, cAt, rows * n), cOffset + i0 * n);
  }
  return true;
}
