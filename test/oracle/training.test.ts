/**
 * The PyTorch oracle on training: every optimizer (and its options) and every schedule, 50 steps of
 * a small model with fixed weights, against torch.optim and torch.optim.lr_scheduler with the same
 * weights, data, minibatches and dropout masks. At every step the learning rate, the loss and every
 * parameter must agree; the validation loss, at each logged step, must be PyTorch's eval-mode loss;
 * batch norm's running statistics must agree at the end.
 */
import * as assert from 'node:assert/strict';
import { Rng, Trainer, data, defineTraining, losses, nn, optim, setHooks, type Tensor } from '../../engine/index';
import { BatchOrder } from '../../engine/data/order';
import type { OptimizerName } from '../../engine/optim/names';
import type { Schedule } from '../../engine/optim/schedules';
import { largest, NOISE_FLOOR, relError, tolerance, TOLERANCE, type DT } from './compare';
import { runPython, useTorch } from './torch';

const { schedules } = optim;
const STEPS = 50;

type Layer =
  | { kind: 'linear'; in: number; out: number; bias: boolean }
  | { kind: 'tanh' | 'relu' | 'sigmoid' }
  | { kind: 'batchNorm1d'; features: number; eps: number; momentum: number }
  | { kind: 'dropout'; p: number };

interface Case {
  id: string;
  optimizer: [OptimizerName, Record<string, number | boolean>];
  schedule?: Schedule;
  clipNorm?: number;
  clipValue?: number;
  layers?: Layer[];
  loss?: 'mse' | 'bceWithLogits';
  batchSize?: number;
  dtype?: DT;
  validation?: boolean;
}

const MLP: Layer[] = [{ kind: 'linear', in: 3, out: 5, bias: true }, { kind: 'tanh' }, { kind: 'linear', in: 5, out: 1, bias: true }];
// no bias before batch norm (as one writes it in PyTorch): batch norm removes it, its gradient is 0
// exactly, and Adam would turn each side's rounding noise of that 0 into different steps
const BN_DROPOUT: Layer[] = [
  { kind: 'linear', in: 3, out: 6, bias: false }, { kind: 'batchNorm1d', features: 6, eps: 1e-5, momentum: 0.1 }, { kind: 'relu' },
  { kind: 'dropout', p: 0.3 }, { kind: 'linear', in: 6, out: 1, bias: true },
];

