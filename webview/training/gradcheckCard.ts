/**
 * The gradient check card: compares backprop's gradient of every parameter with centered finite
 * differences at the current training step, one row per parameter (its worst element). Clicking a
 * row selects that parameter.
 */
import * as d3 from 'd3';
import type { GradcheckParam, GradcheckReport } from '../../extension/protocol';
import { button, el, setDisabled } from '../dom';
import { shapeText, clusterText, fullName } from '../format';
import { type AnalysisState, count, num, setStatus, statusLine } from './analysisCard';
import { card } from './chart';

/** Row-major multi-index of flat index `i` in `shape`: `[3, 7]`. */
function multiIndex(i: number, shape: readonly number[]): string {
  if (shape.length === 0) return '';
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = Math.max(1, shape[d]);
    idx.unshift(i % n);
    i = Math.floor(i / n);
  }
  return `[${idx.join(', ')}]`;
}

const INTRO = 'Compares backprop’s gradient of every parameter with centered differences (f(θ+h) − f(θ−h)) / 2h at the current training step.';

interface Column {
  head: string;
  title: string;
  cell(p: GradcheckParam): string;
}

const COLUMNS: Column[] = [
  // a break opportunity after each dot, so a narrow panel wraps `model.layers.0.weight` between its parts, not inside one
  { head: 'parameter', title: 'Parameter name', cell: (p) => clusterText(p.name).replace(/\./g, '.\u200b') },
  { head: 'shape', title: 'Shape of the parameter', cell: (p) => shapeText(p.shape) },
  { head: 'checked', title: 'Elements compared: all of them, or a seeded sample of a large tensor', cell: (p) => (p.checked >= p.size ? `all ${count(p.size)}` : `${count(p.checked)} of ${count(p.size)} sampled`) },
  { head: 'rel. error', title: 'Largest relative error |analytic − numeric| / max(|analytic|, |numeric|)', cell: (p) => num(p.maxRelError) },
  { head: 'abs. error', title: 'Largest absolute error |analytic − numeric|', cell: (p) => num(p.maxAbsError) },
  { head: 'backprop', title: 'Backprop’s gradient at the worst element', cell: (p) => num(p.analytic) },
  { head: 'numeric', title: 'Centered-difference gradient at the worst element', cell: (p) => num(p.numeric) },
];

export class GradcheckCard {
  readonly root: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly run: HTMLElement;
  private readonly status: HTMLElement;
  private readonly wrap: HTMLElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly caption: HTMLElement;
  private enabled = true;
  private pending = false;
  /** What the last render drew (render is a no-op when nothing changed). */
  private last: { report: GradcheckReport | null; pending: boolean; error: string | null; enabled: boolean } | null = null;

  constructor(private readonly events: { run(): void; select(paramName: string): void }) {
    const c = card('Gradient check', 'gradcheck');
    this.root = c.root;
    this.root.classList.add('an-card');
    this.sub = el('span', { class: 'tr-sub' });
    c.head.append(this.sub);
    this.run = button('check-all', 'Check gradients', () => {
      if (this.enabled && !this.pending) this.events.run();
    }, 'gradcheck-run', false);
    this.run.title = 'Compare backprop’s gradients with finite differences at the current step';
    this.status = statusLine('gradcheck-status');
    const controls = el('div', { class: 'an-controls' });
    controls.append(this.run);
    this.wrap = el('div', { class: 'table-scroll an-table-scroll' });
    const table = el('table', { class: 'tr-table an-table', 'data-testid': 'gradcheck-table', 'aria-label': 'Gradient check per parameter' });
    const head = el('tr');
    // the verdict comes second, beside the name, so a narrow panel shows it without scrolling sideways
    COLUMNS.forEach((col, i) => {
      head.append(el('th', { title: col.title, scope: 'col' }, col.head));
      if (i === 0) head.append(el('th', { title: 'Whether every checked element is within the tolerance', scope: 'col', class: 'an-verdict-head' }, 'verdict'));
    });
    const thead = el('thead');
    thead.append(head);
    this.tbody = el('tbody');
    table.append(thead, this.tbody);
    this.wrap.append(table);
    this.wrap.hidden = true;
    this.caption = el('div', { class: 'tr-caption', 'data-testid': 'gradcheck-caption' });
    c.body.append(controls, this.status, this.wrap, this.caption);
  }

