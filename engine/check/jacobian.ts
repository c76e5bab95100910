/**
 * The Jacobian of a function of one tensor, with torch.autograd.functional.jacobian's semantics:
 * the result has shape [...f(x).shape, ...x.shape], J[i…][j…] = ∂f(x)[i…] / ∂x[j…], in f(x)'s
 * dtype; an output that does not depend on x gives a zero row (PyTorch's strict=False). One
 * backward pass per output element, each seeded with that element's one-hot vector (a row of J
 * is a vector–Jacobian product), so it is meant for small functions.
 */
import { backward } from '../autograd';
import { allocate } from '../dtype';
import { setGradEnabled } from '../ops/context';
import { Tensor, tensor, type TensorLike } from '../tensor';

/** J = ∂f(x)/∂x, shape [...f(x).shape, ...x.shape], as torch.autograd.functional.jacobian (x is not changed). */
export function jacobian(f: (x: Tensor) => Tensor, x: TensorLike): Tensor {
  const given = x instanceof Tensor ? x : tensor(x as number, { dtype: 'float64' });
  if (given.dtype === 'int32') throw new Error('jacobian: x must be float32 or float64 (int32 tensors have no gradient)');
  // a fresh leaf with x's values, as PyTorch differentiates with respect to a detached copy
  const leaf = tensor(Float64Array.from(given.data as ArrayLike<number>), { shape: [...given.shape], dtype: given.dtype, requiresGrad: true });
  const y = setGradEnabled(true, () => f(leaf));
  if (!(y instanceof Tensor)) throw new Error(`jacobian: f must return a tensor, got ${typeof y}`);
  const n = given.size, m = y.size;
  const out = allocate(y.dtype === 'int32' ? 'float32' : y.dtype, m * n);
  if (y.requiresGrad) {
    const seed = allocate(y.dtype, m);
    for (let i = 0; i < m; i++) {
      seed.fill(0);
      seed[i] = 1;
      leaf.grad = null;
      backward(y, { grad: Tensor.leaf(seed.slice(), y.shape), retainGraph: true });
      const row = leaf.grad as Tensor | null;
      if (row) out.set(row.data as ArrayLike<number>, i * n);
    }
  }
  return Tensor.leaf(out, [...y.shape, ...given.shape]);
}
