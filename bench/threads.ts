/**
 * Threads benchmark: does splitting one large float32 matmul across two cores pay, with a
 * worker_thread and SharedArrayBuffer, the way the model process could do it?
 *
 * For C = A·B at 256², 512², 1024² and an MLP-like [128×784]·[784×256] it times
 *   (1) one thread:  wasmMatmul (engine/backends/cpu/wasm/gemm.ts) of the whole product on the main thread;
 *   (2) two threads: the rows of C cut in two halves, the first computed by wasmMatmul on the main
 *       thread and the second by wasmMatmul in ONE persistent worker (started once, before any timing,
 *       and reused). A, B and C live in SharedArrayBuffers: each thread reads its rows of A and the
 *       whole of B, and writes its half of C in place.
 * The engine's matmul is synchronous, so the main thread is too: it signals the worker with
 * Atomics.store + Atomics.notify on an Int32Array over a SharedArrayBuffer, does its half, then
 * blocks in Atomics.wait until the worker's half is done. The signal, the wait and the copies
 * wasmMatmul makes into and out of its module's memory (each thread has its own module, so B is
 * copied twice) are all inside the timed region: they are the price of the split.
 *
 *   npm run bench:threads                 (node scripts/bench.mjs bench/threads.ts)
 *   options: --min-ms=N (time per size, default 2000), --warmup-ms=N (default 300)
 *
 * The two ways are timed interleaved (one run of each in turn), so a burst of load from another
 * process slows both alike; the median per-run time is reported, with the min, and the speedup is
 * one-thread median / two-thread median. The two-thread C must equal the one-thread C bit for bit
 * (the same kernel over the same rows, the same k order); the check is printed for each size.
 *
 * To read a result against its noise, each size also shows where the two-thread runs went (each
 * thread's half, against half of the one-thread time, and the rest: signal, wake-up, wait) and how
 * the machine's CPUs were shared meanwhile (this process, other processes, hypervisor steal, from
 * /proc/stat); os.cpus().length and the load average are printed at the start and the end. On a
 * virtual machine the two vCPUs may not be independent cores at every moment: halves that take
 * about the whole one-thread time, with nothing else running, are that.
 *
 * The bundle runner (scripts/bench.mjs) runs this file as out/bench/threads.cjs; the worker is the
 * same file (`new Worker(__filename)`), which takes the `isMainThread === false` branch below.
 */
import * as fs from 'fs';
import * as os from 'os';
import { performance } from 'perf_hooks';
import { Worker, isMainThread, workerData } from 'worker_threads';
import { benchArgs } from './args';
import { wasmKernelKind, wasmMatmul } from '../engine/backends/cpu/wasm/gemm';

// ---------------------------------------------------------------------------------------------
// cases and the protocol between the main thread and the worker

/** The products: C [m×n] = A [m×k] · B [k×n]. */
const CASES: { name: string; m: number; k: number; n: number }[] = [
  { name: 'square', m: 256, k: 256, n: 256 },
  { name: 'square', m: 512, k: 512, n: 512 },
  { name: 'square', m: 1024, k: 1024, n: 1024 },
  { name: 'MLP layer', m: 128, k: 784, n: 256 }, // a batch of 128 MNIST images through a 784→256 layer
];

/** A case's operands, all over SharedArrayBuffers so both threads see the same memory. */
interface SharedCase {
  m: number;
  k: number;
  n: number;
  /** First row of C that the worker computes; the main thread does rows [0, split). */
  split: number;
  a: Float32Array;
  b: Float32Array;
  /** The two-thread result. */
  c: Float32Array;
}

/** Slots of the control Int32Array. */
const GO = 0; // sequence number of the latest request, bumped by the main thread
const DONE = 1; // sequence number of the latest request the worker has finished
const OP = 2; // what the request asks: a case index, or one of the codes below
const OP_PING = -1; // no work: measures the round trip alone
const OP_EXIT = -2; // leave the loop, so the worker ends
/** The worker writes how long its half took (ms) here before it signals DONE, which publishes it. */
const WORKER_MS = 0;

