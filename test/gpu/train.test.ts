/**
 * Training by Graph IR replay: the captured program on the CPU backend gives the eager step's
 * numbers; on WebGPU (Node, Dawn on Mesa) a whole run gives the CPU Trainer's loss history, for
 * every optimizer; graphs that change from step to step are refused with a reason.
 */
import assert from 'node:assert/strict';
import { Trainer, data, defineTraining, losses, nn, optim, param, tensor, type Tensor } from '../../engine/index';
import * as F from '../../engine/ops/functional';
import { subset } from '../../engine/data/index';
import { GpuTrainer } from '../../engine/train/gpu';
import { gpuTrainerFor, planOf } from '../../engine/train/plan';
import { captureStep } from '../../engine/ir/capture';
import { execute } from '../../engine/ir/execute';
import { cpuBackend } from '../../engine/ir/cpu';
import type { OptimizerSpec } from '../../engine/optim/index';
import { nodeGpu } from './nodeGpu';

/** examples/08-moons-mlp.ts, with the optimizer, steps and batch size as parameters. */
const moons = (optimizer: OptimizerSpec, steps: number, batchSize = 32) => defineTraining({
  model: nn.sequential(nn.linear(2, 16, { init: 'he', seed: 1 }), nn.relu(), nn.linear(16, 1, { seed: 2 })),
  data: data.moons({ n: 200, noise: 0.1, seed: 0 }), validation: 0.2,
  loss: losses.bceWithLogits, optimizer, batchSize, steps, seed: 0,
});

/** examples/10-xor-train.ts. */
const xor = () => defineTraining({
  model: nn.sequential(nn.linear(2, 4, { init: 'xavier', seed: 3 }), nn.tanh(), nn.linear(4, 1, { seed: 4 })).named('mlp'),
  data: data.xor(), loss: losses.bceWithLogits, optimizer: optim.adam({ lr: 0.05 }), steps: 300,
});

/** Largest |a − b| / |b| over the two runs' loss histories (which must cover the same steps). */
function historyError(gpu: GpuTrainer, cpu: Trainer): { loss: number; gradNorm: number } {
  assert.deepEqual(gpu.history.map((h) => h.step), cpu.history.map((h) => h.step), 'the same steps recorded');
  let loss = 0, gradNorm = 0;
  cpu.history.forEach((h, i) => {
    const g = gpu.history[i];
    assert.equal(g.lr, h.lr, `lr at step ${h.step}`);
    loss = Math.max(loss, Math.abs(g.loss - h.loss) / Math.abs(h.loss));
    gradNorm = Math.max(gradNorm, Math.abs(g.gradNorm - h.gradNorm) / Math.abs(h.gradNorm));
  });
  return { loss, gradNorm };
}

async function trainBoth(spec: ReturnType<typeof moons>, syncEvery = 25) {
  const { rt } = await nodeGpu();
  const made = gpuTrainerFor(rt, new Trainer(spec), { syncEvery });
  assert.ok('trainer' in made, `moved to the GPU (${'reason' in made ? made.reason : ''})`);
  const gpu = made.trainer;
  await gpu.run();
  const cpu = new Trainer(spec);
  cpu.run();
  const params = await gpu.readParams();
  gpu.dispose();
  assert.deepEqual(rt.takeErrors(), [], 'no WebGPU errors');
  return { gpu, cpu, params };
}

