/**
 * The GPU's renderer of update rules (rules.ts): each assignment becomes one WGSL statement of the
 * in-place update program (backends/webgpu/optimizer.ts), which reads the gradient and rewrites
 * [w | slot₁ | slot₂ …] in one dispatch. Constants become f32 literals; every subexpression of step
 * scalars (`lr/bc1`, `lr*(1 - mu)/(1 - muProduct)`) becomes one uniform, computed on the host in
 * float64 each step, as the CPU computes it; `norm`, the global gradient norm, is summed in the
 * kernel from the step's per-parameter sums of squares, so nothing is read back.
 *
 * It imports no tensor code: the webview's GPU trainer uses it without the CPU engine.
 */
import type { UpdateKernel } from '../backends/webgpu/optimizer';
import { f32 } from '../backends/webgpu/program';
import { evalScalar, rateOf, show, type Expr } from './expr';
import type { OptimizerName } from './names';
import { RULES, ruleOf, type Config } from './rules';

/** An optimizer's rule, ready for the GPU trainer. */
export interface GpuRule {
  /** The slot names in buffer order, and their starting values. */
  readonly slots: readonly string[];
  readonly initial: readonly number[];
  /** The uniforms of step t (1-based, every parameter at the same step) with the scheduled lr. */
  scalars(t: number, lr: number): number[];
  readonly kernel: UpdateKernel;
}

/** The GPU rule of an optimizer (or of its settings in a plan), or why it has none. */
export function gpuRuleOf(opt: { name: OptimizerName; clipNorm?: number; clipValue?: number; config: Config | (() => Config) }): GpuRule | string {
  if (!Object.hasOwn(RULES, opt.name)) return `the ${opt.name} optimizer has no GPU update rule`;
  if (opt.clipNorm !== undefined && opt.clipValue !== undefined) return 'clipping by norm and by value together runs on the CPU';
  const config = typeof opt.config === 'function' ? opt.config() : opt.config;
  const clip = { ...(opt.clipNorm !== undefined ? { norm: opt.clipNorm } : {}), ...(opt.clipValue !== undefined ? { value: opt.clipValue } : {}) };
  const rule = ruleOf(opt.name, config, clip);

  const vars = new Map<string, string>([['g', 'g'], ['w', 'w'], ...rule.slots.map((s, k): [string, string] => [s, `s${k}`])]);
  const uniforms: Expr[] = [];
  const uniformOf = new Map<string, number>();
  let readsNorm = false;
  const hasNorm = (e: Expr): boolean => {
    switch (e.kind) {
      case 'scalar': return e.name === 'norm';
      case 'num':
      case 'element': return false;
      case 'unary': return hasNorm(e.a);
      case 'binary': return hasNorm(e.a) || hasNorm(e.b);
      case 'select': return [e.a, e.b, e.then, e.else].some(hasNorm);
    }
  };
  const wgsl = (e: Expr): string => {
    if (e.kind === 'num') return e.value < 0 ? `(${f32(e.value)})` : f32(e.value);
    if (rateOf(e) === 'step' && !hasNorm(e)) {
      const key = show(e);
      if (!uniformOf.has(key)) uniformOf.set(key, uniforms.push(e) - 1);
      return `k${uniformOf.get(key)}`;
    }
    switch (e.kind) {
      case 'scalar':
        readsNorm = true;
        return 'norm';
      case 'element': return vars.get(e.name) ?? `${e.name}_`;
      case 'unary': return e.op === 'neg' ? `(-${wgsl(e.a)})` : `${e.op}(${wgsl(e.a)})`;
      case 'binary': return e.op === 'max' ? `max(${wgsl(e.a)}, ${wgsl(e.b)})` : `(${wgsl(e.a)} ${e.op} ${wgsl(e.b)})`;
      case 'select': return `select(${wgsl(e.else)}, ${wgsl(e.then)}, ${wgsl(e.a)} ${e.cmp} ${wgsl(e.b)})`;
    }
  };
  const body = [...rule.byValue, ...rule.update]
    .map((s) => (s.isLet ? `let ${s.target}_ = ${wgsl(s.value)};` : `${vars.get(s.target)} = ${wgsl(s.value)};`))
    .join('\n  ');
  const memory: number[] = [];
  return {
    slots: rule.slots,
    initial: rule.initial,
    scalars: (t, lr) => {
      const values = rule.scalars({ t, lr }, memory);
      return uniforms.map((e) => evalScalar(e, values));
    },
    kernel: { key: `${opt.name}|${JSON.stringify(config)}|${JSON.stringify(clip)}`, slots: rule.slots.length, scalars: uniforms.length, readsNorm, body },
  };
}
