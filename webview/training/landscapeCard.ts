/**
 * The loss landscape card: the loss along random filter-normalized directions around the current
 * parameters θ, as a 1-D slice L(θ + α·d₁) and a 2-D slice L(θ + α·d₁ + β·d₂) (a heatmap of the
 * loss, log-coloured, with contour lines). Non-finite losses are left out of the line and drawn as
 * hatched cells.
 */
import * as d3 from 'd3';
import type { LandscapeReport } from '../../extension/protocol';
import { button, el, setDisabled } from '../dom';
import { DEFAULT_LANDSCAPE } from '../../engine/check/analysis';
import { AnalysisState, count, num, setStatus, statusLine, uniqueId } from './analysisCard';
import { AXIS_LABEL, LOG_RATIO, MARGIN, chartSvg, card, extentOf, leftAxis, logTicks, lossAxis, padDomain, placeYLabel, tick, widthOf } from './chart';

const LINE_HEIGHT = 200;
/** Room above the heatmap for the legend's title. */
const TOP_2D = 18;
/** Largest side of the square heatmap (px), and the smallest. */
const MAX_SIDE = 340;
const MIN_SIDE = 120;
const LEGEND_BAR = 10;
const LEGEND_STEPS = 48;

const INTRO = 'Draws the loss along random filter-normalized directions d₁, d₂ around the current parameters θ: L(θ + α·d₁ + β·d₂).';

type Label = d3.Selection<SVGTextElement, unknown, null, undefined>;

interface Cell { i: number; j: number; v: number }

/** Cell edges around centres `c` (ascending): midpoints, and the first and last centre at the ends. */
function edges(c: readonly number[]): number[] {
  const e = [c[0]];
  for (let k = 1; k < c.length; k++) e.push((c[k - 1] + c[k]) / 2);
  e.push(c[c.length - 1]);
  return e;
}

/** Grid index space of d3.contours (value k at k + 0.5) → data coordinates along `c`. */
function indexScale(c: readonly number[]): (u: number) => number {
  if (c.length < 2) return () => c[0] ?? 0;
  return d3.scaleLinear().domain(c.map((_, k) => k + 0.5)).range(c as number[]);
}

export class LandscapeCard {
  readonly root: HTMLElement;
  private readonly body: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly runButton: HTMLElement;
  private readonly twoD: HTMLInputElement;
  private readonly range: HTMLInputElement;
  private readonly seed: HTMLInputElement;
  private readonly status: HTMLElement;
  private readonly invalid: HTMLElement;
  private readonly c1: ReturnType<typeof chartSvg>;
  private readonly c2: ReturnType<typeof chartSvg>;
  private readonly heat: d3.Selection<SVGGElement, unknown, null, undefined>;
  private readonly contours: d3.Selection<SVGGElement, unknown, null, undefined>;
  private readonly center2d: d3.Selection<SVGCircleElement, unknown, null, undefined>;
  private readonly legend: d3.Selection<SVGGElement, unknown, null, undefined>;
  private readonly legendAxis: d3.Selection<SVGGElement, unknown, null, undefined>;
  private readonly legendTitle: Label;
  private readonly clipRect: d3.Selection<SVGRectElement, unknown, null, undefined>;
  private readonly hatch: string;
  private enabled = true;
  private pending = false;
  private last: { report: LandscapeReport | null; pending: boolean; error: string | null; enabled: boolean; width: number } | null = null;

