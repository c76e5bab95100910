/**
 * Per-layer health: while a forward pass runs, the recorder notes every leaf module's output (a
 * layer such as `linear`, then the activation applied to it); after backward it summarizes, in depth
 * order, each layer's weights, their gradients, its activations and their gradients, and the
 * fractions of dead and saturated units. Training logs these per step, the diagnosis reads them,
 * and the panel draws them as histograms, the gradient-flow chart and the activation table.
 */
import { Tensor } from '../tensor';
import { Activation, BatchNorm1d, BatchNorm2d, Dropout, Linear, initOf } from '../nn/layers';
import { Embedding, GroupNorm, LayerNorm, MultiheadAttention } from '../nn/norm';
import { Conv1d, Conv2d } from '../nn/conv';
import { Module, setModuleHook } from '../nn/module';
import { summarize, type TensorStats } from './summary';
import { largestIdenticalGroup, unitsOf } from './symmetry';

export interface LayerStats {
  /** Module path (`model.layers.0`) or, for bare parameters, the parameter's name. */
  name: string;
  /** linear, batchNorm1d, module (another leaf module with parameters) or param. */
  type: string;
  /** 0 for the layer nearest the input. */
  depth: number;
  /** The activation applied right after this layer (relu, sigmoid, tanh…), if any. */
  activation: string | null;
  /** The first parameter (the weight) and its gradient. */
  weight: TensorStats | null;
  weightGrad: TensorStats | null;
  /** mean and max |∂L/∂w| over all of the layer's parameters (the gradient-flow chart). */
  gradMeanAbs: number | null;
  gradMaxAbs: number | null;
  /** The layer's output after its activation, and the gradient arriving there. */
  output: TensorStats | null;
  outputGrad: TensorStats | null;
  /** Fraction of units (last axis) that are 0 for every example in the batch: dead ReLUs. */
  dead: number | null;
  /** Fraction of outputs where sigmoid/tanh's derivative is below 10% of its peak. */
  saturated: number | null;
  /** Source line of the layer's weight (where the layer was created). */
  source: Tensor['source'];
  /** ‖Δw‖/‖w‖ of the layer's weight over the last update (healthy near 1e-3), when it is known. */
  updateRatio?: number | null;
  /**
   * The largest number of the layer's units whose incoming weights and gradients are identical
   * (1: all differ); null for layers without units to compare (norms, embeddings, one unit).
   */
  identicalUnits?: number | null;
  /** The number of units (rows of the weight, or its columns for a raw x·W), where the symmetry check applies. */
  units?: number | null;
  /** How the weight was initialized (`he`, `xavier`, `zeros`, `custom`…), when the layer knows. */
  init?: string | null;
}

/** Layer types whose weight's first axis holds one unit per row (the symmetry check compares them). */
const UNIT_TYPES = new Set(['linear', 'conv1d', 'conv2d']);

interface Call {
  module: Module;
  output: Tensor | null;
}

const ACTIVATION_SATURATION: Record<string, (y: number) => boolean> = {
  // σ' = σ(1 − σ) < 0.025 (10% of its peak 0.25)
  sigmoid: (y) => y * (1 - y) < 0.025,
  // tanh' = 1 − y² < 0.1
  tanh: (y) => 1 - y * y < 0.1,
};

const SUMMARY = { bins: 24, logBins: 24 };

function typeOf(m: Module): string {
  if (m instanceof Linear) return 'linear';
  if (m instanceof BatchNorm2d) return 'batchNorm2d';
  if (m instanceof LayerNorm) return 'layerNorm';
  if (m instanceof GroupNorm) return 'groupNorm';
  if (m instanceof Embedding) return 'embedding';
  if (m instanceof MultiheadAttention) return 'multiheadAttention';
  if (m instanceof Conv2d) return 'conv2d';
  if (m instanceof Conv1d) return 'conv1d';
  if (m instanceof BatchNorm1d) return 'batchNorm1d';
  return 'module';
}

function absStats(tensors: (Tensor | null)[]): { mean: number | null; max: number | null } {
  let sum = 0, n = 0, max = 0;
  for (const t of tensors) {
    if (!t) continue;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      const a = Math.abs(d[i]);
      if (!Number.isFinite(a)) continue;
      sum += a;
      n++;
      if (a > max) max = a;
    }
  }
  return n ? { mean: sum / n, max } : { mean: null, max: null };
}

