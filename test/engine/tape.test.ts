import assert from 'node:assert/strict';
import { OPS, Rng, Tensor, backwardSteps, noGrad, scalar, tensor, withScope } from '../../engine/index';
import * as F from '../../engine/ops/functional';
import { setTapeEnabled } from '../../engine/tape';
import { OP_ROWS, type Domain } from './op-table';

/** Runs `fn` with micrograd-style graphs recorded as objects instead of on the tape. */
function withoutTape<T>(fn: () => T): T {
  const was = setTapeEnabled(false);
  try {
    return fn();
  } finally {
    setTapeEnabled(was);
  }
}

/** t ∈ (−1, 1) (a tanh) mapped into an op-table domain, with ops (so on the tape too). */
function into(t: Tensor, d: Domain): Tensor {
  if (d.gap === undefined) return t.add(1).mul((d.hi - d.lo) / 2).add(d.lo);
  return t.mul(d.hi - d.gap).add(t.sign().mul(d.gap));
}

// every differentiable elementwise op with a row in the op table, on inputs in its domain
const elementwiseRows = OP_ROWS.filter((r) => r.domains && OPS.get(r.op)?.pointwise && !OPS.get(r.op)!.nondifferentiable);
const CATALOG = F as unknown as Record<string, (...args: Tensor[]) => Tensor>;
const UNARY: ((x: Tensor) => Tensor)[] = [
  ...elementwiseRows.filter((r) => r.domains!.length === 1).map((r) => (x: Tensor) => CATALOG[r.op](into(x, r.domains![0]))),
  (x) => x.leakyRelu(0.2), (x) => x.elu(0.7),
];
const BINARY: ((a: Tensor, b: Tensor) => Tensor)[] = [
  ...elementwiseRows.filter((r) => r.domains!.length === 2).map((r) => (a: Tensor, b: Tensor) => CATALOG[r.op](into(a, r.domains![0]), into(b, r.domains![1]))),
  (a) => a.mul(3), (a) => a.add(-2),
];

/** A random expression over `leaves` where values feed several later ops; returns its sum-like output. */
function randomGraph(seed: number, leaves: Tensor[]): Tensor {
  const rng = new Rng(seed);
  const pool: Tensor[] = [...leaves];
  const pick = () => pool[Math.floor(rng.uniform() * pool.length)];
  for (let i = 0; i < 60; i++) {
    const useUnary = rng.uniform() < 0.4;
    const v = useUnary ? UNARY[Math.floor(rng.uniform() * UNARY.length)](pick()) : BINARY[Math.floor(rng.uniform() * BINARY.length)](pick(), pick());
    pool.push(v.tanh()); // keeps values in a range where every op is finite
  }
  let out = pool[leaves.length];
  for (let i = leaves.length + 1; i < pool.length; i += 3) out = out.add(pool[i]);
  return out;
}

function leavesFor(seed: number): Tensor[] {
  const rng = new Rng(seed);
  return Array.from({ length: 5 }, (_, i) => scalar(rng.normal(), `x${i}`));
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));

