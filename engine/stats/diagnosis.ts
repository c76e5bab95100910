/**
 * Gradient-health rules. They read the per-layer summaries of one pass (and, in training, the loss
 * history) and name the layer, the step, what is wrong in one sentence and what to try. The
 * thresholds are listed in THRESHOLDS and in the README, so a finding can be checked by hand.
 */
import type { LayerStats } from './layers';
import type { SourceLocation } from '../tensor';
import { SYMMETRY_TOLERANCE } from './symmetry';

export type FixId = 'use-relu' | 'he-init' | 'xavier-init' | 'random-init' | 'lower-lr' | 'higher-lr' | 'normalize-inputs' | 'batch-norm' | 'clip-gradients' | 'leaky-relu';

export const FIXES: Record<FixId, string> = {
  'use-relu': "Use ReLU with He init instead of sigmoid/tanh in the hidden layers (nn.relu(), init: 'he')",
  'he-init': "Initialize ReLU layers with He init (nn.linear(…, { init: 'he' }))",
  'xavier-init': "Initialize sigmoid/tanh layers with Xavier init (nn.linear(…, { init: 'xavier' }))",
  'random-init': "Initialize the weights randomly, not with zeros or one constant, so the units start different (nn.linear's default init does)",
  'lower-lr': 'Lower the learning rate (try ÷10)',
  'higher-lr': 'Raise the learning rate (try ×10)',
  'normalize-inputs': 'Standardize the inputs (standardize: true in defineTraining)',
  'batch-norm': 'Add batch normalization after the linear layers (nn.batchNorm1d)',
  'clip-gradients': 'Clip gradients (clipNorm: 1 in the optimizer options)',
  'leaky-relu': 'Use leakyRelu so units with negative inputs still get gradient',
};

/** The same fixes in PyTorch's terms, for the models of PyTorch files (a traced pass, a watched run). */
export const TORCH_FIXES: Record<FixId, string> = {
  'use-relu': "Use ReLU with He init instead of sigmoid/tanh in the hidden layers (nn.ReLU, nn.init.kaiming_normal_(layer.weight, nonlinearity='relu'))",
  'he-init': "Initialize ReLU layers with He init (nn.init.kaiming_normal_(layer.weight, nonlinearity='relu'))",
  'xavier-init': 'Initialize sigmoid/tanh layers with Xavier init (nn.init.xavier_uniform_(layer.weight))',
  'random-init': 'Initialize the weights randomly, not with zeros or one constant, so the units start different (the layer\'s default init does)',
  'lower-lr': 'Lower the learning rate (try ÷10)',
  'higher-lr': 'Raise the learning rate (try ×10)',
  'normalize-inputs': 'Standardize the inputs ((x − mean) / std per feature)',
  'batch-norm': 'Add batch normalization after the linear layers (nn.BatchNorm1d)',
  'clip-gradients': 'Clip gradients (torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0) before optimizer.step())',
  'leaky-relu': 'Use nn.LeakyReLU so units with negative inputs still get gradient',
};

export const THRESHOLDS = {
  /** vanishing: mean |∂L/∂W| of the first layer below this fraction of the last layer's (≥ 3 layers). */
  vanishingRatio: 1e-2,
  /** exploding: mean |∂L/∂W| of the first layer above this multiple of the last layer's (≥ 3 layers). */
  explodingRatio: 1e2,
  /** exploding: any layer's max |∂L/∂W| above this. */
  explodingAbs: 1e3,
  /** collapse: activation std of the last hidden layer below this fraction of the first hidden layer's (≥ 3 hidden layers). */
  collapseRatio: 0.1,
  /** dead ReLUs: at least this fraction of a layer's units output 0 for the whole batch. */
  deadFraction: 0.5,
  /** saturation: at least this fraction of sigmoid/tanh outputs where the derivative is < 10% of its peak. */
  saturatedFraction: 0.5,
  /** saturation is not reported while the loss is below this fraction of its first value (training works). */
  learningFraction: 0.5,
  /** divergence: the latest loss is above this multiple of the lowest loss so far (and above the first). */
  divergenceFactor: 2,
  /** inputs: a feature with std or |mean| above this, or std below its inverse, is badly scaled. */
  inputScale: 10,
  /** symmetry: units whose weights (and gradients) differ by at most this fraction of their norm are identical. */
  symmetryTolerance: SYMMETRY_TOLERANCE,
  /** plateau: the window, in logged steps (the latest ones). */
  plateauWindow: 10,
  /** plateau: the mean loss of the window's second half differs from its first half's by less than this fraction. */
  plateauChange: 0.02,
  /**
   * plateau: …while the loss is still at least this fraction of the chance level (what predicting
   * the label frequencies, or the mean target, scores) or, when that is not known, of where it
   * started: a run that got somewhere and then flattened has converged, one that never left is stuck.
   */
  plateauStuck: 0.9,
  /** update/weight ratio ‖Δw‖/‖w‖ of one step (healthy near 1e-3): above this a layer's update is unstable. */
  updateRatioHigh: 0.5,
  /** …below this a layer is not learning, when another layer of the same step moves at least `updateRatioSpread` times more. */
  updateRatioLow: 1e-5,
  updateRatioSpread: 100,
} as const;

