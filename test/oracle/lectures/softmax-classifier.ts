/** CS231n's linear softmax classifier: scores = X·W + b, cross-entropy on three labelled points. */
import { tensor, param, losses } from 'backprop-lens';

const X = tensor([[1, 2, -1, 0.5], [0.3, -0.7, 2, 1], [-1.5, 0.4, 0.2, -0.3]], { dtype: 'float64' });
const W = param([[0.2, -0.5, 0.1], [1.5, 1.3, 2.1], [0, 0.25, 0.2], [-0.3, 0.4, -1.1]], { dtype: 'float64' });
const b = param([1.1, 3.2, -1.2], { dtype: 'float64' });

const scores = X.matmul(W).add(b);
const loss = losses.softmaxCrossEntropy(scores, [2, 0, 1]);

export default loss;
