/**
 * Pipeline stage 4: render with d3. Joins are keyed by node id, edge key and cluster key, so a
 * re-traced graph updates in place. `draw` places things (after a layout); `applyStep` only changes
 * texts and classes, which keeps stepping cheap.
 */
import * as d3 from 'd3';
import type { GraphSnapshot } from '../extension/protocol';
import type { LayoutResult, Point } from './layout';
import type { StepView } from './stepper';
import { CLUSTER_LABEL } from './layout';
import type { ViewCluster } from './groups';
import { G, ICON, ICON_GAP, type ViewEdge, type ViewModel, type ViewNode } from './viewModel';
import { clusterText, faceText, fullName, largestAbs, signClass, tensorBrief, tensorHeatLegend, tensorOpacity } from './format';
import { gradScaleOf, graphGradScale } from './gradScale';

export interface Transform { x: number; y: number; k: number }

export interface GraphEvents {
  select(id: number): void;
  transform(t: Transform): void;
  /** Collapse or expand a cluster (module scope or composite op) by key. */
  toggle(cluster: string): void;
  /** The view moved or resized (each zoom frame too): `width`×`height` is the SVG's size in px. */
  view(t: Transform, width: number, height: number): void;
}

/** How the minimap moves the view: a click or key (animated unless motion is reduced), a drag still moving (not saved yet), the end of a drag. */
export type CentreHow = 'jump' | 'drag' | 'drop';

/** Codicon glyphs (the codicon font is loaded by the page). */
const GLYPH = { toggleOpen: '\ueab4', toggleClosed: '\ueab6', warning: '\uea6c' } as const;
/** Room before a cluster's label for its collapse chevron. */
export const CLUSTER_TOGGLE = ICON + 2;

const GROUP_KIND_TEXT = { scope: 'module', group: 'op', expr: 'subexpression', leaves: 'leaves' } as const;

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;
const SVG_NS = 'http://www.w3.org/2000/svg';

function meanOf(p: Float64Array | null): number | null {
  if (!p || p.length === 0) return null;
  let s = 0;
  for (const v of p) s += v;
  return s / p.length;
}

function meanAbs(p: Float64Array | null): number | null {
  if (!p || p.length === 0) return null;
  let s = 0;
  for (const v of p) s += Math.abs(v);
  return s / p.length;
}

const curve = d3.line<Point>().x((p) => p.x).y((p) => p.y).curve(d3.curveBasis);

export class GraphView {
  readonly svg: d3.Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly viewport: d3.Selection<SVGGElement, unknown, null, undefined>;
  private readonly zoom: d3.ZoomBehavior<SVGSVGElement, unknown>;
  private vm: ViewModel | null = null;
  private layout: LayoutResult | null = null;
  private snapshot: GraphSnapshot | null = null;
  private gradScale: (v: number | null) => number = () => 0;
  private edgeScale: (v: number | null) => number = () => 0;
  private suppressTransformEvent = false;
  /** The view shows the whole graph (fit): keep it so when the panel is resized. */
  private fitted = false;
  /** The node the user is looking at (selected, else the current step's): a resize that is not a fit keeps it in view. */
  keep: number | null = null;
  /** The SVG's size, kept by the resize observer: reading it on every zoom frame would force a layout. */
  private size = { width: 0, height: 0 };

