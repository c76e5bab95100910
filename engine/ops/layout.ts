/** Ops that move data without arithmetic: reshape, permute, slice/pad, concat, gather/scatterAdd. */
import { checkShape, shapeString, sizeOf } from '../shape';
import { allocate, checkDType, type DType } from '../dtype';
import { concatKernel, gatherKernel, padKernel, permuteKernel, scatterAddKernel, sliceKernel } from '../backends/cpu/layout';
import * as F from './functional';
import { defineOp } from './registry';

export const reshape = defineOp<{ shape: number[] }>({
  name: 'reshape', symbol: 'reshape', category: 'layout', arity: 1,
  formula: 'the gradient is reshaped back to the input shape',
  shape: ([x], { shape }) => {
    if (sizeOf(shape) !== x.size) throw new Error(`reshape: cannot reshape ${shapeString(x.shape)} (${x.size} elements) to ${shapeString(shape)} (${sizeOf(shape)} elements)`);
    return shape.slice();
  },
  forward: ([x]) => x.data.slice(),
  vjp: (g, [x]) => [F.reshape(g, x.shape.slice())],
});

/** The same values in another dtype (PyTorch's `.to(dtype)`); the gradient goes back in the input's dtype. */
export const cast = defineOp<{ dtype: DType }>({
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
  vjp: (g, [x]) => [x.dtype === 'int32' ? null : F.cast(g, x.dtype)],
});

export const permute = defineOp<{ perm: number[] }>({
  name: 'permute', symbol: 'ᵀ', category: 'layout', arity: 1,
  formula: 'the gradient is permuted back with the inverse permutation',
  shape: ([x], { perm }) => {
    const sorted = [...perm].sort((a, b) => a - b);
    if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
      throw new Error(`permute: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes of ${shapeString(x.shape)}`);
    }
    return perm.map((p) => x.shape[p]);
  },
  forward: ([x], { perm }, _s, dtype) => permuteKernel(x.data, x.shape, perm, dtype),
  vjp: (g, _i, _o, { perm }) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [F.permute(g, inverse)];
  },
});

export interface SliceAttrs extends Record<string, unknown> {
  starts: number[];
  sizes: number[];
}

export const slice = defineOp<SliceAttrs>({
  name: 'slice', symbol: '[:]', category: 'layout', arity: 1,
  formula: 'the gradient is placed back at the sliced positions, zero elsewhere',
  shape: (_i, { sizes }) => sizes.slice(),
  forward: ([x], { starts, sizes }, _s, dtype) => sliceKernel(x.data, x.shape, starts, sizes, dtype),
  vjp: (g, [x], _o, { starts, sizes }) => [F.pad(g, starts, x.shape.map((d, i) => d - starts[i] - sizes[i]))],
});

export interface PadAttrs extends Record<string, unknown> {
  before: number[];
  after: number[];
}

/** Zero padding (the adjoint of slice). */
export const pad = defineOp<PadAttrs>({
  name: 'pad', symbol: 'pad', category: 'layout', arity: 1,
  formula: 'the gradient is the slice of the upstream gradient at the original positions',
  shape: ([x], { before, after }) => {
    if (before.length !== x.rank || after.length !== x.rank || [...before, ...after].some((p) => !Number.isInteger(p) || p < 0)) {
      throw new Error(`pad: needs ${x.rank} non-negative integer paddings before and after, got ${JSON.stringify(before)} / ${JSON.stringify(after)}`);
    }
    return x.shape.map((d, i) => d + before[i] + after[i]);
  },
  forward: ([x], { before }, outShape, dtype) => padKernel(x.data, x.shape, before, outShape, dtype),
  vjp: (g, [x], _o, { before }) => [F.sliceRaw(g, before, x.shape.slice())],
});

export const concat = defineOp<{ axis: number }>({
  name: 'concat', symbol: '⧺', category: 'layout', arity: -1,
  formula: 'each input gets the slice of the gradient at its position',
  shape: (inputs, { axis }) => {
    if (inputs.length === 0) throw new Error('concat: needs at least one tensor');
    const first = inputs[0].shape;
    const out = first.slice();
    out[axis] = 0;
    for (const t of inputs) {
      if (t.rank !== first.length || t.shape.some((d, i) => i !== axis && d !== first[i])) {
        throw new Error(`concat: shapes ${inputs.map((x) => shapeString(x.shape)).join(', ')} differ outside axis ${axis}`);
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
      return needed[i] ? F.sliceRaw(g, starts, t.shape.slice()) : null;
    });
  },
});

function checkIndices(x: { shape: readonly number[] }, idx: { data: ArrayLike<number>; dtype: string }, axis: number, op: string) {
  const dim = x.shape[axis];
  for (let i = 0; i < idx.data.length; i++) {
    const v = idx.data[i];
    if (!Number.isInteger(v) || v < 0 || v >= dim) {
      throw new Error(`${op}: index ${v} (position ${i}) is out of range for axis ${axis} of size ${dim} in ${shapeString(x.shape)}`);
    }
  }
}

/** index_select: picks entries along `axis` by integer indices (inputs: x, indices). */
export const gather = defineOp<{ axis: number }>({
  name: 'gather', symbol: 'x[i]', category: 'layout', arity: 2,
  formula: 'the gradient is added back at the gathered positions (scatter-add)',
  shape: ([x, idx], { axis }) => {
    checkIndices(x, idx, axis, 'gather');
    return [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
  },
  forward: ([x, idx], { axis }, _s, dtype) => gatherKernel(x.data, x.shape, idx.data, axis, dtype),
  vjp: (g, [x, idx], _o, { axis }, needed) => [
    needed[0] ? F.scatterAdd(F.reshape(g, [...x.shape.slice(0, axis), idx.size, ...x.shape.slice(axis + 1)]), idx, axis, x.shape.slice()) : null,
    null,
  ],
});

/** The adjoint of gather (inputs: values, indices). */
export const scatterAdd = defineOp<{ axis: number; shape: number[] }>({
  name: 'scatterAdd', symbol: '+=[i]', category: 'layout', arity: 2,
  formula: 'the gradient is gathered back from the scattered positions',
  shape: (_i, { shape }) => checkShape(shape, 'scatterAdd'),
  dtype: ([g]) => g.dtype,
  forward: ([g, idx], { axis }, outShape, dtype) => scatterAddKernel(g.data, idx.data, axis, outShape, dtype),
  vjp: (g, [, idx], _o, { axis }, needed) => [needed[0] ? F.gather(g, idx, axis) : null, null],
});

