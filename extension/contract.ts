/**
 * Schema values for the host ↔ webview contract (protocol.ts). Each message is declared once, as a
 * value built from the combinators below; its TypeScript type (`Infer`), its validator (`parse`)
 * and the list of message types (`tagged(...).tags`) all come from that one declaration, the way
 * vscode-debug-visualizer declares its RPC contract with runtime types.
 *
 * A check never throws and runs none of the code a value could carry:
 *   - it reads own data properties only: an accessor is refused, not called, and nothing inherited
 *     is read, so `{ __proto__: … }` or a polluted prototype cannot supply a field;
 *   - only plain objects count as objects (no Date, Map, class instance, array);
 *   - every length is compared with its limit before an element is read or converted;
 *   - it walks the schema, never the value, so deep nesting and cycles cost nothing;
 *   - `parse` turns whatever a Proxy trap throws into a rejection.
 * Output objects hold the declared fields only (unknown fields are dropped).
 *
 * No DOM, no Node: the webview bundles this module too.
 */

/** What a failed check returns (the reason is in the context). */
export const FAIL: unique symbol = Symbol('invalid');
export type Fail = typeof FAIL;

export interface Ctx {
  /** Where the failure is, innermost last (filled in as the checks unwind). */
  path: string[];
  reason: string;
  /** Elements the typed arrays marked `counted` may still take (see `budget`). */
  elements: number;
}

export interface Schema<T> {
  /** What a valid value is, in words (for the reasons of rejections). */
  readonly expected: string;
  /** The value to keep, or FAIL with `ctx.reason` set. Must not throw on anything a caller could hand it, except what a Proxy trap throws. */
  readonly check: (v: unknown, ctx: Ctx) => T | Fail;
  /** A field of an object that may be absent (see `optional`). */
  readonly optional?: true;
}

export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

export type Fields = { readonly [key: string]: Schema<unknown> };

type OptionalKeys<F> = { [K in keyof F]: F[K] extends { readonly optional: true } ? K : never }[keyof F];

export type InferFields<F extends Fields> = Simplify<
  { -readonly [K in keyof F as K extends OptionalKeys<F> ? never : K]: Infer<F[K]> } &
  { -readonly [K in keyof F as K extends OptionalKeys<F> ? K : never]?: Exclude<Infer<F[K]>, undefined> }
>;

// ---------------------------------------------------------------------------------------------
// reading values without running their code

/** A plain object: its prototype is null or a realm's Object.prototype (whose own prototype is null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

const ACCESSOR: unique symbol = Symbol('accessor');

/** An own data property's value (undefined when absent), or ACCESSOR: a getter is never called. */
function own(o: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(o, key);
  if (d === undefined) return undefined;
  return 'value' in d ? d.value : ACCESSOR;
}

const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Int8Array.prototype) as object;
// The intrinsic getters read a typed array's internal slots: an instance cannot fake them with own
// properties or a swapped prototype, and for anything that is not a typed array they return undefined.
const typedArrayName = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, Symbol.toStringTag)!.get! as (this: unknown) => string | undefined;
const typedArrayLength = Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, 'length')!.get! as (this: unknown) => number;

/** A short description of a value for a reason; reads nothing it could not read safely. */
export function describe(v: unknown): string {
  switch (typeof v) {
    case 'number':
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'nothing';
    case 'string':
      return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
    case 'bigint':
      return 'a bigint';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      break;
  }
  if (v === null) return 'null';
  const name = typedArrayName.call(v);
  if (name !== undefined) return `a ${name} of ${typedArrayLength.call(v)}`;
  try {
    if (Array.isArray(v)) return 'an array';
    return isPlainObject(v) ? 'an object' : 'an object that is not plain';
  } catch {
    return 'an unreadable object';
  }
}

function fail(ctx: Ctx, expected: string, v: unknown): Fail {
  ctx.reason = `expected ${expected}, got ${describe(v)}`;
  return FAIL;
}

function failAt(ctx: Ctx, key: string): Fail {
  ctx.path.push(key);
  return FAIL;
}

function schema<T>(expected: string, check: (v: unknown, ctx: Ctx) => T | Fail): Schema<T> {
  return { expected, check };
}

function isSchema(v: unknown): v is Schema<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as Schema<unknown>).check === 'function' && typeof (v as Schema<unknown>).expected === 'string';
}

// ---------------------------------------------------------------------------------------------
// combinators

