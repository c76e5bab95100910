import { allocate, type DType, type TypedArray } from '../../dtype';
import { broadcastStrides, stridedOffsets } from './strided';
import { wasmBinary, wasmUnary } from './wasm/gemm';
import { BINARY_LAYOUT } from './wasm/wat';

export type UnaryFn = (x: number) => number;
export type BinaryFn = (a: number, b: number) => number;

/**
 * out = fn(x) elementwise. `simd`: the op's name where its fn does not depend on attributes, so the
 * WebAssembly kernel of that name (wat.ts's SIMD_UNARY) may do the work; the loop here is the
 * fallback and the reference.
 */
export function unaryKernel(x: TypedArray, fn: UnaryFn, dtype: DType, simd?: string): TypedArray {
  const n = x.length;
  const out = allocate(dtype, n);
  if (simd !== undefined && wasmUnary(simd, x, out)) return out;
  for (let i = 0; i < n; i++) out[i] = fn(x[i]);
  return out;
}

/**
 * Binary elementwise op with NumPy broadcasting; fast paths for equal shapes, scalars and row
 * vectors, which the WebAssembly kernel of the op's name (`simd`, wat.ts's SIMD_BINARY) takes where
 * it has one.
 */
export function binaryKernel(
  a: TypedArray, aShape: readonly number[],
  b: TypedArray, bShape: readonly number[],
  outShape: readonly number[], fn: BinaryFn, dtype: DType, simd?: string,
): TypedArray {
  let size = 1;
  for (const d of outShape) size *= d;
  const out = allocate(dtype, size);
  // how the operands line up, decided once for the WebAssembly kernel and the loops below alike
  const L = BINARY_LAYOUT;
  const layout = a.length === size && b.length === size ? L.same
    : b.length === 1 && a.length === size ? L.scalarB
    : a.length === 1 && b.length === size ? L.scalarA
    : a.length === size && isTrailingVector(bShape, outShape) ? L.rowB
    : b.length === size && isTrailingVector(aShape, outShape) ? L.rowA
    : -1;
  const m = layout === L.rowB ? b.length : layout === L.rowA ? a.length : size;
  if (simd !== undefined && layout >= 0 && wasmBinary(simd, a, b, out, layout, m)) return out;
  if (layout === L.same) {
    for (let i = 0; i < size; i++) out[i] = fn(a[i], b[i]);
  } else if (layout === L.scalarB) {
    const bv = b[0];
    for (let i = 0; i < size; i++) out[i] = fn(a[i], bv);
  } else if (layout === L.scalarA) {
    const av = a[0];
    for (let i = 0; i < size; i++) out[i] = fn(av, b[i]);
  } else if (layout === L.rowB) {
    for (let i = 0; i < size; i += m) for (let j = 0; j < m; j++) out[i + j] = fn(a[i + j], b[j]);
  } else if (layout === L.rowA) {
    for (let i = 0; i < size; i += m) for (let j = 0; j < m; j++) out[i + j] = fn(a[j], b[i + j]);
  } else {
    const offA = stridedOffsets(outShape, broadcastStrides(aShape, outShape));
    const offB = stridedOffsets(outShape, broadcastStrides(bShape, outShape));
    for (let i = 0; i < size; i++) out[i] = fn(a[offA[i]], b[offB[i]]);
  }
  return out;
}

/** True when `shape` is (after dropping leading 1s) exactly the last axis of `outShape`. */
function isTrailingVector(shape: readonly number[], outShape: readonly number[]): boolean {
  let r = shape.length;
  let start = 0;
  while (start < r - 1 && shape[start] === 1) start++;
  if (r - start !== 1 || outShape.length === 0) return false;
  return shape[r - 1] === outShape[outShape.length - 1] && shape[r - 1] > 1;
}

/** where(cond, a, b) with broadcasting of all three; a fast path when each is whole or a single value. */
export function whereKernel(
  c: TypedArray, cShape: readonly number[],
  a: TypedArray, aShape: readonly number[],
  b: TypedArray, bShape: readonly number[],
  outShape: readonly number[], dtype: DType,
): TypedArray {
  let size = 1;
  for (const d of outShape) size *= d;
  if ([c, a, b].every((t) => t.length === size || t.length === 1)) {
    const out = allocate(dtype, size);
    // stride 1 for a whole operand, 0 for a single value
    const sc = c.length === size ? 1 : 0, sa = a.length === size ? 1 : 0, sb = b.length === size ? 1 : 0;
    for (let i = 0; i < size; i++) out[i] = c[i * sc] !== 0 ? a[i * sa] : b[i * sb];
    return out;
  }
  const offC = stridedOffsets(outShape, broadcastStrides(cShape, outShape));
  const offA = stridedOffsets(outShape, broadcastStrides(aShape, outShape));
  const offB = stridedOffsets(outShape, broadcastStrides(bShape, outShape));
  const out = allocate(dtype, offC.length);
  for (let i = 0; i < out.length; i++) out[i] = c[offC[i]] !== 0 ? a[offA[i]] : b[offB[i]];
  return out;
}
