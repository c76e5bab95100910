/**
 * The chain rule for one element of a tensor (picked in the inspector's table, heatmap or images):
 * ∂L/∂x[e] = Σₘ ∂L/∂y[m] · ∂y[m]/∂x[e] through each op that uses x, with the largest terms written
 * out in numbers and the rest summed, "+ n more". The terms come from the engine: the op applied
 * again to the recorded values, and its own gradient differentiated (engine/check/elementChain.ts).
 */
import type { GraphSnapshot, SnapshotNode } from '../extension/protocol';
import { elementChain, type ElementChain } from '../engine/check/elementChain';
import { OPS } from '../engine/ops/functional';
import type { DType } from '../engine/dtype';
import { el } from './dom';
import { fmt, fmtChain, nodeRef } from './format';

/** Terms written out one by one; the rest are summed into "+ n more". */
const SHOWN_TERMS = 4;

/** `[i, j]` of a flat index in a shape. */
export function indexText(index: number, shape: readonly number[]): string {
  if (!shape.length) return '';
  const at: number[] = [];
  let rest = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    at.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return `[${at.join(', ')}]`;
}

export interface ConsumerChain {
  /** The op that uses the element's tensor, and which of its inputs the tensor is. */
  node: SnapshotNode;
  input: number;
  /** The terms, or why there are none to show. */
  chain: ElementChain | null;
  reason: string | null;
  /** The contribution the backward pass recorded for this element at that step. */
  recorded: number | null;
}

/** One entry per backward step that sends gradient to node `n`: the element's terms through that op. */
export function consumerChains(s: GraphSnapshot, n: SnapshotNode, element: number): ConsumerChain[] {
  const out: ConsumerChain[] = [];
  for (const step of s.backward) {
    for (const inp of step.inputs) {
      if (inp.input !== n.id) continue;
      const node = s.nodes[step.node];
      const recorded = inp.contribution ? inp.contribution[element] ?? null : null;
      const base = { node, input: inp.index, recorded };
      const def = OPS.get(node.op);
      const values = node.inputs.map((i) => s.nodes[i]);
      if (!def) out.push({ ...base, chain: null, reason: `${node.op} is not an op of this engine` });
      else if (!step.upstreamGrad || values.some((v) => !v.value)) out.push({ ...base, chain: null, reason: 'its tensors are larger than the panel keeps (load them in the inspector, or lower the size)' });
      else if (Object.keys(node.attrs ?? {}).length === 0 && !attrsFree(node.op)) out.push({ ...base, chain: null, reason: 'its settings were not recorded' });
      else {
        try {
          const chain = elementChain({
            def, attrs: node.attrs ?? {},
            inputs: values.map((v) => ({ values: v.value!, shape: v.shape, dtype: v.dtype as DType })),
            input: inp.index, element, upstream: step.upstreamGrad,
          });
          out.push({ ...base, chain, reason: null });
        } catch (err) {
          out.push({ ...base, chain: null, reason: (err as Error).message });
        }
      }
    }
  }
  return out;
}

/** Ops whose attributes are all optional (elementwise ops have none). */
function attrsFree(op: string): boolean {
  return OPS.get(op)?.pointwise !== undefined || op === 'matmul';
}

/** The section: the element's value and gradient, then its chain rule through each consumer, then the sum. */
export function elementChainSection(s: GraphSnapshot, n: SnapshotNode, element: number, clear: () => void): HTMLElement {
  const at = indexText(element, n.shape);
  const name = `${nodeRef(n)}${at}`;
  const sec = el('div', { class: 'element-chain', 'data-testid': 'element-chain', 'data-element': String(element) });
  const head = el('div', { class: 'element-head' });
  const close = el('a', { href: '#', class: 'node-link', title: 'Back to the whole tensor' }, 'clear');
  close.addEventListener('click', (e) => {
    e.preventDefault();
    clear();
  });
  head.append(el('h3', {}, `Element ${at}`), close);
  sec.append(head);
  const value = n.value?.[element];
  const grad = n.grad?.[element];
  sec.append(el('div', { class: 'mono' }, `${name} = ${fmt(value)}${grad !== undefined ? `, ∂L/∂${name} = ${fmt(grad)}` : ''}`));
  const chains = consumerChains(s, n, element);
  if (!chains.length) {
    sec.append(el('div', { class: 'hint' }, n.id === s.output ? 'The output: ∂L/∂L = 1.' : 'No op sends a gradient to this tensor.'));
    return sec;
  }
  for (const c of chains) {
    const y = nodeRef(c.node);
    const line = el('div', { class: 'element-step mono', 'data-testid': 'element-step', 'data-node': String(c.node.id) });
    line.append(el('div', {}, `through ${y} (${c.node.op}): ∂L/∂${name} = Σₘ ∂L/∂${y}[m] · ∂${y}[m]/∂${name}`));
    if (!c.chain) {
      line.append(el('div', { class: 'hint' }, `Terms not available: ${c.reason}.`));
      sec.append(line);
      continue;
    }
    const terms = c.chain.terms.slice().sort((a, b) => Math.abs(b.upstream * b.local) - Math.abs(a.upstream * a.local) || a.index - b.index);
    const shown = terms.slice(0, SHOWN_TERMS);
    const rest = terms.slice(SHOWN_TERMS);
    const restSum = rest.reduce((sum, t) => sum + t.upstream * t.local, 0);
    const parts = shown.map((t) => `(${fmtChain(t.upstream)})·(${fmtChain(t.local)}) [m = ${indexText(t.index, c.node.shape) || t.index}]`);
    if (rest.length) parts.push(`${fmtChain(restSum)} (${rest.length} more term${rest.length > 1 ? 's' : ''})`);
    const text = terms.length ? `= ${parts.join(' + ')} = ${fmtChain(c.chain.total)}` : '= 0 (every ∂y[m]/∂x is 0 here)';
    const sum = el('div', { class: 'element-terms', 'data-testid': 'element-terms', 'data-terms': String(terms.length), 'data-total': String(c.chain.total) }, text);
    line.append(sum);
    sec.append(line);
  }
  if (chains.length > 1) {
    const total = chains.reduce((a, c) => a + (c.chain?.total ?? c.recorded ?? 0), 0);
    sec.append(el('div', { class: 'mono element-sum' }, `∂L/∂${name} = ${chains.map((c) => fmtChain(c.chain?.total ?? c.recorded ?? NaN)).join(' + ')} = ${fmtChain(total)} (the ${chains.length} ops that use it)`));
  }
  return sec;
}
