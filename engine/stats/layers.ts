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
import { currentHooks, setHooks } from '../ops/context';
import { summarize, type TensorStats } from './summary';
import { largestIdenticalGroup, unitsOf } from './symmetry';

export interface LayerStats {
  /** Module path (`model.layers.0`) or, for bare parameters, the parameter's name. */
  name: string;
  /** linear, conv2d, batchNorm1d…, module (another leaf module with parameters), matmul (a layer written with tensors: x·W + b) or param. */
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

/** Layer types whose weight's first axis holds one unit per row (the symmetry check compares them; raw matmul layers say their axis). */
const UNIT_TYPES = new Set(['linear', 'conv1d', 'conv2d']);

/** What the recorder saw, in order: a module call, a raw-tensor layer (a weight times its input), an activation op. */
type Event =
  | { kind: 'module'; module: Module; output: Tensor | null }
  | { kind: 'raw'; layer: RawLayer }
  | { kind: 'activation'; name: string; input: Tensor; output: Tensor };

/** A layer written with tensors: `x.matmul(W)` (or `W.matmul(x)`), then perhaps `.add(b)`. */
interface RawLayer {
  weight: Tensor;
  /** 1 for x·W with W [in, out] (a unit per column), 0 for W·x with W [out, in] (a unit per row). */
  axis: 0 | 1;
  params: Tensor[];
  /** The layer's latest output (the matmul, then the bias add). */
  tip: Tensor;
}

/** Activation ops whose output is a layer's activation (identity-like ops are not). */
const ACTIVATION_OPS = new Set(['relu', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'softplus', 'gelu']);

/** The weight of a matmul that is a raw-tensor layer: the parameter operand, else a lone leaf, else the right leaf. */
function rawWeight(node: Tensor): { weight: Tensor; axis: 0 | 1 } | null {
  const [a, b] = node.inputs;
  if (!a || !b || b.rank !== 2 && a.rank !== 2) return null;
  const pick = (t: Tensor, axis: 0 | 1) => (t.rank === 2 ? { weight: t, axis } : null);
  if (b.isParam && !a.isParam) return pick(b, 1);
  if (a.isParam && !b.isParam) return pick(a, 0);
  if (a.isParam && b.isParam) return pick(b, 1);
  // nothing requires grad: a weight is a leaf (a tensor of numbers), the input flows from earlier ops
  if (b.isLeaf && !a.isLeaf) return pick(b, 1);
  if (a.isLeaf && !b.isLeaf) return pick(a, 0);
  return b.isLeaf ? pick(b, 1) : null;
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

/** Fraction of rows of [units, N] that are 0 in every column. */
function deadRows(out: Tensor): number {
  const [rows, cols] = out.shape;
  const d = out.data;
  let dead = 0;
  for (let r = 0; r < rows; r++) {
    let alive = false;
    for (let c = 0; c < cols && !alive; c++) alive = d[r * cols + c] !== 0;
    if (!alive) dead++;
  }
  return rows ? dead / rows : 0;
}

function saturatedFraction(out: Tensor, test: (y: number) => boolean): number {
  const d = out.data;
  let n = 0;
  for (let i = 0; i < d.length; i++) if (test(d[i])) n++;
  return d.length ? n / d.length : 0;
}

/**
 * Records, during `fn`, the module calls and (with `ops`) the raw-tensor layers and activation ops,
 * so a layer written as `x.matmul(W).add(b).tanh()` is a layer too. Nothing else changes.
 */
export class LayerRecorder {
  private events: Event[] = [];
  /** Each summarized layer's weight (the first parameter), in the order of the last `summarize`. */
  weights: (Tensor | null)[] = [];

  record<T>(fn: () => T, opts: { ops?: boolean } = {}): T {
    this.events = [];
    const restoreModules = setModuleHook((module, output) => {
      if (!module.isContainer) this.events.push({ kind: 'module', module, output: output instanceof Tensor ? output : null });
    });
    const restoreOps = opts.ops === false ? () => {} : this.hookOps();
    try {
      return fn();
    } finally {
      restoreOps();
      restoreModules();
    }
  }

  /** Watches ops (beside whatever hooks are installed, a tracer's): matmuls with a weight, bias adds, activations. */
  private hookOps(): () => void {
    const previous = currentHooks();
    const tips = new Map<Tensor, RawLayer>();
    return setHooks({
      ...previous,
      onNode: (node) => {
        previous.onNode?.(node);
        // ops inside a composite (a loss's softplus, softmax's exp) are the composite's, not a layer's
        if (node.group !== null) return;
        const op = node.def?.name;
        if (op === 'matmul') {
          // inside a module the module is the layer (nn.linear's own matmul, a custom module's ops)
          if (node.scope !== null) return;
          const w = rawWeight(node);
          if (!w) return;
          const layer: RawLayer = { ...w, params: [w.weight], tip: node };
          tips.set(node, layer);
          this.events.push({ kind: 'raw', layer });
        } else if (op === 'add') {
          const [a, b] = node.inputs;
          const layer = tips.get(a) ?? tips.get(b);
          const bias = tips.has(a) ? b : a;
          if (!layer || !bias.isLeaf || layer.tip !== (tips.has(a) ? a : b)) return;
          if (bias.isParam) layer.params.push(bias);
          layer.tip = node;
          tips.set(node, layer);
        } else if (op !== undefined && ACTIVATION_OPS.has(op)) {
          this.events.push({ kind: 'activation', name: op, input: node.inputs[0], output: node });
        }
      },
    });
  }

  /**
   * Layers in the order they ran, each with the activation that followed it. Call after backward.
   * `extraParams`: bare parameters to list as well (an objective's parameters that no layer uses);
   * `nameOf`: a raw-tensor layer's name when its weight has none (the variable it was bound to).
   */
  summarize(extraParams: readonly Tensor[] = [], nameOf: (t: Tensor) => string | null = () => null): LayerStats[] {
    interface Found { name: string; type: string; params: Tensor[]; output: Tensor | null; activation: string | null; axis: 0 | 1 | null }
    const layers: Found[] = [];
    const seen = new Set<Module>();
    const inModules = new Set<Tensor>();
    for (const e of this.events) if (e.kind === 'module') for (const p of e.module.parameters()) inModules.add(p);
    const rawSeen = new Set<Tensor>();
    for (const e of this.events) {
      const last = layers[layers.length - 1];
      if (e.kind === 'activation') {
        // an activation op applied to the last layer's output (a tensor method, or inside nn.relu())
        if (last && last.activation === null && last.output === e.input) {
          last.activation = e.name;
          last.output = e.output;
        }
        continue;
      }
      if (e.kind === 'raw') {
        const { weight, params, tip, axis } = e.layer;
        // a module's own matmul, or a weight used again (an RNN's step): not a layer of its own
        if (inModules.has(weight) || rawSeen.has(weight)) continue;
        rawSeen.add(weight);
        layers.push({ name: weight.name ?? nameOf(weight) ?? `matmul ${layers.length}`, type: 'matmul', params, output: tip, activation: null, axis });
        continue;
      }
      const m = e.module;
      if (m instanceof Dropout) continue;
      if (m instanceof Activation) {
        if (last && last.activation === null && m.kind !== 'identity') {
          last.activation = m.kind;
          last.output = e.output;
        }
        continue;
      }
      if (seen.has(m) || m.parameters().length === 0) continue;
      seen.add(m);
      const type = typeOf(m);
      layers.push({ name: m.path ?? type, type, params: m.parameters(), output: e.output, activation: null, axis: UNIT_TYPES.has(type) ? 0 : null });
    }
    const out: LayerStats[] = layers.map((l, depth) => layerStats(l.name, l.type, depth, l.params, l.output, l.activation, l.axis));
    const covered = new Set(layers.flatMap((l) => l.params));
    const extra = extraParams.filter((p) => !covered.has(p));
    for (const p of extra) out.push(layerStats(p.name ?? `param ${out.length}`, 'param', out.length, [p], null, null, null));
    this.weights = [...layers.map((l) => l.params[0] ?? null), ...extra];
    return out;
  }
}

function layerStats(name: string, type: string, depth: number, params: Tensor[], output: Tensor | null, activation: string | null, unitAxis: 0 | 1 | null): LayerStats {
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
    // W·x puts a unit on each row of the output ([out, N]); everything else on the last axis or channels
    dead: output && (activation === 'relu' || activation === 'leakyRelu') ? (type === 'matmul' && unitAxis === 0 && output.rank === 2 ? deadRows(output) : deadFraction(output)) : null,
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
