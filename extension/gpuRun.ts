/**
 * A training run on the panel's GPU, seen by the host as any other `TrainingRun`.
 *
 * The model worker still loads the file and builds the Trainer; asked for a plan, it captures the
 * step as Graph IR and waits, paused. The plan goes to the webview, which trains on WebGPU and
 * sends checkpoints (parameters, optimizer slots, history) every half second and whenever it
 * pauses or ends; the worker adopts each one, so its Trainer mirrors the GPU run: it reports the
 * progress (history, layer summaries, findings), answers inspections (graph at a step, gradient
 * check, landscape) and produces the result. When the GPU cannot go on (no adapter, device lost,
 * out of memory, a panel reload), the worker goes on on the CPU from the last checkpoint: nothing
 * the user saw is lost, and the steps since that checkpoint are taken again.
 */
import type { GpuPlanOrReason } from '../engine/train/plan';
import type { Checkpoint, HistoryEntry } from '../engine/train/trainer';
import type { TrainingRun } from './runner/runner';
import type { InspectOutcome, InspectRequest, TrainOutcome, TrainProgress } from './runner/types';
import type { GpuAction, HostMessage, TrainBackend, WebviewMessage } from './protocol';
import { IDLE, isPaused, isTerminal, reduce, type RunEvent, type RunState } from '../engine/train/lifecycle';

export interface GpuLink {
  post(m: HostMessage): void;
  log(line: string): void;
  /** Where the run runs now (shown in the training view). */
  backend(b: TrainBackend): void;
}

/** How long an inspection waits for the GPU run to confirm a pause (its checkpoint) before using the last one. */
const PAUSE_WAIT_MS = 15_000;

/** Where the steps are taken: nowhere yet (waiting for the plan), on the panel's GPU, or in the worker. */
type Mode = 'waiting' | 'gpu' | 'cpu';

/**
 * A follower of the shared run lifecycle: it forwards the user's controls to the driver (the
 * panel's GPU run, or the worker once on the CPU) and learns from its reports; a pause is settled
 * when the driver's checkpoint says it stands still. `mode` says only where the run runs.
 */
export class GpuRun implements TrainingRun {
  private worker: TrainingRun | null = null;
  private mode: Mode = 'waiting';
  private plan: GpuPlanOrReason | null = null;
  private run: RunState;
  private waiters: (() => void)[] = [];
  private adoptedStep = 0;
  /** The panel said its GPU run started (a failure after that loses the steps since the last checkpoint). */
  private gpuStarted = false;

  constructor(private readonly link: GpuLink, readonly runId: number, paused: boolean, private readonly software: boolean) {
    this.run = reduce(IDLE, { type: 'start', paused });
  }

  /** The run's lifecycle state (for tests). */
  get state(): RunState {
    return this.run;
  }

  /** The worker run (started paused, with `plan`). */
  attach(worker: TrainingRun): this {
    this.worker = worker;
    void worker.done.then((o) => this.on(o.ok ? { type: 'finished', ...(o.result.stoppedEarly ? { stoppedEarly: o.result.stoppedEarly } : {}) } : { type: 'failed', error: o.errors[0]?.message ?? 'failed' }));
    if (this.plan) this.onPlan(this.plan);
    return this;
  }

  get done(): Promise<TrainOutcome> {
    return this.worker!.done;
  }

  /** Applies `e`; true if the state changed. */
  private on(e: RunEvent): boolean {
    const before = this.run;
    this.run = reduce(before, e);
    if (this.isSettled()) this.wake();
    return this.run !== before;
  }

  onPlan(p: GpuPlanOrReason): void {
    this.plan = p;
    if (!this.worker || this.mode !== 'waiting') return;
    this.on({ type: 'started' });
    if ('reason' in p) {
      this.toCpu(`Runs on the CPU: ${p.reason}.`);
      return;
    }
    this.mode = 'gpu';
    const s = this.run;
    this.link.post({ type: 'gpuTrain', runId: this.runId, plan: p.plan, paused: s.kind !== 'running', software: this.software });
    if (s.kind === 'stepping') for (let i = 0; i < s.remaining; i++) this.control('step');
  }

