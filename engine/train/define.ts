/**
 * defineTraining: what a model file exports to be trained. It only checks and freezes the spec;
 * the Trainer (trainer.ts) runs it, in the CLI, in the extension's worker and in tests alike.
 */
import { Tensor } from '../tensor';
import { Module } from '../nn/module';
import { isDataset, type Dataset } from '../data/index';
import { isOptimizerSpec, spec as optimizerSpec, type OptimizerSpec } from '../optim/index';
import type { Schedule } from '../optim/schedules';

/** The loss, by what the spec has: `() => loss` (bare parameters), `(pred, target) => loss` (a model and data), `(x, y) => loss` (data without a model). */
export type LossFn = ((pred: Tensor, target: Tensor) => Tensor) | (() => Tensor);

export interface TrainingOptions {
  /** The parameters to train when there is no model (e.g. `[x]` for minimizing x²). */
  params?: Tensor[];
  /** The model: its parameters are trained and its output goes to `loss(pred, target)`. */
  model?: Module;
  /** A dataset (split by `validation`), or explicit train, validation and test sets (the test set is evaluated once, at the end). */
  data?: Dataset | { train: Dataset; validation?: Dataset; test?: Dataset };
  loss: LossFn;
  /** Default: optim.sgd({ lr: 0.01 }). */
  optimizer?: OptimizerSpec;
  /**
   * Learning-rate schedule; default constant. `optim.schedules.`: `step({ stepSize, gamma })`,
   * `piecewise({ boundaries, values })`, `exponential({ decayRate, decaySteps, staircase })`,
   * `inverseTime({ decayRate, decaySteps, staircase })`, `polynomial({ decaySteps, endLr, power })`,
   * `cosine({ totalSteps, warmupSteps, minLr })`, `cosineRestarts({ firstDecaySteps, tMul, mMul, alpha })`,
   * `cyclic({ maxLr, stepSize, mode })`. Steps count from 0, as TensorFlow's schedules do.
   */
  schedule?: Schedule;
  /** Minibatch size (default 32, or the whole dataset if smaller). */
  batchSize?: number;
  /** Number of optimizer steps (default 100). */
  steps?: number;
  /** Passes over the training set, instead of `steps`: epochs × ⌈training examples / batchSize⌉ steps. */
  epochs?: number;
  /**
   * Stop when the validation loss has not improved by more than `minDelta` (default 0) for
   * `patience` validations in a row (they run at the logged steps); needs a validation set.
   */
  earlyStopping?: { patience: number; minDelta?: number };
  /** Seed for shuffling and the validation split (default 0). */
  seed?: number;
  /** Fraction of `data` held out for validation when `data` is one dataset (default 0: none). */
  validation?: number;
  /** Standardize the inputs with the training set's mean and std. */
  standardize?: boolean;
  /** Record loss, layer summaries and the diagnosis every N steps (default: about 100 records per run). */
  logEvery?: number;
}

export interface TrainingSpec extends Readonly<TrainingOptions> {
  readonly kind: 'training-spec';
  readonly loss: LossFn;
}

export function isTrainingSpec(x: unknown): x is TrainingSpec {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'training-spec';
}

const MAX_STEPS = 10_000_000;

export function checkPositiveInt(where: string, key: string, v: unknown, max = MAX_STEPS): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new Error(`${where}: ${key} must be an integer from 1 to ${max.toLocaleString('en-US')}, got ${String(v)}`);
  return v;
}

/**
 * Describes a training run for Backprop Lens (`export default defineTraining({ … })`): the panel's
 * training view and `backprop-lens train FILE` run it.
 */
