import assert from 'node:assert/strict';
import { setTapeEnabled } from '../../engine/tape';
import * as F from '../../engine/ops/functional';
import { trace } from '../../engine/trace/tracer';
import { Trainer } from '../../engine/train/trainer';
import {
  Tensor, backwardSteps, defineTraining, optim, forwardOrder, losses, nn, noGrad, param, randn, scalar, tensor, topoOrder, type BackwardStep,
} from '../../engine/index';

describe('worked examples', () => {
  it('f = (x + y)·z at (−2, 5, −4): ∂f/∂x = ∂f/∂y = −4, ∂f/∂z = 3', () => {
    const x = scalar(-2, 'x'), y = scalar(5, 'y'), z = scalar(-4, 'z');
    const q = x.add(y);
    const f = q.mul(z);
    f.backward();
    assert.equal(f.item(), -12);
    assert.equal(q.grad!.item(), -4);
    assert.equal(x.grad!.item(), -4);
    assert.equal(y.grad!.item(), -4);
    assert.equal(z.grad!.item(), 3);
  });

  it("micrograd's README expression gives its published values (g = 24.7041, ∂g/∂a = 138.8338, ∂g/∂b = 645.5773)", () => {
    const a = scalar(-4), b = scalar(2);
    let c = a.add(b);
    let d = a.mul(b).add(b.pow(3));
    c = c.add(c.add(1));
    c = c.add(scalar(1).add(c).add(a.neg()));
    d = d.add(d.mul(2).add(b.add(a).relu()));
    d = d.add(scalar(3).mul(d).add(b.sub(a).relu()));
    const e = c.sub(d);
    const f = e.pow(2);
    let g = f.div(2);
    g = g.add(scalar(10).div(f));
    g.backward();
    assert.equal(g.item().toFixed(4), '24.7041');
    assert.equal(a.grad!.item().toFixed(4), '138.8338');
    assert.equal(b.grad!.item().toFixed(4), '645.5773');
  });

  it('scalars are float64 and tensors float32 unless asked', () => {
    assert.equal(scalar(0.1).dtype, 'float64');
    assert.equal(scalar(0.1).item(), 0.1);
    assert.equal(tensor([[1, 2]]).dtype, 'float32');
    assert.equal(tensor([[1, 2]], { dtype: 'float64' }).dtype, 'float64');
    assert.equal(scalar(1).add(tensor(2)).dtype, 'float64', 'float64 wins over float32');
    assert.equal(tensor([1.5]).add(2).dtype, 'float32', 'plain numbers take the tensor dtype');
    // PyTorch's promotion: a 0-d tensor does not widen a tensor with dimensions, like a number
    assert.equal(scalar(2).mul(tensor([1, 2])).dtype, 'float32');
    assert.equal(tensor([1, 2], { dtype: 'float64' }).mul(tensor(2)).dtype, 'float64');
    assert.equal(tensor([1, 2], { dtype: 'int32' }).mul(scalar(0.5)).dtype, 'float64', 'a float 0-d does widen int32');
    // and it is computed in that common dtype: the 0-d float64 is rounded to float32 first, as in
    // PyTorch (a comparison with a float32 copy of itself is false; a sum rounds once, not twice)
    const v = Math.log1p(-0.387);
    const copy = tensor([Math.fround(v), Math.fround(v)]);
    assert.deepEqual(Array.from(scalar(v).gt(copy).data), [0, 0]);
    assert.deepEqual(Array.from(scalar(v).eq(copy).data), [1, 1]);
    const third = 1 / 3, big = Math.fround(1 + 2 ** -23);
    assert.equal(scalar(third).add(tensor([big])).data[0], Math.fround(Math.fround(third) + big));
  });

  it('a sigmoid neuron: ∂σ(w·x + b)/∂w = σ(1−σ)·x', () => {
    const w = scalar(0.7), x = scalar(-1.3), b = scalar(0.2);
    const s = w.mul(x).add(b).sigmoid();
    s.backward();
    const sv = 1 / (1 + Math.exp(-(0.7 * -1.3 + 0.2)));
    assert.ok(Math.abs(w.grad!.item() - sv * (1 - sv) * -1.3) < 1e-15);
    assert.ok(Math.abs(b.grad!.item() - sv * (1 - sv)) < 1e-15);
  });
});

