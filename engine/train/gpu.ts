/**
 * Training on the GPU by replaying the step's Graph IR: the dataset, the parameters and their
 * optimizer state live in GPU buffers; each step uploads only the minibatch's row indices, gathers
 * the batch on the GPU, runs forward and backward (the IR), sums the gradients' squares, records
 * the loss and gradient norm in a history ring, and updates every parameter in place. Nothing is
 * read back until `sync()` (every K steps, or when the caller needs the numbers).
 *
 * It runs from a `GpuPlan` (plan.ts): plain data, so the webview can train without the model's
 * code. The batch order, schedule and optimizer settings are the CPU trainer's, so both paths see
 * the same batches and learning rates; `checkpoint()` hands the state back to a CPU `Trainer`
 * (`Trainer.adopt`) to go on there or to answer questions about the current parameters.
 */
import { runOp } from '../backends/webgpu/kernels';
import { gatherProgram } from '../backends/webgpu/layout';
import { recordProgram, sumSquaresProgram, updateProgram } from '../backends/webgpu/optimizer';
import type { Program } from '../backends/webgpu/program';
import type { GpuRuntime, GpuTensor } from '../backends/webgpu/runtime';
import { BatchOrder } from '../data/order';
import { execute, type IrBackend } from '../ir/execute';
import { lastUses, type IrProgram } from '../ir/program';
import { fromOptions, type Schedule } from '../optim/schedules';
import { gpuRuleOf, type GpuRule } from '../optim/wgsl';
import type { GpuPlan } from './plan';
import type { Checkpoint, HistoryEntry } from './trainer';

interface Compiled {
  program: IrProgram;
  lastUse: Int32Array;
  consts: Map<number, GpuTensor>;
  /** Gathers each data leaf's rows from the dataset. */
  gathers: Map<number, Program>;
}

const gpuBackend = (rt: GpuRuntime): IrBackend<GpuTensor> => ({
  run: (node, inputs, out) => runOp(rt, node.op, inputs, node.attrs, out.shape),
  release: (t) => rt.release(t),
});

/** A trainer, or why this run cannot train on the GPU. */
export type GpuTrainerOrReason = { trainer: GpuTrainer } | { reason: string };

export interface GpuCheckpoint extends Checkpoint {
  params: Float32Array[];
  slots: (Record<string, Float32Array> | null)[];
}

export class GpuTrainer {
  /** History entries (loss, lr, gradient norm) read back so far, every step (unless `keepHistory` is off). */
  readonly history: HistoryEntry[] = [];
  steps = 0;
  readonly totalSteps: number;
  private readonly programs = new Map<number, Compiled>();
  private readonly state: GpuTensor[];
  private readonly params: GpuTensor[];
  private readonly parts: GpuTensor;
  private readonly ring: GpuTensor;
  private ringUsed = 0;
  private ringFirstStep = 1;
  private readonly lrs: number[] = [];
  private readonly order: BatchOrder | null;
  private readonly dataX: GpuTensor | null;
  private readonly dataY: GpuTensor | null;
  private readonly backend: IrBackend<GpuTensor>;
  private readonly schedule: Schedule;
  /** Per parameter: Σ g² into `parts`, and the optimizer update; then the history record. Built once. */
  private readonly sumSquares: Program[];
  private readonly updates: Program[];
  private readonly record: Program;
  /** History entries read back since the last `checkpoint()`. */
  private pending: HistoryEntry[] = [];
  private readonly keepHistory: boolean;

