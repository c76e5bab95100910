/**
 * The only contract between the extension host and the webview. Each message is declared once, as
 * a schema value (WEBVIEW_MESSAGES, HOST_MESSAGES; combinators in contract.ts); the TypeScript
 * unions (WebviewMessage, HostMessage), the validators (parseWebviewMessage, parseHostMessage) and
 * the lists of types come from those declarations. Both sides switch on `type` and end with an
 * exhaustiveness check, and both validate what they receive: the host because a webview is as
 * untrusted as any other input, the webview so that a malformed message is dropped, not half-drawn.
 * Large payloads (snapshots, plans, progress, reports) are checked by their envelope and sizes only.
 *
 * The webview imports types from here (and a few constants, `packTypedArrays` and
 * `parseHostMessage`) and nothing else from `extension/`.
 */
import type { GraphSnapshot } from '../engine/trace/snapshot';
import type { RunError, RunErrorKind, TrainProgress } from './runner/types';
import { OPTIMIZER_NAMES, type OptimizerName } from '../engine/optim/names';
import { SCHEDULE_PRESETS, SCHEDULE_PRESET_NOTES, type SchedulePreset } from '../engine/optim/schedules';
import { ANALYSIS_KINDS, type AnalysisRequest, type AnalysisResult, type SurfaceName } from '../engine/check/analysis';
import { array, boolean, budget, int, nullable, number, object, oneOf, opaque, optional, parse, record, refine, string, tagged, tuple, typedArray, unknown, type Infer } from './contract';
import type { GpuPlan } from '../engine/train/plan';

export type { GraphSnapshot, SnapshotNode, SnapshotStep, SnapshotInputStep, SnapshotGroup, TensorPayload } from '../engine/trace/snapshot';
export type { RunError } from './runner/types';
export type { TensorStats, Histogram } from '../engine/stats/summary';
export type { TrainProgress } from './runner/types';
export type { HistoryEntry, LayerHistory } from '../engine/train/trainer';
export type { LayerStats } from '../engine/stats/layers';
export type { Finding, FindingCode } from '../engine/stats/diagnosis';
export type { TrainingInfo } from '../engine/trace/snapshot';
export type { OptimizerName, SchedulePreset, GpuPlan };
export { OPTIMIZER_NAMES, SCHEDULE_PRESETS, SCHEDULE_PRESET_NOTES };
export type { AnalysisRequest, AnalysisResult, AnalysisKind, GradcheckReport, GradcheckParam, HessianReport, LandscapeReport, PlaygroundReport, BoundaryReport, TraceReport, PlaygroundRun, PlaygroundTrajectory, SurfaceName, CriticalKind } from '../engine/check/analysis';

// ---------------------------------------------------------------------------------------------
// the parts of messages

/** Where a training run in the panel stands. */
export const TRAIN_STATUSES = ['idle', 'running', 'paused', 'done', 'stopped', 'error'] as const;
export type TrainStatus = (typeof TRAIN_STATUSES)[number];

export const TRAIN_ACTIONS = ['run', 'pause', 'step', 'reset'] as const;
export type TrainAction = (typeof TRAIN_ACTIONS)[number];

/** The `backpropLens.backend` setting: where training runs. */
export type BackendSetting = 'auto' | 'webgpu' | 'cpu';
export const BACKEND_SETTINGS: readonly BackendSetting[] = ['auto', 'webgpu', 'cpu'];

/** What the host asks of the panel's GPU run. */
export const GPU_ACTIONS = ['pause', 'resume', 'step', 'cancel'] as const;
export type GpuAction = (typeof GPU_ACTIONS)[number];

export const TENSOR_WHICH = ['value', 'grad'] as const;
export type TensorWhich = (typeof TENSOR_WHICH)[number];

/** Actions the host asks the webview to perform (commands and keybindings). */
export const PANEL_COMMANDS = ['stepForward', 'stepBackward', 'reset', 'first', 'last', 'fit'] as const;
export type PanelCommand = (typeof PANEL_COMMANDS)[number];

