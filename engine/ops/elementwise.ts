/**
 * Elementwise ops: arithmetic with broadcasting, unary math, comparisons and where. One entry per
 * op: the scalar function (CPU kernel and the 0-d fast path), the local gradient written with
 * other elementwise ops, the formula shown in the inspector, the WGSL expression and PyTorch's name.
 */
import { erfScalar } from '../backends/cpu/scalar';
import { binary, binaryFn, ternary, unary, type BinaryFn, type BinaryOp, type TernaryOp, type UnaryOp } from './registry';

// Arithmetic

/** a + b elementwise, with broadcasting. */
export const add: BinaryOp = binary({
  name: 'add', symbol: '+', formula: '∂(a+b)/∂a = 1,  ∂(a+b)/∂b = 1', torch: 'torch.add',
  fn: (a, b) => a + b, grad: () => [1, 1], wgsl: 'a + b', nanSticky: true,
});
/** a − b elementwise, with broadcasting. */
export const sub: BinaryOp = binary({
  name: 'sub', symbol: '−', formula: '∂(a−b)/∂a = 1,  ∂(a−b)/∂b = −1', torch: 'torch.sub',
  fn: (a, b) => a - b, grad: () => [1, -1], wgsl: 'a - b', nanSticky: true,
});
/** a · b elementwise, with broadcasting. */
export const mul: BinaryOp = binary({
  name: 'mul', symbol: '×', formula: '∂(a·b)/∂a = b,  ∂(a·b)/∂b = a', torch: 'torch.mul',
  fn: (a, b) => a * b, grad: (_ops, [a, b]) => [b, a], wgsl: 'a * b', nanSticky: true,
});
/** a / b elementwise, with broadcasting (a float even for int32 inputs). */
export const div: BinaryOp = binary({
  name: 'div', symbol: '÷', formula: '∂(a/b)/∂a = 1/b,  ∂(a/b)/∂b = −a/b²', torch: 'torch.div', float: true,
  fn: (a, b) => a / b, wgsl: 'a / b', nanSticky: true,
  grad: (ops, [, b], out, _attrs, needed) => [needed[0] ? ops.div(1, b) : null, needed[1] ? ops.neg(ops.div(out, b)) : null],
});
/** aᵇ elementwise, with broadcasting. */
export const pow: BinaryOp = binary({
  name: 'pow', symbol: '^', formula: '∂(aᵇ)/∂a = b·aᵇ⁻¹,  ∂(aᵇ)/∂b = aᵇ·ln a', torch: 'torch.pow', float: true,
  fn: Math.pow, wgsl: 'pow_(a, b)',
  grad: (ops, [a, b], out, _attrs, needed) => [
    needed[0] ? ops.mul(b, ops.pow(a, ops.sub(b, 1))) : null,
    needed[1] ? ops.mul(out, ops.log(a)) : null,
  ],
});
/** The larger of a and b elementwise (NaN if either is). */
export const maximum: BinaryOp = binary({
  name: 'maximum', symbol: 'max', formula: '∂max(a,b)/∂a = 1 where a > b (½ on ties), ∂/∂b = 1 where b > a', torch: 'torch.maximum',
  fn: (a, b) => (a > b || a !== a ? a : b), wgsl: 'nanmax_(a, b)', nanSticky: true,
  grad: (ops, [a, b], _out, _attrs, needed) => [
    needed[0] ? ops.add(ops.greater(a, b), ops.mul(ops.equal(a, b), 0.5)) : null,
    needed[1] ? ops.add(ops.less(a, b), ops.mul(ops.equal(a, b), 0.5)) : null,
  ],
});
/** The smaller of a and b elementwise (NaN if either is). */
export const minimum: BinaryOp = binary({
  name: 'minimum', symbol: 'min', formula: '∂min(a,b)/∂a = 1 where a < b (½ on ties), ∂/∂b = 1 where b < a', torch: 'torch.minimum',
  fn: (a, b) => (a < b || a !== a ? a : b), wgsl: 'nanmin_(a, b)', nanSticky: true,
  grad: (ops, [a, b], _out, _attrs, needed) => [
    needed[0] ? ops.add(ops.less(a, b), ops.mul(ops.equal(a, b), 0.5)) : null,
    needed[1] ? ops.add(ops.greater(a, b), ops.mul(ops.equal(a, b), 0.5)) : null,
  ],
});

// Comparisons: 1 where true, 0 where false, in a float dtype; no gradient (methods gt, lt, eq)

/** 1 where a > b, else 0 (no gradient). `x.gt(y)`. */
export const greater: BinaryFn = binaryFn({
  name: 'greater', symbol: '>', formula: 'no gradient (a step function)', category: 'compare', float: true, method: false, torch: 'torch.gt',
  fn: (a, b) => (a > b ? 1 : 0), grad: null, wgsl: 'select(0.0, 1.0, a > b)',
});
/** 1 where a < b, else 0 (no gradient). `x.lt(y)`. */
export const less: BinaryFn = binaryFn({
  name: 'less', symbol: '<', formula: 'no gradient (a step function)', category: 'compare', float: true, method: false, torch: 'torch.lt',
  fn: (a, b) => (a < b ? 1 : 0), grad: null, wgsl: 'select(0.0, 1.0, a < b)',
});
/** 1 where a = b, else 0 (no gradient). `x.eq(y)`. */
export const equal: BinaryFn = binaryFn({
  name: 'equal', symbol: '=', formula: 'no gradient (a step function)', category: 'compare', float: true, method: false, torch: 'torch.eq',
  fn: (a, b) => (a === b ? 1 : 0), grad: null, wgsl: 'select(0.0, 1.0, a == b)',
});

