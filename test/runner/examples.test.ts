/**
 * The lecture examples in examples/: each traces cleanly, and the classic ones give the numbers the
 * lectures publish (01) or that a hand computation in plain JS gives (02). Names in the graph are
 * the variable names written in the files; their lines are read from the files themselves.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GraphSnapshot } from '../../engine/trace/snapshot';
import { ROOT, assertClose, expectOk, node, nodesNamed, numbers, useRunner } from './helpers';

const EXAMPLES = path.join(ROOT, 'examples');
const exampleFiles = fs.readdirSync(EXAMPLES).filter((f) => /\.(ts|mts|js|mjs)$/.test(f)).sort();
const allExamples = fs.readdirSync(EXAMPLES).filter((f) => /^\d\d-/.test(f)).sort();

/** Key variables of each example: every one must show up as a node of that name. */
const KEY_NAMES: Record<string, string[]> = {
  '01-add-mul.ts': ['x', 'y', 'z', 'q', 'f'],
  '02-sigmoid-neuron.ts': ['w0', 'w1', 'w2', 'x0', 'x1', 'wx0', 'wx1', 'sum01', 'dot', 'p', 'loss'],
  '03-linear-relu-regression.ts': ['w', 'b', 'x', 'wx', 'z', 'y_hat', 'err', 'loss'],
  '04-two-layer-sigmoid.ts': ['x', 'label', 'W1', 'b1', 'W2', 'b2', 'z1', 'h', 'z2', 'p', 'loss'],
  '05-deep-tanh-vanishing.ts': ['x', 'target', 'z', 'h', 'loss'],
  '06-xor-mlp.ts': ['X', 'Y', 'z1', 'h', 'z2', 'p', 'loss'],
  '14-x-sin-x-squared.ts': ['x', 'square', 'sine', 'product', 'f'],
};

/** Lines of `const NAME =`, `let NAME =` or `NAME =` in a source text. */
function bindingLines(text: string, name: string): number[] {
  const re = new RegExp(`^\\s*(?:(?:const|let|var)\\s+)?${name.replace(/\$/g, '\\$')}\\s*(?::[^=]+)?=[^=]`);
  return text.split(/\r?\n/).flatMap((l, i) => (re.test(l) ? [i + 1] : []));
}

