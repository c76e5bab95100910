/**
 * The optimizer playground: a few optimizers started from the same point of a two-parameter
 * surface (a saddle, an elongated bowl, Rosenbrock, or the user's own two-parameter loss), drawn
 * over the surface's contour lines, and what each one ended on (from the Hessian's eigenvalues).
 */
import * as d3 from 'd3';
import { OPTIMIZER_NAMES, type OptimizerName, type PlaygroundReport, type PlaygroundRun, type PlaygroundTrajectory, type SurfaceName } from '../../extension/protocol';
import { button, el, setDisabled } from '../dom';
import { DEFAULT_PLAYGROUND_RUNS, DEFAULT_PLAYGROUND_STEPS, aboveStabilityLimit, playgroundRunLabel, stabilityLimit } from '../../engine/check/analysis';
import { AnalysisState, count, num, setStatus, statusLine, uniqueId } from './analysisCard';
import { LOG_RATIO, MARGIN, card, chartSvg, leftAxis, placeYLabel, tick, widthOf } from './chart';

export type PlaygroundRequest = { kind: 'playground'; surface: SurfaceName; runs: PlaygroundRun[]; steps: number };

const SURFACES: { value: SurfaceName; label: string }[] = [
  { value: 'saddle', label: 'x² − y² (saddle)' },
  { value: 'bowl', label: '2x² + y² (elongated bowl)' },
  { value: 'rosenbrock', label: 'Rosenbrock' },
];

/** Each row's learning rate as the card starts; the rows of DEFAULT_PLAYGROUND_RUNS start checked, at their rates. */
const RATES: Record<string, number> = {
  sgd: 0.05, momentum: 0.005, nesterov: 0.005, adagrad: 0.5, rmsprop: 0.01, adadelta: 1, adam: 0.1, adamw: 0.1, adamax: 0.1, nadam: 0.1,
};
const startsChecked = (key: string) => DEFAULT_PLAYGROUND_RUNS.find((r) => r.optimizer === key && !r.momentum);

const MAX_STEPS = 100_000;
const MAX_LR = 1e6;
const MIN_HEIGHT = 160;
const MAX_HEIGHT = 380;
/** Segments are cut this far (px) outside the plot: far-off points of a diverging run stay drawable. */
const FAR = 2000;

const INTRO = 'Runs each checked optimizer from the same start on a two-parameter surface and draws the path it takes over the surface’s contour lines.';
const EXPLAIN = 'The verdict comes from the Hessian’s eigenvalues at the end point, once the gradient there is (nearly) zero: all positive, a minimum; all negative, a maximum; mixed signs, a saddle; some zero, flat. Where the gradient is not zero the point is not critical: the optimizer has not settled. Diverged: the loss became NaN or infinite (the learning rate is too high).';

/** How a run is named in the card: `sgd`, or `sgd (momentum 0.9, Nesterov)`. */
const runLabel = (t: { optimizer: string; momentum?: number; nesterov?: boolean }): string => playgroundRunLabel(t, num);


/** A small line in the optimizer's colour and dash (legend, table, checkbox). */
function swatch(name: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', `pg-swatch opt-${name}`);
  svg.setAttribute('width', '22');
  svg.setAttribute('height', '10');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(ns, 'line');
  line.setAttribute('x1', '1');
  line.setAttribute('x2', '21');
  line.setAttribute('y1', '5');
  line.setAttribute('y2', '5');
  svg.append(line);
  return svg;
}

/** Liang–Barsky: the part of segment a→b inside the box, or null. */
function clipSegment(a: [number, number], b: [number, number], x0: number, y0: number, x1: number, y1: number): [[number, number], [number, number]] | null {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  let t0 = 0, t1 = 1;
  const edges: [number, number][] = [[-dx, a[0] - x0], [dx, x1 - a[0]], [-dy, a[1] - y0], [dy, y1 - a[1]]];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return null;
    } else {
      const t = q / p;
      if (p < 0) { if (t > t1) return null; if (t > t0) t0 = t; }
      else { if (t < t0) return null; if (t < t1) t1 = t; }
    }
  }
  return [[a[0] + t0 * dx, a[1] + t0 * dy], [a[0] + t1 * dx, a[1] + t1 * dy]];
}

