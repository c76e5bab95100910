/** Activation functions. Each is one primitive with a closed-form local gradient. */
import { floatOf } from '../dtype';
import { unaryKernel } from '../backends/cpu/elementwise';
import { SCALAR_SHAPE } from '../shape';
import { erfScalar } from './elementwise';
import { defineOp, type OpDef } from './registry';

type Alpha = { alpha: number };

function activation<A extends Record<string, unknown> = Record<string, unknown>>(
  name: string, symbol: string, formula: string,
  kernel: (x: number, attrs: A) => number,
  localGrads: NonNullable<OpDef<A>['localGrads']>,
): OpDef<A> {
  return defineOp<A>({
    name, symbol, formula, arity: 1, category: 'activation',
    shape: ([x]) => (x.shape.length === 0 ? SCALAR_SHAPE : x.shape.slice()),
    dtype: ([x]) => floatOf(x.dtype),
    forward: ([x], attrs, _shape, dtype) => unaryKernel(x.data, (v) => kernel(v, attrs), dtype),
    pointwise: (a, _b, _c, attrs) => kernel(a, attrs),
    localGrads,
  });
}

export const relu = activation('relu', 'ReLU', 'd/dx relu(x) = 1 if x > 0 else 0', (x) => (x > 0 ? x : x !== x ? x : 0), (ops, [x]) => [ops.greater(x, 0)]);
export const leakyRelu = activation<Alpha>('leakyRelu', 'LReLU', 'd/dx = 1 if x > 0 else α', (x, { alpha }) => (x > 0 ? x : alpha * x),
  (ops, [x], _out, { alpha }) => [ops.where(ops.greater(x, 0), 1, alpha)]);
export const elu = activation<Alpha>('elu', 'ELU', 'd/dx = 1 if x > 0 else elu(x) + α', (x, { alpha }) => (x > 0 ? x : alpha * Math.expm1(x)),
  (ops, [x], out, { alpha }) => [ops.where(ops.greater(x, 0), 1, ops.add(out, alpha))]);
export const sigmoid = activation('sigmoid', 'σ', 'd/dx σ(x) = σ(x)·(1 − σ(x))', sigmoidScalar, (ops, _i, out) => [ops.mul(out, ops.sub(1, out))]);
export const tanh = activation('tanh', 'tanh', 'd/dx tanh(x) = 1 − tanh²(x)', Math.tanh, (ops, _i, out) => [ops.sub(1, ops.square(out))]);
export const softplus = activation('softplus', 'softplus', 'd/dx ln(1 + eˣ) = σ(x)', (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  (ops, [x]) => [ops.sigmoid(x)]);
export const gelu = activation('gelu', 'GELU', 'd/dx x·Φ(x) = Φ(x) + x·φ(x)', (x) => 0.5 * x * (1 + erfScalar(x / Math.SQRT2)),
  (ops, [x]) => [
    ops.add(
      ops.mul(ops.add(ops.erf(ops.mul(x, Math.SQRT1_2)), 1), 0.5),
      ops.mul(x, ops.mul(ops.exp(ops.mul(ops.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI))),
    ),
  ]);

/** Numerically stable logistic function. */
export function sigmoidScalar(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
