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
import { GpuTrainer, type GpuCheckpoint } from '../../engine/backends/webgpu/train';
import type { GpuAction, GpuPlan, HostMessage, WebviewMessage } from '../../extension/protocol';

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

  /** The current run's state, for tests and the panel's data attributes. */
  get state(): string {
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

class PanelGpuRun {
  state: 'starting' | 'running' | 'paused' | 'ended' = 'starting';
  private trainer: GpuTrainer | null = null;
  private paused: boolean;
  private pendingSteps = 0;
  private wakeUp: (() => void) | null = null;
  private lastCheckpoint = 0;
  private readonly syncEvery: number;
  private readonly checkpointMs: number;

  constructor(
    readonly runId: number, private readonly plan: GpuPlan, paused: boolean, private readonly software: boolean,
    private readonly post: (m: WebviewMessage) => void, opts: { syncEvery?: number; checkpointMs?: number },
  ) {
    this.paused = paused;
    this.syncEvery = opts.syncEvery ?? SYNC_EVERY;
    this.checkpointMs = opts.checkpointMs ?? CHECKPOINT_MS;
  }

  control(action: GpuAction): void {
    if (this.state === 'ended') return;
    switch (action) {
      case 'pause':
        this.paused = true;
        break;
      case 'resume':
        this.paused = false;
        break;
      case 'step':
        this.pendingSteps++;
        break;
      case 'cancel':
        this.end();
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
    if (this.state === 'ended') return;
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
    this.post({ type: 'gpuStarted', runId: this.runId, adapter: device.info.name });
    await this.loop();
  }

  private looping = false;

  private async loop(): Promise<void> {
    const t = this.trainer!;
    this.looping = true;
    let confirmPause = true;
    try {
      while (this.state !== 'ended') {
        if (this.paused && this.pendingSteps === 0) {
          this.state = 'paused';
          if (confirmPause) {
            confirmPause = false;
            await this.checkpoint(true);
            continue;
          }
          await new Promise<void>((resolve) => (this.wakeUp = resolve));
          continue;
        }
        this.state = 'running';
        confirmPause = true;
        const single = this.paused;
        const n = single ? 1 : Math.min(this.syncEvery, t.totalSteps - t.steps);
        let nonFinite = false;
        await t.run(n, (added) => void (nonFinite ||= added.some((e) => !Number.isFinite(e.loss))));
        if (single) this.pendingSteps--;
        if (t.done || nonFinite) {
          await this.checkpoint(true);
          this.end();
          break;
        }
        if (!single && performance.now() - this.lastCheckpoint >= this.checkpointMs) await this.checkpoint(false);
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

  private async checkpoint(settled: boolean): Promise<void> {
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
      paused: settled, log: settled,
    });
  }

  private fail(reason: string): void {
    if (this.state === 'ended') return;
    this.post({ type: 'gpuFailed', runId: this.runId, reason });
    this.end();
  }

  /** Ends the run; the loop frees the GPU buffers when its current chunk is done. */
  private end(): void {
    this.state = 'ended';
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
