/**
 * The panel's analysis cards as terminal text: the Hessian (`backprop-lens hessian`), the loss
 * landscape (`landscape`) and the optimizer playground (`playground`). Names come from the user's
 * file: they go through visibleName, and everything printed goes through the CLI's `say`.
 */
import { formatNumber } from '../../engine/format';
import { aboveStabilityLimit, playgroundRunLabel, stabilityLimit, type HessianReport, type LandscapeReport, type PlaygroundReport } from '../../engine/check/analysis';
import { visibleName } from '../safe-text';

const num = (x: number) => formatNumber(x);

function columns(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd());
}

/** The Hessian: the matrix (up to 16 × 16), its eigenvalues and what the point is. */
export function hessianText(r: HessianReport): string {
  const n = r.names.length;
  const names = r.names.map(visibleName);
  const out = [`Hessian of ${r.on} at step ${r.step} (${n} parameter value${n === 1 ? '' : 's'}; central differences of the gradient, h = ${r.h})`, ''];
  if (n <= 16) {
    out.push(...columns([['', ...names], ...r.hessian.map((row, i) => [names[i], ...row.map(num)])]), '');
  } else {
    out.push(`(the ${n} × ${n} matrix is in --json)`, '');
  }
  out.push(`gradient     ${r.gradient.map(num).join('  ')}`);
  out.push(`|gradient|   ${num(Math.hypot(...r.gradient))}`);
  out.push(`eigenvalues  ${r.eigenvalues.map(num).join('  ')}`);
  out.push(`point        ${r.kind}${r.kind === 'not critical' ? ' (the gradient is not zero here)' : ''}`);
  return out.join('\n');
}

/** The landscape's 1-D slice as a table, and the 2-D slice's range. */
export function landscapeText(r: LandscapeReport): string {
  const out = [`Loss landscape around the parameters at step ${r.step}: L(θ + α·d₁) along a random filter-normalized direction d₁ (${r.parameters} parameter values, seed ${r.seed}; ${r.on})`, ''];
  out.push(...columns([['α', 'loss'], ...r.alphas.map((a, i) => [num(a), num(r.losses1d[i])])]));
  out.push('', `loss at θ (α = 0): ${num(r.center)}`);
  if (r.losses2d && r.betas) {
    const all = r.losses2d.flat().filter(Number.isFinite);
    out.push(`2-D slice L(θ + α·d₁ + β·d₂), ${r.betas.length} × ${r.betas.length} points: loss from ${num(Math.min(...all))} to ${num(Math.max(...all))} (the grid is in --json)`);
  }
  return out.join('\n');
}

/** Each playground run: where it ended, the loss there and what that point is. */
export function playgroundText(r: PlaygroundReport): string {
  const out = [`Optimizer playground on ${visibleName(r.title)}, from (${r.start.map(num).join(', ')}), ${r.steps} steps`, ''];
  const limit = stabilityLimit(r);
  out.push(...columns([
    ['optimizer', 'lr', 'end point', 'loss', '|gradient|', 'Hessian eigenvalues', 'verdict'],
    ...r.trajectories.map((t) => [
      playgroundRunLabel(t, num), `${num(t.lr)}${aboveStabilityLimit(t, limit) ? ' > 2/λmax' : ''}`, `(${t.end.point.map(num).join(', ')})`, num(t.end.loss), num(Math.hypot(...t.end.grad)),
      t.end.eigenvalues.map(num).join(', '), t.end.kind,
    ]),
  ]));
  if (limit !== null) {
    out.push('', `At the start the largest curvature (Hessian eigenvalue) is λmax = ${num(Math.max(...r.startEigenvalues!))}: plain gradient descent is stable there for lr < 2/λmax = ${num(limit)}.`);
  }
  return out.join('\n');
}
