/**
 * Second-order tools of the optimizer playground: the Hessian of known functions, Jacobi
 * eigenvalues against closed forms, the minimum/maximum/saddle verdict, and trajectories that do
 * what the update rules say (SGD on 2x² + y² contracts each axis by 1 − lr·curvature per step).
 */
import * as assert from 'node:assert/strict';
import { SURFACES, classifyPoint, gradientAt, hessian, playground, symmetricEigenvalues } from '../../engine/check/hessian';
import { jacobian, tensor } from '../../engine/index';
import * as F from '../../engine/ops/functional';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

describe('hessian and the optimizer playground', () => {
  it('the Hessian of the built-in surfaces matches their closed forms', () => {
    const s = hessian(SURFACES.saddle.f, [0.3, -0.7]);
    [[2, 0], [0, -2]].forEach((row, i) => row.forEach((v, j) => close(s[i][j], v)));
    // Rosenbrock at (x, y): [[2 − 400(y − 3x²), −400x], [−400x, 200]]
    const [x, y] = [0.5, 0.2];
    const r = hessian(SURFACES.rosenbrock.f, [x, y]);
    close(r[0][0], 2 - 400 * (y - 3 * x * x), 1e-5);
    close(r[0][1], -400 * x, 1e-5);
    close(r[1][1], 200, 1e-5);
    // gradient of 2x² + y² is (4x, 2y)
    const g = gradientAt(SURFACES.bowl.f, [1.5, -2]);
    close(g[0], 6);
    close(g[1], -4);
  });

  it('symmetric eigenvalues: 2×2 closed form and a 3×3 with known spectrum', () => {
    const [a, b, c] = [3, 1.5, -2];
    const mid = (a + c) / 2, rad = Math.hypot((a - c) / 2, b);
    const e = symmetricEigenvalues([[a, b], [b, c]]);
    close(e[0], mid - rad);
    close(e[1], mid + rad);
    const e3 = symmetricEigenvalues([[4, 1, 0], [1, 3, 1], [0, 1, 2]]);
    [3 - Math.sqrt(3), 3, 3 + Math.sqrt(3)].forEach((v, i) => close(e3[i], v));
  });

  it('classifies minimum, maximum, saddle and non-critical points', () => {
    assert.equal(classifyPoint([0, 0], [2, 4]), 'minimum');
    assert.equal(classifyPoint([0, 0], [-2, -4]), 'maximum');
    assert.equal(classifyPoint([0, 0], [-2, 2]), 'saddle');
    assert.equal(classifyPoint([0.5, 0], [2, 4]), 'not critical');
    assert.equal(classifyPoint([0, 0], [0, 0]), 'flat');
  });

  it('SGD on 2x² + y² contracts x by (1 − 4·lr) and y by (1 − 2·lr) per step and ends at a minimum', () => {
    const [t] = playground(SURFACES.bowl.f, [-1.5, 1.8], [{ optimizer: 'sgd', lr: 0.1 }], 60);
    t.points.forEach(([x, y], k) => {
      close(x, -1.5 * 0.6 ** k, 1e-9);
      close(y, 1.8 * 0.8 ** k, 1e-9);
    });
    assert.equal(t.end.kind, 'minimum');
    t.end.eigenvalues.forEach((v, i) => close(v, [2, 4][i], 1e-4));
  });

  it('sgd with momentum and with Nesterov in the playground: the heavy-ball recurrence of torch.optim.SGD, step by step', () => {
    const lr = 0.05, mu = 0.9;
    const [heavy, nest] = playground(SURFACES.bowl.f, [-1.5, 1.8], [{ optimizer: 'sgd', lr, momentum: mu }, { optimizer: 'sgd', lr, momentum: mu, nesterov: true }], 40);
    assert.equal(heavy.momentum, mu);
    assert.equal(nest.nesterov, true);
    for (const [t, nesterov] of [[heavy, false], [nest, true]] as const) {
      // PyTorch: v ← μv + g (v = g at the first step); the step is v, or g + μv with Nesterov; θ ← θ − lr·step
      let p = [-1.5, 1.8], v: number[] | null = null;
      t.points.forEach(([x, y], k) => {
        close(x, p[0], 1e-9);
        close(y, p[1], 1e-9);
        if (k === t.points.length - 1) return;
        const g = [4 * p[0], 2 * p[1]];
        v = v ? v.map((vi, i) => mu * vi + g[i]) : g.slice();
        const d = nesterov ? g.map((gi, i) => gi + mu * v![i]) : v;
        p = p.map((pi, i) => pi - lr * d[i]);
      });
    }
  });

  it('at the saddle the Hessian says saddle; every optimizer leaves it along −y²', () => {
    const runs = playground(SURFACES.saddle.f, [1, 0.01], [{ optimizer: 'sgd', lr: 0.05 }, { optimizer: 'adam', lr: 0.05 }, { optimizer: 'rmsprop', lr: 0.01 }], 80);
    for (const r of runs) {
      assert.ok(Math.abs(r.end.point[1]) > 10 * 0.01, `${r.optimizer} escaped along y: ${r.end.point}`);
      assert.ok(r.losses[r.losses.length - 1] < r.losses[0]);
    }
    const H = hessian(SURFACES.saddle.f, [0, 0]);
    assert.equal(classifyPoint(gradientAt(SURFACES.saddle.f, [0, 0]), symmetricEigenvalues(H)), 'saddle');
  });

  it('a learning rate too high for Rosenbrock diverges, and the end point says so', () => {
    const [sgd, adam] = playground(SURFACES.rosenbrock.f, [-1.2, 1], [{ optimizer: 'sgd', lr: 0.05 }, { optimizer: 'adam', lr: 0.1 }], 200);
    assert.equal(sgd.end.kind, 'diverged');
    assert.ok(!Number.isFinite(sgd.end.loss));
    assert.ok(sgd.points.length < 201, 'the run stops at the first non-finite loss');
    assert.notEqual(adam.end.kind, 'diverged');
    assert.ok(Number.isFinite(adam.end.loss) && adam.end.loss < adam.losses[0]);
  });
});

describe('jacobian(f, x)', () => {
  it('of A·x is A; of Σx² is 2x in x\'s shape; of a constant is zeros; x keeps its values and gets no gradient', () => {
    const A = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' });
    const x = tensor([0.5, -1, 2], { dtype: 'float64' });
    const J = jacobian((v) => F.matmul(A, v), x);
    assert.deepEqual(J.shape, [2, 3]);
    assert.deepEqual(Array.from(J.data), [1, 2, 3, 4, 5, 6]);
    const X = tensor([[1, -2], [3, 0.5]], { dtype: 'float64' });
    const G = jacobian((v) => F.sum(F.mul(v, v)), X);
    assert.deepEqual(G.shape, [2, 2]);
    assert.deepEqual(Array.from(G.data), [2, -4, 6, 1]);
    assert.deepEqual(Array.from(jacobian(() => tensor([1, 2], { dtype: 'float64' }), x).data), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(x.data), [0.5, -1, 2]);
    assert.equal(x.grad, null);
    assert.throws(() => jacobian((v) => v, tensor([1, 2], { dtype: 'int32' })), /jacobian: x must be float32 or float64/);
  });
});
