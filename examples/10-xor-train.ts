/**
 * 10 · XOR, trained: a 2-4-1 tanh network on the four XOR points, full batch.
 *
 * Lecture point: XOR is not linearly separable (Minsky & Papert); one hidden layer of four tanh
 * units solves it. With full-batch Adam the loss drops from ≈ 0.69 to near 0 within a few hundred
 * steps. Compare with 06-xor-mlp.ts, which shows the same network's graph at initialization.
 *
 * What to look at: the loss curve, and the final parameters (`backprop-lens train … --json`).
 */
import { nn, optim, losses, data, defineTraining } from 'backprop-lens';

export default defineTraining({
  model: nn.sequential(nn.linear(2, 4, { init: 'xavier', seed: 3 }), nn.tanh(), nn.linear(4, 1, { seed: 4 })).named('mlp'),
  data: data.xor(),
  loss: losses.bceWithLogits,
  optimizer: optim.adam({ lr: 0.05 }),
  steps: 300,
});
