/**
 * The optimizer base: holds the parameters, per-parameter state (moment buffers in float64), the
 * learning rate (a schedule may change it between steps) and gradient clipping, and runs the
 * optimizer's update rule (rules.ts, with clipping and weight decay) through the CPU evaluator.
 * Each optimizer in optimizers.ts only checks its options and reports them; all update
 * `param.data` in place, outside the graph, like `torch.optim`.
 */
import type { TypedArray } from '../dtype';
import { Tensor } from '../tensor';

import { VectorProgram } from './evaluate';
import { OPTIMIZER_NAMES, type OptimizerName } from './names';
import { CLIP_EPS, ruleOf, type Rule } from './rules';

export { OPTIMIZER_NAMES, type OptimizerName };

export interface BaseOptions {
  /** Learning rate (step size). */
  lr?: number;
  /**
   * L2 penalty added to the gradient (`g += weightDecay · w`, PyTorch's weight_decay); AdamW
   * decouples it instead. It is the gradient of (weightDecay/2)·‖W‖², so a loss with the penalty
   * λ‖W‖² (as lecture notes write it) is `weightDecay: 2λ`; a penalty (λ/2)‖W‖² is `weightDecay: λ`.
   */
  weightDecay?: number;
  /** Rescale all gradients together so their global L2 norm is at most this (before the update). */
  clipNorm?: number;
  /** Clamp every gradient element to [−clipValue, clipValue] (before the update). */
  clipValue?: number;
}

/** Per-parameter state: named float64 buffers the size of the parameter. */
export type SlotState = Record<string, Float64Array>;

/** The optimizer's rule, compiled for the CPU evaluator. */
interface Compiled {
  rule: Rule;
  /** Clipping by value, over every gradient before the norm is taken. */
  byValue: VectorProgram;
  /** Clipping by norm, weight decay and the update, per parameter. */
  update: VectorProgram;
  /** The rule's numbers kept across steps (NAdam's μ products). */
  memory: number[];
}

function checkNumber(name: string, key: string, v: number | undefined, lo: number, hi = Infinity, loOpen = false): void {
  if (v === undefined) return;
  const bad = typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi;
  if (bad) throw new Error(`optim.${name}: ${key} must be a number ${loOpen ? '>' : '≥'} ${lo}${hi < Infinity ? ` and ≤ ${hi}` : ''}, got ${String(v)}`);
}

