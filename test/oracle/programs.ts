/**
 * Random programs for the PyTorch oracle. A seeded generator builds a small program (leaves with
 * literal values, then a few ops chosen from a table with one entry per registry op and composite,
 * fan-out, broadcasting, reductions over each axis, reshapes, float32/float64, 0-d scalars, and a
 * second-order part through `createGraph`) and writes it twice: as a Backprop Lens model file and as
 * a PyTorch script. Every value gets a name in both, so the nodes can be compared one by one.
 *
 * Values are kept in safe ranges by construction (a lower bound for what feeds log, sqrt, pow and
 * division; a magnitude bound for what feeds exp), so a mismatch is a real disagreement, not a NaN.
 */
import { OPS, COMPOSITES, Rng } from '../../engine/index';
import * as F from '../../engine/ops/functional';
import { OP_ROWS, sampleDomain, type Domain } from '../engine/op-table';

export type DT = 'float32' | 'float64';

export interface Val {
  name: string;
  shape: number[];
  dtype: DT;
  /** An upper bound of |value|. */
  bound: number;
  /** A lower bound of the value (−∞ when it may be negative). */
  lo: number;
  /** Depends on a leaf that requires grad. */
  grad: boolean;
  /** Leaves (by name) that require grad and that this value depends on. */
  leaves: Set<string>;
  /** The leaf itself (a parameter) or a constant. */
  leaf?: 'param' | 'constant';
  /** Computed from a float32 value somewhere: a float64 result carries float32 rounding. */
  f32: boolean;
}

export interface Stmt {
  val: Val;
  ts: string;
  py: string;
  /** Names of the values this statement reads. */
  inputs: string[];
  /** The ops it exercises (registry ops and composites), for the coverage count. */
  ops: string[];
}

export interface Program {
  id: string;
  stmts: Stmt[];
  /** The scalar the backward pass starts from (the default export). */
  out: string;
  /** Set when the program differentiates a gradient (createGraph): the leaf it takes ∂y/∂leaf of. */
  secondOrder: { y: string; leaf: string; grad: string } | null;
}

type Ctx = {
  rng: Rng;
  /** A program of 0-d float64 scalars only. */
  scalar: boolean;
  /** The literal values of a leaf made by `leaf`. */
  valuesOf(name: string): number[];
  vals: Val[];
  dtype: DT;
  fresh(prefix?: string): string;
  /** A new leaf (parameter or constant) with random values. */
  leaf(shape: number[], opts?: { positive?: boolean; constant?: boolean; dtype?: DT; scale?: number; domain?: Domain }): Stmt;
  emit(s: Stmt): void;
};

const PY_DT: Record<DT, string> = { float32: 'torch.float32', float64: 'torch.float64' };

function lit(v: number): string {
  // shortest round-trip text: both JS and Python read it back as the same double
  return Object.is(v, -0) ? '-0.0' : String(v);
}
function nested(values: number[], shape: number[]): string {
  if (shape.length === 0) return lit(values[0]);
  const step = values.length / shape[0];
  const parts: string[] = [];
  for (let i = 0; i < shape[0]; i++) parts.push(nested(values.slice(i * step, (i + 1) * step), shape.slice(1)));
  return `[${parts.join(', ')}]`;
}
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const jsArr = (a: readonly number[]) => `[${a.join(', ')}]`;
const pyTuple = (a: readonly number[]) => (a.length === 1 ? `(${a[0]},)` : `(${a.join(', ')})`);

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

/** A shape that broadcasts against `shape`: some leading axes dropped, some sizes 1. */
function partner(rng: Rng, shape: readonly number[]): number[] {
  const drop = rng.int(shape.length + 1);
  return shape.slice(drop).map((d) => (rng.uniform() < 0.3 ? 1 : d));
}

function randomShape(rng: Rng, minRank = 0, maxRank = 3): number[] {
  const rank = minRank + rng.int(maxRank - minRank + 1);
  return Array.from({ length: rank }, () => 1 + rng.int(4));
}

function union(...sets: Set<string>[]): Set<string> {
  const out = new Set<string>();
  for (const s of sets) for (const x of s) out.add(x);
  return out;
}

function derive(ctx: Ctx, shape: number[], inputs: Val[], bound: number, lo = -Infinity, opts: { dtype?: DT; nondiff?: boolean } = {}): Val {
  // PyTorch's promotion, as the engine's: float64 wins, but a 0-d value does not widen values with dimensions
  const widening = inputs.some((v) => v.shape.length > 0) ? inputs.filter((v) => v.shape.length > 0) : inputs;
  const dtype = opts.dtype ?? (widening.some((v) => v.dtype === 'float64') ? 'float64' : inputs[0]?.dtype ?? ctx.dtype);
  return {
    name: ctx.fresh(), shape, dtype, bound, lo, f32: dtype === 'float32' || inputs.some((v) => v.f32),
    grad: !opts.nondiff && inputs.some((v) => v.grad),
    leaves: opts.nondiff ? new Set() : union(...inputs.map((v) => v.leaves)),
  };
}

const MAX_BOUND = 60;
const SAFE_LO = 0.05;

/** A value to use as an operand: prefers recent ones (chains and fan-out), sometimes a fresh leaf. */
function operand(ctx: Ctx, filter: (v: Val) => boolean = () => true, make?: () => Val | null): Val | null {
  const ok = ctx.vals.filter((v) => filter(v) && v.bound <= MAX_BOUND);
  if (ok.length && (ctx.rng.uniform() < 0.85 || !make)) {
    // favour the newest values so programs grow deep, not only wide
    const i = ok.length - 1 - Math.min(ok.length - 1, Math.floor(-Math.log(1 - ctx.rng.uniform() * 0.95) * 1.5));
    return ok[i];
  }
  return make ? make() : null;
}

function newLeafVal(ctx: Ctx, shape: number[], opts: { positive?: boolean; constant?: boolean; dtype?: DT; domain?: Domain } = {}): Val {
  const s = ctx.leaf(shape, opts);
  ctx.emit(s);
  return s.val;
}

/** A value with lo ≥ SAFE_LO (for log, sqrt, division, pow bases): an existing one or a fresh positive leaf. */
function positive(ctx: Ctx, shape?: number[]): Val {
  const v = operand(ctx, (x) => x.lo >= SAFE_LO && (!shape || broadcastShape(x.shape, shape) !== null));
  return v ?? newLeafVal(ctx, shape ? partner(ctx.rng, shape) : randomShape(ctx.rng), { positive: true });
}

function any(ctx: Ctx, filter: (v: Val) => boolean = () => true): Val {
  return operand(ctx, filter) ?? newLeafVal(ctx, randomShape(ctx.rng));
}

type Gen = (ctx: Ctx) => Stmt | null;

function unaryOp(name: string, tsM: string, pyE: (a: string) => string, rule: { need?: (v: Val) => boolean; bound: (b: number, v: Val) => number; lo?: (v: Val) => number; nondiff?: boolean; positiveInput?: boolean }): Gen {
  return (ctx) => {
    const a = rule.positiveInput ? positive(ctx) : any(ctx, rule.need);
    if (rule.need && !rule.need(a)) return null;
    const val = derive(ctx, a.shape.slice(), [a], rule.bound(a.bound, a), rule.lo ? rule.lo(a) : -Infinity, { nondiff: rule.nondiff });
    return { val, ts: `${a.name}.${tsM}`, py: pyE(a.name), inputs: [a.name], ops: [name] };
  };
}

