/** Neural-network building blocks, PyTorch-style, with lowerCamelCase factories. */
import * as F from '../ops/functional';
import type { KinkOptions } from '../ops/activations';
import type { Tensor } from '../tensor';
import { Activation, BatchNorm1d, Dropout, Linear, Sequential, type BatchNormOptions, type LinearOptions } from './layers';
import type { Module } from './module';
import { Conv1d, Conv2d, Pool, type Conv1dLayerOptions, type ConvLayerOptions } from './conv';
import type { IntPair } from '../ops/conv';

export { Module } from './module';
export { Activation, BatchNorm1d, Dropout, Linear, Sequential };
export type { BatchNormOptions, InitName, Initializer, LinearOptions } from './layers';
export { LayerNorm, GroupNorm, Embedding, MultiheadAttention, type MultiheadAttentionOptions } from './norm';
export { BatchNorm2d } from './layers';
import { LayerNorm, GroupNorm, Embedding, MultiheadAttention, type MultiheadAttentionOptions } from './norm';
import { BatchNorm2d } from './layers';
import type { DType } from '../dtype';
import { ShapeError } from '../errors';

/** Layer normalization over the last axes (PyTorch's nn.LayerNorm). */
export const layerNorm = (normalizedShape: number | readonly number[], opts?: { eps?: number; elementwiseAffine?: boolean; dtype?: DType }) => new LayerNorm(normalizedShape, opts);
/** Group normalization of [N, C, …] (PyTorch's nn.GroupNorm). */
export const groupNorm = (numGroups: number, numChannels: number, opts?: { eps?: number; affine?: boolean; dtype?: DType }) => new GroupNorm(numGroups, numChannels, opts);
/** Batch normalization over [N, C, H, W] with running statistics (PyTorch's nn.BatchNorm2d). */
export const batchNorm2d = (numFeatures: number, opts?: BatchNormOptions) => new BatchNorm2d(numFeatures, opts);
/** A lookup table of learned vectors (PyTorch's nn.Embedding, N(0, 1) init). */
export const embedding = (numEmbeddings: number, embeddingDim: number, opts?: { dtype?: DType; seed?: number }) => new Embedding(numEmbeddings, embeddingDim, opts);
/** Multi-head attention (PyTorch's nn.MultiheadAttention). */
export const multiheadAttention = (embedDim: number, numHeads: number, opts?: MultiheadAttentionOptions) => new MultiheadAttention(embedDim, numHeads, opts);
/** Splits axis `dim` into `sizes` (PyTorch's nn.Unflatten). */
export const unflatten = (dim: number, sizes: readonly number[]) => new Pool('unflatten', (x: Tensor) => {
  const d = dim < 0 ? dim + x.rank : dim;
  if (!(d >= 0 && d < x.rank) || sizes.reduce((a, b) => a * b, 1) !== x.shape[d]) throw new ShapeError(`unflatten: axis ${dim} of ${JSON.stringify(x.shape)} cannot be split into ${JSON.stringify(sizes)}`);
  return F.reshape(x, [...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1)]);
});
export { Conv1d, Conv2d, Pool, maxPool2d, avgPool2d, adaptiveAvgPool2d, flatten, type ConvLayerOptions, type Conv1dLayerOptions } from './conv';

/** A 2-D convolution layer over [N, C, H, W] (PyTorch's nn.Conv2d and its default init). */
export const conv2d = (inChannels: number, outChannels: number, kernelSize: IntPair, opts?: ConvLayerOptions) => new Conv2d(inChannels, outChannels, kernelSize, opts);
/** A 1-D convolution layer over [N, C, L] (PyTorch's nn.Conv1d). */
export const conv1d = (inChannels: number, outChannels: number, kernelSize: number, opts?: Conv1dLayerOptions) => new Conv1d(inChannels, outChannels, kernelSize, opts);

/** A fully connected layer y = x·Wᵀ + b, W of shape [out, in]. */
export const linear = (inFeatures: number, outFeatures: number, opts?: LinearOptions) => new Linear(inFeatures, outFeatures, opts);
/** Chains modules: the output of each is the input of the next. */
export const sequential = (...layers: Module[]) => new Sequential(...layers);
/** ReLU; `{ gradAtZero: 1 }` makes relu′(0) = 1 (PyTorch's, the default, is 0). */
export const relu = (opts?: KinkOptions) => new Activation('relu', (x: Tensor) => F.relu(x, opts));
/** Leaky ReLU, slope α below 0; `{ gradAtZero: 1 }` makes its derivative at 0 equal 1 (PyTorch's is α). */
export const leakyRelu = (alpha = 0.01, opts?: KinkOptions) => new Activation('leakyRelu', (x: Tensor) => F.leakyRelu(x, alpha, opts));
export const elu = (alpha = 1) => new Activation('elu', (x: Tensor) => F.elu(x, alpha));
export const sigmoid = () => new Activation('sigmoid', (x: Tensor) => F.sigmoid(x));
export const tanh = () => new Activation('tanh', (x: Tensor) => F.tanh(x));
export const softplus = () => new Activation('softplus', (x: Tensor) => F.softplus(x));
export const gelu = () => new Activation('gelu', (x: Tensor) => F.gelu(x));
export const identity = () => new Activation('identity', (x: Tensor) => x);
/** Batch normalization over [N, C] with running statistics. */
export const batchNorm1d = (numFeatures: number, opts?: BatchNormOptions) => new BatchNorm1d(numFeatures, opts);
/** Inverted dropout with its own seeded generator. */
export const dropout = (p = 0.5, opts?: { seed?: number }) => new Dropout(p, opts);
