/** The WebGPU backend: runtime (buffers, pipelines, submission), kernels by op name, device setup. */
export { GpuRuntime, type GpuTensor, type RuntimeStats } from './runtime';
export { KERNELS, runOp } from './kernels';
export { openDevice, type GpuDeviceInfo } from './device';
export type { GpuDType, GpuLimits, Program } from './program';
export { GpuTrainer, type GpuCheckpoint, type GpuTrainerOrReason } from './train';
export { planOf, planBytes, MAX_PLAN_BYTES, type GpuPlan, type GpuPlanOrReason, type PlanTensor } from './plan';
