/**
 * The scalar tape: how micrograd-style graphs stay fast.
 *
 * A scalar MLP step creates ~70,000 nodes, each a 0-d float64 value from a pointwise op. As objects
 * that point to their inputs, the whole graph stays reachable until backward, so every young-generation
 * collection copies all of it, and that copying was most of the step. Here such nodes are recorded as
 * one row each in columns of typed arrays; the Tensor an op returns is a handle (tape, row) that the
 * tape does not reference, so handles the program drops die young and cost nothing to collect.
 *
 * A row holds the op, its attributes, the output value, the input values (so the backward pass
 * needs no input objects), each input's slot, the gradient and flags. A slot is a row of the same
 * tape (≥ 0), `CONST` for an input that needs no gradient, or an external input (≤ −2): a leaf such
 * as a parameter, or a handle into an older tape. Rows are in creation order, so a tape is a
 * topological order and the backward pass is one reverse sweep.
 *
 * Lifetime. A tape lives while a handle into it, or a newer tape that uses one of its rows, is
 * alive. After a backward pass without `retainGraph` every row it went through is freed, as in
 * PyTorch; when that is every row of the tape (a training step), the tape is retired and its columns
 * are reused for the next graph — fresh memory for each step cost more than the step itself. Handles
 * into a retired tape are stale (their generation no longer matches): they keep their value, report
 * `graphFreed`, have no gradient and no inputs, and backward through them fails with the freed-graph
 * error. So an intermediate value's `.grad` can be read until the next graph is recorded.
 *
 * Recording. An op on numbers and 0-d float64 values goes straight to a row (`tapeBinary`,
 * `tapeUnary`) while recording is plain; `apply` records the others that fit (attributes, inside a
 * composite or a module scope).
 *
 * `backward()` from a tape value sweeps the columns (`backwardTape`): the chain rule on numbers,
 * each op's local gradients compiled once (ops/number-grads.ts), rows in the order an object graph's
 * nodes are visited, so it gives what the driver in autograd.ts gives for the same graph as objects.
 * Anything that needs the object graph (the stepper, a `createGraph` pass, snapshots, `.inputs`)
 * gets it through `handle()`, which materializes rows as handles whose inputs are handles too, and
 * goes through that driver. The tracer turns the tape off: traced graphs are objects throughout.
 */
import type { LocalGrads, OpDef } from './ops/registry';
import type { PointwiseOps } from './ops/functional';
import { LocalKind, compileLocals, contribution } from './ops/number-grads';
import { NO_ATTRS, Tensor, type TensorLike } from './tensor';
import { SCALAR_SHAPE } from './shape';
import { isPlainRecording } from './ops/context';

/** Input slot of an input that needs no gradient (its value is kept in the row). */
export const CONST = -1;

const HAS_GRAD = 1;
const FREED = 2;
const MARK = 4;
const ARITY_SHIFT = 4;
/** Rows a call of sweepRows takes (see there). */
const SWEEP_CHUNK = 2048;
const ARITY_MASK = 0xf0;
const OP_SHIFT = 8;
/** Numbers per row in `num`, and where the inputs' values and the id sit among them (the output value first). */
const NUM = 4;
const A = 1;
const B = 2;
const ID = 3;

/** Rows per tape before a new one starts (bounds what a dropped but still referenced graph can pin). */
const MAX_ROWS = 1 << 18;
/** Retired tapes kept for reuse. */
const POOL_SIZE = 2;

let enabled = true;
let current: Tape | null = null;
const pool: Tape[] = [];
let nextSerial = 1;
/** Rows the last retired tape held: the starting capacity of a new one. */
let lastRows = 1024;

const NEEDED: readonly (readonly boolean[])[] = [[false, false], [true, false], [false, true], [true, true]];
const NEEDED1: readonly (readonly boolean[])[] = [[false], [true]];

/** Ops seen on tapes; a row stores its op's index here. */
const OP_TABLE: OpDef[] = [];
/** Their local gradients, by the same index (one array load in the backward sweep). */
const LOCAL_GRADS: LocalGrads[] = [];
const OP_CODES = new Map<OpDef, number>();

