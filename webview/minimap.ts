/**
 * The minimap: the whole layout in the graph's bottom-right corner, one small rect per drawn node and
 * cluster, and a rectangle for the part the main view shows. It appears only while the graph does not
 * fit the view. Rects are drawn once per layout; zooming and panning move only the viewport rect.
 * Click, drag or the arrow keys move the main view through its own d3 zoom (`centre`), so there is
 * one zoom state. It is a sibling of the graph's SVG, so exports never see it.
 */
import * as d3 from 'd3';
import { el } from './dom';
import type { LayoutResult } from './layout';
import type { CentreHow, Transform } from './render';
import type { ViewCluster } from './groups';
import type { ViewModel, ViewNode } from './viewModel';

export interface MinimapEvents {
  /** Centre the main view on a point of the layout. */
  centre(x: number, y: number, how: CentreHow): void;
}

/** Largest size (px), and at most this share of the graph area, so it never covers most of a small panel. */
const MAX_W = 200;
const MAX_H = 150;
const SHARE = 0.3;
/** Below this the graph area is too small for an overview worth its space. */
const MIN_W = 60;
const MIN_H = 40;
/** A long chain still gets a minimap one can hit. */
const MIN_SIDE = 16;
/** Arrow keys move the view by this share of what it shows. */
const KEY_STEP = 0.25;

interface View { t: Transform; width: number; height: number }

export class Minimap {
  readonly root: HTMLElement;
  private readonly svg: d3.Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly viewport: d3.Selection<SVGRectElement, unknown, null, undefined>;
  private bounds = { width: 0, height: 0 };
  private view: View | null = null;
  /** `width×height` last written to the SVG (written again only when it changes). */
  private drawnSize = '';
  private drag: { pointer: number; moved: boolean } | null = null;

  constructor(container: HTMLElement, private readonly events: MinimapEvents) {
    this.root = el('div', {
      class: 'minimap', 'data-testid': 'minimap', role: 'group', tabindex: '0',
      'aria-label': 'Graph overview: click or drag to move the view there, arrow keys to pan',
    });
    this.root.hidden = true;
    this.svg = d3.select(this.root).append('svg').attr('aria-hidden', 'true').attr('preserveAspectRatio', 'xMidYMid meet');
    this.svg.append('g').attr('class', 'mm-clusters');
    this.svg.append('g').attr('class', 'mm-nodes');
    this.viewport = this.svg.append('rect').attr('class', 'mm-viewport').attr('data-testid', 'minimap-viewport');
    container.append(this.root);
    this.listen();
  }

  /** The layout's nodes and clusters, once per layout; the viewport rect follows the last known view. */
  draw(vm: ViewModel, layout: LayoutResult): void {
    this.bounds = { width: layout.width, height: layout.height };
    this.svg.attr('viewBox', `0 0 ${Math.max(1, layout.width)} ${Math.max(1, layout.height)}`);
    this.svg.select('g.mm-clusters').selectAll<SVGRectElement, ViewCluster>('rect')
      .data(vm.clusters.filter((c) => layout.clusters[c.key]), (c) => c.key)
      .join('rect')
      .attr('class', (c) => `mm-cluster mm-cluster-${c.kind}`)
      .each(function (c) {
        const b = layout.clusters[c.key];
        d3.select(this).attr('x', b.x).attr('y', b.y).attr('width', b.width).attr('height', b.height);
      });
    this.svg.select('g.mm-nodes').selectAll<SVGRectElement, ViewNode>('rect')
      .data(vm.nodes.filter((n) => layout.nodes[n.key]), (n) => n.key)
      .join('rect')
      // the graph's own category and kind classes, so the colours are the nodes' colours
      .attr('class', (n) => `mm-node kind-${n.kind} cat-${n.node.category}`)
      .attr('data-key', (n) => n.key)
      .each(function (n) {
        const p = layout.nodes[n.key];
        d3.select(this).attr('x', p.x - n.width / 2).attr('y', p.y - n.height / 2).attr('width', n.width).attr('height', n.height);
      });
    this.update();
  }

