/**
 * Engine benchmark: this engine vs TensorFlow.js (tfjs-backend-cpu and tfjs-backend-wasm) on
 *   (a) one SGD training step of a 784-256-256-10 ReLU MLP, batch 128, float32, softmax cross-entropy;
 *   (b) a 512×512 float32 matmul, in GFLOP/s (2·512³ flops per multiply);
 *   (c) one step of micrograd's scalar-mode 2-16-16-1 MLP on 100 make-moons points (engine only);
 *   (d) a conv2d layer (x [16, 16, 12, 12], a 3×3 kernel to 16 channels, padding 1), the case of the
 *       CNN issue, against tfjs (NHWC): the forward pass, and forward + backward (the loss Σ y·r for a
 *       fixed r; tfjs-wasm has no kernel for a convolution's filter gradient, so it has the forward only).
 * The matmul figures are also shown as a fraction of this machine's WebAssembly SIMD peak (bench/peak.ts),
 * measured in the same run, and the engine's 512×512 product is timed in float64 too.
 *
 *   npx tsx bench/engine.ts            readable table
 *   npx tsx bench/engine.ts --json     same, and the last stdout line is one JSON object
 *   options: --min-ms=N (time per case, default 1000), --warmup=N (default 3)
 *
 * Each case is warmed up, then timed for at least --min-ms (and at least MIN_ITERS iterations); the
 * median per-step time is reported. tfjs work on cpu/wasm runs eagerly and synchronously; the loss
 * (or product) is read back with dataSync() before the timer stops, and tensors are disposed.
 */
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { performance, PerformanceObserver } from 'perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { benchArgs } from './args';
import { microgradRunner, scalarMlpWeights } from './micrograd';
import { measurePeak } from './peak';
import { wasmKernelKind } from '../engine/backends/cpu/wasm/gemm';
import { Rng, Tensor, add, conv2d, linear, losses, matmul, mul, noGrad, param, relu, scalar, sub, tensor } from '../engine';

// ---------------------------------------------------------------------------------------------
// options and helpers

const ARGS = benchArgs({ 'min-ms': 1000, warmup: 3 });
const JSON_MODE = ARGS.json;
const MIN_MS = ARGS['min-ms'];
const WARMUP = ARGS.warmup;
const MIN_ITERS = 10;
const MAX_ITERS = 100000;

interface Timing {
  median: number;
  min: number;
  iters: number;
  totalMs: number;
  /** Timed window [start, end] on the performance clock, to attribute GC pauses (see gcShare). */
  start: number;
  end: number;
  /** The GC share, when the case was timed in another process (gcShare reads it). */
  gc?: number;
}

/** Garbage-collection pauses of the main thread, as reported by the 'gc' performance entries. */
const gcPauses: { start: number; duration: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ start: e.startTime, duration: e.duration });
}).observe({ entryTypes: ['gc'] });
/** GC entries reach the observer a couple of event-loop turns after the (synchronous) timed loop. */
const flushGcEntries = () => new Promise<void>((resolve) => setTimeout(resolve, 50));

/** Fraction of a timed window spent in GC pauses (call after flushGcEntries()). */
function gcShare(t: Timing): number {
  if (t.gc !== undefined) return t.gc;
  let ms = 0;
  for (const g of gcPauses) if (g.start >= t.start && g.start < t.end) ms += g.duration;
  return ms / (t.end - t.start);
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Warm-up runs, then at least MIN_MS of timed runs (and at least MIN_ITERS); per-run ms. */
function timeIt(fn: () => void): Timing {
  for (let i = 0; i < WARMUP; i++) fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < MAX_ITERS && (samples.length < MIN_ITERS || performance.now() - start < MIN_MS)) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  const end = performance.now();
  return { median: median(samples), min: Math.min(...samples), iters: samples.length, totalMs: end - start, start, end };
}

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);
}

/** ‖a − b‖ / max(‖a‖, ‖b‖) over several arrays taken together. */
function relL2(as: ArrayLike<number>[], bs: ArrayLike<number>[]): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < as.length; k++) {
    const a = as[k];
    const b = bs[k];
    if (a.length !== b.length) throw new Error(`relL2: length ${a.length} ≠ ${b.length}`);
    for (let i = 0; i < a.length; i++) {
      d += (a[i] - b[i]) ** 2;
      na += a[i] ** 2;
      nb += b[i] ** 2;
    }
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(na), Math.sqrt(nb), 1e-30);
}

