/**
 * The optimizers' update rules on the GPU, as data: per optimizer the slots it keeps, the scalars
 * the host computes once per step (bias corrections, the scheduled learning rate), and the WGSL of
 * the per-element update. Each mirrors its CPU class in engine/optim/rules.ts line by line, which
 * stays the reference (the tests hold one against the other).
 *
 * A parameter lives with its slots in one buffer, [w | slot₁ | slot₂ …], so an update is one
 * dispatch that reads the gradient and rewrites the buffer in place. Gradient clipping by norm
 * reads the per-parameter sums of squares (`parts`) the step computed; clipping by value and weight
 * decay are applied to g first, in the CPU's order.
 */
import type { Optimizer } from '../../optim/optimizer';
import { WG, f32, grid, main1d, u32, type GpuLimits, type Program } from './program';

export type Config = Record<string, number | boolean | string>;

export interface GpuRule {
  readonly slots: readonly string[];
  /** Starting value of every slot element. */
  readonly initial: number;
  /** The per-step scalars, from the step number t (1-based) and the scheduled lr. */
  scalars(t: number, lr: number): number[];
  /** WGSL: updates `w` and the slots (`s0`, `s1`, …) from `g`; scalars are `k0`, `k1`, …. */
  body(c: Config): string;
}

const num = (c: Config, k: string) => Number(c[k]);

export const RULES: Record<string, (c: Config) => GpuRule> = {
  sgd: (c) => {
    const mu = num(c, 'momentum');
    return {
      slots: mu ? ['momentumBuffer'] : [], initial: 0,
      scalars: (t, lr) => [lr, t === 1 ? 1 : 0],
      body: () => (mu === 0 ? 'w = w - k0 * g;' : `
    s0 = select(${f32(mu)} * s0 + ${f32(1 - num(c, 'dampening'))} * g, g, k1 > 0.5);
    w = w - k0 * ${c.nesterov ? `(g + ${f32(mu)} * s0)` : 's0'};`),
    };
  },
  adagrad: (c) => ({
    slots: ['sum'], initial: num(c, 'initialAccumulatorValue'),
    scalars: (t, lr) => [lr / (1 + (t - 1) * num(c, 'lrDecay'))],
    body: () => `
    s0 = s0 + g * g;
    w = w - (k0 * g) / (sqrt(s0) + ${f32(num(c, 'eps'))});`,
  }),
  rmsprop: (c) => {
    const a = num(c, 'alpha'), eps = f32(num(c, 'eps')), mom = num(c, 'momentum');
    return {
      slots: ['squareAvg', 'gradAvg', 'momentumBuffer'], initial: 0,
      scalars: (_t, lr) => [lr],
      body: () => `
    s0 = ${f32(a)} * s0 + ${f32(1 - a)} * g * g;
    ${c.centered ? `s1 = ${f32(a)} * s1 + ${f32(1 - a)} * g;\n    let avg = sqrt(s0 - s1 * s1) + ${eps};` : `let avg = sqrt(s0) + ${eps};`}
    ${mom > 0 ? `s2 = ${f32(mom)} * s2 + g / avg;\n    w = w - k0 * s2;` : 'w = w - (k0 * g) / avg;'}`,
    };
  },
  adadelta: (c) => {
    const r = num(c, 'rho'), eps = f32(num(c, 'eps'));
    return {
      slots: ['squareAvg', 'accDelta'], initial: 0,
      scalars: (_t, lr) => [lr],
      body: () => `
    s0 = ${f32(r)} * s0 + ${f32(1 - r)} * g * g;
    let delta = (sqrt(s1 + ${eps}) / sqrt(s0 + ${eps})) * g;
    s1 = ${f32(r)} * s1 + ${f32(1 - r)} * delta * delta;
    w = w - k0 * delta;`,
    };
  },
  adam: (c) => adamRule(c, false),
  adamw: (c) => adamRule(c, true),
  adamax: (c) => {
    const b1 = num(c, 'beta1'), b2 = num(c, 'beta2');
    return {
      slots: ['m', 'u'], initial: 0,
      scalars: (t, lr) => [lr / (1 - b1 ** t)],
      body: () => `
    s0 = ${f32(b1)} * s0 + ${f32(1 - b1)} * g;
    s1 = max(${f32(b2)} * s1, abs(g) + ${f32(num(c, 'eps'))});
    w = w - (k0 * s0) / s1;`,
    };
  },
  nadam: (c) => {
    const b1 = num(c, 'beta1'), b2 = num(c, 'beta2'), decay = num(c, 'momentumDecay');
    const mu = (t: number) => b1 * (1 - 0.5 * 0.96 ** (t * decay));
    const products = [1];
    const productAt = (t: number) => {
      while (products.length <= t) products.push(products[products.length - 1] * mu(products.length));
      return products[t];
    };
    return {
      slots: ['m', 'v'], initial: 0,
      scalars: (t, lr) => {
        const prod = productAt(t);
        return [(lr * (1 - mu(t))) / (1 - prod), (lr * mu(t + 1)) / (1 - prod * mu(t + 1)), Math.sqrt(1 - b2 ** t)];
      },
      body: () => `
    s0 = ${f32(b1)} * s0 + ${f32(1 - b1)} * g;
    s1 = ${f32(b2)} * s1 + ${f32(1 - b2)} * g * g;
    let denom = sqrt(s1) / k2 + ${f32(num(c, 'eps'))};
    w = w - (k0 * g + k1 * s0) / denom;`,
    };
  },
};

