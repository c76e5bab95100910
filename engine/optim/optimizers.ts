/**
 * The update rules, one class each, written as in PyTorch's `torch.optim` documentation (defaults
 * included), so a reader can hold each next to its published pseudocode. `g` arrives clipped and,
 * except for AdamW, with weight decay already added.
 */
import type { Tensor } from '../tensor';
import { Optimizer, checkNumber, type BaseOptions, type UpdateContext } from './optimizer';

export interface SGDOptions extends BaseOptions {
  /** Heavy-ball momentum factor (0 = plain gradient descent). */
  momentum?: number;
  /** Dampening of the gradient in the momentum buffer. */
  dampening?: number;
  /** Nesterov's look-ahead form of momentum (needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

/** Stochastic gradient descent, optionally with (Nesterov) momentum: w ← w − lr·(g or momentum buffer). */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  constructor(params: Iterable<Tensor>, opts: SGDOptions = {}) {
    super('sgd', params, opts, 0.01, opts.momentum ? ['momentumBuffer'] : []);
    checkNumber('sgd', 'momentum', opts.momentum, 0);
    checkNumber('sgd', 'dampening', opts.dampening, 0, 1);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('optim.sgd: nesterov needs momentum > 0 and dampening 0');
  }
  config() {
    return { optimizer: 'sgd', lr: this.lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
  protected update({ w, g, slots, lr, first }: UpdateContext): void {
    const mu = this.momentum;
    if (mu === 0) {
      for (let i = 0; i < g.length; i++) w[i] -= lr * g[i];
      return;
    }
    const buf = slots.momentumBuffer;
    const keep = 1 - this.dampening;
    for (let i = 0; i < g.length; i++) {
      buf[i] = first ? g[i] : mu * buf[i] + keep * g[i];
      w[i] -= lr * (this.nesterov ? g[i] + mu * buf[i] : buf[i]);
    }
  }
}

export interface AdagradOptions extends BaseOptions {
  /** Learning-rate decay: lr / (1 + (t − 1)·lrDecay). */
  lrDecay?: number;
  /** Starting value of the sum of squared gradients (tfjs uses 0.1). */
  initialAccumulatorValue?: number;
  eps?: number;
}

/** Adagrad: per-element step lr / √(Σ g²), large for rarely-updated weights. */
export class Adagrad extends Optimizer {
  readonly lrDecay: number;
  readonly initialAccumulatorValue: number;
  readonly eps: number;
  constructor(params: Iterable<Tensor>, opts: AdagradOptions = {}) {
    super('adagrad', params, opts, 0.01, ['sum']);
    checkNumber('adagrad', 'lrDecay', opts.lrDecay, 0);
    checkNumber('adagrad', 'initialAccumulatorValue', opts.initialAccumulatorValue, 0);
    checkNumber('adagrad', 'eps', opts.eps, 0);
    this.lrDecay = opts.lrDecay ?? 0;
    this.initialAccumulatorValue = opts.initialAccumulatorValue ?? 0;
    this.eps = opts.eps ?? 1e-10;
  }
  config() {
    return { optimizer: 'adagrad', lr: this.lr, lrDecay: this.lrDecay, initialAccumulatorValue: this.initialAccumulatorValue, eps: this.eps, weightDecay: this.weightDecay };
  }
  protected override initialSlot(): number {
    return this.initialAccumulatorValue;
  }
  protected update({ w, g, slots, lr, t }: UpdateContext): void {
    const clr = lr / (1 + (t - 1) * this.lrDecay);
    const sum = slots.sum;
    for (let i = 0; i < g.length; i++) {
      sum[i] += g[i] * g[i];
      w[i] -= (clr * g[i]) / (Math.sqrt(sum[i]) + this.eps);
    }
  }
}

export interface RMSpropOptions extends BaseOptions {
  /** Decay of the running mean of g² (PyTorch's alpha; tfjs calls it decay and defaults to 0.9). */
  alpha?: number;
  eps?: number;
  momentum?: number;
  /** Divide by the running variance of g instead of its mean square. */
  centered?: boolean;
}

/** RMSprop: divide the step by a running root-mean-square of the gradient. */
export class RMSprop extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly momentum: number;
  readonly centered: boolean;
  constructor(params: Iterable<Tensor>, opts: RMSpropOptions = {}) {
    super('rmsprop', params, opts, 0.01, ['squareAvg', 'gradAvg', 'momentumBuffer']);
    checkNumber('rmsprop', 'alpha', opts.alpha, 0, 1);
    checkNumber('rmsprop', 'eps', opts.eps, 0);
    checkNumber('rmsprop', 'momentum', opts.momentum, 0);
    this.alpha = opts.alpha ?? 0.99;
    this.eps = opts.eps ?? 1e-8;
    this.momentum = opts.momentum ?? 0;
    this.centered = opts.centered ?? false;
  }
  config() {
    return { optimizer: 'rmsprop', lr: this.lr, alpha: this.alpha, eps: this.eps, momentum: this.momentum, centered: this.centered, weightDecay: this.weightDecay };
  }
  protected update({ w, g, slots, lr }: UpdateContext): void {
    const { squareAvg, gradAvg, momentumBuffer } = slots;
    const a = this.alpha;
    for (let i = 0; i < g.length; i++) {
      squareAvg[i] = a * squareAvg[i] + (1 - a) * g[i] * g[i];
      let avg: number;
      if (this.centered) {
        gradAvg[i] = a * gradAvg[i] + (1 - a) * g[i];
        avg = Math.sqrt(squareAvg[i] - gradAvg[i] * gradAvg[i]) + this.eps;
      } else avg = Math.sqrt(squareAvg[i]) + this.eps;
      if (this.momentum > 0) {
        momentumBuffer[i] = this.momentum * momentumBuffer[i] + g[i] / avg;
        w[i] -= lr * momentumBuffer[i];
      } else w[i] -= (lr * g[i]) / avg;
    }
  }
}

export interface AdadeltaOptions extends BaseOptions {
  /** Decay of the running averages of g² and of the squared updates. */
  rho?: number;
  eps?: number;
}

/** Adadelta: the step's units come from a running RMS of past updates, so lr = 1 works. */
export class Adadelta extends Optimizer {
  readonly rho: number;
  readonly eps: number;
  constructor(params: Iterable<Tensor>, opts: AdadeltaOptions = {}) {
    super('adadelta', params, opts, 1.0, ['squareAvg', 'accDelta']);
    checkNumber('adadelta', 'rho', opts.rho, 0, 1);
    checkNumber('adadelta', 'eps', opts.eps, 0);
    this.rho = opts.rho ?? 0.9;
    this.eps = opts.eps ?? 1e-6;
  }
  config() {
    return { optimizer: 'adadelta', lr: this.lr, rho: this.rho, eps: this.eps, weightDecay: this.weightDecay };
  }
  protected update({ w, g, slots, lr }: UpdateContext): void {
    const { squareAvg, accDelta } = slots;
    const r = this.rho;
    for (let i = 0; i < g.length; i++) {
      squareAvg[i] = r * squareAvg[i] + (1 - r) * g[i] * g[i];
      const delta = (Math.sqrt(accDelta[i] + this.eps) / Math.sqrt(squareAvg[i] + this.eps)) * g[i];
      accDelta[i] = r * accDelta[i] + (1 - r) * delta * delta;
      w[i] -= lr * delta;
    }
  }
}

export interface AdamOptions extends BaseOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad?: boolean;
}