/** Rows [r0, r1) of C = A·B, with wasmMatmul on this thread (its own WebAssembly module). */
function matmulRows(s: SharedCase, r0: number, r1: number, c: Float32Array): void {
  const { k, n } = s;
  if (!wasmMatmul(s.a.subarray(r0 * k, r1 * k), [0], false, s.b, [0], false, c.subarray(r0 * n, r1 * n), r1 - r0, k, n)) {
    throw new Error('wasmMatmul declined: no WebAssembly SIMD in this runtime');
  }
}

// ---------------------------------------------------------------------------------------------
// the worker: waits (blocking, like a thread of a thread pool) for a request, does it, says so

function workerLoop(): void {
  const { ctrl, times, cases } = workerData as { ctrl: Int32Array; times: Float64Array; cases: SharedCase[] };
  // GO starts at 0 and only the main thread moves it; reading it here instead could miss a request
  // made before this thread got this far, and then wait for the next one forever
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, GO, seen); // returns at once if GO moved on since `seen`
    seen = Atomics.load(ctrl, GO);
    const op = Atomics.load(ctrl, OP);
    if (op === OP_EXIT) return;
    if (op >= 0) {
      const s = cases[op];
      const t0 = performance.now();
      matmulRows(s, s.split, s.m, s.c);
      times[WORKER_MS] = performance.now() - t0;
    }
    Atomics.store(ctrl, DONE, seen);
    Atomics.notify(ctrl, DONE);
  }
}

// ---------------------------------------------------------------------------------------------
// the main thread: helpers

const ARGS = benchArgs({ 'min-ms': 2000, 'warmup-ms': 300 });
const MIN_MS = ARGS['min-ms'];
const WARMUP_MS = ARGS['warmup-ms'];
const MIN_ITERS = 10;
const MAX_ITERS = 100000;
/** A speedup below this is reported as not paying: a few percent is within the noise of a shared machine. */
const PAYS_ABOVE = 1.05;

const say = (line = '') => console.log(line);
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(', ');

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Timing {
  median: number;
  min: number;
  iters: number;
}
const timing = (samples: number[]): Timing => ({ median: median(samples), min: samples.reduce((a, b) => Math.min(a, b)), iters: samples.length });

/**
 * Times several functions interleaved: a warm-up of at least WARMUP_MS (and 3 rounds; it also lets
 * V8 tier the WebAssembly up in both threads), then rounds of one run of each for at least MIN_MS
 * (and MIN_ITERS rounds, at most MAX_ITERS). Per-function per-run ms.
 */
function timeInterleaved(fns: (() => void)[]): Timing[] {
  const w0 = performance.now();
  for (let r = 0; r < 3 || performance.now() - w0 < WARMUP_MS; r++) for (const fn of fns) fn();
  const samples = fns.map(() => [] as number[]);
  const start = performance.now();
  while (samples[0].length < MAX_ITERS && (samples[0].length < MIN_ITERS || performance.now() - start < MIN_MS)) {
    fns.forEach((fn, i) => {
      const t0 = performance.now();
      fn();
      samples[i].push(performance.now() - t0);
    });
  }
  return samples.map(timing);
}

/** Float32Array of `length` over a new SharedArrayBuffer, filled from `fill` (or zeros). */
function shared(length: number, fill?: () => number): Float32Array {
  const x = new Float32Array(new SharedArrayBuffer(length * 4));
  if (fill) for (let i = 0; i < length; i++) x[i] = fill();
  return x;
}

/** A small deterministic generator (xorshift32) of values in [-1, 1). */
function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 31 - 1;
  };
}

