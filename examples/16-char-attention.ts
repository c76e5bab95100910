/**
 * 16 · A tiny character-level model: an embedding and one causal attention head predict the next
 * character of a short text from the eight before it.
 *
 * Lecture point: attention lets each position look back at the earlier ones and take a weighted
 * mix of them; the weights are softmax(q·kᵀ/√d), so the gradient flows to every position a query
 * attended to. The embeddings are rows of a table, and their gradient is scattered back to the
 * rows the batch used (a character that does not occur gets none).
 *
 * What to look at: the loss falling and the accuracy rising as the model learns which characters
 * follow which; in the graph, the embedding gathers, the attention group (its softmax over the
 * scores, masked above the diagonal) and the gradients of model.embed.weight, row by row.
 */
import { nn, optim, losses, data, defineTraining, tensor, type Tensor } from 'backprop-lens';

const text = 'the cat sat on the mat. the dog sat on the log. the cat and the dog sat on the mat. ';
const chars = [...new Set(text)].sort();
const context = 8;
const inputs: number[][] = [];
const next: number[] = [];
for (let i = 0; i + context < text.length; i++) {
  inputs.push([...text.slice(i, i + context)].map((c) => chars.indexOf(c)));
  next.push(chars.indexOf(text[i + context]));
}

class TinyAttention extends nn.Module {
  embed = nn.embedding(chars.length, 16, { seed: 1 });
  position = nn.embedding(context, 16, { seed: 2 });
  attention = nn.multiheadAttention(16, 1, { batchFirst: true, seed: 3 });
  head = nn.linear(16, chars.length, { seed: 4 });

  forward(x: Tensor): Tensor {
    const ids = x.to('int32'); // [N, 8] character indices
    const positions = tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int32' });
    const h = this.embed.forward(ids).add(this.position.forward(positions)); // [N, 8, 16]
    const mixed = this.attention.forward(h, h, h, { causal: true }); // each position sees itself and the ones before
    const last = mixed.slice([0, context - 1], [mixed.shape[0], context]).reshape(-1, 16); // the last position
    return this.head.forward(last); // logits for the next character
  }
}

export default defineTraining({
  model: new TinyAttention().named('model'),
  data: data.fromArrays(inputs, next, { task: 'multiclass' }),
  validation: 0.2,
  loss: losses.softmaxCrossEntropy,
  optimizer: optim.adam({ lr: 0.01 }),
  batchSize: 16,
  steps: 300,
  seed: 0,
});
