/**
 * Optimizers (engine/optim): their update rules against @tensorflow/tfjs and against PyTorch's
 * published pseudocode, clipping, weight decay, options checking, reset, the two factory forms, and
 * that each one minimizes a quadratic through the real autograd.
 *
 * Cross-check against tfjs. Both libraries start from the same float32-representable parameters
 * and are fed the same pre-generated, seeded, float32-representable gradient sequence (nothing goes
 * through either autograd, so only the update rules are compared). Our parameters are float64;
 * tfjs computes and stores in float32. After every one of the 20 steps each parameter tensor is
 * compared with
 *
 *     err = max_i |ours_i − tfjs_i| / S,   S = largest |tfjs value| the tensor had over the run,
 *     err ≤ 1e-5,
 *
 * and the comparison is only accepted as meaningful if the tensor moved by at least 5% of S
 * (max_i |w20_i − w0_i| ≥ 0.05·S), so the bound is at most 2e-4 of the movement: an update rule that
 * is wrong by more than 0.02% of the movement fails. Why relative to S and not elementwise: tfjs
 * rounds each stored value to float32 at every step (≤ 6e-8·|w| each time, ≤ 1.2e-6·S over 20 steps),
 * which is an absolute error on the scale of the tensor's values, not of each element, so an element
 * that happens to sit near 0 would make an elementwise bound fail although both sides are right.
 *
 * Epsilon placement differs between the libraries (tfjs Adagrad adds its fixed backend epsilon 1e-7
 * inside the square root, tfjs RMSprop adds epsilon inside it and, centered, subtracts it; Adamax adds
 * it after the max), so the hyperparameters make epsilon negligible there: Adagrad starts its
 * accumulator at 0.1 (tfjs's default), so 1e-7 inside the root changes the step by < 5e-7 relative;
 * RMSprop/Adamax use eps = 1e-10 on both sides and every gradient has |g| ≥ 0.02·scale. Where epsilon
 * placement matters, the PyTorch-reference tests below use large epsilons instead.
 *
 * Largest errors seen: ~3e-7 of S for every case except Adam (2.3e-6): tfjs keeps β₂ᵗ as a float32
 * running product whose rounding shifts 1 − β₂ᵗ by up to 5e-6 relative in the first steps (see also
 * the note on β₂ at the cases). Set BPL_CROSSCHECK_REPORT=1 to print them.
 *
 * tfjs 4.22's Adadelta divides by the running mean of g² *before* this step's gradient is added
 * (adadelta_optimizer.js reads `accumulatedGrad` rather than `newAccumulatedGrad`; its first step is
 * exactly w − lr·g), while PyTorch (and Zeiler's paper) use the updated one. So for Adadelta one
 * plain-number reference implementation with a switch for that one line is checked against tfjs
 * (switch on, 1e-5) and against ours (switch off, float64 tolerance).
 *
 * The PyTorch-reference tests compare float64 against float64 with err ≤ 1e-10 (same formulas, only
 * the order of operations differs, so agreement is ~1e-15 per operation).
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng, Tensor, optim, param, scalar, tensor } from '../../engine/index';
import { useTfjsCpu } from './helpers';

type Optimizer = optim.Optimizer;

// ------------------------------------------------------------------------------------------------
// A problem: shapes, starting values, a gradient sequence
// ------------------------------------------------------------------------------------------------

interface Problem {
  shapes: number[][];
  w0: Float64Array[];
  /** grads[t][k]: the gradient of parameter k at step t + 1. */
  grads: Float64Array[][];
}

const SHAPES = [[5], [2, 3], [], [3, 1, 2]];
/** Gradient magnitude per parameter: scale-sensitive rules (SGD) and scale-free ones (Adam) both get exercised. */
const SCALES = [1, 10, 0.1, 1];
const STEPS = 20;

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Starting values ±U(0.2, 1); gradients = scale·(μ_i + 0.5·N(0, 1)) with a per-element mean
 * μ_i = ±U(0.2, 1) (so parameters drift steadily, as in training, instead of jittering in place),
 * kept at |g| ≥ 0.02·scale, all rounded to float32 so both libraries see exactly the same numbers.
 */
function makeProblem(seed: number, steps = STEPS, shapes = SHAPES): Problem {
  const rng = new Rng(seed);
  const sign = () => (rng.uniform() < 0.5 ? -1 : 1);
  const w0 = shapes.map((s) => Float64Array.from({ length: sizeOf(s) }, () => Math.fround(sign() * (0.2 + 0.8 * rng.uniform()))));
  const means = shapes.map((s) => Float64Array.from({ length: sizeOf(s) }, () => sign() * (0.2 + 0.8 * rng.uniform())));
  const grads: Float64Array[][] = [];
  for (let t = 0; t < steps; t++) {
    grads.push(shapes.map((s, k) => Float64Array.from({ length: sizeOf(s) }, (_, i) => {
      let g = means[k][i] + 0.5 * rng.normal();
      if (Math.abs(g) < 0.02) g = g < 0 ? -0.02 : 0.02;
      return Math.fround(SCALES[k % SCALES.length] * g);
    })));
  }
  return { shapes, w0, grads };
}

function p64(values: ArrayLike<number>, shape: number[], dtype: 'float32' | 'float64' = 'float64'): Tensor {
  return param(tensor(Float64Array.from(values), { shape, dtype }), { dtype });
}

/** Our optimizer on float64 (or float32) parameters: the parameter values after every step. */
function runOurs(pr: Problem, make: (ps: Tensor[]) => Optimizer, dtype: 'float32' | 'float64' = 'float64'): Float64Array[][] {
  const ps = pr.w0.map((w, k) => p64(w, pr.shapes[k], dtype));
  const opt = make(ps);
  const out: Float64Array[][] = [];
  for (const g of pr.grads) {
    ps.forEach((p, k) => { p.grad = tensor(g[k], { shape: pr.shapes[k], dtype }); });
    opt.step();
    out.push(ps.map((p) => Float64Array.from(p.data)));
  }
  return out;
}

let tfNameCounter = 0;

/** A tfjs optimizer on float32 variables, fed through applyGradients: the values after every step. */
function runTf(pr: Problem, make: () => tf.Optimizer): Float64Array[][] {
  const names = pr.shapes.map(() => `optim_test_${tfNameCounter++}`);
  const vars = pr.w0.map((w, k) => tf.tidy(() => tf.variable(tf.tensor(Float32Array.from(w), pr.shapes[k], 'float32'), true, names[k])));
  const opt = make();
  const out: Float64Array[][] = [];
  try {
    for (const g of pr.grads) {
      const map: tf.NamedTensorMap = {};
      names.forEach((name, k) => { map[name] = tf.tensor(Float32Array.from(g[k]), pr.shapes[k], 'float32'); });
      opt.applyGradients(map);
      tf.dispose(Object.values(map));
      out.push(vars.map((v) => Float64Array.from(v.dataSync())));
    }
  } finally {
    opt.dispose();
    vars.forEach((v) => v.dispose());
  }
  return out;
}

/**
 * A per-element update rule with its own state (a closure): the new value from the old one, the
 * gradient and the 1-based step. `store` is what storing into the parameter does (rounding to
 * float32 for float32 parameters), for a rule that stores w twice (AdamW's decay, then the step).
 */
type ElementRule = (w: number, g: number, t: number, store: (w: number) => number) => number;

/**
 * Runs a plain-number reference: every element gets a fresh rule (its own state). Options: float32
 * parameters (each stored value rounded; arithmetic in float64), and PyTorch's clipping before
 * the update: `clip_grad_value_` (clamp), then `clip_grad_norm_` over all gradients together.
 */
function runRef(pr: Problem, newRule: () => ElementRule, o: { dtype?: 'float32' | 'float64'; clipValue?: number; clipNorm?: number } = {}): Float64Array[][] {
  const store = o.dtype === 'float32' ? Math.fround : (x: number) => x;
  const w = pr.w0.map((x) => Float64Array.from(x, store));
  const rules = w.map((x) => Array.from(x, () => newRule()));
  const out: Float64Array[][] = [];
  pr.grads.forEach((step, t) => {
    let g = step.map((x) => Float64Array.from(x, store));
    if (o.clipValue !== undefined) g = g.map((x) => x.map((v) => Math.min(o.clipValue!, Math.max(-o.clipValue!, v))));
    if (o.clipNorm !== undefined) {
      const total = Math.sqrt(g.reduce((sum, x) => x.reduce((s, v) => s + v * v, sum), 0));
      const coef = Math.min(1, o.clipNorm / (total + 1e-6));
      g = g.map((x) => x.map((v) => v * coef));
    }
    w.forEach((wk, k) => { for (let i = 0; i < wk.length; i++) wk[i] = store(rules[k][i](wk[i], g[k][i], t + 1, store)); });
    out.push(w.map((x) => Float64Array.from(x)));
  });
  return out;
}

/**
 * Asserts two trajectories agree at every step within `tol` of each tensor's scale S (see the file
 * comment) and that every tensor moved by at least `minMove`·S, so the check is not vacuous.
 */
