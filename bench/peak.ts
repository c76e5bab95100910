/**
 * The machine's peak for the instructions the matmul kernels use: a plain WebAssembly SIMD loop of
 * independent f32x4 multiply-adds (relaxed SIMD's fused one where this runtime has it), so the
 * benchmark can show each matmul's GFLOP/s as a fraction of what this CPU can do in WebAssembly.
 * Assembled here with wabt, like the engine's kernels; it is measurement only, not part of the engine.
 */
import wabtInit from 'wabt';

/** The WebAssembly API as far as used here (the project's TypeScript libraries declare no DOM). */
const wasm = (globalThis as unknown as {
  WebAssembly: {
    validate(bytes: Uint8Array): boolean;
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object, imports: object) => { exports: { run: (n: number) => number } };
  };
}).WebAssembly;

/**
 * Twelve independent chains c = c·x + y: enough to cover a multiply-add's latency on two pipes, and
 * few enough that V8 keeps every accumulator in a register (with more it spills and measures less).
 */
const CHAINS = 12;

function peakWat(relaxed: boolean): string {
  const locals = Array.from({ length: CHAINS }, (_, i) => `(local $c${i} v128)`).join(' ');
  const step = Array.from({ length: CHAINS }, (_, i) =>
    relaxed
      ? `(local.set $c${i} (f32x4.relaxed_madd (local.get $c${i}) (local.get $x) (local.get $y)))`
      : `(local.set $c${i} (f32x4.add (f32x4.mul (local.get $c${i}) (local.get $x)) (local.get $y)))`).join('\n      ');
  const sum = Array.from({ length: CHAINS }, (_, i) => `(local.get $c${i})`).reduce((s, c) => `(f32x4.add ${s} ${c})`);
  return `(module
  (func (export "run") (param $n i32) (result f32)
    (local $x v128) (local $y v128) ${locals}
    (local.set $x (f32x4.splat (f32.const 0.999999)))
    (local.set $y (f32x4.splat (f32.const 0.000001)))
    (loop $steps
      ${step}
      (br_if $steps (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    ;; the sum is returned so that no chain is dead code
    (f32x4.extract_lane 0 ${sum})))`;
}

export interface Peak {
  /** The best GFLOP/s of the timed runs (a multiply-add counts as two flops): other processes only ever slow a run down. */
  gflops: number;
  kind: 'relaxed-simd' | 'simd';
}

/** Times the loop `runs` times for about `msPerRun` each; the best rate. */
export async function measurePeak(runs = 15, msPerRun = 40): Promise<Peak> {
  const wabt = await wabtInit();
  let kind: Peak['kind'] = 'relaxed-simd';
  let bytes: Uint8Array | null = null;
  for (const relaxed of [true, false]) {
    const module = wabt.parseWat('peak.wat', peakWat(relaxed), { simd: true, relaxed_simd: relaxed });
    const candidate = module.toBinary({}).buffer;
    module.destroy();
    if (wasm.validate(candidate)) {
      bytes = candidate;
      kind = relaxed ? 'relaxed-simd' : 'simd';
      break;
    }
  }
  if (!bytes) throw new Error('this runtime has no WebAssembly SIMD');
  const { run } = new wasm.Instance(new wasm.Module(bytes), {}).exports;
  // calibrate: double the step count until one run takes at least half of msPerRun
  let n = 1e5;
  for (;;) {
    const t0 = performance.now();
    run(n);
    if (performance.now() - t0 >= msPerRun / 2) break;
    n *= 2;
  }
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    run(n);
    rates.push((n * CHAINS * 4 * 2) / ((performance.now() - t0) * 1e6));
  }
  return { gflops: Math.max(...rates), kind };
}
