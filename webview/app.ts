/**
 * Pipeline stage 5 and the wiring: host messages in, UI state kept and persisted, stages run in
 * order (snapshot → view model → layout → render), interaction (select, step, zoom) back out.
 */
import { PLAY_SPEEDS, type GraphSnapshot, type HostMessage, type PanelCommand, type RunError, type SnapshotNode, type UiState, type ViewMode } from '../extension/protocol';
import { el, button } from './dom';
import { exportPng, exportSvg } from './export';
import { basename, clusterText, fullName } from './format';
import type { Host } from './host';
import { Inspector } from './inspector';
import { failedLayout, type LayoutRequest, type LayoutResult } from './layout';
import { LayoutClient } from './layoutClient';
import { createMeasure } from './measure';
import { Minimap } from './minimap';
import { CLUSTER_TOGGLE, GraphView, type Transform } from './render';
import { normalizeSnapshot } from './snapshot';
import { clampStep, stepCount, stepView, type StepView } from './stepper';
import { StatusLine, Toolbar, type PanelView } from './toolbar';
import { TrainingView } from './training/view';
import { PanelGpu } from './gpu/gpuTraining';
import { COLLAPSE_ABOVE, defaultCollapsed } from './collapse';
import { ancestors, buildGroupTree, childClusters, outermost, type GroupTree } from './groups';
import { findNonFinite, type NonFinite } from './nonfinite';
import { buildViewModel, type ViewModel } from './viewModel';

/** Above this many nodes "Expand all" opens one level per click (laying out everything would take minutes). */
const EXPAND_ALL_MAX = 2000;

type Phase = 'waiting' | 'running' | 'ready' | 'errors' | 'untrusted';

/**
 * The state the webview saves: the protocol's UiState plus the collapsed clusters (cluster keys such
 * as `group:3` or `scope:mlp.layers.0`; null until the first snapshot decided them). The host only
 * reads the UiState fields.
 */
export type PanelState = UiState & { collapsed: string[] | null; view?: PanelView };

const DEFAULT_STATE: PanelState = { file: null, mode: 'backward', step: 0, selected: null, direction: 'TB', transform: null, collapsed: null, speed: 1 };

/** Time between played steps at speed 1×. */
const PLAY_MS = 700;

/** The saved state, if it has the right shape (it comes from storage, so it is checked). */
export function readState(v: unknown): PanelState | null {
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Partial<PanelState>;
  if (s.mode !== 'forward' && s.mode !== 'backward') return null;
  if (typeof s.step !== 'number' || !(s.step >= 0)) return null;
  const t = s.transform;
  const transform = t && [t.x, t.y, t.k].every((n) => typeof n === 'number' && Number.isFinite(n)) && t.k > 0 ? { x: t.x, y: t.y, k: t.k } : null;
  return {
    file: typeof s.file === 'string' ? s.file : null,
    mode: s.mode,
    step: Math.floor(s.step),
    selected: typeof s.selected === 'number' && Number.isInteger(s.selected) && s.selected >= 0 ? s.selected : null,
    direction: s.direction === 'LR' ? 'LR' : 'TB',
    transform,
    collapsed: Array.isArray(s.collapsed) && s.collapsed.length <= 100_000 ? s.collapsed.filter((k): k is string => typeof k === 'string' && k.length <= 4096) : null,
    speed: (PLAY_SPEEDS as readonly unknown[]).includes(s.speed) ? s.speed : 1,
    view: s.view === 'training' ? 'training' : 'graph',
  };
}

type Relayout =
  /** A new graph: pick the direction, restore the saved zoom or show the first view. */
  | { kind: 'new' }
  /** The same file re-traced: leave the view where it is. */
  | { kind: 'keep' }
  /** After collapse/expand: keep the direction and zoom, keep the toggled group where it was on screen. */
  | { kind: 'anchor'; what: { node?: string; cluster?: string }; before: { x: number; y: number; top: number } | null }
  /** Collapse all / expand all: keep the direction, show the graph afresh. */
  | { kind: 'refit' };

