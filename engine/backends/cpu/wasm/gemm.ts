/**
 * The engine's side of the WebAssembly kernels that wat.ts describes and the build assembled: loads
 * them once and synchronously, and for each kernel copies its operands into the module's own memory
 * (converted to the result's element type on the way), runs it and copies the result out. The matrix
 * product behind `matmulKernel` (../matmul.ts, `wasmMatmul`, split across threads in the model
 * process), unfold and fold behind ../window.ts, conv2d's direct kernel (`wasmConv2d`), the
 * elementwise kernels behind ../elementwise.ts (`wasmUnary`, `wasmBinary`) and the optimizers'
 * update rules (`wasmVectorProgram`, for engine/optim/evaluate.ts). Where the runtime has no
 * WebAssembly SIMD (or a Content-Security-Policy forbids compiling) each answers false and the
 * JavaScript kernel, the reference, does the work.
 */
import type { TypedArray } from '../../../dtype';
import type { ColumnRuns, Window2d } from '../window';
import { relaxedSimdKernels, simdKernels } from './kernels.generated';
import { CONV_DESC, SIMD_BINARY, SIMD_UNARY, VM_NAMED_WORDS, WORK_BYTES } from './wat';

/** The little of the WebAssembly API used here (the engine's libraries have no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
type Gemm = (a: number, b: number, c: number, m: number, k: number, n: number, transA: number, transB: number, work: number) => void;
type Unfold = (x: number, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, dh: number, oh: number, ow: number, runs: number, dst: number) => void;
type Pad = (x: number, planes: number, h: number, w: number, ph: number, pw: number, dst: number) => void;
type Fold = (cols: number, planes: number, h: number, w: number, kh: number, kw: number, sh: number, sw: number, ph: number, dh: number, oh: number, ow: number, runs: number, sums: number, dst: number) => void;
/** What the module exports (wat.ts). */
interface Kernels {
  memory: WasmMemory;
  gemm_f32: Gemm;
  gemm_f64: Gemm;
  unfold_f32: Unfold;
  unfold_f64: Unfold;
  fold_f32: Fold;
  fold_f64: Fold;
  pad_f32: Pad;
  pad_f64: Pad;
  convGemm_f32: Gemm;
  convGemm_f64: Gemm;
  vm_run: VmRun;
}
type VmRun = (code: number, end: number, frame: number, named: number, count: number, n: number, chunk: number) => void;
type UnaryKernel = (x: number, out: number, n: number) => void;
type BinaryKernel = (a: number, b: number, out: number, n: number, layout: number, m: number) => void;
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Kernels };
}

/** Which instruction set the kernels run on here. */
export type WasmKernelKind = 'relaxed-simd' | 'simd' | 'none';

const PAGE = 65536;
/** The module's memory is never given back, so it is capped: a single product larger than this is left to the JavaScript kernel. */
const MAX_MEMORY_BYTES = 128 * 2 ** 20;

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
  try {
    for (const [kind, base64] of [['relaxed-simd', relaxedSimdKernels], ['simd', simdKernels]] as const) {
      const bytes = decode(base64);
      if (wasm?.validate(bytes)) return { kernels: new wasm.Instance(new wasm.Module(bytes), {}).exports, kind };
    }
  } catch {
    // a Content-Security-Policy without 'wasm-unsafe-eval' refuses to compile: the JavaScript kernels it is
  }
  return { kernels: null, kind: 'none' };
}

/**
 * Whether this runtime validates the relaxed-SIMD kernels as it starts (Electron, Chromium and
 * Node ≥ 22 do; Node 20 only with --experimental-wasm-relaxed-simd: extension/runner/model-process.ts).
 */
export function validatesRelaxedSimd(): boolean {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    return wasm?.validate(decode(relaxedSimdKernels)) ?? false;
  } catch {
    return false;
  }
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
 * The batched product of `matmulKernel` (../matmul.ts) in WebAssembly: product i multiplies the
 * matrix of `a` at element offset aOffsets[i] by that of `b` at bOffsets[i] into c at i·m·n; a matrix
 * of A is m×k (k×m when transA), of B k×n (n×k when transB). c is a Float32Array or Float64Array and
 * sets the element type. Returns false, having done nothing, where the JavaScript kernel should do
 * it: no SIMD here, or a product too large for the capped memory.
 */
