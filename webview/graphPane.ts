/**
 * The graph pane: runs stages 2–4 of the pipeline for the state's graph (view model → layout in the
 * worker → render), with the minimap and the note the canvas shows instead of a graph (waiting,
 * laying out, why the layout failed). A newer snapshot or layout wins over one still in progress.
 */
import type { GraphSnapshot } from '../extension/protocol';
import { el } from './dom';
import { clusterText } from './format';
import { failedLayout, type LayoutRequest, type LayoutResult } from './layout';
import { LayoutClient } from './layoutClient';
import { createMeasure } from './measure';
import { GradStrip } from './gradScale';
import { Minimap } from './minimap';
import { CLUSTER_TOGGLE, GraphView } from './render';
import type { Direction, PanelState, Transform } from './state';
import { stepView, type StepView } from './stepper';
import { buildViewModel, type ViewModel } from './viewModel';

/** Where a view node or cluster is on screen (see GraphView.screenPoint). */
export type ScreenPoint = { x: number; y: number; top: number };

export type Relayout =
  /** A new graph: pick the direction, restore the saved zoom or show the first view. */
  | { kind: 'new' }
  /** The same file re-traced: leave the view where it is. */
  | { kind: 'keep' }
  /** After collapse/expand: keep the direction and zoom, keep the toggled group where it was on screen. */
  | { kind: 'anchor'; what: { node?: string; cluster?: string }; before: ScreenPoint | null }
  /** Collapse all / expand all / another direction: show the graph afresh. */
  | { kind: 'refit' };

export interface GraphPaneEvents {
  select(id: number): void;
  transform(t: Transform): void;
  toggle(key: string): void;
  /** The first layout of a graph picked the direction that fits the panel best. */
  direction(d: Direction): void;
  /** A graph was drawn (refresh what shows its step) and its view shown at `t`. */
  drawn(t: Transform): void;
  /** A layout started, or failed: the chrome says so. */
  changed(): void;
  failed(message: string): void;
}

export class GraphPane {
  readonly root = el('div', { class: 'graph-wrap' });
  readonly view: GraphView;
  private readonly minimap: Minimap;
  private readonly note = el('div', { class: 'empty' }, 'Waiting for the trace…');
  private readonly layouts: LayoutClient;
  /** The view model drawn, and the snapshot it shows (null: nothing drawn yet). */
  vm: ViewModel | null = null;
  private drawn: GraphSnapshot | null = null;
  private seq = 0;
  /** A layout is being made for the current snapshot. */
  private laying = false;
  /** Why the current snapshot could not be laid out or drawn (shown in the canvas); null when it was drawn. */
  private layoutError: string | null = null;

  /** `app`: the element whose data attributes say what is drawn (tests and benchmarks wait on them). */
  constructor(private readonly app: HTMLElement, private readonly state: () => PanelState, private readonly events: GraphPaneEvents) {
    this.root.append(this.note);
    this.layouts = new LayoutClient(document.body.dataset.layoutWorker || undefined);
    this.view = new GraphView(this.root, {
      select: (id) => events.select(id),
      transform: (t) => events.transform(t),
      toggle: (key) => events.toggle(key),
      view: (t, width, height) => this.minimap.setView(t, width, height),
    });
    this.minimap = new Minimap(this.root, { centre: (x, y, how) => this.view.centreOn(x, y, how) });
    this.strip = new GradStrip(this.root, (id) => events.select(id));
  }

  /** The gradient legend and per-layer strip in the graph's corner. */
  private readonly strip: GradStrip;

  /** The view model of the graph on screen, if it is the state's graph. */
  private current(st: PanelState): ViewModel | null {
    return st.graph && this.drawn === st.graph.snapshot ? this.vm : null;
  }

  /** Marks the step, the selection, highlighted and flagged nodes (once the state's graph is drawn). */
  applyStep(st: PanelState, view: StepView | null): void {
    if (view && this.current(st)) this.view.applyStep(view, st.selected, st.highlighted, st.flagged);
  }

  /** Where the view node that shows snapshot node `id` is on screen now (its collapsed group when one hides it). */
  screenPointOf(id: number): ScreenPoint | null {
    const key = this.vm?.byId.get(id)?.key;
    return key ? this.view.screenPoint({ node: key }) : null;
  }

