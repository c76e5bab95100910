/**
 * Pipeline stage 2b: snapshot → view model. Decides what each node says and how big it is (sized by
 * its measured text, so nothing clips), the edges, and which clusters of the group tree (groups.ts)
 * are drawn. A collapsed cluster becomes one node that shows its output's value and gradient; the
 * edges into and out of it are rerouted to that node. Pure apart from the text measurer it is given.
 */
import type { GraphSnapshot, SnapshotNode } from '../extension/protocol';
import { faceText, shapeText, tensorBrief } from './format';
import { buildGroupTree, consumersOf, groupOutput, type GroupTree, type ViewCluster } from './groups';
import { findNonFinite, type NonFinite } from './nonfinite';
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

/** Width of a codicon in a node's first row (the glyphs are square), and the gap after it. */
export const ICON = 14;
export const ICON_GAP = 4;
export type NodeIcon = 'toggle' | 'warning';

export interface ViewNode {
  /** The snapshot node shown; for a collapsed group, the group's output node. */
  id: number;
  /** `n<id>`, or `c:<cluster key>` for a collapsed group. */
  key: string;
  node: SnapshotNode;
  kind: 'op' | 'param' | 'input' | 'constant' | 'group';
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
  /** The (expanded) cluster the node sits in. */
  cluster: string | null;
  /** Codicons before the title, and where the title starts. */
  icons: NodeIcon[];
  labelX: number;
  /** NaN/Inf: 'first' where it first appears, 'other' for other non-finite values or gradients. */
  nonfinite: 'first' | 'other' | null;
  /** A collapsed group: the cluster it stands for and the snapshot nodes inside it. */
  group: { key: string; kind: ViewCluster['kind']; label: string; members: number[] } | null;
}

export interface ViewEdge {
  key: string;
  /** The stepper's edge keys `from->to` this edge stands for (several when it enters or leaves a collapsed group). */
  pairs: string[];
  /** Visible endpoints: snapshot ids (a collapsed group's output id) and view-node keys. */
  from: number;
  to: number;
  fromKey: string;
  toKey: string;
  index: number;
  /** Mean |contribution| the backward pass sent along this edge (null when none or unknown). */
  gradMagnitude: number | null;
}

