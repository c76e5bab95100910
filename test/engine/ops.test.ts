import assert from 'node:assert/strict';
import { OPS, Rng, gradcheck, losses, nn, param, scalar, tensor, type Tensor } from '../../engine/index';
import * as F from '../../engine/ops/functional';
import { NONDIFFERENTIABLE, OP_ROWS } from './op-table';
import { c64, values } from './helpers';
import { unary } from '../../engine/ops/registry';

const TRIALS = 8;

describe('every op: gradient against centered finite differences (float64, random shapes)', () => {
  for (const [rowIndex, row] of OP_ROWS.entries()) {
    it(`${row.op}${row.title ? ` (${row.title})` : ''}`, () => {
      let nonZeroTrials = 0;
      for (let trial = 0; trial < TRIALS; trial++) {
        const rng = new Rng(1000 * rowIndex + trial);
        const { params, run } = row.build(rng);
        const probe = run();
        // a fixed random projection to a scalar, so every output element matters differently
        const weights = c64(values(rng, probe.size, -1, 1), probe.shape.slice());
        const result = gradcheck(() => F.sum(F.mul(run(), weights)), params, { rtol: 1e-6 });
        for (const p of result.params) {
          assert.ok(p.passed, `${row.op} trial ${trial}: ∂/∂${p.name} ${JSON.stringify(p.shape)} max relative error ${p.maxRelError.toExponential(2)} (analytic ${p.analytic[p.worstIndex]}, numeric ${p.numeric[p.worstIndex]})`);
        }
        if (result.params.some((p) => p.analytic.some((g) => g !== 0))) nonZeroTrials++;
      }
      assert.ok(nonZeroTrials >= TRIALS / 2, `${row.op}: gradients were all zero in ${TRIALS - nonZeroTrials} of ${TRIALS} trials, the check proves little`);
    });
  }

  it('covers every differentiable op in the registry', () => {
    const covered = new Set(OP_ROWS.map((r) => r.op));
    const missing = [...OPS.values()].filter((d) => !d.nondifferentiable && !covered.has(d.name)).map((d) => d.name);
    assert.deepEqual(missing, [], `ops without a row in test/engine/op-table.ts: ${missing.join(', ')}`);
  });

  it('every registry entry documents itself (category, symbol, local-gradient formula)', () => {
    for (const def of OPS.values()) {
      assert.ok(def.formula.length > 3, `${def.name} has no formula`);
      assert.ok(def.symbol.length > 0, `${def.name} has no symbol`);
      assert.ok(def.category, `${def.name} has no category`);
    }
  });
});

describe('ops without gradients', () => {
  for (const [name, ref] of Object.entries(NONDIFFERENTIABLE)) {
    it(`${name}: values and no gradient tracking`, () => {
      const rng = new Rng(7);
      const a = param(tensor(Array.from({ length: 12 }, () => rng.int(5) - 2), { dtype: 'float64' }));
      const b = c64(Float64Array.from({ length: 12 }, () => rng.int(5) - 2), [12]);
      const out = name === 'sign' ? F.sign(a) : name === 'greater' ? F.greater(a, b) : name === 'less' ? F.less(a, b) : F.equal(a, b);
      assert.equal(out.requiresGrad, false);
      assert.deepEqual(Array.from(out.data), Array.from(a.data, (v, i) => ref(v, b.data[i])));
      assert.ok(OPS.get(name)?.nondifferentiable);
    });
  }
});

describe('losses at their kinks', () => {
  it('bceWithLogits: the gradient at logit 0 is σ(0) − t, as in PyTorch (a zero-initialized output layer gives logits 0)', () => {
    const x = param(tensor([0, 0, 0, 2], { dtype: 'float64' }));
    const t = tensor([0, 1, 0.25, 1], { dtype: 'float64' });
    losses.bceWithLogits(x, t).backward();
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    const want = [0, 0, 0, 2].map((v, i) => (sigmoid(v) - t.data[i]) / 4);
    Array.from(x.grad!.data).forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-15, `element ${i}: ${g}, want ${want[i]}`));
  });
});

