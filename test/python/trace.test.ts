/**
 * python/backprop_lens, the PyTorch tracer, checked against PyTorch itself. Each model file is
 * traced as the runner does it (`python -m backprop_lens trace FILE`, messages on fd 3) and run
 * again untraced by oracle.py, which keeps the gradients of the variables marked `# @name` with
 * retain_grad(); every named tensor's value and gradient in the trace is compared with the oracle's,
 * and scopes, lines, columns, names and the step records are checked. Errors (syntax, runtime,
 * shape, export, too-large) are located in the user's file. summarize() is compared with the
 * engine's on the same data. Expected lines come from the marker comments, never hard-coded.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { summarize, type TensorStats } from '../../engine/stats/summary';
import type { JsonPayload, TorchNode, TorchTrace } from '../../engine/trace/torch-trace';
import { findTorchPython } from '../oracle/torch';
import { columnOf, expectError, expectTrace, lineOf, pool, runScript, traceFile, type TraceRun } from './helpers';

interface Model {
  source: string;
  /** trace name -> Python expression the oracle evaluates after the run */
  values?: Record<string, string>;
  /** trace name -> the expression of its gradient, where it is not the value's .grad */
  grads?: Record<string, string>;
  /** variables whose gradient the oracle keeps (their lines end with `# @name`) */
  retain?: string[];
  /** what the oracle calls backward() on when the file does not */
  backward?: string;
  args?: string[];
}

interface OracleTensor { shape: number[]; dtype: string; value: number[]; grad: number[] | null; gradKnown: boolean }
type OracleResult = Record<string, OracleTensor> & { error?: never };

