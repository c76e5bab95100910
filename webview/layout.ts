/**
 * Pipeline stage 3: layered layout with dagre. Pure data in, positions out, so it runs the same in
 * the layout worker and (as a fallback) on the main thread.
 *
 * Deep graphs. Several of dagre's phases recurse once per node along a path (the depth-first cycle
 * removal, longest-path ranking and the tight tree behind both of its rankers, the depth-first
 * initial order), so a chain a few thousand nodes long overflows the stack ("Maximum call stack size
 * exceeded"; a Web Worker's stack is about half of the main thread's, ~800 nodes of chain). Graphs
 * deeper than DEEP therefore get dagre with only settings that avoid those phases, each replaced by a
 * loop doing what dagre's recursion does: `acyclicer: 'greedy'` (dagre's own Eades–Lin–Smyth
 * heuristic, iterative), `ranker`: dagre's longest-path layering (the layering its rankers start
 * from, without the tight-tree pass) computed from the sinks up, `customOrder`: dagre's depth-first
 * initial order with an explicit stack, without the crossing-reduction sweeps. Normalisation, coordinate
 * assignment (Brandes–Köpf) and edge routing stay dagre's. That layout is flat: a deep graph's
 * expanded groups are drawn without cluster boxes (`flattened`). A stack overflow on the usual path
 * (a deeper recursion than DEEP predicts) falls back to the same layout.
 *
 * Long edges. dagre routes an edge across k ranks through k − 1 dummy nodes; a leaf that every op of
 * a deep chain uses would need n²/2 of them. Beyond a budget (LONG_EDGES) the longest edges are left
 * out of dagre's graph and drawn straight from box to box (`straightEdges` counts them).
 */
import dagre from '@dagrejs/dagre';

export interface LayoutRequest {
  id: number;
  direction: 'TB' | 'LR';
  nodes: { key: string; width: number; height: number; parent: string | null }[];
  clusters: { key: string; parent: string | null; labelWidth: number }[];
  edges: { key: string; from: string; to: string }[];
}

export interface Point { x: number; y: number }
export interface Box { x: number; y: number; width: number; height: number }

export interface LayoutResult {
  id: number;
  /** Node centres. */
  nodes: Record<string, Point>;
  clusters: Record<string, Box>;
  edges: Record<string, Point[]>;
  width: number;
  height: number;
  /** Clusters were dropped because the compound layout failed (or the graph is deep, see `deep`). */
  flattened?: boolean;
  /** Laid out by the deep-graph path (see the top of this file). */
  deep?: boolean;
  /** How many edges are drawn straight instead of routed by dagre (see LONG_EDGES). */
  straightEdges?: number;
  error?: string;
}

/** Graphs with more nodes than this are ranked with dagre's faster heuristic. */
export const LARGE = 300;

/** Graphs whose longest path has more nodes than this take the deep-graph path (see above). */
export const DEEP = 400;

/**
 * The most dummy nodes (ranks crossed by long edges) dagre is given, per node of the graph, and at
 * least: beyond that the longest edges are drawn straight.
 */
export const LONG_EDGES = { perNode: 1, min: 2_000 };

/** Room above a cluster's first row for its label. */
export const CLUSTER_LABEL = 18;

type Graph = InstanceType<typeof dagre.graphlib.Graph>;
interface Label { rank?: number; order?: number }
const label = (g: Graph, v: string) => g.node(v) as unknown as Label;

/** An edge for `longestPath`: node indices, and how many ranks it spans at least. */
type RankEdge = readonly [from: number, to: number, minlen: number];

/**
 * Longest-path layering of a graph of `n` nodes, from the sinks up without recursion (deep chains
 * overflow the stack of a recursive walk): every sink at rank 0, every other node `minlen` above its
 * highest successor, so ranks are ≤ 0. `ranked`: false if a cycle left nodes without a rank.
 */
function longestPath(n: number, edges: Iterable<RankEdge>): { rank: Int32Array; ranked: boolean; lowest: number } {
  const into: [from: number, minlen: number][][] = Array.from({ length: n }, () => []);
  const pending = new Int32Array(n);
  for (const [a, b, minlen] of edges) {
    into[b].push([a, minlen]);
    pending[a]++;
  }
  const rank = new Int32Array(n);
  const reached = new Uint8Array(n);
  const queue: number[] = [];
  pending.forEach((d, i) => { if (!d) queue.push(i); });
  let lowest = 0;
  for (let head = 0; head < queue.length; head++) {
    const w = queue[head];
    for (const [v, minlen] of into[w]) {
      const r = rank[w] - minlen;
      if (!reached[v] || r < rank[v]) rank[v] = r;
      reached[v] = 1;
      lowest = Math.min(lowest, rank[v]);
      if (--pending[v] === 0) queue.push(v);
    }
  }
  return { rank, ranked: queue.length === n, lowest };
}