export type Severity = 'error' | 'warning' | 'info';

/** What the rules over layer summaries find (`diagnose`, per traced pass and per training step); each comes with fixes. */
export const HEALTH_CODES = ['vanishing-gradient', 'exploding-gradient', 'activation-collapse', 'dead-relu', 'saturated', 'nonfinite', 'loss-diverging', 'input-scale', 'symmetric-units', 'loss-plateau', 'update-ratio'] as const;
/** What a traced pass finds in its graph (`buildSnapshot`): where NaN/Inf first appears, a pass with no gradient. */
export const GRAPH_CODES = ['nonfinite-forward', 'nonfinite-backward', 'no-grad'] as const;
export type FindingCode = (typeof HEALTH_CODES)[number] | (typeof GRAPH_CODES)[number];

/**
 * One finding of the diagnosis. The same type travels from the engine (a snapshot's `diagnosis`, a
 * training run's findings) through the host (Problems, Quick Fixes) to the panel (inspector,
 * training view): nothing converts it on the way.
 */
export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  /** The graph node it is about (a snapshot node id); null when none, or outside a snapshot. */
  node: number | null;
  /** The layer the finding is about (module path), if one. */
  layer: string | null;
  /** Training step (null for a single traced pass). */
  step: number | null;
  /** What to try (empty for graph findings). */
  fixes: { id: FixId; title: string }[];
  /** Where the layer (or the node) was created in the model file. */
  source: SourceLocation | null;
}

/** A finding of the layer-health rules (the training view lists these; the inspector lists them all). */
export const isHealthFinding = (f: Pick<Finding, 'code'>): boolean => (HEALTH_CODES as readonly string[]).includes(f.code);

/** Findings about the run's current state only: once a later logged step no longer has them, they are dropped (a plateau the loss has left). */
export const isTransient = (f: Pick<Finding, 'code'>): boolean => f.code === 'loss-plateau';

export interface DiagnosisInput {
  layers: readonly LayerStats[];
  step?: number | null;
  /** Loss per logged step so far (training). */
  losses?: readonly number[];
  /** Per-feature mean and std of the raw inputs (when the model trains on a dataset). */
  inputs?: { mean: number[]; std: number[]; standardized: boolean; pooled?: boolean };
  /** The step of each of `losses` (for the plateau's message). */
  lossSteps?: readonly number[];
  /**
   * The chance level of the loss: what predicting the label frequencies scores under cross-entropy
   * (ln 2 for balanced binary labels, ln k for k balanced classes), or the mean target under mse
   * (the targets' variance). A loss stuck there learned nothing.
   */
  chanceLoss?: number | null;
  /** What the run already does, so no finding suggests it: inputs standardized, gradients clipped. */
  settings?: { standardized?: boolean; clipping?: boolean };
  /** Whose API the fixes are written in: the engine's (default) or PyTorch's. */
  api?: 'engine' | 'pytorch';
}

const RELU_LIKE = new Set(['relu', 'leakyRelu', 'elu', 'gelu', 'softplus']);
const SATURATING = new Set(['sigmoid', 'tanh']);

const fmt = (x: number) => (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4) ? x.toExponential(1) : Number(x.toPrecision(3)).toString());
const at = (step: number | null) => (step === null ? '' : ` at step ${step}`);

/**
 * The weight init that suits a layer's activation: He for ReLU and its relatives, Xavier for
 * sigmoid and tanh. A layer without one of its own (the output layer) goes by the hidden layers.
 */
function initFor(layer: LayerStats | null, layers: readonly LayerStats[]): 'he-init' | 'xavier-init' {
  const act = layer?.activation ?? layers.find((l) => l.activation !== null && l.activation !== 'identity')?.activation ?? null;
  return act !== null && SATURATING.has(act) ? 'xavier-init' : 'he-init';
}