function binaryOp(name: string, tsM: string, pyE: (a: string, b: string) => string, rule: { bound: (a: Val, b: Val) => number; lo?: (a: Val, b: Val) => number; safeB?: boolean; safeA?: boolean; nondiff?: boolean; numbers?: boolean }): Gen {
  return (ctx) => {
    const a = rule.safeA ? positive(ctx) : any(ctx);
    // the second operand: a plain number now and then (it takes the tensor's dtype)
    if (rule.numbers && ctx.rng.uniform() < 0.2) {
      const k = rule.safeB ? 0.5 + ctx.rng.int(30) / 10 : pick(ctx.rng, [-1.5, 0.5, 2, 3]);
      const bv: Val = { name: lit(k), shape: [], dtype: a.dtype, bound: Math.abs(k), lo: k, grad: false, leaves: new Set(), f32: false };
      const val = derive(ctx, a.shape.slice(), [a], rule.bound(a, bv), rule.lo ? rule.lo(a, bv) : -Infinity, { nondiff: rule.nondiff });
      return { val, ts: `${a.name}.${tsM}(${lit(k)})`, py: pyE(a.name, lit(k)), inputs: [a.name], ops: [name] };
    }
    const b = rule.safeB ? positive(ctx, a.shape) : operand(ctx, (v) => broadcastShape(a.shape, v.shape) !== null, () => newLeafVal(ctx, partner(ctx.rng, a.shape)))!;
    const shape = broadcastShape(a.shape, b.shape);
    if (!shape) return null;
    const val = derive(ctx, shape, [a, b], rule.bound(a, b), rule.lo ? rule.lo(a, b) : -Infinity, { nondiff: rule.nondiff });
    return { val, ts: `${a.name}.${tsM}(${b.name})`, py: pyE(a.name, b.name), inputs: [a.name, b.name], ops: [name] };
  };
}

/** Axes to reduce: all of them (undefined), or a random non-empty subset. */
function axesOf(rng: Rng, rank: number): number[] | undefined {
  if (rank === 0 || rng.uniform() < 0.25) return undefined;
  const axes = Array.from({ length: rank }, (_, i) => i).filter(() => rng.uniform() < 0.5);
  return axes.length ? axes : [rng.int(rank)];
}
function reducedShape(shape: number[], axes: number[] | undefined, keep: boolean): number[] {
  const all = axes ?? shape.map((_, i) => i);
  return keep ? shape.map((d, i) => (all.includes(i) ? 1 : d)) : shape.filter((_, i) => !all.includes(i));
}
const tsAxes = (axes: number[] | undefined, keep: boolean) => (axes === undefined ? (keep ? 'undefined, true' : '') : `${jsArr(axes)}, ${keep}`);
const pyDim = (axes: number[] | undefined, rank: number) => pyTuple(axes ?? Array.from({ length: rank }, (_, i) => i));

function reduction(name: string, tsM: string, pyF: string, boundOf: (v: Val, n: number) => number, positiveLo = false): Gen {
  return (ctx) => {
    const a = any(ctx, (v) => v.shape.length > 0);
    if (a.shape.length === 0) return null;
    const axes = axesOf(ctx.rng, a.shape.length);
    const keep = ctx.rng.uniform() < 0.4;
    const n = size(a.shape) / size(reducedShape(a.shape, axes, true));
    const val = derive(ctx, reducedShape(a.shape, axes, keep), [a], boundOf(a, n), positiveLo ? a.lo : -Infinity);
    return { val, ts: `${a.name}.${tsM}(${tsAxes(axes, keep)})`, py: `${pyF}(${a.name}, dim=${pyDim(axes, a.shape.length)}, keepdim=${keep ? 'True' : 'False'})`, inputs: [a.name], ops: [name] };
  };
}

function permutation(rng: Rng, n: number): number[] {
  return rng.permutation(n);
}

/** An input of rank 2 + `dims` ([N, C, H, W] or [N, C, L]) whose channels `groups` divides: an existing value or a fresh leaf. */
function spatialInput(ctx: Ctx, dims: 1 | 2, groups: number): Val {
  const fresh = () => newLeafVal(ctx, [1 + ctx.rng.int(2), groups * (1 + ctx.rng.int(2)), ...Array.from({ length: dims }, () => 2 + ctx.rng.int(6))]);
  return operand(ctx, (v) => v.shape.length === 2 + dims && v.shape[1] % groups === 0 && v.shape.slice(2).every((d) => d >= 2), fresh) ?? fresh();
}

const outLen = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

/**
 * conv2d / conv1d with the cases that usually break: padding larger than the kernel, stride larger
 * than the kernel, 1×1 kernels, dilation, groups = channels, 'same', odd sizes.
 */
function convGen(ctx: Ctx, dims: 1 | 2): Stmt | null {
  const rng = ctx.rng;
  const groups = pick(rng, [1, 1, 2, 3]);
  const x = spatialInput(ctx, dims, groups);
  const [n, c] = x.shape;
  const size = x.shape.slice(2);
  const depthwise = rng.uniform() < 0.2;
  const o = depthwise ? c : groups * (1 + rng.int(2));
  const g = depthwise ? c : groups;
  const k = size.map(() => pick(rng, [1, 2, 3, 3]));
  const same = rng.uniform() < 0.2;
  const stride = same ? size.map(() => 1) : size.map(() => pick(rng, [1, 1, 2, 4]));
  const dilation = size.map(() => pick(rng, [1, 1, 2]));
  const padding = size.map((_, i) => pick(rng, [0, 0, 1, k[i] + 1]));
  const out = size.map((d, i) => (same ? d : outLen(d, k[i], stride[i], padding[i], dilation[i])));
  if (out.some((d) => d < 1)) return null;
  const cg = c / g;
  const wv = newLeafVal(ctx, [o, cg, ...k], { dtype: x.dtype });
  const b = rng.uniform() < 0.6 ? newLeafVal(ctx, [o], { dtype: x.dtype }) : null;
  const bound = x.bound * wv.bound * cg * k.reduce((a, v) => a * v, 1) + (b ? b.bound : 0);
  const one = (a: number[]) => (dims === 1 ? String(a[0]) : jsArr(a));
  const onePy = (a: number[]) => (dims === 1 ? String(a[0]) : pyTuple(a));
  const tsPad = same ? "'same'" : one(padding);
  const pyPad = same ? "'same'" : onePy(padding);
  const name = dims === 2 ? 'conv2d' : 'conv1d';
  return {
    val: derive(ctx, [n, o, ...out], b ? [x, wv, b] : [x, wv], bound),
    // the input in the weight's dtype on both sides (PyTorch's convolutions do not promote)
    ts: `${name}(${x.name}.to('${x.dtype}'), ${wv.name}, ${b ? b.name : 'null'}, { stride: ${one(stride)}, padding: ${tsPad}, dilation: ${one(dilation)}, groups: ${g} })`,
    py: `F.${name}(${x.name}.to(torch.${x.dtype}), ${wv.name}, ${b ? b.name : 'None'}, stride=${onePy(stride)}, padding=${pyPad}, dilation=${onePy(dilation)}, groups=${g})`,
    inputs: [x.name, wv.name, ...(b ? [b.name] : [])], ops: dims === 2 ? ['conv2d', 'unfold', 'matmul'] : ['conv1d', 'conv2d', 'unfold', 'matmul'],
  };
}

/** maxPool2d / avgPool2d: kernels from 1 to 3, strides below, at and above the kernel, padding up to half the kernel. */
function poolGen(ctx: Ctx, kind: 'max' | 'avg'): Stmt | null {
  const rng = ctx.rng;
  const x = spatialInput(ctx, 2, 1);
  const [n, c, h, w] = x.shape;
  const k = [1 + rng.int(3), 1 + rng.int(3)];
  const stride = rng.uniform() < 0.4 ? k : [1 + rng.int(3), 1 + rng.int(3)];
  const padding = k.map((v) => rng.int(Math.floor(v / 2) + 1));
  const out = [outLen(h, k[0], stride[0], padding[0], 1), outLen(w, k[1], stride[1], padding[1], 1)];
  if (out.some((d) => d < 1)) return null;
  const name = kind === 'max' ? 'maxPool2d' : 'avgPool2d';
  return {
    val: derive(ctx, [n, c, ...out], [x], x.bound, kind === 'max' ? x.lo : Math.min(0, x.lo)),
    ts: `${name}(${x.name}, ${jsArr(k)}, { stride: ${jsArr(stride)}, padding: ${jsArr(padding)} })`,
    py: `F.${kind}_pool2d(${x.name}, ${pyTuple(k)}, stride=${pyTuple(stride)}, padding=${pyTuple(padding)})`,
    inputs: [x.name], ops: kind === 'max' ? ['maxPool2d', 'poolArgmax', 'unfold', 'equal', 'where', 'sum'] : ['avgPool2d', 'unfold', 'mean'],
  };
}

