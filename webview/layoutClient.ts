/**
 * Runs layouts off the UI thread. A webview cannot start a Worker from its resource origin, so the
 * worker script is fetched and started from a blob: URL (allowed by the page's worker-src). If that
 * fails for any reason, layouts run on the main thread with the same code.
 *
 * A layout that fails in the worker comes back with its `error` and is not redone on the main thread
 * (the same pure code would fail the same way, after blocking the panel), except a stack overflow: the
 * main thread's stack is about twice a worker's. What fails on the main thread is returned the same
 * way, as a result with `error`, so the caller has one thing to show.
 */
import { computeLayout, failedLayout, type LayoutRequest, type LayoutResult } from './layout';

const STACK_OVERFLOW = /call stack|too much recursion/i;

export class LayoutClient {
  private worker: Worker | null = null;
  private starting: Promise<Worker | null> | null = null;
  /** Waiting layouts: resolved with the worker's result, or null when the worker is gone. */
  private pending = new Map<number, (r: LayoutResult | null) => void>();
  /** Where layouts ran last: the tests and the status line read it. */
  where: 'worker' | 'main' = 'main';

  constructor(private readonly workerUri: string | undefined) {
    // fetched and started now, while the host runs the model: the first graph does not wait for it
    void this.start();
  }

  private start(): Promise<Worker | null> {
    if (this.starting) return this.starting;
    this.starting = (async () => {
      if (!this.workerUri) return null;
      try {
        const res = await fetch(this.workerUri);
        if (!res.ok) return null;
        const blob = new Blob([await res.text()], { type: 'text/javascript' });
        const worker = new Worker(URL.createObjectURL(blob));
        worker.onmessage = (e: MessageEvent<LayoutResult>) => {
          const done = this.pending.get(e.data.id);
          this.pending.delete(e.data.id);
          done?.(e.data);
        };
        worker.onerror = () => this.failWorker();
        this.worker = worker;
        return worker;
      } catch {
        return null;
      }
    })();
    return this.starting;
  }

  /** A worker that errors is dropped; waiting layouts are redone on the main thread. */
  private failWorker(): void {
    this.worker?.terminate();
    this.worker = null;
    this.starting = Promise.resolve(null);
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const done of waiting) done(null);
  }

  /** Never rejects: a layout that cannot be made comes back with `error` set. */
  async layout(req: LayoutRequest): Promise<LayoutResult> {
    const worker = await this.start();
    if (worker) {
      const result = await new Promise<LayoutResult | null>((resolve) => {
        this.pending.set(req.id, resolve);
        worker.postMessage(req);
      });
      if (result && (!result.error || !STACK_OVERFLOW.test(result.error))) {
        this.where = 'worker';
        return result;
      }
    }
    this.where = 'main';
    try {
      return computeLayout(req);
    } catch (err) {
      return failedLayout(req.id, err);
    }
  }
}