export class App {
  private ui: UiState;
  /** Saved state from before a reload: applied to the first snapshot of the same file. */
  private restored: PanelState | null;
  /** Collapsed clusters (module scopes, composite ops) by key. */
  private collapsed = new Set<string>();
  private tree: GroupTree | null = null;
  private nonfinite: NonFinite | null = null;
  private phase: Phase = 'waiting';
  private snapshot: GraphSnapshot | null = null;
  private fileName = '';
  private runId = 0;
  private errors: RunError[] = [];
  private highlighted = new Set<number>();
  private vm: ViewModel | null = null;
  private layoutSeq = 0;
  private fetchSeq = 0;
  private playTimer: number | null = null;
  private view: StepView | null = null;
  /** Pick the layout direction that fits the panel best, until the user picks one. */
  private autoDirection: boolean;
  /** The snapshot brought a NaN/Inf culprit that was selected: show it in the first view. */
  private focusNonfinite = false;

  private readonly toolbar: Toolbar;
  private readonly status = new StatusLine();
  private readonly banner: HTMLElement;
  private readonly graphWrap: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly graph: GraphView;
  private readonly minimap: Minimap;
  private readonly inspector: Inspector;
  private readonly training: TrainingView;
  private readonly gpu: PanelGpu;
  /** The training step the graph shows (null: the file's own trace). */
  private trainStep: number | null = null;
  /** Parameters whose last gradient check failed (by name), marked in the graph. */
  private failedParamNames: string[] = [];
  /** Their node ids in `snapshot` (found again only when the snapshot or the names change, not on every step). */
  private failed: { snapshot: GraphSnapshot | null; names: string[]; ids: Set<number> } = { snapshot: null, names: [], ids: new Set() };
  private get failedParams(): Set<number> {
    const s = this.snapshot;
    if (this.failed.snapshot !== s || this.failed.names !== this.failedParamNames) {
      const ids = new Set<number>();
      if (s) for (const name of this.failedParamNames) {
        const id = paramNode(s, name);
        if (id !== null) ids.add(id);
      }
      this.failed = { snapshot: s, names: this.failedParamNames, ids };
    }
    return this.failed.ids;
  }
  /** Graph or training view (training only while the snapshot has a training spec). */
  private panelView: PanelView = 'graph';
  private readonly layouts: LayoutClient;
  /** A layout is being made for the current snapshot. */
  private laying = false;
  /** The snapshot the canvas shows (null: nothing drawn yet). */
  private drawn: GraphSnapshot | null = null;
  /** Why the current snapshot could not be laid out or drawn (shown in the canvas); null when it was drawn. */
  private layoutError: string | null = null;

