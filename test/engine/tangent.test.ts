/**
 * The output as a function of one scalar leaf (engine/check/tangent.ts, `curve` in the snapshot):
 * each point is the program's own function evaluated at that input, computed here directly in
 * JavaScript; the slope of the curve at the recorded point (central differences of the curve's own
 * points) is the gradient the backward pass gave; other leaves stay as recorded.
 */
import * as assert from 'node:assert/strict';
import { buildSnapshot } from '../../engine/trace/snapshot';
import { outputCurve } from '../../engine/check/tangent';
import { param, scalar, tensor } from '../../engine';

const f = (x: number) => x * Math.sin(x * x) + 1;

describe('the output along one scalar input (tangent line)', () => {
  it('x·sin(x²) + 1 at x = −2: every point is f(x), and the slope at −2 is the gradient, f′(−2) ≈ −5.99', () => {
    const x = scalar(-2);
    const out = x.mul(x.mul(x).sin()).add(1);
    const s = buildSnapshot(out, { file: 'f.ts' });
    const leaf = s.nodes.find((n) => n.op === 'leaf' && n.leaf === 'input')!;
    const c = leaf.curve!;
    assert.equal(c.xs.length, 81);
    assert.equal(c.xs[40], -2);
    assert.equal(c.xs[0], -3);
    assert.equal(c.xs[80], -1);
    c.xs.forEach((xi, i) => assert.ok(Math.abs(c.ys[i]! - f(xi)) <= 1e-14 * Math.max(1, Math.abs(f(xi))), `f(${xi}): ${c.ys[i]} vs ${f(xi)}`));
    const h = c.xs[41] - c.xs[40];
    const slope = (c.ys[41]! - c.ys[39]!) / (2 * h);
    const exact = Math.sin(4) + 8 * Math.cos(4);
    assert.ok(Math.abs(leaf.scalarGrad! - exact) < 1e-12, `gradient ${leaf.scalarGrad} vs f′(−2) ${exact}`);
    // central differences with h = 0.025 are off by about h²·f‴/6
    assert.ok(Math.abs(slope - exact) < 0.05 * Math.abs(exact), `the curve's slope ${slope} vs f′(−2) ${exact}`);
    assert.ok(Math.abs(exact - -5.99) < 0.005);
  });

  it('a partial derivative: the other input stays as recorded; a constant leaf gets no curve', () => {
    const a = scalar(3), b = scalar(-1.5);
    const k = tensor(2, { dtype: 'float64' });
    const out = a.mul(b).add(b.mul(b)).mul(k); // 2(ab + b²)
    const s = buildSnapshot(out, { file: 'f.ts' });
    const leaves = s.nodes.filter((n) => n.op === 'leaf');
    const [na, nb] = leaves.filter((n) => n.scalar === 3 || n.scalar === -1.5).sort((p, q) => q.scalar! - p.scalar!);
    na.curve!.xs.forEach((x, i) => assert.equal(na.curve!.ys[i], 2 * (x * -1.5 + 2.25)));
    nb.curve!.xs.forEach((x, i) => assert.ok(Math.abs(nb.curve!.ys[i]! - 2 * (3 * x + x * x)) < 1e-12));
    assert.equal(leaves.find((n) => n.leaf === 'constant')!.curve, undefined);
  });

  it('NaN on part of the interval is a gap (null), not a number; float32 leaves are evaluated in float32', () => {
    const x = scalar(0.5);
    const out = x.log(); // log of x ≤ 0 is NaN or −Infinity
    const c = outputCurve(out, x);
    c.xs.forEach((xi, i) => (xi > 0 ? assert.equal(c.ys[i], Math.log(xi)) : assert.equal(c.ys[i], null)));
    const w = param(0.1);
    const y = w.mul(3).square();
    const c32 = outputCurve(y, w, { points: 5, halfWidth: 1 });
    c32.xs.forEach((xi, i) => assert.equal(c32.ys[i], Math.fround(Math.fround(Math.fround(xi) * 3) ** 2)));
  });

  it('no curves for a tensor leaf, or when the output is not a scalar', () => {
    const w = param([1, 2, 3]);
    const s = buildSnapshot(w.mul(w).sum(), { file: 'f.ts' });
    assert.ok(s.nodes.every((n) => n.curve === undefined));
    assert.throws(() => outputCurve(w.mul(2), w), /one element/);
  });
});
