/** Bundles model files in a long-lived worker (see bundler-worker.ts); the caller's thread never blocks. */
import { Worker } from 'node:worker_threads';

export interface BundleRequest {
  id: number;
  file: string;
  /** Unsaved text of `file` (re-trace while typing); the file on disk is used when absent. */
  contents?: string;
}

export interface BundleProblem {
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

  bundle(file: string, contents?: string): Promise<BundleResponse> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { done: resolve, file });
      w.ref();
      w.postMessage({ id, file, contents } satisfies BundleRequest);
    });
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
      for (const [id, p] of this.pending) p.done({ id, ok: false, errors: [{ message, file: p.file, line: null, column: null }] });
      this.pending.clear();
      this.worker = null;
    };
    w.on('error', (err) => failAll(`The bundler failed: ${err.message}`));
    w.on('exit', (code) => failAll(`The bundler stopped (exit code ${code}).`));
    this.worker = w;
    return w;
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = null;
  }
}
