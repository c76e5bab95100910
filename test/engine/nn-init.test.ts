import assert from 'node:assert/strict';
import { Rng, init, manualSeed, nn, noGrad, param, rand, randn, summarize, tensor, type Tensor } from '../../engine/index';
import { maxRelDiff } from './helpers';

class MLP extends nn.Module {
  layers = [nn.linear(4, 8, { seed: 1 }), nn.linear(8, 3, { seed: 2 })];
  act = nn.relu();
  forward(x: Tensor): Tensor {
    return this.layers[1].forward(this.act.forward(this.layers[0].forward(x)));
  }
}

describe('nn.Module', () => {
  it('names parameters by field path and tags ops with the module scope', () => {
    const mlp = new MLP();
    assert.deepEqual(mlp.namedParameters().map(([n]) => n), ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']);
    assert.equal(mlp.numParameters(), 4 * 8 + 8 + 8 * 3 + 3);
    const out = mlp.forward(randn([2, 4], { seed: 0 }));
    assert.equal(out.scope, 'mlp.layers.1');
    assert.equal(out.group?.name, 'linear');
    const hidden = out.inputs[0].inputs[0];
    assert.equal(hidden.op, 'relu');
    assert.equal(hidden.scope, 'mlp.act');
    assert.equal(mlp.layers[0].weight.scope, 'mlp.layers.0');
    assert.equal(mlp.layers[0].weight.name, 'weight');
  });

  it('a named root module and user-named parameters keep their names', () => {
    const seq = nn.sequential(nn.linear(2, 2, { seed: 0 }), nn.tanh()).named('net');
    (seq.layers[0] as nn.Linear).weight.named('W1');
    const y = seq.forward(tensor([[1, 2]]));
    assert.equal(y.scope, 'net.layers.1');
    assert.equal((seq.layers[0] as nn.Linear).weight.name, 'W1');
  });

  it('linear computes x·Wᵀ + b', () => {
    const lin = nn.linear(3, 2, { seed: 5, dtype: 'float64' });
    const x = tensor([[1, -2, 0.5]], { dtype: 'float64' });
    const y = lin.forward(x);
    const w = lin.weight.tolist() as number[][];
    const b = lin.bias!.data;
    const expected = w.map((row, o) => row[0] * 1 + row[1] * -2 + row[2] * 0.5 + b[o]);
    assert.ok(maxRelDiff(y.data, expected) < 1e-14);
  });

  it('train() and eval() switch every submodule', () => {
    const m = nn.sequential(nn.linear(2, 2), nn.dropout(0.5), nn.batchNorm1d(2));
    m.eval();
    assert.ok(m.namedModules().every(([, sub]) => !sub.training));
    m.train();
    assert.ok(m.namedModules().every(([, sub]) => sub.training));
  });

  it('zeroGrad clears parameter gradients', () => {
    const m = new MLP();
    m.forward(randn([3, 4], { seed: 1 })).sum().backward();
    assert.ok(m.parameters().every((p) => p.grad !== null));
    m.zeroGrad();
    assert.ok(m.parameters().every((p) => p.grad === null));
  });
});

describe('nn.batchNorm1d', () => {
  it('normalizes with batch statistics in training and updates running statistics', () => {
    const bn = nn.batchNorm1d(2, { momentum: 0.1, dtype: 'float64' });
    const x = tensor([[1, 10], [3, 20], [5, 60]], { dtype: 'float64' });
    const y = bn.forward(x);
    for (let c = 0; c < 2; c++) {
      const col = [0, 1, 2].map((r) => x.data[r * 2 + c]);
      const mean = col.reduce((a, b) => a + b) / 3;
      const varB = col.reduce((a, v) => a + (v - mean) ** 2, 0) / 3;
      const varU = (varB * 3) / 2;
      col.forEach((v, r) => assert.ok(Math.abs(y.data[r * 2 + c] - (v - mean) / Math.sqrt(varB + 1e-5)) < 1e-12));
      assert.ok(Math.abs(bn.runningMean.data[c] - 0.1 * mean) < 1e-12);
      assert.ok(Math.abs(bn.runningVar.data[c] - (0.9 + 0.1 * varU)) < 1e-12);
    }
  });

  it('uses running statistics in eval mode', () => {
    const bn = nn.batchNorm1d(1, { dtype: 'float64' });
    bn.runningMean = tensor([2], { dtype: 'float64' });
    bn.runningVar = tensor([4], { dtype: 'float64' });
    bn.eval();
    const y = bn.forward(tensor([[6]], { dtype: 'float64' }));
    assert.ok(Math.abs(y.item() - 4 / Math.sqrt(4 + 1e-5)) < 1e-12);
  });
});

describe('nn.dropout', () => {
  it('is seeded, scales kept units by 1/(1−p) and is the identity in eval mode', () => {
    const x = tensor(new Float32Array(1000).fill(1), { shape: [10, 100] });
    const a = nn.dropout(0.3, { seed: 4 }).forward(x);
    const b = nn.dropout(0.3, { seed: 4 }).forward(x);
    assert.deepEqual(Array.from(a.data), Array.from(b.data));
    const kept = Array.from(a.data).filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6));
    assert.ok(Math.abs(kept.length / 1000 - 0.7) < 0.05, `kept ${kept.length} of 1000`);
    const d = nn.dropout(0.3, { seed: 4 }).eval();
    assert.equal(d.forward(x), x);
  });
});

