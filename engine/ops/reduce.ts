/** Reductions over axes (sum, max, min) and the broadcast/unbroadcast pair used by gradients. */
import { floatOf } from '../dtype';
import { reducedShape, shapeString, broadcastShapes, sameShape, broadcastAxes } from '../shape';

export { broadcastAxes };
import { reduceKernel } from '../backends/cpu/reduce';
import { broadcastStrides, stridedOffsets } from '../backends/cpu/strided';
import { allocate } from '../dtype';
import * as F from './functional';
import { defineOp } from './registry';

export interface ReduceAttrs extends Record<string, unknown> {
  axes: number[];
  keepdims: boolean;
}

export const sum = defineOp<ReduceAttrs>({
  name: 'sum', symbol: 'Σ', category: 'reduce', arity: 1,
  formula: '∂(Σ xᵢ)/∂xᵢ = 1: the gradient is copied to every summed element',
  shape: ([x], { axes, keepdims }) => reducedShape(x.shape, axes, keepdims),
  dtype: ([x]) => (x.dtype === 'int32' ? 'float32' : x.dtype),
  forward: ([x], { axes }, _s, dtype) => reduceKernel(x.data, x.shape, axes, 'sum', dtype),
  vjp: (g, [x], _out, { axes }) => [F.broadcastTo(F.reshape(g, reducedShape(x.shape, axes, true)), x.shape.slice())],
});

function extremum(name: 'max' | 'min') {
  return defineOp<ReduceAttrs>({
    name, symbol: name, category: 'reduce', arity: 1,
    formula: `∂${name}(x)/∂xᵢ = 1 for the ${name === 'max' ? 'largest' : 'smallest'} element (shared equally on ties), 0 elsewhere`,
    shape: ([x], { axes, keepdims }) => {
      for (const a of axes) if (x.shape[a] === 0) throw new Error(`${name}: cannot reduce the empty axis ${a} of ${shapeString(x.shape)}`);
      return reducedShape(x.shape, axes, keepdims);
    },
    dtype: ([x]) => floatOf(x.dtype),
    forward: ([x], { axes }, _s, dtype) => reduceKernel(x.data, x.shape, axes, name, dtype),
    vjp: (g, [x], out, { axes }) => {
      const kept = reducedShape(x.shape, axes, true);
      const mask = F.equal(x, F.reshape(out, kept));
      const count = F.sum(mask, axes, true);
      return [F.mul(F.div(mask, count), F.reshape(g, kept))];
    },
  });
}
export const max = extremum('max');
export const min = extremum('min');

export interface ShapeAttrs extends Record<string, unknown> {
  shape: number[];
}

/** Repeats x along broadcast axes to `shape`. */
export const broadcastTo = defineOp<ShapeAttrs>({
  name: 'broadcastTo', symbol: '⇶', category: 'layout', arity: 1,
  formula: 'the gradient of a broadcast is the sum over the repeated axes',
  shape: ([x], { shape }) => {
    const b = broadcastShapes(x.shape, shape, 'broadcastTo');
    if (!sameShape(b, shape)) throw new Error(`broadcastTo: cannot broadcast ${shapeString(x.shape)} to ${shapeString(shape)}`);
    return shape.slice();
  },
  forward: ([x], { shape }, _s, dtype) => {
    const off = stridedOffsets(shape, broadcastStrides(x.shape, shape));
    const out = allocate(dtype, off.length);
    for (let i = 0; i < off.length; i++) out[i] = x.data[off[i]];
    return out;
  },
  vjp: (g, [x]) => [F.sumTo(g, x.shape)],
});

/** Sums x down to `shape` (the adjoint of broadcasting): used to reduce gradients of broadcast inputs. */
export const sumTo = defineOp<ShapeAttrs>({
  name: 'sumTo', symbol: 'Σ→', category: 'reduce', arity: 1,
  formula: 'the gradient is copied back along the summed (broadcast) axes',
  shape: ([x], { shape }) => {
    const b = broadcastShapes(x.shape, shape, 'sumTo');
    if (!sameShape(b, x.shape)) throw new Error(`sumTo: cannot sum ${shapeString(x.shape)} down to ${shapeString(shape)}`);
    return shape.slice();
  },
  forward: ([x], { shape }, _s, dtype) => reduceKernel(x.data, x.shape, broadcastAxes(shape, x.shape), 'sum', dtype),
  vjp: (g, [x]) => [F.broadcastTo(g, x.shape.slice())],
});


