/**
 * Find node (the toolbar's search box): Enter selects the next node whose name holds the query, or
 * whose op or label is the query, opens the groups that hide it and brings it into view.
 */
import type { GraphSnapshot } from '../extension/protocol';
import type { Action, PanelState } from './state';

/** The match after `selected` in id order, cycling on repeated Enter; null when nothing matches. */
export function nextMatch(s: GraphSnapshot, query: string, selected: number | null): number | null {
  const q = query.trim().toLowerCase();
  if (!q) return null;
  const hits = s.nodes.filter((n) => (n.name ?? '').toLowerCase().includes(q) || n.op.toLowerCase() === q || n.label.toLowerCase() === q);
  if (!hits.length) return null;
  return (hits.find((n) => selected === null || n.id > selected) ?? hits[0]).id;
}

type ScreenPoint = { x: number; y: number; top: number };

export interface SearchTarget {
  state(): PanelState;
  dispatch(a: Action): void;
  /** The graph pane (graphPane.ts; declared here by what search uses, so this module stays free of the DOM). */
  pane: {
    relayout(how: { kind: 'anchor'; what: { node: string }; before: ScreenPoint | null }): Promise<void>;
    screenPointOf(id: number): ScreenPoint | null;
    view: { reveal(id: number): void };
  };
}

export function search(query: string, t: SearchTarget): void {
  const s = t.state().graph?.snapshot;
  const id = s ? nextMatch(s, query, t.state().selected) : null;
  if (id === null) return;
  t.dispatch({ type: 'select', id });
  const before = t.state().collapsed;
  t.dispatch({ type: 'expandAround', id });
  if (t.state().collapsed === before) {
    t.pane.view.reveal(id);
    return;
  }
  // the groups open where the one that hid the node was on screen
  void t.pane.relayout({ kind: 'anchor', what: { node: `n${id}` }, before: t.pane.screenPointOf(id) }).then(() => t.pane.view.reveal(id));
}
