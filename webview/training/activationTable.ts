/**
 * Activations per layer at one logged step: the activation function, the mean and spread of the
 * layer's output, the fractions of saturated (sigmoid/tanh) and dead (ReLU) units, and the
 * update/weight ratio of the step. Values past the diagnosis thresholds are marked.
 */
import * as d3 from 'd3';
import type { LayerStats } from '../../extension/protocol';
import { el } from '../dom';
import { fmt, clusterText } from '../format';
import { card } from './chart';
import { THRESHOLDS } from '../../engine/stats/diagnosis';

/** The diagnosis reports a layer from half its units dead or saturated (engine/stats/diagnosis.ts). */
const WARN_FRACTION = 0.5;

export const percent = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(v > 0 && v < 0.01 ? 1 : 0)}%`);

const COLUMNS: { head: string; title: string; cell(l: LayerStats): string; warn?(l: LayerStats): boolean }[] = [
  { head: 'layer', title: 'Module path', cell: (l) => clusterText(l.name) },
  { head: 'activation', title: 'Activation applied after the layer', cell: (l) => l.activation ?? 'none' },
  { head: 'mean', title: 'Mean of the output', cell: (l) => fmt(l.output?.mean) },
  { head: 'std', title: 'Standard deviation of the output', cell: (l) => fmt(l.output?.std) },
  { head: 'saturated', title: 'Outputs where sigmoid/tanh has under 10% of its peak slope', cell: (l) => percent(l.saturated), warn: (l) => (l.saturated ?? 0) >= WARN_FRACTION },
  { head: 'dead', title: 'ReLU units that output 0 for the whole batch', cell: (l) => percent(l.dead), warn: (l) => (l.dead ?? 0) >= WARN_FRACTION },
  {
    head: 'update/weight', title: `‖Δw‖/‖w‖: how far this step's update moved the layer's weight, relative to its size (healthy near 1e-3; marked above ${THRESHOLDS.updateRatioHigh} or below ${THRESHOLDS.updateRatioLow})`,
    cell: (l) => fmt(l.updateRatio ?? null),
    warn: (l) => typeof l.updateRatio === 'number' && (l.updateRatio > THRESHOLDS.updateRatioHigh || l.updateRatio < THRESHOLDS.updateRatioLow),
  },
];

export class ActivationTable {
  readonly root: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;
  private readonly wrap: HTMLElement;

  constructor() {
    const c = card('Activations', 'activation-table');
    this.root = c.root;
    this.sub = el('span', { class: 'tr-sub' });
    c.head.append(this.sub);
    this.wrap = el('div', { class: 'table-scroll' });
    const table = el('table', { class: 'tr-table' });
    const head = el('tr');
    for (const col of COLUMNS) head.append(el('th', { title: col.title, scope: 'col' }, col.head));
    const thead = el('thead');
    thead.append(head);
    this.body = el('tbody');
    table.append(thead, this.body);
    this.wrap.append(table);
    this.empty = el('div', { class: 'tr-empty' }, 'No layer outputs recorded: this model has no nn layers.');
    c.body.append(this.wrap, this.empty);
  }

  render(layers: LayerStats[], step: number | null): void {
    const rows = layers.filter((l) => l.output !== null).slice().sort((a, b) => a.depth - b.depth);
    this.sub.textContent = step === null ? '' : step === 0 ? 'traced step, before training' : `step ${step}`;
    this.empty.hidden = rows.length > 0;
    this.wrap.hidden = rows.length === 0;
    d3.select(this.body).selectAll<HTMLTableRowElement, LayerStats>('tr')
      .data(rows, (l) => l.name)
      .join((enter) => enter.append('tr').call((tr) => { for (const col of COLUMNS) tr.append('td').attr('data-col', col.head); }))
      .attr('data-layer', (l) => l.name)
      .selectAll<HTMLTableCellElement, unknown>('td')
      .data((l) => COLUMNS.map((col) => ({ text: col.cell(l), warn: col.warn?.(l) ?? false })))
      .text((d) => d.text)
      .classed('warn', (d) => d.warn);
  }
}
