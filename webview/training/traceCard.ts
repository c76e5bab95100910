/**
 * "Show trace" for a problem of one parameter: the loss as a function of θ, with the run's iterates
 * θ₀, θ₁, … drawn on the curve and joined in order, so a student sees each step go down the slope,
 * overshoot or diverge. Drawn on request (engine/check/trace1d.ts); shown only when the parameters
 * hold one number.
 */
import * as d3 from 'd3';
import type { TraceReport } from '../../extension/protocol';
import { setDisabled } from '../dom';
import { fullName } from '../format';
import { AnalysisState, drawCard, num, setStatus } from './analysisCard';
import { AXIS_LABEL, chartSvg, extentOf, leftAxis, placeYLabel, tick, widthOf } from './chart';

const HEIGHT = 240;
const MARGIN = { top: 10, right: 16, bottom: 22 + AXIS_LABEL };

const INTRO = 'Draws the loss as a function of the one parameter, with every iterate of the run on it, joined in order.';

type Pt = { x: number; y: number };

export class TraceCard {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly runButton: HTMLElement;
  private readonly status: HTMLElement;
  private readonly chart: ReturnType<typeof chartSvg>;
  private last: { report: TraceReport | null; pending: boolean; error: string | null; width: number } | null = null;

  constructor(events: { run(): void }) {
    ({ root: this.root, body: this.body, sub: this.sub, runButton: this.runButton, status: this.status, chart: this.chart } = drawCard({
      title: 'Trace of the parameter', testId: 'trace', icon: 'debug-line-by-line', run: () => events.run(),
      buttonTitle: 'Draw the loss curve and the iterates of the run so far',
      chartLabel: 'The loss against the parameter, with the iterates of the run',
    }));
    this.chart.marks.append('path').attr('class', 'trace-curve');
    this.chart.marks.append('path').attr('class', 'trace-steps');
    this.chart.marks.append('g').attr('class', 'trace-iterates');
  }

  /** `applies`: a problem of one parameter (analysesFor). */
  render(s: AnalysisState<TraceReport>, applies: boolean, enabled: boolean): void {
    this.root.hidden = !applies;
    if (!applies) return;
    const r = s.report;
    const width = r ? widthOf(this.body) : 0;
    setDisabled(this.runButton, !enabled || s.pending);
    const last = this.last;
    if (last && last.report === r && last.pending === s.pending && last.error === s.error && last.width === width) return;
    this.last = { report: r, pending: s.pending, error: s.error, width };
    this.sub.textContent = r ? `step ${r.step}` : '';
    this.chart.svg.attr('hidden', r ? null : '').classed('stale', s.pending || !!s.error);
    if (r) this.draw(r, width);
    if (s.pending) setStatus(this.status, 'Drawing…');
    else if (s.error) setStatus(this.status, s.error, true);
    else if (r) {
      const first = r.iterates[0], end = r.iterates[r.iterates.length - 1];
      setStatus(this.status, `${fullName(r.name)}: ${num(first?.theta)} → ${num(end?.theta)} in ${r.iterates.length - 1} drawn step${r.iterates.length === 2 ? '' : 's'}; loss ${num(first?.loss)} → ${num(end?.loss)} (on ${r.on}).`);
    } else setStatus(this.status, INTRO);
  }

  private draw(r: TraceReport, width: number): void {
    const { svg, marks, xAxis, yAxis, xLabel, yLabel } = this.chart;
    const curve: Pt[] = r.xs.map((x, i) => ({ x, y: r.ys[i] ?? NaN }));
    const its: (Pt & { step: number })[] = r.iterates.map((q) => ({ x: q.theta, y: q.loss ?? NaN, step: q.step }));
    const yData = extentOf([...curve, ...its].map((p) => p.y), false) ?? [0, 1];
    const y = d3.scaleLinear().domain(yData[0] === yData[1] ? [yData[0] - 1, yData[1] + 1] : yData).nice(5);
    const yAx = d3.axisLeft<d3.NumberValue>(y).ticks(5).tickSizeOuter(0).tickFormat(tick);
    const left = leftAxis(yAxis, yAx, yLabel, 'loss');
    const bottom = HEIGHT - MARGIN.bottom;
    y.range([bottom, MARGIN.top]);
    yAxis.call(yAx);
    placeYLabel(yLabel, MARGIN.top, bottom);
    const x = d3.scaleLinear().domain([r.xs[0], r.xs[r.xs.length - 1]]).range([left, width - MARGIN.right]);
    xAxis.attr('transform', `translate(0,${bottom})`).call(d3.axisBottom(x).ticks(Math.max(3, Math.floor((width - left) / 80))).tickSizeOuter(0).tickFormat(tick));
    xLabel.attr('x', (left + width - MARGIN.right) / 2).attr('y', HEIGHT - 4).text(fullName(r.name));
    svg.attr('width', width).attr('height', HEIGHT).attr('viewBox', `0 0 ${width} ${HEIGHT}`);
    const inside = (p: Pt) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.x >= r.xs[0] && p.x <= r.xs[r.xs.length - 1];
    const line = d3.line<Pt>().defined((p) => Number.isFinite(p.y)).x((p) => x(p.x)).y((p) => y(p.y));
    marks.select('path.trace-curve').attr('d', line(curve));
    marks.select('path.trace-steps').attr('d', line(its.filter(inside))).attr('data-points', its.filter(inside).length);
    marks.select('g.trace-iterates').selectAll<SVGCircleElement, (typeof its)[number]>('circle').data(its.filter(inside)).join('circle')
      .attr('class', (_, i, all) => `trace-iterate${i === 0 ? ' first' : i === all.length - 1 ? ' last' : ''}`)
      .attr('cx', (p) => x(p.x)).attr('cy', (p) => y(p.y)).attr('r', 3)
      .attr('data-step', (p) => p.step)
      .selectAll('title').data((p) => [p]).join('title').text((p) => `step ${p.step}: ${fullName(r.name)} = ${num(p.x)}, loss ${num(p.y)}`);
  }
}
