/**
 * The panel's UI state as data, and the one function that changes it: `reduce(state, action)`.
 * Everything the panel shows follows from a PanelState (the snapshot shown and where the run
 * stands, the stepping position, selection, playback, collapsed groups, layout direction, zoom,
 * the view); every change is an Action. No DOM, no timers, no host: App (app.ts) dispatches
 * actions and draws the result, the controllers (playback.ts, persistence.ts, search.ts…) turn
 * timers, storage and input into actions.
 */
import { PLAY_SPEEDS, type GraphSnapshot, type RunError, type ViewMode } from '../extension/protocol';
import { defaultCollapsed, expandAround, openAround, toggleAll, toggleCluster } from './collapse';
import { buildGroupTree, type GroupTree } from './groups';
import { findNonFinite, type NonFinite } from './nonfinite';
import type { PanelView } from './views';
import type { SavedState } from './persistence';
import { clampStep, stepCount } from './stepper';

/** Where the host's run stands: nothing yet, running, a snapshot shown, failed, or not allowed to run. */
export type Phase = 'waiting' | 'running' | 'ready' | 'errors' | 'untrusted';

export interface Transform { x: number; y: number; k: number }
export type Direction = 'TB' | 'LR';

/** A snapshot and what the panel derives from it once (its group tree, where NaN/Inf appears). */
export interface Graph {
  snapshot: GraphSnapshot;
  tree: GroupTree;
  nonfinite: NonFinite;
}

export function graphOf(snapshot: GraphSnapshot): Graph {
  return { snapshot, tree: buildGroupTree(snapshot), nonfinite: findNonFinite(snapshot) };
}

export interface PanelState {
  phase: Phase;
  /** The model file's name as the host shows it, the run that made the snapshot, why it failed. */
  fileName: string;
  runId: number;
  errors: RunError[];
  /** The graph shown (null: none yet). */
  graph: Graph | null;
  /** The training step the graph shows (null: the file's own trace). */
  trainStep: number | null;

  // saved across reloads (persistence.ts)
  /** The file `graph` was traced from. */
  file: string | null;
  mode: ViewMode;
  /** Steps taken in `mode` (0 = nothing revealed yet). */
  step: number;
  selected: number | null;
  direction: Direction;
  /** The graph's zoom (null: show the first view). */
  transform: Transform | null;
  /** Collapsed clusters of `graph.tree`, by key. */
  collapsed: ReadonlySet<string>;
  speed: number;
  /** The view chosen (the graph is shown instead while the snapshot does not offer it). */
  view: PanelView;

  // not saved
  /** Pick the layout direction that fits the panel best, until the user picks one. */
  autoDirection: boolean;
  playing: boolean;
  /** Nodes created on the lines the editor's cursor is on. */
  highlighted: ReadonlySet<number>;
  /** Parameters whose last gradient check failed (by name), and their nodes in `graph`. */
  failedParams: readonly string[];
  flagged: ReadonlySet<number>;
  /** The snapshot brought a NaN/Inf culprit that was selected: show it in the first view. */
  focusNonfinite: boolean;
  /** Saved state from before a reload: applied to the first snapshot of the same file. */
  restored: SavedState | null;
}

export type Action =
  /** The host: a run started, failed, or may not run (Restricted Mode). */
  | { type: 'running' | 'untrusted'; fileName: string }
  | { type: 'errors'; fileName: string; errors: RunError[] }
  /** A new snapshot of `file` (a trace, or the graph at training step `trainStep`). */
  | { type: 'snapshot'; graph: Graph; file: string; fileName: string; runId: number; trainStep: number | null }
  /** Stepping: a pass from its start, a step, play/pause (the timer sends `tick`), the next play speed. */
  | { type: 'mode'; mode: ViewMode }
  | { type: 'go'; to: 'first' | 'prev' | 'next' | 'last' }
  | { type: 'play' }
  | { type: 'tick' }
  | { type: 'stop' }
  | { type: 'speed' }
  /** The user switches the layout direction; the layout picked one (while none was chosen). */
  | { type: 'direction' }
  | { type: 'layoutDirection'; direction: Direction }
  /** Groups: one collapsed or expanded, all of them, the ones that hide a node. */
  | { type: 'toggleGroup'; key: string }
  | { type: 'toggleAll' }
  | { type: 'expandAround'; id: number }
  | { type: 'select'; id: number }
  | { type: 'transform'; transform: Transform }
  /** The graph was drawn and its first view shown at `transform`. */
  | { type: 'drawn'; transform: Transform }
  | { type: 'view'; view: PanelView }
  /** The editor's cursor is on these lines of `file`. */
  | { type: 'highlight'; file: string; lines: readonly number[] }
  /** A gradient check failed for these parameters (by name): mark them in the graph. */
  | { type: 'gradcheck'; failed: readonly string[] };

