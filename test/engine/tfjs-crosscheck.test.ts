/**
 * Cross-checks the engine against @tensorflow/tfjs (CPU backend, float32): forward values and
 * gradients of small MLPs with their losses, and of individual ops.
 *
 * Every comparison copies the engine's own (seeded) inputs and weights into tfjs, computes the same
 * expression in both libraries, and compares the numbers each produced; nothing is hard-coded.
 *
 * Error measure (see `relErr`): the max-norm relative error
 *
 *     err(a, ref) = max_i |a_i − ref_i| / max(max_i |ref_i|, ABS_FLOOR)
 *
 * i.e. the largest elementwise difference measured against the scale of the whole reference tensor,
 * not against each element. Float32 rounding errors scale with the magnitudes of the terms that were
 * summed, so an individual gradient entry that is small only because of cancellation (a bias
 * gradient summed over a batch, a weight gradient of a nearly dead unit) carries an absolute error of
 * the size of its neighbours' rounding errors; an elementwise relative error would flag such entries
 * although both libraries are right to float32 precision. Measuring against the tensor's max keeps a
 * 1e-5 bound meaningful (about 80 float32 ulps of the largest entry) for tensors whose entries are
 * ~1e-3 as well as ~1. ABS_FLOOR = 1e-6 only matters when a whole reference tensor is below 1e-6 in
 * magnitude: then differences under 1e-11 absolute are accepted. Each comparison also checks that
 * the shapes agree and that the reference is not all zeros, so no comparison can pass vacuously.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import {
  Tensor, param, tensor, randn, rand, Rng, nn, losses,
  add, mul, div, exp, log, sqrt, tanh, sigmoid, relu, elu, softplus,
  matmul, transpose, permute, slice, concat, gather, sum, mean, max, softmax, logSoftmax,
} from '../../engine/index';
import { useTfjsCpu } from './helpers';

const TOL = 1e-5;
const ABS_FLOOR = 1e-6;

/** Largest error seen per case (printed at the end when BPL_CROSSCHECK_REPORT is set). */
const worst = new Map<string, number>();

function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'element counts differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    // a NaN or infinite difference anywhere is a failure, reported as an infinite error
    if (!Number.isFinite(d)) return Infinity;
    diff = Math.max(diff, d);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, ABS_FLOOR);
}

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** Compares engine numbers to tfjs numbers, records the error under `kase`, asserts it is within TOL. */
function expectClose(kase: string, what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  assert.ok(maxAbs(expected) > 0, `${kase} ${what}: the tfjs reference is all zeros, the comparison would be vacuous`);
  const err = relErr(actual, expected);
  worst.set(kase, Math.max(worst.get(kase) ?? 0, err));
  assert.ok(
    err <= TOL,
    `${kase} ${what}: max-norm relative error ${err.toExponential(3)} > ${TOL} ` +
      `(engine ${fmt(actual)}, tfjs ${fmt(expected)})`,
  );
}

function fmt(x: ArrayLike<number>): string {
  const n = Math.min(x.length, 8);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(Number(x[i]).toPrecision(7));
  return `[${parts.join(', ')}${x.length > n ? ', …' : ''}]`;
}

/** The engine tensor's values as a float32 tfjs tensor of the same shape. */
function toTf(t: Tensor): tf.Tensor {
  return tf.tensor(Float32Array.from(t.data), t.shape.slice(), 'float32');
}

