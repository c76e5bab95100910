/** Standard layers: linear, sequential, activations, batch norm, dropout. */
import type { DType } from '../dtype';
import { Rng, rngFor } from '../random';
import { shapeString } from '../shape';
import { Tensor, param, tensor } from '../tensor';
import { composite, noGrad } from '../ops/context';
import * as F from '../ops/functional';
import { declareComposite } from '../ops/registry';
import * as init from '../init';
import { Module } from './module';
import { ShapeError } from '../errors';

export type InitName = 'default' | 'he' | 'kaiming' | 'xavier' | 'glorot' | 'lecun' | 'normal' | 'zeros';
export type Initializer = InitName | ((shape: number[], opts: init.InitOptions) => Tensor);

export interface LinearOptions {
  bias?: boolean;
  /**
   * Weight initialization: 'default' (PyTorch's U(±1/√fanIn)), 'he'/'kaiming' (He normal for ReLU),
   * 'xavier'/'glorot' (Glorot uniform), 'lecun' (LeCun normal), 'normal' (N(0, 0.01²)), 'zeros',
   * or a function of (shape, { seed, dtype }).
   */
  init?: Initializer;
  dtype?: DType;
  seed?: number;
}

/** A weight of `shape` ([out, in, …]) initialized as `how` says. */
const INIT_NAMES = new WeakMap<Tensor, string>();
const CANONICAL_INIT: Record<string, string> = { kaiming: 'he', glorot: 'xavier' };

/** @internal The weight parameter of a layer, remembering how it was initialized (the diagnosis reads it). */
export function weightParam(shape: number[], how: Initializer, opts: init.InitOptions): Tensor {
  const w = param(initWeight(shape, how, opts));
  INIT_NAMES.set(w, typeof how === 'function' ? 'custom' : CANONICAL_INIT[how] ?? how);
  return w;
}

/** How a layer's weight was initialized (`he`, `xavier`, `default`, `zeros`, `custom`…), or null when it was not made by a layer. */
export function initOf(weight: Tensor): string | null {
  return INIT_NAMES.get(weight) ?? null;
}

export function initWeight(shape: number[], how: Initializer, opts: init.InitOptions): Tensor {
  if (typeof how === 'function') return how(shape, opts);
  switch (how) {
    case 'default': {
      const b = 1 / Math.sqrt(init.fans(shape).fanIn);
      return init.uniform(shape, { ...opts, low: -b, high: b });
    }
    case 'he': case 'kaiming': return init.kaimingNormal(shape, opts);
    case 'xavier': case 'glorot': return init.xavierUniform(shape, opts);
    case 'lecun': return init.lecunNormal(shape, opts);
    case 'normal': return init.normal(shape, { ...opts, std: 0.01 });
    case 'zeros': return init.zeros(shape, opts);
    default: throw new Error(`linear: unknown init ${JSON.stringify(how)}; use default, he, xavier, lecun, normal, zeros or a function`);
  }
}

/** y = x·Wᵀ + b with W of shape [out, in]. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LinearOptions = {}) {
    super();
    for (const [k, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`linear: ${k} must be a positive integer, got ${v}`);
    }
    const how = opts.init ?? 'default';
    const rng = opts.seed === undefined ? undefined : opts.seed;
    const iopts = { dtype: opts.dtype, seed: rng };
    this.weight = weightParam([outFeatures, inFeatures], how, iopts);
    if (opts.bias === false) this.bias = null;
    else if (how === 'default') {
      const b = 1 / Math.sqrt(inFeatures);
      this.bias = param(init.uniform([outFeatures], { ...iopts, seed: rng === undefined ? undefined : rng + 1, low: -b, high: b }));
    } else this.bias = param(init.zeros([outFeatures], iopts));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

/** Runs modules one after another. */
export class Sequential extends Module {
  layers: Module[];
  constructor(...layers: Module[]) {
    super();
    layers.forEach((l, i) => {
      if (!(l instanceof Module)) throw new Error(`sequential: argument ${i} is not a module (got ${typeof l})`);
    });
    this.layers = layers;
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }
}

/** An elementwise activation as a module (ReLU, Tanh, …). */
export class Activation extends Module {
  constructor(readonly kind: string, private readonly fn: (x: Tensor) => Tensor) {
    super();
    Object.defineProperty(this, 'fn', { enumerable: false });
  }
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  dtype?: DType;
  /**
   * What evaluation uses for the spread: `'variance'` (PyTorch's default) keeps a running average of
   * the batch variance (unbiased, n/(n − 1)) and divides by √(runningVar + ε); `'std'` (as some
   * lecture notes write it) keeps a running average of the batch's σ_B = √(σ²_B + ε), the very
   * number training divides by, and divides by it. Both averages use `momentum`.
   */
  running?: 'variance' | 'std';
}

const BATCH_NORM_1D = declareComposite('batchNorm1d');
const BATCH_NORM_2D = declareComposite('batchNorm2d');
const DROPOUT = declareComposite('dropout');

