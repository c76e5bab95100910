/**
 * Keeping a whole run in bounded memory: per-layer summaries arrive at every logged step, and a long
 * run has more of them than a view can hold. Both helpers keep the first step (initialization), the
 * latest, and evenly spaced steps between them, deterministically.
 */

/**
 * `n` items of `items` at evenly spaced positions, the first and the last always among them (all of
 * them when there are no more than `n`).
 */
export function evenlySpaced<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return items.slice();
  if (n <= 0) return [];
  if (n === 1) return [items[items.length - 1]];
  const last = items.length - 1;
  const out: T[] = [];
  let previous = -1;
  for (let i = 0; i < n; i++) {
    const at = Math.round((i * last) / (n - 1));
    if (at !== previous) out.push(items[at]);
    previous = at;
  }
  return out;
}

/**
 * A bounded record of a stream of logged steps: arrivals 0, s, 2s, 3s, … for a stride s that doubles
 * each time the record fills up (thinned to every other kept item, the first kept), plus the newest
 * arrival when it falls between. At most `capacity` items; the first arrival and the newest are
 * always there, and the rest spread evenly over the run however long it gets.
 */
export class StepReservoir<T> {
  private grid: T[] = [];
  /** The newest arrival when it is not on the grid (`hasNewest` says whether there is one). */
  private newest: T | undefined;
  private hasNewest = false;
  private stride = 1;
  private arrivals = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 3) throw new Error(`StepReservoir: capacity must be an integer ≥ 3, got ${capacity}`);
  }

  push(...items: T[]): void {
    for (const item of items) {
      const index = this.arrivals++;
      if (index % this.stride !== 0) {
        this.newest = item;
        this.hasNewest = true;
        continue;
      }
      this.grid.push(item);
      this.newest = undefined;
      this.hasNewest = false;
      // one slot stays free for the newest arrival between grid points
      if (this.grid.length >= this.capacity) {
        const itemKept = (this.grid.length - 1) % 2 === 0;
        this.grid = this.grid.filter((_, i) => i % 2 === 0);
        this.stride *= 2;
        if (!itemKept) {
          this.newest = item;
          this.hasNewest = true;
        }
      }
    }
  }

  /** The kept items, oldest first; the last is the newest arrival. */
  items(): T[] {
    return this.hasNewest ? [...this.grid, this.newest as T] : this.grid.slice();
  }

  get size(): number {
    return this.grid.length + (this.hasNewest ? 1 : 0);
  }

  /** How many items arrived in all. */
  get seen(): number {
    return this.arrivals;
  }
}