/** A window for unfold / fold over a plane of `size`: the same hard cases as convGen's (padding above the kernel, stride above it, dilation, 1×1). */
function windowGen(rng: Rng, size: number[]) {
  const k = size.map(() => pick(rng, [1, 2, 3, 3]));
  const stride = size.map(() => pick(rng, [1, 1, 2, 4]));
  const dilation = size.map(() => pick(rng, [1, 1, 2]));
  const padding = size.map((_, i) => pick(rng, [0, 0, 1, k[i] + 1]));
  const out = size.map((d, i) => outLen(d, k[i], stride[i], padding[i], dilation[i]));
  const ts = `${jsArr(k)}, { stride: ${jsArr(stride)}, padding: ${jsArr(padding)}, dilation: ${jsArr(dilation)} }`;
  const py = `kernel_size=${pyTuple(k)}, dilation=${pyTuple(dilation)}, padding=${pyTuple(padding)}, stride=${pyTuple(stride)}`;
  return { k, out, ts, py };
}

/** F.unfold of a 4-D value: [N, C·kh·kw, L]. */
function unfoldGen(ctx: Ctx): Stmt | null {
  const x = spatialInput(ctx, 2, 1);
  const [n, c, h, w] = x.shape;
  const win = windowGen(ctx.rng, [h, w]);
  if (win.out.some((d) => d < 1)) return null;
  return {
    val: derive(ctx, [n, c * win.k[0] * win.k[1], win.out[0] * win.out[1]], [x], x.bound, Math.min(0, x.lo)),
    ts: `unfold(${x.name}, ${win.ts})`, py: `F.unfold(${x.name}, ${win.py})`, inputs: [x.name], ops: ['unfold'],
  };
}

/** F.fold into a plane of 2…7 × 2…7: a value of the columns' shape [N, C·kh·kw, L] (an existing one or a fresh leaf). */
function foldGen(ctx: Ctx): Stmt | null {
  const rng = ctx.rng;
  const size = [2 + rng.int(6), 2 + rng.int(6)];
  const win = windowGen(rng, size);
  if (win.out.some((d) => d < 1)) return null;
  const shape = [1 + rng.int(2), (1 + rng.int(2)) * win.k[0] * win.k[1], win.out[0] * win.out[1]];
  const x = operand(ctx, (v) => v.shape.length === 3 && v.shape.every((d, i) => d === shape[i]), () => newLeafVal(ctx, shape))!;
  return {
    val: derive(ctx, [shape[0], shape[1] / (win.k[0] * win.k[1]), ...size], [x], x.bound * win.k[0] * win.k[1]),
    ts: `fold(${x.name}, ${jsArr(size)}, ${win.ts})`, py: `F.fold(${x.name}, output_size=${pyTuple(size)}, ${win.py})`, inputs: [x.name], ops: ['fold'],
  };
}