  constructor(container: HTMLElement, private readonly events: GraphEvents) {
    this.svg = d3.select(container).append('svg').attr('class', 'graph').attr('aria-label', 'Computational graph');
    const defs = this.svg.append('defs');
    for (const kind of ['plain', 'active', 'done']) {
      defs.append('marker').attr('id', `arrow-${kind}`).attr('class', `arrow arrow-${kind}`)
        .attr('viewBox', '0 0 10 10').attr('refX', 9).attr('refY', 5)
        .attr('markerUnits', 'userSpaceOnUse').attr('markerWidth', 9).attr('markerHeight', 9).attr('orient', 'auto-start-reverse')
        .append('path').attr('d', 'M0,0 L10,5 L0,10 z');
    }
    this.viewport = this.svg.append('g').attr('class', 'viewport');
    this.viewport.append('g').attr('class', 'clusters');
    this.viewport.append('g').attr('class', 'edges');
    this.viewport.append('g').attr('class', 'nodes');
    this.zoom = d3.zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.03, 4])
      .filter((e: Event) => (e.type !== 'dblclick') && !(e as MouseEvent).button)
      .on('zoom', (e: d3.D3ZoomEvent<SVGSVGElement, unknown>) => {
        this.viewport.attr('transform', e.transform.toString());
        this.emitView(e.transform);
      })
      .on('end', (e: d3.D3ZoomEvent<SVGSVGElement, unknown>) => {
        if (e.sourceEvent) this.fitted = false; // the user zoomed or panned
        if (!this.suppressTransformEvent) this.events.transform({ x: e.transform.x, y: e.transform.y, k: e.transform.k });
      });
    this.svg.call(this.zoom);
    // the inspector growing, the Problems panel opening, the window resizing: keep a fitted view fitted
    let last = '';
    new ResizeObserver(() => {
      const el = this.svg.node()!;
      const size = `${el.clientWidth}x${el.clientHeight}`;
      if (size === last) return;
      last = size;
      this.size = { width: el.clientWidth, height: el.clientHeight };
      // the inspector opening below the graph (narrow panels) must not cover the node it is about
      if (this.fitted) this.fit(false);
      else if (this.keep !== null) this.reveal(this.keep);
      this.emitView(d3.zoomTransform(el));
    }).observe(this.svg.node()!);
  }

  private emitView(t: d3.ZoomTransform): void {
    if (!this.size.width) {
      const el = this.svg.node()!;
      this.size = { width: el.clientWidth, height: el.clientHeight };
    }
    this.events.view({ x: t.x, y: t.y, k: t.k }, this.size.width, this.size.height);
  }

  get bounds(): { width: number; height: number } {
    return { width: this.layout?.width ?? 0, height: this.layout?.height ?? 0 };
  }

  /** Places clusters, edges and nodes after a layout. */
  draw(s: GraphSnapshot, vm: ViewModel, layout: LayoutResult): void {
    const first = this.vm === null;
    this.snapshot = s;
    this.vm = vm;
    this.layout = layout;
    const animate = !first && !reducedMotion();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- selection or transition, same attr API
    const t = (sel: d3.Selection<any, any, any, any>): any => (animate ? sel.transition().duration(250) : sel);

    // the graph's one scale (gradScale.ts): the legend beside the graph reads the same ends
    this.gradScale = graphGradScale(s);
    this.edgeScale = gradScaleOf(vm.edges.map((e) => e.gradMagnitude));

    const clusters = vm.clusters.filter((c) => layout.clusters[c.key]);
    const toggle = (c: ViewCluster) => this.events.toggle(c.key);
    this.viewport.select<SVGGElement>('g.clusters').selectAll<SVGGElement, ViewCluster>('g.cluster')
      .data(clusters, (c) => c.key)
      .join((enter) => {
        const g = enter.append('g');
        g.append('rect').attr('class', 'cluster-box').attr('rx', 6);
        const head = g.append('g').attr('class', 'cluster-head').attr('tabindex', 0).attr('role', 'button')
          .on('click', (e: MouseEvent, c) => { e.stopPropagation(); toggle(c); })
          .on('dblclick', (e: MouseEvent) => e.stopPropagation())
          .on('keydown', (e: KeyboardEvent, c) => {
            if (e.key === 'Enter' || e.key === ' ' || e.key === '-') { e.preventDefault(); e.stopPropagation(); toggle(c); }
          });
        head.append('rect').attr('class', 'cluster-hit');
        head.append('text').attr('class', 'cluster-toggle codicon-glyph').text(GLYPH.toggleOpen);
        head.append('text').attr('class', 'cluster-label');
        return g;
      })
      .attr('class', (c) => `cluster cluster-${c.kind}`)
      .attr('data-key', (c) => c.key)
      .each(function (c) {
        const b = layout.clusters[c.key];
        const g = d3.select(this);
        t(g.select('rect.cluster-box')).attr('x', b.x).attr('y', b.y).attr('width', b.width).attr('height', b.height);
        const head = g.select('g.cluster-head').attr('aria-label', `Collapse ${fullName(c.label)}`).attr('data-key', c.key);
        t(head.select('rect.cluster-hit')).attr('x', b.x).attr('y', b.y).attr('width', b.width).attr('height', CLUSTER_LABEL);
        t(head.select('text.cluster-toggle')).attr('x', b.x + 4).attr('y', b.y + 14);
        t(head.select('text.cluster-label')).attr('x', b.x + 4 + CLUSTER_TOGGLE).attr('y', b.y + 13);
        // cut to CLUSTER_CHARS (app.ts measures the same text for the layout); the whole label in the tooltip
        head.select('text.cluster-label').text(clusterText(c.label));
        fullTitle(head.node() as SVGGElement, c.label, clusterText(c.label));
      });

    this.viewport.select<SVGGElement>('g.edges').selectAll<SVGPathElement, ViewEdge>('path.edge')
      .data(vm.edges.filter((e) => layout.edges[e.key]), (e) => e.key)
      .join('path')
      .attr('class', 'edge')
      .attr('data-from', (e) => e.from)
      .attr('data-to', (e) => e.to)
      .call((sel) => t(sel).attr('d', (e: ViewEdge) => curve(layout.edges[e.key]) ?? ''));

    const nodes = this.viewport.select<SVGGElement>('g.nodes').selectAll<SVGGElement, ViewNode>('g.node')
      .data(vm.nodes.filter((n) => layout.nodes[n.key]), (n) => n.key)
      .join((enter) => enter.append('g').attr('class', 'node').each(function () { buildNode(this); })
        .attr('transform', (n) => nodeTransform(n, layout))
        .on('click', (e: MouseEvent, n) => {
          e.stopPropagation();
          if (n.group && (e.target as Element | null)?.classList?.contains('icon-toggle')) this.events.toggle(n.group.key);
          else this.events.select(n.id);
        })
        .on('dblclick', (e: MouseEvent, n) => {
          e.stopPropagation();
          if (n.group) this.events.toggle(n.group.key);
        })
        .on('keydown', (e: KeyboardEvent, n) => this.nodeKey(e, n)));
    nodes.attr('data-id', (n) => n.id)
      .attr('data-key', (n) => n.key)
      .attr('data-group', (n) => n.group?.key ?? null)
      .attr('data-name', (n) => (n.group ? n.group.label : n.node.name ?? ''))
      .attr('data-op', (n) => (n.group ? 'group' : n.node.op))
      .attr('tabindex', 0)
      .attr('role', 'button')
      .attr('aria-label', (n) => (n.group
        ? `${fullName(n.title)} (collapsed ${GROUP_KIND_TEXT[n.group.kind]}, ${n.group.members.length} nodes), ${n.shapeText}; press + to expand`
        : `${fullName(n.title)}, ${n.opText}, ${n.shapeText}`))
      .each(function (n) { layoutNode(this, n); });
    t(nodes).attr('transform', (n: ViewNode) => nodeTransform(n, layout));
    // drawing rewrote texts and classes: the next applyStep must write every element again
    this.viewport.selectAll<Element & { __step?: string }, unknown>('g.node, path.edge').each(function () { delete this.__step; });
  }

  private nodeKey(e: KeyboardEvent, n: ViewNode): void {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.events.select(n.id);
      return;
    }
    const vm = this.vm;
    if (!vm) return;
    // + expands a collapsed group, - collapses the group a node sits in
    if ((e.key === '+' || e.key === '=') && n.group) {
      e.preventDefault();
      this.events.toggle(n.group.key);
      return;
    }
    if (e.key === '-' && n.cluster) {
      e.preventDefault();
      this.events.toggle(n.cluster);
      return;
    }
    // Arrow keys walk the graph: up/left to an input, down/right to a consumer.
    let next: ViewNode | undefined;
    if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') {
      const edge = vm.edges.find((x) => x.toKey === n.key);
      next = edge && vm.nodes.find((m) => m.key === edge.fromKey);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowRight') {
      const edge = vm.edges.find((x) => x.fromKey === n.key);
      next = edge && vm.nodes.find((m) => m.key === edge.toKey);
    }
    if (!next) return;
    e.preventDefault();
    e.stopPropagation();
    this.nodeElement(next.id)?.focus();
    this.events.select(next.id);
  }

  /** The element that shows a snapshot node (its collapsed group's, when it is hidden). */
  nodeElement(id: number): SVGGElement | null {
    const key = this.vm?.byId.get(id)?.key;
    return key ? this.viewport.select<SVGGElement>(`g.node[data-key="${CSS.escape(key)}"]`).node() : null;
  }

  /** Texts and classes for a step; no layout involved. */
  applyStep(view: StepView, selected: number | null, highlighted: ReadonlySet<number>, flagged: ReadonlySet<number> = new Set()): void {
    const s = this.snapshot;
    if (!s) return;
    const gradScale = this.gradScale;
    const backward = view.mode === 'backward';
    const byId = this.vm?.byId;
    const keyOf = (id: number | null) => (id === null ? null : byId?.get(id)?.key ?? null);
    const currentKey = keyOf(view.current);
    const selectedKey = keyOf(selected);
    // Stepping touches the DOM only where something changed: with ~1,000 nodes drawn, rewriting every
    // attribute each step cost ~40 ms of style recalculation; a step usually changes a handful.
    this.viewport.selectAll<SVGGElement, ViewNode>('g.node').each(function (n) {
      const shown = view.valueShown(n.id);
      const grad = backward ? view.grads.get(n.id) : undefined;
      const gradText = grad ? tensorBrief(grad.payload, grad.final ? n.node.gradStats : null, n.node.size) : '';
      const gradMean = grad ? (meanOf(grad.payload) ?? (grad.final ? n.node.gradStats?.mean ?? null : null)) : null;
      const lit = n.group ? n.group.members.some((m) => highlighted.has(m)) : highlighted.has(n.id);
      const failed = n.group ? n.group.members.some((m) => flagged.has(m)) : flagged.has(n.id);
      const cls = [
        'node', `kind-${n.kind}`, `cat-${n.node.category}`,
        n.group ? `collapsed collapsed-${n.group.kind}` : '',
        n.nonfinite === 'first' ? 'nonfinite' : n.nonfinite === 'other' ? 'nonfinite-other' : '',
        shown ? '' : 'pending', grad ? 'reached' : '',
        currentKey === n.key ? 'current' : '', selectedKey === n.key ? 'selected' : '', lit ? 'highlighted' : '', failed ? 'gradcheck-fail' : '',
      ].filter(Boolean).join(' ');
      const mag = grad ? meanAbs(grad.payload) ?? (grad.final ? Math.abs(n.node.gradStats?.mean ?? 0) : null) : null;
      const sign = signClass(gradMean);
      const barWidth = grad ? Math.max(2, (n.width - 2 * G.padX) * gradScale(mag)) : 0;
      const state = `${cls}|${shown ? 1 : 0}|${gradText}|${sign}|${barWidth}|${n.valueText}`;
      const el = this as SVGGElement & { __step?: string };
      if (el.__step === state) return;
      el.__step = state;
      const g = d3.select(el);
      g.attr('class', cls);
      g.select('text.value').text(shown ? n.valueText : '');
      g.select('text.grad').text(gradText).attr('class', `grad ${grad ? sign : ''}`);
      g.select('text.grad-key').text(gradText ? '∂' : '');
      g.select('rect.gradbar').attr('class', `gradbar ${sign}`).attr('width', barWidth);
      g.select('g.heat').attr('visibility', shown ? null : 'hidden');
    });
    const edgeScale = this.edgeScale;
    this.viewport.selectAll<SVGPathElement, ViewEdge>('path.edge').each(function (e) {
      const active = e.pairs.some((p) => view.activeEdges.has(p));
      const done = !active && e.pairs.some((p) => view.doneEdges.has(p));
      const kind = active ? 'active' : done ? 'done' : 'plain';
      // gradient magnitude as width on a log scale, once gradient has flowed along the edge
      const width = backward && (active || done) ? `${1.2 + 3 * edgeScale(e.gradMagnitude)}px` : null;
      const state = `${kind}|${view.mode}|${width}`;
      const el = this as SVGPathElement & { __step?: string };
      if (el.__step === state) return;
      el.__step = state;
      const path = d3.select(el)
        .attr('class', `edge ${active ? 'active' : ''} ${done ? 'done' : ''} ${view.mode}`)
        .attr('marker-end', `url(#arrow-${kind})`);
      if (width === null) path.style('stroke-width', null);
      else path.style('stroke-width', width);
    });
  }

  fit(animate = true): void {
    const el = this.svg.node()!;
    const w = el.clientWidth, h = el.clientHeight;
    const b = this.bounds;
    if (!w || !h || !b.width || !b.height) return;
    const k = Math.min(1.25, 0.95 * Math.min(w / b.width, h / b.height));
    const t = d3.zoomIdentity.translate((w - b.width * k) / 2, (h - b.height * k) / 2).scale(k);
    const sel = animate && !reducedMotion() ? this.svg.transition().duration(300) : this.svg;
    (sel as d3.Selection<SVGSVGElement, unknown, null, undefined>).call(this.zoom.transform, t);
    this.fitted = true;
  }

  /**
   * The first view of a graph: all of it when that is readable, else a readable zoom centred on
   * `focus` (the node being stepped through); Fit still shows everything.
   */
  initialView(focus: number | null): void {
    const el = this.svg.node()!;
    const b = this.bounds;
    const k = Math.min(el.clientWidth / Math.max(1, b.width), el.clientHeight / Math.max(1, b.height));
    const n = focus !== null ? this.vm?.byId.get(focus) : undefined;
    const p = n && this.layout?.nodes[n.key];
    if (k >= 0.5 || !p) {
      this.fit(false);
      return;
    }
    this.svg.call(this.zoom.transform, d3.zoomIdentity.translate(el.clientWidth / 2 - p.x * 0.85, el.clientHeight / 2 - p.y * 0.85).scale(0.85));
    this.fitted = false;
  }

  /** Restores a saved zoom; when the panel changed size so that it would hide part of a graph that fits, fits instead. */
  setTransform(t: Transform): void {
    const el = this.svg.node()!;
    const b = this.bounds;
    const w = el.clientWidth, h = el.clientHeight;
    const inside = t.x >= -1 && t.y >= -1 && t.x + b.width * t.k <= w + 1 && t.y + b.height * t.k <= h + 1;
    const fitK = Math.min(w / Math.max(1, b.width), h / Math.max(1, b.height));
    if (!inside && fitK >= 0.5) {
      this.fit(false);
      return;
    }
    this.suppressTransformEvent = true;
    this.svg.call(this.zoom.transform, d3.zoomIdentity.translate(t.x, t.y).scale(t.k));
    this.suppressTransformEvent = false;
    this.fitted = false;
  }

  /** Brings a node into view if it is outside. */
  reveal(id: number): void {
    const n = this.vm?.byId.get(id);
    const p = n && this.layout?.nodes[n.key];
    if (!n || !p) return;
    const el = this.svg.node()!;
    const t = d3.zoomTransform(el);
    const [x, y] = t.apply([p.x, p.y]);
    if (x > 20 && y > 20 && x < el.clientWidth - 20 && y < el.clientHeight - 20) return;
    this.svg.call(this.zoom.translateTo, p.x, p.y);
  }

  /** Where a view node's centre (or a cluster box's centre) is on screen now; null when not drawn. */
  screenPoint(what: { node?: string; cluster?: string }): { x: number; y: number; top: number } | null {
    const l = this.layout;
    if (!l) return null;
    const t = d3.zoomTransform(this.svg.node()!);
    if (what.node && l.nodes[what.node]) {
      const p = l.nodes[what.node];
      const n = this.vm?.nodes.find((v) => v.key === what.node);
      const [x, y] = t.apply([p.x, p.y]);
      return { x, y, top: t.applyY(p.y - (n?.height ?? 0) / 2) };
    }
    const b = what.cluster ? l.clusters[what.cluster] : undefined;
    if (!b) return null;
    const [x, y] = t.apply([b.x + b.width / 2, b.y + b.height / 2]);
    return { x, y, top: t.applyY(b.y) };
  }

  /**
   * After a collapse or expand: keeps the zoom and moves the view so that the toggled group is where
   * it was on screen (its centre; its top edge when it is now taller than the view).
   */
  anchor(what: { node?: string; cluster?: string }, before: { x: number; y: number; top: number }): void {
    const l = this.layout;
    if (!l) return;
    const k = d3.zoomTransform(this.svg.node()!).k;
    let cx: number, cy: number, top: number, height: number;
    if (what.node && l.nodes[what.node]) {
      const p = l.nodes[what.node];
      const h = this.vm?.nodes.find((v) => v.key === what.node)?.height ?? 0;
      cx = p.x; cy = p.y; top = p.y - h / 2; height = h;
    } else if (what.cluster && l.clusters[what.cluster]) {
      const b = l.clusters[what.cluster];
      cx = b.x + b.width / 2; cy = b.y + b.height / 2; top = b.y; height = b.height;
    } else return;
    const el = this.svg.node()!;
    const tall = height * k > el.clientHeight - 40;
    const x = before.x - cx * k;
    const y = tall ? Math.max(20, before.top) - top * k : before.y - cy * k;
    // moves with the nodes (draw animates them) unless motion is reduced
    const sel = reducedMotion() ? this.svg : this.svg.transition().duration(250);
    (sel as d3.Selection<SVGSVGElement, unknown, null, undefined>).call(this.zoom.transform, d3.zoomIdentity.translate(x, y).scale(k));
    this.fitted = false;
  }

  /**
   * Centres the view on a layout point through the zoom behaviour (the minimap). A jump animates
   * unless motion is reduced; a drag moves at once and is saved only where it ends (a drop).
   */
  centreOn(x: number, y: number, how: CentreHow): void {
    this.fitted = false;
    if (how === 'jump' && !reducedMotion()) {
      this.zoom.translateTo(this.svg.transition().duration(250), x, y);
      return;
    }
    this.suppressTransformEvent = how === 'drag';
    this.svg.call(this.zoom.translateTo, x, y);
    this.suppressTransformEvent = false;
  }

  get transform(): Transform {
    const t = d3.zoomTransform(this.svg.node()!);
    return { x: t.x, y: t.y, k: t.k };
  }
}

