/**
 * Loss landscape slices: on Σθ² the 1-D slice is the parabola ‖θ + αd‖² with ‖d‖ = ‖θ‖; the grid
 * is symmetric with α = 0 in the middle; parameters come back bit-for-bit (also after a throwing
 * loss); filter normalization gives each output unit's weights the norm they had; seeds repeat;
 * the 2-D slice's row β = 0 is the 1-D slice; and on a small model the center is the model's loss.
 */
import * as assert from 'node:assert/strict';
import { Rng, losses, nn, param, tensor, type Tensor } from '../../engine/index';
import { filterNormalizedDirection, lossLandscape } from '../../engine/check/landscape';
import { p64, values } from './helpers';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);
const sumSquares = (params: Tensor[]) => () => params.reduce((s, p) => s + Array.from(p.data).reduce((t, v) => t + v * v, 0), 0);
const norm = (a: ArrayLike<number>, start = 0, end = a.length) => {
  let s = 0;
  for (let i = start; i < end; i++) s += a[i] * a[i];
  return Math.sqrt(s);
};

/** Bare parameters (no weight matrix): a vector and a scalar, float64. */
function bare() {
  const v = p64(Float64Array.from([0.5, -1.25, 2, 0.75, -0.3]), [5], 'v');
  const s = param(1.5, { dtype: 'float64' }).named('s');
  return [v, s];
}

/** A 2 → 8 → 1 tanh MLP on a fixed batch, and its MSE as a number. */
function smallModel(dtype: 'float32' | 'float64' = 'float32') {
  const model = nn.sequential(nn.linear(2, 8, { seed: 1, dtype }), nn.tanh(), nn.linear(8, 1, { seed: 2, dtype }));
  const rng = new Rng(11);
  const x = tensor(values(rng, 32, -1, 1), { shape: [16, 2], dtype });
  const y = tensor(values(rng, 16, -1, 1), { shape: [16, 1], dtype });
  return { model, loss: () => losses.mse(model.forward(x), y).item() };
}

describe('loss landscape: filter-normalized directions', () => {
  it('gives every filter (row of a [out, in] weight) the norm of the same row of θ, and a zero row norm 1', () => {
    const rng = new Rng(4);
    const w = param(tensor(values(rng, 12, -2, 2), { shape: [4, 3], dtype: 'float64' }));
    w.data.fill(0, 6, 9); // row 2 is all zero
    const d = filterNormalizedDirection(w, () => rng.normal(), { zeroBias: true });
    assert.equal(d.length, 12);
    for (let row = 0; row < 4; row++) {
      const expected = row === 2 ? 1 : norm(w.data, 3 * row, 3 * row + 3);
      close(norm(d, 3 * row, 3 * row + 3), expected);
    }
  });

  it('treats axis 0 as the filter axis for higher ranks too ([out, in, k])', () => {
    const rng = new Rng(5);
    const w = param(tensor(values(rng, 24, -1, 1), { shape: [2, 3, 4], dtype: 'float32' }));
    const d = filterNormalizedDirection(w, () => rng.normal(), { zeroBias: false });
    for (let f = 0; f < 2; f++) close(norm(d, 12 * f, 12 * f + 12), norm(w.data, 12 * f, 12 * f + 12));
  });

  it('zeroes 1-D tensors with zeroBias, else normalizes them as one filter (zero tensors to norm 1)', () => {
    const rng = new Rng(6);
    const b = p64(Float64Array.from([0.2, -0.4, 1.1]), [3]);
    assert.deepEqual(Array.from(filterNormalizedDirection(b, () => rng.normal(), { zeroBias: true })), [0, 0, 0]);
    close(norm(filterNormalizedDirection(b, () => rng.normal(), { zeroBias: false })), norm(b.data));
    const z = p64(new Float64Array(4), [4]);
    close(norm(filterNormalizedDirection(z, () => rng.normal(), { zeroBias: false })), 1);
    const s = param(-3, { dtype: 'float64' });
    close(Math.abs(filterNormalizedDirection(s, () => rng.normal(), { zeroBias: false })[0]), 3);
  });
});