/** "engine is 3.4× faster than X" from a ratio r = (engine speed) / (X speed). */
function ratioText(r: number, other: string): string {
  if (!Number.isFinite(r) || r <= 0) return '';
  return r >= 1 ? `engine is ${r.toFixed(2)}× faster than ${other}` : `engine is ${(1 / r).toFixed(2)}× slower than ${other}`;
}

const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const sci = (x: number) => (Number.isFinite(x) ? x.toExponential(1) : String(x));
const say = (line = '') => console.log(line);

/** Runs fn with tfjs's console noise (its Node "Hi there" banner, platform warnings) captured, not printed. */
const suppressed: string[] = [];
async function quietly<T>(fn: () => T | Promise<T>): Promise<T> {
  const saved = { log: console.log, warn: console.warn, info: console.info, error: console.error };
  const capture = (...args: unknown[]) => void suppressed.push(args.map(String).join(' ').trim().split('\n').filter(Boolean).join(' | '));
  console.log = console.warn = console.info = console.error = capture;
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
  }
}

// ---------------------------------------------------------------------------------------------
// (a) MLP 784-256-256-10, batch 128

const SIZES = [784, 256, 256, 10];
const BATCH = 128;
const CLASSES = 10;
const LR = 0.01;

interface MlpInit {
  /** Weights [out, in] (PyTorch layout) and biases [out], float32. */
  weights: Float32Array[];
  biases: Float32Array[];
  x: Float32Array; // [BATCH, 784]
  labels: Int32Array; // [BATCH]
}

function makeMlpInit(seed: number): MlpInit {
  const rng = new Rng(seed);
  const weights: Float32Array[] = [];
  const biases: Float32Array[] = [];
  for (let l = 0; l + 1 < SIZES.length; l++) {
    const fanIn = SIZES[l];
    const fanOut = SIZES[l + 1];
    const bound = 1 / Math.sqrt(fanIn); // PyTorch's default Linear init U(±1/√fanIn)
    const w = new Float32Array(fanOut * fanIn);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * bound;
    const b = new Float32Array(fanOut);
    for (let i = 0; i < b.length; i++) b[i] = (2 * rng.uniform() - 1) * bound;
    weights.push(w);
    biases.push(b);
  }
  const x = new Float32Array(BATCH * SIZES[0]);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = new Int32Array(BATCH);
  for (let i = 0; i < BATCH; i++) labels[i] = rng.int(CLASSES);
  return { weights, biases, x, labels };
}

interface MlpRunner {
  /** One training step; returns the loss (computed before the update). */
  step(): number;
  /** Current parameters as flat arrays in the engine layout (weights [out, in], then biases). */
  params(): Float32Array[];
  dispose(): void;
  /** Live tensor count (tfjs only), to check nothing leaks. */
  liveTensors?(): number;
}

function engineMlp(init: MlpInit): MlpRunner & { phases: { fwd: number[]; bwd: number[]; upd: number[] } } {
  const ws = init.weights.map((w, l) => param(tensor(w, { shape: [SIZES[l + 1], SIZES[l]] })));
  const bs = init.biases.map((b) => param(tensor(b)));
  const ps = [...ws, ...bs];
  const x = tensor(init.x, { shape: [BATCH, SIZES[0]] });
  const labels = tensor(init.labels, { dtype: 'int32' });
  const phases = { fwd: [] as number[], bwd: [] as number[], upd: [] as number[] };
  return {
    phases,
    step() {
      const t0 = performance.now();
      let h = x;
      for (let l = 0; l < ws.length; l++) {
        h = linear(h, ws[l], bs[l]);
        if (l + 1 < ws.length) h = relu(h);
      }
      const loss = losses.softmaxCrossEntropy(h, labels);
      const t1 = performance.now();
      loss.backward();
      const t2 = performance.now();
      for (const p of ps) {
        const d = p.data;
        const g = p.grad!.data;
        for (let i = 0; i < d.length; i++) d[i] -= LR * g[i];
        p.grad = null;
      }
      const t3 = performance.now();
      phases.fwd.push(t1 - t0);
      phases.bwd.push(t2 - t1);
      phases.upd.push(t3 - t2);
      return loss.item();
    },
    params: () => ps.map((p) => Float32Array.from(p.data)),
    dispose() {},
  };
}

