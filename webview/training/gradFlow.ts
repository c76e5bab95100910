/**
 * Gradient flow: for one logged step, each layer's mean and max |∂L/∂W| in depth order (input on the
 * left) on a log scale. Vanishing gradients fall off to the left, exploding ones rise.
 */
import * as d3 from 'd3';
import type { LayerStats } from '../../extension/protocol';
import { el } from '../dom';
import { fmt, clusterText, faceText, fullName } from '../format';
import { AXIS_LABEL, card, chartSvg, extentOf, leftAxis, logTicks, padDomain, placeYLabel, tick, widthOf } from './chart';

const HEIGHT = 220;
const MARGIN = { top: 10, right: 12 };
/** Widest bar (px). */
const MAX_BAND = 72;

/**
 * Names without their common module path, and that path: `cnn.conv1`, `cnn.head` → `conv1`, `head`.
 * A bare index says nothing, so it keeps the container's name: `deep.layers.0` → `layers.0`.
 */
export function shortNames(names: string[]): { prefix: string; short: string[] } {
  if (names.length < 2) return { prefix: '', short: names };
  let prefix = names[0];
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  prefix = prefix.slice(0, prefix.lastIndexOf('.') + 1);
  if (names.every((n) => /^\d+$/.test(n.slice(prefix.length)))) prefix = prefix.slice(0, prefix.lastIndexOf('.', prefix.length - 2) + 1);
  const short = names.map((n) => n.slice(prefix.length));
  return short.every(Boolean) ? { prefix, short } : { prefix: '', short: names };
}

export class GradFlow {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly chart: ReturnType<typeof chartSvg>;
  private readonly empty: HTMLElement;

  constructor() {
    const c = card('Gradient flow', 'grad-flow');
    this.root = c.root;
    this.body = c.body;
    this.sub = el('span', { class: 'tr-sub' });
    c.head.append(this.sub);
    this.chart = chartSvg(c.body, 'Mean and max absolute weight gradient per layer');
    this.empty = el('div', { class: 'tr-empty' }, 'No layers with weights: gradient flow needs a model built from nn modules.');
    const legend = el('div', { class: 'tr-legend' });
    for (const [cls, text] of [['gf-mean', 'mean |∂L/∂W|'], ['gf-max', 'max |∂L/∂W|']]) {
      const item = el('span', { class: 'lg-item' });
      item.append(el('span', { class: `lg-swatch lg-bar ${cls}`, 'aria-hidden': 'true' }), el('span', {}, text));
      legend.append(item);
    }
    c.body.append(this.empty, legend);
  }

  /** `step`: the logged step the layers are from (0 = the traced pass before training). */
  render(layers: LayerStats[], step: number | null): void {
    const { svg, marks, xAxis, yAxis, xLabel, yLabel } = this.chart;
    const data = layers.filter((l) => l.type !== 'param' || l.gradMeanAbs !== null).slice().sort((a, b) => a.depth - b.depth);
    this.sub.textContent = step === null ? '' : step === 0 ? 'traced step, before training' : `step ${step}`;
    const yData = extentOf(data.flatMap((l) => [l.gradMeanAbs ?? NaN, l.gradMaxAbs ?? NaN]), true);
    this.empty.hidden = data.length > 0;
    svg.attr('hidden', data.length ? null : '');
    if (!data.length) return;
    const width = widthOf(this.body);
    const { prefix, short } = shortNames(data.map((l) => l.name));
    const y = d3.scaleLog().domain(yData ? padDomain([yData[0] / 3, yData[1] * 1.5], true) : [1e-8, 1]).range([0, 0]);
    // the bottom margin depends on the x labels: measure them first
    const x = d3.scaleBand<string>().domain(data.map((l) => l.name)).paddingInner(0.25).paddingOuter(0.15);
    const labelOf = new Map(data.map((l, i) => [l.name, faceText(short[i])]));
    const yAx = d3.axisLeft<d3.NumberValue>(y).tickSizeOuter(0).tickFormat(tick).tickValues(logTicks(y, 5));
    const left = leftAxis(yAxis, yAx, yLabel, '|∂L/∂W| (log scale)');
    x.range([left, width - MARGIN.right]);
    // a few layers get bars of a readable width, not half the chart each
    const span = width - MARGIN.right - left, band = MAX_BAND / 0.75;
    if (span / data.length > band) x.paddingOuter((span / band - data.length + 0.25) / 2);
    xAxis.call(d3.axisBottom(x).tickSizeOuter(0).tickFormat((n) => labelOf.get(n) ?? n));
    let widest = 0;
    xAxis.selectAll<SVGTextElement, string>('text').each(function () { widest = Math.max(widest, this.getBBox().width); });
    const rotate = widest > x.bandwidth() / (1 - 0.25) - 4;
    xAxis.selectAll<SVGTextElement, string>('text')
      .attr('transform', rotate ? 'rotate(-40)' : null)
      .attr('text-anchor', rotate ? 'end' : 'middle')
      .attr('dx', rotate ? '-0.4em' : null).attr('dy', rotate ? '0.3em' : '0.71em');
    const labelsHeight = rotate ? widest * Math.sin((40 * Math.PI) / 180) + 14 : 18;
    const height = HEIGHT + Math.max(0, labelsHeight - 18);
    const bottom = height - labelsHeight - AXIS_LABEL - 4;
    y.range([bottom, MARGIN.top]);
    yAxis.call(yAx);
    placeYLabel(yLabel, MARGIN.top, bottom);
    xAxis.attr('transform', `translate(0,${bottom})`);
    xLabel.attr('x', (left + width - MARGIN.right) / 2).attr('y', height - 4).text(`${prefix ? `${clusterText(prefix)}* ` : 'layer '}(input → output)`);
    svg.attr('width', width).attr('height', height).attr('viewBox', `0 0 ${width} ${height}`).attr('data-step', step ?? '');

    const bar = (v: number | null) => (v !== null && v > 0 && Number.isFinite(v) ? v : null);
    const g = marks.selectAll<SVGGElement, LayerStats>('g.gf-layer')
      .data(data, (l) => l.name)
      .join((enter) => {
        const e = enter.append('g').attr('class', 'gf-layer');
        e.append('rect').attr('class', 'gf-max');
        e.append('rect').attr('class', 'gf-mean');
        e.append('title');
        return e;
      })
      .attr('data-layer', (l) => l.name)
      .attr('data-mean', (l) => l.gradMeanAbs ?? '')
      .attr('data-max', (l) => l.gradMaxAbs ?? '')
      .attr('transform', (l) => `translate(${x(l.name)},0)`);
    const bw = x.bandwidth();
    for (const [cls, key, inset] of [['gf-max', 'gradMaxAbs', 0], ['gf-mean', 'gradMeanAbs', bw * 0.2]] as const) {
      g.select<SVGRectElement>(`rect.${cls}`)
        .attr('x', inset).attr('width', Math.max(1, bw - 2 * inset))
        .attr('y', (l) => (bar(l[key]) === null ? bottom : y(bar(l[key])!)))
        .attr('height', (l) => (bar(l[key]) === null ? 0 : Math.max(1, bottom - y(bar(l[key])!))));
    }
    g.select('title').text((l) => `${fullName(l.name)}: mean |∂L/∂W| ${fmt(l.gradMeanAbs)}, max ${fmt(l.gradMaxAbs)}`);
  }
}
