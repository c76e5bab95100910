/** Tensor summaries for the inspector, the histograms and the diagnosis. */
import type { TypedArray } from '../dtype';
import { Tensor } from '../tensor';

/** Equal-width bins over [lo, hi]; `counts[i]` covers [lo + i·w, lo + (i+1)·w). */
export interface Histogram {
  lo: number;
  hi: number;
  counts: number[];
}

export interface TensorStats {
  count: number;
  /** Over the finite elements; null when there are none. */
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Population standard deviation of the finite elements. */
  std: number | null;
  /** L2 norm of the finite elements. */
  norm: number | null;
  /** Fraction of elements exactly 0. */
  zeros: number;
  nan: number;
  inf: number;
  histogram: Histogram;
  /** Histogram of log10|x| over finite non-zero elements: where magnitudes live (vanishing/exploding). */
  logHistogram: Histogram;
}

export interface SummaryOptions {
  bins?: number;
  logBins?: number;
}

function histogram(values: ArrayLike<number>, n: number, bins: number, lo: number, hi: number): Histogram {
  const counts = new Array<number>(bins).fill(0);
  if (n === 0) return { lo: 0, hi: 0, counts };
  if (hi === lo) {
    counts[Math.floor(bins / 2)] = n;
    return { lo: lo - 0.5, hi: hi + 0.5, counts };
  }
  const scale = bins / (hi - lo);
  for (let i = 0; i < n; i++) counts[Math.min(bins - 1, Math.floor((values[i] - lo) * scale))]++;
  return { lo, hi, counts };
}

/** min, max, mean, std, L2 norm, fraction of zeros, NaN/Inf counts and two histograms. */
export function summarize(x: Tensor | TypedArray | readonly number[], opts: SummaryOptions = {}): TensorStats {
  const data: ArrayLike<number> = x instanceof Tensor ? x.data : x;
  const bins = opts.bins ?? 30;
  const logBins = opts.logBins ?? 30;
  const count = data.length;
  const finite = new Float64Array(count);
  const logs = new Float64Array(count);
  let nf = 0, nl = 0, nan = 0, inf = 0, zeros = 0;
  let min = Infinity, max = -Infinity, sum = 0, sumSq = 0, logMin = Infinity, logMax = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = data[i];
    if (v !== v) { nan++; continue; }
    if (v === Infinity || v === -Infinity) { inf++; continue; }
    finite[nf++] = v;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSq += v * v;
    if (v === 0) zeros++;
    else {
      const l = Math.log10(Math.abs(v));
      logs[nl++] = l;
      if (l < logMin) logMin = l;
      if (l > logMax) logMax = l;
    }
  }
  const mean = nf > 0 ? sum / nf : null;
  let std: number | null = null;
  if (mean !== null) {
    let ss = 0;
    for (let i = 0; i < nf; i++) ss += (finite[i] - mean) * (finite[i] - mean);
    std = Math.sqrt(ss / nf);
  }
  return {
    count,
    min: nf > 0 ? min : null,
    max: nf > 0 ? max : null,
    mean,
    std,
    norm: nf > 0 ? Math.sqrt(sumSq) : null,
    zeros: count > 0 ? zeros / count : 0,
    nan,
    inf,
    histogram: histogram(finite, nf, bins, min, max),
    logHistogram: histogram(logs, nl, logBins, Math.floor(logMin), Math.ceil(logMax) === Math.floor(logMin) ? Math.floor(logMin) + 1 : Math.ceil(logMax)),
  };
}

/** Number of NaN and ±Inf elements, and the first such index (−1 if none). */
export function countNonFinite(data: ArrayLike<number>): { nan: number; inf: number; first: number } {
  let nan = 0, inf = 0, first = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      if (v !== v) nan++;
      else inf++;
      if (first < 0) first = i;
    }
  }
  return { nan, inf, first };
}