export function wasmMatmul(
  a: TypedArray, aOffsets: ArrayLike<number>, transA: boolean,
  b: TypedArray, bOffsets: ArrayLike<number>, transB: boolean,
  c: TypedArray, m: number, k: number, n: number,
): boolean {
  if (c instanceof Int32Array) return false;
  // one large product with A's rows stored whole: the rows of C may be shared with a second thread
  if (rowSplitter && aOffsets.length === 1 && !transA && m >= 2 * SPLIT_MIN_ROWS && m * k * n >= SPLIT_MIN_MACS && kernels() &&
    !(a instanceof Int32Array) && !(b instanceof Int32Array) && a.constructor === c.constructor && b.constructor === c.constructor) {
    const A = a.subarray(aOffsets[0], aOffsets[0] + m * k) as FloatArray, B = b.subarray(bOffsets[0], bOffsets[0] + n * k) as FloatArray;
    if (rowSplitter(A, B, transB, c as FloatArray, m, k, n)) return true;
  }
  return oneThread(a, aOffsets, transA, b, bOffsets, transB, c, m, k, n);
}

type FloatArray = Float32Array | Float64Array;

/**
 * Computes C = A·op(B) for the rows of C it chooses with another thread and the rest with
 * `wasmMatmulRows` on this one; false (having done nothing) where it cannot now. A, B and C have
 * one element type. The model process installs one (extension/runner/gemm-threads.ts); elsewhere
 * (the webview, where the main thread may not block) there is none.
 */
export type RowSplitter = (a: FloatArray, b: FloatArray, transB: boolean, c: FloatArray, m: number, k: number, n: number) => boolean;

let rowSplitter: RowSplitter | null = null;

/** Products of at least this many multiply-adds are worth a second thread (about 0.1 ms of the kernel; the hand-off costs ~0.05 ms). */
export const SPLIT_MIN_MACS = 2 ** 22;
/** …and each thread gets at least this many rows. */
export const SPLIT_MIN_ROWS = 16;

/** Installs (or, with null, removes) the row splitter of large products. */
export function setRowSplitter(s: RowSplitter | null): void {
  rowSplitter = s;
}

/** Rows [0, m) of C = A·op(B) on this thread, A m×k stored by rows: the splitter's own half, and the other thread's. */
export function wasmMatmulRows(a: FloatArray, b: FloatArray, transB: boolean, c: FloatArray, m: number, k: number, n: number): boolean {
  return oneThread(a, [0], false, b, [0], transB, c, m, k, n);
}

function oneThread(
  a: TypedArray, aOffsets: ArrayLike<number>, transA: boolean,
  b: TypedArray, bOffsets: ArrayLike<number>, transB: boolean,
  c: TypedArray, m: number, k: number, n: number,
): boolean {
  const kern = kernels();
  if (!kern) return false;
  const f64 = c instanceof Float64Array;
  const size = f64 ? 8 : 4;
  const gemm = f64 ? kern.gemm_f64 : kern.gemm_f32;
  const View = f64 ? Float64Array : Float32Array;
  const batch = aOffsets.length;
  // every operand copied in once and the whole result out once; if that does not fit, one product at a time
  const whole = layout(a.length, b.length, c.length, size);
  const one = whole.end <= MAX_MEMORY_BYTES ? whole : layout(m * k, n * k, m * n, size);
  if (one.end > MAX_MEMORY_BYTES || !reserve(kern.memory, one.end)) return false;
  const buffer = kern.memory.buffer;
  const sA = transA ? 1 : 0, sB = transB ? 1 : 0;
  if (one === whole) {
    new View(buffer, one.a, a.length).set(a);
    new View(buffer, one.b, b.length).set(b);
    for (let i = 0; i < batch; i++) gemm(one.a + aOffsets[i] * size, one.b + bOffsets[i] * size, one.c + i * m * n * size, m, k, n, sA, sB, 0);
    c.set(new View(buffer, one.c, c.length));
    return true;
  }
  for (let i = 0; i < batch; i++) {
    new View(buffer, one.a, m * k).set(a.subarray(aOffsets[i], aOffsets[i] + m * k));
    new View(buffer, one.b, n * k).set(b.subarray(bOffsets[i], bOffsets[i] + n * k));
    gemm(one.a, one.b, one.c, m, k, n, sA, sB, 0);
    c.set(new View(buffer, one.c, m * n), i * m * n);
  }
  return true;
}

