/**
 * 04 · A two-layer sigmoid network on a 3-vector, with tensors.
 *
 *   h = σ(W1·x + b1)   (4 hidden units)
 *   p = σ(W2·h + b2)   (one output probability)
 *   loss = bce(p, label)
 *
 * Lecture points:
 *   - The backward pass of a matrix product: ∂loss/∂W = upstream ⊗ input (an outer product), and
 *     ∂loss/∂input = Wᵀ · upstream. The gradient of W1 has W1's shape, [4, 3].
 *   - Each sigmoid multiplies the gradient by σ(1 − σ) ≤ 0.25: gradients shrink layer by layer.
 *
 * What to look at: the shapes on the edges ([4,3]·[3,1] → [4,1]), the gradient of W2 (one row,
 * proportional to h), and W1's gradient: smaller than W2's although W1 has three times the entries.
 */
import { tensor, param, losses } from 'backprop-lens';

// Input as a column vector [3, 1] and its label.
const x = tensor([[1], [-2], [0.5]], { dtype: 'float64' });
const label = tensor([[1]], { dtype: 'float64' });

// Parameters, written out so the lecture numbers are reproducible.
const W1 = param(
  [
    [0.1, -0.2, 0.3],
    [-0.4, 0.5, -0.6],
    [0.7, 0.8, -0.9],
    [0.2, -0.1, 0.4],
  ],
  { dtype: 'float64' },
);
const b1 = param([[0.1], [0], [-0.1], [0.2]], { dtype: 'float64' });
const W2 = param([[0.5, -0.6, 0.7, -0.8]], { dtype: 'float64' });
const b2 = param([[0.05]], { dtype: 'float64' });

// Layer 1.
const z1 = W1.matmul(x).add(b1);
const h = z1.sigmoid();

// Layer 2.
const z2 = W2.matmul(h).add(b2);
const p = z2.sigmoid();

const loss = losses.bce(p, label);

export default loss;
