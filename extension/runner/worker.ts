/**
 * The model worker: runs one bundled model file with the tracer on, builds the snapshot and posts it
 * back. It runs in a worker_threads Worker with a heap limit; the runner terminates it on timeout.
 * User code never runs on the thread that created this worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import * as vm from 'node:vm';
import * as engine from '../../engine/index';
import { Tensor, type SourceLocation } from '../../engine/tensor';
import { trace, TooManyNodesError, type TracedLocation } from '../../engine/trace/tracer';
import { buildSnapshot, type GraphSnapshot } from '../../engine/trace/snapshot';
import { isTrainingSpec, type TrainingSpec } from '../../engine/train/define';
import { Trainer } from '../../engine/train/trainer';
import { LayerRecorder } from '../../engine/stats/layers';
import { diagnose, type Finding } from '../../engine/stats/diagnosis';
import { inputScale } from '../../engine/data/index';
import { setFileAccess } from '../../engine/data/files';
import { runTraining } from './train-loop';
import { planOf } from '../../engine/train/plan';
import { setMaxTensorBytes, TensorTooLargeError } from '../../engine/dtype';
import { buildNameIndex, originalSpelling, siteKey } from './names';
import { BundleMap } from './sourcemap';
import { apiMessage, type Api } from './apiNames';
import { defaultExportLine } from '../modelFiles';
import { fileSurfaceTitle, gradcheckReport, hessianReport, landscapeReport, playgroundReport } from '../../engine/check/analyze';
import { boundaryReport } from '../../engine/check/boundary';
import { traceReport } from '../../engine/check/trace1d';
import type { InspectOutcome, InspectRequest, LogLine, RunError, RunErrorKind, WorkerInput, WorkerMessage } from './types';
import { installGemmThread } from './gemm-threads';

const input = workerData as WorkerInput;
// large matrix products share their rows with a second thread where there is a second core
// (BACKPROP_LENS_THREADS=0 in the environment keeps them on one, to compare)
if ((os.availableParallelism?.() ?? os.cpus().length) >= 2 && process.env.BACKPROP_LENS_THREADS !== '0') installGemmThread(path.join(__dirname, 'gemm-thread.js'));
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const bundleMap = new BundleMap(input.map, input.bundlePath);

// ---- console → the runner (and from there the output channel or the terminal)
const log = (stream: LogLine['stream']) => (...args: unknown[]) => post({ type: 'log', line: { stream, text: util.format(...args) } });
console.log = console.info = console.debug = log('stdout');
console.warn = console.error = console.trace = log('stderr');

// ---- stack traces: structured call sites, positions mapped to the user's files
type CallSite = NodeJS.CallSite;
const callSites = new WeakMap<object, CallSite[]>();
let rawStack = false;
Error.stackTraceLimit = 64;
Error.prepareStackTrace = (err: Error, sites: CallSite[]) => {
  if (rawStack) return sites;
  if (err && typeof err === 'object') callSites.set(err, sites);
  const lines = [`${err.name}: ${err.message}`];
  for (const s of sites) {
    if (s.getFileName() !== input.bundlePath) continue;
    const loc = bundleMap.original(s.getLineNumber() ?? 0, s.getColumnNumber() ?? 0);
    if (loc) lines.push(`    at ${s.getFunctionName() ?? '<model>'} (${loc.file}:${loc.line}:${loc.column})`);
  }
  return lines.join('\n');
};

/** Innermost frame in the user's bundle (bundle coordinates). */
function userFrame(sites: CallSite[] | undefined): SourceLocation | null {
  for (const s of sites ?? []) {
    if (s.getFileName() === input.bundlePath) return { file: input.bundlePath, line: s.getLineNumber() ?? 0, column: s.getColumnNumber() ?? 0 };
  }
  return null;
}

/**
 * A node's creation place in the user's file (so messages the engine writes while the model runs
 * name the user's line), with every bundle frame's call site, outermost first (for the names), and
 * the bundle position for the progress cells (the runner maps those itself).
 */
interface Located extends TracedLocation {
  sites: string[];
}

