/**
 * The programs of an optimizer step on the GPU: the parameters' in-place update (its WGSL body is
 * the optimizer's rule, rendered by engine/optim/wgsl.ts), the sums of squares of the gradients
 * (for the gradient norm and clipping by norm) and the history record.
 *
 * A parameter lives with its slots in one buffer, [w | slot₁ | slot₂ …], so an update is one
 * dispatch that reads the gradient and rewrites the buffer in place.
 */
import { WG, grid, main1d, u32, type GpuLimits, type Program } from './program';

/** An element-wise in-place update, as the rule renderer writes it. */
export interface UpdateKernel {
  /** What the body depends on (the rule and its settings), for the pipeline cache. */
  readonly key: string;
  /** State arrays after the weight in the parameter's buffer. */
  readonly slots: number;
  /** Per-step f32 uniforms, read as `k0`, `k1`, …. */
  readonly scalars: number;
  /** Whether the body reads `norm`, the gradient norm over every parameter (√Σ of the step's sums of squares). */
  readonly readsNorm: boolean;
  /** WGSL statements that assign `g`, `w` and the slots `s0`, `s1`, … (read before, stored after). */
  readonly body: string;
}

/**
 * The update of one parameter of `n` elements: inputs g and the step's sums of squares of every
 * gradient (`parts`, P of them), output the parameter's state buffer (in place).
 */
export function updateProgram(kernel: UpdateKernel, n: number, parts: number, limits: GpuLimits): Program {
  const dispatch = grid(n, WG, limits);
  const slots = Array.from({ length: kernel.slots }, (_, k) => k);
  const body = [
    'var g = in0[i];',
    kernel.readsNorm ? [
      'var sq = 0.0;',
      `for (var p = 0u; p < ${u32(parts)}; p = p + 1u) { sq = sq + in1[p]; }`,
      'let norm = sqrt(sq);',
    ].join('\n  ') : '',
    'var w = out[i];',
    ...slots.map((k) => `var s${k} = out[i + ${u32((k + 1) * n)}];`),
    ...Array.from({ length: kernel.scalars }, (_, k) => `let k${k} = u.v[${k >> 2}][${k & 3}];`),
    kernel.body,
    'out[i] = w;',
    ...slots.map((k) => `out[i + ${u32((k + 1) * n)}] = s${k};`),
  ].filter(Boolean).join('\n  ');
  return {
    key: `update:${kernel.key}|${n}|${parts}|${dispatch.join('x')}`,
    inputs: ['float32', 'float32'], output: 'float32', outSize: n, dispatch, scalars: kernel.scalars, inPlace: true,
    wgsl: () => main1d(dispatch, n, body),
  };
}

/**
 * Σ g² of one gradient into `out[slot]` (one workgroup strides through it and combines in
 * workgroup memory), for the gradient norm and clipping by norm.
 */
export function sumSquaresProgram(n: number, slot: number, limits: GpuLimits): Program {
  const size = limits.invocations >= 256 ? 256 : 128;
  return {
    key: `sumsq|${n}|${slot}|${size}`, inputs: ['float32'], output: 'float32', outSize: 1, dispatch: [1, 1, 1], inPlace: true,
    wgsl: () => `
var<workgroup> part: array<f32, ${size}>;
@compute @workgroup_size(${size})
fn main(@builtin(local_invocation_index) li: u32) {
  var acc = 0.0;
  for (var j = li; j < ${u32(n)}; j = j + ${u32(size)}) { let v = in0[j]; acc = acc + v * v; }
  part[li] = acc;
  workgroupBarrier();
  for (var s = ${u32(size / 2)}; s > 0u; s = s >> 1u) {
    if (li < s) { part[li] = part[li] + part[li + s]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[${u32(slot)}] = part[0]; }
}`,
  };
}

/**
 * Records the step's loss and gradient norm into the history ring at entry `k0` (a scalar, so one
 * pipeline serves every step): out[2·k0] = loss, out[2·k0 + 1] = √Σ parts.
 */
export function recordProgram(parts: number): Program {
  return {
    key: `record|${parts}`, inputs: ['float32', 'float32'], output: 'float32', outSize: 1, dispatch: [1, 1, 1], scalars: 1, inPlace: true,
    wgsl: () => `
@compute @workgroup_size(1)
fn main() {
  let k = u32(u.v[0][0]);
  var sq = 0.0;
  for (var p = 0u; p < ${u32(parts)}; p = p + 1u) { sq = sq + in1[p]; }
  out[2u * k] = in0[0];
  out[2u * k + 1u] = sqrt(sq);
}`,
  };
}
