/**
 * 06 · XOR with a small MLP (2 → 4 → 1, tanh then sigmoid), forward + loss at initialization.
 *
 * XOR is the classic problem a single linear unit cannot solve: the two classes are not separable
 * by a line. One hidden layer bends the input space so that the output layer can separate them.
 *
 * Lecture points:
 *   - A batch: four points go through the same weights at once; a parameter's gradient is the sum
 *     of the contributions of the four points (look at how the matmul's backward sums over rows).
 *   - At initialization the predictions are near 0.5 and the loss is near log 2 ≈ 0.693.
 *
 * What to look at: the batch dimension [4, …] on every edge, the hidden activations `h`, the
 * predictions `p`, and the gradients of the four parameters. (Training arrives with optim.)
 */
import { tensor, nn, losses } from 'backprop-lens';

// The four XOR points and their labels.
const X = tensor([[0, 0], [0, 1], [1, 0], [1, 1]], { dtype: 'float64' });
const Y = tensor([[0], [1], [1], [0]], { dtype: 'float64' });

// Two layers; default init (PyTorch's uniform ±1/√fanIn), seeded for a stable picture.
const hidden = nn.linear(2, 4, { dtype: 'float64', seed: 1 }).named('hidden');
const output = nn.linear(4, 1, { dtype: 'float64', seed: 2 }).named('output');

const z1 = hidden.forward(X);
const h = z1.tanh();
const z2 = output.forward(h);
const p = z2.sigmoid();

const loss = losses.bce(p, Y);

export default loss;