/** Transposes a row-major [rows, cols] matrix. */
function transpose2(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

/** The same model on the current tfjs backend: weights as variables [in, out], x·W + b, SGD optimizer. */
function tfjsMlp(init: MlpInit): MlpRunner {
  const ws = init.weights.map((w, l) => tf.variable(tf.tensor2d(transpose2(w, SIZES[l + 1], SIZES[l]), [SIZES[l], SIZES[l + 1]]), true, `w${l}_${tf.getBackend()}`));
  const bs = init.biases.map((b, l) => tf.variable(tf.tensor1d(b), true, `b${l}_${tf.getBackend()}`));
  const vars = [...ws, ...bs];
  const x = tf.tensor2d(init.x, [BATCH, SIZES[0]]);
  const oneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(init.labels, 'int32'), CLASSES).toFloat());
  const opt = tf.train.sgd(LR);
  const lossFn = (): tf.Scalar => {
    let h: tf.Tensor = x;
    for (let l = 0; l < ws.length; l++) {
      h = tf.add(tf.matMul(h, ws[l]), bs[l]);
      if (l + 1 < ws.length) h = tf.relu(h);
    }
    return tf.losses.softmaxCrossEntropy(oneHot, h) as tf.Scalar;
  };
  return {
    step() {
      const cost = opt.minimize(lossFn, true, vars)!;
      const v = cost.dataSync()[0];
      cost.dispose();
      return v;
    },
    params: () => [
      ...ws.map((w, l) => transpose2(w.dataSync() as Float32Array, SIZES[l], SIZES[l + 1])),
      ...bs.map((b) => Float32Array.from(b.dataSync() as Float32Array)),
    ],
    dispose() {
      for (const v of vars) v.dispose();
      x.dispose();
      oneHot.dispose();
      opt.dispose();
    },
    liveTensors: () => tf.memory().numTensors,
  };
}

interface MlpCheck {
  loss: number;
  /** Parameter change after one step (new − initial), all parameters. */
  delta: Float32Array[];
}

function oneStepCheck(runner: MlpRunner, init: MlpInit): MlpCheck {
  const before = [...init.weights, ...init.biases];
  const loss = runner.step();
  const after = runner.params();
  return { loss, delta: after.map((a, k) => a.map((v, i) => v - before[k][i])) };
}

// ---------------------------------------------------------------------------------------------
// (b) 512×512 matmul

const MM = 512;
const MM_FLOPS = 2 * MM * MM * MM;
const gflops = (ms: number) => MM_FLOPS / (ms * 1e-3) / 1e9;

function matmulData(seed: number): { a: Float32Array; b: Float32Array } {
  const rng = new Rng(seed);
  const a = new Float32Array(MM * MM);
  const b = new Float32Array(MM * MM);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  for (let i = 0; i < b.length; i++) b[i] = rng.normal();
  return { a, b };
}

/** C[0,0], C[last,last] and a mid element in float64, to check the products agree. */
function matmulProbe(a: Float32Array, b: Float32Array): [number, number][] {
  const picks: [number, number][] = [[0, 0], [MM - 1, MM - 1], [MM >> 1, 7]];
  return picks.map(([i, j]) => {
    let s = 0;
    for (let p = 0; p < MM; p++) s += a[i * MM + p] * b[p * MM + j];
    return [i * MM + j, s];
  });
}

// ---------------------------------------------------------------------------------------------
// (d) conv2d forward + backward

const CONV = { n: 16, c: 16, h: 12, w: 12, o: 16, k: 3 };

function convData(seed: number): { x: Float32Array; w: Float32Array; r: Float32Array } {
  const rng = new Rng(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
  const { n, c, h, w, o, k } = CONV;
  return { x: fill(n * c * h * w), w: fill(o * c * k * k), r: fill(n * o * h * w) };
}

/** NCHW [a, b, c, d] → NHWC (and OIHW → HWIO with the same permutation of a weight's axes 0,1 → 2,3). */
function toNHWC(v: Float32Array, [a, b, c, d]: number[]): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let y = 0; y < c; y++) for (let z = 0; z < d; z++) out[((i * c + y) * d + z) * b + j] = v[((i * b + j) * c + y) * d + z];
  return out;
}
function toHWIO(v: Float32Array, [o, i, kh, kw]: number[]): Float32Array {
  const out = new Float32Array(v.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let z = 0; z < kw; z++) out[((y * kw + z) * i + b) * o + a] = v[((a * i + b) * kh + y) * kw + z];
  return out;
}

// ---------------------------------------------------------------------------------------------
// (c) micrograd's scalar MLP 2-16-16-1 on make-moons

const MOONS = 100;

