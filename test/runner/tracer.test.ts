/**
 * The tracer as seen through the runner: variable names, source locations (through the bundle's
 * source map, helper files included), module scopes, composite groups, backward step records and
 * forward order. Model files are written into a temporary folder; expected lines and columns are
 * read from the model text (marker comments), expected numbers derived by hand in the test.
 */
import * as assert from 'node:assert/strict';
import type { GraphSnapshot, SnapshotNode } from '../../engine/trace/snapshot';
import { assertClose, columnOf, expectOk, lineOf, node, nodesNamed, numbers, runModel, useRunner, useTempDir, writeFile } from './helpers';

function groupPath(s: GraphSnapshot, n: SnapshotNode): string[] {
  const out: string[] = [];
  for (let g = n.group; g !== null; g = s.groups[g].parent) out.push(s.groups[g].name);
  return out;
}

describe('tracer (through the runner)', function () {
  const runner = useRunner();
  const tmp = useTempDir('bpl-tracer-');

  describe('variable names', () => {
    const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(2);
const y = scalar(3);
const z = scalar(-1);
const q = x.add(y); // @q
const f = x.add(y).mul(z); // @chain
const g = x.mul(y).named('h'); // @named
let t = q.mul(z); // @let
t = t.tanh(); // @reassign
export default f.add(g).add(t).add(q);
`;
    let s: GraphSnapshot;
    before(async () => {
      s = expectOk((await runModel(runner(), tmp(), 'names.ts', MODEL)).out);
    });

    it('`const q = x.add(y)` names the add node q', () => {
      const q = node(s, 'q');
      assert.equal(q.op, 'add');
      assert.equal(q.label, 'q');
      assert.deepEqual(q.inputs, [node(s, 'x').id, node(s, 'y').id]);
    });

    it('leaves created by scalar() take their variable names', () => {
      for (const n of ['x', 'y', 'z']) assert.equal(node(s, n).op, 'leaf', n);
      assert.equal(node(s, 'x').scalar, 2);
    });

    it('a chained `x.add(y).mul(z)` names only the outer result', () => {
      const f = node(s, 'f');
      assert.equal(f.op, 'mul');
      const inner = s.nodes[f.inputs[0]];
      assert.equal(inner.op, 'add');
      assert.equal(inner.name, null, 'the inner add has no name');
      assert.equal(inner.source?.line, lineOf(MODEL, '// @chain'));
    });

    it('.named() overrides the variable name', () => {
      assert.equal(nodesNamed(s, 'g').length, 0, 'no node named g');
      const h = node(s, 'h');
      assert.equal(h.op, 'mul');
      assert.equal(h.source?.line, lineOf(MODEL, '// @named'));
    });

    it('`let t = …; t = t.tanh()` names both nodes t', () => {
      const ts = nodesNamed(s, 't').sort((a, b) => a.id - b.id);
      assert.deepEqual(ts.map((n) => n.op), ['mul', 'tanh']);
      assert.deepEqual(ts.map((n) => n.source?.line), [lineOf(MODEL, '// @let'), lineOf(MODEL, '// @reassign')]);
      assert.deepEqual(ts[1].inputs, [ts[0].id]);
    });

    it('unnamed nodes are labelled with their op symbol and have name null', () => {
      const out = s.nodes[s.output];
      assert.equal(out.name, null, '`export default <expr>` binds no user name');
      assert.ok(out.label.length > 0);
    });
  });

  describe('helper files and classes', () => {
    const HELPER = `import type { Tensor } from 'backprop-lens';
/** w·x + b, written as two ops. */
export function affine(x: Tensor, w: Tensor, b: Tensor): Tensor {
  const wx = x.mul(w); // @helper-mul
  return wx.add(b); // @helper-add
}
`;
    const MODEL = `import { scalar, Tensor } from 'backprop-lens';
import { affine } from './lib/affine';

class Neuron {
  out: Tensor | null = null;
  constructor(readonly w: Tensor, readonly b: Tensor) {}
  fire(x: Tensor): Tensor {
    this.out = affine(x, this.w, this.b).tanh(); // @field
    return this.out;
  }
}

const x = scalar(0.5);
const w = scalar(-2);
const b = scalar(0.25);
const y = affine(x, w, b); // @call
const neuron = new Neuron(w, b);
const act = neuron.fire(y);
export default act;
`;
    let s: GraphSnapshot;
    let modelFile: string;
    let helperFile: string;
    before(async () => {
      helperFile = writeFile(tmp(), 'lib/affine.ts', HELPER);
      const r = await runModel(runner(), tmp(), 'uses-helper.ts', MODEL);
      modelFile = r.file;
      s = expectOk(r.out);
      assert.ok(r.out.files.includes(helperFile), `the run lists the helper among its files: ${r.out.files}`);
    });

    it('a relatively imported helper works and its result is named at the call site', () => {
      const y = node(s, 'y');
      assert.equal(y.op, 'add');
      assertClose(y.scalar!, 0.5 * -2 + 0.25, 0, 'y = w·x + b');
    });

    it('nodes inside the helper carry the helper file and line', () => {
      const y = node(s, 'y');
      assert.equal(y.source?.file, helperFile);
      assert.equal(y.source?.line, lineOf(HELPER, '// @helper-add'));
      assert.equal(y.source?.column, columnOf(HELPER, '// @helper-add', 'add('));
      // the mul inside the helper is named after the helper's own variable
      const mul = s.nodes[y.inputs[0]];
      assert.equal(mul.op, 'mul');
      assert.equal(mul.source?.file, helperFile);
      assert.equal(mul.source?.line, lineOf(HELPER, '// @helper-mul'));
      assert.equal(mul.name, 'wx');
    });

    it('leaves in the model file point at the model file', () => {
      const x = node(s, 'x');
      assert.equal(x.source?.file, modelFile);
      assert.equal(x.source?.line, lineOf(MODEL, 'const x = scalar'));
      assert.equal(x.source?.column, columnOf(MODEL, 'const x = scalar', 'scalar('));
    });

    it('an assignment to a class field (`this.out = …`) names the node out', () => {
      const out = node(s, 'out');
      assert.equal(out.op, 'tanh');
      assert.equal(out.source?.file, modelFile);
      assert.equal(out.source?.line, lineOf(MODEL, '// @field'));
      assert.equal(out.id, s.output);
    });
  });

  it('a class field initializer (`h = x.tanh()`) names the node after the field', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(0.3);
class Layer {
  pre = x.mul(3); // @pre
  h = this.pre.tanh(); // @h
}
const layer = new Layer();
export default layer.h;
`;
    const s = expectOk((await runModel(runner(), tmp(), 'fields.ts', MODEL)).out);
    assert.equal(node(s, 'pre').source?.line, lineOf(MODEL, '// @pre'));
    assert.equal(node(s, 'h').op, 'tanh');
    assert.equal(node(s, 'h').source?.line, lineOf(MODEL, '// @h'));
  });

  it('source line and column of an op point at the method call', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';
const a = scalar(1.5);

const b = a.exp(); // @exp
const c =
  b.sub(a) // @sub
   .mul(2); // @mul
export default c;
`;
    const s = expectOk((await runModel(runner(), tmp(), 'columns.ts', MODEL)).out);
    const b = node(s, 'b');
    assert.equal(b.source?.line, lineOf(MODEL, '// @exp'));
    assert.equal(b.source?.column, columnOf(MODEL, '// @exp', 'exp('));
    const c = node(s, 'c');
    assert.equal(c.op, 'mul');
    assert.equal(c.source?.line, lineOf(MODEL, '// @mul'));
    assert.equal(c.source?.column, columnOf(MODEL, '// @mul', 'mul('));
    const sub = s.nodes[c.inputs[0]];
    assert.equal(sub.op, 'sub');
    assert.equal(sub.source?.line, lineOf(MODEL, '// @sub'));
    assert.equal(sub.source?.column, columnOf(MODEL, '// @sub', 'sub('));
  });

  it('module scopes from nn modules appear in `scope`', async () => {
    const MODEL = `import { nn, tensor, Tensor } from 'backprop-lens';
class Net extends nn.Module {
  body = nn.sequential(nn.linear(3, 4, { seed: 1 }), nn.tanh());
  head = nn.linear(4, 1, { seed: 2 });
  forward(x: Tensor): Tensor {
    return this.head.forward(this.body.forward(x));
  }
}
const net = new Net().named('net');
const x = tensor([[1, 2, 3]]);
const y = net.forward(x);
export default y.sum();
`;
    const s = expectOk((await runModel(runner(), tmp(), 'scopes.ts', MODEL)).out);
    const opsIn = (scope: string) => s.nodes.filter((n) => n.op !== 'leaf' && n.scope === scope).map((n) => n.op);
    assert.ok(opsIn('net.body.layers.0').includes('matmul'), `ops in net.body.layers.0: ${opsIn('net.body.layers.0')}`);
    assert.deepEqual(opsIn('net.body.layers.1'), ['tanh']);
    assert.ok(opsIn('net.head').includes('matmul'));
    const params = s.nodes.filter((n) => n.leaf === 'param');
    assert.equal(params.length, 4);
    assert.deepEqual(params.map((p) => p.scope).sort(), ['net.body.layers.0', 'net.body.layers.0', 'net.head', 'net.head']);
    assert.deepEqual(params.map((p) => p.name).sort(), ['bias', 'bias', 'weight', 'weight']);
    // the top-level sum is outside every module
    assert.equal(s.nodes[s.output].scope, null);
    // the module call is named at its call site
    assert.equal(node(s, 'y').scope, 'net.head');
  });

  it('a variable bound to a composite\'s result names the composite\'s output node (var, std-like chains, softmax, logSoftmax, mse)', async () => {
    const MODEL = `import { tensor, losses } from 'backprop-lens';
const out = tensor([[1, 2, 3], [4, 5, 9]], { requiresGrad: true, dtype: 'float64' });
const sigma2 = out.var(-1, true);
const biased = out.var(-1, true, 0);
const probs = out.softmax(-1);
const lsm = out.logSoftmax(-1);
const err = losses.mse(out, tensor([[0, 0, 0], [1, 1, 1]], { dtype: 'float64' }));
export default sigma2.sum().add(biased.sum()).add(probs.sum()).add(lsm.sum()).add(err);
`;
    const s = expectOk((await runModel(runner(), tmp(), 'composite-names.ts', MODEL)).out);
    const rows = [[1, 2, 3], [4, 5, 9]];
    const mean = (r: number[]) => r.reduce((a, b) => a + b, 0) / r.length;
    const squares = (r: number[]) => r.reduce((a, v) => a + (v - mean(r)) ** 2, 0);
    // var over the last axis, by hand: Σ(x − x̄)² / (n − 1), and / n with correction 0
    const sigma2 = node(s, 'sigma2');
    assert.deepEqual(sigma2.shape, [2, 1]);
    numbers(sigma2.value).forEach((v, i) => assertClose(v, squares(rows[i]) / 2, 1e-12, `sigma2[${i}]`));
    numbers(node(s, 'biased').value).forEach((v, i) => assertClose(v, squares(rows[i]) / 3, 1e-12, `biased[${i}]`));
    // the named node is the one the rest of the file used: the input of `sigma2.sum()`
    const sum = s.nodes.find((n) => n.op === 'sum' && n.inputs.length === 1 && n.inputs[0] === sigma2.id);
    assert.ok(sum, 'sigma2.sum() reads the node named sigma2');
    // no node inside the composites took the name
    for (const name of ['sigma2', 'biased', 'probs', 'lsm', 'err']) assert.equal(nodesNamed(s, name).length, 1, name);
    numbers(node(s, 'probs').value).forEach((v, i) => {
      const r = rows[Math.floor(i / 3)];
      assertClose(v, Math.exp(r[i % 3]) / r.reduce((a, x) => a + Math.exp(x), 0), 1e-12, `probs[${i}]`);
    });
    assert.deepEqual(node(s, 'lsm').shape, [2, 3]);
    assertClose(numbers(node(s, 'err').value)[0], (1 + 4 + 9 + 9 + 16 + 64) / 6, 1e-12, 'err');
  });

  it('composite ops record a named group (mse, linear)', async () => {
    const MODEL = `import { nn, tensor, losses } from 'backprop-lens';
const layer = nn.linear(2, 2, { seed: 3 });
const x = tensor([[1, -1], [0.5, 2]]);
const pred = layer.forward(x);
const loss = losses.mse(pred, tensor([[0, 1], [1, 0]])); // @mse
export default loss;
`;
    const s = expectOk((await runModel(runner(), tmp(), 'groups.ts', MODEL)).out);
    const loss = node(s, 'loss');
    assert.ok(groupPath(s, loss).includes('mse'), `loss groups: ${groupPath(s, loss)}`);
    const inMse = s.nodes.filter((n) => groupPath(s, n).includes('mse'));
    assert.ok(inMse.some((n) => n.op === 'square') && inMse.some((n) => n.op === 'sub'), `ops in mse: ${inMse.map((n) => n.op)}`);
    for (const n of inMse) assert.equal(n.source?.line, lineOf(MODEL, '// @mse'), `${n.op} in mse is located at the loss line`);
    const pred = node(s, 'pred');
    assert.ok(groupPath(s, pred).includes('linear'), `pred groups: ${groupPath(s, pred)}`);
    assert.equal(groupPath(s, s.nodes[pred.inputs[0]]).includes('mse'), false, 'the linear layer is not in the mse group');
    for (const g of s.groups) assert.ok(g.parent === null || g.parent < s.groups.length);
  });

  describe('backward step records', () => {
    // f = (x·x + x)·(x·x) = x⁴ + x³, so ∂f/∂x = 4x³ + 3x²: x fans out to three uses, a to two.
    const MODEL = `import { scalar, tensor } from 'backprop-lens';
const x = scalar(3);
const a = x.mul(x);
const b = a.add(x);
const f = b.mul(a);
const v = tensor([1, -2, 0.5], { dtype: 'float64', requiresGrad: true });
const s = v.mul(v).sum().add(v.sum()); // Σv² + Σv: ∂/∂v = 2v + 1
export default f.add(s);
`;
    let snap: GraphSnapshot;
    before(async () => {
      snap = expectOk((await runModel(runner(), tmp(), 'fanout.ts', MODEL)).out);
    });

    it('the gradients equal the hand-derived ones', () => {
      assert.equal(node(snap, 'x').scalarGrad, 4 * 27 + 3 * 9);
      assert.equal(node(snap, 'a').scalarGrad, 3 * 3 + 3 + 9); // ∂f/∂a = b + a
      assert.deepEqual(numbers(node(snap, 'v').grad), [3, -3, 2]);
    });

    it('the contributions to every node sum to its gradient', () => {
      const sums = new Map<number, number[]>();
      for (const step of snap.backward) {
        for (const i of step.inputs) {
          if (!i.contribution) continue;
          const c = numbers(i.contribution);
          const acc = sums.get(i.input);
          sums.set(i.input, acc ? acc.map((v, k) => v + c[k]) : c);
        }
      }
      let checked = 0;
      for (const n of snap.nodes) {
        if (n.id === snap.output || !n.grad) continue;
        const sum = sums.get(n.id);
        assert.ok(sum, `node ${n.id} (${n.label}) has a gradient but no contribution`);
        numbers(n.grad).forEach((g, k) => assertClose(sum[k], g, 1e-12, `node ${n.id} (${n.label})[${k}]`));
        checked++;
      }
      assert.ok(checked >= 8);
    });

    it('fan-out: later contributions are marked accumulated, with the running sum', () => {
      const x = node(snap, 'x').id;
      const toX = snap.backward.flatMap((st) => st.inputs.filter((i) => i.input === x));
      assert.equal(toX.length, 3, 'x is used three times (twice in a = x·x, once in b = a + x)');
      assert.deepEqual(toX.map((i) => i.accumulated), [false, true, true]);
      assert.equal(toX[0].previousGrad, null);
      let running = 0;
      for (const i of toX) {
        if (i.previousGrad) assert.equal(numbers(i.previousGrad)[0], running);
        running += numbers(i.contribution)[0];
        assert.equal(numbers(i.accumulatedGrad)[0], running);
      }
      assert.equal(running, node(snap, 'x').scalarGrad);
    });

    it('the local gradient of a mul input is the other input', () => {
      const f = node(snap, 'f');
      const step = snap.backward.find((st) => st.node === f.id)!;
      assert.deepEqual(numbers(step.upstreamGrad), [1]);
      const [toB, toA] = step.inputs;
      const local = (l: number | ArrayLike<number> | null) => (typeof l === 'number' ? l : numbers(l)[0]);
      assert.equal(local(toB.localGrad), node(snap, 'a').scalar);
      assert.equal(local(toA.localGrad), node(snap, 'b').scalar);
    });

    it('starts at the output and visits each op node once, after all its consumers', () => {
      assert.equal(snap.backward[0].node, snap.output);
      const seen = new Set<number>();
      const position = new Map<number, number>();
      snap.backward.forEach((st, k) => {
        assert.ok(!seen.has(st.node), `node ${st.node} stepped twice`);
        seen.add(st.node);
        position.set(st.node, k);
      });
      for (const st of snap.backward) {
        for (const i of st.inputs) {
          const later = position.get(i.input);
          if (later !== undefined) assert.ok(later > position.get(st.node)!, `input ${i.input} stepped before its consumer ${st.node}`);
        }
      }
    });
  });

  it('forward order lists every op node once, in increasing id order, inputs first', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(0.1);
let h = x;
for (let i = 0; i < 5; i++) h = h.mul(2).tanh();
export default h.add(x);
`;
    const s = expectOk((await runModel(runner(), tmp(), 'order.ts', MODEL)).out);
    const ops = s.nodes.filter((n) => n.op !== 'leaf').map((n) => n.id);
    assert.deepEqual([...s.forward].sort((a, b) => a - b), ops);
    for (let i = 1; i < s.forward.length; i++) assert.ok(s.forward[i - 1] < s.forward[i], 'forward ids increase');
    for (const n of s.nodes) {
      assert.equal(n.id, s.nodes.indexOf(n));
      for (const i of n.inputs) assert.ok(i < n.id, `node ${n.id} has input ${i} created after it`);
    }
    assert.equal(nodesNamed(s, 'h').length, 5, 'each `h = h.mul(2).tanh()` names its tanh h');
  });
});
