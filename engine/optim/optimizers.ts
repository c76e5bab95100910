/**
 * The optimizers, one class each: their options with PyTorch's `torch.optim` defaults, the checks
 * on them, and `config()`, which is what their update rule in rules.ts reads.
 */
import type { Tensor } from '../tensor';
import { Optimizer, checkFlag, checkNumber, type BaseOptions } from './optimizer';

export interface SGDOptions extends BaseOptions {
  /** Heavy-ball momentum factor (0 = plain gradient descent). */
  momentum?: number;
  /** Dampening of the gradient in the momentum buffer. */
  dampening?: number;
  /**
   * Nesterov momentum (needs momentum > 0 and dampening 0). `true`: PyTorch's form, b ← μ·b + g,
   * w ← w − lr·(g + μ·b). `'lookahead'`: the textbook's (Goodfellow et al., Alg. 8.3; Sutskever et
   * al. 2013), with the velocity in parameter units: v ← μ·v − lr·∇f(θ + μ·v), θ ← θ + v. The
   * parameter holds the look-ahead point θ + μ·v, where the next gradient is taken (the same
   * points as PyTorch's while lr is constant); the slide's θ is `w − momentum·velocity`
   * (`optimizer.stateOf(p).velocity`).
   */
  nesterov?: boolean | 'lookahead';
}

