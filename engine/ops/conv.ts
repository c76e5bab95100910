/**
 * Convolutions and pooling over PyTorch's layouts ([N, C, H, W], [N, C, L]) with its options and
 * semantics. Two primitives move the sliding windows: `unfold` lays each window's pixels out as a
 * column (im2col, zero padding included) and `fold` sums columns back into pixels; each is the
 * other's gradient. The rest are composites on top of them: a convolution is an unfold and a
 * matmul, average pooling an unfold and a mean, max pooling an unfold and a pick of each window's
 * first largest element (found by a third primitive, `poolArgmax`, which has no gradient: the pick
 * carries it). So their gradients, second derivatives and the GPU path come from those ops, and a
 * backward pass costs what the forward does (fold is a gather over at most kh·kw columns per pixel).
 * Where nothing records a forward (no gradient, no tracer: evaluation, inference), conv2d with one
 * group skips the stored columns: one WebAssembly kernel gathers them from the input as its matrix
 * product goes (conv2dKernel), with the bits the unfold and matmul would give.
 */
import { ShapeError } from '../errors';
import { shapeString } from '../shape';
import { Tensor, tensor } from '../tensor';
import { conv2dKernel, foldKernel, poolArgmaxKernel, unfoldKernel } from '../backends/cpu/window';
import { foldProgram, poolArgmaxProgram, unfoldProgram } from '../backends/webgpu/window';
import { pad, reshape, gather, permute, slice } from './layout';
import { add, equal, where } from './elementwise';
import { mean } from './composite';
import { matmul } from './matmul';
import { sum } from './reduce';
import { defineComposite, primitive, type Composite, type Op, type Run } from './registry';
import { isUnobserved } from './context';

type Pair = [number, number];

/** `stride`, `padding`, `dilation` as PyTorch takes them: one number for both axes, or [h, w]. */
export type IntPair = number | readonly [number, number];

export interface Conv2dOptions {
  /** Step between windows (default 1). */
  stride?: IntPair;
  /** Zeros added on each side (default 0); 'valid' is 0, 'same' keeps the size (stride 1 only, as in PyTorch). */
  padding?: IntPair | 'valid' | 'same';
  /** Spacing between kernel elements (default 1). */
  dilation?: IntPair;
  /** Channels split into this many groups, each convolved with its own filters (default 1). */
  groups?: number;
}

export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'valid' | 'same';
  dilation?: number;
  groups?: number;
}

/** `F.unfold` and `F.fold`'s options (their kernel size is an argument of its own). */
export interface UnfoldOptions {
  /** Step between windows (default 1). */
  stride?: IntPair;
  /** Zeros on each side (default 0): unfold reads them as 0, fold drops what lands on them. */
  padding?: IntPair;
  /** Spacing between kernel elements (default 1). */
  dilation?: IntPair;
}

export interface PoolOptions {
  /** Step between windows (default: the kernel size, as in PyTorch). */
  stride?: IntPair;
  /** Implicit padding on each side (at most half the kernel); max pooling pads with −∞, average pooling with zeros. */
  padding?: IntPair;
}

function pair(v: IntPair, op: string, what: string, min: number): Pair {
  const p: Pair = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(v) && typeof v !== 'number') throw new ShapeError(`${op}: ${what} must be a number or [h, w], got ${JSON.stringify(v)}`);
  if (p.some((x) => !Number.isInteger(x) || x < min)) throw new ShapeError(`${op}: ${what} must be ${min === 0 ? 'non-negative' : 'positive'} integers, got ${JSON.stringify(v)}`);
  return p;
}

/** Output size along one axis (PyTorch's formula, floor mode). */
const outSize = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

/** A sliding window along (height, width): unfold's and fold's attributes. */
export interface WindowAttrs extends Record<string, unknown> {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
}

function windowOf(kernelSize: IntPair, options: UnfoldOptions, op: string): WindowAttrs {
  return {
    kernel: pair(kernelSize, op, 'kernelSize', 1),
    stride: pair(options.stride ?? 1, op, 'stride', 1),
    padding: pair(options.padding ?? 0, op, 'padding', 0),
    dilation: pair(options.dilation ?? 1, op, 'dilation', 1),
  };
}

