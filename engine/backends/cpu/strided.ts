/** Index arithmetic for strided access: the one place that maps an iteration space to offsets. */

/**
 * For every row-major index over `shape`, the offset `base + Σ index[d]·strides[d]`.
 * Strides of 0 express broadcasting or reduction.
 */
export function stridedOffsets(shape: readonly number[], strides: readonly number[], base = 0): Int32Array {
  let size = 1;
  for (const d of shape) size *= d;
  const out = new Int32Array(size);
  const rank = shape.length;
  if (size === 0) return out;
  if (rank === 0) {
    out[0] = base;
    return out;
  }
  const inner = shape[rank - 1];
  const innerStride = strides[rank - 1];
  const index = new Array<number>(rank).fill(0);
  let offset = base;
  for (let pos = 0; pos < size; pos += inner) {
    let o = offset;
    for (let j = 0; j < inner; j++) {
      out[pos + j] = o;
      o += innerStride;
    }
    // advance the odometer over the outer axes
    for (let d = rank - 2; d >= 0; d--) {
      index[d]++;
      offset += strides[d];
      if (index[d] < shape[d]) break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** Strides of `shape` (right-aligned inside `outShape`) with 0 on broadcast axes. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = i + rank - shape.length;
    strides[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}
