/** Shared test utilities: random shapes and values from a seeded generator. */
import { Rng, Tensor, tensor, param } from '../../engine/index';

export function randomShape(rng: Rng, minRank = 0, maxRank = 3, maxDim = 4): number[] {
  const rank = minRank + rng.int(maxRank - minRank + 1);
  return Array.from({ length: rank }, () => 1 + rng.int(maxDim));
}

/** A shape that broadcasts against `shape`: some leading axes dropped, some sizes set to 1. */
export function broadcastPartner(rng: Rng, shape: number[]): number[] {
  const drop = rng.int(shape.length + 1);
  return shape.slice(drop).map((d) => (rng.uniform() < 0.35 ? 1 : d));
}

export function values(rng: Rng, n: number, lo: number, hi: number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rng.uniform();
  return v;
}

/** Values in ±[lo, hi]: away from zero, where abs/relu/sign-like ops have kinks. */
export function signedAwayFromZero(rng: Rng, n: number, lo = 0.1, hi = 2): Float64Array {
  const v = values(rng, n, lo, hi);
  for (let i = 0; i < n; i++) if (rng.uniform() < 0.5) v[i] = -v[i];
  return v;
}

export function p64(data: Float64Array, shape: number[], name?: string): Tensor {
  const t = param(tensor(data, { shape, dtype: 'float64' }), { dtype: 'float64' });
  if (name) t.named(name);
  return t;
}

export function c64(data: Float64Array, shape: number[]): Tensor {
  return tensor(data, { shape, dtype: 'float64' });
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** max |a − b| / max(|b|, floor) over all elements. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), floor));
  return m;
}

/** Registers a `before` hook that puts tfjs on its CPU backend (keeping its "use tfjs-node" banner out of the output). */
export function useTfjsCpu(tf: typeof import('@tensorflow/tfjs')): void {
  before(async function () {
    const warn = console.warn;
    console.warn = () => {};
    try {
      await tf.setBackend('cpu');
      await tf.ready();
      tf.tensor([0]).dispose();
    } finally {
      console.warn = warn;
    }
    if (tf.getBackend() !== 'cpu') throw new Error(`tfjs backend is ${tf.getBackend()}, expected cpu`);
  });
}
