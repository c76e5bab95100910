/** Activation functions. Each is one elementwise primitive with a closed-form local gradient. */
import { erfScalar, sigmoidScalar } from '../backends/cpu/scalar';
import { f32 } from '../backends/webgpu/program';
import { NO_ATTRS, type Tensor, type TensorLike } from '../tensor';
import type { PointwiseOps } from './functional';
import { unary, unaryWith, type Op, type UnaryOp } from './registry';

type Alpha = { alpha: number };

/** The local gradient a kink gets at exactly 0 (relu, leakyRelu); PyTorch's when absent. */
export interface KinkOptions {
  /**
   * d/dx at x = 0: relu′(0) is 0 and leakyRelu′(0) is α in PyTorch (the default); lecture notes
   * that take the right-hand derivative use 1. Any number (a subgradient) is allowed.
   */
  gradAtZero?: number;
}
type Kink = { gradAtZero?: number };

function kinkAttrs(op: string, o: KinkOptions | undefined): Kink {
  const g = o?.gradAtZero;
  if (g === undefined) return NO_ATTRS; // relu's default graph is the one it always had
  if (typeof g !== 'number' || !Number.isFinite(g)) throw new Error(`${op}: gradAtZero must be a finite number (0 or 1 as a rule), got ${String(g)}`);
  return { gradAtZero: g };
}

/** `local` where x ≠ 0, gradAtZero at x = 0 (only when it is set: the default graph stays as PyTorch's). */
function atZero<V extends Tensor | number>(ops: PointwiseOps<V>, x: V, local: V, atZeroDefault: number, { gradAtZero }: Kink): V {
  return gradAtZero === undefined || gradAtZero === atZeroDefault ? local : ops.add(local, ops.mul(ops.equal(x, 0), gradAtZero - atZeroDefault));
}

/** max(x, 0) elementwise; relu′(0) = 0 as in PyTorch, or `{ gradAtZero: 1 }`. */
export const relu: Op<(x: TensorLike, opts?: KinkOptions) => Tensor, 'elementwise', true> = unaryWith({
  name: 'relu', symbol: 'ReLU', formula: 'd/dx relu(x) = 1 if x > 0 else 0 (at x = 0: gradAtZero, 0 by default)', category: 'activation', torch: 'torch.relu',
  attrs: (opts?: KinkOptions): Kink => kinkAttrs('relu', opts),
  fn: (x) => (x > 0 ? x : x !== x ? x : 0), grad: (ops, [x], _out, attrs) => [atZero(ops, x, ops.step(x), 0, attrs)], wgsl: 'select(0.0, x, x > 0.0)',
});
/** x where x > 0, else α·x (α = 0.01 by default); leakyRelu′(0) = α as in PyTorch, or `{ gradAtZero: 1 }`. */
export const leakyRelu: Op<(x: TensorLike, alpha?: number, opts?: KinkOptions) => Tensor, 'elementwise', true> = unaryWith({
  name: 'leakyRelu', symbol: 'LReLU', formula: 'd/dx = 1 if x > 0 else α (at x = 0: gradAtZero, α by default)', category: 'activation', torch: 'F.leaky_relu',
  attrs: (alpha = 0.01, opts?: KinkOptions): Alpha & Kink => ({ alpha, ...kinkAttrs('leakyRelu', opts) }),
  fn: (x, { alpha }) => (x > 0 ? x : alpha * x),
  // α + (1 − α)·step(x) is exactly 1 or α; through step it stays in a createGraph graph, as PyTorch's leaky_relu_backward does
  grad: (ops, [x], _out, attrs) => [atZero(ops, x, ops.add(ops.mul(ops.step(x), 1 - attrs.alpha), attrs.alpha), attrs.alpha, attrs)],
  wgsl: ({ alpha }) => `select(${f32(alpha)} * x, x, x > 0.0)`,
});
/** x where x > 0, else α·(eˣ − 1) (α = 1 by default). */
export const elu: Op<(x: TensorLike, alpha?: number) => Tensor, 'elementwise', true> = unaryWith({
  name: 'elu', symbol: 'ELU', formula: 'd/dx = 1 if x > 0 else elu(x) + α', category: 'activation', torch: 'F.elu',
  attrs: (alpha = 1): Alpha => ({ alpha }),
  fn: (x, { alpha }) => (x > 0 ? x : alpha * Math.expm1(x)),
  grad: (ops, [x], out, { alpha }) => [ops.where(ops.greater(x, 0), 1, ops.add(out, alpha))],
  wgsl: ({ alpha }) => `select(${f32(alpha)} * expm1_(x), x, x > 0.0)`,
});
/** The logistic function 1/(1 + e⁻ˣ). */
export const sigmoid: UnaryOp = unary({
  name: 'sigmoid', symbol: 'σ', formula: 'd/dx σ(x) = σ(x)·(1 − σ(x))', category: 'activation', torch: 'torch.sigmoid',
  fn: sigmoidScalar, grad: (ops, _i, out) => [ops.mul(out, ops.sub(1, out))], wgsl: 'sigmoid_(x)',
});
/** The hyperbolic tangent. */
export const tanh: UnaryOp = unary({
  name: 'tanh', symbol: 'tanh', formula: 'd/dx tanh(x) = 1 − tanh²(x)', category: 'activation', torch: 'torch.tanh',
  fn: Math.tanh, grad: (ops, _i, out) => [ops.sub(1, ops.square(out))], wgsl: 'tanh_(x)',
});
/** ln(1 + eˣ), computed without overflow. */
export const softplus: UnaryOp = unary({
  name: 'softplus', symbol: 'softplus', formula: 'd/dx ln(1 + eˣ) = σ(x)', category: 'activation', torch: 'F.softplus',
  fn: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), grad: (ops, [x]) => [ops.sigmoid(x)],
  wgsl: 'max(x, 0.0) + log1p_(exp(-abs(x)))',
});
/** x·Φ(x) with Φ the standard normal CDF (the exact GELU, PyTorch's default). */
export const gelu: UnaryOp = unary({
  name: 'gelu', symbol: 'GELU', formula: 'd/dx x·Φ(x) = Φ(x) + x·φ(x)', category: 'activation', torch: 'F.gelu',
  fn: (x) => 0.5 * x * (1 + erfScalar(x / Math.SQRT2)),
  grad: (ops, [x]) => [
    ops.add(
      ops.mul(ops.add(ops.erf(ops.mul(x, Math.SQRT1_2)), 1), 0.5),
      ops.mul(x, ops.mul(ops.exp(ops.mul(ops.square(x), -0.5)), 1 / Math.sqrt(2 * Math.PI))),
    ),
  ],
  wgsl: '0.5 * x * select(1.0 + erf_(x * 0.70710678118654752), erfc_(x * -0.70710678118654752), x < 0.0)',
});