describe('accumulation when a value feeds several ops', () => {
  it('x·x + x has gradient 2x + 1, and the step record shows the sum', () => {
    const x = scalar(3, 'x');
    const sq = x.mul(x);
    const y = sq.add(x);
    const steps = [...backwardSteps(y)];
    assert.equal(x.grad!.item(), 7);
    // add step: x receives 1 first; mul step: x receives 3 twice (once per operand)
    const xContributions = steps.flatMap((s) => s.inputs.filter((i) => i.input === x));
    assert.deepEqual(xContributions.map((c) => c.contribution.item()), [1, 3, 3]);
    assert.deepEqual(xContributions.map((c) => c.accumulatedGrad.item()), [1, 4, 7]);
    assert.deepEqual(xContributions.map((c) => c.accumulated), [false, true, true]);
  });

  it('leaf gradients accumulate across backward calls until zeroed; intermediate ones do not', () => {
    const w = param([1, 2], { dtype: 'float64' });
    const run = () => w.mul(w).sum();
    run().backward();
    run().backward();
    assert.deepEqual(Array.from(w.grad!.data), [4, 8]);
    w.zeroGrad();
    const out = run();
    out.backward();
    assert.deepEqual(Array.from(w.grad!.data), [2, 4]);
  });
});

function mlpLoss(seed: number): { loss: Tensor; params: Tensor[] } {
  const model = nn.sequential(nn.linear(3, 5, { seed, dtype: 'float64' }), nn.tanh(), nn.linear(5, 4, { seed: seed + 10, dtype: 'float64' }));
  const x = randn([6, 3], { seed: seed + 20, dtype: 'float64' });
  const h = model.forward(x);
  // fan-out: the logits feed both the loss and an L2 penalty
  const loss = losses.softmaxCrossEntropy(h, [0, 1, 2, 3, 0, 1]).add(h.square().mean().mul(0.1));
  return { loss, params: model.parameters() };
}

describe('the step-wise backward iterator', () => {
  it('produces exactly the gradients backward() produces', () => {
    const a = mlpLoss(1);
    a.loss.backward();
    const b = mlpLoss(1);
    const steps = [...backwardSteps(b.loss)];
    assert.ok(steps.length > 10);
    a.params.forEach((p, i) => {
      assert.deepEqual(Array.from(b.params[i].grad!.data), Array.from(p.grad!.data), `parameter ${i} differs`);
    });
  });

  it('visits nodes in reverse topological order with complete upstream gradients', () => {
    const { loss } = mlpLoss(2);
    const steps: BackwardStep[] = [...backwardSteps(loss)];
    assert.equal(steps[0].node, loss);
    assert.equal(steps[0].upstreamGrad.item(), 1);
    const position = new Map(steps.map((s, i) => [s.node, i]));
    for (const s of steps) {
      for (const { input } of s.inputs) {
        if (position.has(input)) assert.ok(position.get(input)! > position.get(s.node)!, `${input.op} processed before its consumer ${s.node.op}`);
      }
      // the upstream gradient a step sees is the node's final gradient
      assert.equal(s.upstreamGrad, s.node.grad);
      assert.deepEqual(s.upstreamGrad.shape, s.node.shape);
    }
  });

  it('each input step: contribution = upstream ⊙ local gradient (elementwise ops), summed to the input shape', () => {
    const { loss } = mlpLoss(3);
    let checked = 0;
    for (const s of backwardSteps(loss)) {
      for (const i of s.inputs) {
        assert.deepEqual(i.contribution.shape, i.input.shape);
        if (i.localGrad !== null && s.node.size === i.input.size && typeof i.localGrad !== 'number' && i.localGrad.size === s.node.size) {
          for (let k = 0; k < i.contribution.size; k++) {
            assert.equal(i.contribution.data[k], s.upstreamGrad.data[k] * i.localGrad.data[k]);
          }
          checked++;
        }
      }
    }
    assert.ok(checked > 3, 'some elementwise steps were checked');
  });

  it('the forward record lists every node in computation order, inputs first', () => {
    const { loss } = mlpLoss(4);
    const order = forwardOrder(loss);
    const seen = new Set<Tensor>();
    for (const node of order) {
      for (const input of node.inputs) assert.ok(seen.has(input), `${node.op} listed before its input ${input.op}`);
      seen.add(node);
    }
    assert.equal(order[order.length - 1], loss);
    assert.ok(order.length > topoOrder(loss).length, 'constants are part of the forward record');
  });

  it('handles deep graphs without recursion (100 000 chained ops)', () => {
    const x = scalar(1);
    let y = x;
    for (let i = 0; i < 100_000; i++) y = y.mul(1.000001);
    y.backward();
    assert.ok(Math.abs(x.grad!.item() - Math.pow(1.000001, 100_000)) < 1e-9);
  });
});

