/**
 * The runner's handle on a model process (model-host.ts): a child process forked from the host's
 * own executable (`ELECTRON_RUN_AS_NODE` makes VS Code's Electron a plain Node), spoken to over IPC
 * with structured clone (typed arrays travel as they are). Messages from it are checked like
 * webview messages: a model process is running untrusted code. Every live one is known, so
 * disposing the runner ends them all.
 *
 * Warm processes (`warmModelProcesses`, the extension turns it on in a trusted workspace): a spare
 * process is forked ahead of the run that will need it, so a run does not wait for Node (or
 * Electron) to start. A spare runs no model code until a run takes it (one 'start', one model, as
 * any model process); another spare is forked when that run ends (or a second after it started).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { int, nullable, number, object, oneOf, opaque, parse, string, tagged, tuple, type Infer, type Parsed } from '../contract';
import type { TrainControl, WorkerInput, WorkerMessage } from './types';
import { validatesRelaxedSimd } from '../../engine/backends/cpu/wasm/gemm';

export type HostToModel =
  | { type: 'start'; workerPath: string; memoryMb: number; input: Omit<WorkerInput, 'progress'> }
  | { type: 'control'; message: TrainControl }
  | { type: 'locate'; id: number; bundlePath: string };

const WORKER_TYPES = ['started', 'recording', 'log', 'result', 'error', 'train-progress', 'train-result', 'train-inspect', 'train-plan'] as const satisfies readonly WorkerMessage['type'][];
// every worker message type is listed (a new one that is not would be refused at run time)
const ALL_LISTED: [Exclude<WorkerMessage['type'], (typeof WORKER_TYPES)[number]>] extends [never] ? true : false = true;
void ALL_LISTED;
const int32 = int(-(2 ** 31), 2 ** 31 - 1);
/** The progress cells: [nodes created, bundle line, bundle column, training steps]. */
const CELLS = tuple(int32, int32, int32, int32);

/**
 * What a model process sends, declared once (contract.ts: the type, the validator): a model process
 * runs untrusted code, so its messages are checked like the webview's. A worker message is checked
 * by its envelope and passed on as it is (the runner reads it field by field).
 */
const MODEL_MESSAGES = tagged('type', {
  worker: { message: opaque<WorkerMessage>('a worker message', object({ type: oneOf(WORKER_TYPES) })), cells: CELLS },
  'worker-error': { code: nullable(string(200)), message: string(100_000), cells: CELLS },
  'worker-exit': { code: int32, cells: CELLS },
  output: { stream: oneOf(['stdout', 'stderr']), text: string(10_000_000) },
  /** The progress cells and the resident memory the model added (bytes). */
  status: { cells: CELLS, rss: number() },
  located: { id: int(), location: nullable(object({ line: int(), column: int() })) },
});

export type ModelToHost = Infer<typeof MODEL_MESSAGES>;

export interface ModelEvents {
  message(m: WorkerMessage): void;
  /** The model's worker failed (`code` is Node's, e.g. ERR_WORKER_OUT_OF_MEMORY). */
  failed(code: string | null, message: string): void;
  /** The model process or its worker ended without being asked to. */
  exited(code: number | null, signal: NodeJS.Signals | null): void;
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** Resident memory the model added to its process (bytes), every 50 ms. */
  memory(rss: number): void;
}

/** A message from a model process, or why it is not one of the protocol's. */
export function parseModelMessage(raw: unknown): Parsed<ModelToHost> {
  return parse(MODEL_MESSAGES, raw);
}

const live = new Set<ModelProcess>();

/** How many model processes are running (tests count them); spares are not model processes. */
export function liveModelProcesses(): number {
  return live.size;
}

/** Idle spare processes, by host path (at most one each). */
const spares = new Map<string, ChildProcess>();
/** Host paths whose spares are kept. */
const warm = new Set<string>();
/** Spares asked for once a run has started: forked at its end, or after this many ms. */
const REFILL_MS = 1000;
let forks = 0;

/** How many spare processes are waiting for a run (tests count them). */
export function spareModelProcesses(): number {
  return spares.size;
}

/** How many processes were forked so far, spares included (tests count them). */
export function modelProcessForks(): number {
  return forks;
}

/**
 * Keeps one spare model process of `hostPath` ready (`on`), or stops and ends the spare (`on`
 * false: the runner's dispose does this). The CLI leaves it off: it runs one model.
 */
export function warmModelProcesses(hostPath: string, on = true): void {
  if (on) {
    warm.add(hostPath);
    refill(hostPath);
    return;
  }
  warm.delete(hostPath);
  const spare = spares.get(hostPath);
  spares.delete(hostPath);
  if (spare) end(spare);
}

/**
 * V8 options of a model process. The engine's WebAssembly kernels multiply-add with relaxed SIMD's
 * fused instruction where the runtime validates it (about 1.4× the plain SIMD kernels' speed):
 * Electron (VS Code) and Node ≥ 22 do as they are; Node 20, which code-server and the CLI may run
 * on, has the finished feature (V8 11.3) behind a flag, so there the flag is passed. The relaxed
 * kernels are tested against the JavaScript reference under that flag (test/engine/relaxed-simd.test.ts).
 */
