/**
 * The WebAssembly unfold and fold (im2col, col2im) against the JavaScript loops they stand in for,
 * on random windows of every kind that has an edge: stride above the kernel, padding larger than
 * the kernel, dilation, 1×1 kernels, odd sizes, rows with no window inside. Both must give the same
 * bits: unfold only moves values, and fold adds each pixel's values in the same (kernel) order in
 * float64 before one rounding. unfold is also checked against its definition. And conv2d's
 * direct kernel (a forward nothing records: the product gathered from the input, no columns stored)
 * against the composite it stands in for, unfold then the matmul kernel: the same bits.
 */
import assert from 'node:assert/strict';
import { Rng, conv2d, noGrad, setHooks, tensor, type Tensor } from '../../engine/index';
import { conv2dKernel, foldKernel, unfoldKernel, type Window2d } from '../../engine/backends/cpu/window';
import { setWasmKernelsEnabled, wasmKernelKind } from '../../engine/backends/cpu/wasm/gemm';
import { KC } from '../../engine/backends/cpu/wasm/wat';
import { sizeOf } from '../../engine/shape';

type Case = { shape: [number, number, number, number]; win: Window2d; oh: number; ow: number };

function cases(count: number, seed: number): Case[] {
  const rng = new Rng(seed);
  const r = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  const out: Case[] = [];
  while (out.length < count) {
    const shape: Case['shape'] = [r(1, 3), r(1, 4), r(1, 11), r(1, 11)];
    const win: Window2d = { kernel: [r(1, 4), r(1, 4)], stride: [r(1, 3), r(1, 3)], padding: [r(0, 5), r(0, 5)], dilation: [r(1, 3), r(1, 3)] };
    const oh = Math.floor((shape[2] + 2 * win.padding[0] - win.dilation[0] * (win.kernel[0] - 1) - 1) / win.stride[0]) + 1;
    const ow = Math.floor((shape[3] + 2 * win.padding[1] - win.dilation[1] * (win.kernel[1] - 1) - 1) / win.stride[1]) + 1;
    if (oh >= 1 && ow >= 1) out.push({ shape, win, oh, ow });
  }
  return out;
}

const random = (n: number, f64: boolean, rng: Rng) => {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
};

function sameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}: [${i}] ${got[i]} vs ${want[i]}`);
}

/** Runs `f` with the JavaScript loops (the WebAssembly kernels off). */
function javascript<T>(f: () => T): T {
  setWasmKernelsEnabled(false);
  try {
    return f();
  } finally {
    setWasmKernelsEnabled(true);
  }
}

describe('unfold and fold in WebAssembly', () => {
  it('runs on WebAssembly SIMD here (else this file would compare the JavaScript loops with themselves)', () => {
    assert.notEqual(wasmKernelKind(), 'none');
    // relaxed-simd.test.ts runs this file again in a Node with relaxed SIMD, and says which kind it expects
    if (process.env.BACKPROP_LENS_EXPECT_KERNEL) assert.equal(wasmKernelKind(), process.env.BACKPROP_LENS_EXPECT_KERNEL);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    it(`unfold: the same bits as the JavaScript loops and as its definition, 400 random windows (${dtype})`, () => {
      const rng = new Rng(dtype === 'float32' ? 1 : 2);
      for (const { shape, win, oh, ow } of cases(400, dtype === 'float32' ? 3 : 4)) {
        const [n, c, h, w] = shape;
        const x = random(n * c * h * w, dtype === 'float64', rng);
        const got = unfoldKernel(x, shape, win, oh, ow, dtype);
        const what = `unfold ${JSON.stringify({ shape, ...win })}`;
        sameBits(got, javascript(() => unfoldKernel(x, shape, win, oh, ow, dtype)), what);
        const [kh, kw] = win.kernel;
        let i = 0;
        for (let p = 0; p < n * c; p++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let row = 0; row < oh; row++) for (let q = 0; q < ow; q++, i++) {
          const u = row * win.stride[0] - win.padding[0] + a * win.dilation[0];
          const v = q * win.stride[1] - win.padding[1] + b * win.dilation[1];
          const want = u >= 0 && u < h && v >= 0 && v < w ? x[(p * h + u) * w + v] : 0;
          if (!Object.is(got[i], want)) assert.fail(`${what}: [${i}] ${got[i]}, by definition ${want}`);
        }
      }
    });

    it(`fold: the same bits as the JavaScript loops, 400 random windows (${dtype})`, () => {
      const rng = new Rng(dtype === 'float32' ? 5 : 6);
      for (const { shape, win, oh, ow } of cases(400, dtype === 'float32' ? 7 : 8)) {
        const cols = random(shape[0] * shape[1] * win.kernel[0] * win.kernel[1] * oh * ow, dtype === 'float64', rng);
        sameBits(foldKernel(cols, win, oh, ow, shape, dtype), javascript(() => foldKernel(cols, win, oh, ow, shape, dtype)), `fold ${JSON.stringify({ shape, ...win })}`);
      }
    });
  }

  for (const dtype of ['float32', 'float64'] as const) {
    it(`conv2d without recording: the bits of unfold then matmul, 300 random convolutions, some across k and n blocks (${dtype})`, () => {
      const rng = new Rng(dtype === 'float32' ? 9 : 10);
      const r = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
      let direct = 0;
      for (const [i, c0] of cases(300, dtype === 'float32' ? 11 : 12).entries()) {
        const shape = c0.shape;
        let win = c0.win;
        // every tenth has more input channels than a k block holds, or more windows than an n block (NC)
        if (i % 10 === 0) shape[1] = Math.ceil((KC + 1) / (win.kernel[0] * win.kernel[1])) + r(0, 3);
        if (i % 10 === 5) {
          [shape[2], shape[3]] = [r(16, 24), r(16, 24)];
          win = { ...win, stride: [1, 1] };
        }
        const [n, c] = shape;
        const o = r(1, 9);
        const options = { stride: win.stride, padding: win.padding, dilation: win.dilation };
        const x = tensor(random(sizeOf(shape), dtype === 'float64', rng), { shape, dtype });
        const w = tensor(random(o * c * win.kernel[0] * win.kernel[1], dtype === 'float64', rng), { shape: [o, c, ...win.kernel], dtype });
        let recorded: Tensor;
        try {
          recorded = conv2d(x, w, null, options);
        } catch {
          continue; // an input smaller than the dilated kernel: conv2d refuses it, with or without recording
        }
        const what = `conv2d ${JSON.stringify({ shape, o, ...win })}`;
        const [, , oh, ow] = recorded.shape;
        const kernel = conv2dKernel(x.data, shape, w.data, o, win, oh, ow, dtype);
        if (kernel) {
          direct++;
          sameBits(kernel, recorded.data, `${what}, the kernel`);
        }
        sameBits(noGrad(() => conv2d(x, w, null, options)).data, recorded.data, `${what}, under noGrad`);
      }
      assert.ok(direct >= 150, `the direct kernel ran for ${direct} of 300 convolutions (the rest are below matmul's WebAssembly size)`);
    });
  }

  it('conv2d under noGrad with a tracer keeps its unfold and matmul nodes (the direct kernel is used only where nothing records)', () => {
    const x = tensor(new Float32Array(2 * 3 * 8 * 8).fill(0.5), { shape: [2, 3, 8, 8] });
    const w = tensor(new Float32Array(4 * 3 * 3 * 3).fill(0.25), { shape: [4, 3, 3, 3] });
    const seen: string[] = [];
    const restore = setHooks({ onNode: (node) => seen.push(node.op ?? '?') });
    let traced: Tensor;
    try {
      traced = noGrad(() => conv2d(x, w, null, { padding: 1 }));
    } finally {
      restore();
    }
    assert.ok(seen.includes('unfold') && seen.includes('matmul'), `nodes seen: ${seen.join(', ')}`);
    const untraced = noGrad(() => conv2d(x, w, null, { padding: 1 }));
    sameBits(untraced.data, traced.data, 'traced and untraced');
  });
});
