/**
 * Toy datasets for teaching (all seeded, so every run and every machine sees the same points) and
 * the few utilities a training loop needs: a train/validation split, input standardization and
 * shuffled minibatches. Generators follow scikit-learn's `make_*` functions where one exists.
 */
import type { DType } from '../dtype';
import { Rng } from '../random';
import { BatchOrder } from './order';
import { DIGITS_BASE64, DIGITS_ROWS } from './digits-data';
import { build, fromValues, type Dataset, type Task } from './values';

export { fromValues, type Dataset, type Task };

export { BatchOrder };
import { Tensor, tensor } from '../tensor';
import { ShapeError } from '../errors';



export interface GeneratorOptions {
  /** Number of points. */
  n?: number;
  /** Standard deviation of Gaussian noise added to the inputs (the targets for regression). */
  noise?: number;
  seed?: number;
  /** float32 (default) or float64. */
  dtype?: DType;
}

function checkN(name: string, n: number, min = 1): number {
  if (!Number.isInteger(n) || n < min || n > 10_000_000) throw new Error(`data.${name}: n must be an integer between ${min} and 10,000,000, got ${String(n)}`);
  return n;
}

function checkNoise(name: string, noise: number): number {
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0) throw new Error(`data.${name}: noise must be a number ≥ 0, got ${String(noise)}`);
  return noise;
}

function floatDType(name: string, dtype: DType | undefined): DType {
  const d = dtype ?? 'float32';
  if (d !== 'float32' && d !== 'float64') throw new Error(`data.${name}: dtype must be float32 or float64, got ${String(d)}`);
  return d;
}


/** Binary labels as a dataset: [n, 1] of 0/1. Multi-class: int32 indices. */
function classification(name: string, xs: Float64Array, features: number, labels: Float64Array, classes: number, dtype: DType, rng: Rng): Dataset {
  return build(name, xs, features, labels, 1, classes === 2 ? 'binary' : 'multiclass', classes, dtype, rng);
}

/**
 * y = x·w + b + noise·ε with x ~ U(−1, 1)^features; `weights` default to N(0, 1) draws, `bias` to 0.5.
 */
export function linear(opts: GeneratorOptions & { features?: number; weights?: number[]; bias?: number } = {}): Dataset {
  const n = checkN('linear', opts.n ?? 100);
  const noise = checkNoise('linear', opts.noise ?? 0.1);
  const features = opts.features ?? opts.weights?.length ?? 1;
  if (!Number.isInteger(features) || features < 1) throw new Error(`data.linear: features must be a positive integer, got ${String(features)}`);
  const rng = new Rng(opts.seed ?? 0);
  const w = opts.weights ?? Array.from({ length: features }, () => rng.normal());
  if (w.length !== features) throw new Error(`data.linear: ${w.length} weights for ${features} features`);
  const b = opts.bias ?? 0.5;
  const xs = new Float64Array(n * features);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let y = b;
    for (let j = 0; j < features; j++) {
      const v = rng.uniform() * 2 - 1;
      xs[i * features + j] = v;
      y += v * w[j];
    }
    ys[i] = y + noise * rng.normal();
  }
  return build('linear', xs, features, ys, 1, 'regression', null, floatDType('linear', opts.dtype), null);
}

/**
 * XOR: the four corners of the unit square labelled x₁ xor x₂. With n > 4 the corners repeat
 * (n/4 points each) with Gaussian noise; the default is the classic 4 points, no noise.
 */
export function xor(opts: GeneratorOptions = {}): Dataset {
  const n = checkN('xor', opts.n ?? 4);
  const noise = checkNoise('xor', opts.noise ?? 0);
  const rng = new Rng(opts.seed ?? 0);
  const xs = new Float64Array(n * 2);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = i & 1, b = (i >> 1) & 1;
    xs[2 * i] = a + noise * rng.normal();
    xs[2 * i + 1] = b + noise * rng.normal();
    ys[i] = a ^ b;
  }
  // the 4-point set keeps its textbook order; larger sets are shuffled
  return build('xor', xs, 2, ys, 1, 'binary', 2, floatDType('xor', opts.dtype), n > 4 ? rng : null);
}

