/**
 * Runs a model file: bundle (esbuild, in the bundler worker), then run it traced in a fresh worker
 * with a timeout and a heap limit, and collect the snapshot, console output and errors. Used by the
 * extension and the CLI alike; nothing here imports vscode.
 */
import * as path from 'node:path';
import { Bundler, type BundleProblem } from './bundler';
import { BundleMap } from './sourcemap';
import { ModelProcess, warmModelProcesses } from './model-process';
import { findPython, pythonPackageDir, runPythonTrace, runPythonTrain, type PythonInfo } from './python';
import type { GraphSnapshot } from '../../engine/trace/snapshot';
import type { AnalysisRequest } from '../../engine/check/analysis';
import type { Checkpoint, TrainResult } from '../../engine/train/trainer';
import type { GpuPlanOrReason } from '../../engine/train/plan';
import { IDLE, isTimed, reduce, type RunEvent } from '../../engine/train/lifecycle';
import {
  DEFAULTS, limitProblem, type LogLine, type RunError, type RunOptions, type RunOutcome, type TrainControl, type TrainOptions, type TrainOutcome,
  type TrainProgress, type WorkerInput, type WorkerMessage, type InspectOutcome, type InspectRequest, mergeProgress,
} from './types';

export { mergeProgress };

export type Settle = { errors: RunError[] } | { snapshot: GraphSnapshot } | { result: TrainResult };

/** A training run in progress: control it, and await its outcome. */
export interface TrainingRun {
  readonly done: Promise<TrainOutcome>;
  pause(): void;
  resume(): void;
  step(count?: number): void;
  /** Ends the run after the current step; `done` resolves with the result so far. */
  stop(): void;
  /** Ends the run at once (the worker is terminated); `done` resolves with an error if it was still running. */
  cancel(): void;
  /**
   * Asks about the current parameters: the graph of one step, a gradient check, a loss landscape
   * or a playground run. Pause the run first (a running run answers between steps). Works after the
   * last step while the worker is kept (`keepAlive`).
   */
  inspect(request: InspectRequest): Promise<InspectOutcome>;
  /** Takes over the state of the run advanced on the GPU (the worker must be paused). */
  adopt(checkpoint: Checkpoint, log: boolean): void;
}

/** An inspection may take this many times the per-step timeout (a landscape evaluates the loss hundreds of times). */
const INSPECT_TIMEOUT_FACTOR = 6;
/** How often a run's time is checked: a run ends within its limit plus this. */
const WATCH_MS = 100;
/** Bundling a model file has its own limit (it is not charged to the model's timeout). */
export const BUNDLE_LIMIT_MS = 60_000;
/** Forking the model process and starting its worker must take no longer than this (not charged to the model). */
const STARTUP_LIMIT_MS = 30_000;
/** Recording a traced graph (backward pass, snapshot, diagnosis) once the model's code is done: our time, not the model's. */
export const RECORDING_LIMIT_MS = 60_000;

export class ModelRunner {
  private readonly bundler: Bundler;
  /** Ends each run this runner started that has not ended (its process with it). */
  private readonly active = new Set<(message: string) => void>();

  /** `distDir` holds the built `worker.js` and `bundler.js`. */
  constructor(private readonly distDir: string) {
    this.bundler = new Bundler(path.join(distDir, 'bundler.js'));
  }

