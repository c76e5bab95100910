/**
 * Reverse mode. `backwardSteps` walks the graph in reverse topological order and yields one record
 * per node: the upstream gradient, and for each input the local gradient, the contribution and the
 * input's accumulated gradient. `backward()` is that same walk run to the end, so the stepped pass
 * and the plain pass cannot disagree.
 */
import { allocate } from './dtype';
import { shapeString } from './shape';
import { Tensor, isScalar64 } from './tensor';
import { enterBackwardMode, exitBackwardMode } from './ops/context';
import * as F from './ops/functional';
import { NumberOps, TensorOps } from './ops/functional';
import { tapeBackward } from './tape';
import { ShapeError } from './errors';

export interface BackwardOptions {
  /** Keep the graph usable for another backward pass (default: `createGraph`, as in PyTorch). */
  retainGraph?: boolean;
  /** Record the backward computation itself so gradients can be differentiated again. */
  createGraph?: boolean;
  /** Seed gradient ∂L/∂output; needed when the output is not a scalar. Defaults to 1. */
  grad?: Tensor;
}

/** One input's share of a backward step. */
export interface InputStep {
  /** Position of this input among the node's inputs. */
  index: number;
  input: Tensor;
  /**
   * ∂node/∂input for elementwise ops (a tensor broadcastable to the node's shape, or a constant);
   * null for ops whose Jacobian is not elementwise (matmul, reductions, layout) — see the op's formula.
   */
  localGrad: Tensor | number | null;
  /** What this step adds to the input's gradient: upstream ⊙ local, summed to the input's shape. */
  contribution: Tensor;
  /** The input's gradient after this step. */
  accumulatedGrad: Tensor;
  /** True when the input already had gradient from an earlier step (fan-out): the UI writes the sum. */
  accumulated: boolean;
}

export interface BackwardStep {
  /** 0 for the first node processed (the output). */
  index: number;
  node: Tensor;
  /** ∂L/∂node, complete: every consumer of the node has been processed already. */
  upstreamGrad: Tensor;
  inputs: InputStep[];
}

let walkEpoch = 0;

/**
 * The nodes that require grad and lead to `root`, inputs before the nodes that use them
 * (iterative DFS post-order, so deep scalar graphs do not overflow the stack).
 */
export function topoOrder(root: Tensor, onlyRequiringGrad = true): Tensor[] {
  const epoch = ++walkEpoch;
  const order: Tensor[] = [];
  const nodes: Tensor[] = [root];
  const next: number[] = [0];
  root.visitMark = epoch;
  while (nodes.length > 0) {
    const top = nodes.length - 1;
    const node = nodes[top];
    const inputs = node.inputs;
    let i = next[top];
    while (i < inputs.length) {
      const child = inputs[i++];
      if (child.visitMark !== epoch && (!onlyRequiringGrad || child.requiresGrad)) {
        child.visitMark = epoch;
        next[top] = i;
        nodes.push(child);
        next.push(0);
        break;
      }
    }
    if (nodes[nodes.length - 1] !== node) continue;
    order.push(node);
    nodes.pop();
    next.pop();
  }
  return order;
}

/** Every node that leads to `root` (constants too), in the order they were computed: the forward record. */
export function forwardOrder(root: Tensor): Tensor[] {
  return topoOrder(root, false).sort((a, b) => a.id - b.id);
}

function seedGrad(root: Tensor, opts: BackwardOptions): Tensor {
  if (opts.grad) {
    const g = opts.grad;
    if (g.shape.length !== root.shape.length || g.shape.some((d, i) => d !== root.shape[i])) {
      throw new ShapeError(`backward: the seed gradient has shape ${shapeString(g.shape)} but the output has shape ${shapeString(root.shape)}`);
    }
    return g;
  }
  if (root.size !== 1) {
    throw new Error(
      `backward: the output${root.name ? ` '${root.name}'` : ''} has shape ${shapeString(root.shape)} (${root.size} elements); ` +
        'backward() without a seed gradient needs a scalar. Reduce it first (.sum() or .mean()) or pass { grad }.',
    );
  }
  const data = allocate(root.dtype === 'int32' ? 'float32' : root.dtype, 1);
  data[0] = 1;
  return new Tensor(data, root.shape.slice());
}

/** A gradient in the dtype of the tensor it belongs to (float32 params get float32 grads), differentiably. */
function castTo(g: Tensor, like: Tensor): Tensor {
  return like.dtype === 'int32' ? g : F.cast(g, like.dtype);
}

function describe(t: Tensor): string {
  const where = t.source ? ` (line ${t.source.line})` : '';
  return `${t.name ? `'${t.name}' ` : ''}${t.op ?? 'leaf'}#${t.id}${where}`;
}

/** Checks, orders and seeds a backward pass; returns the nodes, inputs before their consumers. */
function prepare(root: Tensor, opts: BackwardOptions): Tensor[] {
  if (!(root instanceof Tensor)) throw new Error('backward: expected a tensor');
  if (!root.requiresGrad) {
    throw new Error(
      `backward: the output ${describe(root)} does not depend on any tensor that requires grad. ` +
        'Create trainable values with param(), scalar() or { requiresGrad: true }, and do not compute the output inside noGrad().',
    );
  }
  const seed = seedGrad(root, opts);
  const order = topoOrder(root);
  for (const node of order) {
    if (node.graphFreed) {
      throw new Error(
        `backward: the graph through ${describe(node)} was already used by an earlier backward() and has been freed. ` +
          'Pass { retainGraph: true } to the first backward() to run backward twice, or recompute the forward pass.',
      );
    }
  }
  for (const node of order) if (!node.isLeaf) node.grad = null;
  root.grad = root.isLeaf && root.grad ? F.add(root.grad, seed) : seed;
  return order;
}