/** Stochastic gradient descent, optionally with (Nesterov) momentum: w ← w − lr·(g or momentum buffer). */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean | 'lookahead';
  constructor(params: Iterable<Tensor>, opts: SGDOptions = {}) {
    super('sgd', params, opts, 0.01);
    checkNumber('sgd', 'momentum', opts.momentum, 0);
    checkNumber('sgd', 'dampening', opts.dampening, 0, 1);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (typeof this.nesterov !== 'boolean' && this.nesterov !== 'lookahead') throw new Error(`optim.sgd: nesterov must be true, false or 'lookahead', got ${JSON.stringify(this.nesterov)}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('optim.sgd: nesterov needs momentum > 0 and dampening 0');
  }
  config() {
    return { optimizer: 'sgd', lr: this.lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
}

export interface AdagradOptions extends BaseOptions {
  /** Learning-rate decay: lr / (1 + (t − 1)·lrDecay). */
  lrDecay?: number;
  /** Starting value of the sum of squared gradients (tfjs uses 0.1). */
  initialAccumulatorValue?: number;
  eps?: number;
  /**
   * Add eps inside the square root, lr·g / √(Σg² + eps), instead of PyTorch's lr·g / (√Σg² + eps).
   * (Goodfellow et al.'s Alg. 8.4 has it outside, PyTorch's form, with δ = 1e-7.)
   */
  epsInsideSqrt?: boolean;
}

/** Adagrad: per-element step lr / √(Σ g²), large for rarely-updated weights. */
export class Adagrad extends Optimizer {
  readonly lrDecay: number;
  readonly initialAccumulatorValue: number;
  readonly eps: number;
  readonly epsInsideSqrt: boolean;
  constructor(params: Iterable<Tensor>, opts: AdagradOptions = {}) {
    super('adagrad', params, opts, 0.01);
    checkNumber('adagrad', 'lrDecay', opts.lrDecay, 0);
    checkNumber('adagrad', 'initialAccumulatorValue', opts.initialAccumulatorValue, 0);
    checkNumber('adagrad', 'eps', opts.eps, 0);
    this.lrDecay = opts.lrDecay ?? 0;
    this.initialAccumulatorValue = opts.initialAccumulatorValue ?? 0;
    this.eps = opts.eps ?? 1e-10;
    this.epsInsideSqrt = checkFlag('adagrad', 'epsInsideSqrt', opts.epsInsideSqrt, false);
  }
  config() {
    return { optimizer: 'adagrad', lr: this.lr, lrDecay: this.lrDecay, initialAccumulatorValue: this.initialAccumulatorValue, eps: this.eps, epsInsideSqrt: this.epsInsideSqrt, weightDecay: this.weightDecay };
  }
}

export interface RMSpropOptions extends BaseOptions {
  /** Decay of the running mean of g² (PyTorch's alpha; tfjs calls it decay and defaults to 0.9). */
  alpha?: number;
  eps?: number;
  momentum?: number;
  /** Divide by the running variance of g instead of its mean square. */
  centered?: boolean;
  /**
   * Add eps inside the square root, lr·g / √(r + eps), as Goodfellow et al.'s Alg. 8.5 writes
   * RMSProp (δ = 1e-6 there), instead of PyTorch's lr·g / (√r + eps).
   */
  epsInsideSqrt?: boolean;
}

/** RMSprop: divide the step by a running root-mean-square of the gradient. */
export class RMSprop extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly momentum: number;
  readonly centered: boolean;
  readonly epsInsideSqrt: boolean;
  constructor(params: Iterable<Tensor>, opts: RMSpropOptions = {}) {
    super('rmsprop', params, opts, 0.01);
    checkNumber('rmsprop', 'alpha', opts.alpha, 0, 1);
    checkNumber('rmsprop', 'eps', opts.eps, 0);
    checkNumber('rmsprop', 'momentum', opts.momentum, 0);
    this.alpha = opts.alpha ?? 0.99;
    this.eps = opts.eps ?? 1e-8;
    this.momentum = opts.momentum ?? 0;
    this.centered = opts.centered ?? false;
    this.epsInsideSqrt = checkFlag('rmsprop', 'epsInsideSqrt', opts.epsInsideSqrt, false);
  }
  config() {
    return { optimizer: 'rmsprop', lr: this.lr, alpha: this.alpha, eps: this.eps, momentum: this.momentum, centered: this.centered, epsInsideSqrt: this.epsInsideSqrt, weightDecay: this.weightDecay };
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
    super('adadelta', params, opts, 1.0);
    checkNumber('adadelta', 'rho', opts.rho, 0, 1);
    checkNumber('adadelta', 'eps', opts.eps, 0);
    this.rho = opts.rho ?? 0.9;
    this.eps = opts.eps ?? 1e-6;
  }
  config() {
    return { optimizer: 'adadelta', lr: this.lr, rho: this.rho, eps: this.eps, weightDecay: this.weightDecay };
  }
}

export interface AdamOptions extends BaseOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Use the maximum of past second moments (AMSGrad). */
  amsgrad?: boolean;
  /**
   * Divide m and v by 1 − β₁ᵗ and 1 − β₂ᵗ (true, PyTorch's and Goodfellow et al.'s Alg. 8.7); false
   * steps by lr·m / (√v + eps), as lecture notes that leave the correction out do. Adam and AdamW.
   */
  biasCorrection?: boolean;
  /** Add eps inside the square root, lr·m̂ / √(v̂ + eps), instead of lr·m̂ / (√v̂ + eps) (Alg. 8.7's). Adam and AdamW. */
  epsInsideSqrt?: boolean;
}

function adamConfig(name: string, opts: AdamOptions): { beta1: number; beta2: number; eps: number } {
  checkNumber(name, 'beta1', opts.beta1, 0, 1);
  checkNumber(name, 'beta2', opts.beta2, 0, 1);
  checkNumber(name, 'eps', opts.eps, 0);
  if (opts.beta1 === 1 || opts.beta2 === 1) throw new Error(`optim.${name}: beta1 and beta2 must be < 1 (bias correction divides by 1 − βᵗ)`);
  return { beta1: opts.beta1 ?? 0.9, beta2: opts.beta2 ?? 0.999, eps: opts.eps ?? 1e-8 };
}

/** Adamax and NAdam share Adam's options but not its textbook variants: say so rather than ignore them. */
function adamOnly(name: string, opts: AdamOptions): void {
  for (const key of ['biasCorrection', 'epsInsideSqrt'] as const) {
    if (opts[key] !== undefined) throw new Error(`optim.${name}: ${key} is an option of adam and adamw only`);
  }
}

/** Adam: momentum (m) and RMS scaling (v), both bias-corrected: w ← w − lr·m̂/(√v̂ + ε). */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly amsgrad: boolean;
  readonly biasCorrection: boolean;
  readonly epsInsideSqrt: boolean;
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}, name: 'adam' | 'adamw' = 'adam') {
    super(name, params, opts, 0.001);
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps } = adamConfig(name, opts));
    this.amsgrad = opts.amsgrad ?? false;
    this.biasCorrection = checkFlag(name, 'biasCorrection', opts.biasCorrection, true);
    this.epsInsideSqrt = checkFlag(name, 'epsInsideSqrt', opts.epsInsideSqrt, false);
  }
  config(): Record<string, number | boolean | string> {
    return {
      optimizer: this.name, lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, amsgrad: this.amsgrad,
      biasCorrection: this.biasCorrection, epsInsideSqrt: this.epsInsideSqrt, weightDecay: this.weightDecay,
    };
  }
}

/** AdamW: Adam with decoupled weight decay, w ← w·(1 − lr·λ) before the Adam step (λ = 0.01 by default). */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, { ...opts, weightDecay: opts.weightDecay ?? 0.01 }, 'adamw');
  }
}

/** Adamax: Adam with the infinity norm, u ← max(β₂·u, |g|); w ← w − lr/(1 − β₁ᵗ)·m/u. */
export class Adamax extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super('adamax', params, opts, 0.002);
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps } = adamConfig('adamax', opts));
    adamOnly('adamax', opts);
  }
  config() {
    return { optimizer: 'adamax', lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay };
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
  constructor(params: Iterable<Tensor>, opts: NAdamOptions = {}) {
    super('nadam', params, opts, 0.002);
    ({ beta1: this.beta1, beta2: this.beta2, eps: this.eps } = adamConfig('nadam', opts));
    adamOnly('nadam', opts);
    checkNumber('nadam', 'momentumDecay', opts.momentumDecay, 0);
    this.momentumDecay = opts.momentumDecay ?? 4e-3;
  }
  config() {
    return { optimizer: 'nadam', lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, momentumDecay: this.momentumDecay, weightDecay: this.weightDecay };
  }
}
