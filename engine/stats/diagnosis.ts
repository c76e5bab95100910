/**
 * Gradient-health rules. They read the per-layer summaries of one pass (and, in training, the loss
 * history) and name the layer, the step, what is wrong in one sentence and what to try. The
 * thresholds are listed in THRESHOLDS and in the README, so a finding can be checked by hand.
 */
import type { LayerStats } from './layers';
import type { SourceLocation } from '../tensor';

export type FixId = 'use-relu' | 'he-init' | 'xavier-init' | 'lower-lr' | 'normalize-inputs' | 'batch-norm' | 'clip-gradients' | 'leaky-relu';

export const FIXES: Record<FixId, string> = {
  'use-relu': 'Use ReLU instead of sigmoid/tanh in the hidden layers',
  'he-init': "Initialize ReLU layers with He init (nn.linear(…, { init: 'he' }))",
  'xavier-init': "Initialize sigmoid/tanh layers with Xavier init (nn.linear(…, { init: 'xavier' }))",
  'lower-lr': 'Lower the learning rate (try ÷10)',
  'normalize-inputs': 'Standardize the inputs (standardize: true in defineTraining)',
  'batch-norm': 'Add batch normalization after the linear layers (nn.batchNorm1d)',
  'clip-gradients': 'Clip gradients (clipNorm: 1 in the optimizer options)',
  'leaky-relu': 'Use leakyRelu so units with negative inputs still get gradient',
};

/** The same fixes in PyTorch's terms, for the models of PyTorch files (a traced pass, a watched run). */
export const TORCH_FIXES: Record<FixId, string> = {
  'use-relu': 'Use ReLU instead of sigmoid/tanh in the hidden layers (nn.ReLU)',
  'he-init': "Initialize ReLU layers with He init (nn.init.kaiming_normal_(layer.weight, nonlinearity='relu'))",
  'xavier-init': 'Initialize sigmoid/tanh layers with Xavier init (nn.init.xavier_uniform_(layer.weight))',
  'lower-lr': 'Lower the learning rate (try ÷10)',
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
} as const;

export type Severity = 'error' | 'warning' | 'info';

/** What the rules over layer summaries find (`diagnose`, per traced pass and per training step); each comes with fixes. */
export const HEALTH_CODES = ['vanishing-gradient', 'exploding-gradient', 'activation-collapse', 'dead-relu', 'saturated', 'nonfinite', 'loss-diverging', 'input-scale'] as const;
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

export interface DiagnosisInput {
  layers: readonly LayerStats[];
  step?: number | null;
  /** Loss per logged step so far (training). */
  losses?: readonly number[];
  /** Per-feature mean and std of the raw inputs (when the model trains on a dataset). */
  inputs?: { mean: number[]; std: number[]; standardized: boolean; pooled?: boolean };
  /** Whose API the fixes are written in: the engine's (default) or PyTorch's. */
  api?: 'engine' | 'pytorch';
}

const fmt = (x: number) => (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e4) ? x.toExponential(1) : Number(x.toPrecision(3)).toString());
const at = (step: number | null) => (step === null ? '' : ` at step ${step}`);