function nodeTransform(n: ViewNode, layout: LayoutResult): string {
  const p = layout.nodes[n.key];
  return `translate(${p.x - n.width / 2},${p.y - n.height / 2})`;
}

/**
 * A tooltip (`<title>`, as text) with the whole name where the face shows less of it (cut or
 * escaped); none where the face already shows it all.
 */
function fullTitle(parent: SVGElement, name: string, shown: string): void {
  const full = fullName(name);
  let title = Array.from(parent.children).find((c): c is SVGTitleElement => c.tagName === 'title' && c.classList.contains('full-name'));
  if (full === shown) {
    title?.remove();
    return;
  }
  if (!title) {
    title = document.createElementNS(SVG_NS, 'title') as SVGTitleElement;
    title.setAttribute('class', 'full-name');
    parent.prepend(title);
  }
  title.textContent = full;
}

/** The fixed parts of a node (created once per node id). */
function buildNode(g: SVGGElement): void {
  const add = (tag: string, cls: string) => {
    const el = document.createElementNS(SVG_NS, tag);
    el.setAttribute('class', cls);
    g.appendChild(el);
    return el;
  };
  add('rect', 'stack');
  add('rect', 'box');
  add('rect', 'stripe');
  add('text', 'icon-toggle codicon-glyph');
  add('text', 'icon-warning codicon-glyph');
  add('text', 'label');
  add('text', 'op');
  add('text', 'value');
  add('text', 'shape');
  add('text', 'grad-key');
  add('text', 'grad');
  add('g', 'heat');
  add('rect', 'gradbar');
}

