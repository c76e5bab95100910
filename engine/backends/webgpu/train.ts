/**
 * Training on the GPU by replaying the step's Graph IR: the dataset, the parameters and their
 * optimizer state live in GPU buffers; each step uploads only the minibatch's row indices, gathers
 * the batch on the GPU, runs forward and backward (the IR), sums the gradients' squares, records
 * the loss and gradient norm in a history ring, and updates every parameter in place. Nothing is
 * read back until `sync()` (every K steps, or when the caller needs the numbers).
 *
 * The CPU `Trainer` supplies everything that is not arithmetic: the spec, the minibatch order
 * (its DataLoader, so both paths see the same batches), the schedule, the optimizer's settings.
 * A graph that changes from step to step (control flow, fresh random constants) stays on the CPU.
 */
import { DataLoader, subset } from '../../data/index';
import { captureStep } from '../../ir/capture';
import { execute, type IrBackend } from '../../ir/execute';
import { lastUses, type IrProgram } from '../../ir/program';
import type { HistoryEntry, Trainer } from '../../train/trainer';
import type { Tensor } from '../../tensor';
import { runOp } from './kernels';
import { gatherProgram } from './layout';
import { gpuRuleOf, recordProgram, sumSquaresProgram, updateProgram, type GpuRule } from './optimizer';
import type { Program } from './program';
import type { GpuRuntime, GpuTensor } from './runtime';

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

/** Why this run cannot train on the GPU, or null. */
export type GpuTrainerOrReason = { trainer: GpuTrainer } | { reason: string };

export class GpuTrainer {
  /** History entries (loss, lr, gradient norm) read back so far; every step, like the CPU at ≤ 1,000 steps. */
  readonly history: HistoryEntry[] = [];
  steps = 0;
  private readonly programs = new Map<number, Compiled>();
  private readonly state: GpuTensor[];
  private readonly params: GpuTensor[];
  private readonly parts: GpuTensor;
  private readonly ring: GpuTensor;
  private ringUsed = 0;
  private ringFirstStep = 1;
  private readonly lrs: number[] = [];
  private readonly loader: DataLoader | null;
  private readonly dataX: GpuTensor | null;
  private readonly dataY: GpuTensor | null;
  private readonly backend: IrBackend<GpuTensor>;
  /** Per parameter: Σ g² into `parts`, and the optimizer update; then the history record. Built once. */
  private readonly sumSquares: Program[];
  private readonly updates: Program[];
  private readonly record: Program;

  private constructor(
    readonly rt: GpuRuntime, readonly cpu: Trainer, private readonly rule: GpuRule, first: Map<number, IrProgram>,
    /** Steps between readbacks of the history ring. */
    readonly syncEvery: number,
  ) {
    this.backend = gpuBackend(rt);
    this.state = cpu.params.map((p) => {
      const n = p.size;
      const init = new Float32Array(n * (1 + rule.slots.length)).fill(rule.initial);
      init.set(p.data as ArrayLike<number>);
      return rt.upload(init, [init.length]);
    });
    this.params = cpu.params.map((p, i) => rt.view(this.state[i], p.shape, true));
    this.parts = rt.upload(new Float32Array(cpu.params.length), [cpu.params.length]);
    this.ring = rt.upload(new Float32Array(2 * syncEvery), [2 * syncEvery]);
    const train = cpu.train;
    this.loader = train ? new DataLoader(train, cpu.batchSize!, { seed: cpu.seed }) : null;
    this.dataX = train ? rt.upload(train.x.data as ArrayLike<number>, train.x.shape, train.x.dtype === 'int32' ? 'int32' : 'float32') : null;
    this.dataY = train ? rt.upload(train.y.data as ArrayLike<number>, train.y.shape, train.y.dtype === 'int32' ? 'int32' : 'float32') : null;
    const c = cpu.optimizer.config();
    const clip = { norm: cpu.optimizer.clipNorm, value: cpu.optimizer.clipValue };
    const count = cpu.params.length;
    this.sumSquares = cpu.params.map((p, i) => sumSquaresProgram(p.size, i, rt.limits));
    this.updates = cpu.params.map((p) => updateProgram(String(c.optimizer), rule, c, clip, p.size, count, rt.limits));
    this.record = recordProgram(count);
    for (const [size, program] of first) this.compile(size, program);
  }

