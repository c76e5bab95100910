/**
 * The WebGPU kernel parity cases, shared by the Node/Dawn test (kernels.test.ts) and the Chromium
 * test (../webview/gpu.test.ts): the case table by op name (seeded, so runs repeat), the CPU
 * reference of a case and how a GPU result is measured against it. Imports nothing Node-only, so it
 * can be bundled for a browser.
 *
 * Inputs are random float32 values. The reference is the CPU op on the same values as float64
 * tensors, which is exact to far below float32's rounding; the GPU runs the kernel on float32
 * copies. Each output element's error is measured relative to max(|reference|, scale): scale is
 * 1e-30 for elementwise and data-moving ops (plain relative error), and for ops that sum products it
 * is the same op applied to the absolute values of the inputs, the natural size of a sum's rounding
 * error (cancellation in a sum cannot be blamed on the kernel); logSoftmax has its own
 * (`logSoftmaxScale`). NaN-ness is compared on its own, ±∞ exactly. Index inputs, and a few data
 * inputs, are int32.
 */
import type { GpuLimits } from '../../engine/backends/webgpu/program';
import { OPS, tensor, type Tensor } from '../../engine/index';
import * as F from '../../engine/ops/functional';
import { apply } from '../../engine/ops/registry';
import { sizeOf } from '../../engine/shape';
import { OP_ROWS, type Domain } from '../engine/op-table';

export type Attrs = Record<string, unknown>;
type Values = (r: Rand, n: number) => number[];

/** Largest relative error a case may show. */
export const TOLERANCE = 1e-4;
/** Floor of the denominator for ops without a natural scale: a plain relative error. */
export const TINY = 1e-30;

/**
 * The limits a compatibility-mode device may have at the least (128 invocations per workgroup), and
 * so few workgroups per dimension that every one-dimensional kernel spreads over x and y: the
 * programs a small device gets, run on this one (which can run them all).
 */
export const SMALL_DEVICE: GpuLimits = { invocations: 128, workgroupStorage: 16384, maxWorkgroupsPerDimension: 7 };

export interface Input {
  values: number[];
  shape: number[];
  dtype: 'float32' | 'int32';
}

export interface Case {
  title: string;
  inputs: Input[];
  attrs: Attrs;
  /** exact: relative error; sum: relative to the op on |inputs|. */
  scale?: 'exact' | 'sum';
  /** The reference must contain a NaN (the case checks NaN propagation). */
  nan?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string: each op's cases get their own stream, so editing one op moves no other. */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class Rand {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** A float32 value in [lo, hi]. */
  uniform(lo: number, hi: number): number {
    return Math.fround(lo + (hi - lo) * this.next());
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  values(n: number, lo: number, hi: number): number[] {
    return Array.from({ length: n }, () => this.uniform(lo, hi));
  }
  /** Float32 values spread evenly in log scale over [lo, hi] (lo > 0). */
  logValues(n: number, lo: number, hi: number): number[] {
    return Array.from({ length: n }, () => Math.fround(Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * this.next())));
  }
  shape(minRank: number, maxRank: number, maxDim = 9): number[] {
    return Array.from({ length: this.int(minRank, maxRank) }, () => this.int(1, maxDim));
  }
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }
}

// ---------------------------------------------------------------------------------------------
// Building cases

const f32 = (values: number[], shape: number[]): Input => {
  if (values.length !== sizeOf(shape)) throw new Error(`test bug: ${values.length} values for shape [${shape}]`);
  return { values: values.map(Math.fround), shape, dtype: 'float32' };
};
const i32 = (values: number[], shape: number[]): Input => ({ values, shape, dtype: 'int32' });
const gen = (r: Rand, shape: number[], values: Values): Input => f32(values(r, sizeOf(shape)), shape);
const real = (lo = -3, hi = 3): Values => (r, n) => r.values(n, lo, hi);
/** Small whole numbers: ties for comparisons, maximum/minimum and reductions. */
const whole = (lo = -2, hi = 2): Values => (r, n) => Array.from({ length: n }, () => r.int(lo, hi));
/** Magnitudes in [lo, hi] with random signs (divisors). */
const signed = (lo: number, hi: number): Values => (r, n) => r.logValues(n, lo, hi).map((v) => (r.chance(0.5) ? -v : v));
export const fmt = (shape: readonly number[]) => `[${shape.join(',')}]`;

/** A shape that broadcasts against `shape`: some leading axes dropped, some axes set to 1. */
function partner(r: Rand, shape: number[]): number[] {
  const drop = r.int(0, shape.length);
  return shape.slice(drop).map((d) => (r.chance(0.4) ? 1 : d));
}

