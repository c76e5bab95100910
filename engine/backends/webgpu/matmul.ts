/**
 * Tiled matrix multiply, C = op(A)·op(B) with op = identity or transpose of the last two axes, and
 * batch axes broadcast as in the CPU kernel.
 *
 * Each workgroup computes a BM×BN tile of C. Per step of BK along k it stages a BM×BK slab of A and
 * a BK×BN slab of B in workgroup memory, each loaded with consecutive invocations reading
 * consecutive addresses (whichever axis is contiguous in memory for the given transpose), then every
 * invocation accumulates a TM×TN block in registers. Invocations own rows ty, ty+WY, … and columns
 * tx, tx+WX, …, so neighbouring invocations write neighbouring addresses of C.
 */
import { broadcastShapes, sizeOf } from '../../shape';
import { coords, offset, u32, type GpuLimits, type Program } from './program';
import { broadcastStrides } from '../cpu/strided';

export interface MatmulSpec {
  aShape: readonly number[];
  bShape: readonly number[];
  transA: boolean;
  transB: boolean;
}

export function matmulDims({ aShape, bShape, transA, transB }: MatmulSpec) {
  const [ar, ac] = aShape.slice(-2);
  const [br, bc] = bShape.slice(-2);
  const m = transA ? ac : ar, k = transA ? ar : ac, n = transB ? br : bc;
  const batchShape = broadcastShapes(aShape.slice(0, -2), bShape.slice(0, -2), 'matmul (batch axes)');
  return { m, k, n, batchShape, outShape: [...batchShape, m, n] };
}

/** Tile sizes for an m×n output on this device: 64×64 tiles for big matrices, smaller ones for thin. */
export function tiling(m: number, n: number, limits: GpuLimits) {
  const wx = 16;
  const wy = limits.invocations >= 256 ? 16 : 8;
  const fit = (d: number, w: number) => Math.max(w, Math.min(64, 2 ** Math.ceil(Math.log2(Math.max(1, d)))));
  const bm = fit(m, wy), bn = fit(n, wx);
  const bk = 16;
  return { wx, wy, bm, bn, bk, tm: bm / wy, tn: bn / wx };
}

export function matmulProgram(spec: MatmulSpec, limits: GpuLimits): Program {
  const { m, k, n, batchShape, outShape } = matmulDims(spec);
  const { wx, wy, bm, bn, bk, tm, tn } = tiling(m, n, limits);
  const batch = sizeOf(batchShape);
  const dispatch: [number, number, number] = [Math.ceil(n / bn), Math.ceil(m / bm), batch];
  const most = Math.max(...dispatch);
  if (most > limits.maxWorkgroupsPerDimension) {
    throw new Error(`webgpu: a matmul of [${spec.aShape.join(', ')}] by [${spec.bShape.join(', ')}] needs ${most} workgroups along one axis, more than this device's ${limits.maxWorkgroupsPerDimension}`);
  }
  const threads = wx * wy;
  const { transA, transB } = spec;
  // A element (row r of op(A), column kk) and B element (row kk of op(B), column c), inside a batch
  const aAt = transA ? `(gk) * ${u32(m)} + (gr)` : `(gr) * ${u32(k)} + (gk)`;
  const bAt = transB ? `(gc) * ${u32(k)} + (gk)` : `(gk) * ${u32(n)} + (gc)`;
  const aBatch = broadcastStrides(spec.aShape.slice(0, -2), batchShape).map((s) => s * m * k);
  const bBatch = broadcastStrides(spec.bShape.slice(0, -2), batchShape).map((s) => s * k * n);
  return {
    key: `matmul|${spec.aShape.join('x')}${transA ? 'T' : ''}@${spec.bShape.join('x')}${transB ? 'T' : ''}|${bm}x${bn}x${bk}/${wx}x${wy}`,
    inputs: ['float32', 'float32'], output: 'float32', outSize: sizeOf(outShape), dispatch,
    wgsl: () => `
const M = ${u32(m)};
const N = ${u32(n)};
const K = ${u32(k)};
const BM = ${u32(bm)};
const BN = ${u32(bn)};
const BK = ${u32(bk)};
var<workgroup> As: array<f32, ${bm * bk}>;
var<workgroup> Bs: array<f32, ${bk * bn}>;

@compute @workgroup_size(${wx}, ${wy}, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let batch = wg.z;
  ${batchShape.length ? coords(batchShape, 'batch', 'b') : ''}
  let aBase = ${offset(aBatch, 'b')};
  let bBase = ${offset(bBatch, 'b')};
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  var acc: array<f32, ${tm * tn}>;
  for (var k0 = 0u; k0 < K; k0 = k0 + BK) {
    for (var e = li; e < BM * BK; e = e + ${u32(threads)}) {
      ${transA ? 'let r = e % BM; let kk = e / BM;' : 'let kk = e % BK; let r = e / BK;'}
      let gr = row0 + r;
      let gk = k0 + kk;
      var v = 0.0;
      if (gr < M && gk < K) { v = in0[aBase + ${aAt}]; }
      As[kk * BM + r] = v;
    }
    for (var e = li; e < BK * BN; e = e + ${u32(threads)}) {
      ${transB ? 'let kk = e % BK; let c = e / BK;' : 'let c = e % BN; let kk = e / BN;'}
      let gc = col0 + c;
      let gk = k0 + kk;
      var v = 0.0;
      if (gc < N && gk < K) { v = in1[bBase + ${bAt}]; }
      Bs[kk * BN + c] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk = kk + 1u) {
      var a: array<f32, ${tm}>;
      var b: array<f32, ${tn}>;
      for (var i = 0u; i < ${u32(tm)}; i = i + 1u) { a[i] = As[kk * BM + lid.y + i * ${u32(wy)}]; }
      for (var j = 0u; j < ${u32(tn)}; j = j + 1u) { b[j] = Bs[kk * BN + lid.x + j * ${u32(wx)}]; }
      for (var i = 0u; i < ${u32(tm)}; i = i + 1u) {
        for (var j = 0u; j < ${u32(tn)}; j = j + 1u) { acc[i * ${u32(tn)} + j] = fma(a[i], b[j], acc[i * ${u32(tn)} + j]); }
      }
    }
    workgroupBarrier();
  }
  let cBase = batch * M * N;
  for (var i = 0u; i < ${u32(tm)}; i = i + 1u) {
    let r = row0 + lid.y + i * ${u32(wy)};
    if (r >= M) { break; }
    for (var j = 0u; j < ${u32(tn)}; j = j + 1u) {
      let c = col0 + lid.x + j * ${u32(wx)};
      if (c < N) { out[cBase + r * N + c] = acc[i * ${u32(tn)} + j]; }
    }
  }
}`,
  };
}