function locate(): Located | null {
  const holder: { stack?: unknown } = {};
  rawStack = true;
  let frames: CallSite[];
  try {
    Error.captureStackTrace(holder, locate);
    frames = holder.stack as CallSite[];
  } finally {
    rawStack = false;
  }
  const sites: string[] = [];
  let inner: [number, number] | null = null;
  for (const f of frames) {
    if (f.getFileName() !== input.bundlePath) continue;
    const line = f.getLineNumber() ?? 0;
    const column = f.getColumnNumber() ?? 0;
    inner ??= [line, column];
    sites.push(siteKey(line, column));
  }
  if (!inner) return null;
  sites.reverse();
  const original = bundleMap.original(inner[0], inner[1]);
  return original ? { ...original, sites, progress: inner } : null;
}

/** The location as the snapshot keeps it: file, line, column. */
function plain(loc: SourceLocation | null): SourceLocation | null {
  return loc ? { file: loc.file, line: loc.line, column: loc.column } : null;
}

function mapped(loc: SourceLocation | null): SourceLocation | null {
  return loc ? bundleMap.original(loc.line, loc.column) : null;
}

/** The line of `export default` in the model file (where export problems are reported). */
function exportLine(): { line: number; column: number } | null {
  const text = bundleMap.text(input.file);
  const i = text === undefined ? null : defaultExportLine(text);
  return i === null ? null : { line: i + 1, column: text!.split(/\r?\n/)[i].search(/\S/) + 1 };
}

function runError(kind: RunErrorKind, message: string, loc: SourceLocation | { line: number; column: number } | null, stack?: string): RunError {
  const file = loc && 'file' in loc ? loc.file : input.file;
  return { kind, message, file, line: loc?.line ?? null, column: loc?.column ?? null, stack };
}

function fail(kind: RunErrorKind, message: string, loc: SourceLocation | { line: number; column: number } | null, stack?: string): void {
  post({ type: 'error', error: runError(kind, message, loc, stack) });
}

class MemoryLimitError extends Error {
  constructor(usedMb: number) {
    super(`The model's tensors and heap use ${usedMb.toFixed(0)} MB, more than the memory limit of ${input.memoryMb} MB (the "backpropLens.memoryLimitMb" setting).`);
    this.name = 'MemoryLimitError';
  }
}

// Tensor storage lives in ArrayBuffers outside the V8 heap that resourceLimits caps: count it here.
setMaxTensorBytes(input.memoryMb * 2 ** 20);
let bytesSinceCheck = 0;
function checkMemory(t: Tensor): void {
  bytesSinceCheck += t.size * (t.dtype === 'float64' ? 8 : 4);
  if (bytesSinceCheck < 16 * 2 ** 20) return;
  bytesSinceCheck = 0;
  const m = process.memoryUsage();
  const usedMb = (m.arrayBuffers + m.heapUsed) / 2 ** 20;
  if (usedMb > input.memoryMb) throw new MemoryLimitError(usedMb);
}

function classify(err: unknown): RunErrorKind {
  if (err instanceof TooManyNodesError || err instanceof TensorTooLargeError) return 'too-large';
  if (err instanceof MemoryLimitError) return 'memory';
  // shapes that do not fit and indices out of range: the engine's typed errors
  if (err instanceof engine.ShapeError || err instanceof engine.IndexError) return 'shape';
  // V8's own failures to allocate (its RangeErrors carry no type of their own but their text)
  if (err instanceof RangeError && /array buffer|typed array length|allocation failed|Invalid array length/i.test(err.message)) return 'too-large';
  return 'runtime';
}

