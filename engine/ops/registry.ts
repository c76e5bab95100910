/**
 * The op registry's types and the one dispatch function every op goes through. Each op is declared
 * once (in a family file next to this one) with its shape rule, CPU kernel, gradient, category and a
 * human formula for its local gradient; `ops/index.ts` collects them into the registry.
 */
import type { DType, TypedArray } from '../dtype';
import { NO_ATTRS, Tensor, isScalar64 } from '../tensor';
import { getGroup, getHooks, getScope, isGradEnabled } from './context';
import { isTapeEnabled, recordScalar, tapeable } from '../tape';

/**
 * The elementwise operations local gradients are written with. `TensorAlgebra` (ops/algebra.ts)
 * implements them with tensors, `NumberAlgebra` with the ops' own scalar functions.
 */
export interface Algebra<V> {
  add(a: V | number, b: V | number): V;
  sub(a: V | number, b: V | number): V;
  mul(a: V | number, b: V | number): V;
  div(a: V | number, b: V | number): V;
  pow(a: V | number, b: V | number): V;
  neg(x: V): V;
  exp(x: V): V;
  log(x: V): V;
  square(x: V): V;
  sign(x: V): V;
  erf(x: V): V;
  sigmoid(x: V): V;
  greater(a: V | number, b: V | number): V;
  less(a: V | number, b: V | number): V;
  equal(a: V | number, b: V | number): V;
  where(cond: V, a: V | number, b: V | number): V;
}

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
   * Elementwise ops: the scalar function itself (`(a, b) => a + b`; unary ops use `a`, where uses
   * (cond, a, b)). Both the CPU kernels and the fast path for 0-d float64 values call it, so the two
   * give bit-identical results.
   */
  readonly pointwise?: (a: number, b: number, c: number, attrs: A) => number;
  /**
   * Elementwise ops: ∂out/∂input_i, written once with the operations of `ops`. It is evaluated over
   * tensors (broadcastable to the output; differentiable again) or over plain numbers for scalar
   * graphs, with identical arithmetic. A number result means a constant (1 for add). The chain rule
   * is then contribution_i = sumTo(upstream ⊙ local_i, shape of input_i) — shown step by step in the UI.
   */
  localGrads?<V extends Tensor | number>(ops: Algebra<V>, inputs: readonly V[], out: V, attrs: A, needed: readonly boolean[]): (V | number | null)[];
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

/** Tape handles kept by an object node must be the handles the tape materializes (see Tape.canonical). */
function canonicalInputs(inputs: Tensor[]): Tensor[] {
  let out = inputs;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i].tape;
    if (t === null) continue;
    const c = t.canonical(inputs[i]);
    if (c === inputs[i]) continue;
    if (out === inputs) out = inputs.slice();
    out[i] = c;
  }
  return out;
}

/** Runs an op: shape rule, CPU kernel, graph bookkeeping and the tracer hook. */
export function apply<A extends Attrs>(def: OpDef<A>, inputs: Tensor[], attrs: A = NO_ATTRS as A): Tensor {
  const n = inputs.length;
  if (def.arity >= 0 && n !== def.arity) {
    throw new Error(`${def.name}: expects ${def.arity} input(s), got ${n}`);
  }
  let requiresGrad = false;
  if (isGradEnabled() && !def.nondifferentiable) {
    for (let i = 0; i < n; i++) {
      if (inputs[i].requiresGrad) {
        requiresGrad = true;
        break;
      }
    }
  }
  const hooks = getHooks();
  // Without grad mode or a tracer nobody walks this node's inputs (gradient temporaries inside
  // backward): dropping them lets the previous graph be collected young.
  const keepInputs = isGradEnabled() || hooks?.onNode !== undefined;
  let out: Tensor;
  const pw = def.pointwise;
  if (pw !== undefined && isScalar64(inputs[0]) && (n < 2 || isScalar64(inputs[1])) && (n < 3 || isScalar64(inputs[2]))) {
    const value = pw(inputs[0].scalarValue, n > 1 ? inputs[1].scalarValue : 0, n > 2 ? inputs[2].scalarValue : 0, attrs);
    if (requiresGrad && n < 3 && hooks?.onNode === undefined && isTapeEnabled() && tapeable(inputs[0]) && (n < 2 || tapeable(inputs[1]))) {
      out = recordScalar(def as unknown as OpDef, inputs, attrs, value);
    } else {
      if (keepInputs) inputs = canonicalInputs(inputs);
      out = Tensor.scalarNode(value, requiresGrad, def as unknown as OpDef, keepInputs ? inputs : undefined, attrs);
    }
  } else {
    if (keepInputs) inputs = canonicalInputs(inputs);
    const shape = def.shape(inputs, attrs);
    const dtype = def.dtype ? def.dtype(inputs, attrs) : inputs[0].dtype;
    const data = def.forward(inputs, attrs, shape, dtype);
    out = new Tensor(data, shape, requiresGrad, def as unknown as OpDef, keepInputs ? inputs : undefined, attrs);
  }
  const group = getGroup();
  const scope = getScope();
  out.group = group;
  out.scope = scope;
  // the tape keeps no groups or scopes: a handle that has one is the row's handle from now on
  if (out.tape !== null && (group !== null || scope !== null)) out.tape.canonical(out);
  if (hooks?.onNode) hooks.onNode(out);
  return out;
}
