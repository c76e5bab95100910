/** Layer and group normalization, embeddings, multi-head attention and unflatten (PyTorch's modules and default inits). */
import type { DType } from '../dtype';
import { ShapeError } from '../errors';
import { Tensor, param } from '../tensor';
import * as F from '../ops/functional';
import * as init from '../init';
import { Module } from './module';
import { Linear } from './layers';

const positive = (v: number, name: string, op: string) => {
  if (!Number.isInteger(v) || v <= 0) throw new ShapeError(`${op}: ${name} must be a positive integer, got ${v}`);
};

/** Layer normalization over the last axes (`normalizedShape`), with a learned scale (1) and shift (0). */
export class LayerNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | readonly number[], readonly opts: { eps?: number; elementwiseAffine?: boolean; dtype?: DType } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((d) => positive(d, 'normalizedShape', 'layerNorm'));
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? param(init.ones(this.normalizedShape, { dtype: opts.dtype })) : null;
    this.bias = affine ? param(init.zeros(this.normalizedShape, { dtype: opts.dtype })) : null;
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.opts.eps ?? 1e-5);
  }
}

/** Group normalization of [N, C, …] in `numGroups` groups of channels, with a learned scale and shift per channel. */
export class GroupNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  constructor(readonly numGroups: number, readonly numChannels: number, readonly opts: { eps?: number; affine?: boolean; dtype?: DType } = {}) {
    super();
    positive(numGroups, 'numGroups', 'groupNorm');
    positive(numChannels, 'numChannels', 'groupNorm');
    if (numChannels % numGroups) throw new ShapeError(`groupNorm: numGroups = ${numGroups} must divide numChannels = ${numChannels}`);
    const affine = opts.affine ?? true;
    this.weight = affine ? param(init.ones([numChannels], { dtype: opts.dtype })) : null;
    this.bias = affine ? param(init.zeros([numChannels], { dtype: opts.dtype })) : null;
  }
  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.numGroups, this.weight, this.bias, this.opts.eps ?? 1e-5);
  }
}

/** A table of `num` learned vectors of size `dim`, looked up by integer index (PyTorch's init: N(0, 1)). */
export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, opts: { dtype?: DType; seed?: number } = {}) {
    super();
    positive(numEmbeddings, 'numEmbeddings', 'embedding');
    positive(embeddingDim, 'embeddingDim', 'embedding');
    this.weight = param(init.normal([numEmbeddings, embeddingDim], { dtype: opts.dtype, seed: opts.seed, std: 1 }));
  }
  forward(indices: Tensor): Tensor {
    return F.embedding(indices, this.weight);
  }
}

export interface MultiheadAttentionOptions {
  bias?: boolean;
  /** Inputs as [N, L, E] (default false: PyTorch's [L, N, E]). */
  batchFirst?: boolean;
  dtype?: DType;
  seed?: number;
}

/**
 * Multi-head attention (PyTorch's nn.MultiheadAttention): q, k, v projected by one [3E, E] matrix
 * (Xavier-uniform, zero bias), split into heads, scaled dot-product attention per head, the heads
 * joined and projected by `outProj`.
 */
export class MultiheadAttention extends Module {
  inProjWeight: Tensor;
  inProjBias: Tensor | null;
  /** The output projection (PyTorch's out_proj: its Linear's default init, a zero bias); parameters of this layer, not a submodule, so the layer is one in the layer summaries. */
  outProjWeight: Tensor;
  outProjBias: Tensor | null;
  readonly headDim: number;
  constructor(readonly embedDim: number, readonly numHeads: number, readonly opts: MultiheadAttentionOptions = {}) {
    super();
    positive(embedDim, 'embedDim', 'multiheadAttention');
    positive(numHeads, 'numHeads', 'multiheadAttention');
    if (embedDim % numHeads) throw new ShapeError(`multiheadAttention: numHeads = ${numHeads} must divide embedDim = ${embedDim}`);
    this.headDim = embedDim / numHeads;
    const bias = opts.bias ?? true;
    this.inProjWeight = param(init.xavierUniform([3 * embedDim, embedDim], { dtype: opts.dtype, seed: opts.seed }));
    this.inProjBias = bias ? param(init.zeros([3 * embedDim], { dtype: opts.dtype })) : null;
    const out = new Linear(embedDim, embedDim, { bias, dtype: opts.dtype, seed: opts.seed === undefined ? undefined : opts.seed + 1 });
    this.outProjWeight = out.weight;
    this.outProjBias = out.bias;
    this.outProjBias?.data.fill(0);
  }
  /** Attention of `query` over `key` and `value` ([L, N, E], or [N, L, E] with batchFirst); `causal` masks later positions. */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key, options: F.AttentionOptions = {}): Tensor {
    const e = this.embedDim, h = this.numHeads, d = this.headDim;
    for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) {
      if (!(t instanceof Tensor) || t.rank !== 3 || t.shape[2] !== e) throw new ShapeError(`multiheadAttention: ${name} must be ${this.opts.batchFirst ? '[N, L, E]' : '[L, N, E]'} with E = ${e}, got ${t instanceof Tensor ? JSON.stringify(t.shape) : typeof t}`);
    }
    const bf = (t: Tensor) => (this.opts.batchFirst ? t : F.permute(t, [1, 0, 2]));
    const [q, k, v] = [query, key, value].map(bf);
    const w = (i: number) => F.slice(this.inProjWeight, [i * e, 0], [(i + 1) * e, e]);
    const b = (i: number) => (this.inProjBias ? F.slice(this.inProjBias, [i * e], [(i + 1) * e]) : null);
    // [N, L, E] → [N, h, L, d]
    const heads = (t: Tensor, i: number) => F.permute(F.reshape(F.linear(t, w(i), b(i)), [t.shape[0], t.shape[1], h, d]), [0, 2, 1, 3]);
    const out = F.scaledDotProductAttention(heads(q, 0), heads(k, 1), heads(v, 2), options);
    const joined = F.reshape(F.permute(out, [0, 2, 1, 3]), [q.shape[0], q.shape[1], e]);
    return bf(F.linear(joined, this.outProjWeight, this.outProjBias));
  }
}