/**
 * unfold (im2col) of x [N, C, H, W] in WebAssembly: the same values in the same places as the
 * JavaScript kernel (../window.ts), which computes `runs` (per kernel column b, the windows
 * [from, to) inside a row, and the shift b·dw − pw) and calls this. Returns false, having done
 * nothing, where the JavaScript loops should do it (no SIMD module, an integer dtype, too large).
 */
export function wasmUnfold(x: TypedArray, shape: readonly number[], win: Window2d, oh: number, ow: number, runs: ColumnRuns, out: TypedArray): boolean {
  return windowed('unfold', x, shape, win, oh, ow, runs, out, 0);
}

/**
 * fold (col2im) in WebAssembly: cols [N, C·kh·kw, OH·OW] summed into out [N, C, H, W] (`shape`), in
 * the JavaScript kernel's order and with its float64 sums, so the results are the same bits.
 */
export function wasmFold(cols: TypedArray, shape: readonly number[], win: Window2d, oh: number, ow: number, runs: ColumnRuns, out: TypedArray): boolean {
  return windowed('fold', cols, shape, win, oh, ow, runs, out, shape[2] * shape[3] * 8);
}

/** Copies `input` in, runs unfold or fold over [N, C, H, W] = `shape` into `out`, copies it out. */
function windowed(op: 'unfold' | 'fold', input: TypedArray, shape: readonly number[], win: Window2d, oh: number, ow: number, runs: ColumnRuns, out: TypedArray, scratchBytes: number): boolean {
  if (out instanceof Int32Array || input instanceof Int32Array) return false;
  const kern = kernels();
  if (!kern) return false;
  const f64 = out instanceof Float64Array;
  const size = f64 ? 8 : 4;
  const View = f64 ? Float64Array : Float32Array;
  const [n, c, h, w] = shape;
  const kw = win.kernel[1];
  const inAt = WORK_BYTES;
  const runsAt = align(inAt + input.length * size);
  const sumsAt = align(runsAt + kw * 12);
  const dst = align(sumsAt + scratchBytes);
  const end = dst + out.length * size;
  if (end > MAX_MEMORY_BYTES || !reserve(kern.memory, end)) return false;
  const buffer = kern.memory.buffer;
  new View(buffer, inAt, input.length).set(input);
  const r = new Int32Array(buffer, runsAt, kw * 3);
  for (let b = 0; b < kw; b++) {
    r[3 * b] = runs.from[b];
    r[3 * b + 1] = runs.to[b];
    r[3 * b + 2] = runs.shift[b];
  }
  const args = [inAt, n * c, h, w, win.kernel[0], kw, win.stride[0], win.stride[1], win.padding[0], win.dilation[0], oh, ow, runsAt] as const;
  if (op === 'unfold') (f64 ? kern.unfold_f64 : kern.unfold_f32)(...args, dst);
  else (f64 ? kern.fold_f64 : kern.fold_f32)(...args, sumsAt, dst);
  out.set(new View(buffer, dst, out.length));
  return true;
}

/**
 * A convolution with one group in WebAssembly, its columns never stored: y [N, O, OH·OW] =
 * weight [O, C·kh·kw] · im2col(x) per image, x [N, C, H, W] = `shape`, with convGemm gathering each
 * panel of the columns from a zero-padded copy of x (wat.ts, packWindows). The products are the
 * matmul kernel's, in its k order. x, weight and y have one float type. Returns false, having done
 * nothing, where the composite (unfold, then matmul) should do it: no SIMD here, an integer or mixed
 * dtype, too large for the capped memory.
 */
