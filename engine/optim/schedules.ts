/**
 * Learning-rate schedules: each maps the 0-based step about to be taken and the optimizer's base
 * learning rate to the rate for that step. They are plain data plus a function, so the panel can
 * show and edit them and the training JSON can record them.
 */
export type ScheduleKind = 'constant' | 'step' | 'piecewise' | 'exponential' | 'inverseTime' | 'polynomial' | 'cosine' | 'cosineRestarts' | 'cyclic';
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'step', 'piecewise', 'exponential', 'inverseTime', 'polynomial', 'cosine', 'cosineRestarts', 'cyclic'];

export interface Schedule {
  readonly kind: ScheduleKind;
  /** The options it was made with (for display and JSON). */
  readonly options: Readonly<Record<string, number | boolean | string | number[]>>;
  /** Learning rate at `step` (0-based) for an optimizer created with `baseLr`. */
  lr(step: number, baseLr: number): number;
}

function need(kind: string, key: string, v: unknown, test: (n: number) => boolean, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) throw new Error(`schedules.${kind}: ${key} must be ${what}, got ${String(v)}`);
  return v;
}
const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
const nonNegative = (n: number) => n >= 0;

function make(kind: ScheduleKind, options: Schedule['options'], lr: Schedule['lr']): Schedule {
  return Object.freeze({ kind, options: Object.freeze({ ...options }), lr });
}

/** The optimizer's learning rate at every step. */
export function constant(): Schedule {
  return make('constant', {}, (_t, base) => base);
}

/** Multiply the rate by `gamma` every `stepSize` steps (PyTorch's StepLR). */
export function step(opts: { stepSize: number; gamma?: number }): Schedule {
  const stepSize = need('step', 'stepSize', opts?.stepSize, positiveInt, 'a positive integer');
  const gamma = need('step', 'gamma', opts.gamma ?? 0.1, nonNegative, '≥ 0');
  return make('step', { stepSize, gamma }, (t, base) => base * gamma ** Math.floor(t / stepSize));
}

/**
 * Absolute rates by step, as TensorFlow's PiecewiseConstantDecay: values[0] while step ≤
 * boundaries[0], values[i] while boundaries[i−1] < step ≤ boundaries[i], the last value after the last
 * boundary. `boundaries: [100, 110], values: [1, 0.5, 0.1]` gives 1 for steps 0…100 (101 steps), 0.5
 * for 101…110 and 0.1 from 111 on. The optimizer's own lr is not used.
 */
export function piecewise(opts: { boundaries: number[]; values: number[] }): Schedule {
  const { boundaries, values } = opts ?? ({} as never);
  if (!Array.isArray(boundaries) || !Array.isArray(values) || values.length !== boundaries.length + 1) {
    throw new Error('schedules.piecewise: needs boundaries (n steps, increasing) and values (n + 1 learning rates)');
  }
  boundaries.forEach((b, i) => {
    need('piecewise', `boundaries[${i}]`, b, (n) => Number.isInteger(n) && (i ? n > boundaries[i - 1] : n >= 0), i ? 'an integer above the previous boundary' : 'an integer ≥ 0');
  });
  values.forEach((v, i) => need('piecewise', `values[${i}]`, v, nonNegative, '≥ 0'));
  return make('piecewise', { boundaries: [...boundaries], values: [...values] }, (t) => {
    let i = 0;
    while (i < boundaries.length && t > boundaries[i]) i++;
    return values[i];
  });
}

/**
 * base · decayRate^(step / decaySteps), the exponent floored when `staircase` (TensorFlow's
 * ExponentialDecay).
 */
export function exponential(opts: { decayRate: number; decaySteps?: number; staircase?: boolean }): Schedule {
  const decayRate = need('exponential', 'decayRate', opts?.decayRate, (n) => n > 0, '> 0');
  const decaySteps = need('exponential', 'decaySteps', opts.decaySteps ?? 1, positiveInt, 'a positive integer');
  const staircase = opts.staircase ?? false;
  return make('exponential', { decayRate, decaySteps, staircase }, (t, base) => {
    const e = t / decaySteps;
    return base * decayRate ** (staircase ? Math.floor(e) : e);
  });
}

/**
 * base / (1 + decayRate · step / decaySteps), the quotient floored when `staircase` (TensorFlow's
 * InverseTimeDecay): `decayRate: 1, decaySteps: 100` halves the rate at step 100 and thirds it at 200.
 */
