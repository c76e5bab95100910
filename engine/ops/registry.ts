/**
 * The op registry's types and the one dispatch function every op goes through. Each op is declared
 * once (in a family file next to this one) with its shape rule, CPU kernel, gradient, category and a
 * human formula for its local gradient; `ops/index.ts` collects them into the registry.
 */
import type { DType, TypedArray } from '../dtype';
import { Tensor } from '../tensor';
import { getGroup, getHooks, getScope, isGradEnabled } from './context';

/** Colour family in the graph view. */
export type OpCategory = 'arithmetic' | 'unary' | 'activation' | 'compare' | 'matmul' | 'reduce' | 'layout' | 'loss';

export type Attrs = Record<string, unknown>;

export interface OpDef<A extends Attrs = Attrs> {
  readonly name: string;
  readonly category: OpCategory;
  /** Short symbol for the graph node: `+`, `×`, `tanh`, `@`… */
  readonly symbol: string;
  /** The local gradient in words and symbols, shown in the inspector. */
  readonly formula: string;
  /** Number of tensor inputs (a variadic op such as concat says -1). */
  readonly arity: number;
  /** Output shape; throws a message naming the shapes when the inputs do not fit. */
  shape(inputs: readonly Tensor[], attrs: A): number[];
  /** Output dtype (default: the first input's). */
  dtype?(inputs: readonly Tensor[], attrs: A): DType;
  /** CPU kernel: computes the output values. */
  forward(inputs: readonly Tensor[], attrs: A, outShape: readonly number[], outDType: DType): TypedArray;
  /**
   * Elementwise ops: ∂out/∂input_i, same shape as the output or broadcastable to it, written with
   * ops (so it can be differentiated again). A number means a constant (1 for add). The chain rule
   * is then contribution_i = sumTo(upstream ⊙ local_i, shape of input_i) — shown step by step in the UI.
   */
  localGrads?(inputs: readonly Tensor[], out: Tensor, attrs: A, needed: readonly boolean[]): (Tensor | number | null)[];
  /** Other ops: the contribution to each input's gradient (vector–Jacobian product), written with ops. */
  vjp?(upstream: Tensor, inputs: readonly Tensor[], out: Tensor, attrs: A, needed: readonly boolean[]): (Tensor | null)[];
  /** Ops with no gradient (comparisons). */
  readonly nondifferentiable?: boolean;
}

/** Declares an op (identity function that keeps the attribute type). */
export function defineOp<A extends Attrs = Attrs>(def: OpDef<A>): OpDef<A> {
  if (!def.nondifferentiable && !def.localGrads && !def.vjp) throw new Error(`op ${def.name}: needs localGrads or vjp`);
  return def;
}

/** Runs an op: shape rule, CPU kernel, graph bookkeeping and the tracer hook. */
export function apply<A extends Attrs>(def: OpDef<A>, inputs: Tensor[], attrs: A = {} as A): Tensor {
  if (def.arity >= 0 && inputs.length !== def.arity) {
    throw new Error(`${def.name}: expects ${def.arity} input(s), got ${inputs.length}`);
  }
  const shape = def.shape(inputs, attrs);
  const dtype = def.dtype ? def.dtype(inputs, attrs) : inputs[0].dtype;
  const data = def.forward(inputs, attrs, shape, dtype);
  let requiresGrad = false;
  if (isGradEnabled() && !def.nondifferentiable) {
    for (let i = 0; i < inputs.length; i++) {
      if (inputs[i].requiresGrad) {
        requiresGrad = true;
        break;
      }
    }
  }
  const hooks = getHooks();
  // Without grad mode or a tracer nobody walks this node's inputs (gradient temporaries inside
  // backward): dropping them lets the previous graph be collected young.
  const keepInputs = requiresGrad || isGradEnabled() || hooks?.onNode !== undefined;
  const out = new Tensor(data, shape, { requiresGrad, def: def as unknown as OpDef, inputs: keepInputs ? inputs : undefined, attrs });
  out.group = getGroup();
  out.scope = getScope();
  if (hooks?.onNode) hooks.onNode(out);
  return out;
}
