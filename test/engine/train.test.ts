/**
 * defineTraining and the Trainer: the update loop against a hand computation, overrides, reset,
 * validation, schedules in the loop, early stop on NaN; the layer summaries against the tensors
 * they summarize; and the diagnosis rules on models built to vanish, to explode, to die and to be
 * healthy.
 */
import * as assert from 'node:assert/strict';
import { Trainer, data, defineTraining, diagnose, init, losses, nn, optim, param, tensor, THRESHOLDS, type LayerStats } from '../../engine/index';
import { LayerRecorder, deadFraction } from '../../engine/stats/layers';

/** A deep MLP of `depth` hidden layers with one activation and one weight init, on the moons. */
function deepSpec(opts: { depth: number; activation: 'sigmoid' | 'tanh' | 'relu'; init: nn.Initializer; lr?: number; steps?: number; optimizer?: 'sgd' | 'adam' }) {
  const layers: nn.Module[] = [];
  for (let i = 0; i < opts.depth; i++) {
    layers.push(nn.linear(i === 0 ? 2 : 16, 16, { init: opts.init, seed: 10 + i }));
    layers.push(opts.activation === 'relu' ? nn.relu() : opts.activation === 'tanh' ? nn.tanh() : nn.sigmoid());
  }
  layers.push(nn.linear(16, 1, { seed: 99 }));
  return defineTraining({
    model: nn.sequential(...layers).named('net'),
    data: data.moons({ n: 128, noise: 0.1, seed: 0 }),
    loss: losses.bceWithLogits,
    optimizer: opts.optimizer === 'adam' ? optim.adam({ lr: opts.lr ?? 0.01 }) : optim.sgd({ lr: opts.lr ?? 0.1 }),
    batchSize: 64,
    steps: opts.steps ?? 5,
  });
}

const codes = (t: Trainer) => t.findings.map((f) => f.code);

describe('defineTraining', () => {
  it('accepts the two forms of the issue and fills the default optimizer', () => {
    const x = param(10).named('x');
    const a = defineTraining({ params: [x], loss: () => x.pow(2), optimizer: optim.sgd({ lr: 0.2 }), steps: 10 });
    assert.equal(a.kind, 'training-spec');
    const b = defineTraining({ params: [x], loss: () => x.pow(2) });
    assert.equal(b.optimizer!.name, 'sgd');
    assert.equal(b.optimizer!.options.lr, 0.01);
  });

  it('rejects specs that cannot run, saying what to write', () => {
    const x = param(1);
    const model = nn.linear(2, 1);
    const moons = data.moons({ n: 10 });
    const bad: [() => unknown, RegExp][] = [
      [() => defineTraining({ params: [x] } as never), /loss must be a function/],
      [() => defineTraining({ loss: () => x }), /give a model or params/],
      [() => defineTraining({ model, loss: losses.mse }), /a model needs data/],
      [() => defineTraining({ params: [x], loss: losses.mse }), /without data, loss takes no arguments/],
      [() => defineTraining({ params: [tensor([1])], loss: () => x }), /params\[0\] is not a parameter/],
      [() => defineTraining({ model, data: moons, loss: losses.mse, optimizer: { lr: 1 } as never }), /optimizer must come from optim/],
      [() => defineTraining({ model, data: moons, loss: losses.mse, steps: 0 }), /steps must be an integer from 1/],
      [() => defineTraining({ model, data: { x: 1 } as never, loss: losses.mse }), /data must be a dataset/],
      [() => defineTraining({ model, data: moons, loss: losses.mse, validation: 1.5 }), /validation must be a fraction/],
    ];
    for (const [f, re] of bad) assert.throws(f, re);
  });
});