/** One entry per registry op and composite: how to write a random use of it in both languages. */
export const GENERATORS: Record<string, Gen> = {
  add: binaryOp('add', 'add', (a, b) => `(${a} + ${b})`, { bound: (a, b) => a.bound + b.bound, lo: (a, b) => a.lo + b.lo, numbers: true }),
  sub: binaryOp('sub', 'sub', (a, b) => `(${a} - ${b})`, { bound: (a, b) => a.bound + b.bound, numbers: true }),
  mul: binaryOp('mul', 'mul', (a, b) => `(${a} * ${b})`, { bound: (a, b) => a.bound * b.bound, lo: (a, b) => (a.lo >= 0 && b.lo >= 0 ? a.lo * b.lo : -Infinity), numbers: true }),
  div: binaryOp('div', 'div', (a, b) => `(${a} / ${b})`, { bound: (a, b) => a.bound / b.lo, lo: (a, b) => (a.lo >= 0 ? a.lo / b.bound : -Infinity), safeB: true, numbers: true }),
  pow: (ctx) => {
    const a = positive(ctx);
    if (ctx.rng.uniform() < 0.5) {
      const k = pick(ctx.rng, [2, 3, 0.5, -1.5, 1.7]);
      const val = derive(ctx, a.shape.slice(), [a], Math.max(a.bound, 1 / a.lo) ** Math.abs(k), Math.min(a.lo ** k, a.bound ** k));
      return { val, ts: `${a.name}.pow(${lit(k)})`, py: `torch.pow(${a.name}, ${lit(k)})`, inputs: [a.name], ops: ['pow'] };
    }
    const b = operand(ctx, (v) => v.bound <= 2 && broadcastShape(a.shape, v.shape) !== null, () => newLeafVal(ctx, partner(ctx.rng, a.shape)));
    if (!b || b.bound > 2) return null;
    const shape = broadcastShape(a.shape, b.shape)!;
    const base = Math.max(a.bound, 1 / a.lo);
    const val = derive(ctx, shape, [a, b], base ** b.bound, base ** -b.bound);
    return { val, ts: `${a.name}.pow(${b.name})`, py: `torch.pow(${a.name}, ${b.name})`, inputs: [a.name, b.name], ops: ['pow'] };
  },
  maximum: binaryOp('maximum', 'maximum', (a, b) => `torch.maximum(${a}, ${b})`, { bound: (a, b) => Math.max(a.bound, b.bound), lo: (a, b) => Math.max(a.lo, b.lo) }),
  minimum: binaryOp('minimum', 'minimum', (a, b) => `torch.minimum(${a}, ${b})`, { bound: (a, b) => Math.max(a.bound, b.bound), lo: (a, b) => Math.min(a.lo, b.lo) }),
  // comparisons give 0/1 in the operands' (promoted) float dtype: helpers gt/lt/eq in programs.py
  greater: binaryOp('greater', 'gt', (a, b) => `gt(${a}, ${b})`, { bound: () => 1, lo: () => 0, nondiff: true }),
  less: binaryOp('less', 'lt', (a, b) => `lt(${a}, ${b})`, { bound: () => 1, lo: () => 0, nondiff: true }),
  equal: binaryOp('equal', 'eq', (a, b) => `eq(${a}, ${b})`, { bound: () => 1, lo: () => 0, nondiff: true }),
  neg: unaryOp('neg', 'neg()', (a) => `(-${a})`, { bound: (b) => b }),
  exp: unaryOp('exp', 'exp()', (a) => `torch.exp(${a})`, { need: (v) => v.bound <= 4, bound: (b) => Math.exp(b), lo: (v) => Math.exp(-v.bound) }),
  log: unaryOp('log', 'log()', (a) => `torch.log(${a})`, { positiveInput: true, bound: (b, v) => Math.max(Math.abs(Math.log(b)), Math.abs(Math.log(v.lo))) }),
  sqrt: unaryOp('sqrt', 'sqrt()', (a) => `torch.sqrt(${a})`, { positiveInput: true, bound: (b) => Math.sqrt(b), lo: (v) => Math.sqrt(v.lo) }),
  abs: unaryOp('abs', 'abs()', (a) => `torch.abs(${a})`, { bound: (b) => b, lo: () => 0 }),
  square: unaryOp('square', 'square()', (a) => `torch.square(${a})`, { bound: (b) => b * b, lo: () => 0 }),
  erf: unaryOp('erf', 'erf()', (a) => `torch.erf(${a})`, { bound: () => 1 }),
  sign: unaryOp('sign', 'sign()', (a) => `torch.sign(${a})`, { bound: () => 1, nondiff: true }),
  // the Heaviside step with derivative 0: relu of sign in PyTorch (both differentiable, as step is)
  step: unaryOp('step', 'step()', (a) => `torch.relu(torch.sign(${a}))`, { bound: () => 1, lo: () => 0 }),
  where: (ctx) => {
    const c = any(ctx);
    const a = operand(ctx, (v) => broadcastShape(c.shape, v.shape) !== null, () => newLeafVal(ctx, partner(ctx.rng, c.shape)))!;
    const s1 = broadcastShape(c.shape, a.shape);
    const b = s1 && operand(ctx, (v) => broadcastShape(s1, v.shape) !== null, () => newLeafVal(ctx, partner(ctx.rng, s1)));
    const shape = s1 && b && broadcastShape(s1, b.shape);
    if (!shape || !b) return null;
    // the condition: where c > 0 (an exact zero in c is false in both)
    const cond = derive(ctx, c.shape.slice(), [c], 1, 0, { nondiff: true });
    ctx.emit({ val: cond, ts: `${c.name}.gt(0)`, py: `gt(${c.name}, 0)`, inputs: [c.name], ops: ['greater'] });
    const val = derive(ctx, shape, [a, b], Math.max(a.bound, b.bound), Math.min(a.lo, b.lo));
    return { val, ts: `where(${cond.name}, ${a.name}, ${b.name})`, py: `torch.where(${cond.name} != 0, ${a.name}, ${b.name})`, inputs: [cond.name, a.name, b.name], ops: ['where'] };
  },
  relu: unaryOp('relu', 'relu()', (a) => `torch.relu(${a})`, { bound: (b) => b, lo: () => 0 }),
  leakyRelu: (ctx) => {
    const a = any(ctx);
    const alpha = pick(ctx.rng, [0.01, 0.1, 0.2]);
    return { val: derive(ctx, a.shape.slice(), [a], a.bound), ts: `${a.name}.leakyRelu(${alpha})`, py: `F.leaky_relu(${a.name}, ${alpha})`, inputs: [a.name], ops: ['leakyRelu'] };
  },
  elu: (ctx) => {
    const a = any(ctx);
    const alpha = pick(ctx.rng, [1, 0.5, 1.5]);
    return { val: derive(ctx, a.shape.slice(), [a], Math.max(a.bound, alpha), -alpha), ts: `${a.name}.elu(${alpha})`, py: `F.elu(${a.name}, ${alpha})`, inputs: [a.name], ops: ['elu'] };
  },
  sigmoid: unaryOp('sigmoid', 'sigmoid()', (a) => `torch.sigmoid(${a})`, { bound: () => 1, lo: (v) => 1 / (1 + Math.exp(Math.min(v.bound, 700))) }),
  tanh: unaryOp('tanh', 'tanh()', (a) => `torch.tanh(${a})`, { bound: () => 1 }),
  softplus: unaryOp('softplus', 'softplus()', (a) => `F.softplus(${a})`, { need: (v) => v.bound <= 15, bound: (b) => b + 1, lo: (v) => Math.log1p(Math.exp(-v.bound)) }),
  // gelu(): F.gelu with a workaround for PyTorch 1.13's float32 backward (programs.py)
  gelu: unaryOp('gelu', 'gelu()', (a) => `gelu(${a})`, { bound: (b) => b + 0.2 }),
  matmul: (ctx) => {
    const a = any(ctx, (v) => v.shape.length >= 1 && v.shape.length <= 3);
    if (a.shape.length === 0) return null;
    const k = a.shape[a.shape.length - 1];
    const n = 1 + ctx.rng.int(4);
    // b: a vector [k], a matrix [k, n], or a batch [B, k, n] that broadcasts with a's batch axes
    const form = a.shape.length === 1 ? pick(ctx.rng, [[k], [k, n]]) : pick(ctx.rng, [[k], [k, n], [a.shape.length === 3 ? a.shape[0] : 1 + ctx.rng.int(3), k, n]]);
    // PyTorch's matmul wants one dtype (ours promotes): both operands in a's
    const b = operand(ctx, (v) => v.dtype === a.dtype && v.shape.length === form.length && v.shape.every((d, i) => d === form[i]), () => newLeafVal(ctx, form, { dtype: a.dtype }))!;
    const aRank = a.shape.length, bRank = b.shape.length;
    const batch = broadcastShape(aRank > 2 ? a.shape.slice(0, -2) : [], bRank > 2 ? b.shape.slice(0, -2) : []);
    if (!batch) return null;
    const out = [...batch, ...(aRank >= 2 ? [a.shape[aRank - 2]] : []), ...(bRank >= 2 ? [b.shape[bRank - 1]] : [])];
    const val = derive(ctx, out, [a, b], a.bound * b.bound * k);
    return { val, ts: `${a.name}.matmul(${b.name})`, py: `torch.matmul(${a.name}, ${b.name})`, inputs: [a.name, b.name], ops: ['matmul'] };
  },
  linear: (ctx) => {
    const x = any(ctx, (v) => v.shape.length === 1 || v.shape.length === 2);
    if (x.shape.length !== 1 && x.shape.length !== 2) return null;
    const inF = x.shape[x.shape.length - 1], outF = 1 + ctx.rng.int(4);
    const w = newLeafVal(ctx, [outF, inF], { dtype: x.dtype });
    const b = ctx.rng.uniform() < 0.7 ? newLeafVal(ctx, [outF], { dtype: x.dtype }) : null;
    const shape = x.shape.length === 1 ? [outF] : [x.shape[0], outF];
    const val = derive(ctx, shape, b ? [x, w, b] : [x, w], x.bound * w.bound * inF + (b ? b.bound : 0));
    const bs = b ? b.name : 'null';
    return { val, ts: `linear(${x.name}, ${w.name}, ${bs})`, py: `F.linear(${x.name}, ${w.name}, ${b ? b.name : 'None'})`, inputs: [x.name, w.name, ...(b ? [b.name] : [])], ops: ['linear', 'matmul'] };
  },
  sum: reduction('sum', 'sum', 'torch.sum', (v, n) => v.bound * n, true),
  max: reduction('max', 'max', 'torch.amax', (v) => v.bound),
  min: reduction('min', 'min', 'torch.amin', (v) => v.bound),
  mean: reduction('mean', 'mean', 'torch.mean', (v) => v.bound, true),
  var: (ctx) => {
    const a = any(ctx, (v) => size(v.shape) >= 2);
    if (size(a.shape) < 2) return null;
    let axes = axesOf(ctx.rng, a.shape.length);
    const corr = ctx.rng.uniform() < 0.5 ? 1 : 0;
    if (size(a.shape) / size(reducedShape(a.shape, axes, true)) - corr <= 0) axes = undefined;
    const keep = ctx.rng.uniform() < 0.4;
    const val = derive(ctx, reducedShape(a.shape, axes, keep), [a], a.bound * a.bound * 4, 0);
    const ts = `${a.name}.var(${axes === undefined ? 'undefined' : jsArr(axes)}, ${keep}, ${corr})`;
    return { val, ts, py: `torch.var(${a.name}, dim=${pyDim(axes, a.shape.length)}, unbiased=${corr ? 'True' : 'False'}, keepdim=${keep ? 'True' : 'False'})`, inputs: [a.name], ops: ['var', 'mean', 'sum'] };
  },
  softmax: (ctx) => {
    const a = any(ctx, (v) => v.shape.length > 0);
    if (a.shape.length === 0) return null;
    const ax = ctx.rng.int(a.shape.length);
    return { val: derive(ctx, a.shape.slice(), [a], 1, 0), ts: `${a.name}.softmax(${ax})`, py: `torch.softmax(${a.name}, dim=${ax})`, inputs: [a.name], ops: ['softmax', 'max', 'exp', 'sum', 'div'] };
  },
  logSoftmax: (ctx) => {
    const a = any(ctx, (v) => v.shape.length > 0);
    if (a.shape.length === 0) return null;
    const ax = ctx.rng.int(a.shape.length);
    return { val: derive(ctx, a.shape.slice(), [a], 2 * a.bound + 3), ts: `${a.name}.logSoftmax(${ax})`, py: `torch.log_softmax(${a.name}, dim=${ax})`, inputs: [a.name], ops: ['logSoftmax', 'max', 'exp', 'sum', 'log'] };
  },
  clamp: (ctx) => {
    const a = any(ctx);
    const lo = -(1 + ctx.rng.int(9)) / 10, hi = (3 + ctx.rng.int(8)) / 10;
    return { val: derive(ctx, a.shape.slice(), [a], Math.max(-lo, hi)), ts: `clamp(${a.name}, ${lit(lo)}, ${lit(hi)})`, py: `torch.clamp(${a.name}, ${lit(lo)}, ${lit(hi)})`, inputs: [a.name], ops: ['clamp', 'less', 'greater', 'where'] };
  },
  reshape: (ctx) => {
    const a = any(ctx);
    const n = size(a.shape);
    const divisors = Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
    const d = pick(ctx.rng, divisors);
    const shape = pick(ctx.rng, [[n], [d, n / d], [n / d, 1, d]]);
    return { val: derive(ctx, shape, [a], a.bound, a.lo), ts: `${a.name}.reshape(${jsArr(shape)})`, py: `${a.name}.reshape(${pyTuple(shape)})`, inputs: [a.name], ops: ['reshape'] };
  },
  cast: (ctx) => {
    const a = any(ctx);
    const to: DT = a.dtype === 'float32' ? 'float64' : 'float32';
    const val = { ...derive(ctx, a.shape.slice(), [a], a.bound, a.lo, { dtype: to }), f32: true };
    return { val, ts: `${a.name}.to('${to}')`, py: `${a.name}.to(${PY_DT[to]})`, inputs: [a.name], ops: ['cast'] };
  },
  permute: (ctx) => {
    const a = any(ctx, (v) => v.shape.length >= 2);
    if (a.shape.length < 2) return null;
    const perm = permutation(ctx.rng, a.shape.length);
    const shape = perm.map((p) => a.shape[p]);
    if (ctx.rng.uniform() < 0.3) {
      const s = a.shape.slice();
      [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1], s[s.length - 2]];
      return { val: derive(ctx, s, [a], a.bound, a.lo), ts: `${a.name}.transpose()`, py: `${a.name}.transpose(-2, -1)`, inputs: [a.name], ops: ['permute'] };
    }
    return { val: derive(ctx, shape, [a], a.bound, a.lo), ts: `${a.name}.permute(${perm.join(', ')})`, py: `${a.name}.permute(${perm.join(', ')})`, inputs: [a.name], ops: ['permute'] };
  },
  slice: (ctx) => {
    const a = any(ctx, (v) => v.shape.some((d) => d > 1));
    if (!a.shape.some((d) => d > 1)) return null;
    const starts = a.shape.map((d) => ctx.rng.int(d));
    const ends = a.shape.map((d, i) => starts[i] + 1 + ctx.rng.int(d - starts[i]));
    const shape = ends.map((e, i) => e - starts[i]);
    return { val: derive(ctx, shape, [a], a.bound, a.lo), ts: `${a.name}.slice(${jsArr(starts)}, ${jsArr(ends)})`, py: `${a.name}[${starts.map((s, i) => `${s}:${ends[i]}`).join(', ')}]`, inputs: [a.name], ops: ['slice'] };
  },
  pad: (ctx) => {
    const a = any(ctx, (v) => v.shape.length >= 1);
    if (a.shape.length === 0) return null;
    const before = a.shape.map(() => ctx.rng.int(2)), after = a.shape.map(() => ctx.rng.int(3));
    const shape = a.shape.map((d, i) => d + before[i] + after[i]);
    // F.pad lists (before, after) from the last axis to the first
    const py = [...a.shape.keys()].reverse().flatMap((i) => [before[i], after[i]]);
    return { val: derive(ctx, shape, [a], a.bound, Math.min(0, a.lo)), ts: `pad(${a.name}, ${jsArr(before)}, ${jsArr(after)})`, py: `F.pad(${a.name}, ${jsArr(py)})`, inputs: [a.name], ops: ['pad'] };
  },
  concat: (ctx) => {
    const a = any(ctx, (v) => v.shape.length >= 1);
    if (a.shape.length === 0) return null;
    const axis = ctx.rng.int(a.shape.length);
    const fits = (v: Val) => v.shape.length === a.shape.length && v.shape.every((d, i) => i === axis || d === a.shape[i]);
    const other = a.shape.slice();
    other[axis] = 1 + ctx.rng.int(3);
    const b = operand(ctx, fits, () => newLeafVal(ctx, other))!;
    const shape = a.shape.slice();
    shape[axis] += b.shape[axis];
    return { val: derive(ctx, shape, [a, b], Math.max(a.bound, b.bound), Math.min(a.lo, b.lo)), ts: `concat([${a.name}, ${b.name}], ${axis})`, py: `torch.cat([${a.name}, ${b.name}], dim=${axis})`, inputs: [a.name, b.name], ops: ['concat'] };
  },
  gather: (ctx) => {
    const a = any(ctx, (v) => v.shape.length >= 1);
    if (a.shape.length === 0) return null;
    const axis = ctx.rng.int(a.shape.length);
    const idx = Array.from({ length: 1 + ctx.rng.int(4) }, () => ctx.rng.int(a.shape[axis]));
    const shape = [...a.shape.slice(0, axis), idx.length, ...a.shape.slice(axis + 1)];
    return { val: derive(ctx, shape, [a], a.bound, a.lo), ts: `${a.name}.gather(${jsArr(idx)}, ${axis})`, py: `torch.index_select(${a.name}, ${axis}, torch.tensor(${jsArr(idx)}))`, inputs: [a.name], ops: ['gather'] };
  },
  scatterAdd: (ctx) => {
    const a = any(ctx, (v) => v.shape.length >= 1);
    if (a.shape.length === 0) return null;
    const axis = ctx.rng.int(a.shape.length);
    const dim = 1 + ctx.rng.int(4);
    const idx = Array.from({ length: a.shape[axis] }, () => ctx.rng.int(dim));
    const shape = a.shape.slice();
    shape[axis] = dim;
    const ts = `scatterAdd(${a.name}, tensor(${jsArr(idx)}, { dtype: 'int32' }), ${axis}, ${jsArr(shape)})`;
    const py = `torch.zeros(${pyTuple(shape)}, dtype=${a.name}.dtype).index_add(${axis}, torch.tensor(${jsArr(idx)}), ${a.name})`;
    return { val: derive(ctx, shape, [a], a.bound * a.shape[axis]), ts, py, inputs: [a.name], ops: ['scatterAdd'] };
  },
  broadcastTo: (ctx) => {
    const a = any(ctx);
    const shape = [...(ctx.rng.uniform() < 0.5 ? [1 + ctx.rng.int(3)] : []), ...a.shape.map((d) => (d === 1 ? 1 + ctx.rng.int(3) : d))];
    // broadcasting to the same shape is no op at all (the tensor itself comes back)
    if (shape.length === a.shape.length && shape.every((d, i) => d === a.shape[i])) return null;
    return { val: derive(ctx, shape, [a], a.bound, a.lo), ts: `${a.name}.broadcastTo(${jsArr(shape)})`, py: `${a.name}.expand(${pyTuple(shape)})`, inputs: [a.name], ops: ['broadcastTo'] };
  },
  sumTo: (ctx) => {
    const a = any(ctx, (v) => v.shape.length >= 1);
    if (a.shape.length === 0) return null;
    const shape = partner(ctx.rng, a.shape);
    if (shape.length === a.shape.length && shape.every((d, i) => d === a.shape[i])) return null;
    const n = size(a.shape) / Math.max(1, size(shape));
    const py = shape.length ? `${a.name}.sum_to_size(${pyTuple(shape)})` : `${a.name}.sum()`;
    return { val: derive(ctx, shape, [a], a.bound * n), ts: `sumTo(${a.name}, ${jsArr(shape)})`, py, inputs: [a.name], ops: ['sumTo'] };
  },
  mse: lossOf('mse', 'losses.mse', 'F.mse_loss'),
  l1: lossOf('l1', 'losses.l1', 'F.l1_loss'),
  huber: (ctx) => {
    const s = lossOf('huber', 'losses.huber', 'F.huber_loss')(ctx);
    if (!s) return null;
    const delta = pick(ctx.rng, [0.5, 1, 1.5]);
    return { ...s, ts: s.ts.replace(/\)$/, `, { delta: ${delta} })`), py: s.py.replace(/\)$/, `, delta=${delta})`), ops: ['huber', 'where', 'abs', 'greater', 'mean'] };
  },
  bce: (ctx) => {
    const p = any(ctx, (v) => v.lo > 0 && v.bound < 1);
    const prob = p.lo > 0 && p.bound < 1 ? p : null;
    if (!prob) return null;
    const t = newLeafVal(ctx, prob.shape.slice(), { constant: true, positive: true, dtype: prob.dtype });
    return { val: derive(ctx, [], [prob], 20, 0), ts: `losses.bce(${prob.name}, ${t.name}.div(3))`, py: `F.binary_cross_entropy(${prob.name}, ${t.name} / 3)`, inputs: [prob.name, t.name], ops: ['bce', 'log', 'maximum', 'mean'] };
  },
  bceWithLogits: (ctx) => {
    const x = any(ctx);
    const t = newLeafVal(ctx, x.shape.slice(), { constant: true, positive: true, dtype: x.dtype });
    return { val: derive(ctx, [], [x], x.bound + 1, 0), ts: `losses.bceWithLogits(${x.name}, ${t.name}.div(3))`, py: `F.binary_cross_entropy_with_logits(${x.name}, ${t.name} / 3)`, inputs: [x.name, t.name], ops: ['bceWithLogits', 'softplus', 'mul', 'sub', 'mean'] };
  },
  conv2d: (ctx) => convGen(ctx, 2),
  conv1d: (ctx) => convGen(ctx, 1),
  convTranspose2d: (ctx) => {
    const rng = ctx.rng;
    const groups = pick(rng, [1, 1, 2]);
    const x = spatialInput(ctx, 2, groups);
    const [n, c, h, w] = x.shape;
    const og = 1 + rng.int(2);
    const k = [1 + rng.int(3), 1 + rng.int(3)];
    const stride = [pick(rng, [1, 2, 3]), pick(rng, [1, 2])];
    const dilation = [pick(rng, [1, 1, 2]), 1];
    const padding = [rng.int(2), rng.int(2)];
    const outputPadding = stride.map((s, i) => (rng.uniform() < 0.3 ? rng.int(Math.max(s, dilation[i])) : 0));
    const out = [0, 1].map((i) => ([h, w][i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1) + outputPadding[i] + 1);
    if (out.some((d) => d < 1)) return null;
    const wv = newLeafVal(ctx, [c, og, ...k], { dtype: x.dtype });
    const b = rng.uniform() < 0.5 ? newLeafVal(ctx, [og * groups], { dtype: x.dtype }) : null;
    return {
      val: derive(ctx, [n, og * groups, ...out], b ? [x, wv, b] : [x, wv], x.bound * wv.bound * c * k[0] * k[1] + (b ? b.bound : 0)),
      ts: `convTranspose2d(${x.name}.to('${x.dtype}'), ${wv.name}, ${b ? b.name : 'null'}, { stride: ${jsArr(stride)}, padding: ${jsArr(padding)}, outputPadding: ${jsArr(outputPadding)}, dilation: ${jsArr(dilation)}, groups: ${groups} })`,
      py: `F.conv_transpose2d(${x.name}.to(torch.${x.dtype}), ${wv.name}, ${b ? b.name : 'None'}, stride=${pyTuple(stride)}, padding=${pyTuple(padding)}, output_padding=${pyTuple(outputPadding)}, dilation=${pyTuple(dilation)}, groups=${groups})`,
      inputs: [x.name, wv.name, ...(b ? [b.name] : [])], ops: ['convTranspose2d', 'conv2d', 'unfold', 'matmul', 'gather', ...(stride.some((s) => s > 1) ? ['fold'] : [])],
    };
  },
  unfold: unfoldGen,
  fold: foldGen,
  maxPool2d: (ctx) => poolGen(ctx, 'max'),
  avgPool2d: (ctx) => poolGen(ctx, 'avg'),
  adaptiveAvgPool2d: (ctx) => {
    const x = spatialInput(ctx, 2, 1);
    const [n, c, h, w] = x.shape;
    const out = [1 + ctx.rng.int(h + 1), 1 + ctx.rng.int(w + 1)];
    return {
      val: derive(ctx, [n, c, out[0], out[1]], [x], x.bound, x.lo),
      ts: `adaptiveAvgPool2d(${x.name}, ${jsArr(out)})`, py: `F.adaptive_avg_pool2d(${x.name}, ${pyTuple(out)})`,
      inputs: [x.name], ops: ['adaptiveAvgPool2d', 'matmul', 'permute'],
    };
  },
  // Normalizing a (nearly) constant row is ill-conditioned: its rounding noise is multiplied by
  // 1/√eps ≈ 316, so float32 results of two correct implementations differ by far more than 1e-5.
  // layerNorm and groupNorm therefore get fresh random leaves (rows of at least 3 values), whose
  // variance is well away from 0; everything downstream of them is compared as usual.
  layerNorm: (ctx) => {
    const x = newLeafVal(ctx, [1 + ctx.rng.int(3), 3 + ctx.rng.int(4), ...(ctx.rng.uniform() < 0.5 ? [3 + ctx.rng.int(3)] : [])]);
    const k = x.shape.length >= 3 && ctx.rng.uniform() < 0.4 ? 2 : 1;
    const shape = x.shape.slice(-k);
    const affine = ctx.rng.uniform() < 0.7;
    const w = affine ? newLeafVal(ctx, shape, { dtype: x.dtype }) : null;
    const b = affine ? newLeafVal(ctx, shape, { dtype: x.dtype }) : null;
    const n = size(shape);
    const bound = Math.sqrt(n) * (w ? w.bound : 1) + (b ? b.bound : 0);
    return {
      val: derive(ctx, x.shape.slice(), w && b ? [x, w, b] : [x], bound),
      ts: `layerNorm(${x.name}, ${jsArr(shape)}, ${w ? w.name : 'null'}, ${b ? b.name : 'null'})`,
      py: `F.layer_norm(${x.name}, ${pyTuple(shape)}, ${w ? w.name : 'None'}, ${b ? b.name : 'None'})`,
      inputs: [x.name, ...(w && b ? [w.name, b.name] : [])], ops: ['layerNorm', 'mean', 'var', 'div', 'sqrt'],
    };
  },
  groupNorm: (ctx) => {
    const groups = pick(ctx.rng, [1, 2]);
    const x = newLeafVal(ctx, [1 + ctx.rng.int(2), groups * (1 + ctx.rng.int(2)), 3 + ctx.rng.int(3), ...(ctx.rng.uniform() < 0.5 ? [2 + ctx.rng.int(2)] : [])]);
    const c = x.shape[1];
    const w = newLeafVal(ctx, [c], { dtype: x.dtype });
    const b = newLeafVal(ctx, [c], { dtype: x.dtype });
    return {
      val: derive(ctx, x.shape.slice(), [x, w, b], Math.sqrt(size(x.shape) / x.shape[0] / groups) * w.bound + b.bound),
      ts: `groupNorm(${x.name}, ${groups}, ${w.name}, ${b.name})`, py: `F.group_norm(${x.name}, ${groups}, ${w.name}, ${b.name})`,
      inputs: [x.name, w.name, b.name], ops: ['groupNorm', 'mean', 'var'],
    };
  },
  embedding: (ctx) => {
    const num = 2 + ctx.rng.int(5), dim = 1 + ctx.rng.int(4);
    const w = newLeafVal(ctx, [num, dim]);
    const idxShape = pick(ctx.rng, [[3], [2, 3], [4]]);
    const idx = Array.from({ length: size(idxShape) }, () => ctx.rng.int(num));
    return {
      val: derive(ctx, [...idxShape, dim], [w], w.bound, w.lo),
      ts: `embedding(tensor(${jsArr(idx)}, { dtype: 'int32' }).reshape(${jsArr(idxShape)}), ${w.name})`,
      py: `F.embedding(torch.tensor(${jsArr(idx)}).reshape(${pyTuple(idxShape)}), ${w.name})`,
      inputs: [w.name], ops: ['embedding', 'gather'],
    };
  },
  scaledDotProductAttention: (ctx) => {
    const b = 1 + ctx.rng.int(2), lq = 1 + ctx.rng.int(4), lk = ctx.rng.uniform() < 0.5 ? lq : 1 + ctx.rng.int(4), d = 1 + ctx.rng.int(4), dv = 1 + ctx.rng.int(3);
    const causal = lq === lk && ctx.rng.uniform() < 0.5;
    const q = newLeafVal(ctx, [b, lq, d]);
    // one dtype for the three (PyTorch's matmul does not promote)
    const k = newLeafVal(ctx, [b, lk, d], { dtype: q.dtype }), v = newLeafVal(ctx, [b, lk, dv], { dtype: q.dtype });
    const mask = causal ? `torch.triu(torch.full((${lq}, ${lk}), float('-inf'), dtype=${q.name}.dtype), 1)` : 'None';
    const scores = `${q.name} @ ${k.name}.transpose(-2, -1) / math.sqrt(${d})${causal ? ` + ${mask}` : ''}`;
    return {
      val: derive(ctx, [b, lq, dv], [q, k, v], v.bound, v.lo),
      ts: `scaledDotProductAttention(${q.name}, ${k.name}, ${v.name}, { causal: ${causal} })`,
      py: `torch.softmax(${scores}, dim=-1) @ ${v.name}`,
      inputs: [q.name, k.name, v.name], ops: ['scaledDotProductAttention', 'matmul', 'softmax'],
    };
  },
  softmaxCrossEntropy: (ctx) => {
    const x = any(ctx, (v) => v.shape.length === 2);
    if (x.shape.length !== 2) return null;
    const [n, c] = x.shape;
    const labels = Array.from({ length: n }, () => ctx.rng.int(c));
    return {
      val: derive(ctx, [], [x], 2 * x.bound + 3, 0),
      ts: `losses.softmaxCrossEntropy(${x.name}, ${jsArr(labels)})`,
      py: `F.cross_entropy(${x.name}, torch.tensor(${jsArr(labels)}))`,
      inputs: [x.name], ops: ['softmaxCrossEntropy', 'logSoftmax', 'equal', 'mean'],
    };
  },
};

