/** Data movement kernels: permute, slice/pad, concat, gather/scatter-add, broadcast. */
import { allocate, type DType, type TypedArray } from '../../dtype';
import { stridesOf } from '../../shape';
import { broadcastStrides, stridedOffsets } from './strided';

export function permuteKernel(x: TypedArray, shape: readonly number[], perm: readonly number[], dtype: DType): TypedArray {
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]);
  const off = stridedOffsets(outShape, perm.map((p) => inStrides[p]));
  const out = allocate(dtype, off.length);
  for (let i = 0; i < off.length; i++) out[i] = x[off[i]];
  return out;
}

/** out = x[starts[d] : starts[d] + outShape[d]] along every axis. */
export function sliceKernel(x: TypedArray, shape: readonly number[], starts: readonly number[], outShape: readonly number[], dtype: DType): TypedArray {
  const strides = stridesOf(shape);
  let base = 0;
  for (let d = 0; d < shape.length; d++) base += starts[d] * strides[d];
  if (shape.length === 0) return allocate(dtype, 1).fill(x[0]);
  // whole runs along the last axis, which is contiguous on both sides
  const run = outShape[outShape.length - 1];
  const runStarts = stridedOffsets(outShape.slice(0, -1), strides.slice(0, -1), base);
  const out = allocate(dtype, runStarts.length * run);
  for (let r = 0; r < runStarts.length; r++) {
    const from = runStarts[r], to = r * run;
    for (let j = 0; j < run; j++) out[to + j] = x[from + j];
  }
  return out;
}

/** Zero tensor of `outShape` with `x` written at offsets `before` (the adjoint of slice). */
export function padKernel(x: TypedArray, shape: readonly number[], before: readonly number[], outShape: readonly number[], dtype: DType): TypedArray {
  const outStrides = stridesOf(outShape);
  let base = 0;
  for (let d = 0; d < shape.length; d++) base += before[d] * outStrides[d];
  let size = 1;
  for (const d of outShape) size *= d;
  const out = allocate(dtype, size);
  if (shape.length === 0) {
    out[base] = x[0];
    return out;
  }
  // whole runs along the last axis, which is contiguous on both sides
  const run = shape[shape.length - 1];
  const runStarts = stridedOffsets(shape.slice(0, -1), outStrides.slice(0, -1), base);
  for (let r = 0; r < runStarts.length; r++) {
    const from = r * run, to = runStarts[r];
    for (let j = 0; j < run; j++) out[to + j] = x[from + j];
  }
  return out;
}

export function concatKernel(parts: readonly TypedArray[], shapes: readonly (readonly number[])[], axis: number, outShape: readonly number[], dtype: DType): TypedArray {
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= outShape[d];
  let inner = 1;
  for (let d = axis + 1; d < outShape.length; d++) inner *= outShape[d];
  const outRow = outShape[axis] * inner;
  const out = allocate(dtype, outer * outRow);
  let offset = 0;
  for (let p = 0; p < parts.length; p++) {
    const chunk = shapes[p][axis] * inner;
    const src = parts[p];
    for (let o = 0; o < outer; o++) {
      const s = o * chunk;
      const t = o * outRow + offset;
      for (let i = 0; i < chunk; i++) out[t + i] = src[s + i];
    }
    offset += chunk;
  }
  return out;
}

/** index_select: out[.., j, ..] = x[.., indices[j], ..] along `axis`. */
export function gatherKernel(x: TypedArray, shape: readonly number[], indices: TypedArray, axis: number, dtype: DType): TypedArray {
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d];
  const dim = shape[axis];
  const k = indices.length;
  const out = allocate(dtype, outer * k * inner);
  if (inner === 1) {
    // single elements along the last axis (im2col's gather): no innermost loop of one
    for (let o = 0; o < outer; o++) {
      const src = o * dim;
      const dst = o * k;
      for (let j = 0; j < k; j++) out[dst + j] = x[src + indices[j]];
    }
    return out;
  }
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const src = (o * dim + indices[j]) * inner;
      const dst = (o * k + j) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] = x[src + i];
    }
  }
  return out;
}

/** The adjoint of gather: adds rows of `g` back to the positions they were taken from. */
export function scatterAddKernel(g: TypedArray, indices: TypedArray, axis: number, outShape: readonly number[], dtype: DType): TypedArray {
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= outShape[d];
  let inner = 1;
  for (let d = axis + 1; d < outShape.length; d++) inner *= outShape[d];
  const dim = outShape[axis];
  const k = indices.length;
  const out = allocate(dtype, outer * dim * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const dst = (o * dim + indices[j]) * inner;
      const src = (o * k + j) * inner;
      for (let i = 0; i < inner; i++) out[dst + i] += g[src + i];
    }
  }
  return out;
}

/**
 * x broadcast to `shape` (NumPy's rules): a single value fills it, x repeated whole along leading
 * axes is copied block by block, anything else goes through the strided offsets.
 */
export function broadcastKernel(x: TypedArray, xShape: readonly number[], shape: readonly number[], dtype: DType): TypedArray {
  let size = 1;
  for (const d of shape) size *= d;
  const out = allocate(dtype, size);
  if (x.length === 1) return out.fill(x[0]);
  // x's axes (less leading 1s) are the output's last axes: out is x, size / x.length times
  let lead = 0;
  while (lead < xShape.length - 1 && xShape[lead] === 1) lead++;
  const trailing = xShape.length - lead;
  if (trailing <= shape.length && xShape.slice(lead).every((d, i) => d === shape[shape.length - trailing + i]) && out.constructor === x.constructor) {
    for (let at = 0; at < size; at += x.length) out.set(x, at);
    return out;
  }
  const off = stridedOffsets(shape, broadcastStrides(xShape, shape));
  for (let i = 0; i < size; i++) out[i] = x[off[i]];
  return out;
}

