/**
 * The learning rate by step, as the run used it (history[].lr): the schedule made visible (warm-up,
 * steps, cosine, restarts). A log axis once the rate spans more than a factor of ten. Hidden while
 * the run has no steps; a constant rate is said in the heading instead of drawn as a flat line.
 */
import * as d3 from 'd3';
import { el } from '../dom';
import { fmt } from '../format';
import { AXIS_LABEL, card, chartSvg, extentOf, lossAxis, stepTick, widthOf } from './chart';
import type { Run } from './runs';

const HEIGHT = 150;
const MARGIN = { top: 10, right: 24, bottom: 22 + AXIS_LABEL };

type Point = { step: number; lr: number };

export class LrChart {
  readonly root: HTMLElement;
  private readonly chart: ReturnType<typeof chartSvg>;
  private readonly body: HTMLElement;
  private readonly sub: HTMLElement;

  constructor() {
    const c = card('Learning rate', 'lr-chart');
    this.root = c.root;
    this.body = c.body;
    this.sub = el('span', { class: 'tr-sub', 'data-testid': 'lr-latest' });
    c.head.append(this.sub);
    this.chart = chartSvg(c.body, 'Learning rate by step');
    this.root.hidden = true;
  }

  render(run: Run | null): void {
    const pts: Point[] = (run?.history ?? []).filter((h) => Number.isFinite(h.lr)).map((h) => ({ step: h.step, lr: h.lr }));
    this.root.hidden = pts.length === 0;
    if (!pts.length) return;
    const range = extentOf(pts.map((p) => p.lr), false)!;
    const constant = range[0] === range[1];
    this.sub.textContent = constant ? `constant ${fmt(range[0])}` : `step ${pts[pts.length - 1].step}: ${fmt(pts[pts.length - 1].lr)}`;
    const { svg, marks, xAxis, yAxis, xLabel, yLabel } = this.chart;
    svg.attr('hidden', constant ? '' : null);
    if (constant) return;
    const log = range[0] > 0 && range[1] / range[0] > 10;
    const width = widthOf(this.body);
    svg.attr('width', width).attr('height', HEIGHT).attr('viewBox', `0 0 ${width} ${HEIGHT}`).attr('data-scale', log ? 'log' : 'linear');
    const bottom = HEIGHT - MARGIN.bottom;
    const { y, left } = lossAxis(yAxis, yLabel, range, log, MARGIN.top, bottom, 'learning rate');
    const xMax = Math.max(1, pts[pts.length - 1].step);
    const x = d3.scaleLinear().domain([0, xMax]).range([left, width - MARGIN.right]);
    xAxis.attr('transform', `translate(0,${bottom})`).call(d3.axisBottom(x).ticks(Math.max(2, Math.floor((width - left) / 80))).tickSizeOuter(0).tickFormat(stepTick));
    xLabel.attr('x', (left + width - MARGIN.right) / 2).attr('y', HEIGHT - 4).text('step');
    const line = d3.line<Point>().defined((p) => !log || p.lr > 0).x((p) => x(p.step)).y((p) => y(p.lr));
    marks.selectAll<SVGPathElement, Point[]>('path.lr-line').data([pts]).join('path')
      .attr('class', 'lr-line').attr('data-points', pts.length).attr('d', line);
  }
}