/**
 * Elementwise ops with no generator above: a fresh leaf (a second one for a binary op) with values
 * from the op's domain in the op table, the op written as a method, and PyTorch's function from
 * the op's registry entry. Bounds come from the op's own scalar function on those values.
 */
function fromDomains(op: string, domains: readonly Domain[]): Gen {
  const def = OPS.get(op)!;
  const fn = def.pointwise!;
  return (ctx) => {
    const shape = ctx.scalar ? [] : randomShape(ctx.rng);
    const leaves = domains.map((d, i) => newLeafVal(ctx, i === 0 ? shape : partner(ctx.rng, shape), { domain: d, dtype: ctx.scalar ? 'float64' : undefined }));
    const [a, b] = leaves;
    // the leaves' literal values, to bound the result
    const lit = (v: Val) => ctx.valuesOf(v.name);
    const outs: number[] = [];
    const av = lit(a);
    const bv = b ? lit(b) : [0];
    for (const x of av) for (const y of bv) outs.push(fn(x, y, 0, {}));
    if (!outs.every(Number.isFinite)) return null;
    const shapeOut = b ? broadcastShape(a.shape, b.shape)! : a.shape.slice();
    const val = derive(ctx, shapeOut, leaves, Math.max(...outs.map(Math.abs)), Math.min(...outs));
    const ts = b ? `${a.name}.${op}(${b.name})` : `${a.name}.${op}()`;
    const py = `${def.torch}(${leaves.map((v) => v.name).join(', ')})`;
    return { val, ts, py, inputs: leaves.map((v) => v.name), ops: [op] };
  };
}
const CATALOG = F as unknown as Record<string, { method?: boolean }>;
for (const row of OP_ROWS) {
  const def = OPS.get(row.op);
  if (!row.domains || row.op in GENERATORS || !def?.torch || !def.pointwise || CATALOG[row.op]?.method !== true) continue;
  GENERATORS[row.op] = fromDomains(row.op, row.domains);
}

