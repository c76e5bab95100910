/**
 * PyTorch model files: finds a Python that has torch, runs the package `python/backprop_lens` in
 * its own process on the user's file, and turns what it sends into the runner's outcomes. The
 * process is watched like a TypeScript model's: the model's own time (from its `started` message
 * to `recording`) against the timeout, recording against its own limit, its resident memory against
 * the memory limit; past a limit it is asked where it was (SIGUSR1) and killed. Nothing here
 * imports vscode: the extension and the CLI use it alike.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { torchSnapshot } from '../../engine/trace/torch';
import type { TorchTrace } from '../../engine/trace/torch-trace';
import { TORCH_TRACE_VERSION } from '../../engine/trace/torch-trace';
import { WatchedRun } from '../../engine/train/watch';
import type { WatchRecord } from '../../engine/train/watch-records';
import type { GpuPlanOrReason } from '../../engine/train/plan';
import { DEFAULTS, mergeProgress, type PythonInfo, type InspectOutcome, type LogLine, type RunError, type RunErrorKind, type RunOptions, type RunOutcome, type TrainOptions, type TrainOutcome, type TrainProgress } from './types';
import type { TrainingRun } from './runner';

/** The Python package's directory (shipped next to dist/). */
export const pythonPackageDir = (distDir: string) => path.join(distDir, '..', 'python');

export type { PythonInfo };

/** Why no Python could run the file, as the user should read it. */
export class NoPythonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoPythonError';
  }
}

const probed = new Map<string, Promise<{ version: string; torch: string } | { problem: string }>>();

const PROBE = 'import sys, json\ntry:\n import torch\n t = torch.__version__\nexcept Exception as e:\n t = None\nprint(json.dumps({"version": sys.version.split()[0], "torch": t}))';

/** What `executable` is: its Python and torch versions, or why it cannot run PyTorch files (asked once per executable, without blocking). */
export function probePython(executable: string): Promise<{ version: string; torch: string } | { problem: string }> {
  let known = probed.get(executable);
  if (!known) {
    known = new Promise((resolve) => {
      let out = '';
      let err = '';
      let child: ChildProcess;
      try {
        child = spawn(executable, ['-c', PROBE], { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        resolve({ problem: `${executable} did not run (${(e as Error).message})` });
        return;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ problem: `${executable} did not run (${e.message})` });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code !== 0) {
          resolve({ problem: `${executable} did not run (${(err.trim().split('\n').pop() || `exit code ${code}`)})` });
          return;
        }
        try {
          const v = JSON.parse(out.trim().split('\n').pop() ?? '') as { version: string; torch: string | null };
          resolve(v.torch ? { version: v.version, torch: v.torch } : { problem: `${executable} (Python ${v.version}) has no torch` });
        } catch {
          resolve({ problem: `${executable} did not say its version` });
        }
      });
    });
    probed.set(executable, known);
  }
  return known;
}

const SOURCES: Record<PythonInfo['source'], string> = {
  setting: 'the "backpropLens.python" setting or --python', 'python-extension': "the Python extension's interpreter", environment: 'BPL_PYTHON', path: 'PATH',
};

const INSTALL_HINT = 'Install PyTorch for it (pip install torch; on Debian or Ubuntu, apt-get install python3-torch), or point the "backpropLens.python" setting (the CLI: --python or BPL_PYTHON) at a Python that has it.';

/**
 * The Python to run PyTorch files with: the first chosen candidate (the setting, the Python
 * extension's interpreter), which must import torch (else an error naming it); with none chosen,
 * `python3`, then `python`, then Debian's `/usr/bin/python3` (a version manager's shim may come
 * first on PATH with no torch).
 */
export async function findPython(chosen: { executable: string; source: PythonInfo['source'] }[]): Promise<PythonInfo> {
  for (const c of chosen) {
    const p = await probePython(c.executable);
    if ('problem' in p) throw new NoPythonError(`Backprop Lens runs PyTorch files with ${c.executable} (${SOURCES[c.source]}), but ${p.problem}. ${INSTALL_HINT}`);
    return { executable: c.executable, source: c.source, ...p };
  }
  const tried: string[] = [];
  for (const exe of ['python3', 'python', '/usr/bin/python3']) {
    const p = await probePython(exe);
    if ('problem' in p) {
      tried.push(p.problem);
      continue;
    }
    return { executable: exe, source: 'path', ...p };
  }
  throw new NoPythonError(`Backprop Lens needs Python 3 with PyTorch to run .py files, and found none: ${tried.join('; ')}. ${INSTALL_HINT}`);
}

