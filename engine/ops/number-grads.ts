/**
 * An elementwise op's local gradients, compiled for numbers: the scalar tape's backward sweep
 * (tape.ts) needs ∂out/∂input_i at every row, and calling the op's `localGrads` with NumberOps there
 * (a different function at each row, a new array each time) was most of the sweep's time. Here
 * `localGrads` is called once per op and set of needed inputs, with stand-ins for the values that
 * record which ops it applies to what; each local gradient becomes a constant, one of the values
 * (an input or the output), or a closure that applies the same NumberOps functions to the same
 * arguments in the same order — so it gives the same doubles as the call it replaces.
 *
 * A `localGrads` that does anything with a value other than pass it to an op (which its types
 * forbid) makes the stand-in throw; that op is then not compiled and the sweep calls `localGrads`.
 */
import type { PointwiseOps } from './functional';
import type { Attrs, LocalGrads } from './registry';

/** Where a local gradient comes from: none (not needed, or no gradient), a constant, the first or second input's value, the op's output, or `fn`. */
export const LocalKind = { None: 0, Constant: 1, A: 2, B: 3, Out: 4, Fn: 5 } as const;
type Kind = (typeof LocalKind)[keyof typeof LocalKind];

/** One input's compiled local gradient. */
export interface Local {
  readonly kind: Kind;
  readonly value: number;
  readonly fn: ((a: number, b: number, out: number) => number) | null;
}

type Eval = (a: number, b: number, out: number) => number;

/** A value `localGrads` computed with: an input, the output, or an op applied to others. */
class Stand {
  constructor(readonly kind: Kind, readonly fn: Eval | null = null) {}
  valueOf(): never {
    throw new NotTraceable();
  }
  toString(): never {
    throw new NotTraceable();
  }
}

class NotTraceable extends Error {}

/** An argument of an op as a function of the values, or as itself when it is a constant (a number, or an omitted parameter). */
function evaluator(x: Stand | number | undefined): Eval | number | undefined {
  if (!(x instanceof Stand)) return x;
  switch (x.kind) {
    case LocalKind.A: return (a) => a;
    case LocalKind.B: return (_a, b) => b;
    case LocalKind.Out: return (_a, _b, out) => out;
    default: return x.fn!;
  }
}

/** The stand-in ops: `ops.mul(x, 2)` returns a Stand that evaluates NumberOps.mul on x's value and 2. */
function standOps(ops: PointwiseOps<number>): PointwiseOps<Stand> {
  const out: Record<string, (...args: unknown[]) => Stand | number> = {};
  for (const [name, f] of Object.entries(ops as unknown as Record<string, (...args: (number | undefined)[]) => number>)) {
    out[name] = (...args: unknown[]) => {
      for (const x of args) if (!(x instanceof Stand) && typeof x !== 'number' && x !== undefined) throw new NotTraceable();
      const ev = args.map((x) => evaluator(x as Stand | number | undefined));
      // an op of constants is a constant: the same function on the same numbers
      if (ev.every((e) => typeof e !== 'function')) return f(...(ev as (number | undefined)[]));
      const at = (e: Eval | number | undefined): Eval => (typeof e === 'function' ? e : () => e as number);
      if (ev.length === 1) {
        const x = at(ev[0]);
        return new Stand(LocalKind.Fn, (a, b, o) => f(x(a, b, o)));
      }
      if (ev.length === 2) {
        const x = at(ev[0]);
        const y = at(ev[1]);
        return new Stand(LocalKind.Fn, (a, b, o) => f(x(a, b, o), y(a, b, o)));
      }
      const fs = ev.map(at);
      return new Stand(LocalKind.Fn, (a, b, o) => f(...fs.map((g) => g(a, b, o))));
    };
  }
  return out as unknown as PointwiseOps<Stand>;
}

/**
 * The chain rule on numbers for one input: upstream · ∂node/∂input (a local gradient of 1 passes
 * the upstream through as it is). The backward driver (autograd.ts) and the tape's sweep (tape.ts)
 * both apply it, so both give the same doubles.
 */
export function contribution(upstream: number, local: number): number {
  return local === 1 ? upstream : upstream * local;
}

/** The value of a compiled local gradient (not None) at inputs `a`, `b` and output `out`. */
export function localValue(l: Local, a: number, b: number, out: number): number {
  switch (l.kind) {
    case LocalKind.Constant: return l.value;
    case LocalKind.A: return a;
    case LocalKind.B: return b;
    case LocalKind.Out: return out;
    default: return l.fn!(a, b, out);
  }
}

const NONE: Local = { kind: LocalKind.None, value: 0, fn: null };

/**
 * The local gradients of an op of one or two inputs with these attributes, for the inputs marked
 * needed, compiled; null if its `localGrads` cannot be traced.
 */
export function compileLocals(localGrads: LocalGrads, arity: 1 | 2, attrs: Readonly<Attrs>, needed: readonly boolean[], ops: PointwiseOps<number>): Local[] | null {
  const inputs = arity === 1 ? [new Stand(LocalKind.A)] : [new Stand(LocalKind.A), new Stand(LocalKind.B)];
  let locals: (Stand | number | null)[];
  try {
    locals = (localGrads as unknown as (o: PointwiseOps<Stand>, i: Stand[], out: Stand, a: Readonly<Attrs>, n: readonly boolean[]) => (Stand | number | null)[])(
      standOps(ops), inputs, new Stand(LocalKind.Out), attrs, needed,
    );
  } catch (e) {
    if (e instanceof NotTraceable) return null;
    throw e;
  }
  const out: Local[] = [];
  for (let i = 0; i < inputs.length; i++) {
    const l = locals[i];
    if (l === null || l === undefined || !needed[i]) out.push(NONE);
    else if (typeof l === 'number') out.push({ kind: LocalKind.Constant, value: l, fn: null });
    else if (l instanceof Stand) out.push({ kind: l.kind, value: 0, fn: l.fn });
    else return null;
  }
  return out;
}