describe('loss landscape: slices', () => {
  it('on Σθ² with bare parameters the 1-D slice is the parabola ‖θ + αd‖², ‖d‖ = ‖θ‖', () => {
    const params = bare();
    const theta = params.map((p) => Float64Array.from(p.data));
    const r = lossLandscape(sumSquares(params), params, { range: 2, points1d: 11, twoD: false, seed: 3 });
    // the directions lossLandscape draws: d₁ for each parameter in order, from the seed's normals
    const rng = new Rng(3);
    const d = params.map((p) => filterNormalizedDirection(p, () => rng.normal(), { zeroBias: false }));
    r.alphas.forEach((alpha, i) => {
      let expected = 0;
      theta.forEach((t, k) => t.forEach((v, j) => { expected += (v + alpha * d[k][j]) ** 2; }));
      close(r.losses1d[i], expected);
    });
    // independent of d: L(α) + L(−α) − 2L(0) = 2α²‖d‖² = 2α²‖θ‖²
    const thetaSq = sumSquares(params)();
    const mid = (r.alphas.length - 1) / 2;
    for (let i = 1; i <= mid; i++) {
      const alpha = r.alphas[mid + i];
      close(r.losses1d[mid + i] + r.losses1d[mid - i] - 2 * r.losses1d[mid], 2 * alpha * alpha * thetaSq);
    }
    assert.equal(r.parameters, 6);
    assert.equal(r.seed, 3);
    assert.equal(r.betas, null);
    assert.equal(r.losses2d, null);
  });

  it('the grid is symmetric with α = 0 in the middle, and the center is L(θ)', () => {
    const params = bare();
    const loss = sumSquares(params);
    const before = loss();
    const r = lossLandscape(loss, params, { range: 0.5, points1d: 7, points2d: 5 });
    assert.equal(r.alphas.length, 7);
    assert.deepEqual([r.alphas[0], r.alphas[3], r.alphas[6]], [-0.5, 0, 0.5]);
    r.alphas.forEach((a, i) => close(a, -r.alphas[6 - i]));
    assert.equal(r.center, before);
    assert.equal(r.losses1d[3], before);
    assert.equal(r.betas!.length, 5);
    assert.equal(r.betas![2], 0);
    assert.equal(r.losses2d!.length, 5);
    r.losses2d!.forEach((row) => assert.equal(row.length, 5));
    assert.equal(r.losses2d![2][2], before);
    // defaults: 41 and 21 points over [−1, 1]
    const d = lossLandscape(loss, params);
    assert.equal(d.alphas.length, 41);
    assert.deepEqual([d.alphas[0], d.alphas[20], d.alphas[40]], [-1, 0, 1]);
    assert.equal(d.betas!.length, 21);
    assert.equal(d.seed, 0);
  });

  it('restores the parameters bit-for-bit, also when the loss throws', () => {
    const { model, loss } = smallModel('float32');
    const params = model.parameters();
    const arrays = params.map((p) => p.data);
    const snapshot = params.map((p) => Array.from(p.data));
    lossLandscape(loss, params, { range: 0.7, points1d: 5, points2d: 5 });
    params.forEach((p, k) => {
      assert.equal(p.data, arrays[k], 'the same storage');
      assert.deepEqual(Array.from(p.data), snapshot[k]);
    });
    let calls = 0;
    const throwing = () => {
      if (++calls === 4) throw new Error('boom');
      return loss();
    };
    assert.throws(() => lossLandscape(throwing, params, { points1d: 5 }), /boom/);
    assert.equal(calls, 4);
    params.forEach((p, k) => {
      assert.equal(p.data, arrays[k]);
      assert.deepEqual(Array.from(p.data), snapshot[k]);
    });
  });

  it('same seed, same slices; another seed, other slices; the 1-D slice does not depend on twoD', () => {
    const { model, loss } = smallModel('float64');
    const params = model.parameters();
    const a = lossLandscape(loss, params, { points1d: 9, points2d: 5, seed: 1 });
    const b = lossLandscape(loss, params, { points1d: 9, points2d: 5, seed: 1 });
    const c = lossLandscape(loss, params, { points1d: 9, points2d: 5, seed: 2 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.losses1d, c.losses1d);
    assert.notDeepEqual(a.losses2d, c.losses2d);
    const oneD = lossLandscape(loss, params, { points1d: 9, twoD: false, seed: 1 });
    assert.deepEqual(oneD.losses1d, a.losses1d);
  });

  it("the 2-D slice's row β = 0 is the 1-D slice when the point counts match", () => {
    const { model, loss } = smallModel('float32');
    const r = lossLandscape(loss, model.parameters(), { points1d: 9, points2d: 9, range: 1.5, seed: 4 });
    assert.deepEqual(r.betas, r.alphas);
    assert.deepEqual(r.losses2d![4], r.losses1d);
    // and the other rows do move
    assert.notDeepEqual(r.losses2d![0], r.losses1d);
  });

  it('on a small nn model the center is the model loss, biases stay put and only weights count', () => {
    const { model, loss } = smallModel('float32');
    const expected = loss();
    const params = model.parameters();
    const r = lossLandscape(loss, params, { points1d: 7, points2d: 3 });
    assert.equal(r.center, expected);
    assert.equal(r.losses1d[3], expected);
    assert.equal(r.parameters, 2 * 8 + 8 * 1);
    assert.ok(r.losses1d.some((l) => l !== expected), 'moving the weights changes the loss');
    // a loss of the biases alone is flat: their directions are zero in a model
    const biases = params.filter((p) => p.rank === 1);
    assert.equal(biases.length, 2);
    const flat = lossLandscape(sumSquares(biases), params, { points1d: 5, points2d: 3 });
    flat.losses1d.forEach((l) => assert.equal(l, flat.center));
    flat.losses2d!.flat().forEach((l) => assert.equal(l, flat.center));
  });

  it('moves a zero-initialised weight: each filter by norm 1', () => {
    const layer = nn.linear(3, 4, { init: 'zeros', dtype: 'float64' });
    const w = layer.weight;
    assert.ok(w.data.every((v) => v === 0));
    // Σw² along θ + αd with θ = 0 and 4 unit-norm filters: 4α²
    const r = lossLandscape(sumSquares([w]), layer.parameters(), { points1d: 5, twoD: false, range: 2 });
    r.alphas.forEach((a, i) => close(r.losses1d[i], 4 * a * a));
  });

  it('keeps non-finite losses as they are', () => {
    const x = param(5, { dtype: 'float64' });
    // d = ±5, so θ + αd runs over [−10, 20] with range 3
    const loss = () => {
      const v = x.data[0];
      return v > 15 ? NaN : v < -5 ? Infinity : v;
    };
    const r = lossLandscape(loss, [x], { range: 3, points1d: 13, twoD: false });
    assert.equal(r.losses1d.length, 13);
    assert.ok(r.losses1d.some((l) => Number.isNaN(l)));
    assert.ok(r.losses1d.some((l) => l === Infinity));
    assert.equal(r.losses1d[6], 5);
    assert.equal(x.data[0], 5);
  });

  it('rejects bad options and empty parameter lists, saying what is expected', () => {
    const params = bare();
    const loss = sumSquares(params);
    const bad: [object, RegExp][] = [
      [{ points1d: 40 }, /points1d must be an odd integer from 3 to 201/],
      [{ points1d: 1 }, /points1d must be an odd integer from 3 to 201/],
      [{ points1d: 203 }, /points1d must be an odd integer from 3 to 201/],
      [{ points1d: 4.5 }, /points1d must be an odd integer/],
      [{ points2d: 20 }, /points2d must be an odd integer from 3 to 201/],
      [{ range: 0 }, /range must be a positive finite number/],
      [{ range: -1 }, /range must be a positive finite number/],
      [{ range: NaN }, /range must be a positive finite number/],
      [{ seed: Infinity }, /seed must be a finite number/],
    ];
    for (const [opts, re] of bad) assert.throws(() => lossLandscape(loss, params, opts), re, JSON.stringify(opts));
    assert.throws(() => lossLandscape(loss, []), /no parameters to perturb/);
    assert.ok(lossLandscape(loss, params, { points1d: 201, points2d: 3 }).alphas.length === 201);
  });
});