const MODELS: Record<string, Model> = {
  scalar: {
    source: `import torch
x = torch.tensor(2.0, requires_grad=True)  # @x
y = torch.tensor(3.0, requires_grad=True)  # @y
z = torch.tensor(-1.0, requires_grad=True)  # @z
q = x + y  # @q
f = q * z  # @f
`,
    values: { x: 'x', y: 'y', z: 'z', q: 'q', f: 'f' }, retain: ['q', 'f'], backward: 'f',
  },
  mlp: {
    source: `import torch
import torch.nn as nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))  # @model
criterion = nn.MSELoss()
x = torch.randn(16, 3)  # @x
target = torch.randn(16, 1)  # @target
pred = model(x)  # @pred
loss = criterion(pred, target)  # @loss
print('mse', round(loss.item(), 3))
`,
    values: {
      x: 'x', target: 'target', pred: 'pred', loss: 'loss',
      'model.0.weight': 'model[0].weight', 'model.0.bias': 'model[0].bias', 'model.2.weight': 'model[2].weight', 'model.2.bias': 'model[2].bias',
    },
    retain: ['pred', 'loss'], backward: 'loss',
  },
  control: {
    source: `import torch
import torch.nn as nn
torch.manual_seed(1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)  # @fc1
        self.fc2 = nn.Linear(6, 1)

    def forward(self, x):
        h = torch.tanh(self.fc1(x))  # @h
        if h.sum() > 0:  # @branch
            h = h * 2  # @pos
        else:
            h = h - 1  # @neg
        return self.fc2(h).mean()  # @ret


net = Net()
x = torch.randn(5, 4)  # @x
out = net(x)  # @out
out.backward()  # @backward
`,
    values: { out: 'out', 'net.fc1.weight': 'net.fc1.weight', 'net.fc1.bias': 'net.fc1.bias', 'net.fc2.weight': 'net.fc2.weight', 'net.fc2.bias': 'net.fc2.bias' },
    retain: ['out'],
  },
  cnn: {
    source: `import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(2)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)  # @conv
        self.fc = nn.Linear(3 * 3 * 3, 4)

    def forward(self, x):
        h = F.relu(self.conv(x))  # @h1
        h = F.max_pool2d(h, 2)  # @h2
        h = torch.flatten(h, 1)  # @h3
        return self.fc(h)


cnn = CNN()
images = torch.randn(2, 1, 8, 8)  # @images
labels = torch.tensor([1, 3])
logits = cnn(images)  # @logits
loss = F.cross_entropy(logits, labels)  # @loss
loss.backward()
`,
    values: {
      logits: 'logits', loss: 'loss', 'cnn.conv.weight': 'cnn.conv.weight', 'cnn.conv.bias': 'cnn.conv.bias',
      'cnn.fc.weight': 'cnn.fc.weight', 'cnn.fc.bias': 'cnn.fc.bias',
    },
    retain: ['logits', 'loss'],
  },
  inplace: {
    source: `import torch
import torch.nn as nn
torch.manual_seed(3)
x = torch.randn(6, requires_grad=True)  # @x
c = torch.ones(6)  # @c
c.add_(1)  # @cadd
h = x * c  # @h
h.add_(-0.5)  # @hadd
relu = nn.ReLU(inplace=True)
a = relu(h)  # @a
loss = (a * a).sum()  # @loss
loss.backward()
`,
    values: { x: 'x', a: 'a', loss: 'loss' }, retain: ['a', 'loss'],
  },
  indexing: {
    source: `import torch
torch.manual_seed(4)
w = torch.randn(4, 5, requires_grad=True)  # @w
x = w * 1.5  # @x
first = x[0]  # @first
block = x[:, 1:3]  # @block
mask = x > 0  # @mask
pos = x[mask]  # @pos
rows = x[torch.tensor([0, 2])]  # @rows
pick = x[[1, 3], [0, 4]]  # @pick
loss = first.sum() + (block ** 2).sum() + pos.sum() + rows.mean() + pick.prod()  # @loss
`,
    values: { w: 'w', x: 'x', first: 'first', block: 'block', pos: 'pos', rows: 'rows', pick: 'pick', loss: 'loss' },
    retain: ['x', 'first', 'block', 'pos', 'rows', 'pick', 'loss'], backward: 'loss',
  },
  nograd: {
    source: `import torch
torch.manual_seed(5)
x = torch.randn(5, requires_grad=True)  # @x
with torch.no_grad():
    scale = x.abs().max()  # @scale
y = x / scale  # @y
loss = (y ** 2).sum()  # @loss
loss.backward()
`,
    values: { x: 'x', scale: 'scale', y: 'y', loss: 'loss' }, retain: ['y', 'loss'],
  },
  backward: {
    source: `import torch
import torch.nn as nn
torch.manual_seed(6)
model = nn.Linear(3, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(4, 3)
y = torch.randn(4, 1)
loss = ((model(x) - y) ** 2).mean()  # @loss
loss.backward()  # @backward
opt.step()
loss2 = ((model(x) - y) ** 2).mean()  # @loss2
extra = loss2 * 3  # @extra
`,
    // the values the first pass saw: before opt.step() (SGD: w = w_new + lr * grad)
    values: { loss: 'loss', 'model.weight': 'model.weight + 0.1 * model.weight.grad', 'model.bias': 'model.bias + 0.1 * model.bias.grad' },
    grads: { 'model.weight': 'model.weight.grad', 'model.bias': 'model.bias.grad' },
    retain: ['loss'],
  },
  show: {
    source: `import torch
from backprop_lens import show
torch.manual_seed(7)
a = torch.randn(3, requires_grad=True)  # @a
b = (a.sin() * 2).sum()  # @b
show(b)  # @show
c = (a * 10).sum()  # @c
`,
    values: { a: 'a', b: 'b' }, retain: ['b'], backward: 'b',
  },
  names: {
    source: `import torch
import torch.nn as nn
torch.manual_seed(8)


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 4)

    def forward(self, x):
        self.h = self.fc1(x)  # @selfh
        a, b = self.h.chunk(2, dim=1)  # @ab
        return a * b


model = Pair()
x = torch.randn(2, 4)
out = model(x)  # @out
h = model.fc1(x)  # @h
h += 1  # @aug
s = out.sum() + h.sum(); t = s * 2  # @st
u, v = t * 1, t * 3  # @uv
loss = u + v  # @loss
loss.backward()
`,
    values: { 'self.h': 'model.h', out: 'out', h: 'h', s: 's', t: 't', u: 'u', v: 'v', loss: 'loss', 'model.fc1.weight': 'model.fc1.weight' },
    retain: ['out', 's', 't', 'u', 'v', 'loss'],
  },
  custom: {
    source: `import torch


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 3 * x ** 2 * g


x = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)  # @x
y = Cube.apply(x)  # @y
z = (y * y).sum()  # @z
z.backward()
`,
    values: { x: 'x', y: 'y', z: 'z' }, retain: ['y', 'z'],
  },
  loader: {
    source: `import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
torch.manual_seed(9)
X = torch.randn(32, 5)
Y = torch.randn(32, 1)
loader = DataLoader(TensorDataset(X, Y), batch_size=8, shuffle=True)
model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(2):
    for xb, yb in loader:  # @for
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb), yb)  # @loss
        loss.backward()
        opt.step()
        break
`,
  },
  batchnorm: {
    source: `import torch
import torch.nn as nn
torch.manual_seed(10)
model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))  # @model
x = torch.randn(8, 3)
loss = model(x).pow(2).mean()  # @loss
loss.backward()
`,
    values: { loss: 'loss', 'model.1.weight': 'model[1].weight', 'model.1.bias': 'model[1].bias', 'model.0.weight': 'model[0].weight' },
    retain: ['loss'],
  },
  // errors
  syntax: { source: `import torch\nx = torch.ones(3)\ny = (x +  # @open\nz = 1\n` },
  runtime: {
    source: `import torch


def helper(t):
    return t.no_such_method()  # @boom


x = torch.randn(3, requires_grad=True)
y = helper(x * 2)  # @call
`,
  },
  shape: {
    source: `import torch
import torch.nn as nn
layer = nn.Linear(4, 2)
x = torch.randn(3, 5)


def forward(inp):
    return layer(inp)  # @mismatch


out = forward(x).sum()
`,
  },
  broadcast: { source: `import torch\nx = torch.randn(3, requires_grad=True)\ny = x * 2 + torch.ones(4)  # @add\n` },
  nothing: { source: `import torch\nx = torch.randn(3)\ny = x * 2\nprint('no gradients here')\n` },
  nonscalar: { source: `import torch\nfrom backprop_lens import show\nx = torch.randn(3, requires_grad=True)\ny = x * 2  # @y\nshow(y)  # @show\n` },
  large: {
    source: `import torch\nx = torch.randn(3, requires_grad=True)\nfor i in range(1000):\n    x = x * 1.01  # @loop\nx.sum().backward()\n`,
    args: ['--max-nodes', '50'],
  },
};

const ERROR_MODELS = new Set(['syntax', 'runtime', 'shape', 'broadcast', 'nothing', 'nonscalar', 'large']);