interface OptRow { key: string; name: OptimizerName; label: string; box: HTMLInputElement; lr: HTMLInputElement; momentum?: HTMLInputElement; nesterov: boolean }

/** The rows of the optimizer list: every optimizer, and sgd with momentum and with Nesterov momentum after sgd. */
const ROWS: { key: string; optimizer: OptimizerName; label: string; momentum: boolean; nesterov: boolean }[] = OPTIMIZER_NAMES.flatMap((name) => [
  { key: name, optimizer: name, label: name, momentum: false, nesterov: false },
  ...(name === 'sgd' ? [
    { key: 'momentum', optimizer: name, label: 'sgd, momentum', momentum: true, nesterov: false },
    { key: 'nesterov', optimizer: name, label: 'sgd, Nesterov', momentum: true, nesterov: true },
  ] : []),
]);

/** The row (and style) a run belongs to. */
const rowKey = (t: { optimizer: string; momentum?: number; nesterov?: boolean }): string => (t.optimizer === 'sgd' && t.momentum ? (t.nesterov ? 'nesterov' : 'momentum') : t.optimizer);

export class PlaygroundCard {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly surface: HTMLSelectElement;
  private readonly fileOption: HTMLOptionElement;
  private readonly steps: HTMLInputElement;
  private readonly opts: OptRow[] = [];
  private readonly runButton: HTMLElement;
  private readonly invalid: HTMLElement;
  private readonly status: HTMLElement;
  private readonly chart: ReturnType<typeof chartSvg>;
  private readonly clipRect: d3.Selection<SVGRectElement, unknown, null, undefined>;
  private readonly bands: d3.Selection<SVGGElement, unknown, null, undefined>;
  private readonly paths: d3.Selection<SVGGElement, unknown, null, undefined>;
  private readonly startMark: d3.Selection<SVGCircleElement, unknown, null, undefined>;
  private readonly legend: HTMLElement;
  private readonly tableWrap: HTMLElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly explain: HTMLElement;
  private pending = false;
  private last: { report: PlaygroundReport | null; pending: boolean; error: string | null; file: string | null; width: number } | null = null;

