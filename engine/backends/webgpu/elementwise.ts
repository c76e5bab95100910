/**
 * Elementwise kernels: one WGSL expression per op (written in the op's registry entry, `wgsl`)
 * inside one generated program with NumPy broadcasting. Inputs with the output's shape are read at
 * the flat index, scalars at 0, others through strides baked into the program. The expressions match
 * the CPU kernels' scalar functions, including NaN handling; where WGSL's built-in loses relative
 * precision (log near 1, tanh and expm1 near 0, pow with a negative base, GELU's left tail) an
 * expression calls one of the helpers below, which does it carefully.
 */
import { sameShape, sizeOf } from '../../shape';
import { WG, coords, grid, main1d, offset, type GpuDType, type GpuLimits, type Program } from './program';
import { broadcastStrides } from '../cpu/strided';


/** Helpers the expressions use (only those a program mentions are emitted). */
const HELPERS: Record<string, string> = {
  // ln x; near 1 through 2·atanh(y/(2+y)), y = x − 1 (exact), since log's error there is absolute
  log_: `fn log_(x: f32) -> f32 {
  if (x == 0.0) { return -bitcast<f32>(INF_BITS); }
  if (x < 0.0) { return bitcast<f32>(NAN_BITS); }
  let y = x - 1.0;
  if (abs(y) < 0.125) {
    let s = y / (2.0 + y);
    let s2 = s * s;
    return 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 / 9.0))));
  }
  return log(x);
}`,
  // eˣ − 1 without cancellation near 0 (Kahan's trick)
  expm1_: `fn expm1_(x: f32) -> f32 {
  if (abs(x) < 1e-5) { return x + 0.5 * x * x; }
  let u = exp(x);
  if (u == 1.0) { return x; }
  let um1 = u - 1.0;
  if (um1 == -1.0) { return -1.0; }
  return um1 * x / log_(u);
}`,
  log1p_: `fn log1p_(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  return log_(u) * x / (u - 1.0);
}`,
  sigmoid_: `fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}`,
  // odd Taylor polynomial near 0, where (1 − e)/(1 + e) cancels; saturates instead of overflowing
  tanh_: `fn tanh_(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < 0.125) {
    let x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
  }
  let e = exp(-2.0 * ax);
  return sign(x) * (1.0 - e) / (1.0 + e);
}`,
  // the CPU's series erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx²ⁿ⁺¹/(1·3·…·(2n+1)): no cancellation
  erf_: `fn erf_(x: f32) -> f32 {
  let ax = abs(x);
  if (ax >= 4.0) { return sign(x); }
  let x2 = ax * ax;
  var term = ax;
  var sum = ax;
  for (var n = 0; n < 120; n++) {
    term = term * (2.0 * x2) / f32(2 * n + 3);
    sum = sum + term;
    if (term < sum * 1e-8) { break; }
  }
  return sign(x) * min(1.0, 1.1283791670955126 * exp(-x2) * sum);
}`,
  // erfc(z) = 1 − erf(z) for z ≥ 0 without that subtraction's cancellation (GELU's left tail):
  // Numerical Recipes' erfcc, relative error below 1.2e-7
  erfc_: `fn erfc_(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * exp(p - z * z);
}`,
  // Math.pow: whole exponents by squaring (negative bases allowed), others through exp2·log2
  pow_: `fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (isnan_(a) || isnan_(b)) { return bitcast<f32>(NAN_BITS); }
  // Math.pow(±1, ±∞) is NaN
  if (abs(a) == 1.0 && abs(b) == bitcast<f32>(INF_BITS)) { return bitcast<f32>(NAN_BITS); }
  if (b == round(b) && abs(b) <= 64.0) {
    var e = u32(abs(b));
    var base = a;
    var r = 1.0;
    loop {
      if ((e & 1u) == 1u) { r = r * base; }
      e = e >> 1u;
      if (e == 0u) { break; }
      base = base * base;
    }
    return select(r, 1.0 / r, b < 0.0);
  }
  if (a < 0.0) {
    if (b != round(b)) { return bitcast<f32>(NAN_BITS); }
    // a whole exponent past the loop (or ±∞): |a|ᵇ, negative when b is odd
    let m = exp2(b * log_(-a) * 1.4426950408889634);
    return select(m, -m, b - 2.0 * floor(0.5 * b) == 1.0);
  }
  if (a == 0.0) { return select(0.0, bitcast<f32>(INF_BITS), b < 0.0); }
  return exp2(b * log_(a) * 1.4426950408889634);
}`,
};
const HELPER_DEPS: Record<string, string[]> = { expm1_: ['log_'], log1p_: ['log_'], pow_: ['log_'] };