/** How many windows fit along each axis of an H×W plane (less than 1 when none does). */
function windowCounts(h: number, w: number, win: WindowAttrs): Pair {
  return [outSize(h, win.kernel[0], win.stride[0], win.padding[0], win.dilation[0]), outSize(w, win.kernel[1], win.stride[1], win.padding[1], win.dilation[1])];
}

function spatial(x: Tensor, op: string, what: string): [number, number, number, number] {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${what} must be a tensor`);
  if (x.rank !== 4) throw new ShapeError(`${op}: ${what} must be 4-D [N, C, H, W], got ${shapeString(x.shape)}`);
  return x.shape as [number, number, number, number];
}

function outputHW(h: number, w: number, win: WindowAttrs, op: string, x: Tensor): Pair {
  const [oh, ow] = windowCounts(h, w, win);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(`${op}: the input ${shapeString(x.shape)} is smaller than the kernel ${win.kernel.join('×')}${win.dilation.some((d) => d > 1) ? ` dilated ${win.dilation.join('×')}` : ''} with padding ${win.padding.join('×')}: the output would be ${oh}×${ow}`);
  }
  return [oh, ow];
}

/**
 * The sliding windows of x [N, C, H, W] as columns (PyTorch's `F.unfold`, im2col):
 * [N, C·kh·kw, L], row c·kh·kw + a·kw + b holding kernel position (a, b) of channel c for each of
 * the L = OH·OW windows (row-major), with zero padding on each side.
 */
export const unfold: Op<(x: Tensor, kernelSize: IntPair, options?: UnfoldOptions) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<WindowAttrs>) => (x, kernelSize, options = {}) => run([x], windowOf(kernelSize, options, 'unfold')),
  method: false,
  name: 'unfold', symbol: 'unfold', category: 'layout', arity: 1, torch: 'F.unfold',
  formula: 'the gradient is folded back: each pixel gets the sum of the gradients of the column entries that hold it',
  shape: ([x], win) => {
    const [n, c, h, w] = spatial(x, 'unfold', 'the input');
    const [oh, ow] = outputHW(h, w, win, 'unfold', x);
    return [n, c * win.kernel[0] * win.kernel[1], oh * ow];
  },
  forward: ([x], win, _s, dtype) => unfoldKernel(x.data, x.shape, win, ...windowCounts(x.shape[2], x.shape[3], win), dtype),
  vjp: (g, [x], _o, win) => [fold(g, [x.shape[2], x.shape[3]], win.kernel, win)],
  gpu: (rt, [x], win, out) => rt.run(unfoldProgram(x.shape, win, ...windowCounts(x.shape[2], x.shape[3], win), x.dtype, rt.limits), [x], out),
});

export interface FoldAttrs extends WindowAttrs {
  outputSize: Pair;
}

/**
 * The adjoint of unfold (PyTorch's `F.fold`, col2im): columns [N, C·kh·kw, L] summed into
 * [N, C, H, W] of `outputSize` [H, W] (or H×H), each pixel the sum of the column entries that unfold
 * would have taken from it; entries that land in the padding are dropped. L must be the number of
 * windows that fit.
 */
export const fold: Op<(x: Tensor, outputSize: IntPair, kernelSize: IntPair, options?: UnfoldOptions) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<FoldAttrs>) => (x, outputSize, kernelSize, options = {}) => run([x], { outputSize: pair(outputSize, 'fold', 'outputSize', 1), ...windowOf(kernelSize, options, 'fold') }),
  method: false,
  name: 'fold', symbol: 'fold', category: 'layout', arity: 1, torch: 'F.fold',
  formula: 'the gradient is unfolded: each column entry gets the gradient of the pixel it was added to (0 for the padding)',
  shape: ([x], win) => {
    if (!(x instanceof Tensor)) throw new TypeError('fold: the input must be a tensor');
    if (x.rank !== 3) throw new ShapeError(`fold: the input must be 3-D [N, C·kh·kw, L], got ${shapeString(x.shape)}`);
    const [n, rows, l] = x.shape;
    const [kh, kw] = win.kernel, [h, w] = win.outputSize;
    if (rows % (kh * kw) !== 0) throw new ShapeError(`fold: the input ${shapeString(x.shape)} has ${rows} rows, not a multiple of the ${kh}×${kw} kernel's ${kh * kw} positions`);
    const [oh, ow] = windowCounts(h, w, win);
    if (oh < 1 || ow < 1 || oh * ow !== l) {
      throw new ShapeError(`fold: an output of ${h}×${w} has ${Math.max(oh, 0)}×${Math.max(ow, 0)} windows of the kernel ${kh}×${kw} (stride ${win.stride.join('×')}, padding ${win.padding.join('×')}, dilation ${win.dilation.join('×')}), but the input ${shapeString(x.shape)} has ${l} columns`);
    }
    return [n, rows / (kh * kw), h, w];
  },
  forward: ([x], win, outShape, dtype) => foldKernel(x.data, win, ...windowCounts(outShape[2], outShape[3], win), outShape, dtype),
  vjp: (g, _i, _o, win) => [unfold(g, win.kernel, win)],
  gpu: (rt, [x], win, out) => rt.run(foldProgram(win, ...windowCounts(out[2], out[3], win), out, x.dtype, rt.limits), [x], out),
});