export const EXPORT_FORMATS = ['svg', 'png'] as const;

export type ViewMode = 'forward' | 'backward';

/** What the panel restores after a reload: kept by the webview through `setState`, handed to the panel serializer. */
export interface UiState {
  file: string | null;
  mode: ViewMode;
  /** Steps taken in the current mode (0 = nothing revealed yet). */
  step: number;
  selected: number | null;
  direction: 'TB' | 'LR';
  /** Zoom transform of the graph. */
  transform: { x: number; y: number; k: number } | null;
  /** Collapsed groups (cluster keys such as `scope:mlp.layers.0` or `group:3`); null = the default for the graph's size. */
  collapsed?: string[] | null;
  /** Play speed, a multiple of the base rate (one step per 700 ms); one of PLAY_SPEEDS. */
  speed?: number;
}

/** The play speeds the toolbar cycles through. */
export const PLAY_SPEEDS = [0.5, 1, 2, 4, 8] as const;

const id = int(0);
/** Host text: file names, messages, stacks (generous: the host is the trusted side; the limit only bounds the work). */
const hostText = string(1 << 20);

/** Settings the training view changes without touching the file (all optional). */
const TRAIN_OVERRIDES = object({
  optimizer: optional(oneOf(OPTIMIZER_NAMES)),
  lr: optional(number({ min: 0, max: 1e6 })),
  /** A schedule sized to the run (see `preset` in engine/optim/schedules.ts); absent: the file's. */
  schedule: optional(oneOf(SCHEDULE_PRESETS)),
  steps: optional(int(1, 10_000_000)),
  batchSize: optional(int(1, 10_000_000)),
  seed: optional(int(0, 2 ** 31)),
});
export type TrainOverrides = Infer<typeof TRAIN_OVERRIDES>;

/** Where a training run runs: WebGPU in the panel (with the adapter's name) or the CPU (with why, if a GPU was wanted). */
const TRAIN_BACKEND = object({
  kind: oneOf(['webgpu', 'cpu', 'pytorch']),
  adapter: optional(string(10_000)),
  note: optional(hostText),
});
export type TrainBackend = Infer<typeof TRAIN_BACKEND>;

const SURFACES = ['saddle', 'bowl', 'rosenbrock', 'file'] as const satisfies readonly SurfaceName[];

/** Gradient check, loss landscape (at the current training step) or an optimizer playground run. */
const ANALYSIS_REQUEST = tagged('kind', {
  gradcheck: {},
  hessian: {},
  landscape: { twoD: boolean, range: number({ min: 1e-6, max: 100 }), seed: int(0, 2 ** 31) },
  playground: {
    surface: oneOf(SURFACES),
    runs: array(object({ optimizer: oneOf(OPTIMIZER_NAMES), lr: number({ min: 0, max: 1e6 }), momentum: optional(number({ min: 0, max: 0.9999 })), nesterov: optional(boolean) }), { min: 1, max: OPTIMIZER_NAMES.length * 4 }),
    steps: int(1, 100_000),
    start: optional(tuple(number({ min: -1e6, max: 1e6 }), number({ min: -1e6, max: 1e6 }))),
  },
  boundary: {},
  trace: {},
});

const RUN_ERROR_KINDS = ['syntax', 'runtime', 'shape', 'timeout', 'memory', 'export', 'too-large', 'settings', 'cancelled', 'internal'] as const satisfies readonly RunErrorKind[];

const RUN_ERROR = object({
  kind: oneOf(RUN_ERROR_KINDS),
  message: hostText,
  file: hostText,
  line: nullable(int(0)),
  column: nullable(int(0)),
  /** Stack with positions mapped to the user's files (runtime errors). */
  stack: optional(hostText),
});