  constructor(private readonly events: { run(req: PlaygroundRequest): void }) {
    const c = card('Optimizer playground', 'playground', true);
    this.root = c.root;
    this.root.classList.add('an-card');
    this.body = c.body;
    const validate = () => this.updateButton();
    const onEnter = (e: KeyboardEvent) => {
      if (e.key === 'Enter') this.send();
    };

    this.surface = el('select', { class: 'tr-select', 'data-testid': 'playground-surface', 'aria-label': 'Surface' });
    for (const s of SURFACES) this.surface.append(el('option', { value: s.value }, s.label));
    this.fileOption = el('option', { value: 'file' });
    const surfaceField = el('label', { class: 'tr-field an-field-wide' });
    surfaceField.append(el('span', { class: 'tr-field-label' }, 'surface'), this.surface);
    this.steps = el('input', { type: 'number', class: 'tr-input an-input-short', 'data-testid': 'playground-steps', 'aria-label': 'Steps per optimizer', min: '1', max: String(MAX_STEPS), step: '1', value: String(DEFAULT_PLAYGROUND_STEPS) });
    this.steps.addEventListener('input', validate);
    this.steps.addEventListener('keydown', onEnter);
    const stepsField = el('label', { class: 'tr-field' });
    stepsField.append(el('span', { class: 'tr-field-label' }, 'steps'), this.steps);
    this.runButton = button('play', 'Run', () => this.send(), 'playground-run', false);
    this.runButton.title = 'Run the checked optimizers from the same start';
    const controls = el('div', { class: 'an-controls' });
    controls.append(surfaceField, stepsField, this.runButton);

    const list = el('div', { class: 'pg-opts', role: 'group', 'aria-label': 'Optimizers and learning rates' });
    for (const row of ROWS) {
      const { key, optimizer } = row;
      const on = startsChecked(key);
      const d = { lr: on?.lr ?? RATES[key] ?? 0.1, on: !!on };
      const item = el('div', { class: `pg-opt opt-${key}`, 'data-optimizer': key });
      const label = el('label', { class: 'tr-check', title: `Run ${row.label}` });
      const box = el('input', { type: 'checkbox', 'data-testid': `playground-opt-${key}` });
      box.checked = d.on;
      box.addEventListener('change', validate);
      label.append(box, swatch(key), el('span', { class: 'pg-opt-name' }, row.label));
      const lr = el('input', { type: 'number', class: 'tr-input an-input-lr', 'data-testid': `playground-lr-${key}`, 'aria-label': `${row.label} learning rate`, title: `${row.label} learning rate`, min: '0', step: 'any', value: String(d.lr) });
      lr.addEventListener('input', validate);
      lr.addEventListener('keydown', onEnter);
      item.append(label, el('span', { class: 'tr-field-label', 'aria-hidden': 'true' }, 'lr'), lr);
      // sgd with momentum (heavy ball) and in Nesterov's form, beside plain sgd: μ is set per row
      let momentum: HTMLInputElement | undefined;
      if (row.momentum) {
        momentum = el('input', { type: 'number', class: 'tr-input an-input-lr', 'data-testid': `playground-momentum-${key}`, 'aria-label': `${row.label} momentum`, title: `${row.label}: momentum μ`, min: '0', max: '0.9999', step: 'any', value: '0.9' });
        momentum.addEventListener('input', validate);
        momentum.addEventListener('keydown', onEnter);
        item.append(el('span', { class: 'tr-field-label', 'aria-hidden': 'true' }, 'μ'), momentum);
      }
      list.append(item);
      this.opts.push({ key, name: optimizer, label: row.label, box, lr, momentum, nesterov: row.nesterov });
    }
    this.invalid = el('div', { class: 'an-invalid', role: 'alert' });
    this.status = statusLine('playground-status');

    this.chart = chartSvg(c.body, 'Optimizer trajectories over the contour lines of the surface');
    this.chart.svg.attr('data-testid', 'playground-plot').attr('hidden', '');
    const clip = uniqueId('playground-clip');
    this.clipRect = this.chart.svg.insert('defs', ':first-child').append('clipPath').attr('id', clip).append('rect');
    this.chart.marks.attr('clip-path', `url(#${clip})`);
    this.bands = this.chart.marks.append('g').attr('class', 'pg-contours');
    this.paths = this.chart.marks.append('g').attr('class', 'pg-trajectories');
    this.startMark = this.chart.marks.append('circle').attr('class', 'pg-start').attr('r', 5);
    this.startMark.append('title');
    this.legend = el('div', { class: 'tr-legend pg-legend', 'data-testid': 'playground-legend' });
    this.legend.hidden = true;

    this.tableWrap = el('div', { class: 'table-scroll an-table-scroll' });
    const table = el('table', { class: 'tr-table an-table', 'data-testid': 'playground-verdicts', 'aria-label': 'Where each optimizer ended' });
    const head = el('tr');
    for (const [h, title] of [
      ['optimizer', 'Optimizer'],
      // second, so a narrow panel shows it without scrolling sideways
      ['verdict', 'What the end point is'],
      ['lr', 'Learning rate'],
      ['end (x, y)', 'Point after the last step'],
      ['loss', 'Loss at the end point'],
      ['Hessian eigenvalues', 'Eigenvalues of the Hessian (curvature) at the end point'],
    ]) head.append(el('th', { scope: 'col', title, class: h === 'verdict' ? 'an-verdict-head' : '' }, h));
    const thead = el('thead');
    thead.append(head);
    this.tbody = el('tbody');
    table.append(thead, this.tbody);
    this.tableWrap.append(table);
    this.tableWrap.hidden = true;
    this.explain = el('div', { class: 'tr-caption', 'data-testid': 'playground-explain' }, EXPLAIN);
    this.explain.hidden = true;

    c.body.prepend(controls, list, this.invalid, this.status);
    // the plot is as wide as its surface needs (one unit is as long on both axes): where the card is
    // wider, the legend and the table stand beside it instead of below
    const main = el('div', { class: 'pg-main' });
    const side = el('div', { class: 'pg-side' });
    side.append(this.legend, this.tableWrap, this.explain);
    main.append(this.chart.svg.node()!, side);
    c.body.append(main);
    this.updateButton();
  }