  /** The main view changed (zoom, pan, resize): `width`×`height` is the graph area in px. */
  setView(t: Transform, width: number, height: number): void {
    this.view = { t, width, height };
    this.update();
  }

  private update(): void {
    const v = this.view;
    const b = this.bounds;
    const box = v && this.size(v);
    const show = !!v && !!box && !fits(v, b);
    if (this.root.hidden === show) this.root.hidden = !show;
    if (!v || !box || !show) return;
    const size = `${box.width}x${box.height}`;
    if (size !== this.drawnSize) {
      this.drawnSize = size;
      this.svg.attr('width', box.width).attr('height', box.height);
    }
    // the visible area in layout coordinates, clipped to the layout so its outline stays in sight
    const x0 = Math.max(0, -v.t.x / v.t.k), y0 = Math.max(0, -v.t.y / v.t.k);
    const x1 = Math.min(b.width, (v.width - v.t.x) / v.t.k), y1 = Math.min(b.height, (v.height - v.t.y) / v.t.k);
    this.viewport.attr('x', x0).attr('y', y0).attr('width', Math.max(0, x1 - x0)).attr('height', Math.max(0, y1 - y0));
  }

  /** The minimap's size in px for this view: the layout's aspect within the limits; null when there is no room. */
  private size(v: View): { width: number; height: number } | null {
    const b = this.bounds;
    const maxW = Math.min(MAX_W, v.width * SHARE), maxH = Math.min(MAX_H, v.height * SHARE);
    if (maxW < MIN_W || maxH < MIN_H || !(b.width > 0) || !(b.height > 0)) return null;
    const s = Math.min(maxW / b.width, maxH / b.height);
    return { width: Math.round(Math.max(MIN_SIDE, b.width * s)), height: Math.round(Math.max(MIN_SIDE, b.height * s)) };
  }

  private listen(): void {
    const root = this.root;
    root.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      root.setPointerCapture(e.pointerId);
      this.drag = { pointer: e.pointerId, moved: false };
      this.centreAt(e, 'jump');
    });
    root.addEventListener('pointermove', (e) => {
      if (!this.drag || e.pointerId !== this.drag.pointer) return;
      this.drag.moved = true;
      this.centreAt(e, 'drag');
    });
    const end = (e: PointerEvent) => {
      if (!this.drag || e.pointerId !== this.drag.pointer) return;
      // a click was saved by its jump; a drag is saved once, where it ends
      if (this.drag.moved) this.centreAt(e, 'drop');
      this.drag = null;
    };
    root.addEventListener('pointerup', end);
    root.addEventListener('pointercancel', end);
    root.addEventListener('keydown', (e) => this.key(e));
  }

  /** Centres the main view on the layout point under the pointer (clamped to the layout). */
  private centreAt(e: PointerEvent, how: CentreHow): void {
    const m = this.svg.node()!.getScreenCTM();
    if (!m) return;
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    const b = this.bounds;
    this.events.centre(clamp(p.x, 0, b.width), clamp(p.y, 0, b.height), how);
  }

  private key(e: KeyboardEvent): void {
    const v = this.view;
    const dir: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const d = dir[e.key];
    if (!v || !d) return;
    e.preventDefault();
    const w = v.width / v.t.k, h = v.height / v.t.k;
    const cx = (v.width / 2 - v.t.x) / v.t.k + d[0] * w * KEY_STEP;
    const cy = (v.height / 2 - v.t.y) / v.t.k + d[1] * h * KEY_STEP;
    this.events.centre(clamp(cx, 0, this.bounds.width), clamp(cy, 0, this.bounds.height), 'jump');
  }
}

/** The whole layout is on screen at this zoom (1 px of slack for rounding). */
function fits(v: View, b: { width: number; height: number }): boolean {
  const { x, y, k } = v.t;
  return x >= -1 && y >= -1 && x + b.width * k <= v.width + 1 && y + b.height * k <= v.height + 1;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