function lossOf(name: string, ts: string, py: string): Gen {
  return (ctx) => {
    const p = any(ctx, (v) => v.shape.length >= 1);
    // PyTorch's losses want one dtype: the target takes the prediction's
    const t = newLeafVal(ctx, p.shape.slice(), { constant: true, dtype: p.dtype });
    return { val: derive(ctx, [], [p], (p.bound + t.bound) ** 2, 0), ts: `${ts}(${p.name}, ${t.name})`, py: `${py}(${p.name}, ${t.name})`, inputs: [p.name, t.name], ops: [name, 'mean'] };
  };
}

/** Ops that only gradients or other ops create; a program reaches them through what it differentiates. */
const REACHED_THROUGH = new Set(['batchNorm1d', 'batchNorm2d', 'dropout', 'poolArgmax']);

/** Registry ops and composites without a generator: the oracle test fails on any. */
export function missingGenerators(): string[] {
  return [...OPS.keys(), ...COMPOSITES.names()].filter((n) => !(n in GENERATORS) && !REACHED_THROUGH.has(n));
}

export interface GenerateOptions {
  seed: number;
  /** Forces a dtype, a 0-d scalar program, or a second-order program (default: drawn). */
  dtype?: DT;
  scalar?: boolean;
  secondOrder?: boolean;
}

