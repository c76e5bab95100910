/**
 * The panel's training run: one at a time per panel, in the runner's worker (never on the extension
 * host thread). Turns the webview's run / pause / step / reset into runner calls, forwards progress
 * at the rate the worker reports it, and reports every state change, so the webview can always
 * show where the run stands. Reset ends the run; the next Run starts from the file's initial
 * parameters (a fresh worker re-evaluates the file), with the overrides the view sent.
 */
import type { ModelRunner, TrainingRun } from './runner/runner';
import type { TrainOptions, TrainProgress } from './runner/types';
import type { HostMessage, TrainAction, TrainOverrides, TrainStatus } from './protocol';

export interface TrainingHost {
  runner: ModelRunner;
  file: string;
  post(m: HostMessage): void;
  log(line: string): void;
  /** Timeout per step, memory cap, and the unsaved text of the file (if any). */
  options(): Pick<TrainOptions, 'timeoutMs' | 'memoryMb' | 'contents'>;
  /** Wraps a run in VS Code's progress UI (cancellable); resolves when the run ends. */
  progress(title: string, work: (report: (step: number, total: number) => void, onCancel: (f: () => void) => void) => Promise<void>): void;
  /** Whether model code may run (workspace trust). */
  trusted(): boolean;
}

export class TrainingSession {
  private run: TrainingRun | null = null;
  private runId = 0;
  private status: TrainStatus = 'idle';
  private step = 0;
  private total = 0;
  private overrides: TrainOverrides = {};
  private starting: Promise<void> | null = null;

  constructor(private readonly host: TrainingHost) {}

  get active(): boolean {
    return this.run !== null;
  }

  /** Where the run stands (for tests and the status bar). */
  get state(): { status: TrainStatus; step: number; total: number; runId: number } {
    return { status: this.status, step: this.step, total: this.total, runId: this.runId };
  }

  async handle(action: TrainAction, overrides?: TrainOverrides): Promise<void> {
    if (!this.host.trusted()) {
      this.setStatus('error', 'Restricted Mode: training runs model code, which needs a trusted workspace.');
      return;
    }
    await this.starting;
    switch (action) {
      case 'run':
        if (this.run) {
          this.run.resume();
          this.setStatus('running');
        } else await this.start(overrides, false);
        break;
      case 'pause':
        if (this.run) {
          this.run.pause();
          this.setStatus('paused');
        }
        break;
      case 'step':
        if (!this.run) await this.start(overrides, true);
        this.run?.step(1);
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

  /** Ends the current run (if any) and goes back to idle with the given settings. */
  reset(overrides?: TrainOverrides): void {
    if (overrides) this.overrides = overrides;
    const run = this.run;
    this.run = null;
    run?.cancel();
    this.runId++;
    this.step = 0;
    this.setStatus('idle');
  }

  dispose(): void {
    this.run?.cancel();
    this.run = null;
  }

  private start(overrides: TrainOverrides | undefined, paused: boolean): Promise<void> {
    if (overrides) this.overrides = overrides;
    const runId = ++this.runId;
    this.step = 0;
    this.starting = (async () => {
      const name = this.host.file.split(/[\\/]/).pop();
      let report: (step: number, total: number) => void = () => {};
      const run = await this.host.runner.train(this.host.file, {
        ...this.host.options(), overrides: this.overrides, paused, progressMs: 100,
        onProgress: (p: TrainProgress) => {
          if (runId !== this.runId) return;
          this.step = p.step;
          this.total = p.total;
          report(p.step, p.total);
          this.host.post({ type: 'trainProgress', runId, progress: p });
        },
      });
      if (runId !== this.runId) {
        run.cancel();
        return;
      }
      this.run = run;
      this.setStatus(paused ? 'paused' : 'running');
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
          const r = out.result;
          this.step = r.steps;
          this.host.log(`[${name}] training ${r.stoppedEarly ? `stopped early (${r.stoppedEarly})` : 'finished'}: ${r.steps} steps, loss ${r.history[r.history.length - 1]?.loss}`);
          this.setStatus(r.stoppedEarly ? 'stopped' : 'done', r.stoppedEarly ? `Stopped early: ${r.stoppedEarly}.` : undefined);
        } else {
          const e = out.errors[0];
          const where = e.line ? `${e.file.split(/[\\/]/).pop()}:${e.line}: ` : '';
          this.host.log(`[${name}] training failed: ${where}${e.message}`);
          this.setStatus('error', `${where}${e.message}`);
        }
      });
    })().finally(() => {
      this.starting = null;
    });
    return this.starting;
  }

  private setStatus(status: TrainStatus, message?: string): void {
    this.status = status;
    this.host.post({ type: 'trainStatus', runId: this.runId, status, step: this.step, total: this.total, overrides: this.overrides, ...(message ? { message } : {}) });
  }
}
