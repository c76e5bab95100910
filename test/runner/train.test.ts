/**
 * Training through the real runner (bundled model, worker thread) and the real CLI: the training
 * examples learn what their headers promise, `train --json` has the fields, overrides
 * apply, progress streams, a run can be paused, stepped and stopped, and bad files, failing steps
 * and endless steps are reported at their lines without losing the steps already taken.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainOutcome, TrainProgress } from '../../extension/runner/types';
import type { TrainResult } from '../../engine/train/trainer';
import { formatNumber } from '../../engine/format';
import { ROOT, expectOk, formatError, lineOf, useRunner, useTempDir, writeFile } from './helpers';

const BIN = path.join(ROOT, 'bin', 'backprop-lens.js');
const EXAMPLES = path.join(ROOT, 'examples');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(out: TrainOutcome): TrainResult {
  if (!out.ok) assert.fail(`expected training to finish, got:\n${out.errors.map(formatError).join('\n')}`);
  return out.result;
}

function failed(out: TrainOutcome) {
  if (out.ok) assert.fail(`expected training to fail; it ran ${out.result.steps} steps`);
  return out;
}

const firstLoss = (r: TrainResult) => r.history[0].loss;
const lastLoss = (r: TrainResult) => r.history[r.history.length - 1].loss;

describe('training: runner and CLI', function () {
  const runner = useRunner();
  const tmp = useTempDir('bpl-train-');
  const train = async (file: string, opts = {}) => (await runner().train(file, opts)).done;

  describe('the training examples', () => {
    it('07: SGD on x² takes x to 10·0.6¹⁰', async () => {
      const r = ok(await train(path.join(EXAMPLES, '07-minimize-quadratic.ts')));
      assert.equal(r.steps, 10);
      assert.equal(r.params[0].name, 'x');
      assert.ok(Math.abs(r.params[0].value[0] - 10 * 0.6 ** 10) < 1e-5, `x = ${r.params[0].value[0]}`);
      // one parameter: the result carries its trajectory, x = 10·0.6ᵗ from step 0 (float32)
      assert.deepEqual(r.trajectory!.names, ['x']);
      assert.deepEqual(r.trajectory!.points.map((p) => p.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      r.trajectory!.points.forEach((p) => assert.ok(Math.abs(p.values[0] - 10 * 0.6 ** p.step) < 1e-5, `step ${p.step}: ${p.values[0]}`));
    });

    it('08: the moons MLP learns (training and validation loss fall) with no warnings', async () => {
      const r = ok(await train(path.join(EXAMPLES, '08-moons-mlp.ts')));
      const val = r.history.filter((h) => h.valLoss !== undefined);
      assert.ok(lastLoss(r) < 0.3 * firstLoss(r), `loss ${firstLoss(r)} → ${lastLoss(r)}`);
      assert.ok(val[val.length - 1].valLoss! < 0.5 * val[0].valLoss!);
      assert.deepEqual(r.diagnosis.filter((d) => d.severity !== 'info').map((d) => d.message), []);
      assert.equal(r.trajectory, undefined, 'no trajectory for 65 parameter values');
      assert.deepEqual(r.params.map((p) => [p.name, p.shape]), [['model.layers.0.weight', [16, 2]], ['model.layers.0.bias', [16]], ['model.layers.2.weight', [1, 16]], ['model.layers.2.bias', [1]]]);
    });

    it('09: the deep sigmoid network is diagnosed with vanishing gradients, in training and in the traced graph', async () => {
      const file = path.join(EXAMPLES, '09-deep-sigmoid-vanishing.ts');
      const r = ok(await train(file, { overrides: { steps: 20 } }));
      const f = r.diagnosis.find((d) => d.code === 'vanishing-gradient');
      assert.ok(f, JSON.stringify(r.diagnosis));
      assert.equal(f.layer, 'deep.layers.0');
      // the finding points at the line that created the layer
      const text = fs.readFileSync(file, 'utf8');
      assert.equal(f.source?.line, lineOf(text, 'hidden.push(nn.linear'));
      const snap = expectOk(await runner().run(file));
      const d = snap.diagnosis.find((x) => x.code === 'vanishing-gradient');
      assert.ok(d, JSON.stringify(snap.diagnosis));
      assert.ok(d.node !== null && snap.nodes[d.node].scope === 'deep.layers.0' && snap.nodes[d.node].leaf === 'param');
      assert.ok(d.fixes?.some((x) => x.id === 'use-relu'));
      assert.equal(snap.layers?.length, 7);
    });

    it('10: XOR is learned (loss below 0.05) and the predictions are right', async () => {
      const r = ok(await train(path.join(EXAMPLES, '10-xor-train.ts')));
      assert.ok(lastLoss(r) < 0.05, `final loss ${lastLoss(r)}`);
    });

    it('16: the attention model learns which character comes next (accuracy on the training set rises above 70%)', async () => {
      const r = ok(await train(path.join(EXAMPLES, '16-char-attention.ts')));
      const logged = r.history.filter((h) => h.valAccuracy !== undefined);
      assert.ok(logged[logged.length - 1].accuracy! >= 0.7, `training accuracy at the end: ${logged[logged.length - 1].accuracy}`);
      assert.ok(lastLoss(r) < r.history[0].loss / 3, `loss ${r.history[0].loss} → ${lastLoss(r)}`);
      assert.deepEqual(r.layers[0].layers.map((l) => [l.name, l.type]), [['model.embed', 'embedding'], ['model.position', 'embedding'], ['model.attention', 'multiheadAttention'], ['model.head', 'linear']]);
    });

    it('15: the CNN learns the digits: validation accuracy of at least 95% at the end, in the CLI\'s JSON too; each conv layer has its summaries', async () => {
      const file = path.join(EXAMPLES, '15-digits-cnn.ts');
      const r = ok(await train(file));
      const logged = r.history.filter((h) => h.valAccuracy !== undefined);
      const last = logged[logged.length - 1];
      assert.equal(last.step, r.steps);
      assert.ok(last.valAccuracy! >= 0.95, `validation accuracy at the end: ${last.valAccuracy}`);
      assert.ok(logged[0].valAccuracy! < 0.5, `at the start it guesses: ${logged[0].valAccuracy}`);
      assert.deepEqual(r.layers[r.layers.length - 1].layers.map((l) => [l.name, l.type, l.activation]), [['cnn.conv1', 'conv2d', 'relu'], ['cnn.conv2', 'conv2d', 'relu'], ['cnn.head', 'linear', null]]);
      assert.deepEqual(r.diagnosis.map((d) => d.code), [], 'a healthy run (and pixels are not per-feature badly scaled inputs)');
      assert.ok(r.test && r.test.accuracy! >= 0.93, `the test set at the end: ${JSON.stringify(r.test)}`);
      const { execFileSync } = await import('node:child_process');
      const json = JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'bin', 'backprop-lens.js'), 'train', file, '--json', '--steps', '20'], { encoding: 'utf8' }).trim().split('\n').pop()!) as { history: { step: number; accuracy?: number; valAccuracy?: number }[]; test: { loss: number; accuracy: number } };
      assert.ok(json.history.some((h) => typeof h.accuracy === 'number' && typeof h.valAccuracy === 'number'), 'history[].accuracy and valAccuracy in train --json');
      assert.equal(typeof json.test.accuracy, 'number');
      const table = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'backprop-lens.js'), 'train', file, '--steps', '20'], { encoding: 'utf8' });
      assert.match(table, /step +loss +val loss +acc +val acc +lr/);
      assert.match(table, /^test set: loss [\d.]+, accuracy [\d.]+%$/m);
    });
  });

  describe('controls and progress', () => {
    const MODEL = `import { nn, optim, losses, data, defineTraining } from 'backprop-lens';
export default defineTraining({
  model: nn.sequential(nn.linear(2, 8, { seed: 1 }), nn.relu(), nn.linear(8, 1, { seed: 2 })),
  data: data.moons({ n: 64, seed: 0 }), loss: losses.bceWithLogits, optimizer: optim.adam({ lr: 0.01 }), steps: 100000,
});
`;
    it('starts paused, takes single steps, resumes with streaming progress, and stops with the result so far', async () => {
      const file = writeFile(tmp(), 'long.ts', MODEL);
      const reports: TrainProgress[] = [];
      let notify: (() => void) | null = null;
      const next = (test: (p: TrainProgress) => boolean) => new Promise<TrainProgress>((resolve) => {
        const check = () => {
          const hit = reports.find(test);
          if (hit) resolve(hit);
          else notify = check;
        };
        check();
      });
      const run = await runner().train(file, { paused: true, progressMs: 20, onProgress: (p) => { reports.push(p); notify?.(); } });
      const first = await next((p) => p.paused);
      assert.equal(first.step, 0);
      run.step(3);
      const stepped = await next((p) => p.step === 3 && p.paused);
      assert.ok(stepped.history.length >= 1);
      run.resume();
      await next((p) => !p.paused && p.step > 200);
      run.stop();
      const r = ok(await run.done);
      assert.ok(r.steps > 200 && r.steps < 100000, `stopped at ${r.steps}`);
      assert.ok(reports.length >= 3, 'progress streamed while running');
      const steps = reports.flatMap((p) => p.history.map((h) => h.step));
      assert.deepEqual(steps, [...steps].sort((a, b) => a - b), 'history arrives in order, without repeats');
      assert.equal(new Set(steps).size, steps.length);
    });

    it('cancel ends the worker at once', async () => {
      const file = writeFile(tmp(), 'cancel.ts', MODEL);
      const run = await runner().train(file);
      run.cancel();
      const out = failed(await run.done);
      assert.match(out.errors[0].message, /cancelled/);
    });
  });

  describe('errors', () => {
    it('a file that does not export a training spec', async () => {
      const text = `import { scalar } from 'backprop-lens';\nconst x = scalar(1);\nexport default x.mul(2); // @export\n`;
      const out = failed(await train(writeFile(tmp(), 'plain.ts', text)));
      assert.equal(out.errors[0].kind, 'export');
      assert.equal(out.errors[0].line, lineOf(text, '@export'));
      assert.match(out.errors[0].message, /defineTraining/);
    });

    it('a layer with the wrong in-features: the shape error is placed on that layer\'s nn.linear line (training, Show Graph, the CLI)', async () => {
      const text = `import { nn, optim, losses, data, defineTraining } from 'backprop-lens';

const model = nn.sequential(
  nn.linear(2, 8),
  nn.relu(),
  nn.linear(4, 1), // @wrong
);

export default defineTraining({
  model,
  data: data.moons({ n: 40, seed: 0 }),
  loss: losses.bceWithLogits,
  optimizer: optim.adam({ lr: 0.01 }),
  steps: 5,
});
`;
      const file = writeFile(tmp(), 'wrong-in-features.ts', text);
      const line = lineOf(text, '@wrong');
      const trained = failed(await train(file));
      assert.equal(trained.errors[0].kind, 'shape');
      assert.equal(trained.errors[0].file, file);
      assert.equal(trained.errors[0].line, line, trained.errors[0].message);
      assert.match(trained.errors[0].message, /8 features .* expects 4 \(in layer sequential\.layers\.2\)/);
      // Show Graph on the file traces its first step: the same place
      const shown = await runner().run(file);
      assert.ok(!shown.ok);
      assert.deepEqual([shown.errors[0].kind, shown.errors[0].line], ['shape', line]);
      const r = cli('train', file);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.startsWith(`${file}:${line}:`), r.stderr);
    });

    it('a shape error in a layer the user\'s code calls stays at the call, and names the layer\'s line', async () => {
      const text = `import { nn, tensor } from 'backprop-lens';
const model = nn.sequential(nn.linear(2, 8), nn.relu(), nn.linear(4, 1)); // @layers
const out = model.forward(tensor([[1, 2]])); // @call
export default out.sum();
`;
      const out = await runner().run(writeFile(tmp(), 'call.ts', text));
      assert.ok(!out.ok);
      assert.equal(out.errors[0].line, lineOf(text, '@call'));
      assert.match(out.errors[0].message, new RegExp(`in layer sequential\\.layers\\.2, created at line ${lineOf(text, '@layers')}\\)`));
    });

    it('a loss that throws at step 3 is reported at its line, with the steps before it', async () => {
      const text = `import { param, optim, defineTraining } from 'backprop-lens';
const x = param(2);
let calls = 0;
export default defineTraining({
  params: [x], optimizer: optim.sgd({ lr: 0.1 }), steps: 10, logEvery: 1,
  loss: () => {
    if (++calls === 3) throw new Error('boom at step three'); // @throw
    return x.pow(2);
  },
});
`;
      const file = writeFile(tmp(), 'throws.ts', text);
      const out = failed(await train(file, { progressMs: 0 }));
      assert.equal(out.errors[0].line, lineOf(text, '@throw'));
      assert.equal(out.errors[0].file, file);
      assert.match(out.errors[0].message, /boom at step three/);
      assert.equal(out.partial?.step, 2);
      assert.deepEqual(out.partial?.history.map((h) => h.step), [1, 2]);
    });

    it('a step that never ends is stopped by the per-step timeout and reported at its line', async function () {
      this.timeout(30_000);
      const text = `import { param, optim, defineTraining } from 'backprop-lens';
const x = param(2);
let calls = 0;
export default defineTraining({
  params: [x], optimizer: optim.sgd({ lr: 0.1 }), steps: 1000,
  loss: () => {
    if (++calls === 50) for (;;) {} // @spin
    return x.pow(2);
  },
});
`;
      const out = failed(await train(writeFile(tmp(), 'spin.ts', text), { timeoutMs: 1500 }));
      assert.equal(out.errors[0].kind, 'timeout');
      assert.equal(out.errors[0].line, lineOf(text, '@spin'));
      assert.match(out.errors[0].message, /A training step ran longer than 1\.5 s and was stopped \(after 49 steps\)/);
    });
  });

  describe('inspections of a paused or finished run', () => {
    it('a kept run answers after its last step; cancel ends it and later inspections say so', async () => {
      const run = await runner().train(path.join(EXAMPLES, '07-minimize-quadratic.ts'), { keepAlive: true });
      const out = await run.done;
      assert.ok(out.ok);
      const g = await run.inspect({ kind: 'graph' });
      assert.ok(g.ok && 'graph' in g);
      assert.equal(g.graph.step, out.result.steps);
      const x = g.graph.snapshot.nodes.find((n) => n.leaf === 'param');
      assert.deepEqual(Array.from(x?.value ?? []), out.result.params[0].value.map((v) => Math.fround(v)), 'the graph holds the final x');
      run.cancel();
      const after = await run.inspect({ kind: 'gradcheck' });
      assert.ok(!after.ok);
      assert.match(after.error.message, /cancelled/);
    });

    it('an inspection that never ends is stopped at 6× the step timeout, and the run ends with the reason', async function () {
      this.timeout(30_000);
      const text = `import { param, optim, defineTraining } from 'backprop-lens';
const x = param(2);
let calls = 0;
export default defineTraining({
  params: [x], optimizer: optim.sgd({ lr: 0.1 }), steps: 10,
  loss: () => {
    if (++calls > 1) for (;;) {} // @spin: the gradient check's second call never returns
    return x.pow(2);
  },
});
`;
      const run = await runner().train(writeFile(tmp(), 'spin-inspect.ts', text), { paused: true, timeoutMs: 400 });
      const t0 = Date.now();
      const o = await run.inspect({ kind: 'gradcheck' });
      assert.ok(!o.ok);
      assert.equal(o.error.kind, 'timeout');
      assert.match(o.error.message, /The gradient check took longer than 2\.4 s and was stopped\. It was running line \d+\. The limit is 6× the "backpropLens\.timeoutMs" setting\./);
      assert.equal(o.error.line, lineOf(text, '@spin'));
      assert.ok(Date.now() - t0 >= 2400);
      const out = await run.done;
      assert.ok(!out.ok && out.errors[0].kind === 'timeout');
    });

    it('an inspection that throws is reported with its line, and the run goes on', async () => {
      const text = `import { param, optim, defineTraining } from 'backprop-lens';
const x = param([1, 2, 3]);
export default defineTraining({ params: [x], steps: 5, loss: () => x.pow(2).sum() });
`;
      const run = await runner().train(writeFile(tmp(), 'three.ts', text), { paused: true });
      const o = await run.inspect({ kind: 'playground', surface: 'file', runs: [{ optimizer: 'sgd', lr: 0.1 }], steps: 5 });
      assert.ok(!o.ok);
      assert.match(o.error.message, /exactly two numbers/);
      run.step(5);
      const out = await run.done;
      assert.ok(out.ok, 'the run still trains');
      assert.equal(out.result.steps, 5);
    });
  });

  describe('the graph at a training step (the panel\'s, and trace --at-step)', () => {
    const MOONS = path.join(EXAMPLES, '08-moons-mlp.ts');
    const paramGrads = (s: import('../../engine/trace/snapshot').GraphSnapshot) => s.nodes.filter((n) => n.leaf === 'param').map((n) => Array.from(n.grad ?? []));
    const norm = (gs: number[][]) => Math.sqrt(gs.flat().reduce((a, g) => a + g * g, 0));

    it('shows the loss and gradients of the step the run takes next, from zeroed gradients', async () => {
      const whole = ok(await train(MOONS));
      for (const step of [0, 1, 7]) {
        const s = expectOk(await runner().graphAtStep(MOONS, step));
        const next = whole.history.find((h) => h.step === step + 1)!;
        assert.equal(s.nodes[s.output].scalar, next.loss, `step ${step}: the graph's loss is step ${step + 1}'s`);
        // the gradient norm the optimizer saw at that step, from the graph's own parameter gradients
        assert.ok(Math.abs(norm(paramGrads(s)) / next.gradNorm - 1) < 1e-6, `step ${step}: |∂L/∂θ| ${norm(paramGrads(s))} vs the run's ${next.gradNorm}`);
      }
    });

    it('reports the optimizer as the file set it (its learning rate, not the one a schedule has reached), in the graph and in train --json', async () => {
      // a cosine schedule takes the rate from 0.01 to almost 0 by the end: the panel's lr input must keep 0.01
      const s = expectOk(await runner().graphAtStep(MOONS, 50, { overrides: { schedule: 'cosine', steps: 60 } }));
      assert.equal(s.training!.optimizer.lr, 0.01);
      const r = ok(await train(MOONS, { overrides: { schedule: 'cosine', steps: 60 } }));
      assert.equal(r.optimizer.lr, 0.01);
      assert.ok(r.history[r.history.length - 1].lr < 1e-4, 'the schedule did lower the rate');
    });

    it('at step 0 it is the graph Show Graph traces', async () => {
      const a = expectOk(await runner().graphAtStep(MOONS, 0));
      const b = expectOk(await runner().run(MOONS));
      assert.deepEqual(a.nodes.map((n) => [n.op, n.name, n.value, n.grad]), b.nodes.map((n) => [n.op, n.name, n.value, n.grad]));
    });

    it('leaves the run as it was: a run traced at steps 3 and 5 (twice) ends exactly like one that was not', async () => {
      const file = writeFile(tmp(), 'bn-dropout.ts', `
import { nn, optim, losses, data, defineTraining } from 'backprop-lens';
export default defineTraining({
  model: nn.sequential(nn.linear(2, 8, { seed: 1 }), nn.batchNorm1d(8), nn.relu(), nn.dropout(0.3, { seed: 5 }), nn.linear(8, 1, { seed: 2 })),
  data: data.moons({ n: 120, noise: 0.1, seed: 3 }), validation: 0.25,
  loss: losses.bceWithLogits, optimizer: optim.adam({ lr: 0.01 }), batchSize: 16, steps: 12,
});
`);
      const whole = ok(await train(file));
      const run = await runner().train(file, { paused: true, keepAlive: true });
      const atStep = (n: number) => new Promise<void>((resolve) => {
        const poll = async () => {
          const o = await run.inspect({ kind: 'graph' });
          assert.ok(o.ok && 'graph' in o);
          if (o.graph.step >= n) resolve();
          else setImmediate(poll);
        };
        void poll();
      });
      run.step(3);
      await atStep(3);
      await run.inspect({ kind: 'graph' });
      run.step(2);
      await atStep(5);
      const g = await run.inspect({ kind: 'graph' });
      assert.ok(g.ok && 'graph' in g);
      assert.equal(g.graph.snapshot.nodes[g.graph.snapshot.output].scalar, whole.history.find((h) => h.step === 6)!.loss);
      run.resume();
      const r = ok(await run.done);
      run.cancel();
      assert.deepEqual(r.history, whole.history);
      assert.deepEqual(r.params, whole.params);
    });

    it('trace --at-step N --json prints that snapshot; past the end it says how many steps the file trains', () => {
      const r = cli('trace', MOONS, '--at-step', '1', '--json');
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as { nodes: { leaf: string | null; grad: number[] }[] };
      assert.equal(s.nodes.filter((n) => n.leaf === 'param').length, 4);
      const past = cli('trace', path.join(EXAMPLES, '07-minimize-quadratic.ts'), '--at-step', '11');
      assert.equal(past.code, 1);
      assert.match(past.stderr, /trains 10 steps; there is no training step 11/);
      const bad = cli('trace', MOONS, '--at-step', '1.5');
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--at-step expects an integer ≥ 0/);
    });
  });

  describe('backprop-lens train', () => {
    it('--json carries the parameter trajectory of a small model (x = 10·0.6ᵗ on x², examples/07) and none for the 65 values of the moons MLP', () => {
      const r = cli('train', path.join(EXAMPLES, '07-minimize-quadratic.ts'), '--json');
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as TrainResult;
      assert.deepEqual(doc.trajectory!.names, ['x']);
      assert.deepEqual(doc.trajectory!.points.map((pt) => pt.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      doc.trajectory!.points.forEach((pt) => assert.ok(Math.abs(pt.values[0] - 10 * 0.6 ** pt.step) < 1e-5, `step ${pt.step}: ${pt.values[0]}`));
      const big = JSON.parse(cli('train', path.join(EXAMPLES, '08-moons-mlp.ts'), '--json', '--steps', '2').stdout) as TrainResult;
      assert.equal(big.trajectory, undefined);
    });

    it('--json prints { history, params, layers, diagnosis } with the issue\'s fields', () => {
      const r = cli('train', path.join(EXAMPLES, '08-moons-mlp.ts'), '--json', '--steps', '40');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, 1);
      const doc = JSON.parse(r.stdout);
      for (const k of ['history', 'params', 'layers', 'diagnosis']) assert.ok(Array.isArray(doc[k]), `missing ${k}`);
      assert.equal(doc.history.length, 40);
      for (const h of doc.history) {
        assert.ok(Number.isInteger(h.step) && typeof h.loss === 'number' && typeof h.lr === 'number' && typeof h.gradNorm === 'number');
      }
      assert.ok(doc.history.some((h: { valLoss?: number }) => typeof h.valLoss === 'number'), 'the example holds out a validation set');
      for (const p of doc.params) assert.ok(typeof p.name === 'string' && Array.isArray(p.shape) && p.value.length === p.shape.reduce((a: number, b: number) => a * b, 1));
      const l = doc.layers[doc.layers.length - 1];
      assert.equal(l.step, 40);
      assert.deepEqual(l.layers.map((x: { name: string }) => x.name), ['model.layers.0', 'model.layers.2']);
      for (const k of ['weight', 'weightGrad', 'output', 'gradMeanAbs', 'gradMaxAbs', 'dead']) assert.ok(k in l.layers[0], `layer lacks ${k}`);
      assert.ok(Array.isArray(l.layers[0].weight.histogram.counts));
    });

    it('--optimizer, --lr, --steps, --batch-size and --seed override the spec', () => {
      const r = cli('train', path.join(EXAMPLES, '08-moons-mlp.ts'), '--json', '--optimizer', 'rmsprop', '--lr', '0.003', '--steps', '5', '--batch-size', '8', '--seed', '3');
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.optimizer.optimizer, 'rmsprop');
      assert.equal(doc.optimizer.lr, 0.003);
      assert.deepEqual([doc.steps, doc.batchSize, doc.seed], [5, 8, 3]);
      assert.ok(doc.history.every((h: { lr: number }) => h.lr === 0.003));
    });

    it('--schedule replaces the file\'s schedule with a preset sized to the run', () => {
      const r = cli('train', path.join(EXAMPLES, '08-moons-mlp.ts'), '--json', '--schedule', 'polynomial', '--steps', '4', '--lr', '0.02');
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.schedule.kind, 'polynomial');
      // linear decay to 0 over the 4 steps
      assert.deepEqual(doc.history.map((h: { lr: number }) => h.lr), [0.02, 0.015, 0.01, 0.005]);
    });

    it('prints a table and the diagnosis with fixes without --json', () => {
      const r = cli('train', path.join(EXAMPLES, '09-deep-sigmoid-vanishing.ts'), '--steps', '5');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^sgd \(lr 0\.5/);
      assert.match(r.stdout, /step\s+loss/);
      assert.match(r.stdout, /warning: Gradients vanish with depth/);
      assert.match(r.stdout, /try: Use ReLU/);
    });

    it('prints the validation loss at every row (the logged steps), the final parameters, the layers and "no problems found"', () => {
      const file = path.join(EXAMPLES, '08-moons-mlp.ts');
      const r = cli('train', file, '--steps', '100');
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(cli('train', file, '--steps', '100', '--json').stdout) as TrainResult;
      const lines = r.stdout.trimEnd().split('\n');
      const head = lines.findIndex((l) => /^step\s+loss\s+val loss/.test(l));
      assert.ok(head > 0, r.stdout);
      const rows = [];
      for (let i = head + 1; i < lines.length && /^\s*\d+\s/.test(lines[i]); i++) rows.push(lines[i].trim().split(/\s+/));
      assert.ok(rows.length >= 10 && rows.length <= 25, `${rows.length} rows`);
      assert.equal(rows[0][0], '1');
      assert.equal(rows[rows.length - 1][0], '100');
      for (const row of rows) {
        const entry = doc.history.find((h) => h.step === Number(row[0]))!;
        assert.ok(entry.valLoss !== undefined, `step ${row[0]} is a logged step (it has a validation loss)`);
        assert.equal(row[2], formatNumber(entry.valLoss), `the validation loss at step ${row[0]}`);
      }
      // 65 parameter values: a summary of each tensor, in the JSON's order, with its mean
      const at = lines.findIndex((l) => l.startsWith('final parameters (65 values'));
      assert.ok(at > 0, r.stdout);
      doc.params.forEach((p, i) => {
        const cells = lines[at + 2 + i].trim().split(/\s+/);
        assert.equal(cells[0], p.name);
        assert.equal(cells[1], p.shape.join('×'));
        assert.equal(cells[2], formatNumber(p.value.reduce((a, b) => a + b, 0) / p.value.length), `mean of ${p.name}`);
      });
      const layers = lines.findIndex((l) => l.startsWith('layers at step 100'));
      assert.ok(layers > at, r.stdout);
      assert.deepEqual(lines.slice(layers + 2, layers + 4).map((l) => l.trim().split(/\s+/).slice(0, 3)), [['model.layers.0', 'linear', 'relu'], ['model.layers.2', 'linear', formatNumber(doc.layers[doc.layers.length - 1].layers[1].weight!.mean!)]]);
      assert.deepEqual(doc.diagnosis.filter((d) => d.severity !== 'info'), []);
      assert.match(lines[lines.length - 1], /^diagnosis: no problems found/);
    });

    it('prints every parameter value of a small model', () => {
      const r = cli('train', path.join(EXAMPLES, '07-minimize-quadratic.ts'));
      assert.equal(r.code, 0, r.stderr);
      // SGD with lr 0.2 on x² from 10: x ← 0.6·x, ten times
      assert.match(r.stdout, new RegExp(`final parameters \\(1 value\\):\\n  x\\s+scalar\\s+${formatNumber(10 * 0.6 ** 10).replace('.', '\\.')}\\n`));
      const xor = cli('train', path.join(EXAMPLES, '10-xor-train.ts'), '--json');
      const doc = JSON.parse(xor.stdout) as TrainResult;
      const text = cli('train', path.join(EXAMPLES, '10-xor-train.ts')).stdout;
      const w = doc.params.find((p) => p.shape.length === 2 && p.shape[0] > 1)!;
      const [rows, cols] = w.shape;
      for (let i = 0; i < rows; i++) {
        const row = `[${w.value.slice(i * cols, (i + 1) * cols).map(formatNumber).join(', ')}]`;
        assert.ok(text.includes(row), `row ${i} of ${w.name}, ${row}, in:\n${text}`);
      }
    });

    it('refuses bad options with the usage', () => {
      const file = path.join(EXAMPLES, '07-minimize-quadratic.ts');
      for (const [args, re] of [
        [['--optimizer', 'lbfgs'], /--optimizer must be one of sgd, adagrad/],
        [['--lr', 'fast'], /--lr expects a number/],
        [['--steps', '0'], /--steps expects a positive integer/],
        [['--schedule', 'warp'], /--schedule must be one of constant, step/],
        [['--max-nodes', '5'], /apply to trace and report/],
      ] as const) {
        const r = cli('train', file, ...args);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}`);
        assert.match(r.stderr, re);
      }
      const t = cli('trace', file, '--lr', '0.1');
      assert.equal(t.code, 1);
      assert.match(t.stderr, /--lr applies to train \(or with --at-step\)/);
      const u = cli('train', file, '--at-step', '2');
      assert.equal(u.code, 1);
      assert.match(u.stderr, /--at-step applies to trace and report/);
    });
  });
});