function adamRule(c: Config, decoupled: boolean): GpuRule {
  const b1 = num(c, 'beta1'), b2 = num(c, 'beta2'), wd = num(c, 'weightDecay');
  return {
    slots: c.amsgrad ? ['m', 'v', 'vMax'] : ['m', 'v'], initial: 0,
    scalars: (t, lr) => [lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t), decoupled ? 1 - lr * wd : 1],
    body: () => `
    w = w * k2;
    s0 = ${f32(b1)} * s0 + ${f32(1 - b1)} * g;
    s1 = ${f32(b2)} * s1 + ${f32(1 - b2)} * g * g;
    ${c.amsgrad ? 's2 = max(s2, s1);\n    let second = s2;' : 'let second = s1;'}
    w = w - (k0 * s0) / (sqrt(second) / k1 + ${f32(num(c, 'eps'))});`,
  };
}

/** The GPU rule of a CPU optimizer, or why there is none. */
export function gpuRuleOf(opt: { name: Optimizer['name']; clipNorm?: number; clipValue?: number; config: Config | (() => Config) }): GpuRule | string {
  const make = RULES[opt.name];
  if (!make) return `the ${opt.name} optimizer has no GPU update rule`;
  if (opt.clipNorm !== undefined && opt.clipValue !== undefined) return 'clipping by norm and by value together runs on the CPU';
  return make(typeof opt.config === 'function' ? opt.config() : opt.config);
}

/**
 * The update of one parameter of `n` elements: inputs g and the step's sums of squares of every
 * gradient (`parts`, P of them), output the parameter's state buffer (in place).
 */
export function updateProgram(name: string, rule: GpuRule, c: Config, clip: { norm?: number; value?: number }, n: number, parts: number, limits: GpuLimits): Program {
  const dispatch = grid(n, WG, limits);
  const scalarCount = rule.scalars(1, 0).length;
  const slotVars = rule.slots.map((_, k) => `var s${k} = out[i + ${u32((k + 1) * n)}];`);
  const slotStores = rule.slots.map((_, k) => `out[i + ${u32((k + 1) * n)}] = s${k};`);
  const wd = num(c, 'weightDecay') || 0;
  const body = [
    'var g = in0[i];',
    clip.value !== undefined ? `g = clamp(g, ${f32(-clip.value)}, ${f32(clip.value)});` : '',
    clip.norm !== undefined ? [
      'var sq = 0.0;',
      `for (var p = 0u; p < ${u32(parts)}; p = p + 1u) { sq = sq + in1[p]; }`,
      'let norm = sqrt(sq);',
      `if (norm > ${f32(clip.norm)}) { g = g * (${f32(clip.norm)} / (norm + 1e-6)); }`,
    ].join('\n  ') : '',
    'var w = out[i];',
    wd !== 0 && name !== 'adamw' ? `g = g + ${f32(wd)} * w;` : '',
    ...slotVars,
    Array.from({ length: scalarCount }, (_, k) => `let k${k} = u.v[${k >> 2}][${k & 3}];`).join('\n  '),
    rule.body(c).trim(),
    'out[i] = w;',
    ...slotStores,
  ].filter(Boolean).join('\n  ');
  return {
    key: `update:${name}|${JSON.stringify(c)}|${JSON.stringify(clip)}|${n}|${parts}|${dispatch.join('x')}`,
    inputs: ['float32', 'float32'], output: 'float32', outSize: n, dispatch, scalars: scalarCount, inPlace: true,
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