export interface ViewModel {
  nodes: ViewNode[];
  edges: ViewEdge[];
  /** Expanded clusters with something visible inside (the layout's compound nodes). */
  clusters: ViewCluster[];
  /** Every snapshot node id → the view node that shows it (itself, or its collapsed group). */
  byId: Map<number, ViewNode>;
  tree: GroupTree;
  /** The collapsed clusters in effect. */
  collapsed: Set<string>;
  nonfinite: NonFinite;
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

/** Every gradient text each node can show while stepping (so its box never has to grow). */
function gradTexts(s: GraphSnapshot): Map<number, string[]> {
  const out = new Map<number, string[]>();
  const add = (id: number, t: string) => (out.get(id) ?? out.set(id, []).get(id)!).push(t);
  for (const n of s.nodes) add(n.id, tensorBrief(n.grad, n.gradStats, n.size));
  for (const r of s.backward) {
    const n = s.nodes[r.node];
    add(r.node, tensorBrief(r.upstreamGrad, n.gradStats, n.size));
    for (const i of r.inputs) {
      const m = s.nodes[i.input];
      add(i.input, tensorBrief(i.accumulatedGrad, m.gradStats, m.size));
    }
  }
  return out;
}

export interface ViewOptions {
  /** Cluster keys to show collapsed (unknown keys are ignored). */
  collapsed?: Iterable<string>;
  /** Draw clusters at all (default true). */
  withClusters?: boolean;
  tree?: GroupTree;
  nonfinite?: NonFinite;
}

export function buildViewModel(s: GraphSnapshot, measure: Measure, opts: ViewOptions = {}): ViewModel {
  const withClusters = opts.withClusters ?? true;
  const tree = opts.tree ?? buildGroupTree(s);
  const nonfinite = opts.nonfinite ?? findNonFinite(s);
  const clusterOf = (id: number) => (withClusters ? tree.of[id] ?? null : null);
  const collapsed = new Set([...(opts.collapsed ?? [])].filter((k) => withClusters && tree.members.has(k)));

  // rows as tall as the tallest font in them needs (fonts come from the theme)
  const rowClasses: TextClass[] = ['label', 'value', 'grad', 'grad-key'];
  const metrics = rowClasses.map((c) => measure.lineMetrics?.(c) ?? { ascent: 12, descent: 4 });
  const ascent = Math.ceil(Math.max(...metrics.map((m) => m.ascent)));
  const line = Math.max(G.line, Math.ceil(Math.max(...metrics.map((m) => m.ascent + m.descent))) + 4);
  const grads = gradTexts(s);
  const consumers = consumersOf(s);

  const make = (n: SnapshotNode, key: string, cluster: string | null, group: ViewNode['group']): ViewNode => {
    const kind: ViewNode['kind'] = group ? 'group' : n.op === 'leaf' ? (n.leaf ?? 'constant') : 'op';
    const inside = group ? group.members : [n.id];
    const nf: ViewNode['nonfinite'] = nonfinite.first !== null && inside.includes(nonfinite.first) ? 'first' : inside.some((m) => nonfinite.others.has(m)) ? 'other' : null;
    const icons: NodeIcon[] = [];
    if (group) icons.push('toggle');
    if (nf) icons.push('warning');
    const labelX = G.padX + icons.length * (ICON + ICON_GAP);
    const title = group ? group.label : n.label || (n.name ?? n.op);
    const op = group ? (group.kind === 'expr' ? 'expression' : group.kind === 'leaves' ? n.leaf ?? 'leaves' : n.name ? `→ ${faceText(n.name)}` : `${group.members.length} nodes`) : opText(n);
    const shape = shapeText(n.shape);
    const valueText = tensorBrief(n.value, n.stats, n.size);
    const hasGradRow = n.requiresGrad || n.gradStats !== null;
    const heat = heatmap(n);
    // the face shows the title cut to FACE_CHARS (render.ts draws faceText(title)), so a long name cannot widen the node
    const row1 = labelX - G.padX + measure('label', faceText(title)) + G.gap + measure('op', op);
    const row2 = measure('value', valueText) + G.gap + measure('shape', shape);
    const gradX = G.padX + measure('grad-key', '∂') + 4;
    const row3 = hasGradRow ? gradX - G.padX + Math.max(...(grads.get(n.id) ?? ['']).map((t) => measure('grad', t))) : 0;
    const heatW = heat ? heat.cols * (G.cell + G.cellGap) : 0;
    const width = Math.ceil(Math.max(G.minWidth, row1, row2, row3, heatW) + 2 * G.padX);
    const rows = hasGradRow ? 3 : 2;
    const height = Math.ceil(2 * G.padY + rows * line + (heat ? heat.rows * (G.cell + G.cellGap) + 4 : 0) + (hasGradRow ? G.bar + 2 : 0));
    return {
      id: n.id, key, node: n, kind, title, opText: op, shapeText: shape, valueText, hasGradRow, gradX, heat, line, ascent, width, height,
      cluster, icons, labelX, nonfinite: nf, group,
    };
  };

  // Each node is shown by the outermost collapsed cluster around it, else by itself.
  const nodes: ViewNode[] = [];
  const byId = new Map<number, ViewNode>();
  const groupNodes = new Map<string, ViewNode>();
  for (const n of s.nodes) {
    let hiddenBy: string | null = null;
    for (let c = clusterOf(n.id); c; c = tree.clusters.get(c)?.parent ?? null) if (collapsed.has(c)) hiddenBy = c;
    if (!hiddenBy) {
      const v = make(n, `n${n.id}`, clusterOf(n.id), null);
      nodes.push(v);
      byId.set(n.id, v);
      continue;
    }
    let v = groupNodes.get(hiddenBy);
    if (!v) {
      const c = tree.clusters.get(hiddenBy)!;
      const members = tree.members.get(hiddenBy)!;
      const out = s.nodes[groupOutput(s, members, consumers)];
      v = make(out, `c:${hiddenBy}`, c.parent, { key: hiddenBy, kind: c.kind, label: c.label, members });
      groupNodes.set(hiddenBy, v);
      nodes.push(v);
    }
    byId.set(n.id, v);
  }

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
  const merged = new Map<string, ViewEdge>();
  for (const n of s.nodes) {
    const seen = new Map<number, number>();
    const to = byId.get(n.id)!;
    n.inputs.forEach((fromId) => {
      const dup = seen.get(fromId) ?? 0;
      seen.set(fromId, dup + 1);
      const from = byId.get(fromId)!;
      if (from === to) return; // inside one collapsed group
      const pair = edgeKey(fromId, n.id);
      const mag = magnitude.get(pair) ?? null;
      if (!from.group && !to.group) {
        edges.push({ key: `${fromId}->${n.id}#${dup}`, pairs: [pair], from: fromId, to: n.id, fromKey: from.key, toKey: to.key, index: dup, gradMagnitude: mag });
        return;
      }
      // edges into or out of a collapsed group: one edge per pair of visible nodes
      const key = `${from.key}->${to.key}`;
      const e = merged.get(key);
      if (e) {
        if (!e.pairs.includes(pair)) e.pairs.push(pair);
        if (mag !== null) e.gradMagnitude = Math.max(e.gradMagnitude ?? 0, mag);
        return;
      }
      const edge: ViewEdge = { key, pairs: [pair], from: from.id, to: to.id, fromKey: from.key, toKey: to.key, index: 0, gradMagnitude: mag };
      merged.set(key, edge);
      edges.push(edge);
    });
  }

  // clusters the layout needs: expanded ones with something visible inside
  const used = new Set<string>();
  for (const v of nodes) for (let c = v.cluster; c && !used.has(c); c = tree.clusters.get(c)?.parent ?? null) used.add(c);
  const clusters = withClusters ? [...tree.clusters.values()].filter((c) => used.has(c.key)) : [];
  return { nodes, edges, clusters, byId, tree, collapsed, nonfinite };
}
