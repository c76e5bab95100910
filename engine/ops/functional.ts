/**
 * The functional form of every op (`add(a, b)`, `softmax(x)`…). Tensor methods and the public API
 * call these; gradients in the op families are written with them too. Plain numbers are accepted
 * wherever a tensor is and take the dtype of the tensor operand.
 */
import type { DType } from '../dtype';
import { normalizeAxes, normalizeAxis, sameShape, shapeString, sizeOf } from '../shape';
import { Tensor, asTensor, tensor, type TensorLike } from '../tensor';
import * as A from './activations';
import { composite } from './context';
import * as E from './elementwise';
import * as L from './layout';
import * as M from './matmul';
import * as R from './reduce';
import { apply } from './registry';

function dtypeFor(...xs: TensorLike[]): DType {
  for (const x of xs) if (x instanceof Tensor) return x.dtype;
  return 'float32';
}
function bin(def: typeof E.add, a: TensorLike, b: TensorLike): Tensor {
  const d = dtypeFor(a, b);
  return apply(def, [asTensor(a, d, def.name), asTensor(b, d, def.name)]);
}
function un(def: typeof E.exp, x: TensorLike): Tensor {
  return apply(def, [asTensor(x, dtypeFor(x), def.name)]);
}

// Arithmetic
/** a + b (broadcasting). */
export const add = (a: TensorLike, b: TensorLike) => bin(E.add, a, b);
/** a − b (broadcasting). */
export const sub = (a: TensorLike, b: TensorLike) => bin(E.sub, a, b);
/** a · b elementwise (broadcasting). */
export const mul = (a: TensorLike, b: TensorLike) => bin(E.mul, a, b);
/** a / b elementwise (broadcasting). */
export const div = (a: TensorLike, b: TensorLike) => bin(E.div, a, b);
/** aᵇ elementwise (broadcasting). */
export const pow = (a: TensorLike, b: TensorLike) => bin(E.pow, a, b);
export const maximum = (a: TensorLike, b: TensorLike) => bin(E.maximum, a, b);
export const minimum = (a: TensorLike, b: TensorLike) => bin(E.minimum, a, b);
export const greater = (a: TensorLike, b: TensorLike) => bin(E.greater, a, b);
export const less = (a: TensorLike, b: TensorLike) => bin(E.less, a, b);
export const equal = (a: TensorLike, b: TensorLike) => bin(E.equal, a, b);
export const neg = (x: TensorLike) => un(E.neg, x);
export const exp = (x: TensorLike) => un(E.exp, x);
export const log = (x: TensorLike) => un(E.log, x);
export const sqrt = (x: TensorLike) => un(E.sqrt, x);
export const abs = (x: TensorLike) => un(E.abs, x);
export const square = (x: TensorLike) => un(E.square, x);
export const sign = (x: TensorLike) => un(E.sign, x);
export const erf = (x: TensorLike) => un(E.erf, x);
/** Elementwise choice: a where cond ≠ 0, else b. */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const d = dtypeFor(a, b, cond);
  return apply(E.where, [asTensor(cond, d, 'where'), asTensor(a, d, 'where'), asTensor(b, d, 'where')]);
}
/**
 * Limits values to [lo, hi]. As in PyTorch the gradient is 1 on the closed interval, boundaries
 * included, and 0 outside (min(max(x, lo), hi) would give ½ where x is exactly lo or hi).
 */
export function clamp(x: Tensor, lo = -Infinity, hi = Infinity): Tensor {
  return composite('clamp', () => {
    let y = x;
    if (lo > -Infinity) y = where(less(x, lo), lo, y);
    if (hi < Infinity) y = where(greater(x, hi), hi, y);
    return y;
  });
}

// Activations
export const relu = (x: TensorLike) => un(A.relu, x);
export const leakyRelu = (x: TensorLike, alpha = 0.01) => apply(A.leakyRelu, [asTensor(x, dtypeFor(x), 'leakyRelu')], { alpha });
export const elu = (x: TensorLike, alpha = 1) => apply(A.elu, [asTensor(x, dtypeFor(x), 'elu')], { alpha });
export const sigmoid = (x: TensorLike) => un(A.sigmoid, x);
export const tanh = (x: TensorLike) => un(A.tanh, x);
export const softplus = (x: TensorLike) => un(A.softplus, x);
export const gelu = (x: TensorLike) => un(A.gelu, x);

