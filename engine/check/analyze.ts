/**
 * The panel's analysis tools on a training spec at its current parameters: the gradient check, the
 * loss landscape, and the optimizer playground (on a built-in surface or on the file's own loss of
 * two numbers). Each returns the JSON report of engine/check/analysis.ts.
 */
import type { Tensor } from '../tensor';
import { noGrad, withSubstitutes } from '../ops/context';
import { param } from '../tensor';
import type { Trainer } from '../train/trainer';
import { HESSIAN_MAX_PARAMS, type AnalysisRequest, type GradcheckReport, type HessianReport, type LandscapeReport, type PlaygroundReport, type SurfaceName } from './analysis';
import { gradcheck } from './gradcheck';
import { lossLandscape } from './landscape';
import { classifyPoint, gradientOf, hessianFrom, playgroundOn, SURFACES, surfaceProblem, symmetricEigenvalues, valueOf, type TwoParamProblem } from './hessian';

/** Settings of the panel's gradient check: float64 centered differences, sampled on large tensors. */
export const GRADCHECK = { h: 1e-6, rtol: 1e-4, atol: 1e-7, maxPerParam: 256, seed: 0 } as const;

export function gradcheckReport(trainer: Trainer): GradcheckReport {
  return trainer.analyze(() => gradcheckAt(trainer));
}

function gradcheckAt(trainer: Trainer): GradcheckReport {
  const { loss, on } = trainer.objective('batch');
  const r = gradcheck(loss, trainer.params, GRADCHECK);
  const names = trainer.paramNames;
  return {
    step: trainer.stepsTaken, passed: r.passed, h: GRADCHECK.h, rtol: GRADCHECK.rtol, atol: GRADCHECK.atol, on,
    params: r.params.map((c, i) => ({
      name: names[i] ?? c.name, shape: c.shape, size: c.analytic.length, checked: c.checked,
      maxRelError: c.maxRelError, maxAbsError: c.maxAbsError, worstIndex: c.worstIndex,
      analytic: c.worstIndex >= 0 ? c.analytic[c.worstIndex] : 0, numeric: c.worstIndex >= 0 ? c.numeric[c.worstIndex] : 0,
      passed: c.passed,
    })),
  };
}

const HESSIAN_H = 1e-4;

/**
 * Float64 copies standing in for `params` (as in gradcheck): differences are taken in float64
 * whatever the model's dtype, and the parameters are untouched. Run the loss inside `within`.
 */
function float64Copies(params: readonly Tensor[]): { copies: Tensor[]; within<T>(fn: () => T): T } {
  const copies = params.map((p) => param(p, { dtype: 'float64' }));
  const substitutes = new Map(params.map((p, k) => [p, copies[k]]));
  return { copies, within: (fn) => withSubstitutes(substitutes, fn) };
}

export function hessianReport(trainer: Trainer): HessianReport {
  return trainer.analyze(() => hessianAt(trainer));
}

function hessianAt(trainer: Trainer): HessianReport {
  const params = trainer.params;
  const n = params.reduce((k, p) => k + p.size, 0);
  if (n > HESSIAN_MAX_PARAMS) throw new Error(`The Hessian is computed for models of up to ${HESSIAN_MAX_PARAMS} parameter values; this one has ${n}. Use the loss landscape for larger models.`);
  const { loss, on } = trainer.objective('data');
  const { copies, within } = float64Copies(params);
  const gradientAt = (x: readonly number[]): number[] => {
    let k = 0;
    for (const c of copies) {
      for (let i = 0; i < c.size; i++) c.data[i] = x[k++];
      c.grad = null;
    }
    loss().backward();
    return copies.flatMap((c) => (c.grad ? Array.from(c.grad.data as ArrayLike<number>) : new Array<number>(c.size).fill(0)));
  };
  const x0 = copies.flatMap((c) => Array.from(c.data as ArrayLike<number>));
  return within(() => {
    const gradient = gradientAt(x0);
    const hessian = hessianFrom(gradientAt, x0, HESSIAN_H);
    const eigenvalues = symmetricEigenvalues(hessian);
    const names = params.flatMap((p, k) => {
      const name = trainer.paramNames[k] ?? `param ${k}`;
      if (p.size === 1) return [name];
      return Array.from({ length: p.size }, (_, i) => `${name}[${unravel(i, p.shape).join(',')}]`);
    });
    return { step: trainer.stepsTaken, names, gradient, hessian, eigenvalues, kind: classifyPoint(gradient, eigenvalues), h: HESSIAN_H, on };
  });
}

function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return out;
}

/** Loss evaluations of a landscape (1-D and 2-D slices). */
const POINTS_1D = 41, POINTS_2D = 25;
/** Multiply-adds one landscape may spend (parameters × examples × evaluations), about a second or two. */
const LANDSCAPE_BUDGET = 4e9;

export function landscapeReport(trainer: Trainer, req: Extract<AnalysisRequest, { kind: 'landscape' }>): LandscapeReport {
  return trainer.analyze(() => landscapeAt(trainer, req));
}

