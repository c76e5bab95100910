/**
 * 03 · Linear regression with a ReLU, on one data point: y_hat = relu(w·x + b), squared error.
 *
 * Lecture points:
 *   - ∂loss/∂y_hat = 2·(y_hat − y): the error itself is the upstream gradient.
 *   - ReLU is a gate: it passes the gradient where its input was positive and blocks it otherwise.
 *     Change b to −5 and re-run: z becomes negative, every gradient before the ReLU turns 0
 *     (a "dead" unit that cannot learn from this point).
 *   - ∂loss/∂w = upstream · x, ∂loss/∂b = upstream · 1.
 *
 * What to look at: the gradient at `z` equals the gradient at `y_hat` (ReLU open), and
 * w's gradient is x times b's gradient.
 */
import { scalar } from 'backprop-lens';

// Model parameters.
const w = scalar(0.5);
const b = scalar(1);

// One data point: input 3, target 4.
const x = scalar(3);
const y = 4;

// Forward pass.
const wx = w.mul(x);
const z = wx.add(b);
const y_hat = z.relu();

// Squared error.
const err = y_hat.sub(y);
const loss = err.square();

export default loss;