/** 'same' padding: PyTorch's split of d·(k − 1) zeros, the odd one after. */
function samePadding(k: Pair, d: Pair): { before: Pair; after: Pair } {
  const total: Pair = [d[0] * (k[0] - 1), d[1] * (k[1] - 1)];
  const before: Pair = [Math.floor(total[0] / 2), Math.floor(total[1] / 2)];
  return { before, after: [total[0] - before[0], total[1] - before[1]] };
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch's `F.conv2d`): x [N, C, H, W], weight
 * [O, C/groups, kh, kw], bias [O] → [N, O, OH, OW] with OH = ⌊(H + 2·pad − dil·(kh − 1) − 1)/stride⌋ + 1.
 */
export const conv2d: Composite<(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: Conv2dOptions) => Tensor, false> = defineComposite(
  'conv2d',
  (x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}) => {
    const op = 'conv2d';
    const [n, c] = spatial(x, op, 'the input');
    if (!(weight instanceof Tensor) || weight.rank !== 4) throw new ShapeError(`${op}: weight must be 4-D [out, in/groups, kh, kw], got ${weight instanceof Tensor ? shapeString(weight.shape) : typeof weight}`);
    const [o, cg, kh, kw] = weight.shape;
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || o % groups !== 0) {
      throw new ShapeError(`${op}: groups = ${groups} must divide the ${c} input channels and the ${o} output channels`);
    }
    if (cg * groups !== c) throw new ShapeError(`${op}: the input ${shapeString(x.shape)} has ${c} channels, but the weight ${shapeString(weight.shape)} expects ${cg * groups} (${cg} per group × ${groups} group${groups > 1 ? 's' : ''})`);
    if (bias !== null && bias !== undefined && (!(bias instanceof Tensor) || bias.rank !== 1 || bias.shape[0] !== o)) {
      throw new ShapeError(`${op}: bias must be 1-D [${o}], got ${bias instanceof Tensor ? shapeString(bias.shape) : typeof bias}`);
    }
    const kernel: Pair = [kh, kw];
    const stride = pair(options.stride ?? 1, op, 'stride', 1);
    const dilation = pair(options.dilation ?? 1, op, 'dilation', 1);
    const p = options.padding ?? 0;
    let padding: Pair;
    let xin = x;
    if (p === 'same') {
      if (stride[0] !== 1 || stride[1] !== 1) throw new ShapeError(`${op}: padding 'same' needs stride 1 (as in PyTorch), got stride ${stride.join('×')}`);
      const { before, after } = samePadding(kernel, dilation);
      // unfold pads both sides alike: an odd total's extra zero (bottom, right) is padded here
      if (after[0] > before[0] || after[1] > before[1]) xin = pad(x, [0, 0, 0, 0], [0, 0, after[0] - before[0], after[1] - before[1]]);
      padding = before;
    } else {
      padding = p === 'valid' ? [0, 0] : pair(p, op, 'padding', 0);
    }
    const win: WindowAttrs = { kernel, stride, dilation, padding };
    const [oh, ow] = outputHW(xin.shape[2], xin.shape[3], win, op, x);
    const k = cg * kh * kw;
    let y: Tensor;
    // Nothing records this forward (no gradient, no tracer): one group's product straight from the
    // input, its columns never stored (the same bits as the unfold and matmul below).
    const direct = groups === 1 && isUnobserved() && xin.dtype === weight.dtype ? conv2dKernel(xin.data, xin.shape, weight.data, o, win, oh, ow, xin.dtype) : null;
    if (direct) {
      y = Tensor.leaf(direct, [n, o, oh, ow]);
    } else {
      // [N, C·kh·kw, L] → [N, groups, C/groups·kh·kw, L]; weight [groups, O/groups, C/groups·kh·kw]
      // (one group: the columns as they come, [O, k]·[N, k, L], without copying them into a 4-D shape)
      const cols = unfold(xin, kernel, win);
      const product = groups === 1
        ? matmul(reshape(weight, [o, k]), cols)
        : matmul(reshape(weight, [1, groups, o / groups, k]), reshape(cols, [n, groups, k, oh * ow]));
      y = reshape(product, [n, o, oh, ow]);
    }
    if (bias) y = add(y, reshape(bias, [o, 1, 1]));
    return y;
  },
);

