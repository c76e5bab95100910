/**
 * Training benchmark, one run:
 *   (a) steps/s of the moons example (2-16-1 ReLU, Adam, batch 32), in-process, through the Trainer
 *       (minibatching, layer summaries at the default log interval, diagnosis included);
 *   (b) steps/s of a 784-256-256-10 ReLU MLP with Adam, batch 128, float32, softmax cross-entropy,
 *       against tfjs-cpu doing the same step (optimizer.minimize);
 *   (c) the panel's path: the moons example trained in the runner's model process for --ui-ms, counting
 *       the progress reports the host receives per second and how long a trivial "command" (a
 *       zero-delay timer on the host thread, sampled every 20 ms) waits while training runs.
 *
 *   npm run bench:train               table
 *   npm run bench:train -- --json     the last stdout line is one JSON object
 *   options: --min-ms=N (per case, default 1500), --ui-ms=N (default 3000)
 */
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { Trainer, data, defineTraining, losses, nn, optim, tensor, Rng } from '../engine';
import { ModelRunner } from '../extension/runner/runner';
import { benchArgs } from './args';

const ARGS = benchArgs({ 'min-ms': 1500, 'ui-ms': 3000 });
const JSON_MODE = ARGS.json;
const MIN_MS = ARGS['min-ms'];
const UI_MS = ARGS['ui-ms'];
const ROOT = path.resolve(__dirname, '..', '..');

/** Steps per second of `step` over at least MIN_MS after 3 warm-up steps. */
function rate(step: () => void): { stepsPerSecond: number; msPerStep: number; steps: number } {
  for (let i = 0; i < 3; i++) step();
  let n = 0;
  const t0 = performance.now();
  while (n < 5 || performance.now() - t0 < MIN_MS) {
    step();
    n++;
  }
  const ms = (performance.now() - t0) / n;
  return { stepsPerSecond: 1000 / ms, msPerStep: ms, steps: n };
}

function moonsSpec(steps: number) {
  return defineTraining({
    model: nn.sequential(nn.linear(2, 16, { init: 'he', seed: 1 }), nn.relu(), nn.linear(16, 1, { seed: 2 })),
    data: data.moons({ n: 200, noise: 0.1, seed: 0 }), validation: 0.2,
    loss: losses.bceWithLogits, optimizer: optim.adam({ lr: 0.01 }), batchSize: 32, steps,
  });
}

function moons() {
  const t = new Trainer(moonsSpec(10_000_000));
  return rate(() => t.step());
}

function mlpData(batch: number) {
  const rng = new Rng(7);
  const x = Float32Array.from({ length: batch * 784 }, () => rng.uniform());
  const labels = Array.from({ length: batch }, () => rng.int(10));
  return { x, labels };
}

function mlpEngine(batch: number) {
  const { x, labels } = mlpData(batch);
  const model = nn.sequential(nn.linear(784, 256, { init: 'he', seed: 1 }), nn.relu(), nn.linear(256, 256, { init: 'he', seed: 2 }), nn.relu(), nn.linear(256, 10, { seed: 3 }));
  const xt = tensor(x, { shape: [batch, 784] });
  const yt = tensor(labels, { dtype: 'int32' });
  const opt = optim.adam(model.parameters(), { lr: 1e-3 });
  let loss = 0;
  const r = rate(() => {
    opt.zeroGrad();
    const l = losses.softmaxCrossEntropy(model.forward(xt), yt);
    loss = l.item();
    l.backward();
    opt.step();
  });
  return { ...r, loss };
}

async function mlpTfjs(batch: number) {
  await tf.setBackend('cpu');
  const { x, labels } = mlpData(batch);
  const xs = tf.tensor2d(x, [batch, 784]);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat();
  const layer = (i: number, o: number) => [tf.variable(tf.randomNormal([i, o], 0, Math.sqrt(2 / i))), tf.variable(tf.zeros([o]))] as const;
  const [w1, b1] = layer(784, 256), [w2, b2] = layer(256, 256), [w3, b3] = layer(256, 10);
  const opt = tf.train.adam(1e-3);
  let loss = 0;
  const r = rate(() => {
    const l = opt.minimize(() => {
      const h1 = tf.relu(tf.add(tf.matMul(xs, w1), b1));
      const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
      return tf.losses.softmaxCrossEntropy(ys, tf.add(tf.matMul(h2, w3), b3)) as tf.Scalar;
    }, true)!;
    loss = l.dataSync()[0];
    l.dispose();
  });
  return { ...r, loss };
}

/** The panel's path: progress reports per second and the host's responsiveness while the model process trains. */
async function uiPath() {
  const runner = new ModelRunner(path.join(ROOT, 'dist'));
  const file = path.join(ROOT, 'examples', '08-moons-mlp.ts');
  let reports = 0, firstReport = 0, lastReport = 0, steps = 0, stepsAtFirst = 0;
  const run = await runner.train(file, {
    overrides: { steps: 10_000_000 }, progressMs: 100,
    onProgress: (p) => {
      const now = performance.now();
      if (reports === 0) {
        firstReport = now;
        stepsAtFirst = p.step;
      }
      lastReport = now;
      reports++;
      steps = p.step;
    },
  });
  const waits: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < UI_MS) {
    const asked = performance.now();
    await new Promise<void>((r) => setTimeout(r, 0));
    waits.push(performance.now() - asked);
    await new Promise<void>((r) => setTimeout(r, 20));
  }
  run.stop();
  await run.done;
  runner.dispose();
  waits.sort((a, b) => a - b);
  const span = (lastReport - firstReport) / 1000;
  return {
    reportsPerSecond: span > 0 ? (reports - 1) / span : 0,
    workerStepsPerSecond: span > 0 ? (steps - stepsAtFirst) / span : 0,
    commandWaitMs: { median: waits[waits.length >> 1], p99: waits[Math.floor(waits.length * 0.99)], max: waits[waits.length - 1] },
  };
}

async function main() {
  const log = (s: string) => (JSON_MODE ? process.stderr : process.stdout).write(`${s}\n`);
  log(`training benchmark — ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}`);
  const m = moons();
  log(`(a) moons 2-16-1, Adam, batch 32 (Trainer):  ${m.stepsPerSecond.toFixed(0)} steps/s (${m.msPerStep.toFixed(3)} ms/step)`);
  const e = mlpEngine(128);
  const t = await mlpTfjs(128);
  log(`(b) 784-256-256-10 MLP, Adam, batch 128:     engine ${e.stepsPerSecond.toFixed(1)} steps/s (${e.msPerStep.toFixed(1)} ms) · tfjs-cpu ${t.stepsPerSecond.toFixed(1)} steps/s (${t.msPerStep.toFixed(1)} ms) · ${(e.stepsPerSecond / t.stepsPerSecond).toFixed(1)}× tfjs-cpu`);
  const u = await uiPath();
  log(`(c) panel path (model process, moons): ${u.reportsPerSecond.toFixed(1)} progress reports/s to the host · host command wait median ${u.commandWaitMs.median.toFixed(2)} ms, p99 ${u.commandWaitMs.p99.toFixed(2)} ms, max ${u.commandWaitMs.max.toFixed(2)} ms`);
  const out = {
    moons: { stepsPerSecond: m.stepsPerSecond },
    mlp: { engine: e.stepsPerSecond, tfjsCpu: t.stepsPerSecond, ratio: e.stepsPerSecond / t.stepsPerSecond },
    ui: u,
  };
  if (JSON_MODE) process.stdout.write(`${JSON.stringify(out)}\n`);
}

void main();