/** Shape pairs for binary ops: the broadcasting patterns models use, then random ones. */
function binaryShapes(r: Rand): { title: string; a: number[]; b: number[] }[] {
  const m = r.int(2, 9), n = r.int(2, 9), p = r.int(2, 5), q = r.int(2, 5);
  const s = r.shape(1, 4);
  const pairs = [
    { title: 'equal shapes', a: s, b: s.slice() },
    { title: 'scalar with tensor', a: [], b: r.shape(1, 3) },
    { title: 'tensor with scalar', a: r.shape(1, 3), b: [] },
    { title: 'scalars', a: [], b: [] },
    { title: 'row vector with matrix', a: [m, n], b: [n] },
    { title: 'column with row', a: [m, 1], b: [1, n] },
    { title: 'rank 3, middle axis broadcast', a: [p, m, n], b: [p, 1, n] },
    { title: 'rank 4, middle axes broadcast', a: [p, 1, 1, n], b: [p, m, q, n] },
  ];
  for (let k = 0; k < 3; k++) {
    const a = r.shape(0, 4);
    const b = partner(r, a);
    pairs.push(r.chance(0.5) ? { title: 'random broadcast', a, b } : { title: 'random broadcast', a: b, b: a });
  }
  return pairs;
}

function binaryCases(r: Rand, da: Values, db: Values = da): Case[] {
  return binaryShapes(r).map(({ title, a, b }) => ({ title: `${title} ${fmt(a)} ${fmt(b)}`, inputs: [gen(r, a, da), gen(r, b, db)], attrs: {} }));
}

/** NaN and ±∞ on either side (`nan`: the op propagates NaN; comparisons answer 0 instead). */
function nonFiniteCase(nan: boolean): Case {
  const a = [NaN, 1, NaN, Infinity, -Infinity, Infinity, 2, -2, Infinity, 0.5];
  const b = [1, NaN, NaN, Infinity, Infinity, -Infinity, Infinity, -Infinity, 3, 0.5];
  return { title: 'NaN and ±∞ operands', inputs: [f32(a, [a.length]), f32(b, [b.length])], attrs: {}, nan };
}

/**
 * Random shapes of rank 0–4 (one flat tensor of several workgroups), the special points and their
 * negatives, then NaN and ±∞.
 */
function unaryCases(r: Rand, values: Values, specials: number[] = [], attrs: Attrs = {}): Case[] {
  const cases: Case[] = [[], r.shape(1, 2), r.shape(3, 4), [700]].map((shape) => ({ title: `random ${fmt(shape)}`, inputs: [gen(r, shape, values)], attrs }));
  if (specials.length) {
    const vs = specials.flatMap((v) => [v, -v]);
    cases.push({ title: `special points ${specials.join(', ')}`, inputs: [f32(vs, [vs.length])], attrs });
  }
  cases.push(nonFiniteUnary(attrs));
  return cases;
}

/** NaN in, NaN out; ±∞ give what they give on the CPU. */
function nonFiniteUnary(attrs: Attrs = {}): Case {
  return { title: 'NaN and ±∞', inputs: [f32([NaN, Infinity, -Infinity, 0.5, NaN], [5])], attrs, nan: true };
}

/** One case on exactly these points (for log and sqrt, where `unaryCases` would mirror them to negatives). */
function positiveSpecials(values: number[], attrs: Attrs = {}): Case {
  return { title: `special points ${values.join(', ')}`, inputs: [f32(values, [values.length])], attrs };
}

const matmulCase = (r: Rand, title: string, aShape: number[], bShape: number[], transA = false, transB = false): Case => ({
  title: `${title} ${fmt(aShape)}${transA ? 'ᵀ' : ''} @ ${fmt(bShape)}${transB ? 'ᵀ' : ''}`,
  inputs: [gen(r, aShape, real(-1, 1)), gen(r, bShape, real(-1, 1))],
  attrs: { transA, transB },
  scale: 'sum',
});

/** Shapes stored for op(A) of m×k and op(B) of k×n. */
const stored = (m: number, k: number, n: number, transA: boolean, transB: boolean) => ({
  a: transA ? [k, m] : [m, k],
  b: transB ? [n, k] : [k, n],
});