/** Limits on what a GPU checkpoint may carry (a misbehaving webview cannot make the host allocate without bound). */
const GPU_LIMITS = { params: 10_000, slots: 4, elements: 64 * 2 ** 20, history: 10_000_000 } as const;

/** A parameter or an optimizer slot: counted against the checkpoint's element budget. */
const GPU_VALUES = typedArray('Float32Array', { fromNumbers: true, counted: true });
const HISTORY_COLUMN = typedArray('Float64Array', { max: GPU_LIMITS.history, fromNumbers: true });

/** A GPU run's history since its previous checkpoint, by column (typed arrays keep NaN and ±∞ through postMessage). */
const GPU_HISTORY = refine(
  object({ step: HISTORY_COLUMN, loss: HISTORY_COLUMN, lr: HISTORY_COLUMN, gradNorm: HISTORY_COLUMN }),
  (h) => ([h.loss, h.lr, h.gradNorm].every((c) => c.length === h.step.length) ? null : 'history columns must be of one length'),
);
export type GpuHistory = Infer<typeof GPU_HISTORY>;

const GPU_CHECKPOINT = budget(GPU_LIMITS.elements, refine(
  object({
    runId: id,
    step: int(0, 10_000_000),
    params: array(GPU_VALUES, { max: GPU_LIMITS.params }),
    slots: array(nullable(record(/^[A-Za-z]\w{0,31}$/, GPU_VALUES, { max: GPU_LIMITS.slots })), { max: GPU_LIMITS.params }),
    history: GPU_HISTORY,
    paused: boolean,
    log: boolean,
  }),
  (m) => {
    if (m.slots.length !== m.params.length) return `slots: expected one entry per parameter (${m.params.length}), got ${m.slots.length}`;
    const s = m.history.step;
    for (let i = 0; i < s.length; i++) {
      if (!(Number.isInteger(s[i]) && s[i] >= 1 && s[i] <= m.step && (i === 0 || s[i] > s[i - 1]))) return 'history steps must be increasing and at most the checkpoint step';
    }
    return null;
  },
));

/** The most nodes, steps… a snapshot may list (ten times the largest node limit). */
const MAX_SNAPSHOT_ITEMS = 1_000_000;
const snapshotItems = array(unknown, { max: MAX_SNAPSHOT_ITEMS });
/** A snapshot's envelope: its lists and their sizes, not each node (normalizeSnapshot in the webview copes with the rest). */
const SNAPSHOT = opaque<GraphSnapshot>('a graph snapshot', object({
  file: hostText,
  nodes: snapshotItems,
  backward: snapshotItems,
  forward: snapshotItems,
  groups: optional(snapshotItems),
  diagnosis: optional(snapshotItems),
}));

const TRAIN_PROGRESS = opaque<TrainProgress>('training progress', object({
  step: int(0),
  total: int(0),
  history: array(unknown, { max: GPU_LIMITS.history }),
  layers: array(unknown, { max: GPU_LIMITS.history }),
  findings: array(unknown, { max: 100_000 }),
  stepsPerSecond: number({ finite: false }),
  paused: boolean,
}));

const ANALYSIS_RESULT = opaque<AnalysisResult>('an analysis result', tagged('kind', {
  gradcheck: { report: object({}) },
  hessian: { report: object({}) },
  landscape: { report: object({}) },
  playground: { report: object({}) },
  boundary: { report: object({}) },
  trace: { report: object({}) },
}));

const GPU_PLAN = opaque<GpuPlan>('a GPU plan', object({
  programs: array(unknown, { max: 10_000 }),
  params: array(unknown, { max: GPU_LIMITS.params }),
}));

// ---------------------------------------------------------------------------------------------
// host → webview