function numbers(p: JsonPayload): number[] {
  assert.ok(p, 'a payload (not null)');
  return p.map(Number);
}

function assertValues(actual: JsonPayload, expected: number[] | null, dtype: string, what: string): void {
  assert.ok(expected, `${what}: the oracle has it`);
  const a = numbers(actual);
  assert.equal(a.length, expected.length, `${what}: length`);
  const rel = dtype === 'float64' ? 1e-12 : 1e-5;
  for (let i = 0; i < a.length; i++) {
    const e = expected[i];
    if (Number.isNaN(e)) assert.ok(Number.isNaN(a[i]), `${what}[${i}]: NaN expected, got ${a[i]}`);
    else assert.ok(Math.abs(a[i] - e) <= rel * (1 + Math.abs(e)), `${what}[${i}]: ${a[i]} vs PyTorch's ${e}`);
  }
}

/** The last node with this name (a loop names one node per iteration; the oracle has the last). */
function named(t: TorchTrace, name: string): TorchNode {
  const hits = t.nodes.filter((n) => n.name === name);
  assert.ok(hits.length > 0, `no node named ${name}; names: ${t.nodes.map((n) => n.name).filter(Boolean).join(', ')}`);
  return hits[hits.length - 1];
}

const opsOf = (t: TorchTrace) => t.nodes.filter((n) => n.leaf === null).map((n) => n.op);

/** Each node's gradient is the sum of the contributions the steps sent it; the pass starts at the output with 1. */
function checkBookkeeping(t: TorchTrace, label: string): void {
  if (t.steps.length === 0) return;
  assert.equal(t.steps[0].node, t.output, `${label}: the first step is the output's`);
  assert.ok(numbers(t.steps[0].upstreamGrad).every((v) => v === 1), `${label}: ∂L/∂L = 1`);
  const received = new Map<number, number[][]>();
  for (const s of t.steps) {
    const node = t.nodes[s.node];
    assert.equal(node.leaf, null, `${label}: steps are for op nodes`);
    assert.deepEqual(numbers(s.upstreamGrad), numbers(node.grad), `${label}: step ${node.op}#${node.id}'s upstream gradient is the node's gradient`);
    const needs = node.inputs.map((id, index) => ({ id, index })).filter((i) => t.nodes[i.id].requiresGrad);
    assert.deepEqual(s.inputs.map((i) => i.index), needs.map((i) => i.index), `${label}: step ${node.op}#${node.id} has an entry per input that requires grad`);
    for (const i of s.inputs) {
      assert.equal(i.input, node.inputs[i.index]);
      const c = numbers(i.contribution);
      const size = t.nodes[i.input].shape.reduce((a, b) => a * b, 1);
      assert.equal(c.length, size, `${label}: a contribution has the input's size`);
      received.set(i.input, [...(received.get(i.input) ?? []), c]);
    }
  }
  let checked = 0;
  for (const n of t.nodes) {
    if (n.id === t.output || !n.grad) continue;
    const parts = received.get(n.id);
    assert.ok(parts, `${label}: ${n.name ?? n.op}#${n.id} has a gradient but no step sent it one`);
    const g = numbers(n.grad);
    const u = n.dtype === 'float64' ? 2 ** -53 : 2 ** -24;
    for (let j = 0; j < g.length; j++) {
      let sum = 0;
      let abs = 0;
      for (const p of parts) {
        sum += p[j];
        abs += Math.abs(p[j]);
      }
      assert.ok(Math.abs(g[j] - sum) <= 4 * (parts.length + 1) * u * abs + 1e-300, `${label}: ${n.name ?? n.op}#${n.id}[${j}]: gradient ${g[j]} vs Σ contributions ${sum}`);
    }
    checked++;
  }
  assert.ok(checked > 0 || t.nodes.length === 1, `${label}: some gradients were checked`);
}

