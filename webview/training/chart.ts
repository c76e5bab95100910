/**
 * Shared pieces of the training view's charts: a titled card, an SVG that fills the card's width,
 * axes whose margins are measured from their tick labels (so no label is ever cut off), and number
 * formats for ticks.
 */
import * as d3 from 'd3';
import { el } from '../dom';
import { stepTick, tick } from '../format';

export { stepTick, tick };

export type Svg = d3.Selection<SVGSVGElement, unknown, null, undefined>;
export type G = d3.Selection<SVGGElement, unknown, null, undefined>;

/** A card of the training view: a heading (with optional controls beside it) and a body. */
export function card(title: string, testId: string, wide = false): { root: HTMLElement; head: HTMLElement; body: HTMLElement } {
  const root = el('section', { class: `tr-card${wide ? ' wide' : ''}`, 'data-testid': testId, 'aria-label': title });
  const head = el('div', { class: 'tr-card-head' });
  head.append(el('h3', {}, title));
  const body = el('div', { class: 'tr-card-body' });
  root.append(head, body);
  return { root, head, body };
}

/** An SVG chart inside `parent`, with layers for axes and marks. */
export function chartSvg(parent: HTMLElement, label: string): { svg: Svg; marks: G; xAxis: G; yAxis: G; xLabel: d3.Selection<SVGTextElement, unknown, null, undefined>; yLabel: d3.Selection<SVGTextElement, unknown, null, undefined> } {
  const svg = d3.select(parent).append('svg').attr('class', 'tr-chart').attr('role', 'img').attr('aria-label', label);
  const yAxis = svg.append('g').attr('class', 'axis axis-y');
  const xAxis = svg.append('g').attr('class', 'axis axis-x');
  const marks = svg.append('g').attr('class', 'marks');
  const xLabel = svg.append('text').attr('class', 'axis-label axis-label-x').attr('text-anchor', 'middle');
  const yLabel = svg.append('text').attr('class', 'axis-label axis-label-y').attr('text-anchor', 'middle');
  return { svg, marks, xAxis, yAxis, xLabel, yLabel };
}

/** The width available to a chart in `parent` (falls back while the view is not laid out). */
export function widthOf(parent: HTMLElement): number {
  return Math.max(240, Math.floor(parent.clientWidth || 480));
}

/** Line height of axis text, for the label rows under and beside the axes. */
export const AXIS_LABEL = 16;

/** Margins of the analysis charts (the bottom holds the x ticks and their label). */
export const MARGIN = { top: 10, right: 16, bottom: 22 + AXIS_LABEL };

/** A loss that spans this ratio or more (and is positive) is drawn on a log scale. */
export const LOG_RATIO = 100;

/**
 * Draws the y axis at the left, measures its widest tick label and returns the left margin that
 * fits it and the rotated axis label.
 */
export function leftAxis(g: G, axis: d3.Axis<d3.NumberValue>, label: d3.Selection<SVGTextElement, unknown, null, undefined>, text: string): number {
  g.attr('transform', 'translate(0,0)').call(axis);
  let widest = 0;
  g.selectAll<SVGTextElement, unknown>('text').each(function () {
    widest = Math.max(widest, this.getBBox().width);
  });
  const margin = Math.ceil(widest) + 10 + AXIS_LABEL + 4;
  g.attr('transform', `translate(${margin},0)`);
  label.text(text);
  return margin;
}

/** Places the rotated y-axis label centred on [top, bottom]. */
export function placeYLabel(label: d3.Selection<SVGTextElement, unknown, null, undefined>, top: number, bottom: number): void {
  label.attr('transform', `translate(${AXIS_LABEL - 3},${(top + bottom) / 2}) rotate(-90)`);
}

/**
 * Ticks of a log axis: powers of ten when the domain spans a few decades, else 1-2-5 steps, else
 * every digit (a loss between 0.2 and 0.7), thinned to about `count`.
 */
export function logTicks(scale: d3.ScaleLogarithmic<number, number>, count: number): number[] {
  const [a, b] = scale.domain();
  const lo = Math.min(a, b), hi = Math.max(a, b);
  const e0 = Math.floor(Math.log10(lo)), e1 = Math.ceil(Math.log10(hi));
  let best: number[] = [];
  for (const mantissas of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks: number[] = [];
    for (let e = e0; e <= e1; e++) for (const m of mantissas) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
    }
    best = ticks;
    if (ticks.length >= 3) break;
  }
  if (best.length < 2) return scale.ticks(count);
  const every = Math.ceil(best.length / (count + 1));
  return best.filter((_, i) => i % every === 0);
}

/** [min, max] of the finite, and for a log scale positive, values; null when there are none. */
export function extentOf(values: Iterable<number>, positive: boolean): [number, number] | null {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v) || (positive && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** A domain with room around a single value (a flat loss, one point). */
export function padDomain([lo, hi]: [number, number], log: boolean): [number, number] {
  if (hi > lo) return [lo, hi];
  if (log) return [lo / 2, hi * 2];
  const d = Math.abs(lo) * 0.1 || 1;
  return [lo - d, hi + d];
}

/** A loss axis on the left, linear (nice ticks) or log (decade ticks), labelled and measured: the scale and the left margin. */
export function lossAxis(
  yAxis: G, yLabel: d3.Selection<SVGTextElement, unknown, null, undefined>, domain: [number, number], log: boolean, top: number, bottom: number, name = 'loss',
): { y: d3.ScaleContinuousNumeric<number, number>; left: number } {
  const y = log
    ? d3.scaleLog().domain(padDomain(domain, true)).range([bottom, top])
    : d3.scaleLinear().domain(padDomain(domain, false)).range([bottom, top]).nice(5);
  const yAx = d3.axisLeft<d3.NumberValue>(y).tickSizeOuter(0).tickFormat(tick);
  if (log) yAx.tickValues(logTicks(y as d3.ScaleLogarithmic<number, number>, 5));
  else yAx.ticks(5);
  const left = leftAxis(yAxis, yAx, yLabel, log ? `${name} (log scale)` : name);
  placeYLabel(yLabel, top, bottom);
  return { y, left };
}
