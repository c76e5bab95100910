/** Higher derivatives by repeated createGraph: the third derivative of x·eˣ at 0.5 is 3.5·e^0.5. */
import { scalar } from 'backprop-lens';

const x = scalar(0.5);
let y = x.mul(x.exp());
for (let k = 0; k < 3; k++) {
  y.backward({ createGraph: true });
  y = x.grad!;
  x.grad = null;
}

export default y;
