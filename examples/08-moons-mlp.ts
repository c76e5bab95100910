/**
 * 08 · A 2-16-1 ReLU network learns the two-moons dataset.
 *
 * Lecture point: a linear model cannot separate the moons; one hidden ReLU layer bends the boundary.
 * He initialization keeps the ReLU activations' variance steady; Adam adapts each weight's step.
 * The loss is binary cross-entropy on logits (stable for large |logit|). A fifth of the points is
 * held out, so the validation loss shows whether the model generalizes.
 *
 * What to look at: the falling loss curve (train and validation), the per-layer histograms of
 * weights and gradients over steps, and the gradient-flow chart: both layers receive gradient of a
 * similar size, so nothing vanishes. Try `--optimizer sgd --lr 0.1` from the CLI to compare.
 */
import { nn, optim, losses, data, defineTraining } from 'backprop-lens';

export default defineTraining({
  model: nn.sequential(nn.linear(2, 16, { init: 'he', seed: 1 }), nn.relu(), nn.linear(16, 1, { seed: 2 })).named('model'),
  data: data.moons({ n: 200, noise: 0.1, seed: 0 }),
  validation: 0.2,
  loss: losses.bceWithLogits,
  optimizer: optim.adam({ lr: 0.01 }),
  batchSize: 32,
  steps: 500,
  seed: 0,
});