/** One random program. The same seed gives the same program. */
export function generate(id: string, opts: GenerateOptions): Program {
  const rng = new Rng(opts.seed);
  const dtype: DT = opts.dtype ?? (rng.uniform() < 0.5 ? 'float64' : 'float32');
  const scalar = opts.scalar ?? rng.uniform() < 0.15;
  const secondOrder = opts.secondOrder ?? rng.uniform() < 0.15;
  const stmts: Stmt[] = [];
  let counter = 0;
  const leafValues = new Map<string, number[]>();
  const ctx: Ctx = {
    rng, vals: [], dtype, scalar,
    valuesOf: (name) => leafValues.get(name)!,
    fresh: (prefix = 'v') => `${prefix}${counter++}`,
    leaf: (shape, o = {}) => {
      const n = size(shape);
      const scale = o.scale ?? 2;
      const values = o.domain
        ? Array.from(sampleDomain(o.domain, n, () => rng.uniform()), (v) => Math.round(v * 1000) / 1000)
        : Array.from({ length: n }, () => {
          let v = o.positive ? 0.5 + 1.5 * rng.uniform() : scale * (2 * rng.uniform() - 1);
          v = Math.round(v * 1000) / 1000;
          return v === 0 ? 0.125 : v;
        });
      const dt = o.dtype ?? (rng.uniform() < 0.08 ? (dtype === 'float32' ? 'float64' : 'float32') : dtype);
      const name = ctx.fresh(o.constant ? 'c' : 'p');
      leafValues.set(name, values);
      const val: Val = {
        name, shape, dtype: dt, bound: Math.max(...values.map(Math.abs)), lo: o.positive || o.domain ? Math.min(...values) : -Infinity, f32: dt === 'float32',
        grad: !o.constant, leaves: o.constant ? new Set() : new Set([name]), leaf: o.constant ? 'constant' : 'param',
      };
      const v = nested(values, shape);
      const tsMake = o.constant ? `tensor(${v}, { dtype: '${dt}' })` : shape.length === 0 && dt === 'float64' && rng.uniform() < 0.7 ? `scalar(${v})` : `param(${v}, { dtype: '${dt}' })`;
      const py = `torch.tensor(${v}, dtype=${PY_DT[dt]}${o.constant ? '' : ', requires_grad=True'})`;
      return { val, ts: tsMake, py, inputs: [], ops: [] };
    },
    emit: (s) => {
      stmts.push(s);
      ctx.vals.push(s.val);
    },
  };
  const names = Object.keys(GENERATORS);
  // 0-d scalar programs: the differentiable elementwise ops (sign's gradient is 0) and clamp
  const scalarOps = names.filter((n) => n === 'clamp' || (OPS.get(n)?.pointwise !== undefined && !OPS.get(n)!.nondifferentiable && n !== 'sign'));
  // leaves first: two or three parameters of related shapes
  const base = scalar ? [] : randomShape(rng, 1, 3);
  for (let i = 0; i < 2 + rng.int(2); i++) ctx.emit(ctx.leaf(scalar ? [] : i === 0 ? base : partner(rng, base), { dtype: scalar ? 'float64' : undefined }));
  const count = 3 + rng.int(6);
  let made = 0;
  for (let tries = 0; made < count && tries < 60; tries++) {
    const op = pick(rng, scalar ? scalarOps : names);
    const s = GENERATORS[op](ctx);
    if (!s || s.val.bound > 1e6 || !Number.isFinite(s.val.bound)) continue;
    ctx.emit(s);
    made++;
  }
  // the output: every value nothing else used (that depends on a parameter), each reduced to one
  // number and added up, so the whole program is in the graph
  const used = new Set(stmts.flatMap((s) => s.inputs));
  const sinks = ctx.vals.filter((v) => v.grad && !used.has(v.name));
  if (sinks.length === 0) sinks.push(ctx.vals.find((v) => v.grad)!);
  const reduced = sinks.map((v) => {
    if (v.shape.length === 0) return v;
    const mean = rng.uniform() < 0.5;
    const r = derive(ctx, [], [v], v.bound * size(v.shape));
    ctx.emit({ val: r, ts: `${v.name}.${mean ? 'mean' : 'sum'}()`, py: `${v.name}.${mean ? 'mean' : 'sum'}()`, inputs: [v.name], ops: [mean ? 'mean' : 'sum'] });
    return r;
  });
  let out = reduced[0];
  for (const r of reduced.slice(1)) {
    const t = derive(ctx, [], [out, r], out.bound + r.bound);
    ctx.emit({ val: t, ts: `${out.name}.add(${r.name})`, py: `(${out.name} + ${r.name})`, inputs: [out.name, r.name], ops: ['add'] });
    out = t;
  }
  let second: Program['secondOrder'] = null;
  if (secondOrder && out.grad) {
    const leaf = pick(rng, [...out.leaves]);
    const g = ctx.fresh('g');
    const lv = ctx.vals.find((v) => v.name === leaf)!;
    const gv: Val = { ...lv, name: g, bound: 1e3, lo: -Infinity, grad: true, leaves: new Set(out.leaves), leaf: undefined };
    // the gradient is a value like any other: the rest of the program uses it
    stmts.push({ val: gv, ts: `GRAD`, py: `GRAD`, inputs: [out.name, leaf], ops: [] });
    ctx.vals.push(gv);
    second = { y: out.name, leaf, grad: g };
    const sq = derive(ctx, gv.shape.slice(), [gv], 1e6);
    ctx.emit({ val: sq, ts: `${g}.mul(${g}).add(${g}.tanh())`, py: `(${g} * ${g} + torch.tanh(${g}))`, inputs: [g], ops: ['mul', 'add', 'tanh'] });
    const total = derive(ctx, [], [sq, out], 1e6);
    ctx.emit({ val: total, ts: `${sq.name}.sum().add(${out.name})`, py: `(${sq.name}.sum() + ${out.name})`, inputs: [sq.name, out.name], ops: ['sum', 'add'] });
    out = total;
  }
  return { id, stmts, out: out.name, secondOrder: second };
}