/** The machine's CPU time so far (all CPUs, ms): busy and stolen by the hypervisor, from /proc/stat (Linux; null elsewhere). */
function machineCpu(): { busy: number; steal: number } | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const tick = 1000 / 100; // USER_HZ is 100 on Linux
    return { busy: (f[0] + f[1] + f[2] + f[5] + f[6]) * tick, steal: f[7] * tick };
  } catch {
    return null;
  }
}

/**
 * Where the CPUs went while `fn` ran, as shares of (logical CPUs × wall time): this process (both
 * threads; the worker blocks in Atomics.wait, which costs nothing, when idle), other processes, and
 * time the hypervisor stole. With the second core free, interleaved runs that take t1 on one thread
 * and t2 on two give this process about (t1 + 2·t2) / (2·(t1 + t2)) of two CPUs, 67% when two threads
 * halve the time; a large "other processes" or "stolen" share means the second core was not free.
 */
function cpuShares<T>(fn: () => T): { result: T; line: string } {
  const cpus = os.cpus().length;
  const m0 = machineCpu();
  const p0 = process.cpuUsage();
  const t0 = performance.now();
  const result = fn();
  const wall = performance.now() - t0;
  const p = process.cpuUsage(p0);
  const m1 = machineCpu();
  const ours = (p.user + p.system) / 1000;
  const pct = (ms: number) => `${Math.max(0, (100 * ms) / (cpus * wall)).toFixed(0)}%`;
  const line = m0 && m1
    ? `CPU during this size (share of ${cpus} CPUs × wall time): this process ${pct(ours)}, other processes ${pct(m1.busy - m0.busy - ours)}, stolen by the hypervisor ${pct(m1.steal - m0.steal)}`
    : `CPU during this size: this process ${pct(ours)} of ${cpus} CPUs × wall time (no /proc/stat for the rest)`;
  return { result, line };
}

