/**
 * A training run as plain data, for an executor that cannot run the model's code (the webview's
 * WebGPU trainer): the step's Graph IR program per minibatch size, the initial parameters, the
 * optimizer's and schedule's settings, the (standardized) training set and the batch order's seed.
 * Everything is structured-clone friendly: typed arrays, numbers, strings.
 *
 * `planOf` captures the step twice, on different batches, to tell a static graph from a dynamic one
 * (control flow or fresh random values that change per step); a dynamic graph stays on the CPU.
 */
import type { GpuRuntime } from '../backends/webgpu/runtime';
import { subset } from '../data/index';
import { captureStep } from '../ir/capture';
import type { IrDType, IrProgram } from '../ir/program';
import type { OptimizerName } from '../optim/names';
import type { Config } from '../optim/rules';
import type { Schedule, ScheduleKind } from '../optim/schedules';
import { gpuRuleOf } from '../optim/wgsl';
import type { Tensor } from '../tensor';
import { GpuTrainer, type GpuTrainerOrReason } from './gpu';
import type { Trainer } from './trainer';

export interface PlanTensor {
  shape: number[];
  dtype: IrDType;
  data: Float32Array | Int32Array;
}

export interface GpuPlan {
  /** The step's program for each minibatch size the run sees (0: no data). */
  programs: { size: number; program: IrProgram }[];
  params: { name: string; shape: number[]; values: Float32Array }[];
  optimizer: { name: OptimizerName; config: Config; baseLr: number; clipNorm?: number; clipValue?: number };
  schedule: { kind: ScheduleKind; options: Schedule['options'] };
  /** The training set as the CPU trainer sees it (after standardization). */
  data: { x: PlanTensor; y: PlanTensor; size: number } | null;
  batchSize: number | null;
  seed: number;
  totalSteps: number;
}

/** Larger plans (mostly datasets) stay on the CPU rather than cross the webview boundary. */
export const MAX_PLAN_BYTES = 256 * 2 ** 20;

export type GpuPlanOrReason = { plan: GpuPlan } | { reason: string };

/** The run's plan, or why it cannot run on the GPU. The trainer must not have taken a step yet. */
export function planOf(cpu: Trainer): GpuPlanOrReason {
  const opt = cpu.optimizer;
  const rule = gpuRuleOf(opt);
  if (typeof rule === 'string') return { reason: rule };
  if (cpu.stepsTaken !== 0) return { reason: 'the run has already taken steps on the CPU' };
  const programs: GpuPlan['programs'] = [];
  try {
    // recording runs the step's forward pass: the CPU run must not see it (batch norm's statistics, generators)
    const dynamic = cpu.probe(() => {
      for (const size of batchSizes(cpu)) {
        const a = captureFor(cpu, size, 0);
        const b = captureFor(cpu, size, 1);
        if (a.signature !== b.signature) return `the graph changes from step to step (${firstDifference(a.signature, b.signature)})`;
        programs.push({ size, program: a });
      }
      return null;
    });
    if (dynamic) return { reason: dynamic };
  } catch (err) {
    return { reason: `the step could not be recorded as a Graph IR program: ${err instanceof Error ? err.message : String(err)}` };
  }
  const train = cpu.train;
  const plan: GpuPlan = {
    programs,
    params: cpu.params.map((p, i) => ({ name: cpu.paramNames[i], shape: p.shape.slice(), values: Float32Array.from(p.data as ArrayLike<number>) })),
    optimizer: {
      name: opt.name, config: opt.config(), baseLr: opt.baseLr,
      ...(opt.clipNorm !== undefined ? { clipNorm: opt.clipNorm } : {}),
      ...(opt.clipValue !== undefined ? { clipValue: opt.clipValue } : {}),
    },
    schedule: { kind: cpu.schedule.kind, options: cpu.schedule.options },
    data: train ? { x: planTensor(train.x), y: planTensor(train.y), size: train.size } : null,
    batchSize: cpu.batchSize, seed: cpu.seed, totalSteps: cpu.totalSteps,
  };
  const bytes = planBytes(plan);
  if (bytes > MAX_PLAN_BYTES) return { reason: `the run's data and program take ${(bytes / 2 ** 20).toFixed(0)} MB, more than the ${MAX_PLAN_BYTES / 2 ** 20} MB sent to the GPU` };
  return { plan };
}

/**
 * Captures the CPU trainer's step (twice, to tell a static graph from a dynamic one) and moves the
 * run to the GPU; or says why it stays on the CPU.
 */
export function gpuTrainerFor(rt: GpuRuntime, cpu: Trainer, opts: { syncEvery?: number; keepHistory?: boolean } = {}): GpuTrainerOrReason {
  const made = planOf(cpu);
  return 'reason' in made ? made : GpuTrainer.fromPlan(rt, made.plan, opts);
}

/** About how many bytes the plan takes (typed arrays and constants). */
export function planBytes(plan: GpuPlan): number {
  let n = 0;
  for (const p of plan.params) n += p.values.byteLength;
  if (plan.data) n += plan.data.x.data.byteLength + plan.data.y.data.byteLength;
  for (const { program } of plan.programs) {
    n += program.signature.length;
    for (const l of program.leaves) if (l.source.kind === 'const') n += 8 * l.source.values.length;
  }
  return n;
}

function planTensor(t: Tensor): PlanTensor {
  const int = t.dtype === 'int32';
  return { shape: t.shape.slice(), dtype: int ? 'int32' : 'float32', data: int ? Int32Array.from(t.data as ArrayLike<number>) : Float32Array.from(t.data as ArrayLike<number>) };
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
