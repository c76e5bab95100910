/**
 * Loss landscape slices around the current parameters θ: L(θ + α·d₁) and L(θ + α·d₁ + β·d₂) along
 * random filter-normalized directions (Li et al. 2018, "Visualizing the Loss Landscape of Neural
 * Nets"). Filter normalization makes the plot comparable across layers and models: a direction
 * moves every filter by as much as the filter already weighs, so scale-invariant layers (ReLU
 * followed by a normalization) do not make one model look sharper than another.
 *
 * The filter axis is axis 0. The engine's Linear stores its weight as [out, in] (engine/nn/layers.ts,
 * PyTorch's layout), so row o is the filter of output unit o: the weights feeding one neuron. Any
 * tensor of rank ≥ 2 is read the same way, [out, ...rest], as a convolution's [out, in, kh, kw] is.
 */
import type { Tensor } from '../tensor';
import type { TypedArray } from '../dtype';
import { Rng } from '../random';
import { noGrad } from '../ops/context';
import type { LandscapeReport } from './analysis';

export interface LandscapeOptions {
  /** Offsets run over [−range, range] along each direction (default 1: one filter norm). */
  range?: number;
  /** Points of the 1-D slice, odd so that α = 0 is on the grid (default 41). */
  points1d?: number;
  /** Points per axis of the 2-D slice, odd (default 21). */
  points2d?: number;
  /** Also compute the 2-D slice (default true). */
  twoD?: boolean;
  /** Seed of the random directions (default 0). */
  seed?: number;
}

/** The landscape without the panel's bookkeeping (`step`, `on`). */
export type LandscapeSlices = Omit<LandscapeReport, 'step' | 'on'>;

const MAX_POINTS = 201;

/**
 * A random Gaussian direction with `p`'s shape, filter-normalized: for rank ≥ 2 each slice along
 * axis 0 (one output unit's weights) gets the norm of the same slice of θ; a rank-0/1 tensor is zero
 * when `zeroBias`, else one filter. An all-zero filter gets norm 1, so zero-initialised weights move.
 */
export function filterNormalizedDirection(p: Tensor, rand: () => number, opts: { zeroBias: boolean }): Float64Array {
  const d = new Float64Array(p.size);
  for (let i = 0; i < d.length; i++) d[i] = rand();
  if (p.rank < 2) {
    if (opts.zeroBias) d.fill(0);
    else normalizeFilter(d, p.data, 0, d.length);
    return d;
  }
  const filters = p.shape[0];
  const filterSize = filters === 0 ? 0 : p.size / filters;
  for (let f = 0; f < filters; f++) normalizeFilter(d, p.data, f * filterSize, (f + 1) * filterSize);
  return d;
}

/** Scales d[start, end) to the norm of θ[start, end), or to norm 1 when that slice of θ is all zero. */
function normalizeFilter(d: Float64Array, theta: TypedArray, start: number, end: number): void {
  let dSq = 0, thetaSq = 0;
  for (let i = start; i < end; i++) {
    dSq += d[i] * d[i];
    thetaSq += theta[i] * theta[i];
  }
  if (dSq === 0) return;
  const target = thetaSq > 0 ? Math.sqrt(thetaSq) : 1;
  const scale = target / Math.sqrt(dSq);
  for (let i = start; i < end; i++) d[i] *= scale;
}

/**
 * Evaluates `loss` on a 1-D (and optionally 2-D) grid around the current parameters along seeded
 * filter-normalized directions. `loss` must read the parameters each call and be deterministic
 * (eval mode); it runs without gradient tracking. The parameters are moved in place and restored
 * bit-for-bit afterwards, also when `loss` throws. Non-finite losses are kept as NaN/Infinity.
 */
export function lossLandscape(loss: () => number, params: Tensor[], opts: LandscapeOptions = {}): LandscapeSlices {
  if (typeof loss !== 'function') throw new Error('lossLandscape: loss must be a function returning the loss as a number');
  const range = opts.range ?? 1;
  const points1d = opts.points1d ?? 41;
  const points2d = opts.points2d ?? 21;
  const twoD = opts.twoD ?? true;
  const seed = opts.seed ?? 0;
  if (!(typeof range === 'number' && Number.isFinite(range) && range > 0)) {
    throw new Error(`lossLandscape: range must be a positive finite number (offsets run over [−range, range]), got ${range}`);
  }
  checkPoints('points1d', points1d);
  checkPoints('points2d', points2d);
  if (!(typeof seed === 'number' && Number.isFinite(seed))) throw new Error(`lossLandscape: seed must be a finite number, got ${seed}`);

  // the same tensor listed twice would be moved twice as far
  const tensors = [...new Set(params)];
  if (tensors.length === 0) throw new Error('lossLandscape: no parameters to perturb; pass the model\'s parameters() or the params of the loss');
  tensors.forEach((p, k) => {
    if (p.dtype === 'int32') throw new Error(`lossLandscape: ${p.name ?? `parameter ${k}`} is int32; only float32/float64 parameters can be perturbed`);
  });

  // Li et al. zero the directions of biases and normalization parameters in a network; bare
  // parameters (no weight matrix anywhere) are the whole model, so they move.
  const zeroBias = tensors.some((p) => p.rank >= 2);
  const rng = new Rng(seed);
  const rand = () => rng.normal();
  const d1 = tensors.map((p) => filterNormalizedDirection(p, rand, { zeroBias }));
  const d2 = twoD ? tensors.map((p) => filterNormalizedDirection(p, rand, { zeroBias })) : null;
  const parameters = tensors.reduce((n, p) => n + (zeroBias && p.rank < 2 ? 0 : p.size), 0);

  const storage = tensors.map((p) => p.data);
  const original = storage.map((data) => Float64Array.from(data));
  const backup = storage.map((data) => data.slice());
  /** Writes θ + α·d₁ + β·d₂ into the parameters (rounded to their dtype by the typed array). */
  const moveTo = (alpha: number, beta: number) => {
    tensors.forEach((p, k) => {
      const data = storage[k], theta = original[k], a = d1[k];
      if (d2 === null) for (let i = 0; i < data.length; i++) data[i] = theta[i] + alpha * a[i];
      else {
        const b = d2[k];
        for (let i = 0; i < data.length; i++) data[i] = theta[i] + alpha * a[i] + beta * b[i];
      }
    });
  };
  const evaluate = () => noGrad(() => Number(loss()));

  try {
    const center = evaluate();
    const alphas = grid(range, points1d);
    const losses1d = alphas.map((alpha) => {
      moveTo(alpha, 0);
      return evaluate();
    });
    let betas: number[] | null = null, losses2d: number[][] | null = null;
    if (twoD) {
      const xs = grid(range, points2d);
      betas = xs.slice();
      losses2d = betas.map((beta) => xs.map((alpha) => {
        moveTo(alpha, beta);
        return evaluate();
      }));
    }
    return { alphas, losses1d, betas, losses2d, center, parameters, seed };
  } finally {
    tensors.forEach((p, k) => {
      p.data = storage[k];
      storage[k].set(backup[k]);
    });
  }
}

function checkPoints(name: string, n: number): void {
  if (!(Number.isInteger(n) && n >= 3 && n <= MAX_POINTS && n % 2 === 1)) {
    throw new Error(`lossLandscape: ${name} must be an odd integer from 3 to ${MAX_POINTS} (odd so that 0 is on the grid), got ${n}`);
  }
}

/** n offsets from −range to range, symmetric, with exactly 0 in the middle. */
function grid(range: number, n: number): number[] {
  const half = (n - 1) / 2;
  return Array.from({ length: n }, (_, i) => (range * (i - half)) / half);
}