  /** The request the inputs describe, or why they do not describe one. */
  private request(): PlaygroundRequest | string {
    const stepsText = this.steps.value.trim();
    const steps = Number(stepsText || NaN);
    const badSteps = !(Number.isInteger(steps) && steps >= 1 && steps <= MAX_STEPS);
    this.mark(this.steps, badSteps);
    let error: string | null = badSteps ? `Steps must be a whole number from 1 to ${count(MAX_STEPS)}.` : null;
    const runs: PlaygroundRun[] = [];
    for (const o of this.opts) {
      const lr = Number(o.lr.value.trim() || NaN);
      const bad = o.box.checked && !(lr > 0 && lr <= MAX_LR);
      this.mark(o.lr, bad);
      const momentum = o.momentum ? Number(o.momentum.value.trim() || NaN) : 0;
      const badMomentum = !!o.momentum && o.box.checked && !(momentum > 0 && momentum < 1);
      if (o.momentum) this.mark(o.momentum, badMomentum);
      if (bad) error ??= `The learning rate of ${o.label} must be a number above 0, up to 1e6.`;
      else if (badMomentum) error ??= `The momentum of ${o.label} must be above 0 and below 1.`;
      else if (o.box.checked) runs.push(o.momentum ? { optimizer: o.name, lr, momentum, nesterov: o.nesterov } : { optimizer: o.name, lr });
    }
    if (error) return error;
    if (!runs.length) return 'Check at least one optimizer.';
    return { kind: 'playground', surface: this.surface.value as SurfaceName, runs, steps };
  }

  private mark(input: HTMLInputElement, bad: boolean): void {
    input.classList.toggle('invalid', bad);
    input.setAttribute('aria-invalid', String(bad));
  }

  private updateButton(): void {
    const req = this.request();
    // nothing checked is not an error to shout about: the button is just off
    const text = typeof req === 'string' && req !== 'Check at least one optimizer.' ? req : '';
    if (this.invalid.textContent !== text) this.invalid.textContent = text;
    this.invalid.hidden = !text;
    setDisabled(this.runButton, this.pending || typeof req === 'string');
    this.runButton.title = typeof req === 'string' ? req : 'Run the checked optimizers from the same start';
  }

  private send(): void {
    const req = this.request();
    if (this.pending || typeof req === 'string') return;
    this.events.run(req);
  }

  render(s: AnalysisState<PlaygroundReport>, fileSurface: string | null): void {
    const r = s.report;
    const width = r ? widthOf(this.body) : 0;
    const last = this.last;
    if (last && last.report === r && last.pending === s.pending && last.error === s.error && last.file === fileSurface && last.width === width) return;
    this.last = { report: r, pending: s.pending, error: s.error, file: fileSurface, width };
    this.pending = s.pending;
    this.setFileSurface(fileSurface);
    this.updateButton();
    this.root.toggleAttribute('aria-busy', s.pending);

    if (s.pending) setStatus(this.status, 'Running…');
    else if (s.error) setStatus(this.status, s.error, true);
    else if (r) setStatus(this.status, summary(r));
    else setStatus(this.status, INTRO);
    this.chart.svg.attr('hidden', r ? null : '').classed('stale', !!r && (s.pending || !!s.error));
    this.legend.hidden = !r;
    this.tableWrap.hidden = !r;
    this.explain.hidden = !r;
    if (!r) return;
    this.drawPlot(r, width);
    this.drawLegend(r);
    this.drawTable(r);
  }

