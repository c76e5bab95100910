/**
 * The WebGPU backend's kernels by op name: every primitive in the op registry (engine/ops) plus the
 * fused softmax / logSoftmax. `runOp` records one op on the runtime's encoder and returns its output
 * tensor; nothing is read back.
 */
import { broadcastAxes, sizeOf } from '../../shape';
import { binaryProgram, unaryProgram, whereProgram, BINARY, UNARY } from './elementwise';
import { broadcastProgram, gatherProgram, padProgram, permuteProgram, placeProgram, scatterAddProgram, sliceProgram } from './layout';
import { matmulProgram } from './matmul';
import type { GpuDType } from './program';
import { reduceProgram, softmaxProgram } from './reduce';
import type { GpuRuntime, GpuTensor } from './runtime';

type Attrs = Record<string, unknown>;
type Kernel = (rt: GpuRuntime, inputs: readonly GpuTensor[], attrs: Attrs, outShape: readonly number[]) => GpuTensor;

const dtypes = (ts: readonly GpuTensor[]): GpuDType[] => ts.map((t) => t.dtype);

const unary = (op: string): Kernel => (rt, [x], attrs, out) => rt.run(unaryProgram(op, attrs, x.shape, x.dtype, rt.limits), [x], out);
const binary = (op: string): Kernel => (rt, [a, b], _attrs, out) => rt.run(binaryProgram(op, a.shape, b.shape, dtypes([a, b]), out, rt.limits), [a, b], out);
const reduce = (kind: 'sum' | 'max' | 'min'): Kernel => (rt, [x], attrs, out) =>
  rt.run(reduceProgram(kind, x.shape, attrs.axes as number[], x.dtype, rt.limits), [x], out);

export const KERNELS: Record<string, Kernel> = {
  ...Object.fromEntries(Object.keys(UNARY).map((op) => [op, unary(op)])),
  ...Object.fromEntries(Object.keys(BINARY).map((op) => [op, binary(op)])),
  where: (rt, ins, _attrs, out) => rt.run(whereProgram(ins.map((t) => t.shape), dtypes(ins), out, rt.limits), ins, out),
  matmul: (rt, [a, b], attrs, out) => rt.run(matmulProgram({ aShape: a.shape, bShape: b.shape, transA: !!attrs.transA, transB: !!attrs.transB }, rt.limits), [a, b], out),
  sum: reduce('sum'),
  max: reduce('max'),
  min: reduce('min'),
  sumTo: (rt, [x], attrs, out) => {
    const axes = broadcastAxes(attrs.shape as number[], x.shape);
    if (!axes.length) return rt.view(x, out);
    return rt.run(reduceProgram('sum', x.shape, axes, x.dtype, rt.limits), [x], out);
  },
  broadcastTo: (rt, [x], _attrs, out) => rt.run(broadcastProgram(x.shape, out, x.dtype, rt.limits), [x], out),
  reshape: (rt, [x], _attrs, out) => rt.view(x, out),
  // the GPU computes in float32: a cast between float dtypes is the same buffer
  cast: (rt, [x], attrs, out) => {
    if (x.dtype === 'int32' || attrs.dtype === 'int32') throw new Error('webgpu: a cast to or from int32 has no kernel (it stays on the CPU)');
    return rt.view(x, out);
  },
  permute: (rt, [x], attrs, out) => rt.run(permuteProgram(x.shape, attrs.perm as number[], x.dtype, rt.limits), [x], out),
  slice: (rt, [x], attrs, out) => rt.run(sliceProgram(x.shape, attrs.starts as number[], attrs.sizes as number[], x.dtype, rt.limits), [x], out),
  pad: (rt, [x], attrs, out) => rt.run(padProgram(x.shape, attrs.before as number[], out, x.dtype, rt.limits), [x], out),
  concat: (rt, ins, attrs, out) => {
    const axis = attrs.axis as number;
    const dtype: GpuDType = ins.every((t) => t.dtype === 'int32') ? 'int32' : 'float32';
    const result = rt.empty(out, dtype);
    let start = 0;
    for (const t of ins) {
      rt.run(placeProgram(t.shape, out, axis, start, t.dtype, rt.limits), [t], out, { out: result });
      start += t.shape[axis];
    }
    return result;
  },
  gather: (rt, [x, idx], attrs, out) => rt.run(gatherProgram(x.shape, idx.size, attrs.axis as number, dtypes([x, idx]), rt.limits), [x, idx], out),
  scatterAdd: (rt, [g, idx], attrs, out) => rt.run(scatterAddProgram(out, idx.size, attrs.axis as number, dtypes([g, idx]), rt.limits), [g, idx], out),
  // fused composites
  softmax: (rt, [x], attrs, out) => rt.run(softmaxProgram(false, x.shape, attrs.axis as number, rt.limits), [x], out),
  logSoftmax: (rt, [x], attrs, out) => rt.run(softmaxProgram(true, x.shape, attrs.axis as number, rt.limits), [x], out),
};

/** Runs op `name` on GPU tensors; the output has `outShape` (from the op's shape rule or the trace). */
export function runOp(rt: GpuRuntime, name: string, inputs: readonly GpuTensor[], attrs: Attrs, outShape: readonly number[]): GpuTensor {
  const k = KERNELS[name];
  if (!k) throw new Error(`webgpu: no kernel for op ${name}`);
  if (sizeOf(outShape) === 0) return rt.empty(outShape);
  return k(rt, inputs, attrs, outShape);
}