/** The helper functions `code` calls, dependencies first. */
export function helpersFor(code: string): string {
  const wanted = new Set<string>();
  const want = (name: string) => {
    if (wanted.has(name)) return;
    for (const d of HELPER_DEPS[name] ?? []) want(d);
    wanted.add(name);
  };
  for (const name of Object.keys(HELPERS)) if (code.includes(`${name}(`)) want(name);
  return [...wanted].map((n) => HELPERS[n]).join('\n');
}

/** How input `i` is read at output index `i` (flat, scalar or strided through coordinates). */
function load(name: string, shape: readonly number[], outShape: readonly number[], dtype: GpuDType): { expr: string; needsCoords: boolean } {
  const cast = (e: string) => (dtype === 'int32' ? `f32(${e})` : e);
  if (sizeOf(shape) === 1) return { expr: cast(`${name}[0]`), needsCoords: false };
  if (sameShape(shape, outShape)) return { expr: cast(`${name}[i]`), needsCoords: false };
  return { expr: cast(`${name}[${offset(broadcastStrides(shape, outShape))}]`), needsCoords: true };
}

/**
 * A program computing `expr` (over the variables `names`, one per input) at every element of
 * `outShape`, reading input k with broadcasting from shape `shapes[k]`.
 */
export function mapProgram(
  key: string, expr: string, names: readonly string[], shapes: readonly (readonly number[])[], dtypes: readonly GpuDType[],
  outShape: readonly number[], limits: GpuLimits, output: GpuDType = 'float32',
  /** WGSL functions of the op's own that `expr` calls (they may call the helpers above). */
  fns = '',
): Program {
  const n = sizeOf(outShape);
  const dispatch = grid(n, WG, limits);
  const loads = shapes.map((s, k) => load(`in${k}`, s, outShape, dtypes[k]));
  const store = output === 'int32' ? `i32(${expr})` : expr;
  return {
    key: `${key}|${shapes.map((s) => s.join('x')).join(',')}>${outShape.join('x')}|${dtypes.join(',')}>${output}|${dispatch.join('x')}`,
    inputs: dtypes, output, outSize: n, dispatch,
    wgsl: () => {
      const body = [
        loads.some((l) => l.needsCoords) ? coords(outShape, 'i') : '',
        ...loads.map((l, k) => `let ${names[k]} = ${l.expr};`),
        `out[i] = ${store};`,
      ].filter(Boolean).join('\n  ');
      return `${helpersFor(fns + expr)}\n${fns}\n${main1d(dispatch, n, body)}`;
    },
  };
}

/** `expr` over `x` at every element (unary ops: NaN in, NaN out, whatever the built-ins do with it). */
export function unaryProgram(op: string, expr: string, shape: readonly number[], dtype: GpuDType, limits: GpuLimits, fns = ''): Program {
  const guarded = `select(${expr}, x, isnan_(x))`;
  return mapProgram(`${op}(${guarded})`, guarded, ['x'], [shape], [dtype], shape, limits, 'float32', fns);
}

/**
 * `expr` over `a`, `b` with broadcasting; `nanSticky`: the result is NaN when an operand is
 * (arithmetic; comparisons give 0, and pow handles NaN itself).
 */
export function binaryProgram(op: string, expr: string, nanSticky: boolean, aShape: readonly number[], bShape: readonly number[], dtypes: readonly GpuDType[], outShape: readonly number[], limits: GpuLimits): Program {
  const guarded = nanSticky ? `select(${expr}, bitcast<f32>(NAN_BITS), isnan_(a) || isnan_(b))` : expr;
  return mapProgram(`${op}(${guarded})`, guarded, ['a', 'b'], [aShape, bShape], dtypes, outShape, limits);
}

/** `expr` over `c`, `a`, `b` (where) with broadcasting of all three. */
export function whereProgram(expr: string, shapes: readonly (readonly number[])[], dtypes: readonly GpuDType[], outShape: readonly number[], limits: GpuLimits): Program {
  return mapProgram('where', expr, ['c', 'a', 'b'], shapes, dtypes, outShape, limits);
}