/** 1-D convolution (`F.conv1d`): x [N, C, L], weight [O, C/groups, k], bias [O] → [N, O, L_out]; a conv2d over a height of 1. */
export const conv1d: Composite<(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: Conv1dOptions) => Tensor, false> = defineComposite(
  'conv1d',
  (x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv1dOptions = {}) => {
    if (!(x instanceof Tensor) || x.rank !== 3) throw new ShapeError(`conv1d: the input must be 3-D [N, C, L], got ${x instanceof Tensor ? shapeString(x.shape) : typeof x}`);
    if (!(weight instanceof Tensor) || weight.rank !== 3) throw new ShapeError(`conv1d: weight must be 3-D [out, in/groups, k], got ${weight instanceof Tensor ? shapeString(weight.shape) : typeof weight}`);
    const one = (v: number | undefined, name: string) => {
      if (v !== undefined && typeof v !== 'number') throw new ShapeError(`conv1d: ${name} must be a number, got ${JSON.stringify(v)}`);
      return v;
    };
    const p = options.padding;
    const padding: Conv2dOptions['padding'] = p === 'same' || p === 'valid' ? p : [0, one(p, 'padding') ?? 0];
    const y = conv2d(reshape(x, [x.shape[0], x.shape[1], 1, x.shape[2]]), reshape(weight, [weight.shape[0], weight.shape[1], 1, weight.shape[2]]), bias, {
      stride: [1, one(options.stride, 'stride') ?? 1], dilation: [1, one(options.dilation, 'dilation') ?? 1], padding, groups: options.groups,
    });
    return reshape(y, [y.shape[0], y.shape[1], y.shape[3]]);
  },
);

export interface ConvTranspose2dOptions {
  stride?: IntPair;
  /** Removes dilation·(k − 1) − padding … as PyTorch: the output is cropped by `padding` on each side. */
  padding?: IntPair;
  /** Extra rows and columns at the bottom and right (less than the stride or the dilation). */
  outputPadding?: IntPair;
  dilation?: IntPair;
  groups?: number;
}

/**
 * Transposed 2-D convolution (`F.conv_transpose2d`, the gradient of conv2d with respect to its
 * input): x [N, C_in, H, W], weight [C_in, C_out/groups, kh, kw] → [N, C_out, OH, OW] with
 * OH = (H − 1)·stride − 2·padding + dilation·(kh − 1) + outputPadding + 1. Written as a convolution:
 * the input spread out by the stride (zeros between its pixels), padded by dilation·(k − 1), then
 * convolved with the kernel flipped and its channel axes swapped; `padding` crops the result. The
 * spread is a fold with a 1×1 kernel: each pixel lands on its own spot of the stride grid.
 */
