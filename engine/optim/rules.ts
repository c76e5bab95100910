/**
 * The optimizers' update rules, once each, as data: the slots (per-element state) with their
 * starting values, the scalars the host computes per step, and the per-element assignments in the
 * algebra of expr.ts, written as in PyTorch's `torch.optim` pseudocode so a reader can hold each
 * next to it. The CPU evaluates them (evaluate.ts), the GPU renders them to WGSL (wgsl.ts).
 *
 * Clipping and weight decay are shared by every rule (`ruleOf` puts them before the rule): `g` is
 * clipped by value, then by the global norm, then gets the L2 term `weightDecay·w`; AdamW instead
 * shrinks `w` by `1 − lr·weightDecay` (decoupled decay).
 *
 * Nothing here imports the tensor engine: the webview's GPU trainer reads these rules too.
 */
import type { OptimizerName } from './names';
import { parseRule, type Stmt } from './expr';

/** An optimizer's settings, as its `config()` reports them. */
export type Config = Readonly<Record<string, number | boolean | string>>;

export interface SgdConfig { momentum: number; dampening: number; nesterov: boolean | 'lookahead' }
export interface AdagradConfig { lrDecay: number; initialAccumulatorValue: number; eps: number; epsInsideSqrt: boolean }
export interface RmspropConfig { alpha: number; eps: number; momentum: number; centered: boolean; epsInsideSqrt: boolean }
export interface AdadeltaConfig { rho: number; eps: number }
export interface AdamConfig { beta1: number; beta2: number; eps: number; amsgrad: boolean; biasCorrection: boolean; epsInsideSqrt: boolean }
export interface AdamaxConfig { beta1: number; beta2: number; eps: number }
export interface NadamConfig { beta1: number; beta2: number; eps: number; momentumDecay: number }

/** The step scalars every rule may read: the scheduled lr and this parameter's step count t (1-based). */
export interface Step {
  t: number;
  lr: number;
}

export interface RuleDecl<C> {
  /** The slots in buffer order, each with its starting value. */
  slots(c: C): Record<string, number>;
  /**
   * The rule's host scalars at step t, by name. `memory` is the optimizer's to keep numbers in
   * across steps (NAdam's products of μ); it is emptied when the optimizer is reset.
   */
  scalars?(c: C, step: Step, memory: number[]): Record<string, number>;
  /** The per-element assignments, in order; `g` arrives clipped and with the L2 term. Falsy entries are skipped. */
  update(c: C): readonly (string | false)[];
  /** Weight decay shrinks w before the step instead of adding λ·w to g (AdamW). */
  decoupledDecay?: boolean;
}

/** √(r) + ε, or √(r + ε) with the textbook's `epsInsideSqrt` (Goodfellow et al., Alg. 8.5). */
const root = (r: string, epsInside: boolean) => (epsInside ? `sqrt(${r} + eps)` : `(sqrt(${r}) + eps)`);

const adam: RuleDecl<AdamConfig> = {
  slots: (c) => ({ m: 0, v: 0, ...(c.amsgrad ? { vMax: 0 } : {}) }),
  scalars: (c, { t }) => ({ bc1: 1 - c.beta1 ** t, bc2: 1 - c.beta2 ** t, sqrtBc2: Math.sqrt(1 - c.beta2 ** t) }),
  update: (c) => {
    const v = c.amsgrad ? 'vMax' : 'v';
    // bias-corrected: PyTorch's lr/(1 − β₁ᵗ)·m / (√v/√(1 − β₂ᵗ) + ε); inside: lr·m̂ / √(v̂ + ε)
    const step = c.biasCorrection === false ? `lr*m / ${root(v, c.epsInsideSqrt)}`
      : c.epsInsideSqrt ? `lr/bc1*m / sqrt(${v}/bc2 + eps)` : `lr/bc1*m / (sqrt(${v})/sqrtBc2 + eps)`;
    return ['m = beta1*m + (1 - beta1)*g', 'v = beta2*v + (1 - beta2)*g*g', c.amsgrad && 'vMax = max(vMax, v)', `w = w - ${step}`];
  },
};

/** Dozat's momentum schedule μₜ = β₁·(1 − ½·0.96^(t·ψ)). */
const nadamMu = (c: NadamConfig, t: number) => c.beta1 * (1 - 0.5 * 0.96 ** (t * c.momentumDecay));

