/**
 * Numbers and tensors for people: the one text form of a tensor summary, used by the editor (inline
 * values, hovers), the CLI's table and the panel (node faces). No DOM, no vscode: every side imports it.
 */
import type { TensorStats } from './stats/summary';

/** Numbers for people: 3–4 significant digits, scientific notation for tiny or huge magnitudes. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2).replace('e+', 'e');
  return Number(v.toPrecision(4)).toString();
}

/** A shape as text: `2×3`, or `scalar` for a 0-d tensor. */
export const shapeText = (shape: readonly number[]): string => (shape.length === 0 ? 'scalar' : shape.join('×'));

export interface BriefOptions {
  /** How each number is written (default formatNumber). */
  num?: (v: number) => string;
  /** Put the shape before a summary (`[2×3] μ 0.5 σ 0.2`) where nothing else shows it (inline values). */
  shape?: readonly number[];
}

/**
 * Short text for a tensor: the number for one element, the list for up to 4, else the mean and the
 * spread of its summary (`μ 0.5 σ 0.2`). Without values or a summary: how many values it has.
 */
export function tensorBrief(values: ArrayLike<number> | null, stats: TensorStats | null, size: number, opts: BriefOptions = {}): string {
  const num = opts.num ?? formatNumber;
  if (values && values.length === 1) return num(values[0]);
  if (values && values.length <= 4) return `[${Array.from(values, num).join(', ')}]`;
  if (!stats) return size > 0 ? `${size} values` : '[]';
  if (stats.mean === null) return stats.nan ? `${stats.nan} NaN` : '—';
  const summary = `μ ${num(stats.mean)} σ ${num(stats.std ?? 0)}`;
  return opts.shape ? `[${shapeText(opts.shape)}] ${summary}` : summary;
}
