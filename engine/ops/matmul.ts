/** Matrix multiply (2-D and batched with broadcasting over batch axes), with transpose flags. */
import { allocate, promote } from '../dtype';
import { ShapeError } from '../errors';
import { broadcastShapes, shapeString, sizeOf } from '../shape';
import { Tensor } from '../tensor';
import { matmulKernel } from '../backends/cpu/matmul';
import { broadcastStrides, stridedOffsets } from '../backends/cpu/strided';
import { matmulProgram } from '../backends/webgpu/matmul';
import { reshape } from './layout';
import { sumTo } from './reduce';
import { apply, primitive, type Op, type Run } from './registry';

export interface MatmulAttrs extends Record<string, unknown> {
  transA?: boolean;
  transB?: boolean;
}

interface Dims {
  m: number;
  k: number;
  n: number;
  batchShape: number[];
}

function dims(a: Tensor, b: Tensor, { transA, transB }: MatmulAttrs): Dims {
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul: needs tensors of rank ≥ 2, got ${shapeString(a.shape)} @ ${shapeString(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kb) {
    const ta = transA ? 'ᵀ' : '';
    const tb = transB ? 'ᵀ' : '';
    throw new ShapeError(`matmul: inner dimensions differ: ${shapeString(a.shape)}${ta} @ ${shapeString(b.shape)}${tb} (${k} ≠ ${kb})`);
  }
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul (batch axes)');
  return { m, k, n, batchShape };
}

/**
 * Matrix product with PyTorch's rules: 1-D operands are treated as row/column vectors (and that
 * axis dropped from the result), batch axes broadcast.
 */
export const matmul: Op<(a: Tensor, b: Tensor) => Tensor, 'primitive', true> = primitive({
  call: (run: Run<MatmulAttrs>) => (a, b) => {
    if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new TypeError('matmul: both operands must be tensors');
    if (a.rank === 0 || b.rank === 0) throw new ShapeError(`matmul: operands must have rank ≥ 1, got ${shapeString(a.shape)} @ ${shapeString(b.shape)}`);
    const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]]) : a;
    const b2 = b.rank === 1 ? reshape(b, [b.shape[0], 1]) : b;
    let out = run([a2, b2], {});
    if (a.rank === 1 || b.rank === 1) {
      const shape = out.shape.slice();
      if (b.rank === 1) shape.pop();
      if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
      out = reshape(out, shape);
    }
    return out;
  },
  name: 'matmul', symbol: '@', category: 'matmul', arity: 2, torch: 'torch.matmul',
  formula: 'C = A·B:  ∂L/∂A = ∂L/∂C · Bᵀ,  ∂L/∂B = Aᵀ · ∂L/∂C',
  shape: ([a, b], attrs) => {
    const { m, n, batchShape } = dims(a, b, attrs);
    return [...batchShape, m, n];
  },
  dtype: ([a, b]) => promote(a.dtype, b.dtype) === 'float64' ? 'float64' : 'float32',
  forward: ([a, b], attrs, outShape, dtype) => {
    const { m, k, n, batchShape } = dims(a, b, attrs);
    const aBatch = a.shape.slice(0, -2);
    const bBatch = b.shape.slice(0, -2);
    const out = allocate(dtype, sizeOf(batchShape) * m * n);
    const aOffsets = stridedOffsets(batchShape, broadcastStrides(aBatch, batchShape).map((s) => s * m * k));
    const bOffsets = stridedOffsets(batchShape, broadcastStrides(bBatch, batchShape).map((s) => s * n * k));
    matmulKernel(a.data, aOffsets, attrs.transA ?? false, b.data, bOffsets, attrs.transB ?? false, out, m, k, n);
    return out;
  },
  // With A' = op(A), B' = op(B): ∂A' = G·B'ᵀ and ∂B' = A'ᵀ·G, rewritten on the stored operands.
  vjp: (g, [a, b], _out, { transA = false, transB = false }, needed) => [
    needed[0]
      ? sumTo(transA ? matmulT(b, g, { transA: transB, transB: true }) : matmulT(g, b, { transB: !transB }), a.shape)
      : null,
    needed[1]
      ? sumTo(transB ? matmulT(g, a, { transA: true, transB: transA }) : matmulT(a, g, { transA: !transA }), b.shape)
      : null,
  ],
  gpu: (rt, [a, b], { transA = false, transB = false }, out) => rt.run(matmulProgram({ aShape: a.shape, bShape: b.shape, transA, transB }, rt.limits), [a, b], out),
});

/** op(A)·op(B) with optional transposes of the last two axes (how gradients and linear layers multiply; no 1-D rules). */
export function matmulT(a: Tensor, b: Tensor, attrs: MatmulAttrs): Tensor {
  return apply(matmul.def, [a, b], { transA: attrs.transA ?? false, transB: attrs.transB ?? false });
}