// Matrix multiply
/** Matrix product with PyTorch's rules: 1-D operands are treated as row/column vectors, batch axes broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new Error('matmul: both operands must be tensors');
  if (a.rank === 0 || b.rank === 0) throw new Error(`matmul: operands must have rank ≥ 1, got ${shapeString(a.shape)} @ ${shapeString(b.shape)}`);
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
  let out = apply(M.matmul, [a2, b2], {});
  if (a.rank === 1 || b.rank === 1) {
    const shape = out.shape.slice();
    if (b.rank === 1) shape.pop();
    if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
    out = reshape(out, shape);
  }
  return out;
}
/** op(A)·op(B) with optional transposes of the last two axes (used by gradients and linear layers). */
export function matmulT(a: Tensor, b: Tensor, attrs: M.MatmulAttrs): Tensor {
  return apply(M.matmul, [a, b], { transA: attrs.transA ?? false, transB: attrs.transB ?? false });
}

// Layout
/** New shape with the same elements; one size may be −1 and is inferred. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape(x, shape);
  return apply(L.reshape, [x], { shape: target });
}
function inferShape(x: Tensor, shape: readonly number[]): number[] {
  const out = shape.slice();
  const unknown = out.indexOf(-1);
  if (out.some((d, i) => (d === -1 ? i !== unknown : !Number.isInteger(d) || d < 0))) {
    throw new Error(`reshape: invalid shape ${JSON.stringify(shape)} for ${shapeString(x.shape)}: sizes must be integers ≥ 0 with at most one −1`);
  }
  if (unknown >= 0) {
    const known = sizeOf(out.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot infer −1 in ${JSON.stringify(shape)} for ${shapeString(x.shape)} (${x.size} elements)`);
    out[unknown] = x.size / known;
  }
  return out;
}
/** The same values in `dtype` (a node when the dtype changes; the tensor itself when it does not). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : apply(L.cast, [x], { dtype });
}
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  return apply(L.permute, [x], { perm: perm.map((p) => normalizeAxis(p, x.rank, 'permute')) });
}
/** Swaps two axes (default: the last two). */
export function transpose(x: Tensor, axis0 = -2, axis1 = -1): Tensor {
  if (x.rank < 2) throw new Error(`transpose: needs rank ≥ 2, got ${shapeString(x.shape)}`);
  const a0 = normalizeAxis(axis0, x.rank, 'transpose');
  const a1 = normalizeAxis(axis1, x.rank, 'transpose');
  const perm = x.shape.map((_, i) => i);
  [perm[a0], perm[a1]] = [perm[a1], perm[a0]];
  return apply(L.permute, [x], { perm });
}
/** Half-open ranges per axis: `slice(x, [0, 1], [2, 3])` is `x[0:2, 1:3]`; missing axes are kept whole. */
export function slice(x: Tensor, starts: readonly number[], ends?: readonly number[]): Tensor {
  if (starts.length > x.rank || (ends && ends.length > x.rank)) {
    throw new Error(`slice: got ${starts.length} starts for a tensor of rank ${x.rank} ${shapeString(x.shape)}`);
  }
  const s: number[] = [];
  const sizes: number[] = [];
  for (let d = 0; d < x.rank; d++) {
    const dim = x.shape[d];
    const clampIndex = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    if (starts[d] !== undefined && !Number.isInteger(starts[d])) throw new Error(`slice: start ${starts[d]} on axis ${d} is not an integer`);
    if (ends?.[d] !== undefined && !Number.isInteger(ends[d])) throw new Error(`slice: end ${ends[d]} on axis ${d} is not an integer`);
    const b = clampIndex(starts[d] ?? 0);
    const e = clampIndex(ends?.[d] ?? dim);
    s.push(b);
    sizes.push(Math.max(e - b, 0));
  }
  return apply(L.slice, [x], { starts: s, sizes });
}
export function sliceRaw(x: Tensor, starts: number[], sizes: number[]): Tensor {
  return apply(L.slice, [x], { starts, sizes });
}
export function pad(x: Tensor, before: number[], after: number[]): Tensor {
  return apply(L.pad, [x], { before, after });
}
/** Joins tensors along an existing axis. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('concat: needs a non-empty array of tensors');
  return apply(L.concat, tensors.slice(), { axis: normalizeAxis(axis, tensors[0].rank, 'concat') });
}
function indexTensor(indices: Tensor | readonly number[], op: string): Tensor {
  if (indices instanceof Tensor) return indices;
  if (!Array.isArray(indices)) throw new Error(`${op}: indices must be a tensor or an array of integers`);
  return tensor(indices as number[], { dtype: 'int32' });
}
/** Picks entries along `axis` by integer index (like torch.index_select / tf.gather). */
export function gather(x: Tensor, indices: Tensor | readonly number[], axis = 0): Tensor {
  return apply(L.gather, [x, indexTensor(indices, 'gather')], { axis: normalizeAxis(axis, x.rank, 'gather') });
}
export function scatterAdd(values: Tensor, indices: Tensor, axis: number, shape: number[]): Tensor {
  return apply(L.scatterAdd, [values, indices], { axis, shape });
}
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  return sameShape(x.shape, shape) ? x : apply(R.broadcastTo, [x], { shape });
}
/** Sums a (broadcast) gradient down to `shape`; the identity when the shapes already agree. */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  return sameShape(x.shape, shape) ? x : apply(R.sumTo, [x], { shape: shape.slice() });
}

