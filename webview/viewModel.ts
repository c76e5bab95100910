/**
 * Pipeline stage 2: snapshot → view model. Decides what each node says and how big it is (sized by
 * its measured text, so nothing clips), the edges, and the clusters (module scopes and composite
 * ops). A collapsed cluster becomes one node that shows its output's value and gradient; the edges
 * into and out of it are rerouted to that node. Pure apart from the text measurer it is given.
 */
import type { GraphSnapshot, SnapshotNode, TensorStats } from '../extension/protocol';
import { faceText, shapeText, tensorBrief } from './format';
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
/** Graphs with more nodes than this start collapsed to their outermost groups. */
export const COLLAPSE_ABOVE = 60;

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

export interface ViewCluster {
  key: string;
  label: string;
  /**
   * scope: a module (`mlp.layers.0`); group: a composite op (mse, linear…); expr: a subexpression
   * found in a large graph without such structure (everything that only flows out through one node);
   * leaves: many leaves created on one source line (a model's scalar weights).
   */
  kind: 'scope' | 'group' | 'expr' | 'leaves';
  parent: string | null;
}

/** Module scopes and composite ops, nested, with the nodes in each (no sizes: cheap). */
export interface GroupTree {
  clusters: Map<string, ViewCluster>;
  /** Innermost cluster of each node (by snapshot id). */
  of: (string | null)[];
  /** All nodes inside each cluster, nested ones included, in id order. */
  members: Map<string, number[]>;
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

export interface NonFinite {
  /** The node where NaN or Inf first appears: forward pass first, else backward; null when all is finite. */
  first: number | null;
  phase: 'forward' | 'backward' | null;
  /** 'NaN', 'Inf' or 'NaN and Inf'. */
  what: string;
  /** The engine's diagnosis for it, when there is one. */
  message: string | null;
  source: SnapshotNode['source'];
  /** Other nodes whose value or gradient holds NaN or Inf. */
  others: Set<number>;
}

// --- NaN and Inf ----------------------------------------------------------------------------------

const badStats = (st: TensorStats | null | undefined): boolean => !!st && ((st.nan ?? 0) > 0 || (st.inf ?? 0) > 0);

function whatOf(nan: number, inf: number): string {
  return nan > 0 ? (inf > 0 ? 'NaN and Inf' : 'NaN') : 'Inf';
}

function payloadBad(p: Float64Array | null | number): { nan: number; inf: number } | null {
  if (p === null) return null;
  const vals = typeof p === 'number' ? [p] : p;
  let nan = 0, inf = 0;
  for (const v of vals) {
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
  }
  return nan || inf ? { nan, inf } : null;
}

/**
 * Where NaN or Inf first appears: the engine's diagnosis (`nonfinite-forward`, else
 * `nonfinite-backward`), else the first node in forward order whose value has NaN/Inf, else the
 * first backward step that sent a non-finite gradient.
 */
export function findNonFinite(s: GraphSnapshot): NonFinite {
  const valid = (id: unknown): id is number => typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < s.nodes.length;
  const others = new Set<number>();
  for (const n of s.nodes) if (badStats(n.stats) || badStats(n.gradStats)) others.add(n.id);
  let first: number | null = null;
  let phase: NonFinite['phase'] = null;
  let what = '';
  let message: string | null = null;
  let source: SnapshotNode['source'] = null;
  const diag = (code: string) => s.diagnosis.find((d) => d && d.code === code && valid(d.node));
  const prefix = (m: string | null) => /^(NaN and Inf|NaN|Inf)\b/.exec(m ?? '')?.[1] ?? '';

  const fwd = diag('nonfinite-forward');
  const fwdNode = fwd ? (fwd.node as number) : s.nodes.find((n) => badStats(n.stats))?.id;
  if (fwdNode !== undefined) {
    const n = s.nodes[fwdNode];
    first = fwdNode;
    phase = 'forward';
    message = fwd ? String(fwd.message ?? '') : null;
    source = n.source ?? fwd?.source ?? null;
    what = prefix(message) || (n.stats ? whatOf(n.stats.nan ?? 0, n.stats.inf ?? 0) : 'NaN');
  } else {
    const bwd = diag('nonfinite-backward');
    let node: number | undefined = bwd ? (bwd.node as number) : undefined;
    let counts: { nan: number; inf: number } | null = null;
    if (node === undefined) {
      // the first step whose contribution to an input is not finite
      outer: for (const r of s.backward) {
        for (const i of r.inputs) {
          const c = payloadBad(i.contribution);
          if (c) {
            node = r.node;
            counts = c;
            break outer;
          }
        }
      }
    }
    if (node === undefined) {
      for (const r of s.backward) {
        const hit = r.inputs.find((i) => badStats(s.nodes[i.input]?.gradStats));
        if (hit) {
          node = r.node;
          const st = s.nodes[hit.input].gradStats!;
          counts = { nan: st.nan ?? 0, inf: st.inf ?? 0 };
          break;
        }
      }
    }
    if (node !== undefined) {
      first = node;
      phase = 'backward';
      message = bwd ? String(bwd.message ?? '') : null;
      source = s.nodes[node].source ?? bwd?.source ?? null;
      what = prefix(message) || (counts ? whatOf(counts.nan, counts.inf) : 'NaN');
    }
  }
  if (first !== null) others.delete(first);
  const bwdDiag = diag('nonfinite-backward');
  if (bwdDiag && bwdDiag.node !== first) others.add(bwdDiag.node as number);
  return { first, phase, what, message, source, others };
}

// --- groups ------------------------------------------------------------------------------------------

export function buildGroupTree(s: GraphSnapshot): GroupTree {
  const list = new Map<string, ViewCluster>();
  const scopeKey = (scope: string) => `scope:${scope}`;
  const groupKey = (g: number) => `group:${g}`;
  const scopes = new Set(s.nodes.map((n) => n.scope).filter((x): x is string => !!x && typeof x === 'string'));
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
  for (const n of s.nodes) if (typeof n.group === 'number' && !firstNode.has(n.group)) firstNode.set(n.group, n);
  for (const g of s.groups) {
    if (!g || !firstNode.has(g.id)) continue;
    list.set(groupKey(g.id), { key: groupKey(g.id), label: String(g.name), kind: 'group', parent: null });
  }
  for (const g of s.groups) {
    const c = g && list.get(groupKey(g.id));
    if (!c) continue;
    const pg = g.parent !== null && g.parent !== undefined && list.has(groupKey(g.parent)) ? groupKey(g.parent) : null;
    const sc = firstNode.get(g.id)?.scope;
    c.parent = pg ?? (sc ? scopeKey(sc) : null);
  }
  // guard against cycles in a malformed snapshot: a cluster that reaches itself loses its parent
  for (const c of list.values()) {
    const seen = new Set<string>([c.key]);
    for (let p = c.parent; p; p = list.get(p)?.parent ?? null) {
      if (seen.has(p)) {
        c.parent = null;
        break;
      }
      seen.add(p);
    }
  }
  const of: (string | null)[] = s.nodes.map((n) => {
    if (typeof n.group === 'number' && list.has(groupKey(n.group))) return groupKey(n.group);
    return n.scope && list.has(scopeKey(n.scope)) ? scopeKey(n.scope) : null;
  });
  // An unnamed constant the op created (mean's divisor) belongs where its only consumers are.
  const consumers = new Map<number, number[]>();
  for (const n of s.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n.id);
  for (const n of s.nodes) {
    if (n.op !== 'leaf' || n.leaf !== 'constant' || n.name || of[n.id] !== null) continue;
    const cs = consumers.get(n.id) ?? [];
    const c = cs.length ? of[cs[0]] : null;
    if (c && cs.every((u) => of[u] === c)) of[n.id] = c;
  }
  autoGroups(s, of, list, consumers);
  const members = new Map<string, number[]>();
  s.nodes.forEach((n) => {
    for (let c = of[n.id]; c; c = list.get(c)?.parent ?? null) (members.get(c) ?? members.set(c, []).get(c)!).push(n.id);
  });
  return { clusters: list, of, members };
}

/** Graphs with more ungrouped nodes than this get automatic groups (see autoGroups). */
export const AUTO_GROUP_ABOVE = 400;
/** The smallest automatic subexpression group, in nodes. */
const EXPR_MIN = 12;
/** The fewest leaves on one source line that make a group. */
const LEAVES_MIN = 8;

/**
 * Large graphs without modules or composite ops — micrograd-style scalar code — get groups from
 * their structure, so they open collapsed to something readable:
 * - leaves: the params or inputs created on one source line, when there are many (`w ×320 · line 5`);
 * - expr: subexpressions. A node's immediate post-dominator is the first node every path from it to
 *   the output goes through; the nodes it post-dominates only matter through it (a data point's loss
 *   term and everything computed for that point). Along each node's largest child subtree the chain
 *   continues without a group (a running sum stays flat); the other children of at least EXPR_MIN
 *   nodes become groups, nested as the post-dominator tree nests them, each named after its output.
 * Only nodes no scope or composite group holds are considered. Keys are stable while the graph is.
 */
function autoGroups(s: GraphSnapshot, of: (string | null)[], list: Map<string, ViewCluster>, consumers: Map<number, number[]>): void {
  const free = (id: number) => of[id] === null;
  if (s.nodes.filter((n) => free(n.id)).length <= AUTO_GROUP_ABOVE) return;
  const n = s.nodes.length;
  const isLeaf = (id: number) => s.nodes[id].op === 'leaf';

  // leaves by source line
  const byLine = new Map<string, number[]>();
  for (const node of s.nodes) {
    if (!free(node.id) || node.op !== 'leaf' || node.leaf === 'constant' || !node.source) continue;
    const k = `${node.source.file}:${node.source.line}`;
    (byLine.get(k) ?? byLine.set(k, []).get(k)!).push(node.id);
  }
  for (const [k, ids] of byLine) {
    if (ids.length < LEAVES_MIN) continue;
    const first = s.nodes[ids[0]];
    const names = new Set(ids.map((id) => s.nodes[id].name ?? ''));
    const what = names.size === 1 && first.name ? first.name : first.leaf === 'param' ? 'params' : 'inputs';
    const key = `leaves:${k}`;
    list.set(key, { key, label: `${what} ×${ids.length} · line ${first.source!.line}`, kind: 'leaves', parent: null });
    for (const id of ids) of[id] = key;
  }

  // immediate post-dominators, in reverse forward order (consumers come after their inputs)
  const ROOT = -1;
  const ipdom = new Int32Array(n).fill(ROOT);
  const depth = new Int32Array(n);
  const lca = (a: number, b: number): number => {
    while (a !== b) {
      if (a === ROOT || b === ROOT) return ROOT;
      if (depth[a] >= depth[b]) a = ipdom[a];
      else b = ipdom[b];
    }
    return a;
  };
  for (let id = n - 1; id >= 0; id--) {
    if (id === s.output) continue;
    const cs = consumers.get(id) ?? [];
    let d = cs.length ? cs[0] : ROOT;
    for (let k = 1; k < cs.length && d !== ROOT; k++) d = lca(d, cs[k]);
    ipdom[id] = d;
    depth[id] = d === ROOT ? 1 : depth[d] + 1;
  }
  // subtree sizes over the nodes that can be grouped (free, not leaves on a grouped line)
  const groupable = (id: number) => of[id] === null;
  const size = new Int32Array(n);
  const children = new Map<number, number[]>();
  for (let id = 0; id < n; id++) {
    if (groupable(id)) size[id] += 1;
    const p = ipdom[id];
    if (p === ROOT) continue;
    size[p] += size[id];
    if (size[id] > 0) (children.get(p) ?? children.set(p, []).get(p)!).push(id);
  }
  // groups: children off the heavy chain with at least EXPR_MIN nodes
  const groupOf = new Map<number, string>();
  for (let id = n - 1; id >= 0; id--) {
    const cs = children.get(id);
    if (!cs || isLeaf(id)) continue;
    cs.sort((a, b) => size[b] - size[a]);
    cs.forEach((c, k) => {
      // the largest child continues the chain unless a second one is nearly as large (two equal halves)
      const heavy = k === 0 && (cs.length === 1 || size[c] > 1.5 * size[cs[1]]);
      if (heavy || size[c] < EXPR_MIN || isLeaf(c)) return;
      const key = `expr:${c}`;
      groupOf.set(c, key);
      const node = s.nodes[c];
      list.set(key, { key, label: `${node.name ?? node.op} · ${size[c]} nodes`, kind: 'expr', parent: null });
    });
  }
  // nesting and membership: walk from the output down, inheriting the enclosing group
  const enclosing = new Array<string | null>(n).fill(null);
  for (let id = n - 1; id >= 0; id--) {
    const p = ipdom[id];
    const outer = p === ROOT ? null : enclosing[p];
    const own = groupOf.get(id);
    if (own) list.get(own)!.parent = outer;
    enclosing[id] = own ?? outer;
    if (groupable(id)) of[id] = enclosing[id];
  }
}

/** The clusters directly inside `key`. */
export function childClusters(tree: GroupTree, key: string): string[] {
  return [...tree.clusters.values()].filter((c) => c.parent === key && tree.members.has(c.key)).map((c) => c.key);
}

/** The clusters a node sits in, innermost first. */
export function ancestors(tree: GroupTree, id: number): string[] {
  const out: string[] = [];
  for (let c = tree.of[id] ?? null; c; c = tree.clusters.get(c)?.parent ?? null) out.push(c);
  return out;
}

/** The outermost clusters (what "Collapse all" and a large graph's first view collapse). */
export function outermost(tree: GroupTree): string[] {
  return [...tree.clusters.values()].filter((c) => c.parent === null && tree.members.has(c.key)).map((c) => c.key);
}

/** A large graph starts collapsed to its outermost groups; a small one starts expanded. */
export function defaultCollapsed(s: GraphSnapshot, tree: GroupTree): string[] {
  return s.nodes.length > COLLAPSE_ABOVE ? outermost(tree) : [];
}

/** The node a collapsed group shows: the last member used outside the group (or the graph's output). */
function groupOutput(s: GraphSnapshot, members: number[], consumers: Map<number, number[]>): number {
  const inside = new Set(members);
  let out = -1;
  for (const m of members) {
    if (m === s.output || (consumers.get(m) ?? []).some((u) => !inside.has(u))) out = Math.max(out, m);
  }
  return out >= 0 ? out : members[members.length - 1];
}

// --- nodes ----------------------------------------------------------------------------------------------

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
  const consumers = new Map<number, number[]>();
  for (const n of s.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n.id);

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