const DEFAULTS = { file: null, mode: 'backward', step: 0, selected: null, direction: 'TB', transform: null, speed: 1, view: 'graph' } as const;

/** The state before any message: the saved one's choices, or the defaults. */
export function initialState(restored: SavedState | null): PanelState {
  const r = restored ?? DEFAULTS;
  return {
    phase: 'waiting', fileName: '', runId: 0, errors: [], graph: null, trainStep: null,
    file: r.file, mode: r.mode, step: r.step, selected: r.selected, direction: r.direction, transform: r.transform,
    collapsed: new Set(), speed: r.speed ?? 1, view: r.view ?? 'graph',
    autoDirection: !restored, playing: false, highlighted: new Set(), failedParams: [], flagged: new Set(), focusNonfinite: false,
    restored,
  };
}

export function reduce(state: PanelState, action: Action): PanelState {
  const s = state.graph?.snapshot ?? null;
  switch (action.type) {
    case 'running':
    case 'untrusted':
      return { ...state, phase: action.type, fileName: action.fileName };
    case 'errors':
      return { ...state, phase: 'errors', fileName: action.fileName, errors: action.errors };
    case 'snapshot':
      return receive(state, action);
    case 'mode':
      if (!s || (action.mode === state.mode && !state.playing)) return state;
      // switching modes starts that pass from its beginning
      return { ...state, playing: false, ...(action.mode !== state.mode ? { mode: action.mode, step: 0 } : {}) };
    case 'go': {
      if (!s) return state;
      const to = { first: 0, prev: state.step - 1, next: state.step + 1, last: stepCount(s, state.mode) }[action.to];
      const step = clampStep(s, state.mode, to);
      return step === state.step ? state : { ...state, step };
    }
    case 'play': {
      if (state.playing) return { ...state, playing: false };
      const total = s ? stepCount(s, state.mode) : 0;
      if (!total) return state;
      // from the last step, play starts over; the first step is taken at once
      return { ...state, playing: true, step: (state.step >= total ? 0 : state.step) + 1 };
    }
    case 'tick':
      if (!state.playing) return state;
      if (!s || state.step >= stepCount(s, state.mode)) return { ...state, playing: false };
      return { ...state, step: state.step + 1 };
    case 'stop':
      return state.playing ? { ...state, playing: false } : state;
    case 'speed': {
      const i = (PLAY_SPEEDS as readonly number[]).indexOf(state.speed);
      return { ...state, speed: PLAY_SPEEDS[(i + 1) % PLAY_SPEEDS.length] };
    }
    case 'direction':
      return { ...state, autoDirection: false, direction: state.direction === 'TB' ? 'LR' : 'TB', transform: null };
    case 'layoutDirection':
      return action.direction === state.direction ? state : { ...state, direction: action.direction };
    case 'toggleGroup':
      return state.graph ? withCollapsed(state, toggleCluster(state.collapsed, state.graph.tree, action.key)) : state;
    case 'toggleAll':
      return state.graph ? { ...state, collapsed: toggleAll(state.collapsed, state.graph.tree, state.graph.snapshot.nodes.length) } : state;
    case 'expandAround':
      return state.graph ? withCollapsed(state, expandAround(state.collapsed, state.graph.tree, action.id)) : state;
    case 'select':
      return s?.nodes[action.id] && state.selected !== action.id ? { ...state, selected: action.id } : state;
    case 'transform':
      return { ...state, transform: action.transform };
    case 'drawn':
      return { ...state, transform: action.transform, focusNonfinite: false };
    case 'view':
      if (action.view === state.view) return state;
      return { ...state, view: action.view, playing: action.view === 'graph' && state.playing };
    case 'highlight':
      return { ...state, highlighted: s ? nodesOnLines(s, action.file, action.lines) : new Set() };
    case 'gradcheck':
      return { ...state, failedParams: action.failed, flagged: flaggedNodes(s, action.failed) };
    default: {
      const never: never = action;
      return never;
    }
  }
}

