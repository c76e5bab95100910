/** Ops that move data without arithmetic: reshape, cast, permute, slice/pad, concat, gather/scatterAdd. */
import { checkShape, normalizeAxis, shapeString, sizeOf } from '../shape';
import { allocate, checkDType, type DType } from '../dtype';
import { IndexError, ShapeError } from '../errors';
import { Tensor, tensor } from '../tensor';
import { concatKernel, gatherKernel, padKernel, permuteKernel, scatterAddKernel, sliceKernel } from '../backends/cpu/layout';
import { gatherProgram, padProgram, permuteProgram, placeProgram, scatterAddProgram, sliceProgram } from '../backends/webgpu/layout';
import type { GpuDType } from '../backends/webgpu/program';
import { asMethod, primitive, type Method, type Op, type Run } from './registry';

/** New shape with the same elements; one size may be −1 and is inferred. `x.reshape(2, 3)`. */
export const reshape: Op<(x: Tensor, shape: readonly number[]) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<{ shape: number[] }>) => (x, shape) => run([x], { shape: inferShape(x, shape) }),
  method: false,
  name: 'reshape', symbol: 'reshape', category: 'layout', arity: 1, torch: 'torch.reshape',
  formula: 'the gradient is reshaped back to the input shape',
  shape: ([x], { shape }) => {
    if (sizeOf(shape) !== x.size) throw new ShapeError(`reshape: cannot reshape ${shapeString(x.shape)} (${x.size} elements) to ${shapeString(shape)} (${sizeOf(shape)} elements)`);
    return shape.slice();
  },
  forward: ([x]) => x.data.slice(),
  vjp: (g, [x]) => [reshape(g, x.shape)],
  gpu: (rt, [x], _attrs, out) => rt.view(x, out),
});

function inferShape(x: Tensor, shape: readonly number[]): number[] {
  const out = shape.slice();
  const unknown = out.indexOf(-1);
  if (out.some((d, i) => (d === -1 ? i !== unknown : !Number.isInteger(d) || d < 0))) {
    throw new ShapeError(`reshape: invalid shape ${JSON.stringify(shape)} for ${shapeString(x.shape)}: sizes must be integers ≥ 0 with at most one −1`);
  }
  if (unknown >= 0) {
    const known = sizeOf(out.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) throw new ShapeError(`reshape: cannot infer −1 in ${JSON.stringify(shape)} for ${shapeString(x.shape)} (${x.size} elements)`);
    out[unknown] = x.size / known;
  }
  return out;
}

/**
 * The same values in `dtype` (PyTorch's `.to(dtype)`): a node when the dtype changes, the tensor
 * itself when it does not. The gradient goes back in the input's dtype.
 */
export const cast: Op<(x: Tensor, dtype: DType) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<{ dtype: DType }>) => (x, dtype) => (x.dtype === dtype ? x : run([x], { dtype })),
  method: false,
  name: 'cast', symbol: '→', category: 'layout', arity: 1,
  formula: 'd/dx cast(x) = 1: the gradient is cast back to the input dtype',
  shape: ([x], { dtype }) => {
    checkDType(dtype, 'cast');
    return x.shape.slice();
  },
  dtype: (_i, { dtype }) => dtype,
  forward: ([x], _attrs, _shape, dtype) => {
    const out = allocate(dtype, x.size);
    out.set(dtype === 'int32' ? Array.from(x.data as ArrayLike<number>, Math.trunc) : (x.data as ArrayLike<number>));
    return out;
  },
  vjp: (g, [x]) => [x.dtype === 'int32' ? null : cast(g, x.dtype)],
  // the GPU computes in float32: a cast between float dtypes is the same buffer
  gpu: (rt, [x], attrs, out) => {
    if (x.dtype === 'int32' || attrs.dtype === 'int32') throw new Error('webgpu: a cast to or from int32 has no kernel (it stays on the CPU)');
    return rt.view(x, out);
  },
});

/** Reorders all axes: `permute(x, [2, 0, 1])`; `x.permute(2, 0, 1)`. */
export const permute: Op<(x: Tensor, perm: readonly number[]) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<{ perm: number[] }>) => (x, perm) => run([x], { perm: perm.map((p) => normalizeAxis(p, x.rank, 'permute')) }),
  method: false,
  name: 'permute', symbol: 'ᵀ', category: 'layout', arity: 1, torch: 'torch.permute',
  formula: 'the gradient is permuted back with the inverse permutation',
  shape: ([x], { perm }) => {
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
      throw new ShapeError(`permute: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${shapeString(x.shape)}`);
    }
    return perm.map((p) => x.shape[p]);
  },
  forward: ([x], { perm }, _s, dtype) => permuteKernel(x.data, x.shape, perm, dtype),
  vjp: (g, _i, _o, { perm }) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [permute(g, inverse)];
  },
  gpu: (rt, [x], { perm }, out) => rt.run(permuteProgram(x.shape, perm, x.dtype, rt.limits), [x], out),
});

