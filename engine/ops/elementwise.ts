/** Elementwise ops: arithmetic with broadcasting, unary math, comparisons and where. */
import { floatOf, resultDType } from '../dtype';
import { SCALAR_SHAPE, broadcastShapes } from '../shape';
import { binaryKernel, unaryKernel, whereKernel, type BinaryFn, type UnaryFn } from '../backends/cpu/elementwise';
import type { Tensor } from '../tensor';
import { defineOp, type OpCategory, type OpDef } from './registry';

type LocalGrads = NonNullable<OpDef['localGrads']>;
const unaryPointwise = (fn: UnaryFn) => (a: number) => fn(a);

function binary(
  name: string, symbol: string, formula: string, fn: BinaryFn, localGrads: LocalGrads | null,
  /** float: the result is a float even for int32 inputs (division, powers, comparisons). */
  opts: { category?: OpCategory; float?: boolean } = {},
): OpDef {
  return defineOp({
    name, symbol, formula, arity: 2,
    category: opts.category ?? 'arithmetic',
    nondifferentiable: localGrads === null,
    shape: ([a, b]) => broadcastShapes(a.shape, b.shape, name),
    dtype: (inputs) => (opts.float ? floatOf(resultDType(inputs)) : resultDType(inputs)),
    forward: ([a, b], _attrs, outShape, dtype) => binaryKernel(a.data, a.shape, b.data, b.shape, outShape, fn, dtype),
    pointwise: fn,
    localGrads: localGrads ?? undefined,
  });
}

function unary(
  name: string, symbol: string, formula: string, fn: UnaryFn, localGrads: LocalGrads | null,
  category: OpCategory = 'unary',
): OpDef {
  return defineOp({
    name, symbol, formula, arity: 1, category,
    nondifferentiable: localGrads === null,
    shape: ([x]) => (x.shape.length === 0 ? SCALAR_SHAPE : x.shape.slice()),
    dtype: ([x]) => floatOf(x.dtype),
    forward: ([x], _attrs, _shape, dtype) => unaryKernel(x.data, fn, dtype),
    pointwise: unaryPointwise(fn),
    localGrads: localGrads ?? undefined,
  });
}

export const add = binary('add', '+', '∂(a+b)/∂a = 1,  ∂(a+b)/∂b = 1', (a, b) => a + b, () => [1, 1]);
export const sub = binary('sub', '−', '∂(a−b)/∂a = 1,  ∂(a−b)/∂b = −1', (a, b) => a - b, () => [1, -1]);
export const mul = binary('mul', '×', '∂(a·b)/∂a = b,  ∂(a·b)/∂b = a', (a, b) => a * b, (_ops, [a, b]) => [b, a]);
export const div = binary('div', '÷', '∂(a/b)/∂a = 1/b,  ∂(a/b)/∂b = −a/b²', (a, b) => a / b,
  (ops, [, b], out, _attrs, needed) => [needed[0] ? ops.div(1, b) : null, needed[1] ? ops.neg(ops.div(out, b)) : null],
  { float: true });
export const pow = binary('pow', '^', '∂(aᵇ)/∂a = b·aᵇ⁻¹,  ∂(aᵇ)/∂b = aᵇ·ln a', Math.pow,
  (ops, [a, b], out, _attrs, needed) => [
    needed[0] ? ops.mul(b, ops.pow(a, ops.sub(b, 1))) : null,
    needed[1] ? ops.mul(out, ops.log(a)) : null,
  ], { float: true });
export const maximum = binary('maximum', 'max', '∂max(a,b)/∂a = 1 where a > b (½ on ties), ∂/∂b = 1 where b > a', (a, b) => (a > b || a !== a ? a : b),
  (ops, [a, b], _out, _attrs, needed) => [
    needed[0] ? ops.add(ops.greater(a, b), ops.mul(ops.equal(a, b), 0.5)) : null,
    needed[1] ? ops.add(ops.less(a, b), ops.mul(ops.equal(a, b), 0.5)) : null,
  ]);
