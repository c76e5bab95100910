/**
 * The diagnosis's blind spots: symmetric units (a zero or constant init), a stuck loss, fixes that
 * match the layer's activation and leave out what the run already does; and the healthy examples,
 * trained to the end, with no finding at all.
 */
import * as assert from 'node:assert/strict';
import { Trainer, data, defineTraining, diagnose, losses, nn, optim, THRESHOLDS, type LayerStats, type TrainingSpec } from '../../engine/index';
import { largestIdenticalGroup, unitsOf } from '../../engine/stats/symmetry';
import { chanceLossOf } from '../../engine/train/trainer';
import { LayerRecorder } from '../../engine/stats/layers';
import { init, noGrad, param, randn, type Tensor } from '../../engine/index';

const codes = (t: Trainer) => t.findings.map((f) => f.code);

/** A 2-8-1 network on the moons whose layers start with `init`. */
function smallNet(init: nn.Initializer, act: 'relu' | 'tanh' | 'sigmoid', opts: { lr?: number; steps?: number } = {}) {
  const a = act === 'relu' ? nn.relu() : act === 'tanh' ? nn.tanh() : nn.sigmoid();
  return defineTraining({
    model: nn.sequential(nn.linear(2, 8, { init, seed: 1 }), a, nn.linear(8, 1, { init, seed: 2 })).named('net'),
    data: data.moons({ n: 200, noise: 0.1, seed: 0 }),
    loss: losses.bceWithLogits,
    optimizer: optim.sgd({ lr: opts.lr ?? 0.5 }),
    batchSize: 50,
    steps: opts.steps ?? 200,
  });
}

describe('symmetric units', () => {
  it('counts the largest group of identical rows (or columns), weights and gradients both', () => {
    const w = [1, 2, 1, 2, 3, 4, 1, 2]; // rows [1,2] ×3 and [3,4]
    assert.equal(largestIdenticalGroup(unitsOf(w, [4, 2], 0), null), 3);
    // the gradients of rows 0 and 2 differ from row 3's: only rows 0 and 2 stay together
    const g = [5, 5, 5, 5, 0, 0, 9, 9];
    assert.equal(largestIdenticalGroup(unitsOf(w, [4, 2], 0), unitsOf(g, [4, 2], 0)), 2);
    // x·W with W [in 2, out 3]: units are columns; columns 0 and 2 are (1, 4)
    assert.equal(largestIdenticalGroup(unitsOf([1, 7, 1, 4, 8, 4], [2, 3], 1), null), 2);
    assert.equal(largestIdenticalGroup(unitsOf([1, 7, 2, 4, 8, 4], [2, 3], 1), null), 1);
    // all zero: every unit is the same; one unit or a vector: nothing to compare
    assert.equal(largestIdenticalGroup(unitsOf(new Float32Array(12), [3, 4], 0), null), 3);
    assert.equal(largestIdenticalGroup(unitsOf([1, 2], [1, 2], 0), null), null);
    assert.equal(unitsOf([1, 2], [2], 0), null);
    // within the tolerance relative to the norm, and just outside it
    const t = THRESHOLDS.symmetryTolerance;
    assert.equal(largestIdenticalGroup(unitsOf([1000, 0, 1000 + 0.5 * t * 1000, 0], [2, 2], 0), null), 2);
    assert.equal(largestIdenticalGroup(unitsOf([1000, 0, 1000 + 2 * t * 1000, 0], [2, 2], 0), null), 1);
  });

  for (const [act, init] of [['tanh', 'xavier-init'], ['relu', 'he-init'], ['sigmoid', 'xavier-init']] as const) {
    it(`a zero-initialized ${act} network: all units of its hidden layer are one, the loss sits at ln 2; fixes: random init, ${init}`, () => {
      const t = new Trainer(smallNet('zeros', act));
      t.run();
      const sym = t.findings.find((f) => f.code === 'symmetric-units');
      assert.ok(sym, codes(t).join());
      assert.equal(sym.layer, 'net.layers.0');
      assert.match(sym.message, /All 8 units of net\.layers\.0 have identical weights and gradients/);
      assert.deepEqual(sym.fixes.map((f) => f.id), ['random-init', init]);
      // the hidden weights really are one row repeated
      const w = t.params[0].data;
      for (let u = 1; u < 8; u++) assert.deepEqual([w[2 * u], w[2 * u + 1]], [w[0], w[1]]);
      const plateau = t.findings.find((f) => f.code === 'loss-plateau');
      assert.ok(plateau, codes(t).join());
      assert.match(plateau.message, /chance level is 0\.693/);
      assert.equal(plateau.fixes[0].id, 'random-init');
    });
  }

  it('a random init (the default) has no identical units', () => {
    const t = new Trainer(smallNet('default', 'tanh', { steps: 20 }));
    t.run();
    assert.ok(!codes(t).includes('symmetric-units'), codes(t).join());
    assert.ok(t.layerHistory.every((h) => h.layers.every((l) => l.identicalUnits === null || l.identicalUnits === 1)));
  });

  it('a zero-initialized first layer under a random output layer is not symmetric: its gradients differ, so its rows part at once', () => {
    const spec = smallNet('default', 'tanh', { steps: 3 });
    const first = spec.model!.parameters()[0];
    first.data.fill(0);
    const t = new Trainer(spec);
    t.run();
    assert.ok(!codes(t).includes('symmetric-units'), codes(t).join());
    const w = t.params[0].data;
    assert.notEqual(w[0], w[2]);
  });
});

