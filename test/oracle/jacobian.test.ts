/**
 * The PyTorch oracle on jacobian(f, x): each case is one function written twice, with the engine's
 * ops and as a PyTorch expression, and our Jacobian must have torch.autograd.functional.jacobian's
 * shape ([...f(x).shape, ...x.shape]), dtype and values (1e-12 in float64, 1e-5 in float32).
 */
import * as assert from 'node:assert/strict';
import { jacobian, tensor, type Tensor } from '../../engine/index';
import * as F from '../../engine/ops/functional';
import { relError, tolerance, type DT } from './compare';
import { runPython, useTorch } from './torch';

interface Case {
  id: string;
  dtype: DT;
  x: number | number[] | number[][];
  consts: Record<string, number[] | number[][]>;
  ours: (x: Tensor, c: Record<string, Tensor>) => Tensor;
  py: string;
}

const W = [[0.5, -1.2, 0.3], [0.8, 0.1, -0.7]];
const CASES: Case[] = [
  { id: 'vector → vector: tanh(W·x)·Σx²', dtype: 'float64', x: [0.3, -0.8, 1.1], consts: { W }, ours: (x, c) => F.mul(F.tanh(F.matmul(c.W, x)), F.sum(F.mul(x, x))), py: 'torch.tanh(W @ x) * (x * x).sum()' },
  { id: 'matrix → scalar: Σ x³ (J is the gradient, x\'s shape)', dtype: 'float64', x: [[1, -2], [0.5, 3]], consts: {}, ours: (x) => F.sum(F.mul(F.mul(x, x), x)), py: '(x * x * x).sum()' },
  { id: 'scalar → vector: sin(x·v)', dtype: 'float64', x: 0.7, consts: { v: [1, 2, 3] }, ours: (x, c) => F.sin(F.mul(x, c.v)), py: 'torch.sin(x * v)' },
  { id: 'matrix → matrix: softmax along rows', dtype: 'float64', x: [[0.1, 2, -1], [0.5, 0.5, 3]], consts: {}, ours: (x) => F.softmax(x, -1), py: 'torch.softmax(x, -1)' },
  { id: 'an output that does not depend on x: zeros', dtype: 'float64', x: [1, 2, 3], consts: { v: [4, 5] }, ours: (_x, c) => F.mul(c.v, 2), py: 'v * 2' },
  { id: 'a mix: one output depends on x, one does not', dtype: 'float64', x: [1, 2], consts: { v: [4, 5] }, ours: (x, c) => F.add(c.v, F.mul(F.sum(x), tensor([1, 0], { dtype: 'float64' }))), py: 'v + x.sum() * torch.tensor([1., 0.], dtype=torch.float64)' },
  { id: 'float32: exp(x)·relu(W·x)', dtype: 'float32', x: [0.3, -0.8, 1.1], consts: { W }, ours: (x, c) => F.mul(F.sum(F.exp(x)), F.relu(F.matmul(c.W, x))), py: 'torch.exp(x).sum() * torch.relu(W @ x)' },
];

describe('PyTorch oracle: jacobian(f, x)', function () {
  useTorch();

  it(`${CASES.length} functions: shape, dtype and values of torch.autograd.functional.jacobian`, async function () {
    this.timeout(120_000);
    const theirs = await runPython<Record<string, { shape: number[]; value: number[]; dtype: string; error?: string }>>('jacobian.py', {
      cases: CASES.map(({ id, dtype, x, consts, py }) => ({ id, dtype, x, consts, py })),
    });
    const problems: string[] = [];
    for (const c of CASES) {
      const t = theirs[c.id];
      if (!t || t.error) {
        problems.push(`${c.id}: PyTorch failed: ${t?.error ?? 'no result'}`);
        continue;
      }
      const consts = Object.fromEntries(Object.entries(c.consts).map(([k, v]) => [k, tensor(v, { dtype: c.dtype })]));
      const x = tensor(c.x as number[], { dtype: c.dtype });
      const before = Array.from(x.data);
      const J = jacobian((v) => c.ours(v, consts), x);
      if (JSON.stringify(J.shape) !== JSON.stringify(t.shape)) problems.push(`${c.id}: shape ${JSON.stringify(J.shape)}, PyTorch ${JSON.stringify(t.shape)}`);
      if (J.dtype !== t.dtype) problems.push(`${c.id}: dtype ${J.dtype}, PyTorch ${t.dtype}`);
      const err = relError(Array.from(J.data), t.value);
      if (!(err <= tolerance(c.dtype))) problems.push(`${c.id}: values differ by ${err.toExponential(2)} (ours ${Array.from(J.data).slice(0, 4)}, PyTorch ${t.value.slice(0, 4)})`);
      assert.deepEqual(Array.from(x.data), before, `${c.id}: x unchanged`);
      assert.equal(x.grad, null, `${c.id}: x gets no gradient`);
    }
    assert.deepEqual(problems, []);
  });
});
