/**
 * Reverse mode. `backwardSteps` walks the graph in reverse topological order and yields one record
 * per node: the upstream gradient, and for each input the local gradient, the contribution and the
 * input's accumulated gradient. `backward()` is that same walk run to the end, so the stepped pass
 * and the plain pass cannot disagree.
 */
import { allocate } from './dtype';
import { shapeString } from './shape';
import { Tensor } from './tensor';
import { enterBackwardMode, exitBackwardMode } from './ops/context';
import * as F from './ops/functional';

export interface BackwardOptions {
  /** Keep the graph usable for another backward pass (default false, as in PyTorch). */
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
      throw new Error(`backward: the seed gradient has shape ${shapeString(g.shape)} but the output has shape ${shapeString(root.shape)}`);
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

/** Converts a gradient to the dtype of the tensor it belongs to (float32 params get float32 grads). */
function castTo(g: Tensor, like: Tensor): Tensor {
  if (g.dtype === like.dtype || like.dtype === 'int32') return g;
  const data = allocate(like.dtype, g.size);
  data.set(g.data);
  return new Tensor(data, g.shape.slice());
}

function describe(t: Tensor): string {
  const where = t.source ? ` (line ${t.source.line})` : '';
  return `${t.name ? `'${t.name}' ` : ''}${t.op ?? 'leaf'}#${t.id}${where}`;
}

/** The step-wise backward pass from `root`. Consuming it completely is exactly `root.backward(opts)`. */
export function* backwardSteps(root: Tensor, opts: BackwardOptions = {}): Generator<BackwardStep, void, undefined> {
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
  const createGraph = opts.createGraph ?? false;
  for (const node of order) if (!node.isLeaf) node.grad = null;
  root.grad = root.isLeaf && root.grad ? F.add(root.grad, seed) : seed;

  let index = 0;
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k];
    const def = node.def;
    const upstream = node.grad;
    if (def === null || upstream === null) continue;
    const saved = enterBackwardMode(createGraph);
    let step: BackwardStep;
    try {
      step = runStep(node, upstream, index);
    } finally {
      exitBackwardMode(saved);
    }
    index++;
    yield step;
  }
  if (!opts.retainGraph) for (const node of order) if (!node.isLeaf) node.graphFreed = true;
}

function runStep(node: Tensor, upstream: Tensor, index: number): BackwardStep {
  const def = node.def!;
  const inputs = node.inputs;
  const needed = inputs.map((t) => t.requiresGrad);
  const steps: InputStep[] = [];
  let locals: (Tensor | number | null)[] | null = null;
  let contributions: (Tensor | null)[];
  if (def.localGrads) {
    locals = def.localGrads(inputs, node, node.attrs, needed);
    contributions = inputs.map((input, i) => {
      const local = locals![i];
      if (!needed[i] || local === null) return null;
      const scaled = local === 1 ? upstream : F.mul(upstream, local);
      return F.sumTo(scaled, input.shape);
    });
  } else {
    contributions = def.vjp!(upstream, inputs, node, node.attrs, needed);
  }
  for (let i = 0; i < inputs.length; i++) {
    const raw = contributions[i];
    if (!needed[i] || !raw) continue;
    const input = inputs[i];
    const contribution = castTo(raw, input);
    const accumulated = input.grad !== null;
    input.grad = accumulated ? F.add(input.grad!, contribution) : contribution;
    steps.push({ index: i, input, localGrad: locals ? locals[i] : null, contribution, accumulatedGrad: input.grad, accumulated });
  }
  return { index, node, upstreamGrad: upstream, inputs: steps };
}

/** Fills `.grad` for every node that requires grad and leads to `root` (a scalar, or pass `grad`). */
export function backward(root: Tensor, opts: BackwardOptions = {}): void {
  const steps = backwardSteps(root, opts);
  for (let r = steps.next(); !r.done; r = steps.next());
}

/** Sets `.grad = null` on the given tensors (parameters, usually). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.grad = null;
}
