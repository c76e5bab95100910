/**
 * One row per differentiable op (primitive or composite): how to build random inputs in the op's
 * domain and the expression to differentiate. ops.test.ts runs a float64 gradient check on each
 * row for several random shapes. Adding an op means adding a row here: an elementwise op's row is
 * its name and the domain of its inputs (`unaryRow('sin', real(-3, 3))`), and that domain also
 * feeds the GPU parity cases, the PyTorch oracle's programs and the tape parity test.
 */
import { Rng, Tensor, losses, nn, manualSeed } from '../../engine/index';
import * as F from '../../engine/ops/functional';
import * as L from '../../engine/ops/layout';
import { apply } from '../../engine/ops/registry';
import { broadcastPartner, c64, p64, randomShape, signedAwayFromZero, size, values } from './helpers';

export interface OpCase {
  /** Differentiable inputs (float64 params). */
  params: Tensor[];
  /** The op applied to them; the test sums it against fixed random weights. */
  run: () => Tensor;
}

/**
 * Where an op's input values are drawn from: [lo, hi], and with `gap` only |x| ≥ gap (±[gap, hi],
 * for ops with a kink or a pole at 0).
 */
export interface Domain {
  readonly lo: number;
  readonly hi: number;
  readonly gap?: number;
}
export const real = (lo: number, hi: number): Domain => ({ lo, hi });
/** ±[gap, hi]. */
export const awayFromZero = (gap = 0.1, hi = 2): Domain => ({ lo: -hi, hi, gap });

/** `n` values in the domain, from `uniform` (numbers in [0, 1)). */
export function sampleDomain(d: Domain, n: number, uniform: () => number): Float64Array {
  const v = new Float64Array(n);
  const [lo, hi] = d.gap === undefined ? [d.lo, d.hi] : [d.gap, d.hi];
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * uniform();
  if (d.gap !== undefined) for (let i = 0; i < n; i++) if (uniform() < 0.5) v[i] = -v[i];
  return v;
}

export interface OpRow {
  /** Registry name or composite group name this row covers. */
  op: string;
  /** A short description of the case, shown in the test title. */
  title?: string;
  /** An elementwise op called as itself (its catalog function) on inputs from these domains. */
  domains?: readonly Domain[];
  build: (rng: Rng) => OpCase;
}

const CATALOG = F as unknown as Record<string, (...args: unknown[]) => Tensor>;

function unaryRowWith(op: string, fn: (x: Tensor) => Tensor, domain: Domain, minRank = 0): OpRow {
  return {
    op,
    build: (rng) => {
      const shape = randomShape(rng, minRank).map((d, i, all) => (minRank > 0 && i === all.length - 1 ? d + 1 : d));
      const x = p64(sampleDomain(domain, size(shape), () => rng.uniform()), shape, 'x');
      return { params: [x], run: () => fn(x) };
    },
  };
}

/** A unary elementwise op, called as `F[op](x)` on values from `domain`. */
function unaryRow(op: string, domain: Domain): OpRow {
  return { ...unaryRowWith(op, (x) => CATALOG[op](x), domain), domains: [domain] };
}

/** A binary elementwise op, called as `F[op](a, b)` with broadcasting, on values from the two domains. */
function binaryRow(op: string, domA: Domain, domB = domA): OpRow {
  return {
    op,
    title: 'broadcasting',
    domains: [domA, domB],
    build: (rng) => {
      const shapeA = randomShape(rng, 1);
      let shapeB = broadcastPartner(rng, shapeA);
      if (rng.uniform() < 0.5) [shapeB] = [shapeA.slice()];
      const swap = rng.uniform() < 0.5;
      const [sa, sb] = swap ? [shapeB, shapeA] : [shapeA, shapeB];
      const a = p64(sampleDomain(domA, size(sa), () => rng.uniform()), sa, 'a');
      const b = p64(sampleDomain(domB, size(sb), () => rng.uniform()), sb, 'b');
      return { params: [a, b], run: () => CATALOG[op](a, b) };
    },
  };
}

const anyReal = (rng: Rng, n: number) => values(rng, n, -2, 2);
const ANY = real(-2, 2);
const POSITIVE = real(0.5, 2);
const AWAY = awayFromZero();
/** Distinct values (no ties), for max/min and maximum/minimum. */
const distinct = (rng: Rng, n: number) => {
  const order = rng.permutation(n);
  return Float64Array.from(order, (k) => (k - n / 2) * 0.37 + 0.05 * rng.uniform());
};