export const RULES: { readonly [K in OptimizerName]: RuleDecl<ConfigOf[K]> } = {
  sgd: {
    slots: (c): Record<string, number> => (c.nesterov === 'lookahead' ? { velocity: 0 } : c.momentum ? { momentumBuffer: 0 } : {}),
    update: (c) => (c.nesterov === 'lookahead' ? [
      // w holds the look-ahead point θ + μv (where g was taken), so θ = w − μv before the step;
      // v ← μv − lr·g; θ ← θ + v; w ← θ + μv, the next look-ahead point
      'let theta = w - momentum*velocity',
      'velocity = momentum*velocity - lr*g',
      'w = theta + velocity + momentum*velocity',
    ] : c.momentum === 0 ? ['w = w - lr*g'] : [
      'momentumBuffer = t == 1 ? g : momentum*momentumBuffer + (1 - dampening)*g',
      `w = w - lr*${c.nesterov ? '(g + momentum*momentumBuffer)' : 'momentumBuffer'}`,
    ]),
  },
  adagrad: {
    slots: (c) => ({ sum: c.initialAccumulatorValue }),
    scalars: (c, { t, lr }) => ({ clr: lr / (1 + (t - 1) * c.lrDecay) }),
    update: (c) => ['sum = sum + g*g', `w = w - clr*g / ${root('sum', c.epsInsideSqrt)}`],
  },
  rmsprop: {
    slots: (c) => ({ squareAvg: 0, ...(c.centered ? { gradAvg: 0 } : {}), ...(c.momentum > 0 ? { momentumBuffer: 0 } : {}) }),
    update: (c) => [
      'squareAvg = alpha*squareAvg + (1 - alpha)*g*g',
      c.centered && 'gradAvg = alpha*gradAvg + (1 - alpha)*g',
      `let avg = ${root(c.centered ? 'squareAvg - gradAvg*gradAvg' : 'squareAvg', c.epsInsideSqrt)}`,
      ...(c.momentum > 0 ? ['momentumBuffer = momentum*momentumBuffer + g/avg', 'w = w - lr*momentumBuffer'] : ['w = w - lr*g/avg']),
    ],
  },
  adadelta: {
    slots: () => ({ squareAvg: 0, accDelta: 0 }),
    update: () => [
      'squareAvg = rho*squareAvg + (1 - rho)*g*g',
      'let delta = sqrt(accDelta + eps)/sqrt(squareAvg + eps)*g',
      'accDelta = rho*accDelta + (1 - rho)*delta*delta',
      'w = w - lr*delta',
    ],
  },
  adam,
  adamw: { ...adam, decoupledDecay: true },
  adamax: {
    slots: () => ({ m: 0, u: 0 }),
    scalars: (c, { t }) => ({ bc1: 1 - c.beta1 ** t }),
    update: () => ['m = beta1*m + (1 - beta1)*g', 'u = max(beta2*u, abs(g) + eps)', 'w = w - lr/bc1*m/u'],
  },
  nadam: {
    slots: () => ({ m: 0, v: 0 }),
    scalars: (c, { t }, products) => {
      // Π μᵢ for i ≤ t, by t (parameters that started late need earlier products)
      if (!products.length) products.push(1);
      while (products.length <= t) products.push(products[products.length - 1] * nadamMu(c, products.length));
      return { mu: nadamMu(c, t), muNext: nadamMu(c, t + 1), muProduct: products[t], sqrtBc2: Math.sqrt(1 - c.beta2 ** t) };
    },
    update: () => [
      'm = beta1*m + (1 - beta1)*g',
      'v = beta2*v + (1 - beta2)*g*g',
      'w = w - (lr*(1 - mu)/(1 - muProduct)*g + lr*muNext/(1 - muProduct*muNext)*m) / (sqrt(v)/sqrtBc2 + eps)',
    ],
  },
};

interface ConfigOf {
  sgd: SgdConfig; adagrad: AdagradConfig; rmsprop: RmspropConfig; adadelta: AdadeltaConfig;
  adam: AdamConfig; adamw: AdamConfig; adamax: AdamaxConfig; nadam: NadamConfig;
}

/** Added to the gradient norm before dividing by it when clipping by norm. */
export const CLIP_EPS = 1e-6;

/** Clipping and weight decay, the statements every rule starts with (see the file comment). */
const CLIP_BY_VALUE = 'g = g > clipValue ? clipValue : g < -clipValue ? -clipValue : g';
const CLIP_BY_NORM = `g = norm > clipNorm ? g*(clipNorm/(norm + ${CLIP_EPS})) : g`;
const COUPLED_DECAY = 'g = g + weightDecay*w';
const DECOUPLED_DECAY = 'w = w*(1 - lr*weightDecay)';

export interface Clip {
  /** Rescale all gradients together to at most this global L2 norm. */
  norm?: number;
  /** Clamp every gradient element to [−value, value]. */
  value?: number;
}

/** A rule bound to an optimizer's settings: what the evaluators run. */
export interface Rule {
  readonly name: OptimizerName;
  /** The slot names, in buffer order, and their starting values. */
  readonly slots: readonly string[];
  readonly initial: readonly number[];
  /** `g` clipped by value: runs over every gradient before the global norm is taken (empty without clipValue). */
  readonly byValue: readonly Stmt[];
  /** Then, per parameter: clipping by that norm, weight decay, the rule's assignments. */
  readonly update: readonly Stmt[];
  /** The step scalars of a parameter's step t (`norm` aside): lr, t and the rule's own (a new object). */
  scalars(step: Step, memory: number[]): Record<string, number>;
}

/** The rule of an optimizer with these settings (its `config()`) and clipping. */
export function ruleOf(name: OptimizerName, config: Config, clip: Clip = {}): Rule {
  const decl = RULES[name] as unknown as RuleDecl<Config>;
  if (!decl) throw new Error(`optim: no update rule for ${JSON.stringify(name)}`);
  const slotInit = decl.slots(config);
  const slots = Object.keys(slotInit);
  const own = (step: Step, memory: number[]) => decl.scalars?.(config, step, memory) ?? {};
  const wd = Number(config.weightDecay) || 0;
  const scope = {
    elements: ['g', 'w', ...slots],
    scalars: ['lr', 't', 'norm', ...Object.keys(own({ t: 1, lr: 0 }, []))],
    constants: { ...config, clipValue: clip.value, clipNorm: clip.norm, weightDecay: wd },
  };
  const lines = [
    clip.norm !== undefined && CLIP_BY_NORM,
    wd !== 0 && (decl.decoupledDecay ? DECOUPLED_DECAY : COUPLED_DECAY),
    ...decl.update(config),
  ].filter((l): l is string => typeof l === 'string');
  return {
    name, slots, initial: slots.map((k) => slotInit[k]),
    byValue: clip.value !== undefined ? parseRule(name, [CLIP_BY_VALUE], scope) : [],
    update: parseRule(name, lines, scope),
    scalars: (step, memory) => Object.assign(own(step, memory), step),
  };
}