  constructor(private readonly root: HTMLElement, private readonly host: Host) {
    this.restored = readState(host.getState());
    const { collapsed: _saved, ...ui } = this.restored ?? DEFAULT_STATE;
    void _saved;
    this.ui = { ...ui };
    this.autoDirection = !this.restored;
    this.layouts = new LayoutClient(document.body.dataset.layoutWorker || undefined);
    this.toolbar = new Toolbar({
      mode: (m) => this.setMode(m),
      first: () => this.go(0),
      prev: () => this.go(this.ui.step - 1),
      next: () => this.go(this.ui.step + 1),
      last: () => this.go(Infinity),
      play: () => this.togglePlay(),
      speed: () => this.cycleSpeed(),
      fit: () => this.graph.fit(),
      direction: () => this.toggleDirection(),
      rerun: () => this.host.post({ type: 'rerun' }),
      search: (q) => this.search(q),
      collapseAll: () => this.toggleAll(),
      view: (v) => this.setPanelView(v),
    });
    // a standalone report has no model to re-run
    if (this.host.kind === 'standalone') this.toolbar.buttons.rerun.hidden = true;
    this.banner = el('div', { class: 'banner' });
    const main = el('div', { class: 'main' });
    this.graphWrap = el('div', { class: 'graph-wrap' });
    this.empty = el('div', { class: 'empty' }, 'Waiting for the trace…');
    this.graphWrap.append(this.empty);
    this.graph = new GraphView(this.graphWrap, {
      select: (id) => this.select(id, true),
      transform: (t) => this.setTransform(t),
      toggle: (key) => this.toggleGroup(key),
      view: (t, width, height) => this.minimap.setView(t, width, height),
    });
    this.minimap = new Minimap(this.graphWrap, { centre: (x, y, how) => this.graph.centreOn(x, y, how) });
    this.inspector = new Inspector({
      revealSource: (n) => this.revealSource(n),
      fetchTensor: (node, which) => this.host.post({ type: 'fetchTensor', requestId: ++this.fetchSeq, node, which }),
      select: (id) => this.select(id, true),
      toggleGroup: (key) => this.toggleGroup(key),
    });
    this.gpu = new PanelGpu(() => (navigator as Navigator & { gpu?: GPU }).gpu, (m) => this.host.post(m));
    this.training = new TrainingView((m) => this.host.post(m), {
      gradcheck: (failed) => {
        this.failedParamNames = failed;
        this.refreshStep();
      },
      selectParam: (name) => {
        const id = this.snapshot ? paramNode(this.snapshot, name) : null;
        if (id === null) return;
        this.setPanelView('graph');
        this.select(id, false);
        this.graph.reveal(id);
      },
    });
    this.panelView = this.restored?.view ?? 'graph';
    main.append(this.graphWrap, this.inspector.root, this.training.root);
    root.append(this.toolbar.root, this.banner, main, this.status.root);
    this.refreshChrome();
  }

  handle(m: HostMessage): void {
    switch (m.type) {
      case 'snapshot':
        this.receiveSnapshot(m.snapshot, m.file, m.fileName, m.runId);
        break;
      case 'running':
        this.phase = 'running';
        this.fileName = m.fileName;
        this.refreshChrome();
        break;
      case 'errors':
        this.phase = 'errors';
        this.fileName = m.fileName;
        this.errors = Array.isArray(m.errors) ? m.errors : [];
        this.refreshChrome();
        break;
      case 'untrusted':
        this.phase = 'untrusted';
        this.fileName = m.fileName;
        this.refreshChrome();
        break;
      case 'tensorData':
        this.inspector.tensorArrived(m.node, m.which, m.data ? Float64Array.from(m.data) : null, m.reason);
        this.refreshInspector();
        break;
      case 'command':
        this.command(m.command);
        break;
      case 'highlightLines':
        this.highlight(m.file, m.lines);
        break;
      case 'trainProgress':
      case 'trainStatus':
      case 'analysis':
        this.training.handle(m);
        break;
      case 'trainGraph':
        // the graph follows the training run: the same file's graph at the current parameters
        this.receiveSnapshot(m.snapshot, this.snapshot?.file ?? m.snapshot.file, this.fileName, this.runId, m.step);
        break;
      case 'export':
        void this.export(m.requestId, m.format);
        break;
      case 'gpuTrain':
      case 'gpuControl':
        this.gpu.handle(m);
        break;
      default: {
        const never: never = m;
        this.host.post({ type: 'error', message: `unknown message ${JSON.stringify((never as { type?: unknown }).type)}` });
      }
    }
  }

  // --- snapshot → view model → layout → render ---------------------------------------------