  async relayout(how: Relayout): Promise<void> {
    const keepView = how.kind !== 'new';
    const st = this.state();
    const g = st.graph;
    if (!g) return;
    const s = g.snapshot;
    const seq = ++this.seq;
    performance.mark('bpl:viewmodel');
    this.laying = true;
    this.layoutError = null;
    this.events.changed();
    let vm: ViewModel | null = null;
    let layout: LayoutResult;
    let picked: Direction | null = null;
    try {
      const measure = createMeasure(this.root);
      vm = buildViewModel(s, measure, { collapsed: st.collapsed, tree: g.tree, nonfinite: g.nonfinite });
      const req: LayoutRequest = {
        id: seq,
        direction: st.direction,
        nodes: vm.nodes.map((n) => ({ key: n.key, width: n.width, height: n.height, parent: n.cluster })),
        clusters: vm.clusters.map((c) => ({ key: c.key, parent: c.parent, labelWidth: measure('cluster-label', clusterText(c.label)) + 16 + CLUSTER_TOGGLE })),
        edges: vm.edges.map((e) => ({ key: e.key, from: e.fromKey, to: e.toKey })),
      };
      performance.mark('bpl:layout');
      if (st.autoDirection && !keepView && vm.nodes.length <= 3000) {
        // a long chain reads better left to right in a wide panel, a wide graph top to bottom
        const [tb, lr] = await Promise.all([this.layouts.layout({ ...req, direction: 'TB' }), this.layouts.layout({ ...req, id: -seq, direction: 'LR' })]);
        const w = this.root.clientWidth || 800, h = this.root.clientHeight || 600;
        const fit = (l: LayoutResult) => Math.min(w / Math.max(1, l.width), h / Math.max(1, l.height));
        const useLR = tb.error ? !lr.error : !lr.error && fit(lr) > fit(tb) * 1.2;
        if (!tb.error || !lr.error) picked = useLR ? 'LR' : 'TB';
        layout = useLR ? { ...lr, id: seq } : tb;
      } else {
        layout = await this.layouts.layout(req);
      }
    } catch (err) {
      layout = failedLayout(seq, err);
    }
    if (seq !== this.seq || s !== this.state().graph?.snapshot) return; // a newer snapshot or layout won
    if (picked) this.events.direction(picked);
    this.laying = false;
    if (layout.error === undefined && vm) {
      try {
        performance.mark('bpl:draw');
        this.view.draw(s, vm, layout);
        this.minimap.draw(vm, layout);
      } catch (err) {
        layout = failedLayout(seq, err);
      }
    }
    if (layout.error !== undefined || !vm) {
      // say so where the graph would be, never a blank canvas
      this.layoutError = layout.error ?? 'no view model';
      this.app.dataset.layoutFailed = String(this.state().runId);
      this.events.failed(`layout failed: ${this.layoutError}`);
      this.events.changed();
      return;
    }
    this.layoutError = null;
    delete this.app.dataset.layoutFailed;
    this.drawn = s;
    this.vm = vm;
    this.strip.render(s);
    this.showView(how, s);
    performance.mark('bpl:drawn');
    this.app.dataset.rendered = String(this.state().runId);
    this.app.dataset.layout = this.layouts.where;
    this.app.dataset.nodes = String(s.nodes.length);
  }

  /** After a draw: where the view goes (see Relayout), then `drawn` with the transform it ended at. */
  private showView(how: Relayout, s: GraphSnapshot): void {
    const st = this.state();
    const focusNode = st.focusNonfinite && st.selected !== null ? st.selected : null;
    const focus = focusNode ?? stepView(s, st.mode, st.step).current ?? s.output;
    if (how.kind === 'keep') {
      // same file re-traced: leave the view where the user had it
      if (focusNode !== null) this.view.reveal(focusNode);
    } else if (how.kind === 'anchor') {
      if (how.before) this.view.anchor(how.what, how.before);
    } else if (how.kind === 'refit') this.view.initialView(focus);
    else if (st.transform) this.view.setTransform(st.transform);
    else this.view.initialView(focus);
    this.events.drawn(this.view.transform);
  }

  /** With a snapshot, the canvas shows its graph, or why it cannot, or that it is being laid out. */
  showNote(st: PanelState): void {
    const s = st.graph?.snapshot ?? null;
    const note = !s ? null
      : this.layoutError !== null ? `The graph could not be laid out: ${this.layoutError}`
        : this.laying && this.drawn !== s ? `Laying out ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}…` : null;
    this.note.hidden = !!s && note === null;
    if (note !== null) this.note.textContent = note;
    else if (!s && st.phase !== 'waiting') this.note.textContent = st.phase === 'running' ? 'Running the model…' : '';
    const failed = !!s && this.layoutError !== null;
    this.note.classList.toggle('layout-error', failed);
    if (failed) {
      this.note.setAttribute('role', 'alert');
      this.note.dataset.testid = 'layout-error';
    } else {
      this.note.removeAttribute('role');
      delete this.note.dataset.testid;
    }
    this.root.classList.toggle('stale', st.phase === 'errors' || st.phase === 'untrusted' || failed);
  }
}
