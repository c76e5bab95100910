/**
 * The matmul op against torch.matmul on products large enough to run on the engine's WebAssembly
 * kernel (the random programs' tensors are too small to reach it): float32 and float64, each operand
 * stored transposed or not, broadcast batch axes, k across the kernel's k blocks. The product and both
 * operands' gradients must agree to the oracle's limits (1e-12 in float64, 1e-5 in float32).
 */
import * as assert from 'node:assert/strict';
import { matmulT, param, randn, type Tensor } from '../../engine/index';
import { wasmKernelKind } from '../../engine/backends/cpu/wasm/gemm';
import { relError, tolerance, type DT } from './compare';
import { runPython, useTorch } from './torch';

const wire = (x: Tensor) => ({ data: Array.from(x.data), shape: x.shape.slice() });

describe('PyTorch oracle: the matmul kernel', function () {
  this.timeout(300_000);
  useTorch();

  it('products on the WebAssembly kernel, with both gradients, agree with torch.matmul in float32 and float64', async () => {
    assert.notEqual(wasmKernelKind(), 'none', 'the WebAssembly kernel runs here');
    const cases: Record<string, unknown>[] = [];
    const ours: Record<string, { dtype: DT; y: number[]; ga: number[]; gb: number[] }> = {};
    let seed = 1;
    const add = (name: string, dtype: DT, aShape: number[], bShape: number[], transA: boolean, transB: boolean) => {
      const a = param(randn(aShape, { seed: seed++, dtype }));
      const b = param(randn(bShape, { seed: seed++, dtype }));
      const y = matmulT(a, b, { transA, transB });
      const g = randn(y.shape.slice(), { seed: seed++, dtype });
      y.mul(g).sum().backward();
      ours[name] = { dtype, y: Array.from(y.data), ga: Array.from(a.grad!.data), gb: Array.from(b.grad!.data) };
      cases.push({ name, dtype, transA, transB, a: wire(a), b: wire(b), g: wire(g) });
    };
    const [m, k, n] = [37, 301, 45];
    for (const dtype of ['float32', 'float64'] as const) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) add(`${dtype} A${transA ? 'ᵀ' : ''}·B${transB ? 'ᵀ' : ''}`, dtype, transA ? [k, m] : [m, k], transB ? [n, k] : [k, n], transA, transB);
      }
      add(`${dtype} batched [3, 1, 9, 70] @ [4, 70, 11]`, dtype, [3, 1, 9, 70], [4, 70, 11], false, false);
    }

    const theirs = await runPython<Record<string, Record<string, number[]>>>('matmul.py', { cases });
    const problems: string[] = [];
    for (const [name, { dtype, ...fields }] of Object.entries(ours)) {
      for (const [key, v] of Object.entries(fields)) {
        const e = relError(v, theirs[name][key]);
        if (!(e <= tolerance(dtype))) problems.push(`${name} ${key}: relative error ${e} (limit ${tolerance(dtype)})`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