/** Anything at all, unchecked (for the parts of a payload `opaque` leaves to its reader). */
export const unknown: Schema<unknown> = schema('anything', (v) => v);

export const boolean: Schema<boolean> = schema('true or false', (v, ctx) => (typeof v === 'boolean' ? v : fail(ctx, 'true or false', v)));

export function literal<const L extends string | number | boolean | null>(value: L): Schema<L> {
  const expected = JSON.stringify(value);
  return schema(expected, (v, ctx) => (v === value ? value : fail(ctx, expected, v)));
}

/** One of a list of strings or numbers (an enum such as OPTIMIZER_NAMES). */
export function oneOf<const T extends string | number>(values: readonly T[]): Schema<T> {
  const expected = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return schema(expected, (v, ctx) => ((values as readonly unknown[]).includes(v) ? (v as T) : fail(ctx, expected, v)));
}

export interface NumberOptions {
  min?: number;
  max?: number;
  integer?: boolean;
  /** false: NaN and ±∞ pass too (only then are min and max ignored). Default true. */
  finite?: boolean;
}

export function number(o: NumberOptions = {}): Schema<number> {
  const { min = -Infinity, max = Infinity, integer = false, finite = true } = o;
  const top = max >= Number.MAX_SAFE_INTEGER ? Infinity : max; // "an integer ≥ 0", not "from 0 to 9007199254740991"
  const range = min > -Infinity && top < Infinity ? ` from ${min} to ${top}` : min > -Infinity ? ` ≥ ${min}` : top < Infinity ? ` ≤ ${top}` : '';
  const expected = !finite ? 'a number' : `${integer ? 'an integer' : 'a finite number'}${range}`;
  return schema(expected, (v, ctx) => {
    if (typeof v !== 'number') return fail(ctx, expected, v);
    if (!finite) return v;
    if (!(integer ? Number.isInteger(v) : Number.isFinite(v)) || v < min || v > max) return fail(ctx, expected, v);
    return v;
  });
}

/** An integer from `min` to `max` (a safe integer unless told otherwise). */
export const int = (min = 0, max = Number.MAX_SAFE_INTEGER): Schema<number> => number({ min, max, integer: true });

export function string(maxLength: number): Schema<string> {
  const expected = `a string of at most ${maxLength} characters`;
  return schema(expected, (v, ctx) => (typeof v === 'string' && v.length <= maxLength ? v : fail(ctx, expected, v)));
}

export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return schema(`null or ${s.expected}`, (v, ctx) => (v === null ? null : s.check(v, ctx)));
}

/** A field that may be absent (or undefined); absent in the output then. */
export function optional<T>(s: Schema<T>): OptionalSchema<T> {
  return { expected: `nothing or ${s.expected}`, check: (v, ctx) => (v === undefined ? undefined : s.check(v, ctx)), optional: true };
}

export interface ArrayOptions {
  max: number;
  min?: number;
}

/** An array of `min` to `max` items (`unknown` items: the array itself, unread). */
export function array<T>(item: Schema<T>, o: ArrayOptions): Schema<T[]> {
  const { max, min = 0 } = o;
  const expected = `an array of ${min > 0 ? `${min} to ` : 'at most '}${max} items`;
  return schema(expected, (v, ctx) => {
    if (!Array.isArray(v)) return fail(ctx, expected, v);
    const n = v.length;
    if (n < min || n > max) {
      ctx.reason = `expected ${expected}, got ${n}`;
      return FAIL;
    }
    if (item === unknown) return v as T[];
    const out: T[] = new Array<T>(n);
    for (let i = 0; i < n; i++) {
      const r = item.check(v[i], ctx);
      if (r === FAIL) return failAt(ctx, `[${i}]`);
      out[i] = r;
    }
    return out;
  });
}

/** A fixed-length array, one schema per position. */
export function tuple<const S extends readonly Schema<unknown>[]>(...items: S): Schema<{ -readonly [K in keyof S]: Infer<S[K]> }> {
  const expected = `an array of ${items.length} items`;
  return schema(expected, (v, ctx) => {
    if (!Array.isArray(v)) return fail(ctx, expected, v);
    if (v.length !== items.length) {
      ctx.reason = `expected ${expected}, got ${v.length}`;
      return FAIL;
    }
    const out: unknown[] = [];
    for (let i = 0; i < items.length; i++) {
      const r = items[i].check(v[i], ctx);
      if (r === FAIL) return failAt(ctx, `[${i}]`);
      out.push(r);
    }
    return out as { -readonly [K in keyof S]: Infer<S[K]> };
  });
}

