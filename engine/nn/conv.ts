/** Convolution, pooling and flatten layers (PyTorch's Conv2d, Conv1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten). */
import type { DType } from '../dtype';
import { ShapeError } from '../errors';
import { Tensor, param } from '../tensor';
import * as F from '../ops/functional';
import type { Conv2dOptions, IntPair, PoolOptions } from '../ops/conv';
import * as init from '../init';
import { Module } from './module';
import { weightParam, type Initializer } from './layers';

export interface ConvLayerOptions extends Conv2dOptions {
  /** Add a learned bias per output channel (default true). */
  bias?: boolean;
  /** Weight initialization, as for nn.linear: 'default' is PyTorch's U(±1/√fanIn) with fanIn = in/groups·kh·kw. */
  init?: Initializer;
  dtype?: DType;
  seed?: number;
}

function positive(v: number, name: string, op: string): void {
  if (!Number.isInteger(v) || v <= 0) throw new ShapeError(`${op}: ${name} must be a positive integer, got ${v}`);
}

function convParams(op: string, inChannels: number, outChannels: number, kernel: number[], opts: ConvLayerOptions): { weight: Tensor; bias: Tensor | null } {
  positive(inChannels, 'inChannels', op);
  positive(outChannels, 'outChannels', op);
  kernel.forEach((k) => positive(k, 'kernelSize', op));
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || inChannels % groups || outChannels % groups) {
    throw new ShapeError(`${op}: groups = ${groups} must divide inChannels (${inChannels}) and outChannels (${outChannels})`);
  }
  const how = opts.init ?? 'default';
  const iopts = { dtype: opts.dtype, seed: opts.seed };
  const shape = [outChannels, inChannels / groups, ...kernel];
  const weight = weightParam(shape, how, iopts);
  if (opts.bias === false) return { weight, bias: null };
  // PyTorch: the bias is U(±1/√fanIn) whatever the weight's init
  const b = 1 / Math.sqrt(init.fans(shape).fanIn);
  const bias = param(init.uniform([outChannels], { ...iopts, seed: opts.seed === undefined ? undefined : opts.seed + 1, low: -b, high: b }));
  return { weight, bias };
}

const kernelPair = (k: IntPair): [number, number] => (typeof k === 'number' ? [k, k] : [k[0], k[1]]);

/** 2-D convolution over [N, C, H, W]: weight [out, in/groups, kh, kw], bias [out]. */
export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  private readonly options: Conv2dOptions;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: IntPair, opts: ConvLayerOptions = {}) {
    super();
    ({ weight: this.weight, bias: this.bias } = convParams('conv2d', inChannels, outChannels, kernelPair(kernelSize), opts));
    this.options = { stride: opts.stride, padding: opts.padding, dilation: opts.dilation, groups: opts.groups };
    Object.defineProperty(this, 'options', { enumerable: false });
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.options);
  }
}

export interface Conv1dLayerOptions extends F.Conv1dOptions {
  bias?: boolean;
  init?: Initializer;
  dtype?: DType;
  seed?: number;
}

/** 1-D convolution over [N, C, L]: weight [out, in/groups, k], bias [out]. */
export class Conv1d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  private readonly options: F.Conv1dOptions;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number, opts: Conv1dLayerOptions = {}) {
    super();
    ({ weight: this.weight, bias: this.bias } = convParams('conv1d', inChannels, outChannels, [kernelSize], opts));
    this.options = { stride: opts.stride, padding: opts.padding, dilation: opts.dilation, groups: opts.groups };
    Object.defineProperty(this, 'options', { enumerable: false });
  }
  forward(x: Tensor): Tensor {
    return F.conv1d(x, this.weight, this.bias, this.options);
  }
}

/** A layer without parameters that applies one function (pooling, flatten). */
export class Pool extends Module {
  constructor(readonly kind: string, private readonly fn: (x: Tensor) => Tensor) {
    super();
    Object.defineProperty(this, 'fn', { enumerable: false });
  }
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}

export const maxPool2d = (kernelSize: IntPair, opts?: PoolOptions) => new Pool('maxPool2d', (x) => F.maxPool2d(x, kernelSize, opts));
export const avgPool2d = (kernelSize: IntPair, opts?: PoolOptions) => new Pool('avgPool2d', (x) => F.avgPool2d(x, kernelSize, opts));
export const adaptiveAvgPool2d = (outputSize: IntPair) => new Pool('adaptiveAvgPool2d', (x) => F.adaptiveAvgPool2d(x, outputSize));

/** Flattens axes startDim … endDim into one (PyTorch's nn.Flatten: from axis 1 by default, keeping the batch). */
export const flatten = (startDim = 1, endDim = -1) => new Pool('flatten', (x) => {
  const s = startDim < 0 ? startDim + x.rank : startDim;
  const e = endDim < 0 ? endDim + x.rank : endDim;
  if (!(s >= 0 && e < x.rank && s <= e)) throw new ShapeError(`flatten: axes ${startDim} … ${endDim} are not within the ${x.rank} axes of ${JSON.stringify(x.shape)}`);
  const shape = [...x.shape.slice(0, s), x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1), ...x.shape.slice(e + 1)];
  return F.reshape(x, shape);
});