/** Sizes and texts that depend on the node, not on the step. */
function layoutNode(el: SVGGElement, n: ViewNode): void {
  const g = d3.select(el);
  const baseline = (row: number) => G.padY + row * n.line + (n.line - n.ascent) / 2 + n.ascent - 1;
  g.select('rect.box').attr('width', n.width).attr('height', n.height).attr('rx', n.kind === 'op' || n.kind === 'group' ? 4 : 10);
  // a collapsed group looks like a stack of nodes
  g.select('rect.stack').attr('x', 3).attr('y', 3).attr('width', n.group ? n.width : 0).attr('height', n.group ? n.height : 0).attr('rx', 4);
  g.select('rect.stripe').attr('x', 0).attr('y', 0).attr('width', n.kind === 'op' || n.kind === 'group' ? 3 : 0).attr('height', n.height);
  const iconX = (icon: ViewNode['icons'][number]) => G.padX + n.icons.indexOf(icon) * (ICON + ICON_GAP);
  const iconY = baseline(0) + 1;
  g.select('text.icon-toggle').attr('x', iconX('toggle')).attr('y', iconY).text(n.icons.includes('toggle') ? GLYPH.toggleClosed : '');
  g.select('text.icon-warning').attr('x', iconX('warning')).attr('y', iconY).text(n.icons.includes('warning') ? GLYPH.warning : '');
  // the face shows the title cut to FACE_CHARS (viewModel.ts sizes the node for this text), the tooltip the whole of it
  const face = faceText(n.title);
  g.select('text.label').attr('x', n.labelX).attr('y', baseline(0)).text(face);
  fullTitle(el, n.title, face);
  g.select('text.op').attr('x', n.width - G.padX).attr('y', baseline(0)).text(n.opText);
  g.select('text.value').attr('x', G.padX).attr('y', baseline(1)).text(n.valueText);
  g.select('text.shape').attr('x', n.width - G.padX).attr('y', baseline(1)).text(n.shapeText);
  g.select('text.grad-key').attr('x', G.padX).attr('y', baseline(2));
  g.select('text.grad').attr('x', n.gradX).attr('y', baseline(2));
  g.select('rect.gradbar').attr('x', G.padX).attr('y', n.height - G.bar - 3).attr('height', G.bar).attr('rx', 1);
  const heat = g.select<SVGGElement>('g.heat');
  heat.selectAll('*').remove();
  if (n.heat && n.node.value) {
    const values = n.node.value;
    const max = largestAbs(values);
    const top = G.padY + (n.hasGradRow ? 3 : 2) * n.line + 2;
    const step = G.cell + G.cellGap;
    heat.attr('transform', `translate(${G.padX},${top})`);
    heat.selectAll('rect').data(Array.from(values)).join('rect')
      .attr('x', (_, i) => (i % n.heat!.cols) * step)
      .attr('y', (_, i) => Math.floor(i / n.heat!.cols) * step)
      .attr('width', G.cell).attr('height', G.cell)
      .attr('class', (v) => `cell ${signClass(v)}`)
      .attr('fill-opacity', (v) => tensorOpacity(v, max));
    // its legend, on hover: the thumbnail is on this tensor's own scale
    heat.append('title').text(`Values. ${tensorHeatLegend(max)}`);
  }
}
