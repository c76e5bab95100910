/**
 * The loss chart's smoothing (TensorBoard's debiased exponential moving average): the first point is
 * the first loss, a constant stays constant, and each point is (1 − w)·Σ wᵏ·lossₜ₋ₖ / (1 − wᵗ⁺¹),
 * written out here as a sum rather than the chart's running form.
 */
import * as assert from 'node:assert/strict';
import { smoothLosses } from '../../webview/training/smoothing';

describe('loss smoothing', () => {
  const pts = [3, 1, 4, 1, 5, 9, 2, 6].map((loss, i) => ({ step: i + 1, loss }));

  it('is the debiased moving average, term by term', () => {
    for (const w of [0.6, 0.9, 0.99]) {
      const got = smoothLosses(pts, w);
      got.forEach((p, t) => {
        let num = 0, den = 0;
        for (let k = 0; k <= t; k++) {
          num += w ** k * pts[t - k].loss;
          den += w ** k;
        }
        assert.ok(Math.abs(p.loss - num / den) < 1e-12 * Math.abs(num / den), `w ${w}, point ${t}: ${p.loss} vs ${num / den}`);
        assert.equal(p.step, pts[t].step);
      });
      assert.ok(Math.abs(got[0].loss - 3) < 1e-15 * 3, 'the first point is the first loss');
    }
  });

  it('keeps a constant, leaves the losses as they are at w = 0, and passes a NaN through without spoiling the rest', () => {
    assert.ok(smoothLosses(pts.map((p) => ({ ...p, loss: 2 })), 0.9).every((p) => Math.abs(p.loss - 2) < 1e-12));
    assert.deepEqual(smoothLosses(pts, 0), pts);
    const withNaN = smoothLosses([{ step: 1, loss: 1 }, { step: 2, loss: NaN }, { step: 3, loss: 1 }], 0.5);
    assert.ok(Number.isNaN(withNaN[1].loss));
    assert.equal(withNaN[2].loss, 1);
  });
});
