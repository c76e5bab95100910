/**
 * The runner's handle on a model process (model-host.ts): a child process forked from the host's
 * own executable (`ELECTRON_RUN_AS_NODE` makes VS Code's Electron a plain Node), spoken to over IPC
 * with structured clone (typed arrays travel as they are). Messages from it are checked like
 * webview messages: a model process is running untrusted code. Every live one is known, so
 * disposing the runner ends them all.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { TrainControl, WorkerInput, WorkerMessage } from './types';

export type HostToModel =
  | { type: 'start'; workerPath: string; memoryMb: number; input: Omit<WorkerInput, 'progress'> }
  | { type: 'control'; message: TrainControl }
  | { type: 'locate'; id: number; bundlePath: string };

export type ModelToHost =
  | { type: 'worker'; message: WorkerMessage; cells: number[] }
  | { type: 'worker-error'; code: string | null; message: string; cells: number[] }
  | { type: 'worker-exit'; code: number; cells: number[] }
  | { type: 'output'; stream: 'stdout' | 'stderr'; text: string }
  /** The progress cells ([nodes, line, column, steps]) and the resident memory the model added. */
  | { type: 'status'; cells: number[]; rss: number }
  | { type: 'located'; id: number; location: { line: number; column: number } | null };

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

const WORKER_TYPES = new Set(['started', 'log', 'result', 'error', 'train-progress', 'train-result', 'train-inspect', 'train-plan']);
const isCells = (c: unknown) => Array.isArray(c) && c.length === 4 && c.every((x) => Number.isInteger(x));

/** A message from a model process, or null when it is not one of the protocol's. */
export function parseModelMessage(raw: unknown): ModelToHost | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'worker': {
      const w = m.message as { type?: unknown } | null;
      return typeof w === 'object' && w !== null && WORKER_TYPES.has(w.type as string) && isCells(m.cells) ? (m as ModelToHost) : null;
    }
    case 'worker-error':
      return (m.code === null || typeof m.code === 'string') && typeof m.message === 'string' && isCells(m.cells) ? (m as ModelToHost) : null;
    case 'worker-exit':
      return Number.isInteger(m.code) && isCells(m.cells) ? (m as ModelToHost) : null;
    case 'output':
      return (m.stream === 'stdout' || m.stream === 'stderr') && typeof m.text === 'string' ? (m as ModelToHost) : null;
    case 'status':
      return isCells(m.cells) && typeof m.rss === 'number' && Number.isFinite(m.rss) ? (m as ModelToHost) : null;
    case 'located': {
      const l = m.location as { line?: unknown; column?: unknown } | null;
      return Number.isInteger(m.id) && (l === null || (typeof l === 'object' && Number.isInteger(l.line) && Number.isInteger(l.column))) ? (m as ModelToHost) : null;
    }
    default:
      return null;
  }
}

const live = new Set<ModelProcess>();

/** How many model processes are running (tests count them). */
export function liveModelProcesses(): number {
  return live.size;
}

export class ModelProcess {
  /** The latest progress cells: [nodes created, bundle line, bundle column, training steps]. */
  readonly cells = new Int32Array(4);
  private readonly child: ChildProcess;
  private ended = false;
  private nextLocate = 1;
  private readonly locating = new Map<number, (l: { line: number; column: number } | null) => void>();

  constructor(hostPath: string, start: Extract<HostToModel, { type: 'start' }>, private readonly on: ModelEvents) {
    this.child = fork(hostPath, [], {
      execPath: process.execPath,
      execArgv: [],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    live.add(this);
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
    const m = parseModelMessage(raw);
    if (!m) {
      this.on.failed('ERR_MODEL_PROTOCOL', `the model process sent a message that is not part of the protocol (${describe(raw)})`);
      this.kill();
      return;
    }
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


function describe(raw: unknown): string {
  try {
    return JSON.stringify(raw)?.slice(0, 80) ?? String(raw);
  } catch {
    return typeof raw;
  }
}