  /** Runs the model traced: one pass, the snapshot with values, gradients and diagnosis. A `.py` file runs in PyTorch (python.ts). */
  async run(file: string, opts: RunOptions = {}): Promise<RunOutcome> {
    file = path.resolve(file);
    const logs: LogLine[] = [];
    const refused = optionsProblem(file, opts);
    if (refused) return { ok: false, file, errors: [refused], logs, timings: { bundleMs: 0, runMs: 0 }, files: [file] };
    if (isPythonFile(file)) {
      let python: PythonInfo;
      try {
        python = opts.python ?? (await findPython([]));
      } catch (err) {
        return { ok: false, file, errors: [{ kind: 'settings', file, line: null, column: null, message: String((err as Error).message) }], logs, timings: { bundleMs: 0, runMs: 0 }, files: [file] };
      }
      return runPythonTrace(file, { ...opts, python, packageDir: pythonPackageDir(this.distDir), recordingLimitMs: RECORDING_LIMIT_MS });
    }
    const { b, bundleMs } = await this.timedBundle(file, opts.contents, opts.bundleLimitMs);
    if (!b.ok) return { ok: false, file, errors: bundleErrors(b.errors, file), logs, timings: { bundleMs, runMs: 0 }, files: [file] };
    if (opts.signal?.aborted) return { ok: false, file, errors: [cancelled(file)], logs, timings: { bundleMs, runMs: 0 }, files: b.files };
    const session = this.start(file, b, logs, opts, { mode: 'trace', maxNodes: opts.maxNodes ?? DEFAULTS.maxNodes, maxElements: opts.maxElements ?? DEFAULTS.maxElements });
    const t1 = performance.now();
    const o = await session.settled;
    const timings = { bundleMs, runMs: performance.now() - t1 };
    if ('snapshot' in o) return { ok: true, file, snapshot: o.snapshot, logs, timings, files: b.files };
    const errors = 'errors' in o ? o.errors : [internal(file, 'The model worker sent a training result to a trace.')];
    return { ok: false, file, errors, logs, timings, files: b.files };
  }

  /**
   * Runs the file's `defineTraining` spec in a worker. The timeout applies to each step (and to
   * loading the file): a step that runs longer is reported at the line it was running.
   */
  async train(file: string, opts: TrainOptions = {}): Promise<TrainingRun> {
    file = path.resolve(file);
    const logs: LogLine[] = [];
    const refused = optionsProblem(file, opts);
    if (!refused && isPythonFile(file)) {
      // a PyTorch script trains itself; watch(model) in its loop reports what it does
      try {
        const python = opts.python ?? (await findPython([]));
        return runPythonTrain(file, { ...opts, python, packageDir: pythonPackageDir(this.distDir) });
      } catch (err) {
        const done = Promise.resolve<TrainOutcome>({ ok: false, file, errors: [{ kind: 'settings', file, line: null, column: null, message: String((err as Error).message) }], logs, timings: { bundleMs: 0, runMs: 0 }, files: [file], partial: null });
        const noop = () => {};
        return { done, pause: noop, resume: noop, step: noop, stop: noop, cancel: noop, inspect: async () => ({ ok: false, error: (await done as Extract<TrainOutcome, { ok: false }>).errors[0] }), adopt: noop };
      }
    }
    const { b, bundleMs } = refused ? { b: { ok: false as const, errors: [] }, bundleMs: 0 } : await this.timedBundle(file, opts.contents, opts.bundleLimitMs);
    if (!b.ok) {
      const errors = refused ? [refused] : bundleErrors(b.errors, file);
      const done = Promise.resolve<TrainOutcome>({ ok: false, file, errors, logs, timings: { bundleMs, runMs: 0 }, files: [file], partial: null });
      const noop = () => {};
      const inspect = async (): Promise<InspectOutcome> => ({ ok: false, error: (await done as Extract<TrainOutcome, { ok: false }>).errors[0] });
      return { done, pause: noop, resume: noop, step: noop, stop: noop, cancel: noop, inspect, adopt: noop };
    }
    let partial: TrainProgress | null = null;
    const session = this.start(file, b, logs, opts, {
      mode: 'train', maxNodes: opts.maxNodes ?? DEFAULTS.maxNodes, maxElements: opts.maxElements ?? DEFAULTS.maxElements,
      overrides: opts.overrides, paused: opts.paused ?? false, progressMs: opts.progressMs ?? 100, keepAlive: opts.keepAlive ?? false,
      plan: opts.plan ?? false,
    }, (p) => {
      partial = mergeProgress(partial, p);
      opts.onProgress?.(p);
    }, opts.onPlan);
    const t1 = performance.now();
    const done = session.settled.then((o): TrainOutcome => {
      const timings = { bundleMs, runMs: performance.now() - t1 };
      if ('result' in o) return { ok: true, file, result: o.result, logs, timings, files: b.files };
      const errors = 'errors' in o ? o.errors : [internal(file, 'The model worker sent a snapshot to a training run.')];
      return { ok: false, file, errors, logs, timings, files: b.files, partial };
    });
    return {
      done,
      pause: () => session.send({ type: 'pause' }),
      resume: () => session.send({ type: 'resume' }),
      step: (count = 1) => session.send({ type: 'step', count }),
      stop: () => session.send({ type: 'stop' }),
      cancel: () => session.cancel('The training run was cancelled.'),
      inspect: (request) => session.inspect(request),
      adopt: (checkpoint, log) => session.send({ type: 'adopt', checkpoint, log }),
    };
  }

