/**
 * Normalization, embeddings and attention with PyTorch's semantics, as composites of existing ops
 * (their gradients, WGSL kernels and oracle coverage come from those): layerNorm, groupNorm,
 * embedding (a gather of rows; the gradient is scattered back) and scaledDotProductAttention.
 */
import { ShapeError } from '../errors';
import { shapeString } from '../shape';
import { Tensor, tensor } from '../tensor';
import { add, div, mul, sqrt, sub } from './elementwise';
import { gather, reshape, transpose, cast } from './layout';
import { matmul } from './matmul';
import { mean, softmax, variance } from './composite';
import { defineComposite, type Composite } from './registry';

/**
 * Layer normalization (`F.layer_norm`): over the last axes given by `normalizedShape`, (x − mean) /
 * √(var + eps) with the biased variance, then · weight + bias (both of `normalizedShape`).
 */
export const layerNorm: Composite<(x: Tensor, normalizedShape: readonly number[] | number, weight?: Tensor | null, bias?: Tensor | null, eps?: number) => Tensor, false> = defineComposite(
  'layerNorm',
  (x: Tensor, normalizedShape: readonly number[] | number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5) => {
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    const k = shape.length;
    if (!(x instanceof Tensor) || k === 0 || k > x.rank || shape.some((d, i) => d !== x.shape[x.rank - k + i])) {
      throw new ShapeError(`layerNorm: normalizedShape ${shapeString(shape)} must be the last axes of the input, got ${x instanceof Tensor ? shapeString(x.shape) : typeof x}`);
    }
    for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
      if (t && (t.rank !== k || t.shape.some((d, i) => d !== shape[i]))) throw new ShapeError(`layerNorm: ${name} must have shape ${shapeString(shape)}, got ${shapeString(t.shape)}`);
    }
    const axes = Array.from({ length: k }, (_, i) => x.rank - k + i);
    const mu = mean(x, axes, true);
    const v = variance(x, axes, true, 0);
    let y = div(sub(x, mu), sqrt(add(v, eps)));
    if (weight) y = mul(y, weight);
    if (bias) y = add(y, bias);
    return y;
  },
);

/**
 * Group normalization (`F.group_norm`): x [N, C, …] in `numGroups` groups of channels, each
 * normalized over its channels and positions (biased variance), then · weight[C] + bias[C].
 */
export const groupNorm: Composite<(x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps?: number) => Tensor, false> = defineComposite(
  'groupNorm',
  (x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5) => {
    if (!(x instanceof Tensor) || x.rank < 2) throw new ShapeError(`groupNorm: the input must be [N, C, …], got ${x instanceof Tensor ? shapeString(x.shape) : typeof x}`);
    const [n, c] = x.shape;
    if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) throw new ShapeError(`groupNorm: numGroups = ${numGroups} must divide the ${c} channels`);
    for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
      if (t && (t.rank !== 1 || t.shape[0] !== c)) throw new ShapeError(`groupNorm: ${name} must have shape [${c}], got ${shapeString(t.shape)}`);
    }
    const g = reshape(x, [n, numGroups, -1]);
    const y0 = reshape(div(sub(g, mean(g, 2, true)), sqrt(add(variance(g, 2, true, 0), eps))), x.shape);
    const perChannel = [c, ...x.shape.slice(2).map(() => 1)];
    let y = y0;
    if (weight) y = mul(y, reshape(weight, perChannel));
    if (bias) y = add(y, reshape(bias, perChannel));
    return y;
  },
);

/** Embedding lookup (`F.embedding`): the rows of `weight` [num, dim] at integer `indices` of any shape → [...indices.shape, dim]. */
export const embedding: Composite<(indices: Tensor | readonly number[], weight: Tensor) => Tensor, false> = defineComposite(
  'embedding',
  (indices: Tensor | readonly number[], weight: Tensor) => {
    if (!(weight instanceof Tensor) || weight.rank !== 2) throw new ShapeError(`embedding: weight must be 2-D [num, dim], got ${weight instanceof Tensor ? shapeString(weight.shape) : typeof weight}`);
    let idx = indices instanceof Tensor ? indices : tensor(indices as number[], { dtype: 'int32' });
    if (idx.dtype !== 'int32') {
      if (!Array.from(idx.data).every((v) => Number.isInteger(v))) throw new ShapeError('embedding: indices must be whole numbers');
      idx = cast(idx, 'int32');
    }
    return gather(weight, idx, 0);
  },
);

export interface AttentionOptions {
  /** Added to the scores before the softmax (−∞ where a query must not look), broadcast to [..., Lq, Lk]. */
  mask?: Tensor | null;
  /** Each query looks only at keys at or before its position (the later ones get the dtype's most negative number: weight 0). */
  causal?: boolean;
  /** The scores' scale (default 1/√d). */
  scale?: number;
}

/**
 * Attention as in "Attention is all you need" (PyTorch 2's `F.scaled_dot_product_attention`):
 * softmax(q·kᵀ·scale + mask)·v with q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv].
 */
export const scaledDotProductAttention: Composite<(q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions) => Tensor, false> = defineComposite(
  'scaledDotProductAttention',
  (q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}) => {
    for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
      if (!(t instanceof Tensor) || t.rank < 2) throw new ShapeError(`scaledDotProductAttention: ${name} must be [..., L, d], got ${t instanceof Tensor ? shapeString(t.shape) : typeof t}`);
    }
    const d = q.shape[q.rank - 1];
    if (k.shape[k.rank - 1] !== d) throw new ShapeError(`scaledDotProductAttention: q ${shapeString(q.shape)} and k ${shapeString(k.shape)} differ in their last axis`);
    if (k.shape[k.rank - 2] !== v.shape[v.rank - 2]) throw new ShapeError(`scaledDotProductAttention: k ${shapeString(k.shape)} and v ${shapeString(v.shape)} have different lengths`);
    let scores = mul(matmul(q, transpose(k, -2, -1)), options.scale ?? 1 / Math.sqrt(d));
    const lq = q.shape[q.rank - 2], lk = k.shape[k.rank - 2];
    if (options.causal) {
      // the most negative finite number of the dtype, not −∞: the softmax gives those keys exactly
      // 0 (and 0 gradient), as PyTorch's −∞ mask does, and the graph holds no infinity to report
      const lowest = scores.dtype === 'float64' ? -Number.MAX_VALUE : -3.4028234663852886e38;
      const m = new Float64Array(lq * lk);
      for (let i = 0; i < lq; i++) for (let j = 0; j < lk; j++) m[i * lk + j] = j > i ? lowest : 0;
      scores = add(scores, tensor(m, { shape: [lq, lk], dtype: scores.dtype }));
    }
    if (options.mask) scores = add(scores, options.mask);
    return matmul(softmax(scores, -1), v);
  },
);
