/**
 * gradcheck on a seeded sample of a large parameter: exactly maxPerParam distinct elements are
 * compared (NaN elsewhere in `numeric`), the sample repeats with its seed, a correct gradient passes
 * and a wrong one is still caught. The wrong gradients come from a term hidden from autograd by
 * detach(): finite differences see it, backward() does not.
 */
import * as assert from 'node:assert/strict';
import { Rng, gradcheck } from '../../engine/index';
import * as F from '../../engine/ops/functional';
import { c64, p64, signedAwayFromZero } from './helpers';

const N = 1000;

function bigParam(seed = 3) {
  return p64(signedAwayFromZero(new Rng(seed), N, 0.2, 1.5), [N], 'w');
}

/** Flat indices whose numeric gradient was computed. */
const checkedIndices = (numeric: number[]) => numeric.flatMap((v, i) => (Number.isFinite(v) ? [i] : []));

describe('gradcheck: sampling large parameters (maxPerParam, seed)', () => {
  it('checks exactly maxPerParam distinct elements of a 1000-element parameter and passes a correct gradient', () => {
    const w = bigParam();
    const r = gradcheck(() => F.sum(F.tanh(w)), [w], { maxPerParam: 50, seed: 1 });
    const p = r.params[0];
    assert.equal(p.checked, 50);
    assert.equal(checkedIndices(p.numeric).length, 50);
    assert.equal(p.numeric.length, N);
    assert.equal(p.analytic.length, N);
    assert.ok(r.passed, `max relative error ${p.maxRelError}`);
    assert.ok(Number.isFinite(p.numeric[p.worstIndex]) || p.worstIndex === -1);
    for (const i of checkedIndices(p.numeric)) assert.ok(Math.abs(p.numeric[i] - (1 - Math.tanh(w.data[i]) ** 2)) < 1e-8);
  });

  it('the sample is deterministic in the seed and changes with it', () => {
    const w = bigParam();
    const run = (seed: number) => checkedIndices(gradcheck(() => F.sum(F.tanh(w)), [w], { maxPerParam: 50, seed }).params[0].numeric);
    assert.deepEqual(run(7), run(7));
    assert.notDeepEqual(run(7), run(8));
  });

  it('checks every element when the parameter is small enough or maxPerParam is absent', () => {
    const w = bigParam();
    const small = p64(Float64Array.from([0.3, -0.8, 1.2]), [3], 'b');
    const f = () => F.add(F.sum(F.tanh(w)), F.sum(F.mul(small, small)));
    const sampled = gradcheck(f, [w, small], { maxPerParam: 50 });
    assert.equal(sampled.params[0].checked, 50);
    assert.equal(sampled.params[1].checked, 3);
    assert.equal(checkedIndices(sampled.params[1].numeric).length, 3);
    const full = gradcheck(f, [w, small]);
    assert.equal(full.params[0].checked, N);
    assert.equal(checkedIndices(full.params[0].numeric).length, N);
    assert.ok(full.passed);
  });

  it('still catches a gradient that is wrong on every element', () => {
    const w = bigParam();
    // backward() sees 1 − tanh²(w); the detached w² adds 2w to the true gradient
    const r = gradcheck(() => F.add(F.sum(F.tanh(w)), F.sum(F.mul(w.detach(), w.detach()))), [w], { maxPerParam: 50, seed: 2 });
    const p = r.params[0];
    assert.equal(r.passed, false);
    assert.equal(p.checked, 50);
    assert.ok(p.maxRelError > 0.1);
    assert.ok(Number.isFinite(p.numeric[p.worstIndex]), 'the worst element is one of the sampled ones');
  });

  it('catches a gradient wrong on one element when that element is sampled, and names it', () => {
    const w = bigParam();
    const seed = 5;
    const sampled = checkedIndices(gradcheck(() => F.sum(F.tanh(w)), [w], { maxPerParam: 50, seed }).params[0].numeric);
    const bad = sampled[17];
    const oneHot = new Float64Array(N);
    oneHot[bad] = 1;
    const mask = c64(oneHot, [N]);
    const r = gradcheck(() => F.add(F.sum(F.tanh(w)), F.sum(F.mul(w.detach(), mask))), [w], { maxPerParam: 50, seed });
    assert.equal(r.passed, false);
    assert.equal(r.params[0].worstIndex, bad);
    assert.ok(Math.abs(r.params[0].numeric[bad] - ((1 - Math.tanh(w.data[bad]) ** 2) + 1)) < 1e-7);
  });

  it('rejects a maxPerParam that is not a positive integer', () => {
    const w = bigParam();
    for (const bad of [0, -3, 2.5, NaN]) {
      assert.throws(() => gradcheck(() => F.sum(w), [w], { maxPerParam: bad }), /maxPerParam must be a positive integer/);
    }
  });
});
