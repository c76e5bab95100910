import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * `npm run bench -- --json` with the shortest timing, so the benchmark cannot rot: it must run, print
 * its JSON on the last line, and its built-in cross-checks (engine vs tfjs, engine vs the micrograd
 * port) must agree. Times are only checked to be positive numbers; they are measured, not asserted.
 */
describe('bench (smoke)', function () {
  this.timeout(180_000);

  it('npm run bench -- --json prints every figure, and the engine agrees with tfjs and micrograd', () => {
    const root = path.resolve(__dirname, '../..');
    const out = execFileSync(process.execPath, ['scripts/bench.mjs', 'bench/engine.ts', '--json', '--min-ms=0', '--warmup=0'], { cwd: root, encoding: 'utf8' });
    const lines = out.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1]);
    const positive = (x: unknown, what: string) => assert.ok(typeof x === 'number' && x > 0 && Number.isFinite(x), `${what}: ${x}`);
    for (const k of ['engine', 'tfjsCpu', 'tfjsWasm']) {
      positive(result.mlpStep[k], `mlpStep.${k}`);
      positive(result.matmul512[k], `matmul512.${k}`);
    }
    positive(result.matmul512.engineFloat64, 'matmul512.engineFloat64');
    positive(result.matmul512.peak, 'matmul512.peak');
    // the benchmark is bundled by esbuild as model code is: the bundle carries the WebAssembly kernel, and Node 20 runs it
    assert.ok(['simd', 'relaxed-simd'].includes(result.matmul512.engineKernel), `engine matmul kernel: ${result.matmul512.engineKernel}`);
    positive(result.scalarMlpStep.engine, 'scalarMlpStep.engine');
    positive(result.scalarMlpStep.micrograd, 'scalarMlpStep.micrograd');
    for (const k of ['engine', 'tfjsCpu', 'tfjsWasm']) positive(result.conv2dForward[k], `conv2dForward.${k}`);
    for (const k of ['engine', 'tfjsCpu']) positive(result.conv2dStep[k], `conv2dStep.${k}`);
    assert.ok(result.meta.check.convGradRelDiffCpu < 1e-5, `conv2d weight gradient vs tfjs-cpu: ${result.meta.check.convGradRelDiffCpu}`);
    assert.ok(result.meta.check.lossRelDiffCpu < 1e-5, `first-step loss vs tfjs-cpu: ${result.meta.check.lossRelDiffCpu}`);
    assert.ok(result.meta.check.updateRelDiffCpu < 1e-4, `first update vs tfjs-cpu: ${result.meta.check.updateRelDiffCpu}`);
    assert.ok(result.meta.check.scalarLossRelDiffMicrograd < 1e-12, `scalar loss vs micrograd: ${result.meta.check.scalarLossRelDiffMicrograd}`);
    assert.ok(result.meta.enginePhasesMs.scalar.tensorsPerStep > 60_000, 'the scalar step builds the whole micrograd graph');
  });
});
