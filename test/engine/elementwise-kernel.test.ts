/**
 * The elementwise ops with a WebAssembly SIMD kernel (wat.ts's SIMD_UNARY and SIMD_BINARY, named by
 * their op) against their own JavaScript loops, through the ops, to the bit: random values with
 * NaN, ±0, ±∞ and subnormals among them, float32 and float64, lengths that are and are not whole
 * vectors, and every operand layout of a binary op (whole, a single value either side, a row
 * repeated along the other operand). relaxed-simd.test.ts runs this file again on relaxed SIMD.
 */
import assert from 'node:assert/strict';
import { Rng, tensor, type Tensor } from '../../engine/index';
import * as F from '../../engine/ops/functional';
import { setWasmKernelsEnabled, wasmBinary, wasmKernelKind, wasmUnary } from '../../engine/backends/cpu/wasm/gemm';
import { BINARY_LAYOUT, SIMD_BINARY, SIMD_UNARY } from '../../engine/backends/cpu/wasm/wat';

type Dtype = 'float32' | 'float64';
const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1e-45, -1e-45, 5e-324, 1, -1, 0.5];

function values(n: number, rng: Rng, dtype: Dtype): Float32Array | Float64Array {
  const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(5) === 0 ? SPECIAL[rng.int(SPECIAL.length)] : rng.normal() * 4;
  return out;
}

function sameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}: [${i}] ${got[i]}, the JavaScript loop gives ${want[i]}`);
}

/** The op's result with the WebAssembly kernels on, and with them off (its JavaScript loop). */
function both(run: () => Tensor): [Float32Array | Float64Array, Float32Array | Float64Array] {
  const simd = run().data as Float32Array;
  setWasmKernelsEnabled(false);
  try {
    return [simd, run().data as Float32Array];
  } finally {
    setWasmKernelsEnabled(true);
  }
}

const op = (name: string) => (F as unknown as Record<string, ((...xs: Tensor[]) => Tensor) & { def?: { name: string } }>)[name];

describe('elementwise ops in WebAssembly SIMD', () => {
  it('runs on WebAssembly SIMD here, and each kernel is named after an op of that name', () => {
    assert.notEqual(wasmKernelKind(), 'none');
    if (process.env.BACKPROP_LENS_EXPECT_KERNEL) assert.equal(wasmKernelKind(), process.env.BACKPROP_LENS_EXPECT_KERNEL);
    for (const name of [...Object.keys(SIMD_UNARY), ...Object.keys(SIMD_BINARY)]) assert.equal(op(name)?.def?.name, name, `an op named ${name}`);
  });

  for (const dtype of ['float32', 'float64'] as const) {
    for (const name of Object.keys(SIMD_UNARY)) {
      it(`${name}: the bits of its JavaScript loop (${dtype})`, () => {
        const rng = new Rng(name.length * 31 + (dtype === 'float32' ? 1 : 2));
        for (const n of [256, 257, 259, 1000, 4099]) {
          const x = values(n, rng, dtype);
          assert.ok(wasmUnary(name, x, dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)), `the kernel takes ${n} values`);
          const [simd, js] = both(() => op(name)(tensor(x, { dtype })));
          sameBits(simd, js, `${name} of ${n} ${dtype} values`);
        }
      });
    }
    for (const name of Object.keys(SIMD_BINARY)) {
      it(`${name}: the bits of its JavaScript loop, every operand layout (${dtype})`, () => {
        const rng = new Rng(name.length * 17 + (dtype === 'float32' ? 3 : 4));
        const t = (shape: number[]) => tensor(values(shape.reduce((p, d) => p * d, 1), rng, dtype), { shape, dtype });
        const cases: [string, number[], number[], number][] = [
          ['whole', [37, 29], [37, 29], BINARY_LAYOUT.same],
          ['whole, 256', [256], [256], BINARY_LAYOUT.same],
          ['a single value on the right', [300, 3], [], BINARY_LAYOUT.scalarB],
          ['a single value on the left', [], [7, 41], BINARY_LAYOUT.scalarA],
          ['a row on the right (a bias)', [64, 33], [33], BINARY_LAYOUT.rowB],
          ['a row of 4 on the right', [100, 4], [1, 4], BINARY_LAYOUT.rowB],
          ['a row on the left', [19], [30, 19], BINARY_LAYOUT.rowA],
        ];
        for (const [what, as, bs, layout] of cases) {
          const a = t(as), b = t(bs);
          const size = Math.max(a.size, b.size);
          const m = layout === BINARY_LAYOUT.rowB ? b.size : layout === BINARY_LAYOUT.rowA ? a.size : size;
          assert.ok(wasmBinary(name, a.data, b.data, dtype === 'float32' ? new Float32Array(size) : new Float64Array(size), layout, m), `the kernel takes ${what}`);
          const [simd, js] = both(() => op(name)(a, b));
          sameBits(simd, js, `${name}, ${what} (${dtype})`);
        }
      });
    }
  }

  it('leaves integer, mixed-type and small operands to the JavaScript loops', () => {
    assert.equal(wasmUnary('relu', new Int32Array(300), new Int32Array(300)), false);
    assert.equal(wasmUnary('relu', new Float32Array(300), new Float64Array(300)), false);
    assert.equal(wasmUnary('relu', new Float32Array(100), new Float32Array(100)), false);
    assert.equal(wasmUnary('exp', new Float32Array(300), new Float32Array(300)), false);
    assert.equal(wasmBinary('add', new Float32Array(300), new Float64Array(300), new Float64Array(300), BINARY_LAYOUT.same, 300), false);
    assert.equal(wasmBinary('add', new Float32Array(300), new Float32Array(3), new Float32Array(300), BINARY_LAYOUT.rowB, 3), false);
  });
});
