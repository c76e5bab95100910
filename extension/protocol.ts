/**
 * The only contract between the extension host and the webview. Both sides switch on `type` and
 * end with an exhaustiveness check; messages from the webview are validated on receipt
 * (`parseWebviewMessage`), because a webview is as untrusted as any other input.
 *
 * The webview imports types from here (and the PLAY_SPEEDS constant and `packTypedArrays`) and
 * nothing else from `extension/`.
 */
import type { GraphSnapshot } from '../engine/trace/snapshot';
import type { RunError, TrainProgress } from './runner/types';
import { OPTIMIZER_NAMES, type OptimizerName } from '../engine/optim/names';
import { SCHEDULE_PRESETS, type SchedulePreset } from '../engine/optim/schedules';
import type { AnalysisRequest, AnalysisResult, SurfaceName } from '../engine/check/analysis';
import type { GpuPlan } from '../engine/backends/webgpu/plan';

export type { GraphSnapshot, SnapshotNode, SnapshotStep, SnapshotInputStep, SnapshotGroup, Diagnosis, TensorPayload } from '../engine/trace/snapshot';
export type { RunError } from './runner/types';
export type { TensorStats, Histogram } from '../engine/stats/summary';
export type { TrainProgress } from './runner/types';
export type { HistoryEntry, LayerHistory } from '../engine/train/trainer';
export type { LayerStats } from '../engine/stats/layers';
export type { Finding } from '../engine/stats/diagnosis';
export type { TrainingInfo } from '../engine/trace/snapshot';
export type { OptimizerName, SchedulePreset };
export { OPTIMIZER_NAMES, SCHEDULE_PRESETS };
export type { AnalysisRequest, AnalysisResult, AnalysisKind, GradcheckReport, GradcheckParam, LandscapeReport, PlaygroundReport, PlaygroundTrajectory, SurfaceName, CriticalKind } from '../engine/check/analysis';

/** Where a training run in the panel stands. */
export type TrainStatus = 'idle' | 'running' | 'paused' | 'done' | 'stopped' | 'error';

/** Settings the training view changes without touching the file (all optional). */
export interface TrainOverrides {
  optimizer?: OptimizerName;
  lr?: number;
  /** A schedule sized to the run (see `preset` in engine/optim/schedules.ts); absent: the file's. */
  schedule?: SchedulePreset;
  steps?: number;
  batchSize?: number;
  seed?: number;
}

export type TrainAction = 'run' | 'pause' | 'step' | 'reset';

/** The `backpropLens.backend` setting: where training runs. */
export type BackendSetting = 'auto' | 'webgpu' | 'cpu';
export const BACKEND_SETTINGS: readonly BackendSetting[] = ['auto', 'webgpu', 'cpu'];

/** Where a training run runs: WebGPU in the panel (with the adapter's name) or the CPU (with why, if a GPU was wanted). */
export interface TrainBackend {
  kind: 'webgpu' | 'cpu';
  adapter?: string;
  note?: string;
}

export type { GpuPlan };

/** What the host asks of the panel's GPU run. */
export type GpuAction = 'pause' | 'resume' | 'step' | 'cancel';

/** A GPU run's history since its previous checkpoint, by column (typed arrays keep NaN and ±∞ through postMessage). */
export interface GpuHistory {
  step: Float64Array;
  loss: Float64Array;
  lr: Float64Array;
  gradNorm: Float64Array;
}

export type ViewMode = 'forward' | 'backward';

/** What the panel restores after a reload (also kept by the webview through `setState`). */
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

export type TensorWhich = 'value' | 'grad';

/** Actions the host asks the webview to perform (commands and keybindings). */
export type PanelCommand = 'stepForward' | 'stepBackward' | 'reset' | 'first' | 'last' | 'fit';

// ---------------------------------------------------------------------------------------------
// host → webview

