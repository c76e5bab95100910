/**
 * Runs a TrainingSpec step by step: minibatch → forward → loss → backward → clip → optimizer step,
 * with the schedule's learning rate. Every `logEvery` steps (and at the first and last) it records
 * the loss, the validation loss, per-layer summaries and the diagnosis. Overrides (from the CLI or
 * the panel) replace the spec's optimizer, learning rate, schedule, steps, batch size or seed
 * without touching the file. `reset()` restores the initial parameters exactly.
 */
import { Tensor } from '../tensor';
import { noGrad } from '../ops/context';
import { saveModuleState } from '../nn/module';
import { saveGlobalRng } from '../random';
import { DataLoader, inputScale, split, standardize, subset, type Batch, type Dataset } from '../data/index';
import { spec as optimizerSpec, type Optimizer, type OptimizerName, type OptimizerSpec } from '../optim/index';
import * as schedules from '../optim/schedules';
import type { Schedule, SchedulePreset } from '../optim/schedules';
import { LayerRecorder, updateRatio, type LayerStats } from '../stats/layers';
import { diagnose, isTransient, type Finding } from '../stats/diagnosis';
import { checkPositiveInt, type TrainingSpec } from './define';
import { ShapeError } from '../errors';
import { formatNumber } from '../format';
import { accuracy } from './metrics';
import * as losses from '../losses';

export interface TrainingOverrides {
  optimizer?: OptimizerName;
  lr?: number;
  /** A schedule, or the name of a preset sized to the run (`schedules.preset`). */
  schedule?: Schedule | SchedulePreset;
  steps?: number;
  batchSize?: number;
  seed?: number;
  logEvery?: number;
}

export interface HistoryEntry {
  /** Steps taken so far (1 after the first update). */
  step: number;
  /** Training loss of the minibatch this step used (before its update). */
  loss: number;
  /** Loss on the validation set after this step, when there is one. */
  valLoss?: number;
  /** Classification: the fraction of this step's minibatch classified right (before its update), at logged steps. */
  accuracy?: number;
  /** Classification: the fraction of the validation set classified right after this step, at logged steps. */
  valAccuracy?: number;
  /** Learning rate used by this step. */
  lr: number;
  /** Global L2 norm of the gradient (before clipping). */
  gradNorm: number;
}

/** A run's state after `step` steps taken elsewhere (see `Trainer.adopt`). */
export interface Checkpoint {
  step: number;
  /** Each parameter's values, in the trainer's order. */
  params: readonly ArrayLike<number>[];
  /** Each parameter's optimizer state by slot name (null: not updated yet). */
  slots: readonly (Readonly<Record<string, ArrayLike<number>>> | null)[];
  /** History entries of the steps since the previous checkpoint (every step; the trainer thins them). */
  history: readonly HistoryEntry[];
}

export interface LayerHistory {
  step: number;
  layers: LayerStats[];
}

export interface ParamValue {
  name: string;
  shape: number[];
  value: number[];
}

export interface TrainResult {
  optimizer: Record<string, number | boolean | string>;
  schedule: { kind: string; options: Schedule['options'] };
  steps: number;
  /** Set when training stopped early (a NaN or infinite loss, early stopping). */
  stoppedEarly: string | null;
  batchSize: number | null;
  seed: number;
  history: HistoryEntry[];
  params: ParamValue[];
  /** Per-layer summaries at each logged step. */
  layers: LayerHistory[];
  /** Findings at the latest logged step, and every earlier one that is not repeated there. */
  diagnosis: Finding[];
  /** The test set's loss and (classification) accuracy at the end, when the file gave one. */
  test?: { loss: number; accuracy: number | null };
  /** The parameters' values along the run, for models of up to TRAJECTORY_MAX_VALUES values. */
  trajectory?: Trajectory;
}

/** Models with up to this many parameter values record their trajectory (the iterates a lecture draws). */
export const TRAJECTORY_MAX_VALUES = 16;

