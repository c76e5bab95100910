/**
 * The training loop of the model worker: runs a Trainer in slices of about 30 ms, so control
 * messages (pause, resume, step, stop, inspect) get in between, reports progress at most every
 * `progressMs`, and ticks a heartbeat cell the runner watches to catch a step that never ends.
 * While the run goes on on the GPU, the loop stays paused and adopts the GPU's checkpoints
 * (`adopt`), so inspections, the result and a fallback to the CPU all see the current state.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Trainer } from '../../engine/train/trainer';
import { IDLE, isPaused, isTerminal, reduce, takesSteps, type RunEvent } from '../../engine/train/lifecycle';
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
  // the trainer is built: the run starts at once, running or paused
  let state = reduce(reduce(IDLE, { type: 'start', paused: opts.paused }), { type: 'started' });
  const on = (e: RunEvent) => void (state = reduce(state, e));
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
      paused: isPaused(state),
    };
    sentHistory = trainer.history.length;
    sentLayers = trainer.layerHistory.length;
    lastReport = now;
    stepsAtReport = trainer.stepsTaken;
    opts.post({ type: 'train-progress', progress });
  };

  const finish = () => {
    report();
    on({ type: 'finished' });
    opts.post({ type: 'train-result', result: trainer.result() });
  };

  const failed = (err: unknown) => {
    report();
    on({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    opts.fail(err);
  };

  /** Paused with nothing left to step: say so (the runner stops timing the run). */
  const halt = () => {
    report();
    on({ type: 'halted' });
  };

  const slice = () => {
    scheduled = false;
    if (isTerminal(state)) return;
    const t0 = performance.now();
    try {
      while (!trainer.done && takesSteps(state) && performance.now() - t0 < SLICE_MS) {
        trainer.step();
        on({ type: 'stepped' });
        Atomics.store(opts.heartbeat, 0, trainer.stepsTaken);
      }
    } catch (err) {
      failed(err);
      return;
    }
    if (trainer.done) {
      finish();
      return;
    }
    if (state.kind === 'paused') halt();
    else if (performance.now() - lastReport >= opts.progressMs) report();
    if (takesSteps(state)) schedule();
  };

  const schedule = () => {
    if (scheduled || isTerminal(state)) return;
    scheduled = true;
    setImmediate(slice);
  };

  opts.port.on('message', (m: TrainControl) => {
    switch (m.type) {
      case 'pause':
        // takes effect between steps: the next slice sees it and halts
        on({ type: 'pause' });
        break;
      case 'resume':
        on({ type: 'resume' });
        schedule();
        break;
      case 'step':
        on({ type: 'step', count: m.count });
        schedule();
        break;
      case 'inspect':
        opts.post({ type: 'train-inspect', id: m.id, outcome: opts.inspect(m.request) });
        break;
      case 'adopt':
        if (isTerminal(state)) break;
        try {
          trainer.adopt(m.checkpoint, { log: m.log });
        } catch (err) {
          failed(err);
          break;
        }
        Atomics.store(opts.heartbeat, 0, trainer.stepsTaken);
        if (trainer.done) finish();
        else report();
        break;
      case 'stop':
        if (!isTerminal(state)) finish();
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  });
  if (takesSteps(state)) schedule();
  else halt();
}
