/**
 * 07 · Gradient descent on f(x) = x², starting at x = 10.
 *
 * Lecture point: a gradient step is x ← x − lr·f′(x) = x − lr·2x = (1 − 2·lr)·x. With lr = 0.2 every
 * step multiplies x by 0.6, so after 10 steps x = 10·0.6¹⁰ ≈ 0.0605 and the loss falls
 * geometrically. Try lr = 0.5 (one step to the minimum), 0.9 (oscillation) or 1.1 (divergence).
 *
 * What to look at: run **Train** in the panel, or `npx backprop-lens train examples/07-minimize-quadratic.ts`;
 * the graph view shows one step's graph: x → pow → loss, with ∂loss/∂x = 2x = 20.
 */
import { param, optim, defineTraining } from 'backprop-lens';

const x = param(10).named('x');

export default defineTraining({
  params: [x],
  loss: () => x.pow(2),
  optimizer: optim.sgd({ lr: 0.2 }),
  steps: 10,
});