/** A thrown value as a RunError, located at the deepest frame in the user's files. */
function thrownError(err: unknown): RunError {
  if (!(err instanceof Error)) return runError('runtime', `The model threw ${util.inspect(err)}`, null);
  const stack = err.stack; // formats (mapped) and records the call sites
  const kind = classify(err);
  let message = apiMessage(err.message, engine as unknown as Api);
  if (kind === 'too-large' && !(err instanceof TooManyNodesError)) message = `Tensor too large: ${err.message}`;
  const where = mapped(userFrame(callSites.get(err)));
  // a shape error in a layer: name the layer, and place the error where it was created when none of
  // the user's code is on the stack (a training step calls the model from inside the engine)
  const layer = err instanceof engine.ShapeError || err instanceof engine.IndexError ? err.layer : undefined;
  if (layer?.source) {
    const created = !where || (layer.source.file === where.file && layer.source.line === where.line) ? '' : `, created at line ${layer.source.line}${layer.source.file === input.file ? '' : ` of ${path.basename(layer.source.file)}`}`;
    message = `${message} (in layer ${layer.path ?? 'of the model'}${created})`;
  }
  return runError(kind, message, where ?? layer?.source ?? null, stack);
}

function reportThrown(err: unknown): void {
  post({ type: 'error', error: thrownError(err) });
}

// ---- run
const traceOptions = () => ({ locate, maxNodes: input.maxNodes, progress: new Int32Array(input.progress, 0, 3), check: checkMemory });
type Traced = { nodes: Tensor[]; leaves: Tensor[] };

// Which call is bound to which name: parsed from the bundle before the model starts (a 5 MB model
// takes about a second to parse; that is preparation, not the model's time against its limit).
let names: ReturnType<typeof buildNameIndex> | null = null;
const nameIndex = () => (names ??= buildNameIndex(input.code));

function main(): void {
  // data.fromCsv / fromNpy read the user's files, relative to the model file
  setFileAccess({ resolve: (p) => path.resolve(path.dirname(input.file), p), read: (p) => fs.readFileSync(p) });
  const nodeRequire = createRequire(input.bundlePath);
  const require = (id: string): unknown => (id === 'backprop-lens' ? engine : nodeRequire(id));
  const module = { exports: {} as Record<string, unknown> };
  let fn: (...args: unknown[]) => unknown;
  try {
    fn = vm.compileFunction(input.code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: input.bundlePath }) as typeof fn;
  } catch (err) {
    fail('syntax', err instanceof Error ? err.message : String(err), null);
    return;
  }
  const training = input.mode === 'train';
  const recorder = new LayerRecorder();
  let traced: Traced;
  if (!training) nameIndex();
  post({ type: 'started' });
  try {
    const evaluate = () => recorder.record(() => fn(module.exports, require, module, input.file, path.dirname(input.file)));
    // training runs untraced: the tracer would cap the node count and turn the scalar tape off
    if (training) {
      // only leaves are located (parameters: where each layer was created, for the diagnosis)
      const restore = engine.setHooks({ onLeaf: (t) => void (t.source = plain(locate())) });
      try {
        evaluate();
      } finally {
        restore();
      }
      traced = { nodes: [], leaves: [] };
    } else traced = trace(evaluate, traceOptions());
  } catch (err) {
    reportThrown(err);
    return;
  }
  // `export default undefined` is a default export of nothing (not the module object)
  const moduleExports: unknown = module.exports;
  const hasDefault = (typeof moduleExports === 'object' || typeof moduleExports === 'function') && moduleExports !== null && 'default' in moduleExports;
  // no default export: a CommonJS file's own `module.exports`, or an ES module's exports object (nothing)
  const exported: unknown = hasDefault ? (moduleExports as { default: unknown }).default : isModuleObject(moduleExports) ? undefined : moduleExports;
  if (isTrainingSpec(exported)) {
    if (training) startTraining(exported);
    else traceTrainingStep(exported, traced);
    return;
  }
  if (training) {
    fail('export', 'Training runs a training spec: end the model file with `export default defineTraining({ model, data, loss, optimizer, steps })` (see the README).', exportLine());
    return;
  }
  if (!(exported instanceof Tensor)) {
    const what = exportedWhat(exported);
    fail('export', `The model file exports ${what} as default. End it with \`export default <scalar output>\` (for example \`export default loss\`) or \`export default defineTraining({ … })\`; Backprop Lens runs backward from that tensor.`, exportLine());
    return;
  }
  postSnapshot(exported, traced, recorder, null);
}