describe('layers written with tensors', () => {
  /** Six tanh layers x·W (+ b) with small weights: activations collapse layer after layer. */
  const deepTanh = (weight: (i: number) => Tensor, bias: boolean) => () => {
    let h = randn([16, 24], { seed: 1 });
    for (let i = 0; i < 6; i++) {
      const z = h.matmul(weight(i));
      h = (bias ? z.add(param(init.zeros([24]))) : z).tanh();
    }
    return h.mul(h).mean();
  };
  const record = (fn: () => Tensor) => {
    const rec = new LayerRecorder();
    const out = rec.record(fn);
    if (out.requiresGrad) out.backward();
    return { out, layers: rec.summarize() };
  };

  it('param + matmul + activation is a layer: its output, activation, units (columns of W in x·W) and gradients', () => {
    const Ws: Tensor[] = [];
    const { layers } = record(deepTanh((i) => {
      Ws[i] = param(init.normal([24, 24], { std: 0.05, seed: 10 + i })).named(`W${i}`);
      return Ws[i];
    }, true));
    assert.deepEqual(layers.map((l) => [l.name, l.type, l.activation, l.units]), Array.from({ length: 6 }, (_, i) => [`W${i}`, 'matmul', 'tanh', 24]));
    const g = Array.from(Ws[0].grad!.data, Math.abs);
    // the layer's parameters are W0 and its bias: the bias gradient joins the mean
    assert.ok(layers[0].gradMaxAbs! >= Math.max(...g));
    assert.ok(layers.every((l, i) => i === 0 || l.output!.std! < layers[i - 1].output!.std!), 'activations shrink with depth');
    const codes = diagnose({ layers }).map((f) => f.code);
    assert.ok(codes.includes('activation-collapse'), codes.join());
  });

  it('activation collapse is found when nothing requires grad: weights as plain tensors, or nn layers under noGrad', () => {
    const plain = record(deepTanh((i) => init.normal([24, 24], { std: 0.05, seed: 10 + i }), false));
    assert.equal(plain.out.requiresGrad, false);
    assert.deepEqual(plain.layers.map((l) => [l.type, l.activation, l.gradMeanAbs]), Array(6).fill(['matmul', 'tanh', null]));
    assert.ok(diagnose({ layers: plain.layers }).some((f) => f.code === 'activation-collapse'));
    const small = (s: number[], o: { seed?: number }) => init.normal(s, { ...o, std: 0.05 });
    const nnNoGrad = record(() => noGrad(() => {
      let h = randn([16, 24], { seed: 1 });
      for (let i = 0; i < 6; i++) h = nn.linear(24, 24, { init: small, seed: 10 + i }).forward(h).tanh(); // tanh as a method
      return h.mean();
    }));
    assert.deepEqual(nnNoGrad.layers.map((l) => [l.type, l.activation]), Array(6).fill(['linear', 'tanh']));
    assert.ok(diagnose({ layers: nnNoGrad.layers }).some((f) => f.code === 'activation-collapse'));
  });

  it('dead and symmetric raw layers: a zero W before a ReLU', () => {
    const W1 = param(init.zeros([4, 8])).named('W1');
    const W2 = param(init.normal([8, 1], { seed: 3 })).named('W2');
    const { layers } = record(() => randn([16, 4], { seed: 1 }).matmul(W1).relu().matmul(W2).mean());
    assert.deepEqual(layers.map((l) => [l.name, l.activation, l.dead, l.identicalUnits]), [['W1', 'relu', 1, 8], ['W2', null, null, null]]);
    const codes = diagnose({ layers }).map((f) => `${f.code}@${f.layer}`);
    assert.deepEqual(codes.sort(), ['dead-relu@W1', 'symmetric-units@W1']);
  });

  it('a module\'s own matmul is not a second layer; a training run on raw parameters names them', () => {
    const model = nn.sequential(nn.linear(3, 4, { seed: 1 }), nn.relu(), nn.linear(4, 1, { seed: 2 }));
    const { layers } = record(() => model.forward(randn([5, 3], { seed: 1 })).mean());
    assert.deepEqual(layers.map((l) => [l.type, l.activation]), [['linear', 'relu'], ['linear', null]]);
    const W1 = param(init.normal([2, 8], { seed: 1 })).named('W1'), b1 = param(init.zeros([8])).named('b1');
    const W2 = param(init.normal([8, 1], { seed: 2 })).named('W2');
    const t = new Trainer(defineTraining({
      params: [W1, b1, W2], data: data.moons({ n: 64, seed: 0 }),
      loss: (x: Tensor, y: Tensor) => losses.bceWithLogits(x.matmul(W1).add(b1).tanh().matmul(W2), y),
      optimizer: optim.sgd({ lr: 0.1 }), steps: 2,
    }));
    t.run();
    assert.deepEqual(t.layerHistory[1].layers.map((l) => [l.name, l.type, l.activation, typeof l.updateRatio]), [['W1', 'matmul', 'tanh', 'number'], ['W2', 'matmul', null, 'number']]);
  });
});

