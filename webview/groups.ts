/**
 * Pipeline stage 2a: the group tree. Which clusters a graph has (module scopes, composite ops, and
 * for large graphs without them the automatic groups of autoGroups.ts), how they nest, and which
 * nodes each holds. Pure and cheap (no sizes); what is collapsed is decided in collapse.ts, and the
 * view model (viewModel.ts) draws a collapsed cluster as one node.
 */
import type { GraphSnapshot, SnapshotNode } from '../extension/protocol';
import { autoGroups } from './autoGroups';

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

/** Who reads each node: snapshot id → the ids of the nodes it is an input of. */
export function consumersOf(s: GraphSnapshot): Map<number, number[]> {
  const consumers = new Map<number, number[]>();
  for (const n of s.nodes) for (const i of n.inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(n.id);
  return consumers;
}

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
  const consumers = consumersOf(s);
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

/** The node a collapsed group shows: the last member used outside the group (or the graph's output). */
export function groupOutput(s: GraphSnapshot, members: number[], consumers: Map<number, number[]>): number {
  const inside = new Set(members);
  let out = -1;
  for (const m of members) {
    if (m === s.output || (consumers.get(m) ?? []).some((u) => !inside.has(u))) out = Math.max(out, m);
  }
  return out >= 0 ? out : members[members.length - 1];
}
