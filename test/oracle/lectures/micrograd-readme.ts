/** micrograd's README example (Karpathy): g = 24.7041, ∂g/∂a = 138.8338, ∂g/∂b = 645.5773. */
import { scalar } from 'backprop-lens';

const a = scalar(-4);
const b = scalar(2);
let c = a.add(b);
let d = a.mul(b).add(b.pow(3));
c = c.add(c.add(1));
c = c.add(scalar(1).add(c).add(a.neg()));
d = d.add(d.mul(2).add(b.add(a).relu()));
d = d.add(scalar(3).mul(d).add(b.sub(a).relu()));
const e = c.sub(d);
const f = e.pow(2);
let g = f.div(2);
g = g.add(scalar(10).div(f));

export default g;