describe('loss plateau', () => {
  const plateau = (xs: number[], chanceLoss: number | null = null) => diagnose({ layers: [], losses: xs, chanceLoss }).some((f) => f.code === 'loss-plateau');
  const n = THRESHOLDS.plateauWindow;

  it('flat at the start or at chance level: a plateau; flat after falling: converged', () => {
    assert.ok(plateau(Array(n).fill(Math.LN2)));
    // falls from 5 (a bad init) to chance and stays there
    assert.ok(plateau([5, 3, ...Array(n).fill(Math.LN2)], Math.LN2));
    assert.ok(!plateau([5, 3, ...Array(n).fill(Math.LN2)], null), 'no chance level known: it fell from 5, so it converged');
    assert.ok(!plateau([0.7, 0.5, 0.3, ...Array(n).fill(0.05)], Math.LN2));
    // a run that starts from trained weights: flat from the start, but far below chance
    assert.ok(!plateau(Array(n).fill(0.1), Math.LN2));
    // not enough logged steps yet
    assert.ok(!plateau(Array(n - 1).fill(Math.LN2)));
    // zero or negative losses are other objectives
    assert.ok(!plateau(Array(n).fill(0)));
    assert.ok(!plateau(Array(n).fill(-1)));
  });

  it('the change threshold: the second half of the window against the first', () => {
    const c = THRESHOLDS.plateauChange;
    const window = (drop: number) => [...Array(n / 2).fill(1), ...Array(n / 2).fill(1 - drop)];
    // the window's mean is 1 − drop/2; the halves differ by drop
    assert.ok(plateau(window(c * 0.9)));
    assert.ok(!plateau(window(c * 1.1)));
    // minibatch noise around a constant level averages out in the halves
    const wiggle = [0.05, -0.05, 0.03, -0.03, 0];
    const noisy = Array.from({ length: n }, (_, i) => Math.LN2 * (1 + wiggle[i % wiggle.length]));
    assert.ok(plateau(noisy));
  });

  it('a learning rate too small to move the loss is a plateau; suggested: raise it', () => {
    const t = new Trainer(smallNet('default', 'tanh', { lr: 1e-5, steps: 100 }));
    t.run();
    const f = t.findings.find((x) => x.code === 'loss-plateau');
    assert.ok(f, codes(t).join());
    assert.equal(f.fixes[0].id, 'higher-lr');
  });

  it('chance level: the entropy of the label frequencies for cross-entropy, the targets\' variance for mse', () => {
    const binary = data.fromArrays([[0], [1], [2], [3]], [0, 1, 1, 1], { task: 'binary' });
    const h = -(0.25 * Math.log(0.25) + 0.75 * Math.log(0.75));
    assert.ok(Math.abs(chanceLossOf(binary, losses.bceWithLogits)! - h) < 1e-12);
    assert.equal(chanceLossOf(binary, losses.l1), null);
    const regression = data.fromArrays([[0], [1], [2], [3]], [[1, 10], [3, 10], [1, 10], [3, 10]]);
    assert.equal(chanceLossOf(regression, losses.mse), (1 + 0) / 2, 'variances 1 and 0, averaged over the outputs');
    const digits = data.digits({ split: 'train' });
    const counts = new Map<number, number>();
    for (const y of digits.y.data) counts.set(y, (counts.get(y) ?? 0) + 1);
    const expected = [...counts.values()].reduce((s, c) => s - (c / digits.size) * Math.log(c / digits.size), 0);
    assert.ok(Math.abs(chanceLossOf(digits, losses.softmaxCrossEntropy)! - expected) < 1e-12);
    assert.ok(Math.abs(expected - Math.log(10)) < 0.01, 'ten classes, nearly balanced');
  });
});