export function inverseTime(opts: { decayRate: number; decaySteps?: number; staircase?: boolean }): Schedule {
  const decayRate = need('inverseTime', 'decayRate', opts?.decayRate, nonNegative, '≥ 0');
  const decaySteps = need('inverseTime', 'decaySteps', opts.decaySteps ?? 1, positiveInt, 'a positive integer');
  const staircase = opts.staircase ?? false;
  return make('inverseTime', { decayRate, decaySteps, staircase }, (t, base) => {
    const p = t / decaySteps;
    return base / (1 + decayRate * (staircase ? Math.floor(p) : p));
  });
}

/** From base to `endLr` over `decaySteps` along (1 − t/decaySteps)^power, then `endLr`. */
export function polynomial(opts: { decaySteps: number; endLr?: number; power?: number }): Schedule {
  const decaySteps = need('polynomial', 'decaySteps', opts?.decaySteps, positiveInt, 'a positive integer');
  const endLr = need('polynomial', 'endLr', opts.endLr ?? 0, nonNegative, '≥ 0');
  const power = need('polynomial', 'power', opts.power ?? 1, (n) => n > 0, '> 0');
  return make('polynomial', { decaySteps, endLr, power }, (t, base) => (base - endLr) * (1 - Math.min(t, decaySteps) / decaySteps) ** power + endLr);
}

/**
 * Linear warm-up from base/warmupSteps to base over `warmupSteps`, then half a cosine from base down
 * to `minLr` at `totalSteps` (SGDR without restarts).
 */
export function cosine(opts: { totalSteps: number; warmupSteps?: number; minLr?: number }): Schedule {
  const totalSteps = need('cosine', 'totalSteps', opts?.totalSteps, positiveInt, 'a positive integer');
  const warmupSteps = need('cosine', 'warmupSteps', opts.warmupSteps ?? 0, (n) => Number.isInteger(n) && n >= 0 && n < totalSteps, 'an integer in [0, totalSteps)');
  const minLr = need('cosine', 'minLr', opts.minLr ?? 0, nonNegative, '≥ 0');
  return make('cosine', { totalSteps, warmupSteps, minLr }, (t, base) => {
    if (t < warmupSteps) return (base * (t + 1)) / warmupSteps;
    const progress = Math.min(1, (t - warmupSteps) / (totalSteps - warmupSteps));
    return minLr + 0.5 * (base - minLr) * (1 + Math.cos(Math.PI * progress));
  });
}

/**
 * Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2017; TensorFlow's CosineDecayRestarts):
 * the first period falls along half a cosine from base to alpha·base over `firstDecaySteps` steps,
 * then restarts; each period lasts `tMul` times the one before (default 2) and starts at `mMul` times
 * its height (default 1). `alpha` is the floor as a fraction of base (default 0).
 */
export function cosineRestarts(opts: { firstDecaySteps: number; tMul?: number; mMul?: number; alpha?: number }): Schedule {
  const firstDecaySteps = need('cosineRestarts', 'firstDecaySteps', opts?.firstDecaySteps, positiveInt, 'a positive integer');
  const tMul = need('cosineRestarts', 'tMul', opts.tMul ?? 2, (n) => n >= 1, '≥ 1');
  const mMul = need('cosineRestarts', 'mMul', opts.mMul ?? 1, nonNegative, '≥ 0');
  const alpha = need('cosineRestarts', 'alpha', opts.alpha ?? 0, (n) => n >= 0 && n <= 1, 'in [0, 1]');
  return make('cosineRestarts', { firstDecaySteps, tMul, mMul, alpha }, (t, base) => {
    // Walk the periods (lengths 1, tMul, tMul², … in units of the first one) to the one holding t;
    // TensorFlow finds it with a logarithm, which can land one period short at a restart.
    let done = t / firstDecaySteps;
    let restart = 0;
    let period = 1;
    if (tMul === 1) {
      restart = Math.floor(done);
      done -= restart;
    } else {
      while (done >= period) {
        done -= period;
        period *= tMul;
        restart++;
      }
      done /= period;
    }
    const cosine = 0.5 * mMul ** restart * (1 + Math.cos(Math.PI * done));
    return base * ((1 - alpha) * cosine + alpha);
  });
}

export type CyclicMode = 'triangular' | 'triangular2' | 'expRange';

/**
 * Cyclical learning rate (Smith 2017, PyTorch's CyclicLR): up from `baseLr` (default: the
 * optimizer's) to `maxLr` over `stepSize` steps and back; triangular2 halves the amplitude each
 * cycle, expRange scales it by gamma^step.
 */