describe('scalar tape', () => {
  it('random scalar graphs: the tape gives the values and gradients the object graph gives, to the bit (one driver, one order)', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const onTape = leavesFor(seed);
      const yTape = randomGraph(seed, onTape);
      assert.notEqual(yTape.tape, null, 'micrograd-style ops are recorded on the tape');
      yTape.backward();
      const asObjects = leavesFor(seed);
      const yObj = withoutTape(() => {
        const y = randomGraph(seed, asObjects);
        assert.equal(y.tape, null);
        y.backward();
        return y;
      });
      assert.equal(yTape.item(), yObj.item(), `seed ${seed}: same forward value`);
      for (let i = 0; i < onTape.length; i++) {
        const g1 = onTape[i].grad?.item() ?? 0;
        const g2 = asObjects[i].grad?.item() ?? 0;
        assert.equal(g1, g2, `seed ${seed}, x${i}: tape ${g1} vs objects ${g2}`);
      }
    }
  });

  it('a second pass over a retained tape (marked, not swept by gradient) gives the same bits', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const leaves = leavesFor(seed);
      const y = randomGraph(seed, leaves);
      y.backward({ retainGraph: true });
      const first = leaves.map((x) => x.grad?.item());
      for (const x of leaves) x.grad = null;
      y.backward();
      leaves.forEach((x, i) => assert.equal(x.grad?.item(), first[i], `seed ${seed}, x${i}`));
      const asObjects = leavesFor(seed);
      withoutTape(() => randomGraph(seed, asObjects).backward());
      asObjects.forEach((x, i) => assert.equal(leaves[i].grad?.item(), x.grad?.item(), `seed ${seed}, x${i} vs objects`));
    }
  });

  it("the tape's fast path records what apply records: same values and gradients, to the bit", () => {
    // inside a module scope the ops go through apply (the fast path takes only plain recording)
    for (let seed = 1; seed <= 8; seed++) {
      const fast = leavesFor(seed);
      const yFast = randomGraph(seed, fast);
      yFast.backward();
      const slow = leavesFor(seed);
      const ySlow = withScope('s', () => randomGraph(seed, slow));
      assert.equal(ySlow.scope, 's', 'recorded through apply');
      assert.notEqual(ySlow.tape, null);
      ySlow.backward();
      assert.equal(yFast.item(), ySlow.item(), `seed ${seed}: same forward value`);
      fast.forEach((x, i) => assert.equal(x.grad?.item(), slow[i].grad?.item(), `seed ${seed}, x${i}`));
    }
  });

  it('the fast path leaves to apply what it does not take: float32 scalars, tensors, no grad, a leaf gradient from before', () => {
    const x = scalar(1.5, 'x');
    const f32 = tensor(2, { dtype: 'float32' });
    assert.equal(x.mul(f32).dtype, 'float64');
    assert.equal(x.mul(tensor([1, 2], { dtype: 'float64' })).tape, null, 'a tensor input: an object node');
    assert.equal(noGrad(() => x.mul(2)).tape, null, 'no grad: nothing recorded');
    assert.equal(noGrad(() => x.mul(2)).requiresGrad, false);
    const c = scalar(3).detach();
    assert.equal(c.mul(2).requiresGrad, false, 'constants only: a constant');
    // gradients add to what a leaf held before this pass
    x.grad = scalar(10);
    x.mul(x).add(x).backward();
    assert.equal(x.grad!.item(), 10 + 2 * 1.5 + 1);
  });

  it('backwardSteps on a tape value materializes the graph and ends with the gradients of backward()', () => {
    const a = leavesFor(3);
    const y = randomGraph(3, a);
    const steps = [...backwardSteps(y, { retainGraph: true })];
    assert.ok(steps.length > 60, `one step per node (${steps.length})`);
    const stepped = a.map((x) => x.grad!.item());
    for (const x of a) x.grad = null;
    y.backward();
    a.forEach((x, i) => assert.equal(x.grad!.item(), stepped[i], `x${i}`));
    // the materialized inputs are handles of the same rows: values match what the forward computed
    const last = steps[steps.length - 1];
    for (const s of last.inputs) assert.equal(typeof s.input.item(), 'number');
  });

  it('intermediate gradients, names and input identity survive materialization', () => {
    const x = scalar(-2, 'x'), y = scalar(5, 'y'), z = scalar(-4, 'z');
    const q = x.add(y).named('q');
    const f = q.mul(z).named('f');
    assert.equal(f.inputs[0], q, 'a named value is the handle its consumers see');
    assert.equal(f.inputs[1], z);
    f.backward();
    assert.equal(q.grad!.item(), -4);
    assert.equal(f.inputs[0].grad!.item(), -4);
    assert.equal(x.grad!.item(), -4);
    assert.equal(z.grad!.item(), 3);
  });

  it('backward twice fails with the freed-graph message; retainGraph accumulates', () => {
    const x = scalar(3, 'x');
    const y = x.mul(x).add(x);
    y.backward({ retainGraph: true });
    y.backward();
    assert.equal(x.grad!.item(), 2 * (2 * 3 + 1));
    assert.throws(() => y.backward(), /already used by an earlier backward\(\) and has been freed.*retainGraph/);
  });

  it('a retired tape is reused: stale handles keep their value, lose their gradient and cannot backward again', () => {
    const w = scalar(0.5, 'w');
    const step = () => {
      const h = w.mul(4).tanh();
      const loss = h.mul(h);
      loss.backward();
      return { h, loss };
    };
    const first = step();
    const hGrad = first.h.grad!.item();
    assert.ok(hGrad !== 0, 'readable right after backward');
    const before = first.loss.item();
    w.grad = null;
    const second = step();
    assert.equal(second.h.tape, first.h.tape, 'the next step reuses the retired tape');
    assert.equal(first.loss.item(), before, 'values stay');
    assert.equal(first.h.grad, null, "the old step's intermediate gradient is gone");
    assert.equal(first.loss.graphFreed, true);
    assert.deepEqual(first.h.inputs, []);
    assert.ok(second.h.grad !== null);
    assert.throws(() => first.loss.backward(), /has been freed/);
    // using a stale value in a new graph is fine until backward goes through it
    const mixed = first.h.add(w);
    assert.throws(() => mixed.backward(), /has been freed/);
    assert.ok(close(w.grad!.item(), 2 * Math.tanh(2) * (1 - Math.tanh(2) ** 2) * 4), 'the failed backward changed nothing');
  });

  it('ops that record nothing on the tape leave a retired tape alone: its gradients stay readable', () => {
    const w = scalar(0.5, 'w');
    const step = () => {
      const h = w.mul(4).tanh();
      h.mul(h).backward();
      return h;
    };
    step();
    const h = step(); // its tape is the first step's, retired again and next in line for reuse
    const g = h.grad!.item();
    // a tensor op, a float32 scalar op and an op on constants record no row and take no tape
    tensor([1, 2], { dtype: 'float64' }).add(tensor([3, 4], { dtype: 'float64' }));
    tensor(1, { dtype: 'float32' }).mul(2);
    scalar(3).detach().mul(2);
    assert.equal(h.grad?.item(), g, 'the intermediate gradient is readable until the next graph is recorded');
    const next = w.mul(2);
    assert.equal(next.tape, h.tape, 'the next graph takes the retired tape');
    assert.equal(h.grad, null);
  });

  it('values from an older tape flow into a newer one', () => {
    const x = scalar(2, 'x'), y = scalar(7, 'y');
    const a = x.mul(2);
    const b = x.mul(3);
    a.backward(); // frees a's rows only: b's tape is not reused
    assert.equal(x.grad!.item(), 2);
    const c = b.mul(y);
    assert.notEqual(c.tape, b.tape, 'the next graph starts a tape');
    c.backward();
    assert.equal(x.grad!.item(), 2 + 3 * 7);
    assert.equal(y.grad!.item(), 6);
    assert.equal(b.grad!.item(), 7);
  });

  it('tape values feeding tensor ops: the object graph picks up the tape and gradients are right', () => {
    const x = scalar(1.5, 'x'), y = scalar(-2, 'y');
    const s = x.mul(y); // on the tape
    const t = s.reshape([1]).mul(tensor([3], { dtype: 'float64' })).sum(); // object nodes
    const out = t.add(s.mul(s)); // 0-d with an object input: recorded as objects
    assert.equal(out.tape, null);
    out.backward();
    // out = 3xy + (xy)²
    assert.ok(close(x.grad!.item(), 3 * -2 + 2 * (1.5 * -2) * -2));
    assert.ok(close(y.grad!.item(), 3 * 1.5 + 2 * (1.5 * -2) * 1.5));
    assert.ok(close(s.grad!.item(), 3 + 2 * (1.5 * -2)));
  });
});