/** Two interleaving half circles (sklearn's make_moons): label 0 on top, 1 below. */
export function moons(opts: GeneratorOptions = {}): Dataset {
  const n = checkN('moons', opts.n ?? 100, 2);
  const noise = checkNoise('moons', opts.noise ?? 0);
  const rng = new Rng(opts.seed ?? 0);
  const nOut = Math.floor(n / 2), nIn = n - nOut;
  const xs = new Float64Array(n * 2);
  const ys = new Float64Array(n);
  const along = (i: number, m: number) => (m === 1 ? 0 : (Math.PI * i) / (m - 1));
  for (let i = 0; i < nOut; i++) {
    const t = along(i, nOut);
    xs[2 * i] = Math.cos(t);
    xs[2 * i + 1] = Math.sin(t);
  }
  for (let i = 0; i < nIn; i++) {
    const t = along(i, nIn), k = nOut + i;
    xs[2 * k] = 1 - Math.cos(t);
    xs[2 * k + 1] = 0.5 - Math.sin(t);
    ys[k] = 1;
  }
  for (let i = 0; i < xs.length; i++) xs[i] += noise * rng.normal();
  return classification('moons', xs, 2, ys, 2, floatDType('moons', opts.dtype), rng);
}

/** A circle inside a circle (sklearn's make_circles): label 0 on the outer (r = 1), 1 on the inner (r = factor). */
export function circles(opts: GeneratorOptions & { factor?: number } = {}): Dataset {
  const n = checkN('circles', opts.n ?? 100, 2);
  const noise = checkNoise('circles', opts.noise ?? 0);
  const factor = opts.factor ?? 0.5;
  if (!(factor > 0 && factor < 1)) throw new Error(`data.circles: factor (inner radius) must be in (0, 1), got ${String(factor)}`);
  const rng = new Rng(opts.seed ?? 0);
  const nOut = Math.floor(n / 2), nIn = n - nOut;
  const xs = new Float64Array(n * 2);
  const ys = new Float64Array(n);
  const ring = (start: number, m: number, r: number, label: number) => {
    for (let i = 0; i < m; i++) {
      const t = (2 * Math.PI * i) / m;
      xs[2 * (start + i)] = r * Math.cos(t);
      xs[2 * (start + i) + 1] = r * Math.sin(t);
      ys[start + i] = label;
    }
  };
  ring(0, nOut, 1, 0);
  ring(nOut, nIn, factor, 1);
  for (let i = 0; i < xs.length; i++) xs[i] += noise * rng.normal();
  return classification('circles', xs, 2, ys, 2, floatDType('circles', opts.dtype), rng);
}

/**
 * Interleaved spirals (the CS231n example): class k's arm has radius 0…1 and angle from 4k to
 * 4(k+1) radians plus noise·N(0, 1) on the angle. Two classes are binary; more are multi-class.
 */
export function spirals(opts: GeneratorOptions & { classes?: number } = {}): Dataset {
  const classes = opts.classes ?? 2;
  if (!Number.isInteger(classes) || classes < 2 || classes > 100) throw new Error(`data.spirals: classes must be an integer from 2 to 100, got ${String(classes)}`);
  const n = checkN('spirals', opts.n ?? 100 * classes, classes);
  const noise = checkNoise('spirals', opts.noise ?? 0.2);
  const rng = new Rng(opts.seed ?? 0);
  const xs = new Float64Array(n * 2);
  const ys = new Float64Array(n);
  let k = 0;
  for (let c = 0; c < classes; c++) {
    const m = Math.floor(n / classes) + (c < n % classes ? 1 : 0);
    for (let i = 0; i < m; i++, k++) {
      const u = m === 1 ? 0 : i / (m - 1);
      const t = 4 * c + 4 * u + noise * rng.normal();
      xs[2 * k] = u * Math.sin(t);
      xs[2 * k + 1] = u * Math.cos(t);
      ys[k] = c;
    }
  }
  return classification('spirals', xs, 2, ys, classes, floatDType('spirals', opts.dtype), rng);
}

