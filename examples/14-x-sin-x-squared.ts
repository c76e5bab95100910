/**
 * 14 · f(x) = x · sin(x²) + 1 at x = −2 — the lecture notes' first worked example of a derivative
 * computed by the chain rule.
 *
 * By hand: f′(x) = sin(x²) + x · cos(x²) · 2x = sin(x²) + 2x² · cos(x²)
 *   f(−2)  = −2 · sin(4) + 1 ≈ 2.514
 *   f′(−2) = sin(4) + 8 · cos(4) ≈ −0.757 − 5.229 ≈ −5.99
 * so the tangent line at x = −2 is y ≈ 2.514 − 5.99 · (x + 2): near −2, f falls about 6 for each
 * unit x grows.
 *
 * What to look at: ∂f/∂x on x is that slope, −5.99. Step the backward pass: x gets three
 * contributions, one through the product (sin(x²) ≈ −0.757) and two through sin and the square
 * x · x (each x · cos(x²) · x ≈ −2.615); their sum is the slope.
 */
import { scalar } from 'backprop-lens';

const x = scalar(-2);

const square = x.mul(x);
const sine = square.sin();
const product = x.mul(sine);
const f = product.add(1);

export default f;
