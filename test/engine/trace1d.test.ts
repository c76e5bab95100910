/**
 * The one-parameter trace (engine/check/trace1d.ts) on gradient descent on x² from 10 with lr 0.2:
 * each step multiplies x by 1 − 2·0.2 = 0.6, the loss at each iterate is its square, the curve is x²
 * over the iterates' span, and the parameter is left where the run has it.
 */
import * as assert from 'node:assert/strict';
import { traceReport } from '../../engine/check/trace1d';
import { Trainer, defineTraining, optim, param } from '../../engine';

describe('trace of one parameter', () => {
  it('x ← 0.6·x on x²: the iterates, their losses, the curve; x is left as it was', () => {
    const x = param(10, { dtype: 'float64' }).named('x');
    const t = new Trainer(defineTraining({ params: [x], loss: () => x.pow(2), optimizer: optim.sgd({ lr: 0.2 }), steps: 10 }));
    for (let i = 0; i < 10; i++) t.step();
    const before = x.data[0];
    const r = traceReport(t);
    assert.equal(x.data[0], before);
    assert.equal(r.name, 'x');
    assert.equal(r.step, 10);
    assert.deepEqual(r.iterates.map((q) => q.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    r.iterates.forEach((q, k) => {
      assert.ok(Math.abs(q.theta - 10 * 0.6 ** k) <= 1e-13 * 10, `x at step ${k}`);
      assert.ok(Math.abs(q.loss! - q.theta ** 2) <= 1e-12 * Math.max(1, q.theta ** 2));
    });
    assert.ok(r.xs[0] < 10 * 0.6 ** 10 && r.xs[r.xs.length - 1] > 10, 'the curve spans the iterates');
    r.xs.forEach((v, i) => assert.ok(Math.abs(r.ys[i]! - v * v) <= 1e-12 * Math.max(1, v * v)));
  });

  it('a diverging run (lr 1.1): x flips sign and grows; more than one parameter is refused', () => {
    const x = param(1, { dtype: 'float64' }).named('x');
    const t = new Trainer(defineTraining({ params: [x], loss: () => x.pow(2), optimizer: optim.sgd({ lr: 1.1 }), steps: 5 }));
    for (let i = 0; i < 5; i++) t.step();
    const r = traceReport(t);
    r.iterates.forEach((q, k) => assert.ok(Math.abs(q.theta - (-1.2) ** k) < 1e-12, `x at step ${k}: ${q.theta}`));
    const w = param([1, 2], { dtype: 'float64' });
    const two = new Trainer(defineTraining({ params: [w], loss: () => w.pow(2).sum(), optimizer: optim.sgd({ lr: 0.1 }), steps: 1 }));
    assert.throws(() => traceReport(two), /one parameter; this one has 2 values/);
  });
});
