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
import type { GpuPlanOrReason } from '../engine/backends/webgpu/plan';
import type { Checkpoint, HistoryEntry } from '../engine/train/trainer';
import type { TrainingRun } from './runner/runner';
import type { InspectOutcome, InspectRequest, TrainOutcome, TrainProgress } from './runner/types';
import type { GpuAction, HostMessage, TrainBackend, WebviewMessage } from './protocol';

export interface GpuLink {
  post(m: HostMessage): void;
  log(line: string): void;
  /** Where the run runs now (shown in the training view). */
  backend(b: TrainBackend): void;
}

/** How long an inspection waits for the GPU run to confirm a pause (its checkpoint) before using the last one. */
const PAUSE_WAIT_MS = 15_000;

type Mode = 'waiting' | 'gpu' | 'cpu';

export class GpuRun implements TrainingRun {
  private worker: TrainingRun | null = null;
  /** On the GPU, on the CPU (the worker steps), or waiting for the plan. */
  private mode: Mode = 'waiting';
  private plan: GpuPlanOrReason | null = null;
  /** What the user asked for (the GPU or the worker follows). */
  private paused: boolean;
  private pendingSteps = 0;
  /** The GPU run said it is paused (its last checkpoint is the current state). */
  private gpuPaused = true;
  private waiters: (() => void)[] = [];
  private adoptedStep = 0;
  /** The panel said its GPU run started (a failure after that loses the steps since the last checkpoint). */
  private started = false;

  constructor(private readonly link: GpuLink, readonly runId: number, paused: boolean, private readonly software: boolean) {
    this.paused = paused;
  }

  /** The worker run (started paused, with `plan`). */
  attach(worker: TrainingRun): this {
    this.worker = worker;
    if (this.plan) this.onPlan(this.plan);
    return this;
  }

  get done(): Promise<TrainOutcome> {
    return this.worker!.done;
  }

  onPlan(p: GpuPlanOrReason): void {
    this.plan = p;
    if (!this.worker || this.mode !== 'waiting') return;
    if ('reason' in p) {
      this.toCpu(`Runs on the CPU: ${p.reason}.`);
      return;
    }
    this.mode = 'gpu';
    this.gpuPaused = this.paused;
    this.link.post({ type: 'gpuTrain', runId: this.runId, plan: p.plan, paused: this.paused, software: this.software });
    for (; this.pendingSteps > 0; this.pendingSteps--) this.control('step');
  }

  /** A message of the panel's GPU run (already validated; `runId` matches). */
  onMessage(m: Extract<WebviewMessage, { type: 'gpuStarted' | 'gpuCheckpoint' | 'gpuFailed' }>): void {
    if (this.mode !== 'gpu') return;
    switch (m.type) {
      case 'gpuStarted':
        this.started = true;
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
        this.gpuPaused = m.paused;
        if (m.paused) this.wake();
        break;
      }
      case 'gpuFailed':
        this.link.log(`WebGPU: ${m.reason}`);
        this.toCpu(this.started ? `WebGPU stopped (${m.reason}); the run goes on on the CPU from step ${this.adoptedStep}.` : `Runs on the CPU: ${m.reason}.`);
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
    return this.mode === 'cpu' ? p : { ...p, paused: this.paused };
  }

  pause(): void {
    this.paused = true;
    if (this.mode === 'gpu') this.control('pause');
    else if (this.mode === 'cpu') this.worker!.pause();
  }

  resume(): void {
    this.paused = false;
    if (this.mode === 'gpu') {
      this.gpuPaused = false;
      this.control('resume');
    } else if (this.mode === 'cpu') this.worker!.resume();
  }

  step(count = 1): void {
    if (this.mode === 'gpu') {
      this.gpuPaused = false;
      for (let i = 0; i < count; i++) this.control('step');
    } else if (this.mode === 'cpu') this.worker!.step(count);
    else this.pendingSteps += count;
  }

  stop(): void {
    this.pause();
    void this.settled().then(() => this.worker!.stop());
  }

  cancel(): void {
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

  /** Resolves when the GPU run's last checkpoint is its current state (paused), or at once on the CPU. */
  private settled(): Promise<void> {
    if (this.mode !== 'gpu' || this.gpuPaused) return Promise.resolve();
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
    if (!this.paused) this.worker!.resume();
    else if (this.pendingSteps > 0) this.worker!.step(this.pendingSteps);
    this.pendingSteps = 0;
  }
}
