/**
 * Automatic groups for large graphs without modules or composite ops (micrograd-style scalar code):
 * leaves made on one source line, and subexpressions found through post-dominators. Called by
 * buildGroupTree (groups.ts) after the scopes and composite ops are placed.
 */
import type { GraphSnapshot } from '../extension/protocol';
import type { ViewCluster } from './groups';

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
export function autoGroups(s: GraphSnapshot, of: (string | null)[], list: Map<string, ViewCluster>, consumers: Map<number, number[]>): void {
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
