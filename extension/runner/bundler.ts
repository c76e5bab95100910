/** Bundles model files in a long-lived worker (see bundler-worker.ts); the caller's thread never blocks. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

export interface BundleRequest {
  id: number;
  file: string;
  /** Unsaved text of `file` (re-trace while typing); the file on disk is used when absent. */
  contents?: string;
}

export interface BundleProblem {
  /** Absent: the file does not compile. */
  kind?: 'timeout';
  message: string;
  file: string;
  line: number | null;
  column: number | null;
}

export type BundleResponse =
  | { id: number; ok: true; code: string; map: string; bundlePath: string; files: string[] }
  | { id: number; ok: false; errors: BundleProblem[] };

export class Bundler {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { done: (r: BundleResponse) => void; file: string }>();

  constructor(private readonly workerPath: string) {}

  /**
   * Bundles `file` (with its unsaved `contents`). Past `limitMs` the bundler is stopped (and started
   * afresh for the next request) and the answer says so: bundling has its own limit, apart from the
   * model's timeout.
   */
  bundle(file: string, contents?: string, limitMs = 60_000): Promise<BundleResponse> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending.has(id)) return;
        const size = contents !== undefined ? Buffer.byteLength(contents) : sizeOf(file);
        const message = `Bundling ${path.basename(file)}${size === null ? '' : ` (${Math.round(size / 1024)} kB)`} took longer than ${limitMs / 1000} s and was stopped. ` +
          'Bundling has its own limit, apart from the model\'s "backpropLens.timeoutMs": a very large file (generated data, say) is better loaded at run time with fs.';
        this.stop(message, id);
      }, limitMs);
      this.pending.set(id, { done: (r) => {
        clearTimeout(timer);
        resolve(r);
      }, file });
      w.ref();
      w.postMessage({ id, file, contents } satisfies BundleRequest);
    });
  }

  /** Ends the bundler's worker: request `id` gets `message`, the others that it was stopped. */
  private stop(message: string, id: number): void {
    const w = this.worker;
    this.worker = null;
    for (const [pid, p] of this.pending) {
      p.done({ id: pid, ok: false, errors: [{ kind: 'timeout', message: pid === id ? message : 'Bundling was stopped while another file took too long; run it again.', file: p.file, line: null, column: null }] });
    }
    this.pending.clear();
    void w?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerPath);
    w.on('message', (r: BundleResponse) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (this.pending.size === 0) w.unref(); // an idle bundler does not keep a CLI process alive
      p?.done(r);
    });
    const failAll = (message: string) => {
      if (this.worker !== w) return; // stopped on purpose (see stop)
      for (const [id, p] of this.pending) p.done({ id, ok: false, errors: [{ message, file: p.file, line: null, column: null }] });
      this.pending.clear();
      this.worker = null;
    };
    w.on('error', (err) => failAll(`The bundler failed: ${err.message}`));
    w.on('exit', (code) => failAll(`The bundler stopped (exit code ${code}).`));
    this.worker = w;
    return w;
  }

  /**
   * Gets the bundler ready ahead of the first bundle: starts its worker, which compiles esbuild's
   * WebAssembly (half a second to a second on a loaded machine), by bundling `file` once. Bundling
   * reads files and runs nothing; the result is dropped.
   */
  warm(file: string): void {
    if (this.warmed) return;
    this.warmed = true;
    void this.bundle(file).then((r) => r, () => undefined);
  }
  private warmed = false;

  dispose(): void {
    void this.worker?.terminate();
    this.worker = null;
  }
}

function sizeOf(file: string): number | null {
  try {
    return fs.statSync(file).size;
  } catch {
    return null;
  }
}
