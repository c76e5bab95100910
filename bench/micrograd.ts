/**
 * A faithful TypeScript port of Karpathy's micrograd (engine.py + nn.py): one object per scalar
 * with a `_backward` closure, topological sort by recursive DFS over a visited Set. It is the
 * "micrograd-style scalar baseline" for benchmark (c): the same 2-16-16-1 MLP, the same weights (same
 * seeded draws as the engine's copy) and the same max-margin loss, so the first-step losses must agree.
 */
import { Rng } from '../engine';

export class Value {
  grad = 0;
  _backward: () => void = () => {};
  constructor(
    public data: number,
    readonly _prev: Value[] = [],
    readonly _op = '',
  ) {}

  add(other: Value | number): Value {
    const o = other instanceof Value ? other : new Value(other);
    const out = new Value(this.data + o.data, [this, o], '+');
    out._backward = () => {
      this.grad += out.grad;
      o.grad += out.grad;
    };
    return out;
  }

  mul(other: Value | number): Value {
    const o = other instanceof Value ? other : new Value(other);
    const out = new Value(this.data * o.data, [this, o], '*');
    out._backward = () => {
      this.grad += o.data * out.grad;
      o.grad += this.data * out.grad;
    };
    return out;
  }

  relu(): Value {
    const out = new Value(this.data < 0 ? 0 : this.data, [this], 'ReLU');
    out._backward = () => {
      this.grad += (out.data > 0 ? 1 : 0) * out.grad;
    };
    return out;
  }

  neg(): Value {
    return this.mul(-1);
  }

  sub(other: Value | number): Value {
    return this.add(other instanceof Value ? other.neg() : -other);
  }

  backward(): void {
    const topo: Value[] = [];
    const visited = new Set<Value>();
    const build = (v: Value) => {
      if (visited.has(v)) return;
      visited.add(v);
      for (const child of v._prev) build(child);
      topo.push(v);
    };
    build(this);
    this.grad = 1;
    for (let i = topo.length - 1; i >= 0; i--) topo[i]._backward();
  }
}

interface Neuron {
  w: Value[];
  b: Value;
  nonlin: boolean;
}

/**
 * The initial weights of micrograd's MLP(2, [16, 16, 1]) for `seed`: uniform(−1, 1) per weight,
 * bias 0, ReLU on the hidden layers. The engine's copy in engine.ts builds from the same draws.
 */
export function scalarMlpWeights(seed: number): { w: number[]; nonlin: boolean }[][] {
  const rng = new Rng(seed);
  const sizes = [2, 16, 16, 1];
  return sizes.slice(1).map((n, l) =>
    Array.from({ length: n }, () => ({ w: Array.from({ length: sizes[l] }, () => 2 * rng.uniform() - 1), nonlin: l + 2 < sizes.length })),
  );
}

/** micrograd's MLP(2, [16, 16, 1]) with the weights of scalarMlpWeights(seed). */
export function microgradMlp(seed: number) {
  const layers: Neuron[][] = scalarMlpWeights(seed).map((layer) => layer.map((n) => ({ w: n.w.map((v) => new Value(v)), b: new Value(0), nonlin: n.nonlin })));
  const params = layers.flatMap((layer) => layer.flatMap((n) => [...n.w, n.b]));
  const forward = (x: (Value | number)[]): Value => {
    let h: (Value | number)[] = x;
    for (const layer of layers) {
      h = layer.map((n) => {
        let act: Value = n.b;
        for (let i = 0; i < n.w.length; i++) act = act.add(n.w[i].mul(h[i]));
        return n.nonlin ? act.relu() : act;
      });
    }
    return h[0] as Value;
  };
  return { params, forward };
}

/** One SGD step of micrograd's demo loss: mean relu(1 − yᵢ·scoreᵢ) + 1e-4·Σp². */
export function microgradRunner(xs: [number, number][], ys: number[], seed: number, lr: number) {
  const model = microgradMlp(seed);
  return (): number => {
    let dataLoss: Value | null = null;
    for (let i = 0; i < xs.length; i++) {
      const score = model.forward(xs[i]);
      const li = new Value(1).sub(score.mul(ys[i])).relu();
      dataLoss = dataLoss ? dataLoss.add(li) : li;
    }
    dataLoss = dataLoss!.mul(1 / xs.length);
    let reg: Value | null = null;
    for (const p of model.params) reg = reg ? reg.add(p.mul(p)) : p.mul(p);
    const total = dataLoss.add(reg!.mul(1e-4));
    for (const p of model.params) p.grad = 0;
    total.backward();
    for (const p of model.params) p.data -= lr * p.grad;
    return total.data;
  };
}