// Unary math

/** −x elementwise. */
export const neg: UnaryOp = unary({
  name: 'neg', symbol: '−', formula: 'd/dx (−x) = −1', category: 'arithmetic', torch: 'torch.neg',
  fn: (x) => -x, grad: () => [-1], wgsl: '-x',
});
/** eˣ elementwise. */
export const exp: UnaryOp = unary({
  name: 'exp', symbol: 'exp', formula: 'd/dx eˣ = eˣ', torch: 'torch.exp',
  fn: Math.exp, grad: (_ops, _i, out) => [out], wgsl: 'exp(x)',
});
/** The natural logarithm elementwise. */
export const log: UnaryOp = unary({
  name: 'log', symbol: 'log', formula: 'd/dx ln x = 1/x', torch: 'torch.log',
  fn: Math.log, grad: (ops, [x]) => [ops.div(1, x)], wgsl: 'log_(x)',
});
/** √x elementwise. */
export const sqrt: UnaryOp = unary({
  name: 'sqrt', symbol: '√', formula: 'd/dx √x = 1/(2√x)', torch: 'torch.sqrt',
  fn: Math.sqrt, grad: (ops, _i, out) => [ops.div(0.5, out)], wgsl: 'sqrt(x)',
});
/** |x| elementwise. */
export const abs: UnaryOp = unary({
  name: 'abs', symbol: '|x|', formula: 'd/dx |x| = sign(x)', torch: 'torch.abs',
  fn: Math.abs, grad: (ops, [x]) => [ops.sign(x)], wgsl: 'abs(x)',
});
/** x² elementwise. */
export const square: UnaryOp = unary({
  name: 'square', symbol: 'x²', formula: 'd/dx x² = 2x', torch: 'torch.square',
  fn: (x) => x * x, grad: (ops, [x]) => [ops.mul(x, 2)], wgsl: 'x * x',
});
/**
 * −1, 0 or 1 elementwise. Differentiable with derivative 0, as in PyTorch: its node gets ∂L/∂sign,
 * and the chain rule shows the gradient stop.
 */
export const sign: UnaryOp = unary({
  name: 'sign', symbol: 'sign', formula: 'd/dx sign(x) = 0 (a step function: no gradient passes)', category: 'compare', torch: 'torch.sign',
  fn: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), grad: () => [0], wgsl: 'select(select(x, -1.0, x < 0.0), 1.0, x > 0.0)',
});
/**
 * 1 where x > 0, else 0 (the Heaviside step). Differentiable with derivative 0, as sign is: ReLU's
 * local gradient is step(x), so under createGraph a ReLU's gradient stays in the graph with a zero
 * derivative, as PyTorch's threshold_backward does.
 */
export const step: UnaryOp = unary({
  name: 'step', symbol: 'step', formula: 'd/dx step(x) = 0 (a step function: no gradient passes)', category: 'compare',
  fn: (x) => (x > 0 ? 1 : x !== x ? x : 0), grad: () => [0], wgsl: 'select(0.0, 1.0, x > 0.0)',
});
/** The error function, 2/√π·∫₀ˣ e^(−t²) dt, elementwise. */
export const erf: UnaryOp = unary({
  name: 'erf', symbol: 'erf', formula: 'd/dx erf(x) = 2/√π · e^(−x²)', torch: 'torch.erf',
  fn: erfScalar, grad: (ops, [x]) => [ops.mul(ops.exp(ops.neg(ops.square(x))), 2 / Math.sqrt(Math.PI))], wgsl: 'erf_(x)',
});

/**
 * sin and cos to float32's precision on every GPU (WGSL's built-ins may be off by 2⁻¹¹ absolute,
 * which is 2e-4 relative near 1 on SwiftShader): x = k·π/2 + r with π/2 in three parts
 * (Cody–Waite, exact for |x| up to about 10⁴), then Cephes' polynomials on |r| ≤ π/4.
 */
const TRIG_WGSL = `fn trig_reduce_(x: f32) -> vec2<f32> {
  let k = round(x * 0.63661977236758134);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
  return vec2<f32>(r, k - 4.0 * floor(k * 0.25));
}
fn sin_poly_(r: f32) -> f32 {
  let z = r * r;
  return r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
}
fn cos_poly_(r: f32) -> f32 {
  let z = r * r;
  return 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
}
fn sin_quadrant_(r: f32, q: f32) -> f32 {
  let s = select(sin_poly_(r), cos_poly_(r), q == 1.0 || q == 3.0);
  return select(s, -s, q >= 2.0);
}
fn sin_(x: f32) -> f32 {
  if (abs(x) == bitcast<f32>(INF_BITS)) { return bitcast<f32>(NAN_BITS); }
  let t = trig_reduce_(x);
  return sin_quadrant_(t.x, t.y);
}
fn cos_(x: f32) -> f32 {
  if (abs(x) == bitcast<f32>(INF_BITS)) { return bitcast<f32>(NAN_BITS); }
  let t = trig_reduce_(x);
  return sin_quadrant_(t.x, t.y + 1.0 - 4.0 * floor((t.y + 1.0) * 0.25));
}`;

