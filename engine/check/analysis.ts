/**
 * What the panel's analysis tools compute, as plain JSON: the gradient check and the Hessian at the
 * current parameters, the loss landscape around them, the optimizer playground, the decision
 * boundary and the trace of a single parameter; which of them apply to a file and what each card
 * asks for first. Shared by the engine, the model worker, the extension and the webview (no vscode,
 * no DOM).
 */
import type { OptimizerName } from '../optim/names';

/** One parameter of a gradient check (the worst element, not every element). */
export interface GradcheckParam {
  name: string;
  shape: number[];
  size: number;
  /** Elements compared (all of them, or a seeded sample of large tensors). */
  checked: number;
  maxRelError: number;
  maxAbsError: number;
  /** Flat index of the worst element, and its two gradients. */
  worstIndex: number;
  analytic: number;
  numeric: number;
  passed: boolean;
}

export interface GradcheckReport {
  /** Training step the parameters are at (0 = the initial parameters). */
  step: number;
  passed: boolean;
  h: number;
  rtol: number;
  atol: number;
  params: GradcheckParam[];
  /** What the loss was evaluated on, e.g. "the first batch of 32". */
  on: string;
}

/** Slices of the loss around the current parameters θ along random filter-normalized directions. */
export interface LandscapeReport {
  step: number;
  /** Offsets α along d₁ of the 1-D slice. */
  alphas: number[];
  /** L(θ + α·d₁) for each α. */
  losses1d: number[];
  /** Offsets of the 2-D slice, the same along d₁ (x) and d₂ (y); null without a 2-D slice. */
  betas: number[] | null;
  /** L(θ + betas[i]·d₁ + betas[j]·d₂), indexed [j][i], or null. */
  losses2d: number[][] | null;
  /** L(θ). */
  center: number;
  /** Parameter elements perturbed. */
  parameters: number;
  seed: number;
  on: string;
}

export type SurfaceName = 'saddle' | 'bowl' | 'rosenbrock' | 'file';

/** What an end point is; 'diverged' when the loss there is NaN or infinite. */
export type CriticalKind = 'minimum' | 'maximum' | 'saddle' | 'flat' | 'not critical' | 'diverged';

/** One optimizer of the playground: its name, learning rate, and for sgd its momentum (0: none) and the Nesterov form. */
export interface PlaygroundRun {
  optimizer: OptimizerName;
  lr: number;
  momentum?: number;
  nesterov?: boolean;
}

export interface PlaygroundTrajectory {
  optimizer: OptimizerName;
  lr: number;
  /** sgd's momentum and Nesterov flag, when the run used them. */
  momentum?: number;
  nesterov?: boolean;
  /** Points visited, the start first. */
  points: [number, number][];
  losses: number[];
  end: { point: [number, number]; loss: number; grad: number[]; eigenvalues: number[]; kind: CriticalKind };
}

export interface PlaygroundReport {
  surface: SurfaceName;
  title: string;
  start: [number, number];
  steps: number;
  /** The loss on a grid covering the start and the trajectories: z[j][i] = f(xs[i], ys[j]). */
  grid: { xs: number[]; ys: number[]; z: number[][] };
  trajectories: PlaygroundTrajectory[];
  /**
   * The Hessian's eigenvalues at the start, ascending (null where they are not finite). Gradient
   * descent with step η is stable along an eigenvector of curvature λ > 0 only while η < 2/λ: the
   * card compares each plain SGD run's η with 2/λmax.
   */
  startEigenvalues?: number[] | null;
}

/** How a playground run is named: `sgd`, or `sgd (momentum 0.9, Nesterov)` (numbers written by `fmt`). */
export function playgroundRunLabel(t: { optimizer: string; momentum?: number; nesterov?: boolean }, fmt: (v: number) => string): string {
  return t.momentum ? `${t.optimizer} (momentum ${fmt(t.momentum)}${t.nesterov ? ', Nesterov' : ''})` : t.optimizer;
}

/** A plain gradient descent run (sgd without momentum, the runs the limit is about) whose rate is above 2/λmax (`limit`). */
export const aboveStabilityLimit = (t: { optimizer: string; momentum?: number; lr: number }, limit: number | null): boolean =>
  t.optimizer === 'sgd' && !t.momentum && limit !== null && t.lr > limit;

/** 2/λmax at the playground's start, where the largest eigenvalue is positive (else there is no such limit). */
export function stabilityLimit(r: Pick<PlaygroundReport, 'startEigenvalues'>): number | null {
  const e = r.startEigenvalues;
  if (!e || !e.length) return null;
  const lmax = Math.max(...e);
  return lmax > 0 ? 2 / lmax : null;
}

/**
 * A classifier of two input features, drawn over its input plane: the predicted class on a grid
 * (`cls[j·nx + i]` at (xs[i], ys[j])) with the model's confidence in it, and the training points.
 * Inputs are as the model sees them (standardized when the file asks for it).
 */
export interface BoundaryReport {
  step: number;
  task: 'binary' | 'multiclass';
  classes: number;
  xs: number[];
  ys: number[];
  cls: number[];
  /** The predicted class's probability (sigmoid or softmax of the model's output). */
  confidence: number[];
  /** [x₁, x₂, label] of up to BOUNDARY_POINTS training examples. */
  points: [number, number, number][];
  standardized: boolean;
}