/**
 * The local gradients of the ops without attributes, compiled (ops/number-grads.ts) and laid out
 * for the sweep: at ((code · 4 + mask) · 2 + input), where mask has bit 0 for the first input and
 * bit 1 for the second when they need a gradient, the input's LocalKind (GENERIC: call the op's
 * localGrads), its constant and its function.
 */
const RECIPES = 1 << 13;
const GENERIC = -1;
const KIND = new Int8Array(RECIPES).fill(GENERIC);
const CONSTANT = new Float64Array(RECIPES);
const FN: (((a: number, b: number, out: number) => number) | null)[] = [];

/** The local gradient of kind `kind` laid out at `at` (not None), at inputs `a`, `b` and output `out`: number-grads.ts's localValue on this layout. */
function localAt(kind: number, at: number, a: number, b: number, out: number): number {
  return kind === LocalKind.Constant ? CONSTANT[at] : kind === LocalKind.A ? a : kind === LocalKind.B ? b : kind === LocalKind.Out ? out : FN[at]!(a, b, out);
}

/** Ops whose local gradients are compiled (a prefix of OP_TABLE). */
let compiledOps = 0;

/** Compiles the local gradients of every op seen so far, without attributes, for each set of needed inputs. */
function compileAll(ops: PointwiseOps<number>): void {
  for (; compiledOps < OP_TABLE.length && (compiledOps + 1) * 8 <= RECIPES; compiledOps++) {
    const def = OP_TABLE[compiledOps];
    // rows of an op whose default attributes are not NO_ATTRS (leakyRelu's α) always carry attributes
    if (def.localGrads === undefined || (def.arity !== 1 && def.arity !== 2) || (def.attrsOf !== undefined && def.attrsOf() !== NO_ATTRS)) continue;
    for (let mask = 1; mask < (def.arity === 1 ? 2 : 4); mask++) {
      const locals = compileLocals(def.localGrads, def.arity, NO_ATTRS, def.arity === 1 ? NEEDED1[mask] : NEEDED[mask], ops);
      if (locals === null) continue;
      for (let i = 0; i < 2; i++) {
        const at = (compiledOps * 4 + mask) * 2 + i;
        const l = i < locals.length ? locals[i] : null;
        KIND[at] = l === null ? LocalKind.None : l.kind;
        CONSTANT[at] = l === null ? 0 : l.value;
        FN[at] = l === null ? null : l.fn;
      }
    }
  }
}

const noLocalGrads: LocalGrads = () => {
  throw new Error('internal: a row of an op without local gradients');
};

/** The code rows store for `def` (its index in the op table), fixed once per op. */
export function tapeCode(def: OpDef): number {
  let code = OP_CODES.get(def);
  if (code === undefined) {
    code = OP_TABLE.length;
    OP_TABLE.push(def);
    LOCAL_GRADS.push(def.localGrads ?? noLocalGrads);
    OP_CODES.set(def, code);
  }
  return code;
}

export class Tape {
  /** Creation order among live graphs: rows only refer to rows of the same or older tapes. */
  serial = nextSerial++;
  /** Bumped when the tape is reused: handles from an earlier generation are stale. */
  gen = 0;
  n = 0;
  private cap: number;
  /** Rows freed by backward passes; when it reaches `n` the tape can be retired. */
  private freedRows = 0;
  /**
   * The numbers of each row, four to a row (one cache line for two rows): the output value, the
   * inputs' values and the tensor id (ids are a creation order across tapes and objects alike).
   */
  num: Float64Array;
  grad: Float64Array;
  /** The slots of each row's inputs, two to a row (the second CONST for a unary op). */
  slots: Int32Array;
  /** Each row's flags (the low byte: HAS_GRAD, FREED, MARK, arity) and its op, an index into OP_TABLE (from bit OP_SHIFT). */
  flags: Uint32Array;
  /** Attributes of the rows whose op has some (leakyRelu's α…); the others use NO_ATTRS. */
  readonly rowAttrs = new Map<number, Readonly<Record<string, unknown>>>();
  /** External inputs: leaves and handles into older tapes (slot −2 − k is ext[k]). */
  readonly ext: Tensor[] = [];
  /** Whether some external input is a handle into an older tape (else the backward pass stays on this tape). */
  handlesIn = false;
  /** No backward pass has marked, freed or given a gradient to any row yet (see backwardTape). */
  pristine = true;
  /** Materialized handles, one per row, so `.inputs` keeps its identity. */
  private handles: Map<number, Tensor> | null = null;
  /**
   * Gradients that carry a graph of their own (set by a `createGraph` backward pass), by row. The
   * `grad` column keeps only their value; these keep what a higher derivative differentiates.
   */
  private gradGraphs: Map<number, Tensor> | null = null;
  /** Highest row marked in the current backward pass (−1: not in one). */
  hi = -1;

