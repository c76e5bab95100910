/**
 * One element's chain rule through one op (engine/check/elementChain.ts): the terms are the ones a
 * hand derivation gives (matmul: ∂L/∂W[i,j] = Σₖ ∂L/∂Z[k,j]·X[k,i]; broadcast multiply; a sum), and
 * their total is the element of the gradient the backward pass computed.
 */
import * as assert from 'node:assert/strict';
import { elementChain } from '../../engine/check/elementChain';
import { OPS } from '../../engine/ops/functional';
import { Rng } from '../../engine/random';
import { matmul, tensor } from '../../engine';

const rng = new Rng(3);
const vals = (n: number) => Float64Array.from({ length: n }, () => Math.round((rng.uniform() * 4 - 2) * 100) / 100);
const op = (name: string) => OPS.get(name)!;

describe('one element\'s chain rule through an op', () => {
  it('matmul: ∂L/∂W[i,j] = Σₖ ∂L/∂Z[k,j]·X[k,i], one term per row k; ∂L/∂X[k,i] = Σⱼ ∂L/∂Z[k,j]·W[i,j]', () => {
    const X = vals(4 * 3), W = vals(3 * 2), G = vals(4 * 2);
    for (const [i, j] of [[0, 0], [2, 1], [1, 1]]) {
      const c = elementChain({ def: op('matmul'), attrs: {}, inputs: [{ values: X, shape: [4, 3], dtype: 'float64' }, { values: W, shape: [3, 2], dtype: 'float64' }], input: 1, element: i * 2 + j, upstream: G });
      const want = [0, 1, 2, 3].map((k) => ({ index: k * 2 + j, upstream: G[k * 2 + j], local: X[k * 3 + i] })).filter((t) => t.local !== 0);
      assert.deepEqual(c.terms, want);
    }
    const c = elementChain({ def: op('matmul'), attrs: {}, inputs: [{ values: X, shape: [4, 3], dtype: 'float64' }, { values: W, shape: [3, 2], dtype: 'float64' }], input: 0, element: 2 * 3 + 1, upstream: G });
    assert.deepEqual(c.terms, [0, 1].map((j) => ({ index: 2 * 2 + j, upstream: G[2 * 2 + j], local: W[1 * 2 + j] })));
    // the total is the backward pass's gradient of that element
    const x = tensor(X, { shape: [4, 3], dtype: 'float64', requiresGrad: true });
    const w = tensor(W, { shape: [3, 2], dtype: 'float64' });
    matmul(x, w).backward({ grad: tensor(G, { shape: [4, 2], dtype: 'float64' }) });
    assert.ok(Math.abs(c.total - Number(x.grad!.data[7])) <= 1e-15 * c.terms.reduce((s, t) => s + Math.abs(t.upstream * t.local), 0));
  });

  it('a broadcast multiply: b[j] gathers one term per row (a[r, j]); an element of a gets one term (b[j])', () => {
    const A = vals(2 * 3), B = vals(3), G = vals(2 * 3);
    const inputs = [{ values: A, shape: [2, 3], dtype: 'float32' as const }, { values: B, shape: [3], dtype: 'float32' as const }];
    const cb = elementChain({ def: op('mul'), attrs: {}, inputs, input: 1, element: 2, upstream: G });
    assert.deepEqual(cb.terms.map((t) => t.index), [2, 5]);
    cb.terms.forEach((t) => assert.equal(t.local, Math.fround(A[t.index])));
    const ca = elementChain({ def: op('mul'), attrs: {}, inputs, input: 0, element: 4, upstream: G });
    assert.deepEqual(ca.terms, [{ index: 4, upstream: G[4], local: Math.fround(B[1]) }]);
  });

  it('a sum over an axis: each element of a row has one term, with factor 1; a term whose factor is 0 is left out', () => {
    const X = vals(3 * 4), G = vals(3);
    const c = elementChain({ def: op('sum'), attrs: { axes: [1], keepdims: false }, inputs: [{ values: X, shape: [3, 4], dtype: 'float64' }], input: 0, element: 6, upstream: G });
    assert.deepEqual(c.terms, [{ index: 1, upstream: G[1], local: 1 }]);
    const r = elementChain({ def: op('relu'), attrs: {}, inputs: [{ values: [-1, 2], shape: [2], dtype: 'float64' }], input: 0, element: 0, upstream: [5, 7] });
    assert.deepEqual(r, { terms: [], total: 0 });
    assert.throws(() => elementChain({ def: op('relu'), attrs: {}, inputs: [{ values: [-1, 2], shape: [2], dtype: 'float64' }], input: 0, element: 2, upstream: [5, 7] }), /outside/);
  });
});
