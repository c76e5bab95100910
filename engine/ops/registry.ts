/**
 * How an op is declared, and the one dispatch function every op goes through.
 *
 * An op is one entry in its family file (`elementwise.ts`, `activations.ts`, `layout.ts`,
 * `reduce.ts`, `matmul.ts`): its shape and dtype rules, CPU kernel, gradient, formula, category,
 * WGSL kernel and PyTorch name sit together, and the entry *is* the function users call
 * (`export const sin = unary({ … })`). Everything else is derived from the exports of those files
 * (`functional.ts`): the registry (`OPS`), the functional API, the Tensor methods, the public
 * exports, the number and tensor evaluators of local gradients, the GPU kernels and the coverage
 * tests. Composites (`composite.ts`, the losses, batch norm, dropout) are functions built from ops,
 * declared with `defineComposite` so the graph can show them as one collapsible group.
 *
 * Layering: this module imports only the core below it (dtype, shape, tensor storage, the op
 * context, the scalar tape) and the WGSL program generators; families import it and the families
 * below them; nothing here imports a family at run time.
 */
import { floatOf, resultDType, type DType, type TypedArray } from '../dtype';
import { SCALAR_SHAPE, broadcastShapes } from '../shape';
import { NO_ATTRS, NO_INPUTS, Tensor, asTensor, isScalar64, type TensorLike } from '../tensor';
import { composite, getGroup, getHooks, getScope, isGradEnabled, isSubstituting, substituteOf } from './context';
import { isTapeEnabled, recordScalar, tapeBinary, tapeCode, tapeUnary, tapeable, type Pointwise } from '../tape';
import { binaryKernel, unaryKernel, whereKernel } from '../backends/cpu/elementwise';
import { binaryProgram, unaryProgram, whereProgram } from '../backends/webgpu/elementwise';
import type { GpuRuntime, GpuTensor } from '../backends/webgpu/runtime';
import type { PointwiseOps } from './functional';

/** Colour family in the graph view. */
export type OpCategory = 'arithmetic' | 'unary' | 'activation' | 'compare' | 'matmul' | 'reduce' | 'layout' | 'loss';

export type Attrs = Record<string, unknown>;

/** A WebGPU kernel: records the op on the runtime's encoder and returns its output (nothing is read back). */
export type GpuKernel<A extends Attrs = Attrs> = (rt: GpuRuntime, inputs: readonly GpuTensor[], attrs: A, outShape: readonly number[]) => GpuTensor;

/**
 * ∂out/∂input_i of an elementwise op, written with any elementwise ops (`ops.cos(x)`). It is
 * evaluated over tensors (broadcastable to the output; differentiable again) or over plain numbers
 * for scalar graphs, with identical arithmetic. A number result means a constant (1 for add), null
 * an input that gets no gradient. The chain rule is then contribution_i = sumTo(upstream ⊙ local_i,
 * shape of input_i), shown step by step in the UI.
 */
export type LocalGrads<A extends Attrs = Attrs> = <V extends Tensor | number>(
  ops: PointwiseOps<V>, inputs: readonly V[], out: V, attrs: A, needed: readonly boolean[],
) => (V | number | null)[];

/** The contribution to each input's gradient (vector–Jacobian product), written with any ops. */
export type Vjp<A extends Attrs = Attrs> = (upstream: Tensor, inputs: readonly Tensor[], out: Tensor, attrs: A, needed: readonly boolean[]) => (Tensor | null)[];

