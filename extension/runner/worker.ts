/**
 * The model worker: runs one bundled model file with the tracer on, builds the snapshot and posts it
 * back. It runs in a worker_threads Worker with a heap limit; the runner terminates it on timeout.
 * User code never runs on the thread that created this worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as util from 'node:util';
import * as vm from 'node:vm';
import * as engine from '../../engine/index';
import { Tensor, type SourceLocation } from '../../engine/tensor';
import { trace, TooManyNodesError } from '../../engine/trace/tracer';
import { buildSnapshot } from '../../engine/trace/snapshot';
import { setMaxTensorBytes, TensorTooLargeError } from '../../engine/dtype';
import { buildNameIndex, originalSpelling, siteKey } from './names';
import { BundleMap } from './sourcemap';
import { defaultExportLine } from '../modelFiles';
import type { LogLine, RunError, RunErrorKind, WorkerInput, WorkerMessage } from './types';

const input = workerData as WorkerInput;
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

/** A node's creation place in the bundle, with every bundle frame's call site, outermost first. */
interface Located extends SourceLocation {
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
  let inner: Located | null = null;
  for (const f of frames) {
    if (f.getFileName() !== input.bundlePath) continue;
    const line = f.getLineNumber() ?? 0;
    const column = f.getColumnNumber() ?? 0;
    inner ??= { file: input.bundlePath, line, column, sites };
    sites.push(siteKey(line, column));
  }
  sites.reverse();
  return inner;
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

function fail(kind: RunErrorKind, message: string, loc: SourceLocation | { line: number; column: number } | null, stack?: string): void {
  const file = loc && 'file' in loc ? loc.file : input.file;
  post({ type: 'error', error: { kind, message, file, line: loc?.line ?? null, column: loc?.column ?? null, stack } satisfies RunError });
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
  if (err instanceof RangeError && /array buffer|typed array length|allocation failed|Invalid array length/i.test(err.message)) return 'too-large';
  if (err instanceof Error && /shape|broadcast|dimension|\brank\b|\baxis\b|\baxes\b/i.test(err.message)) return 'shape';
  return 'runtime';
}

function reportThrown(err: unknown): void {
  if (!(err instanceof Error)) {
    fail('runtime', `The model threw ${util.inspect(err)}`, null);
    return;
  }
  const stack = err.stack; // formats (mapped) and records the call sites
  const kind = classify(err);
  let message = err.message;
  if (kind === 'too-large' && !(err instanceof TooManyNodesError)) message = `Tensor too large: ${err.message}`;
  fail(kind, message, mapped(userFrame(callSites.get(err))), stack);
}

// ---- run
function main(): void {
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
  let traced: ReturnType<typeof trace<unknown>>;
  try {
    traced = trace(() => fn(module.exports, require, module, input.file, path.dirname(input.file)), {
      locate, maxNodes: input.maxNodes, progress: new Int32Array(input.progress), check: checkMemory,
    });
  } catch (err) {
    reportThrown(err);
    return;
  }
  const exported = module.exports.default ?? (module.exports as unknown);
  if (!(exported instanceof Tensor)) {
    const what = exported === undefined ? 'nothing' : exported instanceof Promise ? 'a Promise' : Array.isArray(exported) ? 'an array' : typeof exported === 'object' && exported !== null && Object.keys(exported).length === 0 ? 'nothing' : `a ${typeof exported}`;
    fail('export', `The model file exports ${what} as default. End it with \`export default <scalar output>\` (for example \`export default loss\`); Backprop Lens runs backward from that tensor.`, exportLine());
    return;
  }

  // Names: a call bound to a name (`const h = f(x)`) names the last node created during that call.
  // Frames are compared outermost first, so a helper or module call names its result.
  const created = [...traced.nodes, ...traced.leaves].sort((a, b) => a.id - b.id);
  const index = buildNameIndex(input.code);
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
  for (const t of created) t.source = mapped(t.source);

  try {
    const snapshot = buildSnapshot(exported, {
      file: input.file, maxElements: input.maxElements, recordedNodes: traced.nodes.length,
      nameOf: (t) => names.get(t) ?? null,
      runBackward: exported.grad === null,
    });
    post({ type: 'result', snapshot });
  } catch (err) {
    if (err instanceof Error && /^The default export/.test(err.message)) fail('export', err.message, exported.source ?? exportLine());
    else reportThrown(err);
  }
}

main();
