/**
 * Records one training step as a Graph IR program: runs the loss on the CPU with gradients on,
 * runs backward with `createGraph` (so every gradient is itself a node built from primitive ops),
 * then walks the graph from the loss and the parameters' gradients back to the leaves.
 *
 * Leaves are classified by identity: the parameters, the minibatch tensors, a detached copy of a
 * value in the graph (`x.detach()` shares its storage: it becomes the same IR value), and
 * constants (their values are captured, and are part of the signature: a leaf whose values change
 * from step to step — a dropout mask, a gradient cast to another dtype — makes the graph dynamic).
 */
import { noGrad } from '../ops/context';
import { setTapeEnabled } from '../tape';
import { Tensor, tensor } from '../tensor';
import type { TypedArray } from '../dtype';
import type { IrDType, IrLeaf, IrNode, IrProgram, IrValue } from './program';

export interface CaptureInput {
  /** Computes the loss (a one-element tensor) from the current parameters and minibatch. */
  loss: () => Tensor;
  params: readonly Tensor[];
  /** The minibatch tensors `loss` reads (replaced by the executor's inputs each step). */
  data?: { x?: Tensor | null; y?: Tensor | null };
}

export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

const dtypeOf = (t: Tensor): IrDType => (t.dtype === 'int32' ? 'int32' : 'float32');

/** Captures the step and returns the program (parameters' `.grad` are left cleared). */
export function captureStep({ loss: lossFn, params, data = {} }: CaptureInput): IrProgram {
  const tapeWas = setTapeEnabled(false);
  try {
    for (const p of params) p.grad = null;
    const loss = lossFn();
    if (!(loss instanceof Tensor) || loss.size !== 1) throw new CaptureError('the loss must be a tensor of one element');
    if (!loss.requiresGrad) throw new CaptureError('the loss does not depend on any parameter');
    const seed = noGrad(() => tensor(new Float64Array(1).fill(1), { dtype: loss.dtype === 'int32' ? 'float32' : loss.dtype, shape: loss.shape.slice() }));
    loss.backward({ createGraph: true, retainGraph: true, grad: seed });
    const grads = params.map((p) => p.grad);
    const program = build(loss, grads, params, data);
    return program;
  } finally {
    for (const p of params) p.grad = null;
    setTapeEnabled(tapeWas);
  }
}

function build(loss: Tensor, grads: readonly (Tensor | null)[], params: readonly Tensor[], data: CaptureInput['data'] & object): IrProgram {
  const roots = [loss, ...grads.filter((g): g is Tensor => g !== null)];
  // pass 1: everything reachable; storage of the non-leaves, parameters and data, for detach aliases
  const reachable = new Set<Tensor>();
  const stack = [...roots];
  while (stack.length) {
    const t = stack.pop()!;
    if (reachable.has(t)) continue;
    reachable.add(t);
    for (const i of t.inputs) stack.push(i);
  }
  const paramIndex = new Map(params.map((p, i) => [p, i]));
  const named = new Map<Tensor, 'x' | 'y'>();
  if (data.x) named.set(data.x, 'x');
  if (data.y) named.set(data.y, 'y');
  const byStorage = new Map<TypedArray, Tensor>();
  for (const t of reachable) if (t.def !== null || paramIndex.has(t) || named.has(t)) byStorage.set(t.data, t);
  const resolve = (t: Tensor): Tensor => {
    if (t.def !== null || paramIndex.has(t) || named.has(t)) return t;
    const source = byStorage.get(t.data);
    return source && source !== t ? source : t;
  };

  // pass 2: post-order DFS over resolved tensors
  const ids = new Map<Tensor, number>();
  const values: IrValue[] = [];
  const leaves: IrLeaf[] = [];
  const nodes: IrNode[] = [];
  const sig: string[] = [];
  const visit = (root: Tensor): number => {
    const work: { t: Tensor; expanded: boolean }[] = [{ t: resolve(root), expanded: false }];
    while (work.length) {
      const top = work[work.length - 1];
      const t = top.t;
      if (ids.has(t)) {
        work.pop();
        continue;
      }
      if (t.def === null) {
        work.pop();
        const id = values.push({ shape: t.shape.slice(), dtype: dtypeOf(t) }) - 1;
        ids.set(t, id);
        const p = paramIndex.get(t);
        const d = named.get(t);
        if (p !== undefined) leaves.push({ value: id, source: { kind: 'param', index: p } });
        else if (d) leaves.push({ value: id, source: { kind: 'data', name: d } });
        else {
          const vals = Float64Array.from(t.data as ArrayLike<number>);
          leaves.push({ value: id, source: { kind: 'const', values: vals } });
          sig.push(`c${id}=${vals.length <= 64 ? vals.join(',') : hashValues(vals)}`);
        }
        sig.push(`L${id}:${leaves[leaves.length - 1].source.kind}[${t.shape.join('x')}]`);
        continue;
      }
      if (!top.expanded) {
        top.expanded = true;
        for (let i = t.inputs.length - 1; i >= 0; i--) {
          const input = resolve(t.inputs[i]);
          if (!ids.has(input)) work.push({ t: input, expanded: false });
        }
        continue;
      }
      work.pop();
      const inputs = t.inputs.map((i) => ids.get(resolve(i))!);
      const id = values.push({ shape: t.shape.slice(), dtype: dtypeOf(t) }) - 1;
      ids.set(t, id);
      const attrs = { ...t.attrs };
      nodes.push({ op: t.def.name, inputs, attrs, out: id });
      sig.push(`${t.def.name}(${inputs.join(',')})${JSON.stringify(attrs)}[${t.shape.join('x')}]`);
    }
    return ids.get(resolve(root))!;
  };
  const lossId = visit(loss);
  const gradIds = grads.map((g) => (g === null ? null : visit(g)));
  sig.push(`loss=${lossId}`, `grads=${gradIds.join(',')}`);
  return { values, leaves, nodes, loss: lossId, grads: gradIds, signature: sig.join(';') };
}

/** A short fingerprint of many numbers (FNV-1a over their float64 bits). */
function hashValues(values: Float64Array): string {
  const b = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return `${values.length}#${h.toString(16)}`;
}
