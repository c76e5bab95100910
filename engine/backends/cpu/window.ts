/**
 * Sliding windows over [N, C, H, W] planes: PyTorch's unfold (each window's pixels as a column),
 * its adjoint fold, and max pooling's argmax. The WGSL twins (backends/webgpu/window.ts) visit the
 * same positions in the same order, so both backends sum a fold in the same order. And conv2d's
 * direct kernel, for a forward nothing records (conv2dKernel).
 */
import { allocate, type DType, type TypedArray } from '../../dtype';
import { wasmConv2d, wasmFold, wasmUnfold } from './wasm/gemm';
import { MIN_WASM_WORK } from './matmul';

type Pair = readonly [number, number];

/** Kernel size, stride, zero padding and dilation along (height, width). */
export interface Window2d {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
}

/** Per kernel column b: the windows [from, to) inside a row, and the shift b·dw − pw. */
export interface ColumnRuns {
  from: Int32Array;
  to: Int32Array;
  shift: Int32Array;
}

/**
 * Per kernel column b, the windows q (from ≤ q < to) whose column v = q·sw + shift falls inside a
 * row of width w, shift = b·dw − pw.
 */
function columnRuns(win: Window2d, w: number, ow: number): ColumnRuns {
  const kw = win.kernel[1], sw = win.stride[1], pw = win.padding[1], dw = win.dilation[1];
  const from = new Int32Array(kw), to = new Int32Array(kw), shift = new Int32Array(kw);
  for (let b = 0; b < kw; b++) {
    shift[b] = b * dw - pw;
    from[b] = Math.min(ow, Math.max(0, Math.ceil(-shift[b] / sw)));
    to[b] = Math.max(from[b], Math.min(ow, Math.floor((w - 1 - shift[b]) / sw) + 1));
  }
  return { from, to, shift };
}

/**
 * F.unfold: x [N, C, H, W] → [N, C·kh·kw, OH·OW], out[n, c·kh·kw + a·kw + b, r·OW + q] =
 * x[n, c, r·sh − ph + a·dh, q·sw − pw + b·dw], 0 where that falls in the padding.
 */
export function unfoldKernel(x: TypedArray, shape: readonly number[], win: Window2d, oh: number, ow: number, dtype: DType): TypedArray {
  const [n, c, h, w] = shape;
  const out = allocate(dtype, n * c * win.kernel[0] * win.kernel[1] * oh * ow);
  const runs = columnRuns(win, w, ow);
  if (wasmUnfold(x, shape, win, oh, ow, runs, out)) return out;
  const sw = win.stride[1];
  // each run of windows inside the row is copied without a test per pixel (the rest stays 0, the padding)
  windowRows(shape, win, oh, ow, runs, (plane, o, row, from, to) => {
    const at = plane * h * w + row;
    if (sw === 1) for (let q = from; q < to; q++) out[o + q] = x[at + q];
    else for (let q = from; q < to; q++) out[o + q] = x[at + q * sw];
  });
  return out;
}

/**
 * A convolution with one group, x [N, C, H, W] (`shape`) by weight [O, C·kh·kw] into
 * [N, O, OH·OW], without storing the unfolded columns (WebAssembly: wasmConv2d), or null where it
 * cannot (no SIMD here, an integer dtype, too large) or should not (a product small enough for
 * matmulKernel's JavaScript loops): then the composite's unfold and matmul do it. Its values are
 * the bits of those, the WebAssembly matmul of the weight and unfold(x).
 */
export function conv2dKernel(x: TypedArray, shape: readonly number[], weight: TypedArray, o: number, win: Window2d, oh: number, ow: number, dtype: DType): TypedArray | null {
  if (dtype === 'int32' || shape[0] * o * oh * ow * (weight.length / o) < MIN_WASM_WORK) return null;
  const out = allocate(dtype, shape[0] * o * oh * ow);
  return wasmConv2d(x, shape, weight, o, win, oh, ow, out) ? out : null;
}

/**
 * F.fold, the adjoint of unfold: cols [N, C·kh·kw, OH·OW] → [N, C, H, W]. Each output pixel sums
 * the column entries that unfold took from it, in kernel order (a, b) — the order the WGSL twin
 * gathers them in — in float64 before the one rounding to the output's dtype. Done as unfold's
 * loops run backwards: each column row is added into one plane's float64 sums.
 */
export function foldKernel(cols: TypedArray, win: Window2d, oh: number, ow: number, outShape: readonly number[], dtype: DType): TypedArray {
  const [n, c, h, w] = outShape;
  const runs = columnRuns(win, w, ow);
  const out = allocate(dtype, n * c * h * w);
  if (wasmFold(cols, outShape, win, oh, ow, runs, out)) return out;
  const sw = win.stride[1];
  const sums = new Float64Array(h * w);
  let current = 0;
  windowRows(outShape, win, oh, ow, runs, (plane, o, row, from, to) => {
    if (plane !== current) {
      out.set(sums, current * h * w);
      sums.fill(0);
      current = plane;
    }
    if (sw === 1) for (let q = from; q < to; q++) sums[row + q] += cols[o + q];
    else for (let q = from; q < to; q++) sums[row + q * sw] += cols[o + q];
  });
  if (n * c > 0) out.set(sums, current * h * w);
  return out;
}

/**
 * The rows of unfold's columns in their order (plane, kernel row a, kernel column b, window row r)
 * that lie inside the input: `visit(plane, o, row, from, to)` with o the flat index of the column
 * row's first value, row = u·W + shift(b) the offset in the plane of window 0's pixel (u the input
 * row), and the windows [from, to) that fall inside it. Rows in the padding are skipped.
 */
function windowRows(
  shape: readonly number[], win: Window2d, oh: number, ow: number, runs: ColumnRuns,
  visit: (plane: number, o: number, row: number, from: number, to: number) => void,
): void {
  const [n, c, h, w] = shape;
  const [kh, kw] = win.kernel, sh = win.stride[0], ph = win.padding[0], dh = win.dilation[0];
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const from = runs.from[b], to = runs.to[b], shift = runs.shift[b];
        for (let r = 0; r < oh; r++, o += ow) {
          const u = r * sh - ph + a * dh;
          if (u >= 0 && u < h) visit(plane, o, u * w + shift, from, to);
        }
      }
    }
  }
}

/**
 * Max pooling's choice: for each window (−∞ padding, no dilation), the position k = a·kw + b inside
 * it of its first largest element, NaN counting as largest (PyTorch's max_pool2d).
 */
export function poolArgmaxKernel(x: ArrayLike<number>, shape: readonly number[], win: Omit<Window2d, 'dilation'>, oh: number, ow: number): Int32Array {
  const [n, c, h, w] = shape;
  const [kh, kw] = win.kernel;
  const res = new Int32Array(n * c * oh * ow);
  let i = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let r = 0; r < oh; r++) {
      const r0 = r * win.stride[0] - win.padding[0];
      for (let q = 0; q < ow; q++) {
        const q0 = q * win.stride[1] - win.padding[1];
        let best = -Infinity;
        let at = -1;
        for (let u = Math.max(0, r0); u < Math.min(h, r0 + kh); u++) {
          for (let v = Math.max(0, q0); v < Math.min(w, q0 + kw); v++) {
            const val = x[base + u * w + v];
            if (val > best || Number.isNaN(val) || at < 0) {
              best = val;
              at = (u - r0) * kw + (v - q0);
            }
          }
        }
        res[i++] = at;
      }
    }
  }
  return res;
}
