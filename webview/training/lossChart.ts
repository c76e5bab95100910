/**
 * The loss curve: training loss per step, validation loss where it was measured, and up to four
 * earlier runs as faint lines (each can be hidden or removed from the legend). Linear or log y; the
 * x axis grows with the steps taken.
 */
import * as d3 from 'd3';
import { el, toolButton } from '../dom';
import { AXIS_LABEL, card, chartSvg, extentOf, lossAxis, stepTick, widthOf } from './chart';
import type { PastRun, Run } from './runs';
import { smoothLosses } from './smoothing';

export interface LossChartEvents {
  toggle(id: number): void;
  remove(id: number): void;
}

const HEIGHT = 230;
const MARGIN = { top: 10, right: 24, bottom: 22 + AXIS_LABEL };
/** Above this many validation points the dots would merge into the line. */
const MAX_DOTS = 120;

type Point = { step: number; loss: number };

/** The smoothing weights offered (0: none). */
const SMOOTHING = [0, 0.6, 0.9, 0.99];

export class LossChart {
  readonly root: HTMLElement;
  private log = false;
  private smoothing = 0;
  private readonly logToggle: HTMLInputElement;
  private readonly chart: ReturnType<typeof chartSvg>;
  private readonly empty: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly body: HTMLElement;

  constructor(private readonly events: LossChartEvents, onScale: () => void) {
    const c = card('Loss', 'loss-chart');
    this.root = c.root;
    this.body = c.body;
    const label = el('label', { class: 'tr-check' });
    this.logToggle = el('input', { type: 'checkbox', 'data-testid': 'loss-log' });
    this.logToggle.addEventListener('change', () => {
      this.log = this.logToggle.checked;
      onScale();
    });
    label.append(this.logToggle, ' log scale');
    const smooth = el('select', { class: 'tr-select tr-smooth', 'data-testid': 'loss-smoothing', 'aria-label': 'Smoothing of the training loss', title: 'Exponential moving average of the training loss (as TensorBoard smooths); the raw loss stays as a faint line' }) as HTMLSelectElement;
    for (const w of SMOOTHING) smooth.append(el('option', { value: String(w) }, w ? `smoothing ${w}` : 'no smoothing'));
    smooth.addEventListener('change', () => {
      this.smoothing = Number(smooth.value);
      onScale();
    });
    c.head.append(smooth, label);
    this.chart = chartSvg(c.body, 'Training and validation loss by step');
    this.empty = el('div', { class: 'tr-empty' }, 'Run or step the training to draw the loss.');
    this.legend = el('div', { class: 'tr-legend', 'data-testid': 'loss-legend' });
    c.body.append(this.empty, this.legend);
  }