/** PyTorch's default: a pass that records a graph of the gradients keeps the graph it went through. */
function retains(opts: BackwardOptions): boolean {
  return opts.retainGraph ?? opts.createGraph ?? false;
}

function finish(order: readonly Tensor[], opts: BackwardOptions): void {
  if (!retains(opts)) for (const node of order) if (!node.isLeaf) node.graphFreed = true;
}

/** The step-wise backward pass from `root`. Consuming it completely is exactly `root.backward(opts)`. */
export function* backwardSteps(root: Tensor, opts: BackwardOptions = {}): Generator<BackwardStep, void, undefined> {
  if (root instanceof Tensor && root.tape !== null) root = root.tape.canonical(root);
  const order = prepare(root, opts);
  const createGraph = opts.createGraph ?? false;
  let index = 0;
  for (let k = order.length - 1; k >= 0; k--) {
    const step = runStep(order[k], index, createGraph, true);
    if (step !== null) {
      index++;
      yield step;
    }
  }
  finish(order, opts);
}

/** Fills `.grad` for every node that requires grad and leads to `root` (a scalar, or pass `grad`). */
export function backward(root: Tensor, opts: BackwardOptions = {}): void {
  if (root instanceof Tensor && root.tape !== null) {
    if (!opts.createGraph) {
      // a micrograd-style graph: the same gradients from a sweep over the tape (see tape.ts)
      tapeBackward(root, seedGrad(root, opts).item(), retains(opts), NumberOps);
      return;
    }
    root = root.tape.canonical(root);
  }
  const order = prepare(root, opts);
  const createGraph = opts.createGraph ?? false;
  for (let k = order.length - 1; k >= 0; k--) runStep(order[k], k, createGraph, false);
  finish(order, opts);
}

/**
 * One node of the backward pass: computes each input's contribution and accumulates it. Returns
 * the record when `record` is set (the stepped pass), else null; the arithmetic is the same.
 */
function runStep(node: Tensor, index: number, createGraph: boolean, record: boolean): BackwardStep | null {
  const def = node.def;
  if (def === null || node.gradNumber() === null) return null;
  const saved = enterBackwardMode(createGraph);
  try {
    if (def.localGrads && !createGraph && isScalar64(node) && node.inputs.every(isScalar64)) return scalarStep(node, index, record);
    return tensorStep(node, index, record);
  } finally {
    exitBackwardMode(saved);
  }
}

/** 0-d float64 nodes: the same local-gradient definition evaluated on numbers, no tensors created. */
function scalarStep(node: Tensor, index: number, record: boolean): BackwardStep | null {
  const inputs = node.inputs;
  const upstream = node.gradNumber()!;
  const values = inputs.map((t) => t.scalarValue);
  const needed = inputs.map((t) => t.requiresGrad);
  const locals = node.def!.localGrads!(NumberOps, values, node.scalarValue, node.attrs, needed);
  const steps: InputStep[] | null = record ? [] : null;
  for (let i = 0; i < inputs.length; i++) {
    const local = locals[i];
    if (!needed[i] || local === null) continue;
    const input = inputs[i];
    const contribution = local === 1 ? upstream : upstream * local;
    const previous = input.gradNumber();
    input.setGradNumber(previous === null ? contribution : previous + contribution);
    if (steps) {
      steps.push({
        index: i, input, localGrad: local, contribution: Tensor.scalarNode(contribution),
        accumulatedGrad: input.grad!, accumulated: previous !== null,
      });
    }
  }
  return steps ? { index, node, upstreamGrad: node.grad!, inputs: steps } : null;
}

/**
 * The inputs at the node's dtype, for its local gradients: a float32 input of a float64 op (a mixed
 * operation, computed in float64) is promoted, as PyTorch computes such an op's backward in the
 * promoted dtype; otherwise ∂(a/b)/∂a = 1/b would be rounded to float32. The cast is an op, so
 * it stays differentiable under createGraph.
 */
function atNodeDType(node: Tensor, inputs: readonly Tensor[]): readonly Tensor[] {
  if (node.dtype !== 'float64' || !inputs.some((t) => t.dtype === 'float32')) return inputs;
  return inputs.map((t) => (t.dtype === 'float32' ? F.cast(t, 'float64') : t));
}

function tensorStep(node: Tensor, index: number, record: boolean): BackwardStep | null {
  const def = node.def!;
  const inputs = node.inputs;
  const upstream = node.grad!;
  const needed = inputs.map((t) => t.requiresGrad);
  const locals = def.localGrads ? def.localGrads(TensorOps, atNodeDType(node, inputs), node, node.attrs, needed) : null;
  const vjps = locals ? null : def.vjp!(upstream, inputs, node, node.attrs, needed);
  const steps: InputStep[] | null = record ? [] : null;
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    if (!needed[i]) continue;
    let raw: Tensor | null;
    if (locals) {
      // the chain rule for elementwise ops: upstream ⊙ local, summed over broadcast axes
      const local = locals[i];
      raw = local === null ? null : F.sumTo(local === 1 ? upstream : F.mul(upstream, local), input.shape);
    } else raw = vjps![i];
    if (!raw) continue;
    const contribution = castTo(raw, input);
    const previous = input.grad;
    input.grad = previous !== null ? F.add(previous, contribution) : contribution;
    if (steps) steps.push({ index: i, input, localGrad: locals ? locals[i] : null, contribution, accumulatedGrad: input.grad, accumulated: previous !== null });
  }
  return steps ? { index, node, upstreamGrad: upstream, inputs: steps } : null;
}

Tensor.prototype.backward = function (this: Tensor, opts?: BackwardOptions): void {
  backward(this, opts);
};

/** Sets `.grad = null` on the given tensors (parameters, usually). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.grad = null;
}
