/** The WebGPU backend: runtime (buffers, pipelines, submission), kernels by op name, device setup. */
export { GpuRuntime, type GpuTensor, type RuntimeStats } from './runtime';
export { runOp } from './kernels';
export { openDevice, type GpuDeviceInfo } from './device';
export type { GpuDType, GpuLimits, Program } from './program';
export { GpuTrainer, type GpuCheckpoint, type GpuTrainerOrReason } from './train';
// planOf (plan.ts) records a step with the CPU engine: the worker imports it directly, the webview does not
export type { GpuPlan, GpuPlanOrReason, PlanTensor } from './plan';