  private constructor(
    readonly rt: GpuRuntime, readonly plan: GpuPlan, private readonly rule: GpuRule,
    /** Steps between readbacks of the history ring. */
    readonly syncEvery: number,
    keepHistory: boolean,
  ) {
    this.keepHistory = keepHistory;
    this.totalSteps = plan.totalSteps;
    this.backend = gpuBackend(rt);
    this.schedule = fromOptions(plan.schedule.kind, plan.schedule.options);
    this.state = plan.params.map((p) => {
      const n = p.values.length;
      const init = new Float32Array(n * (1 + rule.slots.length));
      init.set(p.values);
      rule.initial.forEach((v, k) => init.fill(v, (k + 1) * n, (k + 2) * n));
      return rt.upload(init, [init.length]);
    });
    this.params = plan.params.map((p, i) => rt.view(this.state[i], p.shape, true));
    this.parts = rt.upload(new Float32Array(plan.params.length), [plan.params.length]);
    this.ring = rt.upload(new Float32Array(2 * syncEvery), [2 * syncEvery]);
    const data = plan.data;
    this.order = data ? new BatchOrder(data.size, plan.batchSize!, { seed: plan.seed }) : null;
    this.dataX = data ? rt.upload(data.x.data, data.x.shape, data.x.dtype) : null;
    this.dataY = data ? rt.upload(data.y.data, data.y.shape, data.y.dtype) : null;
    const count = plan.params.length;
    this.sumSquares = plan.params.map((p, i) => sumSquaresProgram(p.values.length, i, rt.limits));
    this.updates = plan.params.map((p) => updateProgram(rule.kernel, p.values.length, count, rt.limits));
    this.record = recordProgram(count);
    for (const { size, program } of plan.programs) this.compile(size, program);
  }

  /** Moves a plan onto the GPU (uploads the data and parameters, builds the programs). */
  static fromPlan(rt: GpuRuntime, plan: GpuPlan, opts: { syncEvery?: number; keepHistory?: boolean } = {}): GpuTrainerOrReason {
    const rule = gpuRuleOf(plan.optimizer);
    if (typeof rule === 'string') return { reason: rule };
    return { trainer: new GpuTrainer(rt, plan, rule, Math.max(1, Math.floor(opts.syncEvery ?? 50)), opts.keepHistory ?? true) };
  }

  get done(): boolean {
    return this.steps >= this.totalSteps;
  }

  /** Records one training step (nothing is read back). */
  step(): void {
    const rt = this.rt;
    const t = this.steps + 1;
    const lr = this.schedule.lr(t - 1, this.plan.optimizer.baseLr);
    const rowIds = this.order?.next() ?? null;
    const size = rowIds ? rowIds.length : 0;
    const compiled = this.programs.get(size);
    if (!compiled) throw new Error(`webgpu: no program for a batch of ${size}`);
    const { program } = compiled;
    const bound = new Map<number, GpuTensor>(compiled.consts);
    const temps: GpuTensor[] = [];
    if (rowIds) {
      const rows = rt.upload(rowIds, [size], 'int32');
      temps.push(rows);
      for (const leaf of program.leaves) {
        if (leaf.source.kind !== 'data') continue;
        const src = leaf.source.name === 'x' ? this.dataX! : this.dataY!;
        const shape = program.values[leaf.value].shape;
        const g = rt.run(compiled.gathers.get(leaf.value)!, [src, rows], shape);
        temps.push(g);
        bound.set(leaf.value, g);
      }
    }
    for (const leaf of program.leaves) if (leaf.source.kind === 'param') bound.set(leaf.value, this.params[leaf.source.index]);
    const out = execute(program, this.backend, bound, compiled.lastUse);
    // Σ g² per parameter (0 for a parameter without gradient), the history entry, the updates
    const zero = out.grads.some((g) => g === null);
    if (zero) this.rt.write(this.parts, new Float32Array(this.params.length));
    out.grads.forEach((g, i) => g && rt.run(this.sumSquares[i], [g], [1], { out: this.parts }));
    rt.run(this.record, [out.loss, this.parts], [1], { out: this.ring, scalars: [this.ringUsed] });
    const scalars = this.rule.scalars(t, lr);
    out.grads.forEach((g, i) => {
      if (!g) return;
      rt.run(this.updates[i], [g, this.parts], [g.size], { out: this.state[i], scalars });
    });
    rt.release(out.loss);
    for (const g of out.grads) if (g) rt.release(g);
    for (const x of temps) rt.release(x);
    rt.flush();
    this.lrs.push(lr);
    this.ringUsed++;
    this.steps = t;
  }

