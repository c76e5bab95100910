/**
 * Number and name text for nodes, the inspector and the chain rule. A tensor's short text and its
 * shape come from the engine's formatter (engine/format.ts), the one the editor and the CLI use.
 */
import type { SnapshotNode } from '../extension/protocol';
import { format, type NumberValue } from 'd3';
import { formatNumber, shapeText, tensorBrief } from '../engine/format';
import { NAME_MAX, escapeBidi, visibleName } from '../extension/safe-text';

export { formatNumber, shapeText, tensorBrief, escapeBidi };

/**
 * Names come from the user's code and may be any length and hold any character. A node face shows
 * at most FACE_CHARS of it (about 220 px at the face's font, three times the narrowest node), a
 * cluster's label CLUSTER_CHARS (module paths run longer); the inspector and tooltips show up to
 * NAME_MAX. Controls and bidirectional controls are shown escaped (`\u202E`) everywhere, so a name
 * cannot reorder the text around it. Every one of these goes into the page as text, never markup.
 */
export const FACE_CHARS = 32;
export const CLUSTER_CHARS = 48;
export { NAME_MAX };

/** A name as a node face shows it: escaped, cut to FACE_CHARS with `…`. */
export const faceText = (name: string): string => visibleName(name, FACE_CHARS);
/** A cluster's label as its box shows it: escaped, cut to CLUSTER_CHARS with `…`. */
export const clusterText = (label: string): string => visibleName(label, CLUSTER_CHARS);
/** A name as the inspector and tooltips show it: escaped, the whole name up to NAME_MAX. */
export const fullName = (name: string): string => visibleName(name, NAME_MAX);

/** Node and inspector numbers: the engine's formatter (same text as the editor's inline values). */
export const fmt = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : formatNumber(v));

/**
 * Chain-rule numbers: fixed three decimals (`−4.000`) so the terms of one equation line up,
 * scientific notation for tiny or huge values, a real minus sign.
 */
export function fmtChain(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  const s = a !== 0 && (a >= 1e4 || a < 1e-3) ? v.toExponential(2).replace('e+', 'e') : v.toFixed(3);
  return s.replace(/^-/, '−').replace('e-', 'e−');
}

/** Sign class of a gradient (scalar or mean): colours the text. */
export function signClass(v: number | null | undefined): 'pos' | 'neg' | 'zero' | 'nonfinite' {
  if (v === null || v === undefined) return 'zero';
  if (!Number.isFinite(v)) return 'nonfinite';
  return v > 0 ? 'pos' : v < 0 ? 'neg' : 'zero';
}

/** The largest finite |x| of a tensor: a heatmap's per-tensor scale. */
export function largestAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) max = Math.max(max, Math.abs(values[i]));
  return max;
}

/** A heatmap cell's opacity on the per-tensor scale: |x| against the tensor's largest (non-finite cells opaque). */
export function tensorOpacity(v: number, max: number): number {
  if (!Number.isFinite(v)) return 1;
  return max > 0 ? 0.15 + 0.85 * (Math.abs(v) / max) : 0.15;
}

/** What a per-tensor heatmap's colours mean (the inspector's legend, a node thumbnail's tooltip). */
export const tensorHeatLegend = (max: number): string => `Colour: sign; opacity: |x| against this tensor's largest, ${fmt(max)}.`;

/** What a node is called in formulas: its name, else `op#id` (shown as `fullName`). */
export const nodeRef = (n: SnapshotNode): string => fullName(n.name ?? (n.op === 'leaf' ? n.label : `${n.op}#${n.id}`));

export function basename(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1] || file;
}

/** Tick text for values of any magnitude: `0.5`, `120`, `1e−6`. */
export function tick(v: NumberValue): string {
  const n = Number(v);
  if (n === 0) return '0';
  const a = Math.abs(n);
  // as many mantissa digits as the value has (up to 3): 12000 is 1.2e4, not 1e4 like its neighbours
  if (a >= 1e4 || a < 1e-3) return n.toExponential(2).replace(/\.?0+e/, 'e').replace('e+', 'e').replace('e-', 'e−').replace(/^-/, '−');
  return formatNumber(n).replace(/^-/, '−');
}

/** An axis label for a step count: 950, 12k, 1.5M (steps are whole numbers; SI prefixes read well). */
export function stepTick(v: NumberValue): string {
  const n = Number(v);
  return Math.abs(n) < 1e4 ? String(Math.round(n)) : format('~s')(n);
}