/** Runs every rule; findings come most severe first. */
export function diagnose(input: DiagnosisInput): Finding[] {
  const step = input.step ?? null;
  const titles = input.api === 'pytorch' ? TORCH_FIXES : FIXES;
  const fixes = (...ids: FixId[]) => ids.map((id) => ({ id, title: titles[id] }));
  const out: Finding[] = [];
  const add = (f: Omit<Finding, 'step' | 'node'>) => out.push({ ...f, node: null, step });
  const layers = input.layers;
  const weighted = layers.filter((l) => l.gradMeanAbs !== null && l.type !== 'param');
  const saturating = layers.some((l) => l.activation === 'sigmoid' || l.activation === 'tanh');

  const broken = layers.find((l) => (l.weightGrad && (l.weightGrad.nan || l.weightGrad.inf)) || (l.output && (l.output.nan || l.output.inf)));
  const losses = input.losses ?? [];
  const lastLoss = losses.length ? losses[losses.length - 1] : undefined;
  if (broken || (lastLoss !== undefined && !Number.isFinite(lastLoss))) {
    add({
      code: 'nonfinite', severity: 'error', layer: broken?.name ?? null, source: broken?.source ?? null,
      message: broken
        ? `${broken.name} has NaN or infinite ${broken.weightGrad && (broken.weightGrad.nan || broken.weightGrad.inf) ? 'gradients' : 'activations'}${at(step)}: the values overflowed, usually because the learning rate or the initial weights are too large.`
        : `The loss is ${lastLoss}${at(step)}: training overflowed, usually because the learning rate is too high.`,
      fixes: fixes('lower-lr', 'clip-gradients', 'normalize-inputs'),
    });
  }

  if (weighted.length >= 3) {
    const first = weighted[0], last = weighted[weighted.length - 1];
    const ratio = first.gradMeanAbs! / Math.max(last.gradMeanAbs!, Number.MIN_VALUE);
    if (last.gradMeanAbs! > 0 && ratio < THRESHOLDS.vanishingRatio) {
      add({
        code: 'vanishing-gradient', severity: 'warning', layer: first.name, source: first.source,
        message: `Gradients vanish with depth${at(step)}: mean |∂L/∂W| is ${fmt(first.gradMeanAbs!)} in ${first.name} but ${fmt(last.gradMeanAbs!)} in ${last.name} (${fmt(1 / ratio)}× smaller), so the layers near the input barely learn.`,
        fixes: saturating ? fixes('use-relu', 'xavier-init', 'batch-norm') : fixes('he-init', 'batch-norm'),
      });
    } else if (ratio > THRESHOLDS.explodingRatio) {
      add({
        code: 'exploding-gradient', severity: 'warning', layer: first.name, source: first.source,
        message: `Gradients grow with depth${at(step)}: mean |∂L/∂W| is ${fmt(first.gradMeanAbs!)} in ${first.name} but ${fmt(last.gradMeanAbs!)} in ${last.name} (${fmt(ratio)}× larger), so updates near the input are unstable.`,
        fixes: fixes('xavier-init', 'clip-gradients', 'lower-lr', 'batch-norm'),
      });
    }
  }
  const huge = layers.find((l) => l.gradMaxAbs !== null && l.gradMaxAbs > THRESHOLDS.explodingAbs);
  if (huge && !out.some((f) => f.code === 'exploding-gradient' || f.code === 'nonfinite')) {
    add({
      code: 'exploding-gradient', severity: 'warning', layer: huge.name, source: huge.source,
      message: `Gradients explode in ${huge.name}${at(step)}: max |∂L/∂W| is ${fmt(huge.gradMaxAbs!)}, so one step can throw the weights far away.`,
      fixes: fixes('clip-gradients', 'lower-lr', 'xavier-init'),
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
        fixes: saturating ? fixes('xavier-init', 'use-relu', 'batch-norm') : fixes('he-init', 'batch-norm'),
      });
    }
  }

  const learning = losses.length >= 2 && losses[losses.length - 1] < THRESHOLDS.learningFraction * losses[0];
  for (const l of layers) {
    if (l.dead !== null && l.dead >= THRESHOLDS.deadFraction) {
      add({
        code: 'dead-relu', severity: 'warning', layer: l.name, source: l.source,
        message: `${Math.round(l.dead * 100)}% of the ReLU units in ${l.name} are dead${at(step)}: they output 0 for every example, so they get no gradient and never recover.`,
        fixes: fixes('lower-lr', 'he-init', 'leaky-relu'),
      });
    }
    // saturation that comes with a loss already far below where it started is confidence, not a problem
    if (l.saturated !== null && l.saturated >= THRESHOLDS.saturatedFraction && !learning) {
      add({
        code: 'saturated', severity: 'warning', layer: l.name, source: l.source,
        message: `${Math.round(l.saturated * 100)}% of the ${l.activation} outputs in ${l.name} are saturated${at(step)}: there its derivative is nearly 0, so little gradient passes back.`,
        fixes: fixes('xavier-init', 'normalize-inputs', 'use-relu', 'batch-norm'),
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
        fixes: fixes('lower-lr', 'clip-gradients'),
      });
    }
  }

  const inputs = input.inputs;
  if (inputs && !inputs.standardized) {
    const k = THRESHOLDS.inputScale;
    const bad = inputs.std.findIndex((s, j) => s > k || s < 1 / k || Math.abs(inputs.mean[j]) > k);
    if (bad >= 0) {
      add({
        code: 'input-scale', severity: 'info', layer: null, source: null,
        message: `${inputs.pooled ? 'The input pixels have' : `Input feature ${bad} has`} mean ${fmt(inputs.mean[bad])} and std ${fmt(inputs.std[bad])}: badly scaled inputs make the first layer's gradients lopsided and slow training.`,
        fixes: fixes('normalize-inputs'),
      });
    }
  }
  const rank = { error: 0, warning: 1, info: 2 };
  return out.sort((a, b) => rank[a.severity] - rank[b.severity]);
}