/** The parameters' values (flattened in `params` order) at step 0 and after each step the history keeps. */
export interface Trajectory {
  /** One per value: the parameter's name, or `name[i]` for an element of a tensor with several. */
  names: string[];
  points: { step: number; values: number[] }[];
}

/** Default interval of layer summaries and diagnosis: about 100 records for the run. */
function defaultLogEvery(steps: number): number {
  return Math.max(1, Math.round(steps / 100));
}

export class Trainer {
  readonly totalSteps: number;
  readonly batchSize: number | null;
  readonly seed: number;
  readonly logEvery: number;
  /** History (loss curve) interval: every step for runs up to 1,000 steps. */
  readonly historyEvery: number;
  readonly optimizer: Optimizer;
  readonly schedule: Schedule;
  readonly params: Tensor[];
  readonly train: Dataset | null;
  /** The test set the file gave (`data: { train, validation, test }`): evaluated once, in `result()`. */
  readonly test: Dataset | null;
  /** Early stopping: the best validation loss so far, its step, and validations since it improved. */
  private best: { loss: number; step: number; since: number } | null = null;
  readonly validation: Dataset | null;
  readonly history: HistoryEntry[] = [];
  readonly layerHistory: LayerHistory[] = [];
  /** Null when the model has more than TRAJECTORY_MAX_VALUES parameter values. */
  readonly trajectory: Trajectory | null;
  findings: Finding[] = [];
  private loader: DataLoader | null;
  private readonly initial: Float64Array[];
  /** Puts the modules' buffers, modes and generators and the global generator back as they were at the start. */
  private readonly restoreInitialState: () => void;
  private readonly names: string[];
  private readonly recorder = new LayerRecorder();
  private loggedLosses: number[] = [];
  /** The step of each of `loggedLosses`. */
  private loggedSteps: number[] = [];
  /** What predicting the label frequencies scores under this cross-entropy loss (null: another loss, or regression). */
  private readonly chanceLoss: number | null;
  /** The model's output in the last loss computed (for accuracy). */
  private lastPrediction: Tensor | null = null;

  constructor(readonly spec: TrainingSpec, overrides: TrainingOverrides = {}) {
    this.seed = overrides.seed ?? spec.seed ?? 0;
    if (!Number.isFinite(this.seed)) throw new Error(`train: seed must be a number, got ${this.seed}`);

    let train: Dataset | null = null, validation: Dataset | null = null;
    if (spec.data) {
      if ('task' in spec.data) {
        if (spec.validation) ({ train, validation } = split(spec.data, { validation: spec.validation, seed: this.seed }));
        else train = spec.data;
      } else {
        train = spec.data.train;
        validation = spec.data.validation ?? null;
      }
      if (spec.standardize) {
        train = standardize(train);
        if (validation) validation = standardize(validation, train.standardization);
      }
    }
    this.train = train;
    this.validation = validation;
    const batch = overrides.batchSize ?? spec.batchSize;
    if (batch !== undefined) checkPositiveInt('train', 'batchSize', batch);
    this.batchSize = train ? Math.min(batch ?? 32, train.size) : null;
    this.loader = train ? new DataLoader(train, this.batchSize!, { seed: this.seed }) : null;
    this.test = spec.data && !('task' in spec.data) && spec.data.test ? (spec.standardize && train ? standardize(spec.data.test, train.standardization) : spec.data.test) : null;
    // epochs: passes over the training set (the panel's and CLI's steps override them)
    const perEpoch = train && this.batchSize ? Math.ceil(train.size / this.batchSize) : 1;
    this.totalSteps = checkPositiveInt('train', 'steps', overrides.steps ?? spec.steps ?? (spec.epochs !== undefined ? spec.epochs * perEpoch : 100));
    this.logEvery = checkPositiveInt('train', 'logEvery', overrides.logEvery ?? spec.logEvery ?? defaultLogEvery(this.totalSteps));
    this.historyEvery = Math.max(1, Math.ceil(this.totalSteps / 1000));
    const named = spec.model ? spec.model.namedParameters(spec.model.name ?? '') : [];
    this.params = spec.model ? named.map(([, p]) => p) : [...(spec.params ?? [])];
    this.names = spec.model ? named.map(([n]) => n) : this.params.map((p, i) => p.name ?? `param ${i}`);
    this.initial = this.params.map((p) => Float64Array.from(p.data as ArrayLike<number>));
    const values = this.params.reduce((n, p) => n + p.size, 0);
    this.trajectory = values > 0 && values <= TRAJECTORY_MAX_VALUES ? {
      names: this.params.flatMap((p, i) => (p.size === 1 ? [this.names[i]] : Array.from({ length: p.size }, (_, k) => `${this.names[i]}[${k}]`))),
      points: [{ step: 0, values: this.initial.flatMap((d) => Array.from(d)) }],
    } : null;
    this.restoreInitialState = this.saveState();
    this.optimizer = resolveOptimizer(spec.optimizer!, overrides).create(this.params);
    const schedule = overrides.schedule;
    if (typeof schedule === 'string' && !(schedules.SCHEDULE_PRESETS as readonly string[]).includes(schedule)) {
      throw new Error(`train: schedule must be one of ${schedules.SCHEDULE_PRESETS.join(', ')}, got ${JSON.stringify(schedule)}`);
    }
    this.schedule = typeof schedule === 'string' ? schedules.preset(schedule, this.totalSteps, this.optimizer.baseLr) : schedule ?? spec.schedule ?? schedules.constant();
    this.chanceLoss = train ? chanceLossOf(train, spec.loss) : null;
  }

