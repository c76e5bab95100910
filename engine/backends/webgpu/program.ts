/**
 * A WebGPU program is data plus a function that writes its WGSL: the shapes and constants it was
 * generated for (its cache key), the dtypes of its bindings and its dispatch size. Shapes are baked
 * into the WGSL as constants, so the pipeline cache is keyed by op, shapes and dtypes, and a training
 * loop (static shapes) compiles each kernel once.
 *
 * Bindings: inputs at 0…n−1 (read-only storage), the output at n (read-write storage), and, for
 * programs with per-run scalars (the optimizer's learning rate), a uniform buffer at n+1.
 */

export type GpuDType = 'float32' | 'int32';

export interface Program {
  /** Everything the WGSL depends on: name, shapes, attributes, dtypes, workgroup size. */
  readonly key: string;
  readonly inputs: readonly GpuDType[];
  readonly output: GpuDType;
  /** Elements of the output. */
  readonly outSize: number;
  /** Workgroups to dispatch in x, y, z. */
  readonly dispatch: readonly [number, number, number];
  /** Number of f32 scalars in the uniform buffer (0: none). */
  readonly scalars?: number;
  /** The output is also read (an in-place update); it is bound read-write and not cleared. */
  readonly inPlace?: boolean;
  wgsl(): string;
}

/** What a program generator may rely on about the device. */
export interface GpuLimits {
  /** Invocations per workgroup (256 on most devices, 128 in compatibility mode). */
  readonly invocations: number;
  readonly workgroupStorage: number;
  readonly maxWorkgroupsPerDimension: number;
}

export const wgslType = (d: GpuDType): string => (d === 'int32' ? 'i32' : 'f32');

/**
 * NaN by its bits, and max/min that keep NaN: WGSL lets an implementation assume NaN never occurs,
 * and Chromium's compiler (seen on SwiftShader) turns `x != x` into false and drops NaN in
 * max/min, exp, log and even NaN·0. The kernels test for NaN with these and return it explicitly.
 */
const NAN_HELPERS = `fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn nanmax_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return bitcast<f32>(NAN_BITS); } return max(a, b); }
fn nanmin_(a: f32, b: f32) -> f32 { if (isnan_(a) || isnan_(b)) { return bitcast<f32>(NAN_BITS); } return min(a, b); }`;

/** The bindings' declarations: `in0…`, `out`, and `u` when the program takes scalars. */
export function bindings(p: Pick<Program, 'inputs' | 'output' | 'scalars'>): string {
  // NaN and ∞ come from private variables: a constant expression that yields them is a WGSL error
  const lines = ['var<private> NAN_BITS: u32 = 0x7fc00000u;', 'var<private> INF_BITS: u32 = 0x7f800000u;', NAN_HELPERS];
  lines.push(...p.inputs.map((d, i) => `@group(0) @binding(${i}) var<storage, read> in${i}: array<${wgslType(d)}>;`));
  lines.push(`@group(0) @binding(${p.inputs.length}) var<storage, read_write> out: array<${wgslType(p.output)}>;`);
  if (p.scalars) lines.push(`struct Scalars { v: array<vec4<f32>, ${Math.ceil(p.scalars / 4)}> }`, `@group(0) @binding(${p.inputs.length + 1}) var<uniform> u: Scalars;`);
  return lines.join('\n');
}

/** Literal for a WGSL `u32` constant. */
export const u32 = (n: number): string => `${n >>> 0}u`;

/** Literal for a WGSL `f32` constant (always with a decimal point or exponent). */
export function f32(v: number): string {
  if (Number.isNaN(v)) return 'bitcast<f32>(NAN_BITS)';
  if (v === Infinity) return 'bitcast<f32>(INF_BITS)';
  if (v === -Infinity) return '-bitcast<f32>(INF_BITS)';
  const s = String(Math.fround(v));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/**
 * WGSL statements that split the flat row-major index `idx` over `shape` into `let {name}{d}` coordinates.
 */
export function coords(shape: readonly number[], idx: string, name = 'c'): string {
  if (shape.length === 0) return '';
  const lines = [`var ${name}_r = ${idx};`];
  for (let d = shape.length - 1; d > 0; d--) {
    lines.push(`let ${name}${d} = ${name}_r % ${u32(shape[d])};`, `${name}_r = ${name}_r / ${u32(shape[d])};`);
  }
  lines.push(`let ${name}0 = ${name}_r;`);
  return lines.join('\n  ');
}

/** `Σ coord_d · strides[d]` over the axes with a non-zero stride, as a WGSL u32 expression. */
export function offset(strides: readonly number[], name = 'c', base = 0): string {
  const terms = strides.flatMap((s, d) => (s === 0 ? [] : [s === 1 ? `${name}${d}` : `${name}${d} * ${u32(s)}`]));
  if (base) terms.unshift(u32(base));
  return terms.length ? terms.join(' + ') : '0u';
}

/** Threads per workgroup of the one-dimensional kernels. */
export const WG = 64;

/**
 * Dispatch for `threads` invocations in workgroups of `size`, spread over x and y when x alone
 * would pass the device's per-dimension limit. Kernels compute their flat index with `flatIndex`.
 */
export function grid(threads: number, size: number, limits: GpuLimits): [number, number, number] {
  const groups = Math.max(1, Math.ceil(threads / size));
  const max = limits.maxWorkgroupsPerDimension;
  if (groups <= max) return [groups, 1, 1];
  const x = max;
  return [x, Math.ceil(groups / x), 1];
}

/** The flat invocation index for a `grid` dispatch (x-major), given the x extent in workgroups. */
export function flatIndex(dispatch: readonly [number, number, number], size: number): string {
  return dispatch[1] === 1 ? 'gid.x' : `gid.x + gid.y * ${u32(dispatch[0] * size)}`;
}

/** The entry point of a one-dimensional kernel: `i` is the flat index, bounded by `n`. */
export function main1d(dispatch: readonly [number, number, number], n: number, body: string, size = WG): string {
  return `@compute @workgroup_size(${size})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = ${flatIndex(dispatch, size)};
  if (i >= ${u32(n)}) { return; }
  ${body}
}`;
}
