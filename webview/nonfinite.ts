/**
 * Where NaN or Inf first appears in a snapshot, and which other nodes hold one: the status line, the
 * inspector's callout and the warning icon on node faces all read this.
 */
import type { Finding, FindingCode, GraphSnapshot, SnapshotNode, TensorStats } from '../extension/protocol';

export interface NonFinite {
  /** The node where NaN or Inf first appears: forward pass first, else backward; null when all is finite. */
  first: number | null;
  phase: 'forward' | 'backward' | null;
  /** 'NaN', 'Inf' or 'NaN and Inf'. */
  what: string;
  /** The engine's diagnosis for it, when there is one. */
  message: string | null;
  source: SnapshotNode['source'];
  /** Other nodes whose value or gradient holds NaN or Inf. */
  others: Set<number>;
}

const badStats = (st: TensorStats | null | undefined): boolean => !!st && ((st.nan ?? 0) > 0 || (st.inf ?? 0) > 0);

function whatOf(nan: number, inf: number): string {
  return nan > 0 ? (inf > 0 ? 'NaN and Inf' : 'NaN') : 'Inf';
}

function payloadBad(p: Float64Array | null | number): { nan: number; inf: number } | null {
  if (p === null) return null;
  const vals = typeof p === 'number' ? [p] : p;
  let nan = 0, inf = 0;
  for (const v of vals) {
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) inf++;
  }
  return nan || inf ? { nan, inf } : null;
}

/**
 * Where NaN or Inf first appears: the engine's diagnosis (`nonfinite-forward`, else
 * `nonfinite-backward`), else the first node in forward order whose value has NaN/Inf, else the
 * first backward step that sent a non-finite gradient.
 */
export function findNonFinite(s: GraphSnapshot): NonFinite {
  const others = new Set<number>();
  for (const n of s.nodes) if (badStats(n.stats) || badStats(n.gradStats)) others.add(n.id);
  let first: number | null = null;
  let phase: NonFinite['phase'] = null;
  let what = '';
  let message: string | null = null;
  let source: SnapshotNode['source'] = null;
  // the engine's finding at a node of this graph (normalizeSnapshot checked the node ids)
  const diag = (code: FindingCode) => s.diagnosis.find((f): f is Finding & { node: number } => f.code === code && f.node !== null);
  const prefix = (m: string | null) => /^(NaN and Inf|NaN|Inf)\b/.exec(m ?? '')?.[1] ?? '';

  const fwd = diag('nonfinite-forward');
  const fwdNode = fwd ? fwd.node : s.nodes.find((n) => badStats(n.stats))?.id;
  if (fwdNode !== undefined) {
    const n = s.nodes[fwdNode];
    first = fwdNode;
    phase = 'forward';
    message = fwd ? fwd.message : null;
    source = n.source ?? fwd?.source ?? null;
    what = prefix(message) || (n.stats ? whatOf(n.stats.nan ?? 0, n.stats.inf ?? 0) : 'NaN');
  } else {
    const bwd = diag('nonfinite-backward');
    let node: number | undefined = bwd?.node;
    let counts: { nan: number; inf: number } | null = null;
    if (node === undefined) {
      // the first step whose contribution to an input is not finite
      outer: for (const r of s.backward) {
        for (const i of r.inputs) {
          const c = payloadBad(i.contribution);
          if (c) {
            node = r.node;
            counts = c;
            break outer;
          }
        }
      }
    }
    if (node === undefined) {
      for (const r of s.backward) {
        const hit = r.inputs.find((i) => badStats(s.nodes[i.input]?.gradStats));
        if (hit) {
          node = r.node;
          const st = s.nodes[hit.input].gradStats!;
          counts = { nan: st.nan ?? 0, inf: st.inf ?? 0 };
          break;
        }
      }
    }
    if (node !== undefined) {
      first = node;
      phase = 'backward';
      message = bwd ? bwd.message : null;
      source = s.nodes[node].source ?? bwd?.source ?? null;
      what = prefix(message) || (counts ? whatOf(counts.nan, counts.inf) : 'NaN');
    }
  }
  if (first !== null) others.delete(first);
  const bwdDiag = diag('nonfinite-backward');
  if (bwdDiag && bwdDiag.node !== first) others.add(bwdDiag.node);
  return { first, phase, what, message, source, others };
}