  get stepsTaken(): number {
    return this.optimizer.stepCount;
  }

  /** Why training stopped before `totalSteps` (a non-finite loss), or null. */
  stopReason: string | null = null;

  get done(): boolean {
    return this.stepsTaken >= this.totalSteps || this.stopReason !== null;
  }

  /**
   * The loss the next step will compute (its minibatch, at the current parameters), without
   * stepping: the graph view traces this to show one training step's graph. Run it inside `probe`.
   */
  peekLoss(): Tensor {
    const batch = this.loader?.peek() ?? null;
    this.peeked = batch;
    if (batch) {
      // the graph names the minibatch as the loss sees it, unless the file named its tensors
      batch.x.name ??= 'x';
      batch.y.name ??= 'y';
    }
    return this.lossOf(batch?.x ?? null, batch?.y ?? null);
  }

  /** The minibatch the last `peekLoss` used (the traced step's inputs). */
  peeked: Batch | null = null;

  /**
   * Runs `fn` (a traced step, an analysis, validation) as if it had not happened: the parameters'
   * gradients are cleared for it and put back after, and so are whatever a forward pass changes
   * besides the parameters: batch norm's running statistics, dropout's generators, the global
   * generator. `training` sets the modules' mode for `fn` (default: as they are); the mode is
   * restored too. The parameters' values are `fn`'s to restore if it moves them.
   */
  probe<T>(fn: () => T, opts: { training?: boolean } = {}): T {
    const grads = this.params.map((p) => p.grad);
    const restore = this.saveState();
    for (const p of this.params) p.grad = null;
    if (opts.training !== undefined) this.spec.model?.train(opts.training);
    try {
      return fn();
    } finally {
      restore();
      this.params.forEach((p, i) => (p.grad = grads[i]));
    }
  }

  /**
   * Runs an analysis of the current parameters: in eval mode (dropout off, batch norm on its running
   * statistics, so the loss is a deterministic function of the parameters), leaving no trace.
   */
  analyze<T>(fn: () => T): T {
    return this.probe(fn, { training: false });
  }

  /** Whether the model has modules that behave differently in training and eval mode. */
  get hasModeDependentModules(): boolean {
    const m = this.spec.model;
    return !!m && (m.namedBuffers().length > 0 || m.namedModules().some(([, x]) => x.generators().length > 0));
  }

  private saveState(): () => void {
    const modules = this.spec.model ? saveModuleState(this.spec.model) : null;
    const rng = saveGlobalRng();
    return () => {
      modules?.();
      rng();
    };
  }