  private receiveSnapshot(raw: GraphSnapshot, file: string, fileName: string, runId: number, trainStep: number | null = null): void {
    const s = normalizeSnapshot(raw);
    const previous = this.snapshot;
    this.trainStep = trainStep;
    const sameFile = this.ui.file === file;
    this.snapshot = s;
    this.fileName = fileName;
    this.runId = runId;
    this.phase = 'ready';
    this.errors = [];
    this.inspector.resetFetched();
    this.stopPlay();
    const restored = this.restored && this.restored.file === file ? this.restored : null;
    this.restored = null;
    const previousFirst = this.nonfinite?.first ?? null;
    const tree = buildGroupTree(s);
    this.tree = tree;
    this.nonfinite = findNonFinite(s);
    const collapsed = restored?.collapsed ?? (sameFile && previous ? [...this.collapsed] : defaultCollapsed(s, tree));
    this.collapsed = new Set(collapsed.filter((k) => tree.members.has(k)));
    if (restored) {
      const { collapsed: _c, ...ui } = restored;
      void _c;
      this.ui = { ...ui, step: clampStep(s, restored.mode, restored.step) };
    } else {
      // a new trace shows everything: all values and the final gradients
      this.ui = {
        ...this.ui,
        file,
        mode: 'backward',
        step: stepCount(s, 'backward'),
        transform: sameFile && previous ? this.ui.transform : null,
        selected: sameFile ? this.ui.selected : null,
      };
    }
    if (this.ui.selected !== null && this.ui.selected >= s.nodes.length) this.ui.selected = null;
    // NaN/Inf: select where it first appears (unless a saved selection says otherwise, or the user
    // picked another node and the culprit did not change) and make sure it is not hidden in a group
    const first = this.nonfinite.first;
    const keepSelection = restored ? restored.selected !== null : sameFile && !!previous && this.ui.selected !== null && previousFirst === first;
    this.focusNonfinite = first !== null && !keepSelection;
    if (first !== null && !keepSelection) {
      this.ui.selected = first;
      for (const c of ancestors(tree, first)) this.collapsed.delete(c);
    }
    if (!sameFile) this.highlighted.clear();
    this.training.setSnapshot(s);
    this.refreshChrome();
    void this.relayout(previous && sameFile ? { kind: 'keep' } : { kind: 'new' });
  }

