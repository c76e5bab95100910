/**
 * The CPU's evaluator of update rules (expr.ts), array at a time: a rule is compiled once into a
 * list of vector instructions, each one tight loop, run chunk by chunk over a parameter's elements
 * so the float64 scratch arrays stay in cache. Per step only the step scalars are computed (once
 * each), and a condition on them (`t == 1 ? …`, clipping by norm) picks its branch once, not per
 * element. Walking the tree per element would be several times slower, and the engine cannot
 * generate JavaScript (no `eval` under the webview's CSP).
 *
 * An operand is read as `s·x[i] + c` (s and c step scalars, x an array), so `beta1*m`, `x + eps`
 * or a lone scalar cost no pass of their own; with s = 1 and c = −0 that is exactly x[i]
 * (1·x = x and x + (−0) = x for every float, −0 and NaN included).
 *
 * Intermediates stay in float64; a value is rounded only when stored into a float32 weight. The
 * trees keep the formulas' order of operations, so results are those of the hand-written loops.
 *
 * A run over at least WASM_MIN values goes to the WebAssembly twin of `exec` (wat.ts's vm: the same
 * instructions on f64x2, the same operations in the same order, float32 arrays rounded where the
 * loops here store into them), about twice as fast with its copies; these loops stay the fallback
 * and the reference it is tested against (test/engine/optim-wasm.test.ts, with setWasmKernelsEnabled
 * turning the WebAssembly kernels off).
 */
import type { TypedArray } from '../dtype';
import { compare, evalScalar, rateOf, show, type BinaryOp, type CompareOp, type Expr, type Stmt, type UnaryOp } from './expr';
import { wasmVectorProgram, type VmSlot } from '../backends/cpu/wasm/gemm';
import { VM_CMP, VM_FN, VM_OP } from '../backends/cpu/wasm/wat';

/** Below this many values a run stays in JavaScript (laying the program out in WebAssembly costs more). */
const WASM_MIN = 4096;

/** `scale·x[i] + add` (`− add` when `subtract`); `x`, `scale` and `add` are frame indices. */
interface Operand {
  x: number;
  scale: number;
  add: number;
  subtract: boolean;
}

type Instr =
  | { op: 'binary'; fn: BinaryOp; d: number; a: Operand; b: Operand }
  /** `a ± (b × c)` or `a ± b / c`, one pass (the update's usual last step, and moment updates). */
  | { op: 'ternary'; fn: TernaryOp; d: number; a: Operand; b: Operand; c: Operand }
  | { op: 'unary'; fn: UnaryOp; d: number; a: Operand }
  | { op: 'select'; cmp: CompareOp; d: number; a: Operand; b: Operand; then: Operand; else: Operand }
  /** A condition on step scalars: one branch runs, decided once per chunk. */
  | { op: 'branch'; cmp: CompareOp; a: number; b: number; then: Instr[]; else: Instr[] }
  | { op: 'copy'; d: number; a: Operand };

type Arr = TypedArray | Float64Array;
type TernaryOp = '+*' | '+/' | '-*' | '-/';

/** Elements per pass: every instruction runs over one chunk before the next chunk starts. */
const CHUNK = 1024;

/** Frame slots every program has: an array of ones (a scalar operand is s·1 + −0) and the cells 1 and −0. */
const ONES = 0, ONE = 1, NEG_ZERO = 2;

/**
 * A compiled list of assignments. Frame: the three constants above, the named arrays (bound per
 * run, read at the chunk's offset), then owned chunk-sized scratch arrays (`let`s and registers)
 * and one-element cells (constants, and step scalars computed per run).
 */
export class VectorProgram {
  private readonly code: Instr[];
  private readonly frame: Arr[] = [new Float64Array(CHUNK).fill(1), Float64Array.of(1), Float64Array.of(-0)];
  /** Frame indices below this are read at the chunk's offset (the named arrays). */
  private readonly namedEnd: number;
  private readonly stepCells: { ref: number; e: Expr }[] = [];

