/** The loss chart's smoothing, apart from the DOM (tests import it in Node). */
/**
 * TensorBoard's smoothing: an exponential moving average with weight w on the past, divided by
 * 1 − wᵗ so the first points are not pulled toward 0. w = 0 returns the losses as they are.
 */
export function smoothLosses<P extends { step: number; loss: number }>(points: readonly P[], w: number): P[] {
  if (!(w > 0)) return points.slice();
  let avg = 0, n = 0;
  return points.map((p) => {
    if (!Number.isFinite(p.loss)) return p;
    avg = w * avg + (1 - w) * p.loss;
    n++;
    return { ...p, loss: avg / (1 - w ** n) };
  });
}