describe('activations at their kinks: relu′(0) and leakyRelu′(0)', () => {
  const X = [-1, 0, 0, 2, -0];
  /** The local gradients at X, by backward through a tensor graph and through a scalar (tape) graph. */
  const grads = (f: (x: Tensor) => Tensor) => {
    const x = param(tensor(X, { dtype: 'float64' }));
    f(x).sum().backward();
    const perScalar = X.map((v) => {
      const s = scalar(v);
      f(s).backward();
      return s.grad!.item();
    });
    return { tensor: Array.from(x.grad!.data), scalar: perScalar };
  };
  const cases: [string, (x: Tensor) => Tensor, number[]][] = [
    ['relu, PyTorch\'s relu′(0) = 0', (x) => F.relu(x), [0, 0, 0, 1, 0]],
    ['relu { gradAtZero: 1 }', (x) => F.relu(x, { gradAtZero: 1 }), [0, 1, 1, 1, 1]],
    ['relu { gradAtZero: 0.5 } (a subgradient)', (x) => F.relu(x, { gradAtZero: 0.5 }), [0, 0.5, 0.5, 1, 0.5]],
    ['leakyRelu 0.1, PyTorch\'s leakyRelu′(0) = α', (x) => F.leakyRelu(x, 0.1), [0.1, 0.1, 0.1, 1, 0.1]],
    ['leakyRelu 0.1 { gradAtZero: 1 }', (x) => F.leakyRelu(x, 0.1, { gradAtZero: 1 }), [0.1, 1, 1, 1, 1]],
    ['leakyRelu 0.1 { gradAtZero: 0 }', (x) => F.leakyRelu(x, 0.1, { gradAtZero: 0 }), [0.1, 0, 0, 1, 0]],
    ['nn.relu({ gradAtZero: 1 })', (x) => nn.relu({ gradAtZero: 1 }).forward(x), [0, 1, 1, 1, 1]],
    ['nn.leakyRelu(0.2, { gradAtZero: 1 })', (x) => nn.leakyRelu(0.2, { gradAtZero: 1 }).forward(x), [0.2, 1, 1, 1, 1]],
  ];
  for (const [what, f, want] of cases) {
    it(`${what}: at ${JSON.stringify(X)} the gradient is ${JSON.stringify(want)}, tensor and scalar graphs alike; values unchanged`, () => {
      const g = grads(f);
      assert.deepEqual(g.tensor, want);
      assert.deepEqual(g.scalar, want);
      const base = what.startsWith('leaky') || what.includes('leaky') ? F.leakyRelu(tensor(X), what.includes('0.2') ? 0.2 : 0.1) : F.relu(tensor(X));
      assert.deepEqual(Array.from(f(tensor(X)).data), Array.from(base.data));
    });
  }

  it('the option is an attribute of the op (traced and replayed with it), absent by default', () => {
    const x = param(tensor([0], { dtype: 'float64' }));
    assert.deepEqual(F.relu(x).attrs, {});
    assert.deepEqual(F.relu(x, { gradAtZero: 1 }).attrs, { gradAtZero: 1 });
    assert.deepEqual(F.leakyRelu(x, 0.1, { gradAtZero: 1 }).attrs, { alpha: 0.1, gradAtZero: 1 });
    assert.throws(() => F.relu(x, { gradAtZero: NaN }), /relu: gradAtZero must be a finite number/);
  });

  it('second derivatives stay zero (createGraph through the mask)', () => {
    const x = param(tensor([0, 1.5], { dtype: 'float64' }));
    F.relu(x, { gradAtZero: 1 }).mul(x).sum().backward({ createGraph: true }); // d/dx x·relu(x) = relu(x) + x·relu′(x)
    const g = x.grad!;
    assert.deepEqual(Array.from(g.data), [0, 3]);
    x.grad = null;
    g.sum().backward(); // d²/dx² = 2·relu′(x) (the mask's own derivative is 0)
    assert.deepEqual(Array.from(x.grad!.data), [2, 2]);
  });
});

describe('gradcheck itself', () => {
  it('runs on float64 copies: the parameters keep their storage, values, dtype and gradient, even when f throws', () => {
    const w = param([[0.3, -1.2], [2, 0.5]]);
    const storage = w.data;
    const values = Array.from(storage);
    const grad = tensor([[9, 9], [9, 9]]);
    w.grad = grad;
    const seen: string[] = [];
    const live: string[] = [];
    const r = gradcheck(() => {
      const y = F.sum(F.tanh(w));
      seen.push(y.dtype);
      live.push(w.dtype);
      return y;
    }, [w], { rtol: 1e-6 });
    assert.equal(r.passed, true);
    assert.ok(seen.length > 1 && seen.every((d) => d === 'float64'), `f computed in ${seen}`);
    assert.ok(live.every((d) => d === 'float32'), 'the parameter itself is never retyped, not even while f runs');
    assert.equal(w.data, storage, 'the same storage');
    assert.deepEqual(Array.from(w.data), values);
    assert.equal(w.dtype, 'float32');
    assert.equal(w.grad, grad, 'the same gradient');
    assert.throws(() => gradcheck(() => { throw new Error('boom'); }, [w]), /boom/);
    assert.equal(w.data, storage);
    assert.equal(w.dtype, 'float32');
    assert.equal(w.grad, grad);
  });


  it('catches a wrong gradient', () => {
    // sin with the derivative of cos: a deliberately broken op
    const brokenSin = unary({
      name: 'brokenSin', symbol: 'sin', formula: 'wrong on purpose', wgsl: 'sin(x)',
      fn: Math.sin, grad: (ops, [x]) => [ops.neg(ops.sign(x))],
    });
    const x = param(tensor([0.3, 1.1, -0.7], { dtype: 'float64' }));
    const r = gradcheck(() => F.sum(brokenSin(x)), [x]);
    assert.equal(r.passed, false);
    assert.ok(r.params[0].maxRelError > 0.1);
  });
});
