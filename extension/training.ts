/**
 * The panel's training run: one at a time per panel, in the runner's worker (never on the extension
 * host thread). Turns the webview's run / pause / step / reset into runner calls, forwards progress
 * at the rate the worker reports it, and reports every state change, so the webview can always
 * show where the run stands. Reset ends the run; the next Run starts from the file's initial
 * parameters (a fresh worker re-evaluates the file), with the overrides the view sent.
 */
import { isPythonFile, type ModelRunner, type TrainingRun } from './runner/runner';
import type { TrainOptions, TrainProgress } from './runner/types';
import { GpuRun } from './gpuRun';
import { testSummary } from '../engine/train/metrics';
import { IDLE, isLive, reduce, type RunEvent, type RunState } from '../engine/train/lifecycle';
import type { AnalysisRequest, BackendSetting, GraphSnapshot, HostMessage, TrainAction, TrainBackend, TrainOverrides, TrainStatus, WebviewMessage } from './protocol';

export interface TrainingHost {
  runner: ModelRunner;
  file: string;
  post(m: HostMessage): void;
  log(line: string): void;
  /** Timeout per step, memory cap, the unsaved text of the file (if any), and for a PyTorch script the Python that traced it. */
  options(): Pick<TrainOptions, 'timeoutMs' | 'memoryMb' | 'contents' | 'python'>;
  /** Wraps a run in VS Code's progress UI (cancellable); resolves when the run ends. */
  progress(title: string, work: (report: (step: number, total: number) => void, onCancel: (f: () => void) => void) => Promise<void>): void;
  /** Whether model code may run (workspace trust). */
  trusted(): boolean;
  /** The graph of one step at the run's current parameters (after a pause, a single step, the end). */
  graph(runId: number, step: number, snapshot: GraphSnapshot): void;
  /** Back to the file's own graph (its traced step at the initial parameters): a reset run has no step to show. */
  graphReset(): void;
  /** The `backpropLens.backend` setting: train on the panel's GPU (auto, webgpu) or on the CPU. */
  backend(): BackendSetting;
}

export class TrainingSession {
  private run: TrainingRun | null = null;
  /** The finished run, whose worker stays for inspections until a reset or a new run. */
  private last: TrainingRun | null = null;
  /** A graph of the current step is being traced; `graphAgain`: the step moved meanwhile. */
  private graphBusy = false;
  private graphAgain = false;
  private runId = 0;
  /** The current run's lifecycle (a follower: the worker or the GPU run drives); the status shown is derived from it. */
  private life: RunState = IDLE;
  private step = 0;
  private total = 0;
  private overrides: TrainOverrides = {};
  private starting: Promise<void> | null = null;
  /** The panel closed: nothing starts any more. */
  private disposed = false;
  /** Where the current (or last) run runs. */
  private backend: TrainBackend | undefined;

  constructor(private readonly host: TrainingHost) {}

  get active(): boolean {
    return this.run !== null;
  }

  /** Where the run stands (for tests and the status bar). */
  get state(): { status: TrainStatus; step: number; total: number; runId: number; lifecycle: RunState } {
    return { status: statusOf(this.life), step: this.step, total: this.total, runId: this.runId, lifecycle: this.life };
  }

  private on(e: RunEvent): void {
    this.life = reduce(this.life, e);
  }

  async handle(action: TrainAction, overrides?: TrainOverrides): Promise<void> {
    if (!this.host.trusted()) {
      this.fail('Restricted Mode: training runs model code, which needs a trusted workspace.');
      return;
    }
    await this.starting;
    switch (action) {
      case 'run':
        if (this.run) {
          this.run.resume();
          this.on({ type: 'resume' });
          this.postStatus();
        } else await this.start(overrides, false);
        break;
      case 'pause':
        if (this.run) {
          this.run.pause();
          this.on({ type: 'pause' });
          this.postStatus();
          this.host.log(`[${this.host.file.split(/[\\/]/).pop()}] training paused near step ${this.step}`);
        }
        break;
      case 'step':
        if (!this.run) await this.start(overrides, true);
        if (this.run) {
          this.run.step(1);
          this.on({ type: 'step', count: 1 });
        }
        break;
      case 'reset':
        this.reset(overrides);
        break;
      default: {
        const never: never = action;
        void never;
      }
    }
  }

