/**
 * Pipeline stage 1: the snapshot as received → a snapshot the UI can trust. Payloads may arrive as
 * Float64Arrays (VS Code postMessage) or as JSON arrays with "NaN"/"Infinity" strings (the CLI's JSON,
 * an embedded report); both become Float64Arrays. Malformed parts are dropped rather than thrown on.
 */
import type { Finding, FindingCode, GraphSnapshot, SnapshotNode, SnapshotStep, TensorPayload } from '../extension/protocol';
import { GRAPH_CODES, HEALTH_CODES } from '../engine/stats/diagnosis';

const toNumber = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN);

export function toPayload(v: unknown): TensorPayload {
  if (v instanceof Float64Array) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Float64Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return Float64Array.from(v, toNumber);
  return null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : toNumber(v));

const CODES: readonly string[] = [...HEALTH_CODES, ...GRAPH_CODES];
const isCode = (c: unknown): c is FindingCode => typeof c === 'string' && CODES.includes(c);

/**
 * A finding as the engine writes it. JSON from elsewhere (a report, a snapshot from an older
 * version) may lack the fields added since (`layer`, `step`, `fixes`, `node` of training findings);
 * a finding with a code this version does not know is dropped.
 */
function normalizeFinding(raw: unknown, nodes: number): Finding | null {
  const d = raw as Partial<Finding> | null;
  if (!d || typeof d !== 'object' || !isCode(d.code)) return null;
  return {
    code: d.code,
    severity: d.severity === 'error' || d.severity === 'warning' ? d.severity : 'info',
    message: String(d.message ?? ''),
    node: typeof d.node === 'number' && Number.isInteger(d.node) && d.node >= 0 && d.node < nodes ? d.node : null,
    layer: typeof d.layer === 'string' ? d.layer : null,
    step: typeof d.step === 'number' && Number.isInteger(d.step) ? d.step : null,
    fixes: Array.isArray(d.fixes) ? d.fixes.filter((f) => f && typeof f.id === 'string' && typeof f.title === 'string') : [],
    source: d.source && typeof d.source.line === 'number' ? d.source : null,
  };
}

export function normalizeSnapshot(raw: GraphSnapshot): GraphSnapshot {
  const rawNodes: unknown[] = Array.isArray(raw?.nodes) ? raw.nodes : [];
  const nodes: SnapshotNode[] = rawNodes.map((r, id) => {
    const n = r as SnapshotNode;
    return {
      ...n,
      id,
      op: String(n.op ?? 'leaf'),
      label: String(n.label ?? n.name ?? n.op ?? id),
      name: n.name === null || n.name === undefined ? null : String(n.name),
      symbol: String(n.symbol ?? ''),
      category: String(n.category ?? 'leaf'),
      shape: Array.isArray(n.shape) ? n.shape.map(Number) : [],
      inputs: Array.isArray(n.inputs) ? n.inputs.filter((i) => Number.isInteger(i) && i >= 0 && i < rawNodes.length && i !== id) : [],
      value: toPayload(n.value),
      grad: toPayload(n.grad),
      scalar: num(n.scalar),
      scalarGrad: num(n.scalarGrad),
      source: n.source && typeof n.source.line === 'number' ? n.source : null,
      stats: n.stats ?? null,
      gradStats: n.gradStats ?? null,
    } as SnapshotNode;
  });
  const valid = (i: unknown): i is number => Number.isInteger(i) && (i as number) >= 0 && (i as number) < nodes.length;
  const backward: SnapshotStep[] = (Array.isArray(raw?.backward) ? raw.backward : [])
    .filter((s) => s && valid(s.node))
    .map((s, index) => ({
      index,
      node: s.node,
      upstreamGrad: toPayload(s.upstreamGrad),
      inputs: (Array.isArray(s.inputs) ? s.inputs : []).filter((i) => i && valid(i.input)).map((i) => ({
        ...i,
        localGrad: typeof i.localGrad === 'number' || typeof i.localGrad === 'string' ? toNumber(i.localGrad) : toPayload(i.localGrad),
        contribution: toPayload(i.contribution),
        accumulatedGrad: toPayload(i.accumulatedGrad),
        previousGrad: toPayload(i.previousGrad),
        accumulated: !!i.accumulated,
      })),
    }));
  const forward = (Array.isArray(raw?.forward) ? raw.forward : nodes.filter((n) => n.op !== 'leaf').map((n) => n.id)).filter(valid);
  return {
    ...raw,
    nodes,
    groups: Array.isArray(raw?.groups) ? raw.groups : [],
    backward,
    forward,
    diagnosis: (Array.isArray(raw?.diagnosis) ? raw.diagnosis : []).map((d) => normalizeFinding(d, nodes.length)).filter((d): d is Finding => d !== null),
    output: valid(raw?.output) ? raw.output : nodes.length - 1,
    file: String(raw?.file ?? ''),
  };
}
