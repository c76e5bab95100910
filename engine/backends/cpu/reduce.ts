import { allocate, type DType, type TypedArray } from '../../dtype';
import { stridedOffsets } from './strided';

export type ReduceKind = 'sum' | 'max' | 'min';

/**
 * Reduces `x` over `axes` into the (keepdims-free) output order. NaN propagates through max/min,
 * as in NumPy.
 */
export function reduceKernel(x: TypedArray, shape: readonly number[], axes: readonly number[], kind: ReduceKind, dtype: DType): TypedArray {
  // output strides laid over the input shape: 0 along reduced axes
  const outStrides = new Array<number>(shape.length).fill(0);
  let s = 1;
  let outSize = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (!axes.includes(d)) {
      outStrides[d] = s;
      s *= shape[d];
      outSize *= shape[d];
    }
  }
  const acc = new Float64Array(outSize);
  if (kind === 'max') acc.fill(-Infinity);
  if (kind === 'min') acc.fill(Infinity);
  const n = x.length;
  const lastReduced = axes.length > 0 && axes[axes.length - 1] === shape.length - 1 && axes.every((a, i) => a === shape.length - axes.length + i);
  if (lastReduced && kind === 'sum') {
    // reducing the trailing axes: contiguous runs
    const run = outSize === 0 ? 0 : n / outSize;
    for (let o = 0; o < outSize; o++) {
      let t = 0;
      const base = o * run;
      for (let i = 0; i < run; i++) t += x[base + i];
      acc[o] = t;
    }
  } else if (kind === 'sum' && axes.every((a, i) => a === i)) {
    // reducing the leading axes (a bias's gradient over the batch): whole rows added in, in the
    // order the general loop adds them
    for (let base = 0; base < n; base += outSize) for (let j = 0; j < outSize; j++) acc[j] += x[base + j];
  } else {
    const off = stridedOffsets(shape, outStrides);
    if (kind === 'sum') for (let i = 0; i < n; i++) acc[off[i]] += x[i];
    else if (kind === 'max') {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const o = off[i];
        if (v > acc[o] || v !== v) acc[o] = v;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const o = off[i];
        if (v < acc[o] || v !== v) acc[o] = v;
      }
    }
  }
  if (dtype === 'float64') return acc;
  const out = allocate(dtype, outSize);
  out.set(acc);
  return out;
}
