import assert from 'node:assert/strict';
import {
  Rng, backwardSteps, concat, firstNonFiniteBackward, firstNonFiniteForward, losses, nn, param, randn, scalar, summarize, tensor, zeros,
} from '../../engine/index';
import { values } from './helpers';

describe('bad input gives an Error that says what was wrong', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['shapes that do not broadcast', () => tensor([[1, 2, 3]]).add(tensor([1, 2])), /add: shapes \[1, 3\] and \[2\] do not broadcast/],
    ['matmul inner dimensions', () => zeros([2, 3]).matmul(zeros([4, 5])), /matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\] \(3 ≠ 4\)/],
    ['axis out of range', () => zeros([2, 3]).sum(2), /sum: axis 2 is out of range for a tensor of rank 2/],
    ['negative size', () => zeros([2, -1]), /invalid size -1/],
    ['unknown dtype', () => tensor([1], { dtype: 'float16' as never }), /unknown dtype "float16"/],
    ['reshape to the wrong size', () => zeros([2, 3]).reshape(4, 2), /cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\] \(8 elements\)/],
    ['ragged nested arrays', () => tensor([[1, 2], [3]]), /ragged nested array at \[1\]: expected 2 entries/],
    ['a non-number element', () => tensor([1, 'a' as never]), /element \[1\] is "a", not a number/],
    ['gather index out of range', () => zeros([3, 2]).gather([0, 5]), /gather: index 5 .* out of range for axis 0 of size 3/],
    ['label out of range', () => losses.softmaxCrossEntropy(zeros([2, 3]), [0, 3]), /label 3 at position 1 is not in 0 … 2/],
    ['loss shapes differ', () => losses.mse(zeros([4]), zeros([4, 1])), /mse: prediction \[4\] and target \[4, 1\] must have the same shape/],
    ['linear feature mismatch', () => nn.linear(3, 2).forward(zeros([5, 4])), /linear: input \[5, 4\] has 4 features but the weight \[2, 3\] expects 3/],
    ['item() on a vector', () => zeros([3]).item(), /item\(\): tensor of shape \[3\] has 3 elements/],
    ['bad seed', () => randn([2], { seed: NaN }), /seed must be a finite number/],
    ['concat with mismatched shapes', () => concat([zeros([2, 3]), zeros([2, 4])], 0), /concat: shapes \[2, 3\], \[2, 4\] differ outside axis 0/],
    ['a string where a tensor belongs', () => zeros([2]).add('3' as never), /add: expected a tensor or a number, got string/],
  ];
  for (const [what, fn, message] of cases) {
    it(what, () => assert.throws(fn, (e: unknown) => e instanceof Error && message.test(e.message)));
  }
});

describe('summaries', () => {
  it('match a direct computation, with NaN and Inf counted and left out of the moments', () => {
    const rng = new Rng(5);
    const v = Array.from(values(rng, 200, -3, 3));
    v[10] = 0; v[11] = 0; v[20] = NaN; v[30] = Infinity; v[31] = -Infinity;
    const s = summarize(tensor(v, { dtype: 'float64' }), { bins: 10 });
    const finite = v.filter(Number.isFinite);
    const mean = finite.reduce((a, b) => a + b) / finite.length;
    const std = Math.sqrt(finite.reduce((a, b) => a + (b - mean) ** 2, 0) / finite.length);
    assert.equal(s.count, 200);
    assert.equal(s.nan, 1);
    assert.equal(s.inf, 2);
    assert.equal(s.zeros, 2 / 200);
    assert.ok(Math.abs(s.mean! - mean) < 1e-12);
    assert.ok(Math.abs(s.std! - std) < 1e-12);
    assert.equal(s.min, Math.min(...finite));
    assert.equal(s.max, Math.max(...finite));
    assert.ok(Math.abs(s.norm! - Math.hypot(...finite)) < 1e-9);
    assert.equal(s.histogram.counts.length, 10);
    assert.equal(s.histogram.counts.reduce((a, b) => a + b), finite.length);
    const nonzero = finite.filter((x) => x !== 0);
    assert.equal(s.logHistogram.counts.reduce((a, b) => a + b), nonzero.length);
    const logs = nonzero.map((x) => Math.log10(Math.abs(x)));
    assert.ok(s.logHistogram.lo <= Math.min(...logs) && s.logHistogram.hi >= Math.max(...logs));
  });

  it('an all-NaN tensor has no moments but does not throw', () => {
    const s = summarize(tensor([NaN, NaN]));
    assert.equal(s.nan, 2);
    assert.equal(s.mean, null);
    assert.equal(s.min, null);
  });
});

describe('NaN and Inf flow through and the first one is located', () => {
  it('forward: log of a negative number is named with its node', () => {
    const x = param([1, -1, 2]).named('x');
    const h = x.log().named('h');
    const y = h.mul(2).sum();
    assert.ok(Number.isNaN(y.item()), 'NaN flows through');
    const f = firstNonFiniteForward(y)!;
    assert.equal(f.node, h);
    assert.equal(f.phase, 'forward');
    assert.equal(f.nan, 1);
    assert.equal(f.index, 1);
    assert.match(f.message, /NaN first appears in the forward pass at 'h' \(log#\d+\).*inputs were finite/);
  });

  it('backward: the gradient of sqrt at 0 is Inf, located at the step that produced it', () => {
    const x = scalar(0, 'x');
    const r = x.sqrt().named('r');
    const y = r.mul(3);
    assert.equal(firstNonFiniteForward(y), null);
    const steps = [...backwardSteps(y)];
    assert.equal(x.grad!.item(), Infinity);
    const f = firstNonFiniteBackward(steps)!;
    assert.equal(f.node, r);
    assert.equal(f.input, x);
    assert.match(f.message, /Inf first appears in the backward pass in the gradient of 'x'.*through 'r' \(sqrt#\d+\).*local gradient of sqrt/);
  });

  it('overflow to Inf in exp is found', () => {
    const x = tensor([1, 200]);
    const e = x.exp();
    const f = firstNonFiniteForward(e.sum())!;
    assert.equal(f.node, e);
    assert.equal(f.inf, 1);
  });
});