export function cyclic(opts: { maxLr: number; stepSize: number; baseLr?: number; mode?: CyclicMode; gamma?: number }): Schedule {
  const maxLr = need('cyclic', 'maxLr', opts?.maxLr, nonNegative, '≥ 0');
  const stepSize = need('cyclic', 'stepSize', opts.stepSize, positiveInt, 'a positive integer');
  const baseLr = opts.baseLr === undefined ? undefined : need('cyclic', 'baseLr', opts.baseLr, nonNegative, '≥ 0');
  const mode = opts.mode ?? 'triangular';
  if (!['triangular', 'triangular2', 'expRange'].includes(mode)) throw new Error(`schedules.cyclic: mode must be triangular, triangular2 or expRange, got ${JSON.stringify(mode)}`);
  const gamma = need('cyclic', 'gamma', opts.gamma ?? 1, (n) => n > 0 && n <= 1, 'in (0, 1]');
  const options: Schedule['options'] = { maxLr, stepSize, mode, gamma, ...(baseLr === undefined ? {} : { baseLr }) };
  return make('cyclic', options, (t, base) => {
    const lo = baseLr ?? base;
    const cycle = Math.floor(1 + t / (2 * stepSize));
    const x = Math.abs(t / stepSize - 2 * cycle + 1);
    const scale = mode === 'triangular' ? 1 : mode === 'triangular2' ? 1 / 2 ** (cycle - 1) : gamma ** t;
    return lo + (maxLr - lo) * Math.max(0, 1 - x) * scale;
  });
}

/** Schedules the training view offers without touching the file, each sized to the run's steps. */
export const SCHEDULE_PRESETS = ['constant', 'step', 'exponential', 'inverseTime', 'polynomial', 'cosine', 'cosineRestarts', 'cyclic'] as const;
export type SchedulePreset = (typeof SCHEDULE_PRESETS)[number];
/** What each preset does, in a few words (the training view's tooltip, the CLI's help). */
export const SCHEDULE_PRESET_NOTES: { readonly [K in SchedulePreset]: string } = {
  constant: 'the optimizer\'s lr throughout',
  step: '×0.1 at each third',
  exponential: 'to 1%',
  inverseTime: 'lr/(1 + 9·t/steps), to 10%',
  polynomial: 'linear to 0',
  cosine: '5% warmup',
  cosineRestarts: 'restarts at 1/7 and 3/7 of the run',
  cyclic: 'lr/10 ↔ lr',
};

/** Rebuilds a schedule from its kind and options (as in `Schedule` and the training JSON). */
export function fromOptions(kind: ScheduleKind, options: Schedule['options']): Schedule {
  const o = options as never;
  switch (kind) {
    case 'constant': return constant();
    case 'step': return step(o);
    case 'piecewise': return piecewise(o);
    case 'exponential': return exponential(o);
    case 'inverseTime': return inverseTime(o);
    case 'polynomial': return polynomial(o);
    case 'cosine': return cosine(o);
    case 'cosineRestarts': return cosineRestarts(o);
    case 'cyclic': return cyclic(o);
    default: {
      const never: never = kind;
      throw new Error(`schedules: unknown schedule kind ${JSON.stringify(never)}`);
    }
  }
}

/**
 * A preset for a run of `steps` steps at base rate `lr`: step ×0.1 at each third; exponential and
 * polynomial decay to 1% and to 0 at the end; inverse time to 10% at the end; cosine with a 5%
 * warmup; cosine with restarts in three periods (1 + 2 + 4 sevenths of the run); cyclic between
 * lr/10 and lr over four cycles.
 */
export function preset(name: SchedulePreset, steps: number, lr: number): Schedule {
  const third = Math.max(1, Math.round(steps / 3));
  switch (name) {
    case 'constant': return constant();
    case 'step': return step({ stepSize: third, gamma: 0.1 });
    case 'exponential': return exponential({ decayRate: 0.01, decaySteps: steps });
    case 'inverseTime': return inverseTime({ decayRate: 9, decaySteps: Math.max(1, steps) });
    case 'polynomial': return polynomial({ decaySteps: steps, endLr: 0, power: 1 });
    case 'cosine': return cosine({ totalSteps: steps, warmupSteps: Math.round(steps * 0.05) });
    case 'cosineRestarts': return cosineRestarts({ firstDecaySteps: Math.max(1, Math.round(steps / 7)), tMul: 2 });
    case 'cyclic': return cyclic({ maxLr: lr, baseLr: lr / 10, stepSize: Math.max(1, Math.round(steps / 8)) });
    default: {
      const never: never = name;
      throw new Error(`schedules.preset: unknown schedule ${JSON.stringify(never)}`);
    }
  }
}