  /** Frame indices of the named arrays the statements assign. */
  private readonly targets: ReadonlySet<number>;
  /** The code as the WebAssembly evaluator reads it (encode), made on its first run there. */
  private words: Int32Array | undefined;

  constructor(stmts: readonly Stmt[], private readonly names: readonly string[]) {
    for (const _ of names) this.frame.push(new Float64Array(0));
    this.namedEnd = this.frame.length;
    this.code = new Compiler(this, names.map((_, k) => NEG_ZERO + 1 + k)).statements(stmts, names);
    this.targets = new Set(stmts.map((st) => names.indexOf(st.target)).filter((k) => k >= 0).map((k) => NEG_ZERO + 1 + k));
  }

  /** Runs the assignments over the first `n` elements of `arrays` (one per name, in order; absent: unused). */
  run(n: number, arrays: readonly (Arr | undefined)[], scalars: Readonly<Record<string, number>>): void {
    const f = this.frame;
    for (let k = 0; k < this.names.length; k++) f[NEG_ZERO + 1 + k] = arrays[k] ?? f[NEG_ZERO + 1 + k];
    for (const { ref, e } of this.stepCells) f[ref][0] = evalScalar(e, scalars);
    if (n >= WASM_MIN && this.runWasm(n, arrays)) return;
    for (let start = 0; start < n; start += CHUNK) exec(this.code, f, this.namedEnd, start, Math.min(CHUNK, n - start));
  }

  /** The same run in WebAssembly (wasmVectorProgram): false where it cannot, having done nothing. */
  private runWasm(n: number, arrays: readonly (Arr | undefined)[]): boolean {
    const named = arrays.slice(0, this.names.length);
    if (named.some((a, k) => a !== undefined && named.indexOf(a) !== k)) return false; // one array under two names: in place, as the loops do it
    this.words ??= Int32Array.from(encode(this.code));
    const slots: VmSlot[] = this.frame.map((a, k): VmSlot => {
      if (k === ONES) return { kind: 'ones' };
      if (k > NEG_ZERO && k < this.namedEnd) return { kind: 'named', array: arrays[k - NEG_ZERO - 1], written: this.targets.has(k) };
      return a.length === 1 ? { kind: 'cell', value: a[0] } : { kind: 'scratch' };
    });
    return wasmVectorProgram(this.words, slots, n, CHUNK);
  }

  /** @internal a chunk-sized float64 scratch array */
  addScratch(): number {
    return this.frame.push(new Float64Array(CHUNK)) - 1;
  }

  /** @internal a cell holding a constant, or a step scalar's value (set per run) */
  addCell(e: Expr): number {
    const ref = this.frame.push(new Float64Array(1)) - 1;
    if (e.kind === 'num') this.frame[ref][0] = e.value;
    else this.stepCells.push({ ref, e });
    return ref;
  }
}

const isScalar = (e: Expr) => rateOf(e) !== 'element';
const plain = (x: number): Operand => ({ x, scale: ONE, add: NEG_ZERO, subtract: false });
const isPlain = (o: Operand) => o.scale === ONE && o.add === NEG_ZERO;

class Compiler {
  private readonly where = new Map<string, number>();
  private readonly cells = new Map<string, number>();
  private readonly free: number[] = [];
  private readonly regs = new Set<number>();

  constructor(private readonly prog: VectorProgram, private readonly named: number[]) {}

  statements(stmts: readonly Stmt[], names: readonly string[]): Instr[] {
    names.forEach((name, k) => this.where.set(name, this.named[k]));
    const code: Instr[] = [];
    for (const s of stmts) {
      let d = this.where.get(s.target);
      if (d === undefined) this.where.set(s.target, (d = this.prog.addScratch()));
      this.into(s.value, d, code);
    }
    return code;
  }