/** Swaps two axes (default: the last two). */
export const transpose: Method<(x: Tensor, axis0?: number, axis1?: number) => Tensor> = asMethod((x, axis0 = -2, axis1 = -1) => {
  if (x.rank < 2) throw new ShapeError(`transpose: needs rank ≥ 2, got ${shapeString(x.shape)}`);
  const a0 = normalizeAxis(axis0, x.rank, 'transpose');
  const a1 = normalizeAxis(axis1, x.rank, 'transpose');
  const perm = x.shape.map((_, i) => i);
  [perm[a0], perm[a1]] = [perm[a1], perm[a0]];
  return permute(x, perm);
});

export interface SliceAttrs extends Record<string, unknown> {
  starts: number[];
  sizes: number[];
}

/**
 * Half-open ranges per axis, like `x[s0:e0, s1:e1]` in NumPy: `slice(x, [0, 1], [2, 3])` is
 * `x[0:2, 1:3]`; negative indices count from the end, missing axes are kept whole.
 */
export const slice: Op<(x: Tensor, starts: readonly number[], ends?: readonly number[]) => Tensor, 'primitive', true> = primitive({
  call: (run: Run<SliceAttrs>) => (x, starts, ends) => run([x], sliceRange(x, starts, ends)),
  name: 'slice', symbol: '[:]', category: 'layout', arity: 1,
  formula: 'the gradient is placed back at the sliced positions, zero elsewhere',
  shape: (_i, { sizes }) => sizes.slice(),
  forward: ([x], { starts, sizes }, _s, dtype) => sliceKernel(x.data, x.shape, starts, sizes, dtype),
  vjp: (g, [x], _o, { starts, sizes }) => [pad(g, starts, x.shape.map((d, i) => d - starts[i] - sizes[i]))],
  gpu: (rt, [x], { starts, sizes }, out) => rt.run(sliceProgram(x.shape, starts, sizes, x.dtype, rt.limits), [x], out),
});

function sliceRange(x: Tensor, starts: readonly number[], ends?: readonly number[]): SliceAttrs {
  if (starts.length > x.rank || (ends && ends.length > x.rank)) {
    throw new ShapeError(`slice: got ${starts.length} starts for a tensor of rank ${x.rank} ${shapeString(x.shape)}`);
  }
  const s: number[] = [];
  const sizes: number[] = [];
  for (let d = 0; d < x.rank; d++) {
    const dim = x.shape[d];
    const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    if (starts[d] !== undefined && !Number.isInteger(starts[d])) throw new ShapeError(`slice: start ${starts[d]} on axis ${d} is not an integer`);
    if (ends?.[d] !== undefined && !Number.isInteger(ends[d])) throw new ShapeError(`slice: end ${ends[d]} on axis ${d} is not an integer`);
    const b = clampIndex(starts[d] ?? 0);
    const e = clampIndex(ends?.[d] ?? dim);
    s.push(b);
    sizes.push(Math.max(e - b, 0));
  }
  return { starts: s, sizes };
}

/** The block of `sizes` elements from `starts` (already in range): how gradients take slices. */
function sliceRaw(x: Tensor, starts: readonly number[], sizes: readonly number[]): Tensor {
  return slice(x, starts, starts.map((s, i) => s + sizes[i]));
}

export interface PadAttrs extends Record<string, unknown> {
  before: number[];
  after: number[];
}

/** Zero padding: `before[i]` zeros before and `after[i]` after the elements of axis i (the adjoint of slice). */
export const pad: Op<(x: Tensor, before: readonly number[], after: readonly number[]) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<PadAttrs>) => (x, before, after) => run([x], { before: before.slice(), after: after.slice() }),
  method: false,
  name: 'pad', symbol: 'pad', category: 'layout', arity: 1,
  formula: 'the gradient is the slice of the upstream gradient at the original positions',
  shape: ([x], { before, after }) => {
    if (before.length !== x.rank || after.length !== x.rank || [...before, ...after].some((p) => !Number.isInteger(p) || p < 0)) {
      throw new ShapeError(`pad: needs ${x.rank} non-negative integer paddings before and after, got ${JSON.stringify(before)} / ${JSON.stringify(after)}`);
    }
    return x.shape.map((d, i) => d + before[i] + after[i]);
  },
  forward: ([x], { before }, outShape, dtype) => padKernel(x.data, x.shape, before, outShape, dtype),
  vjp: (g, [x], _o, { before }) => [sliceRaw(g, before, x.shape)],
  gpu: (rt, [x], { before }, out) => rt.run(padProgram(x.shape, before, out, x.dtype, rt.limits), [x], out),
});

