/**
 * Symmetric units: two units of a layer whose incoming weights are the same (and whose gradients are
 * the same) compute the same output for every input, receive the same gradient and so take the same
 * update: they stay copies of each other forever. A zero or constant init does this to every unit.
 * Found in O(units · fanIn + units · log units): units are sorted by a fixed random projection, and
 * only neighbours whose projections are close are compared element by element.
 */

/** Relative tolerance: units i, j are identical when ‖wᵢ − wⱼ‖ ≤ tol · max(‖wᵢ‖, ‖wⱼ‖). */
export const SYMMETRY_TOLERANCE = 1e-6;

/** Reads unit `u`'s values (its incoming weights) out of a flat tensor. */
interface Units {
  count: number;
  fanIn: number;
  at(u: number, k: number): number;
}

/**
 * The units of a weight `shape`: `axis` 0 for [out, in, …] (nn.linear, conv: one unit per row,
 * everything after the first axis its incoming weights), 1 for a [in, out] matrix used as x·W.
 */
export function unitsOf(data: ArrayLike<number>, shape: readonly number[], axis: 0 | 1): Units | null {
  if (shape.length < 2) return null;
  if (axis === 1) {
    if (shape.length !== 2) return null;
    const [rows, cols] = shape;
    return { count: cols, fanIn: rows, at: (u, k) => data[k * cols + u] };
  }
  const count = shape[0];
  const fanIn = count ? data.length / count : 0;
  return { count, fanIn, at: (u, k) => data[u * fanIn + k] };
}

function norms(units: Units): Float64Array {
  const out = new Float64Array(units.count);
  for (let u = 0; u < units.count; u++) {
    let s = 0;
    for (let k = 0; k < units.fanIn; k++) s += units.at(u, k) ** 2;
    out[u] = Math.sqrt(s);
  }
  return out;
}

function same(units: Units, norm: Float64Array, i: number, j: number, tol: number): boolean {
  const limit = (tol * Math.max(norm[i], norm[j])) ** 2;
  let s = 0;
  for (let k = 0; k < units.fanIn; k++) {
    s += (units.at(i, k) - units.at(j, k)) ** 2;
    if (s > limit) return false;
  }
  return true;
}

/**
 * The size of the largest group of identical units (1 when all differ), comparing their weights
 * and, when given, their gradients; null when the weight has no units to compare (rank < 2, one
 * unit) or holds NaN/Inf.
 */
export function largestIdenticalGroup(weight: Units | null, grad: Units | null, tol = SYMMETRY_TOLERANCE): number | null {
  if (!weight || weight.count < 2 || weight.fanIn < 1) return null;
  const n = weight.count;
  const wNorm = norms(weight);
  if (wNorm.some((x) => !Number.isFinite(x))) return null;
  const gNorm = grad ? norms(grad) : null;
  // a fixed pseudo-random direction (no generator: the result must not depend on any seed)
  const dir = Float64Array.from({ length: weight.fanIn }, (_, k) => Math.sin(12.9898 * (k + 1)) * 43758.5453 % 1);
  let dirNorm = 0, maxNorm = 0;
  for (const x of dir) dirNorm += x * x;
  dirNorm = Math.sqrt(dirNorm);
  for (const x of wNorm) maxNorm = Math.max(maxNorm, x);
  const proj = Float64Array.from({ length: n }, (_, u) => {
    let s = 0;
    for (let k = 0; k < weight.fanIn; k++) s += weight.at(u, k) * dir[k];
    return s;
  });
  const order = Array.from({ length: n }, (_, u) => u).sort((a, b) => proj[a] - proj[b]);
  // |proj_i − proj_j| ≤ ‖dir‖·‖wᵢ − wⱼ‖, so identical units lie within this window of each other
  const window = dirNorm * tol * maxNorm + 1e-300;
  const parent = Int32Array.from({ length: n }, (_, u) => u);
  const find = (u: number): number => (parent[u] === u ? u : (parent[u] = find(parent[u])));
  for (let a = 0; a < n; a++) {
    const i = order[a];
    for (let b = a + 1; b < n && proj[order[b]] - proj[i] <= window; b++) {
      const j = order[b];
      if (find(i) === find(j)) continue;
      if (!same(weight, wNorm, i, j, tol)) continue;
      if (grad && gNorm && !same(grad, gNorm, i, j, tol)) continue;
      parent[find(j)] = find(i);
    }
  }
  const size = new Map<number, number>();
  for (let u = 0; u < n; u++) size.set(find(u), (size.get(find(u)) ?? 0) + 1);
  let largest = 1;
  for (const s of size.values()) largest = Math.max(largest, s);
  return largest;
}
