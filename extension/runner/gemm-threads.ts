/**
 * A second thread for large matrix products in the model process. The engine's matmul is
 * synchronous, so the model's thread hands the lower rows of C to one persistent worker_thread,
 * computes the upper rows itself, and blocks in Atomics.wait until the worker is done. Both halves
 * run the same WebAssembly kernel over the same k order, so C has the same bits as on one thread.
 * `npm run bench:threads` measured the split on this project's 2-core VM: 1.65× at 256², 1.87× at
 * 512², 1.68× for a 128×784 by 784×256 layer (the hand-off costs ~0.05 ms, so only products of at
 * least SPLIT_MIN_MACS multiply-adds are split).
 *
 * Shared memory: `control` (Int32Array over a SharedArrayBuffer) carries the request and its
 * answer; `data` holds the worker's rows of A, all of B and the worker's rows of C. When a product
 * needs a larger `data`, a new buffer is sent over a MessageChannel and the worker takes it with
 * receiveMessageOnPort (it is blocked in Atomics.wait, not in an event loop).
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { SPLIT_MIN_ROWS, setRowSplitter, wasmMatmulRows, type RowSplitter } from '../../engine/backends/cpu/wasm/gemm';

/** Slots of the control array. */
const GO = 0; // the latest request's number (the model's thread counts up)
const DONE = 1; // the latest request the worker finished
const M = 2, K = 3, N = 4, TRANS_B = 5, F64 = 6, OK = 7, NEW_BUFFER = 8;
const READY = 9; // 1 once the worker waits for requests
const CONTROL_SLOTS = 10;
/** How long the model's thread waits for the worker before it does the rows itself (and stops splitting). */
const WAIT_MS = 10_000;

export interface GemmThreadData {
  control: SharedArrayBuffer;
  port: MessagePort;
}

/** A float view of `length` values at byte `at` of a shared buffer. */
const view = (f64: boolean, buffer: SharedArrayBuffer, at: number, length: number): Float32Array | Float64Array =>
  (f64 ? new Float64Array(buffer, at, length) : new Float32Array(buffer, at, length));

/** Byte offsets in `data` of the worker's A rows, B and its C rows. */
function layout(rows: number, k: number, n: number, size: number) {
  const a = 0;
  const b = a + rows * k * size;
  const c = b + k * n * size;
  return { a, b, c, end: c + rows * n * size };
}

/** The installed second thread: how many products it has shared, and how to end it. */
export interface GemmThread {
  products(): number;
  stop(): void;
}

/**
 * Installs the splitter in the engine. The worker (script: the bundled gemm-thread.js) starts with
 * the first product large enough to share, which runs on one thread while it starts: a model with
 * no large product (a lecture file) never starts it.
 */
export function installGemmThread(script: string): GemmThread {
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  const channel = new MessageChannel();
  let worker: Worker | null = null;
  let data = new SharedArrayBuffer(0);
  let alive = true;
  let products = 0;

  const start = (): void => {
    try {
      worker = new Worker(script, { workerData: { control: control.buffer, port: channel.port2 } satisfies GemmThreadData, transferList: [channel.port2] });
    } catch {
      alive = false;
      return;
    }
    // the worker never keeps the model's thread (or its process) alive
    worker.unref();
    worker.on('error', () => (alive = false));
    worker.on('exit', () => (alive = false));
  };

  const split: RowSplitter = (a, b, transB, c, m, k, n) => {
    if (!alive) return false;
    if (!worker) start();
    if (Atomics.load(control, READY) !== 1) return false;
    const f64 = c instanceof Float64Array;
    const size = f64 ? 8 : 4;
    // the model's thread takes the upper half (rounded to whole 4-row tiles), the worker the rest
    const top = Math.max(SPLIT_MIN_ROWS, Math.min(m - SPLIT_MIN_ROWS, Math.round(m / 8) * 4));
    const rows = m - top;
    const at = layout(rows, k, n, size);
    if (at.end > data.byteLength) {
      data = new SharedArrayBuffer(Math.ceil(at.end / 65536) * 65536);
      channel.port1.postMessage(data);
      control[NEW_BUFFER] = 1;
    }
    view(f64, data, at.a, rows * k).set(a.subarray(top * k, m * k));
    view(f64, data, at.b, k * n).set(b);
    control[M] = rows;
    control[K] = k;
    control[N] = n;
    control[TRANS_B] = transB ? 1 : 0;
    control[F64] = f64 ? 1 : 0;
    const request = Atomics.add(control, GO, 1) + 1;
    Atomics.notify(control, GO);
    if (!wasmMatmulRows(a.subarray(0, top * k), b, transB, c.subarray(0, top * n), top, k, n)) throw new Error('the WebAssembly kernel declined its rows of a split product');
    const deadline = Date.now() + WAIT_MS;
    for (let done = Atomics.load(control, DONE); done !== request; done = Atomics.load(control, DONE)) {
      const left = deadline - Date.now();
      if (left <= 0 || !alive) {
        // the worker is gone or stuck: these rows here, and no more splitting
        stop();
        if (!wasmMatmulRows(a.subarray(top * k, m * k), b, transB, c.subarray(top * n, m * n), rows, k, n)) throw new Error('the WebAssembly kernel declined the rows the second thread did not compute');
        return true;
      }
      Atomics.wait(control, DONE, done, left);
    }
    if (control[OK] !== 1) throw new Error('the second matmul thread could not compute its rows');
    c.set(view(f64, data, at.c, rows * n), top * n);
    products++;
    return true;
  };

  const stop = () => {
    setRowSplitter(null);
    alive = false;
    void worker?.terminate();
    channel.port1.close();
  };
  setRowSplitter(split);
  return { products: () => products, stop };
}

/** The worker's loop: wait for a request, compute its rows of C, say so. */
export function runGemmThread({ control: controlBuffer, port }: GemmThreadData): void {
  const control = new Int32Array(controlBuffer);
  let data = new SharedArrayBuffer(0);
  let seen = 0;
  Atomics.store(control, READY, 1);
  for (;;) {
    Atomics.wait(control, GO, seen);
    seen = Atomics.load(control, GO);
    if (control[NEW_BUFFER] === 1) {
      // the buffer was posted before the request: take every one sent (the newest is the one to
      // use), waiting a little if the first has not arrived yet
      const pause = new Int32Array(new SharedArrayBuffer(4));
      let got = false;
      for (let tries = 0; tries < 1000 && !got; tries++) {
        for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
          data = m.message as SharedArrayBuffer;
          got = true;
        }
        if (!got) Atomics.wait(pause, 0, 0, 1);
      }
      control[NEW_BUFFER] = 0;
    }
    const rows = control[M], k = control[K], n = control[N];
    const f64 = control[F64] === 1;
    const at = layout(rows, k, n, f64 ? 8 : 4);
    let ok = false;
    try {
      ok = wasmMatmulRows(view(f64, data, at.a, rows * k), view(f64, data, at.b, k * n), control[TRANS_B] === 1, view(f64, data, at.c, rows * n), rows, k, n);
    } catch {
      ok = false;
    }
    control[OK] = ok ? 1 : 0;
    Atomics.store(control, DONE, seen);
    Atomics.notify(control, DONE);
  }
}
