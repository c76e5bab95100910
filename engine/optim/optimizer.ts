/**
 * The optimizer base: holds the parameters, per-parameter state (moment buffers in float64), the
 * learning rate (a schedule may change it between steps) and gradient clipping. Each optimizer in
 * rules.ts only writes its per-element update rule; they all update `param.data` in place, outside
 * the graph, like `torch.optim`.
 */
import type { TypedArray } from '../dtype';
import { Tensor } from '../tensor';

import { OPTIMIZER_NAMES, type OptimizerName } from './names';

export { OPTIMIZER_NAMES, type OptimizerName };

export interface BaseOptions {
  /** Learning rate (step size). */
  lr?: number;
  /** L2 penalty added to the gradient (`g += weightDecay · w`); AdamW decouples it instead. */
  weightDecay?: number;
  /** Rescale all gradients together so their global L2 norm is at most this (before the update). */
  clipNorm?: number;
  /** Clamp every gradient element to [−clipValue, clipValue] (before the update). */
  clipValue?: number;
}

/** Per-parameter state: named float64 buffers the size of the parameter. */
export type SlotState = Record<string, Float64Array>;

/** One element-wise update: reads `g` (already clipped and weight-decayed), writes `w` and the slots. */
export interface UpdateContext {
  w: TypedArray;
  g: Float64Array;
  slots: SlotState;
  /** 1-based count of this parameter's updates (for bias correction). */
  t: number;
  lr: number;
  /** True at this parameter's first update (its state buffers were just created). */
  first: boolean;
}

function checkNumber(name: string, key: string, v: number | undefined, lo: number, hi = Infinity, loOpen = false): void {
  if (v === undefined) return;
  const bad = typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || v > hi;
  if (bad) throw new Error(`optim.${name}: ${key} must be a number ${loOpen ? '>' : '≥'} ${lo}${hi < Infinity ? ` and ≤ ${hi}` : ''}, got ${String(v)}`);
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

  constructor(readonly name: OptimizerName, params: Iterable<Tensor>, opts: BaseOptions, defaultLr: number, private readonly slotNames: readonly string[]) {
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

  /** The hyperparameters, for display and for the training JSON. */
  abstract config(): Record<string, number | boolean | string>;

  /** Updates `w` in place from the gradient. */
  protected abstract update(c: UpdateContext): void;

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
    if (this.clipValue !== undefined) for (const g of grads) if (g) clampInPlace(g, this.clipValue);
    if (this.clipNorm !== undefined) scaleToNorm(grads, this.clipNorm);
    this.params.forEach((p, i) => {
      const g = grads[i];
      if (!g) return;
      const w = p.data;
      if (this.weightDecay !== 0 && this.name !== 'adamw') for (let j = 0; j < g.length; j++) g[j] += this.weightDecay * w[j];
      const first = !this.state.has(p);
      const t = (this.paramSteps.get(p) ?? 0) + 1;
      this.paramSteps.set(p, t);
      this.update({ w, g, slots: this.slotsOf(p), t, lr: this.lr, first });
    });
  }

  /** Forgets all moment buffers and the step count (same as a fresh optimizer). */
  reset(): void {
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
    this.params.forEach((p, i) => {
      const given = slots[i];
      if (!given || step === 0) return;
      const s: SlotState = {};
      for (const k of this.slotNames) {
        const v = given[k];
        if (v && v.length !== p.size) throw new Error(`optim.${this.name}: restore got ${v.length} values of ${k} for a parameter of ${p.size}`);
        s[k] = v ? Float64Array.from(v) : new Float64Array(p.size).fill(this.initialSlot(k));
      }
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
      for (const k of this.slotNames) s[k] = new Float64Array(p.size).fill(this.initialSlot(k));
      this.state.set(p, s);
    }
    return s;
  }

  /** Starting value of a state buffer (0 except Adagrad's optional initial accumulator). */
  protected initialSlot(_slot: string): number {
    return 0;
  }
}

/** L2 norm over all gradients together (nulls skipped). */
export function globalNorm(grads: readonly (ArrayLike<number> | null)[]): number {
  let sq = 0;
  for (const g of grads) if (g) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  return Math.sqrt(sq);
}

function clampInPlace(g: Float64Array, limit: number): void {
  for (let i = 0; i < g.length; i++) g[i] = g[i] > limit ? limit : g[i] < -limit ? -limit : g[i];
}

function scaleToNorm(grads: (Float64Array | null)[], maxNorm: number): void {
  const norm = globalNorm(grads);
  if (!(norm > maxNorm)) return;
  const k = maxNorm / (norm + 1e-6);
  for (const g of grads) if (g) for (let i = 0; i < g.length; i++) g[i] *= k;
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
    const k = maxNorm / (norm + 1e-6);
    for (const { p, g } of pairs) {
      const d = (g.data as TypedArray).slice();
      for (let i = 0; i < d.length; i++) d[i] *= k;
      p.grad = new Tensor(d, g.shape);
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
    p.grad = new Tensor(d, g.shape);
  }
}

export { checkNumber };