export const minimum = binary('minimum', 'min', '∂min(a,b)/∂a = 1 where a < b (½ on ties), ∂/∂b = 1 where b < a', (a, b) => (a < b || a !== a ? a : b),
  (ops, [a, b], _out, _attrs, needed) => [
    needed[0] ? ops.add(ops.less(a, b), ops.mul(ops.equal(a, b), 0.5)) : null,
    needed[1] ? ops.add(ops.greater(a, b), ops.mul(ops.equal(a, b), 0.5)) : null,
  ]);

export const greater = binary('greater', '>', 'no gradient (a step function)', (a, b) => (a > b ? 1 : 0), null, { category: 'compare', float: true });
export const less = binary('less', '<', 'no gradient (a step function)', (a, b) => (a < b ? 1 : 0), null, { category: 'compare', float: true });
export const equal = binary('equal', '=', 'no gradient (a step function)', (a, b) => (a === b ? 1 : 0), null, { category: 'compare', float: true });

export const neg = unary('neg', '−', 'd/dx (−x) = −1', (x) => -x, () => [-1], 'arithmetic');
export const exp = unary('exp', 'exp', 'd/dx eˣ = eˣ', Math.exp, (_ops, _i, out) => [out]);
export const log = unary('log', 'log', 'd/dx ln x = 1/x', Math.log, (ops, [x]) => [ops.div(1, x)]);
export const sqrt = unary('sqrt', '√', 'd/dx √x = 1/(2√x)', Math.sqrt, (ops, _i, out) => [ops.div(0.5, out)]);
export const abs = unary('abs', '|x|', 'd/dx |x| = sign(x)', Math.abs, (ops, [x]) => [ops.sign(x)]);
export const square = unary('square', 'x²', 'd/dx x² = 2x', (x) => x * x, (ops, [x]) => [ops.mul(x, 2)]);
// differentiable with derivative 0, as in PyTorch: its node gets ∂L/∂sign, and the chain rule shows the gradient stop
export const sign = unary('sign', 'sign', 'd/dx sign(x) = 0 (a step function: no gradient passes)', (x) => (x > 0 ? 1 : x < 0 ? -1 : x), () => [0], 'compare');
export const erf = unary('erf', 'erf', 'd/dx erf(x) = 2/√π · e^(−x²)', erfScalar, (ops, [x]) => [ops.mul(ops.exp(ops.neg(ops.square(x))), 2 / Math.sqrt(Math.PI))]);

/** where(cond, a, b): a where cond ≠ 0, else b. */
export const where = defineOp({
  name: 'where', symbol: '?:', category: 'arithmetic', arity: 3,
  formula: '∂/∂a = 1 where cond,  ∂/∂b = 1 where not cond',
  shape: ([c, a, b]) => broadcastShapes(broadcastShapes(c.shape, a.shape, 'where'), b.shape, 'where'),
  dtype: ([, a, b]) => resultDType([a, b]),
  forward: ([c, a, b], _attrs, outShape, dtype) => whereKernel(c.data, c.shape, a.data, a.shape, b.data, b.shape, outShape, dtype),
  pointwise: (c, a, b) => (c !== 0 ? a : b),
  localGrads: (ops, [c], _out, _attrs, needed) => [null, needed[1] ? ops.sub(1, ops.equal(c, 0)) : null, needed[2] ? ops.equal(c, 0) : null],
});

/**
 * erf(x) for all x from the everywhere-positive series erf(x) = 2/√π·e^(−x²)·Σ 2ⁿx²ⁿ⁺¹/(1·3·…·(2n+1)),
 * which has no cancellation (relative error ~1e-15); |x| ≥ 6 is ±1 to double precision.
 */
export function erfScalar(x: number): number {
  if (x !== x) return x;
  const ax = Math.abs(x);
  if (ax >= 6) return x > 0 ? 1 : -1;
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 0; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  const r = (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  return x < 0 ? -r : r;
}

export type { Tensor };