function reduceCases(r: Rand, kind: 'sum' | 'max' | 'min'): Case[] {
  const scale = kind === 'sum' ? 'sum' : 'exact';
  const layouts: { title: string; shape: number[]; axes: number[] }[] = [
    { title: 'last axis, long rows', shape: [5, 100], axes: [1] },
    { title: 'last axis, one long row', shape: [1000], axes: [0] },
    { title: 'last axis, many long rows', shape: [20, 70], axes: [1] },
    { title: 'last axis, rows not a multiple of the workgroup', shape: [3, 2, 257], axes: [2] },
    { title: 'two trailing axes, long', shape: [4, 8, 16], axes: [1, 2] },
    { title: 'last axis, short rows', shape: [7, 9], axes: [1] },
    { title: 'leading axis', shape: [9, 5], axes: [0] },
    { title: 'leading axis, long', shape: [300, 3], axes: [0] },
    { title: 'middle axis', shape: [3, 4, 5], axes: [1] },
    { title: 'several axes', shape: [3, 4, 5, 2], axes: [0, 2] },
    { title: 'all axes to a 0-d output', shape: [4, 6], axes: [0, 1] },
    { title: 'all axes of a rank-3 tensor', shape: [2, 70, 3], axes: [0, 1, 2] },
    { title: 'no axes', shape: [3, 4], axes: [] },
    { title: 'a 0-d tensor', shape: [], axes: [] },
  ];
  const cases: Case[] = [];
  for (const [i, { title, shape, axes }] of layouts.entries()) {
    for (const keepdims of [false, true]) {
      // whole numbers in every other max/min layout: ties
      const values = kind !== 'sum' && i % 2 === 1 ? whole(-3, 3) : real();
      cases.push({ title: `${title} ${fmt(shape)} axes ${fmt(axes)} keepdims ${keepdims}`, inputs: [gen(r, shape, values)], attrs: { axes, keepdims }, scale });
    }
  }
  // NaN in one row (long-row and per-invocation paths): that row's result is NaN, the others are numbers
  for (const shape of [[4, 100], [4, 10], [6, 3]]) {
    const x = gen(r, shape, real());
    const row = 2 % shape[0];
    x.values[row * shape[1] + r.int(0, shape[1] - 1)] = NaN;
    cases.push({ title: `a NaN in row ${row} of ${fmt(shape)}`, inputs: [x], attrs: { axes: [1], keepdims: false }, scale, nan: true });
  }
  const x = gen(r, [5, 4], real());
  x.values[7] = NaN;
  cases.push({ title: 'a NaN, leading axis [5,4]', inputs: [x], attrs: { axes: [0], keepdims: true }, scale, nan: true });
  cases.push({ title: 'int32 input [6,70]', inputs: [i32(whole(-50, 50)(r, 420), [6, 70])], attrs: { axes: [1], keepdims: false }, scale });
  return cases;
}

const sumToCase = (r: Rand, from: number[], to: number[]): Case => ({
  title: `${fmt(from)} to ${fmt(to)}`, inputs: [gen(r, from, real())], attrs: { shape: to }, scale: 'sum',
});

function gatherCases(r: Rand): Case[] {
  const out: Case[] = [];
  for (const [shape, axis, idxShape] of [[[6, 4], 0, [9]], [[3, 5, 2], 1, [8]], [[5, 3], 1, [2, 3]], [[7], 0, [12]], [[4, 3, 2], 0, [1]]] as [number[], number, number[]][]) {
    const idx = Array.from({ length: sizeOf(idxShape) }, () => r.int(0, shape[axis] - 1));
    idx[idx.length - 1] = idx[0]; // at least one repeated index
    out.push({ title: `axis ${axis} of ${fmt(shape)}, indices ${fmt(idxShape)} [${idx}]`, inputs: [gen(r, shape, real()), i32(idx, idxShape)], attrs: { axis } });
  }
  out.push({ title: 'int32 data, axis 0 of [5,2]', inputs: [i32(whole(-9, 9)(r, 10), [5, 2]), i32([4, 0, 4, 1], [4])], attrs: { axis: 0 } });
  return out;
}

function scatterAddCases(r: Rand): Case[] {
  const out: Case[] = [];
  for (const [shape, axis, k] of [[[6, 4], 0, 9], [[3, 5, 2], 1, 8], [[5, 3], 1, 6], [[7], 0, 12], [[4, 3], 0, 1]] as [number[], number, number][]) {
    const idx = Array.from({ length: k }, () => r.int(0, shape[axis] - 1));
    if (k > 2) idx[k - 1] = idx[k - 2] = idx[0]; // an index three times
    const valuesShape = shape.map((d, i) => (i === axis ? k : d));
    out.push({ title: `axis ${axis} into ${fmt(shape)}, indices [${idx}]`, inputs: [gen(r, valuesShape, real()), i32(idx, [k])], attrs: { axis, shape }, scale: 'sum' });
  }
  out.push({ title: 'int32 data, axis 0 into [3,2], indices [2,0,2]', inputs: [i32(whole(-9, 9)(r, 6), [3, 2]), i32([2, 0, 2], [3])], attrs: { axis: 0, shape: [3, 2] } });
  return out;
}