  /**
   * A deterministic loss at the current parameters for the analysis tools, and what it is computed
   * on: the first minibatch, or up to `limit` training examples. The tools evaluate it in eval mode
   * through `analyze`.
   */
  objective(on: 'batch' | 'data', limit = 2048): { loss: () => Tensor; on: string } {
    const train = this.train;
    const mode = this.hasModeDependentModules ? ', in eval mode' : '';
    if (!train) return { loss: () => this.lossOf(null, null), on: `the loss function${mode}` };
    if (on === 'batch') {
      const batch = new DataLoader(train, this.batchSize!, { seed: this.seed }).next();
      return { loss: () => this.lossOf(batch.x, batch.y), on: `the first batch of ${batch.x.shape[0]}${mode}` };
    }
    const data = train.size > limit ? subset(train, Array.from({ length: limit }, (_, i) => i)) : train;
    const what = data === train ? `all ${train.size} training examples` : `the first ${limit} of ${train.size} training examples`;
    return { loss: () => this.lossOf(data.x, data.y), on: what + mode };
  }

  /** Names of the parameters, as in `paramValues()`. */
  get paramNames(): readonly string[] {
    return this.names;
  }

  /** The loss of one batch (or of the bare-parameter objective), checked to be one number. */
  lossOf(x: Tensor | null, y: Tensor | null): Tensor {
    const spec = this.spec;
    let loss: unknown;
    if (spec.model) {
      const pred = spec.model.forward(x!);
      this.lastPrediction = pred;
      loss = (spec.loss as (p: Tensor, t: Tensor) => Tensor)(pred, y!);
    }
    else if (x) loss = (spec.loss as (a: Tensor, b: Tensor) => Tensor)(x, y!);
    else loss = (spec.loss as () => Tensor)();
    if (!(loss instanceof Tensor)) throw new Error(`train: loss returned ${loss === null ? 'null' : typeof loss}, not a tensor`);
    if (loss.size !== 1) throw new ShapeError(`train: the loss has shape [${loss.shape.join(', ')}]; it must be one number (reduce it with .mean() or .sum())`);
    return loss;
  }

  /** Takes one optimization step; returns its history entry. */
  step(): HistoryEntry {
    if (this.done) throw new Error(`train: all ${this.totalSteps} steps are done; reset() to train again`);
    const t = this.stepsTaken;
    const edge = t === 0 || t + 1 === this.totalSteps;
    const log = (t + 1) % this.logEvery === 0 || edge;
    const batch = this.loader?.next() ?? null;
    this.optimizer.zeroGrad();
    const run = () => this.lossOf(batch?.x ?? null, batch?.y ?? null);
    // cheap: one push per layer call; ops are watched (raw-tensor layers) and summarized only when logged
    const loss = this.recorder.record(run, { ops: log });
    const lossValue = loss.item();
    if (loss.requiresGrad) loss.backward();
    const lr = this.schedule.lr(t, this.optimizer.baseLr);
    this.optimizer.lr = lr;
    let layers: LayerStats[] | null = null;
    let before: (Float64Array | null)[] = [];
    if (log) {
      layers = this.layerSummaries();
      // the update/weight ratio: each layer's weight before and after this step (logged steps only)
      before = this.recorder.weights.map((w) => (w ? Float64Array.from(w.data as ArrayLike<number>) : null));
    }
    this.optimizer.step();
    if (layers) {
      const weights = this.recorder.weights;
      layers.forEach((l, i) => (l.updateRatio = before[i] && weights[i] ? updateRatio(before[i]!, weights[i]!.data) : null));
    }
    const entry: HistoryEntry = { step: t + 1, loss: lossValue, lr, gradNorm: this.optimizer.lastGradNorm };
    if (log) {
      const acc = batch ? this.accuracyOf(this.lastPrediction, batch.y) : null;
      if (acc !== null) entry.accuracy = acc;
      if (this.validation) {
        this.validate(entry);
        this.watchValidation(entry);
      }
      this.layerHistory.push({ step: t + 1, layers: layers! });
      this.loggedLosses.push(lossValue);
      this.loggedSteps.push(t + 1);
      this.updateFindings(t + 1, layers!);
    }
    if (!Number.isFinite(lossValue)) {
      this.stopReason = `the loss became ${lossValue} at step ${t + 1}`;
      if (!log) {
        this.layerHistory.push({ step: t + 1, layers: this.layerSummaries() });
        this.loggedLosses.push(lossValue);
        this.loggedSteps.push(t + 1);
        this.updateFindings(t + 1, this.layerHistory[this.layerHistory.length - 1].layers);
      }
    }
    if (this.keepsHistory(entry)) {
      this.history.push(entry);
      this.recordPoint(entry.step);
    }
    return entry;
  }