function adamConfig(name: string, opts: AdamOptions): { beta1: number; beta2: number; eps: number } {
  checkNumber(name, 'beta1', opts.beta1, 0, 1);
  checkNumber(name, 'beta2', opts.beta2, 0, 1);
  checkNumber(name, 'eps', opts.eps, 0);
  if (opts.beta1 === 1 || opts.beta2 === 1) throw new Error(`optim.${name}: beta1 and beta2 must be < 1 (bias correction divides by 1 − βᵗ)`);
  return { beta1: opts.beta1 ?? 0.9, beta2: opts.beta2 ?? 0.999, eps: opts.eps ?? 1e-8 };
}

/** Adam: momentum (m) and RMS scaling (v), both bias-corrected: w ← w − lr·m̂/(√v̂ + ε). */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly amsgrad: boolean;
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}, name: 'adam' | 'adamw' = 'adam') {
    super(name, params, opts, 0.001, opts.amsgrad ? ['m', 'v', 'vMax'] : ['m', 'v']);
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps } = adamConfig(name, opts));
    this.amsgrad = opts.amsgrad ?? false;
  }
  config(): Record<string, number | boolean | string> {
    return { optimizer: this.name, lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, amsgrad: this.amsgrad, weightDecay: this.weightDecay };
  }
  protected update({ w, g, slots, lr, t }: UpdateContext): void {
    const { m, v, vMax } = slots;
    const b1 = this.beta1, b2 = this.beta2;
    const bc1 = 1 - b1 ** t;
    const sqrtBc2 = Math.sqrt(1 - b2 ** t);
    for (let i = 0; i < g.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      let second = v[i];
      if (vMax) second = vMax[i] = Math.max(vMax[i], v[i]);
      w[i] -= ((lr / bc1) * m[i]) / (Math.sqrt(second) / sqrtBc2 + this.eps);
    }
  }
}

