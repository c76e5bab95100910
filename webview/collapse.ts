/**
 * The collapse policy: which clusters of the group tree (groups.ts) start collapsed, and what
 * expanding, collapsing, "Collapse all / Expand all" and revealing a hidden node do to the set of
 * collapsed cluster keys. Pure: each function takes a set and returns a new one (or the same one when
 * nothing changes), so the state reducer (state.ts) can use them as they are.
 */
import type { GraphSnapshot } from '../extension/protocol';
import { ancestors, childClusters, outermost, type GroupTree } from './groups';

/** Graphs with more nodes than this start collapsed to their outermost groups. */
export const COLLAPSE_ABOVE = 60;
/** Above this many nodes "Expand all" opens one level per click (laying out everything would take minutes). */
export const EXPAND_ALL_MAX = 2000;

/** A large graph starts collapsed to its outermost groups; a small one starts expanded. */
export function defaultCollapsed(s: Pick<GraphSnapshot, 'nodes'>, tree: GroupTree): string[] {
  return s.nodes.length > COLLAPSE_ABOVE ? outermost(tree) : [];
}

/**
 * Expands one cluster. A large one opens one level deep: the clusters inside it start collapsed,
 * so a graph of thousands of nodes never lays out all of them at once.
 */
export function expandOne(collapsed: ReadonlySet<string>, tree: GroupTree, key: string): Set<string> {
  const next = new Set(collapsed);
  next.delete(key);
  if ((tree.members.get(key)?.length ?? 0) > COLLAPSE_ABOVE) for (const c of childClusters(tree, key)) next.add(c);
  return next;
}

/** Collapses a cluster, or expands it (see expandOne); a key the tree does not have changes nothing. */
export function toggleCluster(collapsed: ReadonlySet<string>, tree: GroupTree, key: string): ReadonlySet<string> {
  if (!tree.members.has(key)) return collapsed;
  return collapsed.has(key) ? expandOne(collapsed, tree, key) : new Set(collapsed).add(key);
}

/**
 * Collapse all (to the outermost groups) when nothing is collapsed, else expand all. A graph too
 * large to lay out whole expands one level per click instead.
 */
export function toggleAll(collapsed: ReadonlySet<string>, tree: GroupTree, nodes: number): ReadonlySet<string> {
  if (!collapsed.size) return new Set(outermost(tree));
  if (nodes <= EXPAND_ALL_MAX) return new Set();
  let next: ReadonlySet<string> = collapsed;
  for (const c of collapsed) next = expandOne(next, tree, c);
  return next;
}

/** Expands the groups that hide a node (one level at a time); the same set when none does. */
export function expandAround(collapsed: ReadonlySet<string>, tree: GroupTree, id: number): ReadonlySet<string> {
  let next = collapsed;
  for (const c of ancestors(tree, id).reverse()) if (next.has(c)) next = expandOne(next, tree, c);
  return next;
}

/** Opens every group around a node, all the way (where NaN first appears must be visible). */
export function openAround(collapsed: ReadonlySet<string>, tree: GroupTree, id: number): ReadonlySet<string> {
  const around = ancestors(tree, id).filter((c) => collapsed.has(c));
  if (!around.length) return collapsed;
  const next = new Set(collapsed);
  for (const c of around) next.delete(c);
  return next;
}