export type HostMessage =
  /** A new trace. Payloads above `snapshot.maxElements` are null: fetch them with `fetchTensor`. */
  | { type: 'snapshot'; runId: number; file: string; fileName: string; snapshot: GraphSnapshot }
  /** A run started (the panel shows progress but keeps the previous graph). */
  | { type: 'running'; file: string; fileName: string }
  /** The run failed: syntax, runtime, shape, timeout, memory… (located in the user's files). */
  | { type: 'errors'; file: string; fileName: string; errors: RunError[] }
  /** Restricted Mode: no model code runs. */
  | { type: 'untrusted'; file: string; fileName: string }
  | { type: 'tensorData'; requestId: number; node: number; which: TensorWhich; data: Float64Array | null; reason?: string }
  | { type: 'command'; command: PanelCommand }
  /** The editor cursor is on these lines of `file`: highlight the nodes created there. */
  | { type: 'highlightLines'; file: string; lines: number[] }
  /** Export request: the webview answers with an `exported` message. */
  | { type: 'export'; requestId: number; format: 'svg' | 'png' }
  /** New history, layer summaries and findings of training run `runId` (append; a new runId starts over). */
  | { type: 'trainProgress'; runId: number; progress: TrainProgress }
  /** Training run `runId` changed state; `message` explains errors and early stops. */
  | { type: 'trainStatus'; runId: number; status: TrainStatus; step: number; total: number; overrides: TrainOverrides; message?: string; backend?: TrainBackend }
  /** The answer to an `analyze` request: a report, or why there is none. */
  | { type: 'analysis'; requestId: number; result: AnalysisResult | null; error?: RunError }
  /** The graph now shows training step `step` of run `runId` (a traced pass at the current parameters). */
  | { type: 'trainGraph'; runId: number; step: number; snapshot: GraphSnapshot }
  /**
   * Train run `runId` on the panel's GPU from this plan (paused: wait for a resume or step).
   * `software`: a software adapter (SwiftShader, llvmpipe) will do; without it such an adapter is
   * refused (the CPU engine is faster than a GPU emulated on the CPU).
   */
  | { type: 'gpuTrain'; runId: number; plan: GpuPlan; paused: boolean; software: boolean }
  | { type: 'gpuControl'; runId: number; action: GpuAction };

// ---------------------------------------------------------------------------------------------
// webview → host

export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'state'; state: UiState }
  /** Reveal a node's source line in the editor (only files of the current trace are accepted). */
  | { type: 'revealSource'; file: string; line: number; column: number }
  | { type: 'fetchTensor'; requestId: number; node: number; which: TensorWhich }
  | { type: 'rerun' }
  | { type: 'manageTrust' }
  | { type: 'selectNode'; node: number | null }
  /** Answer to an `export` request: SVG markup, or a PNG as a data URL. */
  | { type: 'exported'; requestId: number; format: 'svg' | 'png'; data: string }
  | { type: 'error'; message: string }
  /** Training controls: run (or resume), pause, one step, reset (back to the initial parameters). */
  | { type: 'train'; action: TrainAction; overrides?: TrainOverrides }
  /** Gradient check or loss landscape at the current training step, or an optimizer playground run. */
  | { type: 'analyze'; requestId: number; request: AnalysisRequest }
  /** The GPU run `runId` is on its way, on this adapter. */
  | { type: 'gpuStarted'; runId: number; adapter: string }
  /**
   * The GPU run's state after `step` steps: parameters, optimizer slots (by name; null before a
   * parameter's first update), history since the previous checkpoint; `paused`: nothing runs until
   * the next control; `log`: record layer summaries at this step.
   */
  | { type: 'gpuCheckpoint'; runId: number; step: number; params: Float32Array[]; slots: (Record<string, Float32Array> | null)[]; history: GpuHistory; paused: boolean; log: boolean }
  /** The GPU run cannot go on (no adapter, device lost, out of memory…): the host goes on on the CPU. */
  | { type: 'gpuFailed'; runId: number; reason: string };

export const WEBVIEW_MESSAGE_TYPES = ['ready', 'state', 'revealSource', 'fetchTensor', 'rerun', 'manageTrust', 'selectNode', 'exported', 'error', 'train', 'analyze', 'gpuStarted', 'gpuCheckpoint', 'gpuFailed'] as const;

/** Limits on what a GPU checkpoint may carry (a misbehaving webview cannot make the host allocate without bound). */
const GPU_LIMITS = { params: 10_000, slots: 4, elements: 64 * 2 ** 20, history: 10_000_000 } as const;

/** A Float32Array, or an array of numbers turned into one; null for anything else or too many elements. */
function f32(v: unknown, budget: { left: number }): Float32Array | null {
  let out: Float32Array | null = null;
  if (v instanceof Float32Array) out = v;
  else if (Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null)) out = Float32Array.from(v as (number | null)[], (x) => (x === null ? NaN : x));
  if (!out || out.length > budget.left) return null;
  budget.left -= out.length;
  return out;
}

function f64(v: unknown, max: number): Float64Array | null {
  if (v instanceof Float64Array) return v.length <= max ? v : null;
  if (Array.isArray(v) && v.length <= max && v.every((x) => typeof x === 'number' || x === null)) return Float64Array.from(v as (number | null)[], (x) => (x === null ? NaN : x));
  return null;
}