describe('init and random tensors', () => {
  it('the same seed gives the same numbers; different seeds differ', () => {
    assert.deepEqual(Array.from(randn([50], { seed: 9 }).data), Array.from(randn([50], { seed: 9 }).data));
    assert.notDeepEqual(Array.from(randn([50], { seed: 9 }).data), Array.from(randn([50], { seed: 10 }).data));
    manualSeed(3);
    const first = Array.from(rand([20]).data);
    manualSeed(3);
    assert.deepEqual(Array.from(rand([20]).data), first);
  });

  it('the generator is uniform and normal in distribution', () => {
    const rng = new Rng(123);
    const u = Array.from({ length: 20000 }, () => rng.uniform());
    const mean = u.reduce((a, b) => a + b) / u.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01);
    assert.ok(u.every((v) => v >= 0 && v < 1));
    const s = summarize(randn([20000], { seed: 1, dtype: 'float64' }));
    assert.ok(Math.abs(s.mean!) < 0.03 && Math.abs(s.std! - 1) < 0.03, `mean ${s.mean}, std ${s.std}`);
  });

  const cases: [string, () => Tensor, number][] = [
    // [name, draw, expected std] for a [400, 300] weight (fanOut 400, fanIn 300)
    ['kaimingNormal (relu, fanIn)', () => init.kaimingNormal([400, 300], { seed: 1 }), Math.sqrt(2 / 300)],
    ['kaimingUniform (tanh, fanOut)', () => init.kaimingUniform([400, 300], { seed: 1, nonlinearity: 'tanh', mode: 'fanOut' }), 5 / 3 / Math.sqrt(400)],
    ['xavierNormal', () => init.xavierNormal([400, 300], { seed: 1 }), Math.sqrt(2 / 700)],
    ['xavierUniform (gain 2)', () => init.xavierUniform([400, 300], { seed: 1, gain: 2 }), 2 * Math.sqrt(2 / 700)],
    ['lecunNormal', () => init.lecunNormal([400, 300], { seed: 1 }), Math.sqrt(1 / 300)],
    ['lecunUniform', () => init.lecunUniform([400, 300], { seed: 1 }), Math.sqrt(1 / 300)],
    ['heNormal (leakyRelu a=0.2)', () => init.heNormal([400, 300], { seed: 1, nonlinearity: 'leakyRelu', a: 0.2 }), Math.sqrt(2 / 1.04) / Math.sqrt(300)],
    ['normal(std 0.5)', () => init.normal([400, 300], { seed: 1, std: 0.5 }), 0.5],
  ];
  for (const [name, draw, std] of cases) {
    it(`${name} has the documented spread`, () => {
      const s = summarize(draw());
      assert.ok(Math.abs(s.std! / std - 1) < 0.02, `std ${s.std} vs ${std}`);
      assert.ok(Math.abs(s.mean!) < 0.05 * std);
    });
  }

  it('uniform initializers stay inside their bound', () => {
    const w = init.xavierUniform([50, 30], { seed: 2 });
    const bound = Math.sqrt(6 / 80);
    assert.ok(Array.from(w.data).every((v) => Math.abs(v) <= bound));
    assert.deepEqual(Array.from(init.constant([3], 0.5).data), [0.5, 0.5, 0.5]);
  });

  it('nn.linear init options use the right initializer', () => {
    const he = nn.linear(300, 400, { init: 'he', seed: 1 });
    assert.ok(Math.abs(summarize(he.weight).std! / Math.sqrt(2 / 300) - 1) < 0.02);
    assert.ok(Array.from(he.bias!.data).every((v) => v === 0));
    const dflt = nn.linear(300, 400, { seed: 1 });
    assert.ok(Array.from(dflt.weight.data).every((v) => Math.abs(v) <= 1 / Math.sqrt(300)));
  });
});

describe('parameters and noGrad in a manual SGD loop', () => {
  it('loss decreases on a tiny regression', () => {
    const w = param([0], { dtype: 'float64' });
    const xs = tensor([1, 2, 3], { dtype: 'float64' });
    const ys = tensor([2, 4, 6], { dtype: 'float64' });
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      const loss = xs.mul(w).sub(ys).square().mean();
      losses.push(loss.item());
      w.zeroGrad();
      loss.backward();
      noGrad(() => (w.data[0] -= 0.05 * w.grad!.item()));
    }
    assert.ok(losses[19] < losses[0] * 1e-3);
    assert.ok(Math.abs(w.item() - 2) < 0.01);
  });
});