/** Fraction of units (the last axis) whose value is 0 for every row. */
export function deadFraction(out: Tensor): number {
  // units: the last axis of [N, features], the channels of [N, C, …] (a channel is dead when it is 0 everywhere)
  const axis = out.rank >= 3 ? 1 : out.rank - 1;
  const units = out.rank === 0 ? 1 : out.shape[axis];
  const inner = out.rank >= 3 ? out.shape.slice(2).reduce((a, b) => a * b, 1) : 1;
  const outer = units ? out.size / (units * inner) : 0;
  const d = out.data;
  let dead = 0;
  for (let u = 0; u < units; u++) {
    let alive = false;
    for (let r = 0; r < outer && !alive; r++) for (let i = 0; i < inner && !alive; i++) alive = d[(r * units + u) * inner + i] !== 0;
    if (!alive) dead++;
  }
  return units ? dead / units : 0;
}

function saturatedFraction(out: Tensor, test: (y: number) => boolean): number {
  const d = out.data;
  let n = 0;
  for (let i = 0; i < d.length; i++) if (test(d[i])) n++;
  return d.length ? n / d.length : 0;
}

/** Records module outputs during `fn` (nothing else changes). */
export class LayerRecorder {
  private calls: Call[] = [];
  /** Each summarized layer's weight (the first parameter), in the order of the last `summarize`. */
  weights: (Tensor | null)[] = [];

  record<T>(fn: () => T): T {
    this.calls = [];
    const restore = setModuleHook((module, output) => {
      if (!module.isContainer) this.calls.push({ module, output: output instanceof Tensor ? output : null });
    });
    try {
      return fn();
    } finally {
      restore();
    }
  }

  /** Layers in the order they ran, each with the activation that followed it. Call after backward. */
  summarize(extraParams: readonly Tensor[] = []): LayerStats[] {
    const layers: { module: Module; output: Tensor | null; activation: string | null }[] = [];
    const seen = new Set<Module>();
    for (const c of this.calls) {
      if (c.module instanceof Dropout) continue;
      if (c.module instanceof Activation) {
        const last = layers[layers.length - 1];
        if (last && last.activation === null && c.module.kind !== 'identity') {
          last.activation = c.module.kind;
          last.output = c.output;
        }
        continue;
      }
      if (seen.has(c.module) || c.module.parameters().length === 0) continue;
      seen.add(c.module);
      layers.push({ module: c.module, output: c.output, activation: null });
    }
    const out: LayerStats[] = layers.map((l, depth) => layerStats(l.module.path ?? typeOf(l.module), typeOf(l.module), depth, l.module.parameters(), l.output, l.activation));
    const covered = new Set(layers.flatMap((l) => l.module.parameters()));
    for (const p of extraParams) {
      if (covered.has(p)) continue;
      out.push(layerStats(p.name ?? `param ${out.length}`, 'param', out.length, [p], null, null));
    }
    this.weights = [...layers.map((l) => l.module.parameters()[0] ?? null), ...extraParams.filter((p) => !covered.has(p))];
    return out;
  }
}

function layerStats(name: string, type: string, depth: number, params: Tensor[], output: Tensor | null, activation: string | null, unitAxis: 0 | 1 | null = UNIT_TYPES.has(type) ? 0 : null): LayerStats {
  const weight = params[0] ?? null;
  const grads = params.map((p) => p.grad);
  const units = weight && unitAxis !== null ? unitsOf(weight.data, weight.shape, unitAxis) : null;
  const identicalUnits = units ? largestIdenticalGroup(units, grads[0] ? unitsOf(grads[0].data, grads[0].shape, unitAxis!) : null) : null;
  const abs = absStats(grads);
  const outGrad = output?.grad ?? null;
  const saturation = activation ? ACTIVATION_SATURATION[activation] : undefined;
  return {
    name, type, depth, activation,
    weight: weight ? summarize(weight, SUMMARY) : null,
    weightGrad: grads[0] ? summarize(grads[0], SUMMARY) : null,
    gradMeanAbs: abs.mean, gradMaxAbs: abs.max,
    output: output ? summarize(output, SUMMARY) : null,
    outputGrad: outGrad ? summarize(outGrad, SUMMARY) : null,
    dead: output && (activation === 'relu' || activation === 'leakyRelu') ? deadFraction(output) : null,
    saturated: output && saturation ? saturatedFraction(output, saturation) : null,
    source: weight?.source ?? null,
    identicalUnits, units: identicalUnits === null ? null : units!.count,
    init: weight ? initOf(weight) : null,
  };
}

/** ‖after − before‖ / ‖before‖: how far one update moved a weight, relative to its size (null for a zero weight). */
export function updateRatio(before: ArrayLike<number>, after: ArrayLike<number>): number | null {
  let d = 0, w = 0;
  for (let i = 0; i < before.length; i++) {
    d += (after[i] - before[i]) ** 2;
    w += before[i] ** 2;
  }
  return w > 0 && Number.isFinite(d) ? Math.sqrt(d / w) : null;
}