  private async relayout(how: Relayout): Promise<void> {
    const keepView = how.kind !== 'new';
    const s = this.snapshot;
    if (!s) return;
    const seq = ++this.layoutSeq;
    performance.mark('bpl:viewmodel');
    this.laying = true;
    this.layoutError = null;
    this.refreshChrome();
    let vm: ViewModel | null = null;
    let layout: LayoutResult;
    try {
      const measure = createMeasure(this.graphWrap);
      vm = buildViewModel(s, measure, { collapsed: this.collapsed, tree: this.tree ?? undefined, nonfinite: this.nonfinite ?? undefined });
      const req: LayoutRequest = {
        id: seq,
        direction: this.ui.direction,
        nodes: vm.nodes.map((n) => ({ key: n.key, width: n.width, height: n.height, parent: n.cluster })),
        clusters: vm.clusters.map((c) => ({ key: c.key, parent: c.parent, labelWidth: measure('cluster-label', clusterText(c.label)) + 16 + CLUSTER_TOGGLE })),
        edges: vm.edges.map((e) => ({ key: e.key, from: e.fromKey, to: e.toKey })),
      };
      performance.mark('bpl:layout');
      if (this.autoDirection && !keepView && vm.nodes.length <= 3000) {
        // a long chain reads better left to right in a wide panel, a wide graph top to bottom
        const [tb, lr] = await Promise.all([this.layouts.layout({ ...req, direction: 'TB' }), this.layouts.layout({ ...req, id: -seq, direction: 'LR' })]);
        const w = this.graphWrap.clientWidth || 800, h = this.graphWrap.clientHeight || 600;
        const fit = (l: LayoutResult) => Math.min(w / Math.max(1, l.width), h / Math.max(1, l.height));
        const useLR = tb.error ? !lr.error : !lr.error && fit(lr) > fit(tb) * 1.2;
        if (!tb.error || !lr.error) this.ui.direction = useLR ? 'LR' : 'TB';
        layout = useLR ? { ...lr, id: seq } : tb;
      } else {
        layout = await this.layouts.layout(req);
      }
    } catch (err) {
      layout = failedLayout(seq, err);
    }
    if (seq !== this.layoutSeq || s !== this.snapshot) return; // a newer snapshot won
    this.laying = false;
    if (layout.error === undefined && vm) {
      try {
        performance.mark('bpl:draw');
        this.graph.draw(s, vm, layout);
        this.minimap.draw(vm, layout);
      } catch (err) {
        layout = failedLayout(seq, err);
      }
    }
    if (layout.error !== undefined || !vm) {
      // say so where the graph would be, never a blank canvas
      this.layoutError = layout.error ?? 'no view model';
      this.root.dataset.layoutFailed = String(this.runId);
      this.host.post({ type: 'error', message: `layout failed: ${this.layoutError}` });
      this.refreshChrome();
      return;
    }
    this.layoutError = null;
    delete this.root.dataset.layoutFailed;
    this.drawn = s;
    this.vm = vm;
    this.refreshStep();
    const focus = this.focusNonfinite && this.ui.selected !== null ? this.ui.selected : this.view?.current ?? s.output;
    if (how.kind === 'keep') {
      // same file re-traced: leave the view where the user had it
      if (this.focusNonfinite && this.ui.selected !== null) this.graph.reveal(this.ui.selected);
    } else if (how.kind === 'anchor') {
      if (how.before) this.graph.anchor(how.what, how.before);
    } else if (how.kind === 'refit') this.graph.initialView(focus);
    else if (this.ui.transform) this.graph.setTransform(this.ui.transform);
    else this.graph.initialView(focus);
    this.focusNonfinite = false;
    this.ui.transform = this.graph.transform;
    performance.mark('bpl:drawn');
    this.root.dataset.rendered = String(this.runId);
    this.root.dataset.layout = this.layouts.where;
    this.root.dataset.nodes = String(s.nodes.length);
    this.persist();
  }

  // --- stepping, selection, highlight -----------------------------------------------------------

  private setPanelView(view: PanelView): void {
    if (view === 'training') this.stopPlay();
    this.panelView = view;
    this.refreshChrome();
    this.persist();
  }

  /** The saved choice applies only to snapshots that can train. */
  private shownView(): PanelView {
    return this.snapshot?.training ? this.panelView : 'graph';
  }

  private setMode(mode: ViewMode): void {
    if (!this.snapshot) return;
    this.stopPlay();
    if (mode !== this.ui.mode) {
      this.ui.mode = mode;
      // switching modes starts that pass from its beginning
      this.ui.step = 0;
    }
    this.refreshStep();
    this.persist();
  }

  private go(step: number): void {
    if (!this.snapshot) return;
    const next = clampStep(this.snapshot, this.ui.mode, step === Infinity ? stepCount(this.snapshot, this.ui.mode) : step);
    if (next === this.ui.step) return;
    this.ui.step = next;
    this.refreshStep();
    if (this.view?.current !== null && this.view?.current !== undefined) this.graph.reveal(this.view.current);
    this.persist();
  }

  private togglePlay(): void {
    if (this.playTimer !== null) {
      this.stopPlay();
      return;
    }
    if (!this.snapshot) return;
    if (this.ui.step >= stepCount(this.snapshot, this.ui.mode)) this.ui.step = 0;
    const tick = () => {
      if (!this.snapshot || this.ui.step >= stepCount(this.snapshot, this.ui.mode)) {
        this.stopPlay();
        return;
      }
      this.go(this.ui.step + 1);
    };
    this.playTimer = window.setInterval(tick, PLAY_MS / (this.ui.speed ?? 1));
    tick();
    this.refreshChrome();
  }