export const convTranspose2d: Composite<(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTranspose2dOptions) => Tensor, false> = defineComposite(
  'convTranspose2d',
  (x: Tensor, weight: Tensor, bias: Tensor | null = null, options: ConvTranspose2dOptions = {}) => {
    const op = 'convTranspose2d';
    const [n, c, h, w] = spatial(x, op, 'the input');
    if (!(weight instanceof Tensor) || weight.rank !== 4) throw new ShapeError(`${op}: weight must be 4-D [in, out/groups, kh, kw], got ${weight instanceof Tensor ? shapeString(weight.shape) : typeof weight}`);
    const [ci, og, kh, kw] = weight.shape;
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) throw new ShapeError(`${op}: groups = ${groups} must divide the ${c} input channels`);
    if (ci !== c) throw new ShapeError(`${op}: the input ${shapeString(x.shape)} has ${c} channels, but the weight ${shapeString(weight.shape)} expects ${ci}`);
    const o = og * groups;
    if (bias !== null && bias !== undefined && (!(bias instanceof Tensor) || bias.rank !== 1 || bias.shape[0] !== o)) {
      throw new ShapeError(`${op}: bias must be 1-D [${o}], got ${bias instanceof Tensor ? shapeString(bias.shape) : typeof bias}`);
    }
    const [sh, sw] = pair(options.stride ?? 1, op, 'stride', 1);
    const [ph, pw] = pair(options.padding ?? 0, op, 'padding', 0);
    const [oph, opw] = pair(options.outputPadding ?? 0, op, 'outputPadding', 0);
    const [dh, dw] = pair(options.dilation ?? 1, op, 'dilation', 1);
    if (oph >= Math.max(sh, dh) || opw >= Math.max(sw, dw)) throw new ShapeError(`${op}: outputPadding ${oph}×${opw} must be smaller than the stride or the dilation (as in PyTorch)`);
    const oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
    const ow = (w - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
    if (oh < 1 || ow < 1) throw new ShapeError(`${op}: padding ${ph}×${pw} leaves no output (${oh}×${ow}) for the input ${shapeString(x.shape)}`);
    // the input spread out: pixel (i, j) at (i·sh, j·sw) of a (H − 1)·sh + 1 by (W − 1)·sw + 1 plane
    const hs = (h - 1) * sh + 1, ws = (w - 1) * sw + 1;
    const spread = sh > 1 || sw > 1 ? fold(reshape(x, [n, c, h * w]), [hs, ws], 1, { stride: [sh, sw] }) : x;
    // zeros around it: output padding below and right here, dilation·(k − 1) on each side as the
    // convolution's padding (the crop by padding comes after)
    const below = oph || opw ? pad(spread, [0, 0, 0, 0], [0, 0, oph, opw]) : spread;
    // the kernel flipped, its channel axes swapped within each group: [out, in/groups, kh, kw]
    const cg = c / groups;
    const swapped = reshape(permute(reshape(weight, [groups, cg, og, kh, kw]), [0, 2, 1, 3, 4]), [o, cg, kh, kw]);
    const rev = (k: number) => Array.from({ length: k }, (_, i) => k - 1 - i);
    const flipped = gather(gather(swapped, rev(kh), 2), rev(kw), 3);
    const full = conv2d(below, flipped, bias, { padding: [dh * (kh - 1), dw * (kw - 1)], dilation: [dh, dw], groups });
    return ph || pw ? slice(full, [0, 0, ph, pw], [n, o, ph + oh, pw + ow]) : full;
  },
);

function poolWindow(x: Tensor, kernelSize: IntPair, options: PoolOptions, op: string): WindowAttrs & { out: Pair } {
  const [, , h, w] = spatial(x, op, 'the input');
  const kernel = pair(kernelSize, op, 'kernelSize', 1);
  const stride = pair(options.stride ?? kernel, op, 'stride', 1);
  const padding = pair(options.padding ?? 0, op, 'padding', 0);
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2) throw new ShapeError(`${op}: padding ${padding.join('×')} must be at most half the kernel ${kernel.join('×')} (as in PyTorch)`);
  const win: WindowAttrs = { kernel, stride, padding, dilation: [1, 1] };
  return { ...win, out: outputHW(h, w, win, op, x) };
}

export interface PoolAttrs extends Record<string, unknown> {
  kernel: Pair;
  stride: Pair;
  padding: Pair;
}

