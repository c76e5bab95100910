/**
 * The small algebra the optimizers' update rules are written in (rules.ts): per-element
 * assignments such as `m = beta1*m + (1 - beta1)*g`, parsed once into trees that two evaluators
 * read, the CPU's (evaluate.ts, array at a time in float64) and the GPU's (wgsl.ts, one WGSL
 * statement each). The text is parsed, never run: the engine runs under a CSP without `eval`.
 *
 * Names are resolved when a rule is parsed, in this order:
 *   element values  `g` (the gradient), `w` (the weight), the rule's slots and earlier `let`s;
 *   step scalars    `lr`, `t`, `norm` and the rule's host scalars, one number per step and parameter;
 *   constants       the optimizer's settings (`beta1`, `eps`, …), folded at parse time.
 * Operators: + − × ÷ with JavaScript's precedence and left associativity (so a rule copied from
 * JavaScript keeps its order of floating-point operations), unary −, `sqrt`, `abs`, `max`, and
 * `a > b ? x : y` (also `<`, `==`).
 */

export type UnaryOp = 'neg' | 'sqrt' | 'abs';
export type BinaryOp = '+' | '-' | '*' | '/' | 'max';
export type CompareOp = '>' | '<' | '==';

export type Expr =
  | { kind: 'num'; value: number }
  | { kind: 'element'; name: string }
  | { kind: 'scalar'; name: string }
  | { kind: 'unary'; op: UnaryOp; a: Expr }
  | { kind: 'binary'; op: BinaryOp; a: Expr; b: Expr }
  | { kind: 'select'; cmp: CompareOp; a: Expr; b: Expr; then: Expr; else: Expr };

/** One assignment: to `g`, `w` or a slot (stored, so a float32 weight is rounded), or a new `let` (kept in float64). */
export interface Stmt {
  target: string;
  isLet: boolean;
  value: Expr;
}

/** What a rule's names mean. */
export interface Scope {
  /** Arrays the rule reads and assigns: `g`, `w`, the slots. */
  elements: readonly string[];
  /** Numbers that change per step: `lr`, `t`, `norm`, the rule's host scalars. */
  scalars: readonly string[];
  /** Numbers fixed for the optimizer's life: its settings. */
  constants: Readonly<Record<string, unknown>>;
}

/** How often an expression's value changes: never, once per step, or per element. */
export type Rate = 'const' | 'step' | 'element';

export function rateOf(e: Expr): Rate {
  switch (e.kind) {
    case 'num': return 'const';
    case 'scalar': return 'step';
    case 'element': return 'element';
    case 'unary': return rateOf(e.a);
    case 'binary': return maxRate(rateOf(e.a), rateOf(e.b));
    case 'select': return [e.a, e.b, e.then, e.else].map(rateOf).reduce(maxRate);
  }
}

const RANK: Record<Rate, number> = { const: 0, step: 1, element: 2 };
const maxRate = (a: Rate, b: Rate): Rate => (RANK[a] >= RANK[b] ? a : b);

/** The number operations, in float64: the one definition both the folding and the CPU evaluator use. */
export function unary(op: UnaryOp, a: number): number {
  return op === 'neg' ? -a : op === 'sqrt' ? Math.sqrt(a) : Math.abs(a);
}
export function binary(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': return a / b;
    case 'max': return Math.max(a, b);
  }
}
export function compare(op: CompareOp, a: number, b: number): boolean {
  return op === '>' ? a > b : op === '<' ? a < b : a === b;
}

/** The value of an expression without elements, from the step scalars' values. */
export function evalScalar(e: Expr, scalars: Readonly<Record<string, number>>): number {
  switch (e.kind) {
    case 'num': return e.value;
    case 'scalar': return scalars[e.name];
    case 'element': throw new Error(`optim: ${e.name} is per element, not a scalar`);
    case 'unary': return unary(e.op, evalScalar(e.a, scalars));
    case 'binary': return binary(e.op, evalScalar(e.a, scalars), evalScalar(e.b, scalars));
    case 'select': return compare(e.cmp, evalScalar(e.a, scalars), evalScalar(e.b, scalars)) ? evalScalar(e.then, scalars) : evalScalar(e.else, scalars);
  }
}

/** Canonical text of an expression (equal texts, equal values): for sharing step scalars. */
export function show(e: Expr): string {
  switch (e.kind) {
    case 'num': return String(e.value);
    case 'element':
    case 'scalar': return e.name;
    case 'unary': return `${e.op}(${show(e.a)})`;
    case 'binary': return e.op === 'max' ? `max(${show(e.a)}, ${show(e.b)})` : `(${show(e.a)} ${e.op} ${show(e.b)})`;
    case 'select': return `(${show(e.a)} ${e.cmp} ${show(e.b)} ? ${show(e.then)} : ${show(e.else)})`;
  }
}

// ------------------------------------------------------------------------------------------------
// Parsing

const TOKEN = /\s*(?:(\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?)|([A-Za-z_]\w*)|(==|[-+*/()?:,<>=]))/y;

/**
 * Parses assignments `target = expr` and `let name = expr`, one per string, resolving names in
 * `scope`; constant subexpressions are folded in float64 (as the JavaScript they were copied from
 * computes them). `where` names the rule in errors.
 */
