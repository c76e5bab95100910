/**
 * The graph snapshot: everything the UI and the CLI show about one traced run, as plain data.
 * Tensor payloads are Float64Arrays here (structured-clone and postMessage friendly);
 * `snapshotToJSON` turns them into number arrays for `backprop-lens trace --json`.
 *
 * Contract: fields may be added, never renamed (DESIGN.md, "Contracts worth keeping stable").
 */
import { backwardSteps, topoOrder, type BackwardStep } from '../autograd';
import { OPS } from '../ops/functional';
import type { GroupFrame } from '../ops/context';
import { shapeString } from '../shape';
import { OutputError } from '../errors';
import type { Finding, FindingCode } from '../stats/diagnosis';
import type { LayerStats } from '../stats/layers';
import { summarize, type TensorStats } from '../stats/summary';
import { firstNonFiniteBackward, firstNonFiniteForward, type NonFiniteFinding } from '../stats/nonfinite';
import { Tensor, type SourceLocation } from '../tensor';
import { formatNumber } from '../format';
import { verifySnapshot } from './verify';
import { outputCurve, type OutputCurve } from '../check/tangent';

export const SNAPSHOT_VERSION = 1;
/** Tensors up to this many elements carry their values; larger ones carry only summaries. */
export const DEFAULT_MAX_ELEMENTS = 4096;
/** Curves for at most this many scalar leaves, and only when evaluating them all stays under CURVE_BUDGET elements. */
const MAX_CURVES = 16;
const CURVE_POINTS = 81;
const CURVE_BUDGET = 4e6;

/** Values as a flat row-major array; null when the tensor is larger than the snapshot's limit. */
export type TensorPayload = Float64Array | null;

export type LeafKind = 'param' | 'input' | 'constant';

export interface SnapshotNode {
  /** Index in `nodes` (forward order): stable across re-traces of the same program. */
  id: number;
  /** The op name (`add`, `matmul`…), or `leaf`. */
  op: string;
  /** For leaves: a trainable parameter, an input that requires grad, or a constant. */
  leaf: LeafKind | null;
  /** The user's variable name or `.named()` name; null when the value had none. */
  name: string | null;
  /** What the graph shows: the name, else the op symbol, else the value of a scalar constant. */
  label: string;
  symbol: string;
  category: string;
  /** Local-gradient formula of the op (inspector). */
  formula: string | null;
  shape: number[];
  dtype: string;
  size: number;
  /** Ids of the inputs, in order. */
  inputs: number[];
  /** Module scope path such as `mlp.layers.0`. */
  scope: string | null;
  /** Innermost composite op (mse, linear, softmax…) this node was created in: index into `groups`. */
  group: number | null;
  /** Where the user's code created it (1-based line and column in `source.file`). */
  source: SourceLocation | null;
  requiresGrad: boolean;
  value: TensorPayload;
  grad: TensorPayload;
  stats: TensorStats;
  gradStats: TensorStats | null;
  /** Scalars: the value as a number (also when `value` is present), for labels. */
  scalar: number | null;
  scalarGrad: number | null;
  /**
   * A scalar leaf that requires grad, when the output is a scalar: the output evaluated again at
   * nearby values of this leaf, everything else as recorded (engine/check/tangent.ts). With
   * `scalar` and `scalarGrad` it is the curve and its tangent line. Absent when the graph is too
   * large to evaluate 81 more times, or there are more than `MAX_CURVES` such leaves.
   */
  curve?: OutputCurve;
  /** Each row of this tensor is an image of this shape ([channels, height, width]): a minibatch of an image dataset. */
  image?: number[];
  /**
   * The op's attributes (axes, shapes, strides…) when they are plain data, so the op can be applied
   * again to the recorded values (one element's chain rule, engine/check/elementChain.ts).
   */
  attrs?: Record<string, unknown>;
}

export interface SnapshotGroup {
  id: number;
  name: string;
  parent: number | null;
}

