/**
 * The wiring. Host messages and user input become actions on the panel state (state.ts); after each
 * change App draws what changed: the graph's step and the inspector, the toolbar, the status line and
 * the banner. The controllers keep the rest: persistence.ts saves the state, playback.ts runs the play
 * timer, graphPane.ts lays out and draws the graph, search.ts finds nodes, export.ts answers exports;
 * collapse.ts decides what collapsing does. The panels shown in the graph's place are listed in
 * views.ts and constructed here.
 */
import type { GraphSnapshot, HostMessage, PanelCommand, SnapshotNode } from '../extension/protocol';
import { Banner } from './banner';
import { el } from './dom';
import { answerExport } from './export';
import { PanelGpu } from './gpu/gpuTraining';
import { GraphPane } from './graphPane';
import type { Host } from './host';
import { Inspector } from './inspector';
import { shownView, VIEWS, type PanelId } from './views';
import { Persistence } from './persistence';
import { Playback } from './playback';
import { search } from './search';
import { normalizeSnapshot } from './snapshot';
import { graphOf, initialState, paramNode, reduce, type Action, type PanelState } from './state';
import { stepCount, stepView, type StepView } from './stepper';
import { nonfiniteText, StatusLine, statusText, Toolbar } from './toolbar';
import { TrainingView } from './training/view';

/** What App needs of a panel (a view listed in PANELS, views.ts, shown in the graph's place). */
export interface Panel {
  /** Its element, with the class `panel`: laid over the graph, hidden while another view is shown. */
  readonly root: HTMLElement;
  /** A new trace of the file (also the graph at each training step). */
  setSnapshot(s: GraphSnapshot): void;
  /** The panel is shown or hidden (draw only while shown). */
  setShown(shown: boolean): void;
}

/** Actions after which the step node is brought into view. */
const STEPPING: ReadonlySet<Action['type']> = new Set(['go', 'tick', 'play']);

export class App {
  private state: PanelState;
  /** What the graph shows at the state's step (derived from the state after each change). */
  private stepView: StepView | null = null;
  private fetchSeq = 0;
  private readonly persistence: Persistence;
  private readonly playback: Playback;
  private readonly toolbar: Toolbar;
  private readonly status = new StatusLine();
  private readonly banner: Banner;
  private readonly pane: GraphPane;
  private readonly inspector: Inspector;
  private readonly training: TrainingView;
  /** One of each panel in PANELS (views.ts). */
  private readonly panels: Record<PanelId, Panel>;
  private readonly gpu: PanelGpu;

  constructor(private readonly root: HTMLElement, private readonly host: Host) {
    this.persistence = new Persistence(host);
    this.state = initialState(this.persistence.load());
    this.playback = new Playback((a) => this.dispatch(a));
    const dispatch = (a: Action) => this.dispatch(a);
    this.toolbar = new Toolbar({
      mode: (mode) => dispatch({ type: 'mode', mode }),
      first: () => dispatch({ type: 'go', to: 'first' }),
      prev: () => dispatch({ type: 'go', to: 'prev' }),
      next: () => dispatch({ type: 'go', to: 'next' }),
      last: () => dispatch({ type: 'go', to: 'last' }),
      play: () => dispatch({ type: 'play' }),
      speed: () => dispatch({ type: 'speed' }),
      fit: () => this.pane.view.fit(),
      direction: () => {
        dispatch({ type: 'direction' });
        void this.pane.relayout({ kind: 'refit' });
      },
      rerun: () => host.post({ type: 'rerun' }),
      search: (q) => search(q, { state: () => this.state, dispatch, pane: this.pane }),
      collapseAll: () => {
        dispatch({ type: 'toggleAll' });
        void this.pane.relayout({ kind: 'refit' });
      },
      view: (view) => dispatch({ type: 'view', view }),
    });
    // a standalone report has no model to re-run
    if (host.kind === 'standalone') this.toolbar.buttons.rerun.hidden = true;
    this.banner = new Banner((m) => host.post(m));
    this.pane = new GraphPane(root, () => this.state, {
      select: (id) => this.select(id, true),
      transform: (transform) => dispatch({ type: 'transform', transform }),
      toggle: (key) => this.toggleGroup(key),
      direction: (direction) => dispatch({ type: 'layoutDirection', direction }),
      drawn: (transform) => {
        this.refreshStep();
        dispatch({ type: 'drawn', transform });
      },
      changed: () => this.refreshChrome(),
      failed: (message) => host.post({ type: 'error', message }),
    });
    this.inspector = new Inspector({
      revealSource: (n) => this.revealSource(n),
      fetchTensor: (node, which) => host.post({ type: 'fetchTensor', requestId: ++this.fetchSeq, node, which }),
      select: (id) => this.select(id, true),
      toggleGroup: (key) => this.toggleGroup(key),
    });
    this.gpu = new PanelGpu(() => (navigator as Navigator & { gpu?: GPU }).gpu, (m) => host.post(m));
    this.training = new TrainingView((m) => host.post(m), {
      gradcheck: (failed) => dispatch({ type: 'gradcheck', failed }),
      selectParam: (name) => this.showParam(name),
    });
    this.panels = { training: this.training };
    const main = el('div', { class: 'main' });
    main.append(this.pane.root, this.inspector.root, ...VIEWS.flatMap((v) => (v.id === 'graph' ? [] : [this.panels[v.id].root])));
    root.append(this.toolbar.root, this.banner.root, main, this.status.root);
    this.refreshChrome();
  }