export function parseRule(where: string, lines: readonly string[], scope: Scope): Stmt[] {
  const lets: string[] = [];
  return lines.map((line) => {
    const p = new Parser(where, line, scope, lets);
    const stmt = p.statement();
    if (stmt.isLet) lets.push(stmt.target);
    return stmt;
  });
}

class Parser {
  private readonly tokens: string[] = [];
  private pos = 0;
  constructor(private readonly where: string, private readonly text: string, private readonly scope: Scope, private readonly lets: readonly string[]) {
    TOKEN.lastIndex = 0;
    while (TOKEN.lastIndex < text.length) {
      const at = TOKEN.lastIndex;
      const m = TOKEN.exec(text);
      if (!m) {
        if (/^\s*$/.test(text.slice(at))) break;
        this.fail(`unexpected character at "${text.slice(at).trim()}"`);
      }
      this.tokens.push(m[1] ?? m[2] ?? m[3]);
    }
  }

  statement(): Stmt {
    const isLet = this.peek() === 'let';
    if (isLet) this.pos++;
    const target = this.next();
    if (!/^[A-Za-z_]\w*$/.test(target)) this.fail(`expected a name to assign, got "${target}"`);
    const taken = this.scope.elements.includes(target) || this.lets.includes(target);
    if (isLet && (taken || Object.hasOwn(this.scope.constants, target) || this.scope.scalars.includes(target))) this.fail(`let ${target} hides another name`);
    if (!isLet && !this.scope.elements.includes(target)) this.fail(`cannot assign ${target}: only g, w and the slots (${this.scope.elements.slice(2).join(', ') || 'none'}) can be assigned; use let for a temporary`);
    this.expect('=');
    const value = this.ternary();
    if (this.pos < this.tokens.length) this.fail(`unexpected "${this.tokens[this.pos]}"`);
    return { target, isLet, value };
  }

  private ternary(): Expr {
    const a = this.sum();
    const op = this.peek();
    if (op !== '>' && op !== '<' && op !== '==') return a;
    this.pos++;
    const b = this.sum();
    this.expect('?');
    const then = this.ternary();
    this.expect(':');
    return fold({ kind: 'select', cmp: op, a, b, then, else: this.ternary() });
  }

  private sum(): Expr {
    return this.leftAssociative(['+', '-'], () => this.product());
  }

  private product(): Expr {
    return this.leftAssociative(['*', '/'], () => this.prefix());
  }

  /** `a op b op c` as `(a op b) op c`, as JavaScript groups it. */
  private leftAssociative(ops: readonly BinaryOp[], operand: () => Expr): Expr {
    let e = operand();
    for (let op = this.peek() as BinaryOp; ops.includes(op); op = this.peek() as BinaryOp) {
      this.pos++;
      e = fold({ kind: 'binary', op, a: e, b: operand() });
    }
    return e;
  }

  private prefix(): Expr {
    if (this.peek() === '-') {
      this.pos++;
      return fold({ kind: 'unary', op: 'neg', a: this.prefix() });
    }
    return this.atom();
  }

  private atom(): Expr {
    const tok = this.next();
    if (tok === '(') {
      const e = this.ternary();
      this.expect(')');
      return e;
    }
    if (/^[\d.]/.test(tok)) return { kind: 'num', value: Number(tok) };
    if (!/^[A-Za-z_]\w*$/.test(tok)) this.fail(`unexpected "${tok}"`);
    if (this.peek() === '(') return this.call(tok);
    return this.name(tok);
  }

  private call(fn: string): Expr {
    this.expect('(');
    const args = [this.ternary()];
    while (this.peek() === ',') {
      this.pos++;
      args.push(this.ternary());
    }
    this.expect(')');
    if ((fn === 'sqrt' || fn === 'abs') && args.length === 1) return fold({ kind: 'unary', op: fn, a: args[0] });
    if (fn === 'max' && args.length === 2) return fold({ kind: 'binary', op: 'max', a: args[0], b: args[1] });
    return this.fail(`unknown function ${fn}/${args.length} (there are sqrt(x), abs(x), max(a, b))`);
  }

  private name(id: string): Expr {
    if (this.scope.elements.includes(id) || this.lets.includes(id)) return { kind: 'element', name: id };
    if (this.scope.scalars.includes(id)) return { kind: 'scalar', name: id };
    if (Object.hasOwn(this.scope.constants, id)) {
      const v = this.scope.constants[id];
      if (typeof v !== 'number') this.fail(`${id} is ${typeof v}, not a number`);
      return { kind: 'num', value: v as number };
    }
    return this.fail(`unknown name ${id}`);
  }

  private peek(): string | undefined {
    return this.tokens[this.pos];
  }
  private next(): string {
    if (this.pos >= this.tokens.length) this.fail('unexpected end');
    return this.tokens[this.pos++];
  }
  private expect(tok: string): void {
    const got = this.next();
    if (got !== tok) this.fail(`expected "${tok}", got "${got}"`);
  }
  private fail(why: string): never {
    throw new Error(`optim.${this.where}: in the update rule "${this.text}": ${why}`);
  }
}

/** Replaces an operation on constants by its value (computed in float64, as JavaScript would). */
function fold(e: Expr): Expr {
  if (e.kind === 'num' || rateOf(e) !== 'const') return e;
  return { kind: 'num', value: evalScalar(e, {}) };
}