const withCollapsed = (state: PanelState, collapsed: ReadonlySet<string>): PanelState => (collapsed === state.collapsed ? state : { ...state, collapsed });

/**
 * A new snapshot. A reload's saved state applies to the first snapshot of its file; a re-trace of
 * the same file keeps the selection, the zoom and the collapsed groups; another file starts afresh.
 * A new trace shows everything: all values and the final gradients. Where NaN/Inf first appears is
 * selected and opened, unless a saved selection says otherwise or the user picked another node and
 * the culprit did not change.
 */
function receive(state: PanelState, a: Extract<Action, { type: 'snapshot' }>): PanelState {
  const { graph, file } = a;
  const s = graph.snapshot, tree = graph.tree;
  const previous = state.graph;
  const sameFile = state.file === file;
  const restored = state.restored && state.restored.file === file ? state.restored : null;
  const keys = restored?.collapsed ?? (sameFile && previous ? [...state.collapsed] : defaultCollapsed(s, tree));
  let collapsed: ReadonlySet<string> = new Set(keys.filter((k) => tree.members.has(k)));
  const next: PanelState = {
    ...state,
    phase: 'ready', fileName: a.fileName, runId: a.runId, errors: [], graph, trainStep: a.trainStep,
    playing: false, restored: null,
    ...(restored
      ? { file: restored.file, mode: restored.mode, step: clampStep(s, restored.mode, restored.step), selected: restored.selected, direction: restored.direction, transform: restored.transform, speed: restored.speed ?? 1 }
      : { file, mode: 'backward' as const, step: stepCount(s, 'backward'), transform: sameFile && previous ? state.transform : null, selected: sameFile ? state.selected : null }),
  };
  if (next.selected !== null && next.selected >= s.nodes.length) next.selected = null;
  const first = graph.nonfinite.first;
  const keepSelection = restored ? restored.selected !== null : sameFile && !!previous && next.selected !== null && (previous.nonfinite.first ?? null) === first;
  next.focusNonfinite = first !== null && !keepSelection;
  if (first !== null && !keepSelection) {
    next.selected = first;
    collapsed = openAround(collapsed, tree, first);
  }
  next.collapsed = collapsed;
  if (!sameFile) next.highlighted = new Set();
  next.flagged = flaggedNodes(s, state.failedParams);
  return next;
}

function nodesOnLines(s: GraphSnapshot, file: string, lines: readonly number[]): Set<number> {
  const on = new Set(lines);
  const ids = new Set<number>();
  for (const n of s.nodes) if (n.source && (n.source.file === file || (!n.source.file && s.file === file)) && on.has(n.source.line)) ids.add(n.id);
  return ids;
}

function flaggedNodes(s: GraphSnapshot | null, names: readonly string[]): Set<number> {
  const ids = new Set<number>();
  if (s) for (const name of names) {
    const id = paramNode(s, name);
    if (id !== null) ids.add(id);
  }
  return ids;
}

/** The graph node of a trained parameter: its full module path (`model.0.weight`), else its name. */
export function paramNode(s: GraphSnapshot, name: string): number | null {
  const params = s.nodes.filter((n) => n.leaf === 'param');
  const full = params.find((n) => (n.scope ? `${n.scope}.${n.name}` : n.name) === name);
  return (full ?? params.find((n) => n.name === name) ?? params.find((n) => !!n.name && name.endsWith(`.${n.name}`) && !!n.scope && name.startsWith(n.scope)))?.id ?? null;
}
