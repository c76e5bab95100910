/**
 * Sliding windows over [N, C, H, W] planes: PyTorch's unfold (each window's pixels as a column),
 * its adjoint fold, and max pooling's argmax. The WGSL twins (backends/webgpu/window.ts) visit the
 * same positions in the same order, so both backends sum a fold in the same order.
 */
import { allocate, type DType, type TypedArray } from '../../dtype';

type Pair = readonly [number, number];

/** Kernel size, stride, zero padding and dilation along (height, width). */
export interface Window2d {
  readonly kernel: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
}

/**
 * F.unfold: x [N, C, H, W] → [N, C·kh·kw, OH·OW], out[n, c·kh·kw + a·kw + b, r·OW + q] =
 * x[n, c, r·sh − ph + a·dh, q·sw − pw + b·dw], 0 where that falls in the padding.
 */
export function unfoldKernel(x: TypedArray, shape: readonly number[], win: Window2d, oh: number, ow: number, dtype: DType): TypedArray {
  const [n, c, h, w] = shape;
  const [kh, kw] = win.kernel, [sh, sw] = win.stride, [ph, pw] = win.padding, [dh, dw] = win.dilation;
  const out = allocate(dtype, n * c * kh * kw * oh * ow);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        for (let r = 0; r < oh; r++) {
          const u = r * sh - ph + a * dh;
          if (u < 0 || u >= h) {
            o += ow;
            continue;
          }
          for (let q = 0; q < ow; q++, o++) {
            const v = q * sw - pw + b * dw;
            if (v >= 0 && v < w) out[o] = x[base + u * w + v];
          }
        }
      }
    }
  }
  return out;
}

/**
 * Along one axis of fold's output: for each position u, the kernel taps a that reach it (u + p − a·d
 * = r·s for a window 0 ≤ r < windows), in kernel order, as CSR lists of `tapStride·a + r·windowStride`.
 */
function taps(size: number, k: number, s: number, p: number, d: number, windows: number, tapStride: number, windowStride: number): { first: Int32Array; offset: Int32Array } {
  const first = new Int32Array(size + 1);
  const offset: number[] = [];
  for (let u = 0; u < size; u++) {
    for (let a = 0; a < k; a++) {
      const start = u + p - a * d;
      if (start >= 0 && start % s === 0 && start / s < windows) offset.push(a * tapStride + (start / s) * windowStride);
    }
    first[u + 1] = offset.length;
  }
  return { first, offset: Int32Array.from(offset) };
}

/**
 * F.fold, the adjoint of unfold: cols [N, C·kh·kw, OH·OW] → [N, C, H, W]. Each output pixel sums
 * the column entries that unfold took from it: the kernel positions (a, b), in that order, whose
 * window start u + ph − a·dh is a multiple of the stride inside the OH rows (and the same across).
 */
export function foldKernel(cols: TypedArray, win: Window2d, oh: number, ow: number, outShape: readonly number[], dtype: DType): TypedArray {
  const [n, c, h, w] = outShape;
  const [kh, kw] = win.kernel;
  const l = oh * ow;
  const rows = taps(h, kh, win.stride[0], win.padding[0], win.dilation[0], oh, kw * l, ow);
  const across = taps(w, kw, win.stride[1], win.padding[1], win.dilation[1], ow, l, 1);
  const rowFirst = rows.first, rowOffset = rows.offset, colFirst = across.first, colOffset = across.offset;
  const out = allocate(dtype, n * c * h * w);
  let o = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * kh * kw * l;
    for (let u = 0; u < h; u++) {
      const r0 = rowFirst[u], r1 = rowFirst[u + 1];
      for (let v = 0; v < w; v++, o++) {
        const c0 = colFirst[v], c1 = colFirst[v + 1];
        let acc = 0;
        for (let i = r0; i < r1; i++) {
          const row = base + rowOffset[i];
          for (let j = c0; j < c1; j++) acc += cols[row + colOffset[j]];
        }
        out[o] = acc;
      }
    }
  }
  return out;
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