  constructor(cap: number) {
    this.cap = cap;
    this.num = new Float64Array(cap * NUM);
    this.grad = new Float64Array(cap);
    this.slots = new Int32Array(cap * 2);
    this.flags = new Uint32Array(cap);
  }

  private grow(): void {
    const cap = Math.min(this.cap * 2, MAX_ROWS);
    const copy = <T extends Float64Array | Int32Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.num = copy(this.num, (k) => new Float64Array(k * NUM));
    this.grad = copy(this.grad, (k) => new Float64Array(k));
    this.slots = copy(this.slots, (k) => new Int32Array(k * 2));
    this.flags = copy(this.flags, (k) => new Uint32Array(k));
    this.cap = cap;
  }

  /** Empties the tape for a new graph; every handle into it becomes stale. */
  private reset(): void {
    for (const x of this.ext) if (x.extOf === this) x.extOf = null;
    this.ext.length = 0;
    this.handlesIn = false;
    this.pristine = true;
    this.rowAttrs.clear();
    this.handles = null;
    this.gradGraphs = null;
    this.n = 0;
    this.freedRows = 0;
    this.gen++;
    this.serial = nextSerial++;
  }

  get full(): boolean {
    return this.n >= MAX_ROWS;
  }

  /** Whether `h` (a handle into this tape) is from the current generation. */
  owns(h: Tensor): boolean {
    return h.tapeGen === this.gen;
  }

  defOf(row: number): OpDef {
    return OP_TABLE[this.flags[row] >>> OP_SHIFT];
  }

  attrsOf(row: number): Readonly<Record<string, unknown>> {
    return this.rowAttrs.get(row) ?? NO_ATTRS;
  }

  /** The slot under which rows refer to `x`, an input that requires grad. */
  private slot(x: Tensor): number {
    if (x.tape === this && x.tapeGen === this.gen) return x.tapeIdx;
    return this.external(x);
  }

  /** The slot of `x` as an external input (a leaf, or a handle into another tape). */
  external(x: Tensor): number {
    return x.extOf === this ? x.extIdx : this.addExternal(x);
  }

  /** Makes `x` an external input of this tape; returns its slot. */
  private addExternal(x: Tensor): number {
    x.extOf = this;
    x.extIdx = -2 - this.ext.length;
    this.ext.push(x);
    if (x.tape !== null) this.handlesIn = true;
    return x.extIdx;
  }

  /** Appends a row for `def` applied to one or two 0-d float64 inputs; returns its handle. */
  record(def: OpDef, inputs: readonly Tensor[], attrs: Readonly<Record<string, unknown>>, value: number): Tensor {
    const a = inputs[0];
    const b = inputs.length > 1 ? inputs[1] : undefined;
    const sa = a.requiresGrad ? this.slot(a) : CONST;
    const out = b === undefined
      ? this.push(def, tapeCode(def), attrs, value, sa, a.scalarValue, CONST, 0, 1)
      : this.push(def, tapeCode(def), attrs, value, sa, a.scalarValue, b.requiresGrad ? this.slot(b) : CONST, b.scalarValue, 2);
    if (attrs !== NO_ATTRS) this.rowAttrs.set(out.tapeIdx, attrs);
    return out;
  }

