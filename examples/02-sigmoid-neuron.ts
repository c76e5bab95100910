/**
 * 02 · A single sigmoid neuron with logistic (binary cross-entropy) loss.
 *
 * CS231n's example: weights w = [2, −3, −3] (w2 is the bias), input x = [−1, −2].
 *   dot = w0·x0 + w1·x1 + w2 = 1,  p = σ(dot) ≈ 0.731
 * Lecture points:
 *   - σ'(dot) = p·(1 − p): the sigmoid's local gradient is written in terms of its own output.
 *   - With the logistic loss, ∂loss/∂dot = p − label: the σ' factor cancels against the log.
 *   - ∂loss/∂w_i = (p − label) · x_i: inputs scale the gradient of the weights they multiply.
 *
 * What to look at: the gradient arriving at `dot` (≈ −0.269 for label 1), the gradients of the
 * weights (w0 ≈ 0.269, w1 ≈ 0.538, w2 ≈ −0.269), and the expanded BCE group after `p`.
 */
import { scalar, param, losses } from 'backprop-lens';

// Parameters: the neuron's two weights and its bias w2 (float64, so the numbers are exact).
const w0 = param(2, { dtype: 'float64' });
const w1 = param(-3, { dtype: 'float64' });
const w2 = param(-3, { dtype: 'float64' });

// One data point and its label (inputs do not need gradients, but tracking them shows ∂loss/∂x).
const x0 = scalar(-1);
const x1 = scalar(-2);
const label = 1;

// Forward: weighted sum, then squash.
const wx0 = w0.mul(x0);
const wx1 = w1.mul(x1);
const sum01 = wx0.add(wx1);
const dot = sum01.add(w2);
const p = dot.sigmoid();

// Logistic loss: −[label·log p + (1 − label)·log(1 − p)].
const loss = losses.bce(p, label);

export default loss;