describe('update/weight ratio', () => {
  it('is ‖Δw‖/‖w‖ of each layer\'s weight over the logged step\'s update, computed from the weights themselves', () => {
    const t = new Trainer(smallNet('default', 'tanh', { steps: 12 }), { logEvery: 4 });
    const weights = [t.params[0], t.params[2]];
    for (let s = 0; s < 12; s++) {
      const before = weights.map((w) => Array.from(w.data));
      t.step();
      const logged = t.layerHistory[t.layerHistory.length - 1];
      if (logged.step !== s + 1) continue;
      weights.forEach((w, i) => {
        let d = 0, n = 0;
        w.data.forEach((v, k) => { d += (v - before[i][k]) ** 2; n += before[i][k] ** 2; });
        const expected = Math.sqrt(d) / Math.sqrt(n);
        assert.ok(Math.abs(logged.layers[i].updateRatio! - expected) <= 1e-9 * expected, `step ${s + 1} layer ${i}: ${logged.layers[i].updateRatio} vs ${expected}`);
      });
    }
    assert.deepEqual(t.layerHistory.map((h) => h.step), [1, 4, 8, 12]);
  });

  const layer = (name: string, updateRatio: number, type = 'linear'): LayerStats => ({
    name, type, depth: 0, activation: 'relu', weight: null, weightGrad: null, gradMeanAbs: 1, gradMaxAbs: 1,
    output: null, outputGrad: null, dead: 0, saturated: 0, source: null, updateRatio,
  });
  const found = (...ls: LayerStats[]) => diagnose({ layers: ls }).filter((f) => f.code === 'update-ratio').map((f) => f.layer);

  it('a finding above the high threshold (unstable) or, while other layers move, below the low one (not learning)', () => {
    const { updateRatioHigh: high, updateRatioLow: low, updateRatioSpread: spread } = THRESHOLDS;
    assert.deepEqual(found(layer('a', high * 1.1), layer('b', 1e-3)), ['a']);
    assert.deepEqual(found(layer('a', high * 0.9), layer('b', 1e-3)), []);
    assert.deepEqual(found(layer('a', low * 0.9), layer('b', low * spread)), ['a']);
    assert.deepEqual(found(layer('a', low * 1.1), layer('b', 1e-3)), []);
    // every layer still (a schedule decayed to 0, a converged run): not one layer's problem
    assert.deepEqual(found(layer('a', 0), layer('b', low * spread * 0.9)), []);
    // bare parameters of an objective are not layers
    assert.deepEqual(found(layer('x', 0.9, 'param')), []);
    const f = diagnose({ layers: [layer('a', 2), layer('b', 1e-3)] }).find((x) => x.code === 'update-ratio')!;
    assert.match(f.message, /moves the weights of a by 2 of their size/);
    assert.deepEqual(f.fixes.map((x) => x.id), ['lower-lr', 'clip-gradients']);
  });

  it('the vanishing example: its first layer does not learn', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const t = new Trainer(require('../../examples/09-deep-sigmoid-vanishing').default as TrainingSpec, { steps: 20 });
    t.run();
    const f = t.findings.find((x) => x.code === 'update-ratio');
    assert.ok(f, codes(t).join());
    assert.equal(f.layer, 'deep.layers.0');
    assert.match(f.message, /this layer is not learning/);
  });
});