function assertTrajectoriesClose(what: string, ours: Float64Array[][], ref: Float64Array[][], w0: Float64Array[], tol: number, minMove = 0.05): number {
  assert.equal(ours.length, ref.length);
  let worst = 0;
  w0.forEach((start, k) => {
    let scale = 0;
    for (let i = 0; i < start.length; i++) scale = Math.max(scale, Math.abs(start[i]));
    for (const step of ref) for (const v of step[k]) scale = Math.max(scale, Math.abs(v));
    const last = ref[ref.length - 1][k];
    let moved = 0;
    for (let i = 0; i < start.length; i++) moved = Math.max(moved, Math.abs(last[i] - start[i]));
    assert.ok(moved >= minMove * scale, `${what}, parameter ${k}: moved only ${moved.toExponential(2)} (scale ${scale.toExponential(2)}); the comparison would say little`);
    ours.forEach((step, t) => {
      const a = step[k], b = ref[t][k];
      assert.equal(a.length, b.length);
      for (let i = 0; i < a.length; i++) {
        const err = Math.abs(a[i] - b[i]) / scale;
        worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
        assert.ok(err <= tol, `${what}, parameter ${k} element ${i} after step ${t + 1}: ${a[i]} vs reference ${b[i]} (error ${err.toExponential(3)} of scale ${scale.toExponential(3)} > ${tol})`);
      }
    });
  });
  return worst;
}

// ------------------------------------------------------------------------------------------------
// PyTorch's torch.optim pseudocode, one element at a time (written from the documentation, not from
// engine/optim). `t` is 1-based.
// ------------------------------------------------------------------------------------------------

const torchRef = {
  sgd: (o: { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }) => (): ElementRule => {
    let b: number | null = null;
    const mu = o.momentum ?? 0, tau = o.dampening ?? 0, wd = o.weightDecay ?? 0;
    return (w, g) => {
      if (wd !== 0) g = g + wd * w;
      if (mu !== 0) {
        b = b === null ? g : mu * b + (1 - tau) * g;
        g = o.nesterov ? g + mu * b : b;
      }
      return w - o.lr * g;
    };
  },
  adagrad: (o: { lr: number; lrDecay?: number; initialAccumulatorValue?: number; eps?: number; weightDecay?: number }) => (): ElementRule => {
    let stateSum = o.initialAccumulatorValue ?? 0;
    const eta = o.lrDecay ?? 0, eps = o.eps ?? 1e-10, wd = o.weightDecay ?? 0;
    return (w, g, t) => {
      const clr = o.lr / (1 + (t - 1) * eta);
      if (wd !== 0) g = g + wd * w;
      stateSum = stateSum + g * g;
      return w - (clr * g) / (Math.sqrt(stateSum) + eps);
    };
  },
  rmsprop: (o: { lr: number; alpha?: number; eps?: number; momentum?: number; centered?: boolean; weightDecay?: number }) => (): ElementRule => {
    let v = 0, gAve = 0, b = 0;
    const alpha = o.alpha ?? 0.99, eps = o.eps ?? 1e-8, mu = o.momentum ?? 0, wd = o.weightDecay ?? 0;
    return (w, g) => {
      if (wd !== 0) g = g + wd * w;
      v = alpha * v + (1 - alpha) * g * g;
      let vTilde = v;
      if (o.centered) {
        gAve = alpha * gAve + (1 - alpha) * g;
        vTilde = v - gAve * gAve;
      }
      if (mu > 0) {
        b = mu * b + g / (Math.sqrt(vTilde) + eps);
        return w - o.lr * b;
      }
      return w - (o.lr * g) / (Math.sqrt(vTilde) + eps);
    };
  },
  /** `staleSquareAvg`: divide by the running mean of g² from before this step (what tfjs 4.22 does). */
  adadelta: (o: { lr: number; rho: number; eps: number; weightDecay?: number; staleSquareAvg?: boolean }) => (): ElementRule => {
    let v = 0, u = 0;
    const wd = o.weightDecay ?? 0;
    return (w, g) => {
      if (wd !== 0) g = g + wd * w;
      const vBefore = v;
      v = o.rho * v + (1 - o.rho) * g * g;
      const dx = (Math.sqrt(u + o.eps) / Math.sqrt((o.staleSquareAvg ? vBefore : v) + o.eps)) * g;
      u = o.rho * u + (1 - o.rho) * dx * dx;
      return w - o.lr * dx;
    };
  },
  /** Adam as torch.optim.Adam computes it; `decoupled` makes it AdamW (θ ← θ − γλθ first). AMSGrad keeps max(v) and divides it by this step's bias correction (PyTorch's code; see pytorch/pytorch#142323 on its docs). */
  adam: (o: { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; amsgrad?: boolean; decoupled?: boolean }) => (): ElementRule => {
    let m = 0, v = 0, vMax = 0;
    const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    return (w, g, t, store) => {
      if (o.decoupled) w = store(w - o.lr * wd * w);
      else if (wd !== 0) g = g + wd * w;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const mHat = m / (1 - b1 ** t);
      let vHat = v / (1 - b2 ** t);
      if (o.amsgrad) {
        vMax = Math.max(vMax, v);
        vHat = vMax / (1 - b2 ** t);
      }
      return w - (o.lr * mHat) / (Math.sqrt(vHat) + eps);
    };
  },
  adamax: (o: { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number }) => (): ElementRule => {
    let m = 0, u = 0;
    const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0;
    return (w, g, t) => {
      if (wd !== 0) g = g + wd * w;
      m = b1 * m + (1 - b1) * g;
      u = Math.max(b2 * u, Math.abs(g) + eps);
      return w - (o.lr * m) / ((1 - b1 ** t) * u);
    };
  },
  nadam: (o: { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; momentumDecay?: number }) => (): ElementRule => {
    let m = 0, v = 0, muProduct = 1;
    const b1 = o.beta1 ?? 0.9, b2 = o.beta2 ?? 0.999, eps = o.eps ?? 1e-8, wd = o.weightDecay ?? 0, psi = o.momentumDecay ?? 4e-3;
    return (w, g, t) => {
      if (wd !== 0) g = g + wd * w;
      const muT = b1 * (1 - 0.5 * 0.96 ** (t * psi));
      const muT1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi));
      muProduct *= muT;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const mHat = (muT1 * m) / (1 - muProduct * muT1) + ((1 - muT) * g) / (1 - muProduct);
      const vHat = v / (1 - b2 ** t);
      return w - (o.lr * mHat) / (Math.sqrt(vHat) + eps);
    };
  },
};

