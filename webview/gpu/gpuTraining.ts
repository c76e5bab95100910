/**
 * The panel's side of training on WebGPU: takes a plan from the host (`gpuTrain`), trains it with
 * the engine's GpuTrainer, and answers with checkpoints (parameters, optimizer slots, history) every
 * `CHECKPOINT_MS` and whenever the run pauses, takes a single step or ends. `gpuControl` pauses,
 * resumes, steps or cancels. Anything that goes wrong (no adapter, device lost, out of memory,
 * a kernel error) ends the GPU run with `gpuFailed`; the host goes on on the CPU.
 *
 * Nothing here touches the DOM: it takes a `GPU` object and a `post` function, so the same code
 * runs in the webview (navigator.gpu) and in Node tests (Dawn).
 */
import { GpuRuntime, openDevice, type GpuDeviceInfo } from '../../engine/backends/webgpu';
import { GpuTrainer, type GpuCheckpoint } from '../../engine/train/gpu';
import type { GpuAction, GpuPlan, HostMessage, WebviewMessage } from '../../extension/protocol';
import { IDLE, isTerminal, reduce, takesSteps, type RunEvent, type RunState, type RunStateKind } from '../../engine/train/lifecycle';

/** Steps between readbacks of the loss history (a readback waits for the GPU). */
export const SYNC_EVERY = 50;
/** Checkpoints while running: at most this often (each reads the parameters and slots back). */
export const CHECKPOINT_MS = 500;

type GpuMessage = Extract<HostMessage, { type: 'gpuTrain' | 'gpuControl' }>;
type DeviceName = Pick<GpuDeviceInfo, 'name'> & Partial<Pick<GpuDeviceInfo, 'fallback'>>;

export class PanelGpu {
  private device: Promise<{ rt: GpuRuntime; info: DeviceName } | string> | null = null;
  private run: PanelGpuRun | null = null;

  constructor(
    /** `navigator.gpu`, or undefined where there is none. */
    private readonly gpu: () => GPU | undefined,
    private readonly post: (m: WebviewMessage) => void,
    private readonly opts: {
      syncEvery?: number;
      checkpointMs?: number;
      /** Opens the device another way (tests share one). */
      open?: () => Promise<{ rt: GpuRuntime; info: DeviceName } | string>;
    } = {},
  ) {}

