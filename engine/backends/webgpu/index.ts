/** The WebGPU backend: runtime (buffers, pipelines, submission), kernels by op name, device setup. */
export { GpuRuntime, type GpuTensor, type RuntimeStats } from './runtime';
export { runOp } from './kernels';
export { openDevice, type GpuDeviceInfo } from './device';
export type { GpuDType, GpuLimits, Program } from './program';
