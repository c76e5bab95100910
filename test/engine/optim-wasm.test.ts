/**
 * The optimizers' update rules in WebAssembly (wat.ts's vm, through engine/optim/evaluate.ts)
 * against the JavaScript evaluator, to the bit: every optimizer, with the options that change its
 * program (momentum and Nesterov, AMSGrad, centered RMSprop, weight decay, clipping by value and by
 * norm, which adds a branch), float32 and float64 parameters, sizes that are and are not whole chunks
 * and vectors, over several steps (so the bias corrections and the slots' history count).
 * relaxed-simd.test.ts runs this file again on relaxed SIMD.
 */
import assert from 'node:assert/strict';
import { Rng, optim, param, tensor, type Tensor } from '../../engine/index';
import { setWasmKernelsEnabled, wasmKernelKind } from '../../engine/backends/cpu/wasm/gemm';

type Make = (params: Tensor[]) => { step(): void; stateOf(p: Tensor): Readonly<Record<string, Float64Array>> | undefined };
const O = optim as unknown as Record<string, (params: Tensor[], options: Record<string, unknown>) => ReturnType<Make>>;

const CASES: [string, Record<string, unknown>][] = [
  ['sgd', { lr: 0.1 }],
  ['sgd', { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
  ['sgd', { lr: 0.1, momentum: 0.9, dampening: 0.1, clipValue: 0.5 }],
  ['adagrad', { lr: 0.1, lrDecay: 0.01 }],
  ['rmsprop', { lr: 0.01, momentum: 0.5, centered: true }],
  ['adadelta', { lr: 1 }],
  ['adam', { lr: 1e-3 }],
  ['adam', { lr: 1e-3, amsgrad: true, clipNorm: 1 }],
  ['adamw', { lr: 1e-3, weightDecay: 0.1 }],
  ['adamax', { lr: 2e-3 }],
  ['nadam', { lr: 2e-3 }],
];

function sameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}: [${i}] ${got[i]}, the JavaScript evaluator gives ${want[i]}`);
}

describe('update rules in WebAssembly', () => {
  it('runs on WebAssembly SIMD here', () => {
    assert.notEqual(wasmKernelKind(), 'none');
    if (process.env.BACKPROP_LENS_EXPECT_KERNEL) assert.equal(wasmKernelKind(), process.env.BACKPROP_LENS_EXPECT_KERNEL);
  });

  for (const [name, options] of CASES) {
    it(`${name} ${JSON.stringify(options)}: parameters and state with the bits of the JavaScript evaluator, 4 steps`, () => {
      const rng = new Rng(name.length * 7 + Object.keys(options).length);
      // whole chunks and vectors, an odd size, float32 and float64
      const shapes: [number[], 'float32' | 'float64'][] = [[[64, 64], 'float32'], [[4097], 'float32'], [[75, 61], 'float64']];
      const init = shapes.map(([shape, dtype]) => tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), { shape, dtype }));
      const grads = Array.from({ length: 4 }, () => init.map((t) => tensor(Float64Array.from({ length: t.size }, () => rng.normal() * (rng.int(50) === 0 ? 0 : 1)), { shape: [...t.shape], dtype: t.dtype })));
      const run = (wasm: boolean) => {
        const params = init.map((t) => param(tensor(t)));
        setWasmKernelsEnabled(wasm);
        try {
          const opt = O[name](params, options);
          for (const g of grads) {
            params.forEach((p, i) => (p.grad = tensor(g[i])));
            opt.step();
          }
          return params.map((p) => ({ value: p.data, state: opt.stateOf(p) ?? {} }));
        } finally {
          setWasmKernelsEnabled(true);
        }
      };
      const simd = run(true), js = run(false);
      simd.forEach((r, i) => {
        sameBits(r.value, js[i].value, `${name}, parameter ${i}`);
        for (const k of Object.keys(js[i].state)) sameBits(r.state[k], js[i].state[k], `${name}, parameter ${i}, ${k}`);
      });
    });
  }
});