type Pair = [number, number];
const window2d = (kernel: Pair, stride: Pair = [1, 1], padding: Pair = [0, 0], dilation: Pair = [1, 1]) => ({ kernel, stride, padding, dilation });
type Window2d = ReturnType<typeof window2d>;
const windowsAlong = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

/** The shape classes of sliding windows, as [N, C, H, W] planes and windows over them. */
const WINDOWS: [string, number[], Window2d][] = [
  ['3×3, padding 1 (a conv layer)', [2, 3, 7, 6], window2d([3, 3], [1, 1], [1, 1])],
  ['padding larger than the kernel', [1, 2, 5, 4], window2d([2, 2], [1, 1], [3, 2])],
  ['stride larger than the kernel', [2, 1, 9, 8], window2d([2, 1], [3, 4])],
  ['dilation, odd sizes', [1, 3, 9, 7], window2d([3, 2], [2, 1], [1, 0], [2, 3])],
  ['1×1 kernel, stride 2', [3, 2, 5, 5], window2d([1, 1], [2, 2])],
  ['overlapping windows over many pixels', [2, 4, 16, 15], window2d([3, 3], [1, 1], [1, 1])],
];

function unfoldCases(r: Rand): Case[] {
  return [
    ...WINDOWS.map(([title, shape, win]): Case => ({ title: `${title} ${fmt(shape)}`, inputs: [gen(r, shape, real())], attrs: win })),
    { title: 'int32 data [1,2,3,3], 2×2 with padding 1', inputs: [i32(whole(-9, 9)(r, 18), [1, 2, 3, 3])], attrs: window2d([2, 2], [1, 1], [1, 1]) },
  ];
}

/** fold's columns for the windows over a plane of `shape` (its output). */
function foldCases(r: Rand): Case[] {
  const cols = ([n, c, h, w]: number[], win: Window2d) => {
    const l = windowsAlong(h, win.kernel[0], win.stride[0], win.padding[0], win.dilation[0]) * windowsAlong(w, win.kernel[1], win.stride[1], win.padding[1], win.dilation[1]);
    return [n, c * win.kernel[0] * win.kernel[1], l];
  };
  return [
    ...WINDOWS.map(([title, shape, win]): Case => ({ title: `${title} into ${fmt(shape)}`, inputs: [gen(r, cols(shape, win), real())], attrs: { ...win, outputSize: shape.slice(2) }, scale: 'sum' })),
    { title: 'int32 data into [1,2,3,3], 2×2 with padding 1', inputs: [i32(whole(-9, 9)(r, 128), [1, 8, 16])], attrs: { ...window2d([2, 2], [1, 1], [1, 1]), outputSize: [3, 3] } },
  ];
}