  /**
   * The graph of a training file at training step `step`, as the panel shows it after training
   * there: the run starts paused, takes `step` steps, and traces the step it would take next
   * (`backprop-lens trace FILE --at-step N`).
   */
  async graphAtStep(file: string, step: number, opts: TrainOptions = {}): Promise<RunOutcome> {
    const t0 = performance.now();
    const o = await this.inspectAtStep(file, step, { kind: 'graph' }, opts);
    const timings = { bundleMs: 0, runMs: performance.now() - t0 };
    if (!o.ok) return { ok: false, file: o.file, errors: o.errors, logs: o.logs, timings, files: [o.file] };
    if (!('graph' in o.answer)) return { ok: false, file: o.file, errors: [internal(o.file, 'The model worker answered a graph request with an analysis.')], logs: o.logs, timings, files: [o.file] };
    return { ok: true, file: o.file, snapshot: o.answer.graph.snapshot, logs: o.logs, timings, files: [o.file] };
  }

  /**
   * Asks a training file's run, paused at training step `step`, about its parameters there (the
   * graph, a gradient check, the Hessian, a landscape, a playground run), as the panel's cards do
   * (`backprop-lens hessian|landscape|playground FILE --at-step N`).
   */
  async inspectAtStep(file: string, step: number, request: InspectRequest, opts: TrainOptions = {}): Promise<
    { ok: true; file: string; answer: Exclude<InspectOutcome, { ok: false }>; logs: LogLine[] } | { ok: false; file: string; errors: RunError[]; logs: LogLine[] }
  > {
    const p = await this.pausedAt(file, step, opts);
    if (!p.ok) return p;
    try {
      const o = await p.run.inspect(request);
      if (!o.ok) return { ok: false, file: p.file, errors: [o.error], logs: p.logs };
      return { ok: true, file: p.file, answer: o, logs: p.logs };
    } finally {
      p.run.cancel();
    }
  }

  /**
   * What the standalone report shows of a training file besides its graph: the whole run, then the
   * answers to `requests` (the training view's tools) after its last step; a tool that fails says
   * why in its card.
   */
  async reportRun(file: string, requests: readonly AnalysisRequest[], opts: TrainOptions = {}): Promise<
    | { ok: true; file: string; result: TrainResult; analyses: { request: AnalysisRequest; outcome: InspectOutcome }[]; logs: LogLine[] }
    | { ok: false; file: string; errors: RunError[]; logs: LogLine[] }
  > {
    const p = await this.pausedAt(file, 0, opts);
    if (!p.ok) return p;
    try {
      p.run.resume();
      const done = await p.run.done;
      if (!done.ok) return { ok: false, file: p.file, errors: done.errors, logs: p.logs };
      const analyses: { request: AnalysisRequest; outcome: InspectOutcome }[] = [];
      for (const request of requests) analyses.push({ request, outcome: await p.run.inspect(request) });
      return { ok: true, file: p.file, result: done.result, analyses, logs: p.logs };
    } finally {
      p.run.cancel();
    }
  }