/** A registry entry. */
export interface OpDef<A extends Attrs = Attrs> {
  readonly name: string;
  readonly category: OpCategory;
  /** Short symbol for the graph node: `+`, `×`, `tanh`, `@`… */
  readonly symbol: string;
  /** The local gradient in words and symbols, shown in the inspector. */
  readonly formula: string;
  /** Number of tensor inputs (a variadic op such as concat says -1). */
  readonly arity: number;
  /** Output shape; throws a ShapeError naming the shapes when the inputs do not fit. */
  shape(inputs: readonly Tensor[], attrs: A): number[];
  /** Output dtype (default: the first input's). */
  dtype?(inputs: readonly Tensor[], attrs: A): DType;
  /** CPU kernel: computes the output values. */
  forward(inputs: readonly Tensor[], attrs: A, outShape: readonly number[], outDType: DType): TypedArray;
  /**
   * Elementwise ops: the scalar function itself (`(a, b) => a + b`; unary ops use `a`, where uses
   * (cond, a, b)). Both the CPU kernels and the fast path for 0-d float64 values call it, so the two
   * give bit-identical results; the number evaluator of local gradients calls it too.
   */
  readonly pointwise?: (a: number, b: number, c: number, attrs: A) => number;
  /** Elementwise ops with numeric parameters (leakyRelu's α): the attributes from the parameters after the inputs. */
  readonly attrsOf?: (...params: number[]) => A;
  /** Elementwise ops: ∂out/∂input_i (see LocalGrads). */
  readonly localGrads?: LocalGrads<A>;
  /** Other ops: the vector–Jacobian product. */
  readonly vjp?: Vjp<A>;
  /** Ops with no gradient (comparisons). */
  readonly nondifferentiable?: boolean;
  /** The WebGPU kernel (every primitive has one; the GPU computes in float32). */
  readonly gpu: GpuKernel<A>;
  /** PyTorch's function for this op (`torch.sin`), where it is one call: the oracle writes it. */
  readonly torch?: string;
}

/** What a family exports for an op: the function users call, carrying its registry entry. */
export type Op<Call extends (...args: any[]) => Tensor, Kind extends 'elementwise' | 'primitive' = 'elementwise' | 'primitive', M extends boolean = boolean> = Call & {
  readonly def: OpDef<any>;
  readonly kind: Kind;
  /** Tensor gets a method of the same name (`x.sin()`, `x.sum(1)`). */
  readonly method: M;
};

/** A composite op's function (`softmax`, `mse`…): built from ops, its nodes grouped under its name. */
export type Composite<Call extends (...args: any[]) => Tensor, M extends boolean = boolean> = Call & {
  readonly compositeName: string;
  readonly kind: 'composite';
  readonly method: M;
};

/** Checks an entry and returns it (the attribute type is kept). */
export function defineOp<A extends Attrs = Attrs>(def: OpDef<A>): OpDef<A> {
  if (!def.nondifferentiable && !def.localGrads && !def.vjp) throw new Error(`op ${def.name}: needs localGrads or vjp`);
  return def;
}

function tag<F extends object, T extends object>(fn: F, fields: T): F & T {
  for (const [k, v] of Object.entries(fields)) Object.defineProperty(fn, k, { value: v, enumerable: false });
  return fn as F & T;
}

// ---------------------------------------------------------------------------------------------
// Elementwise ops

interface ElementwiseSpec<A extends Attrs> {
  name: string;
  symbol: string;
  formula: string;
  category?: OpCategory;
  /** ∂out/∂inputs; null: no gradient (a step function). */
  grad: LocalGrads<A> | null;
  /**
   * The WGSL expression over `x` (unary) or `a`, `b` (binary). It may call the helpers of
   * backends/webgpu/elementwise.ts (log_, expm1_…) and functions of the op's own (`wgslFns`).
   */
  wgsl: string | ((attrs: A) => string);
  /** WGSL functions the expression calls, where a built-in is not accurate enough (WGSL's sin may be off by 2⁻¹¹). */
  wgslFns?: string;
  /** PyTorch's function (`torch.sin`, `F.gelu`). */
  torch?: string;
  /** Tensor gets a method of the same name (default true). */
  method?: boolean;
}

export interface UnarySpec<A extends Attrs = Attrs> extends ElementwiseSpec<A> {
  /** The scalar function; NaN in gives NaN out on every backend. */
  fn: (x: number, attrs: A) => number;
  /** Output dtype (default: a float; int32 inputs give float32). */
  dtype?: (x: Tensor) => DType;
}