export function wasmConv2d(x: TypedArray, shape: readonly number[], weight: TypedArray, o: number, win: Window2d, oh: number, ow: number, y: TypedArray): boolean {
  if (y instanceof Int32Array || x.constructor !== y.constructor || weight.constructor !== y.constructor) return false;
  const kern = kernels();
  if (!kern) return false;
  const f64 = y instanceof Float64Array;
  const size = f64 ? 8 : 4;
  const View = f64 ? Float64Array : Float32Array;
  const [n, c, h, w] = shape;
  const [kh, kw] = win.kernel, [sh, sw] = win.stride, [ph, pw] = win.padding, [dh, dw] = win.dilation;
  const hp = h + 2 * ph, wp = w + 2 * pw;
  const k = c * kh * kw, l = oh * ow;
  const desc = WORK_BYTES;
  const koffAt = align(desc + CONV_DESC.bytes);
  const xAt = align(koffAt + k * 4);
  const xpAt = align(xAt + x.length * size);
  const wAt = align(xpAt + n * c * hp * wp * size);
  const yAt = align(wAt + weight.length * size);
  const end = yAt + y.length * size;
  if (end > MAX_MEMORY_BYTES || !reserve(kern.memory, end)) return false;
  const buffer = kern.memory.buffer;
  new View(buffer, xAt, x.length).set(x);
  new View(buffer, wAt, weight.length).set(weight);
  (f64 ? kern.pad_f64 : kern.pad_f32)(xAt, n * c, h, w, ph, pw, xpAt);
  const d = new Int32Array(buffer, desc, CONV_DESC.lanes / 4);
  // each kernel position's offset in an image's padded planes (bytes), in the columns' row order
  const koff = new Int32Array(buffer, koffAt, k);
  for (let ci = 0, r = 0; ci < c; ci++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) koff[r++] = (ci * hp * wp + i * dh * wp + j * dw) * size;
  const field = (offset: number, value: number) => (d[offset / 4] = value);
  field(CONV_DESC.koff, koffAt);
  field(CONV_DESC.plane, hp * wp * size);
  field(CONV_DESC.kh, kh);
  field(CONV_DESC.kw, kw);
  field(CONV_DESC.rowStep, sh * wp * size);
  field(CONV_DESC.colStep, sw * size);
  field(CONV_DESC.kernelRow, dh * wp * size);
  field(CONV_DESC.kernelCol, dw * size);
  field(CONV_DESC.ow, ow);
  field(CONV_DESC.windows, l);
  const gemm = f64 ? kern.convGemm_f64 : kern.convGemm_f32;
  for (let i = 0; i < n; i++) {
    field(CONV_DESC.xp, xpAt + i * c * hp * wp * size);
    gemm(wAt, desc, yAt + i * o * l * size, o, k, l, 0, 0, 0);
  }
  y.set(new View(buffer, yAt, y.length));
  return true;
}

/** Below this many values an elementwise op stays in JavaScript (the calls and copies would cost more). */
const MIN_ELEMENTWISE = 256;

function floatView(a: TypedArray): typeof Float32Array | typeof Float64Array | null {
  return a instanceof Float32Array ? Float32Array : a instanceof Float64Array ? Float64Array : null;
}

/**
 * out = op(x) in WebAssembly SIMD for the ops of wat.ts's SIMD_UNARY (by op name), x and out of one
 * float type; false, having done nothing, where the JavaScript loop should do it (another op, an
 * integer or mixed type, too few values, no SIMD here).
 */
export function wasmUnary(name: string, x: TypedArray, out: TypedArray): boolean {
  const View = floatView(out);
  if (!View || x.constructor !== View || x.length < MIN_ELEMENTWISE || !(name in SIMD_UNARY)) return false;
  const kern = kernels();
  if (!kern) return false;
  const size = View.BYTES_PER_ELEMENT;
  const xAt = WORK_BYTES, outAt = align(xAt + x.length * size), end = outAt + out.length * size;
  if (end > MAX_MEMORY_BYTES || !reserve(kern.memory, end)) return false;
  const buffer = kern.memory.buffer;
  new View(buffer, xAt, x.length).set(x);
  (kern as unknown as Record<string, UnaryKernel>)[`unary_${name}_${size === 8 ? 'f64' : 'f32'}`](xAt, outAt, out.length);
  out.set(new View(buffer, outAt, out.length));
  return true;
}

/**
 * out = op(a, b) in WebAssembly SIMD for the ops of SIMD_BINARY, the operands lined up as `layout`
 * says (wat.ts's BINARY_LAYOUT; m the repeated row's length); a, b and out of one float type. False,
 * having done nothing, where the JavaScript loop should do it.
 */
export function wasmBinary(name: string, a: TypedArray, b: TypedArray, out: TypedArray, layout: number, m: number): boolean {
  const View = floatView(out);
  if (!View || a.constructor !== View || b.constructor !== View || out.length < MIN_ELEMENTWISE || m < 4 || !(name in SIMD_BINARY)) return false;
  const kern = kernels();
  if (!kern) return false;
  const size = View.BYTES_PER_ELEMENT;
  const aAt = WORK_BYTES, bAt = align(aAt + a.length * size), outAt = align(bAt + b.length * size), end = outAt + out.length * size;
  if (end > MAX_MEMORY_BYTES || !reserve(kern.memory, end)) return false;
  const buffer = kern.memory.buffer;
  new View(buffer, aAt, a.length).set(a);
  new View(buffer, bAt, b.length).set(b);
  (kern as unknown as Record<string, BinaryKernel>)[`binary_${name}_${size === 8 ? 'f64' : 'f32'}`](aAt, bAt, outAt, out.length, layout, m);
  out.set(new View(buffer, outAt, out.length));
  return true;
}

