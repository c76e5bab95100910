/**
 * Composite ops: functions built from primitives, so gradients, tracing and the GPU path come for
 * free; each is declared with `defineComposite` so the graph shows it as one collapsible group.
 */
import type { DType } from '../dtype';
import { IndexError, ShapeError } from '../errors';
import { normalizeAxes, normalizeAxis, shapeString } from '../shape';
import { Tensor, tensor } from '../tensor';
import { add, div, equal, exp, greater, less, log, square, sub, where } from './elementwise';
import { indexTensor, reshape } from './layout';
import { matmulT } from './matmul';
import { max, sum, type Axes } from './reduce';
import { defineComposite, type Composite } from './registry';

/** Mean over `axis` (all axes by default). */
export const mean: Composite<(x: Tensor, axis?: Axes, keepdims?: boolean) => Tensor, true> = defineComposite('mean', (x, axis, keepdims = false) => {
  const axes = normalizeAxes(axis, x.rank, 'mean');
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  return div(sum(x, axes, keepdims), count);
}, { method: true });

/** Variance over `axis`; `correction` = 1 (default, as PyTorch) divides by N − 1, 0 by N. `x.var()`. */
export const variance: Composite<(x: Tensor, axis?: Axes, keepdims?: boolean, correction?: number) => Tensor, false> = defineComposite('var', (x, axis, keepdims = false, correction = 1) => {
  const axes = normalizeAxes(axis, x.rank, 'var');
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  if (count - correction <= 0) throw new ShapeError(`var: ${count} element(s) over axes [${axes}] leave no degrees of freedom with correction ${correction}`);
  const centered = sub(x, mean(x, axes, true));
  return div(sum(square(centered), axes, keepdims), count - correction);
});

/** softmax along `axis`: exp(x − max) / Σ exp(x − max). */
export const softmax: Composite<(x: Tensor, axis?: number) => Tensor, true> = defineComposite('softmax', (x, axis = -1) => {
  const ax = normalizeAxis(axis, x.rank, 'softmax');
  const e = exp(sub(x, max(x.detach(), ax, true)));
  return div(e, sum(e, ax, true));
}, { method: true });

/** log softmax along `axis`: x − max − log Σ exp(x − max), stable for large logits. */
export const logSoftmax: Composite<(x: Tensor, axis?: number) => Tensor, true> = defineComposite('logSoftmax', (x, axis = -1) => {
  const ax = normalizeAxis(axis, x.rank, 'logSoftmax');
  const shifted = sub(x, max(x.detach(), ax, true));
  return sub(shifted, log(sum(exp(shifted), ax, true)));
}, { method: true });

/**
 * Limits values to [lo, hi]. As in PyTorch the gradient is 1 on the closed interval, boundaries
 * included, and 0 outside (min(max(x, lo), hi) would give ½ where x is exactly lo or hi).
 */
export const clamp: Composite<(x: Tensor, lo?: number, hi?: number) => Tensor, true> = defineComposite('clamp', (x, lo = -Infinity, hi = Infinity) => {
  let y = x;
  if (lo > -Infinity) y = where(less(x, lo), lo, y);
  if (hi < Infinity) y = where(greater(x, hi), hi, y);
  return y;
}, { method: true });

/** y = x·Wᵀ + b with W of shape [out, in] (PyTorch's layout). */
export const linear: Composite<(x: Tensor, weight: Tensor, bias?: Tensor | null) => Tensor, false> = defineComposite('linear', (x, weight, bias) => {
  if (weight.rank !== 2) throw new ShapeError(`linear: weight must be 2-D [out, in], got ${shapeString(weight.shape)}`);
  if (x.shape[x.rank - 1] !== weight.shape[1]) {
    throw new ShapeError(`linear: input ${shapeString(x.shape)} has ${x.shape[x.rank - 1]} features but the weight ${shapeString(weight.shape)} expects ${weight.shape[1]}`);
  }
  const y = x.rank === 1 ? reshape(matmulT(reshape(x, [1, -1]), weight, { transB: true }), [-1]) : matmulT(x, weight, { transB: true });
  return bias ? add(y, bias) : y;
});

/** One-hot rows for integer labels: shape [N, numClasses], dtype of `dtype` (float32 by default). */
export function oneHot(labels: Tensor | readonly number[], numClasses: number, dtype: DType = 'float32'): Tensor {
  const idx = indexTensor(labels, 'oneHot');
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  for (let i = 0; i < idx.size; i++) {
    const c = idx.data[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new IndexError(`oneHot: label ${c} at position ${i} is not in 0 … ${numClasses - 1}`);
  }
  // built with ops (labels = 0, 1, …, C−1), so a traced step computes it from the labels: the Graph
  // IR replays it for every minibatch instead of keeping the first one's rows as a constant
  const classes = tensor(Float64Array.from({ length: numClasses }, (_, c) => c), { dtype });
  return equal(reshape(idx, [...idx.shape, 1]), classes);
}