/** Row-major transpose of a [rows, cols] matrix given as flat data. */
function transposeData(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** A float32 tensor with entries uniform in ±[lo, hi] (random sign): safe denominators. */
function awayFromZero(shape: number[], seed: number, lo = 0.5, hi = 2): Tensor {
  const mag = rand(shape, { seed, low: lo, high: hi });
  const sgn = rand(shape, { seed: seed + 1 });
  for (let i = 0; i < mag.size; i++) if (sgn.data[i] < 0.5) mag.data[i] = -mag.data[i];
  return mag;
}

// ---------------------------------------------------------------------------------------------
// MLPs
// ---------------------------------------------------------------------------------------------

type Act = 'tanh' | 'relu' | 'sigmoid';
type Loss = 'softmaxCE' | 'softmaxCEExplicit' | 'mse';

interface MlpCase {
  name: string;
  act: Act;
  loss: Loss;
  sizes: number[];
  batch: number;
  seed: number;
}

function engineAct(act: Act): nn.Module {
  return act === 'tanh' ? nn.tanh() : act === 'relu' ? nn.relu() : nn.sigmoid();
}
function tfAct(act: Act, x: tf.Tensor): tf.Tensor {
  return act === 'tanh' ? tf.tanh(x) : act === 'relu' ? tf.relu(x) : tf.sigmoid(x);
}

function runMlpCase(c: MlpCase): void {
  const { sizes, batch, seed } = c;
  const layers: nn.Module[] = [];
  const linears: nn.Linear[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const lin = nn.linear(sizes[i], sizes[i + 1], { seed: seed + 100 * (i + 1) });
    linears.push(lin);
    layers.push(lin);
    if (i + 2 < sizes.length) layers.push(engineAct(c.act));
  }
  const model = nn.sequential(...layers);
  const classes = sizes[sizes.length - 1];
  const x = param(randn([batch, sizes[0]], { seed: seed + 1 }));
  const rng = new Rng(seed + 2);
  const labels = Array.from({ length: batch }, () => Math.floor(rng.uniform() * classes));
  const target = randn([batch, classes], { seed: seed + 3 });

  // engine
  const out = model.forward(x);
  const loss = c.loss === 'mse' ? losses.mse(out, target) : losses.softmaxCrossEntropy(out, tensor(labels, { dtype: 'int32' }));
  assert.equal(loss.dtype, 'float32');
  loss.backward();
  const named = model.namedParameters();
  assert.equal(named.length, 2 * linears.length, 'every linear layer has a weight and a bias');

  // tfjs: weights stored the Keras way ([in, out]), so the engine's [out, in] layout is really exercised
  const result = tf.tidy(() => {
    const tfParams: tf.Tensor[] = [];
    for (const lin of linears) {
      tfParams.push(tf.tensor(transposeData(lin.weight.data, lin.outFeatures, lin.inFeatures), [lin.inFeatures, lin.outFeatures], 'float32'));
      tfParams.push(toTf(lin.bias!));
    }
    const tfX = toTf(x);
    const forward = (xIn: tf.Tensor, ps: tf.Tensor[]): tf.Tensor => {
      let h = xIn;
      for (let i = 0; i < linears.length; i++) {
        h = tf.add(tf.matMul(h, ps[2 * i]), ps[2 * i + 1]);
        if (i + 1 < linears.length) h = tfAct(c.act, h);
      }
      return h;
    };
    const lossOf = (o: tf.Tensor): tf.Scalar => {
      if (c.loss === 'mse') return tf.losses.meanSquaredError(toTf(target), o, undefined, tf.Reduction.MEAN) as tf.Scalar;
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
      if (c.loss === 'softmaxCE') return tf.losses.softmaxCrossEntropy(oneHot, o, undefined, 0, tf.Reduction.MEAN) as tf.Scalar;
      // explicit: −mean over the batch of Σ_classes onehot · logSoftmax
      return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(o)), -1))) as tf.Scalar;
    };
    const tfOut = forward(tfX, tfParams);
    const tfLoss = lossOf(tfOut);
    const grads = tf.grads((...args: tf.Tensor[]) => lossOf(forward(args[0], args.slice(1))))([tfX, ...tfParams]);
    return {
      out: tfOut.dataSync() as Float32Array,
      outShape: tfOut.shape,
      loss: tfLoss.dataSync()[0],
      xGrad: grads[0].dataSync() as Float32Array,
      paramGrads: grads.slice(1).map((g) => g.dataSync() as Float32Array),
    };
  });

  assert.deepEqual(out.shape, result.outShape);
  expectClose(c.name, c.loss === 'mse' ? 'outputs' : 'logits', out.data, result.out);
  expectClose(c.name, 'loss', [loss.item()], [result.loss]);
  assert.ok(x.grad, 'the input gradient was computed');
  expectClose(c.name, 'dL/dx', x.grad!.data, result.xGrad);
  linears.forEach((lin, i) => {
    const [wName] = named.find(([, p]) => p === lin.weight)!;
    const [bName] = named.find(([, p]) => p === lin.bias)!;
    assert.ok(lin.weight.grad && lin.bias!.grad, `gradients of layer ${i} were computed`);
    assert.deepEqual(lin.weight.grad!.shape, [lin.outFeatures, lin.inFeatures]);
    assert.deepEqual(lin.bias!.grad!.shape, [lin.outFeatures]);
    // tfjs gradient is [in, out]: bring it to the engine's [out, in]
    const tfW = transposeData(result.paramGrads[2 * i], lin.inFeatures, lin.outFeatures);
    expectClose(c.name, `dL/d${wName}`, lin.weight.grad!.data, tfW);
    expectClose(c.name, `dL/d${bName}`, lin.bias!.grad!.data, result.paramGrads[2 * i + 1]);
  });
}