/** AdamW: Adam with decoupled weight decay, w ← w·(1 − lr·λ) before the Adam step (λ = 0.01 by default). */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, { ...opts, weightDecay: opts.weightDecay ?? 0.01 }, 'adamw');
  }
  protected override update(c: UpdateContext): void {
    const shrink = 1 - c.lr * this.weightDecay;
    for (let i = 0; i < c.w.length; i++) c.w[i] *= shrink;
    super.update(c);
  }
}

/** Adamax: Adam with the infinity norm, u ← max(β₂·u, |g|); w ← w − lr/(1 − β₁ᵗ)·m/u. */
export class Adamax extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super('adamax', params, opts, 0.002, ['m', 'u']);
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps } = adamConfig('adamax', opts));
  }
  config() {
    return { optimizer: 'adamax', lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
  }
  protected update({ w, g, slots, lr, t }: UpdateContext): void {
    const { m, u } = slots;
    const b1 = this.beta1, b2 = this.beta2;
    const clr = lr / (1 - b1 ** t);
    for (let i = 0; i < g.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      u[i] = Math.max(b2 * u[i], Math.abs(g[i]) + this.eps);
      w[i] -= (clr * m[i]) / u[i];
    }
  }
}

export interface NAdamOptions extends AdamOptions {
  /** ψ in Dozat's momentum schedule μₜ = β₁·(1 − ½·0.96^(t·ψ)). */
  momentumDecay?: number;
}

/** NAdam: Adam with Nesterov momentum (Dozat 2016), PyTorch's form with its momentum schedule. */
export class NAdam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly momentumDecay: number;
  /** Π μᵢ for i ≤ t, by t (parameters that started late need earlier products). */
  private readonly muProducts: number[] = [1];
  constructor(params: Iterable<Tensor>, opts: NAdamOptions = {}) {
    super('nadam', params, opts, 0.002, ['m', 'v']);
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps } = adamConfig('nadam', opts));
    checkNumber('nadam', 'momentumDecay', opts.momentumDecay, 0);
    this.momentumDecay = opts.momentumDecay ?? 4e-3;
  }
  config() {
    return { optimizer: 'nadam', lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, momentumDecay: this.momentumDecay, weightDecay: this.weightDecay };
  }
  override reset(): void {
    super.reset();
    this.muProducts.length = 1;
  }
  private muProductAt(t: number): number {
    while (this.muProducts.length <= t) this.muProducts.push(this.muProducts[this.muProducts.length - 1] * this.mu(this.muProducts.length));
    return this.muProducts[t];
  }
  private mu(t: number): number {
    return this.beta1 * (1 - 0.5 * 0.96 ** (t * this.momentumDecay));
  }
  protected update({ w, g, slots, lr, t }: UpdateContext): void {
    const prod = this.muProductAt(t);
    const mu = this.mu(t), muNext = this.mu(t + 1);
    const { m, v } = slots;
    const b1 = this.beta1, b2 = this.beta2;
    const sqrtBc2 = Math.sqrt(1 - b2 ** t);
    const kGrad = (lr * (1 - mu)) / (1 - prod);
    const kMomentum = (lr * muNext) / (1 - prod * muNext);
    for (let i = 0; i < g.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const denom = Math.sqrt(v[i]) / sqrtBc2 + this.eps;
      w[i] -= (kGrad * g[i] + kMomentum * m[i]) / denom;
    }
  }
}