describe('Trainer', () => {
  it('x² with SGD lr 0.2: x is multiplied by 0.6 every step, as the update rule says', () => {
    const x = param(10, { dtype: 'float64' }).named('x');
    const t = new Trainer(defineTraining({ params: [x], loss: () => x.pow(2), optimizer: optim.sgd({ lr: 0.2 }), steps: 10 }));
    t.run();
    let expected = 10;
    t.history.forEach((h, i) => {
      assert.equal(h.step, i + 1);
      assert.ok(Math.abs(h.loss - expected * expected) < 1e-9 * expected * expected, `loss at step ${h.step}`);
      assert.ok(Math.abs(h.gradNorm - Math.abs(2 * expected)) < 1e-9 * Math.abs(expected), `grad norm at step ${h.step}`);
      expected *= 0.6;
    });
    assert.ok(Math.abs(x.item() - 10 * 0.6 ** 10) < 1e-12);
    const r = t.result();
    assert.deepEqual(r.params, [{ name: 'x', shape: [], value: [x.item()] }]);
    assert.equal(r.steps, 10);
    assert.equal(r.layers.length, r.history.length, '10 steps: every step is logged');
    assert.equal(r.layers[0].layers[0].type, 'param');
  });

  it('matches a hand-written minibatch loop on the moons (same batches, same updates)', () => {
    const make = () => nn.sequential(nn.linear(2, 8, { init: 'he', seed: 1 }), nn.relu(), nn.linear(8, 1, { seed: 2 }));
    const ds = data.moons({ n: 64, noise: 0.1, seed: 3 });
    const model = make();
    const t = new Trainer(defineTraining({ model, data: ds, loss: losses.bceWithLogits, optimizer: optim.sgd({ lr: 0.3, momentum: 0.9 }), batchSize: 16, steps: 12, seed: 5 }));
    t.run();
    const ref = make();
    const opt = optim.sgd(ref.parameters(), { lr: 0.3, momentum: 0.9 });
    const loader = new data.DataLoader(ds, 16, { seed: 5 });
    const refLosses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const { x, y } = loader.next();
      opt.zeroGrad();
      const loss = losses.bceWithLogits(ref.forward(x), y);
      refLosses.push(loss.item());
      loss.backward();
      opt.step();
    }
    assert.deepEqual(t.history.map((h) => h.loss), refLosses);
    const a = model.parameters(), b = ref.parameters();
    a.forEach((p, i) => assert.deepEqual(Array.from(p.data), Array.from(b[i].data)));
  });

  it('overrides replace the optimizer, lr, steps, batch size and seed without touching the spec', () => {
    const spec = deepSpec({ depth: 1, activation: 'relu', init: 'he', steps: 7 });
    const t = new Trainer(spec, { optimizer: 'adam', lr: 0.003, steps: 3, batchSize: 8, seed: 4 });
    t.run();
    assert.equal(t.optimizer.name, 'adam');
    assert.equal(t.optimizer.lr, 0.003);
    assert.equal(t.stepsTaken, 3);
    assert.equal(t.batchSize, 8);
    assert.equal(t.result().seed, 4);
    assert.equal(spec.steps, 7);
    // same optimizer: the file's other options stay, lr changes
    const m = new Trainer(defineTraining({ ...spec, optimizer: optim.sgd({ lr: 0.1, momentum: 0.5 }) }), { lr: 0.01 });
    assert.deepEqual([m.optimizer.config().momentum, m.optimizer.lr], [0.5, 0.01]);
  });

  it('a run adopted from checkpoints keeps the same history entries as the run taken here (one rule)', () => {
    // 3,000 steps: every 3rd entry is kept, and every logged one; checkpoints fall every 250 steps (not a multiple of 3)
    const spec = () => defineTraining({ model: nn.sequential(nn.linear(2, 4, { seed: 1 }), nn.tanh(), nn.linear(4, 1, { seed: 2 })), data: data.xor(), loss: losses.mse, optimizer: optim.sgd({ lr: 0.1 }), steps: 3000 });
    const here = new Trainer(spec());
    const adopted = new Trainer(spec());
    let since: ReturnType<Trainer['step']>[] = [];
    while (!here.done) {
      since.push(here.step());
      if (here.stepsTaken % 250 === 0 || here.done) {
        adopted.adopt({ step: here.stepsTaken, params: here.params.map((p) => Float64Array.from(p.data)), slots: here.params.map(() => null), history: since });
        since = [];
      }
    }
    assert.equal(here.historyEvery, 3);
    assert.ok(here.history.length > 1000, `${here.history.length} entries`);
    assert.deepEqual(adopted.history.map((h) => h.step), here.history.map((h) => h.step));
    assert.deepEqual(adopted.history.map((h) => h.loss), here.history.map((h) => h.loss));
  });

  it('reset restores the initial parameters exactly and replays the same run', () => {
    const spec = deepSpec({ depth: 2, activation: 'tanh', init: 'xavier', steps: 6, optimizer: 'adam' });
    const t = new Trainer(spec);
    const start = t.params.map((p) => Array.from(p.data));
    t.run();
    const first = t.history.map((h) => h.loss);
    const end = t.params.map((p) => Array.from(p.data));
    assert.notDeepEqual(end, start);
    t.reset();
    assert.deepEqual(t.params.map((p) => Array.from(p.data)), start);
    assert.equal(t.stepsTaken, 0);
    t.run();
    assert.deepEqual(t.history.map((h) => h.loss), first);
    assert.deepEqual(t.params.map((p) => Array.from(p.data)), end);
  });

  it('holds out a validation split, standardizes with the training statistics, and the loss falls', () => {
    const spec = defineTraining({
      model: nn.sequential(nn.linear(2, 16, { init: 'he', seed: 1 }), nn.relu(), nn.linear(16, 1, { seed: 2 })),
      data: data.moons({ n: 200, noise: 0.1, seed: 0 }), validation: 0.25, standardize: true,
      loss: losses.bceWithLogits, optimizer: optim.adam({ lr: 0.02 }), batchSize: 32, steps: 200,
    });
    const t = new Trainer(spec);
    assert.equal(t.train!.size, 150);
    assert.equal(t.validation!.size, 50);
    assert.deepEqual(t.validation!.standardization, t.train!.standardization);
    t.run();
    const logged = t.history.filter((h) => h.valLoss !== undefined);
    assert.ok(logged.length >= 3);
    assert.ok(logged[logged.length - 1].valLoss! < 0.5 * logged[0].valLoss!, `validation loss ${logged[0].valLoss} → ${logged[logged.length - 1].valLoss}`);
    assert.equal(t.history[t.history.length - 1].valLoss, t.validationLoss(), 'valLoss is the loss on the held-out set after the step');
  });

  it('reports accuracy at logged steps: the minibatch before the update and the validation set after it, counted by hand from the model\'s outputs', () => {
    // multi-class: argmax of the logits; binary: logits above 0 (bceWithLogits) or probabilities above ½ (bce)
    const cases = [
      { name: 'digits', spec: defineTraining({
        model: nn.sequential(nn.linear(64, 16, { seed: 1 }), nn.relu(), nn.linear(16, 10, { seed: 2 })),
        data: { train: data.digits({ split: 'train' }), validation: data.digits({ split: 'validation' }) },
        loss: losses.softmaxCrossEntropy, optimizer: optim.adam({ lr: 0.01 }), batchSize: 32, steps: 40,
      }), predict: (out: number[], i: number, c: number) => out.slice(i * c, (i + 1) * c).indexOf(Math.max(...out.slice(i * c, (i + 1) * c))) },
      { name: 'moons (logits)', spec: defineTraining({
        model: nn.sequential(nn.linear(2, 8, { seed: 1 }), nn.relu(), nn.linear(8, 1, { seed: 2 })),
        data: data.moons({ n: 100, noise: 0.1, seed: 0 }), validation: 0.3,
        loss: losses.bceWithLogits, optimizer: optim.adam({ lr: 0.02 }), batchSize: 16, steps: 30,
      }), predict: (out: number[], i: number) => (out[i] > 0 ? 1 : 0) },
      { name: 'moons (probabilities)', spec: defineTraining({
        model: nn.sequential(nn.linear(2, 8, { seed: 1 }), nn.relu(), nn.linear(8, 1, { seed: 2 }), nn.sigmoid()),
        data: data.moons({ n: 100, noise: 0.1, seed: 0 }), validation: 0.3,
        loss: losses.bce, optimizer: optim.adam({ lr: 0.02 }), batchSize: 16, steps: 30,
      }), predict: (out: number[], i: number) => (out[i] > 0.5 ? 1 : 0) },
    ];
    for (const { name, spec, predict } of cases) {
      const t = new Trainer(spec);
      t.run();
      const logged = t.history.filter((h) => h.valLoss !== undefined);
      assert.ok(logged.length >= 3, name);
      for (const h of logged) {
        assert.ok(h.accuracy !== undefined && h.accuracy >= 0 && h.accuracy <= 1, `${name}: accuracy at step ${h.step}`);
        const rows = Array.from({ length: t.batchSize! }, (_, k) => k + 1);
        assert.ok(rows.some((n) => Math.abs(h.accuracy! * n - Math.round(h.accuracy! * n)) < 1e-9), `${name}: ${h.accuracy} is a count over a minibatch of at most ${t.batchSize}`);
        assert.ok(h.valAccuracy !== undefined, `${name}: validation accuracy at step ${h.step}`);
      }
      // the last step's validation accuracy, counted here from the model's outputs in eval mode
      const v = t.validation!;
      const out = Array.from(t.analyze(() => spec.model!.forward(v.x)).data);
      const c = out.length / v.size;
      let right = 0;
      for (let i = 0; i < v.size; i++) if (predict(out, i, c) === Math.round(v.y.data[i])) right++;
      assert.equal(logged[logged.length - 1].valAccuracy, right / v.size, name);
      assert.equal(t.evaluate(v).accuracy, right / v.size, name);
    }
    // regression reports none
    const reg = new Trainer(defineTraining({ model: nn.linear(3, 1, { seed: 0 }), data: data.linear({ n: 40, features: 3, seed: 0 }), validation: 0.25, loss: losses.mse, optimizer: optim.sgd({ lr: 0.1 }), steps: 5 }));
    reg.run();
    assert.ok(reg.history.every((h) => h.accuracy === undefined && h.valAccuracy === undefined));
  });

  it('epochs count passes over the training set; a test set is evaluated at the end; early stopping watches the validation loss', () => {
    const model = () => nn.sequential(nn.linear(64, 16, { seed: 1 }), nn.relu(), nn.linear(16, 10, { seed: 2 }));
    const digits = { train: data.digits({ split: 'train' }), validation: data.digits({ split: 'validation' }), test: data.digits({ split: 'test' }) };
    const base = { loss: losses.softmaxCrossEntropy, optimizer: optim.adam({ lr: 0.01 }), batchSize: 100 };
    // 1,078 examples in batches of 100: 11 steps an epoch (the last batch of 78)
    const t = new Trainer(defineTraining({ ...base, model: model(), data: digits, epochs: 3 }));
    assert.equal(t.totalSteps, 33);
    assert.equal(new Trainer(defineTraining({ ...base, model: model(), data: digits, epochs: 3 }), { steps: 5 }).totalSteps, 5, 'the panel\'s steps override epochs');
    t.run();
    const r = t.result();
    assert.equal(r.steps, 33);
    assert.deepEqual(r.test, t.evaluate(digits.test));
    assert.ok(r.test!.accuracy! > 0.5 && r.test!.accuracy! <= 1, `test accuracy ${r.test!.accuracy}`);
    // early stopping: the run ends `patience` validations after the best one
    const es = new Trainer(defineTraining({ ...base, model: model(), data: digits, optimizer: optim.adam({ lr: 0.05 }), steps: 2000, logEvery: 10, earlyStopping: { patience: 3 } }));
    es.run();
    const logged = es.history.filter((h) => h.valLoss !== undefined);
    const bestAt = logged.reduce((b, h) => (h.valLoss! < b.valLoss! ? h : b));
    assert.ok(es.stepsTaken < 2000, `stopped at ${es.stepsTaken}`);
    assert.equal(es.stepsTaken, bestAt.step + 3 * 10, 'three validations without improvement after the best');
    assert.match(es.result().stoppedEarly ?? '', new RegExp(`^early stopping: the validation loss has not improved for 3 validations \\(best .* at step ${bestAt.step}\\)$`));
    es.reset();
    assert.equal(es.result().stoppedEarly, null);
    // what defineTraining refuses
    assert.throws(() => defineTraining({ ...base, model: model(), data: digits, steps: 5, epochs: 2 }), /steps or epochs, not both/);
    assert.throws(() => defineTraining({ ...base, model: model(), data: digits.train, earlyStopping: { patience: 2 } }), /earlyStopping watches the validation loss: give a validation set/);
    assert.throws(() => defineTraining({ ...base, model: model(), data: digits, earlyStopping: { patience: 0 } }), /earlyStopping.patience must be an integer from 1/);
    assert.throws(() => defineTraining({ params: [param(1)], loss: () => param(1), epochs: 2 }), /epochs count passes over the data/);
  });

  describe('train and eval mode (batch norm, dropout)', () => {
    // a model whose forward pass has state: batch norm's running statistics, dropout's generator
    const bnSpec = (withValidation: boolean) => {
      const all = data.moons({ n: 160, noise: 0.1, seed: 3 });
      const parts = data.split(all, { validation: 0.25, seed: 0 });
      const model = nn.sequential(nn.linear(2, 8, { seed: 1 }), nn.batchNorm1d(8), nn.relu(), nn.dropout(0.3, { seed: 5 }), nn.linear(8, 1, { seed: 2 })).named('net');
      return defineTraining({
        model, data: withValidation ? parts : { train: parts.train }, loss: losses.bceWithLogits,
        optimizer: optim.adam({ lr: 0.01 }), batchSize: 32, steps: 12, logEvery: 3,
      });
    };
    const bn = (t: Trainer) => (t.spec.model as nn.Sequential).layers[1] as nn.BatchNorm1d;
    const stats = (t: Trainer) => [...bn(t).runningMean.data, ...bn(t).runningVar.data];

    it('validation runs in eval mode: running statistics, no dropout, nothing updated', () => {
      const t = new Trainer(bnSpec(true));
      t.run(6);
      const before = stats(t);
      const v = t.validationLoss();
      assert.deepEqual(stats(t), before, 'validation left the running statistics alone');
      // the same loss by hand, in eval mode
      const model = t.spec.model!;
      model.eval();
      const byHand = losses.bceWithLogits(model.forward(t.validation!.x), t.validation!.y).item();
      model.train();
      assert.equal(v, byHand);
      assert.ok(model.namedModules().every(([, m]) => m.training), 'training mode is back');
    });

    it('a run with a validation set trains exactly like one without (validation changes nothing)', () => {
      const a = new Trainer(bnSpec(true));
      const b = new Trainer(bnSpec(false));
      a.run();
      b.run();
      assert.ok(a.history.some((h) => h.valLoss !== undefined));
      assert.deepEqual(a.history.map((h) => h.loss), b.history.map((h) => h.loss));
      assert.deepEqual(a.params.map((p) => Array.from(p.data)), b.params.map((p) => Array.from(p.data)));
      assert.deepEqual(stats(a), stats(b));
    });

    it('probe leaves gradients, running statistics and generators as they were; analyses run in eval mode', () => {
      const t = new Trainer(bnSpec(true));
      const u = new Trainer(bnSpec(true));
      t.run(4);
      u.run(4);
      const grads = t.params.map((p) => Array.from(p.grad!.data));
      const seen = t.probe(() => {
        assert.ok(t.params.every((p) => p.grad === null), 'gradients start cleared');
        const loss = t.peekLoss();
        loss.backward();
        return t.params.map((p) => Array.from(p.grad!.data));
      });
      assert.deepEqual(t.params.map((p) => Array.from(p.grad!.data)), grads, 'the step\'s gradients are back');
      assert.notDeepEqual(seen, grads);
      assert.ok(t.analyze(() => t.spec.model!.namedModules().every(([, m]) => !m.training)));
      t.run();
      u.run();
      assert.deepEqual(t.history.map((h) => h.loss), u.history.map((h) => h.loss), 'the probed run goes on exactly like the other');
      assert.deepEqual(stats(t), stats(u));
    });

    it('reset restores running statistics and the dropout generator, so the run replays exactly', () => {
      const t = new Trainer(bnSpec(true));
      t.run();
      const first = { losses: t.history.map((h) => h.loss), stats: stats(t) };
      t.reset();
      t.run();
      assert.deepEqual(t.history.map((h) => h.loss), first.losses);
      assert.deepEqual(stats(t), first.stats);
    });

    it('peekLoss is the loss the next step computes', () => {
      const t = new Trainer(bnSpec(false));
      t.run(5);
      const next = t.probe(() => t.peekLoss().item());
      assert.equal(t.step().loss, next);
    });
  });

  it('uses the schedule\'s learning rate at every step', () => {
    const x = param([3, -2], { dtype: 'float64' });
    const t = new Trainer(defineTraining({ params: [x], loss: () => x.pow(2).sum(), optimizer: optim.sgd({ lr: 0.1 }), schedule: optim.schedules.step({ stepSize: 2, gamma: 0.5 }), steps: 6 }));
    t.run();
    assert.deepEqual(t.history.map((h) => h.lr), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  });

  it('stops at a non-finite loss, records it and says why', () => {
    const x = param(10, { dtype: 'float64' });
    const t = new Trainer(defineTraining({ params: [x], loss: () => x.pow(2), optimizer: optim.sgd({ lr: 1e6 }), steps: 500 }));
    t.run();
    assert.ok(t.stepsTaken < 500);
    assert.match(t.stopReason ?? '', /loss became (Infinity|NaN) at step \d+/);
    assert.ok(!Number.isFinite(t.history[t.history.length - 1].loss));
    assert.ok(codes(t).includes('nonfinite'), codes(t).join());
  });
});