  /**
   * A gradient check, loss landscape or playground run at the current parameters: pauses a running
   * run, starts a paused one when there is none (step 0), or asks the finished run.
   */
  async analyze(requestId: number, request: AnalysisRequest): Promise<void> {
    const fail = (message: string) => this.host.post({ type: 'analysis', requestId, result: null, error: { kind: 'runtime', file: this.host.file, line: null, column: null, message } });
    if (!this.host.trusted()) return fail('Restricted Mode: the analysis runs model code, which needs a trusted workspace.');
    await this.starting;
    if (!this.run && !this.last) await this.start(this.overrides, true);
    const run = this.run ?? this.last;
    if (!run) return fail('The training run could not start (see the status line).');
    if (this.life.kind === 'running') {
      run.pause();
      this.on({ type: 'pause' });
      this.postStatus();
    }
    const o = await run.inspect(request);
    if (o.ok && 'result' in o) this.host.post({ type: 'analysis', requestId, result: o.result });
    else if (!o.ok) this.host.post({ type: 'analysis', requestId, result: null, error: o.error });
  }

  /** A message of the panel's GPU run: for the current run only. */
  gpuMessage(m: Extract<WebviewMessage, { type: 'gpuStarted' | 'gpuCheckpoint' | 'gpuFailed' }>): void {
    if (this.run instanceof GpuRun && m.runId === this.runId) this.run.onMessage(m);
  }

  /** The panel reloaded: a GPU run in it is gone (the run goes on on the CPU). */
  panelReloaded(): void {
    if (this.run instanceof GpuRun) this.run.panelReloaded();
  }

  /** Traces the graph at the current parameters (coalesced: one at a time, the latest step wins). */
  private refreshGraph(): void {
    const run = this.run ?? this.last;
    // a PyTorch script is watched, not driven: its steps have no graph to take
    if (!run || isPythonFile(this.host.file)) return;
    if (this.graphBusy) {
      this.graphAgain = true;
      return;
    }
    const runId = this.runId;
    this.graphBusy = true;
    void run.inspect({ kind: 'graph' }).then((o) => {
      this.graphBusy = false;
      if (runId !== this.runId) return;
      if (o.ok && 'graph' in o) this.host.graph(runId, o.graph.step, o.graph.snapshot);
      else if (!o.ok) this.host.log(`[${this.host.file.split(/[\\/]/).pop()}] the graph of the current step failed: ${o.error.message}`);
      if (this.graphAgain) {
        this.graphAgain = false;
        this.refreshGraph();
      }
    });
  }

  /** Ends the current run (if any) and goes back to idle with the given settings. */
  reset(overrides?: TrainOverrides): void {
    if (overrides) this.overrides = overrides;
    const run = this.run;
    this.run = null;
    run?.cancel();
    this.last?.cancel();
    this.last = null;
    this.on({ type: 'cancel' });
    this.runId++;
    this.step = 0;
    this.life = IDLE;
    this.postStatus();
    this.host.graphReset();
  }

  dispose(): void {
    this.disposed = true;
    // a run still starting (bundling, forking) sees a new run id and cancels itself when it starts
    this.runId++;
    this.on({ type: 'cancel' });
    this.run?.cancel();
    this.last?.cancel();
    this.run = this.last = null;
  }

