/**
 * Gradient check: compares backward()'s gradients with centered finite differences
 * (f(θ + h) − f(θ − h)) / 2h, computed in float64 whatever the parameters' dtype.
 */
import { param, type Tensor } from '../tensor';
import { noGrad, withSubstitutes } from '../ops/context';
import { backward } from '../autograd';
import { Rng } from '../random';

export interface GradcheckOptions {
  /** Step for the centered difference (default 1e-5). */
  h?: number;
  /** Largest acceptable relative error (default 1e-5). */
  rtol?: number;
  /** Absolute errors below this pass too (default 1e-8): near-zero gradients have no meaningful relative error. */
  atol?: number;
  /** Check at most this many elements of each parameter: a seeded sample of larger ones (default: all). */
  maxPerParam?: number;
  /** Seed of that sample (default 0). */
  seed?: number;
}

export interface ParamCheck {
  name: string;
  shape: number[];
  maxRelError: number;
  maxAbsError: number;
  /** Flat index of the worst element. */
  worstIndex: number;
  analytic: number[];
  /** NaN for the elements left out of a sample (see `maxPerParam`). */
  numeric: number[];
  /** Elements compared: the size, or `maxPerParam` for a sampled parameter. */
  checked: number;
  passed: boolean;
}

export interface GradcheckResult {
  passed: boolean;
  params: ParamCheck[];
}

/**
 * Checks ∂f/∂p for each parameter. `f` must rebuild the scalar output from the parameters each time
 * it is called and be deterministic (dropout off, eval mode). It runs on float64 copies of the
 * parameters, which stand in for them in every op and every read of their values (see
 * `withSubstitutes`): the parameters themselves, their values, dtype and gradient, are untouched.
 */
export function gradcheck(f: () => Tensor, params: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const h = opts.h ?? 1e-5;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-8;
  const { maxPerParam } = opts;
  if (maxPerParam !== undefined && !(Number.isInteger(maxPerParam) && maxPerParam >= 1)) {
    throw new Error(`gradcheck: maxPerParam must be a positive integer (elements checked per parameter), got ${maxPerParam}`);
  }
  const seed = opts.seed ?? 0;
  if (!(typeof seed === 'number' && Number.isFinite(seed))) throw new Error(`gradcheck: seed must be a finite number, got ${seed}`);
  const rng = new Rng(seed);
  for (const p of params) if (!p.requiresGrad) throw new Error(`gradcheck: ${p.name ?? `tensor #${p.id}`} does not require grad`);
  const copies = params.map((p) => {
    const c = param(p, { dtype: 'float64' });
    c.name = p.name;
    return c;
  });
  return withSubstitutes(new Map(params.map((p, k) => [p, copies[k]])), () => {
    const out = f();
    if (out.size !== 1) throw new Error(`gradcheck: f() must return a scalar, got ${out.size} elements`);
    backward(out);
    const checks = copies.map((p, k) => {
      const analytic = p.grad ? Array.from(p.grad.data) : new Array<number>(p.size).fill(0);
      const indices = maxPerParam !== undefined && p.size > maxPerParam ? sampleIndices(rng, p.size, maxPerParam) : null;
      const numeric = new Array<number>(p.size).fill(NaN);
      const checkedIndices = indices ?? Array.from({ length: p.size }, (_, i) => i);
      const values = p.data;
      noGrad(() => {
        for (const i of checkedIndices) {
          const v = values[i];
          values[i] = v + h;
          const plus = f().item();
          values[i] = v - h;
          const minus = f().item();
          values[i] = v;
          numeric[i] = (plus - minus) / (2 * h);
        }
      });
      let maxRel = 0, maxAbs = 0, worst = -1, passed = true;
      for (const i of checkedIndices) {
        const abs = Math.abs(analytic[i] - numeric[i]);
        const scale = Math.max(Math.abs(analytic[i]), Math.abs(numeric[i]));
        // both (numerically) zero: no meaningful relative error
        const rel = scale <= atol ? (abs <= atol ? 0 : Infinity) : abs / scale;
        if (!(rel <= maxRel)) { maxRel = rel; worst = i; }
        if (abs > maxAbs) maxAbs = abs;
        if (!(rel <= rtol || abs <= atol)) passed = false;
      }
      return {
        name: params[k].name ?? `param${k}`, shape: p.shape.slice(), maxRelError: maxRel, maxAbsError: maxAbs,
        worstIndex: worst, analytic, numeric, checked: checkedIndices.length, passed,
      };
    });
    return { passed: checks.every((c) => c.passed), params: checks };
  });
}

/** k distinct indices of [0, n), ascending (Floyd's algorithm: k draws, whatever n is). */
function sampleIndices(rng: Rng, n: number, k: number): number[] {
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}
