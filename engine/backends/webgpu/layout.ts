/**
 * Kernels that move data: permute (transpose), slice, pad, the pieces of concat, gather and
 * scatterAdd, and broadcastTo. Reshape needs no kernel (a view of the same buffer). One invocation
 * per output element, so writes are coalesced; reads follow the strides.
 */
import { sizeOf, stridesOf } from '../../shape';
import { mapProgram } from './elementwise';
import { WG, coords, grid, main1d, offset, u32, wgslType, type GpuDType, type GpuLimits, type Program } from './program';

const dims = (shape: readonly number[], axis: number) => ({
  outer: sizeOf(shape.slice(0, axis)), dim: shape[axis], inner: sizeOf(shape.slice(axis + 1)),
});

export function permuteProgram(shape: readonly number[], perm: readonly number[], dtype: GpuDType, limits: GpuLimits): Program {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = stridesOf(shape);
  const n = sizeOf(shape);
  const dispatch = grid(n, WG, limits);
  return {
    key: `permute|${shape.join('x')}|${perm.join(',')}|${dtype}|${dispatch.join('x')}`, inputs: [dtype], output: dtype, outSize: n, dispatch,
    wgsl: () => main1d(dispatch, n, `${coords(outShape, 'i')}\n  out[i] = in0[${offset(perm.map((p) => inStrides[p]))}];`),
  };
}

export function sliceProgram(shape: readonly number[], starts: readonly number[], sizes: readonly number[], dtype: GpuDType, limits: GpuLimits): Program {
  const strides = stridesOf(shape);
  const n = sizeOf(sizes);
  const dispatch = grid(n, WG, limits);
  const base = starts.reduce((s, st, d) => s + st * strides[d], 0);
  return {
    key: `slice|${shape.join('x')}|${starts.join(',')}|${sizes.join('x')}|${dtype}|${dispatch.join('x')}`, inputs: [dtype], output: dtype, outSize: n, dispatch,
    wgsl: () => main1d(dispatch, n, `${coords(sizes, 'i')}\n  out[i] = in0[${offset(strides, 'c', base)}];`),
  };
}

export function padProgram(shape: readonly number[], before: readonly number[], outShape: readonly number[], dtype: GpuDType, limits: GpuLimits): Program {
  const strides = stridesOf(shape);
  const n = sizeOf(outShape);
  const dispatch = grid(n, WG, limits);
  const inside = shape.map((d, k) => `c${k} >= ${u32(before[k])} && c${k} < ${u32(before[k] + d)}`).join(' && ') || 'true';
  const at = shape.map((_, k) => (strides[k] ? `(c${k} - ${u32(before[k])}) * ${u32(strides[k])}` : '0u')).join(' + ') || '0u';
  const zero = dtype === 'int32' ? '0' : '0.0';
  return {
    key: `pad|${shape.join('x')}|${before.join(',')}|${outShape.join('x')}|${dtype}|${dispatch.join('x')}`, inputs: [dtype], output: dtype, outSize: n, dispatch,
    wgsl: () => main1d(dispatch, n, `${coords(outShape, 'i')}\n  var v = ${zero};\n  if (${inside}) { v = in0[${at}]; }\n  out[i] = v;`),
  };
}

/** One piece of concat: writes an input of `shape` into the output at `start` along `axis`. */
export function placeProgram(shape: readonly number[], outShape: readonly number[], axis: number, start: number, dtype: GpuDType, limits: GpuLimits): Program {
  const outStrides = stridesOf(outShape);
  const n = sizeOf(shape);
  const dispatch = grid(n, WG, limits);
  return {
    key: `place|${shape.join('x')}|${outShape.join('x')}|${axis}@${start}|${dtype}|${dispatch.join('x')}`, inputs: [dtype], output: dtype, outSize: n, dispatch, inPlace: true,
    wgsl: () => main1d(dispatch, n, `${coords(shape, 'i')}\n  out[${offset(outStrides, 'c', start * outStrides[axis])}] = in0[i];`),
  };
}

/** x[…, idx[j], …] along `axis` (inputs: x, indices). */
export function gatherProgram(shape: readonly number[], idxSize: number, axis: number, dtypes: readonly GpuDType[], limits: GpuLimits): Program {
  const { outer, dim, inner } = dims(shape, axis);
  const n = outer * idxSize * inner;
  const dispatch = grid(n, WG, limits);
  return {
    key: `gather|${shape.join('x')}|${idxSize}|${axis}|${dtypes.join(',')}|${dispatch.join('x')}`, inputs: dtypes, output: dtypes[0], outSize: n, dispatch,
    wgsl: () => main1d(dispatch, n, [
      `let b = i % ${u32(inner)};`,
      `let j = (i / ${u32(inner)}) % ${u32(idxSize)};`,
      `let a = i / ${u32(inner * idxSize)};`,
      `let at = u32(in1[j]);`,
      `out[i] = in0[(a * ${u32(dim)} + at) * ${u32(inner)} + b];`,
    ].join('\n  ')),
  };
}

/**
 * The adjoint of gather (inputs: values, indices): each output element sums the values whose index
 * points at it. No float atomics in WGSL, so every output element scans the indices: O(outputs ·
 * indices), fine for an embedding's rows, quadratic for an image's pixels (the sliding windows of
 * conv.ts have fold, which visits only the kernel positions that reach a pixel).
 */
export function scatterAddProgram(outShape: readonly number[], idxSize: number, axis: number, dtypes: readonly GpuDType[], limits: GpuLimits): Program {
  const { outer, dim, inner } = dims(outShape, axis);
  const n = outer * dim * inner;
  const dispatch = grid(n, WG, limits);
  return {
    key: `scatterAdd|${outShape.join('x')}|${idxSize}|${axis}|${dtypes.join(',')}|${dispatch.join('x')}`, inputs: dtypes, output: dtypes[0], outSize: n, dispatch,
    wgsl: () => main1d(dispatch, n, [
      `let b = i % ${u32(inner)};`,
      `let x = (i / ${u32(inner)}) % ${u32(dim)};`,
      `let a = i / ${u32(inner * dim)};`,
      `var acc: ${wgslType(dtypes[0])} = ${dtypes[0] === 'int32' ? '0' : '0.0'};`,
      `for (var j = 0u; j < ${u32(idxSize)}; j = j + 1u) {`,
      `  if (u32(in1[j]) == x) { acc = acc + in0[(a * ${u32(idxSize)} + j) * ${u32(inner)} + b]; }`,
      '}',
      'out[i] = acc;',
    ].join('\n  ')),
  };
}

export function broadcastProgram(shape: readonly number[], outShape: readonly number[], dtype: GpuDType, limits: GpuLimits): Program {
  return mapProgram('broadcastTo', 'x', ['x'], [shape], [dtype], outShape, limits, dtype);
}