function parseGpuCheckpoint(m: Record<string, unknown>): Extract<WebviewMessage, { type: 'gpuCheckpoint' }> | string {
  if (!isInt(m.runId) || !isInt(m.step) || (m.step as number) > 10_000_000) return 'expected runId and step';
  if (typeof m.paused !== 'boolean' || typeof m.log !== 'boolean') return 'expected paused and log';
  if (!Array.isArray(m.params) || m.params.length > GPU_LIMITS.params || !Array.isArray(m.slots) || m.slots.length !== m.params.length) return 'expected params and slots of the same length';
  const budget = { left: GPU_LIMITS.elements };
  const params: Float32Array[] = [];
  for (const p of m.params) {
    const a = f32(p, budget);
    if (!a) return 'params must be Float32Arrays';
    params.push(a);
  }
  const slots: (Record<string, Float32Array> | null)[] = [];
  for (const s of m.slots) {
    if (s === null) {
      slots.push(null);
      continue;
    }
    if (!isObj(s) || Object.keys(s).length > GPU_LIMITS.slots) return 'slots must be null or a few named Float32Arrays';
    const named: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(s)) {
      const a = /^[A-Za-z]\w{0,31}$/.test(k) ? f32(v, budget) : null;
      if (!a) return 'slots must be null or a few named Float32Arrays';
      named[k] = a;
    }
    slots.push(named);
  }
  const h = m.history;
  if (!isObj(h)) return 'expected history columns';
  const cols = (['step', 'loss', 'lr', 'gradNorm'] as const).map((k) => f64(h[k], GPU_LIMITS.history));
  if (cols.some((c) => c === null) || cols.some((c) => c!.length !== cols[0]!.length)) return 'history columns must be Float64Arrays of one length';
  const [step, loss, lr, gradNorm] = cols as Float64Array[];
  if (!step.every((v, i) => Number.isInteger(v) && v >= 1 && v <= (m.step as number) && (i === 0 || v > step[i - 1]))) return 'history steps must be increasing and at most the checkpoint step';
  return { type: 'gpuCheckpoint', runId: m.runId as number, step: m.step as number, params, slots, history: { step, loss, lr, gradNorm }, paused: m.paused, log: m.log };
}

function parseOverrides(v: unknown): TrainOverrides | null {
  if (!isObj(v)) return null;
  const o: TrainOverrides = {};
  if (v.optimizer !== undefined) {
    if (!(OPTIMIZER_NAMES as readonly unknown[]).includes(v.optimizer)) return null;
    o.optimizer = v.optimizer as OptimizerName;
  }
  if (v.lr !== undefined) {
    if (typeof v.lr !== 'number' || !Number.isFinite(v.lr) || v.lr < 0 || v.lr > 1e6) return null;
    o.lr = v.lr;
  }
  for (const k of ['steps', 'batchSize'] as const) {
    if (v[k] === undefined) continue;
    if (!isInt(v[k], 1) || (v[k] as number) > 10_000_000) return null;
    o[k] = v[k] as number;
  }
  if (v.seed !== undefined) {
    if (!isInt(v.seed) || (v.seed as number) > 2 ** 31) return null;
    o.seed = v.seed as number;
  }
  if (v.schedule !== undefined) {
    if (!(SCHEDULE_PRESETS as readonly unknown[]).includes(v.schedule)) return null;
    o.schedule = v.schedule as SchedulePreset;
  }
  return o;
}

const SURFACES: readonly SurfaceName[] = ['saddle', 'bowl', 'rosenbrock', 'file'];
const isNum = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

