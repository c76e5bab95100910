import { allocate, checkDType, type DType, type TypedArray } from './dtype';
import { SCALAR_SHAPE, checkShape, shapeString, sizeOf, type Shape } from './shape';
import { announceLeaf, isSubstituting, substituteOf, type GroupFrame } from './ops/context';
import type { OpDef } from './ops/registry';
import type { TensorConveniences, TensorMethods } from './ops/functional';
import type { BackwardOptions } from './autograd';
import type { Tape } from './tape';
import { ShapeError } from './errors';

/** Where a node came from in the user's file (filled in by the tracer). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** Anything an op accepts: a tensor or a plain JS number (which takes the other operand's dtype). */
export type TensorLike = Tensor | number;

let nextId = 1;

/** A gradient kept off the tape (see Tensor.gs): a tensor, or a number made a tensor on read; and the freed flag. */
interface GradState {
  tensor: Tensor | null;
  value: number;
  pending: boolean;
  freed: boolean;
}

/** See Tensor.meta. */
interface Meta {
  isParam: boolean;
  name: string | null;
  group: GroupFrame | null;
  scope: string | null;
  source: SourceLocation | null;
  extOf: Tape | null;
  extIdx: number;
  visitMark: number;
}

/**
 * Tensor storage: an n-dimensional array of numbers that remembers how it was computed. Leaves have `op === null`;
 * every other tensor is a node of the computational graph with its op, ordered inputs and attributes.
 */
export class Tensor {
  /** Creation order: ids increase as the program runs, so sorting by id gives the forward order. */
  readonly id: number;
  readonly shape: readonly number[];
  dtype: DType;
  requiresGrad: boolean;
  /** The registry entry of the op that produced this tensor (kernel, gradient, formula); null for a leaf. */
  readonly def: OpDef | null;
  readonly attrs: Readonly<Record<string, unknown>>;
  /** @internal For a node recorded on the scalar tape (see tape.ts): its tape and row; else null. */
  tape: Tape | null;
  tapeIdx: number;
  tapeGen: number;
  /**
   * What few tensors carry (a name, a group, a scope, a source location, the parameter flag, a slot
   * on a newer tape), made on the first write of one: a micrograd-style step makes ~70,000 tensors
   * that carry none, and each field they all had cost its share of their allocation.
   */
  private meta: Meta | null = null;
  private inputList: readonly Tensor[] | null;
  // Storage. 0-d float64 results of elementwise ops keep their value as a number and create the
  // typed array only when someone reads `.data`: scalar graphs (micrograd style) have hundreds of
  // thousands of nodes, and a typed array each made garbage collection dominate.
  private storage: TypedArray | null;
  private value: number;
  // Gradient. The scalar backward path accumulates numbers and `.grad` builds the tensor on read.
  // Kept apart for the same reason as `meta`: a tape's handles keep theirs on the tape.
  private gs: GradState | null = null;

  /** Internal: use tensor(), scalar(), param() or the ops to create tensors. */
  constructor(
    data: TypedArray | null,
    shape: Shape,
    requiresGrad: boolean,
    def: OpDef | null,
    /** null: a tape row, whose inputs are materialized on first read (see `inputs`). */
    inputs: readonly Tensor[] | null,
    attrs: Readonly<Record<string, unknown>>,
    value: number,
    /** A tape row's handle: its tape and row, else null and -1. */
    tape: Tape | null,
    tapeIdx: number,
  ) {
    // No defaults and each field written once: the scalar tape makes tens of thousands of tensors a
    // step, and V8 inlines this constructor into that path only while its bytecode is small.
    this.id = nextId++;
    this.storage = data;
    this.value = value;
    this.shape = shape;
    this.dtype = data === null ? 'float64' : dtypeOfStorage(data);
    this.requiresGrad = requiresGrad;
    this.def = def;
    this.inputList = inputs;
    this.attrs = attrs;
    this.tape = tape;
    this.tapeIdx = tapeIdx;
    this.tapeGen = tape === null ? 0 : tape.gen;
  }

  /** A leaf: values and shape, no op. */
  static leaf(data: TypedArray, shape: Shape, requiresGrad = false): Tensor {
    return new Tensor(data, shape, requiresGrad, null, NO_INPUTS, NO_ATTRS, 0, null, -1);
  }

  /** @internal A handle for row `row` of a scalar tape (see tape.ts). */
  static tapeNode(value: number, def: OpDef, attrs: Readonly<Record<string, unknown>>, tape: Tape, row: number, id?: number): Tensor {
    const t = new Tensor(null, SCALAR_SHAPE, true, def, null, attrs, value, tape, row);
    if (id !== undefined) (t as { id: number }).id = id;
    return t;
  }