  render(run: Run | null, past: PastRun[]): void {
    const { svg, marks, xAxis, yAxis, xLabel, yLabel } = this.chart;
    const log = this.log;
    const history = run?.history ?? [];
    const train: Point[] = history.map((h) => ({ step: h.step, loss: h.loss }));
    const val: Point[] = history.filter((h) => typeof h.valLoss === 'number').map((h) => ({ step: h.step, loss: h.valLoss! }));
    const shown = past.filter((r) => r.visible);
    const all = [train, val, ...shown.map((r) => r.points)];
    const yData = extentOf(all.flatMap((pts) => pts.map((p) => p.loss)), log);
    const xMax = Math.max(1, ...all.map((pts) => pts[pts.length - 1]?.step ?? 0));
    this.renderLegend(val.length > 0, past);
    this.empty.hidden = !!yData;
    this.legend.hidden = !yData && !past.length;
    svg.attr('hidden', yData ? null : '').attr('data-scale', log ? 'log' : 'linear');
    if (!yData) return;

    const width = widthOf(this.body);
    svg.attr('width', width).attr('height', HEIGHT).attr('viewBox', `0 0 ${width} ${HEIGHT}`)
      .attr('data-y-min', yData[0]).attr('data-y-max', yData[1]).attr('data-x-max', xMax);
    const bottom = HEIGHT - MARGIN.bottom;
    const { y, left } = lossAxis(yAxis, yLabel, yData, log, MARGIN.top, bottom);
    const x = d3.scaleLinear().domain([0, xMax]).range([left, width - MARGIN.right]);
    xAxis.attr('transform', `translate(0,${bottom})`).call(d3.axisBottom(x).ticks(Math.max(2, Math.floor((width - left) / 80))).tickSizeOuter(0).tickFormat(stepTick));
    xLabel.attr('x', (left + width - MARGIN.right) / 2).attr('y', HEIGHT - 4).text('step');

    const ok = (p: Point) => Number.isFinite(p.loss) && (!log || p.loss > 0);
    const line = d3.line<Point>().defined(ok).x((p) => x(p.step)).y((p) => y(p.loss));
    marks.selectAll<SVGPathElement, PastRun>('path.loss-compare')
      .data(shown, (r) => String(r.id))
      .join('path')
      .attr('class', (r) => `loss-compare slot-${r.slot}`)
      .attr('data-run', (r) => r.id)
      .attr('data-points', (r) => r.points.filter(ok).length)
      .attr('d', (r) => line(r.points))
      .selectAll('title').data((r) => [r]).join('title').text((r) => r.label);
    // smoothed: the moving average is the line, the raw loss a faint one under it
    const own = [
      ...(this.smoothing > 0 ? [{ key: 'raw', cls: 'loss-raw', pts: train }] : []),
      { key: 'train', cls: 'loss-train', pts: smoothLosses(train, this.smoothing) },
      { key: 'val', cls: 'loss-val', pts: val },
    ].filter((s) => s.pts.length);
    svg.attr('data-smoothing', this.smoothing);
    marks.selectAll<SVGPathElement, (typeof own)[number]>('path.loss-own')
      .data(own, (s) => s.key)
      .join('path')
      .attr('class', (s) => `loss-own ${s.cls}`)
      .attr('data-points', (s) => s.pts.filter(ok).length)
      .attr('d', (s) => line(s.pts))
      .raise();
    marks.selectAll<SVGCircleElement, Point>('circle.loss-val-dot')
      .data(val.length <= MAX_DOTS ? val.filter(ok) : [], (p) => String(p.step))
      .join('circle')
      .attr('class', 'loss-val-dot')
      .attr('r', 2.5)
      .attr('cx', (p) => x(p.step))
      .attr('cy', (p) => y(p.loss));
  }

  /** Train and validation swatches, then one entry per kept run: show/hide and remove. */
  private renderLegend(hasVal: boolean, past: PastRun[]): void {
    const items: { key: string; label: string; cls: string; run?: PastRun }[] = [
      { key: `train-${this.smoothing}`, label: this.smoothing > 0 ? `training loss (smoothed ${this.smoothing}; raw faint)` : 'training loss', cls: 'loss-train' },
      ...(hasVal ? [{ key: 'val', label: 'validation loss', cls: 'loss-val' }] : []),
      ...past.map((r) => ({ key: `run-${r.id}`, label: r.label, cls: `loss-compare slot-${r.slot}`, run: r })),
    ];
    d3.select(this.legend).selectAll<HTMLElement, (typeof items)[number]>('.lg-item')
      .data(items, (d) => d.key)
      .join((enter) => enter.append((d) => this.legendItem(d.label, d.cls, d.run)))
      .order()
      .classed('off', (d) => !!d.run && !d.run.visible)
      .each(function (d) {
        const box = this.querySelector('input');
        if (box && d.run) box.checked = d.run.visible;
      });
  }

  private legendItem(label: string, cls: string, run?: PastRun): HTMLElement {
    const item = el('span', { class: `lg-item${run ? ' lg-compare' : ''}` });
    const swatch = el('span', { class: `lg-swatch ${cls}`, 'aria-hidden': 'true' });
    if (!run) {
      item.append(swatch, el('span', {}, label));
      return item;
    }
    item.dataset.run = String(run.id);
    const toggle = el('label', { class: 'tr-check', title: `Show or hide ${label}` });
    const box = el('input', { type: 'checkbox', 'data-testid': 'compare-toggle' });
    box.checked = run.visible;
    box.addEventListener('change', () => this.events.toggle(run.id));
    toggle.append(box, swatch, el('span', {}, label));
    const remove = toolButton('close', `Remove ${label} from the chart`, 'compare-remove', () => this.events.remove(run.id));
    item.append(toggle, remove);
    return item;
  }
}