describe('training by Graph IR replay', function () {
  this.timeout(120_000);

  it('the captured step replayed on the CPU gives the eager loss and gradients', () => {
    const trainer = new Trainer(moons(optim.sgd({ lr: 0.1 }), 1));
    const batch = subset(trainer.train!, Array.from({ length: 32 }, (_, i) => i));
    const spec = trainer.spec;
    const lossFn = () => (spec.loss as (p: Tensor, t: Tensor) => Tensor)(spec.model!.forward(batch.x), batch.y);
    const program = captureStep({ loss: lossFn, params: trainer.params, data: { x: batch.x, y: batch.y } });
    assert.ok(program.nodes.some((n) => n.op === 'matmul') && program.nodes.length > 10, `a real program (${program.nodes.length} nodes)`);
    const kinds = program.leaves.map((l) => l.source.kind);
    assert.equal(kinds.filter((k) => k === 'param').length, 4);
    assert.deepEqual(program.leaves.filter((l) => l.source.kind === 'data').map((l) => (l.source as { name: string }).name).sort(), ['x', 'y']);
    const bound = new Map<number, Tensor>();
    for (const l of program.leaves) {
      const s = l.source;
      bound.set(l.value, s.kind === 'param' ? trainer.params[s.index] : s.kind === 'data' ? (s.name === 'x' ? batch.x : batch.y) : tensor(Float64Array.from(s.values), { dtype: 'float64', shape: program.values[l.value].shape }));
    }
    const out = execute(program, cpuBackend, bound);
    const eager = lossFn();
    eager.backward();
    assert.ok(Math.abs(out.loss.item() - eager.item()) <= 1e-7 * Math.abs(eager.item()), `loss ${out.loss.item()} vs ${eager.item()}`);
    trainer.params.forEach((p, i) => {
      const g = out.grads[i]!.data, e = p.grad!.data;
      for (let j = 0; j < e.length; j++) assert.ok(Math.abs(g[j] - e[j]) <= 1e-6 * Math.max(1e-3, Math.abs(e[j])), `${trainer.paramNames[i]}[${j}]: ${g[j]} vs ${e[j]}`);
    });
  });

  it('XOR (examples/10) trains on WebGPU to the CPU run\'s loss history and parameters', async () => {
    const { gpu, cpu, params } = await trainBoth(xor(), 50);
    assert.equal(gpu.history.length, 300);
    const err = historyError(gpu, cpu);
    assert.ok(err.loss <= 1e-4, `loss histories differ by ${err.loss}`);
    assert.ok(err.gradNorm <= 1e-3, `gradient norms differ by ${err.gradNorm}`);
    assert.ok(cpu.history[299].loss < cpu.history[0].loss / 4, 'and it learned');
    cpu.params.forEach((p, i) => p.data.forEach((v, j) => assert.ok(Math.abs(params[i][j] - v) <= 1e-3 * Math.max(1, Math.abs(v)), `${cpu.paramNames[i]}[${j}]: ${params[i][j]} vs ${v}`)));
  });

  for (const [name, opt] of [
    ['sgd with Nesterov momentum', optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: true })],
    ['adagrad', optim.adagrad({ lr: 0.1 })],
    ['rmsprop, centered, momentum', optim.rmsprop({ lr: 0.01, centered: true, momentum: 0.5 })],
    ['adadelta', optim.adadelta({})],
    ['adam with amsgrad', optim.adam({ lr: 0.01, amsgrad: true })],
    ['adamw, clipNorm 0.5', optim.adamw({ lr: 0.01, clipNorm: 0.5 })],
    ['adamax, weight decay', optim.adamax({ lr: 0.01, weightDecay: 0.01 })],
    ['nadam, clipValue 0.1', optim.nadam({ lr: 0.01, clipValue: 0.1 })],
    // the textbook variants (rules.ts renders them like the rest)
    ['sgd with Nesterov in the look-ahead form', optim.sgd({ lr: 0.1, momentum: 0.9, nesterov: 'lookahead' })],
    ['adagrad, eps inside the root', optim.adagrad({ lr: 0.1, eps: 1e-3, epsInsideSqrt: true })],
    ['rmsprop, eps inside the root', optim.rmsprop({ lr: 0.01, eps: 1e-4, epsInsideSqrt: true })],
    ['adam without bias correction, eps inside the root', optim.adam({ lr: 0.01, eps: 1e-4, biasCorrection: false, epsInsideSqrt: true })],
  ] as const) {
    it(`moons (examples/08) with ${name}: the loss history matches the CPU run`, async () => {
      // batch 48 of 160 training points: every epoch ends with a batch of 16, a second program
      const { gpu, cpu } = await trainBoth(moons(opt, 120, 48));
      const err = historyError(gpu, cpu);
      assert.ok(err.loss <= 1e-4, `loss histories differ by ${err.loss}`);
      assert.ok(err.gradNorm <= 1e-3, `gradient norms differ by ${err.gradNorm}`);
      assert.notEqual(cpu.history[119].loss, cpu.history[0].loss);
    });
  }

  it('relu′(0) and leakyRelu′(0) as options: the replayed backward on WebGPU takes the same steps from a kink as the CPU', async () => {
    const { rt } = await nodeGpu();
    const run = (gradAtZero: number | undefined) => {
      const x = param(tensor([0, 0, 1, -1], { dtype: 'float32' }));
      const y = param(tensor([0, -0.5], { dtype: 'float32' }));
      const opts = gradAtZero === undefined ? undefined : { gradAtZero };
      return defineTraining({ params: [x, y], loss: () => F.relu(x, opts).sum().add(F.leakyRelu(y, 0.1, opts).sum()), optimizer: optim.sgd({ lr: 0.1 }), steps: 3 });
    };
    for (const [gradAtZero, want] of [[undefined, [[0, 0, 0.7, -1], [-0.03, -0.53]]], [1, [[-0.1, -0.1, 0.7, -1], [-0.12, -0.53]]]] as const) {
      const made = gpuTrainerFor(rt, new Trainer(run(gradAtZero)));
      assert.ok('trainer' in made, 'reason' in made ? made.reason : '');
      await made.trainer.run();
      const params = await made.trainer.readParams();
      made.trainer.dispose();
      const cpu = new Trainer(run(gradAtZero));
      cpu.run();
      // relu: 0 stays at 0 with PyTorch's relu′(0) = 0, steps to −0.1 with 1 (then relu′ = 0); leaky: α·lr per step below 0
      want.forEach((w, i) => w.forEach((v, j) => {
        assert.ok(Math.abs(params[i][j] - v) <= 1e-6, `gradAtZero ${gradAtZero}: GPU param ${i}[${j}] ${params[i][j]}, want ${v}`);
        assert.ok(Math.abs(cpu.params[i].data[j] - v) <= 1e-6, `gradAtZero ${gradAtZero}: CPU param ${i}[${j}] ${cpu.params[i].data[j]}, want ${v}`);
      }));
    }
    assert.deepEqual(rt.takeErrors(), [], 'no WebGPU errors');
  });

  it('a CNN (examples/15: conv2d, ReLU, max pooling, a linear head) on the digits trains on WebGPU to the CPU run\'s loss history', async () => {
    class Cnn extends nn.Module {
      conv1 = nn.conv2d(1, 8, 3, { padding: 1, seed: 1 });
      conv2 = nn.conv2d(8, 16, 3, { padding: 1, seed: 2 });
      relu = nn.relu();
      pool = nn.maxPool2d(2);
      head = nn.linear(64, 10, { seed: 3 });
      forward(x: Tensor): Tensor {
        let h = x.reshape(-1, 1, 8, 8);
        h = this.pool.forward(this.relu.forward(this.conv1.forward(h)));
        h = this.pool.forward(this.relu.forward(this.conv2.forward(h)));
        return this.head.forward(h.reshape(-1, 64));
      }
    }
    const spec = defineTraining({
      model: new Cnn().named('cnn'), data: { train: data.digits({ split: 'train' }), validation: data.digits({ split: 'validation' }) },
      loss: losses.softmaxCrossEntropy, optimizer: optim.adam({ lr: 0.01 }), batchSize: 32, steps: 60, seed: 0,
    });
    const { gpu, cpu } = await trainBoth(spec as ReturnType<typeof moons>, 20);
    const err = historyError(gpu, cpu);
    assert.ok(err.loss <= 1e-4, `loss histories differ by ${err.loss}`);
    assert.ok(err.gradNorm <= 1e-3, `gradient norms differ by ${err.gradNorm}`);
    assert.ok(cpu.history[59].loss < cpu.history[0].loss / 2, 'and it learned');
  });

  it('a plan survives structured cloning; a CPU trainer adopting a GPU checkpoint goes on as if it had run all along', async () => {
    const { rt } = await nodeGpu();
    // one spec per trainer: a spec's model (and so its parameters) is shared by its trainers
    const spec = () => moons(optim.adam({ lr: 0.01 }), 300);
    const made = planOf(new Trainer(spec()));
    assert.ok('plan' in made, 'reason' in made ? made.reason : '');
    const plan = structuredClone(made.plan); // what crosses postMessage to the webview
    assert.deepEqual(plan.programs.map((p) => p.size), [32, 160 % 32].filter((n) => n > 0), 'a program per batch size (160 training rows)');
    const gpu = GpuTrainer.fromPlan(rt, plan, { syncEvery: 16, keepHistory: false });
    assert.ok('trainer' in gpu);
    await gpu.trainer.run(120);
    const cp = await gpu.trainer.checkpoint();
    gpu.trainer.dispose();
    assert.equal(cp.step, 120);
    assert.deepEqual(cp.history.map((h) => h.step), Array.from({ length: 120 }, (_, i) => i + 1), 'every step since the start');
    assert.deepEqual(Object.keys(cp.slots[0]!).sort(), ['m', 'v']);

    const resumed = new Trainer(spec());
    resumed.adopt(structuredClone(cp), { log: true });
    assert.equal(resumed.stepsTaken, 120);
    const logged = resumed.layerHistory.at(-1)!;
    assert.equal(logged.step, 120, 'layer summaries at the adopted step');
    assert.ok(logged.layers.length >= 2 && logged.layers.every((l) => l.weight && l.weight.count > 0), 'per-layer weights summarized');
    assert.ok(Number.isFinite(resumed.history.at(-1)!.valLoss!), 'validation loss at the adopted step');
    resumed.run();
    const cpu = new Trainer(spec());
    cpu.run();
    assert.deepEqual(resumed.history.map((h) => h.step), cpu.history.map((h) => h.step));
    let worst = 0;
    cpu.history.forEach((h, i) => (worst = Math.max(worst, Math.abs(resumed.history[i].loss - h.loss) / Math.abs(h.loss))));
    assert.ok(worst <= 1e-3, `the resumed run's loss history matches the uninterrupted CPU run (max rel ${worst.toExponential(2)})`);
    const end = resumed.history.at(-1)!.loss;
    assert.ok(end < resumed.history[0].loss / 2, `and it learned (${resumed.history[0].loss} → ${end})`);
    // the same state, adopted with the wrong shapes, is refused
    assert.throws(() => new Trainer(spec()).adopt({ ...cp, params: cp.params.slice(1) }), /adopt got 3 parameters/);
  });

  it('a graph that changes from step to step stays on the CPU, and says why', async () => {
    const { rt } = await nodeGpu();
    let calls = 0;
    const w = nn.linear(2, 1, { seed: 1 });
    // control flow on a counter: a different program on every call
    const spec = defineTraining({
      model: nn.sequential(w), data: data.xor(), optimizer: optim.sgd({ lr: 0.1 }), steps: 5,
      loss: (p: Tensor, y: Tensor) => (calls++ % 2 ? losses.mse(p, y) : losses.l1(p, y)),
    });
    const made = gpuTrainerFor(rt, new Trainer(spec));
    assert.ok('reason' in made && /changes from step to step/.test(made.reason), JSON.stringify(made));
    const dropout = defineTraining({
      model: nn.sequential(nn.linear(2, 8, { seed: 1 }), nn.dropout(0.5), nn.linear(8, 1, { seed: 2 })),
      data: data.xor(), loss: losses.bceWithLogits, optimizer: optim.sgd({ lr: 0.1 }), steps: 5,
    });
    const made2 = gpuTrainerFor(rt, new Trainer(dropout));
    assert.ok('reason' in made2 && /changes from step to step/.test(made2.reason), `dropout's fresh masks: ${JSON.stringify(made2)}`);
    const both = gpuTrainerFor(rt, new Trainer(moons(optim.sgd({ lr: 0.1, clipNorm: 1, clipValue: 1 }), 5)));
    assert.ok('reason' in both && /by norm and by value/.test(both.reason));
  });
});