  /**
   * Whether the history keeps a step's entry: the first and last steps, every logged step, every
   * `historyEvery`-th, and a loss that is not finite. One rule for steps taken here and steps
   * adopted from elsewhere, so a run keeps the same entries wherever it ran.
   */
  /** The parameters' values now, as the trajectory's point at `step`. */
  private recordPoint(step: number): void {
    this.trajectory?.points.push({ step, values: this.params.flatMap((p) => Array.from(p.data as ArrayLike<number>)) });
  }

  keepsHistory(e: HistoryEntry): boolean {
    const s = e.step;
    return s === 1 || s === this.totalSteps || s % this.logEvery === 0 || s % this.historyEvery === 0 || !Number.isFinite(e.loss);
  }

  /** Runs the remaining steps (or `n` of them); `onStep` may return false to stop early. */
  run(n = this.totalSteps - this.stepsTaken, onStep?: (e: HistoryEntry) => boolean | void): void {
    for (let i = 0; i < n && !this.done; i++) {
      const e = this.step();
      if (onStep?.(e) === false) break;
    }
  }

  /** Mean loss over the validation set, in eval mode (dropout off, batch norm's running statistics), without recording a graph. */
  validationLoss(): number {
    return this.evaluate(this.validation).loss;
  }

  /** The loss (and, for classification, the accuracy) of the model on a dataset, in eval mode, without recording a graph. */
  evaluate(ds: Dataset | null): { loss: number; accuracy: number | null } {
    if (!ds) return { loss: NaN, accuracy: null };
    return this.analyze(() => noGrad(() => {
      this.lastPrediction = null;
      const loss = this.lossOf(ds.x, ds.y).item();
      return { loss, accuracy: this.accuracyOf(this.lastPrediction, ds.y) };
    }));
  }

  /** Early stopping on the validation loss (defineTraining's earlyStopping). */
  private watchValidation(entry: HistoryEntry): void {
    const es = this.spec.earlyStopping;
    if (!es || entry.valLoss === undefined || this.stopReason !== null) return;
    const v = entry.valLoss;
    if (this.best === null || v < this.best.loss - (es.minDelta ?? 0)) this.best = { loss: v, step: entry.step, since: 0 };
    else if (++this.best.since >= es.patience) {
      this.stopReason = `early stopping: the validation loss has not improved for ${es.patience} validation${es.patience > 1 ? 's' : ''} (best ${formatNumber(this.best.loss)} at step ${this.best.step})`;
    }
  }

  private validate(entry: HistoryEntry): void {
    const v = this.evaluate(this.validation);
    entry.valLoss = v.loss;
    if (v.accuracy !== null) entry.valAccuracy = v.accuracy;
  }

  /** Accuracy of a prediction for a classification dataset (null for regression or without a model). */
  private accuracyOf(pred: Tensor | null, y: Tensor): number | null {
    const task = this.train?.task;
    if (!pred || !this.spec.model || (task !== 'binary' && task !== 'multiclass')) return null;
    return accuracy(pred, y, { binary: task === 'binary', probabilities: this.spec.loss === losses.bce });
  }