/** Batch normalization over [N, C] inputs, with running statistics for evaluation. */
export class BatchNorm1d extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  /** Running mean and (unbiased) variance, updated in training mode; not trainable. With `running: 'std'`, also a running σ, which evaluation uses. */
  runningMean: Tensor;
  runningVar: Tensor;
  runningStd: Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  readonly running: 'variance' | 'std';
  constructor(readonly numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) throw new Error(`batchNorm1d: numFeatures must be a positive integer, got ${numFeatures}`);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    const dtype = opts.dtype ?? 'float32';
    const affine = opts.affine ?? true;
    this.weight = affine ? param(init.ones([numFeatures], { dtype })) : null;
    this.bias = affine ? param(init.zeros([numFeatures], { dtype })) : null;
    this.running = opts.running ?? 'variance';
    if (this.running !== 'variance' && this.running !== 'std') throw new Error(`batchNorm: running must be 'variance' or 'std', got ${JSON.stringify(opts.running)}`);
    this.runningMean = init.zeros([numFeatures], { dtype }).named('runningMean');
    this.runningVar = init.ones([numFeatures], { dtype }).named('runningVar');
    this.runningStd = this.running === 'std' ? init.ones([numFeatures], { dtype }).named('runningStd') : null;
  }
  /** The composite's name and the input layout it normalizes ([N, C] here; [N, C, H, W] for batchNorm2d). */
  protected get kind(): { name: string; rank: number; layout: string } {
    return { name: BATCH_NORM_1D, rank: 2, layout: `[N, ${this.numFeatures}]` };
  }
  forward(x: Tensor): Tensor {
    const { name, rank, layout } = this.kind;
    if (x.rank !== rank || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`${name}: expected input ${layout}, got ${shapeString(x.shape)}`);
    }
    // statistics per channel, over the batch (and the positions): [C] broadcast as [C] or [C, 1, 1]
    const axes = rank === 2 ? [0] : [0, 2, 3];
    const perChannel = (t: Tensor) => (rank === 2 ? t : F.reshape(t, [this.numFeatures, 1, 1]));
    return composite(name, () => {
      let mean: Tensor;
      let varBiased: Tensor;
      if (this.training) {
        const n = axes.reduce((a, i) => a * x.shape[i], 1);
        if (n < 2) throw new ShapeError(`${name}: training needs at least 2 values per channel, got ${shapeString(x.shape)}`);
        mean = F.mean(x, axes);
        varBiased = F.variance(x, axes, false, 0);
        noGrad(() => {
          const m = this.momentum;
          this.runningMean = F.add(F.mul(this.runningMean, 1 - m), F.mul(mean.detach(), m)).named('runningMean');
          this.runningVar = F.add(F.mul(this.runningVar, 1 - m), F.mul(varBiased.detach(), (m * n) / (n - 1))).named('runningVar');
          if (this.runningStd) this.runningStd = F.add(F.mul(this.runningStd, 1 - m), F.mul(F.sqrt(F.add(varBiased.detach(), this.eps)), m)).named('runningStd');
        });
      } else if (this.runningStd) {
        // evaluation divides by the running σ itself (it already holds ε)
        let y = F.div(F.sub(x, perChannel(this.runningMean)), perChannel(this.runningStd));
        if (this.weight) y = F.mul(y, perChannel(this.weight));
        if (this.bias) y = F.add(y, perChannel(this.bias));
        return y;
      } else {
        mean = this.runningMean;
        varBiased = this.runningVar;
      }
      let y = F.div(F.sub(x, perChannel(mean)), F.sqrt(F.add(perChannel(varBiased), this.eps)));
      if (this.weight) y = F.mul(y, perChannel(this.weight));
      if (this.bias) y = F.add(y, perChannel(this.bias));
      return y;
    });
  }
}

/** Batch normalization over [N, C, H, W] (per channel, over the batch and the positions), with running statistics. */
export class BatchNorm2d extends BatchNorm1d {
  protected override get kind(): { name: string; rank: number; layout: string } {
    return { name: BATCH_NORM_2D, rank: 4, layout: `[N, ${this.numFeatures}, H, W]` };
  }
}

/** Inverted dropout: zeroes each element with probability p in training and scales the rest by 1/(1−p). */
export class Dropout extends Module {
  private rng: Rng;
  constructor(readonly p = 0.5, opts: { seed?: number } = {}) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
    this.rng = opts.seed === undefined ? new Rng(rngFor().nextUint32()) : new Rng(opts.seed);
    Object.defineProperty(this, 'rng', { enumerable: false });
  }
  override generators(): Rng[] {
    return [this.rng];
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return composite(DROPOUT, () => {
      const keep = 1 - this.p;
      const mask = new Float64Array(x.size);
      for (let i = 0; i < mask.length; i++) mask[i] = this.rng.uniform() < keep ? 1 / keep : 0;
      return F.mul(x, tensor(mask, { shape: x.shape.slice(), dtype: x.dtype === 'float64' ? 'float64' : 'float32' }).named('dropoutMask'));
    });
  }
}