const CASES: Case[] = [
  // every optimizer, with its options
  { id: 'sgd', optimizer: ['sgd', { lr: 0.1 }] },
  { id: 'sgd momentum', optimizer: ['sgd', { lr: 0.05, momentum: 0.9 }] },
  { id: 'sgd momentum dampening weight decay', optimizer: ['sgd', { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.01 }] },
  { id: 'sgd nesterov', optimizer: ['sgd', { lr: 0.05, momentum: 0.9, nesterov: true }] },
  { id: 'adagrad', optimizer: ['adagrad', { lr: 0.1 }] },
  { id: 'adagrad lr decay, accumulator, weight decay', optimizer: ['adagrad', { lr: 0.2, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.02 }] },
  { id: 'rmsprop', optimizer: ['rmsprop', { lr: 0.01 }] },
  { id: 'rmsprop centered momentum', optimizer: ['rmsprop', { lr: 0.005, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.01 }] },
  { id: 'adadelta', optimizer: ['adadelta', { lr: 1 }] },
  { id: 'adadelta rho eps', optimizer: ['adadelta', { lr: 0.5, rho: 0.8, eps: 1e-5, weightDecay: 0.01 }] },
  { id: 'adam', optimizer: ['adam', { lr: 0.01 }] },
  { id: 'adam amsgrad weight decay', optimizer: ['adam', { lr: 0.02, beta1: 0.8, beta2: 0.99, amsgrad: true, weightDecay: 0.01 }] },
  { id: 'adamw', optimizer: ['adamw', { lr: 0.01, weightDecay: 0.05 }] },
  { id: 'adamax', optimizer: ['adamax', { lr: 0.02 }] },
  { id: 'nadam', optimizer: ['nadam', { lr: 0.01 }] },
  { id: 'nadam momentum decay', optimizer: ['nadam', { lr: 0.01, momentumDecay: 0.01, weightDecay: 0.01 }] },
  // clipping
  { id: 'sgd clipNorm', optimizer: ['sgd', { lr: 0.2 }], clipNorm: 0.05 },
  { id: 'adam clipValue', optimizer: ['adam', { lr: 0.01 }], clipValue: 0.01 },
  { id: 'sgd clipValue and clipNorm', optimizer: ['sgd', { lr: 0.2 }], clipValue: 0.02, clipNorm: 0.03 },
  // every schedule
  { id: 'step schedule', optimizer: ['sgd', { lr: 0.1, momentum: 0.5 }], schedule: schedules.step({ stepSize: 7, gamma: 0.5 }) },
  { id: 'piecewise schedule', optimizer: ['sgd', { lr: 0.1 }], schedule: schedules.piecewise({ boundaries: [10, 30], values: [0.1, 0.03, 0.01] }) },
  { id: 'exponential schedule', optimizer: ['adam', { lr: 0.02 }], schedule: schedules.exponential({ decayRate: 0.5, decaySteps: 10 }) },
  { id: 'exponential staircase schedule', optimizer: ['adam', { lr: 0.02 }], schedule: schedules.exponential({ decayRate: 0.5, decaySteps: 10, staircase: true }) },
  { id: 'polynomial schedule', optimizer: ['sgd', { lr: 0.1 }], schedule: schedules.polynomial({ decaySteps: 40, power: 2 }) },
  { id: 'polynomial schedule with an end rate', optimizer: ['sgd', { lr: 0.1 }], schedule: schedules.polynomial({ decaySteps: 40, endLr: 0.01, power: 1.5 }) },
  { id: 'cosine schedule', optimizer: ['adam', { lr: 0.02 }], schedule: schedules.cosine({ totalSteps: 50, minLr: 0.001 }) },
  { id: 'cosine schedule with warm-up', optimizer: ['adam', { lr: 0.02 }], schedule: schedules.cosine({ totalSteps: 50, warmupSteps: 8, minLr: 0.001 }) },
  { id: 'inverse time schedule', optimizer: ['sgd', { lr: 0.1 }], schedule: schedules.inverseTime({ decayRate: 0.5, decaySteps: 4 }) },
  { id: 'inverse time staircase schedule', optimizer: ['adam', { lr: 0.02 }], schedule: schedules.inverseTime({ decayRate: 2, decaySteps: 10, staircase: true }) },
  { id: 'cosine restarts schedule (PyTorch\'s CosineAnnealingWarmRestarts)', optimizer: ['sgd', { lr: 0.1 }], schedule: schedules.cosineRestarts({ firstDecaySteps: 5, tMul: 2 }) },
  { id: 'cosine restarts schedule with mMul and alpha', optimizer: ['adam', { lr: 0.02 }], schedule: schedules.cosineRestarts({ firstDecaySteps: 6, tMul: 1.5, mMul: 0.7, alpha: 0.05 }) },
  { id: 'cyclic schedule', optimizer: ['sgd', { lr: 0.01 }], schedule: schedules.cyclic({ maxLr: 0.2, stepSize: 6 }) },
  { id: 'cyclic triangular2 schedule', optimizer: ['sgd', { lr: 0.01 }], schedule: schedules.cyclic({ maxLr: 0.2, stepSize: 5, mode: 'triangular2' }) },
  { id: 'cyclic expRange schedule', optimizer: ['sgd', { lr: 0.05 }], schedule: schedules.cyclic({ maxLr: 0.3, baseLr: 0.01, stepSize: 4, mode: 'expRange', gamma: 0.97 }) },
  // minibatches, classification, float32
  { id: 'minibatches of 5, bce with logits', optimizer: ['adam', { lr: 0.02 }], batchSize: 5, loss: 'bceWithLogits' },
  { id: 'float32 adam', optimizer: ['adam', { lr: 0.01 }], dtype: 'float32', batchSize: 6 },
  { id: 'float32 sgd momentum, cosine', optimizer: ['sgd', { lr: 0.05, momentum: 0.9 }], dtype: 'float32', schedule: schedules.cosine({ totalSteps: 50, warmupSteps: 5 }) },
  // batch norm and dropout in train mode, the validation loss in eval mode
  { id: 'batch norm and dropout (train), validation (eval)', optimizer: ['adam', { lr: 0.01 }], layers: BN_DROPOUT, batchSize: 8, validation: true },
  { id: 'batch norm and dropout, sgd momentum, bce', optimizer: ['sgd', { lr: 0.05, momentum: 0.9 }], layers: BN_DROPOUT, batchSize: 6, loss: 'bceWithLogits', validation: true },
];

