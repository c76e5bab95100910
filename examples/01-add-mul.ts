/**
 * 01 · f = (x + y) · z — the first circuit of CS231n's backpropagation lecture.
 *
 * Lecture point: backprop is the chain rule applied locally, node by node.
 *   q = x + y = 3,  f = q · z = −12
 *   ∂f/∂z = q = 3,  ∂f/∂q = z = −4
 *   ∂f/∂x = ∂f/∂q · ∂q/∂x = −4 · 1 = −4, and likewise ∂f/∂y = −4
 *
 * What to look at: the add node is a "gradient distributor" (it passes −4 unchanged to x and y),
 * the mul node is a "gradient switcher" (each input gets the *other* input's value times upstream).
 * Step the backward pass to watch −4 flow from f through q into x and y.
 */
import { scalar } from 'backprop-lens';

// Inputs: float64 scalars that track gradients, so the numbers are exact.
const x = scalar(-2);
const y = scalar(5);
const z = scalar(-4);

// Forward pass, one named intermediate per line.
const q = x.add(y);
const f = q.mul(z);

export default f;