/** Cases by op name: every registry op. */
export const TABLE: Record<string, (r: Rand) => Case[]> = {
  add: (r) => [...binaryCases(r, real()), nonFiniteCase(true)],
  sub: (r) => [...binaryCases(r, real()), nonFiniteCase(true)],
  mul: (r) => [...binaryCases(r, real()), nonFiniteCase(true)],
  div: (r) => [
    ...binaryCases(r, real(), signed(0.05, 20)),
    nonFiniteCase(true),
    { title: 'division by ±0', inputs: [f32([2, -2, 0, 2, 0], [5]), f32([0, 0, 0, -0, -0], [5])], attrs: {}, nan: true },
  ],
  pow: (r) => [
    ...binaryCases(r, real(0.1, 3), real(-3, 3)),
    // negative bases with whole exponents (x.pow(2) is common), positive bases with whole exponents
    { title: 'negative bases ^ 2', inputs: [gen(r, [4, 5], real(-3, -0.1)), f32([2], [])], attrs: {} },
    { title: 'negative bases ^ 3', inputs: [gen(r, [4, 5], real(-3, -0.1)), f32([3], [])], attrs: {} },
    { title: 'signed bases ^ whole exponents −4…4', inputs: [gen(r, [6, 5], real(-3, 3)), gen(r, [6, 5], whole(-4, 4))], attrs: {} },
    { title: 'bases ^ 0.5', inputs: [gen(r, [7], real(0.1, 3)), f32([0.5], [])], attrs: {} },
    { title: 'zero and one bases', inputs: [f32([0, 0, 0, 0, 1, 1, 0, -0], [8]), f32([2, 3, 0.5, 0, -2.5, 7.25, -1, 3], [8])], attrs: {} },
    { title: 'negative base ^ fraction is NaN', inputs: [f32([-2, -0.5, 2], [3]), f32([0.5], [])], attrs: {}, nan: true },
    {
      title: 'negative bases ^ whole exponents beyond 64 and ±∞',
      inputs: [f32([-2, -1.01, -1, -1, -0.5, -2, -1.5, -0.9, -2, -0.5, -2, -1, 1.01, 2], [14]), f32([65, 100, 100, 101, 70, -65, 1e10, 1e9, Infinity, Infinity, -Infinity, Infinity, 1001, -70], [14])],
      attrs: {}, nan: true,
    },
    nonFiniteCase(true),
  ],
  maximum: (r) => [
    ...binaryCases(r, real()),
    nonFiniteCase(true),
    { title: 'ties [5,4] [4]', inputs: [gen(r, [5, 4], whole()), gen(r, [4], whole())], attrs: {} },
    { title: 'maximum(NaN, 1) and maximum(1, NaN)', inputs: [f32([NaN, 1, NaN, -2], [4]), f32([1, NaN, NaN, 3], [4])], attrs: {}, nan: true },
  ],
  minimum: (r) => [
    ...binaryCases(r, real()),
    nonFiniteCase(true),
    { title: 'ties [5,4] [4]', inputs: [gen(r, [5, 4], whole()), gen(r, [4], whole())], attrs: {} },
    { title: 'minimum(NaN, 1) and minimum(1, NaN)', inputs: [f32([NaN, 1, NaN, -2], [4]), f32([1, NaN, NaN, 3], [4])], attrs: {}, nan: true },
  ],
  greater: (r) => [...binaryCases(r, whole()), nonFiniteCase(false)],
  less: (r) => [...binaryCases(r, whole()), nonFiniteCase(false)],
  equal: (r) => [...binaryCases(r, whole()), nonFiniteCase(false)],
  where: (r) => {
    const cond: Values = (rr, n) => Array.from({ length: n }, () => rr.pick([0, 0, 1, -1, 0.5]));
    const shapes: [string, number[], number[], number[]][] = [
      ['equal shapes', [3, 4], [3, 4], [3, 4]],
      ['condition column, row, scalar', [5, 1], [6], []],
      ['scalar condition', [], [2, 3], [2, 3]],
      ['rank 4, middle axes broadcast', [2, 1, 1, 4], [2, 3, 5, 4], [1, 3, 1, 1]],
    ];
    for (let k = 0; k < 2; k++) {
      const s = r.shape(0, 4);
      shapes.push(['random broadcast', partner(r, s), s, partner(r, s)]);
    }
    return [
      ...shapes.map(([title, c, a, b]) => ({ title: `${title} ${fmt(c)} ${fmt(a)} ${fmt(b)}`, inputs: [gen(r, c, cond), gen(r, a, real()), gen(r, b, real())], attrs: {} })),
      { title: 'NaN condition (≠ 0, so a) and NaN values', inputs: [f32([NaN, 0, 1, 0], [4]), f32([1, NaN, NaN, 2], [4]), f32([3, 4, 5, NaN], [4])], attrs: {}, nan: true },
      { title: 'int32 condition [4,3]', inputs: [i32(whole(-1, 1)(r, 12), [4, 3]), gen(r, [4, 3], real()), gen(r, [3], real())], attrs: {} },
    ];
  },
  neg: (r) => unaryCases(r, real(), [0, 1e-30, 1e30]),
  exp: (r) => unaryCases(r, real(-10, 10), [0, 1e-4, 1e-7, 30, 80]),
  log: (r) => [
    ...unaryCases(r, (rr, n) => rr.logValues(n, 1e-3, 1e3)),
    positiveSpecials([1, 1 + 1e-3, 1 - 1e-3, 1 + 1e-6, 1 - 1e-6, 1 + 2 ** -23, 1 - 2 ** -24, 0.875, 0.8749, 1.125, 1.1251, 0.5, 2, 1e-30, 1e30]),
    { title: 'log(0) is −∞, log of a negative number NaN', inputs: [f32([0, 1, -1, -0.5], [4])], attrs: {}, nan: true },
  ],
  sqrt: (r) => [
    ...unaryCases(r, real(0, 100)),
    positiveSpecials([0, 1e-30, 1e-6, 1, 2, 1e6, 1e30]),
    { title: 'sqrt of a negative number is NaN', inputs: [f32([-1, 4], [2])], attrs: {}, nan: true },
  ],
  abs: (r) => unaryCases(r, real(), [0, 1e-30]),
  square: (r) => unaryCases(r, real(), [0, 1e-10, 1e10]),
  sign: (r) => [...unaryCases(r, whole(), [0, 1e-30]), { title: 'random reals [20]', inputs: [gen(r, [20], real())], attrs: {} }],
  erf: (r) => unaryCases(r, real(-5, 5), [0, 1e-4, 0.01, 0.5, 1, 2, 3, 3.99, 4, 4.01, 6]),
  relu: (r) => [
    ...unaryCases(r, real(), [0, 1e-30, 1e-4]),
    { title: 'relu(NaN)', inputs: [f32([NaN, -1, 1, NaN], [4])], attrs: {}, nan: true },
  ],
  leakyRelu: (r) => [
    ...unaryCases(r, real(), [0, 1e-4, 1e-30], { alpha: 0.01 }),
    ...unaryCases(r, real(), [0, 1e-4], { alpha: 0.2 }),
  ],
  elu: (r) => [
    ...unaryCases(r, real(), [0, 1e-4, 1e-5, 1e-6, 1e-3, 0.125, 20], { alpha: 1 }),
    ...unaryCases(r, real(), [1e-4, 2e-5], { alpha: 0.5 }),
  ],
  sigmoid: (r) => unaryCases(r, real(-8, 8), [0, 1e-4, 30, 80]),
  tanh: (r) => unaryCases(r, real(-4, 4), [0, 1e-4, 1e-6, 0.1, 0.1249, 0.125, 0.1251, 0.5, 9, 20]),
  softplus: (r) => unaryCases(r, real(-8, 8), [0, 1e-4, 1, 20, 30]),
  // down to −6: 1 + erf(x/√2) cancels in the left tail (the float64 reference is good to about −7)
  gelu: (r) => unaryCases(r, real(-6, 4), [0, 1e-4, 0.5, 1, 2, 3, 4, 5, 5.5, 6]),
  matmul: (r) => {
    const cases: Case[] = [
      matmulCase(r, '1×1×1', [1, 1], [1, 1]),
      matmulCase(r, 'sizes off the tile grid', [17, 33], [33, 65]),
      matmulCase(r, 'thin output', [130, 70], [70, 3]),
      matmulCase(r, 'vector-like', [1, 40], [40, 1]),
      matmulCase(r, 'batched, B shared', [2, 3, 5, 7], [7, 4]),
      matmulCase(r, 'batched, broadcast batch axes', [3, 1, 6, 5], [1, 2, 5, 9]),
      matmulCase(r, 'batched, A shared', [6, 8], [2, 8, 3]),
      matmulCase(r, 'large square', [256, 256], [256, 256]),
    ];
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const { a, b } = stored(19, 23, 21, transA, transB);
        cases.push(matmulCase(r, 'transposes', a, b, transA, transB));
        const big = stored(70, 45, 66, transA, transB);
        cases.push(matmulCase(r, 'transposes, several tiles', big.a, big.b, transA, transB));
      }
    }
    cases.push(matmulCase(r, 'batched transposes', [2, 9, 4], [1, 6, 9], true, true));
    return cases;
  },
  sum: (r) => reduceCases(r, 'sum'),
  max: (r) => reduceCases(r, 'max'),
  min: (r) => reduceCases(r, 'min'),
  sumTo: (r) => {
    const m = r.int(2, 9), n = r.int(2, 9);
    return [
      sumToCase(r, [m, n], [n]),
      sumToCase(r, [m, n], [m, 1]),
      sumToCase(r, [m, n], [1, n]),
      sumToCase(r, [m, n], [m, n]),
      sumToCase(r, [m, n], []),
      sumToCase(r, [2, 3, 4], [3, 1]),
      sumToCase(r, [3, 100], [3, 1]),
      sumToCase(r, [200, 4], [4]),
    ];
  },
  broadcastTo: (r) => [
    [[5], [3, 5]], [[4, 1], [4, 6]], [[], [2, 3]], [[3, 1, 4], [2, 3, 5, 4]], [[1, 1], [3, 2]], [[2, 3], [2, 3]],
  ].map(([from, to]) => ({ title: `${fmt(from)} to ${fmt(to)}`, inputs: [gen(r, from, real())], attrs: { shape: to } } as Case)).concat([
    { title: 'int32 data [3,1] to [2,3,4]', inputs: [i32([7, -8, 9], [3, 1])], attrs: { shape: [2, 3, 4] } },
  ]),
  reshape: (r) => [
    [[6, 4], [3, 8]], [[2, 3, 4], [24]], [[5], [1, 5, 1]], [[], [1, 1]], [[7, 1], [7]],
  ].map(([from, to]) => ({ title: `${fmt(from)} to ${fmt(to)}`, inputs: [gen(r, from, real())], attrs: { shape: to } })),
  // float32 on the GPU either way: a cast between float dtypes is the same values
  cast: (r) => [[6, 4], [5], []].map((shape): Case => ({ title: `${fmt(shape)} to float32`, inputs: [gen(r, shape, real())], attrs: { dtype: 'float32' } })),
  permute: (r) => {
    const cases: Case[] = [];
    for (const rank of [2, 3, 3, 4, 4]) {
      const shape = r.shape(rank, rank, 6);
      const perm = r.permutation(rank);
      cases.push({ title: `${fmt(shape)} by ${fmt(perm)}`, inputs: [gen(r, shape, real())], attrs: { perm } });
    }
    cases.push({ title: 'transpose [33,17] by [1,0]', inputs: [gen(r, [33, 17], real())], attrs: { perm: [1, 0] } });
    cases.push({ title: 'int32 data [2,3,4] by [2,0,1]', inputs: [i32(whole(-9, 9)(r, 24), [2, 3, 4])], attrs: { perm: [2, 0, 1] } });
    return cases;
  },
  slice: (r) => {
    const cases: Case[] = [];
    for (let k = 0; k < 5; k++) {
      const shape = r.shape(1, 4);
      const starts = shape.map((d) => r.int(0, d - 1));
      const sizes = shape.map((d, i) => r.int(1, d - starts[i]));
      cases.push({ title: `${fmt(shape)} from ${fmt(starts)} size ${fmt(sizes)}`, inputs: [gen(r, shape, real())], attrs: { starts, sizes } });
    }
    cases.push({ title: 'int32 data [4,5] from [1,2] size [2,3]', inputs: [i32(whole(-9, 9)(r, 20), [4, 5])], attrs: { starts: [1, 2], sizes: [2, 3] } });
    cases.push({ title: 'empty [4,5] from [1,2] size [0,3]', inputs: [gen(r, [4, 5], real())], attrs: { starts: [1, 2], sizes: [0, 3] } });
    return cases;
  },
  pad: (r) => {
    const cases: Case[] = [];
    for (let k = 0; k < 5; k++) {
      const shape = r.shape(1, 4);
      const before = shape.map(() => r.int(0, 2));
      const after = shape.map(() => r.int(0, 2));
      cases.push({ title: `${fmt(shape)} before ${fmt(before)} after ${fmt(after)}`, inputs: [gen(r, shape, real())], attrs: { before, after } });
    }
    cases.push({ title: 'a 0-d tensor', inputs: [gen(r, [], real())], attrs: { before: [], after: [] } });
    cases.push({ title: 'int32 data [2,3] before [1,0] after [0,2]', inputs: [i32(whole(-9, 9)(r, 6), [2, 3])], attrs: { before: [1, 0], after: [0, 2] } });
    return cases;
  },
  concat: (r) => {
    const cases: Case[] = [];
    for (const [shape, axis] of [[[2, 0, 3], 1], [[2, 0, 3, 2], 2], [[0, 4], 0], [[3, 0], 1], [[0], 0]] as [number[], number][]) {
      const inputs = [0, 1, 2].map(() => gen(r, shape.map((d, i) => (i === axis ? r.int(1, 4) : d)), real()));
      cases.push({ title: `3 inputs along axis ${axis}: ${inputs.map((t) => fmt(t.shape)).join(' ')}`, inputs, attrs: { axis } });
    }
    cases.push({ title: 'one input', inputs: [gen(r, [2, 3], real())], attrs: { axis: 0 } });
    cases.push({ title: 'int32 data along axis 1', inputs: [i32([1, 2, 3, 4], [2, 2]), i32([5, 6], [2, 1])], attrs: { axis: 1 } });
    return cases;
  },
  gather: gatherCases,
  scatterAdd: scatterAddCases,
  unfold: unfoldCases,
  fold: foldCases,
  poolArgmax: (r) => {
    const win = (kernel: [number, number], stride: [number, number], padding: [number, number]) => ({ kernel, stride, padding });
    const at = (title: string, shape: number[], attrs: ReturnType<typeof win>, values: Values = real()): Case => ({ title: `${title} ${fmt(shape)}`, inputs: [gen(r, shape, values)], attrs });
    return [
      at('2×2 windows', [2, 3, 6, 5], win([2, 2], [2, 2], [0, 0])),
      at('3×3, stride 2×1, padding 1', [1, 2, 7, 6], win([3, 3], [2, 1], [1, 1])),
      at('stride above the kernel', [2, 1, 9, 9], win([2, 1], [3, 4], [1, 0])),
      at('ties (whole numbers): the first largest', [2, 2, 5, 5], win([3, 2], [1, 1], [1, 1]), whole(-1, 1)),
      { title: 'NaN in a window wins it', inputs: [f32([1, NaN, 3, 2, 5, NaN, 0, -1, 4], [1, 1, 3, 3])], attrs: win([2, 2], [1, 1], [0, 0]) },
      { title: 'a window of −∞', inputs: [f32([-Infinity, -Infinity, -Infinity, 2], [1, 1, 2, 2])], attrs: win([1, 2], [1, 1], [0, 0]) },
    ];
  },
};