  constructor(private readonly events: { run(opts: { twoD: boolean; range: number; seed: number }): void }) {
    const c = card('Loss landscape', 'landscape');
    this.root = c.root;
    this.root.classList.add('an-card');
    this.body = c.body;
    this.sub = el('span', { class: 'tr-sub' });
    c.head.append(this.sub);

    this.runButton = button('graph-line', 'Compute', () => this.send(), 'landscape-run', false);
    this.runButton.title = 'Compute the loss around the current parameters';
    const twoLabel = el('label', { class: 'tr-check', title: 'Also compute the 2-D slice (a grid of losses: slower)' });
    this.twoD = el('input', { type: 'checkbox', 'data-testid': 'landscape-2d-toggle' });
    this.twoD.checked = DEFAULT_LANDSCAPE.twoD;
    twoLabel.append(this.twoD, el('span', {}, '2-D'));
    const validate = () => this.updateButton();
    const field = (label: string, title: string, input: HTMLInputElement) => {
      const wrap = el('label', { class: 'tr-field', title });
      input.addEventListener('input', validate);
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') this.send();
      });
      wrap.append(el('span', { class: 'tr-field-label' }, label), input);
      return wrap;
    };
    this.range = el('input', { type: 'number', class: 'tr-input an-input-short', 'data-testid': 'landscape-range', 'aria-label': 'Range of α and β', min: '0.01', max: '100', step: 'any', value: String(DEFAULT_LANDSCAPE.range) });
    this.seed = el('input', { type: 'number', class: 'tr-input an-input-short', 'data-testid': 'landscape-seed', 'aria-label': 'Seed of the random directions', min: '0', step: '1', value: String(DEFAULT_LANDSCAPE.seed) });
    const controls = el('div', { class: 'an-controls' });
    controls.append(
      this.runButton,
      twoLabel,
      field('range ±', 'α and β go from −range to +range (in units of the filter-normalized directions)', this.range),
      field('seed', 'Seed of the random directions d₁, d₂', this.seed),
    );
    this.invalid = el('div', { class: 'an-invalid', role: 'alert' });
    this.status = statusLine('landscape-status');

    this.c1 = chartSvg(c.body, 'Loss along direction d₁ against the offset α');
    this.c1.svg.attr('data-testid', 'landscape-1d');
    this.c1.marks.append('line').attr('class', 'landscape-zero');
    this.c1.marks.append('path').attr('class', 'landscape-line');
    this.c1.marks.append('circle').attr('class', 'landscape-center').attr('r', 4).append('title');

    this.c2 = chartSvg(c.body, 'Heatmap of the loss over the offsets α along d₁ and β along d₂, with contour lines');
    this.c2.svg.attr('data-testid', 'landscape-2d');
    const defs = this.c2.svg.insert('defs', ':first-child');
    const clip = uniqueId('landscape-clip');
    this.clipRect = defs.append('clipPath').attr('id', clip).append('rect');
    this.hatch = uniqueId('landscape-hatch');
    const pattern = defs.append('pattern').attr('id', this.hatch).attr('patternUnits', 'userSpaceOnUse')
      .attr('width', 6).attr('height', 6).attr('patternTransform', 'rotate(45)');
    pattern.append('rect').attr('class', 'landscape-hatch-bg').attr('width', 6).attr('height', 6);
    pattern.append('line').attr('class', 'landscape-hatch-line').attr('x1', 0).attr('y1', 0).attr('x2', 0).attr('y2', 6);
    this.heat = this.c2.marks.append('g').attr('class', 'landscape-heat').attr('clip-path', `url(#${clip})`);
    this.contours = this.c2.marks.append('g').attr('class', 'landscape-contours').attr('clip-path', `url(#${clip})`);
    this.center2d = this.c2.marks.append('circle').attr('class', 'landscape-center').attr('r', 4);
    this.center2d.append('title');
    this.legend = this.c2.svg.append('g').attr('class', 'landscape-legend').attr('aria-hidden', 'true');
    this.legend.append('g').attr('class', 'landscape-legend-bar');
    this.legendAxis = this.legend.append('g').attr('class', 'axis landscape-legend-axis');
    this.legendTitle = this.legend.append('text').attr('class', 'axis-label').attr('text-anchor', 'start');

    c.body.prepend(controls, this.invalid, this.status);
    this.c1.svg.attr('hidden', '');
    this.c2.svg.attr('hidden', '');
    this.updateButton();
  }

  /** The inputs' values, or why one is not valid. */
  private options(): { twoD: boolean; range: number; seed: number } | string {
    const range = Number(this.range.value.trim() || NaN);
    const seed = Number(this.seed.value.trim() || NaN);
    const badRange = !(range >= 0.01 && range <= 100);
    const badSeed = !(Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 31);
    for (const [input, bad] of [[this.range, badRange], [this.seed, badSeed]] as const) {
      input.classList.toggle('invalid', bad);
      input.setAttribute('aria-invalid', String(bad));
    }
    if (badRange) return 'The range must be a number from 0.01 to 100.';
    if (badSeed) return 'The seed must be a whole number from 0 to 2,147,483,648.';
    return { twoD: this.twoD.checked, range, seed };
  }

  private updateButton(): void {
    const o = this.options();
    const text = typeof o === 'string' ? o : '';
    if (this.invalid.textContent !== text) this.invalid.textContent = text;
    this.invalid.hidden = !text;
    setDisabled(this.runButton, !this.enabled || this.pending || typeof o === 'string');
  }

  private send(): void {
    const o = this.options();
    if (!this.enabled || this.pending || typeof o === 'string') return;
    this.events.run(o);
  }

  render(s: AnalysisState<LandscapeReport>, enabled: boolean): void {
    const r = s.report;
    const width = r ? widthOf(this.body) : 0;
    const last = this.last;
    if (last && last.report === r && last.pending === s.pending && last.error === s.error && last.enabled === enabled && last.width === width) return;
    this.last = { report: r, pending: s.pending, error: s.error, enabled, width };
    this.enabled = enabled;
    this.pending = s.pending;
    this.updateButton();
    this.root.toggleAttribute('aria-busy', s.pending);
    this.sub.textContent = r ? `step ${r.step}` : '';

    if (!r) {
      this.c1.svg.attr('hidden', '');
      this.c2.svg.attr('hidden', '');
    }
    let bad1 = 0, bad2 = 0, total2 = 0;
    if (r) {
      bad1 = this.draw1d(r, width);
      [bad2, total2] = r.losses2d && r.betas ? this.draw2d(r, width) : [0, 0];
      if (!(r.losses2d && r.betas)) this.c2.svg.attr('hidden', '');
      this.c1.svg.classed('stale', s.pending || !!s.error);
      this.c2.svg.classed('stale', s.pending || !!s.error);
    }
    if (s.pending) setStatus(this.status, 'Computing…');
    else if (s.error) setStatus(this.status, s.error, true);
    else if (r) setStatus(this.status, summary(r, bad1, bad2, total2));
    else setStatus(this.status, INTRO);
  }

  /** The 1-D slice; returns how many of its losses are not finite. */
  private draw1d(r: LandscapeReport, width: number): number {
    const { svg, marks, xAxis, yAxis, xLabel, yLabel } = this.c1;
    const n = Math.min(r.alphas.length, r.losses1d.length);
    const pts = Array.from({ length: n }, (_, i) => ({ a: r.alphas[i], l: r.losses1d[i] }));
    const bad = pts.filter((p) => !Number.isFinite(p.l)).length;
    const finite = extentOf(pts.map((p) => p.l).concat(r.center), false);
    const positive = extentOf(pts.map((p) => p.l).concat(r.center), true);
    const log = !!finite && !!positive && finite[0] > 0 && positive[1] / positive[0] >= LOG_RATIO;
    const xData = extentOf(pts.map((p) => p.a), false);
    svg.attr('hidden', finite && xData ? null : '').attr('data-scale', log ? 'log' : 'linear').attr('data-nonfinite', bad);
    if (!finite || !xData) return bad;

    const bottom = LINE_HEIGHT - MARGIN.bottom;
    const { y, left } = lossAxis(yAxis, yLabel, log ? positive! : finite, log, MARGIN.top, bottom);
    const x = d3.scaleLinear().domain(padDomain(xData, false)).range([left, width - MARGIN.right]);
    xAxis.attr('transform', `translate(0,${bottom})`)
      .call(d3.axisBottom(x).ticks(Math.max(2, Math.floor((width - left) / 70))).tickSizeOuter(0).tickFormat(tick));
    xLabel.attr('x', (left + width - MARGIN.right) / 2).attr('y', LINE_HEIGHT - 4).text('α (offset along d₁)');
    svg.attr('width', width).attr('height', LINE_HEIGHT).attr('viewBox', `0 0 ${width} ${LINE_HEIGHT}`);

    const ok = (p: { l: number }) => Number.isFinite(p.l) && (!log || p.l > 0);
    const line = d3.line<{ a: number; l: number }>().defined(ok).x((p) => x(p.a)).y((p) => y(p.l));
    marks.select('path.landscape-line').attr('d', line(pts)).attr('data-points', pts.filter(ok).length);
    const zeroIn = x.domain()[0] <= 0 && x.domain()[1] >= 0;
    marks.select('line.landscape-zero').attr('hidden', zeroIn ? null : '')
      .attr('x1', x(0)).attr('x2', x(0)).attr('y1', MARGIN.top).attr('y2', bottom);
    const showCenter = ok({ l: r.center }) && zeroIn;
    const dot = marks.select<SVGCircleElement>('circle.landscape-center').attr('hidden', showCenter ? null : '')
      .attr('cx', x(0)).attr('cy', showCenter ? y(r.center) : 0).attr('data-loss', r.center);
    dot.select('title').text(`L(θ) = ${num(r.center)} at step ${r.step}`);
    return bad;
  }

  /** The 2-D slice; returns [non-finite cells, cells]. */
  private draw2d(r: LandscapeReport, width: number): [number, number] {
    const { svg, xAxis, yAxis, xLabel, yLabel } = this.c2;
    // the 2-D grid is square: the same offsets along d₁ and d₂
    const alphas = r.betas!, betas = r.betas!, rows = r.losses2d!;
    const n = alphas.length, m = betas.length;
    const cells: Cell[] = [];
    for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) cells.push({ i, j, v: rows[j]?.[i] ?? NaN });
    const bad = cells.filter((c) => !Number.isFinite(c.v)).length;
    const finite = extentOf(cells.map((c) => c.v), false);
    svg.attr('data-nonfinite', bad).attr('data-cells', cells.length);
    if (!finite || n < 1 || m < 1) {
      svg.attr('hidden', '');
      return [bad, cells.length];
    }
    svg.attr('hidden', null);
    // colour by log10(loss) where every finite loss is positive (a linear colour would show only the walls)
    const log = finite[0] > 0;
    svg.attr('data-scale', log ? 'log' : 'linear')
      .attr('aria-label', `Heatmap of the loss${log ? ' (log colour scale)' : ''} over the offsets α along d₁ and β along d₂, with contour lines; θ at the centre`);
    const cv = (v: number) => (log ? Math.log10(v) : v);
    const [lo, hi] = padDomain([cv(finite[0]), cv(finite[1])], false);
    const colour = d3.scaleSequential(d3.interpolateViridis).domain([lo, hi]);

    // the legend's labels decide the right margin: draw them first
    const legendScale = log
      ? d3.scaleLog().domain([10 ** lo, 10 ** hi])
      : d3.scaleLinear().domain([lo, hi]);
    const legendAx = d3.axisRight<d3.NumberValue>(legendScale).tickSizeOuter(0).tickSize(4).tickFormat(tick);
    if (log) legendAx.tickValues(logTicks(legendScale as d3.ScaleLogarithmic<number, number>, 4));
    else legendAx.ticks(4);
    legendScale.range([MAX_SIDE, 0]);
    this.legendAxis.attr('transform', `translate(${LEGEND_BAR},0)`).call(legendAx);
    let widest = 0;
    this.legendAxis.selectAll<SVGTextElement, unknown>('text').each(function () { widest = Math.max(widest, this.getBBox().width); });
    this.legendTitle.text('loss');
    const titleWidth = this.legendTitle.node()!.getBBox().width;
    const legendWidth = Math.max(LEGEND_BAR + 4 + Math.ceil(widest) + 4, Math.ceil(titleWidth) + 2);

    const yData = padDomain(d3.extent(betas) as [number, number], false);
    const xData = padDomain(d3.extent(alphas) as [number, number], false);
    const y = d3.scaleLinear().domain(yData);
    const yAx = d3.axisLeft<d3.NumberValue>(y).tickSizeOuter(0).tickFormat(tick).ticks(5);
    const left = leftAxis(yAxis, yAx, yLabel, 'β (along d₂)');
    const avail = width - left - 14 - legendWidth - 4;
    const side = Math.max(MIN_SIDE, Math.min(MAX_SIDE, Math.floor(avail)));
    const top = TOP_2D, bottom = top + side;
    y.range([bottom, top]);
    yAxis.call(yAx.ticks(Math.max(2, Math.floor(side / 50))));
    placeYLabel(yLabel, top, bottom);
    const x = d3.scaleLinear().domain(xData).range([left, left + side]);
    xAxis.attr('transform', `translate(0,${bottom})`)
      .call(d3.axisBottom(x).ticks(Math.max(2, Math.floor(side / 60))).tickSizeOuter(0).tickFormat(tick));
    const height = bottom + 22 + AXIS_LABEL;
    xLabel.attr('x', left + side / 2).attr('y', height - 4).text('α (along d₁)');
    const lx = left + side + 14;
    const total = Math.max(width, lx + legendWidth);
    svg.attr('width', total).attr('height', height).attr('viewBox', `0 0 ${total} ${height}`);
    this.clipRect.attr('x', left).attr('y', top).attr('width', side).attr('height', side);

    // cells: edges at the midpoints between samples, rounded to whole pixels (no seams)
    const xe = edges(alphas).map((a) => Math.round(x(a)));
    const ye = edges(betas).map((b) => Math.round(y(b)));
    const hatch = `url(#${this.hatch})`;
    this.heat.selectAll<SVGRectElement, Cell>('rect')
      .data(cells)
      .join('rect')
      .attr('class', (c) => (Number.isFinite(c.v) ? 'landscape-cell' : 'landscape-cell nonfinite'))
      .attr('x', (c) => Math.min(xe[c.i], xe[c.i + 1]))
      .attr('width', (c) => Math.abs(xe[c.i + 1] - xe[c.i]))
      .attr('y', (c) => Math.min(ye[c.j], ye[c.j + 1]))
      .attr('height', (c) => Math.abs(ye[c.j + 1] - ye[c.j]))
      .attr('fill', (c) => (Number.isFinite(c.v) ? colour(cv(c.v)) : hatch));

    // contours of the same values; non-finite cells count as the highest loss (they are blow-ups)
    const lineValues = cells.map((c) => (Number.isFinite(c.v) ? cv(c.v) : c.v < 0 ? lo : hi));
    const thresholds = n >= 2 && m >= 2 ? d3.ticks(lo, hi, 8).filter((t) => t > lo && t < hi) : [];
    const ia = indexScale(alphas), ib = indexScale(betas);
    const project = d3.geoTransform({
      point(u: number, v: number) {
        this.stream.point(x(ia(u)), y(ib(v)));
      },
    });
    const path = d3.geoPath(project);
    const contours = thresholds.length ? d3.contours().size([n, m]).thresholds(thresholds)(lineValues) : [];
    // each level twice: a halo in the background colour under a line in the foreground colour,
    // so that one of the two stands out on every colour of the heatmap
    const levels = this.contours.selectAll<SVGGElement, d3.ContourMultiPolygon>('g.landscape-level')
      .data(contours)
      .join((enter) => {
        const g = enter.append('g').attr('class', 'landscape-level');
        g.append('path').attr('class', 'landscape-contour-halo');
        g.append('path').attr('class', 'landscape-contour');
        return g;
      });
    const d = (c: d3.ContourMultiPolygon) => path(c);
    levels.select('path.landscape-contour-halo').attr('d', d);
    levels.select('path.landscape-contour').attr('d', d).attr('data-value', (c) => (log ? 10 ** c.value : c.value));

    const zeroIn = xData[0] <= 0 && xData[1] >= 0 && yData[0] <= 0 && yData[1] >= 0;
    this.center2d.attr('hidden', zeroIn ? null : '').attr('cx', x(0)).attr('cy', y(0)).attr('data-loss', r.center);
    this.center2d.select('title').text(`θ at step ${r.step}: L(θ) = ${num(r.center)}`);

    // legend: a vertical colour bar with the loss at its ticks
    legendScale.range([bottom, top]);
    this.legend.attr('transform', `translate(${lx},0)`);
    const steps = d3.range(LEGEND_STEPS);
    const bandH = side / LEGEND_STEPS;
    this.legend.select('g.landscape-legend-bar').selectAll<SVGRectElement, number>('rect')
      .data(steps)
      .join('rect')
      .attr('x', 0).attr('width', LEGEND_BAR)
      .attr('y', (k) => bottom - (k + 1) * bandH)
      .attr('height', bandH + 0.5)
      .attr('fill', (k) => colour(lo + ((k + 0.5) / LEGEND_STEPS) * (hi - lo)));
    this.legendAxis.call(legendAx);
    this.legendTitle.attr('x', 0).attr('y', top - 6);
    return [bad, cells.length];
  }
}

function summary(r: LandscapeReport, bad1: number, bad2: number, total2: number): string {
  const two = !!(r.losses2d && r.betas);
  const what = two
    ? 'L(θ + α·d₁ + β·d₂) along random filter-normalized directions d₁, d₂'
    : 'L(θ + α·d₁) along a random filter-normalized direction d₁';
  const parts = [`${what} around the parameters at step ${r.step} (${count(r.parameters)} element${r.parameters === 1 ? '' : 's'}, seed ${r.seed}), on ${r.on}; L(θ) = ${num(r.center)}.`];
  const n1 = Math.min(r.alphas.length, r.losses1d.length);
  if (bad1) parts.push(`${count(bad1)} of ${count(n1)} points of the line are not finite (NaN or ∞) and left out.`);
  if (bad2) parts.push(`${count(bad2)} of ${count(total2)} grid cells are not finite (NaN or ∞), drawn hatched.`);
  return parts.join(' ');
}