function makeMoons(n: number, noise: number, seed: number): { xs: [number, number][]; ys: number[] } {
  const rng = new Rng(seed);
  const outer = Math.ceil(n / 2);
  const inner = n - outer;
  const xs: [number, number][] = [];
  const ys: number[] = [];
  for (let i = 0; i < outer; i++) {
    const t = (Math.PI * i) / (outer - 1);
    xs.push([Math.cos(t) + noise * rng.normal(), Math.sin(t) + noise * rng.normal()]);
    ys.push(-1);
  }
  for (let i = 0; i < inner; i++) {
    const t = (Math.PI * i) / (inner - 1);
    xs.push([1 - Math.cos(t) + noise * rng.normal(), 1 - Math.sin(t) - 0.5 + noise * rng.normal()]);
    ys.push(1);
  }
  return { xs, ys };
}

interface Neuron {
  w: Tensor[];
  b: Tensor;
  nonlin: boolean;
}

function scalarMlp(seed: number) {
  const layers: Neuron[][] = scalarMlpWeights(seed).map((layer) => layer.map((n) => ({ w: n.w.map((v) => scalar(v)), b: scalar(0), nonlin: n.nonlin })));
  const params = layers.flatMap((layer) => layer.flatMap((n) => [...n.w, n.b]));
  const forward = (x: (Tensor | number)[]): Tensor => {
    let h: (Tensor | number)[] = x;
    for (const layer of layers) {
      h = layer.map((n) => {
        let act: Tensor = n.b;
        for (let i = 0; i < n.w.length; i++) act = add(act, mul(n.w[i], h[i]));
        return n.nonlin ? relu(act) : act;
      });
    }
    return h[0] as Tensor;
  };
  return { params, forward };
}

