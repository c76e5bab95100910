/**
 * `backprop-lens train FILE` without --json: the run as text. The loss table at logged steps (the
 * steps that have a validation loss, accuracy and layer summaries), the final parameters (every
 * value for a small model, a summary per tensor otherwise), the layers at the last logged step and
 * the diagnosis, or a line saying it found nothing.
 */
import { formatNumber, shapeText } from '../../engine/format';
import type { LayerStats } from '../../engine/stats/layers';
import { evenlySpaced } from '../../engine/stats/reservoir';
import { summarize } from '../../engine/stats/summary';
import { testSummary } from '../../engine/train/metrics';
import type { HistoryEntry, ParamValue, TrainResult } from '../../engine/train/trainer';
import { visibleName } from '../safe-text';

/** Rows of the loss table. */
export const TABLE_ROWS = 21;
/** Models with at most this many parameter values print them all. */
export const SMALL_MODEL = 64;

const pct = (v: number | null | undefined) => (v === undefined || v === null ? '' : `${(v * 100).toFixed(1)}%`);

/** Columns right-aligned, except those named in `left`. */
function columns(head: string[], rows: string[][], left: number[] = []): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (left.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [fmt(head), ...rows.map(fmt)];
}

/**
 * The history entries to print: the logged steps (validation loss, accuracy and layer summaries are
 * taken there), evenly spaced, the first and the last always, and any step whose loss is not finite.
 */
function tableEntries(r: TrainResult): HistoryEntry[] {
  const h = r.history;
  if (!h.length) return [];
  const loggedSteps = new Set(r.layers.map((l) => l.step));
  const logged = h.filter((e, i) => i === 0 || i === h.length - 1 || loggedSteps.has(e.step) || e.valLoss !== undefined || e.accuracy !== undefined);
  const pool = logged.length >= Math.min(TABLE_ROWS, h.length) ? logged : h;
  const picked = new Set(evenlySpaced(pool, TABLE_ROWS));
  for (const e of h) if (!Number.isFinite(e.loss)) picked.add(e);
  return h.filter((e) => picked.has(e));
}

function lossTable(r: TrainResult): string[] {
  const accuracy = r.history.some((h) => h.accuracy !== undefined || h.valAccuracy !== undefined);
  const validation = r.history.some((h) => h.valLoss !== undefined);
  const rows = tableEntries(r).map((h) => [
    String(h.step), formatNumber(h.loss), ...(validation ? [h.valLoss === undefined ? '' : formatNumber(h.valLoss)] : []),
    ...(accuracy ? [pct(h.accuracy), pct(h.valAccuracy)] : []), formatNumber(h.lr), formatNumber(h.gradNorm),
  ]);
  const head = ['step', 'loss', ...(validation ? ['val loss'] : []), ...(accuracy ? ['acc', 'val acc'] : []), 'lr', '|grad|'];
  return columns(head, rows);
}

/** A tensor's values as nested brackets, one row of a matrix per line. */
function valuesText(p: ParamValue, indent: string): string[] {
  const v = p.value.map(formatNumber);
  if (p.shape.length === 0) return [v[0]];
  if (p.shape.length !== 2) return [`[${v.join(', ')}]`];
  const [rows, cols] = p.shape;
  const lines = Array.from({ length: rows }, (_, i) => `[${v.slice(i * cols, (i + 1) * cols).join(', ')}]`);
  return lines.length === 1 ? [`[${lines[0]}]`] : [`[${lines[0]}`, ...lines.slice(1, -1).map((l) => `${indent} ${l}`), `${indent} ${lines[lines.length - 1]}]`];
}