export interface SnapshotInputStep {
  /** Position among the node's inputs. */
  index: number;
  input: number;
  /** ∂node/∂input when elementwise (a number for constants such as 1); null otherwise (see the formula). */
  localGrad: TensorPayload | number;
  /** The shape of `localGrad` when it is a tensor (it broadcasts to the node's shape). */
  localShape?: number[] | null;
  contribution: TensorPayload;
  accumulatedGrad: TensorPayload;
  /** The input already had gradient before this step (fan-out): the UI writes the sum. */
  accumulated: boolean;
  /** Its gradient before this step (null when it had none): lets the UI write `a + b = c`. For a leaf's first step it is what the leaf held before this backward pass (gradients of leaves accumulate, as in PyTorch). */
  previousGrad: TensorPayload;
}

export interface SnapshotStep {
  index: number;
  node: number;
  upstreamGrad: TensorPayload;
  inputs: SnapshotInputStep[];
}

export interface GraphSnapshot {
  version: number;
  /** The model file (absolute path). */
  file: string;
  /** Id of the node the backward pass started from (the default export). */
  output: number;
  nodes: SnapshotNode[];
  groups: SnapshotGroup[];
  /** Step records of the backward pass, in the order it processed nodes. */
  backward: SnapshotStep[];
  /** Node ids in the order the program computed them (forward stepping). */
  forward: number[];
  /** Graph findings (NaN/Inf, no gradient) and the layer-health findings of this pass. */
  diagnosis: Finding[];
  /** Element limit used for payloads. */
  maxElements: number;
  /** Ops the program ran that the output does not depend on (not shown). */
  unusedNodes: number;
  /** Per-layer health of this pass (models built from nn modules), input side first. */
  layers?: LayerStats[];
  /** Set when the file exports a defineTraining spec: the graph is one training step's, and the panel can train. */
  training?: TrainingInfo;
  /** A short hash of the model file's text that was traced (set by the panel): the training view tells file versions apart by it. */
  sourceHash?: string;
  /** Set for a PyTorch file: the PyTorch and the Python that ran it (the panel says which). */
  runtime?: { kind: 'pytorch'; torch: string; python: string; pythonVersion: string };
}

/** A training spec as the panel shows it before any run. */
export interface TrainingInfo {
  optimizer: Record<string, number | boolean | string>;
  schedule: string;
  steps: number;
  batchSize: number | null;
  seed: number;
  /** The training data, if any. */
  dataset: { name: string; size: number; features: number; task: string; validation: number; imageShape?: number[] } | null;
  /** Title of the file's loss when its parameters hold exactly two numbers (the playground can run on it). */
  surface?: string | null;
  /** How many numbers the parameters hold (one: the training view can draw the trace of θ on the loss curve). */
  parameters?: number;
  /**
   * A PyTorch script that trains itself and calls `watch(model)`: the panel runs it and watches
   * (pause and single steps take effect at its next watched step); its optimizer, schedule and
   * steps are its own, so there is nothing to override, and the analysis tools are for TypeScript files.
   */
  watched?: boolean;
  /** A training log read from a file (Open Training Log): a finished run to look at, nothing to run. */
  log?: boolean;
  /**
   * A standalone report (`backprop-lens report`): the run and the analyses were computed when it was
   * written and are shown as they are; nothing runs.
   */
  report?: boolean;
}

export interface SnapshotOptions {
  file: string;
  /** Names inferred from the source (`const q = …`), used when a tensor has no `.name`. */
  nameOf?: (t: Tensor) => string | null;
  maxElements?: number;
  /** How many nodes the tracer recorded in total (to report those the output does not use). */
  recordedNodes?: number;
  /** The image shape of a tensor whose rows are images (the traced minibatch of `data.digits()`), else null. */
  imageOf?: (t: Tensor) => readonly number[] | null;
  /** Run the backward pass (default true). False when the program already ran backward itself. */
  runBackward?: boolean;
}

function payload(t: Tensor | null | undefined, max: number): TensorPayload {
  if (!t || t.size > max) return null;
  return Float64Array.from(t.data as ArrayLike<number>);
}

/**
 * Runs the backward pass from `output` (stepwise, graph retained) and captures every node the
 * output depends on, with values, gradients, summaries, the step records and the diagnosis.
 */