export const HOST_MESSAGES = tagged('type', {
  /** A new trace. Payloads above `snapshot.maxElements` are null: fetch them with `fetchTensor`. */
  snapshot: { runId: id, file: hostText, fileName: hostText, snapshot: SNAPSHOT },
  /** A run started (the panel shows progress but keeps the previous graph). */
  running: { file: hostText, fileName: hostText },
  /** The run failed: syntax, runtime, shape, timeout, memory… (located in the user's files). */
  errors: { file: hostText, fileName: hostText, errors: array(RUN_ERROR, { max: 10_000 }) },
  /** Restricted Mode: no model code runs. */
  untrusted: { file: hostText, fileName: hostText },
  tensorData: { requestId: id, node: id, which: oneOf(TENSOR_WHICH), data: nullable(typedArray('Float64Array', { max: 2 ** 28 })), reason: optional(hostText) },
  command: { command: oneOf(PANEL_COMMANDS) },
  /** The editor cursor is on these lines of `file`: highlight the nodes created there. */
  highlightLines: { file: hostText, lines: array(int(0), { max: 100_000 }) },
  /** Export request: the webview answers with an `exported` message. */
  export: { requestId: id, format: oneOf(EXPORT_FORMATS) },
  /** New history, layer summaries and findings of training run `runId` (append; a new runId starts over). */
  trainProgress: { runId: id, progress: TRAIN_PROGRESS },
  /** Training run `runId` changed state; `message` explains errors and early stops. */
  trainStatus: { runId: id, status: oneOf(TRAIN_STATUSES), step: int(0), total: int(0), overrides: TRAIN_OVERRIDES, message: optional(hostText), backend: optional(TRAIN_BACKEND) },
  /** The answer to an `analyze` request: a report, or why there is none. */
  analysis: { requestId: id, result: nullable(ANALYSIS_RESULT), error: optional(RUN_ERROR) },
  /** Analyses computed before anyone asked (the standalone report): per tool, a report or why there is none. */
  analyses: { answers: array(object({ kind: oneOf(ANALYSIS_KINDS), result: nullable(ANALYSIS_RESULT), error: optional(RUN_ERROR) }), { max: ANALYSIS_KINDS.length }) },
  /** The graph now shows training step `step` of run `runId` (a traced pass at the current parameters). */
  trainGraph: { runId: id, step: int(0), snapshot: SNAPSHOT },
  /**
   * Train run `runId` on the panel's GPU from this plan (paused: wait for a resume or step).
   * `software`: a software adapter (SwiftShader, llvmpipe) will do; without it such an adapter is
   * refused (the CPU engine is faster than a GPU emulated on the CPU).
   */
  gpuTrain: { runId: id, plan: GPU_PLAN, paused: boolean, software: boolean },
  gpuControl: { runId: id, action: oneOf(GPU_ACTIONS) },
});

export type HostMessage = Infer<typeof HOST_MESSAGES>;
export const HOST_MESSAGE_TYPES = HOST_MESSAGES.tags;

// ---------------------------------------------------------------------------------------------
// webview → host

export const WEBVIEW_MESSAGES = tagged('type', {
  ready: {},
  /** Reveal a node's source line in the editor (only files of the current trace are accepted). */
  revealSource: { file: string(4096), line: int(1), column: int(0) },
  fetchTensor: { requestId: id, node: id, which: oneOf(TENSOR_WHICH) },
  rerun: {},
  manageTrust: {},
  /** Answer to an `export` request: SVG markup, or a PNG as a data URL. */
  exported: { requestId: id, format: oneOf(EXPORT_FORMATS), data: string(64 * 1024 * 1024) },
  error: { message: string(10_000) },
  /** Training controls: run (or resume), pause, one step, reset (back to the initial parameters). */
  train: { action: oneOf(TRAIN_ACTIONS), overrides: optional(TRAIN_OVERRIDES) },
  /** Gradient check or loss landscape at the current training step, or an optimizer playground run. */
  analyze: { requestId: id, request: ANALYSIS_REQUEST },
  /** The GPU run `runId` is on its way, on this adapter. */
  gpuStarted: { runId: id, adapter: string(200) },
  /**
   * The GPU run's state after `step` steps: parameters, optimizer slots (by name; null before a
   * parameter's first update), history since the previous checkpoint; `paused`: nothing runs until
   * the next control; `log`: record layer summaries at this step.
   */
  gpuCheckpoint: GPU_CHECKPOINT,
  /** The GPU run cannot go on (no adapter, device lost, out of memory…): the host goes on on the CPU. */
  gpuFailed: { runId: id, reason: string(2000) },
});

