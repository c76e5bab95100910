/**
 * Host-side views of a snapshot that do not need the vscode API: what to show after each line
 * (inline values), what to show on hover, and the snapshot trimmed for the webview.
 */
import type { GraphSnapshot, SnapshotNode, TensorPayload } from '../engine/trace/snapshot';
import { shapeText, tensorBrief } from '../engine/format';

/** One line of inline text per source line: `q = 3 · ∂ -4`, `w = [2×3] μ 0.5 σ 0.2 · ∂ μ 0.01 σ 0.1`, named nodes first. */
export function inlineValues(s: GraphSnapshot, file: string): Map<number, string> {
  const byLine = new Map<number, SnapshotNode[]>();
  for (const n of s.nodes) {
    if (!n.source || n.source.file !== file) continue;
    if (n.leaf === 'constant') continue;
    const list = byLine.get(n.source.line) ?? [];
    list.push(n);
    byLine.set(n.source.line, list);
  }
  const out = new Map<number, string>();
  for (const [line, nodes] of byLine) {
    const named = nodes.filter((n) => n.name);
    const shown = (named.length ? named : [nodes[nodes.length - 1]]).slice(0, 3);
    const parts = shown.map((n) => {
      const who = n.name ?? n.op;
      // the shape once, before the value: nothing else on the line says it
      const value = tensorBrief(n.value, n.stats, n.size, { shape: n.shape });
      const grad = n.gradStats ? ` · ∂ ${tensorBrief(n.grad, n.gradStats, n.size)}` : '';
      return `${who} = ${value}${grad}`;
    });
    if (nodes.length > shown.length) parts.push(`+${nodes.length - shown.length} more`);
    out.set(line, parts.join('   '));
  }
  return out;
}

/** The node a hover over `word` at `line` refers to: one created on that line, else the latest with that name. */
export function nodeForWord(s: GraphSnapshot, file: string, word: string, line: number): SnapshotNode | null {
  let best: SnapshotNode | null = null;
  for (const n of s.nodes) {
    if (n.name !== word) continue;
    if (n.source?.file === file && n.source.line === line) return n;
    if (!best || (n.source?.file === file && (n.source?.line ?? 0) <= line)) best = n;
  }
  return best;
}

const mdEscape = (t: string) => t.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);

/** Markdown for a hover: name, op, shape, value, gradient (user strings escaped). */
export function hoverMarkdown(n: SnapshotNode): string {
  const lines = [`**${mdEscape(n.name ?? n.label)}** — ${mdEscape(n.op === 'leaf' ? (n.leaf ?? 'leaf') : n.op)} · shape ${shapeText(n.shape)} · ${n.dtype}`, ''];
  lines.push(`value: \`${tensorBrief(n.value, n.stats, n.size)}\``);
  if (n.gradStats) lines.push('', `gradient ∂L/∂${mdEscape(n.name ?? 'node')}: \`${tensorBrief(n.grad, n.gradStats, n.size)}\``);
  else if (n.requiresGrad) lines.push('', 'gradient: none (the output does not depend on it)');
  if (n.formula) lines.push('', `local gradient: ${mdEscape(n.formula)}`);
  return lines.join('\n');
}

/** A copy for the webview: payloads larger than `max` elements become null (fetched on demand). */
export function limitSnapshot(s: GraphSnapshot, max: number): GraphSnapshot {
  const cut = (p: TensorPayload): TensorPayload => (p && p.length > max ? null : p);
  return {
    ...s,
    maxElements: Math.min(max, s.maxElements),
    nodes: s.nodes.map((n) => ({ ...n, value: cut(n.value), grad: cut(n.grad) })),
    backward: s.backward.map((st) => ({
      ...st,
      upstreamGrad: cut(st.upstreamGrad),
      inputs: st.inputs.map((i) => ({
        ...i,
        localGrad: typeof i.localGrad === 'number' ? i.localGrad : cut(i.localGrad),
        contribution: cut(i.contribution), accumulatedGrad: cut(i.accumulatedGrad), previousGrad: cut(i.previousGrad),
      })),
    })),
  };
}