/** The Hessian of the loss with respect to every parameter element, at the current parameters (small models). */
export interface HessianReport {
  step: number;
  /** One name per parameter element: `w`, or `w[1]` / `w[0,2]` for an element of a tensor. */
  names: string[];
  /** ∇L at the parameters. */
  gradient: number[];
  /** H[i][j] = ∂²L/∂θᵢ∂θⱼ (central differences of backward's gradient, step h; symmetrized). */
  hessian: number[][];
  /** The Hessian's eigenvalues, ascending. */
  eigenvalues: number[];
  /** What the point is: a minimum, maximum or saddle where the gradient is (nearly) zero. */
  kind: CriticalKind;
  h: number;
  on: string;
}

/**
 * The loss of a one-parameter problem along its parameter θ (`ys[i]` at `xs[i]`, null where it is not
 * finite), and the run's iterates on it, in order: θ at each kept step and the loss there.
 */
export interface TraceReport {
  step: number;
  /** The parameter's name. */
  name: string;
  /** What the loss is evaluated on (the data, or the loss function). */
  on: string;
  xs: number[];
  ys: (number | null)[];
  iterates: { step: number; theta: number; loss: number | null }[];
}

/** The analysis tools, in the order the training view shows their cards. */
export const ANALYSIS_KINDS = ['gradcheck', 'hessian', 'landscape', 'playground', 'boundary', 'trace'] as const;
export type AnalysisKind = (typeof ANALYSIS_KINDS)[number];

/** What the webview asks for. */
export type AnalysisRequest =
  | { kind: 'gradcheck' }
  | { kind: 'hessian' }
  | { kind: 'landscape'; twoD: boolean; range: number; seed: number }
  | { kind: 'playground'; surface: SurfaceName; runs: PlaygroundRun[]; steps: number; start?: [number, number] }
  | { kind: 'boundary' }
  | { kind: 'trace' };

/** The answer: exactly one of the reports, or an error located in the user's file when it is theirs. */
export type AnalysisResult =
  | { kind: 'gradcheck'; report: GradcheckReport }
  | { kind: 'hessian'; report: HessianReport }
  | { kind: 'landscape'; report: LandscapeReport }
  | { kind: 'playground'; report: PlaygroundReport }
  | { kind: 'boundary'; report: BoundaryReport }
  | { kind: 'trace'; report: TraceReport };

/** The Hessian is for small problems: one backward pass per element and side, an n × n matrix. */
export const HESSIAN_MAX_PARAMS = 64;

/** The loss landscape's request as its card starts (2-D slice, α and β in ±1, seed 0). */
export const DEFAULT_LANDSCAPE = { kind: 'landscape', twoD: true, range: 1, seed: 0 } as const satisfies AnalysisRequest;

/** The playground's runs as its card starts: one optimizer of each family, at a rate that suits the built-in surfaces. */
export const DEFAULT_PLAYGROUND_RUNS: readonly PlaygroundRun[] = [{ optimizer: 'sgd', lr: 0.05 }, { optimizer: 'rmsprop', lr: 0.01 }, { optimizer: 'adam', lr: 0.1 }];
export const DEFAULT_PLAYGROUND_STEPS = 100;

/** What a training view knows of the file that decides which tools apply (a subset of the snapshot's TrainingInfo). */
export interface AnalysisTarget {
  /** How many numbers the parameters hold. */
  parameters?: number;
  /** The title of the file's loss of two numbers, when it has exactly two. */
  surface?: string | null;
  dataset: { features: number; task: string } | null;
}

/**
 * The tools that apply to a training file, in card order: the Hessian for up to HESSIAN_MAX_PARAMS
 * numbers, the decision boundary for a classifier of two features, the trace of the parameter for a
 * one-parameter problem; the gradient check, the landscape and the playground always.
 */
export function analysesFor(t: AnalysisTarget): AnalysisKind[] {
  const n = t.parameters;
  const d = t.dataset;
  return ANALYSIS_KINDS.filter((k) =>
    k === 'hessian' ? n !== undefined && n <= HESSIAN_MAX_PARAMS
      : k === 'boundary' ? !!d && d.features === 2 && (d.task === 'binary' || d.task === 'multiclass')
        : k === 'trace' ? n === 1
          : true);
}

/**
 * The request the standalone report computes for each tool: the cards' defaults, with the 2-D slice
 * only where there are two directions to take, and the playground on the file's own loss where it has one.
 */
export function defaultRequest(kind: AnalysisKind, t: AnalysisTarget): AnalysisRequest {
  switch (kind) {
    case 'landscape':
      return { ...DEFAULT_LANDSCAPE, twoD: DEFAULT_LANDSCAPE.twoD && t.parameters !== 1 };
    case 'playground':
      return { kind, surface: t.surface ? 'file' : 'saddle', runs: DEFAULT_PLAYGROUND_RUNS.map((r) => ({ ...r })), steps: DEFAULT_PLAYGROUND_STEPS };
    default:
      return { kind };
  }
}