  /**
   * Takes over the state of the same run advanced elsewhere (the GPU replaying this run's Graph IR):
   * the parameters and optimizer state after `checkpoint.step` steps, and the history entries of
   * the steps since the last checkpoint. The batch order moves on to that step, so `step()` can go
   * on from there. With `log` (or when a `logEvery` boundary was passed since the last log) it also
   * records the layer summaries, validation loss and findings at these parameters, on the batch the
   * next step will use.
   */
  adopt(checkpoint: Checkpoint, opts: { log?: boolean } = {}): void {
    const { step, params, slots, history } = checkpoint;
    if (!Number.isInteger(step) || step < this.stepsTaken || step > this.totalSteps) throw new Error(`train: cannot adopt step ${step} (at ${this.stepsTaken} of ${this.totalSteps})`);
    if (params.length !== this.params.length) throw new Error(`train: adopt got ${params.length} parameters, the run has ${this.params.length}`);
    params.forEach((v, i) => {
      if (v.length !== this.params[i].size) throw new Error(`train: adopt got ${v.length} values for ${this.names[i]}, which has ${this.params[i].size}`);
    });
    params.forEach((v, i) => this.params[i].data.set(v));
    for (const p of this.params) p.grad = null;
    // the steps taken elsewhere leave no values in between: the trajectory gets the adopted point
    if (step > this.stepsTaken) this.recordPoint(step);
    const loggedAt = this.layerHistory.length ? this.layerHistory[this.layerHistory.length - 1].step : 0;
    // the loader has served one batch per step taken here: move it on to the adopted step
    this.loader?.skip(step - this.stepsTaken);
    this.optimizer.restore(step, slots);
    if (step > 0) this.optimizer.lr = this.schedule.lr(step - 1, this.optimizer.baseLr);
    let atStep: HistoryEntry | undefined;
    for (const e of history) {
      if (e.step > step) break;
      if (e.step === step) atStep = e;
      if (this.keepsHistory(e)) this.history.push({ ...e });
      if (!Number.isFinite(e.loss) && this.stopReason === null) this.stopReason = `the loss became ${e.loss} at step ${e.step}`;
    }
    const crossed = Math.floor(step / this.logEvery) > Math.floor(loggedAt / this.logEvery);
    if (step === 0 || !(opts.log || crossed || this.stopReason !== null)) return;
    // the layer summaries a step at these parameters would record, leaving nothing behind
    const { loss, layers } = this.probe(() => {
      const l = this.recorder.record(() => this.peekLoss());
      if (l.requiresGrad) l.backward();
      return { loss: l, layers: this.layerSummaries() };
    });
    for (const p of this.params) p.grad = null;
    const last = this.history[this.history.length - 1];
    if (last && last.step === step && this.validation) this.validate(last);
    this.layerHistory.push({ step, layers });
    this.loggedLosses.push(atStep ? atStep.loss : loss.item());
    this.loggedSteps.push(step);
    this.updateFindings(step, layers);
  }

  /** Back to the initial parameters, buffers and generators, fresh optimizer state and the same batch order. */
  reset(): void {
    this.params.forEach((p, i) => {
      const d = p.data;
      d.set(this.initial[i]);
      p.grad = null;
    });
    this.restoreInitialState();
    this.optimizer.reset();
    this.history.length = 0;
    this.layerHistory.length = 0;
    this.trajectory?.points.splice(1);
    this.loggedLosses = [];
    this.loggedSteps = [];
    this.findings = [];
    this.stopReason = null;
    this.best = null;
    this.loader = this.train ? new DataLoader(this.train, this.batchSize!, { seed: this.seed }) : null;
  }

  /** The scale of the file's inputs (its dataset does not change: computed once, at the first logged step). */
  private rawScale: ReturnType<typeof inputScale> | null | undefined;