  /**
   * Captures the step's program (twice, on different batches, to tell a static graph from a dynamic
   * one) and moves the run to the GPU; or says why it stays on the CPU.
   */
  static create(rt: GpuRuntime, cpu: Trainer, opts: { syncEvery?: number } = {}): GpuTrainerOrReason {
    const rule = gpuRuleOf(cpu.optimizer);
    if (typeof rule === 'string') return { reason: rule };
    if (cpu.stepsTaken !== 0) return { reason: 'the run has already taken steps on the CPU' };
    const programs = new Map<number, IrProgram>();
    try {
      const sizes = batchSizes(cpu);
      for (const size of sizes) {
        const a = captureFor(cpu, size, 0);
        const b = captureFor(cpu, size, 1);
        if (a.signature !== b.signature) return { reason: `the graph changes from step to step (${firstDifference(a.signature, b.signature)}), so it runs on the CPU` };
        programs.set(size, a);
      }
    } catch (err) {
      return { reason: `the step could not be recorded as a Graph IR program: ${err instanceof Error ? err.message : String(err)}` };
    }
    return { trainer: new GpuTrainer(rt, cpu, rule, programs, opts.syncEvery ?? 50) };
  }

  get done(): boolean {
    return this.steps >= this.cpu.totalSteps;
  }

  /** Records one training step (nothing is read back). */
  step(): void {
    const rt = this.rt;
    const t = this.steps + 1;
    const lr = this.cpu.schedule.lr(t - 1, this.cpu.optimizer.baseLr);
    const batch = this.loader?.next() ?? null;
    const size = batch ? batch.rows.length : 0;
    const compiled = this.programs.get(size);
    if (!compiled) throw new Error(`webgpu: no program for a batch of ${size}`);
    const { program } = compiled;
    const bound = new Map<number, GpuTensor>(compiled.consts);
    const temps: GpuTensor[] = [];
    if (batch) {
      const rows = rt.upload(batch.rows, [size], 'int32');
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
    this.history.push(...added);
    this.ringFirstStep += this.ringUsed;
    this.ringUsed = 0;
    this.lrs.length = 0;
    return added;
  }

  /** Runs up to `n` steps (default: to the end), reading the history back every `syncEvery` steps. */
  async run(n = this.cpu.totalSteps - this.steps, onSync?: (added: HistoryEntry[]) => void | boolean): Promise<void> {
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

/** The minibatch sizes a run sees: the batch size, and the remainder at the end of each epoch. */
function batchSizes(cpu: Trainer): number[] {
  if (!cpu.train) return [0];
  const b = cpu.batchSize!;
  const rest = cpu.train.size % b;
  return rest && b < cpu.train.size ? [b, rest] : [b];
}

/** The program of one step on the `which`-th batch of `size` rows (at the current parameters). */
function captureFor(cpu: Trainer, size: number, which: number): IrProgram {
  if (!cpu.train) return captureStep({ loss: () => cpu.lossOf(null, null), params: cpu.params });
  const n = cpu.train.size;
  const part = subset(cpu.train, Array.from({ length: size }, (_, i) => (which * size + i) % n));
  return captureStep({ loss: () => cpu.lossOf(part.x, part.y), params: cpu.params, data: { x: part.x, y: part.y } });
}

function firstDifference(a: string, b: string): string {
  const pa = a.split(';'), pb = b.split(';');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return `first difference: ${(pa[i] ?? 'nothing').slice(0, 80)} vs ${(pb[i] ?? 'nothing').slice(0, 80)}`;
  }
  return 'same text';
}
