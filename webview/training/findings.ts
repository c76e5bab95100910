/**
 * The diagnosis: what is wrong with the run (vanishing or exploding gradients, dead or saturated
 * units, a diverging loss…), at which layer and step, and what to try. A finding with a source
 * location opens the line that created its layer.
 */
import * as d3 from 'd3';
import type { Finding } from '../../extension/protocol';
import { el } from '../dom';
import { clusterText, escapeBidi } from '../format';
import { card } from './chart';

export interface FindingsEvents {
  reveal(source: NonNullable<Finding['source']>): void;
}

const ICON: Record<Finding['severity'], string> = { error: 'error', warning: 'warning', info: 'info' };

const key = (f: Finding) => `${f.code}|${f.layer ?? ''}`;

export class FindingsList {
  readonly root: HTMLElement;
  private readonly list: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly sub: HTMLElement;

  constructor(private readonly events: FindingsEvents) {
    const c = card('Diagnosis', 'diagnosis');
    this.root = c.root;
    this.sub = el('span', { class: 'tr-sub' });
    c.head.append(this.sub);
    this.list = el('ul', { class: 'tr-findings', 'aria-live': 'polite' });
    this.empty = el('div', { class: 'tr-empty' });
    c.body.append(this.list, this.empty);
  }

  /** `traced`: the findings come from the traced step, not from a run. */
  render(findings: Finding[], state: 'none' | 'traced' | 'run'): void {
    this.sub.textContent = state === 'traced' && findings.length ? 'traced step, before training' : '';
    this.empty.hidden = findings.length > 0;
    this.empty.textContent = state === 'run' ? 'No problems found so far.' : state === 'traced' ? 'No problems in the traced step. Run the training to watch for more.' : 'Run the training to diagnose it.';
    d3.select(this.list).selectAll<HTMLLIElement, Finding>('li.finding')
      .data(findings, key)
      .join((enter) => enter.append((f) => this.item(f)))
      .order()
      .each(function (f) {
        // the message and step change as training goes on; the fixes stay with the code
        this.querySelector('.finding-message')!.textContent = escapeBidi(f.message);
        this.querySelector('.finding-meta')!.textContent = meta(f);
      });
  }

  private item(f: Finding): HTMLLIElement {
    const li = el('li', { class: `finding finding-${f.severity}`, 'data-code': f.code });
    if (f.layer) li.dataset.layer = f.layer;
    const icon = el('i', { class: `codicon codicon-${ICON[f.severity] ?? 'info'}`, role: 'img', 'aria-label': f.severity });
    const text = el('div', { class: 'finding-text' });
    text.append(el('div', { class: 'finding-message' }, escapeBidi(f.message)), el('div', { class: 'finding-meta' }, meta(f)));
    if (f.fixes.length) {
      const fixes = el('ul', { class: 'finding-fixes', 'aria-label': 'What to try' });
      for (const fix of f.fixes) fixes.append(el('li', { 'data-fix': fix.id }, fix.title));
      text.append(el('div', { class: 'finding-try' }, 'Try:'), fixes);
    }
    li.append(icon, text);
    const src = f.source;
    if (src && src.line > 0) {
      li.classList.add('has-source');
      li.tabIndex = 0;
      li.setAttribute('role', 'button');
      li.title = `Go to line ${src.line}, where ${f.layer ?? 'the layer'} is created`;
      const open = () => this.events.reveal(src);
      li.addEventListener('click', open);
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
    }
    return li;
  }
}

/** `layer deep.layers.0 · step 20 · line 17`. */
function meta(f: Finding): string {
  const parts: string[] = [];
  if (f.layer) parts.push(`layer ${clusterText(f.layer)}`);
  if (f.step !== null && f.step !== undefined) parts.push(`step ${f.step}`);
  if (f.source && f.source.line > 0) parts.push(`line ${f.source.line}`);
  return parts.join(' · ');
}
