/**
 * The decision boundary (engine/check/boundary.ts) of a model whose boundary is known: a logistic
 * unit σ(x₁ − x₂) predicts class 1 exactly where x₁ > x₂, with confidence σ(|x₁ − x₂|); a 3-class
 * linear model predicts the class of its largest logit. Points are the training data, labels as given.
 */
import * as assert from 'node:assert/strict';
import { boundaryReport } from '../../engine/check/boundary';
import { Trainer, data, defineTraining, losses, nn, optim } from '../../engine';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

describe('decision boundary', () => {
  it('a logistic unit σ(x₁ − x₂): class 1 where x₁ > x₂, confidence σ(|x₁ − x₂|), on a grid over the data', () => {
    const model = nn.linear(2, 1, { dtype: 'float64' });
    model.weight.data.set([1, -1]);
    model.bias!.data.set([0]);
    const xs = [[0, 0], [1, 2], [3, -1], [2, 2.5], [-1, 0.5]];
    const ds = data.fromArrays(xs, [0, 1, 1, 0, 1], { task: 'binary', dtype: 'float64' });
    const t = new Trainer(defineTraining({ model, data: ds, loss: losses.bceWithLogits, optimizer: optim.sgd({ lr: 0 }), steps: 1 }));
    const r = boundaryReport(t);
    assert.equal(r.task, 'binary');
    assert.equal(r.classes, 2);
    assert.equal(r.xs.length, 60);
    // the grid covers the data with a margin of a tenth of its extent
    assert.ok(r.xs[0] < -1 && r.xs[59] > 3 && r.ys[0] < -1 && r.ys[59] > 2.5);
    r.cls.forEach((k, idx) => {
      const x1 = r.xs[idx % 60], x2 = r.ys[Math.floor(idx / 60)];
      assert.equal(k, x1 - x2 > 0 ? 1 : 0, `cell (${x1}, ${x2})`);
      assert.ok(Math.abs(r.confidence[idx] - sigmoid(Math.abs(x1 - x2))) < 1e-12);
    });
    assert.deepEqual(r.points, xs.map((p, i) => [p[0], p[1], [0, 1, 1, 0, 1][i]]));
    assert.equal(r.standardized, false);
  });

  it('three classes: the largest logit; refuses data that is not two features of classes', () => {
    const model = nn.linear(2, 3, { dtype: 'float64' });
    model.weight.data.set([1, 0, 0, 1, -1, -1]);
    model.bias!.data.set([0, 0, 0]);
    const ds = data.fromArrays([[1, 0], [0, 1], [-1, -1]], [0, 1, 2], { task: 'multiclass', dtype: 'float64' });
    const r = boundaryReport(new Trainer(defineTraining({ model, data: ds, loss: losses.softmaxCrossEntropy, optimizer: optim.sgd({ lr: 0 }), steps: 1 })));
    assert.equal(r.classes, 3);
    r.cls.forEach((k, idx) => {
      const z = [r.xs[idx % 60], r.ys[Math.floor(idx / 60)], -r.xs[idx % 60] - r.ys[Math.floor(idx / 60)]];
      assert.equal(k, z.indexOf(Math.max(...z)));
    });
    const three = data.fromArrays([[1, 0, 2], [0, 1, 1]], [0, 1], { task: 'binary' });
    assert.throws(() => boundaryReport(new Trainer(defineTraining({ model: nn.linear(3, 1), data: three, loss: losses.bceWithLogits, optimizer: optim.sgd({ lr: 0 }), steps: 1 }))), /two input features; this data has 3/);
    const reg = data.fromArrays([[1, 0], [0, 1]], [[0.5], [1.5]], { task: 'regression' });
    assert.throws(() => boundaryReport(new Trainer(defineTraining({ model: nn.linear(2, 1), data: reg, loss: losses.mse, optimizer: optim.sgd({ lr: 0 }), steps: 1 }))), /classification/);
  });
});