/** A plain object with these fields (others are dropped). */
export function object<const F extends Fields>(fields: F): Schema<InferFields<F>> {
  const keys = Object.keys(fields);
  if (keys.includes('__proto__')) throw new Error('a schema cannot declare a field named __proto__');
  const expected = 'an object';
  return schema(expected, (v, ctx) => {
    if (!isPlainObject(v)) return fail(ctx, expected, v);
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const x = own(v, k);
      if (x === ACCESSOR) {
        ctx.reason = 'expected a value, got an accessor';
        return failAt(ctx, k);
      }
      const s = fields[k];
      const r = s.check(x, ctx);
      if (r === FAIL) return failAt(ctx, k);
      if (r !== undefined || !s.optional) out[k] = r;
    }
    return out as InferFields<F>;
  });
}

/**
 * A plain object used as a map: at most `max` entries, each key matching `key` and naming nothing
 * of Object.prototype (no `constructor`, `toString`, `__proto__`).
 */
export function record<T>(key: RegExp, value: Schema<T>, o: { max: number }): Schema<Record<string, T>> {
  const expected = `an object of at most ${o.max} entries named like ${key}`;
  return schema(expected, (v, ctx) => {
    if (!isPlainObject(v)) return fail(ctx, expected, v);
    const keys: string[] = [];
    for (const k in v) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      if (keys.length === o.max) {
        ctx.reason = `expected ${expected}, got more`;
        return FAIL;
      }
      keys.push(k);
    }
    const out: Record<string, T> = {};
    for (const k of keys) {
      if (!key.test(k) || k in Object.prototype) {
        ctx.reason = `expected ${expected}, got the key ${describe(k)}`;
        return FAIL;
      }
      const x = own(v, k);
      if (x === ACCESSOR) {
        ctx.reason = 'expected a value, got an accessor';
        return failAt(ctx, k);
      }
      const r = value.check(x, ctx);
      if (r === FAIL) return failAt(ctx, k);
      out[k] = r;
    }
    return out;
  });
}

type VariantDef = Fields | Schema<object>;
type InferVariant<D> = D extends Schema<infer T> ? T : D extends Fields ? InferFields<D> : never;
export type InferTagged<Tag extends string, Spec> = { [K in keyof Spec & string]: Simplify<{ -readonly [P in Tag]: K } & InferVariant<Spec[K]>> }[keyof Spec & string];

export interface TaggedSchema<Tag extends string, Spec> extends Schema<InferTagged<Tag, Spec>> {
  readonly tag: Tag;
  /** The variants' tags, in the order of the declaration. */
  readonly tags: readonly (keyof Spec & string)[];
}

/**
 * A union of plain objects told apart by the string field `tag` (`type` for messages, `kind` for
 * requests). Each variant is its fields, or a schema of an object (an `object` under `refine`,
 * `budget`…) that checks the rest of the fields.
 */
export function tagged<const Tag extends string, const Spec extends { readonly [name: string]: VariantDef }>(tag: Tag, spec: Spec): TaggedSchema<Tag, Spec> {
  const variants = new Map<string, Schema<unknown>>();
  for (const name of Object.keys(spec)) {
    const d = spec[name];
    variants.set(name, isSchema(d) ? d : object(d as Fields));
  }
  const tags = Object.keys(spec) as (keyof Spec & string)[];
  const expected = `an object with ${tag} ${tags.map((t) => JSON.stringify(t)).join(', ')}`;
  const check = (v: unknown, ctx: Ctx): InferTagged<Tag, Spec> | Fail => {
    if (!isPlainObject(v)) return fail(ctx, 'an object', v);
    const t = own(v, tag);
    if (typeof t !== 'string') {
      ctx.reason = `expected a ${tag} string, got ${t === ACCESSOR ? 'an accessor' : describe(t)}`;
      return FAIL;
    }
    const s = variants.get(t);
    if (!s) {
      ctx.reason = `unknown ${tag} ${describe(t.length > 60 ? `${t.slice(0, 60)}…` : t)}`;
      return FAIL;
    }
    const r = s.check(v, ctx);
    if (r === FAIL) return failAt(ctx, t);
    return Object.assign({ [tag]: t }, r) as InferTagged<Tag, Spec>;
  };
  return { expected, check, tag, tags };
}

