/**
 * Weight initializers and random tensors, all drawn from the one seeded generator (random.ts).
 * Fan-in/fan-out follow PyTorch: for a weight of shape [out, in, …], fanIn = in·receptive field,
 * fanOut = out·receptive field.
 */
import { allocate, checkDType, type DType } from './dtype';
import { checkShape, sizeOf } from './shape';
import { Tensor } from './tensor';
import { rngFor, type Rng } from './random';
import { announceLeaf } from './ops/context';
import { ShapeError } from './errors';

export interface InitOptions {
  /** Seed for this draw; without it the global generator (see manualSeed) is used. */
  seed?: number;
  dtype?: DType;
}

function fill(shape: number[], opts: InitOptions, draw: (rng: Rng) => number, where: string): Tensor {
  const s = checkShape(shape, where);
  const data = allocate(checkDType(opts.dtype ?? 'float32', where), sizeOf(s));
  const rng = rngFor(opts.seed);
  for (let i = 0; i < data.length; i++) data[i] = draw(rng);
  return announceLeaf(Tensor.leaf(data, s));
}

/** Standard normal samples of the given shape. */
export function randn(shape: number[], opts: InitOptions & { mean?: number; std?: number } = {}): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  return fill(shape, opts, (r) => mean + std * r.normal(), 'randn');
}

/** Uniform samples in [low, high) (default [0, 1)). */
export function rand(shape: number[], opts: InitOptions & { low?: number; high?: number } = {}): Tensor {
  const low = opts.low ?? 0;
  const high = opts.high ?? 1;
  if (!(high >= low)) throw new Error(`rand: high (${high}) must be ≥ low (${low})`);
  return fill(shape, opts, (r) => low + (high - low) * r.uniform(), 'rand');
}

export type Nonlinearity = 'linear' | 'identity' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'selu';

/** The recommended gain for an activation (PyTorch's calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'identity': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leakyRelu': { const a = param ?? 0.01; return Math.sqrt(2 / (1 + a * a)); }
    case 'selu': return 3 / 4;
    default: throw new Error(`calculateGain: unknown nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

/** fanIn and fanOut of a weight shape. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) throw new ShapeError('init: fan-in and fan-out need a tensor of rank ≥ 1');
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

export type FanMode = 'fanIn' | 'fanOut';
interface GainOptions extends InitOptions { gain?: number }
interface KaimingOptions extends InitOptions { mode?: FanMode; nonlinearity?: Nonlinearity; a?: number }

export const zeros = (shape: number[], opts: InitOptions = {}) => fill(shape, opts, () => 0, 'init.zeros');
export const ones = (shape: number[], opts: InitOptions = {}) => fill(shape, opts, () => 1, 'init.ones');
export const constant = (shape: number[], value: number, opts: InitOptions = {}) => fill(shape, opts, () => value, 'init.constant');
/** N(mean, std²). */
export const normal = (shape: number[], opts: InitOptions & { mean?: number; std?: number } = {}) => randn(shape, opts);
/** U(low, high). */
export const uniform = (shape: number[], opts: InitOptions & { low?: number; high?: number } = {}) => rand(shape, opts);

/** Glorot/Xavier uniform: U(−b, b), b = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform(shape: number[], opts: GainOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  const bound = (opts.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut));
  return rand(shape, { ...opts, low: -bound, high: bound });
}
/** Glorot/Xavier normal: N(0, gain²·2 / (fanIn + fanOut)). */
export function xavierNormal(shape: number[], opts: GainOptions = {}): Tensor {
  const { fanIn, fanOut } = fans(shape);
  return randn(shape, { ...opts, std: (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut)) });
}
function kaimingStd(shape: number[], opts: KaimingOptions): number {
  const f = fans(shape);
  const fan = (opts.mode ?? 'fanIn') === 'fanIn' ? f.fanIn : f.fanOut;
  return calculateGain(opts.nonlinearity ?? 'relu', opts.a) / Math.sqrt(fan);
}
/** Kaiming/He uniform: U(−b, b), b = gain·√(3 / fan); gain for ReLU by default. */
export function kaimingUniform(shape: number[], opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(shape, opts);
  return rand(shape, { ...opts, low: -bound, high: bound });
}
/** Kaiming/He normal: N(0, gain² / fan); gain for ReLU by default. */
export function kaimingNormal(shape: number[], opts: KaimingOptions = {}): Tensor {
  return randn(shape, { ...opts, std: kaimingStd(shape, opts) });
}
/** LeCun normal: N(0, 1 / fanIn). */
export function lecunNormal(shape: number[], opts: InitOptions = {}): Tensor {
  return randn(shape, { ...opts, std: 1 / Math.sqrt(fans(shape).fanIn) });
}
/** LeCun uniform: U(−b, b), b = √(3 / fanIn). */
export function lecunUniform(shape: number[], opts: InitOptions = {}): Tensor {
  const bound = Math.sqrt(3 / fans(shape).fanIn);
  return rand(shape, { ...opts, low: -bound, high: bound });
}
export const glorotUniform = xavierUniform;
export const glorotNormal = xavierNormal;
export const heUniform = kaimingUniform;
export const heNormal = kaimingNormal;