  /** A training run kept alive and paused after `step` steps (or an error: no such step, a failed start). */
  private async pausedAt(file: string, step: number, opts: TrainOptions): Promise<
    { ok: true; file: string; run: TrainingRun; logs: LogLine[] } | { ok: false; file: string; errors: RunError[]; logs: LogLine[] }
  > {
    file = path.resolve(file);
    if (!Number.isInteger(step) || step < 0) throw new Error(`the training step must be an integer ≥ 0, got ${step}`);
    const logs: LogLine[] = [];
    const failed = (errors: RunError[]) => ({ ok: false as const, file, errors, logs });
    let reached!: () => void;
    const at = new Promise<null>((resolve) => (reached = () => resolve(null)));
    let last: TrainProgress | null = null;
    const run = await this.train(file, {
      ...opts, paused: true, keepAlive: true,
      onLog: (l) => {
        logs.push(l);
        opts.onLog?.(l);
      },
      onProgress: (p) => {
        last = p;
        opts.onProgress?.(p);
        if (p.step >= step && (p.paused || p.step === p.total)) reached();
      },
    });
    let kept = false;
    try {
      if (step > 0) run.step(step);
      const ended = await Promise.race([at, run.done]);
      if (ended && !ended.ok) return failed(ended.errors);
      const progress = last as TrainProgress | null;
      if (!progress || progress.step < step) {
        const message = `The file trains ${progress?.total ?? 0} steps; there is no training step ${step} to show.`;
        return failed([{ kind: 'runtime', file, line: null, column: null, message }]);
      }
      kept = true;
      return { ok: true, file, run, logs };
    } finally {
      if (!kept) run.cancel();
    }
  }

  private async timedBundle(file: string, contents: string | undefined, limitMs = BUNDLE_LIMIT_MS) {
    const t0 = performance.now();
    const b = await this.bundler.bundle(file, contents, limitMs);
    return { b, bundleMs: performance.now() - t0 };
  }