export type TypedArrayName = 'Float32Array' | 'Float64Array';
type TypedArrayOf<K extends TypedArrayName> = K extends 'Float32Array' ? Float32Array : Float64Array;

export interface TypedArrayOptions {
  /** Most elements (default: no limit but the budget). */
  max?: number;
  /** Also take an array of numbers (null for NaN) and convert it. */
  fromNumbers?: boolean;
  /** Count the elements against the budget of the enclosing `budget`. */
  counted?: boolean;
}

/**
 * A Float32Array or Float64Array, kept as it is (a view into a packed buffer stays one: see
 * packTypedArrays); its length is checked, its elements are not read.
 */
export function typedArray<const K extends TypedArrayName>(kind: K, o: TypedArrayOptions = {}): Schema<TypedArrayOf<K>> {
  const { max = Infinity, fromNumbers = false, counted = false } = o;
  const expected = `a ${kind}${fromNumbers ? ' (or an array of numbers)' : ''}${max < Infinity ? ` of at most ${max} elements` : ''}`;
  const Ctor = (kind === 'Float32Array' ? Float32Array : Float64Array) as unknown as new (n: number) => TypedArrayOf<K>;
  const fits = (n: number, ctx: Ctx): boolean => {
    if (n > max) {
      ctx.reason = `expected ${expected}, got ${n} elements`;
      return false;
    }
    if (counted && n > ctx.elements) {
      ctx.reason = `expected ${expected}, got ${n} elements past the message's limit`;
      return false;
    }
    if (counted) ctx.elements -= n;
    return true;
  };
  return schema(expected, (v, ctx) => {
    if (typedArrayName.call(v) === kind) return fits(typedArrayLength.call(v), ctx) ? (v as TypedArrayOf<K>) : FAIL;
    if (!fromNumbers || !Array.isArray(v)) return fail(ctx, expected, v);
    const n = v.length;
    if (!fits(n, ctx)) return FAIL;
    const out = new Ctor(n);
    for (let i = 0; i < n; i++) {
      const x: unknown = v[i];
      if (typeof x === 'number') out[i] = x;
      else if (x === null) out[i] = NaN;
      else {
        fail(ctx, 'a number or null', x);
        return failAt(ctx, `[${i}]`);
      }
    }
    return out;
  });
}

/** The typed arrays marked `counted` inside `s` take at most `elements` elements together. */
export function budget<T>(elements: number, s: Schema<T>): Schema<T> {
  return schema(s.expected, (v, ctx) => {
    const outer = ctx.elements;
    ctx.elements = elements;
    try {
      return s.check(v, ctx);
    } finally {
      ctx.elements = outer;
    }
  });
}

/** `s`, then a check across its fields: null when fine, else why not. */
export function refine<T>(s: Schema<T>, check: (value: T) => string | null): Schema<T> {
  return schema(s.expected, (v, ctx) => {
    const r = s.check(v, ctx);
    if (r === FAIL) return FAIL;
    const why = check(r);
    if (why === null) return r;
    ctx.reason = why;
    return FAIL;
  });
}

/**
 * A large payload checked only by its envelope: `shape` (top-level fields and sizes) must accept it,
 * and then the value itself is kept, unread and uncopied, typed as T. Its reader must cope with
 * anything inside (the webview's snapshot normalization does).
 */
export function opaque<T>(expected: string, shape: Schema<unknown>): Schema<T> {
  return schema(expected, (v, ctx) => (shape.check(v, ctx) === FAIL ? FAIL : (v as T)));
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Checks `v` against `s`. Never throws: what a Proxy trap or the engine throws is a rejection too. */
export function parse<T>(s: Schema<T>, v: unknown): Parsed<T> {
  const ctx: Ctx = { path: [], reason: '', elements: Infinity };
  let r: T | Fail;
  try {
    r = s.check(v, ctx);
  } catch {
    return { ok: false, reason: 'unreadable: reading it threw (a Proxy, or nested past the stack)' };
  }
  if (r !== FAIL) return { ok: true, value: r };
  const where = ctx.path.reverse().join('.').replace(/\.\[/g, '[');
  return { ok: false, reason: `${where ? `${where}: ` : ''}${ctx.reason || 'invalid'}` };
}