  private get writable(): Meta {
    if (this.meta === null) this.meta = { isParam: false, name: null, group: null, scope: null, source: null, extOf: null, extIdx: 0, visitMark: 0 };
    return this.meta;
  }

  /** Number of elements. */
  get size(): number {
    return this.storage === null ? 1 : this.storage.length;
  }

  /** Scratch mark for graph walks (see autograd.ts). */
  get visitMark(): number {
    return this.meta === null ? 0 : this.meta.visitMark;
  }
  set visitMark(v: number) {
    this.writable.visitMark = v;
  }

  /** The trainable-leaf flag: true for tensors created with `param()` or by a module. */
  get isParam(): boolean {
    return this.meta !== null && this.meta.isParam;
  }
  set isParam(v: boolean) {
    if (v || this.meta !== null) this.writable.isParam = v;
  }

  /** The user's name for this tensor: `.named()`, a module parameter name, or the traced variable name. */
  get name(): string | null {
    return this.meta === null ? null : this.meta.name;
  }
  set name(v: string | null) {
    if (v !== null || this.meta !== null) this.writable.name = v;
  }

  /** The innermost composite op (softmax, mse, linear…) this node was computed in. */
  get group(): GroupFrame | null {
    return this.meta === null ? null : this.meta.group;
  }
  set group(v: GroupFrame | null) {
    if (v !== null || this.meta !== null) this.writable.group = v;
  }

  /** The module path this node was computed in, e.g. `mlp.layers.0`. */
  get scope(): string | null {
    return this.meta === null ? null : this.meta.scope;
  }
  set scope(v: string | null) {
    if (v !== null || this.meta !== null) this.writable.scope = v;
  }

  /** Where in the user's file this tensor was made (set by the tracer). */
  get source(): SourceLocation | null {
    return this.meta === null ? null : this.meta.source;
  }
  set source(v: SourceLocation | null) {
    if (v !== null || this.meta !== null) this.writable.source = v;
  }

  /** @internal The newest tape that uses this tensor as an external input, and its slot there. */
  get extOf(): Tape | null {
    return this.meta === null ? null : this.meta.extOf;
  }
  set extOf(v: Tape | null) {
    if (v !== null || this.meta !== null) this.writable.extOf = v;
  }
  get extIdx(): number {
    return this.meta === null ? 0 : this.meta.extIdx;
  }
  set extIdx(v: number) {
    this.writable.extIdx = v;
  }

  /** The op's inputs, in order (empty for a leaf). */
  get inputs(): readonly Tensor[] {
    if (this.inputList === null) this.inputList = this.tape!.inputsOf(this);
    return this.inputList;
  }

  /** Set once a backward pass without retainGraph went through this node. */
  get graphFreed(): boolean {
    return this.tape === null ? this.gs !== null && this.gs.freed : this.tape.isFreed(this);
  }
  set graphFreed(f: boolean) {
    if (this.tape !== null) this.tape.setFreed(this, f);
    else if (f || this.gs !== null) this.gradState.freed = f;
  }

  private get gradState(): GradState {
    if (this.gs === null) this.gs = { tensor: null, value: 0, pending: false, freed: false };
    return this.gs;
  }

  /** A 0-d float64 tensor whose value is held as a number (see `storage`). */
  static scalarNode(value: number, requiresGrad = false, def: OpDef | null = null, inputs: readonly Tensor[] = NO_INPUTS, attrs: Readonly<Record<string, unknown>> = NO_ATTRS): Tensor {
    return new Tensor(null, SCALAR_SHAPE, requiresGrad, def, inputs, attrs, value, null, -1);
  }

  /** Row-major contiguous storage. */
  get data(): TypedArray {
    if (isSubstituting()) {
      const stand = substituteOf(this);
      if (stand !== this) return stand.data;
    }
    if (this.storage === null) {
      const d = allocate('float64', 1);
      d[0] = this.value;
      this.storage = d;
    }
    return this.storage;
  }
  set data(d: TypedArray) {
    this.storage = d;
  }

  /** The first element, read without creating storage (the scalar fast path). */
  get scalarValue(): number {
    if (isSubstituting()) {
      const stand = substituteOf(this);
      if (stand !== this) return stand.scalarValue;
    }
    return this.ownScalar;
  }

  /** @internal The first element of this tensor's own storage (no substitution: the tape's fast path runs only without one). */
  get ownScalar(): number {
    return this.storage === null ? this.value : this.storage[0];
  }

  /** The op that produced this tensor, or null for a leaf. */
  get op(): string | null {
    return this.def === null ? null : this.def.name;
  }