/** The exports object of an ES module bundled to CommonJS (esbuild marks it), or an untouched `module.exports`. */
function isModuleObject(exports: unknown): boolean {
  if (typeof exports !== 'object' || exports === null) return false;
  return Object.getOwnPropertyDescriptor(exports, '__esModule') !== undefined || Object.keys(exports).length === 0;
}

/** What a default export that is not a tensor is, for the message: "nothing", "an object", "null". */
function exportedWhat(exported: unknown): string {
  if (exported === undefined) return 'nothing';
  if (exported === null) return 'null';
  if (exported instanceof Promise) return 'a Promise';
  if (Array.isArray(exported)) return 'an array';
  const type = typeof exported;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

/** Show Graph on a training file: the graph of the first training step, as the panel shows any step. */
function traceTrainingStep(spec: TrainingSpec, evaluated: Traced): void {
  let trainer: Trainer;
  let snapshot: GraphSnapshot;
  try {
    trainer = new Trainer(spec, input.overrides);
    snapshot = stepSnapshot(trainer, evaluated);
  } catch (err) {
    if (err instanceof engine.OutputError) fail('export', err.message, exportLine());
    else reportThrown(err);
    return;
  }
  post({ type: 'result', snapshot });
}

/**
 * The graph of the step the trainer takes next (its minibatch, at the current parameters), with
 * every value and gradient, leaving the trainer exactly as it was (gradients, batch norm's running
 * statistics, generators: `Trainer.probe`). Show Graph on a training file, the panel's graph at a
 * training step and `trace --at-step` all come from here. `evaluated`: what loading the file traced.
 */
function stepSnapshot(trainer: Trainer, evaluated: Traced | null): GraphSnapshot {
  return trainer.probe(() => {
    const recorder = new LayerRecorder();
    const step = trace(() => recorder.record(() => trainer.peekLoss()), traceOptions());
    const traced = evaluated ? { nodes: [...evaluated.nodes, ...step.nodes], leaves: [...evaluated.leaves, ...step.leaves] } : step;
    return snapshotOf(step.result, traced, recorder, trainer);
  });
}

function startTraining(spec: TrainingSpec): void {
  let trainer: Trainer;
  try {
    trainer = new Trainer(spec, input.overrides);
  } catch (err) {
    reportThrown(err);
    return;
  }
  if (input.plan) post({ type: 'train-plan', plan: planOf(trainer) });
  runTraining(trainer, {
    port: parentPort!, post, fail: reportThrown,
    heartbeat: new Int32Array(input.progress, 12, 1),
    progressMs: input.progressMs ?? 100, paused: input.paused ?? false,
    inspect: (request) => inspect(trainer, request),
  });
}

/** Answers the panel's questions about the current parameters; a failure is reported, the run goes on. */
function inspect(trainer: Trainer, request: InspectRequest): InspectOutcome {
  try {
    switch (request.kind) {
      case 'graph':
        return { ok: true, graph: { step: trainer.stepsTaken, snapshot: stepSnapshot(trainer, null) } };
      case 'gradcheck':
        return { ok: true, result: { kind: 'gradcheck', report: gradcheckReport(trainer) } };
      case 'hessian':
        return { ok: true, result: { kind: 'hessian', report: hessianReport(trainer) } };
      case 'landscape':
        return { ok: true, result: { kind: 'landscape', report: landscapeReport(trainer, request) } };
      case 'playground':
        return { ok: true, result: { kind: 'playground', report: playgroundReport(request, trainer) } };
      case 'boundary':
        return { ok: true, result: { kind: 'boundary', report: boundaryReport(trainer) } };
      case 'trace':
        return { ok: true, result: { kind: 'trace', report: traceReport(trainer) } };
      default: {
        const never: never = request;
        return { ok: false, error: runError('internal', `unknown inspection ${JSON.stringify(never)}`, null) };
      }
    }
  } catch (err) {
    return { ok: false, error: thrownError(err) };
  }
}

/** A layer finding pointed at the layer's weight node, when that is in the graph. */
function atLayerNode(f: Finding, snapshot: GraphSnapshot): Finding {
  const node = f.layer === null ? null : snapshot.nodes.find((n) => n.leaf === 'param' && n.scope === f.layer)?.id ?? null;
  return { ...f, node };
}

/** Builds the snapshot (see `snapshotOf`) and posts it; a failure is reported where it happened. */
function postSnapshot(output: Tensor, traced: Traced, recorder: LayerRecorder, trainer: Trainer | null): void {
  try {
    post({ type: 'result', snapshot: snapshotOf(output, traced, recorder, trainer) });
  } catch (err) {
    if (err instanceof engine.OutputError) fail('export', err.message, output.source ?? exportLine());
    else reportThrown(err);
  }
}

/** Names the traced nodes, builds the snapshot (running backward) and adds layer health. */
function snapshotOf(output: Tensor, traced: Traced, recorder: LayerRecorder, trainer: Trainer | null): GraphSnapshot {
  // the model's code is done: what follows (names, the backward pass, the snapshot, the diagnosis)
  // is Backprop Lens's work and is not charged to the model's time limit (training's inspections
  // have their own deadline)
  if (input.mode !== 'train') post({ type: 'recording' });
  // Names: a call bound to a name (`const h = f(x)`) names the last node created during that call.
  // Frames are compared outermost first, so a helper or module call names its result.
  const created = [...traced.nodes, ...traced.leaves].sort((a, b) => a.id - b.id);
  const index = nameIndex();
  const names = new Map<Tensor, string>();
  const sitesOf = (t: Tensor | undefined) => (t?.source as Located | null | undefined)?.sites;
  for (let i = 0; i < created.length; i++) {
    const sites = sitesOf(created[i]);
    if (!sites) continue;
    const next = sitesOf(created[i + 1]);
    // depth up to which the next node shares this node's call stack
    let shared = 0;
    while (next && shared < sites.length && shared < next.length && next[shared] === sites[shared]) shared++;
    for (let d = sites.length - 1; d >= 0; d--) {
      if (d < shared) break; // the next node is still inside this call: it, not this one, is the call's result
      const bound = index.get(sites[d]);
      if (!bound) continue;
      const orig = bundleMap.original(bound.line, bound.column + 1);
      const text = orig ? bundleMap.text(orig.file) : undefined;
      const name = originalSpelling(bound.name, orig && text ? { text, line: orig.line, column: orig.column - 1 } : null);
      if (name) names.set(created[i], name);
      break;
    }
  }
  for (const t of created) t.source = plain(t.source);

  const snapshot = buildSnapshot(output, {
    file: input.file, maxElements: input.maxElements, recordedNodes: traced.nodes.length,
    nameOf: (t) => names.get(t) ?? null,
    imageOf: (t) => (trainer && t === trainer.peeked?.x ? trainer.train?.imageShape ?? null : null),
    runBackward: output.grad === null,
  });
  // layer health of this pass (after backward, so gradients are there)
  const layers = recorder.summarize(trainer && !trainer.spec.model ? trainer.params : [], (t) => names.get(t) ?? null);
  const data = trainer?.train ?? null;
  const findings = diagnose({ layers, inputs: data ? { ...inputScale(data), standardized: !!trainer!.spec.standardize } : undefined, settings: trainer?.settings });
  snapshot.layers = layers;
  if (trainer) {
    snapshot.training = {
      optimizer: trainer.optimizer.settings(), schedule: trainer.schedule.kind, steps: trainer.totalSteps,
      batchSize: trainer.batchSize, seed: trainer.seed,
      dataset: data ? { name: data.name, size: data.size, features: data.features, task: data.task, validation: trainer.validation?.size ?? 0, ...(data.imageShape ? { imageShape: data.imageShape.slice() } : {}) } : null,
      surface: fileSurfaceTitle(trainer),
      parameters: trainer.params.reduce((n, q) => n + q.size, 0),
    };
  }
  snapshot.diagnosis.push(...findings.map((f) => atLayerNode(f, snapshot)));
  return snapshot;
}

main();