/** A frame slot of a vector program (engine/optim/evaluate.ts), as the WebAssembly evaluator lays it out. */
export type VmSlot =
  | { kind: 'ones' }
  | { kind: 'scratch' }
  | { kind: 'cell'; value: number }
  /** A named array: its values, or undefined where the run does not pass it; `written` if an instruction assigns it. */
  | { kind: 'named'; array: TypedArray | undefined; written: boolean };

/**
 * Runs a vector program's instructions (wat.ts's VM_OP encoding, jumps as byte addresses from 0,
 * operands as frame slot indices) over the first n values of its named arrays, in chunks of `chunk`
 * values, in WebAssembly: the same float64 operations in the same order as the JavaScript evaluator,
 * so the same bits. False, having done nothing, where it cannot (no SIMD here, an int32 array, too
 * large for the capped memory).
 */
export function wasmVectorProgram(code: Int32Array, slots: readonly VmSlot[], n: number, chunk: number): boolean {
  const kern = kernels();
  if (!kern) return false;
  const named = slots.filter((x): x is Extract<VmSlot, { kind: 'named' }> => x.kind === 'named');
  if (named.some((x) => x.array && !floatView(x.array))) return false;
  // each named array's values in the module, as an array of its own type
  const inModule = (a: TypedArray, at: number) => new (floatView(a)!)(kern.memory.buffer, at, a.length);
  const chunkBytes = (chunk + 2) * 8;
  const frameAt = align(code.length * 4);
  const namedAt = align(frameAt + slots.length * 4);
  let at = align(namedAt + named.length * VM_NAMED_WORDS * 4);
  const slotAt = slots.map((x) => {
    const here = at;
    at += x.kind === 'cell' ? 16 : chunkBytes;
    return here;
  });
  // each array 16-aligned with room for one more value after it (the spare lane of an odd last chunk)
  const dataAt = named.map((x) => {
    const here = align(at);
    if (x.array) at = here + (x.array.length + 1) * x.array.BYTES_PER_ELEMENT;
    return here;
  });
  if (at > MAX_MEMORY_BYTES || !reserve(kern.memory, at)) return false;
  const buffer = kern.memory.buffer;
  new Int32Array(buffer, 0, code.length).set(code);
  // a float32 array's slot: the low bit of its (16-aligned) address, so the evaluator rounds what it stores there
  new Int32Array(buffer, frameAt, slots.length).set(slotAt.map((a, k) => {
    const x = slots[k];
    return x.kind === 'named' && x.array instanceof Float32Array ? a | 1 : a;
  }));
  const table = new Int32Array(buffer, namedAt, named.length * VM_NAMED_WORDS);
  let j = 0;
  slots.forEach((x, k) => {
    if (x.kind === 'cell') new Float64Array(buffer, slotAt[k], 1)[0] = x.value;
    else if (x.kind === 'ones') new Float64Array(buffer, slotAt[k], chunk + 2).fill(1);
    else if (x.kind === 'named') {
      const a = x.array;
      table.set([dataAt[j], a ? a.BYTES_PER_ELEMENT : 0, x.written ? 1 : 0, slotAt[k], frameAt + 4 * k], j * VM_NAMED_WORDS);
      if (a) inModule(a, dataAt[j]).set(a);
      j++;
    }
  });
  kern.vm_run(0, code.length * 4, frameAt, namedAt, named.length, n, chunk);
  j = 0;
  for (const x of named) {
    const a = x.array;
    if (a && x.written) a.set(inModule(a, dataAt[j]));
    j++;
  }
  return true;
}

/** Byte addresses of A, B and C after the working memory, each 16-aligned, and where they end. */
function layout(aLength: number, bLength: number, cLength: number, size: number) {
  const a = WORK_BYTES;
  const b = align(a + aLength * size);
  const c = align(b + bLength * size);
  return { a, b, c, end: c + cLength * size };
}

function reserve(memory: WasmMemory, bytes: number): boolean {
  const have = memory.buffer.byteLength;
  if (have >= bytes) return true;
  try {
    memory.grow(Math.ceil((bytes - have) / PAGE));
    return true;
  } catch {
    return false; // the runtime would not give the memory
  }
}