export function defineTraining(opts: TrainingOptions): TrainingSpec {
  const where = 'defineTraining';
  if (opts === null || typeof opts !== 'object') throw new Error(`${where}: expected an object such as { model, data, loss, optimizer, steps }`);
  if (typeof opts.loss !== 'function') throw new Error(`${where}: loss must be a function (e.g. losses.mse, or () => x.pow(2))`);
  if (opts.model !== undefined && !(opts.model instanceof Module)) throw new Error(`${where}: model must be an nn module (e.g. nn.sequential(…))`);
  if (opts.params !== undefined) {
    if (!Array.isArray(opts.params) || opts.params.length === 0) throw new Error(`${where}: params must be a non-empty array of parameters`);
    opts.params.forEach((p, i) => {
      if (!(p instanceof Tensor) || !p.requiresGrad) throw new Error(`${where}: params[${i}] is not a parameter (create it with param())`);
    });
  }
  if (opts.model === undefined && opts.params === undefined) throw new Error(`${where}: give a model or params to train`);
  if (opts.data !== undefined) {
    const d = opts.data as { train?: unknown; validation?: unknown };
    const t = (opts.data as { test?: unknown }).test;
    const ok = isDataset(opts.data) || (isDataset(d.train) && (d.validation === undefined || isDataset(d.validation)) && (t === undefined || isDataset(t)));
    if (!ok) throw new Error(`${where}: data must be a dataset (data.moons(…), data.fromArrays(…)) or { train, validation, test }`);
  }
  if (opts.model !== undefined && opts.data === undefined) throw new Error(`${where}: a model needs data to train on (data: data.moons(…))`);
  if (opts.data !== undefined && opts.model === undefined && opts.loss.length < 2) throw new Error(`${where}: with data but no model, loss receives (x, y): write loss: (x, y) => …`);
  if (opts.data === undefined && opts.loss.length > 0) throw new Error(`${where}: without data, loss takes no arguments: write loss: () => …`);
  if (opts.optimizer !== undefined && !isOptimizerSpec(opts.optimizer)) throw new Error(`${where}: optimizer must come from optim (e.g. optim.adam({ lr: 0.01 }))`);
  if (opts.schedule !== undefined && (typeof opts.schedule !== 'object' || typeof opts.schedule.lr !== 'function')) throw new Error(`${where}: schedule must come from optim.schedules (e.g. optim.schedules.cosine({ totalSteps: 500 }))`);
  if (opts.steps !== undefined) checkPositiveInt(where, 'steps', opts.steps);
  if (opts.epochs !== undefined) {
    checkPositiveInt(where, 'epochs', opts.epochs, 100_000);
    if (opts.steps !== undefined) throw new Error(`${where}: give steps or epochs, not both`);
    if (opts.data === undefined) throw new Error(`${where}: epochs count passes over the data: give data, or steps`);
  }
  if (opts.earlyStopping !== undefined) {
    const e = opts.earlyStopping;
    if (e === null || typeof e !== 'object') throw new Error(`${where}: earlyStopping must be { patience, minDelta? }`);
    checkPositiveInt(where, 'earlyStopping.patience', e.patience, 100_000);
    if (e.minDelta !== undefined && !(typeof e.minDelta === 'number' && e.minDelta >= 0 && Number.isFinite(e.minDelta))) throw new Error(`${where}: earlyStopping.minDelta must be a number ≥ 0, got ${String(e.minDelta)}`);
    const hasValidation = (opts.validation ?? 0) > 0 || (opts.data !== undefined && !isDataset(opts.data) && (opts.data as { validation?: unknown }).validation !== undefined);
    if (!hasValidation) throw new Error(`${where}: earlyStopping watches the validation loss: give a validation set (validation: 0.2, or data: { train, validation })`);
  }
  if (opts.batchSize !== undefined) checkPositiveInt(where, 'batchSize', opts.batchSize);
  if (opts.logEvery !== undefined) checkPositiveInt(where, 'logEvery', opts.logEvery);
  if (opts.seed !== undefined && !Number.isFinite(opts.seed)) throw new Error(`${where}: seed must be a number`);
  if (opts.validation !== undefined && !(opts.validation >= 0 && opts.validation < 1)) throw new Error(`${where}: validation must be a fraction in [0, 1), got ${String(opts.validation)}`);
  return Object.freeze({ ...opts, optimizer: opts.optimizer ?? optimizerSpec('sgd', { lr: 0.01 }), kind: 'training-spec' as const });
}
