/**
 * backprop-lens: a small tensor autodiff library that can explain itself. Model files import
 * everything from here: `import { scalar, tensor, param, nn, losses, init } from 'backprop-lens'`.
 */
export { Tensor, tensor, scalar, param, zeros, ones, full, type TensorLike, type TensorOptions, type NestedArray, type SourceLocation } from './tensor';
export type { DType } from './dtype';
export { randn, rand } from './init';
export { manualSeed, Rng } from './random';
export { noGrad, setGradEnabled, composite, withScope, setHooks, type GroupFrame, type OpHooks } from './ops/context';
// every op and composite, by its function's name (the op families' exports), with OPS and COMPOSITES
export * from './ops/functional';
export type { OpDef, OpCategory, Op, Composite } from './ops/registry';
export { ShapeError, IndexError, OutputError } from './errors';
export { backward, backwardSteps, topoOrder, forwardOrder, zeroGrad, type BackwardOptions, type BackwardStep, type InputStep } from './autograd';
export { summarize, countNonFinite, type TensorStats, type Histogram } from './stats/summary';
/** Which CPU kernels run here (as torch.backends.cpu.get_cpu_capability()): WebAssembly relaxed SIMD, SIMD, or 'none' (JavaScript). */
export { wasmKernelKind as getCpuCapability, type WasmKernelKind as CpuCapability } from './backends/cpu/wasm/gemm';
export { firstNonFiniteForward, firstNonFiniteBackward, describeNode, type NonFiniteFinding } from './stats/nonfinite';
export { gradcheck, type GradcheckResult, type ParamCheck, type GradcheckOptions } from './check/gradcheck';
export { jacobian } from './check/jacobian';
export * as nn from './nn/index';
export * as init from './init';
export * as losses from './losses';
export * as optim from './optim/index';
export * as data from './data/index';
export { defineTraining, type TrainingSpec, type TrainingOptions } from './train/define';
export { Trainer, type TrainResult, type HistoryEntry, type TrainingOverrides } from './train/trainer';
export { diagnose, THRESHOLDS, FIXES, type Finding, type FixId } from './stats/diagnosis';
export type { LayerStats } from './stats/layers';
export { hessian, symmetricEigenvalues, classifyPoint, playground, SURFACES, type Trajectory, type CriticalKind } from './check/hessian';
