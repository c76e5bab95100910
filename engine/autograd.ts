/**
 * Reverse mode: one driver (`BackwardPass`) over the object graph. `backwardSteps` runs it and
 * yields one record per node: the upstream gradient, and for each input the local gradient, the
 * contribution and the input's accumulated gradient. `backward()` runs the same pass to the end
 * without the records, so the stepped pass and the plain pass cannot disagree; both visit nodes in
 * the reverse order of their creation. The one exception is `backward()` from a value of the scalar
 * tape (micrograd-style graphs): it sweeps the tape's columns instead (`backwardTape` in tape.ts),
 * with the same chain rule on numbers (`contribution`) in the same order, held to the bits of this
 * driver by the tape tests; stepping such a graph materializes it and comes here.
 */
import { allocate } from './dtype';
import { shapeString } from './shape';
import { NO_ATTRS, Tensor, isScalar64 } from './tensor';
import { enterBackwardMode, exitBackwardMode } from './ops/context';
import * as F from './ops/functional';
import { NumberOps, TensorOps } from './ops/functional';
import type { OpDef } from './ops/registry';
import { backwardTape } from './tape';
import { contribution } from './ops/number-grads';
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
  return Tensor.leaf(data, root.shape.slice());
}

/** A gradient in the dtype of the tensor it belongs to (float32 params get float32 grads), differentiably. */
function castTo(g: Tensor, like: Tensor): Tensor {
  return like.dtype === 'int32' ? g : F.cast(g, like.dtype);
}

function describe(t: Tensor): string {
  const where = t.source ? ` (line ${t.source.line})` : '';
  return `${t.name ? `'${t.name}' ` : ''}${t.op ?? 'leaf'}#${t.id}${where}`;
}

/**
 * A recorded graph as the backward driver walks it, one node at a time, the last computed first
 * (`ObjectRecording` below: the object graph, a tape's rows materialized as handles). The
 * recording checks the graph, clears its gradients and seeds the output when it is made; it says
 * which node comes next and where its gradient goes; the driver (`BackwardPass`) applies the chain
 * rule. Its fields describe the current node.
 */
export interface Recording {
  /** Moves to the next node that has a gradient; false when the pass is over (what it went through is then freed, unless retained). */
  next(): boolean;
  readonly def: OpDef;
  readonly attrs: Readonly<Record<string, unknown>>;
  /** The node is evaluated on numbers: a 0-d float64 node of an elementwise op, outside createGraph. */
  readonly numeric: boolean;
  /** On numbers: ∂L/∂node, the node's value, its inputs' values, and which inputs need a gradient. */
  readonly upstream: number;
  readonly out: number;
  readonly values: readonly number[];
  readonly needed: readonly boolean[];
  /** Adds `c` to input i's gradient; returns whether it already had one (fan-out). */
  addNumber(i: number, c: number): boolean;
  /** The node as a tensor (object graphs). */
  node(): Tensor;
}

/** PyTorch's default: a pass that records a graph of the gradients keeps the graph it went through. */
function retains(opts: BackwardOptions): boolean {
  return opts.retainGraph ?? opts.createGraph ?? false;
}

/**
 * The object graph: the nodes that require grad and lead to the output, in the reverse order of
 * their creation (ids grow as a program runs, so this is a reverse topological order, and the one
 * the tape uses too).
 */
class ObjectRecording implements Recording {
  def!: OpDef;
  attrs: Readonly<Record<string, unknown>> = NO_ATTRS;
  numeric = false;
  upstream = 0;
  out = 0;
  values: number[] = [];
  needed: boolean[] = [];
  private readonly order: Tensor[];
  private k: number;
  private current!: Tensor;

  constructor(root: Tensor, opts: BackwardOptions, private readonly createGraph: boolean) {
    if (!root.requiresGrad) {
      throw new Error(
        `backward: the output ${describe(root)} does not depend on any tensor that requires grad. ` +
          'Create trainable values with param(), scalar() or { requiresGrad: true }, and do not compute the output inside noGrad().',
      );
    }
    const seed = seedGrad(root, opts);
    const order = topoOrder(root).sort(byId);
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
    this.order = order;
    this.k = order.length;
    this.retain = retains(opts);
  }
  private readonly retain: boolean;

  next(): boolean {
    while (this.k > 0) {
      const node = this.order[--this.k];
      const def = node.def;
      if (def === null || node.gradNumber() === null) continue;
      this.current = node;
      this.def = def;
      this.attrs = node.attrs;
      const inputs = node.inputs;
      this.numeric = def.localGrads !== undefined && !this.createGraph && isScalar64(node) && inputs.every(isScalar64);
      this.needed = inputs.map((t) => t.requiresGrad);
      if (this.numeric) {
        this.upstream = node.gradNumber()!;
        this.out = node.scalarValue;
        this.values = inputs.map((t) => t.scalarValue);
      }
      return true;
    }
    if (!this.retain) for (const node of this.order) if (!node.isLeaf) node.graphFreed = true;
    return false;
  }