function build(layers: Layer[], dtype: DT): nn.Module {
  return nn.sequential(...layers.map((l, i) => {
    switch (l.kind) {
      case 'linear': return nn.linear(l.in, l.out, { dtype, seed: i, bias: l.bias });
      case 'batchNorm1d': return nn.batchNorm1d(l.features, { dtype, eps: l.eps, momentum: l.momentum });
      case 'dropout': return nn.dropout(l.p, { seed: 11 + i });
      default: return nn[l.kind]();
    }
  }));
}

interface Ours {
  rows: number[][];
  masks: number[][][];
  steps: { loss: number; lr: number; params: number[][]; valLoss?: number }[];
  logged: number[];
  buffers: number[][];
  payload: Record<string, unknown>;
}

/** Trains a case with the engine's Trainer and records what PyTorch needs to repeat it. */
function train(c: Case): Ours {
  const rng = new Rng(7);
  const dtype = c.dtype ?? 'float64';
  const layers = c.layers ?? MLP;
  const model = build(layers, dtype);
  // fixed weights: small values, the same on both sides
  const params = model.parameters();
  for (const p of params) p.data.set(Float64Array.from({ length: p.size }, () => Math.round((rng.uniform() * 1.6 - 0.8) * 1e4) / 1e4));
  const row = () => [0, 1, 2].map(() => Math.round((rng.uniform() * 4 - 2) * 1e3) / 1e3);
  const loss = c.loss ?? 'mse';
  const target = (x: number[]) => (loss === 'mse' ? [Math.sin(x[0]) + 0.5 * x[1] * x[2]] : [x[0] + x[1] > 0 ? 1 : 0]);
  const xs = Array.from({ length: 30 }, row), xv = Array.from({ length: 12 }, row);
  const train = data.fromArrays(xs, xs.map(target), { dtype, task: loss === 'mse' ? 'regression' : 'binary' });
  const validation = data.fromArrays(xv, xv.map(target), { dtype, task: loss === 'mse' ? 'regression' : 'binary' });
  const batchSize = c.batchSize ?? 30;
  const spec = defineTraining({
    model, data: c.validation ? { train, validation } : { train },
    loss: loss === 'mse' ? losses.mse : losses.bceWithLogits,
    optimizer: optim.spec(c.optimizer[0], { ...c.optimizer[1], clipNorm: c.clipNorm, clipValue: c.clipValue }),
    schedule: c.schedule, batchSize, steps: STEPS, seed: 3, logEvery: 5,
  });
  const initial = params.map((p) => Array.from(p.data as ArrayLike<number>));
  const trainer = new Trainer(spec);
  // the minibatches the trainer's loader serves (same rows, same seed), and dropout's masks per step
  const order = new BatchOrder(train.size, batchSize, { seed: 3 });
  const leaves: Tensor[] = [];
  const restore = setHooks({ onLeaf: (t) => void leaves.push(t) });
  const out: Ours = { rows: [], masks: [], steps: [], logged: [], buffers: [], payload: {} };
  try {
    for (let t = 0; t < STEPS; t++) {
      leaves.length = 0;
      out.rows.push(order.next());
      const e = trainer.step();
      out.masks.push(leaves.filter((l) => l.name === 'dropoutMask').map((m) => Array.from(m.data as ArrayLike<number>)));
      out.steps.push({ loss: e.loss, lr: e.lr, params: params.map((p) => Array.from(p.data as ArrayLike<number>)), valLoss: e.valLoss });
      if (e.valLoss !== undefined) out.logged.push(t + 1);
    }
  } finally {
    restore();
  }
  out.buffers = model.namedBuffers().map(([, b]) => Array.from(b.data as ArrayLike<number>));
  out.payload = {
    id: c.id, dtype, layers, params: initial, loss,
    x: xs, y: xs.map(target), xv: c.validation ? xv : null, yv: c.validation ? xv.map(target) : null,
    optimizer: { name: c.optimizer[0], options: { lr: trainer.optimizer.baseLr, ...c.optimizer[1] } },
    schedule: { kind: trainer.schedule.kind, options: trainer.schedule.options },
    clipNorm: c.clipNorm ?? null, clipValue: c.clipValue ?? null,
    rows: out.rows, masks: out.masks.some((m) => m.length) ? out.masks : null, logged: out.logged,
  };
  return out;
}