/** Resident memory of a process in MB (Linux /proc, else ps), or null when it cannot be read. */
function residentMb(pid: number): number | null {
  try {
    const statm = fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    return (Number(statm[1]) * 4096) / 2 ** 20;
  } catch {
    const r = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
    const kb = Number(r.stdout.trim());
    return r.status === 0 && Number.isFinite(kb) ? kb / 1024 : null;
  }
}

/** Lines of a stream, as they come (a partial last line is held until its newline, and given at the end). */
export function lines(stream: Readable, each: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      each(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (buffer) each(buffer);
  });
}

/** The package's messages (python/backprop_lens: JSON lines on fd 3). */
type PythonMessage =
  | { type: 'started' }
  | { type: 'recording' }
  | { type: 'where'; file: string | null; line: number | null }
  | { type: 'result'; trace: TorchTrace }
  | { type: 'error'; error: { kind: string; message: string; file: string | null; line: number | null; column: number | null; traceback?: string } }
  | WatchRecord;

const KINDS: readonly RunErrorKind[] = ['syntax', 'runtime', 'shape', 'export', 'too-large'];
/** The largest message the package may send (a trace of 20,000 nodes with payloads stays far below). */
const MAX_MESSAGE = 512 * 2 ** 20;
const WATCH_TYPES = ['watch-start', 'watch-step', 'watch-end'];

/** Checks a message's envelope (the process runs the user's code: what it sends is not trusted). */
function parseMessage(line: string): PythonMessage | string {
  if (line.length > MAX_MESSAGE) return `a message of ${line.length} characters`;
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    return 'a line that is not JSON';
  }
  if (typeof m !== 'object' || m === null || typeof (m as { type?: unknown }).type !== 'string') return 'a message without a type';
  const t = (m as { type: string }).type;
  if (t === 'result') {
    const trace = (m as { trace?: Partial<TorchTrace> }).trace;
    if (!trace || trace.version !== TORCH_TRACE_VERSION || !Array.isArray(trace.nodes) || !Array.isArray(trace.steps) || typeof trace.output !== 'number') return 'a result that is not a trace of this version';
    if (trace.output < 0 || trace.output >= trace.nodes.length) return 'a trace whose output is not one of its nodes';
  } else if (t === 'error') {
    const e = (m as { error?: { kind?: unknown; message?: unknown } }).error;
    if (!e || typeof e.message !== 'string' || typeof e.kind !== 'string') return 'an error without a kind and a message';
  } else if (!['started', 'recording', 'where', ...WATCH_TYPES].includes(t)) return `a message of type ${JSON.stringify(t).slice(0, 40)}`;
  return m as PythonMessage;
}

export interface PythonRunOptions extends RunOptions {
  /** The interpreter (findPython). */
  python: PythonInfo;
  /** The package's directory (pythonPackageDir). */
  packageDir: string;
  /** Recording the graph once the model's code is done: its own limit. */
  recordingLimitMs?: number;
  /** Starting Python and importing torch (not charged to the model). */
  startupLimitMs?: number;
}

type Located = { file?: string | null; line?: number | null; column?: number | null };

/**
 * One run of the package on the user's file (`trace` or `train`), watched: the limits, the
 * messages, the exit. `onMessage` sees every checked message; the run ends when `finish` is
 * called (by the caller's handler or here, for a limit, an error message or an early exit).
 */
class PythonProcess {
  private readonly child: ChildProcess | null;
  private settled = false;
  private startedAt: number | null = null;
  private recordingAt: number | null = null;
  /** Training: the last record's time (each step must come within the timeout). */
  private lastRecordAt: number | null = null;
  private where: { file: string | null; line: number | null } | null = null;
  private pendingStop: RunError | null = null;
  private readonly watch: NodeJS.Timeout;
  readonly logs: LogLine[] = [];
  private readonly t0 = performance.now();

