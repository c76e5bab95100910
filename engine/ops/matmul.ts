/** Matrix multiply (2-D and batched with broadcasting over batch axes), with transpose flags. */
import { allocate, promote } from '../dtype';
import { broadcastShapes, shapeString, sizeOf } from '../shape';
import { matmulNT, transposeLast2 } from '../backends/cpu/matmul';
import { broadcastStrides, stridedOffsets } from '../backends/cpu/strided';
import type { Tensor } from '../tensor';
import * as F from './functional';
import { defineOp } from './registry';

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
    throw new Error(`matmul: needs tensors of rank ≥ 2, got ${shapeString(a.shape)} @ ${shapeString(b.shape)}`);
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
    throw new Error(`matmul: inner dimensions differ: ${shapeString(a.shape)}${ta} @ ${shapeString(b.shape)}${tb} (${k} ≠ ${kb})`);
  }
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul (batch axes)');
  return { m, k, n, batchShape };
}

export const matmul = defineOp<MatmulAttrs>({
  name: 'matmul', symbol: '@', category: 'matmul', arity: 2,
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
    const batch = sizeOf(batchShape);
    // the kernel wants A as m×k rows and B as n×k rows
    const aRows = attrs.transA ? transposeLast2(a.data, sizeOf(aBatch), k, m) : a.data;
    const bRows = attrs.transB ? b.data : transposeLast2(b.data, sizeOf(bBatch), k, n);
    const out = allocate(dtype, batch * m * n);
    if (batch === 1) {
      matmulNT(aRows, 0, bRows, 0, out, 0, m, k, n);
      return out;
    }
    const aOff = stridedOffsets(batchShape, broadcastStrides(aBatch, batchShape));
    const bOff = stridedOffsets(batchShape, broadcastStrides(bBatch, batchShape));
    for (let i = 0; i < batch; i++) matmulNT(aRows, aOff[i] * m * k, bRows, bOff[i] * n * k, out, i * m * n, m, k, n);
    return out;
  },
  // With A' = op(A), B' = op(B): ∂A' = G·B'ᵀ and ∂B' = A'ᵀ·G, rewritten on the stored operands.
  vjp: (g, [a, b], _out, { transA = false, transB = false }, needed) => [
    needed[0]
      ? F.sumTo(transA ? F.matmulT(b, g, { transA: transB, transB: true }) : F.matmulT(g, b, { transB: !transB }), a.shape)
      : null,
    needed[1]
      ? F.sumTo(transB ? F.matmulT(g, a, { transA: true, transB: transA }) : F.matmulT(a, g, { transA: !transA }), b.shape)
      : null,
  ],
});