  /** Starts the model worker and watches it: timeout (no progress), memory, crashes, messages. */
  private start(
    file: string, b: { bundlePath: string; code: string; map: string }, logs: LogLine[],
    opts: RunOptions, mode: Pick<WorkerInput, 'mode' | 'maxNodes' | 'maxElements' | 'overrides' | 'paused' | 'progressMs' | 'plan'> & { keepAlive?: boolean },
    onProgress?: (p: TrainProgress) => void,
    onPlan?: (p: GpuPlanOrReason) => void,
  ): { settled: Promise<Settle>; send(m: TrainControl): void; cancel(message: string): void; inspect(r: InspectRequest): Promise<InspectOutcome> } {
    const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
    const memoryMb = opts.memoryMb ?? DEFAULTS.memoryMb;
    const input: Omit<WorkerInput, 'progress'> = { file, bundlePath: b.bundlePath, code: b.code, map: b.map, memoryMb, ...mode };
    const training = mode.mode === 'train';
    let finish!: (o: Settle) => void;
    let proc!: ModelProcess;
    // training: the step counter last seen (see the watch below)
    let lastSteps = -1;
    // training: where the run is, as this side knows it (a pause counts once the worker confirms it)
    let run = training ? reduce(IDLE, { type: 'start', paused: mode.paused ?? false }) : IDLE;
    const on = (e: RunEvent) => void (run = reduce(run, e));
    // inspections waiting for their answer, each with its own deadline
    const inspections = new Map<number, { resolve: (o: InspectOutcome) => void; timer: ReturnType<typeof setTimeout> }>();
    let inspectId = 0;
    let gone: RunError | null = null;
    let settle!: (o: Settle) => void;
    let onTimeout!: (inspecting?: string) => Promise<void>;
    const cancel = (message: string) => finish({ errors: [{ kind: 'cancelled', file, line: null, column: null, message }] });
    this.active.add(cancel);
    const aborted = () => finish({ errors: [cancelled(file)] });
    opts.signal?.addEventListener('abort', aborted, { once: true });
    const settled = new Promise<Settle>((resolve) => {
      let done = false;
      let timedOut = false;
      settle = (o) => {
        clearInterval(timer);
        if (done) return;
        done = true;
        on(endEvent(o)); // training: the run's end (a trace's state stays idle)
        resolve(o);
      };
      finish = (o) => {
        settle(o);
        if (gone) return;
        gone = 'errors' in o ? o.errors[0] : internal(file, 'The training run has ended.');
        this.active.delete(cancel);
        opts.signal?.removeEventListener('abort', aborted);
        proc.kill();
        for (const [, w] of inspections) {
          clearTimeout(w.timer);
          w.resolve({ ok: false, error: gone });
        }
        inspections.clear();
      };
      const pipe = (stream: LogLine['stream'], text: string) => {
        const line = { stream, text: text.replace(/\n$/, '') };
        logs.push(line);
        opts.onLog?.(line);
      };
      let map: BundleMap | null = null; // parsed only when a failure needs a location
      const original = (line: number, column: number) => (map ??= new BundleMap(b.map, b.bundlePath)).original(line, column);
      const where = () => ({ nodes: proc.cells[0], loc: proc.cells[1] > 0 ? original(proc.cells[1], proc.cells[2]) : null });
      const located = (kind: RunError['kind'], message: string): RunError => {
        const { loc } = where();
        return { kind, file: loc?.file ?? file, line: loc?.line ?? null, column: loc?.column ?? null, message: `${message}${loc ? ` It was near line ${loc.line}.` : ''}` };
      };
      // graph values made, sampled each tick: was a run that timed out still making progress?
      const made: { t: number; nodes: number }[] = [];
      // graph values made in the last second, or since the model started if that is less
      const recentNodes = () => {
        const now = performance.now();
        const before = made.find((s) => s.t >= now - 1000) ?? made[made.length - 1];
        // how long the model has run (the samples are WATCH_MS apart: the oldest in the window may be younger than a second)
        const seconds = startedAt === null ? 0 : Math.min(1, (now - startedAt) / 1000);
        return { count: before ? proc.cells[0] - before.nodes : 0, seconds };
      };
      onTimeout = async (inspecting?: string) => {
        timedOut = true;
        const { nodes, loc: lastNode } = where();
        const recent = recentNodes();
        // an infinite loop may create no nodes at all: ask the debugger where the worker is
        const busy = await proc.locate(b.bundlePath);
        const loc = (busy && original(busy.line, busy.column)) ?? lastNode;
        const at = loc ? ` It was running line ${loc.line}${busy ? '' : ' (where the last graph node was created)'}.` : '';
        // a run still making graph values is too much work for the limit, not a hang: say which; a
        // run that had less than a second is not called a loop (the limit is too short to tell)
        const span = recent.seconds >= 1 ? 'its last second' : `its last ${recent.seconds.toFixed(1)} s`;
        const pace = recent.count > 0
          ? `it was still making graph values (${nodes} so far, ${recent.count} in ${span}): too much work for the limit rather than a loop that never ends`
          : recent.seconds >= 1
            ? `it made no graph values in its last second (${nodes} in all), as an infinite loop would`
            : `it made no graph values in ${span} (${nodes} in all); the limit is too short to tell a slow model from a loop`;
        const what = inspecting
          ? `The ${inspecting} took longer than ${(INSPECT_TIMEOUT_FACTOR * timeoutMs) / 1000} s and was stopped.`
          : training
            ? `A training step ran longer than ${timeoutMs / 1000} s and was stopped (after ${proc.cells[3]} steps).`
            : `The model ran longer than ${timeoutMs / 1000} s and was stopped: ${pace}.`;
        const limit = inspecting ? `${INSPECT_TIMEOUT_FACTOR}× the "backpropLens.timeoutMs" setting` : 'the "backpropLens.timeoutMs" setting';
        finish({ errors: [{ kind: 'timeout', file: loc?.file ?? file, line: loc?.line ?? null, column: loc?.column ?? null, message: `${what}${at} The limit is ${limit}.` }] });
      };
      // The model's own time counts, from the moment its worker runs (forking the process and
      // loading the engine are not charged). Tracing: one deadline. Training: each step, and loading
      // the file, must end within the limit; a paused run, or one answering an inspection (which has
      // its own deadline), is not timed (isTimed). Checked every WATCH_MS, so a run ends within the limit + WATCH_MS.
      const created = performance.now();
      let startedAt: number | null = null;
      let lastMove = 0;
      // once the model's code is done, recording its graph has its own limit (RECORDING_LIMIT_MS)
      let recordingAt: number | null = null;
      const timer = setInterval(() => {
        if (timedOut) return;
        const now = performance.now();
        if (startedAt === null) {
          if (now - created > STARTUP_LIMIT_MS) finish({ errors: [internal(file, `The model process did not start within ${STARTUP_LIMIT_MS / 1000} s (is the machine out of memory or overloaded?).`)] });
          return;
        }
        if (recordingAt !== null) {
          if (now - recordingAt > RECORDING_LIMIT_MS) {
            timedOut = true;
            finish({ errors: [{ kind: 'timeout', file, line: null, column: null, message: `The model ran, but recording its graph of ${proc.cells[0]} values (the backward pass and every value and gradient) took longer than ${RECORDING_LIMIT_MS / 1000} s and was stopped. Recording has its own limit, apart from the model's "backpropLens.timeoutMs"; a smaller graph (fewer steps or a smaller batch) records faster.` }] });
          }
          return;
        }
        made.push({ t: now, nodes: proc.cells[0] });
        while (made.length > 0 && made[0].t < now - 2000) made.shift();
        if (training && (!isTimed(run) || inspections.size > 0 || proc.cells[3] !== lastSteps)) {
          lastSteps = proc.cells[3];
          lastMove = now;
          return;
        }
        if (now - (training ? lastMove : startedAt) > timeoutMs) void onTimeout();
      }, WATCH_MS);
      const onMessage = (m: WorkerMessage) => {
        if (timedOut) return;
        switch (m.type) {
          case 'started':
            startedAt = lastMove = performance.now();
            break;
          case 'recording':
            recordingAt = performance.now();
            break;
          case 'log':
            logs.push(m.line);
            opts.onLog?.(m.line);
            break;
          case 'result':
            finish({ snapshot: m.snapshot });
            break;
          case 'error':
            finish({ errors: [m.error] });
            break;
          case 'train-progress': {
            // The first report: the file is loaded and the trainer built (loading was timed). The
            // worker sends it before it reads the controls sent meanwhile, so it does not confirm
            // the steps asked for then (the step from idle, trace --at-step).
            const early = run.kind === 'starting' && run.steps > 0;
            on({ type: 'started' });
            if (m.progress.paused && !early) on({ type: 'halted' });
            onProgress?.(m.progress);
            break;
          }
          case 'train-result':
            // a kept worker stays for inspections until cancel()
            if (mode.keepAlive) settle({ result: m.result });
            else finish({ result: m.result });
            break;
          case 'train-plan':
            onPlan?.(m.plan);
            break;
          case 'train-inspect': {
            const w = inspections.get(m.id);
            if (!w) break;
            inspections.delete(m.id);
            clearTimeout(w.timer);
            w.resolve(m.outcome);
            break;
          }
          default: {
            const never: never = m;
            void never;
          }
        }
      };
      const limit = `the memory limit of ${memoryMb} MB (the "backpropLens.memoryLimitMb" setting)`;
      proc = new ModelProcess(path.join(this.distDir, 'model-host.js'), { type: 'start', workerPath: path.join(this.distDir, 'worker.js'), memoryMb, input }, {
        message: onMessage,
        output: pipe,
        failed: (code, message) => {
          if (timedOut) return;
          if (code === 'ERR_WORKER_OUT_OF_MEMORY') finish({ errors: [located('memory', `The model ran out of memory (its heap reached ${limit}) and was stopped.`)] });
          else finish({ errors: [located('runtime', `The model's worker failed: ${message}.`)] });
        },
        // the whole process counts: tensors, typed arrays the model keeps, its heap
        memory: (rss) => {
          if (timedOut || rss <= memoryMb * 2 ** 20) return;
          timedOut = true; // nothing else is reported for this run
          const message = `The model used ${Math.round(rss / 2 ** 20)} MB (its whole process: tensors, typed arrays and heap), more than ${limit}, and was stopped.`;
          // where it was allocating: the debugger pauses it (and so stops the growth) and says
          void proc.locate(b.bundlePath, 1000).then((busy) => {
            const loc = busy && original(busy.line, busy.column);
            finish({ errors: [loc ? { kind: 'memory', file: loc.file, line: loc.line, column: loc.column, message: `${message} It was running line ${loc.line}.` } : located('memory', message)] });
          });
        },
        exited: (code, signal) => {
          if (timedOut) return;
          const how = signal ? `was ended by the signal ${signal} (the model's code may have sent it, e.g. process.kill)` : `exited (code ${code})`;
          finish({ errors: [located('runtime', `The model's process ${how} before it sent a result.`)] });
        },
      });
    });
    if (opts.signal?.aborted) aborted();
    return {
      settled,
      send: (m) => {
        if (gone) return;
        if (m.type === 'resume' || m.type === 'step') {
          // running again: watched again, from a fresh interval
          on(m.type === 'step' ? { type: 'step', count: m.count } : { type: 'resume' });
          lastSteps = -1;
        } else if (m.type === 'pause') on({ type: 'pause' }); // still timed until the worker halts
        proc.post(m);
      },
      cancel,
      inspect: (request) => {
        if (gone) return Promise.resolve({ ok: false, error: gone });
        const id = ++inspectId;
        return new Promise<InspectOutcome>((resolve) => {
          const limit = INSPECT_TIMEOUT_FACTOR * timeoutMs;
          const what = { graph: 'graph of the current step', gradcheck: 'gradient check', hessian: 'Hessian', landscape: 'loss landscape', playground: 'optimizer playground', boundary: 'decision boundary', trace: 'trace of the parameter' }[request.kind];
          const timer = setTimeout(() => void onTimeout(what), limit);
          inspections.set(id, { resolve, timer });
          proc.post({ type: 'inspect', id, request });
        });
      },
    };
  }