export type WebviewMessage = Infer<typeof WEBVIEW_MESSAGES>;
export const WEBVIEW_MESSAGE_TYPES = WEBVIEW_MESSAGES.tags;

// The schemas above must describe exactly the types the engine and the runner own.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type ContractChecks = [
  Holds<Same<Infer<typeof ANALYSIS_REQUEST>, AnalysisRequest>>,
  Holds<Same<Infer<typeof RUN_ERROR>, RunError>>,
  Holds<Same<(typeof RUN_ERROR_KINDS)[number], RunErrorKind>>,
  Holds<Same<(typeof SURFACES)[number], SurfaceName>>,
];

/**
 * Checks a message from the webview. Returns it (with only the known fields) or why it was
 * rejected. Size limits keep a misbehaving webview from making the host do much work. Never throws.
 */
export function parseWebviewMessage(m: unknown): { ok: true; message: WebviewMessage } | { ok: false; reason: string } {
  const r = parse(WEBVIEW_MESSAGES, m);
  return r.ok ? { ok: true, message: r.value } : r;
}

/** Checks a message from the host (in the webview): its fields, and the envelope and sizes of large payloads. Never throws. */
export function parseHostMessage(m: unknown): { ok: true; message: HostMessage } | { ok: false; reason: string } {
  const r = parse(HOST_MESSAGES, m);
  return r.ok ? { ok: true, message: r.value } : r;
}

// ---------------------------------------------------------------------------------------------
// transport

type View = Float64Array | Float32Array | Int32Array | Uint8Array | Uint32Array | Int16Array | Uint16Array | Int8Array;

/**
 * The message with every typed array in it turned into a view of one shared ArrayBuffer. Both
 * directions of a webview's postMessage must go through this: VS Code sends a message's
 * ArrayBuffers as the arguments of one RPC call between the extension host and the window, and
 * writes that call's argument count in one byte, so past 255 buffers (a snapshot of ~60 tensor
 * nodes has more) the rest arrive as empty arrays. Views into one buffer travel as one argument.
 */
export function packTypedArrays<T>(message: T): T {
  const views: View[] = [];
  const seen = new Set<View>();
  const collect = (v: unknown): void => {
    if (ArrayBuffer.isView(v)) {
      if (!(v instanceof DataView) && !seen.has(v as View)) {
        seen.add(v as View);
        views.push(v as View);
      }
    } else if (Array.isArray(v)) v.forEach(collect);
    else if (isPlain(v)) for (const x of Object.values(v)) collect(x);
  };
  collect(message);
  if (views.length < 2) return message;
  const offsets = new Map<View, number>();
  let bytes = 0;
  for (const v of views) {
    offsets.set(v, bytes);
    bytes += Math.ceil(v.byteLength / 8) * 8; // every element type stays aligned
  }
  const arena = new ArrayBuffer(bytes);
  const packed = new Map<View, View>();
  for (const v of views) {
    const Ctor = v.constructor as new (b: ArrayBuffer, offset: number, length: number) => View;
    const copy = new Ctor(arena, offsets.get(v)!, v.length);
    copy.set(v as never);
    packed.set(v, copy);
  }
  const rebuild = (v: unknown): unknown => {
    if (ArrayBuffer.isView(v)) return packed.get(v as View) ?? v;
    if (Array.isArray(v)) return v.map(rebuild);
    if (isPlain(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = rebuild(x);
      return out;
    }
    return v;
  };
  return rebuild(message) as T;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