/**
 * The request's graph layered by longest path (`longestPath`, every edge one rank). `depth`: nodes
 * on the longest path; Infinity, and no ranks, if the graph has a cycle.
 */
export function rankRequest(req: Pick<LayoutRequest, 'nodes' | 'edges'>): { depth: number; rank: Map<string, number> | null } {
  const index = new Map<string, number>();
  req.nodes.forEach((n, i) => index.set(n.key, i));
  const edges: RankEdge[] = [];
  for (const e of req.edges) {
    const a = index.get(e.from), b = index.get(e.to);
    if (a !== undefined && b !== undefined && a !== b) edges.push([a, b, 1]);
  }
  const { rank, ranked, lowest } = longestPath(req.nodes.length, edges);
  if (!ranked) return { depth: Infinity, rank: null };
  return { depth: req.nodes.length ? 1 - lowest : 0, rank: new Map(req.nodes.map((n, i) => [n.key, rank[i]])) };
}

/** Nodes on the longest path of the request's graph; Infinity if it has a cycle. */
export function depthOf(req: Pick<LayoutRequest, 'nodes' | 'edges'>): number {
  return rankRequest(req).depth;
}

/**
 * The edges dagre routes, and those it does not. dagre splits an edge spanning k ranks into k − 1
 * dummy nodes, and its time grows with them: one leaf used by every op of a chain (a shared weight)
 * would make n²/2 of them (a 300-op chain took 14 s, 1,200 ran out of memory). The longest edges
 * beyond the LONG_EDGES budget are drawn straight, from box to box, instead.
 */