  /** ∂output/∂this after backward(); null before. Set on every node that requires grad, not only leaves. */
  get grad(): Tensor | null {
    if (this.tape !== null) {
      const graph = this.tape.gradGraphOf(this);
      if (graph !== null) return graph;
      const g = this.tape.gradOf(this);
      return g === null ? null : Tensor.scalarNode(g);
    }
    const gs = this.gs;
    if (gs === null) return null;
    if (gs.pending) {
      gs.pending = false;
      gs.tensor = Tensor.scalarNode(gs.value);
    }
    return gs.tensor;
  }
  set grad(g: Tensor | null) {
    if (this.tape !== null) {
      // a gradient with a graph (createGraph) is kept whole: higher derivatives differentiate it
      this.tape.setGrad(this, g === null ? null : g.item(), g !== null && g.requiresGrad ? g : null);
      return;
    }
    if (g === null && this.gs === null) return;
    const gs = this.gradState;
    gs.tensor = g;
    gs.pending = false;
  }

  /** @internal The gradient of a one-element tensor as a number, or null if it has none. */
  gradNumber(): number | null {
    if (this.tape !== null) return this.tape.gradOf(this);
    const gs = this.gs;
    if (gs === null) return null;
    if (gs.pending) return gs.value;
    return gs.tensor === null ? null : gs.tensor.scalarValue;
  }

  /** @internal Sets the gradient of a 0-d float64 tensor to a number (materialized on read). */
  setGradNumber(v: number): void {
    if (this.tape !== null) {
      this.tape.setGrad(this, v);
      return;
    }
    const gs = this.gradState;
    gs.value = v;
    gs.pending = true;
  }

  get rank(): number {
    return this.shape.length;
  }
  get isLeaf(): boolean {
    return this.op === null;
  }

  /** Gives this tensor a name shown in the graph (overrides the traced variable name). */
  named(name: string): this {
    this.name = String(name);
    // a named tape handle becomes the row's handle, so the graph shows the name (see tape.ts)
    if (this.tape !== null) this.tape.canonical(this).name = this.name;
    return this;
  }

  /** The single number in a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item(): tensor of shape ${shapeString(this.shape)} has ${this.size} elements; item() needs exactly one`);
    return this.data[0];
  }

  /** Nested JS arrays (a number for a 0-d tensor). */
  tolist(): NestedArray {
    return toNested(this.data, this.shape);
  }

  toString(): string {
    const label = this.name ?? this.op ?? 'tensor';
    const v = this.size <= 16 ? JSON.stringify(this.tolist()) : `${this.size} elements`;
    return `Tensor(${label}, shape=${shapeString(this.shape)}, ${this.dtype}, ${v})`;
  }

  /** A leaf with the same values that does not track gradients. */
  detach(): Tensor {
    return announceLeaf(Tensor.leaf(this.data, this.shape.slice()));
  }

  zeroGrad(): void {
    this.grad = null;
  }
}

/**
 * The op methods (`x.add(y)`, `x.sum(1)`, `x.relu()`…) come from the op catalog, which attaches
 * them once (ops/functional.ts); `backward` from autograd.ts. Both are loaded by the engine's entry.
 */
export interface Tensor extends TensorMethods, TensorConveniences {
  /** Runs reverse mode from this scalar: fills `.grad` of every node that requires grad. */
  backward(opts?: BackwardOptions): void;
}

/** The inputs of a leaf (shared, never mutated). */
export const NO_INPUTS: readonly Tensor[] = Object.freeze([]);
/** The attributes of ops that have none (shared, never mutated). */
export const NO_ATTRS: Readonly<Record<string, unknown>> = Object.freeze({});

function dtypeOfStorage(data: TypedArray): DType {
  return data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : 'float32';
}

/** 0-d float64 tensors take the allocation-free scalar path (micrograd-style graphs). */
export function isScalar64(t: Tensor): boolean {
  return t.shape.length === 0 && t.dtype === 'float64';
}

export type NestedArray = number | NestedArray[];

function toNested(data: TypedArray, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return data[0];
  const build = (offset: number, dim: number): NestedArray[] => {
    const n = shape[dim];
    const out: NestedArray[] = new Array(n);
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = data[offset + i];
      return out;
    }
    const stride = sizeOf(shape.slice(dim + 1));
    for (let i = 0; i < n; i++) out[i] = build(offset + i * stride, dim + 1);
    return out;
  };
  return build(0, 0);
}

export interface TensorOptions {
  /** float32 (default for tensors), float64, or int32 for labels. */
  dtype?: DType;
  requiresGrad?: boolean;
  name?: string;
}