const TS_IMPORTS = 'param, scalar, tensor, where, clamp, linear, concat, pad, scatterAdd, sumTo, losses, conv2d, conv1d, unfold, fold, maxPool2d, avgPool2d, adaptiveAvgPool2d, layerNorm, groupNorm, embedding, scaledDotProductAttention, convTranspose2d';

/** The program as a Backprop Lens model file: every value named, the output exported. */
export function toTypeScript(p: Program): string {
  const lines = [`// oracle program ${p.id}`, `import { ${TS_IMPORTS} } from 'backprop-lens';`, ''];
  const params = p.stmts.filter((s) => s.val.leaf === 'param').map((s) => s.val.name);
  for (const s of p.stmts) {
    if (s.ts === 'GRAD') {
      const so = p.secondOrder!;
      lines.push(`${so.y}.backward({ createGraph: true });`);
      lines.push(`const ${s.val.name} = ${so.leaf}.grad!.named('${s.val.name}');`);
      lines.push(`for (const leaf of [${params.join(', ')}]) leaf.grad = null;`);
      continue;
    }
    lines.push(`const ${s.val.name} = ${s.ts}.named('${s.val.name}');`);
  }
  lines.push('', `export const values = { ${p.stmts.map((s) => s.val.name).join(', ')} };`, `export default ${p.out};`, '');
  return lines.join('\n');
}

/** The program as a PyTorch function `program()` returning (output, {name: tensor}). */
export function toPython(p: Program): string {
  const lines = ['def program():', '    T = {}'];
  for (const s of p.stmts) {
    if (s.py === 'GRAD') {
      const so = p.secondOrder!;
      lines.push(`    ${s.val.name}, = torch.autograd.grad(${so.y}, [${so.leaf}], create_graph=True)`);
    } else lines.push(`    ${s.val.name} = ${s.py}`);
    lines.push(`    T['${s.val.name}'] = ${s.val.name}`);
  }
  lines.push(`    return ${p.out}, T`, '');
  return lines.join('\n');
}

/**
 * The precision each value is computed at: float32 when any value it comes from is float32. A
 * gradient depends on the values after it too: float32 for all of them when the program has any.
 */
export function precisions(p: Program): { value: Map<string, DT>; grad: DT } {
  return {
    value: new Map(p.stmts.map((s) => [s.val.name, s.val.f32 ? 'float32' : 'float64'])),
    grad: p.stmts.some((s) => s.val.f32) ? 'float32' : 'float64',
  };
}

/** The ops a program exercises. */
export function opsOf(p: Program): Set<string> {
  return new Set(p.stmts.flatMap((s) => s.ops));
}

/**
 * Smaller programs that keep what leads to one value: for each value, its ancestors and a sum of it
 * as the output (second-order parts dropped). The shrinker tries them smallest first.
 */
export function subPrograms(p: Program): Program[] {
  const byName = new Map(p.stmts.map((s) => [s.val.name, s]));
  const out: Program[] = [];
  for (const target of p.stmts) {
    if (target.val.leaf || !target.val.grad || target.ts === 'GRAD') continue;
    const keep = new Set<string>();
    const visit = (n: string) => {
      if (keep.has(n)) return;
      const s = byName.get(n);
      if (!s) return;
      keep.add(n);
      s.inputs.forEach(visit);
    };
    visit(target.val.name);
    if ([...keep].some((n) => byName.get(n)!.ts === 'GRAD')) continue;
    const stmts = p.stmts.filter((s) => keep.has(s.val.name));
    const v = target.val;
    if (v.shape.length > 0) {
      const outVal: Val = { ...v, name: 'out', shape: [], leaves: new Set(v.leaves) };
      stmts.push({ val: outVal, ts: `${v.name}.sum()`, py: `${v.name}.sum()`, inputs: [v.name], ops: ['sum'] });
    }
    out.push({ id: `${p.id}/${v.name}`, stmts, out: v.shape.length > 0 ? 'out' : v.name, secondOrder: null });
  }
  return out.sort((a, b) => a.stmts.length - b.stmts.length);
}
