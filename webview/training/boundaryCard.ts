/**
 * The decision boundary of a classifier with two input features (moons, XOR, blobs): the class the
 * model predicts over its input plane, shaded by how sure it is, with the training points on top.
 * Drawn on request at the current parameters (engine/check/boundary.ts); shown only for 2-feature
 * classification data.
 */
import * as d3 from 'd3';
import type { BoundaryReport } from '../../extension/protocol';
import { setDisabled } from '../dom';
import { AnalysisState, drawCard, setStatus } from './analysisCard';
import { AXIS_LABEL, chartSvg, leftAxis, placeYLabel, tick, widthOf } from './chart';

const MAX_SIDE = 340;
const MARGIN = { top: 8, right: 12, bottom: 22 + AXIS_LABEL };

const INTRO = 'Draws the class the model predicts over the plane of its two inputs, shaded by its confidence, with the training points.';

export class BoundaryCard {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly runButton: HTMLElement;
  private readonly status: HTMLElement;
  private readonly chart: ReturnType<typeof chartSvg>;
  private readonly cells: d3.Selection<SVGGElement, unknown, null, undefined>;
  private readonly dots: d3.Selection<SVGGElement, unknown, null, undefined>;
  private last: { report: BoundaryReport | null; pending: boolean; error: string | null; width: number } | null = null;

  constructor(events: { run(): void }) {
    ({ root: this.root, body: this.body, sub: this.sub, runButton: this.runButton, status: this.status, chart: this.chart } = drawCard({
      title: 'Decision boundary', testId: 'boundary', icon: 'symbol-color', run: () => events.run(),
      buttonTitle: 'Draw the decision boundary at the current parameters',
      chartLabel: 'Predicted class over the two input features, with the training points',
    }));
    this.cells = this.chart.marks.append('g').attr('class', 'boundary-cells');
    this.dots = this.chart.marks.append('g').attr('class', 'boundary-points');
  }

  /** `applies`: a classifier of two features (analysesFor). */
  render(s: AnalysisState<BoundaryReport>, applies: boolean, enabled: boolean): void {
    this.root.hidden = !applies;
    if (!applies) return;
    const r = s.report;
    const width = r ? widthOf(this.body) : 0;
    const last = this.last;
    setDisabled(this.runButton, !enabled || s.pending);
    if (last && last.report === r && last.pending === s.pending && last.error === s.error && last.width === width) return;
    this.last = { report: r, pending: s.pending, error: s.error, width };
    this.root.toggleAttribute('aria-busy', s.pending);
    this.sub.textContent = r ? `step ${r.step}` : '';
    this.chart.svg.attr('hidden', r ? null : '').classed('stale', s.pending || !!s.error);
    if (r) this.draw(r, width);
    if (s.pending) setStatus(this.status, 'Drawing…');
    else if (s.error) setStatus(this.status, s.error, true);
    else if (r) setStatus(this.status, `${r.classes} classes at step ${r.step}; shade: the model's confidence in the class it predicts; dots: ${r.points.length} training examples${r.standardized ? ' (standardized inputs)' : ''}.`);
    else setStatus(this.status, INTRO);
  }

  private draw(r: BoundaryReport, width: number): void {
    const { svg, xAxis, yAxis, xLabel, yLabel } = this.chart;
    const nx = r.xs.length, ny = r.ys.length;
    const dx = nx > 1 ? r.xs[1] - r.xs[0] : 1, dy = ny > 1 ? r.ys[1] - r.ys[0] : 1;
    const xDom: [number, number] = [r.xs[0] - dx / 2, r.xs[nx - 1] + dx / 2];
    const yDom: [number, number] = [r.ys[0] - dy / 2, r.ys[ny - 1] + dy / 2];
    const y = d3.scaleLinear().domain(yDom);
    const yAx = d3.axisLeft<d3.NumberValue>(y).ticks(5).tickSizeOuter(0).tickFormat(tick);
    const left = leftAxis(yAxis, yAx, yLabel, r.standardized ? 'x₂ (standardized)' : 'x₂');
    const side = Math.max(120, Math.min(MAX_SIDE, width - left - MARGIN.right));
    const height = side + MARGIN.top + MARGIN.bottom;
    const bottom = MARGIN.top + side;
    y.range([bottom, MARGIN.top]);
    yAxis.call(yAx);
    placeYLabel(yLabel, MARGIN.top, bottom);
    const x = d3.scaleLinear().domain(xDom).range([left, left + side]);
    xAxis.attr('transform', `translate(0,${bottom})`).call(d3.axisBottom(x).ticks(5).tickSizeOuter(0).tickFormat(tick));
    xLabel.attr('x', left + side / 2).attr('y', height - 4).text(r.standardized ? 'x₁ (standardized)' : 'x₁');
    svg.attr('width', width).attr('height', height).attr('viewBox', `0 0 ${width} ${height}`).attr('data-classes', r.classes);
    // a class's colour, as strong as the model is sure (chance level: none)
    const chance = 1 / r.classes;
    const strength = (c: number) => Math.max(0, Math.min(1, (c - chance) / (1 - chance)));
    const cw = Math.abs(x(xDom[0] + dx) - x(xDom[0])), ch = Math.abs(y(yDom[0] + dy) - y(yDom[0]));
    const cells = r.cls.map((k, idx) => ({ k, c: r.confidence[idx], i: idx % nx, j: Math.floor(idx / nx) }));
    this.cells.selectAll<SVGRectElement, (typeof cells)[number]>('rect').data(cells).join('rect')
      .attr('x', (d) => x(r.xs[d.i] - dx / 2)).attr('y', (d) => y(r.ys[d.j] + dy / 2))
      .attr('width', cw).attr('height', ch).attr('shape-rendering', 'crispEdges')
      .attr('class', (d) => `boundary-cell class-${d.k % 8}`)
      .attr('fill-opacity', (d) => 0.08 + 0.5 * strength(d.c));
    this.dots.selectAll<SVGCircleElement, [number, number, number]>('circle').data(r.points).join('circle')
      .attr('cx', (p) => x(p[0])).attr('cy', (p) => y(p[1])).attr('r', 2.6)
      .attr('class', (p) => `boundary-point class-${p[2] % 8}`)
      .attr('data-label', (p) => p[2]);
  }
}
