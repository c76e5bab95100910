/**
 * How the oracle compares a tensor of ours with PyTorch's. The error of a tensor is norm-wise:
 * max|ours − torch| / max|torch| (elementwise relative error is unbounded where a sum cancels to
 * nearly 0, and a tensor's small elements are compared at the scale of its large ones). NaN and ±∞
 * must be in the same places. The limits are the issue's: 1e-12 in float64, 1e-5 in float32.
 *
 * One exception, for values whose exact result is 0 by cancellation (the gradient of
 * mean(softmax(x)), or of a loss through it): both sides compute rounding noise there, and noise
 * cannot be compared relatively. A tensor also passes when max|ours − torch| is below a tenth of the
 * limit times the largest magnitude of its kind (values or gradients) anywhere in the program: the
 * terms that cancelled are of about that size, so their rounding noise is too. A real error in a
 * gradient is of the gradient's own size, far above that.
 */
export type DT = 'float32' | 'float64';
export const TOLERANCE: Record<DT, number> = { float64: 1e-12, float32: 1e-5 };

export function tolerance(dtype: string): number {
  return dtype === 'float64' ? TOLERANCE.float64 : TOLERANCE.float32;
}

/** Norm-wise relative error (0 when both are all zero; Infinity when NaN/∞ differ or lengths do). */
export function relError(ours: ArrayLike<number>, torch: ArrayLike<number>): number {
  if (ours.length !== torch.length) return Infinity;
  let diff = 0, scale = 0;
  for (let i = 0; i < torch.length; i++) {
    const a = ours[i], b = torch[i];
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) return Infinity;
      continue;
    }
    diff = Math.max(diff, Math.abs(a - b));
    scale = Math.max(scale, Math.abs(b));
  }
  if (diff === 0) return 0;
  return scale === 0 ? Infinity : diff / scale;
}

const allZero = (v: ArrayLike<number> | null) => !v || Array.prototype.every.call(v, (x: number) => x === 0);

export interface Side {
  dtype: string;
  shape: readonly number[];
  value: ArrayLike<number> | null;
  grad: ArrayLike<number> | null;
  /** PyTorch's side: the value depends on no leaf (its derivative with respect to each is zero), though PyTorch's graph keeps it (programs.py). */
  constant?: boolean;
}

/** Largest errors seen, by dtype and kind, and how many tensors were compared. */
export class Tally {
  nodes = 0;
  /** Tensors that passed only under the noise floor (their exact value cancels to 0). */
  floored = 0;
  worst: Record<string, number> = {};
  /** Notes a tensor's error under its kind (value or grad) and precision. */
  note(kind: string, dtype: string, err: number): void {
    const k = `${kind} ${dtype}`;
    this.worst[k] = Math.max(this.worst[k] ?? 0, err);
  }
  summary(): string {
    const worst = Object.entries(this.worst).sort().map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ');
    return `${worst}; ${this.floored} within the noise floor`;
  }
}

/**
 * The disagreements between one node of ours and PyTorch's (empty when they agree). `grads`: false
 * when the node's gradient is not defined the same way in both (see the second-order programs).
 */
/** Below this share of the limit times the program's largest magnitude, a difference is rounding noise. */
export const NOISE_FLOOR = 0.1;

/** The largest |x| over tensors (the program's scale for NOISE_FLOOR). */
export function largest(tensors: Iterable<ArrayLike<number> | null>): number {
  let m = 0;
  for (const t of tensors) if (t) for (let i = 0; i < t.length; i++) if (Number.isFinite(t[i])) m = Math.max(m, Math.abs(t[i]));
  return m;
}

/** max|a − b| over the elements, Infinity when NaN/±∞ differ or lengths do. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < b.length; i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i])) d = Math.max(d, Math.abs(a[i] - b[i]));
    else if (!(Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) return Infinity;
  }
  return d;
}

export interface CompareOptions {
  /** False when the node's gradient is not defined the same way on both sides. */
  grads?: boolean;
  /** The precision the node's value was computed at (float32 when it comes from float32 values). */
  precision?: string;
  /** The precision of its gradient, which depends on values downstream of it (default: `precision`). */
  gradPrecision?: string;
  /** The program's largest |value| and |gradient| (see NOISE_FLOOR). */
  scale?: { value: number; grad: number };
}

/**
 * One node of both graphs, compared. Integer tensors (class labels, indices) are int32 in the engine
 * (WebGPU has no 64-bit integers) and int64 in PyTorch, whose indexing ops want that: the same values.
 */
export function compareNode(name: string, ours: Side | undefined, torch: Side, tally: Tally, opts: CompareOptions = {}): string[] {
  const grads = opts.grads ?? true;
  if (!ours) return [`${name}: missing from our graph`];
  const out: string[] = [];
  if (ours.dtype !== torch.dtype && !(ours.dtype === 'int32' && torch.dtype === 'int64')) out.push(`${name}: dtype ${ours.dtype}, PyTorch ${torch.dtype}`);
  if (ours.shape.length !== torch.shape.length || ours.shape.some((d, i) => d !== torch.shape[i])) {
    out.push(`${name}: shape [${ours.shape}], PyTorch [${torch.shape}]`);
    return out;
  }
  // a float64 value computed from float32 ones carries their rounding: compared at float32's limit
  tally.nodes++;
  const check = (kind: 'value' | 'gradient', a: ArrayLike<number>, b: ArrayLike<number>, scale = 0) => {
    const precision = kind === 'value' ? opts.precision ?? torch.dtype : opts.gradPrecision ?? opts.precision ?? torch.dtype;
    const tol = tolerance(precision);
    const e = relError(a, b);
    if (e <= tol) tally.note(kind, precision, e);
    else if (maxDiff(a, b) <= NOISE_FLOOR * tol * scale) tally.floored++;
    else out.push(`${name}: ${kind} error ${e.toExponential(2)} > ${tol} (ours ${preview(a)}, PyTorch ${preview(b)})`);
  };
  if (ours.value && torch.value) check('value', ours.value, torch.value, opts.scale?.value);
  if (!grads) return out;
  if (ours.grad === null || torch.grad === null) {
    // no gradient on one side: right only if the other's is zero everywhere (e.g. a value the output
    // does not reach), or where ours is a constant that PyTorch's graph keeps (a conv bias's gradient)
    if (ours.grad === null && torch.constant) return out;
    if (!(allZero(ours.grad) && allZero(torch.grad))) out.push(`${name}: gradient ${ours.grad ? preview(ours.grad) : 'none'}, PyTorch ${torch.grad ? preview(torch.grad) : 'none'}`);
    return out;
  }
  check('gradient', ours.grad, torch.grad, opts.scale?.grad);
  return out;
}

export function preview(v: ArrayLike<number>): string {
  const head = Array.from(v).slice(0, 6).map((x) => (Number.isFinite(x) ? Number(x.toPrecision(8)) : x));
  return `[${head.join(', ')}${v.length > 6 ? `, … ${v.length} values` : ''}]`;
}