function scalarRunner(seed: number) {
  const { xs, ys } = makeMoons(MOONS, 0.1, seed);
  const model = scalarMlp(seed + 1);
  const phases = { fwd: [] as number[], bwd: [] as number[], upd: [] as number[] };
  let nodes = 0;
  const lr = 0.05;
  const step = (): { loss: number; acc: number } => {
    const t0 = performance.now();
    let dataLoss: Tensor | null = null;
    let correct = 0;
    for (let i = 0; i < xs.length; i++) {
      const score = model.forward(xs[i]);
      if (score.item() > 0 === ys[i] > 0) correct++;
      const li = relu(sub(1, mul(score, ys[i]))); // max-margin: relu(1 − yᵢ·scoreᵢ)
      dataLoss = dataLoss ? add(dataLoss, li) : li;
    }
    dataLoss = mul(dataLoss!, 1 / xs.length);
    let reg: Tensor | null = null;
    for (const p of model.params) reg = reg ? add(reg, mul(p, p)) : mul(p, p);
    const total = add(dataLoss, mul(reg!, 1e-4));
    const t1 = performance.now();
    total.backward();
    const t2 = performance.now();
    for (const p of model.params) {
      p.data[0] -= lr * p.grad!.data[0];
      p.grad = null;
    }
    const t3 = performance.now();
    phases.fwd.push(t1 - t0);
    phases.bwd.push(t2 - t1);
    phases.upd.push(t3 - t2);
    nodes = total.id; // ids are a global creation counter: the difference between two steps is the tensors per step
    return { loss: total.item(), acc: correct / xs.length };
  };
  return { step, phases, nParams: model.params.length, lastId: () => nodes };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const wallStart = performance.now();
  tf.enableProdMode(); // silences tfjs's backend_util.warn() banners (and nothing that affects speed)
  const cpus = os.cpus();
  const cpuModel = cpus[0]?.model?.trim() ?? 'unknown';
  say('backprop-lens engine benchmark');
  say(`node ${process.version} · ${os.platform()} ${os.arch()} · ${cpuModel} · ${cpus.length} logical CPU(s) · tfjs ${tf.version.tfjs}`);
  say(`timing: ${WARMUP} warm-up run(s), then ≥ ${MIN_MS} ms and ≥ ${MIN_ITERS} runs per case; median reported; GC = share of the timed window in main-thread GC pauses`);

  const init = makeMlpInit(1234);
  const mm = matmulData(99);
  const mmProbe = matmulProbe(mm.a, mm.b);

  // ---- engine: (a) check + timing, (b)
  const eCheck = oneStepCheck(engineMlp(init), init);
  const eMlp = engineMlp(init);
  const eMlpT = timeIt(() => eMlp.step());
  const eA = tensor(mm.a, { shape: [MM, MM] });
  const eB = tensor(mm.b, { shape: [MM, MM] });
  let eProd: Tensor | null = null;
  const eMmT = timeIt(() => {
    eProd = noGrad(() => matmul(eA, eB));
  });
  const eMmErr = Math.max(...mmProbe.map(([k, v]) => relDiff(eProd!.data[k], v)));
  const eA64 = tensor(mm.a, { shape: [MM, MM], dtype: 'float64' });
  const eB64 = tensor(mm.b, { shape: [MM, MM], dtype: 'float64' });
  const eMm64T = timeIt(() => {
    noGrad(() => matmul(eA64, eB64));
  });
  // (d) conv2d: forward and backward; the weight's gradient is the check
  const cd = convData(5);
  const { n: cn, c: cc, h: ch, w: cw, o: co, k: ck } = CONV;
  const eX = param(tensor(cd.x, { shape: [cn, cc, ch, cw] }));
  const eW = param(tensor(cd.w, { shape: [co, cc, ck, ck] }));
  const eR = tensor(cd.r, { shape: [cn, co, ch, cw] });
  const eConvT = timeIt(() => {
    eX.grad = null;
    eW.grad = null;
    conv2d(eX, eW, null, { padding: 1 }).mul(eR).sum().backward();
  });
  const eConvGradW = toHWIO(Float32Array.from(eW.grad!.data), [co, cc, ck, ck]);
  const eConvFwdT = timeIt(() => {
    noGrad(() => conv2d(eX, eW, null, { padding: 1 }));
  });

  // ---- tfjs backends
  interface TfResult {
    check: MlpCheck;
    mlp: Timing;
    mm: Timing;
    mmErr: number;
    conv: Timing;
    convFwd: Timing;
    convGradW: Float32Array;
    convNote: string;
    leaked: number;
    info: string;
  }
  const runTf = async (backend: 'cpu' | 'wasm'): Promise<TfResult> => {
    const ok = await quietly(async () => {
      const r = await tf.setBackend(backend);
      await tf.ready();
      return r;
    });
    if (!ok || tf.getBackend() !== backend) throw new Error(`tfjs: could not switch to the ${backend} backend`);
    return quietly(async () => {
      let info: string = backend;
      if (backend === 'wasm') {
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
        info = `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'multi-threaded' : 'single-threaded'})`;
      }
      const c = tfjsMlp(init);
      const check = oneStepCheck(c, init);
      c.dispose();
      const m = tfjsMlp(init);
      const before = tf.memory().numTensors;
      const mlp = timeIt(() => m.step());
      const leaked = tf.memory().numTensors - before;
      m.dispose();
      const a = tf.tensor2d(mm.a, [MM, MM]);
      const b = tf.tensor2d(mm.b, [MM, MM]);
      let last: Float32Array | null = null;
      const mmT = timeIt(() => {
        const c2 = tf.matMul(a, b);
        last = c2.dataSync() as Float32Array;
        c2.dispose();
      });
      a.dispose();
      b.dispose();
      const mmErr = Math.max(...mmProbe.map(([k, v]) => relDiff(last![k], v)));
      // (d) conv2d in tfjs's layout: NHWC input, HWIO filter; forward, then forward + backward where the backend has the kernels
      const x = tf.tensor4d(toNHWC(cd.x, [cn, cc, ch, cw]), [cn, ch, cw, cc]);
      const f = tf.tensor4d(toHWIO(cd.w, [co, cc, ck, ck]), [ck, ck, cc, co]);
      const r = tf.tensor4d(toNHWC(cd.r, [cn, co, ch, cw]), [cn, ch, cw, co]);
      const convFwd = timeIt(() => {
        const y = tf.conv2d(x, f, 1, 'same');
        y.dataSync();
        y.dispose();
      });
      const grads = tf.grads((xx: tf.Tensor, ff: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 1, 'same'), r)));
      let gw: Float32Array = new Float32Array(eConvGradW.length).fill(NaN);
      let conv: Timing = { median: NaN, min: NaN, iters: 0, totalMs: 0, start: NaN, end: NaN };
      let convNote = '';
      try {
        conv = timeIt(() => {
          const [gx, gf] = grads([x, f]);
          gw = gf.dataSync() as Float32Array;
          gx.dataSync();
          gx.dispose();
          gf.dispose();
        });
      } catch (err) {
        convNote = err instanceof Error ? err.message : String(err);
      }
      x.dispose();
      f.dispose();
      r.dispose();
      return { check, mlp, mm: mmT, mmErr, conv, convFwd, convGradW: gw, convNote, leaked, info };
    });
  };
  const cpu = await runTf('cpu');
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  let wasm: TfResult;
  try {
    setWasmPaths(wasmDir);
    wasm = await runTf('wasm');
  } catch (err) {
    // keep the rest of the report (and the JSON, with null for wasm) if the wasm backend cannot start here
    const none: Timing = { median: NaN, min: NaN, iters: 0, totalMs: 0, start: NaN, end: NaN };
    const reason = err instanceof Error ? err.message : typeof err === 'object' && err && 'message' in err ? String((err as { message: unknown }).message) : String(err);
    wasm = { check: { loss: NaN, delta: eCheck.delta.map((d) => new Float32Array(d.length).fill(NaN)) }, mlp: none, mm: none, mmErr: NaN, conv: none, convFwd: none, convGradW: new Float32Array(eConvGradW.length).fill(NaN), convNote: reason, leaked: 0, info: `wasm unavailable (${reason})` };
  }

  // ---- (c) scalar MLP, in a process of its own (see scalarCase)
  const scalar = scalarInChild();

  // the machine's peak is measured after every timed case: assembling its loop loads wabt (megabytes
  // of JavaScript and WebAssembly memory that stay alive), which the timed cases should not share
  const peak = await measurePeak();

  // ---- report
  await flushGcEntries();
  const gc = (t: Timing) => `GC ${(100 * gcShare(t)).toFixed(0)}%`;
  const lossDiffCpu = relDiff(eCheck.loss, cpu.check.loss);
  const lossDiffWasm = relDiff(eCheck.loss, wasm.check.loss);
  const updDiffCpu = relL2(eCheck.delta, cpu.check.delta);
  const updDiffWasm = relL2(eCheck.delta, wasm.check.delta);
  const ph = (xs: number[]) => fmt(median(xs));
  const row = (name: string, t: Timing, value: string, note = '') =>
    say(`  ${name.padEnd(11)} ${value.padStart(10)}   (median of ${String(t.iters).padStart(4)}, min ${fmt(t.min).padStart(6)} ms, ${gc(t).padEnd(7)})${note ? '   ' + note : ''}`);

  say('');
  say(`(a) MLP ${SIZES.join('-')} (ReLU), batch ${BATCH}, float32, softmax cross-entropy, SGD step (forward + backward + update) — ms/step, lower is better`);
  row('engine', eMlpT, `${fmt(eMlpT.median)} ms`);
  row('tfjs-cpu', cpu.mlp, `${fmt(cpu.mlp.median)} ms`, ratioText(cpu.mlp.median / eMlpT.median, 'tfjs-cpu'));
  row('tfjs-wasm', wasm.mlp, `${fmt(wasm.mlp.median)} ms`, ratioText(wasm.mlp.median / eMlpT.median, 'tfjs-wasm'));
  say(`  engine phases (median ms): forward ${ph(eMlp.phases.fwd)}, backward ${ph(eMlp.phases.bwd)}, update ${ph(eMlp.phases.upd)}`);
  say(`  check, same initial weights and data: first-step loss engine ${eCheck.loss.toFixed(7)}, tfjs-cpu ${cpu.check.loss.toFixed(7)} (rel diff ${sci(lossDiffCpu)}), tfjs-wasm ${wasm.check.loss.toFixed(7)} (rel diff ${sci(lossDiffWasm)})`);
  say(`  check, parameter update of the first step (‖Δengine − Δtfjs‖/‖Δ‖): vs tfjs-cpu ${sci(updDiffCpu)}, vs tfjs-wasm ${sci(updDiffWasm)}`);
  say(`  tfjs live-tensor growth over the timed loop: cpu ${cpu.leaked}, wasm ${wasm.leaked}`);

  say('');
  say(`(b) matmul ${MM}×${MM} @ ${MM}×${MM}, float32 — GFLOP/s (2·${MM}³ flops / median time), higher is better`);
  const eG = gflops(eMmT.median);
  const cG = gflops(cpu.mm.median);
  const wG = gflops(wasm.mm.median);
  const e64G = gflops(eMm64T.median);
  const engineKernel = { 'relaxed-simd': 'WebAssembly relaxed SIMD', simd: 'WebAssembly SIMD', none: 'JavaScript (no WebAssembly SIMD here)' }[wasmKernelKind()];
  const ofPeak = (g: number) => `${(100 * g / peak.gflops).toFixed(0)}% of peak`;
  row('engine', eMmT, `${fmt(eG)} GF/s`, `${fmt(eMmT.median)} ms   ${ofPeak(eG)}   kernel: ${engineKernel}`);
  row('tfjs-cpu', cpu.mm, `${fmt(cG)} GF/s`, `${fmt(cpu.mm.median)} ms   ${ofPeak(cG)}   ${ratioText(eG / cG, 'tfjs-cpu')}`);
  row('tfjs-wasm', wasm.mm, `${fmt(wG)} GF/s`, `${fmt(wasm.mm.median)} ms   ${ofPeak(wG)}   ${ratioText(eG / wG, 'tfjs-wasm')}`);
  row('engine f64', eMm64T, `${fmt(e64G)} GF/s`, `${fmt(eMm64T.median)} ms   ${(100 * e64G / (peak.gflops / 2)).toFixed(0)}% of the float64 peak (half the float32 one: 2 lanes, not 4)`);
  say(`  machine peak: ${fmt(peak.gflops)} GF/s, a WebAssembly ${peak.kind === 'relaxed-simd' ? 'relaxed-SIMD fused' : 'SIMD f32x4 mul + add'} multiply-add loop (bench/peak.ts, best of its runs)`);
  say(`  check vs float64 reference (3 entries, max rel diff): engine ${sci(eMmErr)}, tfjs-cpu ${sci(cpu.mmErr)}, tfjs-wasm ${sci(wasm.mmErr)}`);

  say('');
  const { scT, mgT, first, mgCheck, nodesPerStep, lastSc, phases: scPhases, nParams: scParams } = scalar;
  say(`(c) scalar-mode MLP 2-16-16-1 (micrograd demo), ${MOONS} make-moons points, ${scParams} scalar params, max-margin loss + 1e-4·L2 — ms/step`);
  say('  (in a fresh process of its own, engine and port alike, as a model file runs in its model process: after the tensor cases, the same step takes up to 2× longer)');
  row('engine', scT, `${fmt(scT.median)} ms`, `target < 10 ms: ${scT.median < 10 ? 'met' : `not met (${fmt(scT.median / 10, 1)}× over)`}`);
  row('micrograd', mgT, `${fmt(mgT.median)} ms`, `TypeScript port of micrograd (object per value, _backward closures)   ${ratioText(mgT.median / scT.median, 'micrograd')}`);
  say(`  check, same weights and data: first-step loss engine ${first.loss.toFixed(12)}, micrograd ${mgCheck.toFixed(12)} (rel diff ${sci(relDiff(first.loss, mgCheck))})`);
  say(`  ${nodesPerStep} tensors created per step, forward + backward (≈ ${fmt((scT.median * 1e6) / nodesPerStep, 0)} ns each)`);
  say(`  engine phases (median ms): forward ${ph(scPhases.fwd)}, backward ${ph(scPhases.bwd)}, update ${ph(scPhases.upd)}`);
  say(`  training sanity: loss ${first.loss.toFixed(4)} (acc ${(first.acc * 100).toFixed(0)}%) at step 1 → ${lastSc.loss.toFixed(4)} (acc ${(lastSc.acc * 100).toFixed(0)}%) after ${scT.iters + WARMUP + 3} steps`);

  say('');
  say(`(d) conv2d, x [${cn}, ${cc}, ${ch}, ${cw}], ${ck}×${ck} kernel to ${co} channels, padding 1, float32 — ms, lower is better`);
  say('  forward');
  row('engine', eConvFwdT, `${fmt(eConvFwdT.median)} ms`);
  row('tfjs-cpu', cpu.convFwd, `${fmt(cpu.convFwd.median)} ms`, ratioText(cpu.convFwd.median / eConvFwdT.median, 'tfjs-cpu'));
  row('tfjs-wasm', wasm.convFwd, `${fmt(wasm.convFwd.median)} ms`, ratioText(wasm.convFwd.median / eConvFwdT.median, 'tfjs-wasm'));
  say('  forward + backward');
  row('engine', eConvT, `${fmt(eConvT.median)} ms`);
  row('tfjs-cpu', cpu.conv, `${fmt(cpu.conv.median)} ms`, cpu.convNote || ratioText(cpu.conv.median / eConvT.median, 'tfjs-cpu'));
  row('tfjs-wasm', wasm.conv, `${fmt(wasm.conv.median)} ms`, wasm.convNote || ratioText(wasm.conv.median / eConvT.median, 'tfjs-wasm'));
  say(`  check, the weight's gradient (‖g_engine − g_tfjs‖/‖g‖): vs tfjs-cpu ${sci(relL2([eConvGradW], [cpu.convGradW]))}, vs tfjs-wasm ${sci(relL2([eConvGradW], [wasm.convGradW]))}`);

  say('');
  say(`tfjs backends: ${cpu.info}, ${wasm.info}; wasm binaries from ${wasmDir}`);
  if (suppressed.length) say(`tfjs console messages suppressed: ${suppressed.length} (first: ${JSON.stringify(suppressed[0].slice(0, 100))})`);
  const wallS = (performance.now() - wallStart) / 1000;
  say(`total bench time ${fmt(wallS, 1)} s`);

  if (JSON_MODE) {
    const result = {
      mlpStep: { engine: eMlpT.median, tfjsCpu: cpu.mlp.median, tfjsWasm: wasm.mlp.median },
      matmul512: { engine: eG, tfjsCpu: cG, tfjsWasm: wG, engineFloat64: e64G, peak: peak.gflops, engineKernel: wasmKernelKind() },
      scalarMlpStep: { engine: scT.median, micrograd: mgT.median },
      conv2dForward: { engine: eConvFwdT.median, tfjsCpu: cpu.convFwd.median, tfjsWasm: wasm.convFwd.median },
      conv2dStep: { engine: eConvT.median, tfjsCpu: cpu.conv.median, tfjsWasm: wasm.conv.median },
      meta: {
        node: process.version,
        cpu: cpuModel,
        cpus: cpus.length,
        tfjs: tf.version.tfjs,
        wasm: wasm.info,
        minMs: MIN_MS,
        warmup: WARMUP,
        iters: { mlp: [eMlpT.iters, cpu.mlp.iters, wasm.mlp.iters], matmul: [eMmT.iters, cpu.mm.iters, wasm.mm.iters], scalar: [scT.iters, mgT.iters] },
        check: { convGradRelDiffCpu: relL2([eConvGradW], [cpu.convGradW]), scalarLossRelDiffMicrograd: relDiff(first.loss, mgCheck), lossEngine: eCheck.loss, lossTfjsCpu: cpu.check.loss, lossRelDiffCpu: lossDiffCpu, lossRelDiffWasm: lossDiffWasm, updateRelDiffCpu: updDiffCpu, updateRelDiffWasm: updDiffWasm },
        enginePhasesMs: {
          mlp: { forward: median(eMlp.phases.fwd), backward: median(eMlp.phases.bwd), update: median(eMlp.phases.upd) },
          scalar: { forward: median(scPhases.fwd), backward: median(scPhases.bwd), update: median(scPhases.upd), tensorsPerStep: nodesPerStep },
        },
        gcShare: {
          mlp: [gcShare(eMlpT), gcShare(cpu.mlp), gcShare(wasm.mlp)],
          matmul: [gcShare(eMmT), gcShare(cpu.mm), gcShare(wasm.mm)],
          scalar: [gcShare(scT), gcShare(mgT)],
        },
        totalSeconds: wallS,
      },
    };
    process.stdout.write(JSON.stringify(result) + '\n');
  }
}

