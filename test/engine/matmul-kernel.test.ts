/**
 * The WebAssembly matmul kernel against the JavaScript one it replaces, on every shape class the
 * blocking has edges for, in float32 and float64, directly and through the matmul op (transposes,
 * batches, broadcasting, 1-D operands).
 *
 * Tolerance: the two kernels add the k products in a different order and, for float32, in a
 * different precision (the JavaScript kernel accumulates in float64 and rounds once; the SIMD kernel
 * accumulates in float32). Each result is within γ_k·Σ|a||b| of the exact dot product (γ_k ≈ k·u, u
 * the unit roundoff), so they may differ by (k + 1)·u·Σ|a||b| and not more.
 */
import assert from 'node:assert/strict';
import { Rng, matmul, matmulT, noGrad, tensor, type Tensor } from '../../engine/index';
import { jsMatmulNT } from '../../engine/backends/cpu/matmul';
import { setWasmKernelsEnabled, wasmKernelKind, wasmMatmul } from '../../engine/backends/cpu/wasm/gemm';
import { KC, MC, MR, NC, nr } from '../../engine/backends/cpu/wasm/wat';

type FloatArray = Float32Array | Float64Array;
const unitRoundoff = (c: FloatArray) => (c instanceof Float32Array ? 2 ** -24 : 2 ** -53);

function fill<T extends FloatArray | Int32Array>(out: T, rng: Rng): T {
  for (let i = 0; i < out.length; i++) out[i] = out instanceof Int32Array ? rng.int(7) - 3 : rng.normal();
  return out;
}

/** Asserts |got − want| ≤ (k + 1)·u·Σ|a||b| + the smallest normal, entry by entry. */
function assertClose(
  got: ArrayLike<number>, want: ArrayLike<number>,
  a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number,
  m: number, k: number, n: number, u: number, what: string,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let absSum = 0;
      for (let p = 0; p < k; p++) absSum += Math.abs(a[aOffset + i * k + p] * b[bOffset + j * k + p]);
      const tol = (k + 1) * u * absSum + 2 ** -126;
      const d = Math.abs(got[i * n + j] - want[i * n + j]);
      if (!(d <= tol)) assert.fail(`${what}: C[${i}, ${j}] = ${got[i * n + j]}, the JavaScript kernel gives ${want[i * n + j]} (|Δ| ${d} > ${tol})`);
    }
  }
}

/** The transpose of each rows×cols matrix of a batch, so the reference kernel gets the layout it wants. */
function transposed<T extends FloatArray | Int32Array>(x: T, rows: number, cols: number): T {
  const out = x.slice() as T;
  for (let base = 0; base < x.length; base += rows * cols) for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) out[base + q * rows + r] = x[base + r * cols + q];
  return out;
}

/**
 * Runs both kernels on a batch of two products that share B (the broadcast of a batch axis), with
 * A and B stored as given by transA and transB, and compares. The reference is the JavaScript kernel
 * on A as m×k rows and B as n×k rows.
 */
function check(
  m: number, k: number, n: number, Out: typeof Float32Array | typeof Float64Array, seed: number,
  { In = Out, transA = false, transB = true }: { In?: typeof Float32Array | typeof Float64Array | typeof Int32Array; transA?: boolean; transB?: boolean } = {},
): void {
  const rng = new Rng(seed);
  const a = fill(new In(2 * m * k), rng);
  const b = fill(new In(n * k), rng);
  const aRows = transA ? transposed(a, k, m) : a;
  const bRows = transB ? b : transposed(b, k, n);
  const want = new Out(2 * m * n);
  for (let i = 0; i < 2; i++) jsMatmulNT(aRows, i * m * k, bRows, 0, want, i * m * n, m, k, n);
  const c = new Out(2 * m * n).fill(7);
  const what = `${m}×${k}·(${n}×${k})ᵀ ${In.name}→${Out.name}, A stored ${transA ? 'k×m' : 'm×k'}, B ${transB ? 'n×k' : 'k×n'}`;
  assert.ok(wasmMatmul(a, [0, m * k], transA, b, [0, 0], transB, c, m, k, n), `${what}: the WebAssembly kernel ran`);
  for (let i = 0; i < 2; i++) {
    assertClose(c.subarray(i * m * n, (i + 1) * m * n), want.subarray(i * m * n, (i + 1) * m * n), aRows, i * m * k, bRows, 0, m, k, n, unitRoundoff(c), `${what}, product ${i}`);
  }
}

