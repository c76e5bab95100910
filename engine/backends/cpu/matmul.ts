/**
 * Matrix multiply on the CPU. `matmulKernel` is the single hot kernel: every matmul (forward,
 * backward, batched, transposed, and so every convolution) is routed through it. It runs the
 * WebAssembly SIMD kernel (./wasm/gemm.ts) where the runtime has one, and the JavaScript kernel
 * below otherwise; the JavaScript kernel is also the reference the WebAssembly one is tested against.
 */
import { allocate, type DType, type TypedArray } from '../../dtype';
import { wasmMatmul } from './wasm/gemm';

/** Below this many multiply-adds, copying into WebAssembly memory and back costs more than it saves. */
export const MIN_WASM_WORK = 2048;

/**
 * A batch of products C_i[m×n] = op(A_i)·op(B_i): A_i is the matrix of `a` at element offset
 * aOffsets[i], stored m×k (k×m when transA); B_i that of `b` at bOffsets[i], stored k×n (n×k when
 * transB); C_i goes to c at i·m·n. Offsets may repeat (broadcast batch axes).
 */
export function matmulKernel(
  a: TypedArray, aOffsets: ArrayLike<number>, transA: boolean,
  b: TypedArray, bOffsets: ArrayLike<number>, transB: boolean,
  c: TypedArray, m: number, k: number, n: number,
): void {
  if (aOffsets.length * m * n * k >= MIN_WASM_WORK && wasmMatmul(a, aOffsets, transA, b, bOffsets, transB, c, m, k, n)) return;
  // the JavaScript kernel wants A as m×k rows and B as n×k rows
  const aRows = transA ? transposeLast2(a, a.length / (m * k), k, m) : a;
  const bRows = transB ? b : transposeLast2(b, b.length / (n * k), k, n);
  for (let i = 0; i < aOffsets.length; i++) jsMatmulNT(aRows, aOffsets[i], bRows, bOffsets[i], c, i * m * n, m, k, n);
}

/**
 * C[m×n] = A[m×k] · Bᵀ in JavaScript, B given row-major as n×k ("NT" layout: both operands are
 * read along k, contiguously). 4×4 register blocking with float64 accumulators.
 */
export function jsMatmulNT(
  a: TypedArray, aOffset: number, b: TypedArray, bOffset: number,
  c: TypedArray, cOffset: number, m: number, k: number, n: number,
): void {
  const m4 = m - (m % 4);
  const n4 = n - (n % 4);
  for (let i = 0; i < m4; i += 4) {
    const a0 = aOffset + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
    for (let j = 0; j < n4; j += 4) {
      const b0 = bOffset + j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[a0 + p], x1 = a[a1 + p], x2 = a[a2 + p], x3 = a[a3 + p];
        const y0 = b[b0 + p], y1 = b[b1 + p], y2 = b[b2 + p], y3 = b[b3 + p];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      const r0 = cOffset + i * n + j, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
      c[r0] = c00; c[r0 + 1] = c01; c[r0 + 2] = c02; c[r0 + 3] = c03;
      c[r1] = c10; c[r1 + 1] = c11; c[r1 + 2] = c12; c[r1 + 3] = c13;
      c[r2] = c20; c[r2 + 1] = c21; c[r2 + 2] = c22; c[r2 + 3] = c23;
      c[r3] = c30; c[r3 + 1] = c31; c[r3 + 2] = c32; c[r3 + 3] = c33;
    }
    for (let j = n4; j < n; j++) dotRows(a, b, c, cOffset, aOffset, bOffset, i, 4, j, k, n);
  }
  for (let i = m4; i < m; i++) for (let j = 0; j < n; j++) dotRows(a, b, c, cOffset, aOffset, bOffset, i, 1, j, k, n);
}

function dotRows(
  a: TypedArray, b: TypedArray, c: TypedArray, cOffset: number, aOffset: number, bOffset: number,
  i0: number, rows: number, j: number, k: number, n: number,
): void {
  const bj = bOffset + j * k;
  for (let i = i0; i < i0 + rows; i++) {
    const ai = aOffset + i * k;
    let s = 0;
    for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
    c[cOffset + i * n + j] = s;
  }
}

/** Copies the last two axes of a (batch of) row-major matrices transposed: [.., r, c] → [.., c, r]. */
function transposeLast2(x: TypedArray, batch: number, rows: number, cols: number): TypedArray {
  const out = allocate(dtypeName(x), x.length);
  const size = rows * cols;
  for (let b = 0; b < batch; b++) {
    const base = b * size;
    for (let r = 0; r < rows; r++) {
      const src = base + r * cols;
      for (let c = 0; c < cols; c++) out[base + c * rows + r] = x[src + c];
    }
  }
  return out;
}

function dtypeName(x: TypedArray): DType {
  return x instanceof Float64Array ? 'float64' : x instanceof Int32Array ? 'int32' : 'float32';
}