/** Infers the shape of nested arrays and flattens them; ragged input is an error naming the path. */
function flattenNested(value: unknown, where: string): { shape: number[]; values: number[] } {
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: number[] = [];
  const walk = (v: unknown, dim: number, path: string) => {
    if (dim === shape.length) {
      if (typeof v !== 'number') throw new Error(`${where}: element ${path || '(root)'} is ${JSON.stringify(v)}, not a number`);
      values.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ShapeError(`${where}: ragged nested array at ${path || '(root)'}: expected ${shape[dim]} entries like the first row, got ${Array.isArray(v) ? v.length : typeof v}`);
    }
    for (let i = 0; i < v.length; i++) walk(v[i], dim + 1, `${path}[${i}]`);
  };
  walk(value, 0, '');
  return { shape, values };
}

/** Creates a tensor from a number, nested arrays or a typed array (float32 unless `dtype` says otherwise). */
export function tensor(value: number | unknown[] | TypedArray | Tensor, opts: TensorOptions & { shape?: number[] } = {}): Tensor {
  const dtype = checkDType(opts.dtype ?? (value instanceof Tensor ? value.dtype : 'float32'), 'tensor');
  let shape: number[];
  let data: TypedArray;
  if (value instanceof Tensor) {
    shape = value.shape.slice();
    data = allocate(dtype, value.size);
    data.set(value.data);
  } else if (ArrayBuffer.isView(value)) {
    shape = opts.shape ? checkShape(opts.shape, 'tensor') : [value.length];
    if (sizeOf(shape) !== value.length) throw new ShapeError(`tensor: ${value.length} values do not fill shape ${shapeString(shape)}`);
    data = allocate(dtype, value.length);
    data.set(value as ArrayLike<number>);
  } else if (typeof value === 'number') {
    shape = SCALAR_SHAPE;
    data = allocate(dtype, 1);
    data[0] = value;
  } else if (Array.isArray(value)) {
    const flat = flattenNested(value, 'tensor');
    shape = flat.shape;
    data = allocate(dtype, flat.values.length);
    for (let i = 0; i < flat.values.length; i++) data[i] = flat.values[i];
  } else {
    throw new Error(`tensor: expected a number, nested arrays or a typed array, got ${value === null ? 'null' : typeof value}`);
  }
  if (opts.shape && !ArrayBuffer.isView(value)) {
    const target = checkShape(opts.shape, 'tensor');
    if (sizeOf(target) !== data.length) throw new ShapeError(`tensor: ${data.length} values do not fill shape ${shapeString(target)}`);
    shape = target;
  }
  const t = Tensor.leaf(data, shape, opts.requiresGrad ?? false);
  if (opts.name !== undefined) t.name = opts.name;
  return announceLeaf(t);
}

/** A micrograd-style scalar: a 0-d float64 tensor that tracks gradients, optionally named. */
export function scalar(value: number, name?: string, opts: { dtype?: DType } = {}): Tensor {
  if (typeof value !== 'number') throw new Error(`scalar: expected a number, got ${typeof value}`);
  const t = tensor(value, { dtype: opts.dtype ?? 'float64', requiresGrad: true });
  if (name !== undefined) t.name = name;
  return t;
}

/** A trainable leaf (a parameter): a number, nested array or tensor; float32 unless `dtype` says otherwise. */
export function param(value: number | unknown[] | TypedArray | Tensor, opts: TensorOptions = {}): Tensor {
  const t = tensor(value, { ...opts, requiresGrad: true });
  if (t.dtype === 'int32') throw new Error('param: parameters must be float32 or float64, not int32');
  t.isParam = true;
  return t;
}

export function full(shape: number[], value: number, opts: TensorOptions = {}): Tensor {
  const s = checkShape(shape, 'full');
  const data = allocate(checkDType(opts.dtype ?? 'float32', 'full'), sizeOf(s));
  data.fill(value);
  const t = announceLeaf(Tensor.leaf(data, s, opts.requiresGrad ?? false));
  if (opts.name !== undefined) t.name = opts.name;
  return t;
}

/** A tensor of zeros. */
export function zeros(shape: number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** A tensor of ones. */
export function ones(shape: number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

/** Wraps a plain number as a constant of the given dtype; tensors pass through. */
export function asTensor(x: TensorLike, dtype: DType, where: string): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') {
    if (dtype === 'float64') return Tensor.scalarNode(x);
    const data = allocate(dtype === 'int32' ? 'float32' : dtype, 1);
    data[0] = x;
    return Tensor.leaf(data, SCALAR_SHAPE);
  }
  throw new Error(`${where}: expected a tensor or a number, got ${x === null ? 'null' : typeof x}`);
}