  private updateFindings(step: number, layers: LayerStats[]): void {
    if (this.rawScale === undefined) {
      const raw = this.spec.data && 'task' in this.spec.data ? this.spec.data : this.train;
      this.rawScale = raw ? inputScale(raw) : null;
    }
    const now = diagnose({
      layers, step, losses: this.loggedLosses, lossSteps: this.loggedSteps, chanceLoss: this.chanceLoss,
      inputs: this.rawScale ? { ...this.rawScale, standardized: !!this.spec.standardize } : undefined,
      settings: this.settings,
    });
    // keep the first occurrence of a problem that has gone away (e.g. a loss spike), replace the
    // rest; a plateau the loss has left was a slow start, not a problem
    const key = (f: Finding) => `${f.code}|${f.layer ?? ''}`;
    const current = new Set(now.map(key));
    this.findings = [...now, ...this.findings.filter((f) => !current.has(key(f)) && !isTransient(f))];
  }

  /** The layers of the pass just recorded: a model's modules, or the layers written with the file's parameters (and the parameters no layer uses). */
  private layerSummaries(): LayerStats[] {
    return this.recorder.summarize(this.spec.model ? [] : this.params, (t) => {
      const i = this.params.indexOf(t);
      return i >= 0 ? this.names[i] : null;
    });
  }

  /** What the run already does that a fix could suggest (the diagnosis leaves those out). */
  get settings(): { standardized: boolean; clipping: boolean } {
    return { standardized: !!this.spec.standardize, clipping: this.optimizer.clipNorm !== undefined || this.optimizer.clipValue !== undefined };
  }

  /** Final parameter values (JSON-friendly). */
  paramValues(): ParamValue[] {
    return this.params.map((p, i) => ({ name: this.names[i], shape: p.shape.slice(), value: Array.from(p.data as ArrayLike<number>) }));
  }

  result(): TrainResult {
    return {
      optimizer: this.optimizer.settings(),
      schedule: { kind: this.schedule.kind, options: this.schedule.options },
      steps: this.stepsTaken, stoppedEarly: this.stopReason, batchSize: this.batchSize, seed: this.seed,
      history: this.history, params: this.paramValues(), layers: this.layerHistory, diagnosis: this.findings,
      ...(this.test ? { test: this.evaluate(this.test) } : {}),
      ...(this.trajectory ? { trajectory: { names: this.trajectory.names, points: this.trajectory.points.slice() } } : {}),
    };
  }
}

/**
 * The chance level of a loss on a dataset: what a model that ignores its inputs scores at best.
 * Cross-entropy: the entropy of the label frequencies; mse: the variance of the targets.
 */
export function chanceLossOf(ds: Dataset, loss: unknown): number | null {
  const y = ds.y.data;
  if (!y.length) return null;
  if (ds.task === 'binary' && (loss === losses.bce || loss === losses.bceWithLogits)) {
    let p = 0;
    for (let i = 0; i < y.length; i++) p += y[i];
    p /= y.length;
    return p <= 0 || p >= 1 ? 0 : -(p * Math.log(p) + (1 - p) * Math.log(1 - p));
  }
  if (ds.task === 'multiclass' && loss === losses.softmaxCrossEntropy && ds.y.rank === 1) {
    const counts = new Map<number, number>();
    for (let i = 0; i < y.length; i++) counts.set(y[i], (counts.get(y[i]) ?? 0) + 1);
    let h = 0;
    for (const c of counts.values()) h -= (c / y.length) * Math.log(c / y.length);
    return h;
  }
  if (loss === losses.mse && ds.y.rank === 2) {
    // predicting each target's mean scores its variance; mse averages over the outputs
    const [n, k] = ds.y.shape;
    let total = 0;
    for (let j = 0; j < k; j++) {
      let m = 0, v = 0;
      for (let i = 0; i < n; i++) m += y[i * k + j];
      m /= n;
      for (let i = 0; i < n; i++) v += (y[i * k + j] - m) ** 2;
      total += v / n;
    }
    return total / k;
  }
  return null;
}

function resolveOptimizer(given: OptimizerSpec, o: TrainingOverrides): OptimizerSpec {
  if (o.optimizer === undefined && o.lr === undefined) return given;
  const name = o.optimizer ?? given.name;
  // another optimizer starts from its own defaults; the same one keeps the file's options
  const base = name === given.name ? { ...given.options } : {};
  return optimizerSpec(name, o.lr === undefined ? base : { ...base, lr: o.lr });
}
