/**
 * The lecture's "show trace" for a problem of one parameter: the loss as a function of θ, and the
 * iterates θ₀, θ₁, … of the run drawn on that curve in order — gradient descent stepping down a
 * parabola, overshooting with too large a rate, or diverging. The curve and the iterates' losses
 * are the file's own objective evaluated by the engine at those values (eval mode, no gradient).
 */
import { noGrad } from '../ops/context';
import type { Trainer } from '../train/trainer';
import type { TraceReport } from './analysis';

/** Points of the curve. */
export const TRACE_POINTS = 201;
/** Iterates drawn at most (evenly spaced steps, the first and the last always). */
export const TRACE_ITERATES = 400;

export function traceReport(trainer: Trainer): TraceReport {
  return trainer.analyze(() => traceAt(trainer));
}

function traceAt(trainer: Trainer): TraceReport {
  const params = trainer.params;
  const values = params.reduce((n, p) => n + p.size, 0);
  if (values !== 1) throw new Error(`The trace is drawn for a problem of one parameter; this one has ${values} values (the playground draws two).`);
  const p = params[0];
  const t = trainer.trajectory;
  const all = t ? t.points : [{ step: trainer.stepsTaken, values: [Number(p.data[0])] }];
  const stride = Math.max(1, Math.ceil(all.length / TRACE_ITERATES));
  const picked = all.filter((_, i) => i % stride === 0 || i === all.length - 1);
  const { loss, on } = trainer.objective('data');
  const now = Number(p.data[0]);
  const at = (theta: number): number => {
    p.data[0] = theta;
    const v = noGrad(() => loss().item());
    return Number.isFinite(v) ? v : NaN;
  };
  try {
    const thetas = picked.map((q) => q.values[0]);
    const finite = thetas.filter(Number.isFinite);
    let lo = Math.min(...finite, now), hi = Math.max(...finite, now);
    // a little room around the iterates; a run that has not moved gets ±1 (or ±|θ|/2)
    const pad = hi > lo ? (hi - lo) * 0.15 : Math.max(1, Math.abs(lo) / 2);
    lo -= pad;
    hi += pad;
    const xs = Array.from({ length: TRACE_POINTS }, (_, i) => lo + ((hi - lo) * i) / (TRACE_POINTS - 1));
    const ys = xs.map(at);
    const iterates = picked.map((q) => ({ step: q.step, theta: q.values[0], loss: Number.isFinite(q.values[0]) ? at(q.values[0]) : NaN }));
    return { step: trainer.stepsTaken, name: trainer.paramNames[0] ?? 'θ', on, xs, ys: ys.map((v) => (Number.isFinite(v) ? v : null)), iterates: iterates.map((q) => ({ ...q, loss: Number.isFinite(q.loss) ? q.loss : null })) };
  } finally {
    p.data[0] = now;
  }
}