  handle(m: HostMessage): void {
    switch (m.type) {
      case 'snapshot':
        performance.mark('bpl:snapshot');
        this.receive(m.snapshot, m.file, m.fileName, m.runId, null);
        break;
      case 'running':
      case 'untrusted':
        this.dispatch({ type: m.type, fileName: m.fileName });
        break;
      case 'errors':
        this.dispatch({ type: 'errors', fileName: m.fileName, errors: m.errors });
        break;
      case 'tensorData':
        this.inspector.tensorArrived(m.node, m.which, m.data ? Float64Array.from(m.data) : null, m.reason);
        this.refreshInspector();
        break;
      case 'command':
        this.command(m.command);
        break;
      case 'highlightLines':
        this.dispatch({ type: 'highlight', file: m.file, lines: m.lines });
        break;
      case 'trainProgress':
      case 'trainStatus':
      case 'analysis':
      case 'analyses':
        this.training.handle(m);
        break;
      case 'trainGraph':
        // the graph follows the training run: the same file's graph at the current parameters
        this.receive(m.snapshot, this.state.graph?.snapshot.file ?? m.snapshot.file, this.state.fileName, this.state.runId, m.step);
        break;
      case 'export':
        void answerExport(m.requestId, m.format, { svg: this.pane.view.svg.node()!, bounds: this.pane.view.bounds }, (r) => this.host.post(r));
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

  /** Changes the state, then saves it, follows it with the play timer and draws what changed. */
  private dispatch(action: Action): void {
    const prev = this.state;
    const next = reduce(prev, action);
    if (next === prev) return;
    this.state = next;
    this.persistence.save(next);
    this.playback.sync(next);
    // a new graph is drawn once it is laid out (the pane's `drawn`); until then the old one stays as it was
    const stepChanged = next.graph === prev.graph && (next.mode !== prev.mode || next.step !== prev.step || next.selected !== prev.selected
      || next.highlighted !== prev.highlighted || next.flagged !== prev.flagged);
    if (stepChanged) this.refreshStep();
    const current = this.stepView?.current ?? null;
    if (stepChanged && next.step !== prev.step && STEPPING.has(action.type) && current !== null) this.pane.view.reveal(current);
    this.refreshChrome();
  }

  private receive(raw: GraphSnapshot, file: string, fileName: string, runId: number, trainStep: number | null): void {
    const s = normalizeSnapshot(raw);
    const previous = this.state.graph;
    const sameFile = this.state.file === file;
    this.inspector.resetFetched();
    this.dispatch({ type: 'snapshot', graph: graphOf(s), file, fileName, runId, trainStep });
    for (const p of Object.values(this.panels)) p.setSnapshot(s);
    // a training log has no graph: its training view is what there is to see
    if (s.nodes.length === 0 && s.training) this.dispatch({ type: 'view', view: 'training' });
    void this.pane.relayout(previous && sameFile ? { kind: 'keep' } : { kind: 'new' });
  }

  private command(c: PanelCommand): void {
    switch (c) {
      case 'stepForward': this.dispatch({ type: 'go', to: 'next' }); break;
      case 'stepBackward': this.dispatch({ type: 'go', to: 'prev' }); break;
      case 'reset':
      case 'first': this.dispatch({ type: 'go', to: 'first' }); break;
      case 'last': this.dispatch({ type: 'go', to: 'last' }); break;
      case 'fit': this.pane.view.fit(); break;
      default: {
        const never: never = c;
        void never;
      }
    }
  }

  /**
   * Selects a node; a node the user picked in the graph or the inspector also opens its source line,
   * and is brought into view when it is outside (picked with the keyboard, or a link in the inspector).
   */
  private select(id: number, fromUser: boolean): void {
    const n = this.state.graph?.snapshot.nodes[id];
    if (!n) return;
    this.dispatch({ type: 'select', id });
    if (!fromUser) return;
    this.revealSource(n);
    this.pane.view.reveal(id);
  }

  /** A parameter picked in the training view: shown selected in the graph. */
  private showParam(name: string): void {
    const s = this.state.graph?.snapshot;
    const id = s ? paramNode(s, name) : null;
    if (id === null) return;
    this.dispatch({ type: 'view', view: 'graph' });
    this.select(id, false);
    this.pane.view.reveal(id);
  }

  /** Collapses or expands one cluster, keeping it where it was on screen. */
  private toggleGroup(key: string): void {
    if (!this.state.graph?.tree.members.has(key)) return;
    const expanding = this.state.collapsed.has(key);
    const before = this.pane.view.screenPoint(expanding ? { node: `c:${key}` } : { cluster: key });
    this.dispatch({ type: 'toggleGroup', key });
    void this.pane.relayout({ kind: 'anchor', what: expanding ? { cluster: key } : { node: `c:${key}` }, before });
  }

  private revealSource(n: SnapshotNode): void {
    if (!n.source) return;
    this.host.post({ type: 'revealSource', file: n.source.file || this.state.graph?.snapshot.file || '', line: Math.max(1, n.source.line), column: Math.max(0, n.source.column ?? 0) });
  }

  // --- drawing ------------------------------------------------------------------------------------

  /** The graph's step marks and the inspector. */
  private refreshStep(): void {
    const st = this.state;
    const s = st.graph?.snapshot;
    this.stepView = s ? stepView(s, st.mode, st.step) : null;
    this.pane.applyStep(st, this.stepView);
    this.pane.view.keep = st.selected ?? this.stepView?.current ?? null;
    this.refreshInspector();
  }

  private refreshInspector(): void {
    const st = this.state;
    const shownBy = st.selected !== null ? this.pane.vm?.byId.get(st.selected) : undefined;
    const group = shownBy?.group ? { key: shownBy.group.key, label: shownBy.group.label, size: shownBy.group.members.length } : null;
    this.inspector.render(st.graph?.snapshot ?? null, this.stepView, st.selected, { nonfinite: st.graph?.nonfinite ?? null, collapsedGroup: group });
  }

  /** Toolbar, status line, banner, the canvas note and the view shown. */
  private refreshChrome(): void {
    const st = this.state;
    const g = st.graph;
    const s = g?.snapshot ?? null;
    const view = shownView(st.view, s);
    this.toolbar.update({
      mode: st.mode, step: st.step, total: s ? stepCount(s, st.mode) : 0,
      playing: st.playing, speed: st.speed, hasGraph: !!s, direction: st.direction,
      groups: g ? (g.tree.members.size ? (st.collapsed.size ? 'collapsed' : 'expanded') : 'none') : 'none',
      view, offered: s ? VIEWS.filter((v) => v.offered(s)).map((v) => v.id) : ['graph'],
    });
    this.root.dataset.view = view;
    for (const [id, p] of Object.entries(this.panels)) p.setShown(view === id);
    this.root.dataset.trainStep = st.trainStep === null ? '' : String(st.trainStep);
    this.status.update(statusText(st, this.pane.vm?.nodes.length ?? null), st.phase === 'running', g ? nonfiniteText(g.snapshot, g.nonfinite) : null);
    this.pane.showNote(st);
    this.root.dataset.phase = st.phase;
    this.banner.render(st);
  }
}
