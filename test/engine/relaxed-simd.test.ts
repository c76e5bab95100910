/**
 * The relaxed-SIMD kernels (a fused multiply-add where the plain SIMD ones multiply, then add) are
 * what VS Code's Electron, Chromium (the webview) and every model process run; this Node 20 only
 * validates them with the flag the model process is given (modelExecArgv). So the kernel test files
 * (the GEMM, the windows and conv2d's direct kernel, the elementwise kernels, the update rules' evaluator)
 * run again here in a Node started with that flag, and must find the relaxed kernels there and pass.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { validatesRelaxedSimd, wasmKernelKind } from '../../engine/backends/cpu/wasm/gemm';
import { modelExecArgv } from '../../extension/runner/model-process';

const root = join(__dirname, '../..');
const KERNEL_TESTS = ['test/engine/matmul-kernel.test.ts', 'test/engine/window-kernel.test.ts', 'test/engine/elementwise-kernel.test.ts', 'test/engine/optim-wasm.test.ts'];

describe('relaxed-SIMD kernels', () => {
  it('a model process gets relaxed SIMD, and the kernel tests pass on it', function () {
    if (validatesRelaxedSimd()) {
      // this runtime has relaxed SIMD as it is: the kernel tests of this run already ran on it
      assert.equal(wasmKernelKind(), 'relaxed-simd');
      assert.deepEqual(modelExecArgv(), []);
      return;
    }
    const flags = modelExecArgv();
    assert.deepEqual(flags, ['--experimental-wasm-relaxed-simd'], 'a model process in this Node is started with the relaxed-SIMD flag');
    const run = spawnSync(process.execPath, [...flags, require.resolve('mocha/bin/mocha.js'), '--no-config', '-r', 'tsx/cjs', '--timeout', '240000', '--reporter', 'dot', ...KERNEL_TESTS], {
      cwd: root,
      env: { ...process.env, BACKPROP_LENS_EXPECT_KERNEL: 'relaxed-simd' },
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(run.status, 0, `the kernel tests under ${flags.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /[1-9]\d* passing/);
  });
});
