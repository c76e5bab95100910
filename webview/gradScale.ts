/**
 * One log scale for gradient magnitudes across the whole graph: the ∂ bar under every node, the
 * per-layer strip beside the graph and, when asked, the inspector's heatmaps all read |∂L/∂x| on it,
 * so a gradient of 1e−7 looks a million times smaller than one of 0.1 wherever it is drawn. The
 * legend says what the ends of the scale are.
 */
import * as d3 from 'd3';
import type { GraphSnapshot, LayerStats, SnapshotNode } from '../extension/protocol';
import { el } from './dom';
import { fmt, fullName, tick } from './format';
import { shortNames } from './training/gradFlow';

/** Mean |∂L/∂x| of a node: from its payload, else from its summary. */
export function gradMagnitude(n: SnapshotNode): number | null {
  if (!n.gradStats) return null;
  const g = n.grad;
  if (g && g.length) {
    let s = 0;
    for (const v of g) s += Math.abs(v);
    return s / g.length;
  }
  return Math.abs(n.gradStats.mean ?? 0);
}

export interface GradScale {
  /** log10 of the smallest and largest positive magnitude in the graph (null: no gradient). */
  lo: number | null;
  hi: number | null;
  /** A magnitude → [0, 1] on the scale (0 for zero, 1 for non-finite). */
  (v: number | null): number;
}

/** The scale over a set of magnitudes (the graph's nodes). */
export function gradScaleOf(values: Iterable<number | null>): GradScale {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v === null || !(v > 0) || !Number.isFinite(v)) continue;
    const l = Math.log10(v);
    lo = Math.min(lo, l);
    hi = Math.max(hi, l);
  }
  const has = Number.isFinite(lo);
  const f = ((v: number | null) => {
    if (v === null || !Number.isFinite(v)) return v === null ? 0 : 1;
    if (!(v > 0)) return 0;
    if (!has || hi <= lo) return 1;
    return Math.max(0.08, (Math.log10(v) - lo) / (hi - lo));
  }) as GradScale;
  f.lo = has ? lo : null;
  f.hi = has ? hi : null;
  return f;
}

/** The graph's scale: every node's mean |∂L/∂x|. */
export function graphGradScale(s: GraphSnapshot): GradScale {
  return gradScaleOf(s.nodes.map(gradMagnitude));
}

const STRIP_W = 132;
const ROW = 16;

/**
 * The legend of the ∂ bars and the per-layer gradient strip, in the graph's top-right corner: one
 * row per layer (input side first) with its mean |∂L/∂W| as a bar on the graph's scale; a click on
 * a row selects the layer's weight. Hidden when the graph has no gradients.
 */
export class GradStrip {
  readonly root: HTMLElement;

  constructor(parent: HTMLElement, private readonly select: (id: number) => void) {
    this.root = el('div', { class: 'grad-strip', 'data-testid': 'grad-strip', role: 'group', 'aria-label': 'Gradient magnitudes on one log scale' });
    this.root.hidden = true;
    parent.append(this.root);
  }

  render(s: GraphSnapshot | null): void {
    const scale = s ? graphGradScale(s) : null;
    this.root.replaceChildren();
    if (!s || !scale || scale.lo === null || scale.hi === null) {
      this.root.hidden = true;
      return;
    }
    this.root.hidden = false;
    this.root.dataset.lo = String(10 ** scale.lo);
    this.root.dataset.hi = String(10 ** scale.hi);
    const legend = el('div', { class: 'gs-legend', 'data-testid': 'grad-legend' });
    legend.append(el('div', { class: 'gs-title' }, '∂ bars: mean |∂L/∂x|, log scale'));
    const bar = el('div', { class: 'gs-ramp', 'aria-hidden': 'true' });
    const ends = el('div', { class: 'gs-ends mono' });
    ends.append(el('span', { 'data-testid': 'grad-legend-lo' }, tick(10 ** scale.lo)), el('span', { 'data-testid': 'grad-legend-hi' }, tick(10 ** scale.hi)));
    legend.append(bar, ends);
    this.root.append(legend);
    const layers = (s.layers ?? []).filter((l) => l.gradMeanAbs !== null).slice().sort((a, b) => a.depth - b.depth);
    if (layers.length < 2) return;
    const { short } = shortNames(layers.map((l) => l.name));
    const list = el('div', { class: 'gs-layers', 'data-testid': 'grad-strip-layers' });
    list.append(el('div', { class: 'gs-title' }, 'per layer, input first'));
    const svg = d3.select(list).append('svg').attr('width', STRIP_W).attr('height', layers.length * ROW).attr('role', 'list');
    const weightOf = (l: LayerStats) => s.nodes.find((n) => n.leaf === 'param' && n.scope === l.name)?.id ?? null;
    const rows = svg.selectAll('g').data(layers).join('g')
      .attr('class', 'gs-row').attr('role', 'listitem').attr('transform', (_, i) => `translate(0,${i * ROW})`)
      .attr('data-layer', (l) => l.name).attr('data-mean', (l) => String(l.gradMeanAbs))
      .style('cursor', (l) => (weightOf(l) !== null ? 'pointer' : null))
      .on('click', (_e, l) => {
        const id = weightOf(l);
        if (id !== null) this.select(id);
      });
    const labelW = 52;
    rows.append('text').attr('class', 'gs-name').attr('x', 0).attr('y', ROW - 4).text((_, i) => fullName(short[i]).slice(0, 8));
    rows.append('rect').attr('class', 'gs-bar').attr('x', labelW).attr('y', 3).attr('height', ROW - 6)
      .attr('width', (l) => Math.max(2, (STRIP_W - labelW) * scale(l.gradMeanAbs)));
    rows.append('title').text((l) => `${fullName(l.name)}: mean |∂L/∂W| ${fmt(l.gradMeanAbs)}`);
    this.root.append(list);
  }
}