/** Joins tensors along an existing axis. */
export const concat: Op<(tensors: readonly Tensor[], axis?: number) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<{ axis: number }>) => (tensors, axis = 0) => {
    if (!Array.isArray(tensors) || tensors.length === 0) throw new ShapeError('concat: needs a non-empty array of tensors');
    return run(tensors.slice(), { axis: normalizeAxis(axis, tensors[0].rank, 'concat') });
  },
  method: false,
  name: 'concat', symbol: '⧺', category: 'layout', arity: -1, torch: 'torch.cat',
  formula: 'each input gets the slice of the gradient at its position',
  shape: (inputs, { axis }) => {
    if (inputs.length === 0) throw new ShapeError('concat: needs at least one tensor');
    const first = inputs[0].shape;
    const out = first.slice();
    out[axis] = 0;
    for (const t of inputs) {
      if (t.rank !== first.length || t.shape.some((d, i) => i !== axis && d !== first[i])) {
        throw new ShapeError(`concat: shapes ${inputs.map((x) => shapeString(x.shape)).join(', ')} differ outside axis ${axis}`);
      }
      out[axis] += t.shape[axis];
    }
    return out;
  },
  dtype: (inputs) => (inputs.some((t) => t.dtype === 'float64') ? 'float64' : inputs[0].dtype),
  forward: (inputs, { axis }, outShape, dtype) => concatKernel(inputs.map((t) => t.data), inputs.map((t) => t.shape), axis, outShape, dtype),
  vjp: (g, inputs, _o, { axis }, needed) => {
    let offset = 0;
    return inputs.map((t, i) => {
      const starts = t.shape.map(() => 0);
      starts[axis] = offset;
      offset += t.shape[axis];
      return needed[i] ? sliceRaw(g, starts, t.shape) : null;
    });
  },
  gpu: (rt, ins, { axis }, out) => {
    const dtype: GpuDType = ins.every((t) => t.dtype === 'int32') ? 'int32' : 'float32';
    const result = rt.empty(out, dtype);
    let start = 0;
    for (const t of ins) {
      rt.run(placeProgram(t.shape, out, axis, start, t.dtype, rt.limits), [t], out, { out: result });
      start += t.shape[axis];
    }
    return result;
  },
});

function checkIndices(x: { shape: readonly number[] }, idx: { data: ArrayLike<number> }, axis: number, op: string) {
  const dim = x.shape[axis];
  for (let i = 0; i < idx.data.length; i++) {
    const v = idx.data[i];
    if (!Number.isInteger(v) || v < 0 || v >= dim) {
      throw new IndexError(`${op}: index ${v} (position ${i}) is out of range for axis ${axis} of size ${dim} in ${shapeString(x.shape)}`);
    }
  }
}

/** Integer indices as a tensor (int32 from an array). */
export function indexTensor(indices: Tensor | readonly number[], op: string): Tensor {
  if (indices instanceof Tensor) return indices;
  if (!Array.isArray(indices)) throw new TypeError(`${op}: indices must be a tensor or an array of integers`);
  return tensor(indices as number[], { dtype: 'int32' });
}

/** Picks entries along `axis` by integer index (like torch.index_select / tf.gather). */
export const gather: Op<(x: Tensor, indices: Tensor | readonly number[], axis?: number) => Tensor, 'primitive', true> = primitive({
  call: (run: Run<{ axis: number }>) => (x, indices, axis = 0) => run([x, indexTensor(indices, 'gather')], { axis: normalizeAxis(axis, x.rank, 'gather') }),
  name: 'gather', symbol: 'x[i]', category: 'layout', arity: 2, torch: 'torch.index_select',
  formula: 'the gradient is added back at the gathered positions (scatter-add)',
  shape: ([x, idx], { axis }) => {
    checkIndices(x, idx, axis, 'gather');
    return [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
  },
  forward: ([x, idx], { axis }, _s, dtype) => gatherKernel(x.data, x.shape, idx.data, axis, dtype),
  vjp: (g, [x, idx], _o, { axis }, needed) => [
    needed[0] ? scatterAdd(reshape(g, [...x.shape.slice(0, axis), idx.size, ...x.shape.slice(axis + 1)]), idx, axis, x.shape) : null,
    null,
  ],
  gpu: (rt, [x, idx], { axis }, out) => rt.run(gatherProgram(x.shape, idx.size, axis, [x.dtype, idx.dtype], rt.limits), [x, idx], out),
});

/** The adjoint of gather: adds `values` into zeros of `shape` at `indices` along `axis`. */
export const scatterAdd: Op<(values: Tensor, indices: Tensor, axis: number, shape: readonly number[]) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<{ axis: number; shape: number[] }>) => (values, indices, axis, shape) => run([values, indices], { axis, shape: shape.slice() }),
  method: false,
  name: 'scatterAdd', symbol: '+=[i]', category: 'layout', arity: 2,
  formula: 'the gradient is gathered back from the scattered positions',
  shape: (_i, { shape }) => checkShape(shape, 'scatterAdd'),
  dtype: ([g]) => g.dtype,
  forward: ([g, idx], { axis }, outShape, dtype) => scatterAddKernel(g.data, idx.data, axis, outShape, dtype),
  vjp: (g, [, idx], _o, { axis }, needed) => [needed[0] ? gather(g, idx, axis) : null, null],
  gpu: (rt, [g, idx], { axis }, out) => rt.run(scatterAddProgram(out, idx.size, axis, [g.dtype, idx.dtype], rt.limits), [g, idx], out),
});