/**
 * Gaussian blobs (sklearn's make_blobs): `centers` is a count (drawn uniformly in `box`, default
 * [−10, 10]) or explicit points; each class gets N(center, std²) around its centre.
 */
export function blobs(opts: GeneratorOptions & { centers?: number | number[][]; std?: number; features?: number; box?: [number, number] } = {}): Dataset {
  const rng = new Rng(opts.seed ?? 0);
  const std = opts.std ?? 1;
  if (!(std >= 0) || !Number.isFinite(std)) throw new Error(`data.blobs: std must be a number ≥ 0, got ${String(std)}`);
  let centers: number[][];
  if (Array.isArray(opts.centers)) {
    centers = opts.centers;
    const f = centers[0]?.length;
    if (!centers.length || !f || centers.some((c) => !Array.isArray(c) || c.length !== f || c.some((v) => !Number.isFinite(v)))) {
      throw new Error('data.blobs: centers must be a non-empty list of points with the same number of finite coordinates');
    }
  } else {
    const count = opts.centers ?? 3;
    const features = opts.features ?? 2;
    if (!Number.isInteger(count) || count < 2) throw new Error(`data.blobs: centers must be an integer ≥ 2 or a list of points, got ${String(count)}`);
    if (!Number.isInteger(features) || features < 1) throw new Error(`data.blobs: features must be a positive integer, got ${String(features)}`);
    const [lo, hi] = opts.box ?? [-10, 10];
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) throw new Error(`data.blobs: box must be [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
    centers = Array.from({ length: count }, () => Array.from({ length: features }, () => lo + (hi - lo) * rng.uniform()));
  }
  const classes = centers.length, features = centers[0].length;
  const n = checkN('blobs', opts.n ?? 100, classes);
  const xs = new Float64Array(n * features);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    for (let j = 0; j < features; j++) xs[i * features + j] = centers[c][j] + std * rng.normal();
    ys[i] = c;
  }
  return classification('blobs', xs, features, ys, classes, floatDType('blobs', opts.dtype), rng);
}

/** A dataset from plain arrays: inputs [n][features]; targets [n] (class indices or values) or [n][outputs]. */
export function fromArrays(x: number[][], y: number[] | number[][], opts: { task?: Task; name?: string; dtype?: DType } = {}): Dataset {
  const xt = tensor(x, { dtype: floatDType('fromArrays', opts.dtype) });
  if (xt.rank !== 2) throw new ShapeError(`data.fromArrays: inputs must be rows of numbers ([n][features]), got rank ${xt.rank}`);
  const n = xt.shape[0];
  if (!Array.isArray(y) || y.length !== n) throw new Error(`data.fromArrays: ${n} input rows but ${Array.isArray(y) ? y.length : 'no'} targets`);
  const flat = (y as unknown[]).flat() as number[];
  return fromValues('data.fromArrays', opts.name ?? 'data', Float64Array.from(xt.data), xt.shape[1], Float64Array.from(flat), flat.length / n, { task: opts.task, dtype: xt.dtype }, Array.isArray(y[0]));
}



/** The rows `rows` of a dataset (a copy). */
export function subset(ds: Dataset, rows: ArrayLike<number>): Dataset {
  const f = ds.features;
  const outputs = ds.y.rank === 1 ? 1 : ds.y.shape[1];
  const xs = new Float64Array(rows.length * f);
  const ys = new Float64Array(rows.length * outputs);
  const xd = ds.x.data, yd = ds.y.data;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!Number.isInteger(r) || r < 0 || r >= ds.size) throw new Error(`data.subset: row ${r} is not an integer in 0…${ds.size - 1}`);
    for (let j = 0; j < f; j++) xs[i * f + j] = xd[r * f + j];
    for (let j = 0; j < outputs; j++) ys[i * outputs + j] = yd[r * outputs + j];
  }
  const out = build(ds.name, xs, f, ys, outputs, ds.task, ds.numClasses, ds.x.dtype, null);
  return { ...out, ...(ds.standardization ? { standardization: ds.standardization } : {}), ...(ds.imageShape ? { imageShape: ds.imageShape } : {}) };
}

export { fromCsv, fromNpy, type CsvOptions } from './files';

export type DigitsSplit = 'train' | 'validation' | 'test' | 'all';

/** Bytes of a base64 text (the engine runs in Node and in browsers: neither Buffer nor atob is everywhere). */
function fromBase64(text: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const value = new Uint8Array(128);
  for (let i = 0; i < alphabet.length; i++) value[alphabet.charCodeAt(i)] = i;
  const body = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0, acc = 0, o = 0;
  for (let i = 0; i < body.length; i++) {
    acc = (acc << 6) | value[body.charCodeAt(i)];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

let digitsCache: Uint8Array | null = null;
const digitsBytes = (): Uint8Array => (digitsCache ??= fromBase64(DIGITS_BASE64));

/**
 * Handwritten digits: 1,797 images of 8×8 pixels (the UCI optical digits, as scikit-learn ships
 * them; CC BY 4.0), ten classes. Inputs are the 64 pixels row by row, scaled to [0, 1]
 * (`imageShape` [1, 8, 8]: a CNN reshapes each batch with `x.reshape(-1, 1, 8, 8)`); targets are
 * class indices. `split` picks a fixed, stratified part: 'train' (60%, 1,078 images), 'validation'
 * (20%, 360) or 'test' (20%, 359); 'all' (default) is every image in the file's order.
 */
export function digits(opts: { split?: DigitsSplit; dtype?: DType } = {}): Dataset {
  const which = opts.split ?? 'all';
  if (!['train', 'validation', 'test', 'all'].includes(which)) throw new Error(`data.digits: split must be 'train', 'validation', 'test' or 'all', got ${JSON.stringify(which)}`);
  const bytes = digitsBytes();
  const n = DIGITS_ROWS;
  const xs = new Float64Array(n * 64);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 64; j++) xs[i * 64 + j] = bytes[i * 65 + j] / 16;
    ys[i] = bytes[i * 65 + 64];
  }
  const all: Dataset = { ...build('digits', xs, 64, ys, 1, 'multiclass', 10, floatDType('digits', opts.dtype), null), imageShape: [1, 8, 8] };
  if (which === 'all') return all;
  // stratified: each class's images in a seeded order, its first 60% to train, the next 20% to validation
  const rng = new Rng(0);
  const parts: Record<Exclude<DigitsSplit, 'all'>, number[]> = { train: [], validation: [], test: [] };
  for (let c = 0; c < 10; c++) {
    const rows = Array.from(ys.keys()).filter((i) => ys[i] === c);
    const order = rng.permutation(rows.length).map((k) => rows[k]);
    const a = Math.round(order.length * 0.6), b = Math.round(order.length * 0.8);
    parts.train.push(...order.slice(0, a));
    parts.validation.push(...order.slice(a, b));
    parts.test.push(...order.slice(b));
  }
  const rows = parts[which].sort((p, q) => p - q);
  return subset(all, rows);
}

/**
 * A seeded random split: `validation` is the fraction (0 < v < 1) or the number of rows held out.
 */
export function split(ds: Dataset, opts: { validation?: number; seed?: number } = {}): { train: Dataset; validation: Dataset } {
  const v = opts.validation ?? 0.2;
  const held = v < 1 ? Math.round(ds.size * v) : v;
  if (!(v > 0) || !Number.isInteger(held) || held < 1 || held >= ds.size) {
    throw new Error(`data.split: validation must be a fraction in (0, 1) or a row count that leaves both parts non-empty (dataset of ${ds.size}), got ${String(v)}`);
  }
  const order = new Rng(opts.seed ?? 0).permutation(ds.size);
  return { train: subset(ds, order.slice(held)), validation: subset(ds, order.slice(0, held)) };
}

/** Per-feature mean and (population) standard deviation of the inputs. */
export function featureStats(ds: Dataset): { mean: number[]; std: number[] } {
  const f = ds.features, n = ds.size, d = ds.x.data;
  const mean = new Array<number>(f).fill(0), std = new Array<number>(f).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) mean[j] += d[i * f + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) std[j] += (d[i * f + j] - mean[j]) ** 2 / n;
  return { mean, std: std.map(Math.sqrt) };
}

/**
 * The scale of the inputs as the diagnosis reads it: per feature, or for images (`imageShape`) over
 * all pixels at once, since an image's pixels share one scale (a border pixel that is always 0 is
 * not a badly scaled feature).
 */
export function inputScale(ds: Dataset): { mean: number[]; std: number[]; pooled: boolean } {
  if (!ds.imageShape) return { ...featureStats(ds), pooled: false };
  const d = ds.x.data, n = d.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += d[i] / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (d[i] - mean) ** 2 / n;
  return { mean: [mean], std: [Math.sqrt(v)], pooled: true };
}

/**
 * Standardizes every input feature to mean 0 and std 1, with the statistics of `ds` itself or the
 * ones given (use the training set's for the validation set).
 */
export function standardize(ds: Dataset, using?: { mean: number[]; std: number[] }): Dataset {
  const f = ds.features, n = ds.size, xd = ds.x.data;
  let mean: number[], std: number[];
  if (using) {
    if (using.mean.length !== f || using.std.length !== f) throw new Error(`data.standardize: statistics for ${using.mean.length} features, the dataset has ${f}`);
    if (using.std.some((v) => !(v > 0) || !Number.isFinite(v))) throw new Error('data.standardize: every std must be a finite number > 0');
    ({ mean, std } = using);
  } else {
    ({ mean, std } = featureStats(ds));
    std = std.map((s) => s || 1); // a constant feature stays put instead of dividing by 0
  }
  const xs = new Float64Array(n * f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) xs[i * f + j] = (xd[i * f + j] - mean[j]) / std[j];
  const x = tensor(xs, { shape: [n, f], dtype: ds.x.dtype });
  return { ...ds, x, standardization: { mean: [...mean], std: [...std] } };
}

export interface Batch {
  x: Tensor;
  y: Tensor;
  /** Dataset rows in this batch. */
  rows: number[];
}

/** Endless minibatches of a dataset, in the order of `BatchOrder`. */
export class DataLoader {
  private readonly rows: BatchOrder;
  private full: Batch | null = null;
  constructor(readonly dataset: Dataset, batchSize: number, readonly opts: { shuffle?: boolean; seed?: number } = {}) {
    this.rows = new BatchOrder(dataset.size, batchSize, opts);
  }

  get batchSize(): number {
    return this.rows.batchSize;
  }

  get epoch(): number {
    return this.rows.epoch;
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return Math.ceil(this.dataset.size / this.batchSize);
  }

  next(): Batch {
    return this.batch(this.rows.next());
  }

  /** The batch `next()` will return, without moving on. */
  peek(): Batch {
    return this.batch(this.rows.peek());
  }

  private batch(rows: number[]): Batch {
    if (this.full) return this.full;
    // full-batch gradient descent: the same tensors every step, in the dataset's order
    if (this.rows.full) return (this.full = { x: this.dataset.x, y: this.dataset.y, rows });
    const part = subset(this.dataset, rows);
    return { x: part.x, y: part.y, rows };
  }

  /** Moves past `n` minibatches. */
  skip(n: number): void {
    this.rows.skip(n);
  }
}

/** One epoch of minibatches, e.g. `for (const { x, y } of data.batches(ds, 32)) …`. */
export function* batches(ds: Dataset, batchSize: number, opts: { shuffle?: boolean; seed?: number } = {}): Generator<Batch> {
  const loader = new DataLoader(ds, batchSize, opts);
  for (let i = 0; i < loader.batchesPerEpoch; i++) yield loader.next();
}

export function isDataset(x: unknown): x is Dataset {
  return typeof x === 'object' && x !== null && (x as Dataset).x instanceof Tensor && (x as Dataset).y instanceof Tensor && typeof (x as Dataset).task === 'string';
}
