/**
 * What the three analysis cards (gradient check, loss landscape, optimizer playground) share: the
 * state they draw, how they write numbers, unique ids for clip paths, and their status line.
 */
import { button, el } from '../dom';
import { card, chartSvg } from './chart';
import { formatNumber } from '../format';

/** What the view knows about one analysis: a request under way, its last report, or why it failed. */
export interface AnalysisState<R> {
  pending: boolean;
  report: R | null;
  error: string | null;
}

/** Numbers of the analysis cards: the engine's format, a real minus sign, ∞ and NaN spelled out. */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  return formatNumber(v).replace(/^-/, '−').replace('e-', 'e−');
}

/** Counts with thousands separators (65,536). */
export const count = (n: number): string => n.toLocaleString('en-US');

/** Ids for clip paths and patterns: unique on the page (several cards, several views). */
let lastId = 0;
export function uniqueId(prefix: string): string {
  return `bl-${prefix}-${++lastId}`;
}

/** The one-line status of an analysis card (a live region: results are announced). */
export function statusLine(testId: string): HTMLElement {
  return el('div', { class: 'an-status', 'data-testid': testId, role: 'status', 'aria-live': 'polite' });
}

/** Sets the status text, marked as an error or not. */
export function setStatus(e: HTMLElement, text: string, error = false): void {
  if (e.textContent !== text) e.textContent = text;
  e.classList.toggle('error', error);
}

/**
 * The frame of a card that draws one report on request (decision boundary, trace of the parameter):
 * the heading with a step label, a Draw button, the status line and one chart; hidden until the
 * training view says the card applies.
 */
export function drawCard(o: { title: string; testId: string; icon: string; buttonTitle: string; chartLabel: string; run(): void }) {
  const c = card(o.title, o.testId);
  c.root.classList.add('an-card');
  c.root.hidden = true;
  const sub = el('span', { class: 'tr-sub' });
  c.head.append(sub);
  const runButton = button(o.icon, 'Draw', () => o.run(), `${o.testId}-run`, false);
  runButton.title = o.buttonTitle;
  const controls = el('div', { class: 'an-controls' });
  controls.append(runButton);
  const status = statusLine(`${o.testId}-status`);
  const chart = chartSvg(c.body, o.chartLabel);
  chart.svg.attr('data-testid', `${o.testId}-plot`);
  c.body.prepend(controls, status);
  return { root: c.root, body: c.body, sub, runButton, status, chart };
}