function mlpTests(): void {
  it('tanh MLP 6→16→12→5 with softmax cross-entropy (tf.losses.softmaxCrossEntropy, mean over batch 8): loss, logits, all gradients', function () {
    runMlpCase({ name: 'mlp tanh + softmaxCE', act: 'tanh', loss: 'softmaxCE', sizes: [6, 16, 12, 5], batch: 8, seed: 1000 });
  });

  it('the same tanh MLP against an explicit −mean(Σ onehot·logSoftmax) in tfjs', function () {
    runMlpCase({ name: 'mlp tanh + explicit CE', act: 'tanh', loss: 'softmaxCEExplicit', sizes: [6, 16, 12, 5], batch: 8, seed: 1000 });
  });

  it('ReLU MLP 6→16→12→5 with softmax cross-entropy: loss, logits, all gradients', function () {
    runMlpCase({ name: 'mlp relu + softmaxCE', act: 'relu', loss: 'softmaxCE', sizes: [6, 16, 12, 5], batch: 8, seed: 2000 });
  });

  it('sigmoid MLP 6→16→12→5 with mse (tf.losses.meanSquaredError): loss, outputs, all gradients', function () {
    runMlpCase({ name: 'mlp sigmoid + mse', act: 'sigmoid', loss: 'mse', sizes: [6, 16, 12, 5], batch: 8, seed: 3000 });
  });
}

// ---------------------------------------------------------------------------------------------
// Individual ops: forward values and gradients of sum(op(x…) · R) with random weights R
// ---------------------------------------------------------------------------------------------

interface OpCase {
  name: string;
  /** The inputs (all differentiated), as engine tensors (float32). */
  inputs: () => Tensor[];
  engine: (...xs: Tensor[]) => Tensor;
  tfjs: (...xs: tf.Tensor[]) => tf.Tensor;
}

let opSeed = 50000;

function runOpCase(c: OpCase): void {
  const raw = c.inputs();
  const xs = raw.map((t) => param(t));
  const y = c.engine(...xs);
  assert.equal(y.dtype, 'float32');
  const r = randn(y.shape.slice(), { seed: opSeed++ });
  sum(mul(y, r)).backward();

  const result = tf.tidy(() => {
    const tfXs = xs.map(toTf);
    const tfR = toTf(r);
    const tfY = c.tfjs(...tfXs);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(c.tfjs(...args), tfR)))(tfXs);
    return { y: tfY.dataSync() as Float32Array, shape: tfY.shape, grads: grads.map((g) => g.dataSync() as Float32Array) };
  });

  assert.deepEqual(y.shape, result.shape, `${c.name}: output shapes differ`);
  expectClose(c.name, 'forward', y.data, result.y);
  xs.forEach((x, i) => {
    assert.ok(x.grad, `${c.name}: gradient of input ${i} was computed`);
    assert.deepEqual(x.grad!.shape, x.shape, `${c.name}: gradient ${i} has the input's shape`);
    expectClose(c.name, `grad of input ${i}`, x.grad!.data, result.grads[i]);
  });
}