interface TorchRun { steps: { loss: number; lr: number; params: number[][]; valLoss?: number }[]; buffers: number[][]; error?: string }

describe('PyTorch oracle: training', function () {
  useTorch();

  it(`${CASES.length} runs of every optimizer and schedule, ${STEPS} steps each, agree with torch.optim at every step`, async function () {
    this.timeout(300_000);
    const ours = CASES.map(train);
    const theirs = await runPython<Record<string, TorchRun>>('training.py', { cases: ours.map((o) => o.payload) });
    const problems: string[] = [];
    let compared = 0, worst = 0, worstLr = 0, valChecks = 0;
    CASES.forEach((c, k) => {
      const o = ours[k], t = theirs[c.id];
      if (!t || t.error) {
        problems.push(`${c.id}: PyTorch failed: ${t?.error ?? 'no result'}`);
        return;
      }
      const tol = tolerance(c.dtype ?? 'float64');
      for (let s = 0; s < STEPS; s++) {
        const a = o.steps[s], b = t.steps[s];
        // a parameter near 0 is compared at the model's scale (see NOISE_FLOOR in compare.ts)
        const floor = NOISE_FLOOR * tol * largest(b.params);
        const lrErr = a.lr === b.lr ? 0 : Math.abs(a.lr - b.lr) / Math.abs(b.lr);
        worstLr = Math.max(worstLr, lrErr);
        if (!(lrErr <= TOLERANCE.float64)) problems.push(`${c.id} step ${s + 1}: lr ${a.lr}, PyTorch ${b.lr}`);
        if (!(relError([a.loss], [b.loss]) <= tol)) problems.push(`${c.id} step ${s + 1}: loss ${a.loss}, PyTorch ${b.loss}`);
        a.params.forEach((p, i) => {
          const e = relError(p, b.params[i]);
          const diff = Math.max(...p.map((v, j) => Math.abs(v - b.params[i][j])));
          if (c.dtype !== 'float32') worst = Math.max(worst, e);
          if (!(e <= tol || diff <= floor)) problems.push(`${c.id} step ${s + 1}: parameter ${i} differs by ${e.toExponential(2)} (ours ${p.slice(0, 3)}, PyTorch ${b.params[i].slice(0, 3)})`);
        });
        if (a.valLoss !== undefined) {
          valChecks++;
          if (!(relError([a.valLoss], [b.valLoss!]) <= tol)) problems.push(`${c.id} step ${s + 1}: validation loss ${a.valLoss}, PyTorch (eval mode) ${b.valLoss}`);
        }
        compared++;
      }
      o.buffers.forEach((buf, i) => {
        if (!(relError(buf, t.buffers[i]) <= tol)) problems.push(`${c.id}: buffer ${i} (running statistics) ${buf.slice(0, 3)}, PyTorch ${t.buffers[i].slice(0, 3)}`);
      });
    });
    process.stdout.write(`      ${CASES.length} runs, ${compared} steps compared (learning rate, loss, every parameter), ${valChecks} validation losses; worst float64 parameter error ${worst.toExponential(1)}, learning rate ${worstLr.toExponential(1)}\n`);
    // the first disagreement of each run that has one
    const firstOf = new Map<string, string>();
    for (const m of problems) {
      const id = CASES.find((c) => m.startsWith(`${c.id}:`) || m.startsWith(`${c.id} step`))?.id ?? m;
      if (!firstOf.has(id)) firstOf.set(id, m);
    }
    assert.deepEqual([...firstOf.values()], [], `${problems.length} disagreements`);
  });
});
