/**
 * The training loop of the model worker: runs a Trainer in slices of about 30 ms, so control
 * messages (pause, resume, step, stop, inspect) get in between, reports progress at most every
 * `progressMs`, and ticks a heartbeat cell the runner watches to catch a step that never ends.
 * While the run goes on on the GPU, the loop stays paused and adopts the GPU's checkpoints
 * (`adopt`), so inspections, the result and a fallback to the CPU all see the current state.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Trainer } from '../../engine/train/trainer';
import type { InspectOutcome, InspectRequest, TrainControl, TrainProgress, WorkerMessage } from './types';

const SLICE_MS = 30;

export function runTraining(trainer: Trainer, opts: {
  port: MessagePort;
  post: (m: WorkerMessage) => void;
  /** Reports an exception from the model's code and ends the run. */
  fail: (err: unknown) => void;
  heartbeat: Int32Array;
  progressMs: number;
  paused: boolean;
  /** Answers an inspection of the current parameters (between steps). */
  inspect: (request: InspectRequest) => InspectOutcome;
}): void {
  let paused = opts.paused;
  let pendingSteps = 0;
  let stopped = false;
  let scheduled = false;
  let sentHistory = 0, sentLayers = 0;
  let lastReport = performance.now(), stepsAtReport = 0;

  const report = () => {
    const now = performance.now();
    const progress: TrainProgress = {
      step: trainer.stepsTaken, total: trainer.totalSteps,
      history: trainer.history.slice(sentHistory), layers: trainer.layerHistory.slice(sentLayers),
      findings: trainer.findings,
      stepsPerSecond: now > lastReport ? ((trainer.stepsTaken - stepsAtReport) * 1000) / (now - lastReport) : 0,
      paused,
    };
    sentHistory = trainer.history.length;
    sentLayers = trainer.layerHistory.length;
    lastReport = now;
    stepsAtReport = trainer.stepsTaken;
    opts.post({ type: 'train-progress', progress });
  };

  const finish = () => {
    report();
    opts.post({ type: 'train-result', result: trainer.result() });
  };

  const slice = () => {
    scheduled = false;
    if (stopped) return;
    const t0 = performance.now();
    try {
      while (!trainer.done && (!paused || pendingSteps > 0) && performance.now() - t0 < SLICE_MS) {
        trainer.step();
        if (pendingSteps > 0) pendingSteps--;
        Atomics.store(opts.heartbeat, 0, trainer.stepsTaken);
      }
    } catch (err) {
      stopped = true;
      report();
      opts.fail(err);
      return;
    }
    if (trainer.done) {
      stopped = true;
      finish();
      return;
    }
    if (performance.now() - lastReport >= opts.progressMs || (paused && pendingSteps === 0)) report();
    if (!paused || pendingSteps > 0) schedule();
  };

  const schedule = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(slice);
  };

  opts.port.on('message', (m: TrainControl) => {
    switch (m.type) {
      case 'pause':
        paused = true;
        break;
      case 'resume':
        paused = false;
        schedule();
        break;
      case 'step':
        pendingSteps += Math.max(1, Math.floor(m.count));
        schedule();
        break;
      case 'inspect':
        opts.post({ type: 'train-inspect', id: m.id, outcome: opts.inspect(m.request) });
        break;
      case 'adopt':
        if (stopped) break;
        try {
          trainer.adopt(m.checkpoint, { log: m.log });
        } catch (err) {
          stopped = true;
          report();
          opts.fail(err);
          break;
        }
        Atomics.store(opts.heartbeat, 0, trainer.stepsTaken);
        if (trainer.done) {
          stopped = true;
          finish();
        } else report();
        break;
      case 'stop':
        if (!stopped) {
          stopped = true;
          finish();
        }
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  });
  if (paused) report();
  else schedule();
}
