/**
 * 09 · Training a deep sigmoid network with small weights: the gradient vanishes.
 *
 * Six sigmoid layers of width 16 with weights from N(0, 0.01²). Backward, every layer multiplies
 * the gradient by Wᵀ·diag(σ′) with σ′ ≤ 0.25 and tiny W, so the first layer's weight gradient is
 * many orders of magnitude smaller than the last layer's and the early layers do not learn; the
 * loss stays near log 2 ≈ 0.693.
 *
 * What to look at: the diagnosis ("Gradients vanish with depth…"), the gradient-flow chart falling
 * off toward the input, and the suggested fixes. Apply them: `nn.relu()` instead of `nn.sigmoid()`
 * and `init: 'he'`, then train again.
 */
import { nn, optim, losses, data, defineTraining } from 'backprop-lens';

const width = 16;
const hidden: nn.Module[] = [];
for (let i = 0; i < 6; i++) hidden.push(nn.linear(i === 0 ? 2 : width, width, { init: 'normal', seed: 10 + i }), nn.sigmoid());

export default defineTraining({
  model: nn.sequential(...hidden, nn.linear(width, 1, { seed: 99 })).named('deep'),
  data: data.moons({ n: 200, noise: 0.1, seed: 0 }),
  loss: losses.bceWithLogits,
  optimizer: optim.sgd({ lr: 0.5 }),
  batchSize: 50,
  steps: 200,
});