  /** Appends the instructions that compute `e` into frame array `d`. */
  private into(e: Expr, d: number, code: Instr[]): void {
    if (e.kind === 'select' && !isScalar(e) && isScalar(e.a) && isScalar(e.b)) {
      const then: Instr[] = [], other: Instr[] = [];
      this.into(e.then, d, then);
      this.into(e.else, d, other);
      code.push({ op: 'branch', cmp: e.cmp, a: this.cell(e.a), b: this.cell(e.b), then, else: other });
      return;
    }
    const x = this.operand(e, code, d);
    if (x.x !== d || !isPlain(x)) code.push({ op: 'copy', d, a: x });
    if (x.x !== d) this.release(x);
  }

  /** An operand that reads `e`; an operation is computed into `d` when given, else into a register. */
  private operand(e: Expr, code: Instr[], d?: number): Operand {
    if (isScalar(e)) return { x: ONES, scale: this.cell(e), add: NEG_ZERO, subtract: false };
    switch (e.kind) {
      case 'element': return plain(this.where.get(e.name)!);
      case 'unary': {
        const a = this.operand(e.a, code);
        this.release(a);
        return this.emit(code, d, (out) => ({ op: 'unary', fn: e.op, d: out, a }));
      }
      case 'binary': {
        // s·x and x ± c fold into the operand
        if (e.op === '*' && (isScalar(e.a) || isScalar(e.b))) {
          const [s, x] = isScalar(e.a) ? [e.a, e.b] : [e.b, e.a];
          const inner = this.operand(x, code);
          if (isPlain(inner)) return { ...inner, scale: this.cell(s) };
          return this.binary('*', inner, this.operand(s, code), code, d);
        }
        if ((e.op === '+' || e.op === '-') && isScalar(e.b)) {
          const inner = this.operand(e.a, code);
          if (inner.add === NEG_ZERO) return { ...inner, add: this.cell(e.b), subtract: e.op === '-' };
          return this.binary(e.op, inner, this.operand(e.b, code), code, d);
        }
        if (e.op === '+' && isScalar(e.a)) {
          const inner = this.operand(e.b, code);
          if (inner.add === NEG_ZERO) return { ...inner, add: this.cell(e.a) };
          return this.binary(e.op, this.operand(e.a, code), inner, code, d);
        }
        // a ± b∘c (∘ × or ÷) in one pass; a + b∘c also when written b∘c + a
        const inner = (x: Expr) => x.kind === 'binary' && (x.op === '/' || (x.op === '*' && !isScalar(x.a) && !isScalar(x.b))) ? x : null;
        const product = e.op === '+' || e.op === '-' ? inner(e.b) ?? (e.op === '+' ? inner(e.a) : null) : null;
        if (product) {
          const a = this.operand(product === e.b ? e.a : e.b, code);
          const b = this.operand(product.a, code), c = this.operand(product.b, code);
          this.release(a, b, c);
          return this.emit(code, d, (out) => ({ op: 'ternary', fn: `${e.op}${product.op}` as TernaryOp, d: out, a, b, c }));
        }
        const a = this.operand(e.a, code), b = this.operand(e.b, code);
        return this.binary(e.op, a, b, code, d);
      }
      case 'select': {
        if (isScalar(e.a) && isScalar(e.b)) {
          const out = d ?? this.reg();
          this.into(e, out, code);
          return plain(out);
        }
        const a = this.operand(e.a, code), b = this.operand(e.b, code);
        const then = this.operand(e.then, code), other = this.operand(e.else, code);
        this.release(a, b, then, other);
        return this.emit(code, d, (out) => ({ op: 'select', cmp: e.cmp, d: out, a, b, then, else: other }));
      }
      default: throw new Error('unreachable');
    }
  }

  private binary(fn: BinaryOp, a: Operand, b: Operand, code: Instr[], d: number | undefined): Operand {
    this.release(a, b);
    return this.emit(code, d, (out) => ({ op: 'binary', fn, d: out, a, b }));
  }

