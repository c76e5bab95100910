/** Locates the first NaN or Inf in a forward or backward pass and names where it came from. */
import { forwardOrder, type BackwardStep } from '../autograd';
import { shapeString } from '../shape';
import type { Tensor } from '../tensor';
import { countNonFinite } from './summary';

export interface NonFiniteFinding {
  phase: 'forward' | 'backward';
  /** Forward: the first node whose value is not finite. Backward: the node whose step produced it. */
  node: Tensor;
  /** Backward only: the input whose gradient became non-finite. */
  input?: Tensor;
  nan: number;
  inf: number;
  /** Flat index of the first bad element. */
  index: number;
  message: string;
}

/** `'h1' (tanh#12, line 7)` — how nodes are named in messages. */
export function describeNode(t: Tensor): string {
  const parts = [`${t.op ?? 'leaf'}#${t.id}`];
  if (t.source) parts.push(`line ${t.source.line}`);
  return t.name ? `'${t.name}' (${parts.join(', ')})` : parts.join(', ');
}

function what(c: { nan: number; inf: number }): string {
  return c.nan > 0 ? (c.inf > 0 ? 'NaN and Inf' : 'NaN') : 'Inf';
}

/** The first node, in the order the program computed them, whose value contains NaN or Inf. */
export function firstNonFiniteForward(root: Tensor): NonFiniteFinding | null {
  for (const node of forwardOrder(root)) {
    const c = countNonFinite(node.data);
    if (c.first < 0) continue;
    const inputsFinite = node.inputs.every((i) => countNonFinite(i.data).first < 0);
    const cause = node.isLeaf ? 'it is an input value' : inputsFinite ? `its inputs were finite, so ${node.op} produced it` : 'an input was already non-finite';
    return {
      phase: 'forward', node, nan: c.nan, inf: c.inf, index: c.first,
      message: `${what(c)} first appears in the forward pass at ${describeNode(node)}: ${c.nan + c.inf} of ${node.size} element(s) of ${shapeString(node.shape)} (${cause}).`,
    };
  }
  return null;
}

/** The first backward step whose contribution made an input's gradient NaN or Inf. */
export function firstNonFiniteBackward(steps: Iterable<BackwardStep>): NonFiniteFinding | null {
  for (const step of steps) {
    for (const s of step.inputs) {
      const c = countNonFinite(s.contribution.data);
      if (c.first < 0) continue;
      const upstreamBad = countNonFinite(step.upstreamGrad.data).first >= 0;
      return {
        phase: 'backward', node: step.node, input: s.input, nan: c.nan, inf: c.inf, index: c.first,
        message:
          `${what(c)} first appears in the backward pass in the gradient of ${describeNode(s.input)}, ` +
          `sent back through ${describeNode(step.node)}` +
          (upstreamBad ? ' (its upstream gradient was already non-finite).' : ` (the local gradient of ${step.node.op} is not finite there).`),
      };
    }
  }
  return null;
}
