/**
 * Histograms over steps, drawn two ways: offset (a ridgeline, one histogram per logged step stacked
 * upward with the newest in front) or overlay (all on one baseline, older ones fainter). The x
 * domain covers every histogram in the window; one step is highlighted.
 */
import * as d3 from 'd3';
import type { Histogram } from '../../extension/protocol';
import { AXIS_LABEL, chartSvg, leftAxis, placeYLabel, stepTick, tick, widthOf } from './chart';

export type HistMode = 'offset' | 'overlay';
export type HistScale = 'linear' | 'log';

export interface RidgeEntry {
  step: number;
  hist: Histogram;
}

const HEIGHT = 300;
const MARGIN = { top: 10, right: 16, bottom: 22 + AXIS_LABEL };
/** A ridge's peak is this many row spacings tall (so neighbours overlap). */
const OVERLAP = 4;

export class Ridgeline {
  private readonly chart: ReturnType<typeof chartSvg>;

  constructor(private readonly parent: HTMLElement, private readonly pick: (step: number) => void) {
    this.chart = chartSvg(parent, 'Histograms of the selected quantity over the logged steps');
  }

  render(entries: RidgeEntry[], selected: number, mode: HistMode, scale: HistScale): void {
    const { svg, marks, xAxis, yAxis, xLabel, yLabel } = this.chart;
    svg.attr('hidden', entries.length ? null : '');
    if (!entries.length) return;
    const width = widthOf(this.parent);
    const n = entries.length;
    const bottom = HEIGHT - MARGIN.bottom;
    const plot = bottom - MARGIN.top;
    const offset = mode === 'offset';
    const spacing = offset ? plot / (n - 1 + OVERLAP) : 0;
    const peak = offset ? Math.min(plot, OVERLAP * spacing) : plot;
    const baseline = (i: number) => (offset ? MARGIN.top + (OVERLAP + i) * spacing : bottom);
    const maxCount = Math.max(1, ...entries.map((e) => Math.max(...e.hist.counts)));

    // y axis: the step of each ridge (offset), or the count (overlay)
    let yAx: d3.Axis<d3.NumberValue>;
    if (offset) {
      const every = Math.max(1, Math.ceil(14 / Math.max(spacing, 1e-9)));
      const labelled = entries.map((_, i) => i).filter((i) => i === selected || ((n - 1 - i) % every === 0 && Math.abs(i - selected) >= every));
      const yi = d3.scaleLinear().domain([0, Math.max(1, n - 1)]).range([baseline(0), baseline(Math.max(1, n - 1))]);
      yAx = d3.axisLeft<d3.NumberValue>(yi).tickValues(labelled).tickFormat((i) => { const s = entries[Number(i)]?.step; return s === undefined ? '' : stepTick(s); }).tickSizeOuter(0);
    } else {
      const yc = d3.scaleLinear().domain([0, maxCount]).range([bottom, bottom - peak]).nice(4);
      yAx = d3.axisLeft<d3.NumberValue>(yc).ticks(4).tickFormat(tick).tickSizeOuter(0);
    }
    const left = leftAxis(yAxis, yAx, yLabel, offset ? 'step' : 'count');
    placeYLabel(yLabel, MARGIN.top, bottom);
    yAxis.selectAll<SVGGElement, number>('g.tick').classed('selected', (i) => offset && i === selected);

    const lo = d3.min(entries, (e) => e.hist.lo)!, hi = d3.max(entries, (e) => e.hist.hi)!;
    const x = d3.scaleLinear().domain(hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5]).range([left, width - MARGIN.right]);
    const xAx = d3.axisBottom(x).tickSizeOuter(0).ticks(Math.max(2, Math.floor((width - left) / 90)));
    if (scale === 'log') {
      // log10|x| on the axis, written as the magnitudes themselves
      const [a, b] = x.domain();
      const decades = d3.range(Math.ceil(a), Math.floor(b) + 1);
      const every = Math.max(1, Math.ceil(decades.length / Math.max(2, Math.floor((width - left) / 70))));
      if (decades.length >= 2) xAx.tickValues(decades.filter((_, i) => i % every === 0));
      xAx.tickFormat((v) => tick(10 ** Number(v)));
    } else xAx.tickFormat(tick);
    xAxis.attr('transform', `translate(0,${bottom})`).call(xAx);
    xLabel.attr('x', (left + width - MARGIN.right) / 2).attr('y', HEIGHT - 4).text(scale === 'log' ? '|value| (log scale; zeros left out)' : 'value');
    svg.attr('width', width).attr('height', HEIGHT).attr('viewBox', `0 0 ${width} ${HEIGHT}`)
      .attr('data-mode', mode).attr('data-scale', scale).attr('data-x-min', x.domain()[0]).attr('data-x-max', x.domain()[1])
      .attr('data-selected-step', entries[selected]?.step ?? '');

    const shape = (e: RidgeEntry, i: number) => {
      const h = e.hist, w = (h.hi - h.lo) / Math.max(1, h.counts.length);
      const pts: [number, number][] = [[h.lo, 0], ...h.counts.map((c, k): [number, number] => [h.lo + (k + 0.5) * w, c]), [h.hi, 0]];
      const b = baseline(i);
      return d3.area<[number, number]>().curve(d3.curveMonotoneX).x((p) => x(p[0])).y0(b).y1((p) => b - (p[1] / maxCount) * peak)(pts);
    };
    const data = entries.map((e, i) => ({ ...e, i }));
    const g = marks.selectAll<SVGGElement, (typeof data)[number]>('g.hist-step')
      .data(data, (e) => String(e.step))
      .join((enter) => {
        const s = enter.append('g').attr('class', 'hist-step');
        s.append('path').attr('class', 'hist-fill');
        s.append('path').attr('class', 'hist-ridge');
        s.append('title');
        s.on('click', (_ev, e) => this.pick(e.step));
        return s;
      })
      .order()
      .classed('selected', (e) => e.i === selected)
      .attr('data-step', (e) => e.step);
    g.select('path.hist-fill').attr('d', (e) => shape(e, e.i)).attr('hidden', offset ? null : '');
    g.select('path.hist-ridge')
      .attr('d', (e) => shape(e, e.i))
      .attr('data-step', (e) => e.step)
      .classed('selected', (e) => e.i === selected)
      // older steps fade; the highlighted one is drawn in full
      .attr('stroke-opacity', (e) => (e.i === selected ? 1 : offset ? 0.45 + 0.55 * ((e.i + 1) / n) : 0.12 + 0.5 * ((e.i + 1) / n)));
    g.select('title').text((e) => `step ${e.step} (click to select)`);
    // overlay: the highlighted step on top; offset: newest in front, as stacked
    if (!offset) g.filter((e) => e.i === selected).raise();
  }
}