  /** Next play speed; a running play continues at the new rate. */
  private cycleSpeed(): void {
    const i = PLAY_SPEEDS.indexOf((this.ui.speed ?? 1) as (typeof PLAY_SPEEDS)[number]);
    this.ui.speed = PLAY_SPEEDS[(i + 1) % PLAY_SPEEDS.length];
    if (this.playTimer !== null) {
      window.clearInterval(this.playTimer);
      this.playTimer = null;
      this.togglePlay();
    }
    this.persist();
    this.refreshChrome();
  }

  private stopPlay(): void {
    if (this.playTimer === null) return;
    window.clearInterval(this.playTimer);
    this.playTimer = null;
    this.refreshChrome();
  }

  private toggleDirection(): void {
    this.autoDirection = false;
    this.ui.direction = this.ui.direction === 'TB' ? 'LR' : 'TB';
    this.ui.transform = null;
    void this.relayout({ kind: 'refit' });
  }

  /** Collapses or expands one cluster, keeping it where it was on screen. */
  private toggleGroup(key: string): void {
    if (!this.snapshot || !this.tree?.members.has(key)) return;
    const expanding = this.collapsed.has(key);
    if (expanding) this.expandOne(key);
    else this.collapsed.add(key);
    const before = this.graph.screenPoint(expanding ? { node: `c:${key}` } : { cluster: key });
    void this.relayout({ kind: 'anchor', what: expanding ? { cluster: key } : { node: `c:${key}` }, before });
  }

  /**
   * Expands one cluster. A large one opens one level deep: the clusters inside it start collapsed,
   * so a graph of thousands of nodes never lays out all of them at once.
   */
  private expandOne(key: string): void {
    this.collapsed.delete(key);
    if ((this.tree?.members.get(key)?.length ?? 0) > COLLAPSE_ABOVE) for (const c of childClusters(this.tree!, key)) this.collapsed.add(c);
  }

  /**
   * Collapse all (to the outermost groups) when nothing is collapsed, else expand all. A graph too
   * large to lay out whole expands one level per click instead.
   */
  private toggleAll(): void {
    if (!this.snapshot || !this.tree) return;
    if (!this.collapsed.size) this.collapsed = new Set(outermost(this.tree));
    else if (this.snapshot.nodes.length <= EXPAND_ALL_MAX) this.collapsed.clear();
    else for (const c of [...this.collapsed]) this.expandOne(c);
    void this.relayout({ kind: 'refit' });
  }

  /** Expands the groups that hide a node (one level at a time); true when that needs a new layout. */
  private expandAround(id: number): boolean {
    if (!this.tree) return false;
    let changed = false;
    for (const c of ancestors(this.tree, id).reverse()) {
      if (!this.collapsed.has(c)) continue;
      this.expandOne(c);
      changed = true;
    }
    return changed;
  }

  private command(c: PanelCommand): void {
    switch (c) {
      case 'stepForward': this.go(this.ui.step + 1); break;
      case 'stepBackward': this.go(this.ui.step - 1); break;
      case 'reset':
      case 'first': this.go(0); break;
      case 'last': this.go(Infinity); break;
      case 'fit': this.graph.fit(); break;
      default: {
        const never: never = c;
        void never;
      }
    }
  }

  private select(id: number, fromUser: boolean): void {
    const n = this.snapshot?.nodes[id];
    if (!n) return;
    this.ui.selected = id;
    this.refreshStep();
    if (fromUser) {
      this.revealSource(n);
    }
    this.persist();
  }

  private revealSource(n: SnapshotNode): void {
    if (!n.source) return;
    this.host.post({ type: 'revealSource', file: n.source.file || this.snapshot?.file || '', line: Math.max(1, n.source.line), column: Math.max(0, n.source.column ?? 0) });
  }

  private highlight(file: string, lines: number[]): void {
    const s = this.snapshot;
    this.highlighted.clear();
    if (s && Array.isArray(lines)) {
      const set = new Set(lines);
      for (const n of s.nodes) if (n.source && (n.source.file === file || (!n.source.file && s.file === file)) && set.has(n.source.line)) this.highlighted.add(n.id);
    }
    this.refreshStep();
  }

