/**
 * The Hessian card, for models of a few parameter values: the matrix of second derivatives
 * ∂²L/∂θᵢ∂θⱼ at the current parameters (central differences of backprop's gradient), its
 * eigenvalues and what they make of the point (minimum, maximum, saddle, not critical). Cells are
 * tinted as the inspector's heatmaps are: blue positive, red negative, stronger for larger |H|.
 */
import type { HessianReport } from '../../extension/protocol';
import { button, el, setDisabled } from '../dom';
import { fullName } from '../format';
import { type AnalysisState, num, setStatus, statusLine } from './analysisCard';
import { card } from './chart';

/** Up to this many parameter values the cells show their numbers; above it, a tinted grid with tooltips. */
const NUMBERS_UP_TO = 12;

const INTRO = 'Computes the Hessian of the loss (every second derivative ∂²L/∂θᵢ∂θⱼ) at the current parameters, and its eigenvalues: the curvature along each principal direction.';

const KIND_TEXT: Record<HessianReport['kind'], string> = {
  minimum: 'a minimum: the gradient is zero and every eigenvalue is positive',
  maximum: 'a maximum: the gradient is zero and every eigenvalue is negative',
  saddle: 'a saddle point: the gradient is zero and the eigenvalues have both signs',
  flat: 'flat in some direction: the gradient is zero and an eigenvalue is zero',
  'not critical': 'not a critical point: the gradient is not zero here',
  diverged: 'not finite: the loss is NaN or infinite here',
};

/** The card's summary line. */
export function hessianSummary(r: HessianReport): string {
  const ev = r.eigenvalues;
  const lo = ev[0], hi = ev[ev.length - 1];
  const cond = ev.length > 1 && lo > 0 && hi > 0 ? `; condition number λmax/λmin = ${num(hi / lo)}` : '';
  const range = ev.length === 1 ? `eigenvalue ${num(lo)}` : `eigenvalues from ${num(lo)} to ${num(hi)}`;
  return `At step ${r.step} (${r.names.length} parameter value${r.names.length === 1 ? '' : 's'}, on ${r.on}): ${range}${cond}; |∇L| = ${num(Math.hypot(...r.gradient))}. The point is ${KIND_TEXT[r.kind]}.`;
}

export class HessianCard {
  readonly root: HTMLElement;
  private readonly sub: HTMLElement;
  private readonly runButton: HTMLElement;
  private readonly status: HTMLElement;
  private readonly wrap: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly eigen: HTMLElement;
  private readonly caption: HTMLElement;
  private last: { report: HessianReport | null; pending: boolean; error: string | null; enabled: boolean } | null = null;

  constructor(events: { run(): void }) {
    const c = card('Hessian', 'hessian');
    this.root = c.root;
    this.root.classList.add('an-card');
    this.root.hidden = true;
    this.sub = el('span', { class: 'tr-sub' });
    c.head.append(this.sub);
    this.runButton = button('symbol-numeric', 'Compute', () => events.run(), 'hessian-run', false);
    this.runButton.title = 'Compute the Hessian and its eigenvalues at the current parameters';
    const controls = el('div', { class: 'an-controls' });
    controls.append(this.runButton);
    this.status = statusLine('hessian-status');
    this.wrap = el('div', { class: 'table-scroll an-table-scroll' });
    this.table = el('table', { class: 'tr-table an-table hs-matrix', 'data-testid': 'hessian-matrix', 'aria-label': 'Hessian matrix' });
    this.wrap.append(this.table);
    this.eigen = el('div', { class: 'hs-eigen', 'data-testid': 'hessian-eigenvalues' });
    this.caption = el('div', { class: 'tr-caption', 'data-testid': 'hessian-caption' });
    c.body.append(controls, this.status, this.wrap, this.eigen, this.caption);
    this.wrap.hidden = true;
  }

  /** `applies`: the model is small enough for a Hessian (analysesFor); `enabled`: the tools can run now. */
  render(s: AnalysisState<HessianReport>, applies: boolean, enabled: boolean): void {
    this.root.hidden = !applies;
    if (!applies) return;
    const r = s.report;
    const last = this.last;
    if (last && last.report === r && last.pending === s.pending && last.error === s.error && last.enabled === enabled) return;
    this.last = { report: r, pending: s.pending, error: s.error, enabled };
    setDisabled(this.runButton, !enabled || s.pending);
    this.root.toggleAttribute('aria-busy', s.pending);
    if (s.pending) setStatus(this.status, 'Computing…');
    else if (s.error) setStatus(this.status, s.error, true);
    else if (r) setStatus(this.status, hessianSummary(r));
    else setStatus(this.status, INTRO);
    this.sub.textContent = r ? `step ${r.step}` : '';
    this.root.dataset.kind = r?.kind ?? '';
    this.wrap.hidden = !r;
    this.eigen.hidden = !r;
    this.wrap.classList.toggle('stale', !!r && (s.pending || !!s.error));
    this.caption.textContent = r
      ? `H[i][j] = ∂²L/∂θᵢ∂θⱼ by central differences of backprop’s gradient (h = ${num(r.h)}), symmetrized. Blue cells are positive, red negative; the stronger the tint, the larger |H|.`
      : '';
    if (r) this.draw(r);
  }

  private draw(r: HessianReport): void {
    const n = r.names.length;
    const numbers = n <= NUMBERS_UP_TO;
    this.table.classList.toggle('hs-compact', !numbers);
    let max = 0;
    for (const row of r.hessian) for (const v of row) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
    const head = el('tr');
    head.append(el('th', { scope: 'col' }));
    for (const name of r.names) head.append(el('th', { scope: 'col', title: fullName(name) }, numbers ? fullName(name) : ''));
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    r.hessian.forEach((row, i) => {
      const tr = el('tr');
      tr.append(el('th', { scope: 'row', title: fullName(r.names[i]) }, fullName(r.names[i])));
      row.forEach((v, j) => {
        const td = el('td', { class: Number.isFinite(v) ? (v > 0 ? 'pos' : v < 0 ? 'neg' : '') : 'nonfinite' }, numbers ? num(v) : '');
        td.title = `∂²L/∂${fullName(r.names[i])}∂${fullName(r.names[j])} = ${num(v)}`;
        // the tint's strength: |H| against the largest |H| of the matrix
        if (Number.isFinite(v) && max > 0 && v !== 0) td.style.setProperty('--hs-tint', `${Math.round(8 + 52 * (Math.abs(v) / max))}%`);
        tr.append(td);
      });
      tbody.append(tr);
    });
    this.table.replaceChildren(thead, tbody);
    this.eigen.textContent = `eigenvalues (ascending): ${r.eigenvalues.map(num).join(', ')}`;
  }
}
