/**
 * Runs a registry op on the WebGPU backend: each primitive's kernel is written in its registry
 * entry (`gpu`, next to its CPU kernel); this looks it up by name. Nothing is read back.
 */
import { sizeOf } from '../../shape';
import { OPS } from '../../ops/functional';
import type { GpuRuntime, GpuTensor } from './runtime';

type Attrs = Record<string, unknown>;

/** Runs op `name` on GPU tensors; the output has `outShape` (from the op's shape rule or the trace). */
export function runOp(rt: GpuRuntime, name: string, inputs: readonly GpuTensor[], attrs: Attrs, outShape: readonly number[]): GpuTensor {
  const def = OPS.get(name);
  if (!def) throw new Error(`webgpu: no kernel for op ${name}`);
  if (sizeOf(outShape) === 0) return rt.empty(outShape);
  return def.gpu(rt, inputs, attrs, outShape);
}