  constructor(
    private readonly file: string, mode: 'trace' | 'train', private readonly opts: PythonRunOptions,
    private readonly onMessage: (m: PythonMessage) => void,
    private readonly onEnd: (errors: RunError[] | null) => void,
  ) {
    const env = {
      ...process.env,
      PYTHONPATH: [opts.packageDir, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
      BPL_FD: '3', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1',
    };
    const args = ['-X', 'utf8', '-m', 'backprop_lens', mode, file];
    if (mode === 'trace') args.push('--max-elements', String(opts.maxElements ?? DEFAULTS.maxElements), '--max-nodes', String(opts.maxNodes ?? DEFAULTS.maxNodes));
    // the editor's unsaved buffer runs as the file: its text is stdin's first line (before any control)
    if (opts.contents !== undefined) args.push('--source-stdin');
    // a run started paused is paused from its first step (an argument, not a control that could come late)
    if (mode === 'train' && (opts as TrainOptions).paused) args.push('--paused');
    let child: ChildProcess | null = null;
    try {
      child = spawn(opts.python.executable, args, { cwd: path.dirname(file), env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    } catch (err) {
      queueMicrotask(() => this.finish([this.fail('internal', `Could not start ${opts.python.executable}: ${String((err as Error).message)}`)]));
    }
    this.child = child;
    this.watch = setInterval(() => this.check(mode), 100);
    opts.signal?.addEventListener('abort', this.onAbort);
    if (!child) return;
    const pipe = (stream: 'stdout' | 'stderr') => (text: string) => {
      const line = { stream, text };
      this.logs.push(line);
      opts.onLog?.(line);
    };
    lines(child.stdout!, pipe('stdout'));
    lines(child.stderr!, pipe('stderr'));
    lines(child.stdio[3] as Readable, (text) => this.receive(text));
    child.stdin!.on('error', () => {}); // the process may be gone before a control arrives
    if (opts.contents !== undefined) child.stdin!.write(`${JSON.stringify(opts.contents)}\n`);
    child.on('error', (err) => this.finish([this.fail('internal', `Could not run ${opts.python.executable}: ${err.message}`)]));
    child.on('exit', (code, signal) => {
      // let the pipes deliver what was sent before the exit
      setTimeout(() => {
        if (this.settled) return;
        // stopped for a limit: that is what happened, however the process ended
        if (this.pendingStop) {
          this.finish([this.located(this.pendingStop)]);
          return;
        }
        if (mode === 'train' && code === 0 && !signal) {
          this.finish(null);
          return;
        }
        const tail = this.logs.filter((l) => l.stream === 'stderr').slice(-5).map((l) => l.text).join('\n');
        const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
        this.finish([this.located(this.fail('runtime', `The Python process ${how} before it sent a result.${tail ? `\n${tail}` : ''}`))]);
      }, 50);
    });
  }

  get runMs(): number {
    return performance.now() - this.t0;
  }

  fail(kind: RunErrorKind, message: string, at: Located = {}): RunError {
    return { kind, file: at.file ?? this.file, line: at.line ?? null, column: at.column ?? null, message };
  }

  /** Sends a control message to the package (training: pause, resume, step, stop), as a JSON line on its stdin. */
  send(control: Record<string, unknown>): void {
    if (this.settled || !this.child?.stdin?.writable) return;
    this.child.stdin.write(`${JSON.stringify(control)}\n`);
  }

  finish(errors: RunError[] | null): void {
    if (this.settled) return;
    this.settled = true;
    clearInterval(this.watch);
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    this.onEnd(errors);
  }

  private readonly onAbort = () => this.finish([this.fail('cancelled', 'The run was cancelled (its panel was closed).')]);

  private located(error: RunError): RunError {
    const w = this.where;
    return w?.line ? { ...error, file: w.file ?? error.file, line: w.line, message: `${error.message} It was running line ${w.line}.` } : error;
  }

  /** Stops the process past a limit: asks where it is (SIGUSR1, answered with a `where` message), then kills it. */
  private stop(error: RunError): void {
    if (this.pendingStop || this.settled) return;
    this.pendingStop = error;
    try {
      this.child?.kill('SIGUSR1');
    } catch {
      // the process is gone already
    }
    setTimeout(() => this.finish([this.located(error)]), 300);
  }

  private check(mode: 'trace' | 'train'): void {
    const now = performance.now();
    const { timeoutMs = DEFAULTS.timeoutMs, memoryMb = DEFAULTS.memoryMb } = this.opts;
    const startupLimitMs = this.opts.startupLimitMs ?? 60_000;
    const recordingLimitMs = this.opts.recordingLimitMs ?? 60_000;
    if (this.startedAt === null) {
      if (now - this.t0 > startupLimitMs) this.stop(this.fail('internal', `Python did not start the model within ${startupLimitMs / 1000} s (importing torch; is the machine overloaded?).`));
    } else if (mode === 'train') {
      if (this.paused) this.lastRecordAt = now;
      else if (now - (this.lastRecordAt ?? this.startedAt) > timeoutMs) {
        this.stop(this.fail('timeout', this.lastRecordAt === null
          ? `The script ran ${timeoutMs / 1000} s without reaching its first watched step and was stopped. The limit is the "backpropLens.timeoutMs" setting (the time a training step may take).`
          : `A training step ran longer than ${timeoutMs / 1000} s and was stopped. The limit is the "backpropLens.timeoutMs" setting.`));
      }
    } else if (this.recordingAt === null) {
      if (now - this.startedAt > timeoutMs) this.stop(this.fail('timeout', `The model ran longer than ${timeoutMs / 1000} s and was stopped. The limit is the "backpropLens.timeoutMs" setting.`));
    } else if (now - this.recordingAt > recordingLimitMs) {
      this.stop(this.fail('timeout', `The model ran, but recording its graph took longer than ${recordingLimitMs / 1000} s and was stopped. Recording has its own limit, apart from the model's "backpropLens.timeoutMs"; a smaller graph records faster.`));
    }
    const mb = this.child?.pid !== undefined ? residentMb(this.child.pid) : null;
    if (mb !== null && mb > memoryMb) this.stop(this.fail('memory', `The model's process uses ${mb.toFixed(0)} MB, more than the memory limit of ${memoryMb} MB (the "backpropLens.memoryLimitMb" setting).`));
  }

  /** Set by a training run's controls: a paused run is not timed. */
  paused = false;

  private receive(text: string): void {
    if (!text.trim() || this.settled) return;
    const m = parseMessage(text);
    if (typeof m === 'string') {
      this.finish([this.fail('internal', `The Python process sent ${m}; nothing of it is used.`)]);
      return;
    }
    switch (m.type) {
      case 'started':
        this.startedAt = performance.now();
        break;
      case 'recording':
        this.recordingAt = performance.now();
        break;
      case 'where':
        this.where = { file: m.file, line: m.line };
        if (this.pendingStop) this.finish([this.located(this.pendingStop)]);
        return;
      case 'error': {
        const e = m.error;
        const kind = (KINDS as readonly string[]).includes(e.kind) ? (e.kind as RunErrorKind) : 'runtime';
        this.finish([{ ...this.fail(kind, e.message, e), stack: e.traceback }]);
        return;
      }
      default:
        if (WATCH_TYPES.includes(m.type)) this.lastRecordAt = performance.now();
    }
    this.onMessage(m);
  }
}

/** Whether the script calls backprop_lens's watch() (then the panel can train it). */
function callsWatch(file: string): boolean {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return /^\s*(?:from\s+backprop_lens\b|import\s+backprop_lens\b)/m.test(text) && /\bwatch\s*\(/.test(text);
  } catch {
    return false;
  }
}

/** Runs a PyTorch file traced: its graph, values, gradients and backward pass, as the same outcome a TypeScript model gives. */
export function runPythonTrace(file: string, opts: PythonRunOptions): Promise<RunOutcome> {
  return new Promise<RunOutcome>((resolve) => {
    let trace: TorchTrace | null = null;
    const proc: PythonProcess = new PythonProcess(file, 'trace', opts, (m) => {
      if (m.type !== 'result') return;
      trace = m.trace;
      proc.finish(null);
    }, (errors) => {
      const timings = { bundleMs: 0, runMs: proc.runMs };
      if (errors) {
        resolve({ ok: false, file, errors, logs: proc.logs, timings, files: [file] });
        return;
      }
      if (!trace) {
        resolve({ ok: false, file, errors: [proc.fail('internal', 'The Python process ended without a result.')], logs: proc.logs, timings, files: [file] });
        return;
      }
      try {
        const snapshot = torchSnapshot(trace, { verify: process.env.BPL_VERIFY_SNAPSHOTS === '1' });
        snapshot.runtime = { kind: 'pytorch', torch: opts.python.torch, python: opts.python.executable, pythonVersion: opts.python.version };
        // a script whose training loop calls watch(model) can be trained from the panel
        if (callsWatch(file)) snapshot.training = { optimizer: { optimizer: 'pytorch' }, schedule: 'as in the script', steps: 0, batchSize: null, seed: 0, dataset: null, watched: true };
        resolve({ ok: true, file, snapshot, logs: proc.logs, timings, files: [file] });
      } catch (err) {
        resolve({ ok: false, file, errors: [proc.fail('internal', `The PyTorch trace could not be shown: ${String((err as Error).message)}`)], logs: proc.logs, timings, files: [file] });
      }
    });
  });
}

/**
 * Runs a PyTorch training script whose loop calls `watch(model)`: its loss, layer summaries and
 * diagnosis arrive as it trains (`onProgress`), as a TypeScript training run's do. Pause, resume and
 * single steps take effect at the next watched step; stop ends the script there.
 */
export function runPythonTrain(file: string, opts: PythonRunOptions & TrainOptions): TrainingRun {
  const run = new WatchedRun();
  let partial: TrainProgress | null = null;
  let paused = opts.paused ?? false;
  let lastReport = 0;
  let pending: TrainProgress | null = null;
  const report = (p: TrainProgress, force: boolean) => {
    partial = mergeProgress(partial, p);
    pending = pending ? mergeProgress(pending, p) : p;
    const now = performance.now();
    if (!force && now - lastReport < (opts.progressMs ?? 100)) return;
    lastReport = now;
    opts.onProgress?.(pending);
    pending = null;
  };
  let resolveDone!: (o: TrainOutcome) => void;
  const done = new Promise<TrainOutcome>((r) => (resolveDone = r));
  const proc: PythonProcess = new PythonProcess(file, 'train', opts, (m) => {
    if (!WATCH_TYPES.includes(m.type)) return;
    const added = run.add(m as WatchRecord);
    if ('problem' in added) {
      proc.finish([proc.fail('internal', `The watched run sent ${added.problem}.`)]);
      return;
    }
    const step = run.history[run.history.length - 1]?.step ?? (m.type === 'watch-step' ? m.step : 0);
    report({ step, total: Math.max(step, opts.overrides?.steps ?? 0), history: added.history, layers: added.layers, findings: run.findings, stepsPerSecond: 0, paused }, m.type !== 'watch-step');
  }, (errors) => {
    if (pending) opts.onProgress?.(pending);
    const timings = { bundleMs: 0, runMs: proc.runMs };
    if (errors) resolveDone({ ok: false, file, errors, logs: proc.logs, timings, files: [file], partial });
    else if (!run.start) resolveDone({ ok: false, file, errors: [proc.fail('export', 'The script ran to its end without calling watch(model): add `from backprop_lens import watch` and `watch(model)` before its training loop (see the README\'s PyTorch section).')], logs: proc.logs, timings, files: [file], partial });
    else resolveDone({ ok: true, file, result: run.result(), logs: proc.logs, timings, files: [file] });
  });
  proc.paused = paused;
  opts.onPlan?.({ reason: 'A PyTorch script trains itself, on whatever device it chose; the panel watches it.' } satisfies GpuPlanOrReason);
  const unsupported = (): Promise<InspectOutcome> => Promise.resolve({ ok: false, error: proc.fail('settings', 'The gradient check, loss landscape, playground and the graph at a training step are for TypeScript training files; a PyTorch script is watched, not driven.') });
  return {
    done,
    pause: () => {
      paused = proc.paused = true;
      proc.send({ type: 'pause' });
    },
    resume: () => {
      paused = proc.paused = false;
      proc.send({ type: 'resume' });
    },
    step: (count = 1) => proc.send({ type: 'step', count }),
    stop: () => proc.send({ type: 'stop' }),
    cancel: () => proc.finish([proc.fail('cancelled', 'The training run was cancelled.')]),
    inspect: unsupported,
    adopt: () => {},
  };
}