  /**
   * Appends a row: op `def` (`code` in OP_TABLE) with `attrs` gave `value` from `arity` inputs in
   * slots `sa` and `sb` (CONST: no gradient needed) of values `va` and `vb`. Returns its handle.
   */
  push(def: OpDef, code: number, attrs: Readonly<Record<string, unknown>>, value: number, sa: number, va: number, sb: number, vb: number, arity: 1 | 2): Tensor {
    const row = this.reserve();
    const out = Tensor.tapeNode(value, def, attrs, this, row);
    this.write(row, code, value, sa, va, sb, vb, arity, out.id);
    return out;
  }

  /** The next row's index (the columns grown if full). */
  reserve(): number {
    if (this.n === this.cap) this.grow();
    return this.n++;
  }

  /** Fills the columns of row `row` (see push); `id` is its handle's. */
  write(row: number, code: number, value: number, sa: number, va: number, sb: number, vb: number, arity: 1 | 2, id: number): void {
    const num = this.num;
    const at = row * NUM;
    num[at] = value;
    num[at + A] = va;
    num[at + B] = vb;
    num[at + ID] = id;
    this.slots[2 * row] = sa;
    this.slots[2 * row + 1] = sb;
    this.flags[row] = (code << OP_SHIFT) | (arity << ARITY_SHIFT);
  }

  /** The handle for a row (one per row once asked for). */
  handle(row: number): Tensor {
    if (this.handles === null) this.handles = new Map();
    let h = this.handles.get(row);
    if (h === undefined) {
      h = Tensor.tapeNode(this.num[row * NUM], this.defOf(row), this.attrsOf(row), this, row, this.num[row * NUM + ID]);
      this.handles.set(row, h);
    }
    return h;
  }

  /**
   * The one handle the object graph uses for `h`'s row: when a tape value feeds an op that is not
   * recorded on the tape, is named, or starts a stepped pass, it must be the same object the
   * materialized inputs of other rows use. Stale handles are returned as they are.
   */
  canonical(h: Tensor): Tensor {
    if (!this.owns(h)) return h;
    if (this.handles === null) this.handles = new Map();
    const known = this.handles.get(h.tapeIdx);
    if (known !== undefined) return known;
    this.handles.set(h.tapeIdx, h);
    return h;
  }

  /** The ordered inputs of `h`'s row, materialized (none for a stale handle). */
  inputsOf(h: Tensor): Tensor[] {
    if (!this.owns(h)) return [];
    const row = h.tapeIdx;
    const at = (s: number, value: number): Tensor => (s >= 0 ? this.handle(s) : s === CONST ? Tensor.scalarNode(value) : this.ext[-2 - s]);
    const out = [at(this.slots[2 * row], this.num[row * NUM + A])];
    if ((this.flags[row] & ARITY_MASK) >> ARITY_SHIFT > 1) out.push(at(this.slots[2 * row + 1], this.num[row * NUM + B]));
    return out;
  }

  gradOf(h: Tensor): number | null {
    return this.owns(h) && (this.flags[h.tapeIdx] & HAS_GRAD) !== 0 ? this.grad[h.tapeIdx] : null;
  }

  /** The gradient of `h` as a tensor with its own graph, when a `createGraph` pass set one. */
  gradGraphOf(h: Tensor): Tensor | null {
    return this.gradGraphs !== null && this.owns(h) ? this.gradGraphs.get(h.tapeIdx) ?? null : null;
  }

  /** Sets the gradient of `h`'s row: its value, and the tensor itself when it carries a graph. */
  setGrad(h: Tensor, g: number | null, graph: Tensor | null = null): void {
    if (!this.owns(h)) return;
    this.pristine = false;
    const row = h.tapeIdx;
    if (graph !== null) (this.gradGraphs ??= new Map()).set(row, graph);
    else this.gradGraphs?.delete(row);
    if (g === null) {
      this.flags[row] &= ~HAS_GRAD;
      this.grad[row] = 0;
    } else {
      this.grad[row] = g;
      this.flags[row] |= HAS_GRAD;
    }
  }