  /** A message of the panel's GPU run (already validated; `runId` matches). */
  onMessage(m: Extract<WebviewMessage, { type: 'gpuStarted' | 'gpuCheckpoint' | 'gpuFailed' }>): void {
    if (this.mode !== 'gpu') return;
    switch (m.type) {
      case 'gpuStarted':
        this.gpuStarted = true;
        this.link.backend({ kind: 'webgpu', adapter: m.adapter });
        break;
      case 'gpuCheckpoint': {
        const history: HistoryEntry[] = [];
        for (let i = 0; i < m.history.step.length; i++) {
          history.push({ step: m.history.step[i], loss: m.history.loss[i], lr: m.history.lr[i], gradNorm: m.history.gradNorm[i] });
        }
        const checkpoint: Checkpoint = { step: m.step, params: m.params, slots: m.slots, history };
        this.adoptedStep = m.step;
        this.worker!.adopt(checkpoint, m.log);
        // the GPU run stands still: this checkpoint is its current state
        if (m.paused) this.on({ type: 'halted' });
        break;
      }
      case 'gpuFailed':
        this.link.log(`WebGPU: ${m.reason}`);
        this.toCpu(this.gpuStarted ? `WebGPU stopped (${m.reason}); the run goes on on the CPU from step ${this.adoptedStep}.` : `Runs on the CPU: ${m.reason}.`);
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  /** The panel was reloaded: its GPU run is gone. */
  panelReloaded(): void {
    if (this.mode === 'gpu') this.toCpu(`The panel was reloaded, which ended its GPU run; the run goes on on the CPU from step ${this.adoptedStep}.`);
  }

  /** The worker's progress, with the pause state of the GPU run while the worker only mirrors it. */
  progress(p: TrainProgress): TrainProgress {
    if (this.mode === 'cpu') {
      // the worker drives: its paused report is its halt
      if (p.paused) this.on({ type: 'halted' });
      return p;
    }
    // as the user asked: single steps are taken from a pause
    return { ...p, paused: isPaused(this.run) || this.run.kind === 'stepping' };
  }

  pause(): void {
    if (!this.on({ type: 'pause' })) return;
    if (this.mode === 'gpu') this.control('pause');
    else if (this.mode === 'cpu') this.worker!.pause();
  }

  resume(): void {
    if (!this.on({ type: 'resume' })) return;
    if (this.mode === 'gpu') this.control('resume');
    else if (this.mode === 'cpu') this.worker!.resume();
  }

  step(count = 1): void {
    if (!this.on({ type: 'step', count })) return;
    if (this.mode === 'gpu') for (let i = 0; i < count; i++) this.control('step');
    else if (this.mode === 'cpu') this.worker!.step(count);
    // waiting: the steps are taken when the plan comes (the state counts them)
  }

  stop(): void {
    this.pause();
    void this.settled().then(() => this.worker!.stop());
  }

  cancel(): void {
    this.on({ type: 'cancel' });
    if (this.mode === 'gpu') this.control('cancel');
    this.mode = 'cpu';
    this.wake();
    this.worker?.cancel();
  }

  async inspect(request: InspectRequest): Promise<InspectOutcome> {
    await this.settled();
    return this.worker!.inspect(request);
  }

  adopt(): void {
    throw new Error('GpuRun: the GPU run adopts its own checkpoints');
  }

  /** The worker's state is the run's: on the CPU, or the GPU run stands still (or ended). */
  private isSettled(): boolean {
    return this.mode !== 'gpu' || (this.run.kind === 'paused' && this.run.settled) || isTerminal(this.run);
  }

  /** Resolves when the GPU run's last checkpoint is its current state (paused), or at once on the CPU. */
  private settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(), PAUSE_WAIT_MS);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private control(action: GpuAction): void {
    this.link.post({ type: 'gpuControl', runId: this.runId, action });
  }

  private toCpu(note: string): void {
    const wasGpu = this.mode === 'gpu';
    this.mode = 'cpu';
    this.wake();
    this.link.backend({ kind: 'cpu', note });
    if (wasGpu) this.link.log(note);
    // the worker (started paused) takes over where the user left the run
    const s = this.run;
    if (s.kind === 'running') this.worker!.resume();
    else if (s.kind === 'stepping') this.worker!.step(s.remaining);
  }
}
