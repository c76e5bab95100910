/**
 * broadcastTo's kernel (a single value filled, x repeated whole along leading axes copied block by
 * block, the rest through strided offsets) against the definition of broadcasting, on 300 random
 * shapes with 1s anywhere and fewer axes than the target.
 */
import assert from 'node:assert/strict';
import { Rng, tensor } from '../../engine/index';
import { broadcastTo } from '../../engine/ops/reduce';

describe('broadcastTo kernel', () => {
  it('every output element is the input element the broadcasting rules name, 300 random shapes', () => {
    const rng = new Rng(2);
    for (let t = 0; t < 300; t++) {
      const rank = 1 + rng.int(4);
      const shape = Array.from({ length: rank }, () => 1 + rng.int(4));
      const xs = shape.map((d) => (rng.int(3) === 0 ? 1 : d)).slice(rng.int(rank));
      const dtype = t % 2 ? 'float64' : 'float32';
      const x = tensor(Float64Array.from({ length: xs.reduce((a, b) => a * b, 1) }, () => rng.normal()), { shape: xs, dtype });
      const y = broadcastTo(x, shape);
      assert.deepEqual(y.shape, shape);
      assert.equal(y.dtype, dtype);
      const strides = xs.map((_, i) => xs.slice(i + 1).reduce((a, b) => a * b, 1));
      for (let i = 0; i < y.size; i++) {
        let rem = i, off = 0;
        for (let d = shape.length - 1; d >= 0; d--) {
          const c = rem % shape[d];
          rem = Math.floor(rem / shape[d]);
          const xd = d - (shape.length - xs.length);
          if (xd >= 0 && xs[xd] !== 1) off += c * strides[xd];
        }
        if (!Object.is(y.data[i], x.data[off])) assert.fail(`[${xs}] → [${shape}]: [${i}] ${y.data[i]}, want x[${off}] = ${x.data[off]}`);
      }
    }
  });
});