  private search(query: string): void {
    const s = this.snapshot;
    const q = query.trim().toLowerCase();
    if (!s || !q) return;
    const hits = s.nodes.filter((n) => (n.name ?? '').toLowerCase().includes(q) || n.op.toLowerCase() === q || n.label.toLowerCase() === q);
    if (!hits.length) return;
    // cycle through the hits on repeated Enter
    const after = hits.find((n) => this.ui.selected === null || n.id > this.ui.selected) ?? hits[0];
    this.select(after.id, false);
    if (this.expandAround(after.id)) {
      const key = this.vm?.byId.get(after.id)?.key;
      const before = key ? this.graph.screenPoint({ node: key }) : null;
      void this.relayout({ kind: 'anchor', what: { node: `n${after.id}` }, before }).then(() => this.graph.reveal(after.id));
    } else this.graph.reveal(after.id);
  }

  private setTransform(t: Transform): void {
    this.ui.transform = t;
    this.persist();
  }

  // --- output -------------------------------------------------------------------------------------

  private persist(): void {
    const state: PanelState = { ...this.ui, transform: this.ui.transform ? { ...this.ui.transform } : null, collapsed: this.snapshot ? [...this.collapsed] : null, view: this.panelView };
    this.host.setState(state);
  }

  private refreshStep(): void {
    const s = this.snapshot;
    this.view = s ? stepView(s, this.ui.mode, this.ui.step) : null;
    if (s && this.view && this.vm) this.graph.applyStep(this.view, this.ui.selected, this.highlighted, this.failedParams);
    this.refreshInspector();
    this.refreshChrome();
  }

  private refreshInspector(): void {
    const s = this.snapshot;
    const sel = this.ui.selected;
    const shownBy = sel !== null ? this.vm?.byId.get(sel) : undefined;
    const group = shownBy?.group ? { key: shownBy.group.key, label: shownBy.group.label, size: shownBy.group.members.length } : null;
    this.inspector.render(s, this.view, sel, { nonfinite: this.nonfinite, collapsedGroup: group });
  }

  private refreshChrome(): void {
    const s = this.snapshot;
    this.toolbar.update({
      mode: this.ui.mode, step: this.ui.step, total: s ? stepCount(s, this.ui.mode) : 0,
      playing: this.playTimer !== null, speed: this.ui.speed ?? 1, hasGraph: !!s, direction: this.ui.direction,
      groups: s && this.tree ? (this.tree.members.size ? (this.collapsed.size ? 'collapsed' : 'expanded') : 'none') : 'none',
      view: this.shownView(), canTrain: !!s?.training,
    });
    this.root.dataset.view = this.shownView();
    this.training.setShown(this.shownView() === 'training');
    const phaseText: Record<Phase, string> = { waiting: 'waiting for the trace', running: 'running…', ready: 'traced', errors: 'failed', untrusted: 'Restricted Mode' };
    const parts = [this.fileName || (s ? basename(s.file) : '')].filter(Boolean);
    if (s) {
      const shown = this.vm && this.vm.nodes.length < s.nodes.length ? ` (${this.vm.nodes.length} shown)` : '';
      parts.push(`${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}${shown}`);
    }
    parts.push(this.phase === 'ready' && this.trainStep !== null ? `at training step ${this.trainStep}` : phaseText[this.phase]);
    this.root.dataset.trainStep = this.trainStep === null ? '' : String(this.trainStep);
    this.status.update(parts.join(' · '), this.phase === 'running', s ? this.nonfiniteText(s) : null);
    // with a snapshot, the canvas shows its graph, or why it cannot, or that it is being laid out
    const note = !s ? null
      : this.layoutError !== null ? `The graph could not be laid out: ${this.layoutError}`
        : this.laying && this.drawn !== s ? `Laying out ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}…` : null;
    this.empty.hidden = !!s && note === null;
    if (note !== null) this.empty.textContent = note;
    else if (!s && this.phase !== 'waiting') this.empty.textContent = this.phase === 'running' ? 'Running the model…' : '';
    this.empty.classList.toggle('layout-error', !!s && this.layoutError !== null);
    if (s && this.layoutError !== null) {
      this.empty.setAttribute('role', 'alert');
      this.empty.dataset.testid = 'layout-error';
    } else {
      this.empty.removeAttribute('role');
      delete this.empty.dataset.testid;
    }
    this.graphWrap.classList.toggle('stale', this.phase === 'errors' || this.phase === 'untrusted' || (!!s && this.layoutError !== null));
    this.root.dataset.phase = this.phase;
    this.renderBanner();
  }