  private start(overrides: TrainOverrides | undefined, paused: boolean): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (overrides) this.overrides = overrides;
    const runId = ++this.runId;
    this.life = reduce(IDLE, { type: 'start', paused });
    this.step = 0;
    this.last?.cancel();
    this.last = null;
    this.starting = (async () => {
      const name = this.host.file.split(/[\\/]/).pop();
      let report: (step: number, total: number) => void = () => {};
      const setting = this.host.backend();
      const options = this.host.options();
      // a PyTorch script trains itself, in Python, wherever its code puts its tensors
      const torch = isPythonFile(this.host.file);
      this.backend = torch
        ? { kind: 'pytorch', ...(options.python ? { adapter: `${options.python.torch} · ${options.python.executable}` } : {}), note: 'The script trains itself; watch(model) reports its steps.' }
        : setting === 'cpu' ? { kind: 'cpu', note: 'The backpropLens.backend setting is "cpu".' } : undefined;
      const gpu = torch || setting === 'cpu' ? null : new GpuRun({
        post: (m) => this.host.post(m),
        log: (line) => this.host.log(`[${name}] ${line}`),
        backend: (b) => {
          if (runId !== this.runId) return;
          this.backend = b;
          this.host.log(`[${name}] training runs on ${b.kind === 'webgpu' ? `WebGPU (${b.adapter})` : 'the CPU'}${b.note ? `: ${b.note}` : ''}`);
          this.postStatus();
        },
      }, runId, paused, setting === 'webgpu');
      const started = await this.host.runner.train(this.host.file, {
        ...options, overrides: this.overrides, paused: gpu ? true : paused, progressMs: 100, keepAlive: true,
        plan: gpu !== null, onPlan: (p) => gpu?.onPlan(p),
        onProgress: (raw: TrainProgress) => {
          if (runId !== this.runId) return;
          const p = gpu ? gpu.progress(raw) : raw;
          this.step = p.step;
          this.total = p.total;
          report(p.step, p.total);
          // the driver stands still (paused, the single steps taken)
          if (p.paused) this.on({ type: 'halted' });
          this.host.post({ type: 'trainProgress', runId, progress: p });
          // paused (or one step taken): the graph follows to this step
          if (p.paused && p.step > 0) this.refreshGraph();
        },
      });
      if (runId !== this.runId) {
        started.cancel();
        return;
      }
      const run = gpu ? gpu.attach(started) : started;
      this.run = run;
      this.on({ type: 'started' });
      this.postStatus();
      this.host.log(`[${name}] training started${Object.keys(this.overrides).length ? ` with ${JSON.stringify(this.overrides)}` : ''}`);
      this.host.progress(`Backprop Lens: training ${name}`, (r, onCancel) => {
        report = r;
        onCancel(() => this.reset());
        return run.done.then(() => undefined);
      });
      void run.done.then((out) => {
        if (runId !== this.runId) return;
        this.run = null;
        if (out.ok) {
          this.last = run;
          this.refreshGraph();
          const r = out.result;
          this.step = r.steps;
          this.host.log(`[${name}] training ${r.stoppedEarly ? `stopped early (${r.stoppedEarly})` : 'finished'}: ${r.steps} steps, loss ${r.history[r.history.length - 1]?.loss}`);
          this.on(r.stoppedEarly ? { type: 'finished', stoppedEarly: r.stoppedEarly } : { type: 'finished' });
          const said = [r.stoppedEarly ? `Stopped early: ${r.stoppedEarly}.` : '', r.test ? `${testSummary(r.test).replace(/^t/, 'T')}.` : ''].filter(Boolean).join(' ');
          if (r.test) this.host.log(`[${name}] ${testSummary(r.test)}`);
          this.postStatus(said || undefined);
        } else {
          const e = out.errors[0];
          const where = e.line ? `${e.file.split(/[\\/]/).pop()}:${e.line}: ` : '';
          this.host.log(`[${name}] training failed: ${where}${e.message}`);
          this.fail(`${where}${e.message}`);
        }
      });
    })().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  /** A run (or a request for one) that failed: its state says why. */
  private fail(message: string): void {
    this.life = reduce(this.life.kind === 'idle' || isLive(this.life) ? this.life : IDLE, { type: 'failed', error: message });
    this.postStatus(message);
  }

  private postStatus(message?: string): void {
    const status = statusOf(this.life);
    this.host.post({ type: 'trainStatus', runId: this.runId, status, step: this.step, total: this.total, overrides: this.overrides, ...(message ? { message } : {}), ...(this.backend ? { backend: this.backend } : {}) });
  }
}

/** What the training view shows for a lifecycle state (single steps are taken from a pause; a cancelled run is followed by an idle one). */
export function statusOf(s: RunState): TrainStatus {
  switch (s.kind) {
    case 'idle':
    case 'cancelled':
      return 'idle';
    case 'starting':
      return s.paused ? 'paused' : 'running';
    case 'running':
      return 'running';
    case 'paused':
    case 'stepping':
      return 'paused';
    case 'done':
      return s.stoppedEarly === undefined ? 'done' : 'stopped';
    case 'failed':
      return 'error';
    default: {
      const never: never = s;
      return never;
    }
  }
}