/**
 * Case (c), the micrograd demo, is timed in a process of its own: a scalar lecture file runs in a
 * model process that runs nothing else, and the tensor cases before it (tfjs's backends, the
 * engine's float32 paths) leave the heap and the JIT's inline caches in a state that makes the same
 * scalar step up to 2× slower. Both the engine and the micrograd port run in that process.
 */
async function scalarCase(): Promise<void> {
  const sc = scalarRunner(7);
  const first = sc.step();
  const idAfterFirst = sc.lastId();
  sc.step();
  const nodesPerStep = sc.lastId() - idAfterFirst;
  const scT = timeIt(() => sc.step());
  const lastSc = sc.step();
  // the micrograd-style baseline: same data, same weights, same loss
  const moons = makeMoons(MOONS, 0.1, 7);
  const mgCheck = microgradRunner(moons.xs, moons.ys, 8, 0.05)();
  const mg = microgradRunner(moons.xs, moons.ys, 8, 0.05);
  const mgT = timeIt(() => mg());
  await flushGcEntries();
  const out = {
    scT: { ...scT, gc: gcShare(scT) }, mgT: { ...mgT, gc: gcShare(mgT) }, first, mgCheck, nodesPerStep, lastSc,
    phases: sc.phases, nParams: sc.nParams,
  };
  process.stdout.write(`${SCALAR_MARK}${JSON.stringify(out)}\n`);
}

const SCALAR_MARK = 'scalar-case ';

function scalarInChild() {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], '--scalar-case', ...process.argv.slice(2)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(SCALAR_MARK));
  if (r.status !== 0 || !line) throw new Error(`the scalar case's process failed (exit ${r.status}): ${(r.stderr ?? '').slice(0, 2000)}`);
  return JSON.parse(line.slice(SCALAR_MARK.length)) as {
    scT: Timing; mgT: Timing; first: { loss: number; acc: number }; mgCheck: number; nodesPerStep: number; lastSc: { loss: number; acc: number };
    phases: { fwd: number[]; bwd: number[]; upd: number[] }; nParams: number;
  };
}

(process.argv.includes('--scalar-case') ? scalarCase() : main()).catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});