// Reductions
/** Sum over `axis` (all axes by default). */
export function sum(x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  return apply(R.sum, [x], { axes: normalizeAxes(axis, x.rank, 'sum'), keepdims });
}
/** Mean over `axis` (all axes by default). */
export function mean(x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  const axes = normalizeAxes(axis, x.rank, 'mean');
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  return composite('mean', () => div(apply(R.sum, [x], { axes, keepdims }), count));
}
export function max(x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  return apply(R.max, [x], { axes: normalizeAxes(axis, x.rank, 'max'), keepdims });
}
export function min(x: Tensor, axis?: number | readonly number[], keepdims = false): Tensor {
  return apply(R.min, [x], { axes: normalizeAxes(axis, x.rank, 'min'), keepdims });
}
/** Variance over `axis`; `correction` = 1 (default, as PyTorch) divides by N − 1, 0 by N. */
export function variance(x: Tensor, axis?: number | readonly number[], keepdims = false, correction = 1): Tensor {
  const axes = normalizeAxes(axis, x.rank, 'var');
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  if (count - correction <= 0) throw new Error(`var: ${count} element(s) over axes [${axes}] leave no degrees of freedom with correction ${correction}`);
  return composite('var', () => {
    const centered = sub(x, mean(x, axes, true));
    return div(apply(R.sum, [square(centered)], { axes, keepdims }), count - correction);
  });
}
/** softmax along `axis`: exp(x − max) / Σ exp(x − max). */
export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'softmax');
  return composite('softmax', () => {
    const e = exp(sub(x, max(x.detach(), ax, true)));
    return div(e, sum(e, ax, true));
  });
}
/** log softmax along `axis`: x − max − log Σ exp(x − max), stable for large logits. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = normalizeAxis(axis, x.rank, 'logSoftmax');
  return composite('logSoftmax', () => {
    const shifted = sub(x, max(x.detach(), ax, true));
    return sub(shifted, log(sum(exp(shifted), ax, true)));
  });
}
/** y = x·Wᵀ + b with W of shape [out, in] (PyTorch's layout). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.rank !== 2) throw new Error(`linear: weight must be 2-D [out, in], got ${shapeString(weight.shape)}`);
  if (x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new Error(`linear: input ${shapeString(x.shape)} has ${x.shape[x.rank - 1]} features but the weight ${shapeString(weight.shape)} expects ${weight.shape[1]}`);
  }
  return composite('linear', () => {
    const y = x.rank === 1 ? reshape(matmulT(reshape(x, [1, -1]), weight, { transB: true }), [-1]) : matmulT(x, weight, { transB: true });
    return bias ? add(y, bias) : y;
  });
}
/** One-hot rows for integer labels: shape [N, numClasses], dtype of `dtype` (float32 by default). */
export function oneHot(labels: Tensor | readonly number[], numClasses: number, dtype: DType = 'float32'): Tensor {
  const idx = indexTensor(labels, 'oneHot');
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new Error(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  for (let i = 0; i < idx.size; i++) {
    const c = idx.data[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new Error(`oneHot: label ${c} at position ${i} is not in 0 … ${numClasses - 1}`);
  }
  // built with ops (labels = 0, 1, …, C−1), so a traced step computes it from the labels: the Graph
  // IR replays it for every minibatch instead of keeping the first one's rows as a constant
  const classes = tensor(Float64Array.from({ length: numClasses }, (_, c) => c), { dtype });
  return apply(E.equal, [reshape(idx, [...idx.shape, 1]), classes]);
}
