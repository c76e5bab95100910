import { Rng } from '../random';

/**
 * The row order of endless minibatches: each epoch visits every row once, in a fresh seeded order
 * when `shuffle` (default); the last batch of an epoch may be smaller; a batch size ≥ the dataset
 * size gives the same full batch every step. Rows only, so the GPU path (which gathers the batch
 * from a dataset already on the GPU) sees the same batches as the CPU.
 */
export class BatchOrder {
  epoch = 0;
  private order: number[] = [];
  private pos = 0;
  private readonly rng: Rng;
  private readonly all: number[] | null = null;
  readonly batchSize: number;
  constructor(readonly size: number, batchSize: number, readonly opts: { shuffle?: boolean; seed?: number } = {}) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`data: batchSize must be a positive integer, got ${String(batchSize)}`);
    this.batchSize = Math.min(batchSize, size);
    this.rng = new Rng(opts.seed ?? 0);
    if (this.batchSize === size) this.all = Array.from({ length: size }, (_, i) => i);
  }

  /** True when every batch is the whole dataset, in order. */
  get full(): boolean {
    return this.all !== null;
  }

  /** The row indices of the next minibatch. */
  next(): number[] {
    const rows = this.peek();
    if (!this.all) this.pos += rows.length;
    return rows;
  }

  /** The row indices `next()` will return, without moving on. */
  peek(): number[] {
    if (this.all) return this.all;
    if (this.pos >= this.order.length) {
      // the next epoch's order, drawn now instead of at the next call: the same sequence
      if (this.order.length) this.epoch++;
      this.order = this.opts.shuffle === false ? Array.from({ length: this.size }, (_, i) => i) : this.rng.permutation(this.size);
      this.pos = 0;
    }
    return this.order.slice(this.pos, this.pos + this.batchSize);
  }

  /** Moves past `n` minibatches (a run resumed at step n sees the batches it would have seen). */
  skip(n: number): void {
    for (let i = 0; i < n && !this.all; i++) this.next();
  }
}