describe('examples/', function () {
  const runner = useRunner();
  const snapshots = new Map<string, GraphSnapshot>();
  const snap = async (file: string): Promise<GraphSnapshot> => {
    let s = snapshots.get(file);
    if (!s) {
      s = expectOk(await runner().run(path.join(EXAMPLES, file)));
      snapshots.set(file, s);
    }
    return s;
  };

  it('has the six lecture examples and a README listing each of them', () => {
    for (const f of Object.keys(KEY_NAMES)) assert.ok(exampleFiles.includes(f), `examples/${f} is missing`);
    const readme = fs.readFileSync(path.join(EXAMPLES, 'README.md'), 'utf8');
    for (const f of allExamples) assert.ok(readme.includes(f), `examples/README.md does not mention ${f}`);
  });

  for (const file of exampleFiles) {
    describe(file, () => {
      it('traces without errors to a scalar output with a gradient', async () => {
        const s = await snap(file);
        const out = s.nodes[s.output];
        assert.equal(out.size, 1, `output shape [${out.shape}]`);
        assert.equal(out.scalarGrad, 1, 'backward starts with ∂out/∂out = 1');
        assert.ok(s.backward.length > 0, 'a backward pass ran');
        const broken = s.diagnosis.filter((d) => d.severity === 'error' || d.code.startsWith('nonfinite'));
        assert.deepEqual(broken.map((d) => d.message), [], 'no errors or non-finite values in a lecture example');
        for (const n of s.nodes) {
          assert.ok(n.stats.nan === 0 && n.stats.inf === 0, `node ${n.id} (${n.label}) has non-finite values`);
          if (n.requiresGrad && n.op !== 'leaf') assert.ok(n.gradStats, `node ${n.id} (${n.label}) has no gradient`);
        }
        assert.ok(s.nodes.length < 300, `${s.nodes.length} nodes: keep lecture graphs readable`);
      });

      it('has a header comment and ends with a default export', () => {
        const text = fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
        assert.match(text, /^\/\*\*[\s\S]*?What to look at/, 'header comment with "What to look at"');
        assert.match(text, /from 'backprop-lens'/);
        assert.match(text.trimEnd(), /export default (\w+;|defineTraining\(\{[\s\S]*\}\);)$/);
      });

      const keys = KEY_NAMES[file];
      if (keys) {
        it('names the key nodes after the variables, at the lines that bind them', async () => {
          const s = await snap(file);
          const text = fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
          for (const name of keys) {
            const found = nodesNamed(s, name);
            assert.ok(found.length > 0, `no node named ${name}`);
            const lines = bindingLines(text, name);
            assert.ok(lines.length > 0, `${name} is not bound in ${file}`);
            for (const n of found) {
              assert.equal(n.source?.file, path.join(EXAMPLES, file), `${name}: source file`);
              assert.ok(lines.includes(n.source!.line), `${name} (node ${n.id}) is at line ${n.source!.line}, expected one of ${lines}`);
            }
          }
        });
      }
    });
  }

  it("14: f(x) = x·sin(x²) + 1 at x = −2: the lecture's f′(−2) ≈ −5.99 as the sum of its three contributions", async () => {
    const s = await snap('14-x-sin-x-squared.ts');
    const x = -2;
    const slope = Math.sin(x * x) + 2 * x * x * Math.cos(x * x);
    assert.equal(Number(slope.toFixed(2)), -5.99, 'the notes round it to −5.99');
    assertClose(node(s, 'f').scalar!, x * Math.sin(x * x) + 1, 1e-15, 'f(−2)');
    assertClose(node(s, 'x').scalarGrad!, slope, 1e-15, 'f′(−2)');
    // x's two contributions: through the product (sin x²) and through the square (x·cos x²·2x)
    const x0 = node(s, 'x').id;
    const parts = s.backward.flatMap((st) => st.inputs.filter((i) => i.input === x0).map((i) => numbers(i.contribution)[0]));
    assert.equal(parts.length, 3, 'the product sends one contribution, the square two (x·x)');
    assertClose(parts.reduce((a, b) => a + b, 0), slope, 1e-15, 'the contributions sum to the slope');
  });

  it('01: f = (x + y)·z gives the published numbers', async () => {
    const s = await snap('01-add-mul.ts');
    const v = (n: string) => node(s, n).scalar;
    const g = (n: string) => node(s, n).scalarGrad;
    assert.deepEqual([v('x'), v('y'), v('z'), v('q'), v('f')], [-2, 5, -4, 3, -12]);
    assert.deepEqual([g('x'), g('y'), g('z'), g('q'), g('f')], [-4, -4, 3, -4, 1]);
    assert.equal(node(s, 'q').op, 'add');
    assert.equal(node(s, 'f').op, 'mul');
    assert.equal(s.output, node(s, 'f').id);
    assert.deepEqual(node(s, 'f').inputs, [node(s, 'q').id, node(s, 'z').id]);
  });

  it('02: the sigmoid neuron matches a hand computation with plain numbers', async () => {
    const s = await snap('02-sigmoid-neuron.ts');
    const [w0, w1, w2, x0, x1, label] = [2, -3, -3, -1, -2, 1];
    for (const [n, want] of [['w0', w0], ['w1', w1], ['w2', w2], ['x0', x0], ['x1', x1]] as const) assert.equal(node(s, n).scalar, want, n);
    const dot = w0 * x0 + w1 * x1 + w2;
    const p = 1 / (1 + Math.exp(-dot));
    const loss = -(label * Math.log(p) + (1 - label) * Math.log(1 - p));
    // ∂loss/∂p = −label/p + (1 − label)/(1 − p); ∂p/∂dot = p(1 − p)
    const dp = -label / p + (1 - label) / (1 - p);
    const ddot = dp * p * (1 - p);
    const close = (name: string, value: number, grad: number) => {
      assertClose(node(s, name).scalar!, value, 1e-12, `${name} value`);
      assertClose(node(s, name).scalarGrad!, grad, 1e-12, `${name} grad`);
    };
    close('dot', dot, ddot);
    close('p', p, dp);
    close('loss', loss, 1);
    close('w0', w0, ddot * x0);
    close('w1', w1, ddot * x1);
    close('w2', w2, ddot);
    close('x0', x0, ddot * w0);
    close('x1', x1, ddot * w1);
    assertClose(ddot, p - label, 1e-12, 'logistic loss: ∂loss/∂dot = p − label');
    assert.equal(node(s, 'p').op, 'sigmoid');
    // the loss is a bce composite, shown as a group
    const groupOfLoss = node(s, 'loss').group;
    const groupNames: string[] = [];
    for (let g = groupOfLoss; g !== null; g = s.groups[g].parent) groupNames.push(s.groups[g].name);
    assert.ok(groupNames.includes('bce'), `loss groups: ${groupNames}`);
  });

  it('03: ReLU regression gradients follow the chain rule', async () => {
    const s = await snap('03-linear-relu-regression.ts');
    const [w, b, x] = ['w', 'b', 'x'].map((n) => node(s, n).scalar!);
    const target = node(s, 'err').inputs.map((i) => s.nodes[i]).find((n) => n.op === 'leaf')!.scalar!;
    const z = w * x + b;
    const yHat = Math.max(0, z);
    const dyHat = 2 * (yHat - target);
    const dz = z > 0 ? dyHat : 0;
    assertClose(node(s, 'loss').scalar!, (yHat - target) ** 2, 1e-12, 'loss');
    assertClose(node(s, 'y_hat').scalarGrad!, dyHat, 1e-12, '∂loss/∂y_hat');
    assertClose(node(s, 'w').scalarGrad!, dz * x, 1e-12, '∂loss/∂w');
    assertClose(node(s, 'b').scalarGrad!, dz, 1e-12, '∂loss/∂b');
  });

  it('04: parameter gradients have the parameters’ shapes', async () => {
    const s = await snap('04-two-layer-sigmoid.ts');
    for (const n of ['W1', 'b1', 'W2', 'b2']) {
      const p = node(s, n);
      assert.equal(p.leaf, 'param', n);
      assert.equal(numbers(p.grad).length, p.size, `${n} gradient size`);
    }
    assert.deepEqual(node(s, 'W1').shape, [4, 3]);
    // ∂loss/∂W2 = ∂loss/∂z2 · hᵀ (outer product of a [1,1] and a [1,4])
    const dz2 = node(s, 'z2').scalarGrad!;
    const h = numbers(node(s, 'h').value);
    numbers(node(s, 'W2').grad).forEach((g, i) => assertClose(g, dz2 * h[i], 1e-12, `W2.grad[${i}]`));
  });

  it('05: gradient norms shrink from the last layer to the first (vanishing gradients)', async () => {
    const s = await snap('05-deep-tanh-vanishing.ts');
    const layerOf = (scope: string | null): number => Number(/layer(\d+)$/.exec(scope ?? '')?.[1] ?? NaN);
    const biases = s.nodes.filter((n) => n.name === 'bias').sort((a, b) => layerOf(a.scope) - layerOf(b.scope));
    assert.ok(biases.length >= 8, `a deep stack: ${biases.length} layers`);
    assert.deepEqual(biases.map((b) => layerOf(b.scope)), biases.map((_, i) => i), 'bias scopes are layer0…layerN');
    const biasNorms = biases.map((b) => b.gradStats?.norm ?? NaN);
    for (let i = 1; i < biasNorms.length; i++) {
      assert.ok(biasNorms[i - 1] < biasNorms[i], `bias grad norm of layer${i - 1} (${biasNorms[i - 1]}) < layer${i} (${biasNorms[i]})`);
    }
    // the gradient of each layer's output h, in forward order, grows toward the output
    const hs = nodesNamed(s, 'h').sort((a, b) => a.id - b.id);
    assert.equal(hs.length, biases.length);
    const hNorms = hs.map((h) => h.gradStats?.norm ?? NaN);
    for (let i = 1; i < hNorms.length; i++) assert.ok(hNorms[i - 1] < hNorms[i], `‖∂loss/∂h‖ of layer ${i - 1} < layer ${i}`);
    assert.ok(hNorms[0] < hNorms[hNorms.length - 1] * 1e-3, 'the first layer gets less than a thousandth of the last layer’s gradient');
  });

  it('04 and 05: layers written with tensors (W·x + b, then σ) and tanh applied as a method are diagnosed like nn layers', async () => {
    const s4 = await snap('04-two-layer-sigmoid.ts');
    // named by their variables; W is the left operand, so a unit is a row
    assert.deepEqual(s4.layers!.map((l) => [l.name, l.type, l.activation, l.units]), [['W1', 'matmul', 'sigmoid', 4], ['W2', 'matmul', 'sigmoid', null]]);
    assert.equal(s4.layers![0].output!.count, 4, 'the layer\'s output is h = σ(W1·x + b1), [4, 1]');
    const h = numbers(node(s4, 'h').value);
    assertClose(s4.layers![0].output!.mean!, h.reduce((a, b) => a + b, 0) / h.length, 1e-12, 'mean of h');
    // the bias belongs to the layer: the gradient-flow mean covers W1 and b1
    const g = [...numbers(node(s4, 'W1').grad), ...numbers(node(s4, 'b1').grad)].map(Math.abs);
    assertClose(s4.layers![0].gradMeanAbs!, g.reduce((a, b) => a + b, 0) / g.length, 1e-12, 'mean |∂L/∂(W1, b1)|');
    const s5 = await snap('05-deep-tanh-vanishing.ts');
    assert.deepEqual(s5.layers!.map((l) => l.activation), Array(10).fill('tanh'));
    const collapse = s5.diagnosis.find((d) => d.code === 'activation-collapse');
    assert.ok(collapse, JSON.stringify(s5.diagnosis.map((d) => d.code)));
    assert.equal(collapse.layer, 'layer8', 'the last hidden layer (layer9 is the output)');
  });

  it('06: XOR at initialization predicts near 0.5 for all four points', async () => {
    const s = await snap('06-xor-mlp.ts');
    assert.deepEqual(node(s, 'X').shape, [4, 2]);
    const p = numbers(node(s, 'p').value);
    assert.equal(p.length, 4);
    for (const v of p) assert.ok(Math.abs(v - 0.5) < 0.25, `prediction ${v} is not near 0.5`);
    const Y = numbers(node(s, 'Y').value);
    const bce = -p.reduce((acc, pi, i) => acc + Y[i] * Math.log(pi) + (1 - Y[i]) * Math.log(1 - pi), 0) / p.length;
    assertClose(node(s, 'loss').scalar!, bce, 1e-12, 'bce over the batch');
  });
});