/** Elements whose bits differ between x and y (so −0 vs 0 and NaN payloads count too). */
function bitDiffs(x: Float32Array, y: Float32Array): number {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

// ---------------------------------------------------------------------------------------------
// the main thread: the benchmark

async function main(): Promise<void> {
  const cpus = os.cpus();
  say(`node ${process.version} · ${os.platform()} ${os.arch()} · ${cpus[0]?.model ?? 'unknown CPU'} · os.cpus().length = ${cpus.length}`);
  say(`load average at start (1, 5, 15 min): ${loadavg()}`);
  say(`WebAssembly kernels: ${wasmKernelKind()}`);
  if (wasmKernelKind() === 'none') throw new Error('no WebAssembly SIMD here: nothing to measure');
  say(`timing: one-thread and two-thread runs interleaved, ≥ ${WARMUP_MS} ms warm-up, then ≥ ${MIN_MS} ms and ≥ ${MIN_ITERS} runs each per size; median reported`);
  say();

  const rand = uniform(20240611);
  const cases: SharedCase[] = CASES.map(({ m, k, n }) => ({
    m, k, n, split: m >> 1, a: shared(m * k, rand), b: shared(k * n, rand), c: shared(m * n),
  }));
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT));
  const times = new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT));

  // the one worker, started before any timing and kept for every case
  const worker = new Worker(__filename, { workerData: { ctrl, times, cases } });
  worker.on('error', (e) => {
    console.error('worker failed:', e);
    process.exit(1);
  });
  await new Promise<void>((resolve) => worker.once('online', () => resolve()));

  let seq = 0;
  /** Asks the worker for `op` (no waiting): the request's sequence number. */
  const request = (op: number): number => {
    Atomics.store(ctrl, OP, op);
    Atomics.store(ctrl, GO, ++seq);
    Atomics.notify(ctrl, GO);
    return seq;
  };
  /** Blocks until the worker has finished request `id` (a worker that died would leave this thread waiting: give up after 10 s). */
  const awaitDone = (id: number): void => {
    for (let done = Atomics.load(ctrl, DONE); done !== id; done = Atomics.load(ctrl, DONE)) {
      if (Atomics.wait(ctrl, DONE, done, 10_000) === 'timed-out') throw new Error(`the worker did not answer request ${id} in 10 s`);
    }
  };

  // the synchronisation alone: request nothing, wait for the answer
  const [ping] = timeInterleaved([() => awaitDone(request(OP_PING))]);
  say(`round trip to the worker with no work (Atomics.notify → Atomics.wait): median ${fmt(ping.median * 1000, 1)} µs, min ${fmt(ping.min * 1000, 1)} µs (${ping.iters} runs)`);
  say();

  const rows: string[][] = [];
  for (let i = 0; i < cases.length; i++) {
    const s = cases[i];
    const { m, k, n } = s;
    const c1 = new Float32Array(m * n); // the one-thread result
    const oneThread = () => matmulRows(s, 0, m, c1);
    // where each two-thread run went: this thread's half, the worker's half, and the rest of the run
    // (signal, the worker's wake-up, the wait), to tell slow halves (the cores not independent) from slow synchronisation
    const mainHalf: number[] = [], workerHalf: number[] = [], rest: number[] = [];
    const twoThreads = () => {
      const t0 = performance.now();
      const id = request(i); // the worker: rows [split, m)
      matmulRows(s, 0, s.split, s.c); // this thread: rows [0, split)
      const ownMs = performance.now() - t0;
      awaitDone(id);
      const total = performance.now() - t0;
      mainHalf.push(ownMs);
      workerHalf.push(times[WORKER_MS]);
      rest.push(total - Math.max(ownMs, times[WORKER_MS]));
    };
    const { result: [t1, t2], line: cpuLine } = cpuShares(() => timeInterleaved([oneThread, twoThreads]));
    const flops = 2 * m * k * n;
    const gf = (t: Timing) => flops / (t.median * 1e6);
    const diffs = bitDiffs(c1, s.c);
    const speedup = t1.median / t2.median;
    const label = `${CASES[i].name} [${m}×${k}]·[${k}×${n}]`;
    say(`${label}, float32, ${fmt(flops / 1e9, 3)} GFLOP per product`);
    say(`  one thread   ${fmt(t1.median, 3).padStart(8)} ms  ${fmt(gf(t1), 1).padStart(6)} GFLOP/s   (median of ${String(t1.iters).padStart(4)}, min ${fmt(t1.min, 3)} ms)`);
    say(`  two threads  ${fmt(t2.median, 3).padStart(8)} ms  ${fmt(gf(t2), 1).padStart(6)} GFLOP/s   (median of ${String(t2.iters).padStart(4)}, min ${fmt(t2.min, 3)} ms)`);
    const timed = (xs: number[]) => fmt(median(xs.slice(-t2.iters)), 3); // the timed runs, not the warm-up
    say(`  two-thread runs (medians): this thread's half ${timed(mainHalf)} ms, the worker's half ${timed(workerHalf)} ms (half of the one-thread time: ${fmt(t1.median / 2, 3)} ms), rest (signal, wake-up, wait) ${timed(rest)} ms`);
    say(`  speedup (one-thread / two-thread median): ${fmt(speedup)}×; best-vs-best ${fmt(t1.min / t2.min)}×`);
    say(`  check: two-thread C ${diffs === 0 ? 'equals' : 'DIFFERS FROM'} one-thread C bit for bit (${diffs} of ${m * n} elements differ)`);
    say(`  ${cpuLine}`);
    say();
    const verdict = speedup > PAYS_ABOVE ? `pays: ${fmt(speedup)}×` : `does not pay: ${fmt(speedup)}×`;
    rows.push([label, verdict]);
  }

  say(`verdict per size (two threads on ${cpus.length} logical CPU(s); "pays" above ${PAYS_ABOVE}×):`);
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [label, verdict] of rows) say(`  ${label.padEnd(w)}  ${verdict}`);
  say(`load average at end (1, 5, 15 min): ${loadavg()}`);

  request(OP_EXIT);
  await worker.terminate();
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  workerLoop();
}
