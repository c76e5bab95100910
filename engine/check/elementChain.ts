/**
 * One element's chain rule through one op: ∂L/∂x[e] = Σₘ ∂L/∂y[m] · ∂y[m]/∂x[e], with every term.
 * For a matmul Z = X·W that is ∂L/∂W[i,j] = Σₖ ∂L/∂Z[k,j] · X[k,i]; for an elementwise op, one term.
 *
 * The factors ∂y[m]/∂x[e] (a column of the op's Jacobian) come from the op's own gradient: the
 * vector–Jacobian product u ↦ Jᵀu is linear in u, so differentiating its element e with respect to u
 * (a second backward pass through the first, `createGraph`) gives J[:, e] for every m at once. So
 * any op with a gradient has its terms, and they are the numbers its backward pass used.
 */
import { backward } from '../autograd';
import { apply, type OpDef } from '../ops/registry';
import * as F from '../ops/functional';
import { tensor, type Tensor } from '../tensor';
import type { DType } from '../dtype';

export interface ElementTerm {
  /** Flat index m into the op's output. */
  index: number;
  /** ∂L/∂y[m] (the upstream gradient). */
  upstream: number;
  /** ∂y[m]/∂x[e] (the local factor). */
  local: number;
}

export interface ElementChain {
  /** Every m where the local factor is not 0, in index order. */
  terms: ElementTerm[];
  /** Σ upstream · local over the terms, in float64. */
  total: number;
}

export interface ElementChainInput {
  def: OpDef;
  attrs: Readonly<Record<string, unknown>>;
  /** The op's inputs as recorded (values, shapes, dtypes). */
  inputs: { values: ArrayLike<number>; shape: readonly number[]; dtype: DType }[];
  /** Which input, and the flat index of its element. */
  input: number;
  element: number;
  /** ∂L/∂y, flat, in the output's shape. */
  upstream: ArrayLike<number>;
}

export function elementChain(a: ElementChainInput): ElementChain {
  const xs: Tensor[] = a.inputs.map((t, i) => tensor(Float64Array.from(t.values), { shape: t.shape.slice(), dtype: t.dtype, requiresGrad: i === a.input }));
  const x = xs[a.input];
  if (!(a.element >= 0 && a.element < x.size)) throw new RangeError(`elementChain: element ${a.element} is outside the input's ${x.size} elements`);
  const y = apply(a.def, xs, a.attrs as never);
  const floatDType: DType = y.dtype === 'int32' ? 'float32' : y.dtype;
  // u: any values (the product is linear in it); zeros keep the first pass's numbers out of the way
  const u = tensor(new Float64Array(y.size), { shape: y.shape.slice(), dtype: floatDType, requiresGrad: true });
  backward(F.sum(F.mul(F.cast(y, floatDType), u)), { createGraph: true });
  const g = x.grad;
  const column = new Float64Array(y.size);
  if (g && g.requiresGrad) {
    u.grad = null;
    backward(F.sum(F.gather(F.reshape(g, [-1]), [a.element], 0)));
    if (u.grad) column.set((u.grad as Tensor).data as ArrayLike<number>);
  }
  const terms: ElementTerm[] = [];
  let total = 0;
  for (let m = 0; m < y.size; m++) {
    const local = column[m];
    if (local === 0) continue;
    const upstream = Number(a.upstream[m]);
    terms.push({ index: m, upstream, local });
    total += upstream * local;
  }
  return { terms, total };
}
