/**
 * Runs a model file: bundle (esbuild, in the bundler worker), then run it traced in a fresh worker
 * with a timeout and a heap limit, and collect the snapshot, console output and errors. Used by the
 * extension and the CLI alike; nothing here imports vscode.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Bundler } from './bundler';
import { BundleMap } from './sourcemap';
import { pausedLocation } from './busy';
import type { GraphSnapshot } from '../../engine/trace/snapshot';
import { DEFAULTS, type LogLine, type RunError, type RunOptions, type RunOutcome, type WorkerInput, type WorkerMessage } from './types';

export class ModelRunner {
  private readonly bundler: Bundler;

  /** `distDir` holds the built `worker.js` and `bundler.js`. */
  constructor(private readonly distDir: string) {
    this.bundler = new Bundler(path.join(distDir, 'bundler.js'));
  }

  async run(file: string, opts: RunOptions = {}): Promise<RunOutcome> {
    file = path.resolve(file);
    const logs: LogLine[] = [];
    const t0 = performance.now();
    const b = await this.bundler.bundle(file, opts.contents);
    const bundleMs = performance.now() - t0;
    if (!b.ok) return { ok: false, file, errors: b.errors.map((e) => ({ kind: 'syntax', ...e, file: e.file || file })), logs, timings: { bundleMs, runMs: 0 }, files: [file] };

    const timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
    const memoryMb = opts.memoryMb ?? DEFAULTS.memoryMb;
    const progress = new SharedArrayBuffer(12);
    const input: WorkerInput = {
      file, bundlePath: b.bundlePath, code: b.code, map: b.map, progress, memoryMb,
      maxNodes: opts.maxNodes ?? DEFAULTS.maxNodes, maxElements: opts.maxElements ?? DEFAULTS.maxElements,
    };
    const t1 = performance.now();
    const outcome = await new Promise<RunOutcome>((resolve) => {
      let settled = false;
      let timedOut = false;
      const finish = (o: { errors: RunError[] } | { snapshot: GraphSnapshot }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void worker.terminate();
        const timings = { bundleMs, runMs: performance.now() - t1 };
        resolve('errors' in o ? { ok: false, file, errors: o.errors, logs, timings, files: b.files } : { ok: true, file, snapshot: o.snapshot, logs, timings, files: b.files });
      };
      const worker = new Worker(path.join(this.distDir, 'worker.js'), {
        workerData: input,
        resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 8 },
        stdout: true, stderr: true,
      });
      const pipe = (stream: LogLine['stream']) => (chunk: Buffer) => {
        const line = { stream, text: chunk.toString('utf8').replace(/\n$/, '') };
        logs.push(line);
        opts.onLog?.(line);
      };
      worker.stdout.on('data', pipe('stdout'));
      worker.stderr.on('data', pipe('stderr'));
      let map: BundleMap | null = null; // parsed only when a failure needs a location
      const original = (line: number, column: number) => (map ??= new BundleMap(b.map, b.bundlePath)).original(line, column);
      const where = () => {
        const p = new Int32Array(progress);
        const loc = p[1] > 0 ? original(p[1], p[2]) : null;
        return { nodes: p[0], loc };
      };
      const timer = setTimeout(() => {
        timedOut = true;
        void (async () => {
          const { nodes, loc: lastNode } = where();
          // an infinite loop may create no nodes at all: ask the debugger where the worker is
          const busy = await pausedLocation(worker, b.bundlePath);
          const loc = (busy && original(busy.line, busy.column)) ?? lastNode;
          const at = loc ? ` It was running line ${loc.line}${busy ? '' : ' (where the last graph node was created)'}.` : '';
          finish({ errors: [{
            kind: 'timeout', file: loc?.file ?? file, line: loc?.line ?? null, column: loc?.column ?? null,
            message: `The model ran longer than ${timeoutMs / 1000} s and was stopped (an infinite loop, or too much work: ${nodes} graph values so far).${at} The limit is the "backpropLens.timeoutMs" setting.`,
          }] });
        })();
      }, timeoutMs);
      worker.on('message', (m: WorkerMessage) => {
        if (timedOut) return;
        switch (m.type) {
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
          default: {
            const never: never = m;
            void never;
          }
        }
      });
      worker.on('error', (err: Error & { code?: string }) => {
        const { loc } = where();
        if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          finish({ errors: [{
            kind: 'memory', file: loc?.file ?? file, line: loc?.line ?? null, column: loc?.column ?? null,
            message: `The model ran out of memory (limit ${memoryMb} MB, the "backpropLens.memoryLimitMb" setting) and was stopped${loc ? ` near line ${loc.line}` : ''}.`,
          }] });
        } else {
          finish({ errors: [{ kind: 'runtime', file, line: loc?.line ?? null, column: loc?.column ?? null, message: `The model's worker failed: ${err.message}` }] });
        }
      });
      worker.on('exit', (code) => {
        finish({ errors: [{ kind: 'internal', file, line: null, column: null, message: `The model's worker exited (code ${code}) without a result.` }] });
      });
    });
    return outcome;
  }

  dispose(): void {
    this.bundler.dispose();
  }
}
