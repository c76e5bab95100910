/**
 * The views the toolbar's view switch offers: the graph (with its inspector) and the panels shown in
 * its place, each a folder of its own (`training/`). A panel is listed in PANELS once; the view
 * switch, the saved state and the stylesheet (`.panel`) follow this list, and App constructs one of
 * each (its `panels` record must name every id listed here; `Panel` in app.ts is what it needs).
 * No DOM here: the state reducer and the persistence read this list too.
 */
import type { GraphSnapshot } from '../extension/protocol';

export interface PanelSpec {
  readonly id: string;
  /** The view switch's button: its text, codicon and tooltip. */
  readonly label: string;
  readonly icon: string;
  readonly title: string;
  /** Offered for this snapshot (training: only when the file exports a training spec). */
  offered(s: GraphSnapshot): boolean;
}

/** The graph: always there, and what is shown when a panel is not offered. */
export const GRAPH_VIEW = { id: 'graph', label: 'Graph', icon: 'type-hierarchy-sub', title: 'Show the computational graph', offered: () => true } as const satisfies PanelSpec;

export const PANELS = [
  { id: 'training', label: 'Training', icon: 'graph-line', title: 'Train the model and watch it learn', offered: (s: GraphSnapshot) => !!s.training },
] as const satisfies readonly PanelSpec[];

export type PanelId = (typeof PANELS)[number]['id'];
export type PanelView = typeof GRAPH_VIEW.id | PanelId;

export const VIEWS: readonly (PanelSpec & { id: PanelView })[] = [GRAPH_VIEW, ...PANELS];

export const isPanelView = (v: unknown): v is PanelView => VIEWS.some((p) => p.id === v);

/** The view to show: the chosen one while the snapshot offers it, else the graph. */
export function shownView(chosen: PanelView, s: GraphSnapshot | null): PanelView {
  const spec = VIEWS.find((p) => p.id === chosen);
  return s && spec?.offered(s) ? chosen : 'graph';
}
