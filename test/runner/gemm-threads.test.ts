/**
 * The model process's second thread for large products (extension/runner/gemm-threads.ts): a
 * product split between two threads has the bits of the same product on one thread, for odd row
 * counts, both layouts of B, float32 and float64, directly and through the matmul op; products below
 * the threshold stay on one thread; and a model trained in the model process (where the thread is
 * installed) ends with the parameters of the same training in a model process without it, to the bit.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Rng, matmul, noGrad, tensor } from '../../engine/index';
import { SPLIT_MIN_MACS, setRowSplitter, wasmKernelKind, wasmMatmul } from '../../engine/backends/cpu/wasm/gemm';
import { installGemmThread, type GemmThread } from '../../extension/runner/gemm-threads';
import { ModelRunner } from '../../extension/runner/runner';
import { ROOT, ensureBuilt, useTempDir, writeFile } from './helpers';

const fill = (a: Float32Array | Float64Array, rng: Rng) => {
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
};

describe('a second thread for large matrix products (model process)', function () {
  this.timeout(120_000);
  let thread: GemmThread;
  const tmp = useTempDir('bpl-gemm-');
  before(function () {
    ensureBuilt();
    assert.notEqual(wasmKernelKind(), 'none', 'the WebAssembly kernel runs here');
    thread = started();
  });
  after(() => thread?.stop());

  /** A thread installed and started: its first large product starts the worker (and runs on one thread); then wait until it is ready. */
  function started(): GemmThread {
    const t = installGemmThread(path.join(ROOT, 'dist', 'gemm-thread.js'));
    const a = new Float32Array(256 * 256);
    const ready = Date.now() + 10_000;
    for (;;) {
      const before = t.products();
      assert.ok(wasmMatmul(a, [0], false, a, [0], false, new Float32Array(256 * 256), 256, 256, 256));
      if (t.products() > before) return t;
      assert.ok(Date.now() < ready, 'the second thread started within 10 s');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }

  /** C on two threads and on one, from the same operands. */
  function both(m: number, k: number, n: number, transB: boolean, f64: boolean, seed: number) {
    const rng = new Rng(seed);
    const T = f64 ? Float64Array : Float32Array;
    const a = fill(new T(m * k), rng), b = fill(new T(k * n), rng);
    const before = thread.products();
    const split = new T(m * n);
    assert.ok(wasmMatmul(a, [0], false, b, [0], transB, split, m, k, n));
    const shared = thread.products() - before;
    setRowSplitter(null);
    const one = new T(m * n);
    try {
      assert.ok(wasmMatmul(a, [0], false, b, [0], transB, one, m, k, n));
    } finally {
      thread.stop();
      thread = started();
    }
    return { split, one, shared };
  }

  for (const f64 of [false, true]) {
    for (const [m, k, n] of [[256, 256, 256], [131, 784, 257], [40, 1030, 130], [512, 96, 300]] as const) {
      for (const transB of [false, true]) {
        it(`C = A·B${transB ? 'ᵀ' : ''} [${m}×${k}]·[${k}×${n}] (${f64 ? 'float64' : 'float32'}): split between the threads, the same bits as on one`, () => {
          assert.ok(m * k * n >= SPLIT_MIN_MACS);
          const { split, one, shared } = both(m, k, n, transB, f64, m + k + n);
          assert.equal(shared, 1, 'the product was shared with the second thread');
          for (let i = 0; i < one.length; i++) if (!Object.is(split[i], one[i])) assert.fail(`C[${Math.floor(i / n)}, ${i % n}]: ${split[i]} split, ${one[i]} on one thread`);
        });
      }
    }
  }

  it('a product below the threshold, a batch and a transposed A stay on one thread', () => {
    const before = thread.products();
    const rng = new Rng(3);
    const small = fill(new Float32Array(64 * 64), rng);
    assert.ok(wasmMatmul(small, [0], false, small, [0], false, new Float32Array(64 * 64), 64, 64, 64));
    const a = fill(new Float32Array(2 * 256 * 256), rng);
    assert.ok(wasmMatmul(a, [0, 256 * 256], false, a, [0, 0], false, new Float32Array(2 * 256 * 256), 256, 256, 256));
    assert.ok(wasmMatmul(a, [0], true, a, [0], false, new Float32Array(256 * 256), 256, 256, 256));
    assert.equal(thread.products(), before);
  });

  it('through the matmul op: a [200, 784] by [784, 256] product on two threads equals the one-thread product', () => {
    const rng = new Rng(4);
    const x = tensor(fill(new Float32Array(200 * 784), rng), { shape: [200, 784] });
    const w = tensor(fill(new Float32Array(784 * 256), rng), { shape: [784, 256] });
    const before = thread.products();
    const split = noGrad(() => matmul(x, w)).data.slice();
    assert.equal(thread.products(), before + 1);
    setRowSplitter(null);
    const one = noGrad(() => matmul(x, w)).data;
    thread.stop();
    thread = started();
    assert.deepEqual(Array.from(split), Array.from(one));
  });

  it('a model trained in the model process (two threads) ends with the parameters of the same training in a model process on one thread, to the bit', async () => {
    const source = `import { nn, optim, losses, data, defineTraining } from 'backprop-lens';
export default defineTraining({
  model: nn.sequential(nn.linear(784, 256, { seed: 3 }), nn.relu(), nn.linear(256, 10, { seed: 4 })).named('mlp'),
  data: data.blobs({ n: 256, features: 784, centers: 10, seed: 1 }),
  loss: losses.softmaxCrossEntropy,
  optimizer: optim.sgd({ lr: 0.01 }),
  steps: 3,
});
`;
    const file = writeFile(tmp(), 'wide.ts', source);
    // both in model processes, so both on the kernels a model process runs (relaxed SIMD: modelExecArgv)
    const train = async (threads: string | undefined) => {
      const saved = process.env.BACKPROP_LENS_THREADS;
      if (threads === undefined) delete process.env.BACKPROP_LENS_THREADS;
      else process.env.BACKPROP_LENS_THREADS = threads;
      const runner = new ModelRunner(path.join(ROOT, 'dist'));
      try {
        const run = await runner.train(file, {});
        const out = await run.done;
        if (!out.ok) assert.fail(out.errors.map((e) => e.message).join('; '));
        return out.result.params;
      } finally {
        runner.dispose();
        if (saved === undefined) delete process.env.BACKPROP_LENS_THREADS;
        else process.env.BACKPROP_LENS_THREADS = saved;
      }
    };
    const two = await train(undefined);
    const one = await train('0');
    assert.equal(two.length, 4);
    for (const p of two) {
      const mine = one.find((q) => q.name === p.name)!;
      assert.deepEqual(p.value, mine.value, `${p.name} after 3 steps`);
    }
  });
});
