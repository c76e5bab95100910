/** CS231n's sigmoid circuit f(w, x) = 1 / (1 + e^−(w0·x0 + w1·x1 + w2)), written with exp and div. */
import { scalar } from 'backprop-lens';

const w0 = scalar(2);
const x0 = scalar(-1);
const w1 = scalar(-3);
const x1 = scalar(-2);
const w2 = scalar(-3);

const dot = w0.mul(x0).add(w1.mul(x1)).add(w2);
const f = scalar(1).div(scalar(1).add(dot.neg().exp()));

export default f;