/** Runs every rule; findings come most severe first. */
export function diagnose(input: DiagnosisInput): Finding[] {
  const step = input.step ?? null;
  const titles = input.api === 'pytorch' ? TORCH_FIXES : FIXES;
  const layers = input.layers;
  const settings = input.settings ?? {};
  const saturating = layers.some((l) => l.activation !== null && SATURATING.has(l.activation));
  const normalized = layers.some((l) => /^(batchNorm|layerNorm|groupNorm)/.test(l.type));
  /** Whether the run already does what fix `id` says, for the layers the finding is about. */
  const applied = (id: FixId, about: readonly LayerStats[]): boolean => {
    switch (id) {
      case 'he-init': return about.length > 0 && about.every((l) => l.init === 'he');
      case 'xavier-init': return about.length > 0 && about.every((l) => l.init === 'xavier');
      case 'use-relu': return !saturating;
      case 'leaky-relu': return about.length > 0 && about.every((l) => l.activation === 'leakyRelu');
      case 'normalize-inputs': return !!settings.standardized;
      case 'clip-gradients': return !!settings.clipping;
      case 'batch-norm': return normalized;
      default: return false;
    }
  };
  /** The fixes of a finding about `about`, without those already applied and without repeats. */
  const fixes = (about: LayerStats | readonly LayerStats[] | null, ...ids: FixId[]) => {
    const these = about === null ? [] : Array.isArray(about) ? about as readonly LayerStats[] : [about as LayerStats];
    return ids.filter((id, i) => ids.indexOf(id) === i && !applied(id, these)).map((id) => ({ id, title: titles[id] }));
  };
  const init = (l: LayerStats | null) => initFor(l, layers);
  const out: Finding[] = [];
  const add = (f: Omit<Finding, 'step' | 'node'>) => out.push({ ...f, node: null, step });
  const weighted = layers.filter((l) => l.gradMeanAbs !== null && l.type !== 'param');

  const broken = layers.find((l) => (l.weightGrad && (l.weightGrad.nan || l.weightGrad.inf)) || (l.output && (l.output.nan || l.output.inf)));
  const losses = input.losses ?? [];
  const lastLoss = losses.length ? losses[losses.length - 1] : undefined;
  if (broken || (lastLoss !== undefined && !Number.isFinite(lastLoss))) {
    add({
      code: 'nonfinite', severity: 'error', layer: broken?.name ?? null, source: broken?.source ?? null,
      message: broken
        ? `${broken.name} has NaN or infinite ${broken.weightGrad && (broken.weightGrad.nan || broken.weightGrad.inf) ? 'gradients' : 'activations'}${at(step)}: the values overflowed, usually because the learning rate or the initial weights are too large.`
        : `The loss is ${lastLoss}${at(step)}: training overflowed, usually because the learning rate is too high.`,
      fixes: fixes(broken ?? null, 'lower-lr', 'clip-gradients', 'normalize-inputs'),
    });
  }

  if (weighted.length >= 3) {
    const first = weighted[0], last = weighted[weighted.length - 1];
    const ratio = first.gradMeanAbs! / Math.max(last.gradMeanAbs!, Number.MIN_VALUE);
    if (last.gradMeanAbs! > 0 && ratio < THRESHOLDS.vanishingRatio) {
      add({
        code: 'vanishing-gradient', severity: 'warning', layer: first.name, source: first.source,
        message: `Gradients vanish with depth${at(step)}: mean |∂L/∂W| is ${fmt(first.gradMeanAbs!)} in ${first.name} but ${fmt(last.gradMeanAbs!)} in ${last.name} (${fmt(1 / ratio)}× smaller), so the layers near the input barely learn.`,
        fixes: saturating ? fixes(weighted, 'use-relu', 'xavier-init', 'batch-norm') : fixes(weighted, init(first), 'batch-norm'),
      });
    } else if (ratio > THRESHOLDS.explodingRatio) {
      add({
        code: 'exploding-gradient', severity: 'warning', layer: first.name, source: first.source,
        message: `Gradients grow with depth${at(step)}: mean |∂L/∂W| is ${fmt(first.gradMeanAbs!)} in ${first.name} but ${fmt(last.gradMeanAbs!)} in ${last.name} (${fmt(ratio)}× larger), so updates near the input are unstable.`,
        fixes: fixes(weighted, init(first), 'clip-gradients', 'lower-lr', 'batch-norm'),
      });
    }
  }
  const huge = layers.find((l) => l.gradMaxAbs !== null && l.gradMaxAbs > THRESHOLDS.explodingAbs);
  if (huge && !out.some((f) => f.code === 'exploding-gradient' || f.code === 'nonfinite')) {
    add({
      code: 'exploding-gradient', severity: 'warning', layer: huge.name, source: huge.source,
      message: `Gradients explode in ${huge.name}${at(step)}: max |∂L/∂W| is ${fmt(huge.gradMaxAbs!)}, so one step can throw the weights far away.`,
      fixes: fixes(huge, 'clip-gradients', 'lower-lr', init(huge)),
    });
  }

  // the last layer is the output layer; activation statistics are about the hidden ones
  const hidden = layers.slice(0, -1).filter((l) => l.activation !== null && l.output?.std !== null && l.output?.std !== undefined);
  if (hidden.length >= 3) {
    const first = hidden[0], last = hidden[hidden.length - 1];
    const s0 = first.output!.std!, s1 = last.output!.std!;
    if (s0 > 0 && s1 / s0 < THRESHOLDS.collapseRatio) {
      add({
        code: 'activation-collapse', severity: 'warning', layer: last.name, source: last.source,
        message: `Activations shrink with depth${at(step)}: their std falls from ${fmt(s0)} in ${first.name} to ${fmt(s1)} in ${last.name}, so deeper layers see almost constant inputs and gradients fade.`,
        fixes: saturating ? fixes(hidden, 'xavier-init', 'use-relu', 'batch-norm') : fixes(hidden, init(last), 'batch-norm'),
      });
    }
  }

  const learning = losses.length >= 2 && losses[losses.length - 1] < THRESHOLDS.learningFraction * losses[0];
  for (const l of layers) {
    if (l.dead !== null && l.dead >= THRESHOLDS.deadFraction) {
      add({
        code: 'dead-relu', severity: 'warning', layer: l.name, source: l.source,
        message: `${Math.round(l.dead * 100)}% of the ReLU units in ${l.name} are dead${at(step)}: they output 0 for every example, so they get no gradient and never recover.`,
        fixes: fixes(l, 'lower-lr', 'he-init', 'leaky-relu'),
      });
    }
    // saturation that comes with a loss already far below where it started is confidence, not a problem
    if (l.saturated !== null && l.saturated >= THRESHOLDS.saturatedFraction && !learning) {
      add({
        code: 'saturated', severity: 'warning', layer: l.name, source: l.source,
        message: `${Math.round(l.saturated * 100)}% of the ${l.activation} outputs in ${l.name} are saturated${at(step)}: there its derivative is nearly 0, so little gradient passes back.`,
        fixes: fixes(l, 'xavier-init', 'normalize-inputs', 'use-relu', 'batch-norm'),
      });
    }
  }

  if (losses.length >= 3 && Number.isFinite(lastLoss!)) {
    const finite = losses.filter(Number.isFinite);
    const min = Math.min(...finite);
    if (lastLoss! > THRESHOLDS.divergenceFactor * min && lastLoss! > losses[0]) {
      add({
        code: 'loss-diverging', severity: 'warning', layer: null, source: null,
        message: `The loss is rising${at(step)}: ${fmt(lastLoss!)} now against ${fmt(min)} at best and ${fmt(losses[0])} at the start, the sign of a learning rate that is too high.`,
        fixes: fixes(null, 'lower-lr', 'clip-gradients'),
      });
    }
  }

  for (const l of layers) {
    if (l.identicalUnits === null || l.identicalUnits === undefined || l.identicalUnits < 2) continue;
    const all = l.units !== null && l.units !== undefined && l.identicalUnits === l.units;
    add({
      code: 'symmetric-units', severity: 'warning', layer: l.name, source: l.source,
      message: `${all ? `All ${l.identicalUnits}` : `${l.identicalUnits}${l.units ? ` of the ${l.units}` : ''}`} units of ${l.name} have identical weights${l.weightGrad ? ' and gradients' : ''}${at(step)}: identical units compute the same output and get the same gradient, so they never become different${all ? ` and the layer works like one unit` : ''}.`,
      fixes: fixes(l, 'random-init', init(l)),
    });
  }

  // the update/weight ratio of the network's layers (bare parameters of an objective are not layers)
  const moving = layers.filter((l) => l.type !== 'param' && typeof l.updateRatio === 'number' && Number.isFinite(l.updateRatio));
  if (moving.length) {
    const ratio = (l: LayerStats) => l.updateRatio!;
    const fastest = moving.reduce((a, b) => (ratio(b) > ratio(a) ? b : a));
    const slowest = moving.reduce((a, b) => (ratio(b) < ratio(a) ? b : a));
    if (ratio(fastest) > THRESHOLDS.updateRatioHigh) {
      add({
        code: 'update-ratio', severity: 'warning', layer: fastest.name, source: fastest.source,
        message: `One update moves the weights of ${fastest.name} by ${fmt(ratio(fastest))} of their size${at(step)} (‖Δw‖/‖w‖; healthy is near 1e-3): steps this large make training unstable.`,
        fixes: fixes(fastest, 'lower-lr', 'clip-gradients'),
      });
    }
    if (ratio(slowest) < THRESHOLDS.updateRatioLow && ratio(fastest) >= THRESHOLDS.updateRatioSpread * THRESHOLDS.updateRatioLow && slowest !== fastest) {
      add({
        code: 'update-ratio', severity: 'warning', layer: slowest.name, source: slowest.source,
        message: `${ratio(slowest) === 0 ? `One update does not move the weights of ${slowest.name} at all${at(step)}` : `One update moves the weights of ${slowest.name} by ${fmt(ratio(slowest))} of their size${at(step)}`} (‖Δw‖/‖w‖; healthy is near 1e-3, ${fastest.name} moves ${fmt(ratio(fastest))}): this layer is not learning.`,
        fixes: fixes(slowest, saturating ? 'use-relu' : init(slowest), init(slowest), 'batch-norm'),
      });
    }
  }

  const plateau = plateauOf(losses, input.chanceLoss ?? null);
  if (plateau) {
    const steps = input.lossSteps;
    const from = steps && steps.length === losses.length ? steps[losses.length - THRESHOLDS.plateauWindow] : null;
    const symmetric = out.some((f) => f.code === 'symmetric-units');
    add({
      code: 'loss-plateau', severity: 'warning', layer: null, source: null,
      message: `The loss has stayed at ${fmt(plateau.level)}${from !== null && step !== null ? ` from step ${from} to step ${step}` : ` over the last ${THRESHOLDS.plateauWindow} logged steps`} (${plateau.chance !== null && plateau.level >= THRESHOLDS.plateauStuck * plateau.chance ? `chance level is ${fmt(plateau.chance)}` : `${fmt(losses[0])} at the start`}): the model is not learning.`,
      fixes: symmetric ? fixes(null, 'random-init', 'higher-lr') : fixes(weighted, 'higher-lr', init(null), 'batch-norm'),
    });
  }

  const inputs = input.inputs;
  if (inputs && !inputs.standardized) {
    const k = THRESHOLDS.inputScale;
    const bad = inputs.std.findIndex((s, j) => s > k || s < 1 / k || Math.abs(inputs.mean[j]) > k);
    if (bad >= 0) {
      add({
        code: 'input-scale', severity: 'info', layer: null, source: null,
        message: `${inputs.pooled ? 'The input pixels have' : `Input feature ${bad} has`} mean ${fmt(inputs.mean[bad])} and std ${fmt(inputs.std[bad])}: badly scaled inputs make the first layer's gradients lopsided and slow training.`,
        fixes: fixes(null, 'normalize-inputs'),
      });
    }
  }
  const rank = { error: 0, warning: 1, info: 2 };
  return out.sort((a, b) => rank[a.severity] - rank[b.severity]);
}

/**
 * A stuck loss: over the latest `plateauWindow` logged losses the mean of the second half is within
 * `plateauChange` of the first half's (halves, so minibatch noise averages out), and the loss is
 * still near where it started or near chance level. Losses that reach zero or go negative are
 * objectives of another kind and never plateau here.
 */
function plateauOf(losses: readonly number[], chance: number | null): { level: number; chance: number | null } | null {
  const n = THRESHOLDS.plateauWindow;
  if (losses.length < n) return null;
  const window = losses.slice(-n);
  if (!window.every((x) => Number.isFinite(x) && x > 0) || !(losses[0] > 0)) return null;
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const half = Math.floor(n / 2);
  const early = mean(window.slice(0, half)), late = mean(window.slice(half));
  const level = mean(window);
  if (Math.abs(late - early) >= THRESHOLDS.plateauChange * level) return null;
  // with a chance level, it alone says whether the model learned anything (a run may start from trained weights)
  const stuck = chance !== null && chance > 0 ? level >= THRESHOLDS.plateauStuck * chance : level >= THRESHOLDS.plateauStuck * losses[0];
  return stuck ? { level, chance } : null;
}