  /** Whether some row's gradient carries a graph (see gradGraphs). */
  hasGradGraphs(): boolean {
    return this.gradGraphs !== null && this.gradGraphs.size > 0;
  }

  /** Drops a row's gradient graph (its gradient is being recomputed as numbers). */
  clearGradGraph(row: number): void {
    if (this.gradGraphs !== null) this.gradGraphs.delete(row);
  }

  isFreed(h: Tensor): boolean {
    return !this.owns(h) || (this.flags[h.tapeIdx] & FREED) !== 0;
  }

  setFreed(h: Tensor, freed: boolean): void {
    if (!this.owns(h)) return;
    this.pristine = false;
    const row = h.tapeIdx;
    if (freed) this.freeRow(row);
    else if ((this.flags[row] & FREED) !== 0) {
      this.flags[row] &= ~FREED;
      this.freedRows--;
    }
  }

  /** Counts `k` rows marked freed by a sweep. */
  countFreed(k: number): void {
    this.freedRows += k;
  }

  /** Marks a row freed (once; `freedRows` counts rows, not calls). */
  freeRow(row: number): void {
    if ((this.flags[row] & FREED) === 0) {
      this.flags[row] |= FREED;
      this.freedRows++;
    }
  }

  /** After a backward pass freed rows: the next graph starts a tape; a fully freed one is reused. */
  retireIfFree(): void {
    if (this === current) current = null;
    if (this.freedRows < this.n) return;
    lastRows = Math.max(1024, Math.min(this.n, MAX_ROWS));
    // its handles stay valid (gradients readable) until the tape is taken for the next graph
    if (pool.length < POOL_SIZE && !pool.includes(this)) pool.push(this);
  }

  /** A tape for a new graph: a retired one if there is one. */
  static take(): Tape {
    const reused = pool.pop();
    if (reused === undefined) return new Tape(lastRows);
    reused.reset();
    return reused;
  }
}

/** Turns the tape on or off (tests compare both paths; the tracer records objects instead). */
export function setTapeEnabled(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  current = null;
  return was;
}

export function isTapeEnabled(): boolean {
  return enabled;
}

/** Whether `x` may be an input of a row: a row of some tape, a leaf, or a value without gradient. */
export function tapeable(x: Tensor): boolean {
  return x.tape !== null || x.def === null || !x.requiresGrad;
}

/** Records a pointwise op on 0-d float64 inputs on the current tape (starting one if needed). */
export function recordScalar(def: OpDef, inputs: readonly Tensor[], attrs: Readonly<Record<string, unknown>>, value: number): Tensor {
  let tape = current;
  if (tape === null || tape.full) tape = current = Tape.take();
  return tape.record(def, inputs, attrs, value);
}

/** An op's scalar function as the registry holds it (`OpDef.pointwise`). */
export type Pointwise = (a: number, b: number, c: number, attrs: Readonly<Record<string, unknown>>) => number;

/**
 * The fast path of a differentiable pointwise op into the tape, for micrograd-style code that
 * calls `add(act, mul(w, x))` tens of thousands of times a step: while recording is plain (gradients
 * on; no composite, module scope, tracer or substitution), operands that are numbers or 0-d float64
 * tensors the tape takes as they are (rows, leaves, constants), at least one requiring grad. What
 * `apply` does for them then comes down to the op's function and one row, which is what this does,
 * without the tensors `apply` makes of numbers. Returns null for anything else, which goes through
 * `apply` (the same row, made there).
 */