/** The sine (radians) elementwise. */
export const sin: UnaryOp = unary({
  name: 'sin', symbol: 'sin', formula: 'd/dx sin x = cos x', torch: 'torch.sin',
  fn: Math.sin, grad: (ops, [x]) => [ops.cos(x)], wgsl: 'sin_(x)', wgslFns: TRIG_WGSL,
});
/** The cosine (radians) elementwise. */
export const cos: UnaryOp = unary({
  name: 'cos', symbol: 'cos', formula: 'd/dx cos x = −sin x', torch: 'torch.cos',
  fn: Math.cos, grad: (ops, [x]) => [ops.neg(ops.sin(x))], wgsl: 'cos_(x)', wgslFns: TRIG_WGSL,
});

/** The tangent (radians) elementwise. */
export const tan: UnaryOp = unary({
  name: 'tan', symbol: 'tan', formula: 'd/dx tan x = 1 + tan²x', torch: 'torch.tan',
  fn: Math.tan, grad: (ops, _i, out) => [ops.add(ops.square(out), 1)], wgsl: 'tan_(x)',
  wgslFns: `${TRIG_WGSL}
fn tan_(x: f32) -> f32 {
  if (abs(x) == bitcast<f32>(INF_BITS)) { return bitcast<f32>(NAN_BITS); }
  let t = trig_reduce_(x);
  let odd = t.y == 1.0 || t.y == 3.0;
  return select(sin_poly_(t.x) / cos_poly_(t.x), -cos_poly_(t.x) / sin_poly_(t.x), odd);
}`,
});

/** The arctangent elementwise (radians, in (−π/2, π/2)). */
export const atan: UnaryOp = unary({
  name: 'atan', symbol: 'atan', formula: 'd/dx atan x = 1/(1 + x²)', torch: 'torch.atan',
  fn: Math.atan, grad: (ops, [x]) => [ops.div(1, ops.add(ops.square(x), 1))], wgsl: 'atan(x)',
});

/** ln(1 + x) elementwise, accurate for x near 0. */
export const log1p: UnaryOp = unary({
  name: 'log1p', symbol: 'log1p', formula: 'd/dx ln(1 + x) = 1/(1 + x)', torch: 'torch.log1p',
  fn: Math.log1p, grad: (ops, [x]) => [ops.div(1, ops.add(x, 1))],
  wgsl: 'select(log1p_(x), x, x == bitcast<f32>(INF_BITS))',
});

/** eˣ − 1 elementwise, accurate for x near 0. */
export const expm1: UnaryOp = unary({
  name: 'expm1', symbol: 'expm1', formula: 'd/dx (eˣ − 1) = eˣ', torch: 'torch.expm1',
  fn: Math.expm1, grad: (ops, _i, out) => [ops.add(out, 1)],
  wgsl: 'select(expm1_(x), x, x == bitcast<f32>(INF_BITS))',
});

/** The hyperbolic sine elementwise. */
export const sinh: UnaryOp = unary({
  name: 'sinh', symbol: 'sinh', formula: 'd/dx sinh x = cosh x', torch: 'torch.sinh',
  fn: Math.sinh, grad: (ops, [x]) => [ops.cosh(x)],
  // (eˣ − e⁻ˣ)/2 through expm1, which does not cancel near 0 as the built-in's exp difference does
  wgsl: 'select(0.5 * (expm1_(x) - expm1_(-x)), x, abs(x) == bitcast<f32>(INF_BITS))',
});

/** The hyperbolic cosine elementwise. */
export const cosh: UnaryOp = unary({
  name: 'cosh', symbol: 'cosh', formula: 'd/dx cosh x = sinh x', torch: 'torch.cosh',
  fn: Math.cosh, grad: (ops, [x]) => [ops.sinh(x)], wgsl: 'cosh(x)',
});

/** Elementwise choice: a where cond ≠ 0, else b (broadcasting all three). */
export const where: TernaryOp = ternary({
  name: 'where', symbol: '?:', formula: '∂/∂a = 1 where cond,  ∂/∂b = 1 where not cond',
  fn: (c, a, b) => (c !== 0 ? a : b),
  grad: (ops, [c], _out, _attrs, needed) => [null, needed[1] ? ops.sub(1, ops.equal(c, 0)) : null, needed[2] ? ops.equal(c, 0) : null],
  // NaN is a true condition, as on the CPU (`c == 0.0` is false for NaN even where `!=` is unordered)
  wgsl: 'select(a, b, c == 0.0)',
});