  /** `NaN first appears at log (line 7)`. */
  private nonfiniteText(s: GraphSnapshot): string | null {
    const nf = this.nonfinite;
    if (!nf || nf.first === null) return null;
    const n = s.nodes[nf.first];
    const line = nf.source?.line;
    const what = n.name ? `${fullName(n.name)} (${n.op}${line ? `, line ${line}` : ''})` : `${n.op}${line ? ` (line ${line})` : ''}`;
    return `${nf.what} first appears ${nf.phase === 'backward' ? 'in the backward pass ' : ''}at ${what}`;
  }

  private renderBanner(): void {
    this.banner.replaceChildren();
    if (this.phase === 'errors') {
      const box = el('div', { class: 'errors', 'data-testid': 'errors', role: 'alert' });
      box.append(el('div', { class: 'banner-title' }, `The model did not run${this.snapshot ? ' (showing the previous graph)' : ''}`));
      const list = el('ul');
      for (const e of this.errors) {
        const where = `${basename(String(e.file ?? this.fileName))}${e.line ? `:${e.line}` : ''}`;
        const li = el('li');
        const loc = el('a', { href: '#', class: 'mono' }, where);
        loc.addEventListener('click', (ev) => {
          ev.preventDefault();
          if (e.file && e.line) this.host.post({ type: 'revealSource', file: e.file, line: e.line, column: Math.max(0, e.column ?? 0) });
        });
        li.append(loc, ` — ${String(e.message ?? '')}`);
        list.append(li);
      }
      box.append(list);
      this.banner.append(box);
    } else if (this.phase === 'untrusted') {
      const box = el('div', { class: 'untrusted', 'data-testid': 'untrusted', role: 'alert' });
      box.append(
        el('i', { class: 'codicon codicon-shield' }),
        el('span', {}, `Model code does not run in Restricted Mode. Trust this workspace to trace ${this.fileName || 'the model'}.`),
        button('workspace-trusted', 'Manage Workspace Trust', () => this.host.post({ type: 'manageTrust' }), 'manage-trust', false),
      );
      this.banner.append(box);
    }
  }

  private async export(requestId: number, format: 'svg' | 'png'): Promise<void> {
    try {
      const svg = exportSvg(this.graph.svg.node()!, this.graph.bounds);
      const data = format === 'svg' ? svg : await exportPng(svg, this.graph.bounds);
      this.host.post({ type: 'exported', requestId, format, data });
    } catch (err) {
      this.host.post({ type: 'error', message: `export failed: ${String((err as Error)?.message ?? err)}` });
    }
  }
}

/** The graph node of a trained parameter: its full module path (`model.0.weight`), else its name. */
export function paramNode(s: GraphSnapshot, name: string): number | null {
  const params = s.nodes.filter((n) => n.leaf === 'param');
  const full = params.find((n) => (n.scope ? `${n.scope}.${n.name}` : n.name) === name);
  return (full ?? params.find((n) => n.name === name) ?? params.find((n) => !!n.name && name.endsWith(`.${n.name}`) && !!n.scope && name.startsWith(n.scope)))?.id ?? null;
}
