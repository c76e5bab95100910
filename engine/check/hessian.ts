/**
 * Second-order tools for small problems: the Hessian by central differences of the autograd
 * gradient, its eigenvalues (Jacobi rotations, symmetric matrices), the verdict they give at a
 * point (minimum, maximum, saddle), and the optimizer playground: several optimizers from the same
 * start on a two-parameter loss, with their trajectories.
 */
import { param, type Tensor } from '../tensor';
import { noGrad } from '../ops/context';
import { spec as optimizerSpec } from '../optim/index';
import type { CriticalKind, PlaygroundRun, PlaygroundTrajectory } from './analysis';
import { ShapeError } from '../errors';

/** ∇f at `x` (float64), from the engine's backward pass. */
export function gradientAt(f: (p: Tensor) => Tensor, x: readonly number[]): number[] {
  const p = param(Float64Array.from(x), { dtype: 'float64' });
  const y = f(p);
  if (y.size !== 1) throw new ShapeError(`hessian: the function must return one number, got shape [${y.shape.join(', ')}]`);
  y.backward();
  return Array.from(p.grad?.data ?? new Float64Array(x.length));
}

/** The Hessian at `x`: H[i][j] = (∂ᵢf(x + h·eⱼ) − ∂ᵢf(x − h·eⱼ)) / 2h, symmetrized. */
export function hessian(f: (p: Tensor) => Tensor, x: readonly number[], h = 1e-4): number[][] {
  return hessianFrom((y) => gradientAt(f, y), x, h);
}

/** The Hessian by central differences of any gradient function. */
export function hessianFrom(grad: (x: readonly number[]) => number[], x: readonly number[], h = 1e-4): number[][] {
  const n = x.length;
  const H = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    const up = [...x], down = [...x];
    up[j] += h;
    down[j] -= h;
    const gu = grad(up), gd = grad(down);
    for (let i = 0; i < n; i++) H[i][j] = (gu[i] - gd[i]) / (2 * h);
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) H[i][j] = H[j][i] = (H[i][j] + H[j][i]) / 2;
  return H;
}

/** Eigenvalues of a symmetric matrix (cyclic Jacobi), ascending. */
export function symmetricEigenvalues(m: readonly (readonly number[])[]): number[] {
  const n = m.length;
  const a = m.map((r) => [...r]);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i][j] ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
      }
    }
  }
  return a.map((r, i) => r[i]).sort((x, y) => x - y);
}

export type { CriticalKind };

/** What the point is, from the gradient norm and the Hessian's eigenvalues. */
export function classifyPoint(grad: readonly number[], eigenvalues: readonly number[], tol = 1e-3): CriticalKind {
  const gnorm = Math.hypot(...grad);
  if (gnorm > tol) return 'not critical';
  const scale = Math.max(1, ...eigenvalues.map(Math.abs));
  const pos = eigenvalues.some((e) => e > tol * scale), neg = eigenvalues.some((e) => e < -tol * scale);
  if (pos && neg) return 'saddle';
  if (pos && eigenvalues.every((e) => e > tol * scale)) return 'minimum';
  if (neg && eigenvalues.every((e) => e < -tol * scale)) return 'maximum';
  return 'flat';
}

export type Trajectory = PlaygroundTrajectory;

/** Built-in two-parameter losses of the playground, written with engine ops so autograd applies. */
export const SURFACES: Record<string, { title: string; f: (p: Tensor) => Tensor; start: [number, number] }> = {
  saddle: { title: 'x² − y² (saddle)', f: (p) => p.slice([0], [1]).pow(2).sub(p.slice([1], [2]).pow(2)).sum(), start: [1, 0.01] },
  bowl: { title: '2x² + y² (elongated bowl)', f: (p) => p.slice([0], [1]).pow(2).mul(2).add(p.slice([1], [2]).pow(2)).sum(), start: [-1.5, 1.8] },
  rosenbrock: {
    title: '(1 − x)² + 100(y − x²)² (Rosenbrock)',
    f: (p) => {
      const x = p.slice([0], [1]), y = p.slice([1], [2]);
      return x.neg().add(1).pow(2).add(y.sub(x.pow(2)).pow(2).mul(100)).sum();
    },
    start: [-1.2, 1],
  },
};

/**
 * A loss of two numbers held in some tensors: the playground steps `params` with an optimizer and
 * reads the point back with `get`. Built-in surfaces hold both in one float64 tensor; a model file's
 * two-parameter loss holds them in its own parameters.
 */
export interface TwoParamProblem {
  params: Tensor[];
  set(x: readonly number[]): void;
  get(): [number, number];
  loss(): Tensor;
}

/** The problem for `f` of one two-element tensor. */
export function surfaceProblem(f: (p: Tensor) => Tensor): TwoParamProblem {
  const p = param(new Float64Array(2), { dtype: 'float64' });
  return {
    params: [p],
    set: (x) => void p.data.set(x),
    get: () => [p.data[0], p.data[1]],
    loss: () => f(p),
  };
}

export function valueOf(pr: TwoParamProblem, x: readonly number[]): number {
  pr.set(x);
  return noGrad(() => pr.loss().item());
}

export function gradientOf(pr: TwoParamProblem, x: readonly number[]): number[] {
  pr.set(x);
  for (const p of pr.params) p.grad = null;
  const y = pr.loss();
  if (y.size !== 1) throw new ShapeError(`playground: the loss must be one number, got shape [${y.shape.join(', ')}]`);
  y.backward();
  return pr.params.flatMap((p) => (p.grad ? Array.from(p.grad.data) : new Array<number>(p.size).fill(0)));
}

/** Runs each optimizer from `start` for `steps` steps on f; returns the paths and what each end point is. */
export function playground(f: (p: Tensor) => Tensor, start: [number, number], runs: PlaygroundRun[], steps = 100): Trajectory[] {
  return playgroundOn(surfaceProblem(f), start, runs, steps);
}

/** The playground on any two-parameter problem; the problem's parameters end where the last run ended. */
export function playgroundOn(pr: TwoParamProblem, start: [number, number], runs: PlaygroundRun[], steps = 100): Trajectory[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > 100_000) throw new Error(`playground: steps must be an integer from 1 to 100,000, got ${steps}`);
  return runs.map(({ optimizer, lr, momentum, nesterov }) => {
    pr.set(start);
    // sgd's momentum and Nesterov form, when asked for (PyTorch's torch.optim.SGD semantics)
    const heavy = optimizer === 'sgd' && !!momentum;
    const opt = optimizerSpec(optimizer, heavy ? { lr, momentum, nesterov: !!nesterov } : { lr }).create(pr.params);
    const points: [number, number][] = [[start[0], start[1]]];
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      opt.zeroGrad();
      const y = pr.loss();
      losses.push(y.item());
      if (!Number.isFinite(losses[i])) break;
      y.backward();
      opt.step();
      points.push(pr.get());
    }
    const end: [number, number] = points[points.length - 1];
    const loss = valueOf(pr, end);
    const grad = Number.isFinite(loss) ? gradientOf(pr, end) : [NaN, NaN];
    const eigenvalues = Number.isFinite(loss) ? symmetricEigenvalues(hessianFrom((x) => gradientOf(pr, x), end)) : [NaN, NaN];
    const kind = Number.isFinite(loss) ? classifyPoint(grad, eigenvalues) : 'diverged';
    return { optimizer, lr, ...(heavy ? { momentum, nesterov: !!nesterov } : {}), points, losses, end: { point: end, loss, grad, eigenvalues, kind } };
  });
}