describe('graph lifetime and grad mode', () => {
  it('a second backward through a freed graph is an error that says what to do', () => {
    const x = scalar(2);
    const y = x.mul(x).add(1);
    y.backward();
    assert.throws(() => y.backward(), /already used by an earlier backward\(\).*retainGraph: true/s);
  });

  it('retainGraph allows a second pass and gradients add up', () => {
    const x = scalar(2);
    const y = x.mul(x);
    y.backward({ retainGraph: true });
    y.backward();
    assert.equal(x.grad!.item(), 8);
  });

  it('noGrad records nothing', () => {
    const w = param([1, 2]);
    const y = noGrad(() => w.mul(3).sum());
    assert.equal(y.requiresGrad, false);
    assert.throws(() => y.backward(), /does not depend on any tensor that requires grad/);
    assert.equal(w.mul(3).sum().requiresGrad, true, 'grad mode is restored after noGrad');
  });

  it('backward on a non-scalar names the shape', () => {
    const w = param([[1, 2], [3, 4]]);
    assert.throws(() => w.mul(2).backward(), /shape \[2, 2\] \(4 elements\).*\.sum\(\) or \.mean\(\)/s);
  });

  it('createGraph gives differentiable gradients (second derivative of x³ is 6x)', () => {
    const x = scalar(2);
    const y = x.pow(3);
    y.backward({ createGraph: true });
    const dx = x.grad!;
    assert.equal(dx.item(), 12);
    x.zeroGrad();
    dx.backward();
    assert.equal(x.grad!.item(), 12);
  });
});

describe('higher derivatives by repeated createGraph', () => {
  // dⁿ/dxⁿ (x·eˣ) = (n + x)·eˣ: at x = 0 the n-th derivative is n
  function derivatives(x: Tensor, n: number): number[] {
    let y = x.mul(x.exp());
    const out = [y.item()];
    for (let k = 0; k < n; k++) {
      x.grad = null;
      (y.size === 1 && y.rank > 0 ? y.sum() : y).backward({ createGraph: true });
      y = x.grad!;
      out.push(y.item());
    }
    return out;
  }
  const cases: [string, () => Tensor][] = [
    ['a 0-d float64 scalar (the tape)', () => scalar(0)],
    ['a 1-element float64 tensor', () => param([0], { dtype: 'float64' })],
    ['a 0-d float32 scalar', () => scalar(0, undefined, { dtype: 'float32' })],
  ];
  for (const [what, make] of cases) {
    it(`x·eˣ at 0 gives 0, 1, 2, 3, 4, 5 for ${what}`, () => assert.deepEqual(derivatives(make(), 5), [0, 1, 2, 3, 4, 5]));
  }
  it('the same with the tape off, and under the tracer (object graph, gradients recorded untraced)', () => {
    const was = setTapeEnabled(false);
    try {
      assert.deepEqual(derivatives(scalar(0), 5), [0, 1, 2, 3, 4, 5]);
    } finally {
      setTapeEnabled(was);
    }
    assert.deepEqual(trace(() => derivatives(scalar(0), 5)).result, [0, 1, 2, 3, 4, 5]);
  });
  it('at x = 0.5 the n-th derivative is (n + ½)·e^½ to the last bits', () => {
    derivatives(scalar(0.5), 5).forEach((d, n) => assert.ok(Math.abs(d - (n + 0.5) * Math.exp(0.5)) <= 4e-15 * (n + 1), `order ${n}: ${d}`));
  });
  it('createGraph implies retainGraph, as in PyTorch', () => {
    const x = scalar(1.5);
    const y = x.mul(x.exp());
    y.backward({ createGraph: true });
    const first = x.grad!.item();
    x.grad = null;
    y.backward();
    assert.equal(x.grad!.item(), first);
  });
  it('a training loss built from a gradient gets the same gradient in train as under the tracer', () => {
    // loss = (dy/dx)² with y = x·x·x: dy/dx = 3x², ∂loss/∂x = 2·3x²·6x = 36x³ = 288 at x = 2
    const lossOf = (x: Tensor) => () => {
      const y = x.mul(x).mul(x);
      y.backward({ createGraph: true });
      const g = x.grad!;
      x.grad = null;
      return g.square();
    };
    const x = param(2, { dtype: 'float64' });
    const trainer = new Trainer(defineTraining({ params: [x], loss: lossOf(x), optimizer: optim.sgd({ lr: 1e-3 }), steps: 1 }));
    const entry = trainer.step();
    assert.equal(entry.loss, 144);
    assert.equal(entry.gradNorm, 288);
    const x2 = param(2, { dtype: 'float64' });
    const traced = trace(lossOf(x2)).result;
    traced.backward();
    assert.equal(x2.grad!.item(), 288);
  });
});