function splitLongEdges(req: LayoutRequest, rank: Map<string, number> | null): { routed: LayoutRequest['edges']; straight: LayoutRequest['edges'] } {
  if (!rank) return { routed: req.edges, straight: [] };
  const span = (e: LayoutRequest['edges'][number]) => (rank.get(e.to) ?? 0) - (rank.get(e.from) ?? 0);
  const budget = Math.max(LONG_EDGES.min, LONG_EDGES.perNode * req.nodes.length);
  let dummies = 0;
  for (const e of req.edges) dummies += Math.max(0, span(e) - 1);
  if (dummies <= budget) return { routed: req.edges, straight: [] };
  const bySpan = req.edges.map((e, i) => [span(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const straight = new Set<number>();
  for (const [k, i] of bySpan) {
    if (dummies <= budget) break;
    dummies -= Math.max(0, k - 1);
    straight.add(i);
  }
  return { routed: req.edges.filter((_, i) => !straight.has(i)), straight: req.edges.filter((_, i) => straight.has(i)) };
}

/** Where the segment from the centre of box `a` towards point `p` leaves the box. */
function boxExit(a: Point, w: number, h: number, p: Point): Point {
  const dx = p.x - a.x, dy = p.y - a.y;
  if (!dx && !dy) return { x: a.x, y: a.y };
  const t = Math.min(dx ? w / 2 / Math.abs(dx) : Infinity, dy ? h / 2 / Math.abs(dy) : Infinity, 1);
  return { x: a.x + dx * t, y: a.y + dy * t };
}

/**
 * dagre `ranker` for deep graphs: `longestPath` with each edge's `minlen`. dagre runs it on the
 * acyclic graph and normalises the ranks afterwards.
 */
function longestPathRanks(g: Graph): void {
  const nodes = g.nodes();
  const index = new Map(nodes.map((v, i) => [v, i]));
  const edges = g.edges().map((e): RankEdge => [index.get(e.v)!, index.get(e.w)!, (g.edge(e) as { minlen?: number }).minlen ?? 1]);
  const { rank } = longestPath(nodes.length, edges);
  nodes.forEach((v, i) => (label(g, v).rank = rank[i]));
}

/**
 * dagre `customOrder` for deep graphs: dagre's own initial order (its `initOrder`: a depth-first walk
 * along successors from the nodes sorted by rank, each node appended to its layer when first
 * reached), with an explicit stack instead of dagre's recursion. dagre's crossing-reduction sweeps
 * are skipped, as its `disableOptimalOrderHeuristic` option does: they start from the recursive
 * initial order, and a deep graph is mostly one long path, where there is little to uncross.
 */
function deepOrder(g: Graph): void {
  const simple = g.nodes().filter((v) => !(g.children(v)?.length));
  let maxRank = 0;
  for (const v of simple) maxRank = Math.max(maxRank, label(g, v).rank ?? 0);
  const layers: string[][] = Array.from({ length: maxRank + 1 }, () => []);
  const seen = new Set<string>();
  const roots = simple.map((v, i) => [label(g, v).rank ?? 0, i, v] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const stack: string[] = [];
  for (const [, , root] of roots) {
    stack.push(root);
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      layers[label(g, v).rank ?? 0].push(v);
      const next = g.successors(v) ?? [];
      for (let i = next.length - 1; i >= 0; i--) if (!seen.has(next[i])) stack.push(next[i]);
    }
  }
  layers.forEach((layer) => layer.forEach((v, i) => (label(g, v).order = i)));
}

function run(req: LayoutRequest, compound: boolean, deep = false): LayoutResult {
  const g = new dagre.graphlib.Graph({ multigraph: true, compound });
  // network-simplex ranking gives the tightest layouts but grows much faster than linear: above a few
  // hundred nodes it takes seconds (22 s for a 1,000-node scalar MLP), tight-tree takes 1.5 s
  const ranker = deep ? longestPathRanks : req.nodes.length > LARGE ? 'tight-tree' : 'network-simplex';
  g.setGraph({
    rankdir: req.direction, nodesep: 28, ranksep: 42, edgesep: 12, marginx: 24, marginy: 24,
    // dagre calls a function ranker with the graph (its typings list only the built-in names)
    ranker: ranker as 'tight-tree',
    ...(deep ? { acyclicer: 'greedy' as const, align: 'UL' as const } : {}),
  });
  g.setDefaultEdgeLabel(() => ({}));
  if (compound) for (const c of req.clusters) g.setNode(c.key, { width: c.labelWidth, height: 0 });
  for (const n of req.nodes) g.setNode(n.key, { width: n.width, height: n.height });
  if (compound) {
    for (const c of req.clusters) if (c.parent) g.setParent(c.key, c.parent);
    for (const n of req.nodes) if (n.parent) g.setParent(n.key, n.parent);
  }
  for (const e of req.edges) g.setEdge(e.from, e.to, { minlen: 1 }, e.key);
  dagre.layout(g, deep ? { customOrder: (graph) => deepOrder(graph) } : {});
  const nodes: Record<string, Point> = {};
  for (const n of req.nodes) {
    const d = g.node(n.key) as { x: number; y: number };
    nodes[n.key] = { x: d.x, y: d.y };
  }
  const clusters: Record<string, Box> = {};
  if (compound) {
    for (const c of req.clusters) {
      const d = g.node(c.key) as { x: number; y: number; width: number; height: number } | undefined;
      if (!d || !Number.isFinite(d.x)) continue;
      // grow upwards by the label's height so the label never sits on a node
      clusters[c.key] = { x: d.x - d.width / 2, y: d.y - d.height / 2 - CLUSTER_LABEL, width: d.width, height: d.height + CLUSTER_LABEL };
    }
  }
  const edges: Record<string, Point[]> = {};
  for (const e of g.edges()) {
    const label = g.edge(e) as { points?: Point[] };
    if (e.name !== undefined) edges[e.name] = (label.points ?? []).map((p) => ({ x: p.x, y: p.y }));
  }
  const graph = g.graph() as { width?: number; height?: number };
  return { id: req.id, nodes, clusters, edges, width: graph.width ?? 0, height: graph.height ?? 0 };
}

/** A result that says why there is no layout (what the panel shows instead of a graph). */
export function failedLayout(id: number, err: unknown): LayoutResult {
  return { id, nodes: {}, clusters: {}, edges: {}, width: 0, height: 0, error: String((err as Error)?.message ?? err) };
}

const finite = (r: LayoutResult) => Object.values(r.nodes).every((p) => Number.isFinite(p.x) && Number.isFinite(p.y));

/** dagre's usual layout: compound when there are clusters (flat if that fails). */
function usual(req: LayoutRequest): LayoutResult {
  if (req.clusters.length) {
    try {
      const r = run(req, true);
      if (finite(r)) return r;
    } catch (err) {
      if (err instanceof RangeError) throw err;
      // dagre's compound layout has corner cases; the flat layout still shows every node
    }
    return { ...run(req, false), flattened: true };
  }
  return run(req, false);
}

/**
 * Inputs in the order the op takes them: dagre orders a layer to cross few edges and breaks ties
 * either way, so `q = x.add(y)` could show y left of x. Where an op's inputs are sources that feed
 * only it, sit in one layer side by side (nothing else between them) and share a parent cluster,
 * they are placed again left to right (top to bottom across) in input order, in the same span with
 * the same gaps; nothing else moves, and their edges are bent to the new start. Their only edges
 * go to that op, so no crossing is added.
 */
export function orderInputs(req: LayoutRequest, r: LayoutResult): number {
  const across = req.direction === 'TB' ? 'x' : 'y';
  const along = req.direction === 'TB' ? 'y' : 'x';
  const size = (k: string) => { const n = sizes.get(k)!; return req.direction === 'TB' ? n.width : n.height; };
  const sizes = new Map(req.nodes.map((n) => [n.key, n]));
  const out = new Map<string, number>();
  const into = new Map<string, string[]>();
  const edgesFrom = new Map<string, string[]>();
  for (const e of req.edges) {
    out.set(e.from, (out.get(e.from) ?? 0) + 1);
    const list = into.get(e.to) ?? [];
    if (!list.includes(e.from)) list.push(e.from);
    into.set(e.to, list);
    edgesFrom.set(e.from, [...(edgesFrom.get(e.from) ?? []), e.key]);
  }
  const hasInputs = new Set(req.edges.map((e) => e.to));
  let moved = 0;
  for (const [, sources] of into) {
    const pure = sources.filter((k) => out.get(k) === 1 && !hasInputs.has(k) && r.nodes[k] && sizes.has(k));
    if (pure.length < 2) continue;
    const level = r.nodes[pure[0]][along];
    const parent = sizes.get(pure[0])!.parent;
    const group = pure.filter((k) => Math.abs(r.nodes[k][along] - level) < 0.5 && sizes.get(k)!.parent === parent);
    if (group.length < 2) continue;
    const now = group.slice().sort((a, b) => r.nodes[a][across] - r.nodes[b][across]);
    if (now.every((k, i) => k === group[i])) continue;
    const lo = r.nodes[now[0]][across] - size(now[0]) / 2;
    const hi = r.nodes[now[now.length - 1]][across] + size(now[now.length - 1]) / 2;
    // nothing else of that layer may sit inside the span
    const others = Object.entries(r.nodes).some(([k, pt]) => !group.includes(k) && sizes.has(k) && Math.abs(pt[along] - level) < 0.5 && pt[across] > lo && pt[across] < hi);
    if (others) continue;
    const gaps = now.slice(1).map((k, i) => r.nodes[k][across] - size(k) / 2 - (r.nodes[now[i]][across] + size(now[i]) / 2));
    let at = lo;
    group.forEach((k, i) => {
      const centre = at + size(k) / 2;
      const shift = centre - r.nodes[k][across];
      r.nodes[k] = { ...r.nodes[k], [across]: centre };
      // the edge leaves from the moved box: shift its points, fully at the start, not at all at the end
      for (const ek of edgesFrom.get(k) ?? []) {
        const pts = r.edges[ek];
        if (!pts || pts.length < 2) continue;
        r.edges[ek] = pts.map((pt, j) => ({ ...pt, [across]: pt[across] + shift * (1 - j / (pts.length - 1)) }));
      }
      at += size(k) + (gaps[i] ?? 0);
    });
    moved++;
  }
  return moved;
}

export function computeLayout(req: LayoutRequest): LayoutResult {
  const { depth, rank } = rankRequest(req);
  const { routed, straight } = splitLongEdges(req, rank);
  const dagreReq = straight.length ? { ...req, edges: routed } : req;
  let r: LayoutResult | null = null;
  if (depth <= DEEP) {
    try {
      r = usual(dagreReq);
    } catch (err) {
      // a stack overflow: the deep-graph path below has no recursion along paths
      if (!(err instanceof RangeError)) throw err;
    }
  }
  if (!r) r = { ...run(dagreReq, false, true), deep: true, ...(req.clusters.length ? { flattened: true } : {}) };
  orderInputs(req, r);
  if (straight.length) {
    const size = new Map(req.nodes.map((n) => [n.key, n]));
    for (const e of straight) {
      const a = r.nodes[e.from], b = r.nodes[e.to], sa = size.get(e.from), sb = size.get(e.to);
      if (!a || !b || !sa || !sb) continue;
      r.edges[e.key] = [boxExit(a, sa.width, sa.height, b), boxExit(b, sb.width, sb.height, a)];
    }
    r.straightEdges = straight.length;
  }
  return r;
}