/** Where each max-pooling window's largest element is: its position a·kw + b in the window (int32, no gradient). */
export const poolArgmax: Op<(x: Tensor, attrs: PoolAttrs) => Tensor, 'primitive', false> = primitive({
  call: (run: Run<PoolAttrs>) => (x, attrs) => run([x], attrs),
  method: false,
  name: 'poolArgmax', symbol: 'argmax', category: 'reduce', arity: 1, nondifferentiable: true,
  formula: "the position a·kw + b in each window of its largest element (the first one, NaN counting as largest, as PyTorch's max_pool2d); a position has no gradient",
  shape: ([x], a) => {
    const win = poolWindow(x, a.kernel, { stride: a.stride, padding: a.padding }, 'maxPool2d');
    return [x.shape[0], x.shape[1], win.out[0], win.out[1]];
  },
  dtype: () => 'int32',
  forward: ([x], a, outShape) => poolArgmaxKernel(x.data, x.shape, a, outShape[2], outShape[3]),
  gpu: (rt, [x], a, out) => rt.run(poolArgmaxProgram(x.shape, a, out[2], out[3], rt.limits), [x], out),
});

/**
 * 2-D max pooling (`F.max_pool2d`): the largest element of each kh×kw window, padded with −∞; the
 * gradient goes to that element alone (the first, on ties, as in PyTorch), and an element in
 * several windows adds up what each gives it.
 */
export const maxPool2d: Composite<(x: Tensor, kernelSize: IntPair, options?: PoolOptions) => Tensor, false> = defineComposite(
  'maxPool2d',
  (x: Tensor, kernelSize: IntPair, options: PoolOptions = {}) => {
    const win = poolWindow(x, kernelSize, options, 'maxPool2d');
    const [n, c] = x.shape, [oh, ow] = win.out, k = win.kernel[0] * win.kernel[1];
    const at = reshape(poolArgmax(x, { kernel: win.kernel, stride: win.stride, padding: win.padding }), [n, c, 1, oh * ow]);
    // each window's column keeps the chosen entry and zeros: the sum is that entry, and its gradient
    // goes to it alone (unfold's zero padding is never chosen, so it stands in for −∞ here)
    const cols = reshape(unfold(x, win.kernel, win), [n, c, k, oh * ow]);
    const positions = tensor(Int32Array.from({ length: k }, (_, i) => i), { dtype: 'int32', shape: [k, 1] });
    return reshape(sum(where(equal(at, positions), cols, 0), 2), [n, c, oh, ow]);
  },
);

/** 2-D average pooling (`F.avg_pool2d`, count_include_pad): the mean of each window, zero padding counted. */
export const avgPool2d: Composite<(x: Tensor, kernelSize: IntPair, options?: PoolOptions) => Tensor, false> = defineComposite(
  'avgPool2d',
  (x: Tensor, kernelSize: IntPair, options: PoolOptions = {}) => {
    const win = poolWindow(x, kernelSize, options, 'avgPool2d');
    const [n, c] = x.shape, [oh, ow] = win.out;
    const cols = reshape(unfold(x, win.kernel, win), [n, c, win.kernel[0] * win.kernel[1], oh * ow]);
    return reshape(mean(cols, 2), [n, c, oh, ow]);
  },
);

/** The averaging matrix of adaptive pooling along one axis: row i averages [⌊i·n/m⌋, ⌈(i+1)·n/m⌉). */
function adaptiveMatrix(n: number, m: number, dtype: Tensor['dtype']): Tensor {
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const lo = Math.floor((i * n) / m), hi = Math.ceil(((i + 1) * n) / m);
    for (let j = lo; j < hi; j++) a[i * n + j] = 1 / (hi - lo);
  }
  return tensor(a, { shape: [m, n], dtype: dtype === 'float64' ? 'float64' : 'float32' });
}

/** Adaptive average pooling (`F.adaptive_avg_pool2d`) to an output of [oh, ow] (or oh×oh): PyTorch's windows, as two averaging matmuls. */
export const adaptiveAvgPool2d: Composite<(x: Tensor, outputSize: IntPair) => Tensor, false> = defineComposite(
  'adaptiveAvgPool2d',
  (x: Tensor, outputSize: IntPair) => {
    const [, , h, w] = spatial(x, 'adaptiveAvgPool2d', 'the input');
    const [oh, ow] = pair(outputSize, 'adaptiveAvgPool2d', 'outputSize', 1);
    // [N, C, H, W] → rows: Ah [oh, H] · x; columns: · Awᵀ [W, ow]
    const rows = matmul(adaptiveMatrix(h, oh, x.dtype), x);
    return matmul(rows, permute(adaptiveMatrix(w, ow, x.dtype), [1, 0]));
  },
);