describe('PyTorch conventions at kinks', () => {
  it('clamp passes the gradient on the closed interval, boundaries included', () => {
    const x = param([-0.5, 0.5, 0.2, 0.9, -2], { dtype: 'float64' });
    F.clamp(x, -0.5, 0.5).sum().backward();
    assert.deepEqual(Array.from(x.grad!.data), [1, 1, 1, 0, 0]);
  });
  it('sign has derivative 0: its node gets ∂L/∂sign, its input 0', () => {
    const x = param([-1.5, 2], { dtype: 'float64' });
    const s = F.sign(x);
    const y = s.mul(x).sum();
    const steps = [...backwardSteps(y)];
    assert.deepEqual(Array.from(s.grad!.data), [-1.5, 2]);
    assert.deepEqual(Array.from(x.grad!.data), [-1, 1], 'only the product rule term through x itself');
    assert.ok(steps.some((st) => st.node === s && st.inputs[0].localGrad === 0));
  });
  it("under createGraph a gradient requires grad exactly where PyTorch's does: relu's and leakyRelu's yes (threshold_backward), maximum's, clamp's and where's no", () => {
    const cases: [string, (x: Tensor) => Tensor, boolean][] = [
      ['relu', (x) => x.relu(), true],
      ['leakyRelu', (x) => x.leakyRelu(0.1), true],
      ['abs', (x) => x.abs(), true],
      ['maximum', (x) => x.maximum(0.1), false],
      ['clamp', (x) => F.clamp(x, -1, 0.2), false],
      ['where', (x) => F.where(x.gt(0), x, x.mul(2)), false],
    ];
    for (const onTape of [true, false]) {
      const was = setTapeEnabled(onTape);
      try {
        for (const [name, f, requires] of cases) {
          const x = scalar(0.5);
          f(x).backward({ createGraph: true });
          assert.equal(x.grad!.requiresGrad, requires, `${name}${onTape ? '' : ' (objects)'}: ∂/∂x requires grad`);
          if (requires) {
            // and it is a node of the graph, whose own derivative is 0
            const g = x.grad!;
            x.grad = null;
            g.backward();
            assert.equal((x.grad as Tensor | null)?.item() ?? 0, 0, `${name}: the second derivative`);
          }
        }
      } finally {
        setTapeEnabled(was);
      }
    }
  });
});

describe('mixed float32 and float64', () => {
  it('the local gradient of a float64 op with a float32 input is computed in float64 (∂(a/b)/∂a = 1/b)', () => {
    const a = param([1.5, -0.25], { dtype: 'float64' });
    const b = param([0.725, 3.1], { dtype: 'float32' });
    a.div(b).sum().backward();
    assert.deepEqual(Array.from(a.grad!.data), Array.from(b.data, (v) => 1 / v));
    assert.equal(b.grad!.dtype, 'float32');
  });
  it('createGraph keeps the graph of a gradient cast back to float32', () => {
    const x = param([0.5, -1.25], { dtype: 'float32' });
    const w = param([2, 3], { dtype: 'float64' });
    x.mul(w).mul(x).sum().backward({ createGraph: true });
    const gx = x.grad!;
    assert.equal(gx.dtype, 'float32');
    assert.ok(gx.requiresGrad, 'the gradient has a graph');
    x.grad = null;
    w.grad = null;
    gx.sum().backward(); // Σ 2·w·x: ∂/∂w = 2x
    assert.deepEqual(Array.from(w.grad!.data), [1, -2.5]);
  });
});

describe('the scalar fast path (0-d float64) and the tensor path agree exactly', () => {
  // The same expression on 0-d tensors (numbers, no tensors created in backward) and on [1]-shaped
  // tensors (the general path): values and every gradient must be bit-identical.
  function build(make: (v: number) => Tensor) {
    const w = [0.3, -1.2, 0.7, 2.1].map(make);
    const x = [1.5, -0.4].map((v) => make(v).detach());
    const h1 = w[0].mul(x[0]).add(w[1].mul(x[1])).tanh();
    const h2 = w[2].mul(x[0]).sub(w[3].mul(h1)).sigmoid();
    const out = h1.mul(h2).add(h2.div(w[0].abs().add(1))).add(h1.relu()).add(w[3].pow(2).log()).add(h2.elu(0.5).mul(w[1].gelu())).add(h1.maximum(h2));
    return { w, out };
  }
  it('for values, backward() and the stepped pass', () => {
    const s = build((v) => param(v, { dtype: 'float64' }));
    const t = build((v) => param([v], { dtype: 'float64' }));
    assert.equal(s.out.shape.length, 0);
    assert.equal(s.out.item(), t.out.item());
    s.out.backward();
    t.out.backward();
    s.w.forEach((p, i) => assert.equal(p.grad!.item(), t.w[i].grad!.item(), `w${i}`));
    const s2 = build((v) => param(v, { dtype: 'float64' }));
    const steps = [...backwardSteps(s2.out)];
    assert.ok(steps.length > 10);
    s2.w.forEach((p, i) => assert.equal(p.grad!.item(), s.w[i].grad!.item(), `stepped w${i}`));
  });
});