export interface BinarySpec extends ElementwiseSpec<Attrs> {
  fn: (a: number, b: number) => number;
  /** The result is a float even for int32 inputs (division, powers, comparisons). */
  float?: boolean;
  /** On the GPU the result is NaN when an operand is (arithmetic; comparisons give 0). */
  nanSticky?: boolean;
}

export type UnaryOp = Op<(x: TensorLike) => Tensor, 'elementwise', true>;
export type BinaryOp = Op<(a: TensorLike, b: TensorLike) => Tensor, 'elementwise', true>;
/** A binary op without a Tensor method of its name (comparisons have gt/lt/eq). */
export type BinaryFn = Op<(a: TensorLike, b: TensorLike) => Tensor, 'elementwise', false>;
export type TernaryOp = Op<(cond: TensorLike, a: TensorLike, b: TensorLike) => Tensor, 'elementwise', false>;
/** A plain function of a tensor (not an op of its own) that is also a Tensor method. */
export type Method<C extends (x: Tensor, ...rest: any[]) => Tensor> = C & { readonly method: true };

/** The dtype plain numbers take in an op: the first tensor operand's. */
function dtypeFor(xs: readonly TensorLike[]): DType {
  for (const x of xs) if (x instanceof Tensor) return x.dtype;
  return 'float32';
}

function elementwiseOp<A extends Attrs>(def: OpDef<A>, method: boolean): Op<(...args: any[]) => Tensor, 'elementwise'> {
  const { arity, name } = def;
  const attrsOf = def.attrsOf;
  // one function per arity (no rest arguments): scalar graphs call these hundreds of thousands of
  // times, and a differentiable op (without attributes, or with its default ones) tries the scalar
  // tape's fast path first
  let call: (...args: any[]) => Tensor;
  const taping = !def.nondifferentiable && def.pointwise !== undefined;
  const code = taping ? tapeCode(def as unknown as OpDef) : -1;
  if (arity === 1 && attrsOf) {
    const taped = taping ? (def.pointwise as Pointwise) : null;
    call = (x: TensorLike, ...params: number[]) => {
      const attrs = attrsOf(...params);
      if (taped !== null && attrs === NO_ATTRS) {
        const out = tapeUnary(def as unknown as OpDef, code, taped, x);
        if (out !== null) return out;
      }
      return apply(def, [asTensor(x, dtypeFor([x]), name)], attrs);
    };
  } else if (arity === 1) {
    const taped = taping ? (def.pointwise as Pointwise) : null;
    call = (x: TensorLike) => {
      if (taped !== null) {
        const out = tapeUnary(def as unknown as OpDef, code, taped, x);
        if (out !== null) return out;
      }
      return apply(def, [asTensor(x, x instanceof Tensor ? x.dtype : 'float32', name)]);
    };
  } else if (arity === 2) {
    const taped = taping ? (def.pointwise as Pointwise) : null;
    call = (a: TensorLike, b: TensorLike) => {
      if (taped !== null) {
        const out = tapeBinary(def as unknown as OpDef, code, taped, a, b);
        if (out !== null) return out;
      }
      const d = a instanceof Tensor ? a.dtype : b instanceof Tensor ? b.dtype : 'float32';
      return apply(def, [asTensor(a, d, name), asTensor(b, d, name)]);
    };
  } else {
    call = (c: TensorLike, a: TensorLike, b: TensorLike) => {
      const d = dtypeFor([a, b, c]);
      return apply(def, [asTensor(c, d, name), asTensor(a, d, name), asTensor(b, d, name)]);
    };
  }
  return tag(call, { def, kind: 'elementwise' as const, method });
}

function wgslOf<A extends Attrs>(spec: ElementwiseSpec<A>): (attrs: A) => string {
  const w = spec.wgsl;
  return typeof w === 'string' ? () => w : w;
}