  /** Emits an instruction writing `d` or a fresh register (operands already released: in place is fine). */
  private emit(code: Instr[], d: number | undefined, make: (out: number) => Instr): Operand {
    const out = d ?? this.reg();
    code.push(make(out));
    return plain(out);
  }

  private cell(e: Expr): number {
    const key = show(e);
    let ref = this.cells.get(key);
    if (ref === undefined) this.cells.set(key, (ref = this.prog.addCell(e)));
    return ref;
  }

  private reg(): number {
    const r = this.free.pop() ?? this.prog.addScratch();
    this.regs.add(r);
    return r;
  }

  private release(...xs: Operand[]): void {
    for (const o of xs) if (this.regs.delete(o.x)) this.free.push(o.x);
  }
}

function exec(code: readonly Instr[], f: Arr[], namedEnd: number, start: number, n: number): void {
  // named arrays are read at the chunk's offset, scratch arrays (and the ones) from 0
  const at = (k: number) => (k < namedEnd && k > NEG_ZERO ? start : 0);
  const s = (o: Operand) => f[o.scale][0];
  const c = (o: Operand) => (o.subtract ? -f[o.add][0] : f[o.add][0]);
  for (const ins of code) {
    switch (ins.op) {
      case 'binary': {
        const { a, b } = ins;
        binaryLoop(ins.fn, f[ins.d], at(ins.d), f[a.x], at(a.x), s(a), c(a), f[b.x], at(b.x), s(b), c(b), n);
        break;
      }
      case 'ternary': {
        const { a, b, c: x } = ins;
        ternaryLoop(ins.fn, f[ins.d], at(ins.d), f[a.x], at(a.x), s(a), c(a), f[b.x], at(b.x), s(b), c(b), f[x.x], at(x.x), s(x), c(x), n);
        break;
      }
      case 'unary': unaryLoop(ins.fn, f[ins.d], at(ins.d), f[ins.a.x], at(ins.a.x), s(ins.a), c(ins.a), n); break;
      case 'copy': unaryLoop('id', f[ins.d], at(ins.d), f[ins.a.x], at(ins.a.x), s(ins.a), c(ins.a), n); break;
      case 'select': {
        const { a, b, then: x, else: y } = ins;
        selectLoop(ins.cmp, f[ins.d], at(ins.d), f[a.x], at(a.x), s(a), c(a), f[b.x], at(b.x), s(b), c(b), f[x.x], at(x.x), s(x), c(x), f[y.x], at(y.x), s(y), c(y), n);
        break;
      }
      case 'branch': exec(compare(ins.cmp, f[ins.a][0], f[ins.b][0]) ? ins.then : ins.else, f, namedEnd, start, n); break;
    }
  }
}

// One loop per operation (the switch is outside the loop); operand x is read as (sx·x[xo + i] + cx).
function binaryLoop(fn: BinaryOp, d: Arr, dO: number, a: Arr, aO: number, sa: number, ca: number, b: Arr, bO: number, sb: number, cb: number, n: number): void {
  switch (fn) {
    case '+': for (let i = 0; i < n; i++) d[dO + i] = (sa * a[aO + i] + ca) + (sb * b[bO + i] + cb); return;
    case '-': for (let i = 0; i < n; i++) d[dO + i] = (sa * a[aO + i] + ca) - (sb * b[bO + i] + cb); return;
    case '*': for (let i = 0; i < n; i++) d[dO + i] = (sa * a[aO + i] + ca) * (sb * b[bO + i] + cb); return;
    case '/': for (let i = 0; i < n; i++) d[dO + i] = (sa * a[aO + i] + ca) / (sb * b[bO + i] + cb); return;
    case 'max': for (let i = 0; i < n; i++) d[dO + i] = Math.max(sa * a[aO + i] + ca, sb * b[bO + i] + cb); return;
  }
}

