/**
 * Pipeline stage 2: snapshot → view model. Decides what each node says and how big it is (sized by
 * its measured text, so nothing clips), the edges, and the clusters (module scopes and composite
 * ops). Pure apart from the text measurer it is given.
 */
import type { GraphSnapshot, SnapshotNode } from '../extension/protocol';
import { fmt, shapeText, tensorBrief } from './format';
import { edgeKey } from './stepper';

export type TextClass = 'label' | 'op' | 'value' | 'shape' | 'grad' | 'grad-key' | 'cluster-label';
/** Text width in px; `lineMetrics` gives the font's ascent and descent (rows are spaced by them). */
export type Measure = ((cls: TextClass, text: string) => number) & { lineMetrics?: (cls: TextClass) => { ascent: number; descent: number } };

/** Node geometry (px, before zoom). */
export const G = {
  padX: 10,
  padY: 7,
  line: 18,
  gap: 14,
  cell: 7,
  cellGap: 1,
  heatCols: 16,
  heatMax: 64,
  bar: 3,
  minWidth: 64,
} as const;

export interface ViewNode {
  id: number;
  key: string;
  node: SnapshotNode;
  kind: 'op' | 'param' | 'input' | 'constant';
  title: string;
  opText: string;
  shapeText: string;
  /** The final value text (forward stepping hides it until reached). */
  valueText: string;
  hasGradRow: boolean;
  /** x of the gradient number (after the ∂ key). */
  gradX: number;
  heat: { rows: number; cols: number } | null;
  /** Row height and the baseline offset within a row. */
  line: number;
  ascent: number;
  width: number;
  height: number;
  cluster: string | null;
}

export interface ViewEdge {
  key: string;
  /** `from->to` (the stepper's edge key; parallel edges share it). */
  pair: string;
  from: number;
  to: number;
  index: number;
  /** Mean |contribution| the backward pass sent along this edge (null when none or unknown). */
  gradMagnitude: number | null;
}

export interface ViewCluster {
  key: string;
  label: string;
  kind: 'scope' | 'group';
  parent: string | null;
}

export interface ViewModel {
  nodes: ViewNode[];
  edges: ViewEdge[];
  clusters: ViewCluster[];
  byId: Map<number, ViewNode>;
}

function opText(n: SnapshotNode): string {
  if (n.op === 'leaf') return n.leaf === 'constant' ? 'const' : (n.leaf ?? 'leaf');
  return n.symbol && n.symbol !== n.op && n.symbol !== n.label ? `${n.symbol} ${n.op}` : n.op;
}

function heatmap(n: SnapshotNode): ViewNode['heat'] {
  if (!n.value || n.value.length < 2 || n.value.length > G.heatMax || n.shape.length === 0) return null;
  const last = n.shape[n.shape.length - 1] || 1;
  const cols = Math.max(1, Math.min(last, G.heatCols));
  return { rows: Math.ceil(n.value.length / cols), cols };
}

/** Every gradient text a node can show while stepping (so its box never has to grow). */
function gradTexts(s: GraphSnapshot, n: SnapshotNode): string[] {
  const out = [tensorBrief(n.grad, n.gradStats, n.size)];
  for (const r of s.backward) {
    if (r.node === n.id) out.push(tensorBrief(r.upstreamGrad, n.gradStats, n.size));
    for (const i of r.inputs) if (i.input === n.id) out.push(tensorBrief(i.accumulatedGrad, n.gradStats, n.size));
  }
  return out;
}