export function buildSnapshot(output: Tensor, opts: SnapshotOptions): GraphSnapshot {
  if (!(output instanceof Tensor)) throw new Error('buildSnapshot: the output is not a tensor');
  const max = opts.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const diagnosis: Finding[] = [];
  const order = topoOrder(output, false).sort((a, b) => a.id - b.id);
  const ids = new Map<Tensor, number>();
  order.forEach((t, i) => ids.set(t, i));
  const locOf = (t: Tensor | undefined) => t?.source ?? null;

  // Backward first, so the node table can carry final gradients.
  const steps: BackwardStep[] = [];
  const previous = new Map<BackwardStep['inputs'][number], Tensor | null>();
  const wantBackward = opts.runBackward ?? true;
  if (wantBackward && output.requiresGrad) {
    if (output.size !== 1) {
      throw new OutputError(
        `The default export has shape ${shapeString(output.shape)}; backward starts from a scalar. Reduce it first, e.g. \`.sum()\` or \`.mean()\`.`,
      );
    }
    // leaves keep what an earlier backward pass left (PyTorch accumulates into them)
    const seen = new Map<Tensor, Tensor | null>();
    for (const t of order) if (t.isLeaf && t.requiresGrad && t.grad !== null) seen.set(t, t.grad);
    for (const step of backwardSteps(output, { retainGraph: true })) {
      for (const s of step.inputs) {
        // the gradient before this step is the previous step's accumulated gradient of the same input
        previous.set(s, s.accumulated ? (seen.get(s.input) ?? null) : null);
        seen.set(s.input, s.accumulatedGrad);
      }
      steps.push(step);
    }
  } else if (wantBackward) {
    diagnosis.push({
      severity: 'info', code: 'no-grad', node: ids.get(output) ?? null, source: locOf(output), layer: null, step: null, fixes: [],
      message: 'The output does not depend on anything that requires grad (use scalar(), param() or requiresGrad: true), so there is no backward pass to show.',
    });
  }

  const groups: SnapshotGroup[] = [];
  const groupIds = new Map<GroupFrame, number>();
  const groupId = (g: GroupFrame | null): number | null => {
    if (!g) return null;
    const known = groupIds.get(g);
    if (known !== undefined) return known;
    const parent = groupId(g.parent);
    const id = groups.length;
    groupIds.set(g, id);
    groups.push({ id, name: g.name, parent });
    return id;
  };

  const nodes: SnapshotNode[] = order.map((t, id) => {
    const def = t.def ? OPS.get(t.def.name) ?? t.def : null;
    const leaf: LeafKind | null = def ? null : t.isParam ? 'param' : t.requiresGrad ? 'input' : 'constant';
    const name = t.name ?? opts.nameOf?.(t) ?? null;
    const scalarValue = t.size === 1 ? Number(t.data[0]) : null;
    const g = t.grad;
    const label = name ?? (def ? def.symbol : scalarValue !== null ? formatNumber(scalarValue) : `${leaf} ${shapeString(t.shape)}`);
    return {
      id, op: def ? def.name : 'leaf', leaf, name, label,
      symbol: def ? def.symbol : '',
      category: def ? def.category : 'leaf',
      formula: def ? def.formula : null,
      shape: t.shape.slice(), dtype: t.dtype, size: t.size,
      inputs: t.inputs.map((i) => ids.get(i)!),
      scope: t.scope, group: groupId(t.group),
      source: t.source,
      requiresGrad: t.requiresGrad,
      value: payload(t, max), grad: payload(g, max),
      stats: summarize(t), gradStats: g ? summarize(g) : null,
      scalar: scalarValue, scalarGrad: g && g.size === 1 ? Number(g.data[0]) : null,
      ...imageField(t, opts.imageOf),
      ...(def && Object.keys(t.attrs).length && plainData(t.attrs) ? { attrs: { ...t.attrs } } : {}),
    };
  });

  if (output.requiresGrad && output.size === 1) {
    const leaves = order.filter((t) => t.isLeaf && t.requiresGrad && t.size === 1 && t.dtype !== 'int32');
    const work = order.reduce((sum, t) => sum + t.size, 0) * CURVE_POINTS * leaves.length;
    if (leaves.length && leaves.length <= MAX_CURVES && work <= CURVE_BUDGET) {
      for (const t of leaves) nodes[ids.get(t)!].curve = outputCurve(output, t, { points: CURVE_POINTS });
    }
  }

  const backward: SnapshotStep[] = steps.map((s) => ({
    index: s.index,
    node: ids.get(s.node)!,
    upstreamGrad: payload(s.upstreamGrad, max),
    inputs: s.inputs.map((i) => ({
      index: i.index,
      input: ids.get(i.input)!,
      localGrad: typeof i.localGrad === 'number' ? i.localGrad : payload(i.localGrad, max),
      localShape: i.localGrad instanceof Tensor ? i.localGrad.shape.slice() : null,
      contribution: payload(i.contribution, max),
      accumulatedGrad: payload(i.accumulatedGrad, max),
      accumulated: i.accumulated,
      previousGrad: payload(previous.get(i) ?? null, max),
    })),
  }));

  const finding = (f: NonFiniteFinding, code: Extract<FindingCode, `nonfinite-${string}`>) => {
    const culprit = f.phase === 'backward' && f.input ? f.input : f.node;
    diagnosis.push({ severity: 'warning', code, message: f.message, node: ids.get(f.node) ?? null, source: locOf(f.node) ?? locOf(culprit), layer: null, step: null, fixes: [] });
  };
  const fwd = firstNonFiniteForward(output);
  if (fwd) finding(fwd, 'nonfinite-forward');
  const bwd = firstNonFiniteBackward(steps);
  if (bwd) finding(bwd, 'nonfinite-backward');

  const snapshot: GraphSnapshot = {
    version: SNAPSHOT_VERSION,
    file: opts.file,
    output: ids.get(output)!,
    nodes, groups, backward,
    forward: nodes.filter((n) => n.op !== 'leaf').map((n) => n.id),
    diagnosis,
    maxElements: max,
    unusedNodes: Math.max(0, (opts.recordedNodes ?? 0) - nodes.filter((n) => n.op !== 'leaf').length),
  };
  if (verifying()) {
    const broken = verifySnapshot(snapshot);
    if (broken.length) throw new Error(`snapshot invariants violated (BPL_VERIFY_SNAPSHOTS):\n  ${broken.slice(0, 8).join('\n  ')}`);
  }
  return snapshot;
}

