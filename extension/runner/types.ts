/** What a model run produces, shared by the runner, the CLI and the extension (no vscode, no DOM). */
import type { GraphSnapshot } from '../../engine/trace/snapshot';
import type { Checkpoint, HistoryEntry, LayerHistory, TrainingOverrides, TrainResult } from '../../engine/train/trainer';
import type { GpuPlanOrReason } from '../../engine/train/plan';
import type { Finding } from '../../engine/stats/diagnosis';
import type { AnalysisRequest, AnalysisResult } from '../../engine/check/analysis';

export type RunErrorKind = 'syntax' | 'runtime' | 'shape' | 'timeout' | 'memory' | 'export' | 'too-large' | 'settings' | 'cancelled' | 'internal';

/** A problem with the model, located in the user's files (1-based line and column) when possible. */
export interface RunError {
  kind: RunErrorKind;
  message: string;
  file: string;
  line: number | null;
  column: number | null;
  /** Stack with positions mapped to the user's files (runtime errors). */
  stack?: string;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface RunOptions {
  /** Wall-clock limit for running the model (not for bundling). */
  timeoutMs?: number;
  /** Heap limit of the model's worker. */
  memoryMb?: number;
  maxNodes?: number;
  maxElements?: number;
  /** Unsaved text of the model file to run instead of the file on disk. */
  contents?: string;
  /** Called with each console line of the model as it happens. */
  onLog?: (line: LogLine) => void;
  /** Bundling's own limit (default 60 s, BUNDLE_LIMIT_MS); not part of `timeoutMs`. */
  bundleLimitMs?: number;
  /** Ends the run when aborted (a closed panel): its model process is killed, the outcome is a 'cancelled' error. */
  signal?: AbortSignal;
  /** The Python that runs a `.py` file (default: found on PATH; see python.ts). */
  python?: PythonInfo;
}

/** A Python that can run PyTorch files, and how it was chosen (python.ts finds one). */
export interface PythonInfo {
  executable: string;
  /** Where the choice came from, for the panel and the output channel. */
  source: 'setting' | 'python-extension' | 'environment' | 'path';
  version: string;
  torch: string;
}

export interface RunTimings {
  bundleMs: number;
  runMs: number;
}

export type RunOutcome =
  | { ok: true; file: string; snapshot: GraphSnapshot; logs: LogLine[]; timings: RunTimings; files: string[] }
  | { ok: false; file: string; errors: RunError[]; logs: LogLine[]; timings: RunTimings; files: string[] };

/** What a training run has produced since the previous report. */
export interface TrainProgress {
  /** Steps taken so far, of `total`. */
  step: number;
  total: number;
  /** New history entries and layer summaries since the previous report. */
  history: HistoryEntry[];
  layers: LayerHistory[];
  /** The current findings (all of them). */
  findings: Finding[];
  /** Steps per second over the last report interval. */
  stepsPerSecond: number;
  paused: boolean;
}

/** Messages from the model worker to the runner. */
export type WorkerMessage =
  /** The model's code starts to run now (its timeout counts from here: process start-up and loading the engine do not). */
  | { type: 'started' }
  /** The model's code is done; recording its graph (backward, snapshot, diagnosis) starts, under its own limit. */
  | { type: 'recording' }
  | { type: 'log'; line: LogLine }
  | { type: 'result'; snapshot: GraphSnapshot }
  | { type: 'error'; error: RunError }
  | { type: 'train-progress'; progress: TrainProgress }
  | { type: 'train-result'; result: TrainResult }
  /** The answer to an `inspect` control message. */
  | { type: 'train-inspect'; id: number; outcome: InspectOutcome }
  /** The run as a GPU plan, or why it stays on the CPU (when asked for with `plan`). */
  | { type: 'train-plan'; plan: GpuPlanOrReason };

/** What a paused (or finished) training run can be asked about its current parameters. */
export type InspectRequest = AnalysisRequest | { kind: 'graph' };

export type InspectOutcome =
  | { ok: true; result: AnalysisResult }
  | { ok: true; graph: { step: number; snapshot: GraphSnapshot } }
  | { ok: false; error: RunError };

/** Messages from the runner to a training worker. */
export type TrainControl =
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step'; count: number }
  | { type: 'stop' }
  | { type: 'inspect'; id: number; request: InspectRequest }
  /** Take over the state of the run advanced on the GPU (see `Trainer.adopt`); `log`: record layer summaries now. */
  | { type: 'adopt'; checkpoint: Checkpoint; log: boolean };

export type TrainOutcome =
  | { ok: true; file: string; result: TrainResult; logs: LogLine[]; timings: RunTimings; files: string[] }
  | { ok: false; file: string; errors: RunError[]; logs: LogLine[]; timings: RunTimings; files: string[]; partial: TrainProgress | null };

export interface TrainOptions extends RunOptions {
  overrides?: TrainingOverrides;
  /** Start paused (the panel) instead of running to the end (the CLI). */
  paused?: boolean;
  /** Minimum interval between progress reports (ms, default 100). */
  progressMs?: number;
  onProgress?: (p: TrainProgress) => void;
  /**
   * Keep the worker after the last step (the panel), so the finished run can still be inspected;
   * `cancel()` ends it.
   */
  keepAlive?: boolean;
  /**
   * Also build the run's GPU plan (Graph IR, data, settings) before the first step and hand it to
   * `onPlan`; the worker then waits paused, as the mirror of a run on the GPU (`adopt`).
   */
  plan?: boolean;
  onPlan?: (p: GpuPlanOrReason) => void;
}

/** Data the runner hands the model worker. */
export interface WorkerInput {
  file: string;
  /** Path the bundle pretends to live at (stack frames, relative requires). */
  bundlePath: string;
  code: string;
  map: string;
  maxNodes: number;
  maxElements: number;
  memoryMb: number;
  /** [nodes created, bundle line, bundle column] of the latest located node, training steps taken. */
  progress: SharedArrayBuffer;
  /** 'trace' (default): one traced pass and its snapshot. 'train': run the exported defineTraining spec. */
  mode?: 'trace' | 'train';
  overrides?: TrainingOverrides;
  paused?: boolean;
  progressMs?: number;
  /** Build the GPU plan after loading the file (`TrainOptions.plan`). */
  plan?: boolean;
}

export const DEFAULTS = { timeoutMs: 10_000, memoryMb: 2048, maxNodes: 20_000, maxElements: 4096 } as const;

/**
 * The range of each run limit, the one place for the settings (package.json states the same
 * minimum and maximum; a test holds them together), the CLI's flags and the runner's options. The
 * timeout's maximum keeps every timer far below Node's 2³¹ − 1 ms, past which a timer fires at once.
 */
export const LIMITS = {
  timeoutMs: { min: 100, max: 3_600_000, what: 'milliseconds', setting: 'backpropLens.timeoutMs', flag: '--timeout' },
  memoryMb: { min: 64, max: 65_536, what: 'MB', setting: 'backpropLens.memoryLimitMb', flag: '--memory' },
  maxNodes: { min: 10, max: 100_000, what: 'nodes', setting: 'backpropLens.maxNodes', flag: '--max-nodes' },
  maxElements: { min: 1, max: 2 ** 20, what: 'elements', setting: null, flag: '--max-elements' },
} as const;

export type LimitName = keyof typeof LIMITS;

/** Why `value` is not a valid `name` limit (naming the range and where it was set), or null when it is. */
export function limitProblem(name: LimitName, value: number, where: 'setting' | 'flag'): string | null {
  const l = LIMITS[name];
  if (Number.isFinite(value) && value >= l.min && value <= l.max && (name === 'timeoutMs' || Number.isInteger(value))) return null;
  const label = where === 'flag' ? l.flag : l.setting ?? l.flag;
  return `${label} is ${value}; it must be ${name === 'timeoutMs' ? 'a number' : 'a whole number'} from ${l.min} to ${l.max} (${l.what}).`;
}

/** Accumulates progress reports into one (history and layers appended, the rest the latest). */
export function mergeProgress(acc: TrainProgress | null, p: TrainProgress): TrainProgress {
  return acc ? { ...p, history: [...acc.history, ...p.history], layers: [...acc.layers, ...p.layers] } : { ...p, history: [...p.history], layers: [...p.layers] };
}