  /** Reads the history ring back (one readback) into `history`. */
  async sync(): Promise<HistoryEntry[]> {
    if (!this.ringUsed) return [];
    const [ring] = await this.rt.read(this.ring);
    const added: HistoryEntry[] = [];
    for (let k = 0; k < this.ringUsed; k++) added.push({ step: this.ringFirstStep + k, loss: ring[2 * k], lr: this.lrs[k], gradNorm: ring[2 * k + 1] });
    if (this.keepHistory) this.history.push(...added);
    this.pending.push(...added);
    this.ringFirstStep += this.ringUsed;
    this.ringUsed = 0;
    this.lrs.length = 0;
    return added;
  }

  /** Runs up to `n` steps (default: to the end), reading the history back every `syncEvery` steps. */
  async run(n = this.totalSteps - this.steps, onSync?: (added: HistoryEntry[]) => void | boolean): Promise<void> {
    for (let i = 0; i < n && !this.done; i++) {
      this.step();
      if (this.ringUsed === this.syncEvery || this.done || i === n - 1) {
        const added = await this.sync();
        const lost = this.rt.lost;
        if (lost) throw new Error(`the GPU device was lost: ${lost}`);
        const errors = this.rt.takeErrors();
        if (errors.length) throw new Error(`WebGPU reported: ${errors[0]}`);
        if (onSync?.(added) === false) break;
      }
    }
  }

  /**
   * The run's state for a CPU `Trainer` to adopt: the parameters, their optimizer slots, and the
   * history since the previous checkpoint (syncs first; one readback of the state buffers).
   */
  async checkpoint(): Promise<GpuCheckpoint> {
    await this.sync();
    const states = await this.rt.read(...this.state);
    const grads = this.plan.programs[0].program.grads;
    const params: Float32Array[] = [];
    const slots: (Record<string, Float32Array> | null)[] = [];
    states.forEach((s, i) => {
      const n = this.plan.params[i].values.length;
      params.push(s.slice(0, n));
      if (this.steps === 0 || grads[i] === null) slots.push(null);
      else slots.push(Object.fromEntries(this.rule.slots.map((name, k) => [name, s.slice((k + 1) * n, (k + 2) * n)])));
    });
    const history = this.pending;
    this.pending = [];
    return { step: this.steps, params, slots, history };
  }

  /** The parameters' current values (one readback). */
  async readParams(): Promise<Float32Array[]> {
    return this.rt.read(...this.params);
  }

  /** Frees the GPU buffers this run holds. */
  dispose(): void {
    for (const c of this.programs.values()) for (const t of c.consts.values()) this.rt.release(t);
    for (const t of [...this.params, ...this.state, this.parts, this.ring]) this.rt.release(t);
    if (this.dataX) this.rt.release(this.dataX);
    if (this.dataY) this.rt.release(this.dataY);
    this.rt.flush();
  }

  private compile(size: number, program: IrProgram): void {
    const consts = new Map<number, GpuTensor>();
    const gathers = new Map<number, Program>();
    for (const leaf of program.leaves) {
      const v = program.values[leaf.value];
      if (leaf.source.kind === 'const') consts.set(leaf.value, this.rt.upload(leaf.source.values, v.shape, v.dtype));
      if (leaf.source.kind === 'data') {
        const src = leaf.source.name === 'x' ? this.dataX! : this.dataY!;
        gathers.set(leaf.value, gatherProgram(src.shape, size, 0, [src.dtype, 'int32'], this.rt.limits));
      }
    }
    this.programs.set(size, { program, lastUse: lastUses(program), consts, gathers });
  }
}
