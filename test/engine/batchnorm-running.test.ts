/**
 * Batch norm's running statistics, the textbook variant beside PyTorch's: with `running: 'std'` the
 * layer keeps a moving average of the batch's σ_B = √(σ²_B + ε) and evaluation divides by it, as the
 * lecture's formula does; by default it keeps PyTorch's running variance (checked against torch.nn in
 * test/oracle/modules.test.ts). The averages here are computed by hand from the batches.
 */
import * as assert from 'node:assert/strict';
import { nn, tensor } from '../../engine';

const batches = [
  [[1, 2], [3, -1], [0.5, 4]],
  [[-2, 0], [1, 1], [2, 5]],
];

describe("batch norm's running statistics", () => {
  it("running: 'std' averages σ_B = √(σ²_B + ε) with the momentum, and evaluation divides by that average", () => {
    const eps = 1e-5, m = 0.1;
    const bn = nn.batchNorm1d(2, { dtype: 'float64', running: 'std', momentum: m, eps });
    let mu = [0, 0], sigma = [1, 1], varRun = [1, 1];
    for (const b of batches) {
      bn.forward(tensor(b, { dtype: 'float64' }));
      for (let c = 0; c < 2; c++) {
        const col = b.map((r) => r[c]);
        const mean = col.reduce((a, v) => a + v, 0) / col.length;
        const v = col.reduce((a, x) => a + (x - mean) ** 2, 0) / col.length;
        mu[c] = (1 - m) * mu[c] + m * mean;
        sigma[c] = (1 - m) * sigma[c] + m * Math.sqrt(v + eps);
        varRun[c] = (1 - m) * varRun[c] + m * v * col.length / (col.length - 1);
      }
    }
    const near = (a: ArrayLike<number>, b: number[]) => b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-12, `${a[i]} vs ${v}`));
    near(bn.runningMean.data, mu);
    near(bn.runningStd!.data, sigma);
    near(bn.runningVar.data, varRun);
    bn.train(false);
    const x = [[0.3, -0.7], [2, 1]];
    const y = bn.forward(tensor(x, { dtype: 'float64' })).data;
    x.forEach((r, i) => r.forEach((v, c) => assert.ok(Math.abs(y[i * 2 + c] - (v - mu[c]) / sigma[c]) < 1e-12)));
    assert.ok(bn.namedBuffers().some(([k]) => k === 'runningStd'), 'the running σ is a buffer (saved, restored with the module)');
  });

  it("batchNorm2d with running: 'std' averages each channel's σ over N, H and W, and evaluation divides by it", () => {
    const eps = 1e-5, m = 0.1;
    const bn = nn.batchNorm2d(2, { dtype: 'float64', running: 'std', momentum: m, eps });
    // x [N=2, C=2, H=1, W=3], two batches
    const xs = [
      [[[[1, 2, 0]], [[3, -1, 4]]], [[[0.5, 4, 2]], [[-2, 0, 1]]]],
      [[[[2, 5, -1]], [[1, 1, 0]]], [[[3, 0.5, 2]], [[4, -3, 2]]]],
    ];
    let mu = [0, 0], sigma = [1, 1];
    for (const x of xs) {
      bn.forward(tensor(x, { dtype: 'float64' }));
      for (let c = 0; c < 2; c++) {
        const vals = x.flatMap((ex) => ex[c][0]);
        const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
        const v = vals.reduce((a, t) => a + (t - mean) ** 2, 0) / vals.length;
        mu[c] = (1 - m) * mu[c] + m * mean;
        sigma[c] = (1 - m) * sigma[c] + m * Math.sqrt(v + eps);
      }
    }
    const near = (a: ArrayLike<number>, b: number[]) => b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-12, `${a[i]} vs ${v}`));
    near(bn.runningMean.data, mu);
    near(bn.runningStd!.data, sigma);
    bn.train(false);
    const x = [[[[0.3, -0.7, 1]], [[2, 1, -1]]]];
    const y = bn.forward(tensor(x, { dtype: 'float64' })).data;
    x[0].forEach((ch, c) => ch[0].forEach((v, j) => assert.ok(Math.abs(y[c * 3 + j] - (v - mu[c]) / sigma[c]) < 1e-12, `channel ${c}, ${j}`)));
  });

  it("the default is PyTorch's running variance (no running σ); a wrong option says so", () => {
    const bn = nn.batchNorm1d(2, { dtype: 'float64' });
    assert.equal(bn.runningStd, null);
    assert.throws(() => nn.batchNorm1d(2, { running: 'sigma' as never }), /running must be 'variance' or 'std'/);
  });
});