function parseAnalysis(v: unknown): AnalysisRequest | null {
  if (!isObj(v)) return null;
  switch (v.kind) {
    case 'gradcheck':
      return { kind: 'gradcheck' };
    case 'landscape':
      if (typeof v.twoD !== 'boolean' || !isNum(v.range, 1e-6, 100) || !isInt(v.seed) || (v.seed as number) > 2 ** 31) return null;
      return { kind: 'landscape', twoD: v.twoD, range: v.range as number, seed: v.seed as number };
    case 'playground': {
      if (!(SURFACES as readonly unknown[]).includes(v.surface) || !isInt(v.steps, 1) || (v.steps as number) > 100_000) return null;
      if (!Array.isArray(v.runs) || v.runs.length < 1 || v.runs.length > OPTIMIZER_NAMES.length * 4) return null;
      const runs: { optimizer: OptimizerName; lr: number }[] = [];
      for (const r of v.runs) {
        if (!isObj(r) || !(OPTIMIZER_NAMES as readonly unknown[]).includes(r.optimizer) || !isNum(r.lr, 0, 1e6)) return null;
        runs.push({ optimizer: r.optimizer as OptimizerName, lr: r.lr as number });
      }
      const out: AnalysisRequest = { kind: 'playground', surface: v.surface as SurfaceName, runs, steps: v.steps as number };
      if (v.start !== undefined) {
        if (!Array.isArray(v.start) || v.start.length !== 2 || !v.start.every((x) => isNum(x, -1e6, 1e6))) return null;
        out.start = [v.start[0] as number, v.start[1] as number];
      }
      return out;
    }
    default:
      return null;
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isStr = (v: unknown, max = 10_000): v is string => typeof v === 'string' && v.length <= max;

function parseState(v: unknown): UiState | null {
  if (!isObj(v)) return null;
  const { file, mode, step, selected, direction, transform, collapsed, speed } = v;
  if (!(file === null || isStr(file, 4096))) return null;
  if (mode !== 'forward' && mode !== 'backward') return null;
  if (!isInt(step)) return null;
  if (!(selected === null || isInt(selected))) return null;
  if (direction !== 'TB' && direction !== 'LR') return null;
  let t: UiState['transform'] = null;
  if (transform !== null && transform !== undefined) {
    if (!isObj(transform)) return null;
    const { x, y, k } = transform;
    if (![x, y, k].every((n) => typeof n === 'number' && Number.isFinite(n)) || (k as number) <= 0) return null;
    t = { x: x as number, y: y as number, k: k as number };
  }
  let c: string[] | null = null;
  if (collapsed !== null && collapsed !== undefined) {
    if (!Array.isArray(collapsed) || collapsed.length > 10_000 || !collapsed.every((k) => isStr(k, 4096))) return null;
    c = collapsed as string[];
  }
  if (speed !== undefined && !(PLAY_SPEEDS as readonly unknown[]).includes(speed)) return null;
  const state: UiState = { file, mode, step, selected, direction, transform: t };
  if (c) state.collapsed = c;
  if (speed !== undefined) state.speed = speed as number;
  return state;
}

/**
 * Checks a message from the webview. Returns it (with only the known fields) or an explanation of
 * why it was rejected. Size limits keep a misbehaving webview from making the host do much work.
 */
export function parseWebviewMessage(m: unknown): { ok: true; message: WebviewMessage } | { ok: false; reason: string } {
  if (!isObj(m)) return { ok: false, reason: 'not an object' };
  const type = m.type;
  const bad = (what: string) => ({ ok: false as const, reason: `${String(type)}: ${what}` });
  switch (type) {
    case 'ready':
    case 'rerun':
    case 'manageTrust':
      return { ok: true, message: { type } };
    case 'state': {
      const state = parseState(m.state);
      return state ? { ok: true, message: { type, state } } : bad('invalid state');
    }
    case 'revealSource':
      if (!isStr(m.file, 4096) || !isInt(m.line, 1) || !isInt(m.column, 0)) return bad('expected file, line ≥ 1, column ≥ 0');
      return { ok: true, message: { type, file: m.file, line: m.line, column: m.column } };
    case 'fetchTensor':
      if (!isInt(m.requestId) || !isInt(m.node) || (m.which !== 'value' && m.which !== 'grad')) return bad('expected requestId, node and which');
      return { ok: true, message: { type, requestId: m.requestId, node: m.node, which: m.which } };
    case 'selectNode':
      if (!(m.node === null || isInt(m.node))) return bad('expected a node id or null');
      return { ok: true, message: { type, node: m.node } };
    case 'exported':
      if (!isInt(m.requestId) || (m.format !== 'svg' && m.format !== 'png') || !isStr(m.data, 64 * 1024 * 1024)) return bad('expected requestId, format and data');
      return { ok: true, message: { type, requestId: m.requestId, format: m.format, data: m.data } };
    case 'error':
      if (!isStr(m.message)) return bad('expected a message');
      return { ok: true, message: { type, message: m.message } };
    case 'train': {
      if (m.action !== 'run' && m.action !== 'pause' && m.action !== 'step' && m.action !== 'reset') return bad('expected action run, pause, step or reset');
      if (m.overrides === undefined) return { ok: true, message: { type, action: m.action } };
      const overrides = parseOverrides(m.overrides);
      return overrides ? { ok: true, message: { type, action: m.action, overrides } } : bad('invalid overrides');
    }
    case 'analyze': {
      const request = isInt(m.requestId) ? parseAnalysis(m.request) : null;
      return request ? { ok: true, message: { type, requestId: m.requestId as number, request } } : bad('expected requestId and a gradcheck, landscape or playground request');
    }
    case 'gpuStarted':
      if (!isInt(m.runId) || !isStr(m.adapter, 200)) return bad('expected runId and adapter');
      return { ok: true, message: { type, runId: m.runId, adapter: m.adapter } };
    case 'gpuFailed':
      if (!isInt(m.runId) || !isStr(m.reason, 2000)) return bad('expected runId and reason');
      return { ok: true, message: { type, runId: m.runId, reason: m.reason } };
    case 'gpuCheckpoint': {
      const c = parseGpuCheckpoint(m);
      return typeof c === 'string' ? bad(c) : { ok: true, message: c };
    }
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(type)?.slice(0, 60)}` };
  }
}