function unaryDef<A extends Attrs>(spec: UnarySpec<A>, attrsOf?: (...params: number[]) => A): OpDef<A> {
  const { fn, name } = spec;
  const wgsl = wgslOf(spec);
  return defineOp<A>({
    name, symbol: spec.symbol, formula: spec.formula, arity: 1, category: spec.category ?? 'unary', torch: spec.torch,
    nondifferentiable: spec.grad === null,
    shape: ([x]) => (x.shape.length === 0 ? SCALAR_SHAPE : x.shape.slice()),
    dtype: spec.dtype ? ([x]) => spec.dtype!(x) : ([x]) => floatOf(x.dtype),
    forward: ([x], attrs, _shape, dtype) => attrs === NO_ATTRS ? unaryKernel(x.data, fn as (x: number) => number, dtype, name) : unaryKernel(x.data, (v) => fn(v, attrs), dtype),
    pointwise: (a, _b, _c, attrs) => fn(a, attrs),
    attrsOf,
    localGrads: spec.grad ?? undefined,
    gpu: (rt, [x], attrs, out) => rt.run(unaryProgram(name, wgsl(attrs), x.shape, x.dtype, rt.limits, spec.wgslFns), [x], out),
  });
}

/** A unary elementwise op: `export const sin = unary({ name: 'sin', fn: Math.sin, grad: (ops, [x]) => [ops.cos(x)], … })`. */
export function unary(spec: UnarySpec): UnaryOp {
  return elementwiseOp(unaryDef(spec), spec.method ?? true) as UnaryOp;
}

/**
 * A unary elementwise op with numeric parameters after the input (`leakyRelu(x, alpha)`): `attrs`
 * turns them into the op's attributes, defaults included. Annotate the exported constant with its
 * signature (`Op<(x: TensorLike, alpha?: number) => Tensor, 'elementwise', true>`).
 */
export function unaryWith<A extends Attrs, C extends (x: TensorLike, ...params: any[]) => Tensor>(spec: UnarySpec<A> & { attrs: (...params: any[]) => A }): Op<C, 'elementwise', true> {
  const attrsOf = spec.attrs as (...params: number[]) => A;
  return elementwiseOp(unaryDef(spec, attrsOf), spec.method ?? true) as unknown as Op<C, 'elementwise', true>;
}

function binaryDef(spec: BinarySpec): OpDef {
  const { fn, name } = spec;
  const wgsl = wgslOf(spec)(NO_ATTRS);
  return defineOp({
    name, symbol: spec.symbol, formula: spec.formula, arity: 2, category: spec.category ?? 'arithmetic', torch: spec.torch,
    nondifferentiable: spec.grad === null,
    shape: ([a, b]) => broadcastShapes(a.shape, b.shape, name),
    dtype: (inputs) => (spec.float ? floatOf(resultDType(inputs)) : resultDType(inputs)),
    forward: ([a, b], _attrs, outShape, dtype) => {
      // PyTorch computes in the operands' common dtype: a 0-d float64 beside a float32 tensor is
      // rounded to float32 first (a comparison with it can flip otherwise)
      const common = resultDType([a, b]);
      const at = (t: Tensor) => (common === 'float32' && t.dtype === 'float64' ? Float32Array.from(t.data) : t.data);
      return binaryKernel(at(a), a.shape, at(b), b.shape, outShape, fn, dtype, name);
    },
    pointwise: fn,
    localGrads: spec.grad ?? undefined,
    gpu: (rt, [a, b], _attrs, out) => rt.run(binaryProgram(name, wgsl, spec.nanSticky ?? false, a.shape, b.shape, [a.dtype, b.dtype], out, rt.limits), [a, b], out),
  });
}

/** A binary elementwise op with NumPy broadcasting: `export const add = binary({ … })`. */
export function binary(spec: BinarySpec & { method?: true }): BinaryOp {
  return elementwiseOp(binaryDef(spec), true) as BinaryOp;
}

/** A binary elementwise op with no Tensor method of its own name (comparisons: `x.gt(y)` is `greater`). */
export function binaryFn(spec: BinarySpec & { method: false }): BinaryFn {
  return elementwiseOp(binaryDef(spec), false) as BinaryFn;
}