export function modelExecArgv(): string[] {
  const node20 = !process.versions.electron && Number(process.versions.node.split('.')[0]) === 20;
  return node20 && !validatesRelaxedSimd() ? ['--experimental-wasm-relaxed-simd'] : [];
}

let execArgv: string[] | undefined;

function forkHost(hostPath: string, spare: boolean): ChildProcess {
  forks++;
  execArgv ??= modelExecArgv();
  return fork(hostPath, spare ? ['--spare'] : [], {
    execPath: process.execPath,
    execArgv,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
}

function end(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** A waiting spare keeps nothing alive (a CLI, a test) until a run takes it. */
function setRef(child: ChildProcess, ref: boolean): void {
  for (const h of [child, child.channel, child.stdout, child.stderr] as ({ ref?(): void; unref?(): void } | null | undefined)[]) {
    if (ref) h?.ref?.();
    else h?.unref?.();
  }
}

function refill(hostPath: string): void {
  if (!warm.has(hostPath) || spares.has(hostPath)) return;
  const child = forkHost(hostPath, true);
  spares.set(hostPath, child);
  setRef(child, false);
  const gone = () => {
    if (spares.get(hostPath) === child) spares.delete(hostPath);
  };
  child.once('error', () => {
    gone();
    end(child);
  });
  child.once('exit', gone);
}

/** The spare of `hostPath`, taken (it is no longer a spare), if one is ready. */
function takeSpare(hostPath: string): ChildProcess | null {
  const child = spares.get(hostPath);
  spares.delete(hostPath);
  if (!child) return null;
  if (!child.connected || child.exitCode !== null || child.signalCode !== null) {
    end(child);
    return null;
  }
  setRef(child, true);
  return child;
}

export class ModelProcess {
  /** The latest progress cells: [nodes created, bundle line, bundle column, training steps]. */
  readonly cells = new Int32Array(4);
  private readonly child: ChildProcess;
  private ended = false;
  private nextLocate = 1;
  private readonly locating = new Map<number, (l: { line: number; column: number } | null) => void>();

  constructor(hostPath: string, start: Extract<HostToModel, { type: 'start' }>, private readonly on: ModelEvents) {
    this.child = takeSpare(hostPath) ?? forkHost(hostPath, false);
    live.add(this);
    if (warm.has(hostPath)) {
      // the next run's spare, once this run no longer needs the CPU (its end, or a second in)
      const timer = setTimeout(() => refill(hostPath), REFILL_MS);
      timer.unref();
      this.child.once('exit', () => {
        clearTimeout(timer);
        refill(hostPath);
      });
    }
    // the process's own output (a crash report, say) is shown like the model's
    this.child.stdout!.on('data', (d: Buffer) => on.output('stdout', d.toString('utf8')));
    this.child.stderr!.on('data', (d: Buffer) => on.output('stderr', d.toString('utf8')));
    this.child.on('message', (raw) => this.receive(raw));
    this.child.on('error', (err) => {
      if (!this.ended) on.failed(null, `the model process could not run: ${err.message}`);
      this.kill();
    });
    this.child.on('exit', (code, signal) => {
      live.delete(this);
      if (!this.ended) on.exited(code, signal);
      this.ended = true;
      for (const [, resolve] of this.locating) resolve(null);
      this.locating.clear();
    });
    this.child.send(start);
  }

  private receive(raw: unknown): void {
    if (this.ended) return;
    const parsed = parseModelMessage(raw);
    if (!parsed.ok) {
      this.on.failed('ERR_MODEL_PROTOCOL', `the model process sent a message that is not part of the protocol (${parsed.reason})`);
      this.kill();
      return;
    }
    const m = parsed.value;
    switch (m.type) {
      case 'worker':
        this.cells.set(m.cells);
        this.on.message(m.message);
        break;
      case 'worker-error':
        this.cells.set(m.cells);
        this.on.failed(m.code, m.message);
        break;
      case 'worker-exit':
        this.cells.set(m.cells);
        this.on.exited(m.code, null);
        this.kill();
        break;
      case 'output':
        this.on.output(m.stream, m.text);
        break;
      case 'status':
        this.cells.set(m.cells);
        this.on.memory(m.rss);
        break;
      case 'located':
        this.locating.get(m.id)?.(m.location);
        this.locating.delete(m.id);
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  /** Sends a control message to the model's worker. */
  post(message: TrainControl): void {
    if (!this.ended && this.child.connected) this.child.send({ type: 'control', message } satisfies HostToModel);
  }

  /** Where the model's worker is executing (bundle line and column), from the debugger; null if not found in `ms`. */
  locate(bundlePath: string, ms = 2000): Promise<{ line: number; column: number } | null> {
    if (this.ended || !this.child.connected) return Promise.resolve(null);
    const id = this.nextLocate++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.locating.delete(id);
        resolve(null);
      }, ms);
      this.locating.set(id, (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      this.child.send({ type: 'locate', id, bundlePath } satisfies HostToModel);
    });
  }

  /** Ends the process at once (nothing it does is waited for). */
  kill(): void {
    this.ended = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

