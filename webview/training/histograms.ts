/**
 * The histogram card: pick a layer and a quantity (weights, their gradients, the activations), the
 * mode (offset ridgeline or overlay) and the scale (values or log magnitudes), and a step with the
 * slider. Shows 30 of the logged steps: the first, the newest and evenly spaced ones between, so the
 * initialization stays in view after training; the slider follows the newest until moved.
 */
import * as d3 from 'd3';
import type { LayerHistory, LayerStats, TensorStats } from '../../extension/protocol';
import { el } from '../dom';
import { fmt, clusterText, fullName } from '../format';
import { card } from './chart';
import { Ridgeline, type HistMode, type HistScale, type RidgeEntry } from './ridgeline';
import { evenlySpaced } from '../../engine/stats/reservoir';

export type Quantity = 'weights' | 'gradients' | 'activations';

/** Logged steps shown at once (more would not be readable as separate ridges). */
export const WINDOW = 30;

const QUANTITY: Record<Quantity, { label: string; of(l: LayerStats): TensorStats | null }> = {
  weights: { label: 'weights W', of: (l) => l.weight },
  gradients: { label: 'gradients ∂L/∂W', of: (l) => l.weightGrad },
  activations: { label: 'activations (output)', of: (l) => l.output },
};

function select<T extends string>(testId: string, label: string, options: [T, string][], onChange: (v: T) => void): HTMLSelectElement {
  const s = el('select', { class: 'tr-select', 'data-testid': testId, 'aria-label': label, title: label });
  for (const [value, text] of options) s.append(el('option', { value }, text));
  s.addEventListener('change', () => onChange(s.value as T));
  return s;
}

export class Histograms {
  readonly root: HTMLElement;
  private layer: string | null = null;
  private quantity: Quantity = 'weights';
  private mode: HistMode = 'offset';
  private scale: HistScale = 'linear';
  /** The highlighted step; null = follow the newest. */
  private step: number | null = null;
  private entries: RidgeEntry[] = [];
  private stats = new Map<number, TensorStats>();
  private readonly layerSelect: HTMLSelectElement;
  private readonly slider: HTMLInputElement;
  private readonly stepLabel: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly ridges: Ridgeline;

  constructor(private readonly changed: () => void) {
    const c = card('Histograms over steps', 'histograms', true);
    this.root = c.root;
    const then = <T>(apply: (v: T) => void) => (v: T) => {
      apply(v);
      this.changed();
    };
    this.layerSelect = select<string>('hist-layer', 'Layer', [], then((v) => { this.layer = v; }));
    const controls = el('div', { class: 'tr-hist-controls' });
    controls.append(
      this.layerSelect,
      select<Quantity>('hist-quantity', 'Quantity', Object.entries(QUANTITY).map(([k, q]) => [k as Quantity, q.label]), then((v) => { this.quantity = v; })),
      select<HistMode>('hist-mode', 'Mode', [['offset', 'offset (ridgeline)'], ['overlay', 'overlay']], then((v) => { this.mode = v; })),
      select<HistScale>('hist-scale', 'Scale', [['linear', 'linear values'], ['log', 'log |value|']], then((v) => { this.scale = v; })),
    );
    c.head.append(controls);
    this.ridges = new Ridgeline(c.body, (step) => this.pick(step));
    const row = el('div', { class: 'tr-slider-row' });
    this.slider = el('input', { type: 'range', min: '0', max: '0', step: '1', 'data-testid': 'hist-step', 'aria-label': 'Highlighted step' });
    this.slider.addEventListener('input', () => {
      const i = Number(this.slider.value);
      this.step = i >= this.entries.length - 1 ? null : this.entries[i]?.step ?? null;
      this.changed();
    });
    this.stepLabel = el('span', { class: 'tr-step-label', 'data-testid': 'hist-step-label' });
    row.append(el('span', { class: 'tr-sub' }, 'step'), this.slider, this.stepLabel);
    this.caption = el('div', { class: 'tr-caption mono', 'data-testid': 'hist-caption' });
    this.empty = el('div', { class: 'tr-empty' });
    c.body.append(row, this.caption, this.empty);
  }

  private pick(step: number): void {
    this.step = step === this.entries[this.entries.length - 1]?.step ? null : step;
    this.changed();
  }

  /** `history`: logged steps, oldest first (WINDOW of them are drawn, evenly spaced, both ends included). */
  render(history: LayerHistory[]): void {
    const latest = history[history.length - 1]?.layers ?? [];
    const names = latest.slice().sort((a, b) => a.depth - b.depth).map((l) => l.name);
    if (this.layer === null || !names.includes(this.layer)) this.layer = names[0] ?? null;
    d3.select(this.layerSelect).selectAll<HTMLOptionElement, string>('option')
      .data(names, (n) => n)
      .join('option')
      .attr('value', (n) => n)
      .text((n) => clusterText(n));
    if (this.layer !== null) this.layerSelect.value = this.layer;

    const of = QUANTITY[this.quantity].of;
    this.entries = [];
    this.stats.clear();
    const drawable: { step: number; hist: RidgeEntry['hist']; stats: TensorStats }[] = [];
    for (const h of history) {
      const s = of(h.layers.find((l) => l.name === this.layer) ?? ({} as LayerStats)) ?? null;
      const hist = s ? (this.scale === 'log' ? s.logHistogram : s.histogram) : null;
      if (!s || !hist || !hist.counts.some((c) => c > 0)) continue;
      drawable.push({ step: h.step, hist, stats: s });
    }
    for (const d of evenlySpaced(drawable, WINDOW)) {
      this.entries.push({ step: d.step, hist: d.hist });
      this.stats.set(d.step, d.stats);
    }
    const n = this.entries.length;
    let selected = n - 1;
    if (this.step !== null) {
      const i = this.entries.findIndex((e) => e.step >= this.step!);
      selected = i < 0 ? n - 1 : i;
    }
    this.slider.max = String(Math.max(0, n - 1));
    this.slider.value = String(Math.max(0, selected));
    this.slider.disabled = n < 2;
    const entry = this.entries[selected];
    this.stepLabel.textContent = entry ? (entry.step === 0 ? '0 (traced)' : String(entry.step)) : '—';
    this.caption.textContent = entry ? this.describe(entry.step) : '';
    this.empty.hidden = n > 0;
    this.empty.textContent = !names.length ? 'No layers to show.' : `No ${QUANTITY[this.quantity].label} recorded for ${fullName(this.layer ?? '')}${this.scale === 'log' ? ' (all zero?)' : ''}.`;
    this.ridges.render(this.entries, selected, this.mode, this.scale);
  }

  /** The highlighted step's summary: `step 40 · 32 values · mean 0.01 · std 0.2 · …`. */
  private describe(step: number): string {
    const s = this.stats.get(step);
    if (!s) return '';
    const parts = [`step ${step}`, `${s.count} values`, `mean ${fmt(s.mean)}`, `std ${fmt(s.std)}`, `min ${fmt(s.min)}`, `max ${fmt(s.max)}`];
    if (s.zeros) parts.push(`zeros ${(s.zeros * 100).toFixed(1)}%`);
    if (s.nan || s.inf) parts.push(`NaN ${s.nan} / Inf ${s.inf}`);
    return parts.join(' · ');
  }
}
