/**
 * Reductions over axes (sum, max, min; sumTo is a sum over the broadcast axes) and row-wise
 * softmax / logSoftmax along one axis.
 *
 * Two shapes of work, picked from the sizes: when the reduced axes are the trailing ones and long,
 * one workgroup per output element strides through its contiguous run (consecutive invocations,
 * consecutive addresses) and combines in workgroup memory; otherwise one invocation per output
 * element loops over the reduced elements, which for a leading-axis reduction (a bias gradient, a
 * column sum) again has neighbouring invocations reading neighbouring addresses.
 */
import { sizeOf, stridesOf } from '../../shape';
import { WG, coords, grid, main1d, offset, u32, type GpuDType, type GpuLimits, type Program } from './program';

export type ReduceKind = 'sum' | 'max' | 'min';

const INIT: Record<ReduceKind, string> = { sum: '0.0', max: '-bitcast<f32>(INF_BITS)', min: 'bitcast<f32>(INF_BITS)' };
/** acc ⊕ v, with NaN sticking as in the CPU kernel. */
const COMBINE: Record<ReduceKind, (acc: string, v: string) => string> = {
  sum: (acc, v) => `${acc} + ${v}`,
  max: (acc, v) => `nanmax_(${acc}, ${v})`,
  min: (acc, v) => `nanmin_(${acc}, ${v})`,
};

/** Threads of a workgroup that reduces one row. */
const rowThreads = (limits: GpuLimits) => (limits.invocations >= 256 ? 256 : 128);

/** Kept and reduced axes of `shape`, with the input strides of each. */
function split(shape: readonly number[], axes: readonly number[]) {
  const strides = stridesOf(shape);
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const reduced = shape.map((_, d) => d).filter((d) => axes.includes(d));
  return {
    keptShape: kept.map((d) => shape[d]), keptStrides: kept.map((d) => strides[d]),
    redShape: reduced.map((d) => shape[d]), redStrides: reduced.map((d) => strides[d]),
    trailing: reduced.every((d, i) => d === shape.length - reduced.length + i),
  };
}

export function reduceProgram(kind: ReduceKind, shape: readonly number[], axes: readonly number[], dtype: GpuDType, limits: GpuLimits): Program {
  const { keptShape, keptStrides, redShape, redStrides, trailing } = split(shape, axes);
  const outSize = sizeOf(keptShape);
  const r = sizeOf(redShape);
  const read = (idx: string) => (dtype === 'int32' ? `f32(in0[${idx}])` : `in0[${idx}]`);
  const key = `${kind}|${shape.join('x')}|${axes.join(',')}|${dtype}`;
  if (trailing && r >= 64 && outSize > 0) {
    const size = rowThreads(limits);
    const dispatch = grid(outSize, 1, limits);
    return {
      key: `${key}|rows${size}|${dispatch.join('x')}`, inputs: [dtype], output: 'float32', outSize, dispatch,
      wgsl: () => `
var<workgroup> part: array<f32, ${size}>;
@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let o = wg.x + wg.y * ${u32(dispatch[0])};
  let base = o * ${u32(r)};
  var acc = ${INIT[kind]};
  for (var j = li; j < ${u32(r)}; j = j + ${u32(size)}) {
    let v = ${read('base + j')};
    acc = ${COMBINE[kind]('acc', 'v')};
  }
  part[li] = acc;
  workgroupBarrier();
  for (var s = ${u32(size / 2)}; s > 0u; s = s >> 1u) {
    if (li < s) {
      let v = part[li + s];
      let a = part[li];
      part[li] = ${COMBINE[kind]('a', 'v')};
    }
    workgroupBarrier();
  }
  if (li == 0u && o < ${u32(outSize)}) { out[o] = part[0]; }
}`,
    };
  }
  const dispatch = grid(outSize, WG, limits);
  return {
    key: `${key}|each|${dispatch.join('x')}`, inputs: [dtype], output: 'float32', outSize, dispatch,
    wgsl: () => main1d(dispatch, outSize, [
      keptShape.length ? coords(keptShape, 'i', 'k') : '',
      `let base = ${offset(keptStrides, 'k')};`,
      `var acc = ${INIT[kind]};`,
      `for (var j = 0u; j < ${u32(r)}; j = j + 1u) {`,
      redShape.length ? `  ${coords(redShape, 'j', 'q')}` : '',
      `  let v = ${read(`base + ${offset(redStrides, 'q')}`)};`,
      `  acc = ${COMBINE[kind]('acc', 'v')};`,
      '}',
      'out[i] = acc;',
    ].filter(Boolean).join('\n  ')),
  };
}