/** where(cond, a, b): the one ternary elementwise op. */
export function ternary(spec: ElementwiseSpec<Attrs> & { fn: (c: number, a: number, b: number) => number }): TernaryOp {
  const { name } = spec;
  const def = defineOp({
    name, symbol: spec.symbol, formula: spec.formula, arity: 3, category: spec.category ?? 'arithmetic', torch: spec.torch,
    shape: ([c, a, b]) => broadcastShapes(broadcastShapes(c.shape, a.shape, name), b.shape, name),
    dtype: ([, a, b]) => resultDType([a, b]),
    forward: ([c, a, b], _attrs, outShape, dtype) => whereKernel(c.data, c.shape, a.data, a.shape, b.data, b.shape, outShape, dtype),
    pointwise: spec.fn,
    localGrads: spec.grad ?? undefined,
    gpu: (rt, ins, _attrs, out) => rt.run(whereProgram(wgslOf(spec)(NO_ATTRS), ins.map((t) => t.shape), ins.map((t) => t.dtype), out, rt.limits), ins, out),
  });
  return elementwiseOp(def, false) as unknown as TernaryOp;
}

// ---------------------------------------------------------------------------------------------
// Other primitives and composites

/** Runs the op being declared on these inputs and attributes (what a primitive's `call` builds on). */
export type Run<A extends Attrs> = (inputs: Tensor[], attrs: A) => Tensor;

/**
 * A primitive that is not elementwise (matmul, reductions, layout). `call` comes first in the
 * spec: it receives `run` (typed with the op's attributes) and returns the function users call,
 * which turns its arguments into inputs and attributes. Annotate the exported constant with that
 * function's signature: `export const sum: Op<(x: Tensor, axis?: Axes, keepdims?: boolean) => Tensor, 'primitive', true> = primitive({ … })`.
 */
export function primitive<A extends Attrs, C extends (...args: any[]) => Tensor, M extends boolean = true>(
  spec: { call: (run: Run<A>) => C; method?: M } & Omit<OpDef<A>, 'gpu' | 'pointwise' | 'localGrads' | 'attrsOf'> & { gpu: GpuKernel<A> },
): Op<C, 'primitive', M> {
  const { call, method, ...entry } = spec;
  const def = defineOp<A>(entry as OpDef<A>);
  const fn = call((inputs, attrs) => apply(def, inputs, attrs));
  return tag(fn, { def, kind: 'primitive' as const, method: (method ?? true) as M });
}

const compositeNames = new Set<string>();

/**
 * Declares a composite op that a function builds inline, `composite(MSE, () => …)`, where only
 * part of its body belongs in the group (checks and label encoding stay outside): returns the name.
 */
export function declareComposite(name: string): string {
  compositeNames.add(name);
  return name;
}

/** Names of every composite op declared so far (the engine's entry loads them all). */
export function compositeOps(): readonly string[] {
  return [...compositeNames];
}

/**
 * A composite op: `impl` built from other ops, its nodes tagged with `name` so the graph can show
 * them as one group. Gradients, tracing and the GPU path come from the ops it uses. Annotate the
 * exported constant with the signature (`export const mean: Composite<(x: Tensor, …) => Tensor, true>
 * = defineComposite('mean', (x, …) => …)`): the arguments take their types from it.
 */
export function defineComposite<C extends (...args: any[]) => Tensor, M extends boolean = false>(name: string, impl: C, opts: { method?: M } = {}): Composite<C, M> {
  declareComposite(name);
  const fn = ((...args: unknown[]) => composite(name, () => impl(...args))) as unknown as C;
  return tag(fn, { compositeName: name, kind: 'composite' as const, method: (opts.method ?? false) as M });
}

/** Marks a plain function of a tensor (not an op of its own) as a Tensor method too: `transpose`. */
export function asMethod<C extends (x: Tensor, ...rest: any[]) => Tensor>(fn: C): Method<C> {
  return tag(fn, { method: true as const });
}

// ---------------------------------------------------------------------------------------------
// Dispatch

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
  if (isSubstituting()) inputs = inputs.map(substituteOf);
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
    out = new Tensor(data, shape, requiresGrad, def as unknown as OpDef, keepInputs ? inputs : NO_INPUTS, attrs, 0, null, -1);
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
