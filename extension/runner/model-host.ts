/**
 * The model process: a child process of the extension host (or the CLI) that runs one model file.
 * Model code runs in a worker thread of this process (heap limit, stack size), so nothing it does
 * reaches the host: `process.kill(process.pid)` or a runaway allocation ends this process, and the
 * runner reports it. This thread only relays: the worker's messages and console to the parent, the
 * parent's controls to the worker, the progress cells and the process's resident memory every
 * 50 ms, and, when asked, where the worker is executing (the debugger, see busy.ts).
 *
 * The parent speaks first: `{ type: 'start', ... }`. See ModelProcess (model-process.ts).
 */
import { Worker } from 'node:worker_threads';
import { pausedLocation } from './busy';
import type { HostToModel, ModelToHost } from './model-process';
import { applyModelV8Flags } from './v8-flags';

applyModelV8Flags();

const send = (m: ModelToHost) => {
  if (process.connected) process.send!(m);
};

let worker: Worker | null = null;

// A spare (model-process.ts: forked ahead of a run) runs no model code until 'start'; its process
// name says so (`ps` lists it apart from the model processes), and becomes the usual one on 'start'.
const spare = process.argv.includes('--spare');
if (spare) process.title = 'backprop-lens spare model process';

process.on('message', (raw: HostToModel) => {
  switch (raw?.type) {
    case 'start': {
      if (worker) return;
      if (spare) process.title = `${process.argv0} ${process.argv[1]}`;
      const base = process.memoryUsage.rss();
      const progress = new SharedArrayBuffer(16);
      const cells = new Int32Array(progress);
      const read = (): [number, number, number, number] => [cells[0], cells[1], cells[2], cells[3]];
      const w = new Worker(raw.workerPath, {
        workerData: { ...raw.input, progress },
        resourceLimits: { maxOldGenerationSizeMb: raw.memoryMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 8 },
        stdout: true, stderr: true,
      });
      worker = w;
      w.stdout.on('data', (chunk: Buffer) => send({ type: 'output', stream: 'stdout', text: chunk.toString('utf8') }));
      w.stderr.on('data', (chunk: Buffer) => send({ type: 'output', stream: 'stderr', text: chunk.toString('utf8') }));
      // each message carries the cells as they are now (an error's location must not be 50 ms old)
      w.on('message', (message) => send({ type: 'worker', message, cells: read() }));
      w.on('error', (err: Error & { code?: string }) => send({ type: 'worker-error', code: err.code ?? null, message: err.message, cells: read() }));
      w.on('exit', (code) => {
        clearInterval(report);
        send({ type: 'worker-exit', code, cells: read() });
      });
      const report = setInterval(() => send({ type: 'status', cells: read(), rss: process.memoryUsage.rss() - base }), 50);
      break;
    }
    case 'control':
      worker?.postMessage(raw.message);
      break;
    case 'locate':
      if (!worker) send({ type: 'located', id: raw.id, location: null });
      else void pausedLocation(worker, raw.bundlePath).then((location) => send({ type: 'located', id: raw.id, location }));
      break;
    default:
      break;
  }
});

// the parent went away (the extension host closed, the CLI exited): nothing is left running
process.on('disconnect', () => process.exit(0));