/** Float32 values from an op-table domain (±[gap, hi] where it has a gap). */
const inDomain = (d: Domain): Values => (r, n) =>
  d.gap === undefined ? r.values(n, d.lo, d.hi) : r.values(n, d.gap, d.hi).map((v) => (r.chance(0.5) ? -v : v));

/**
 * Elementwise ops with no cases of their own above get cases from their row in the op table
 * (test/engine/op-table.ts): random shapes with values from the row's domains, and for a unary op
 * NaN and ±∞ as well. So a new elementwise op needs no line here.
 */
for (const row of OP_ROWS) {
  const domains = row.domains;
  if (!domains || row.op in TABLE) continue;
  TABLE[row.op] = domains.length === 1 ? (r) => unaryCases(r, inDomain(domains[0])) : (r) => binaryCases(r, inDomain(domains[0]), inDomain(domains[1]));
}

// ---------------------------------------------------------------------------------------------
// The CPU reference and the measure of a GPU result

export const cpuTensor = (x: Input, abs = false): Tensor =>
  tensor(Float64Array.from(x.values, (v) => (abs && x.dtype === 'float32' ? Math.abs(v) : v)), { dtype: x.dtype === 'int32' ? 'int32' : 'float64', shape: x.shape });

export function cpuOp(op: string, inputs: Tensor[], attrs: Attrs): Tensor {
  const def = OPS.get(op);
  if (!def) throw new Error(`test bug: no op ${op}`);
  return apply(def, inputs, attrs);
}