function clusters(s: GraphSnapshot): { list: ViewCluster[]; of: (n: SnapshotNode) => string | null } {
  const list = new Map<string, ViewCluster>();
  const scopeKey = (scope: string) => `scope:${scope}`;
  const groupKey = (g: number) => `group:${g}`;
  const scopes = new Set(s.nodes.map((n) => n.scope).filter((x): x is string => !!x));
  const parentScope = (scope: string): string | null => {
    for (let cut = scope.lastIndexOf('.'); cut > 0; cut = scope.lastIndexOf('.', cut - 1)) {
      const p = scope.slice(0, cut);
      if (scopes.has(p)) return scopeKey(p);
    }
    return null;
  };
  for (const sc of scopes) list.set(scopeKey(sc), { key: scopeKey(sc), label: sc, kind: 'scope', parent: parentScope(sc) });
  // A group sits in its parent group, else in the scope of its first node.
  const firstNode = new Map<number, SnapshotNode>();
  for (const n of s.nodes) if (n.group !== null && n.group !== undefined && !firstNode.has(n.group)) firstNode.set(n.group, n);
  for (const g of s.groups) {
    const first = firstNode.get(g.id);
    if (!first) continue;
    list.set(groupKey(g.id), { key: groupKey(g.id), label: g.name, kind: 'group', parent: null });
  }
  for (const g of s.groups) {
    const c = list.get(groupKey(g.id));
    if (!c) continue;
    const pg = g.parent !== null && list.has(groupKey(g.parent)) ? groupKey(g.parent) : null;
    const sc = firstNode.get(g.id)?.scope;
    c.parent = pg ?? (sc ? scopeKey(sc) : null);
  }
  const of = (n: SnapshotNode): string | null => {
    if (n.group !== null && n.group !== undefined && list.has(groupKey(n.group))) return groupKey(n.group);
    return n.scope ? scopeKey(n.scope) : null;
  };
  return { list: [...list.values()], of };
}

export function buildViewModel(s: GraphSnapshot, measure: Measure, withClusters = true): ViewModel {
  const cl = withClusters ? clusters(s) : { list: [], of: () => null };
  // rows as tall as the tallest font in them needs (fonts come from the theme)
  const rowClasses: TextClass[] = ['label', 'value', 'grad', 'grad-key'];
  const metrics = rowClasses.map((c) => measure.lineMetrics?.(c) ?? { ascent: 12, descent: 4 });
  const ascent = Math.ceil(Math.max(...metrics.map((m) => m.ascent)));
  const line = Math.max(G.line, Math.ceil(Math.max(...metrics.map((m) => m.ascent + m.descent))) + 4);
  const nodes: ViewNode[] = s.nodes.map((n) => {
    const kind: ViewNode['kind'] = n.op === 'leaf' ? (n.leaf ?? 'constant') : 'op';
    const title = n.label || (n.name ?? n.op);
    const op = opText(n);
    const shape = shapeText(n.shape);
    const valueText = tensorBrief(n.value, n.stats, n.size, fmt);
    const hasGradRow = n.requiresGrad || n.gradStats !== null;
    const heat = heatmap(n);
    const row1 = measure('label', title) + G.gap + measure('op', op);
    const row2 = measure('value', valueText) + G.gap + measure('shape', shape);
    const gradX = G.padX + measure('grad-key', '∂') + 4;
    const row3 = hasGradRow ? gradX - G.padX + Math.max(...gradTexts(s, n).map((t) => measure('grad', t))) : 0;
    const heatW = heat ? heat.cols * (G.cell + G.cellGap) : 0;
    const width = Math.ceil(Math.max(G.minWidth, row1, row2, row3, heatW) + 2 * G.padX);
    const rows = hasGradRow ? 3 : 2;
    const height = Math.ceil(2 * G.padY + rows * line + (heat ? heat.rows * (G.cell + G.cellGap) + 4 : 0) + (hasGradRow ? G.bar + 2 : 0));
    return { id: n.id, key: `n${n.id}`, node: n, kind, title, opText: op, shapeText: shape, valueText, hasGradRow, gradX, heat, line, ascent, width, height, cluster: cl.of(n) };
  });
  const magnitude = new Map<string, number>();
  for (const r of s.backward) {
    for (const i of r.inputs) {
      if (!i.contribution || i.contribution.length === 0) continue;
      let sum = 0;
      for (const v of i.contribution) sum += Math.abs(v);
      magnitude.set(edgeKey(i.input, r.node), sum / i.contribution.length);
    }
  }
  const edges: ViewEdge[] = [];
  for (const n of s.nodes) {
    const seen = new Map<number, number>();
    n.inputs.forEach((from) => {
      const dup = seen.get(from) ?? 0;
      seen.set(from, dup + 1);
      edges.push({ key: `${from}->${n.id}#${dup}`, pair: edgeKey(from, n.id), from, to: n.id, index: dup, gradMagnitude: magnitude.get(edgeKey(from, n.id)) ?? null });
    });
  }
  return { nodes, edges, clusters: cl.list, byId: new Map(nodes.map((v) => [v.id, v])) };
}