/** Numbers, strings, booleans, null and arrays or plain objects of them (what JSON and postMessage carry unchanged). */
function plainData(v: unknown, depth = 0): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (depth > 4 || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.every((x) => plainData(x, depth + 1));
  return Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every((x) => plainData(x, depth + 1));
}

/** `image` when the rows of `t` are images of the shape `imageOf` gives (their size must match). */
function imageField(t: Tensor, imageOf: SnapshotOptions['imageOf']): { image?: number[] } {
  const shape = imageOf?.(t);
  if (!shape || t.shape.length !== 2 || shape.reduce((a, b) => a * b, 1) !== t.shape[1]) return {};
  return { image: shape.slice() };
}

/** Tests set BPL_VERIFY_SNAPSHOTS=1 so every snapshot they produce is checked (verify.ts). */
function verifying(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.BPL_VERIFY_SNAPSHOTS === '1';
}

type Jsonify<T> = T extends Float64Array ? (number | string)[] : T extends (infer U)[] ? Jsonify<U>[] : T extends object ? { [K in keyof T]: Jsonify<T[K]> } : T;
export type GraphSnapshotJSON = Jsonify<GraphSnapshot>;

/** Number arrays for JSON; NaN and ±Infinity become the strings "NaN", "Infinity", "-Infinity". */
export function snapshotToJSON(s: GraphSnapshot): GraphSnapshotJSON {
  return JSON.parse(
    JSON.stringify(s, (_key, v) => {
      if (v instanceof Float64Array) return Array.from(v, (x) => (Number.isFinite(x) ? x : String(x)));
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
      return v;
    }),
  ) as GraphSnapshotJSON;
}
