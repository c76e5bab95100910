/** The dataset type and how one is built from row-major values (shared by the generators and the file readers). */
import type { DType } from '../dtype';
import type { Rng } from '../random';
import { tensor, type Tensor } from '../tensor';

export type Task = 'regression' | 'binary' | 'multiclass';

export interface Dataset {
  readonly name: string;
  /** Inputs, [n, features]. */
  readonly x: Tensor;
  /** Targets: [n, outputs] for regression, [n, 1] of 0/1 for binary, [n] int32 class indices for multiclass. */
  readonly y: Tensor;
  readonly task: Task;
  /** Number of classes (2 for binary), null for regression. */
  readonly numClasses: number | null;
  readonly size: number;
  readonly features: number;
  /** Per-feature mean and std applied by `standardize` (so new inputs can be transformed the same way). */
  readonly standardization?: { mean: number[]; std: number[] };
  /** Each row is an image of this shape ([channels, height, width]), for a model to reshape and the panel to draw. */
  readonly imageShape?: readonly number[];
}

/** Builds a dataset from row-major inputs and labels, shuffled with `rng` when given. */
export function build(name: string, xs: Float64Array, features: number, labels: Float64Array, outputs: number, task: Task, numClasses: number | null, dtype: DType, rng: Rng | null): Dataset {
  const n = xs.length / features;
  const order = rng ? rng.permutation(n) : Array.from({ length: n }, (_, i) => i);
  const xd = new Float64Array(xs.length);
  const yd = new Float64Array(labels.length);
  order.forEach((src, dst) => {
    xd.set(xs.subarray(src * features, (src + 1) * features), dst * features);
    yd.set(labels.subarray(src * outputs, (src + 1) * outputs), dst * outputs);
  });
  const x = tensor(xd, { shape: [n, features], dtype });
  const y = task === 'multiclass' ? tensor(yd, { shape: [n], dtype: 'int32' }) : tensor(yd, { shape: [n, outputs], dtype });
  return { name, x, y, task, numClasses, size: n, features };
}

/**
 * A dataset from row-major inputs and targets (fromArrays, fromCsv, fromNpy): the task is the one
 * given, else inferred from the targets: several per row, regression; all 0 or 1, binary; all
 * whole numbers, multi-class; else regression. `where` names the call in messages.
 */
export function fromValues(where: string, name: string, xs: Float64Array, features: number, ys: Float64Array, outputs: number, opts: { task?: Task; dtype?: DType }, perRow = outputs > 1): Dataset {
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`${where}: dtype must be float32 or float64, got ${String(dtype)}`);
  if (opts.task !== undefined && !['regression', 'binary', 'multiclass'].includes(opts.task)) throw new Error(`${where}: task must be 'regression', 'binary' or 'multiclass', got ${JSON.stringify(opts.task)}`);
  const all = (f: (v: number) => boolean) => ys.every(f);
  const task = opts.task ?? (perRow ? 'regression' : all((v) => v === 0 || v === 1) ? 'binary' : all(Number.isInteger) ? 'multiclass' : 'regression');
  if (task === 'multiclass' && (outputs !== 1 || !all((v) => Number.isInteger(v) && v >= 0))) throw new Error(`${where}: class labels must be integers ≥ 0 (one per example)`);
  if (task === 'binary' && !all((v) => v === 0 || v === 1)) throw new Error(`${where}: binary targets must be 0 or 1`);
  let classes = 0;
  if (task === 'multiclass') for (const v of ys) classes = Math.max(classes, v + 1);
  const numClasses = task === 'binary' ? 2 : task === 'multiclass' ? classes : null;
  return build(name, xs, features, ys, task === 'multiclass' ? 1 : outputs, task, numClasses, dtype, null);
}