  /**
   * Prepares for a run of `file` that has not been asked for yet (a model file was shown): the
   * bundler's WebAssembly is compiled and a spare model process is started, so Show Graph waits for
   * neither. Runs no model code.
   */
  warm(file: string): void {
    this.bundler.warm(file);
    warmModelProcesses(path.join(this.distDir, 'model-host.js'));
  }

  /** Ends the bundler and every model process this process started. */
  dispose(): void {
    for (const cancel of [...this.active]) cancel('The run was stopped: Backprop Lens is shutting down.');
    this.bundler.dispose();
    warmModelProcesses(path.join(this.distDir, 'model-host.js'), false); // and its spare, if warm
  }
}

function bundleErrors(errors: BundleProblem[], file: string): RunError[] {
  return errors.map(({ kind, ...e }) => ({ kind: kind ?? 'syntax', ...e, file: e.file || file }));
}

/** A run limit outside its range, as the error the run reports instead of running. */
function optionsProblem(file: string, opts: RunOptions): RunError | null {
  for (const name of ['timeoutMs', 'memoryMb', 'maxNodes', 'maxElements'] as const) {
    const v = opts[name];
    const problem = v === undefined ? null : limitProblem(name, v, 'setting');
    if (problem) return { kind: 'settings', file, line: null, column: null, message: problem };
  }
  return null;
}

/** A PyTorch model file (run by python/backprop_lens instead of the engine). */
export const isPythonFile = (file: string) => /\.py$/i.test(file);

function cancelled(file: string): RunError {
  return { kind: 'cancelled', file, line: null, column: null, message: 'The run was cancelled (its panel was closed).' };
}

/** How a training run's settling ends its lifecycle. */
function endEvent(o: Settle): RunEvent {
  if ('result' in o) return { type: 'finished', ...(o.result.stoppedEarly ? { stoppedEarly: o.result.stoppedEarly } : {}) };
  if ('errors' in o && o.errors[0]?.kind === 'cancelled') return { type: 'cancel' };
  return { type: 'failed', error: 'errors' in o ? (o.errors[0]?.message ?? '') : 'The model worker sent a snapshot to a training run.' };
}

function internal(file: string, message: string): RunError {
  return { kind: 'internal', file, line: null, column: null, message };
}

