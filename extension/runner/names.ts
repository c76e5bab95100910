/**
 * Variable names for traced nodes: `const q = x.add(y)` names the node the `add` call returned `q`.
 *
 * The bundled model (plain JS after esbuild) is parsed with acorn. For every call whose result is
 * bound to a name — a variable declaration, an assignment to a variable or a property — we note the
 * position V8 reports for that call in stack traces, so a node's call site (read from V8 at creation)
 * finds its name with one map lookup.
 */
import * as acorn from 'acorn';
import { simple as walkSimple } from 'acorn-walk';

/** A bound name and where its identifier is in the bundle (to read the original spelling through the source map). */
export interface BoundName {
  name: string;
  line: number;
  /** 0-based column of the identifier in the bundle. */
  column: number;
}

/** "line:column" (1-based, V8 style) of a call → the name its result is bound to. */
export type NameIndex = Map<string, BoundName>;

export function siteKey(line: number, column: number): string {
  return `${line}:${column}`;
}

type AnyNode = acorn.Node & Record<string, any>;

/**
 * The positions V8 may report for a call: the property of a method call, the callee identifier,
 * `new`, else the `(`. A method named by a reserved word (`x.var(…)`, `o.new(…)`) is reported at its
 * `(` instead, so a method call gets both positions (no other call is reported at that `(`).
 */
function callPositions(code: string, call: AnyNode): number[] {
  if (call.type === 'NewExpression') return [call.start];
  const callee = call.callee as AnyNode;
  const paren = code.indexOf('(', callee.end);
  if (callee.type === 'MemberExpression') return callee.computed ? [callee.object.end] : paren >= 0 ? [callee.property.start, paren] : [callee.property.start];
  if (callee.type === 'Identifier') return [callee.start];
  return [paren >= 0 ? paren : callee.start];
}

/** Strips wrappers that do not change which call produced the value. */
function unwrap(node: AnyNode | null | undefined): AnyNode | null {
  let n = node ?? null;
  while (n) {
    if (n.type === 'ChainExpression' || n.type === 'AwaitExpression' || n.type === 'ParenthesizedExpression') n = n.expression ?? n.argument;
    else if (n.type === 'SequenceExpression') n = n.expressions[n.expressions.length - 1];
    else break;
  }
  return n && (n.type === 'CallExpression' || n.type === 'NewExpression') ? n : null;
}

/** Builds the index for a bundle; a bundle acorn cannot parse yields an empty index (names are a nicety). */
export function buildNameIndex(code: string): NameIndex {
  const index: NameIndex = new Map();
  let ast: acorn.Node;
  try {
    ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script', locations: true, allowHashBang: true, allowReturnOutsideFunction: true });
  } catch {
    return index;
  }
  const lineCol = (pos: number, loc: acorn.SourceLocation | null | undefined) => {
    // acorn gives line (1-based) and column (0-based) for node starts; compute for arbitrary offsets
    if (loc && loc.start) return loc.start;
    return acorn.getLineInfo(code, pos);
  };
  const bind = (valueNode: AnyNode | null | undefined, id: AnyNode) => {
    const call = unwrap(valueNode);
    if (!call) return;
    let nameNode: AnyNode | null = null;
    if (id.type === 'Identifier') nameNode = id;
    else if (id.type === 'MemberExpression' && !id.computed && id.property.type === 'Identifier') nameNode = id.property;
    if (!nameNode) return;
    const idLoc = lineCol(nameNode.start, nameNode.loc);
    callPositions(code, call).forEach((pos, i) => {
      const at = acorn.getLineInfo(code, pos);
      const key = siteKey(at.line, at.column + 1);
      if (i === 0 || !index.has(key)) index.set(key, { name: nameNode!.name, line: idLoc.line, column: idLoc.column });
    });
  };
  walkSimple(ast, {
    VariableDeclarator(n: AnyNode) {
      bind(n.init, n.id);
    },
    AssignmentExpression(n: AnyNode) {
      if (n.operator === '=') bind(n.right, n.left);
    },
    PropertyDefinition(n: AnyNode) {
      if (!n.computed && n.key?.type === 'Identifier') bind(n.value, n.key);
    },
  });
  return index;
}

const IDENT = /^[A-Za-z_$][\w$]*/;
const NOT_NAMES = new Set(['export', 'default', 'const', 'let', 'var', 'this', 'return']);

/**
 * The name as the user wrote it: the bundle may rename a variable (`x` → `x2`) to avoid clashes, so
 * read the identifier at its original position when the source map has one, else keep the bundle's.
 */
export function originalSpelling(bundleName: string, original: { text: string; line: number; column: number } | null): string | null {
  if (/_default$/.test(bundleName)) return null; // `export default <call>` is bound to a generated name
  if (original) {
    const lineText = original.text.split(/\r?\n/)[original.line - 1] ?? '';
    const m = IDENT.exec(lineText.slice(original.column));
    if (m && !NOT_NAMES.has(m[0])) return m[0];
  }
  return bundleName;
}
