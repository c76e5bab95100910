/**
 * What the graph shows at a step. Backward stepping replays the engine's step records
 * (`snapshot.backward`): after k records, the nodes they touched carry the gradient the engine had
 * accumulated so far. Forward stepping reveals values in `snapshot.forward` order.
 */
import type { GraphSnapshot, TensorPayload, ViewMode } from '../extension/protocol';

export interface ShownGrad {
  payload: TensorPayload;
  /** No later step adds to it: the node's final gradient (its summaries apply). */
  final: boolean;
}

export interface StepView {
  mode: ViewMode;
  step: number;
  total: number;
  /** The node processed at this step (null at step 0). */
  current: number | null;
  /** Nodes whose value is shown. */
  valueShown: (id: number) => boolean;
  /** Gradients shown so far, by node. */
  grads: Map<number, ShownGrad>;
  /** Edge keys `from->to` that carry gradient at this step (backward) or feed the current node (forward). */
  activeEdges: Set<string>;
  /** Edge keys gradient has already flowed along. */
  doneEdges: Set<string>;
}

export const edgeKey = (from: number, to: number): string => `${from}->${to}`;

export function stepCount(s: GraphSnapshot, mode: ViewMode): number {
  return mode === 'backward' ? s.backward.length : s.forward.length;
}

export function clampStep(s: GraphSnapshot, mode: ViewMode, step: number): number {
  return Math.max(0, Math.min(stepCount(s, mode), Math.floor(step)));
}

export function stepView(s: GraphSnapshot, mode: ViewMode, rawStep: number): StepView {
  const total = stepCount(s, mode);
  const step = clampStep(s, mode, rawStep);
  const grads = new Map<number, ShownGrad>();
  const activeEdges = new Set<string>();
  const doneEdges = new Set<string>();
  if (mode === 'forward') {
    const shown = new Set(s.forward.slice(0, step));
    const current = step > 0 ? s.forward[step - 1] : null;
    if (current !== null) for (const i of s.nodes[current].inputs) activeEdges.add(edgeKey(i, current));
    return {
      mode, step, total, current, grads, activeEdges, doneEdges,
      valueShown: (id) => s.nodes[id]?.op === 'leaf' || shown.has(id),
    };
  }
  // Last step that touches each node: after it, the gradient shown is final.
  const lastTouch = new Map<number, number>();
  s.backward.forEach((r, k) => {
    if (!lastTouch.has(r.node)) lastTouch.set(r.node, k);
    for (const i of r.inputs) lastTouch.set(i.input, k);
  });
  for (let k = 0; k < step; k++) {
    const r = s.backward[k];
    if (!grads.has(r.node)) grads.set(r.node, { payload: r.upstreamGrad, final: true });
    for (const i of r.inputs) {
      grads.set(i.input, { payload: i.accumulatedGrad, final: (lastTouch.get(i.input) ?? 0) <= k });
      (k === step - 1 ? activeEdges : doneEdges).add(edgeKey(i.input, r.node));
    }
  }
  return {
    mode, step, total,
    current: step > 0 ? s.backward[step - 1].node : null,
    valueShown: () => true,
    grads, activeEdges, doneEdges,
  };
}
