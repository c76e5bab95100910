/**
 * Classification accuracy, as a training loop reports it: the fraction of rows whose predicted class
 * is the target. Multi-class: predictions [n, C] (logits or probabilities) against class indices
 * [n], the predicted class the first largest (as torch.argmax). Binary: one output per row against
 * 0/1 targets, the threshold at 0 for logits and at ½ for probabilities.
 */
import type { Tensor } from '../tensor';

export function accuracy(pred: Tensor, target: Tensor, opts: { binary: boolean; probabilities?: boolean }): number | null {
  const n = target.shape[0];
  if (!n || pred.shape[0] !== n) return null;
  const p = pred.data, t = target.data;
  let right = 0;
  if (opts.binary) {
    if (pred.size !== n || target.size !== n) return null;
    const cut = opts.probabilities ? 0.5 : 0;
    for (let i = 0; i < n; i++) if ((p[i] > cut ? 1 : 0) === (t[i] > 0.5 ? 1 : 0)) right++;
    return right / n;
  }
  if (pred.rank !== 2 || target.size !== n) return null;
  const c = pred.shape[1];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (p[i * c + j] > p[i * c + best]) best = j;
    if (best === t[i]) right++;
  }
  return right / n;
}

/** The test set's result in words (the CLI's last line, the panel's status at the end). */
export function testSummary(t: { loss: number; accuracy: number | null }): string {
  const loss = Number.isFinite(t.loss) ? Number(t.loss.toPrecision(4)).toString() : String(t.loss);
  return `test set: loss ${loss}${t.accuracy === null ? '' : `, accuracy ${(t.accuracy * 100).toFixed(1)}%`}`;
}