  handle(m: GpuMessage): void {
    switch (m.type) {
      case 'gpuTrain':
        this.run?.control('cancel');
        this.run = new PanelGpuRun(m.runId, m.plan, m.paused, m.software, this.post, this.opts);
        void this.run.start(() => this.open());
        break;
      case 'gpuControl':
        if (this.run?.runId === m.runId) this.run.control(m.action);
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  /** The current run's lifecycle state, for tests and the panel's data attributes. */
  get state(): RunStateKind | 'none' {
    return this.run?.state ?? 'none';
  }

  /** Opens the device once (again after it was lost). */
  private open(): Promise<{ rt: GpuRuntime; info: DeviceName } | string> {
    if (this.opts.open) return this.opts.open();
    const cached = this.device;
    if (cached) {
      return cached.then((d) => {
        if (typeof d !== 'string' && !d.rt.lost) return d;
        this.device = null;
        return this.open();
      });
    }
    const gpu = this.gpu();
    this.device = (async () => {
      if (!gpu) return 'this panel has no WebGPU (navigator.gpu is missing)';
      try {
        const opened = await openDevice(gpu);
        if (!opened) return 'no WebGPU adapter is available';
        return { rt: new GpuRuntime(opened.device), info: opened.info };
      } catch (err) {
        return `the WebGPU device could not be opened: ${err instanceof Error ? err.message : String(err)}`;
      }
    })();
    return this.device;
  }
}

/**
 * One run on the GPU: a driver of the shared run lifecycle (it takes the steps itself). Its one
 * state value changes only through `reduce`; `halted` is reported (and a settled checkpoint sent)
 * when it stands still, paused with every single step asked for taken.
 */
class PanelGpuRun {
  private run: RunState;
  private trainer: GpuTrainer | null = null;
  private wakeUp: (() => void) | null = null;
  private lastCheckpoint = 0;
  private readonly syncEvery: number;
  private readonly checkpointMs: number;

  constructor(
    readonly runId: number, private readonly plan: GpuPlan, paused: boolean, private readonly software: boolean,
    private readonly post: (m: WebviewMessage) => void, opts: { syncEvery?: number; checkpointMs?: number },
  ) {
    this.run = reduce(IDLE, { type: 'start', paused });
    this.syncEvery = opts.syncEvery ?? SYNC_EVERY;
    this.checkpointMs = opts.checkpointMs ?? CHECKPOINT_MS;
  }

  get state(): RunStateKind {
    return this.run.kind;
  }

  private on(e: RunEvent): void {
    this.run = reduce(this.run, e);
  }

  control(action: GpuAction): void {
    switch (action) {
      case 'pause':
        this.on({ type: 'pause' });
        break;
      case 'resume':
        this.on({ type: 'resume' });
        break;
      case 'step':
        this.on({ type: 'step', count: 1 });
        break;
      case 'cancel':
        this.end({ type: 'cancel' });
        break;
      default: {
        const never: never = action;
        void never;
      }
    }
    this.wake();
  }

  async start(open: () => Promise<{ rt: GpuRuntime; info: DeviceName } | string>): Promise<void> {
    const device = await open();
    if (isTerminal(this.run)) return;
    if (typeof device === 'string') return this.fail(device);
    if (device.info.fallback && !this.software) {
      return this.fail(`the only WebGPU adapter is a software one (${device.info.name}), slower than the CPU engine; set backpropLens.backend to "webgpu" to train on it anyway`);
    }
    try {
      const made = GpuTrainer.fromPlan(device.rt, this.plan, { syncEvery: this.syncEvery, keepHistory: false });
      if ('reason' in made) return this.fail(made.reason);
      this.trainer = made.trainer;
      const errors = device.rt.takeErrors();
      if (errors.length) return this.fail(`WebGPU reported: ${errors[0]}`);
    } catch (err) {
      return this.fail(`the run could not move to the GPU: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.on({ type: 'started' });
    this.post({ type: 'gpuStarted', runId: this.runId, adapter: device.info.name });
    await this.loop();
  }

  private looping = false;

  private async loop(): Promise<void> {
    const t = this.trainer!;
    this.looping = true;
    try {
      while (!isTerminal(this.run)) {
        if (this.run.kind === 'paused') {
          if (!this.run.settled) {
            // stands still: the host learns it from a settled checkpoint (its current state)
            await this.checkpoint('halt');
            // (a step asked for meanwhile is still to take: only a run still paused has halted)
            if (this.run.kind === 'paused') this.on({ type: 'halted' });
            continue;
          }
          await new Promise<void>((resolve) => (this.wakeUp = resolve));
          continue;
        }
        if (!takesSteps(this.run)) break;
        const single = this.run.kind === 'stepping';
        const n = single ? 1 : Math.min(this.syncEvery, t.totalSteps - t.steps);
        let nonFinite = false;
        await t.run(n, (added) => void (nonFinite ||= added.some((e) => !Number.isFinite(e.loss))));
        if (single) this.on({ type: 'stepped' });
        if (t.done || nonFinite) {
          await this.checkpoint('end');
          this.end({ type: 'finished' });
          break;
        }
        if (!single && performance.now() - this.lastCheckpoint >= this.checkpointMs) await this.checkpoint('running');
        // let the panel breathe between chunks
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
      }
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
    } finally {
      this.looping = false;
      this.dispose();
    }
  }

  /** Sends the current state: while running, on a halt (settled if still paused), or at the end (settled). */
  private async checkpoint(at: 'running' | 'halt' | 'end'): Promise<void> {
    const cp: GpuCheckpoint = await this.trainer!.checkpoint();
    const errors = this.trainer!.rt.takeErrors();
    if (errors.length) throw new Error(`WebGPU reported: ${errors[0]}`);
    if (this.trainer!.rt.lost) throw new Error(`the GPU device was lost: ${this.trainer!.rt.lost}`);
    this.lastCheckpoint = performance.now();
    const h = cp.history;
    const column = (f: (e: (typeof h)[number]) => number) => Float64Array.from(h, f);
    this.post({
      type: 'gpuCheckpoint', runId: this.runId, step: cp.step, params: cp.params, slots: cp.slots,
      history: { step: column((e) => e.step), loss: column((e) => e.loss), lr: column((e) => e.lr), gradNorm: column((e) => e.gradNorm) },
      // a halt is settled only if still paused: a step asked for while the checkpoint was read back is yet to come
      paused: at === 'end' || (at === 'halt' && this.run.kind === 'paused'), log: at !== 'running',
    });
  }

  private fail(reason: string): void {
    if (isTerminal(this.run)) return;
    this.post({ type: 'gpuFailed', runId: this.runId, reason });
    this.end({ type: 'failed', error: reason });
  }

  /** Ends the run; the loop frees the GPU buffers when its current chunk is done. */
  private end(e: Extract<RunEvent, { type: 'finished' | 'failed' | 'cancel' }>): void {
    this.on(e);
    if (!this.looping) this.dispose();
    this.wake();
  }

  private dispose(): void {
    try {
      this.trainer?.dispose();
    } catch {
      /* a lost device cannot free its buffers; they go with it */
    }
    this.trainer = null;
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }
}