export function tapeBinary(def: OpDef, code: number, fn: Pointwise, a: TensorLike, b: TensorLike): Tensor | null {
  if (!enabled || !isPlainRecording()) return null;
  let tape = current;
  if (tape === null || tape.full) {
    tape = newTapeFor(a, b);
    if (tape === null) return null;
  }
  const sa = slotFor(a, tape);
  const sb = slotFor(b, tape);
  if (sa === NOT_TAKEN || sb === NOT_TAKEN || (sa === CONST && sb === CONST)) return null;
  const va = typeof a === 'number' ? a : a.ownScalar;
  const vb = typeof b === 'number' ? b : b.ownScalar;
  const value = fn(va, vb, 0, NO_ATTRS);
  // the handle is made here, not in push, and the path is kept short: V8 inlines it whole only
  // if its budget reaches the constructor (else every handle goes through the generic construct
  // stub, ~30 % slower, and which it is changed from run to run)
  const row = tape.reserve();
  const out = new Tensor(null, SCALAR_SHAPE, true, def, null, NO_ATTRS, value, tape, row);
  tape.write(row, code, value, sa, va, sb, vb, 2, out.id);
  return out;
}

/** tapeBinary for a unary op without attributes (relu, tanh, exp…). */
export function tapeUnary(def: OpDef, code: number, fn: Pointwise, x: TensorLike): Tensor | null {
  if (!enabled || !isPlainRecording()) return null;
  let tape = current;
  if (tape === null || tape.full) {
    tape = newTapeFor(x, 0);
    if (tape === null) return null;
  }
  const s = slotFor(x, tape);
  if (s === NOT_TAKEN || s === CONST) return null;
  const v = (x as Tensor).ownScalar;
  const value = fn(v, 0, 0, NO_ATTRS);
  const row = tape.reserve();
  const out = new Tensor(null, SCALAR_SHAPE, true, def, null, NO_ATTRS, value, tape, row);
  tape.write(row, code, value, s, v, CONST, 0, 1, out.id);
  return out;
}

/** What slotFor returns for an operand the fast path does not take (an object node, a tensor, a float32 value…). */
const NOT_TAKEN = -1 << 30;
/** operandKind's answer for an external input. */
const EXTERNAL = -1 << 29;

/**
 * The slot an operand of the fast path gets on `tape`: CONST for a number or a constant, its row
 * for a row of this tape (the common case, two reads), an external input's slot for a leaf that
 * requires grad or a handle into another tape (made one here: when the other operand is not taken,
 * the tape keeps an external input no row uses, which costs nothing), or NOT_TAKEN.
 */
function slotFor(x: TensorLike, tape: Tape): number {
  if (typeof x === 'number') return CONST;
  if (x.tape === tape && x.tapeGen === tape.gen && x.requiresGrad) return x.tapeIdx;
  const kind = operandKind(x);
  return kind === EXTERNAL ? tape.external(x as Tensor) : kind;
}

/**
 * The tape for the first row of a new graph, if operands `a` and `b` make one (a unary op passes 0
 * as `b`): taken only then, since the tape taken may be a retired one, whose handles then go stale.
 * Apart from the fast path so as not to weigh on it (V8 inlines the fast path whole, see tapeBinary).
 */
function newTapeFor(a: TensorLike, b: TensorLike): Tape | null {
  const takes = (x: TensorLike) => typeof x === 'number' || operandKind(x) !== NOT_TAKEN;
  const grads = (x: TensorLike) => typeof x !== 'number' && x.requiresGrad;
  if (!takes(a) || !takes(b) || !(grads(a) || grads(b))) return null;
  return (current = Tape.take());
}

/** What an operand other than a number or a row of the current tape is to the fast path: NOT_TAKEN, CONST (no gradient) or EXTERNAL. */
function operandKind(x: TensorLike): number {
  if (!(x instanceof Tensor) || x.shape.length !== 0 || x.dtype !== 'float64') return NOT_TAKEN;
  if (!x.requiresGrad) return CONST;
  return x.tape === null && x.def !== null ? NOT_TAKEN : EXTERNAL;
}

function freedError(what: string): Error {
  return new Error(
    `backward: the graph through ${what} was already used by an earlier backward() and has been freed. ` +
      'Pass { retainGraph: true } to the first backward() to run backward twice, or recompute the forward pass.',
  );
}

