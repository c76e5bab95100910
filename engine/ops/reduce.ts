/** Reductions over axes (sum, max, min) and the broadcast/unbroadcast pair gradients use. */
import { floatOf } from '../dtype';
import { ShapeError } from '../errors';
import { broadcastAxes, broadcastShapes, normalizeAxes, reducedShape, sameShape, shapeString } from '../shape';
import type { Tensor } from '../tensor';
import { reduceKernel } from '../backends/cpu/reduce';
import { broadcastKernel } from '../backends/cpu/layout';
import { broadcastProgram } from '../backends/webgpu/layout';
import { reduceProgram } from '../backends/webgpu/reduce';
import { div, equal, mul } from './elementwise';
import { reshape } from './layout';
import { primitive, type Op, type Run } from './registry';

export interface ReduceAttrs extends Record<string, unknown> {
  axes: number[];
  keepdims: boolean;
}

/** An axis, several axes, or all of them (undefined). */
export type Axes = number | readonly number[];

/** Sum over `axis` (all axes by default), keeping the reduced axes as size 1 with `keepdims`. */
export const sum: Op<(x: Tensor, axis?: Axes, keepdims?: boolean) => Tensor, 'primitive', true> = primitive({
  call: (run: Run<ReduceAttrs>) => (x, axis, keepdims = false) => run([x], { axes: normalizeAxes(axis, x.rank, 'sum'), keepdims }),
  name: 'sum', symbol: 'Σ', category: 'reduce', arity: 1, torch: 'torch.sum',
  formula: '∂(Σ xᵢ)/∂xᵢ = 1: the gradient is copied to every summed element',
  shape: ([x], { axes, keepdims }) => reducedShape(x.shape, axes, keepdims),
  dtype: ([x]) => (x.dtype === 'int32' ? 'float32' : x.dtype),
  forward: ([x], { axes }, _s, dtype) => reduceKernel(x.data, x.shape, axes, 'sum', dtype),
  vjp: (g, [x], _out, { axes }) => [broadcastTo(reshape(g, reducedShape(x.shape, axes, true)), x.shape.slice())],
  gpu: (rt, [x], { axes }, out) => rt.run(reduceProgram('sum', x.shape, axes, x.dtype, rt.limits), [x], out),
});

function extremum(name: 'max' | 'min'): Op<(x: Tensor, axis?: Axes, keepdims?: boolean) => Tensor, 'primitive', true> {
  const self: Op<(x: Tensor, axis?: Axes, keepdims?: boolean) => Tensor, 'primitive', true> = primitive({
    call: (run: Run<ReduceAttrs>) => (x, axis, keepdims = false) => run([x], { axes: normalizeAxes(axis, x.rank, name), keepdims }),
    name, symbol: name, category: 'reduce', arity: 1, torch: name === 'max' ? 'torch.amax' : 'torch.amin',
    formula: `∂${name}(x)/∂xᵢ = 1 for the ${name === 'max' ? 'largest' : 'smallest'} element (shared equally on ties), 0 elsewhere`,
    shape: ([x], { axes, keepdims }) => {
      for (const a of axes) if (x.shape[a] === 0) throw new ShapeError(`${name}: cannot reduce the empty axis ${a} of ${shapeString(x.shape)}`);
      return reducedShape(x.shape, axes, keepdims);
    },
    dtype: ([x]) => floatOf(x.dtype),
    forward: ([x], { axes }, _s, dtype) => reduceKernel(x.data, x.shape, axes, name, dtype),
    vjp: (g, [x], out, { axes }) => {
      const kept = reducedShape(x.shape, axes, true);
      const mask = equal(x, reshape(out, kept));
      const count = sum(mask, axes, true);
      return [mul(div(mask, count), reshape(g, kept))];
    },
    gpu: (rt, [x], { axes }, out) => rt.run(reduceProgram(name, x.shape, axes, x.dtype, rt.limits), [x], out),
  });
  return self;
}
/** The largest element over `axis` (all axes by default); the gradient is shared equally on ties. */
export const max = extremum('max');
/** The smallest element over `axis` (all axes by default); the gradient is shared equally on ties. */
export const min = extremum('min');

export interface ShapeAttrs extends Record<string, unknown> {
  shape: number[];
}

/** Repeats x along broadcast axes to `shape` (the tensor itself when it has that shape). */
export const broadcastTo: Op<(x: Tensor, shape: readonly number[]) => Tensor, 'primitive', true> = primitive({
  call: (run: Run<ShapeAttrs>) => (x, shape) => (sameShape(x.shape, shape) ? x : run([x], { shape: shape.slice() })),
  name: 'broadcastTo', symbol: '⇶', category: 'layout', arity: 1, torch: 'torch.broadcast_to',
  formula: 'the gradient of a broadcast is the sum over the repeated axes',
  shape: ([x], { shape }) => {
    const b = broadcastShapes(x.shape, shape, 'broadcastTo');
    if (!sameShape(b, shape)) throw new ShapeError(`broadcastTo: cannot broadcast ${shapeString(x.shape)} to ${shapeString(shape)}`);
    return shape.slice();
  },
  forward: ([x], { shape }, _s, dtype) => broadcastKernel(x.data, x.shape, shape, dtype),
  vjp: (g, [x]) => [sumTo(g, x.shape)],
  gpu: (rt, [x], _attrs, out) => rt.run(broadcastProgram(x.shape, out, x.dtype, rt.limits), [x], out),
});

/** Sums x down to `shape` (the adjoint of broadcasting, for gradients of broadcast inputs); the identity when the shapes agree. */
export const sumTo: Op<(x: Tensor, shape: readonly number[]) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<ShapeAttrs>) => (x, shape) => (sameShape(x.shape, shape) ? x : run([x], { shape: shape.slice() })),
  method: false,
  name: 'sumTo', symbol: 'Σ→', category: 'reduce', arity: 1,
  formula: 'the gradient is copied back along the summed (broadcast) axes',
  shape: ([x], { shape }) => {
    const b = broadcastShapes(x.shape, shape, 'sumTo');
    if (!sameShape(b, x.shape)) throw new ShapeError(`sumTo: cannot sum ${shapeString(x.shape)} down to ${shapeString(shape)}`);
    return shape.slice();
  },
  forward: ([x], { shape }, _s, dtype) => reduceKernel(x.data, x.shape, broadcastAxes(shape, x.shape), 'sum', dtype),
  vjp: (g, [x]) => [broadcastTo(g, x.shape)],
  gpu: (rt, [x], { shape }, out) => {
    const axes = broadcastAxes(shape, x.shape);
    if (!axes.length) return rt.view(x, out);
    return rt.run(reduceProgram('sum', x.shape, axes, x.dtype, rt.limits), [x], out);
  },
});
