/**
 * The output as a function of one scalar input, everything else held as recorded: the curve the
 * lecture draws with its tangent line, whose slope is the gradient the backward pass computed.
 *
 * The recorded graph is evaluated again at other values of the input, op by op with the op
 * registry's own kernels (`apply`, no gradient), so the curve is what the file computes, not an
 * approximation. Only the graph's edges carry the change: a value the program took out of the
 * graph (`detach()`, a number read with `.item()`) stays as it was recorded.
 */
import { topoOrder } from '../autograd';
import { noGrad } from '../ops/context';
import { apply } from '../ops/registry';
import { tensor, type Tensor } from '../tensor';

export interface OutputCurve {
  /** The input's values: `points` evenly spaced over x₀ ± halfWidth (x₀, the recorded value, is the middle one). */
  xs: number[];
  /** The output at each, null where it is NaN or ±Inf or the evaluation failed. */
  ys: (number | null)[];
}

/** Half-width of the interval: 1 around small values, half the value around larger ones. */
export function curveHalfWidth(x0: number): number {
  return Math.max(1, Math.abs(x0) / 2);
}

/** The output evaluated along one scalar leaf of its graph. `output` must have one element. */
export function outputCurve(output: Tensor, leaf: Tensor, opts: { points?: number; halfWidth?: number } = {}): OutputCurve {
  if (output.size !== 1) throw new Error('outputCurve: the output must have one element');
  if (!leaf.isLeaf || leaf.size !== 1) throw new Error('outputCurve: the input must be a leaf with one element');
  const points = Math.max(3, (opts.points ?? 81) | 1);
  const x0 = Number(leaf.data[0]);
  const half = opts.halfWidth ?? curveHalfWidth(x0);
  const order = topoOrder(output, false).sort((a, b) => a.id - b.id);
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  for (let i = 0; i < points; i++) {
    const t = i === (points - 1) / 2 ? x0 : x0 + half * (2 * i / (points - 1) - 1);
    // the value the leaf can hold in its dtype is the one evaluated and shown
    const x = leaf.dtype === 'float32' ? Math.fround(t) : t;
    xs.push(x);
    ys.push(evaluateAt(order, output, leaf, x));
  }
  return { xs, ys };
}

function evaluateAt(order: readonly Tensor[], output: Tensor, leaf: Tensor, x: number): number | null {
  const now = new Map<Tensor, Tensor>();
  now.set(leaf, tensor(Float64Array.of(x), { shape: leaf.shape.slice(), dtype: leaf.dtype }));
  try {
    return noGrad(() => {
      for (const t of order) {
        if (t.def === null || now.has(t)) continue;
        now.set(t, apply(t.def, t.inputs.map((i) => now.get(i) ?? i), t.attrs));
      }
      const y = Number((now.get(output) ?? output).data[0]);
      return Number.isFinite(y) ? y : null;
    });
  } catch {
    return null;
  }
}