/**
 * `backward()` from a tape value (nothing stepped, no graph of the gradients): the rows that lead
 * to `root`, tape by tape, newest first, each tape's rows last to first — the order of creation
 * reversed, as an object graph is walked, so both accumulate gradients in the same order — with
 * the chain rule on numbers at each row (`contribution` of number-grads.ts, as the driver in
 * autograd.ts applies it to 0-d nodes of an object graph), in one loop over each tape's columns.
 * The tape tests hold the two to the bit on random graphs.
 *
 * Which rows lead to `root` is found by `mark` (it also clears their gradients and refuses rows an
 * earlier pass freed), except on a pristine tape with no handles from older tapes (a training
 * step's graph): there no row has a gradient or was freed, so a row leads to `root` exactly when
 * the sweep hands it a gradient, and the mark pass is skipped.
 */
export function backwardTape(root: Tensor, seed: number, retain: boolean, ops: PointwiseOps<number>): void {
  const rootTape = root.tape!;
  if (!rootTape.owns(root)) throw freedError(`${root.op}#${root.id}`);
  compileAll(ops);
  const byGradient = rootTape.pristine && !rootTape.handlesIn;
  let tapes: Tape[];
  if (byGradient) {
    rootTape.hi = root.tapeIdx;
    tapes = [rootTape];
  } else tapes = mark(rootTape, root.tapeIdx);
  rootTape.grad[root.tapeIdx] = seed;
  rootTape.flags[root.tapeIdx] |= HAS_GRAD;
  for (const tape of tapes) {
    tape.pristine = false;
    const { ext } = tape;
    // external inputs' gradients are summed in the same order, and set once the tape is done
    const extGrad = new Float64Array(ext.length);
    const extSeen = new Uint8Array(ext.length);
    for (let k = 0; k < ext.length; k++) {
      const g = ext[k].gradNumber();
      extSeen[k] = g === null ? 0 : 1;
      extGrad[k] = g ?? 0;
    }
    let freed = 0;
    for (let hi = tape.hi; hi >= 0; hi -= SWEEP_CHUNK) freed += sweepRows(tape, ops, retain, byGradient, extGrad, extSeen, hi, Math.max(0, hi - SWEEP_CHUNK + 1));
    tape.countFreed(freed);
    for (let k = 0; k < ext.length; k++) if (extSeen[k] === 2) ext[k].setGradNumber(extGrad[k]);
    tape.hi = -1;
  }
  if (!retain) for (const done of tapes) done.retireIfFree();
}

/**
 * Rows `hi` down to `lo` of one tape in a backward pass (see backwardTape); returns how many it
 * freed. The rows visited are the marked ones, or `byGradient` those that have a gradient.
 * External inputs' gradients are summed in `extGrad` (`extSeen`: 0 none yet, 1 one from before
 * the pass, 2 added to by it).
 * A function of its own, called for SWEEP_CHUNK rows at a time, so that V8 optimizes it like any
 * function called often: as one loop over a whole tape, called once a step, it was compiled while
 * running (on-stack replacement), branches first taken late (the first layer's rows come last) threw
 * it out again, and in one process in five it stayed unoptimized (the backward pass 1.7 ms, not 0.9).
 */