  addNumber(i: number, c: number): boolean {
    const input = this.current.inputs[i];
    const previous = input.gradNumber();
    input.setGradNumber(previous === null ? c : previous + c);
    return previous !== null;
  }

  node(): Tensor {
    return this.current;
  }
}

const byId = (a: Tensor, b: Tensor) => a.id - b.id;

/**
 * The backward driver: walks a recording and applies the chain rule at each node, on numbers
 * (0-d float64 nodes: the op's scalar local gradients) or on tensors (upstream ⊙ local
 * summed to each input's shape, or the op's vector–Jacobian product). `backward()` runs it to the
 * end; `backwardSteps()` runs the same pass with `record` set and yields each node's record, so the
 * two agree by construction.
 */
class BackwardPass {
  /** The record of the node just processed (when recording). */
  step: BackwardStep | null = null;
  private index = 0;

  constructor(private readonly rec: Recording, private readonly createGraph: boolean, private readonly record: boolean) {}

  /** Processes the next node; false when the pass is over. */
  advance(): boolean {
    const rec = this.rec;
    if (!rec.next()) return false;
    if (rec.numeric) this.numberStep(rec);
    else {
      const saved = enterBackwardMode(this.createGraph);
      try {
        this.tensorStep(rec.node());
      } finally {
        exitBackwardMode(saved);
      }
    }
    return true;
  }

  /** The chain rule on numbers: contribution_i = upstream · ∂node/∂input_i. */
  private numberStep(rec: Recording): void {
    const upstream = rec.upstream;
    const needed = rec.needed;
    const locals = rec.def.localGrads!(NumberOps, rec.values, rec.out, rec.attrs, needed);
    const node = this.record ? rec.node() : null;
    const steps: InputStep[] | null = node ? [] : null;
    for (let i = 0; i < locals.length; i++) {
      const local = locals[i];
      if (local === null || !needed[i]) continue;
      const c = contribution(upstream, local);
      const accumulated = rec.addNumber(i, c);
      if (steps) {
        const input = node!.inputs[i];
        steps.push({ index: i, input, localGrad: local, contribution: Tensor.scalarNode(c), accumulatedGrad: input.grad!, accumulated });
      }
    }
    if (node) this.step = { index: this.index++, node, upstreamGrad: node.grad!, inputs: steps! };
  }

  /** The chain rule on tensors: sumTo(upstream ⊙ local) for elementwise ops, the op's vjp otherwise. */
  private tensorStep(node: Tensor): void {
    const def = node.def!;
    const inputs = node.inputs;
    const upstream = node.grad!;
    const needed = inputs.map((t) => t.requiresGrad);
    const locals = def.localGrads ? def.localGrads(TensorOps, atNodeDType(node, inputs), node, node.attrs, needed) : null;
    const vjps = locals ? null : def.vjp!(upstream, inputs, node, node.attrs, needed);
    const steps: InputStep[] | null = this.record ? [] : null;
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
    if (steps) this.step = { index: this.index++, node, upstreamGrad: upstream, inputs: steps };
  }
}

/** The object graph a pass from `root` walks (a tape value's rows materialized as handles: each node's record is wanted, or the gradients get a graph of their own). */
function recordingFor(root: Tensor, opts: BackwardOptions): Recording {
  if (!(root instanceof Tensor)) throw new Error('backward: expected a tensor');
  if (root.tape !== null) root = root.tape.canonical(root);
  return new ObjectRecording(root, opts, opts.createGraph ?? false);
}

/** The step-wise backward pass from `root`. Consuming it completely is exactly `root.backward(opts)`. */
export function* backwardSteps(root: Tensor, opts: BackwardOptions = {}): Generator<BackwardStep, void, undefined> {
  const pass = new BackwardPass(recordingFor(root, opts), opts.createGraph ?? false, true);
  while (pass.advance()) if (pass.step !== null) yield pass.step;
}

/** Fills `.grad` for every node that requires grad and leads to `root` (a scalar, or pass `grad`). */
export function backward(root: Tensor, opts: BackwardOptions = {}): void {
  if (root instanceof Tensor && root.tape !== null && !opts.createGraph) {
    // a micrograd-style graph, walked on its tape (see backwardTape)
    backwardTape(root, seedGrad(root, opts).item(), retains(opts), NumberOps);
    return;
  }
  const pass = new BackwardPass(recordingFor(root, opts), opts.createGraph ?? false, false);
  while (pass.advance());
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

Tensor.prototype.backward = function (this: Tensor, opts?: BackwardOptions): void {
  backward(this, opts);
};

/** Sets `.grad = null` on the given tensors (parameters, usually). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.grad = null;
}