/** A boolean option: its default when absent, else it must be true or false. */
function checkFlag(name: string, key: string, v: boolean | undefined, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new Error(`optim.${name}: ${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export abstract class Optimizer {
  /** Current learning rate; a schedule sets it before each step. */
  lr: number;
  /** The learning rate the optimizer was created with (what schedules scale). */
  readonly baseLr: number;
  /** Number of `step()` calls so far. */
  stepCount = 0;
  /** Global gradient norm before clipping at the last step. */
  lastGradNorm = 0;
  readonly params: Tensor[];
  protected readonly weightDecay: number;
  readonly clipNorm: number | undefined;
  readonly clipValue: number | undefined;
  private readonly state = new Map<Tensor, SlotState>();
  /** Updates each parameter has had (PyTorch keeps the step per parameter: a late starter gets its own bias correction). */
  private readonly paramSteps = new Map<Tensor, number>();

  private compiled: Compiled | null = null;

  constructor(readonly name: OptimizerName, params: Iterable<Tensor>, opts: BaseOptions, defaultLr: number) {
    this.params = [...params];
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`optim.${name}: parameter ${i} is not a tensor`);
      if (!p.requiresGrad) throw new Error(`optim.${name}: parameter ${i}${p.name ? ` (${p.name})` : ''} does not require grad; create it with param()`);
      if (p.dtype === 'int32') throw new Error(`optim.${name}: parameter ${i} is int32; parameters must be float`);
    });
    checkNumber(name, 'lr', opts.lr, 0);
    checkNumber(name, 'weightDecay', opts.weightDecay, 0);
    checkNumber(name, 'clipNorm', opts.clipNorm, 0, Infinity, true);
    checkNumber(name, 'clipValue', opts.clipValue, 0, Infinity, true);
    this.lr = this.baseLr = opts.lr ?? defaultLr;
    this.weightDecay = opts.weightDecay ?? 0;
    this.clipNorm = opts.clipNorm;
    this.clipValue = opts.clipValue;
  }

  /** The hyperparameters, for display and for the training JSON (and what the update rule reads). */
  abstract config(): Record<string, number | boolean | string>;

  /**
   * The optimizer as the file set it up: config() with the learning rate it was given (baseLr), not
   * the one a schedule has set for the current step. What a run reports as its optimizer.
   */
  settings(): Record<string, number | boolean | string> {
    return { ...this.config(), lr: this.baseLr };
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    const grads = this.params.map((p) => {
      const g = p.grad;
      if (g === null) return null;
      const out = Float64Array.from(g.data as ArrayLike<number>);
      if (out.length !== p.size) throw new Error(`optim.${this.name}: the gradient of ${p.name ?? 'a parameter'} has ${out.length} elements, the parameter ${p.size}`);
      return out;
    });
    this.lastGradNorm = globalNorm(grads);
    const { rule, byValue, update, memory } = this.program();
    if (this.clipValue !== undefined) for (const g of grads) if (g) byValue.run(g.length, [g], {});
    const norm = this.clipValue !== undefined ? globalNorm(grads) : this.lastGradNorm;
    const arrays: (TypedArray | undefined)[] = [];
    this.params.forEach((p, i) => {
      const g = grads[i];
      if (!g) return;
      const t = (this.paramSteps.get(p) ?? 0) + 1;
      this.paramSteps.set(p, t);
      const slots = this.slotsOf(p);
      arrays.length = 0;
      arrays.push(g, p.data, ...rule.slots.map((k) => slots[k]));
      const scalars = rule.scalars({ t, lr: this.lr }, memory);
      scalars.norm = norm;
      update.run(g.length, arrays, scalars);
    });
  }

  /** Forgets all moment buffers and the step count (same as a fresh optimizer). */
  reset(): void {
    if (this.compiled) this.compiled.memory.length = 0;
    this.state.clear();
    this.paramSteps.clear();
    this.stepCount = 0;
    this.lr = this.baseLr;
  }

  /**
   * Takes over a run that another executor (the GPU) has taken `step` steps of: the step count and,
   * per parameter, its state buffers by slot name (null: the parameter has had no update). A slot
   * missing from `slots` starts at its initial value.
   */
  restore(step: number, slots: readonly (Readonly<Record<string, ArrayLike<number>>> | null)[]): void {
    if (slots.length !== this.params.length) throw new Error(`optim.${this.name}: restore got state for ${slots.length} parameters, the optimizer has ${this.params.length}`);
    this.reset();
    this.stepCount = step;
    const { rule } = this.program();
    this.params.forEach((p, i) => {
      const given = slots[i];
      if (!given || step === 0) return;
      const s: SlotState = {};
      rule.slots.forEach((k, j) => {
        const v = given[k];
        if (v && v.length !== p.size) throw new Error(`optim.${this.name}: restore got ${v.length} values of ${k} for a parameter of ${p.size}`);
        s[k] = v ? Float64Array.from(v) : new Float64Array(p.size).fill(rule.initial[j]);
      });
      this.state.set(p, s);
      this.paramSteps.set(p, step);
    });
  }

  /** Per-parameter state buffers, e.g. `{ m, v }` for Adam (created on first use). */
  stateOf(p: Tensor): Readonly<SlotState> | undefined {
    return this.state.get(p);
  }

  private slotsOf(p: Tensor): SlotState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      const { slots, initial } = this.program().rule;
      slots.forEach((k, j) => (s![k] = new Float64Array(p.size).fill(initial[j])));
      this.state.set(p, s);
    }
    return s;
  }

  /** The update rule for this optimizer's settings, compiled at the first step (the settings are fixed by then). */
  private program(): Compiled {
    if (!this.compiled) {
      const rule = ruleOf(this.name, this.config(), { norm: this.clipNorm, value: this.clipValue });
      const names = ['g', 'w', ...rule.slots];
      this.compiled = { rule, byValue: new VectorProgram(rule.byValue, names), update: new VectorProgram(rule.update, names), memory: [] };
    }
    return this.compiled;
  }
}

/**
 * L2 norm over all gradients together (nulls skipped). Four running sums, so the loop is not one
 * chain of dependent additions (it runs every step, over every parameter).
 */
export function globalNorm(grads: readonly (ArrayLike<number> | null)[]): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (const g of grads) {
    if (!g) continue;
    const n = g.length, whole = n - (n % 4);
    let i = 0;
    for (; i < whole; i += 4) {
      const a = g[i], b = g[i + 1], c = g[i + 2], d = g[i + 3];
      s0 += a * a;
      s1 += b * b;
      s2 += c * c;
      s3 += d * d;
    }
    for (; i < n; i++) s0 += g[i] * g[i];
  }
  return Math.sqrt(s0 + s1 + (s2 + s3));
}

function gradsOf(params: Iterable<Tensor>): { p: Tensor; g: Tensor }[] {
  const out: { p: Tensor; g: Tensor }[] = [];
  for (const p of params) {
    const g = p.grad;
    if (g !== null) out.push({ p, g });
  }
  return out;
}

/**
 * Rescales the parameters' gradients in place so their global L2 norm is at most `maxNorm`
 * (like `torch.nn.utils.clip_grad_norm_`); returns the norm before clipping.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const pairs = gradsOf(params);
  const norm = globalNorm(pairs.map(({ g }) => g.data));
  if (norm > maxNorm) {
    const k = maxNorm / (norm + CLIP_EPS);
    for (const { p, g } of pairs) {
      const d = (g.data as TypedArray).slice();
      for (let i = 0; i < d.length; i++) d[i] *= k;
      p.grad = Tensor.leaf(d, g.shape);
    }
  }
  return norm;
}

/** Clamps every gradient element of the parameters to [−clipValue, clipValue] in place. */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue > 0)) throw new Error(`clipGradValue: clipValue must be > 0, got ${clipValue}`);
  for (const { p, g } of gradsOf(params)) {
    const d = (g.data as TypedArray).slice();
    for (let i = 0; i < d.length; i++) d[i] = Math.min(clipValue, Math.max(-clipValue, d[i]));
    p.grad = Tensor.leaf(d, g.shape);
  }
}

export { checkFlag, checkNumber };