  render(s: AnalysisState<GradcheckReport>, enabled: boolean): void {
    const last = this.last;
    if (last && last.report === s.report && last.pending === s.pending && last.error === s.error && last.enabled === enabled) return;
    this.last = { report: s.report, pending: s.pending, error: s.error, enabled };
    this.enabled = enabled;
    this.pending = s.pending;
    setDisabled(this.run, !enabled || s.pending);
    this.root.toggleAttribute('aria-busy', s.pending);

    const r = s.report;
    if (s.pending) setStatus(this.status, 'Checking…');
    else if (s.error) setStatus(this.status, s.error, true);
    else if (r) setStatus(this.status, summary(r));
    else setStatus(this.status, INTRO);
    this.sub.textContent = r ? `step ${r.step}` : '';
    this.caption.textContent = r ? `h = ${num(r.h)}; an element passes when its relative error is at most ${num(r.rtol)} or its absolute error at most ${num(r.atol)}. Click a row to select the parameter.` : '';
    this.wrap.hidden = !r;
    this.wrap.classList.toggle('stale', !!r && (s.pending || !!s.error));
    this.root.dataset.passed = r ? String(r.passed) : '';
    if (!r) return;

    const select = (name: string) => this.events.select(name);
    d3.select(this.tbody).selectAll<HTMLTableRowElement, GradcheckParam>('tr')
      .data(r.params, (p) => p.name)
      .join((enter) => enter.append('tr').each(function () {
        const tr = this;
        tr.tabIndex = 0;
        const verdict = el('td', { class: 'an-verdict', 'data-col': 'verdict' });
        verdict.append(el('i', { class: 'codicon', 'aria-hidden': 'true' }), el('span', { class: 'an-verdict-word' }));
        COLUMNS.forEach((col, i) => tr.append(...(i === 0 ? [el('td', { 'data-col': col.head }), verdict] : [el('td', { 'data-col': col.head })])));
        // the row's datum changes with each report: read it when clicked
        const name = () => tr.dataset.param ?? '';
        tr.addEventListener('click', () => select(name()));
        tr.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            select(name());
          }
        });
      }))
      .order()
      .each(function (p) {
        const tr = this;
        tr.dataset.param = p.name;
        tr.classList.toggle('fail', !p.passed);
        if (p.passed) tr.removeAttribute('data-failed');
        else tr.dataset.failed = 'true';
        const at = multiIndex(p.worstIndex, p.shape);
        tr.title = `Select ${fullName(p.name)}. Worst element${at ? ` ${at}` : ''}: backprop ${num(p.analytic)}, numeric ${num(p.numeric)}`;
        COLUMNS.forEach((col) => {
          const cell = tr.querySelector<HTMLElement>(`td[data-col="${col.head}"]`)!;
          const text = col.cell(p);
          if (cell.textContent !== text) cell.textContent = text;
        });
        const verdict = tr.querySelector<HTMLElement>('td[data-col="verdict"]')!;
        verdict.querySelector('.codicon')!.className = `codicon ${p.passed ? 'codicon-pass' : 'codicon-error'}`;
        verdict.querySelector('.an-verdict-word')!.textContent = p.passed ? 'pass' : 'fail';
      });
  }
}

function summary(r: GradcheckReport): string {
  const n = r.params.length;
  let worst = 0;
  for (const p of r.params) if (!(p.maxRelError <= worst)) worst = p.maxRelError;
  const failed = r.params.filter((p) => !p.passed).length;
  const tail = `at step ${r.step} (worst relative error ${num(worst)}, on ${r.on})`;
  if (n === 0) return `No parameters to check at step ${r.step}.`;
  if (failed === 0) return `All ${count(n)} parameter${n === 1 ? '' : 's'} pass ${tail}`;
  return `${count(failed)} of ${count(n)} parameter${n === 1 ? '' : 's'} fail ${tail}`;
}
