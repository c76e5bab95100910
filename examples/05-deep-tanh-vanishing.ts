/**
 * 05 · Vanishing gradients in a deep tanh stack with small random weights.
 *
 * Ten tanh layers of width 24, weights drawn from N(0, 0.05²). Going backward, each layer
 * multiplies the gradient by Wᵀ·diag(1 − h²); with weights this small that factor has a norm of
 * about 0.05·√24 ≈ 0.25, so the gradient shrinks geometrically on its way to the first layer.
 *
 * Lecture points:
 *   - Forward, the activations collapse toward 0 layer after layer (look at each `h`'s std).
 *   - Backward, the gradient of each layer's output `h` and of each bias shrinks by ~4× per layer:
 *     compare the bias in scope `layer9` with the one in `layer0` (more than five orders of
 *     magnitude apart). The bias gradient is the layer's "speed of learning" (Nielsen, Neural
 *     Networks and Deep Learning, ch. 5): the first layers barely learn.
 *   - The weight gradients are ∂loss/∂z ⊗ (input of the layer): a vanishing gradient times a
 *     vanishing activation, so they are tiny (~1e-6) in every layer. With a better init (try
 *     `init: 'xavier'`, std ≈ 1/√width) activations and gradients both keep their scale.
 *
 * What to look at: the gradient norms of `h` and of the biases from the last layer to the first,
 * and the module scopes (`layer0` … `layer9`) that group each layer's ops.
 */
import { nn, randn, init, losses } from 'backprop-lens';

const depth = 10;
const width = 24;

// Small random weights: N(0, 0.05²), seeded, float64 so even tiny gradients stay exact.
const smallNormal = (shape: number[], opts: { seed?: number }) => init.normal(shape, { ...opts, std: 0.05, dtype: 'float64' });

const layers: nn.Linear[] = [];
for (let i = 0; i < depth; i++) {
  layers.push(nn.linear(width, width, { init: smallNormal, dtype: 'float64', seed: 100 + i }).named(`layer${i}`));
}

// A batch of 4 random inputs and a random regression target.
const x = randn([4, width], { dtype: 'float64', seed: 1 });
const target = randn([4, width], { dtype: 'float64', seed: 2 });

// The stack: z = h·Wᵀ + b, h = tanh(z), ten times.
let h = x;
for (const layer of layers) {
  const z = layer.forward(h);
  h = z.tanh();
}

const loss = losses.mse(h, target);

export default loss;
