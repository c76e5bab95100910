/**
 * The op catalog, derived from the family files: the functional API (`add(a, b)`, `softmax(x)`…,
 * every export of the families), the registry of primitives by name (`OPS`), the composites, the
 * two evaluators of local gradients (over tensors and over numbers), and the Tensor methods, which
 * are attached here once. Nothing in this file names an op: a new entry in a family file appears
 * in all of them.
 */
import type { DType } from '../dtype';
import { NO_ATTRS, Tensor, type TensorLike } from '../tensor';
import * as activations from './activations';
import * as composites from './composite';
import * as conv from './conv';
import * as norm from './norm';
import * as elementwise from './elementwise';
import * as layout from './layout';
import * as matmulOps from './matmul';
import * as reduce from './reduce';
import { compositeOps, type OpDef } from './registry';

export * from './elementwise';
export * from './activations';
export * from './layout';
export * from './reduce';
export * from './matmul';
export * from './composite';
export * from './conv';
export * from './norm';

/** Every export of the op families, by name. */
const CATALOG: Readonly<Record<string, unknown>> = Object.freeze({ ...elementwise, ...activations, ...layout, ...reduce, ...matmulOps, ...composites, ...conv, ...norm });

type Catalog = typeof elementwise & typeof activations & typeof layout & typeof reduce & typeof matmulOps & typeof composites & typeof conv & typeof norm;

interface Tagged {
  readonly def?: OpDef;
  readonly kind?: 'elementwise' | 'primitive' | 'composite';
  readonly method?: boolean;
}
const entries = Object.entries(CATALOG).filter((e): e is [string, ((...a: unknown[]) => Tensor) & Tagged] => typeof e[1] === 'function');

/** The primitive ops by name: shape rule, CPU kernel, gradient, formula, category, WGSL kernel. */
export const OPS: ReadonlyMap<string, OpDef> = new Map(entries.filter(([, f]) => f.def !== undefined).map(([, f]) => [f.def!.name, f.def!]));

/** The names of the composite ops declared in the engine (softmax, mse, batchNorm1d…): their nodes carry a group of that name. */
export const COMPOSITES: { readonly names: () => readonly string[] } = { names: compositeOps };

// ---------------------------------------------------------------------------------------------
// The evaluators of local gradients (see LocalGrads in registry.ts)

type ElementwiseKey = { [K in keyof Catalog]: Catalog[K] extends { kind: 'elementwise' } ? K : never }[keyof Catalog];
type Over<P extends unknown[], V> = { [I in keyof P]: [P[I]] extends [number | undefined] ? P[I] : V | number };

/** Every elementwise op, over values of type V (tensors or numbers): what local gradients are written with. */
export type PointwiseOps<V> = { [K in ElementwiseKey]: Catalog[K] extends (...args: infer P) => Tensor ? (...args: Over<P, V>) => V : never };

/** Over tensors: the ops themselves (differentiable again under createGraph). */
export const TensorOps = CATALOG as unknown as PointwiseOps<Tensor>;

/** Over plain numbers: each elementwise op's own scalar function, so both evaluators give the same doubles. */
export const NumberOps = Object.fromEntries(
  entries.filter(([, f]) => f.kind === 'elementwise').map(([name, f]) => {
    const def = f.def!;
    const fn = def.pointwise!;
    const attrsOf = def.attrsOf;
    if (attrsOf) return [name, (x: number, ...params: number[]) => fn(x, 0, 0, attrsOf(...params))];
    if (def.arity === 1) return [name, (x: number) => fn(x, 0, 0, NO_ATTRS)];
    if (def.arity === 2) return [name, (a: number, b: number) => fn(a, b, 0, NO_ATTRS)];
    return [name, (c: number, a: number, b: number) => fn(c, a, b, NO_ATTRS)];
  }),
) as unknown as PointwiseOps<number>;

// ---------------------------------------------------------------------------------------------
// Tensor methods

type MethodKey = { [K in keyof Catalog]: Catalog[K] extends { method: true } ? K : never }[keyof Catalog];
type AsMethod<F> = F extends (self: never, ...rest: infer R) => infer T ? (...rest: R) => T : never;

/** The methods every catalog entry marked `method` gives Tensor (`x.sin()`, `x.sum(1)`), with their docs. */
export type TensorMethods = Pick<{ [K in keyof Catalog]: AsMethod<Catalog[K]> }, MethodKey>;

/** Methods whose name or arguments differ from an op's function (PyTorch's spellings). */
export interface TensorConveniences {
  /** 1 where this > other, else 0 (no gradient). */
  gt(other: TensorLike): Tensor;
  /** 1 where this < other, else 0 (no gradient). */
  lt(other: TensorLike): Tensor;
  /** 1 where this = other, else 0 (no gradient). */
  eq(other: TensorLike): Tensor;
  /** Variance with Bessel's correction by default (correction = 1), as in PyTorch. */
  var(axis?: number | number[], keepdims?: boolean, correction?: number): Tensor;
  /** The same values in another dtype, like PyTorch's `.to(dtype)` (this tensor when it already has it). */
  to(dtype: DType): Tensor;
  /** Transpose of a 2-D tensor (the last two axes). */
  readonly T: Tensor;
  /** New shape with the same elements: `x.reshape(2, 3)` or `x.reshape([2, 3])`; one size may be −1. */
  reshape(...shape: (number | number[])[]): Tensor;
  /** The elements as one axis. */
  flatten(): Tensor;
  /** Reorders all axes: `x.permute(2, 0, 1)`. */
  permute(...perm: number[]): Tensor;
}

const conveniences: Omit<TensorConveniences, 'T'> & ThisType<Tensor> = {
  gt(other) { return elementwise.greater(this, other); },
  lt(other) { return elementwise.less(this, other); },
  eq(other) { return elementwise.equal(this, other); },
  var(axis, keepdims = false, correction = 1) { return composites.variance(this, axis, keepdims, correction); },
  to(dtype) { return layout.cast(this, dtype); },
  reshape(...shape) { return layout.reshape(this, shape.flat()); },
  flatten() { return layout.reshape(this, [-1]); },
  permute(...perm) { return layout.permute(this, perm); },
};

function attachMethods(): void {
  const proto = Tensor.prototype as unknown as Record<string, unknown>;
  for (const [name, f] of entries) {
    if (f.method !== true) continue;
    // a fixed arity (no rest arguments): scalar graphs call methods hundreds of thousands of times
    proto[name] = function (this: Tensor, a?: unknown, b?: unknown, c?: unknown, d?: unknown) {
      return f(this, a, b, c, d);
    };
  }
  Object.assign(proto, conveniences);
  Object.defineProperty(proto, 'T', { get(this: Tensor) { return layout.transpose(this, -2, -1); }, configurable: true });
}
attachMethods();