function landscapeAt(trainer: Trainer, req: Extract<AnalysisRequest, { kind: 'landscape' }>): LandscapeReport {
  const parameters = trainer.params.reduce((n, p) => n + p.size, 0);
  const evaluations = POINTS_1D + (req.twoD ? POINTS_2D ** 2 : 0);
  // fewer examples for larger models, so a landscape stays a matter of seconds
  const examples = Math.max(32, Math.min(2048, Math.floor(LANDSCAPE_BUDGET / Math.max(1, parameters * evaluations))));
  const { loss, on } = trainer.objective('data', examples);
  const r = lossLandscape(() => noGrad(() => loss().item()), trainer.params, {
    range: req.range, seed: req.seed, twoD: req.twoD, points1d: POINTS_1D, points2d: POINTS_2D,
  });
  return { ...r, step: trainer.stepsTaken, on };
}

/** Half-widths of the default view of each built-in surface around its start. */
const VIEW: Record<Exclude<SurfaceName, 'file'>, { x: [number, number]; y: [number, number] }> = {
  saddle: { x: [-1.5, 1.5], y: [-1.5, 1.5] },
  bowl: { x: [-2, 2], y: [-2, 2] },
  rosenbrock: { x: [-2, 2], y: [-1, 3] },
};
const GRID = 61;

/**
 * The file's loss as a two-parameter problem, when its parameters hold exactly two numbers, on
 * float64 copies of them (float64Copies, as the Hessian): the paths and the curvature are the loss's
 * own whatever the model's dtype (central differences of float32 gradients put λmax of a quadratic
 * 0.1 % off). Use it inside `within`.
 */
export function fileProblem(trainer: Trainer): (TwoParamProblem & { within<T>(fn: () => T): T }) | null {
  const params = trainer.params;
  if (params.reduce((n, p) => n + p.size, 0) !== 2) return null;
  const { loss } = trainer.objective('batch');
  const { copies, within } = float64Copies(params);
  return {
    params: copies,
    set: (x) => {
      let k = 0;
      for (const c of copies) for (let i = 0; i < c.size; i++) c.data[i] = x[k++];
    },
    get: () => copies.flatMap((c) => Array.from(c.data as ArrayLike<number>)) as [number, number],
    loss: loss as () => Tensor,
    within,
  };
}

/** A short title of the file's two-parameter loss, or null when it has more (or fewer) than two numbers. */
export function fileSurfaceTitle(trainer: Trainer): string | null {
  if (trainer.params.reduce((n, p) => n + p.size, 0) !== 2) return null;
  return `the file's loss of ${trainer.paramNames.join(', ')}`;
}

export function playgroundReport(req: Extract<AnalysisRequest, { kind: 'playground' }>, trainer: Trainer | null): PlaygroundReport {
  return trainer ? trainer.analyze(() => playgroundAt(req, trainer)) : playgroundAt(req, null);
}

function playgroundAt(req: Extract<AnalysisRequest, { kind: 'playground' }>, trainer: Trainer | null): PlaygroundReport {
  let problem: TwoParamProblem, title: string, start: [number, number], view: { x: [number, number]; y: [number, number] };
  let within: <T>(fn: () => T) => T = (fn) => fn();
  if (req.surface === 'file') {
    const p = trainer && fileProblem(trainer);
    if (!p) throw new Error('The playground runs on the file\'s loss only when its parameters hold exactly two numbers (for example `param([1, 2])` or two scalars).');
    problem = p;
    within = p.within;
    title = fileSurfaceTitle(trainer!)!;
    start = req.start ?? p.get();
    const r = Math.max(1, Math.abs(start[0]), Math.abs(start[1]));
    view = { x: [start[0] - r, start[0] + r], y: [start[1] - r, start[1] + r] };
  } else {
    const s = SURFACES[req.surface];
    problem = surfaceProblem(s.f);
    title = s.title;
    start = req.start ?? s.start;
    view = VIEW[req.surface];
  }
  return within(() => {
    const trajectories = playgroundOn(problem, start, req.runs, req.steps);
    // the view: the surface's own, widened to the paths (at most 3× in each direction)
    const widen = ([lo, hi]: [number, number], vs: number[]): [number, number] => {
      const w = hi - lo;
      const finite = vs.filter(Number.isFinite);
      return [Math.max(lo - w, Math.min(lo, ...finite)), Math.min(hi + w, Math.max(hi, ...finite))];
    };
    const pts = trajectories.flatMap((t) => t.points);
    const xr = widen(view.x, [start[0], ...pts.map((p) => p[0])]);
    const yr = widen(view.y, [start[1], ...pts.map((p) => p[1])]);
    const xs = Array.from({ length: GRID }, (_, i) => xr[0] + ((xr[1] - xr[0]) * i) / (GRID - 1));
    const ys = Array.from({ length: GRID }, (_, j) => yr[0] + ((yr[1] - yr[0]) * j) / (GRID - 1));
    const z = ys.map((y) => xs.map((x) => valueOf(problem, [x, y])));
    // the curvature at the start: plain gradient descent is stable on it for η < 2/λmax
    const h = symmetricEigenvalues(hessianFrom((x) => gradientOf(problem, x), start));
    const startEigenvalues = h.every(Number.isFinite) ? h : null;
    return { surface: req.surface, title, start, steps: req.steps, grid: { xs, ys, z }, trajectories, startEigenvalues };
  });
}