  /** Offers the file's own two-parameter loss while it has exactly two parameters. */
  private setFileSurface(title: string | null): void {
    if (title === null) {
      if (this.fileOption.parentElement) {
        const was = this.surface.value === 'file';
        this.fileOption.remove();
        if (was) this.surface.value = 'saddle';
      }
      return;
    }
    const text = `your file: ${title}`;
    if (this.fileOption.textContent !== text) this.fileOption.textContent = text;
    if (!this.fileOption.parentElement) this.surface.append(this.fileOption);
  }

  private drawPlot(r: PlaygroundReport, width: number): void {
    const { svg, xAxis, yAxis, xLabel, yLabel } = this.chart;
    const { xs, ys, z } = r.grid;
    const n = xs.length, m = ys.length;
    const xData = d3.extent(xs) as [number, number];
    const yData = d3.extent(ys) as [number, number];
    const ok = n >= 2 && m >= 2 && xData[1] > xData[0] && yData[1] > yData[0];
    const xDom: [number, number] = ok ? xData : [-1, 1];
    const yDom: [number, number] = ok ? yData : [-1, 1];

    const y = d3.scaleLinear().domain(yDom);
    const yAx = d3.axisLeft<d3.NumberValue>(y).tickSizeOuter(0).tickFormat(tick).ticks(5);
    const left = leftAxis(yAxis, yAx, yLabel, 'y');
    // one unit is as long on both axes (an elongated bowl looks elongated), within the height limits
    const room = Math.max(120, width - left - MARGIN.right);
    const aspect = (xDom[1] - xDom[0]) / (yDom[1] - yDom[0]);
    const plotH = Math.round(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, room / aspect)));
    const inner = Math.round(Math.min(room, Math.max(plotH * aspect, 160)));
    const height = plotH + MARGIN.top + MARGIN.bottom;
    const bottom = height - MARGIN.bottom;
    y.range([bottom, MARGIN.top]);
    yAxis.call(yAx.ticks(Math.max(3, Math.floor(plotH / 45))));
    placeYLabel(yLabel, MARGIN.top, bottom);
    const x = d3.scaleLinear().domain(xDom).range([left, left + inner]);
    xAxis.attr('transform', `translate(0,${bottom})`)
      .call(d3.axisBottom(x).ticks(Math.max(3, Math.floor(inner / 80))).tickSizeOuter(0).tickFormat(tick));
    xLabel.attr('x', left + inner / 2).attr('y', height - 4).text('x');
    const used = Math.min(width, left + inner + MARGIN.right);
    svg.attr('width', used).attr('height', height).attr('viewBox', `0 0 ${used} ${height}`).attr('data-surface', r.surface);
    this.clipRect.attr('x', left).attr('y', MARGIN.top).attr('width', inner).attr('height', bottom - MARGIN.top);

    // contour lines (and faint filled bands) of the surface
    const values: number[] = [];
    for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) values.push(z[j]?.[i] ?? NaN);
    let lo = Infinity, hi = -Infinity, minPos = Infinity;
    for (const v of values) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (v > 0 && v < minPos) minPos = v;
    }
    let thresholds: number[] = [];
    let level = (v: number) => v;
    let log = false;
    if (ok && lo < hi) {
      log = lo >= 0 && minPos < Infinity && hi / minPos >= LOG_RATIO;
      if (log) {
        level = (v: number) => Math.log10(Math.max(v, minPos));
        const a = Math.log10(minPos), b = Math.log10(hi);
        thresholds = d3.ticks(a, b, Math.min(16, Math.max(6, Math.ceil((b - a) * 2)))).filter((t) => t > a && t < b);
      } else thresholds = d3.ticks(lo, hi, 12).filter((t) => t > lo && t < hi);
    }
    svg.attr('data-levels', log ? 'log' : 'linear');
    const grid = values.map((v) => (Number.isFinite(v) ? level(v) : v < 0 ? level(lo) : level(hi)));
    const ix = d3.scaleLinear().domain(xs.map((_, k) => k + 0.5)).range(xs);
    const iy = d3.scaleLinear().domain(ys.map((_, k) => k + 0.5)).range(ys);
    const path = d3.geoPath(d3.geoTransform({
      point(u: number, v: number) {
        this.stream.point(x(ix(u)), y(iy(v)));
      },
    }));
    const contours = thresholds.length ? d3.contours().size([n, m]).thresholds(thresholds)(grid) : [];
    this.bands.selectAll<SVGPathElement, d3.ContourMultiPolygon>('path')
      .data(contours)
      .join('path')
      .attr('class', 'pg-contour')
      .attr('data-value', (c) => (log ? 10 ** c.value : c.value))
      .attr('d', (c) => path(c));

    // trajectories: finite points in pixels, each segment cut to a box around the plot
    const bx0 = left - FAR, bx1 = left + inner + FAR, by0 = MARGIN.top - FAR, by1 = bottom + FAR;
    const finite = (p: readonly number[]) => Number.isFinite(p[0]) && Number.isFinite(p[1]);
    const pathOf = (t: PlaygroundTrajectory): string => {
      let d = '', at: [number, number] | null = null, prev: [number, number] | null = null;
      const f = (v: number) => Math.round(v * 10) / 10;
      for (const p of t.points) {
        if (!finite(p)) { prev = null; continue; }
        const q: [number, number] = [x(p[0]), y(p[1])];
        if (prev) {
          const seg = clipSegment(prev, q, bx0, by0, bx1, by1);
          if (seg) {
            if (!at || at[0] !== seg[0][0] || at[1] !== seg[0][1]) d += `M${f(seg[0][0])},${f(seg[0][1])}`;
            d += `L${f(seg[1][0])},${f(seg[1][1])}`;
            at = seg[1];
          }
        } else if (t.points.length === 1 && clipSegment(q, q, bx0, by0, bx1, by1)) {
          d += `M${f(q[0])},${f(q[1])}Z`;
        }
        prev = q;
      }
      return d;
    };
    const inPlot = (p: readonly number[]) => finite(p) && p[0] >= xDom[0] && p[0] <= xDom[1] && p[1] >= yDom[0] && p[1] <= yDom[1];
    const g = this.paths.selectAll<SVGGElement, PlaygroundTrajectory>('g.pg-run')
      .data(r.trajectories)
      .join((enter) => {
        const e = enter.append('g').attr('class', 'pg-run');
        e.append('path').attr('class', 'trajectory').append('title');
        e.append('circle').attr('class', 'pg-end').attr('r', 4).append('title');
        return e;
      })
      .attr('data-optimizer', (t) => t.optimizer);
    g.select<SVGPathElement>('path.trajectory')
      .attr('class', (t) => `trajectory opt-${rowKey(t)}`)
      .attr('data-optimizer', (t) => t.optimizer)
      .attr('data-lr', (t) => t.lr)
      .attr('data-points', (t) => t.points.filter(finite).length)
      .attr('d', pathOf)
      .select('title').text((t) => `${runLabel(t)}, lr ${num(t.lr)}: ${t.points.length - 1} steps to ${pointText(t.end.point)}`);
    g.select<SVGCircleElement>('circle.pg-end')
      .attr('class', (t) => `pg-end opt-${rowKey(t)}`)
      .attr('data-optimizer', (t) => t.optimizer)
      // an end point off the plot (a diverging run) is not drawn on its edge as if it were there: its path leaves through the edge, the table gives the point
      .attr('hidden', (t) => (inPlot(t.end.point) ? null : ''))
      .attr('cx', (t) => (inPlot(t.end.point) ? x(t.end.point[0]) : 0))
      .attr('cy', (t) => (inPlot(t.end.point) ? y(t.end.point[1]) : 0))
      .select('title').text((t) => `${runLabel(t)} ends at ${pointText(t.end.point)}: ${t.end.kind}`);
    const start = r.start;
    this.startMark.raise()
      .attr('hidden', finite(start) ? null : '')
      .attr('cx', finite(start) ? x(start[0]) : 0)
      .attr('cy', finite(start) ? y(start[1]) : 0);
    this.startMark.select('title').text(`start ${pointText(start)}`);
  }

  private drawLegend(r: PlaygroundReport): void {
    const items = [
      { key: 'start', run: null as PlaygroundTrajectory | null },
      { key: 'end', run: null as PlaygroundTrajectory | null },
      ...r.trajectories.map((t, i) => ({ key: `run-${i}-${runLabel(t)}-${t.lr}`, run: t })),
    ];
    d3.select(this.legend).selectAll<HTMLElement, (typeof items)[number]>('.lg-item')
      .data(items, (d) => d.key)
      .join((enter) => enter.append((d) => {
        const item = el('span', { class: 'lg-item' });
        if (d.run) {
          item.dataset.optimizer = d.run.optimizer;
          item.append(swatch(rowKey(d.run)), el('span', {}, `${runLabel(d.run)}, lr ${num(d.run.lr)}`));
        } else {
          item.append(el('span', { class: `pg-marker pg-marker-${d.key}`, 'aria-hidden': 'true' }), el('span', {}, d.key === 'start' ? 'start' : 'end point'));
        }
        return item;
      }))
      .order();
  }

  private drawTable(r: PlaygroundReport): void {
    type Row = { t: PlaygroundTrajectory; key: string };
    const rows: Row[] = r.trajectories.map((t, i) => ({ t, key: `${i}-${t.optimizer}` }));
    const limit = stabilityLimit(r);
    d3.select(this.tbody).selectAll<HTMLTableRowElement, Row>('tr')
      .data(rows, (d) => d.key)
      .join((enter) => enter.append('tr').each(function () {
        const name = el('td', { 'data-col': 'optimizer' });
        name.append(el('span', { class: 'pg-name-swatch' }), el('span', { class: 'pg-name' }));
        this.append(name, el('td', { 'data-col': 'verdict', class: 'pg-kind' }));
        for (const col of ['lr', 'end', 'loss', 'eigenvalues']) this.append(el('td', { 'data-col': col }));
      }))
      .order()
      .each(function ({ t }) {
        this.dataset.optimizer = t.optimizer;
        const cells = this.cells;
        const holder = cells[0].querySelector('.pg-name-swatch')!;
        if (holder.firstElementChild?.getAttribute('class') !== `pg-swatch opt-${rowKey(t)}`) holder.replaceChildren(swatch(rowKey(t)));
        cells[0].querySelector('.pg-name')!.textContent = runLabel(t);
        cells[1].textContent = t.end.kind;
        cells[1].dataset.kind = t.end.kind;
        cells[1].title = `gradient norm ${num(Math.hypot(...t.end.grad))}`;
        cells[2].textContent = num(t.lr);
        const over = aboveStabilityLimit(t, limit);
        cells[2].classList.toggle('warn', over);
        cells[2].title = limit === null ? '' : over ? `above 2/λmax = ${num(limit)}: gradient descent is unstable at the start's curvature` : `below 2/λmax = ${num(limit)}`;
        cells[3].textContent = pointText(t.end.point);
        cells[4].textContent = num(t.end.loss);
        cells[5].textContent = `[${t.end.eigenvalues.map(num).join(', ')}]`;
      });
  }
}

const pointText = (p: readonly number[]): string => `(${num(p[0])}, ${num(p[1])})`;

function summary(r: PlaygroundReport): string {
  const n = r.trajectories.length;
  const diverged = r.trajectories.filter((t) => !Number.isFinite(t.end.loss) || !t.points.every((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]))).map((t) => runLabel(t));
  const base = `${r.title}: ${count(n)} optimizer${n === 1 ? '' : 's'}, ${count(r.steps)} steps from ${pointText(r.start)}.`;
  const parts = [diverged.length ? `${base} Diverged (NaN or ∞): ${diverged.join(', ')}.` : base];
  const limit = stabilityLimit(r);
  if (limit !== null) {
    const lmax = Math.max(...r.startEigenvalues!);
    const over = r.trajectories.filter((t) => aboveStabilityLimit(t, limit)).map((t) => `lr ${num(t.lr)}`);
    parts.push(`At the start the largest curvature (Hessian eigenvalue) is λmax = ${num(lmax)}: plain gradient descent is stable there for η < 2/λmax = ${num(limit)}${over.length ? `; sgd at ${over.join(', ')} is above it` : ''}.`);
  }
  return parts.join(' ');
}
