/**
 * PyTorch files through the runner, as the extension and the CLI run them: the interpreter found,
 * the package run in its own process, its trace turned into the panel's snapshot (every snapshot
 * checked against the chain rule's bookkeeping, BPL_VERIFY_SNAPSHOTS), and the limits and errors
 * the runner owns (no Python, timeout at the line, memory, the script's own exit).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findPython, probePython } from '../../extension/runner/python';
import type { PythonInfo } from '../../extension/runner/types';
import { findTorchPython } from '../oracle/torch';
import { expectError, expectOk, lineOf, node, ROOT, runModel, useRunner, useTempDir, writeFile } from '../runner/helpers';

describe('PyTorch files through the runner', function () {
  this.timeout(120_000);
  const runner = useRunner();
  const tmp = useTempDir('bpl-pyrun-');
  let python: PythonInfo;
  before(async () => {
    const t = findTorchPython();
    python = await findPython([{ executable: t.executable, source: 'environment' }]);
  });

  it('the add-mul example: values and gradients as PyTorch computed them, local gradients from the engine, the runtime named', async () => {
    const file = path.join(ROOT, 'examples', '11-pytorch-add-mul.py');
    const out = await runner().run(file, { python });
    const s = expectOk(out);
    const v = (name: string) => node(s, name);
    assert.deepEqual([v('x').grad, v('y').grad, v('z').grad, v('q').grad].map((g) => Array.from(g!)), [[-4], [-4], [3], [-4]]);
    assert.equal(v('f').scalar, -12);
    assert.equal(v('q').op, 'add', "torch's add is the engine's add (its symbol and formula)");
    assert.match(v('q').formula ?? '', /∂\(a\+b\)/);
    // the mul step: upstream 1, local gradients from the engine's formula (b and a), PyTorch's contributions
    const mul = s.backward[0];
    assert.equal(mul.node, v('f').id);
    const toQ = mul.inputs.find((i) => i.input === v('q').id)!;
    assert.deepEqual(Array.from(toQ.localGrad as Float64Array), [-4]);
    assert.deepEqual(Array.from(toQ.contribution!), [-4]);
    assert.equal(v('q').source?.line, fs.readFileSync(file, 'utf8').split('\n').indexOf('q = x + y') + 1);
    assert.equal(s.runtime?.kind, 'pytorch');
    assert.equal(s.runtime?.torch, python.torch);
  });

  it('an nn.Module MLP: scopes, parameter names, the loss as output, the layers in the diagnosis input', async () => {
    const s = expectOk(await runner().run(path.join(ROOT, 'examples', '12-pytorch-mlp.py'), { python }));
    assert.equal(s.nodes[s.output].name, 'loss');
    const w = node(s, 'model.hidden.weight');
    assert.equal(w.leaf, 'param');
    assert.ok(w.grad && w.grad.length === 32, 'the weight has its gradient');
    const h = node(s, 'h');
    assert.equal(h.op, 'relu');
    assert.equal(h.scope, 'model');
    assert.ok((s.layers ?? []).length >= 2, 'per-layer summaries for the two linear layers');
  });

  it('a script that trains for many steps shows its first step (recording stops at the first backward)', async () => {
    const s = expectOk((await runner().run(path.join(ROOT, 'examples', '13-pytorch-watch-vanishing.py'), { python })));
    assert.ok(s.nodes.length < 200, `${s.nodes.length} nodes: one step's graph`);
    assert.equal(s.training?.watched, true, 'a script that calls watch() can be trained from the panel');
  });

  it("an unsaved buffer is what runs (Show Graph with unsaved edits, retrace on type): its values, lines, names and errors, not the file on disk", async () => {
    const file = writeFile(tmp(), 'buffer.py', 'import torch\nx = torch.tensor(1.0, requires_grad=True)\n(x * 2).backward()\n');
    const text = 'import torch\n\nx = torch.tensor(3.0, requires_grad=True)\nsquare = x * x  # @square\nsquare.backward()\n';
    const s = expectOk(await runner().run(file, { python, contents: text }));
    assert.equal(node(s, 'square').scalar, 9, "the buffer's x, not the disk's");
    assert.deepEqual(Array.from(node(s, 'x').grad!), [6]);
    assert.equal(node(s, 'square').source?.line, lineOf(text, '# @square'), "the buffer's line numbers");
    assert.equal(node(s, 'square').source?.file, file);
    // an error in the buffer is located there, with the buffer's line quoted in the traceback
    const broken = 'import torch\nx = torch.ones(2, requires_grad=True)\ny = x @ torch.ones(3)  # @bad\ny.backward()\n';
    const e = expectError(await runner().run(file, { python, contents: broken }));
    assert.equal(e.line, lineOf(broken, '# @bad'));
    assert.match(e.stack ?? '', /x @ torch\.ones\(3\)/);
    assert.equal(fs.readFileSync(file, 'utf8').includes('(x * 2)'), true, 'the file on disk is untouched');
  });

  it('a runaway loop is stopped at the limit and reported at the line it was running', async () => {
    const text = 'import torch\nx = torch.ones(3, requires_grad=True)\nn = 0\nwhile True:\n    n = n + 1  # @loop\n';
    const { file, out } = await runModel(runner(), tmp(), 'loop.py', text, { python, timeoutMs: 1000 });
    const e = expectError(out);
    assert.equal(e.kind, 'timeout');
    assert.equal(e.file, file);
    assert.ok(e.line === 4 || e.line === lineOf(text, '# @loop'), `at line ${e.line}`);
    assert.match(e.message, /1 s/);
  });

  it('a model past the memory limit is stopped and says so', async () => {
    const text = 'import torch\nkeep = []\nfor i in range(100):\n    keep.append(torch.ones(10_000_000))  # @grow\nx = torch.ones(1, requires_grad=True)\n(x * 2).sum().backward()\n';
    const e = expectError((await runModel(runner(), tmp(), 'grow.py', text, { python, memoryMb: 300, timeoutMs: 60_000 })).out);
    assert.equal(e.kind, 'memory');
    assert.match(e.message, /300 MB/);
  });

  it('the script exiting on its own is reported, and the runner goes on', async () => {
    const e = expectError((await runModel(runner(), tmp(), 'exit.py', 'import sys\nimport torch\nsys.exit(3)\n', { python })).out);
    assert.ok(['runtime', 'export'].includes(e.kind), e.kind);
    const s = expectOk((await runModel(runner(), tmp(), 'after.py', 'import torch\nx = torch.tensor(2.0, requires_grad=True)\n(x * x).backward()\n', { python })).out);
    assert.equal(s.nodes.length, 2);
  });

  it('a chosen Python without torch is refused, naming it and what to install', async () => {
    const missing = path.join(tmp(), 'no-such-python');
    await assert.rejects(findPython([{ executable: missing, source: 'setting' }]), (e: Error) => e.message.includes(missing) && /apt-get install python3-torch|pip install torch/.test(e.message));
    const probe = await probePython(missing);
    assert.ok('problem' in probe);
  });

  it('the CLI prints the same snapshot schema for a .py file', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'backprop-lens.js'), 'trace', path.join(ROOT, 'examples', '11-pytorch-add-mul.py'), '--json', '--python', python.executable], { encoding: 'utf8' });
    const json = JSON.parse(out) as { version: number; output: number; nodes: { name: string | null; grad: number[] | null }[]; backward: unknown[] };
    assert.equal(json.version, 1);
    assert.deepEqual(json.nodes.find((n) => n.name === 'x')?.grad, [-4]);
    assert.equal(json.backward.length, 2);
  });
});