/** One scalar float64 parameter, stepped with the given gradients; returns its value after each step. */
function scalarSteps(make: (ps: Tensor[]) => Optimizer, w0: number, grads: number[]): number[] {
  const p = p64([w0], []);
  const opt = make([p]);
  return grads.map((g) => {
    p.grad = tensor(g, { dtype: 'float64' });
    opt.step();
    return p.data[0];
  });
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (±${tol})`);
}

// ------------------------------------------------------------------------------------------------

describe('optimizers', function () {
  describe('against tfjs (CPU backend, float32), 20 steps of the same gradients', function () {
    useTfjsCpu(tf);

    const TOL = 1e-5;
    // tfjs holds every hyperparameter as a float32, so both sides get the float32 values. For Adam's
    // β₂ that is not enough: tfjs builds v with (1 − β₂) taken in float64 and then rounded, but divides
    // by 1 − β₂ᵗ from the float32 β₂; for β₂ = 0.999 the two disagree by 1.3e-5 (fround(1 − 0.999) vs
    // 1 − fround(0.999)), which biases its steps by 6e-6 for good. β₂ = 1 − 2⁻¹⁰ (≈ 0.999) is exact in
    // both forms. (β₁ = 0.9 has the same mismatch at only 2e-7.)
    const f = Math.fround;
    const B2 = 1 - 2 ** -10;
    const cases: { name: string; ours: (ps: Tensor[]) => Optimizer; theirs: () => tf.Optimizer }[] = [
      { name: 'sgd', ours: (ps) => optim.sgd(ps, { lr: f(0.1) }), theirs: () => tf.train.sgd(0.1) },
      { name: 'sgd with momentum', ours: (ps) => optim.sgd(ps, { lr: f(0.05), momentum: f(0.9) }), theirs: () => tf.train.momentum(0.05, 0.9, false) },
      { name: 'sgd with Nesterov momentum', ours: (ps) => optim.sgd(ps, { lr: f(0.05), momentum: f(0.9), nesterov: true }), theirs: () => tf.train.momentum(0.05, 0.9, true) },
      // tfjs starts the accumulator at 0.1 and adds its backend epsilon (1e-7) inside the square root
      { name: 'adagrad', ours: (ps) => optim.adagrad(ps, { lr: f(0.1), initialAccumulatorValue: f(0.1) }), theirs: () => tf.train.adagrad(0.1, 0.1) },
      // tfjs's `decay` is our (PyTorch's) alpha
      { name: 'rmsprop', ours: (ps) => optim.rmsprop(ps, { lr: f(0.02), alpha: f(0.9), eps: 1e-10 }), theirs: () => tf.train.rmsprop(0.02, 0.9, 0, 1e-10, false) },
      { name: 'rmsprop with momentum', ours: (ps) => optim.rmsprop(ps, { lr: f(0.02), alpha: f(0.9), momentum: f(0.8), eps: 1e-10 }), theirs: () => tf.train.rmsprop(0.02, 0.9, 0.8, 1e-10, false) },
      { name: 'rmsprop centered', ours: (ps) => optim.rmsprop(ps, { lr: f(0.02), alpha: f(0.9), centered: true, eps: 1e-10 }), theirs: () => tf.train.rmsprop(0.02, 0.9, 0, 1e-10, true) },
      { name: 'rmsprop centered with momentum', ours: (ps) => optim.rmsprop(ps, { lr: f(0.02), alpha: f(0.95), momentum: f(0.5), centered: true, eps: 1e-10 }), theirs: () => tf.train.rmsprop(0.02, 0.95, 0.5, 1e-10, true) },
      { name: 'adam', ours: (ps) => optim.adam(ps, { lr: f(0.05), beta1: f(0.9), beta2: B2, eps: 1e-8 }), theirs: () => tf.train.adam(0.05, 0.9, B2, 1e-8) },
      { name: 'adam (beta1 0.5, beta2 0.9)', ours: (ps) => optim.adam(ps, { lr: f(0.05), beta1: f(0.5), beta2: f(0.9), eps: 1e-8 }), theirs: () => tf.train.adam(0.05, 0.5, 0.9, 1e-8) },
      { name: 'adamax', ours: (ps) => optim.adamax(ps, { lr: f(0.05), beta1: f(0.9), beta2: f(0.999), eps: 1e-10 }), theirs: () => tf.train.adamax(0.05, 0.9, 0.999, 1e-10, 0) },
    ];
    const worst = new Map<string, number>();
    after(function () {
      if (!process.env.BPL_CROSSCHECK_REPORT) return;
      console.log([...worst].map(([k, v]) => `  ${v.toExponential(2).padStart(9)}  ${k}`).join('\n'));
    });
    for (const c of cases) {
      it(c.name, function () {
        const pr = makeProblem(101);
        worst.set(c.name, assertTrajectoriesClose(c.name, runOurs(pr, c.ours), runTf(pr, c.theirs), pr.w0, TOL));
      });
    }

    it('adadelta: the reference matches tfjs with its stale mean of g², and ours with PyTorch\'s', function () {
      const pr = makeProblem(102);
      const hyper = { lr: 1, rho: Math.fround(0.9), eps: Math.fround(1e-3) };
      const theirs = runTf(pr, () => tf.train.adadelta(hyper.lr, hyper.rho, hyper.eps));
      worst.set('adadelta', assertTrajectoriesClose('tfjs adadelta vs the reference (stale)', theirs, runRef(pr, torchRef.adadelta({ ...hyper, staleSquareAvg: true })), pr.w0, TOL));
      const ours = runOurs(pr, (ps) => optim.adadelta(ps, hyper));
      assertTrajectoriesClose('adadelta vs the reference (PyTorch)', ours, runRef(pr, torchRef.adadelta(hyper)), pr.w0, 1e-10);
    });
  });

  describe('against PyTorch\'s update rules (plain-number reference, 20 steps)', function () {
    const TOL = 1e-10;
    const cases: { name: string; ours: (ps: Tensor[]) => Optimizer; ref: () => ElementRule }[] = [
      {
        name: 'sgd with momentum, dampening and weight decay',
        ours: (ps) => optim.sgd(ps, { lr: 0.03, momentum: 0.9, dampening: 0.3, weightDecay: 0.05 }),
        ref: torchRef.sgd({ lr: 0.03, momentum: 0.9, dampening: 0.3, weightDecay: 0.05 }),
      },
      {
        name: 'sgd with Nesterov momentum and weight decay',
        ours: (ps) => optim.sgd(ps, { lr: 0.03, momentum: 0.8, nesterov: true, weightDecay: 0.1 }),
        ref: torchRef.sgd({ lr: 0.03, momentum: 0.8, nesterov: true, weightDecay: 0.1 }),
      },
      {
        name: 'adagrad with lrDecay, an initial accumulator, a large eps and weight decay',
        ours: (ps) => optim.adagrad(ps, { lr: 0.2, lrDecay: 0.1, initialAccumulatorValue: 0.2, eps: 0.05, weightDecay: 0.01 }),
        ref: torchRef.adagrad({ lr: 0.2, lrDecay: 0.1, initialAccumulatorValue: 0.2, eps: 0.05, weightDecay: 0.01 }),
      },
      {
        name: 'rmsprop centered with momentum, a large eps and weight decay',
        ours: (ps) => optim.rmsprop(ps, { lr: 0.02, alpha: 0.9, eps: 0.1, momentum: 0.7, centered: true, weightDecay: 0.02 }),
        ref: torchRef.rmsprop({ lr: 0.02, alpha: 0.9, eps: 0.1, momentum: 0.7, centered: true, weightDecay: 0.02 }),
      },
      {
        name: 'adadelta with weight decay',
        ours: (ps) => optim.adadelta(ps, { lr: 1, rho: 0.8, eps: 1e-2, weightDecay: 0.05 }),
        ref: torchRef.adadelta({ lr: 1, rho: 0.8, eps: 1e-2, weightDecay: 0.05 }),
      },
      {
        name: 'adam with a large eps and L2 weight decay',
        ours: (ps) => optim.adam(ps, { lr: 0.05, eps: 0.1, weightDecay: 0.1 }),
        ref: torchRef.adam({ lr: 0.05, eps: 0.1, weightDecay: 0.1 }),
      },
      {
        name: 'adam amsgrad',
        ours: (ps) => optim.adam(ps, { lr: 0.05, beta2: 0.9, eps: 1e-3, amsgrad: true }),
        ref: torchRef.adam({ lr: 0.05, beta2: 0.9, eps: 1e-3, amsgrad: true }),
      },
      {
        name: 'adamw (decoupled weight decay)',
        ours: (ps) => optim.adamw(ps, { lr: 0.05, weightDecay: 0.1 }),
        ref: torchRef.adam({ lr: 0.05, weightDecay: 0.1, decoupled: true }),
      },
      {
        name: 'adamw with its default weight decay (0.01)',
        ours: (ps) => optim.adamw(ps, { lr: 0.05 }),
        ref: torchRef.adam({ lr: 0.05, weightDecay: 0.01, decoupled: true }),
      },
      {
        name: 'adamax with a large eps and weight decay',
        ours: (ps) => optim.adamax(ps, { lr: 0.05, eps: 0.1, weightDecay: 0.05 }),
        ref: torchRef.adamax({ lr: 0.05, eps: 0.1, weightDecay: 0.05 }),
      },
      {
        name: 'nadam (defaults but lr)',
        ours: (ps) => optim.nadam(ps, { lr: 0.05 }),
        ref: torchRef.nadam({ lr: 0.05 }),
      },
      {
        name: 'nadam with a fast momentum schedule, eps and weight decay',
        ours: (ps) => optim.nadam(ps, { lr: 0.05, momentumDecay: 0.2, beta1: 0.8, beta2: 0.95, eps: 0.05, weightDecay: 0.05 }),
        ref: torchRef.nadam({ lr: 0.05, momentumDecay: 0.2, beta1: 0.8, beta2: 0.95, eps: 0.05, weightDecay: 0.05 }),
      },
    ];
    for (const c of cases) {
      it(c.name, function () {
        const pr = makeProblem(201);
        assertTrajectoriesClose(c.name, runOurs(pr, c.ours), runRef(pr, c.ref), pr.w0, TOL);
      });
    }

    it('the variants above are exercised: amsgrad, decoupled decay, dampening and the NAdam schedule change the result', function () {
      const pr = makeProblem(201);
      const last = (traj: Float64Array[][]) => traj[traj.length - 1].flatMap((a) => Array.from(a));
      const differ = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
      const pairs: [string, () => ElementRule, () => ElementRule][] = [
        ['amsgrad', torchRef.adam({ lr: 0.05, beta2: 0.9, eps: 1e-3, amsgrad: true }), torchRef.adam({ lr: 0.05, beta2: 0.9, eps: 1e-3 })],
        ['decoupled decay', torchRef.adam({ lr: 0.05, weightDecay: 0.1, decoupled: true }), torchRef.adam({ lr: 0.05, weightDecay: 0.1 })],
        ['dampening', torchRef.sgd({ lr: 0.03, momentum: 0.9, dampening: 0.3 }), torchRef.sgd({ lr: 0.03, momentum: 0.9 })],
        ['momentumDecay', torchRef.nadam({ lr: 0.05, momentumDecay: 0.2 }), torchRef.nadam({ lr: 0.05 })],
      ];
      for (const [what, a, b] of pairs) assert.ok(differ(last(runRef(pr, a)), last(runRef(pr, b))) > 1e-3, `${what} makes no difference on this problem`);
    });
  });

  describe('every optimizer and option, float64 and float32, with weight decay and clipping, against the PyTorch formulas', function () {
    // The update rules are data (engine/optim/rules.ts) run by an evaluator; the references are the
    // formulas written out above, with PyTorch's clipping, so a wrong rule, a wrong order of clipping
    // and weight decay, or an evaluator that rounds an intermediate shows up. One parameter has
    // 2,200 elements, more than one of the evaluator's chunks. float64: 1e-10 of each tensor's
    // scale, as above (largest seen 1.6e-15). float32: both sides compute in float64 and round each
    // stored weight, so they could differ only where a last-bit difference of the float64 value
    // crosses a float32 rounding boundary, ≤ 6e-8 of the scale (none seen: the same bits); an
    // evaluator with float32 intermediates is off by up to 2.5e-7 here.
    const TOL = { float64: 1e-10, float32: 1e-7 };
    const SHAPES_WITH_A_LARGE_ONE = [...SHAPES, [2, 1100]];
    type Opts = Record<string, number | boolean> & { lr: number };
    const variants: [optim.OptimizerName, Opts][] = [
      ['sgd', { lr: 0.05 }], ['sgd', { lr: 0.03, momentum: 0.9 }], ['sgd', { lr: 0.03, momentum: 0.9, dampening: 0.3 }], ['sgd', { lr: 0.03, momentum: 0.8, nesterov: true }],
      ['adagrad', { lr: 0.2 }], ['adagrad', { lr: 0.2, lrDecay: 0.1, initialAccumulatorValue: 0.2, eps: 0.05 }],
      ['rmsprop', { lr: 0.02 }], ['rmsprop', { lr: 0.02, alpha: 0.9, centered: true }], ['rmsprop', { lr: 0.02, momentum: 0.7, eps: 0.1 }],
      ['rmsprop', { lr: 0.02, alpha: 0.9, momentum: 0.7, centered: true, eps: 0.1 }],
      ['adadelta', { lr: 1 }], ['adadelta', { lr: 1, rho: 0.8, eps: 1e-2 }],
      ['adam', { lr: 0.05 }], ['adam', { lr: 0.05, beta1: 0.8, beta2: 0.9, eps: 1e-3, amsgrad: true }],
      ['adamw', { lr: 0.05 }], ['adamw', { lr: 0.05, beta2: 0.9, amsgrad: true }],
      ['adamax', { lr: 0.05 }], ['adamax', { lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 0.1 }],
      ['nadam', { lr: 0.05 }], ['nadam', { lr: 0.05, momentumDecay: 0.2, beta1: 0.8, beta2: 0.95, eps: 0.05 }],
    ];
    const extras: { weightDecay?: number; clipValue?: number; clipNorm?: number }[] = [
      {}, { weightDecay: 0.05 }, { clipValue: 2 }, { clipNorm: 10 }, { clipValue: 2, clipNorm: 10, weightDecay: 0.02 },
    ];
    const reference = (name: optim.OptimizerName, o: Opts): (() => ElementRule) => {
      switch (name) {
        case 'sgd': return torchRef.sgd(o);
        case 'adagrad': return torchRef.adagrad(o);
        case 'rmsprop': return torchRef.rmsprop(o);
        case 'adadelta': return torchRef.adadelta({ rho: 0.9, eps: 1e-6, ...o });
        case 'adam': return torchRef.adam(o);
        case 'adamw': return torchRef.adam({ weightDecay: 0.01, ...o, decoupled: true });
        case 'adamax': return torchRef.adamax(o);
        case 'nadam': return torchRef.nadam(o);
      }
    };
    const worst = { float64: 0, float32: 0 };
    after(function () {
      if (process.env.BPL_CROSSCHECK_REPORT) console.log(`  largest error of the scale: float64 ${worst.float64.toExponential(2)}, float32 ${worst.float32.toExponential(2)}`);
    });
    for (const dtype of ['float64', 'float32'] as const) {
      for (const [name, options] of variants) {
        it(`${dtype} ${name} ${JSON.stringify(options)}, alone, with weight decay, clipValue, clipNorm, all three`, function () {
          const pr = makeProblem(401, STEPS, SHAPES_WITH_A_LARGE_ONE);
          for (const extra of extras) {
            const o = { ...options, ...extra };
            const what = `${dtype} ${name} ${JSON.stringify(o)}`;
            const ours = runOurs(pr, (ps) => optim.spec(name, o).create(ps), dtype);
            const ref = runRef(pr, reference(name, o), { dtype, clipValue: extra.clipValue, clipNorm: extra.clipNorm });
            worst[dtype] = Math.max(worst[dtype], assertTrajectoriesClose(what, ours, ref, pr.w0, TOL[dtype], 0.01));
          }
        });
      }
    }
  });

  describe('hand-computed steps', function () {
    it('sgd with momentum 0.9, dampening 0.5, weight decay 0.1 (w0 = 2, g = 0.5, lr 0.1)', function () {
      // step 1: g' = 0.5 + 0.1·2 = 0.7; buf = 0.7 (no dampening on the first step); w = 2 − 0.07 = 1.93
      // step 2: g' = 0.5 + 0.1·1.93 = 0.693; buf = 0.9·0.7 + 0.5·0.693 = 0.9765; w = 1.93 − 0.09765 = 1.83235
      const [w1, w2] = scalarSteps((ps) => optim.sgd(ps, { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0.1 }), 2, [0.5, 0.5]);
      close(w1, 1.93, 1e-12, 'step 1');
      close(w2, 1.83235, 1e-12, 'step 2');
    });

    it('sgd with Nesterov momentum 0.5 (w0 = 1, g = 1 then 1, lr 0.1)', function () {
      // step 1: buf = 1; w = 1 − 0.1·(1 + 0.5·1) = 0.85; step 2: buf = 0.5 + 1 = 1.5; w = 0.85 − 0.1·(1 + 0.75) = 0.675
      const [w1, w2] = scalarSteps((ps) => optim.sgd(ps, { lr: 0.1, momentum: 0.5, nesterov: true }), 1, [1, 1]);
      close(w1, 0.85, 1e-12, 'step 1');
      close(w2, 0.675, 1e-12, 'step 2');
    });

    it('adagrad with lrDecay 0.5 (w0 = 1, g = 2, lr 0.1, eps 0)', function () {
      // step 1: lr/(1 + 0·0.5) = 0.1; sum = 4; w = 1 − 0.1·2/2 = 0.9
      // step 2: lr/(1 + 1·0.5) = 0.0667; sum = 8; w = 0.9 − 0.0667·2/√8 = 0.9 − 0.0471405 = 0.8528595
      const [w1, w2] = scalarSteps((ps) => optim.adagrad(ps, { lr: 0.1, lrDecay: 0.5, eps: 0 }), 1, [2, 2]);
      close(w1, 0.9, 1e-12, 'step 1');
      close(w2, 0.8528595, 1e-7, 'step 2');
    });

    it('adagrad puts eps outside the square root (w0 = 0, g = 1, lr 1, eps 1): w = −1/(1 + 1) = −0.5', function () {
      const [w1] = scalarSteps((ps) => optim.adagrad(ps, { lr: 1, eps: 1 }), 0, [1]);
      close(w1, -0.5, 1e-12, 'step 1'); // inside the root it would be −1/√2
    });

    it('rmsprop (alpha 0.75, eps 0.5, w0 = 0, g = 2, lr 1): v = 0.25·4 = 1, w = −2/(1 + 0.5) = −4/3', function () {
      const [w1] = scalarSteps((ps) => optim.rmsprop(ps, { lr: 1, alpha: 0.75, eps: 0.5 }), 0, [2]);
      close(w1, -4 / 3, 1e-12, 'step 1');
    });

    it('rmsprop centered (alpha 0.5, eps 0, w0 = 0, g = 2, lr 1): v = 2, ḡ = 1, w = −2/√(2 − 1) = −2', function () {
      const [w1] = scalarSteps((ps) => optim.rmsprop(ps, { lr: 1, alpha: 0.5, eps: 0, centered: true }), 0, [2]);
      close(w1, -2, 1e-12, 'step 1');
    });

    it('adadelta (rho 0.5, eps 1, w0 = 0, g = 2, lr 1): v = 2, Δ = √1/√3·2, w = −2/√3', function () {
      const [w1] = scalarSteps((ps) => optim.adadelta(ps, { lr: 1, rho: 0.5, eps: 1 }), 0, [2]);
      close(w1, -1.1547005, 1e-7, 'step 1');
    });

    it('adam amsgrad keeps the larger second moment (w0 = 1, g = 0.5 then 0, lr 0.1)', function () {
      // step 1 (both): m̂ = g, v̂ = g², w = 1 − 0.1·0.5/(0.5 + 1e-8) = 0.900000002
      // step 2, g = 0: m = 0.045, m̂ = 0.045/0.19; v = 0.999·2.5e-4 shrinks, amsgrad keeps 2.5e-4
      const amsgrad = scalarSteps((ps) => optim.adam(ps, { lr: 0.1, amsgrad: true }), 1, [0.5, 0]);
      const plain = scalarSteps((ps) => optim.adam(ps, { lr: 0.1 }), 1, [0.5, 0]);
      close(amsgrad[0], 0.900000002, 1e-12, 'amsgrad step 1');
      close(plain[0], 0.900000002, 1e-12, 'adam step 1');
      const bc2 = 1 - 0.999 ** 2;
      close(amsgrad[1], amsgrad[0] - (0.1 * (0.045 / 0.19)) / (Math.sqrt(2.5e-4 / bc2) + 1e-8), 1e-12, 'amsgrad step 2');
      close(plain[1], plain[0] - (0.1 * (0.045 / 0.19)) / (Math.sqrt((0.999 * 2.5e-4) / bc2) + 1e-8), 1e-12, 'adam step 2');
      assert.ok(amsgrad[1] > plain[1], 'amsgrad divides by the larger second moment, so it steps less');
    });

    it('adamw decays the weight, adam with weightDecay adds it to the gradient (w0 = 1, g = 0.5, lr 0.1, λ 0.1, eps 0)', function () {
      // adamw: w·(1 − 0.1·0.1) = 0.99, then the Adam step −0.1·sign(g) → 0.89
      // adam + L2: g' = 0.5 + 0.1·1 = 0.6, first Adam step −0.1·sign(g') → 0.9
      const [adamw] = scalarSteps((ps) => optim.adamw(ps, { lr: 0.1, weightDecay: 0.1, eps: 0 }), 1, [0.5]);
      const [adamL2] = scalarSteps((ps) => optim.adam(ps, { lr: 0.1, weightDecay: 0.1, eps: 0 }), 1, [0.5]);
      close(adamw, 0.89, 1e-12, 'adamw');
      close(adamL2, 0.9, 1e-12, 'adam with weight decay');
    });

    it('adamax adds eps to |g| inside the max (w0 = 1, g = 0.5 then 0.1, lr 0.1, eps 0.5)', function () {
      // step 1: m = 0.05, u = max(0, 0.5 + 0.5) = 1; w = 1 − (0.1/0.1)·0.05/1 = 0.95
      // step 2: m = 0.045 + 0.01 = 0.055, u = max(0.999·1, 0.1 + 0.5) = 0.999; w = 0.95 − (0.1/0.19)·0.055/0.999 = 0.9210237
      // (eps added after the max, as tfjs does, would give u + eps = max(0.4995, 0.1) + 0.5 = 0.9995 → 0.9210382)
      const [w1, w2] = scalarSteps((ps) => optim.adamax(ps, { lr: 0.1, eps: 0.5 }), 1, [0.5, 0.1]);
      close(w1, 0.95, 1e-12, 'step 1');
      close(w2, 0.9210237, 1e-7, 'step 2');
    });

    it('nadam step 1 (w0 = 1, g = 0.5, lr 0.1, eps 0, defaults otherwise)', function () {
      // μ₁ = 0.9·(1 − ½·0.96^0.004) = 0.4500735, μ₂ = 0.9·(1 − ½·0.96^0.008) = 0.4501469;
      // m = 0.05, v̂ = g² so √v̂ = 0.5;
      // w = 1 − 0.1·[μ₂·0.05/(1 − μ₁μ₂) + (1 − μ₁)·0.5/(1 − μ₁)]/0.5 = 1 − 0.1·(1 + 0.1·μ₂/(1 − μ₁μ₂)) = 0.8943548
      const [w1] = scalarSteps((ps) => optim.nadam(ps, { lr: 0.1, eps: 0 }), 1, [0.5]);
      close(w1, 0.8943548, 1e-6, 'step 1');
      const mu1 = 0.9 * (1 - 0.5 * 0.96 ** 0.004), mu2 = 0.9 * (1 - 0.5 * 0.96 ** 0.008);
      close(w1, 1 - 0.1 * (1 + (0.1 * mu2) / (1 - mu1 * mu2)), 1e-14, 'step 1 (closed form)');
    });
  });

  describe('the textbook variants (Goodfellow et al., Deep Learning, ch. 8), one option away from PyTorch\'s defaults', function () {
    // The references are the book's algorithms, one element at a time, written from the text (not
    // from engine/optim): δ is the optimizer's eps, ε its lr, ρ its alpha / beta.
    const book = {
      /** Alg. 8.4 with δ under the root: r ← r + g²; θ ← θ − ε·g/√(δ + r). */
      adagradInside: (lr: number, delta: number) => (): ElementRule => {
        let r = 0;
        return (w, g) => { r += g * g; return w - (lr / Math.sqrt(delta + r)) * g; };
      },
      /** Alg. 8.5: r ← ρr + (1 − ρ)g²; θ ← θ − ε/√(δ + r)·g. */
      rmsprop: (lr: number, rho: number, delta: number) => (): ElementRule => {
        let r = 0;
        return (w, g) => { r = rho * r + (1 - rho) * g * g; return w - (lr / Math.sqrt(delta + r)) * g; };
      },
      /** Alg. 8.7, the correction optional and δ outside or inside the root. */
      adam: (lr: number, rho1: number, rho2: number, delta: number, o: { corrected: boolean; inside: boolean }) => (): ElementRule => {
        let s = 0, r = 0;
        return (w, g, t) => {
          s = rho1 * s + (1 - rho1) * g;
          r = rho2 * r + (1 - rho2) * g * g;
          const sHat = o.corrected ? s / (1 - rho1 ** t) : s;
          const rHat = o.corrected ? r / (1 - rho2 ** t) : r;
          return w - (lr * sHat) / (o.inside ? Math.sqrt(rHat + delta) : Math.sqrt(rHat) + delta);
        };
      },
      /**
       * Alg. 8.3: θ̃ ← θ + αv; g at θ̃; v ← αv − εg; θ ← θ + v. The parameter we compare is where the
       * next gradient is taken, θ̃ = θ + αv (the gradients are given, as if taken there).
       */
      nesterov: (lr: number, alpha: number, weightDecay = 0) => (): ElementRule => {
        let v = 0, theta: number | null = null;
        return (w, g) => {
          theta ??= w; // θ̃ = θ at the start (v = 0)
          const lookAhead = theta + alpha * v;
          g += weightDecay * lookAhead;
          v = alpha * v - lr * g;
          theta += v;
          return theta + alpha * v;
        };
      },
    };
    const cases: { name: string; ours: (ps: Tensor[]) => Optimizer; ref: () => ElementRule }[] = [
      { name: 'adagrad, eps inside the root', ours: (ps) => optim.adagrad(ps, { lr: 0.2, eps: 0.05, epsInsideSqrt: true }), ref: book.adagradInside(0.2, 0.05) },
      { name: 'rmsprop, eps inside the root (Alg. 8.5)', ours: (ps) => optim.rmsprop(ps, { lr: 0.02, alpha: 0.9, eps: 0.1, epsInsideSqrt: true }), ref: book.rmsprop(0.02, 0.9, 0.1) },
      { name: 'adam (Alg. 8.7, PyTorch\'s form)', ours: (ps) => optim.adam(ps, { lr: 0.05, eps: 0.1 }), ref: book.adam(0.05, 0.9, 0.999, 0.1, { corrected: true, inside: false }) },
      { name: 'adam, eps inside the root', ours: (ps) => optim.adam(ps, { lr: 0.05, eps: 0.1, epsInsideSqrt: true }), ref: book.adam(0.05, 0.9, 0.999, 0.1, { corrected: true, inside: true }) },
      { name: 'adam without bias correction', ours: (ps) => optim.adam(ps, { lr: 0.05, eps: 0.1, biasCorrection: false }), ref: book.adam(0.05, 0.9, 0.999, 0.1, { corrected: false, inside: false }) },
      { name: 'adam without bias correction, eps inside', ours: (ps) => optim.adam(ps, { lr: 0.05, beta1: 0.8, beta2: 0.9, eps: 0.1, biasCorrection: false, epsInsideSqrt: true }), ref: book.adam(0.05, 0.8, 0.9, 0.1, { corrected: false, inside: true }) },
      { name: 'sgd, Nesterov in the look-ahead form (Alg. 8.3)', ours: (ps) => optim.sgd(ps, { lr: 0.03, momentum: 0.8, nesterov: 'lookahead' }), ref: book.nesterov(0.03, 0.8) },
      { name: 'sgd, Nesterov look-ahead, weight decay at the look-ahead point', ours: (ps) => optim.sgd(ps, { lr: 0.03, momentum: 0.8, nesterov: 'lookahead', weightDecay: 0.1 }), ref: book.nesterov(0.03, 0.8, 0.1) },
    ];
    for (const c of cases) {
      it(`${c.name}: 20 steps, float64, within 1e-10 of the book's formula`, function () {
        const pr = makeProblem(301);
        assertTrajectoriesClose(c.name, runOurs(pr, c.ours), runRef(pr, c.ref), pr.w0, 1e-10);
      });
    }

    it('each option changes the trajectory (so the cases above test something)', function () {
      const pr = makeProblem(301);
      const last = (make: (ps: Tensor[]) => Optimizer) => runOurs(pr, make).at(-1)!.flatMap((a) => Array.from(a));
      const differ = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
      const pairs: [string, (ps: Tensor[]) => Optimizer, (ps: Tensor[]) => Optimizer][] = [
        ['adagrad epsInsideSqrt', (ps) => optim.adagrad(ps, { lr: 0.2, eps: 0.05, epsInsideSqrt: true }), (ps) => optim.adagrad(ps, { lr: 0.2, eps: 0.05 })],
        ['rmsprop epsInsideSqrt', (ps) => optim.rmsprop(ps, { lr: 0.02, eps: 0.1, epsInsideSqrt: true }), (ps) => optim.rmsprop(ps, { lr: 0.02, eps: 0.1 })],
        ['adam epsInsideSqrt', (ps) => optim.adam(ps, { lr: 0.05, eps: 0.1, epsInsideSqrt: true }), (ps) => optim.adam(ps, { lr: 0.05, eps: 0.1 })],
        ['adam biasCorrection', (ps) => optim.adam(ps, { lr: 0.05, biasCorrection: false }), (ps) => optim.adam(ps, { lr: 0.05 })],
      ];
      for (const [what, a, b] of pairs) assert.ok(differ(last(a), last(b)) > 1e-3, `${what} makes no difference on this problem`);
    });

    it('adam without bias correction, hand-computed (w0 = 1, g = 0.5, lr 0.1, eps 0): m = 0.05, v = 2.5e-4, w = 1 − 0.1·0.05/0.0158114 = 0.6837722', function () {
      const [corrected] = scalarSteps((ps) => optim.adam(ps, { lr: 0.1, eps: 0 }), 1, [0.5]);
      const [plain] = scalarSteps((ps) => optim.adam(ps, { lr: 0.1, eps: 0, biasCorrection: false }), 1, [0.5]);
      close(corrected, 0.9, 1e-12, 'bias-corrected: the first step is lr·sign(g)');
      close(plain, 0.6837722, 1e-7, 'uncorrected: lr·(1 − β₁)/√(1 − β₂)·sign(g)');
    });

    it('eps inside the root, hand-computed (w0 = 0, g = 1, lr 1, eps 1): adagrad −1/√2, rmsprop (alpha 0.75) −1/√1.25, adam −1/√2', function () {
      close(scalarSteps((ps) => optim.adagrad(ps, { lr: 1, eps: 1, epsInsideSqrt: true }), 0, [1])[0], -1 / Math.SQRT2, 1e-12, 'adagrad');
      close(scalarSteps((ps) => optim.rmsprop(ps, { lr: 1, alpha: 0.75, eps: 1, epsInsideSqrt: true }), 0, [1])[0], -1 / Math.sqrt(1.25), 1e-12, 'rmsprop: r = 0.25');
      close(scalarSteps((ps) => optim.adam(ps, { lr: 1, eps: 1, epsInsideSqrt: true }), 0, [1])[0], -1 / Math.SQRT2, 1e-12, 'adam: m̂ = 1, v̂ = 1');
      close(scalarSteps((ps) => optim.rmsprop(ps, { lr: 1, alpha: 0.5, eps: 1, centered: true, epsInsideSqrt: true }), 0, [2])[0], -2 / Math.sqrt(2 - 1 + 1), 1e-12, 'rmsprop centered: v = 2, ḡ = 1');
    });

    it('Nesterov look-ahead on f(θ) = θ² through autograd (θ0 = 1, lr 0.1, μ 0.9), and with lr changed between steps it is not PyTorch\'s', function () {
      // step 1: g(1) = 2, v = −0.2, θ = 0.8, w = θ + μv = 0.62
      // step 2: g(0.62) = 1.24, v = −0.18 − 0.124 = −0.304, θ = 0.496, w = 0.496 − 0.2736 = 0.2224 (PyTorch's w₂ too)
      // with lr 0.05 at step 2: v = −0.18 − 0.062 = −0.242, θ = 0.558, w = 0.558 − 0.2178 = 0.3402;
      // PyTorch's buffer is in gradient units: b = 0.9·2 + 1.24 = 3.04, w = 0.62 − 0.05·(1.24 + 2.736) = 0.4212
      const run = (nesterov: true | 'lookahead', lrs: number[]) => {
        const x = p64([1], []);
        const opt = optim.sgd([x], { lr: lrs[0], momentum: 0.9, nesterov });
        return lrs.map((lr) => {
          opt.zeroGrad();
          opt.lr = lr;
          x.pow(2).backward();
          opt.step();
          return { w: x.data[0], velocity: opt.stateOf(x)!.velocity?.[0] };
        });
      };
      const [a1, a2] = run('lookahead', [0.1, 0.1]);
      close(a1.w, 0.62, 1e-12, 'look-ahead point after step 1');
      close(a1.velocity!, -0.2, 1e-12, 'velocity after step 1');
      close(a1.w - 0.9 * a1.velocity!, 0.8, 1e-12, 'θ after step 1 (the slide\'s)');
      close(a2.w, 0.2224, 1e-12, 'look-ahead point after step 2');
      close(a2.w - 0.9 * a2.velocity!, 0.496, 1e-12, 'θ after step 2');
      close(run(true, [0.1, 0.1])[1].w, 0.2224, 1e-12, 'PyTorch\'s form, constant lr: the same points');
      close(run('lookahead', [0.1, 0.05])[1].w, 0.3402, 1e-12, 'look-ahead form, lr 0.05 at step 2');
      close(run(true, [0.1, 0.05])[1].w, 0.4212, 1e-12, 'PyTorch\'s form, lr 0.05 at step 2');
    });

    it('weightDecay = 2λ is the penalty λ‖W‖² added to the loss (20 steps of SGD with momentum through autograd)', function () {
      const lambda = 0.05;
      const run = (penaltyInLoss: boolean) => {
        const w = p64([0.5, -1, 2], [3]);
        const target = tensor([1, 0.5, -0.5], { dtype: 'float64' });
        const opt = optim.sgd([w], { lr: 0.1, momentum: 0.9, weightDecay: penaltyInLoss ? 0 : 2 * lambda });
        for (let t = 0; t < 20; t++) {
          opt.zeroGrad();
          const data = w.sub(target).pow(2).sum();
          (penaltyInLoss ? data.add(w.pow(2).sum().mul(lambda)) : data).backward();
          opt.step();
        }
        return Array.from(w.data);
      };
      const viaLoss = run(true), viaDecay = run(false);
      viaLoss.forEach((v, i) => close(viaDecay[i], v, 1e-12, `w[${i}]`));
      assert.ok(Math.abs(viaLoss[0] - 1) > 0.01, 'the penalty moved the weights away from the target');
    });

    it('refuses a textbook option where it does not apply, or of the wrong type', function () {
      assert.throws(() => optim.adamax({ biasCorrection: false }), /optim\.adamax: biasCorrection is an option of adam and adamw only/);
      assert.throws(() => optim.nadam({ epsInsideSqrt: true }), /optim\.nadam: epsInsideSqrt is an option of adam and adamw only/);
      assert.throws(() => optim.adam({ biasCorrection: 0 as never }), /optim\.adam: biasCorrection must be true or false, got 0/);
      assert.throws(() => optim.sgd({ momentum: 0.9, nesterov: 'ahead' as never }), /nesterov must be true, false or 'lookahead', got "ahead"/);
      assert.throws(() => optim.sgd({ nesterov: 'lookahead' }), /nesterov needs momentum > 0/);
      assert.deepEqual(
        [optim.adam([param([1])]).config().biasCorrection, optim.adam([param([1])]).config().epsInsideSqrt, optim.rmsprop([param([1])]).config().epsInsideSqrt],
        [true, false, false], 'PyTorch\'s forms are the defaults',
      );
    });
  });

  describe('clipping', function () {
    it('clipNorm rescales all gradients together to the max norm, before the update', function () {
      // gradients (3, 4) and (12): global norm 13; clipped to 6.5 they halve (to within the 1e-6 that keeps the division safe)
      const a = p64([0, 0], [2]), b = p64([0], [1]);
      const opt = optim.sgd([a, b], { lr: 1, clipNorm: 6.5 });
      a.grad = tensor([3, 4], { dtype: 'float64' });
      b.grad = tensor([12], { dtype: 'float64' });
      opt.step();
      assert.equal(opt.lastGradNorm, 13);
      const moved = [...a.data, ...b.data];
      [-1.5, -2, -6].forEach((want, i) => close(moved[i], want, 1e-6, `element ${i}`));
      const norm = Math.hypot(...moved);
      assert.ok(norm <= 6.5 && norm > 6.5 - 1e-5, `clipped norm ${norm}`);
    });

    it('clipNorm leaves gradients below the max norm alone', function () {
      const a = p64([0, 0], [2]);
      const opt = optim.sgd([a], { lr: 1, clipNorm: 5.0001 });
      a.grad = tensor([3, 4], { dtype: 'float64' });
      opt.step();
      assert.deepEqual([...a.data], [-3, -4]);
      assert.equal(opt.lastGradNorm, 5);
    });

    it('clipValue clamps each element', function () {
      const a = p64([0, 0, 0, 0], [4]);
      const opt = optim.sgd([a], { lr: 1, clipValue: 1 });
      a.grad = tensor([-3, 0.25, 5, -1], { dtype: 'float64' });
      opt.step();
      assert.deepEqual([...a.data], [1, -0.25, -1, 1]);
      close(opt.lastGradNorm, Math.sqrt(9 + 0.0625 + 25 + 1), 1e-12, 'lastGradNorm (the norm before clipping)');
    });

    it('lastGradNorm is reported without clipping too, over every parameter with a gradient', function () {
      const a = p64([1, 2], [2]), b = p64([1, 1], [1, 2]), c = p64([5], [1]);
      const opt = optim.adam([a, b, c], { lr: 0.01 });
      a.grad = tensor([1, 2], { dtype: 'float64' });
      b.grad = tensor([[2, 4]], { dtype: 'float64' });
      opt.step();
      close(opt.lastGradNorm, 5, 1e-12, 'norm of (1, 2, 2, 4)');
    });

    it('clipGradNorm rescales p.grad in place and returns the norm before clipping', function () {
      const a = p64([0, 0], [2]), b = p64([0], [1]), frozen = p64([7], [1]);
      a.grad = tensor([3, 4], { dtype: 'float64' });
      b.grad = tensor([12], { dtype: 'float64' });
      const norm = optim.clipGradNorm([a, b, frozen], 1);
      assert.equal(norm, 13);
      assert.equal(frozen.grad, null, 'a parameter without a gradient keeps none');
      const g = [...a.grad!.data, ...b.grad!.data];
      [3 / 13, 4 / 13, 12 / 13].forEach((want, i) => close(g[i], want, 1e-6, `clipped gradient ${i}`));
      assert.deepEqual(a.grad!.shape, [2]);
      // below the limit: unchanged
      const before = [...a.grad!.data];
      assert.ok(Math.abs(optim.clipGradNorm([a], 2) - 5 / 13) < 1e-6);
      assert.deepEqual([...a.grad!.data], before);
    });

    it('clipGradValue clamps p.grad in place', function () {
      const a = p64([0, 0, 0], [3]);
      a.grad = tensor([-2, 0.5, 3], { dtype: 'float64' });
      optim.clipGradValue([a], 1);
      assert.deepEqual([...a.grad!.data], [-1, 0.5, 1]);
    });

    it('the clipping functions reject a non-positive limit', function () {
      assert.throws(() => optim.clipGradNorm([], 0), /clipGradNorm: maxNorm must be > 0, got 0/);
      assert.throws(() => optim.clipGradValue([], -1), /clipGradValue: clipValue must be > 0, got -1/);
    });
  });

  describe('behaviour', function () {
    it('weight decay changes the update by lr·λ·w (sgd)', function () {
      const [plain] = scalarSteps((ps) => optim.sgd(ps, { lr: 0.1 }), 3, [1]);
      const [decayed] = scalarSteps((ps) => optim.sgd(ps, { lr: 0.1, weightDecay: 0.2 }), 3, [1]);
      close(plain, 2.9, 1e-12, 'plain');
      close(decayed, 3 - 0.1 * (1 + 0.2 * 3), 1e-12, 'decayed'); // 2.84
    });

    it('a parameter with a null gradient is skipped (no update, no state), the others are updated', function () {
      for (const name of optim.OPTIMIZER_NAMES) {
        const a = p64([1, 2], [2]), b = p64([3, 4], [2]);
        const opt = optim.spec(name, { lr: 0.1 }).create([a, b]);
        a.grad = tensor([0.5, -0.5], { dtype: 'float64' });
        opt.step();
        assert.deepEqual([...b.data], [3, 4], `${name}: the parameter without a gradient moved`);
        assert.equal(opt.stateOf(b), undefined, `${name}: state was created for the parameter without a gradient`);
        assert.ok(a.data[0] < 1 && a.data[1] > 2, `${name}: the parameter with a gradient did not move downhill`);
      }
    });

    it('a gradient of the wrong size is an error', function () {
      const a = p64([1, 2], [2]);
      const opt = optim.sgd([a], { lr: 0.1 });
      a.grad = tensor([1, 2, 3], { dtype: 'float64' });
      assert.throws(() => opt.step(), /optim\.sgd: the gradient of .* has 3 elements, the parameter 2/);
    });

    it('float32 parameters are updated in place too', function () {
      const w = param([1, -1]);
      const data = w.data;
      const opt = optim.sgd([w], { lr: 0.5 });
      w.grad = tensor([0.5, -0.25]);
      opt.step();
      assert.equal(w.data, data, 'the same storage');
      assert.ok(w.data instanceof Float32Array);
      assert.deepEqual([...w.data], [0.75, -0.875]);
    });

    it('reset() forgets the moments, the step count and a changed lr: the next steps equal a fresh optimizer\'s', function () {
      for (const name of optim.OPTIMIZER_NAMES) {
        const pr = makeProblem(301, 6);
        const spec = optim.spec(name, { lr: 0.05 });
        const ps = pr.w0.map((w, k) => p64(w, pr.shapes[k]));
        const opt = spec.create(ps);
        const feed = (t: number) => ps.forEach((p, k) => { p.grad = tensor(pr.grads[t][k], { shape: pr.shapes[k], dtype: 'float64' }); });
        for (let t = 0; t < 3; t++) { feed(t); opt.step(); }
        opt.lr = 0.5;
        opt.reset();
        assert.equal(opt.stepCount, 0);
        assert.equal(opt.lr, 0.05);
        ps.forEach((p) => assert.equal(opt.stateOf(p), undefined, `${name}: state survived reset()`));
        const restart = ps.map((p) => Float64Array.from(p.data));
        for (let t = 3; t < 6; t++) { feed(t); opt.step(); }

        const fresh = restart.map((w, k) => p64(w, pr.shapes[k]));
        const opt2 = spec.create(fresh);
        for (let t = 3; t < 6; t++) {
          fresh.forEach((p, k) => { p.grad = tensor(pr.grads[t][k], { shape: pr.shapes[k], dtype: 'float64' }); });
          opt2.step();
        }
        ps.forEach((p, k) => assert.deepEqual([...p.data], [...fresh[k].data], `${name}: after reset() the updates differ from a fresh optimizer's`));
      }
    });

    it('the lr can be changed between steps (what a schedule does)', function () {
      const [w1, w2] = (() => {
        const p = p64([0], []);
        const opt = optim.sgd([p], { lr: 1 });
        const out: number[] = [];
        for (const lr of [1, 0.25]) {
          opt.lr = lr;
          p.grad = tensor(1, { dtype: 'float64' });
          opt.step();
          out.push(p.data[0]);
        }
        return out;
      })();
      assert.equal(w1, -1);
      assert.equal(w2, -1.25);
    });

    it('zeroGrad() clears every gradient', function () {
      const a = p64([1], [1]), b = p64([2], [1]);
      const opt = optim.sgd([a, b]);
      a.grad = tensor([1], { dtype: 'float64' });
      b.grad = tensor([1], { dtype: 'float64' });
      opt.zeroGrad();
      assert.equal(a.grad, null);
      assert.equal(b.grad, null);
    });
  });

  describe('options', function () {
    const p = () => [p64([1], [1])];
    const bad: [string, () => unknown, RegExp][] = [
      ['lr < 0', () => optim.sgd(p(), { lr: -0.1 }), /optim\.sgd: lr must be a number ≥ 0, got -0\.1/],
      ['lr NaN', () => optim.adam(p(), { lr: NaN }), /optim\.adam: lr must be a number ≥ 0, got NaN/],
      ['beta1 = 1', () => optim.adam(p(), { beta1: 1 }), /optim\.adam: beta1 and beta2 must be < 1/],
      ['beta2 = 1 (nadam)', () => optim.nadam(p(), { beta2: 1 }), /optim\.nadam: beta1 and beta2 must be < 1/],
      ['beta1 > 1', () => optim.adamax(p(), { beta1: 1.5 }), /optim\.adamax: beta1 must be a number ≥ 0 and ≤ 1, got 1\.5/],
      ['nesterov without momentum', () => optim.sgd(p(), { nesterov: true }), /optim\.sgd: nesterov needs momentum > 0 and dampening 0/],
      ['nesterov with dampening', () => optim.sgd(p(), { nesterov: true, momentum: 0.9, dampening: 0.1 }), /nesterov needs momentum > 0 and dampening 0/],
      ['dampening > 1', () => optim.sgd(p(), { momentum: 0.9, dampening: 2 }), /optim\.sgd: dampening must be a number ≥ 0 and ≤ 1, got 2/],
      ['negative weight decay', () => optim.adamw(p(), { weightDecay: -1 }), /optim\.adamw: weightDecay must be a number ≥ 0, got -1/],
      ['clipNorm 0', () => optim.sgd(p(), { clipNorm: 0 }), /optim\.sgd: clipNorm must be a number > 0, got 0/],
      ['clipValue negative', () => optim.sgd(p(), { clipValue: -1 }), /optim\.sgd: clipValue must be a number > 0, got -1/],
      ['rmsprop alpha > 1', () => optim.rmsprop(p(), { alpha: 1.1 }), /optim\.rmsprop: alpha must be a number ≥ 0 and ≤ 1, got 1\.1/],
      ['adadelta rho < 0', () => optim.adadelta(p(), { rho: -0.1 }), /optim\.adadelta: rho must be a number ≥ 0 and ≤ 1/],
      ['adagrad negative eps', () => optim.adagrad(p(), { eps: -1 }), /optim\.adagrad: eps must be a number ≥ 0, got -1/],
      ['unknown optimizer', () => optim.spec('foo' as never), /optim: unknown optimizer "foo"; use one of sgd, adagrad, rmsprop, adadelta, adam, adamw, adamax, nadam/],
      ['options not an object', () => optim.spec('adam', 5 as never), /optim\.adam: options must be an object/],
      ['a bad option in the spec form fails where it is written', () => optim.adam({ lr: -1 }), /optim\.adam: lr must be a number ≥ 0, got -1/],
      ['a parameter that does not require grad', () => optim.sgd([tensor([1, 2])]), /optim\.sgd: parameter 0 does not require grad; create it with param\(\)/],
      ['a non-tensor parameter', () => new optim.SGD([p()[0], 3 as never]), /optim\.sgd: parameter 1 is not a tensor/],
    ];
    for (const [what, fn, message] of bad) {
      it(`rejects ${what}`, () => assert.throws(fn, (e: unknown) => e instanceof Error && message.test(e.message)));
    }

    it('defaults follow PyTorch', function () {
      const ps = p();
      const cfg = (o: Optimizer) => o.config();
      assert.deepEqual(cfg(optim.sgd(ps)), { optimizer: 'sgd', lr: 0.01, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 });
      assert.deepEqual(cfg(optim.adam(ps)), { optimizer: 'adam', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, amsgrad: false, biasCorrection: true, epsInsideSqrt: false, weightDecay: 0 });
      assert.deepEqual(cfg(optim.adamw(ps)), { optimizer: 'adamw', lr: 0.001, beta1: 0.9, beta2: 0.999, eps: 1e-8, amsgrad: false, biasCorrection: true, epsInsideSqrt: false, weightDecay: 0.01 });
      assert.deepEqual(cfg(optim.rmsprop(ps)), { optimizer: 'rmsprop', lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, epsInsideSqrt: false, weightDecay: 0 });
      assert.deepEqual(cfg(optim.adagrad(ps)), { optimizer: 'adagrad', lr: 0.01, lrDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, epsInsideSqrt: false, weightDecay: 0 });
      assert.deepEqual(cfg(optim.adadelta(ps)), { optimizer: 'adadelta', lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0 });
      assert.deepEqual(cfg(optim.adamax(ps)), { optimizer: 'adamax', lr: 0.002, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
      assert.deepEqual(cfg(optim.nadam(ps)), { optimizer: 'nadam', lr: 0.002, beta1: 0.9, beta2: 0.999, eps: 1e-8, momentumDecay: 0.004, weightDecay: 0 });
    });
  });

  describe('factories', function () {
    it('optim.adam({ lr }) is a spec; .create(params) binds it; optim.adam(params, { lr }) is an optimizer; both step alike', function () {
      const spec = optim.adam({ lr: 0.01, beta1: 0.8 });
      assert.equal(spec.kind, 'optimizer-spec');
      assert.equal(spec.name, 'adam');
      assert.deepEqual({ ...spec.options }, { lr: 0.01, beta1: 0.8 });
      assert.ok(optim.isOptimizerSpec(spec));
      assert.ok(Object.isFrozen(spec) && Object.isFrozen(spec.options));
      assert.ok(!(spec instanceof optim.Optimizer));

      const pa = p64([1, -2, 3], [3]), pb = p64([1, -2, 3], [3]);
      const fromSpec = spec.create([pa]);
      const direct = optim.adam([pb], { lr: 0.01, beta1: 0.8 });
      assert.ok(fromSpec instanceof optim.Adam && direct instanceof optim.Adam);
      assert.ok(!optim.isOptimizerSpec(direct));
      assert.equal(fromSpec.lr, 0.01);
      assert.deepEqual(fromSpec.config(), direct.config());
      for (const g of [[0.1, 0.2, -0.3], [0.4, -0.1, 0.2]]) {
        pa.grad = tensor(g, { dtype: 'float64' });
        pb.grad = tensor(g, { dtype: 'float64' });
        fromSpec.step();
        direct.step();
      }
      assert.deepEqual([...pa.data], [...pb.data]);
      assert.notDeepEqual([...pa.data], [1, -2, 3]);
    });

    it('a spec creates independent optimizers', function () {
      const spec = optim.sgd({ lr: 0.1, momentum: 0.9 });
      const a = p64([0], [1]), b = p64([0], [1]);
      const oa = spec.create([a]), ob = spec.create([b]);
      a.grad = tensor([1], { dtype: 'float64' });
      oa.step();
      oa.step();
      b.grad = tensor([1], { dtype: 'float64' });
      ob.step();
      close(b.data[0], -0.1, 1e-12, 'the second optimizer has its own momentum buffer');
      close(a.data[0], -0.1 - 0.1 * 1.9, 1e-12, 'two momentum steps');
    });

    it('every name has a factory of both forms and a class', function () {
      const classes = { sgd: optim.SGD, adagrad: optim.Adagrad, rmsprop: optim.RMSprop, adadelta: optim.Adadelta, adam: optim.Adam, adamw: optim.AdamW, adamax: optim.Adamax, nadam: optim.NAdam };
      for (const name of optim.OPTIMIZER_NAMES) {
        const factory = optim[name] as (a?: unknown, b?: unknown) => unknown;
        const s = factory({ lr: 0.5 }) as { name: string; create: (p: Tensor[]) => Optimizer };
        assert.equal(s.name, name);
        const o = s.create(p64Single());
        assert.ok(o instanceof classes[name], `${name}: spec.create made a ${o.constructor.name}`);
        assert.equal(o.name, name);
        assert.equal(o.lr, 0.5);
        const d = factory(new Set(p64Single()), { lr: 0.25 }) as Optimizer;
        assert.ok(d instanceof classes[name], `${name}: the params form (an iterable) made no optimizer`);
        assert.equal(d.lr, 0.25);
      }
    });
  });

  describe('every optimizer minimizes a quadratic through autograd', function () {
    // loss = Σ (w − c)² over a vector, a matrix and a micrograd-style scalar; 300 steps
    const lrs: Record<optim.OptimizerName, number> = { sgd: 0.1, adagrad: 0.5, rmsprop: 0.02, adadelta: 1, adam: 0.05, adamw: 0.05, adamax: 0.05, nadam: 0.05 };
    for (const name of optim.OPTIMIZER_NAMES) {
      it(name, function () {
        const c1 = tensor([1, -2, 0.5]), c2 = tensor([[0.3, -0.7], [1.5, 0]]);
        const w1 = param([0, 0, 0]), w2 = param([[0, 0], [0, 0]]), w3 = scalar(2, 'w3');
        const opt = optim.spec(name, { lr: lrs[name] }).create([w1, w2, w3]);
        const lossOf = () => w1.sub(c1).pow(2).sum().add(w2.sub(c2).pow(2).sum()).add(w3.sub(-1).pow(2));
        const initial = lossOf().item();
        close(initial, 1 + 4 + 0.25 + 0.09 + 0.49 + 2.25 + 9, 1e-6, 'initial loss');
        const losses: number[] = [];
        for (let i = 0; i < 300; i++) {
          opt.zeroGrad();
          const loss = lossOf();
          losses.push(loss.item());
          loss.backward();
          opt.step();
        }
        const final = lossOf().item();
        assert.ok(Number.isFinite(final));
        // Adadelta's first steps are ~√eps = 1e-3 in size and grow slowly: it only has to make clear progress;
        // the others reach the minimum (to within the pull of AdamW's decay towards 0 or a jitter of size lr)
        const factor = name === 'adadelta' ? 0.5 : 1e-3;
        assert.ok(final < factor * initial, `${name}: loss ${initial} → ${final}`);
        assert.ok(losses[10] < initial, `${name}: no progress in the first 10 steps`);
      });
    }
  });
});

function p64Single(): Tensor[] {
  return [p64([1, 2], [2])];
}

describe('optimizers: per-parameter step count', () => {
  it('a parameter whose first gradient arrives late gets its own first Adam step (|Δw| = lr), as in PyTorch', () => {
    const a = param([1], { dtype: 'float64' }), b = param([1], { dtype: 'float64' });
    const opt = optim.adam([a, b], { lr: 0.1 });
    for (let t = 0; t < 5; t++) {
      a.grad = tensor([0.3], { dtype: 'float64' });
      b.grad = null;
      opt.step();
    }
    b.grad = tensor([0.3], { dtype: 'float64' });
    opt.step();
    // bias-corrected m̂/√v̂ = g/|g| at a parameter's first step: the step is lr (minus the tiny eps effect)
    assert.ok(Math.abs(1 - b.data[0] - 0.1) < 1e-6, `b moved by ${1 - b.data[0]}`);
  });
});
