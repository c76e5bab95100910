/**
 * Classification accuracy by step: on the training minibatch and on the validation set, at the
 * logged steps (history[].accuracy, valAccuracy). Shown only when the run reports accuracy; the
 * latest values are written in the card's heading.
 */
import * as d3 from 'd3';
import { el } from '../dom';
import { AXIS_LABEL, card, chartSvg, leftAxis, placeYLabel, stepTick, widthOf } from './chart';
import type { Run } from './runs';

const HEIGHT = 180;
const MARGIN = { top: 10, right: 24, bottom: 22 + AXIS_LABEL };

type Point = { step: number; v: number };

const percent = (v: number) => `${(v * 100).toFixed(v === 1 ? 0 : 1)}%`;

export class AccuracyChart {
  readonly root: HTMLElement;
  private readonly chart: ReturnType<typeof chartSvg>;
  private readonly body: HTMLElement;
  private readonly latest: HTMLElement;
  private readonly legend: HTMLElement;

  constructor() {
    const c = card('Accuracy', 'accuracy-chart');
    this.root = c.root;
    this.body = c.body;
    this.latest = el('span', { class: 'tr-sub', 'data-testid': 'accuracy-latest' });
    c.head.append(this.latest);
    this.chart = chartSvg(c.body, 'Training and validation accuracy by step');
    this.legend = el('div', { class: 'tr-legend' });
    c.body.append(this.legend);
    this.root.hidden = true;
  }

  render(run: Run | null): void {
    const history = run?.history ?? [];
    const train: Point[] = history.filter((h) => typeof h.accuracy === 'number').map((h) => ({ step: h.step, v: h.accuracy! }));
    const val: Point[] = history.filter((h) => typeof h.valAccuracy === 'number').map((h) => ({ step: h.step, v: h.valAccuracy! }));
    this.root.hidden = !train.length && !val.length;
    if (this.root.hidden) {
      this.chart.marks.selectAll('path.acc-line').remove();
      return;
    }
    const last = (pts: Point[]) => (pts.length ? pts[pts.length - 1].v : null);
    const lt = last(train), lv = last(val);
    this.latest.textContent = [lt !== null ? `training ${percent(lt)}` : '', lv !== null ? `validation ${percent(lv)}` : ''].filter(Boolean).join(' · ');
    this.root.dataset.latest = `${lt ?? ''} ${lv ?? ''}`.trim();
    this.legend.replaceChildren(
      ...[['training (minibatch)', 'loss-train', train], ['validation', 'loss-val', val]].filter(([, , pts]) => (pts as Point[]).length).map(([label, cls]) => {
        const item = el('span', { class: 'lg-item' });
        item.append(el('span', { class: `lg-swatch ${cls as string}`, 'aria-hidden': 'true' }), el('span', {}, label as string));
        return item;
      }),
    );
    const { svg, marks, xAxis, yAxis, xLabel, yLabel } = this.chart;
    const width = widthOf(this.body);
    svg.attr('width', width).attr('height', HEIGHT).attr('viewBox', `0 0 ${width} ${HEIGHT}`);
    const bottom = HEIGHT - MARGIN.bottom;
    const y = d3.scaleLinear().domain([0, 1]).range([bottom, MARGIN.top]);
    const left = leftAxis(yAxis, d3.axisLeft<d3.NumberValue>(y).ticks(5).tickSizeOuter(0).tickFormat((v) => `${Math.round(Number(v) * 100)}%`), yLabel, 'accuracy');
    placeYLabel(yLabel, MARGIN.top, bottom);
    const xMax = Math.max(1, ...[train, val].map((p) => p[p.length - 1]?.step ?? 0));
    const x = d3.scaleLinear().domain([0, xMax]).range([left, width - MARGIN.right]);
    xAxis.attr('transform', `translate(0,${bottom})`).call(d3.axisBottom(x).ticks(Math.max(2, Math.floor((width - left) / 80))).tickSizeOuter(0).tickFormat(stepTick));
    xLabel.attr('x', (left + width - MARGIN.right) / 2).attr('y', HEIGHT - 4).text('step');
    const line = d3.line<Point>().defined((p) => Number.isFinite(p.v)).x((p) => x(p.step)).y((p) => y(p.v));
    const series = [
      { key: 'train', cls: 'acc-train', pts: train },
      { key: 'val', cls: 'acc-val', pts: val },
    ].filter((s) => s.pts.length);
    marks.selectAll<SVGPathElement, (typeof series)[number]>('path.acc-line')
      .data(series, (s) => s.key)
      .join('path')
      .attr('class', (s) => `acc-line ${s.cls}`)
      .attr('data-points', (s) => s.pts.length)
      .attr('d', (s) => line(s.pts));
  }
}