let inSeed = 70000;
/** A fresh seed for each drawn input (spaced so that awayFromZero's second stream never overlaps). */
const seed = () => (inSeed += 10);
const rn = (...shape: number[]) => () => [randn(shape, { seed: seed() })];
const rn2 = (s0: number[], s1: number[]) => () => [randn(s0, { seed: seed() }), randn(s1, { seed: seed() })];
const positive = (shape: number[]) => rand(shape, { seed: seed(), low: 0.2, high: 3 });

const opCases: OpCase[] = [
  // matmul
  { name: 'matmul [4,3]@[3,5]', inputs: rn2([4, 3], [3, 5]), engine: (a, b) => matmul(a, b), tfjs: (a, b) => tf.matMul(a, b) },
  { name: 'matmul batched [2,4,3]@[2,3,5]', inputs: rn2([2, 4, 3], [2, 3, 5]), engine: (a, b) => matmul(a, b), tfjs: (a, b) => tf.matMul(a, b) },
  // tfjs 4.22's BatchMatMul gradient does not sum over a broadcast batch axis (it returns a [2,3,5]
  // gradient for a [1,3,5] input and its tape rejects it), so the reference broadcasts explicitly
  {
    name: 'matmul batched, broadcast batch [2,4,3]@[1,3,5]', inputs: rn2([2, 4, 3], [1, 3, 5]),
    engine: (a, b) => matmul(a, b), tfjs: (a, b) => tf.matMul(a, tf.broadcastTo(b, [2, 3, 5])),
  },
  { name: 'matmul Aᵀ·B via transpose [3,4]ᵀ@[3,5]', inputs: rn2([3, 4], [3, 5]), engine: (a, b) => matmul(transpose(a), b), tfjs: (a, b) => tf.matMul(a, b, true, false) },
  // softmax family
  { name: 'softmax last axis [4,5]', inputs: () => [randn([4, 5], { seed: seed(), std: 2 })], engine: (x) => softmax(x), tfjs: (x) => tf.softmax(x) },
  { name: 'softmax axis 0 [4,5]', inputs: () => [randn([4, 5], { seed: seed(), std: 2 })], engine: (x) => softmax(x, 0), tfjs: (x) => tf.transpose(tf.softmax(tf.transpose(x))) },
  { name: 'logSoftmax last axis [4,5]', inputs: () => [randn([4, 5], { seed: seed(), std: 2 })], engine: (x) => logSoftmax(x), tfjs: (x) => tf.logSoftmax(x) },
  { name: 'logSoftmax 3-D last axis [2,3,4]', inputs: () => [randn([2, 3, 4], { seed: seed(), std: 2 })], engine: (x) => logSoftmax(x, -1), tfjs: (x) => tf.logSoftmax(x) },
  // reductions
  { name: 'sum axis 1 keepdims [3,4,5]', inputs: () => [randn([3, 4, 5], { seed: seed() })], engine: (x) => sum(x, 1, true), tfjs: (x) => tf.sum(x, 1, true) },
  { name: 'sum axis -1 [3,4,5]', inputs: () => [randn([3, 4, 5], { seed: seed() })], engine: (x) => sum(x, -1), tfjs: (x) => tf.sum(x, -1) },
  { name: 'sum axes [0,2] keepdims [3,4,5]', inputs: () => [randn([3, 4, 5], { seed: seed() })], engine: (x) => sum(x, [0, 2], true), tfjs: (x) => tf.sum(x, [0, 2], true) },
  { name: 'mean axis 1 keepdims [3,4,5]', inputs: () => [randn([3, 4, 5], { seed: seed() })], engine: (x) => mean(x, 1, true), tfjs: (x) => tf.mean(x, 1, true) },
  { name: 'mean axis 0 [3,4,5]', inputs: () => [randn([3, 4, 5], { seed: seed() })], engine: (x) => mean(x, 0), tfjs: (x) => tf.mean(x, 0) },
  { name: 'max axis 1 keepdims [3,4,5]', inputs: () => [randn([3, 4, 5], { seed: seed() })], engine: (x) => max(x, 1, true), tfjs: (x) => tf.max(x, 1, true) },
  { name: 'max axis -1 [3,4,5]', inputs: () => [randn([3, 4, 5], { seed: seed() })], engine: (x) => max(x, -1), tfjs: (x) => tf.max(x, -1) },
  // broadcasting arithmetic
  { name: 'add [4,3] + [3]', inputs: rn2([4, 3], [3]), engine: (a, b) => add(a, b), tfjs: (a, b) => tf.add(a, b) },
  { name: 'add [4,3] + [4,1]', inputs: rn2([4, 3], [4, 1]), engine: (a, b) => add(a, b), tfjs: (a, b) => tf.add(a, b) },
  { name: 'add [4,1] + [3]', inputs: rn2([4, 1], [3]), engine: (a, b) => add(a, b), tfjs: (a, b) => tf.add(a, b) },
  { name: 'mul [4,3] · [3]', inputs: rn2([4, 3], [3]), engine: (a, b) => mul(a, b), tfjs: (a, b) => tf.mul(a, b) },
  { name: 'mul [4,3] · [4,1]', inputs: rn2([4, 3], [4, 1]), engine: (a, b) => mul(a, b), tfjs: (a, b) => tf.mul(a, b) },
  { name: 'mul [3] · [4,3]', inputs: rn2([3], [4, 3]), engine: (a, b) => mul(a, b), tfjs: (a, b) => tf.mul(a, b) },
  { name: 'div [4,3] / [3]', inputs: () => [randn([4, 3], { seed: seed() }), awayFromZero([3], seed())], engine: (a, b) => div(a, b), tfjs: (a, b) => tf.div(a, b) },
  { name: 'div [4,3] / [4,1]', inputs: () => [randn([4, 3], { seed: seed() }), awayFromZero([4, 1], seed())], engine: (a, b) => div(a, b), tfjs: (a, b) => tf.div(a, b) },
  { name: 'div [3] / [4,3]', inputs: () => [randn([3], { seed: seed() }), awayFromZero([4, 3], seed())], engine: (a, b) => div(a, b), tfjs: (a, b) => tf.div(a, b) },
  { name: 'div [4,1] / [3]', inputs: () => [randn([4, 1], { seed: seed() }), awayFromZero([3], seed())], engine: (a, b) => div(a, b), tfjs: (a, b) => tf.div(a, b) },
  // unary math and activations
  { name: 'exp', inputs: () => [randn([4, 5], { seed: seed() })], engine: (x) => exp(x), tfjs: (x) => tf.exp(x) },
  { name: 'log', inputs: () => [positive([4, 5])], engine: (x) => log(x), tfjs: (x) => tf.log(x) },
  { name: 'sqrt', inputs: () => [positive([4, 5])], engine: (x) => sqrt(x), tfjs: (x) => tf.sqrt(x) },
  { name: 'tanh', inputs: () => [randn([4, 5], { seed: seed(), std: 2 })], engine: (x) => tanh(x), tfjs: (x) => tf.tanh(x) },
  { name: 'sigmoid', inputs: () => [randn([4, 5], { seed: seed(), std: 3 })], engine: (x) => sigmoid(x), tfjs: (x) => tf.sigmoid(x) },
  { name: 'relu', inputs: () => [randn([4, 5], { seed: seed() })], engine: (x) => relu(x), tfjs: (x) => tf.relu(x) },
  { name: 'elu', inputs: () => [randn([4, 5], { seed: seed(), std: 2 })], engine: (x) => elu(x), tfjs: (x) => tf.elu(x) },
  { name: 'softplus', inputs: () => [randn([4, 5], { seed: seed(), std: 3 })], engine: (x) => softplus(x), tfjs: (x) => tf.softplus(x) },
  // layout
  { name: 'transpose 2-D [4,3]', inputs: rn(4, 3), engine: (x) => transpose(x), tfjs: (x) => tf.transpose(x) },
  { name: 'transpose axes 0,2 of [2,3,4]', inputs: rn(2, 3, 4), engine: (x) => transpose(x, 0, 2), tfjs: (x) => tf.transpose(x, [2, 1, 0]) },
  { name: 'permute [2,0,1] of [2,3,4]', inputs: rn(2, 3, 4), engine: (x) => permute(x, [2, 0, 1]), tfjs: (x) => tf.transpose(x, [2, 0, 1]) },
  {
    name: 'concat axis 1 [2,3] ⧺ [2,4] ⧺ [2,1]',
    inputs: () => [randn([2, 3], { seed: seed() }), randn([2, 4], { seed: seed() }), randn([2, 1], { seed: seed() })],
    engine: (a, b, c) => concat([a, b, c], 1), tfjs: (a, b, c) => tf.concat([a, b, c], 1),
  },
  { name: 'concat axis 0 [2,3] ⧺ [1,3]', inputs: rn2([2, 3], [1, 3]), engine: (a, b) => concat([a, b], 0), tfjs: (a, b) => tf.concat([a, b], 0) },
  { name: 'slice [1:3, 2:5] of [4,5]', inputs: rn(4, 5), engine: (x) => slice(x, [1, 2], [3, 5]), tfjs: (x) => tf.slice(x, [1, 2], [2, 3]) },
  { name: 'slice [-3:, :, 1:-1] of [4,2,5]', inputs: rn(4, 2, 5), engine: (x) => slice(x, [-3, 0, 1], [4, 2, -1]), tfjs: (x) => tf.slice(x, [1, 0, 1], [3, 2, 3]) },
  { name: 'gather axis 0 with repeats [4,0,4,2] of [5,3]', inputs: rn(5, 3), engine: (x) => gather(x, [4, 0, 4, 2], 0), tfjs: (x) => tf.gather(x, tf.tensor1d([4, 0, 4, 2], 'int32'), 0) },
  { name: 'gather axis 1 [2,0,2] of [4,3]', inputs: rn(4, 3), engine: (x) => gather(x, [2, 0, 2], 1), tfjs: (x) => tf.gather(x, tf.tensor1d([2, 0, 2], 'int32'), 1) },
  // a small composite: everything above chained, so gradient accumulation across ops is covered too
  {
    name: 'chain: softmax(tanh(a@b) + bias) · sigmoid(a@b) summed over axis 1',
    inputs: () => [randn([4, 3], { seed: seed() }), randn([3, 5], { seed: seed() }), randn([5], { seed: seed() })],
    engine: (a, b, bias) => { const h = matmul(a, b); return sum(mul(softmax(add(tanh(h), bias)), sigmoid(h)), 1, true); },
    tfjs: (a, b, bias) => { const h = tf.matMul(a, b); return tf.sum(tf.mul(tf.softmax(tf.add(tf.tanh(h), bias)), tf.sigmoid(h)), 1, true); },
  },
];

function opTests(): void {
  for (const c of opCases) {
    it(c.name, function () {
      runOpCase(c);
    });
  }
}

describe('cross-check against tfjs (CPU backend, float32)', function () {
  useTfjsCpu(tf);

  after(function () {
    if (!process.env.BPL_CROSSCHECK_REPORT) return;
    const rows = [...worst.entries()].map(([k, v]) => `  ${v.toExponential(2).padStart(9)}  ${k}`);
    console.log(`\n  largest max-norm relative error per case (engine vs tfjs):\n${rows.join('\n')}`);
  });

  describe('MLPs: loss, outputs and every parameter gradient', mlpTests);
  describe('ops: forward values and gradients of sum(op(x…)·R)', opTests);
});
