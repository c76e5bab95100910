/**
 * The chain rule's bookkeeping, checked on a snapshot from its own numbers: the backward pass
 * starts from ∂L/∂L = 1; each node's gradient is the sum of the contributions it received in the
 * step records; each step's accumulated gradient is the previous one plus its contribution; and
 * each elementwise contribution is upstream ⊙ local gradient, summed to the input's shape.
 *
 * Sums are recomputed in float64 and compared with a rounding bound, not a fixed tolerance: a sum
 * of k terms computed in a format with unit roundoff u is off by at most about (k + 1)·u·Σ|termᵢ|.
 * Tests turn this on for every snapshot they produce (BPL_VERIFY_SNAPSHOTS=1, see buildSnapshot).
 */
import { broadcastStrides, stridedOffsets } from '../backends/cpu/strided';
import type { GraphSnapshot, SnapshotNode, TensorPayload } from './snapshot';

const UNIT: Record<string, number> = { float64: 2 ** -53, float32: 2 ** -24, int32: 2 ** -24 };
/** Slack over the first-order bound (products, casts, pairwise differences in summation order). */
const SLACK = 4;

/** Every violation of the invariants in `s` (empty when it holds them all). */
export function verifySnapshot(s: GraphSnapshot): string[] {
  const out: string[] = [];
  const ref = (n: SnapshotNode) => `${n.name ?? n.op}#${n.id}`;
  // a leaf's curve passes through the recorded point: the graph evaluated again at the recorded value gives the recorded output
  for (const n of s.nodes) {
    if (!n.curve) continue;
    const mid = (n.curve.xs.length - 1) / 2;
    const y = s.nodes[s.output].scalar;
    if (n.curve.xs[mid] !== n.scalar) out.push(`${ref(n)}: its curve is centred at ${n.curve.xs[mid]}, not at its value ${n.scalar}`);
    else if (y !== null && Number.isFinite(y) && n.curve.ys[mid] !== y) out.push(`${ref(n)}: its curve gives ${n.curve.ys[mid]} at the recorded value, the output is ${y}`);
  }
  if (s.backward.length === 0) return out;
  const first = s.backward[0];
  const output = s.nodes[s.output];
  if (first.node !== s.output) out.push(`the backward pass starts at ${ref(s.nodes[first.node])}, not at the output ${ref(output)}`);
  else if (first.upstreamGrad && Array.from(first.upstreamGrad).some((v) => v !== 1)) out.push(`∂L/∂L is ${Array.from(first.upstreamGrad)}, not 1`);

  const received = new Map<number, TensorPayload[]>();
  for (const step of s.backward) {
    const node = s.nodes[step.node];
    for (const i of step.inputs) {
      const input = s.nodes[i.input];
      const where = `step ${step.index} (${ref(node)} → ${ref(input)})`;
      // a leaf's first step may start from what an earlier backward pass left in it
      const before = received.get(i.input) ?? (i.accumulated ? [i.previousGrad] : []);
      received.set(i.input, [...before, i.contribution]);
      // accumulated = previous + contribution
      if (i.accumulatedGrad && i.contribution) {
        const terms = i.previousGrad ? [i.previousGrad, i.contribution] : [i.contribution];
        const e = sumError(i.accumulatedGrad, terms, input.dtype);
        if (e) out.push(`${where}: the accumulated gradient is not the previous gradient plus the contribution (${e})`);
      }
      // elementwise: contribution = sumTo(upstream ⊙ local, input shape)
      if (i.localGrad !== null && i.contribution && step.upstreamGrad) {
        const local = typeof i.localGrad === 'number' ? { data: [i.localGrad], shape: [] as number[] } : i.localShape ? { data: i.localGrad, shape: i.localShape } : null;
        if (local && local.data) {
          const e = chainError(i.contribution, input, step.upstreamGrad, node, local.data, local.shape);
          if (e) out.push(`${where}: the contribution is not upstream × local gradient (${e})`);
        }
      }
    }
  }
  // each node's gradient is the sum of what it received (the output: the seed)
  for (const n of s.nodes) {
    if (!n.grad || n.id === s.output) continue;
    const parts = received.get(n.id);
    if (!parts || parts.some((p) => p === null)) continue;
    const e = sumError(n.grad, parts as Float64Array[], n.dtype);
    if (e) out.push(`${ref(n)}: its gradient is not the sum of its ${parts.length} contribution(s) (${e})`);
  }
  return out;
}

/** How far `total` is from Σ terms beyond the rounding bound, or null when within it. */
function sumError(total: ArrayLike<number>, terms: readonly ArrayLike<number>[], dtype: string): string | null {
  const u = UNIT[dtype] ?? UNIT.float32;
  for (let j = 0; j < total.length; j++) {
    let sum = 0, abs = 0;
    for (const t of terms) {
      sum += t[j];
      abs += Math.abs(t[j]);
    }
    const got = total[j];
    if (!Number.isFinite(got) || !Number.isFinite(sum)) continue;
    const bound = SLACK * (terms.length + 1) * u * abs;
    if (Math.abs(got - sum) > bound) return `element ${j}: ${got} vs ${sum}`;
  }
  return null;
}

/** contribution vs Σ over broadcast axes of upstream·local, in float64, against the rounding bound. */
function chainError(
  contribution: ArrayLike<number>, input: SnapshotNode, upstream: ArrayLike<number>, node: SnapshotNode,
  local: ArrayLike<number>, localShape: readonly number[],
): string | null {
  const outShape = node.shape;
  const size = upstream.length;
  const lOff = stridedOffsets(outShape, broadcastStrides(localShape, outShape));
  const iOff = stridedOffsets(outShape, broadcastStrides(input.shape, outShape));
  const sum = new Float64Array(contribution.length);
  const abs = new Float64Array(contribution.length);
  const count = new Float64Array(contribution.length);
  for (let j = 0; j < size; j++) {
    const p = upstream[j] * local[lOff[j]];
    sum[iOff[j]] += p;
    abs[iOff[j]] += Math.abs(p);
    count[iOff[j]]++;
  }
  const u = Math.max(UNIT[node.dtype] ?? UNIT.float32, UNIT[input.dtype] ?? UNIT.float32);
  for (let j = 0; j < contribution.length; j++) {
    const got = contribution[j];
    if (!Number.isFinite(got) || !Number.isFinite(sum[j])) continue;
    const bound = SLACK * (count[j] + 2) * u * abs[j];
    if (Math.abs(got - sum[j]) > bound) return `element ${j}: ${got} vs ${sum[j]}`;
  }
  return null;
}