function sweepRows(tape: Tape, ops: PointwiseOps<number>, retain: boolean, byGradient: boolean, extGrad: Float64Array, extSeen: Uint8Array, hi: number, lo: number): number {
  const { flags, grad, num, slots } = tape;
  const values1 = [0];
  const values2 = [0, 0];
  const add = (s: number, c: number): void => {
    if (s >= 0) {
      if ((flags[s] & HAS_GRAD) !== 0) grad[s] += c;
      else {
        grad[s] = c;
        flags[s] |= HAS_GRAD;
      }
    } else {
      const k = -2 - s;
      if (extSeen[k] === 0) extGrad[k] = c;
      else extGrad[k] += c;
      extSeen[k] = 2;
    }
  };
  const plain = tape.rowAttrs.size === 0;
  let freed = 0;
  for (let row = hi; row >= lo; row--) {
    const f = flags[row];
    if ((f & (byGradient ? HAS_GRAD : MARK)) === 0) continue;
    if (retain) flags[row] = f & ~MARK;
    else {
      flags[row] = (f & ~MARK) | FREED;
      if ((f & FREED) === 0) freed++;
    }
    if ((f & HAS_GRAD) === 0) continue;
    const code = f >>> OP_SHIFT;
    const upstream = grad[row];
    const sa = slots[2 * row];
    const unary = (f & ARITY_MASK) >> ARITY_SHIFT === 1;
    if (unary && sa === CONST) continue;
    const sb = unary ? CONST : slots[2 * row + 1];
    const mask = (sa === CONST ? 0 : 1) | (sb === CONST ? 0 : 2);
    const a = num[row * NUM + A];
    const b = unary ? 0 : num[row * NUM + B];
    const out = num[row * NUM];
    const attrs = plain ? NO_ATTRS : tape.attrsOf(row);
    const at = (code * 4 + mask) * 2;
    const ka = attrs === NO_ATTRS ? KIND[at] : GENERIC;
    if (ka !== GENERIC) {
      if (ka !== LocalKind.None) {
        const l = localAt(ka, at, a, b, out);
        add(sa, contribution(upstream, l));
      }
      const kb = KIND[at + 1];
      if (kb !== LocalKind.None) {
        const l = localAt(kb, at + 1, a, b, out);
        add(sb, contribution(upstream, l));
      }
      continue;
    }
    // attributes, or local gradients that could not be compiled: the op's own, on numbers
    const values = unary ? values1 : values2;
    values[0] = a;
    if (!unary) values[1] = b;
    const locals = LOCAL_GRADS[code](ops, values, out, attrs, unary ? NEEDED1[1] : NEEDED[mask]);
    const la = locals[0];
    if (la !== null && sa !== CONST) add(sa, contribution(upstream, la as number));
    if (!unary) {
      const lb = locals[1];
      if (lb !== null && sb !== CONST) add(sb, contribution(upstream, lb as number));
    }
  }
  return freed;
}


/**
 * Marks every row that leads to `row` of `root` and clears its gradient; throws, leaving nothing
 * marked, if one was freed by an earlier backward. Returns the tapes involved, newest first.
 */
function mark(root: Tape, row0: number): Tape[] {
  const visited: Tape[] = [];
  const pending: Tape[] = [];
  const enqueue = (t: Tape, row: number) => {
    t.flags[row] |= MARK;
    if (t.hi < 0) pending.push(t);
    if (row > t.hi) t.hi = row;
  };
  enqueue(root, row0);
  try {
    while (pending.length > 0) {
      let k = 0;
      for (let j = 1; j < pending.length; j++) if (pending[j].serial > pending[k].serial) k = j;
      const tape = pending.splice(k, 1)[0];
      visited.push(tape);
      tape.pristine = false;
      const { grad, slots, flags, ext, handlesIn } = tape;
      const graphs = tape.hasGradGraphs();
      /** Marks the input in slot `s` (a row of this tape, or a handle into an older one). */
      const input = (s: number): void => {
        if (s >= 0) flags[s] |= MARK;
        else if (handlesIn && s !== CONST) {
          const x = ext[-2 - s];
          if (x.tape === null) return;
          if (!x.tape.owns(x)) throw freedError(`${x.op}#${x.id}`);
          enqueue(x.tape, x.tapeIdx);
        }
      };
      for (let row = tape.hi; row >= 0; row--) {
        const f = flags[row];
        if ((f & MARK) === 0) continue;
        if ((f & FREED) !== 0) throw freedError(`${tape.defOf(row).name}#${tape.num[row * NUM + ID]}`);
        flags[row] = f & ~HAS_GRAD;
        grad[row] = 0;
        if (graphs) tape.clearGradGraph(row);
        input(slots[2 * row]);
        if ((f & ARITY_MASK) >> ARITY_SHIFT > 1) input(slots[2 * row + 1]);
      }
    }
  } catch (e) {
    for (const t of [...visited, ...pending]) {
      for (let row = 0; row < t.n; row++) t.flags[row] &= ~MARK;
      t.hi = -1;
    }
    throw e;
  }
  return visited;
}
