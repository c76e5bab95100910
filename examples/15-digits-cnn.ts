/**
 * 15 · A small CNN learns handwritten digits (8×8 pixels, ten classes).
 *
 * Lecture point: a convolution shares one small filter across the whole image, so a layer with 80
 * weights finds strokes anywhere; max pooling halves the resolution and keeps the strongest
 * response; two conv + pool blocks turn 8×8 pixels into 16 features of 2×2 for a linear head.
 * The data is the UCI optical digits (1,797 images; 1,078 to train, 360 to validate, 359 to test).
 *
 * What to look at: the validation accuracy climbing past 95% within a few hundred steps; the
 * per-layer histograms and the gradient flow of cnn.conv1, cnn.conv2 and cnn.head; in the graph,
 * each conv layer is a group (unfold, which lays its windows out as columns, one matmul, the bias).
 */
import { nn, optim, losses, data, defineTraining, type Tensor } from 'backprop-lens';

class DigitsCNN extends nn.Module {
  conv1 = nn.conv2d(1, 8, 3, { padding: 1, seed: 1 });
  conv2 = nn.conv2d(8, 16, 3, { padding: 1, seed: 2 });
  relu = nn.relu();
  pool = nn.maxPool2d(2);
  head = nn.linear(16 * 2 * 2, 10, { seed: 3 });

  forward(x: Tensor): Tensor {
    let h = x.reshape(-1, 1, 8, 8); // each row of 64 pixels as a 1-channel image
    h = this.pool.forward(this.relu.forward(this.conv1.forward(h))); // [N, 8, 4, 4]
    h = this.pool.forward(this.relu.forward(this.conv2.forward(h))); // [N, 16, 2, 2]
    return this.head.forward(h.reshape(-1, 16 * 2 * 2)); // ten logits
  }
}

export default defineTraining({
  model: new DigitsCNN().named('cnn'),
  // the test set is evaluated once, at the end
  data: { train: data.digits({ split: 'train' }), validation: data.digits({ split: 'validation' }), test: data.digits({ split: 'test' }) },
  loss: losses.softmaxCrossEntropy,
  optimizer: optim.adam({ lr: 0.01 }),
  batchSize: 32,
  steps: 400,
  seed: 0,
});