function parameters(r: TrainResult): string[] {
  if (!r.params.length) return [];
  const count = r.params.reduce((n, p) => n + p.value.length, 0);
  const names = r.params.map((p) => visibleName(p.name, 60));
  const width = Math.max(...names.map((n) => n.length));
  if (count <= SMALL_MODEL) {
    const out = [`final parameters (${count} value${count === 1 ? '' : 's'}):`];
    r.params.forEach((p, i) => {
      const lead = `  ${names[i].padEnd(width)}  ${shapeText(p.shape).padEnd(7)}  `;
      const [first, ...rest] = valuesText(p, ' '.repeat(lead.length));
      out.push(lead + first, ...rest);
    });
    return out;
  }
  const rows = r.params.map((p, i) => {
    const s = summarize(p.value, { bins: 1, logBins: 1 });
    const n = (v: number | null) => (v === null ? '—' : formatNumber(v));
    return [names[i], shapeText(p.shape), n(s.mean), n(s.std), n(s.min), n(s.max), n(s.norm)];
  });
  return [`final parameters (${count} values; a summary of each tensor):`, ...columns(['name', 'shape', 'mean', 'std', 'min', 'max', '‖·‖₂'], rows, [0, 1]).map((l) => `  ${l}`)];
}

function layerTable(r: TrainResult): string[] {
  const last = r.layers[r.layers.length - 1];
  if (!last || !last.layers.length) return [];
  const n = (v: number | null | undefined) => (v === null || v === undefined ? '' : formatNumber(v));
  const rows = last.layers.slice().sort((a, b) => a.depth - b.depth).map((l: LayerStats) => [
    visibleName(l.name, 60), l.type, l.activation ?? '', l.weight ? `${n(l.weight.mean)} ± ${n(l.weight.std)}` : '',
    n(l.gradMeanAbs), n(l.gradMaxAbs), l.output ? `${n(l.output.mean)} ± ${n(l.output.std)}` : '', pct(l.dead), pct(l.saturated), n(l.updateRatio),
  ]);
  const head = ['layer', 'type', 'act', 'weight μ ± σ', 'mean |∂L/∂W|', 'max |∂L/∂W|', 'output μ ± σ', 'dead', 'saturated', 'update/weight'];
  // drop the columns no layer has a value in
  const used = head.map((_, i) => i < 2 || rows.some((row) => row[i] !== ''));
  const keep = <T>(xs: T[]) => xs.filter((_, i) => used[i]);
  return [`layers at step ${last.step} (as its loss saw them, before its update):`, ...columns(keep(head), rows.map(keep), [0, 1, 2]).map((l) => `  ${l}`)];
}

function diagnosis(r: TrainResult): string[] {
  const out = r.diagnosis.map((d) => `${d.severity}: ${d.message}${d.fixes.length ? `\n  try: ${d.fixes.map((f) => f.title).join('; ')}` : ''}`);
  const problems = r.diagnosis.filter((d) => d.severity !== 'info').length;
  if (!problems) out.push(`diagnosis: no problems found${r.layers.length ? ` (${r.layers.length} logged step${r.layers.length === 1 ? '' : 's'} checked)` : ''}`);
  return out;
}

export function trainText(r: TrainResult): string {
  const { optimizer, ...hyper } = r.optimizer;
  const schedule = r.schedule.kind === 'constant' || r.schedule.kind === 'pytorch' ? '' : `, schedule ${r.schedule.kind} (${Object.entries(r.schedule.options).map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v.join(', ')}]` : v}`).join(', ')})`;
  const settings = Object.entries(hyper).map(([k, v]) => `${k} ${v}`).join(', ');
  const out = [`${optimizer}${settings ? ` (${settings})` : ''}${schedule}, ${r.steps} steps, batch ${r.batchSize ?? 'n/a'}, seed ${r.seed}`, ...lossTable(r)];
  if (r.stoppedEarly) out.push(`stopped early: ${r.stoppedEarly}`);
  if (r.test) out.push(testSummary(r.test));
  for (const section of [parameters(r), layerTable(r)]) if (section.length) out.push('', ...section);
  out.push('', ...diagnosis(r));
  return out.join('\n');
}