describe('matmul kernel: WebAssembly SIMD against the JavaScript reference', () => {
  it('runs with SIMD in this Node (else every other test here would compare the JavaScript kernel with itself)', () => {
    assert.notEqual(wasmKernelKind(), 'none');
    // relaxed-simd.test.ts runs this file again in a Node with relaxed SIMD, and says which kind it expects
    if (process.env.BACKPROP_LENS_EXPECT_KERNEL) assert.equal(wasmKernelKind(), process.env.BACKPROP_LENS_EXPECT_KERNEL);
  });

  const NR32 = nr(4), NR64 = nr(2);
  const shapes: [string, number, number, number][] = [
    ['1×1·1×1', 1, 1, 1],
    ['a row times a column (k = 1: an outer product)', 5, 1, 6],
    ['one row of A', 1, 37, 19],
    ['one row of B', 23, 41, 1],
    ['odd sizes', 13, 17, 19],
    ['one tile exactly', MR, 8, NR32],
    ['tile ± 1 in m and n', MR + 1, 9, NR32 - 1],
    ['A block ± 1 rows (MC)', MC + 1, 20, 10],
    ['A block − 1 rows (MC)', MC - 1, 20, 10],
    ['k = KC exactly', 9, KC, 11],
    ['k = KC + 1 (a second k block)', 9, KC + 1, 11],
    ['k = KC − 1', 9, KC - 1, 11],
    ['n across an NC block (+ 1)', 6, 30, NC + 1],
    ['n = NC − 1', 6, 30, NC - 1],
    ['several blocks every way, none whole', 2 * MC + 3, 2 * KC + 5, NC + NR64 + 1],
  ];
  for (const [name, m, k, n] of shapes) {
    it(`${name}: ${m}×${k} · ${k}×${n}, float32 and float64, each operand stored as it is and transposed`, () => {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          check(m, k, n, Float32Array, m * 7 + k * 13 + n, { transA, transB });
          check(m, k, n, Float64Array, m * 5 + k * 11 + n, { transA, transB });
        }
      }
    });
  }

  it('converts operands of another element type to the result type on the way in (int32 → float64, float64 → float32)', () => {
    check(7, 33, 9, Float64Array, 1, { In: Int32Array });
    check(7, 33, 9, Float32Array, 2, { In: Float64Array, transA: true, transB: false });
  });

  it('goes one product at a time when the whole batch would not fit its capped memory', () => {
    // two 1,024 × 8,200 float64 matrices of A are 134 MB, over the 128 MiB the module may hold; one is 67 MB
    check(1024, 8200, 2, Float64Array, 3);
  });

  it('propagates NaN and ±Infinity as the JavaScript kernel does', () => {
    const m = 6, k = 300, n = 10;
    const rng = new Rng(4);
    const a = fill(new Float32Array(m * k), rng);
    const b = fill(new Float32Array(n * k), rng);
    a[0] = NaN;
    a[k + 3] = Infinity;
    b[2 * k + 3] = 0; // ∞·0 in C[1, 2]
    a[2 * k + 4] = -Infinity;
    const want = new Float32Array(m * n);
    const got = new Float32Array(m * n);
    jsMatmulNT(a, 0, b, 0, want, 0, m, k, n);
    assert.ok(wasmMatmul(a, [0], false, b, [0], true, got, m, k, n));
    for (let i = 0; i < m * n; i++) {
      if (!Number.isFinite(want[i])) assert.equal(String(got[i]), String(want[i]), `C[${Math.floor(i / n)}, ${i % n}]`);
      else assert.ok(Number.isFinite(got[i]), `C[${Math.floor(i / n)}, ${i % n}] finite`);
    }
  });
});

describe('matmul op: WebAssembly and JavaScript kernels agree through transposes and batches', () => {
  afterEach(() => setWasmKernelsEnabled(true));

  /** The op's result with each kernel, compared with the same bound (Σ|a||b| from the float64 product of |A| and |B|). */
  function agree(run: (abs: (t: Tensor) => Tensor) => Tensor, k: number, what: string): void {
    setWasmKernelsEnabled(false);
    const want = noGrad(() => run((t) => t));
    const absProduct = noGrad(() => run((t) => tensor(Float64Array.from(t.data, Math.abs), { shape: [...t.shape], dtype: 'float64' })));
    setWasmKernelsEnabled(true);
    const got = noGrad(() => run((t) => t));
    assert.deepEqual(got.shape, want.shape, what);
    assert.equal(got.dtype, want.dtype, what);
    const u = got.dtype === 'float32' ? 2 ** -24 : 2 ** -53;
    for (let i = 0; i < want.size; i++) {
      const tol = (k + 1) * u * absProduct.data[i] + 2 ** -126;
      const d = Math.abs(got.data[i] - want.data[i]);
      if (!(d <= tol)) assert.fail(`${what}: entry ${i} = ${got.data[i]}, JavaScript kernel ${want.data[i]} (|Δ| ${d} > ${tol})`);
    }
  }

  const rand = (rng: Rng, shape: number[], dtype: 'float32' | 'float64') => {
    const data = new Float64Array(shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < data.length; i++) data[i] = rng.normal();
    return tensor(data, { shape, dtype });
  };

  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: every transpose combination of a product with edges in every block`, () => {
      const rng = new Rng(dtype === 'float32' ? 10 : 11);
      const m = 37, k = 301, n = 45;
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = rand(rng, transA ? [k, m] : [m, k], dtype);
          const b = rand(rng, transB ? [n, k] : [k, n], dtype);
          agree((f) => matmulT(f(a), f(b), { transA, transB }), k, `${dtype} transA=${transA} transB=${transB}`);
        }
      }
    });

    it(`${dtype}: batched with broadcast batch axes, and 1-D operands`, () => {
      const rng = new Rng(dtype === 'float32' ? 12 : 13);
      const a = rand(rng, [3, 1, 9, 70], dtype);
      const b = rand(rng, [4, 70, 11], dtype);
      agree((f) => matmul(f(a), f(b)), 70, `${dtype} [3, 1, 9, 70] @ [4, 70, 11]`);
      const v = rand(rng, [70], dtype);
      agree((f) => matmul(f(a), f(v)), 70, `${dtype} [3, 1, 9, 70] @ [70]`);
      agree((f) => matmul(f(v), f(b)), 70, `${dtype} [70] @ [4, 70, 11]`);
    });
  }

  it('mixed float32 · float64 gives float64 through the kernel', () => {
    const rng = new Rng(14);
    const a = rand(rng, [20, 130], 'float32');
    const b = rand(rng, [130, 17], 'float64');
    agree((f) => matmul(f(a), f(b)), 130, 'float32 @ float64');
  });
});