function ternaryLoop(fn: TernaryOp, d: Arr, dO: number, a: Arr, aO: number, sa: number, ca: number, b: Arr, bO: number, sb: number, cb: number, c: Arr, cO: number, sc: number, cc: number, n: number): void {
  switch (fn) {
    case '+*': for (let i = 0; i < n; i++) d[dO + i] = (sa * a[aO + i] + ca) + (sb * b[bO + i] + cb) * (sc * c[cO + i] + cc); return;
    case '+/': for (let i = 0; i < n; i++) d[dO + i] = (sa * a[aO + i] + ca) + (sb * b[bO + i] + cb) / (sc * c[cO + i] + cc); return;
    case '-*': for (let i = 0; i < n; i++) d[dO + i] = (sa * a[aO + i] + ca) - (sb * b[bO + i] + cb) * (sc * c[cO + i] + cc); return;
    case '-/': for (let i = 0; i < n; i++) d[dO + i] = (sa * a[aO + i] + ca) - (sb * b[bO + i] + cb) / (sc * c[cO + i] + cc); return;
  }
}

function unaryLoop(fn: UnaryOp | 'id', d: Arr, dO: number, a: Arr, aO: number, sa: number, ca: number, n: number): void {
  switch (fn) {
    case 'id': for (let i = 0; i < n; i++) d[dO + i] = sa * a[aO + i] + ca; return;
    case 'neg': for (let i = 0; i < n; i++) d[dO + i] = -(sa * a[aO + i] + ca); return;
    case 'sqrt': for (let i = 0; i < n; i++) d[dO + i] = Math.sqrt(sa * a[aO + i] + ca); return;
    case 'abs': for (let i = 0; i < n; i++) d[dO + i] = Math.abs(sa * a[aO + i] + ca); return;
  }
}

function selectLoop(
  cmp: CompareOp, d: Arr, dO: number,
  a: Arr, aO: number, sa: number, ca: number, b: Arr, bO: number, sb: number, cb: number,
  x: Arr, xO: number, sx: number, cx: number, y: Arr, yO: number, sy: number, cy: number, n: number,
): void {
  for (let i = 0; i < n; i++) {
    const l = sa * a[aO + i] + ca, r = sb * b[bO + i] + cb;
    d[dO + i] = (cmp === '>' ? l > r : cmp === '<' ? l < r : l === r) ? sx * x[xO + i] + cx : sy * y[yO + i] + cy;
  }
}

/**
 * The instructions as wat.ts's VM_OP words: operands [x, scale, add, subtract]; a branch's else and
 * a jump's target as byte addresses from 0 (where wasmVectorProgram puts the code).
 */
function encode(code: readonly Instr[], out: number[] = []): number[] {
  const operand = (o: Operand) => out.push(o.x, o.scale, o.add, o.subtract ? 1 : 0);
  for (const ins of code) {
    switch (ins.op) {
      case 'binary': out.push(VM_OP.binary, VM_FN.binary[ins.fn], ins.d); operand(ins.a); operand(ins.b); break;
      case 'ternary': out.push(VM_OP.ternary, VM_FN.ternary[ins.fn], ins.d); operand(ins.a); operand(ins.b); operand(ins.c); break;
      case 'unary': out.push(VM_OP.unary, VM_FN.unary[ins.fn], ins.d); operand(ins.a); break;
      case 'copy': out.push(VM_OP.unary, VM_FN.unary.id, ins.d); operand(ins.a); break;
      case 'select': out.push(VM_OP.select, VM_CMP[ins.cmp], ins.d); operand(ins.a); operand(ins.b); operand(ins.then); operand(ins.else); break;
      case 'branch': {
        const at = out.length;
        out.push(VM_OP.branch, VM_CMP[ins.cmp], ins.a, ins.b, 0);
        encode(ins.then, out);
        const jump = out.length;
        out.push(VM_OP.jump, 0);
        out[at + 4] = out.length * 4;
        encode(ins.else, out);
        out[jump + 1] = out.length * 4;
        break;
      }
    }
  }
  return out;
}