describe('fixes', () => {
  const layer = (name: string, o: Partial<LayerStats>): LayerStats => ({
    name, type: 'linear', depth: 0, activation: 'relu', weight: null, weightGrad: null, gradMeanAbs: 1, gradMaxAbs: 1,
    output: null, outputGrad: null, dead: 0, saturated: 0, source: null, ...o,
  });

  it('match the activation: He for ReLU layers, Xavier for sigmoid/tanh; switching to ReLU comes with He init', () => {
    const relu = diagnose({ layers: [layer('a', { gradMaxAbs: 5000 }), layer('b', {}), layer('c', { activation: null })] });
    assert.deepEqual(relu.find((f) => f.code === 'exploding-gradient')!.fixes.map((f) => f.id), ['clip-gradients', 'lower-lr', 'he-init']);
    const tanh = diagnose({ layers: [layer('a', { gradMaxAbs: 5000, activation: 'tanh' }), layer('b', { activation: 'tanh' }), layer('c', { activation: null })] });
    assert.deepEqual(tanh.find((f) => f.code === 'exploding-gradient')!.fixes.map((f) => f.id), ['clip-gradients', 'lower-lr', 'xavier-init']);
    const vanish = diagnose({ layers: [layer('a', { gradMeanAbs: 1e-5, activation: 'sigmoid' }), layer('b', { activation: 'sigmoid' }), layer('c', { activation: null })] });
    const f = vanish.find((x) => x.code === 'vanishing-gradient')!;
    assert.deepEqual(f.fixes.map((x) => x.id), ['use-relu', 'xavier-init', 'batch-norm']);
    assert.match(f.fixes[0].title, /ReLU with He init/);
  });

  it('leave out what the run already does: the same init, standardized inputs, clipping, batch norm, leakyRelu', () => {
    const he = (o: Partial<LayerStats> = {}) => layer('a', { init: 'he', ...o });
    const dead = diagnose({ layers: [he({ dead: 0.9 })] }).find((f) => f.code === 'dead-relu')!;
    assert.deepEqual(dead.fixes.map((f) => f.id), ['lower-lr', 'leaky-relu'], 'He init is already there');
    const leaky = diagnose({ layers: [he({ dead: 0.9, activation: 'leakyRelu' })] }).find((f) => f.code === 'dead-relu')!;
    assert.deepEqual(leaky.fixes.map((f) => f.id), ['lower-lr']);
    const sat = (settings: { standardized?: boolean }, init: string) => diagnose({ layers: [layer('a', { saturated: 0.9, activation: 'tanh', init })], settings }).find((f) => f.code === 'saturated')!.fixes.map((f) => f.id);
    assert.deepEqual(sat({}, 'default'), ['xavier-init', 'normalize-inputs', 'use-relu', 'batch-norm']);
    assert.deepEqual(sat({ standardized: true }, 'xavier'), ['use-relu', 'batch-norm']);
    const nan = (clipping: boolean) => diagnose({ layers: [], losses: [1, NaN], settings: { clipping } }).find((f) => f.code === 'nonfinite')!.fixes.map((f) => f.id);
    assert.deepEqual(nan(false), ['lower-lr', 'clip-gradients', 'normalize-inputs']);
    assert.deepEqual(nan(true), ['lower-lr', 'normalize-inputs']);
    const bn = diagnose({ layers: [layer('a', { gradMeanAbs: 1e-5 }), { ...layer('n', {}), type: 'batchNorm1d', gradMeanAbs: 1 }, layer('b', {}), layer('c', { activation: null })] });
    assert.deepEqual(bn.find((f) => f.code === 'vanishing-gradient')!.fixes.map((f) => f.id), ['he-init']);
  });

  it('the trainer tells the diagnosis what the file already does (init, standardize, clipNorm)', () => {
    const spec = { ...smallNet('zeros', 'relu', { steps: 1 }), standardize: true, optimizer: optim.sgd({ lr: 0.5, clipNorm: 1 }) } as TrainingSpec;
    const t = new Trainer(spec);
    assert.deepEqual(t.settings, { standardized: true, clipping: true });
    t.run();
    assert.equal(t.layerHistory[0].layers[0].init, 'zeros');
  });
});

describe('healthy runs have no findings', function () {
  this.timeout(120000);
  // each example trained to its last step, as `backprop-lens train FILE` does
  for (const file of ['08-moons-mlp', '10-xor-train', '15-digits-cnn']) {
    it(`examples/${file}.ts`, () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const spec = require(`../../examples/${file}`).default as TrainingSpec;
      const t = new Trainer(spec);
      t.run();
      assert.ok(t.history[t.history.length - 1].loss < 0.5 * t.history[0].loss, 'it learned');
      assert.deepEqual(t.findings.map((f) => `${f.code}: ${f.message}`), []);
    });
  }
});