export interface Outcome {
  worst: number;
  message: string;
}

/** The case as failure messages name it: op, title, input shapes and dtypes, attributes. */
export const caseLabel = (op: string, c: Case): string =>
  `${op} (${c.title}) inputs ${c.inputs.map((x) => `${fmt(x.shape)}${x.dtype === 'int32' ? ':int32' : ''}`).join(' ')} attrs ${JSON.stringify(c.attrs)}`;

export interface Reference {
  /** The CPU op on float64 copies of the inputs. */
  ref: Tensor;
  /** Per-element floor of the error's denominator (`Case.scale`), or null for a plain relative error. */
  scale: ArrayLike<number> | null;
}

/** The CPU (float64) result of a case, and the scale its GPU result is measured against. */
export function reference(op: string, c: Case): Reference {
  const ref = cpuOp(op, c.inputs.map((x) => cpuTensor(x)), c.attrs);
  const scale =
    c.scale === 'sum' ? cpuOp(op, c.inputs.map((x) => cpuTensor(x, true)), c.attrs).data
        : null;
  return { ref, scale };
}

function ensure(ok: unknown, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

/**
 * Measures a GPU (float32) result against the reference: throws, naming `label`, when NaN-ness or an
 * infinity differs or the worst relative error exceeds TOLERANCE; otherwise returns that error.
 */
export function measure(label: string, c: Case, { ref, scale }: Reference, got: ArrayLike<number>): Outcome {
  const want = ref.data;
  ensure(got.length === want.length, `${label}: output size ${got.length}, expected ${want.length}`);
  if (c.nan) ensure(Array.from(want).some(Number.isNaN), `test bug: ${label} has no NaN in the reference`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const w = want[i], g = got[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      ensure(Number.isNaN(w) && Number.isNaN(g), `${label}: element ${i} is ${g} on the GPU, ${w} on the CPU (NaN on one side only)`);
      continue;
    }
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      ensure(g === w, `${label}: element ${i} is ${g} on the GPU, ${w} on the CPU`);
      continue;
    }
    const s = scale ? scale[i] : TINY;
    const e = Math.abs(g - w) / Math.max(Math.abs(w), s, TINY);
    if (e > worst || at < 0) {
      worst = e;
      at = i;
    }
  }
  const message = at < 0 ? `${label}: no finite elements`
    : `${label}: max relative error ${worst.toExponential(2)} at element ${at} of ${fmt(ref.shape)} (GPU ${got[at]}, CPU ${want[at]}${scale ? `, scale ${scale[at]}` : ''}, input values ${c.inputs.map((x) => x.values.length === want.length ? x.values[at] : '…').join(', ')})`;
  ensure(worst <= TOLERANCE, message);
  return { worst, message };
}