export const OP_ROWS: OpRow[] = [
  binaryRow('add', ANY),
  binaryRow('sub', ANY),
  binaryRow('mul', ANY),
  binaryRow('div', ANY, AWAY),
  binaryRow('pow', POSITIVE, ANY),
  ...(['maximum', 'minimum'] as const).map((op): OpRow => ({
    op,
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const v = distinct(rng, 2 * size(shape));
      const a = p64(v.slice(0, size(shape)), shape, 'a');
      const b = p64(v.slice(size(shape)), shape, 'b');
      return { params: [a, b], run: () => (op === 'maximum' ? F.maximum(a, b) : F.minimum(a, b)) };
    },
  })),
  unaryRow('neg', ANY),
  unaryRow('exp', ANY),
  unaryRow('log', POSITIVE),
  unaryRow('sqrt', POSITIVE),
  unaryRow('abs', AWAY),
  unaryRow('square', ANY),
  unaryRow('erf', ANY),
  unaryRow('sin', real(-3, 3)),
  unaryRow('cos', real(-3, 3)),
  unaryRow('cosh', real(-2, 2)),
  unaryRow('sinh', real(-2, 2)),
  unaryRow('expm1', real(-2, 2)),
  unaryRow('log1p', real(-0.5, 2)),
  unaryRow('atan', real(-3, 3)),
  unaryRow('tan', real(-1.2, 1.2)),
  // the op itself float64 → float64 (finite differences cannot see through float32 rounding), times x
  unaryRowWith('cast', (x) => F.mul(apply(L.cast.def, [x], { dtype: 'float64' }), x), ANY),
  // sign's derivative is 0: times x, the product rule leaves sign(x) (the check needs a nonzero gradient)
  { ...unaryRowWith('sign', (x) => F.mul(F.sign(x), x), AWAY), title: 'times x' },
  // step's derivative is 0: times x, the product rule leaves step(x)
  { ...unaryRowWith('step', (x) => F.mul(F.step(x), x), AWAY), title: 'times x', domains: [AWAY] },
  {
    op: 'where',
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const cond = c64(Float64Array.from({ length: size(shape) }, () => (rng.uniform() < 0.5 ? 1 : 0)), shape);
      const a = p64(anyReal(rng, size(shape)), shape, 'a');
      const bShape = broadcastPartner(rng, shape);
      const b = p64(anyReal(rng, size(bShape)), bShape, 'b');
      return { params: [a, b], run: () => F.where(cond, a, b) };
    },
  },
  unaryRow('relu', AWAY),
  unaryRowWith('leakyRelu', (x) => F.leakyRelu(x, 0.1), AWAY),
  unaryRowWith('elu', (x) => F.elu(x, 0.7), AWAY),
  unaryRow('sigmoid', real(-4, 4)),
  unaryRow('tanh', ANY),
  unaryRow('softplus', real(-4, 4)),
  unaryRow('gelu', real(-3, 3)),
  {
    op: 'matmul',
    title: '2-D, batched with broadcast batch axes, transposed flags, 1-D operands',
    build: (rng) => {
      const m = 1 + rng.int(4), k = 1 + rng.int(4), n = 1 + rng.int(4);
      const variant = rng.int(5);
      if (variant === 0) {
        const a = p64(anyReal(rng, m * k), [m, k], 'A');
        const b = p64(anyReal(rng, k * n), [k, n], 'B');
        return { params: [a, b], run: () => F.matmul(a, b) };
      }
      if (variant === 1) {
        const a = p64(anyReal(rng, 2 * 3 * m * k), [2, 3, m, k], 'A');
        const b = p64(anyReal(rng, 3 * k * n), [3, k, n], 'B');
        return { params: [a, b], run: () => F.matmul(a, b) };
      }
      if (variant === 2) {
        const tA = rng.uniform() < 0.5, tB = rng.uniform() < 0.5;
        const a = p64(anyReal(rng, m * k), tA ? [k, m] : [m, k], 'A');
        const b = p64(anyReal(rng, k * n), tB ? [n, k] : [k, n], 'B');
        return { params: [a, b], run: () => F.matmulT(a, b, { transA: tA, transB: tB }) };
      }
      if (variant === 3) {
        const a = p64(anyReal(rng, k), [k], 'v');
        const b = p64(anyReal(rng, 2 * k * n), [2, k, n], 'B');
        return { params: [a, b], run: () => F.matmul(a, b) };
      }
      const a = p64(anyReal(rng, m * k), [m, k], 'A');
      const b = p64(anyReal(rng, k), [k], 'v');
      return { params: [a, b], run: () => F.matmul(a, b) };
    },
  },
  {
    op: 'sum',
    title: 'over random axes, keepdims or not',
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const x = p64(anyReal(rng, size(shape)), shape, 'x');
      const axes = shape.map((_, i) => i).filter(() => rng.uniform() < 0.5);
      const keep = rng.uniform() < 0.5;
      return { params: [x], run: () => F.sum(x, axes.length ? axes : undefined, keep) };
    },
  },
  ...(['max', 'min'] as const).map((op): OpRow => ({
    op,
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const x = p64(distinct(rng, size(shape)), shape, 'x');
      const axis = rng.int(shape.length);
      const keep = rng.uniform() < 0.5;
      return { params: [x], run: () => (op === 'max' ? F.max(x, axis, keep) : F.min(x, axis, keep)) };
    },
  })),
  // broadcastTo and sumTo are each other's adjoint: the same pair of shapes, used in both directions
  ...(['broadcastTo', 'sumTo'] as const).map((op): OpRow => ({
    op,
    build: (rng) => {
      const big = randomShape(rng, 1);
      const small = broadcastPartner(rng, big);
      const x = p64(anyReal(rng, size(op === 'broadcastTo' ? small : big)), op === 'broadcastTo' ? small : big, 'x');
      return { params: [x], run: () => (op === 'broadcastTo' ? F.broadcastTo(x, big) : F.sumTo(x, small)) };
    },
  })),
  {
    op: 'reshape',
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const x = p64(anyReal(rng, size(shape)), shape, 'x');
      return { params: [x], run: () => F.reshape(x, [-1, 1]) };
    },
  },
  {
    op: 'permute',
    build: (rng) => {
      const shape = randomShape(rng, 2, 4);
      const x = p64(anyReal(rng, size(shape)), shape, 'x');
      const perm = rng.permutation(shape.length);
      return { params: [x], run: () => F.permute(x, perm) };
    },
  },
  {
    op: 'slice',
    build: (rng) => {
      const shape = randomShape(rng, 1).map((d) => d + 1);
      const x = p64(anyReal(rng, size(shape)), shape, 'x');
      const starts = shape.map((d) => rng.int(d));
      const ends = shape.map((d, i) => starts[i] + 1 + rng.int(d - starts[i]));
      return { params: [x], run: () => F.slice(x, starts, ends) };
    },
  },
  {
    op: 'pad',
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const x = p64(anyReal(rng, size(shape)), shape, 'x');
      const before = shape.map(() => rng.int(3));
      const after = shape.map(() => rng.int(3));
      return { params: [x], run: () => F.pad(x, before, after) };
    },
  },
  {
    op: 'concat',
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const axis = rng.int(shape.length);
      const other = shape.slice();
      other[axis] = 1 + rng.int(3);
      const a = p64(anyReal(rng, size(shape)), shape, 'a');
      const b = p64(anyReal(rng, size(other)), other, 'b');
      return { params: [a, b], run: () => F.concat([a, b, a], axis) };
    },
  },
  {
    op: 'gather',
    title: 'with repeated indices (gradients accumulate)',
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const axis = rng.int(shape.length);
      const x = p64(anyReal(rng, size(shape)), shape, 'x');
      const idx = Array.from({ length: 1 + rng.int(5) }, () => rng.int(shape[axis]));
      return { params: [x], run: () => F.gather(x, idx, axis) };
    },
  },
  {
    op: 'scatterAdd',
    build: (rng) => {
      const shape = [1 + rng.int(4), 1 + rng.int(3)];
      const idx = Array.from({ length: 1 + rng.int(5) }, () => rng.int(shape[0]));
      const g = p64(anyReal(rng, idx.length * shape[1]), [idx.length, shape[1]], 'g');
      const idxT = F.gather(c64(Float64Array.from(idx), [idx.length]), [...idx.keys()]);
      return { params: [g], run: () => F.scatterAdd(g, idxT, 0, shape) };
    },
  },
  // Composite ops
  {
    op: 'mean',
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const x = p64(anyReal(rng, size(shape)), shape, 'x');
      const axis = rng.uniform() < 0.5 ? 0 : undefined;
      return { params: [x], run: () => F.mean(x, axis, true) };
    },
  },
  {
    op: 'var',
    build: (rng) => {
      const shape = [2 + rng.int(3), 1 + rng.int(3)];
      const x = p64(anyReal(rng, size(shape)), shape, 'x');
      const correction = rng.int(2);
      return { params: [x], run: () => F.variance(x, 0, false, correction) };
    },
  },
  unaryRowWith('softmax', (x) => F.softmax(x, -1), ANY, 1),
  unaryRowWith('logSoftmax', (x) => F.logSoftmax(x, -1), ANY, 1),
  {
    op: 'linear',
    build: (rng) => {
      const n = 1 + rng.int(4), i = 1 + rng.int(4), o = 1 + rng.int(4);
      const x = p64(anyReal(rng, n * i), [n, i], 'x');
      const w = p64(anyReal(rng, o * i), [o, i], 'W');
      const b = p64(anyReal(rng, o), [o], 'b');
      return { params: [x, w, b], run: () => F.linear(x, w, b) };
    },
  },
  ...([
    ['stride 1, no padding', {}],
    ['stride > kernel, padding > kernel, dilation', { stride: [3, 2], padding: [4, 1], dilation: [1, 2] }],
    ["groups = channels (depthwise), 'same'", { padding: 'same', depthwise: true }],
    ['two groups, 1×1 kernel, odd sizes', { groups: 2, kernel: [1, 1] }],
  ] as const).map(([title, o]: readonly [string, { stride?: readonly [number, number]; padding?: 'same' | readonly [number, number]; dilation?: readonly [number, number]; groups?: number; depthwise?: boolean; kernel?: readonly [number, number] }]): OpRow => ({
    op: 'conv2d',
    title,
    build: (rng) => {
      const g = o.depthwise ? 3 : o.groups ?? 1;
      const c = o.depthwise ? 3 : g * (1 + rng.int(2));
      const out = o.depthwise ? 3 : g * (1 + rng.int(2));
      const [kh, kw] = o.kernel ?? [1 + rng.int(3), 2 + rng.int(2)];
      const x = p64(anyReal(rng, 2 * c * 5 * 7), [2, c, 5, 7], 'x');
      const w = p64(anyReal(rng, out * (c / g) * kh * kw), [out, c / g, kh, kw], 'W');
      const b = p64(anyReal(rng, out), [out], 'b');
      const opts = { stride: o.stride && [...o.stride] as [number, number], padding: o.padding === 'same' ? 'same' as const : o.padding && [...o.padding] as [number, number], dilation: o.dilation && [...o.dilation] as [number, number], groups: g };
      return { params: [x, w, b], run: () => F.conv2d(x, w, b, opts) };
    },
  })),
  ...([
    ['3×2 kernel, stride 1', [3, 2], {}],
    ['stride > kernel, padding > kernel, dilation', [2, 2], { stride: [3, 2], padding: [3, 1], dilation: [1, 2] }],
    ['1×1 kernel, stride 2 (windows overlap nowhere)', 1, { stride: 2 }],
    ['overlapping windows with padding (pixels in several columns)', 3, { padding: 1, stride: [1, 2] }],
  ] as const).flatMap(([title, kernel, o]: readonly [string, number | readonly [number, number], { stride?: number | readonly [number, number]; padding?: number | readonly [number, number]; dilation?: readonly [number, number] }]): OpRow[] => {
    const opts = { stride: o.stride, padding: o.padding, dilation: o.dilation };
    // [N, C, H, W] = [2, 2, 5, 7]: unfold's input, fold's output size
    const windows = (k: number, s: number, p: number, d: number, n: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
    const pairOf = (v: number | readonly [number, number] | undefined, dflt: number) => (v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v);
    const [k, s, p, d] = [pairOf(kernel, 0), pairOf(o.stride, 1), pairOf(o.padding, 0), pairOf(o.dilation, 1)];
    const l = windows(k[0], s[0], p[0], d[0], 5) * windows(k[1], s[1], p[1], d[1], 7);
    return [
      { op: 'unfold', title, build: (rng) => {
        const x = p64(anyReal(rng, 2 * 2 * 5 * 7), [2, 2, 5, 7], 'x');
        return { params: [x], run: () => F.unfold(x, kernel, opts) };
      } },
      { op: 'fold', title, build: (rng) => {
        const cols = p64(anyReal(rng, 2 * 2 * k[0] * k[1] * l), [2, 2 * k[0] * k[1], l], 'cols');
        return { params: [cols], run: () => F.fold(cols, [5, 7], kernel, opts) };
      } },
    ];
  }),
  ...([
    ['stride 2, padding 1, output padding 1', { stride: 2, padding: 1, outputPadding: 1 }],
    ['two groups, dilation 2, stride 3×1', { groups: 2, dilation: [2, 1] as [number, number], stride: [3, 1] as [number, number] }],
  ] as const).map(([title, o]): OpRow => ({
    op: 'convTranspose2d',
    title,
    build: (rng) => {
      const g = 'groups' in o ? o.groups : 1;
      const x = p64(anyReal(rng, 2 * 2 * 3 * 4), [2, 2, 3, 4], 'x');
      const w = p64(anyReal(rng, 2 * 3 * 2 * 3), [2, 3, 2, 3], 'W');
      const b = p64(anyReal(rng, 3 * g), [3 * g], 'b');
      return { params: [x, w, b], run: () => F.convTranspose2d(x, w, b, o) };
    },
  })),
  {
    op: 'conv1d',
    build: (rng) => {
      const x = p64(anyReal(rng, 2 * 2 * 9), [2, 2, 9], 'x');
      const w = p64(anyReal(rng, 3 * 2 * 3), [3, 2, 3], 'W');
      const dilation = 1 + rng.int(2);
      return { params: [x, w], run: () => F.conv1d(x, w, null, { stride: 2, padding: 1, dilation }) };
    },
  },
  ...([[2, {}], [3, { stride: [2, 1] as [number, number], padding: [1, 1] as [number, number] }]] as const).map(([k, opts]): OpRow => ({
    op: 'maxPool2d',
    title: `kernel ${k}${'padding' in opts ? ', stride 2×1, padding 1' : ''}`,
    build: (rng) => {
      const x = p64(anyReal(rng, 2 * 3 * 6 * 5), [2, 3, 6, 5], 'x');
      return { params: [x], run: () => F.maxPool2d(x, k, opts) };
    },
  })),
  {
    op: 'avgPool2d',
    build: (rng) => {
      const x = p64(anyReal(rng, 2 * 3 * 6 * 5), [2, 3, 6, 5], 'x');
      return { params: [x], run: () => F.avgPool2d(x, [3, 2], { stride: [2, 2], padding: [1, 1] }) };
    },
  },
  {
    op: 'adaptiveAvgPool2d',
    build: (rng) => {
      const x = p64(anyReal(rng, 2 * 2 * 7 * 5), [2, 2, 7, 5], 'x');
      return { params: [x], run: () => F.adaptiveAvgPool2d(x, [3, 4]) };
    },
  },
  {
    op: 'layerNorm',
    build: (rng) => {
      const x = p64(anyReal(rng, 2 * 3 * 4), [2, 3, 4], 'x');
      const w = p64(anyReal(rng, 12), [3, 4], 'w');
      const b = p64(anyReal(rng, 12), [3, 4], 'b');
      return { params: [x, w, b], run: () => F.layerNorm(x, [3, 4], w, b) };
    },
  },
  {
    op: 'groupNorm',
    build: (rng) => {
      const x = p64(anyReal(rng, 2 * 4 * 3 * 2), [2, 4, 3, 2], 'x');
      const w = p64(anyReal(rng, 4), [4], 'w');
      const b = p64(anyReal(rng, 4), [4], 'b');
      return { params: [x, w, b], run: () => F.groupNorm(x, 2, w, b) };
    },
  },
  {
    op: 'embedding',
    build: (rng) => {
      const w = p64(anyReal(rng, 5 * 3), [5, 3], 'W');
      // repeated indices: their gradients add up in the row
      const idx = [[1, 4, 1], [0, 1, 3]];
      return { params: [w], run: () => F.embedding(idx.flat(), w).reshape(2, 3, 3) };
    },
  },
  ...[false, true].map((causal): OpRow => ({
    op: 'scaledDotProductAttention',
    title: causal ? 'causal' : 'keys of another length',
    build: (rng) => {
      const lk = causal ? 4 : 3;
      const q = p64(anyReal(rng, 2 * 4 * 3), [2, 4, 3], 'q');
      const k = p64(anyReal(rng, 2 * lk * 3), [2, lk, 3], 'k');
      const v = p64(anyReal(rng, 2 * lk * 2), [2, lk, 2], 'v');
      return { params: [q, k, v], run: () => F.scaledDotProductAttention(q, k, v, { causal }) };
    },
  })),
  {
    op: 'batchNorm2d',
    build: (rng) => {
      const x = p64(anyReal(rng, 3 * 2 * 2 * 3), [3, 2, 2, 3], 'x');
      const bn = nn.batchNorm2d(2, { dtype: 'float64' });
      bn.weight!.data.set(anyReal(rng, 2));
      bn.bias!.data.set(anyReal(rng, 2));
      return { params: [x, bn.weight!, bn.bias!], run: () => bn.forward(x) };
    },
  },
  {
    op: 'clamp',
    build: (rng) => {
      const shape = randomShape(rng, 1).map((d, i, all) => (i === all.length - 1 ? d + 1 : d));
      // values near the bounds ±0.5 are moved away from them (a kink), one value is inside
      const v = Float64Array.from(values(rng, size(shape), -1, 1), (x, i) => (i === 0 ? 0.1 : Math.abs(Math.abs(x) - 0.5) < 0.05 ? x * 0.5 : x));
      const x = p64(v, shape, 'x');
      return { params: [x], run: () => F.clamp(x, -0.5, 0.5) };
    },
  },  ...(['mse', 'l1', 'huber'] as const).map((op): OpRow => ({
    op,
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const p = p64(anyReal(rng, size(shape)), shape, 'pred');
      const t = p64(Float64Array.from(p.data, (v) => v + signedAwayFromZero(rng, 1, 0.05, 2)[0]), shape, 'target');
      const fn = op === 'mse' ? losses.mse : op === 'l1' ? losses.l1 : losses.huber;
      return { params: [p, t], run: () => fn(p, t) };
    },
  })),
  {
    op: 'bce',
    build: (rng) => {
      const shape = [1 + rng.int(5)];
      const p = p64(values(rng, shape[0], 0.05, 0.95), shape, 'prob');
      const t = c64(Float64Array.from({ length: shape[0] }, () => rng.int(2)), shape);
      return { params: [p], run: () => losses.bce(p, t) };
    },
  },
  {
    op: 'bceWithLogits',
    build: (rng) => {
      const shape = randomShape(rng, 1);
      const x = p64(values(rng, size(shape), -5, 5), shape, 'logits');
      const t = p64(values(rng, size(shape), 0, 1), shape, 'target');
      return { params: [x, t], run: () => losses.bceWithLogits(x, t) };
    },
  },
  {
    op: 'softmaxCrossEntropy',
    title: 'integer labels and one-hot rows',
    build: (rng) => {
      const n = 1 + rng.int(4), c = 2 + rng.int(4);
      const x = p64(anyReal(rng, n * c), [n, c], 'logits');
      const labels = Array.from({ length: n }, () => rng.int(c));
      if (rng.uniform() < 0.5) return { params: [x], run: () => losses.softmaxCrossEntropy(x, labels) };
      const onehot = F.oneHot(labels, c, 'float64');
      return { params: [x], run: () => losses.softmaxCrossEntropy(x, onehot) };
    },
  },
  {
    op: 'batchNorm1d',
    build: (rng) => {
      manualSeed(rng.nextUint32());
      const n = 3 + rng.int(3), c = 1 + rng.int(3);
      const bn = nn.batchNorm1d(c, { dtype: 'float64' });
      const x = p64(anyReal(rng, n * c), [n, c], 'x');
      bn.weight!.data.set(values(rng, c, 0.5, 2));
      return { params: [x, bn.weight!, bn.bias!], run: () => bn.forward(x) };
    },
  },
];

/** Ops with no gradient: checked for values and for not requiring grad. */
export const NONDIFFERENTIABLE: Record<string, (a: number, b: number) => number> = {
  greater: (a, b) => (a > b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  equal: (a, b) => (a === b ? 1 : 0),
};
