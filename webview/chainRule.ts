/**
 * The chain rule written out with numbers, from the engine's step records (never recomputed here):
 *   ∂L/∂q = ∂L/∂f · ∂f/∂q = 1.000 · −4.000 = −4.000
 *   ∂L/∂x = 2.000 (from mul) + 1.000 (from add) = 3.000
 */
import type { GraphSnapshot, SnapshotInputStep, SnapshotNode, TensorPayload } from '../extension/protocol';
import { fmtChain, nodeRef, shapeText } from './format';

export interface ChainText {
  title: string;
  lines: string[];
}

function payloadText(p: TensorPayload | number, shape: readonly number[]): string {
  if (typeof p === 'number') return fmtChain(p);
  if (!p) return `[${shapeText(shape)}]`;
  if (p.length === 1) return fmtChain(p[0]);
  if (p.length <= 4) return `[${Array.from(p, fmtChain).join(', ')}]`;
  let sum = 0;
  for (const v of p) sum += v;
  return `[${shapeText(shape)}] μ ${fmtChain(sum / p.length)}`;
}

const INFIX = new Set(['+', '−', '-', '×', '÷', '·', '@']);

/** The contributions an input received up to (and including) input step `upTo` of record `k`. */
function contributions(s: GraphSnapshot, input: number, k: number, upTo: SnapshotInputStep | null): { from: SnapshotNode; value: TensorPayload }[] {
  const out: { from: SnapshotNode; value: TensorPayload }[] = [];
  for (let j = 0; j <= k && j < s.backward.length; j++) {
    const r = s.backward[j];
    for (const i of r.inputs) {
      if (i.input === input) out.push({ from: s.nodes[r.node], value: i.contribution });
      if (j === k && i === upTo) return out;
    }
  }
  return out;
}

function sumLine(target: SnapshotNode, parts: { from: SnapshotNode; value: TensorPayload }[], total: TensorPayload): string {
  const terms = parts.map((p) => `${payloadText(p.value, target.shape)} (from ${p.from.op})`);
  return `∂L/∂${nodeRef(target)} = ${terms.join(' + ')} = ${payloadText(total, target.shape)}`;
}

/** Backward step `step` (1-based: the record `step - 1`). */
export function backwardChain(s: GraphSnapshot, step: number): ChainText | null {
  if (step < 1 || step > s.backward.length) return null;
  const k = step - 1;
  const r = s.backward[k];
  const n = s.nodes[r.node];
  const N = nodeRef(n);
  const lines: string[] = [];
  if (k === 0 && r.node === s.output) lines.push(`∂L/∂${N} = ${payloadText(r.upstreamGrad, n.shape)}  (${N} is the output L)`);
  let needsFormula = false;
  for (const i of r.inputs) {
    const input = s.nodes[i.input];
    const I = nodeRef(input);
    const local = i.localGrad === null ? `∂${N}/∂${I}` : payloadText(i.localGrad, input.shape);
    if (i.localGrad === null) needsFormula = true;
    const product = `∂L/∂${N} · ∂${N}/∂${I} = ${payloadText(r.upstreamGrad, n.shape)} · ${local} = ${payloadText(i.contribution, input.shape)}`;
    if (!i.accumulated) {
      lines.push(`∂L/∂${I} = ${product}`);
    } else {
      lines.push(`${product}  (into ${I})`);
      lines.push(sumLine(input, contributions(s, i.input, k, i), i.accumulatedGrad));
    }
  }
  if (r.inputs.length === 0) lines.push(`${N} has no inputs that need a gradient.`);
  if (needsFormula && n.formula) lines.push(`local gradient: ${n.formula}`);
  return { title: `Backward ${step}/${s.backward.length}: through ${N} (${n.op})`, lines };
}

/** How a node's final gradient came about: the sum over every op it feeds. */
export function gradientStory(s: GraphSnapshot, id: number): string | null {
  const n = s.nodes[id];
  if (!n) return null;
  if (id === s.output && s.backward.length) return `∂L/∂${nodeRef(n)} = 1.000  (the output L)`;
  const last = s.backward.length - 1;
  const parts = contributions(s, id, last, null);
  if (!parts.length) return null;
  return sumLine(n, parts, n.grad ?? parts[parts.length - 1].value);
}

/** Forward step `step` (1-based): `q = x + y = −2.000 + 5.000 = 3.000`. */
export function forwardChain(s: GraphSnapshot, step: number): ChainText | null {
  if (step < 1 || step > s.forward.length) return null;
  const n = s.nodes[s.forward[step - 1]];
  const ins = n.inputs.map((i) => s.nodes[i]);
  const names = ins.map(nodeRef);
  const vals = ins.map((i) => payloadText(i.value, i.shape));
  const sym = n.symbol || n.op;
  const apply = (xs: string[]) => (xs.length === 2 && INFIX.has(sym) ? `${xs[0]} ${sym} ${xs[1]}` : `${sym}(${xs.join(', ')})`);
  const line = `${nodeRef(n)} = ${apply(names)} = ${apply(vals)} = ${payloadText(n.value, n.shape)}`;
  return { title: `Forward ${step}/${s.forward.length}: ${nodeRef(n)} (${n.op})`, lines: [line] };
}
