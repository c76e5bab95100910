/**
 * Loss functions. Each is a composite op: built from primitives (so gradients, tracing and the GPU
 * path come for free) and tagged with its name so the graph can show it collapsed.
 */
import { shapeString, sameShape } from './shape';
import { Tensor, asTensor, type TensorLike } from './tensor';
import { composite } from './ops/context';
import * as F from './ops/functional';
import { declareComposite } from './ops/registry';
import { ShapeError } from './errors';

/** The losses' composite ops (their nodes are grouped under these names). */
const GROUP = {
  mse: declareComposite('mse'),
  l1: declareComposite('l1'),
  huber: declareComposite('huber'),
  bce: declareComposite('bce'),
  bceWithLogits: declareComposite('bceWithLogits'),
  softmaxCrossEntropy: declareComposite('softmaxCrossEntropy'),
};


export type Reduction = 'mean' | 'sum' | 'none';
export interface LossOptions {
  /** How per-element losses are combined: 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

function reduce(x: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (reduction === 'mean') return F.mean(x);
  if (reduction === 'sum') return F.sum(x);
  if (reduction === 'none') return x;
  throw new Error(`loss: unknown reduction ${JSON.stringify(reduction)}; use 'mean', 'sum' or 'none'`);
}

function pair(name: string, pred: Tensor, target: TensorLike): Tensor {
  if (!(pred instanceof Tensor)) throw new Error(`${name}: the prediction must be a tensor`);
  const t = asTensor(target, pred.dtype, name);
  if (t.size !== 1 && !sameShape(t.shape, pred.shape)) {
    // broadcasting silently over a [N] vs [N, 1] mismatch is a classic bug: refuse it
    throw new ShapeError(`${name}: prediction ${shapeString(pred.shape)} and target ${shapeString(t.shape)} must have the same shape`);
  }
  return t;
}

/** Mean squared error: mean((pred − target)²). */
export function mse(pred: Tensor, target: TensorLike, opts: LossOptions = {}): Tensor {
  const t = pair('mse', pred, target);
  return composite(GROUP.mse, () => reduce(F.square(F.sub(pred, t)), opts.reduction));
}

/** Mean absolute error: mean(|pred − target|). */
export function l1(pred: Tensor, target: TensorLike, opts: LossOptions = {}): Tensor {
  const t = pair('l1', pred, target);
  return composite(GROUP.l1, () => reduce(F.abs(F.sub(pred, t)), opts.reduction));
}

/** Huber loss: ½d² where |d| ≤ δ, else δ(|d| − ½δ); δ = 1 by default. */
export function huber(pred: Tensor, target: TensorLike, opts: LossOptions & { delta?: number } = {}): Tensor {
  const t = pair('huber', pred, target);
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) throw new Error(`huber: delta must be > 0, got ${delta}`);
  return composite(GROUP.huber, () => {
    const d = F.sub(pred, t);
    const a = F.abs(d);
    const quadratic = F.mul(F.square(d), 0.5);
    const linearPart = F.mul(F.sub(a, 0.5 * delta), delta);
    return reduce(F.where(F.greater(a, delta), linearPart, quadratic), opts.reduction);
  });
}

/** Binary cross-entropy on probabilities in (0, 1); log terms are clamped at −100 like PyTorch. */
export function bce(prob: Tensor, target: TensorLike, opts: LossOptions = {}): Tensor {
  const t = pair('bce', prob, target);
  return composite(GROUP.bce, () => {
    const logP = F.maximum(F.log(prob), -100);
    const log1mP = F.maximum(F.log(F.sub(1, prob)), -100);
    return reduce(F.neg(F.add(F.mul(t, logP), F.mul(F.sub(1, t), log1mP))), opts.reduction);
  });
}

/**
 * Binary cross-entropy on logits: softplus(x) − x·t, where softplus(x) = max(x, 0) + log(1 + e^(−|x|))
 * is one stable op whose gradient is σ(x). So ∂L/∂x = σ(x) − t everywhere, at x = 0 too (written
 * with relu and |x| it was −t there: their kinks at 0, where a zero-initialized layer's logits are).
 */
export function bceWithLogits(logits: Tensor, target: TensorLike, opts: LossOptions = {}): Tensor {
  const t = pair('bceWithLogits', logits, target);
  return composite(GROUP.bceWithLogits, () => reduce(F.sub(F.softplus(logits), F.mul(logits, t)), opts.reduction));
}

/**
 * Softmax cross-entropy over the last axis. `labels` are integer class indices (shape of logits
 * without the class axis, as a tensor or array) or one-hot/probability rows (same shape as logits).
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor | readonly number[], opts: LossOptions = {}): Tensor {
  if (!(logits instanceof Tensor) || logits.rank < 1) throw new ShapeError('softmaxCrossEntropy: logits must be a tensor of rank ≥ 1 ([N, classes])');
  const classes = logits.shape[logits.rank - 1];
  let targets: Tensor;
  const asLabels = Array.isArray(labels) || (labels instanceof Tensor && labels.rank === logits.rank - 1);
  if (asLabels) {
    const labelShape = Array.isArray(labels) ? [labels.length] : (labels as Tensor).shape;
    if (!sameShape(labelShape, logits.shape.slice(0, -1))) {
      throw new ShapeError(`softmaxCrossEntropy: labels ${shapeString(labelShape)} do not match logits ${shapeString(logits.shape)} (expected ${shapeString(logits.shape.slice(0, -1))})`);
    }
    targets = F.oneHot(labels, classes, logits.dtype);
  } else if (labels instanceof Tensor && sameShape(labels.shape, logits.shape)) {
    targets = labels;
  } else {
    const s = labels instanceof Tensor ? shapeString(labels.shape) : typeof labels;
    throw new ShapeError(`softmaxCrossEntropy: labels ${s} must be integer class indices of shape ${shapeString(logits.shape.slice(0, -1))} or one-hot rows of shape ${shapeString(logits.shape)}`);
  }
  return composite(GROUP.softmaxCrossEntropy, () =>
    reduce(F.neg(F.sum(F.mul(targets, F.logSoftmax(logits, -1)), -1)), opts.reduction),
  );
}