describe('python/backprop_lens: tracing PyTorch files', function () {
  this.timeout(180_000);
  let dir = '';
  const runs: Record<string, TraceRun> = {};
  const oracle: Record<string, OracleResult> = {};
  const files: Record<string, string> = {};

  before(async function () {
    const py = findTorchPython();
    process.stdout.write(`      PyTorch ${py.torch}, Python ${py.python} (${py.executable})\n`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-pytrace-'));
    for (const [name, m] of Object.entries(MODELS)) {
      fs.mkdirSync(path.join(dir, name));
      files[name] = path.join(dir, name, `${name}_model.py`);
      fs.writeFileSync(files[name], m.source);
    }
    const names = Object.keys(MODELS);
    const oracleNames = names.filter((n) => MODELS[n].values);
    const jobs = oracleNames.map((n) => ({ file: files[n], values: MODELS[n].values, grads: MODELS[n].grads ?? {}, retain: MODELS[n].retain ?? [], backward: MODELS[n].backward ?? null }));
    const [results, traced] = await Promise.all([
      runScript<OracleResult[]>('oracle.py', jobs),
      pool(names.map((n) => () => traceFile(files[n], MODELS[n].args ?? [])), Math.max(2, Math.min(4, os.cpus().length))),
    ]);
    oracleNames.forEach((n, i) => {
      if ((results[i] as { error?: string }).error) throw new Error(`the oracle failed on ${n}: ${(results[i] as { error?: string }).error}`);
      oracle[n] = results[i];
    });
    names.forEach((n, i) => (runs[n] = traced[i]));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Every named tensor's value and gradient equals PyTorch's (the oracle's). */
  function compareWithOracle(model: string): TorchTrace {
    const t = expectTrace(runs[model]);
    for (const [name, o] of Object.entries(oracle[model])) {
      const n = named(t, name);
      assert.deepEqual(n.shape, o.shape, `${model}: ${name}'s shape`);
      assert.equal(n.dtype, o.dtype, `${model}: ${name}'s dtype`);
      assertValues(n.value, o.value, n.dtype, `${model}: ${name}'s value`);
      if (o.grad) assertValues(n.grad, o.grad, n.dtype, `${model}: ${name}'s gradient`);
      else if (o.gradKnown) assert.equal(n.grad, null, `${model}: ${name} has no gradient`);
    }
    return t;
  }

  describe('a scalar expression (x + y) * z', () => {
    it('records the leaves and ops with their names, values, gradients and places', () => {
      const src = MODELS.scalar.source;
      const t = compareWithOracle('scalar');
      assert.equal(t.version, 1);
      assert.equal(t.file, files.scalar);
      assert.match(t.torch, /^\d+\.\d+/);
      assert.equal(typeof t.python.executable, 'string');
      assert.equal(t.maxElements, 4096);
      assert.deepEqual(t.nodes.map((n) => [n.op, n.leaf, n.name, n.inputs]), [
        ['leaf', 'input', 'x', []], ['leaf', 'input', 'y', []], ['leaf', 'input', 'z', []],
        ['add', null, 'q', [0, 1]], ['mul', null, 'f', [3, 2]],
      ]);
      assert.equal(t.output, 4, 'no backward() and no show(): the last scalar that requires grad');
      for (const name of ['x', 'y', 'z', 'q', 'f']) {
        const n = named(t, name);
        assert.deepEqual(n.source, { file: files.scalar, line: lineOf(src, `# @${name}`), column: name === 'q' ? columnOf(src, '# @q', 'x + y') : name === 'f' ? columnOf(src, '# @f', 'q * z') : columnOf(src, `# @${name}`, 'torch.tensor') });
        assert.deepEqual(n.shape, []);
        assert.equal(n.dtype, 'float32');
        assert.equal(n.device, 'cpu');
        assert.equal(n.scope, null);
        assert.equal(n.requiresGrad, true);
        assert.equal(n.stats.count, 1);
        assert.ok(n.gradStats && n.gradStats.count === 1);
      }
      assert.deepEqual(t.steps, [
        { node: 4, upstreamGrad: [1], inputs: [{ index: 0, input: 3, contribution: [-1] }, { index: 1, input: 2, contribution: [5] }] },
        { node: 3, upstreamGrad: [-1], inputs: [{ index: 0, input: 0, contribution: [-1] }, { index: 1, input: 1, contribution: [-1] }] },
      ]);
      assert.equal(t.unusedNodes, 0);
      assert.deepEqual(t.layers, []);
      assert.deepEqual(t.notes, []);
    });

    it('sends started, recording, result on fd 3 and nothing of its own on stdout', () => {
      const r = runs.scalar;
      expectTrace(r);
      assert.equal(r.stdout, '');
    });
  });

  describe('an MLP: nn.Sequential(Linear, ReLU, Linear) with nn.MSELoss', () => {
    it('matches PyTorch for every named tensor and parameter', () => {
      compareWithOracle('mlp');
    });

    it('records ops in module scopes, parameters by their module path, where each layer was made', () => {
      const src = MODELS.mlp.source;
      const t = expectTrace(runs.mlp);
      const ops = t.nodes.filter((n) => n.leaf === null);
      assert.deepEqual(ops.map((n) => [n.op, n.scope]), [['linear', 'model.0'], ['relu', 'model.1'], ['linear', 'model.2'], ['mse_loss', 'criterion']]);
      assert.deepEqual(ops.map((n) => n.source?.line), [lineOf(src, '# @pred'), lineOf(src, '# @pred'), lineOf(src, '# @pred'), lineOf(src, '# @loss')]);
      assert.equal(named(t, 'pred').op, 'linear');
      assert.equal(named(t, 'loss').attrs.reduction, 'mean');
      for (const p of ['model.0.weight', 'model.0.bias', 'model.2.weight', 'model.2.bias']) {
        const n = named(t, p);
        assert.equal(n.leaf, 'param');
        assert.equal(n.scope, p.slice(0, p.lastIndexOf('.')), 'a parameter is in its module\'s scope');
        assert.equal(n.source?.line, lineOf(src, '# @model'), 'a parameter is made where its layer is');
      }
      assert.equal(named(t, 'model.0.weight').source?.column, columnOf(src, '# @model', 'nn.Linear(3, 8)'));
      assert.equal(named(t, 'x').leaf, 'constant');
      assert.equal(named(t, 'x').grad, null);
      assert.equal(t.output, named(t, 'loss').id);
      assert.match(runs.mlp.stdout, /^mse \d/, "the user's print reaches stdout");
    });

    it('reports per-layer health like the engine (LayerStats)', () => {
      const t = expectTrace(runs.mlp);
      const layers = t.layers!;
      assert.deepEqual(layers.map((l) => [l.name, l.type, l.depth, l.activation]), [['model.0', 'linear', 0, 'relu'], ['model.2', 'linear', 1, null]]);
      const relu = t.nodes.find((n) => n.op === 'relu')!;
      const out = numbers(relu.value);
      const units = 8;
      let dead = 0;
      for (let u = 0; u < units; u++) if (out.every((v, i) => i % units !== u || v === 0)) dead++;
      assert.equal(layers[0].dead, dead / units);
      assert.equal(layers[0].saturated, null);
      const engine = (v: number[]) => JSON.parse(JSON.stringify(summarize(Float64Array.from(v), { bins: 24, logBins: 24 }))) as TensorStats;
      assert.deepEqual(layers[0].output, engine(out));
      const w = named(t, 'model.0.weight');
      const b = named(t, 'model.0.bias');
      const grads = [...numbers(w.grad), ...numbers(b.grad)].map(Math.abs);
      assert.ok(Math.abs(layers[0].gradMeanAbs! - grads.reduce((a, v) => a + v, 0) / grads.length) < 1e-12);
      assert.equal(layers[0].gradMaxAbs, Math.max(...grads));
      assert.deepEqual(layers[0].weight, engine(numbers(w.value)));
      assert.deepEqual(layers[0].weightGrad, engine(numbers(w.grad)));
      assert.equal(layers[1].dead, null);
      assert.equal(layers[0].source?.line, lineOf(MODELS.mlp.source, '# @model'));
    });
  });

  describe('an nn.Module subclass with data-dependent control flow', () => {
    it('matches PyTorch and records the branch the data took', () => {
      const src = MODELS.control.source;
      const t = compareWithOracle('control');
      const tanh = t.nodes.find((n) => n.op === 'tanh')!;
      const positive = numbers(tanh.value).reduce((a, v) => a + v, 0) > 0;
      const branch = t.nodes.find((n) => n.op === (positive ? 'mul' : 'sub'));
      assert.ok(branch, `the ${positive ? 'h * 2' : 'h - 1'} branch is recorded`);
      assert.ok(!t.nodes.some((n) => n.op === (positive ? 'sub' : 'mul')), 'the other branch is not');
      assert.equal(branch.source?.line, lineOf(src, positive ? '# @pos' : '# @neg'));
      assert.equal(branch.name, 'h');
      assert.equal(branch.scope, 'net');
      assert.equal(tanh.name, 'h');
      assert.equal(tanh.source?.line, lineOf(src, '# @h'));
      assert.equal(tanh.source?.column, columnOf(src, '# @h', 'torch.tanh('));
      const [fc1, fc2] = t.nodes.filter((n) => n.op === 'linear');
      assert.equal(fc1.scope, 'net.fc1');
      assert.equal(fc2.scope, 'net.fc2');
      assert.equal(fc1.source?.line, lineOf(src, '# @h'), 'an op inside forward is located in forward');
      const mean = named(t, 'out');
      assert.equal(mean.op, 'mean');
      assert.equal(mean.source?.line, lineOf(src, '# @ret'));
      assert.equal(t.output, mean.id, 'out.backward() picks out');
      assert.equal(named(t, 'net.fc1.weight').source?.line, lineOf(src, '# @fc1'));
      // h.sum() > 0 ran but the output does not depend on it
      assert.ok(t.unusedNodes >= 2);
    });
  });

  describe('a small CNN: conv2d, max_pool2d, flatten, linear, cross_entropy', () => {
    it('matches PyTorch and records one node per call', () => {
      const src = MODELS.cnn.source;
      const t = compareWithOracle('cnn');
      assert.deepEqual(opsOf(t), ['conv2d', 'relu', 'max_pool2d', 'flatten', 'linear', 'cross_entropy']);
      const [h1, h2, h3] = ['relu', 'max_pool2d', 'flatten'].map((op) => t.nodes.find((n) => n.op === op)!);
      assert.deepEqual([h1.name, h2.name, h3.name], ['h', 'h', 'h']);
      assert.deepEqual([h1.source?.line, h2.source?.line, h3.source?.line], [lineOf(src, '# @h1'), lineOf(src, '# @h2'), lineOf(src, '# @h3')]);
      assert.equal(h2.attrs.kernel_size, 2);
      assert.equal(h3.attrs.start_dim, 1);
      assert.deepEqual(t.nodes.find((n) => n.op === 'conv2d')!.attrs, { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 });
      assert.equal(t.nodes.find((n) => n.op === 'conv2d')!.scope, 'cnn.conv');
      assert.equal(named(t, 'labels').leaf, 'constant');
      assert.equal(named(t, 'labels').dtype, 'int64');
      assert.deepEqual(t.layers!.map((l) => [l.name, l.type]), [['cnn.conv', 'conv2d'], ['cnn.fc', 'linear']]);
    });
  });

  describe('in-place ops: x.add_(1) and nn.ReLU(inplace=True)', () => {
    it('gives each new version of a tensor its own node, and matches PyTorch', () => {
      const src = MODELS.inplace.source;
      const t = compareWithOracle('inplace');
      assert.deepEqual(opsOf(t), ['add_', 'mul', 'add_', 'relu_', 'mul', 'sum']);
      const c = named(t, 'c');
      assert.equal(c.leaf, 'constant');
      assert.deepEqual(numbers(c.value), [1, 1, 1, 1, 1, 1], 'the value before the in-place add');
      const cadd = t.nodes.find((n) => n.op === 'add_' && n.source?.line === lineOf(src, '# @cadd'))!;
      assert.deepEqual(cadd.inputs, [c.id]);
      assert.deepEqual(numbers(cadd.value), [2, 2, 2, 2, 2, 2]);
      assert.equal(cadd.attrs.other, 1);
      const h = named(t, 'h');
      assert.equal(h.op, 'mul');
      assert.deepEqual(h.inputs, [named(t, 'x').id, cadd.id]);
      const x = numbers(named(t, 'x').value);
      assertValues(h.value, x.map((v) => v * 2), 'float32', 'h = x * c before h.add_');
      const hadd = t.nodes.find((n) => n.op === 'add_' && n.source?.line === lineOf(src, '# @hadd'))!;
      assert.deepEqual(hadd.inputs, [h.id]);
      const a = named(t, 'a');
      assert.equal(a.op, 'relu_');
      assert.equal(a.scope, 'relu');
      assert.deepEqual(a.inputs, [hadd.id]);
      assertValues(h.grad, numbers(hadd.grad), 'float32', 'an in-place add passes its gradient through');
    });
  });

  describe('indexing: x[0], x[:, 1:3], a boolean mask, advanced indexing', () => {
    it('records every index as __getitem__ and matches PyTorch', () => {
      const t = compareWithOracle('indexing');
      const x = named(t, 'x');
      const index = (name: string) => named(t, name).attrs.index;
      assert.deepEqual(['first', 'block', 'pos', 'rows', 'pick'].map((n) => [named(t, n).op, index(n)]), [
        ['__getitem__', '[0]'], ['__getitem__', '[:, 1:3]'], ['__getitem__', '[mask]'], ['__getitem__', '[tensor]'], ['__getitem__', '[[1, 3], [0, 4]]'],
      ]);
      for (const n of ['first', 'block', 'rows', 'pick']) assert.equal(named(t, n).inputs[0], x.id);
      assert.deepEqual(named(t, 'pos').inputs, [x.id, named(t, 'mask').id], 'the mask is an input (no gradient)');
      assert.equal(named(t, 'mask').requiresGrad, false);
      assert.equal(named(t, 'mask').dtype, 'bool');
      const pow = t.nodes.find((n) => n.op === 'pow')!;
      assert.equal(pow.attrs.exponent, 2);
      assert.equal(t.output, named(t, 'loss').id);
    });
  });

  describe('a with torch.no_grad(): block', () => {
    it('records the ops inside without gradients, as inputs of what uses them', () => {
      const t = compareWithOracle('nograd');
      const scale = named(t, 'scale');
      assert.equal(scale.op, 'max');
      assert.equal(scale.requiresGrad, false);
      assert.equal(scale.grad, null);
      assert.equal(scale.gradStats, null);
      assert.equal(t.nodes[scale.inputs[0]].op, 'abs');
      assert.equal(t.nodes[scale.inputs[0]].requiresGrad, false);
      assert.deepEqual(named(t, 'y').inputs, [named(t, 'x').id, scale.id]);
      const step = t.steps.find((s) => s.node === named(t, 'y').id)!;
      assert.deepEqual(step.inputs.map((i) => i.input), [named(t, 'x').id], 'no contribution to a tensor that does not require grad');
    });
  });

  describe('a file that calls loss.backward() itself, then trains on', () => {
    it('shows the tensor backward() was called on, with the values that pass saw', () => {
      const src = MODELS.backward.source;
      const t = compareWithOracle('backward');
      assert.equal(t.output, named(t, 'loss').id, 'the first backward() picks the output, not a later scalar');
      assert.ok(!t.nodes.some((n) => n.name === 'loss2' || n.name === 'extra'));
      assert.ok(t.unusedNodes >= 5, `the ops after backward() are counted as unused (${t.unusedNodes})`);
      assert.ok(t.notes.some((n) => /after the first backward/.test(n)), t.notes.join('\n'));
      assert.equal(named(t, 'loss').source?.line, lineOf(src, '# @loss'));
    });
  });

  describe('backprop_lens.show(t)', () => {
    it('picks the output explicitly', () => {
      const t = compareWithOracle('show');
      assert.equal(t.output, named(t, 'b').id);
      assert.ok(!t.nodes.some((n) => n.name === 'c'), 'a later scalar is not shown');
    });
  });

  describe('variable names', () => {
    it('come from assignments: self.h = …, a, b = …, h += …, two statements on a line, tuple values', () => {
      const src = MODELS.names.source;
      const t = compareWithOracle('names');
      const selfh = named(t, 'self.h');
      assert.equal(selfh.op, 'linear');
      assert.equal(selfh.source?.line, lineOf(src, '# @selfh'));
      const [a, b] = ['a', 'b'].map((n) => named(t, n));
      assert.deepEqual([a.op, a.attrs.output, b.op, b.attrs.output], ['chunk', 0, 'chunk', 1]);
      assert.equal(named(t, 'out').op, 'mul', "out = model(x) names forward's last op");
      const hs = t.nodes.filter((n) => n.name === 'h');
      assert.deepEqual(hs.map((n) => [n.op, n.source?.line]), [['linear', lineOf(src, '# @h')], ['add_', lineOf(src, '# @aug')]]);
      assert.deepEqual([named(t, 's').op, named(t, 's').source?.column], ['add', columnOf(src, '# @st', 'out.sum() + h.sum()')]);
      assert.deepEqual([named(t, 't').op, named(t, 't').source?.column], ['mul', columnOf(src, '# @st', 's * 2')]);
      assert.deepEqual([named(t, 'u').attrs.other, named(t, 'v').attrs.other], [1, 3]);
    });

    it('a custom autograd Function is one node named after its class, at the line that applied it', () => {
      const t = compareWithOracle('custom');
      const y = named(t, 'y');
      assert.equal(y.op, 'Cube');
      assert.deepEqual(y.inputs, [named(t, 'x').id]);
      assert.equal(y.source?.line, lineOf(MODELS.custom.source, '# @y'));
      assert.deepEqual(opsOf(t), ['Cube', 'mul', 'sum'], 'the ops inside forward() are not separate nodes');
    });
  });

  describe('nn.BatchNorm1d', () => {
    it('matches PyTorch; its running statistics are constant leaves named by the module tree, not the ops that initialised them', () => {
      const t = compareWithOracle('batchnorm');
      assert.deepEqual(opsOf(t), ['linear', 'batch_norm', 'relu', 'linear', 'pow', 'mean']);
      const bn = t.nodes.find((n) => n.op === 'batch_norm')!;
      assert.deepEqual(bn.inputs.map((i) => [t.nodes[i].name, t.nodes[i].leaf]), [
        [null, null], ['model.1.running_mean', 'constant'], ['model.1.running_var', 'constant'], ['model.1.weight', 'param'], ['model.1.bias', 'param'],
      ]);
      assert.deepEqual(numbers(named(t, 'model.1.running_var').value), [1, 1, 1, 1], 'the statistics the pass used (before its update)');
      assert.equal(bn.attrs.training, true);
      assert.deepEqual(t.layers!.map((l) => [l.name, l.type, l.activation]), [['model.0', 'linear', null], ['model.1', 'batchNorm1d', 'relu'], ['model.3', 'linear', null]]);
    });
  });

  describe('a training loop over a DataLoader', () => {
    it('takes each batch as input leaves at the for line (not the collate function\'s indexing), and shows the first backward()', () => {
      const src = MODELS.loader.source;
      const t = expectTrace(runs.loader);
      assert.deepEqual(opsOf(t), ['linear', 'tanh', 'linear', 'mse_loss']);
      for (const n of ['xb', 'yb']) {
        const leaf = named(t, n);
        assert.equal(leaf.leaf, 'constant');
        assert.equal(leaf.source?.line, lineOf(src, '# @for'));
      }
      assert.deepEqual(named(t, 'xb').shape, [8, 5]);
      assert.deepEqual(t.nodes.find((n) => n.op === 'linear')!.inputs[0], named(t, 'xb').id);
      assert.equal(t.output, named(t, 'loss').id);
      // two epochs ran (a step each): only the first pass is in the trace
      assert.ok(t.unusedNodes > 0);
      assert.ok(t.notes.some((n) => /after the first backward/.test(n)));
    });
  });

  describe('the backward pass, as autograd ran it', () => {
    const ok = () => Object.keys(MODELS).filter((m) => !ERROR_MODELS.has(m));
    it("has one step per op node that received a gradient, in autograd's order, and the contributions to each input sum to its gradient", () => {
      for (const m of ok()) {
        const t = expectTrace(runs[m]);
        checkBookkeeping(t, m);
        const stepped = new Set(t.steps.map((s) => s.node));
        for (const n of t.nodes) if (n.leaf === null && n.grad) assert.ok(stepped.has(n.id), `${m}: ${n.op}#${n.id} received a gradient and has a step`);
      }
    });

    it('gives each step of a call that makes several autograd nodes (cross_entropy) the contribution on the edge to its inputs', () => {
      const t = expectTrace(runs.cnn);
      const ce = t.nodes.find((n) => n.op === 'cross_entropy')!;
      const step = t.steps.find((s) => s.node === ce.id)!;
      assert.deepEqual(step.inputs.map((i) => i.index), [0]);
      // ∂CE/∂logits = (softmax − onehot) / N, from the logits' value
      const logits = numbers(t.nodes[ce.inputs[0]].value);
      const labels = numbers(t.nodes[ce.inputs[1]].value);
      const expected: number[] = [];
      for (let r = 0; r < 2; r++) {
        const row = logits.slice(r * 4, r * 4 + 4);
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const s = e.reduce((a, v) => a + v, 0);
        e.forEach((v, k) => expected.push((v / s - (k === labels[r] ? 1 : 0)) / 2));
      }
      assertValues(step.inputs[0].contribution, expected, 'float32', 'the contribution to the logits');
    });
  });

  describe('errors, located in the user\'s file', () => {
    it('a syntax error: kind syntax, at its line and column, before the user code starts', () => {
      const r = runs.syntax;
      const e = expectError(r);
      assert.deepEqual(r.messages.map((m) => m.type), ['error']);
      assert.equal(e.kind, 'syntax');
      assert.equal(e.file, files.syntax);
      assert.equal(e.line, lineOf(MODELS.syntax.source, '# @open'));
      assert.equal(e.column, columnOf(MODELS.syntax.source, '# @open', '('));
      assert.match(e.message, /SyntaxError/);
    });

    it('a runtime error inside a helper function: at the helper\'s line, with the traceback from the user\'s code', () => {
      const r = runs.runtime;
      const e = expectError(r);
      assert.deepEqual(r.messages.map((m) => m.type), ['started', 'error']);
      assert.equal(e.kind, 'runtime');
      assert.equal(e.file, files.runtime);
      assert.equal(e.line, lineOf(MODELS.runtime.source, '# @boom'));
      assert.equal(e.column, columnOf(MODELS.runtime.source, '# @boom', 't.no_such_method()'));
      assert.match(e.message, /^AttributeError: .*no_such_method/);
      assert.match(e.traceback, new RegExp(`line ${lineOf(MODELS.runtime.source, '# @call')}, in <module>`));
      assert.match(e.traceback, new RegExp(`line ${lineOf(MODELS.runtime.source, '# @boom')}, in helper`));
      assert.doesNotMatch(e.traceback, /backprop_lens|runpy/, "the tracer's own frames are not in the traceback");
    });

    it('a shape mismatch: kind shape, at the user\'s line (not inside torch)', () => {
      const e = expectError(runs.shape);
      assert.equal(e.kind, 'shape');
      assert.match(e.message, /mat1 and mat2 shapes cannot be multiplied/);
      assert.equal(e.file, files.shape);
      assert.equal(e.line, lineOf(MODELS.shape.source, '# @mismatch'));
      const b = expectError(runs.broadcast);
      assert.equal(b.kind, 'shape');
      assert.match(b.message, /must match the size of tensor b/);
      assert.equal(b.line, lineOf(MODELS.broadcast.source, '# @add'));
    });

    it('no output: kind export, after the user code ran', () => {
      const r = runs.nothing;
      const e = expectError(r);
      assert.deepEqual(r.messages.map((m) => m.type), ['started', 'recording', 'error']);
      assert.equal(e.kind, 'export');
      assert.match(e.message, /backward\(\)|show/);
      assert.match(r.stdout, /no gradients here/);
    });

    it('a non-scalar output: kind export, asking to reduce it, at the show() call', () => {
      const e = expectError(runs.nonscalar);
      assert.equal(e.kind, 'export');
      assert.match(e.message, /'y' has shape \[3\].*[Rr]educe/);
      assert.equal(e.line, lineOf(MODELS.nonscalar.source, '# @show'));
    });

    it('past --max-nodes: kind too-large, at the line that was running', () => {
      const e = expectError(runs.large);
      assert.equal(e.kind, 'too-large');
      assert.match(e.message, /more than 50 graph nodes/);
      assert.equal(e.line, lineOf(MODELS.large.source, '# @loop'));
    });
  });

  describe('SIGUSR1 (the runner\'s time limit)', () => {
    it('answers with where the user\'s code is', async () => {
      // the signal goes when the loop has surely started (it prints from inside, once)
      const src = `import torch\nx = torch.ones(2)\nn = 0\nwhile True:  # @while\n    n += 1  # @body\n    if n == 1000:  # @check\n        print('looping', flush=True)  # @print\n`;
      const file = path.join(dir, 'loop_model.py');
      fs.writeFileSync(file, src);
      let signalled = false;
      const run = await traceFile(file, [], {
        onStdout: (out, pid) => {
          if (!signalled && out.includes('looping')) {
            signalled = true;
            process.kill(pid, 'SIGUSR1');
          }
        },
        onMessage: (m, pid) => {
          if (m.type === 'where') process.kill(pid, 'SIGKILL');
        },
      });
      const where = run.messages.find((m) => m.type === 'where') as { file: string; line: number } | undefined;
      assert.ok(where, `a where message (got ${run.messages.map((m) => m.type).join(', ')})`);
      assert.equal(where.file, file);
      assert.ok(['# @while', '# @body', '# @check', '# @print'].map((m) => lineOf(src, m)).includes(where.line), `line ${where.line}`);
    });
  });

  describe('summarize: the same TensorStats as the engine', () => {
    it('on random, zero, NaN/Inf, constant, empty and wide-range data, by both code paths', async () => {
      let seed = 12345;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const normal = (n: number, scale = 1) => Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand()));
      const datasets: number[][] = [
        normal(20), normal(5000), normal(300, 1e-6),
        new Array(64).fill(0), [0], [0, 0, 1e-3, -2],
        [1, NaN, -Infinity, 2, Infinity, 0, NaN], [NaN, NaN], [Infinity],
        new Array(100).fill(2.5), [7], new Array(10).fill(-0.25),
        [],
        [1e-30, 1e30, -1e10, 3, 0], [1, 10, 100, 1000], [0.1, 0.01, 0.001],
        normal(1000).map((v) => (v > 0 ? v : 0)),
      ];
      const bins: [number, number][] = [[30, 30], [24, 24]];
      const py = await runScript<{ loop: TensorStats; torch: TensorStats }[][]>('stats_parity.py', { datasets, bins });
      // as the engine's stats reach the panel: through JSON (Math.ceil(-0.5) is -0, which JSON writes as 0)
      const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
      bins.forEach(([b, lb], k) => {
        datasets.forEach((d, i) => {
          const expected = viaJson(summarize(Float64Array.from(d), { bins: b, logBins: lb }));
          for (const method of ['loop', 'torch'] as const) {
            const got = py[k][i][method];
            const what = `data set ${i} (${d.length} values), ${b} bins, ${method}`;
            assert.deepEqual({ ...got, mean: null, std: null, norm: null }, { ...expected, mean: null, std: null, norm: null }, what);
            for (const f of ['mean', 'std', 'norm'] as const) {
              const a = got[f];
              const e = expected[f];
              if (e === null) assert.equal(a, null, `${what}: ${f}`);
              else assert.ok(a !== null && Math.abs(a - e) <= 1e-12 * Math.abs(e), `${what}: ${f} ${a} vs the engine's ${e}`);
            }
          }
        });
      });
    });
  });
});