describe('the trajectory of a model with few parameters', () => {
  it('x² from 10 with SGD lr 0.2: the points are 10·0.6ᵗ from step 0, named after the parameter; reset keeps only the start', () => {
    const x = param(10, { dtype: 'float64' }).named('x');
    const trainer = new Trainer(defineTraining({ params: [x], loss: () => x.pow(2), optimizer: optim.sgd({ lr: 0.2 }), steps: 10 }));
    trainer.run();
    const t = trainer.result().trajectory!;
    assert.deepEqual(t.names, ['x']);
    assert.deepEqual(t.points.map((p) => p.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // x ← x − 0.2·2x = 0.6·x
    t.points.forEach((p) => assert.ok(Math.abs(p.values[0] - 10 * 0.6 ** p.step) <= 1e-12, `step ${p.step}: ${p.values[0]}`));
    trainer.reset();
    assert.deepEqual(trainer.trajectory!.points, [{ step: 0, values: [10] }]);
  });

  it('tensors are flattened with element names; the values follow the history\'s steps; more than 16 values: none', () => {
    const w = param(tensor([[1, 2], [3, 4]], { dtype: 'float64' })).named('w');
    const b = param(0.5, { dtype: 'float64' }).named('b');
    const trainer = new Trainer(defineTraining({ params: [w, b], loss: () => w.sum().mul(b), optimizer: optim.sgd({ lr: 0.1 }), steps: 3 }));
    trainer.run();
    const t = trainer.result().trajectory!;
    assert.deepEqual(t.names, ['w[0]', 'w[1]', 'w[2]', 'w[3]', 'b']);
    assert.deepEqual(t.points.map((p) => p.step), [0, ...trainer.history.map((h) => h.step)]);
    // step 1: ∂/∂w = b = 0.5, ∂/∂b = Σw = 10
    assert.deepEqual(t.points[1].values.map((v) => Math.round(v * 1e12) / 1e12), [0.95, 1.95, 2.95, 3.95, -0.5]);
    const v = param(tensor(new Array(17).fill(1)));
    const big = new Trainer(defineTraining({ params: [v], loss: () => v.sum(), optimizer: optim.sgd(), steps: 1 }));
    big.run();
    assert.equal(big.result().trajectory, undefined);
  });
});

describe('layer summaries', () => {
  it('pair each linear layer with the activation after it and summarize the real tensors', () => {
    const model = nn.sequential(nn.linear(3, 5, { seed: 1 }), nn.relu(), nn.dropout(0), nn.linear(5, 2, { seed: 2 }), nn.sigmoid()).named('m');
    const x = tensor([[1, -2, 0.5], [0.3, 0.1, -1], [2, 2, 2], [-1, 0, 1]]);
    const rec = new LayerRecorder();
    const out = rec.record(() => model.forward(x));
    out.sum().backward();
    const layers: LayerStats[] = rec.summarize();
    assert.deepEqual(layers.map((l) => [l.name, l.type, l.depth, l.activation]), [['m.layers.0', 'linear', 0, 'relu'], ['m.layers.3', 'linear', 1, 'sigmoid']]);
    const w = model.parameters()[0];
    assert.equal(layers[0].weight!.count, 15);
    assert.ok(Math.abs(layers[0].weight!.mean! - Array.from(w.data).reduce((a, b) => a + b, 0) / 15) < 1e-7);
    const grads = model.parameters().slice(0, 2).flatMap((p) => Array.from(p.grad!.data, Math.abs));
    assert.ok(Math.abs(layers[0].gradMeanAbs! - grads.reduce((a, b) => a + b, 0) / grads.length) < 1e-9);
    assert.equal(layers[0].gradMaxAbs, Math.max(...grads));
    // the second layer's output is the sigmoid output: the network's output
    assert.ok(Math.abs(layers[1].output!.mean! - Array.from(out.data).reduce((a, b) => a + b, 0) / out.size) < 1e-7);
    assert.ok(layers[1].saturated !== null && layers[0].dead !== null && layers[1].dead === null);
  });

  it('deadFraction counts units that are 0 for every row', () => {
    assert.equal(deadFraction(tensor([[0, 1, 0], [0, 0, 0], [0, 2, 0]])), 2 / 3);
    assert.equal(deadFraction(tensor([[0, 1], [3, 0]])), 0);
  });
});

describe('diagnosis', () => {
  it('deep sigmoid with small init: vanishing gradients, naming the first layer, suggesting ReLU', () => {
    const t = new Trainer(deepSpec({ depth: 6, activation: 'sigmoid', init: 'normal', steps: 3 }));
    t.run();
    const f = t.findings.find((x) => x.code === 'vanishing-gradient');
    assert.ok(f, codes(t).join());
    assert.equal(f.layer, 'net.layers.0');
    assert.equal(f.step, 3);
    assert.ok(f.fixes.some((x) => x.id === 'use-relu'));
    const l = t.layerHistory[t.layerHistory.length - 1].layers;
    assert.ok(l[0].gradMeanAbs! < THRESHOLDS.vanishingRatio * l[l.length - 1].gradMeanAbs!);
  });

  it('deep tanh with small init: activations collapse with depth', () => {
    const t = new Trainer(deepSpec({ depth: 5, activation: 'tanh', init: 'normal', steps: 1 }));
    t.run();
    assert.ok(codes(t).includes('activation-collapse'), codes(t).join());
    assert.ok(codes(t).includes('vanishing-gradient'), codes(t).join());
  });

  it('large init: saturated tanh units; ReLU layers with exploding gradients; a huge learning rate diverges', () => {
    const big = (shape: number[], o: { seed?: number }) => init.normal(shape, { ...o, std: 4 });
    const sat = new Trainer(deepSpec({ depth: 4, activation: 'tanh', init: big, steps: 1 }));
    sat.run();
    assert.ok(codes(sat).includes('saturated'), codes(sat).join());
    const boom = new Trainer(deepSpec({ depth: 4, activation: 'relu', init: big, steps: 1 }));
    boom.run();
    assert.ok(codes(boom).includes('exploding-gradient'), codes(boom).join());
    const d = new Trainer(deepSpec({ depth: 2, activation: 'relu', init: 'he', lr: 40, steps: 30 }));
    d.run();
    assert.ok(codes(d).some((c) => c === 'loss-diverging' || c === 'nonfinite'), codes(d).join());
  });

  it('dead ReLUs: a large negative bias kills the units', () => {
    const model = nn.sequential(nn.linear(2, 8, { init: 'he', seed: 1 }), nn.relu(), nn.linear(8, 1, { seed: 2 }));
    const bias = model.parameters()[1];
    bias.data.fill(-50);
    const t = new Trainer(defineTraining({ model, data: data.moons({ n: 64, seed: 0 }), loss: losses.bceWithLogits, steps: 1 }));
    t.run();
    const f = t.findings.find((x) => x.code === 'dead-relu');
    assert.ok(f, codes(t).join());
    assert.match(f.message, /100% of the ReLU units/);
  });

  it('healthy: He init + ReLU on standardized moons has no warnings', () => {
    const t = new Trainer(deepSpec({ depth: 3, activation: 'relu', init: 'he', steps: 40, optimizer: 'adam' }));
    t.run();
    assert.deepEqual(t.findings.filter((f) => f.severity !== 'info').map((f) => f.message), []);
  });

  it('flags badly scaled inputs unless standardized', () => {
    const ds = data.blobs({ n: 60, centers: [[100, 0], [120, 1]], std: 30, seed: 1 });
    const spec = { model: nn.sequential(nn.linear(2, 4, { seed: 1 }), nn.relu(), nn.linear(4, 1, { seed: 2 })), data: ds, loss: losses.bceWithLogits, optimizer: optim.sgd({ lr: 1e-4 }), steps: 1 };
    const raw = new Trainer(defineTraining(spec));
    raw.run();
    assert.ok(codes(raw).includes('input-scale'), codes(raw).join());
    const std = new Trainer(defineTraining({ ...spec, standardize: true }));
    std.run();
    assert.ok(!codes(std).includes('input-scale'));
  });

  it('rules on hand-made summaries: thresholds are where the README says', () => {
    const layer = (name: string, g: number, std = 1, activation: string | null = 'relu'): LayerStats => ({
      name, type: 'linear', depth: 0, activation, weight: null, weightGrad: null, gradMeanAbs: g, gradMaxAbs: g,
      output: { std, nan: 0, inf: 0 } as never, outputGrad: null, dead: 0, saturated: 0, source: null,
    });
    const just = (ratio: number) => diagnose({ layers: [layer('a', ratio), layer('b', 1), layer('c', 1)] }).map((f) => f.code);
    assert.ok(just(THRESHOLDS.vanishingRatio * 0.9).includes('vanishing-gradient'));
    assert.ok(!just(THRESHOLDS.vanishingRatio * 1.1).includes('vanishing-gradient'));
    assert.ok(just(THRESHOLDS.explodingRatio * 1.1).includes('exploding-gradient'));
    assert.ok(!just(THRESHOLDS.explodingRatio * 0.9).includes('exploding-gradient'));
    const losses = (xs: number[]) => diagnose({ layers: [], losses: xs }).map((f) => f.code);
    assert.ok(losses([1, 0.5, 0.4, 1.2]).includes('loss-diverging'));
    assert.ok(!losses([1, 0.5, 0.4, 0.7]).includes('loss-diverging'), 'above 2× the best but below the start');
    assert.ok(losses([1, 0.5, NaN]).includes('nonfinite'));
  });
});
