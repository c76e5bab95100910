/**
 * watch(model) in the user's own PyTorch training loop, as Train and `backprop-lens train` run it
 * (runPythonTrain: `python -m backprop_lens train FILE`, the records on fd 3, the controls on stdin)
 * and as a plain `python script.py` with log_dir runs it (the log read back by readWatchLog). The
 * records are checked against torch itself (watch_oracle.py trains the same model without watch),
 * the diagnosis against a network whose gradients vanish and a healthy one. No sleeps: the tests
 * wait for the run's own progress reports.
 */
import * as assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { findPython, runPythonTrain, type PythonRunOptions } from '../../extension/runner/python';
import type { PythonInfo, TrainOptions, TrainOutcome, TrainProgress } from '../../extension/runner/types';
import type { TrainResult } from '../../engine/train/trainer';
import type { LayerStats } from '../../engine/stats/layers';
import { readWatchLog } from '../../engine/train/watch';
import { findTorchPython } from '../oracle/torch';
import { ensureBuilt, lineOf, useTempDir, writeFile } from '../runner/helpers';
import { PACKAGE_DIR, ROOT, runScript } from './helpers';

const EXAMPLE = path.join(ROOT, 'examples', '13-pytorch-watch-vanishing.py');

/** A deep ReLU network with He initialisation on the same data as the vanishing example. */
const HEALTHY = `import torch
from torch import nn
from backprop_lens import watch

torch.manual_seed(0)
inputs = torch.randn(256, 8)
targets = (inputs[:, :1] * inputs[:, 1:2] > 0).float()
layers = []
for i in range(6):
    linear = nn.Linear(8 if i == 0 else 32, 32)
    nn.init.kaiming_normal_(linear.weight, nonlinearity='relu')
    nn.init.zeros_(linear.bias)
    layers += [linear, nn.ReLU()]
model = nn.Sequential(*layers, nn.Linear(32, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
loss_fn = nn.BCEWithLogitsLoss()
watch(model, every=20)
for step in range(100):
    optimizer.zero_grad()
    loss = loss_fn(model(inputs), targets)
    loss.backward()
    optimizer.step()
`;

/** A loop long enough to be paused, stepped, resumed and stopped; it says when it gets past the loop. */
const LONG = `import torch
from torch import nn
from backprop_lens import watch

torch.manual_seed(1)
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Linear(8, 1))
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(32, 4)
y = torch.randn(32, 1)
watch(model, every=10)
for step in range(1_000_000):
    optimizer.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
print('past the loop')
`;

/** Trains 6 steps, then raises in a helper at the 7th. */
const RAISES = `import torch
from torch import nn
from backprop_lens import watch

def check(step):
    if step == 6:
        raise ValueError('the data ran out')  # @raise

torch.manual_seed(2)
model = nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(8, 3)
watch(model, every=2)
for step in range(10):
    check(step)  # @call
    optimizer.zero_grad()
    loss = (model(x) ** 2).mean()
    loss.backward()
    optimizer.step()
`;

interface Oracle {
  steps: {
    step: number; loss: number; lr: number; gradNorm: number;
    layers?: (Record<'weight' | 'weightGrad' | 'output' | 'outputGrad', Record<string, number>> & {
      name: string; activation: string | null; gradMeanAbs: number; gradMaxAbs: number; dead: number | null; saturated: number | null; updateRatio: number;
    })[];
  }[];
}

/** |a − b| within a relative tolerance (float32 tensors summarized in float64 against torch's float64 of the same floats). */
function close(actual: unknown, expected: number, what: string, rel = 1e-5, abs = 1e-9): void {
  assert.equal(typeof actual, 'number', `${what}: ${String(actual)}`);
  const a = actual as number;
  assert.ok(Math.abs(a - expected) <= rel * Math.abs(expected) + abs, `${what}: ${a} against torch's ${expected}`);
}

describe('watch(model): a PyTorch training loop watched', function () {
  this.timeout(120_000);
  const tmp = useTempDir('bpl-watch-');
  let python: PythonInfo;
  before(async () => {
    python = await findPython([{ executable: findTorchPython().executable, source: 'environment' }]);
  });

  /** runPythonTrain as the runner calls it; resolves with the outcome and every progress report. */
  // a test that fails mid-run leaves no Python process behind (it would keep mocha alive)
  const live = new Set<ReturnType<typeof runPythonTrain>>();
  afterEach(() => {
    for (const r of live) r.cancel();
    live.clear();
  });

  function train(file: string, opts: Partial<TrainOptions> = {}, drive?: (p: TrainProgress, run: ReturnType<typeof runPythonTrain>) => void) {
    const reports: TrainProgress[] = [];
    const options: PythonRunOptions & TrainOptions = {
      python, packageDir: PACKAGE_DIR, progressMs: 0, timeoutMs: 60_000, ...opts,
      onProgress: (p) => {
        reports.push(p);
        drive?.(p, run);
      },
    };
    const run = runPythonTrain(file, options);
    live.add(run);
    return run.done.then((out) => {
      live.delete(run);
      return { out, reports };
    });
  }

  function ok(out: TrainOutcome): TrainResult {
    if (!out.ok) assert.fail(`the run failed: ${out.errors.map((e) => `${e.kind}: ${e.message} (${e.file}:${e.line})`).join('\n')}\n${out.logs.map((l) => l.text).join('\n')}`);
    return out.result;
  }

  it('the deep sigmoid example (the CLI, --json): vanishing gradients named at the first layer; every step\'s loss, layers every 20 steps', async () => {
    ensureBuilt();
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'bin', 'backprop-lens.js'), 'train', EXAMPLE, '--json', '--python', python.executable], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as TrainResult;
    assert.equal(r.steps, 200);
    assert.equal(r.stoppedEarly, null);
    assert.deepEqual(r.history.map((h) => h.step), Array.from({ length: 200 }, (_, i) => i + 1), 'every step has its loss');
    assert.ok(r.history.every((h) => Number.isFinite(h.loss) && h.lr === 0.5 && h.gradNorm > 0));
    assert.deepEqual(r.layers.map((l) => l.step), [1, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200]);
    const first = r.layers[0].layers;
    assert.deepEqual(first.map((l) => [l.name, l.type, l.activation]), [
      ...[0, 2, 4, 6, 8, 10].map((i) => [`model.${i}`, 'linear', 'sigmoid']), ['model.12', 'linear', null]]);
    const v = r.diagnosis.find((f) => f.code === 'vanishing-gradient');
    assert.ok(v, `findings: ${r.diagnosis.map((f) => f.code).join(', ')}`);
    assert.equal(v.layer, 'model.0');
    assert.ok(v.fixes.some((f) => f.id === 'use-relu'));
    const last = r.layers[r.layers.length - 1].layers;
    assert.ok(last[0].gradMeanAbs! < 1e-2 * last[last.length - 1].gradMeanAbs!);
  });

  it('a healthy ReLU network (He initialisation) gets no finding', async () => {
    const r = ok((await train(writeFile(tmp(), 'healthy.py', HEALTHY))).out);
    assert.equal(r.steps, 100);
    assert.deepEqual(r.layers.map((l) => l.step), [1, 20, 40, 60, 80, 100]);
    assert.ok(r.layers.every((l) => l.layers.length === 7 && l.layers.slice(0, 6).every((x) => x.activation === 'relu' && x.dead !== null)));
    assert.deepEqual(r.diagnosis.map((f) => `${f.code} ${f.layer}: ${f.message}`), []);
  });

  it("records what torch computes: loss, lr (a StepLR), gradient norm, each layer's weights, gradients, activations, their gradients and update ratio", async () => {
    const [{ out, reports }, oracle] = await Promise.all([train(path.join(__dirname, 'watch_mlp.py')), runScript<Oracle>('watch_oracle.py', {})]);
    const r = ok(out);
    assert.equal(r.steps, oracle.steps.length);
    assert.ok(reports.length >= 2 && reports.every((p) => !p.paused));
    for (const o of oracle.steps) {
      const h = r.history.find((x) => x.step === o.step)!;
      close(h.loss, o.loss, `loss at step ${o.step}`);
      close(h.lr, o.lr, `lr at step ${o.step}`);
      close(h.gradNorm, o.gradNorm, `gradient norm at step ${o.step}`);
      const logged = r.layers.find((l) => l.step === o.step);
      assert.equal(!!logged, !!o.layers, `layers at step ${o.step}`);
      if (!o.layers) continue;
      const layers: LayerStats[] = logged!.layers;
      assert.deepEqual(layers.map((l) => [l.name, l.activation]), o.layers.map((l) => [l.name, l.activation]));
      o.layers.forEach((e, i) => {
        const l = layers[i];
        const at = `${e.name} at step ${o.step}`;
        for (const k of ['weight', 'weightGrad', 'output', 'outputGrad'] as const) {
          const st = l[k]!;
          assert.equal(st.count, e[k].count, `${k} count, ${at}`);
          for (const f of ['mean', 'std', 'norm', 'min', 'max'] as const) close(st[f], e[k][f], `${k}.${f}, ${at}`, 1e-5, 1e-9 * e[k].norm);
          close(st.zeros, e[k].zeros, `${k}.zeros, ${at}`);
          assert.equal(st.histogram.counts.reduce((a, b) => a + b, 0), st.count, `${k} histogram, ${at}`);
          assert.equal(st.logHistogram.counts.reduce((a, b) => a + b, 0), st.count - Math.round(st.zeros * st.count), `${k} log histogram, ${at}`);
        }
        close(l.gradMeanAbs, e.gradMeanAbs, `gradMeanAbs, ${at}`);
        close(l.gradMaxAbs, e.gradMaxAbs, `gradMaxAbs, ${at}`);
        close(l.updateRatio, e.updateRatio, `updateRatio, ${at}`, 1e-4);
        if (e.dead === null) assert.equal(l.dead, null);
        else close(l.dead, e.dead, `dead, ${at}`);
        if (e.saturated === null) assert.equal(l.saturated, null);
        else close(l.saturated, e.saturated, `saturated, ${at}`);
      });
    }
  });

  it('counts optimizer steps (SGD, Adam, lr schedulers made before or after watch(), an optimizer only a helper holds, a subclass calling super().step(), accumulation), backward() calls without one, and takes .log() for the right step', async () => {
    const script = `import json, os, torch
from torch import nn
from backprop_lens import watch

x = torch.linspace(-1, 1, 32).reshape(8, 4)
y = torch.linspace(0, 1, 8).reshape(8, 1)

def mk():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(inplace=True), nn.Linear(8, 1))

def steps(d):
    return [json.loads(l) for l in open(os.path.join(d, 'backprop-lens.jsonl')) if '"watch-step"' in l]

def run(d, make, n, every=3, log=None):
    model = mk()
    opt, sched, w = make(model, d, every)
    true = []
    for i in range(n):
        if opt: opt.zero_grad()
        else: model.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        true.append(loss.item())
        if log == 'before': w.log(loss * 0 + 100 + i)
        loss.backward()
        if opt: opt.step()
        else:
            with torch.no_grad():
                for p in model.parameters(): p -= 0.1 * p.grad
        if sched: sched.step()
        if log == 'after': w.log(200.0 + i)
    w.close()
    s = steps(d)
    return {'steps': [r['step'] for r in s], 'lr': [r['lr'] for r in s], 'loss': [r['loss'] for r in s], 'true': true,
            'layers': [r['step'] for r in s if 'layers' in r], 'ratio': [l.get('updateRatio') for r in s if 'layers' in r for l in r['layers']]}

def before(model, d, every):  # Adam and StepLR made before watch()
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
    return opt, sched, watch(model, every=every, log_dir=d)

def after(model, d, every):  # SGD and ExponentialLR made after it
    w = watch(model, every=every, log_dir=d)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return opt, torch.optim.lr_scheduler.ExponentialLR(opt, 0.5), w

class Trainer:
    def __init__(self, model):
        self.parts = {'opt': torch.optim.SGD(model.parameters(), lr=0.2)}
        self.parts['sched'] = torch.optim.lr_scheduler.StepLR(self.parts['opt'], 1, gamma=0.5)

def hidden(model, d, every):  # only a helper object holds them, two levels down
    t = Trainer(model)
    return t.parts['opt'], t.parts['sched'], watch(model, every=every, log_dir=d)

class MySGD(torch.optim.SGD):
    def step(self, closure=None):
        return super().step(closure)

def subclass(model, d, every):
    return MySGD(model.parameters(), lr=0.05), None, watch(model, every=every, log_dir=d)

def by_hand(model, d, every):
    return None, None, watch(model, every=every, log_dir=d)

out = {k: run(k, f, 5) for k, f in [('before', before), ('after', after), ('hidden', hidden), ('subclass', subclass), ('hand', by_hand)]}
out['logBefore'] = run('logBefore', before, 3, log='before')
out['logAfter'] = run('logAfter', after, 3, log='after')
# gradient accumulation: two backward() per optimizer step
model = mk()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
w = watch(model, every=1, log_dir='accum')
for i in range(3):
    opt.zero_grad()
    for k in range(2):
        ((model(x[4 * k:4 * k + 4]) - y[4 * k:4 * k + 4]) ** 2).mean().backward()
    opt.step()
w.close()
out['accum'] = {'steps': [r['step'] for r in steps('accum')], 'outputs': [l['output']['count'] for l in steps('accum')[0]['layers']]}
print(json.dumps(out))
`;
    const dir = tmp();
    const file = writeFile(dir, 'steps.py', script);
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: PACKAGE_DIR };
    delete env.BPL_FD;
    const { stdout } = await promisify(execFile)(python.executable, [file], { cwd: dir, env, encoding: 'utf8' });
    type Run = { steps: number[]; lr: (number | null)[]; loss: number[]; true: number[]; layers: number[]; ratio: (number | null)[] };
    const out = JSON.parse(stdout) as Record<string, Run> & { accum: { steps: number[]; outputs: number[] } };
    for (const k of ['before', 'after', 'hidden', 'subclass', 'hand']) {
      assert.deepEqual(out[k].steps, [1, 2, 3, 4, 5], k);
      assert.deepEqual(out[k].loss, out[k].true, `${k}: the loss backward() was called on`);
      assert.deepEqual(out[k].layers, [1, 3], `${k}: layers at the first step and every 3rd`);
      assert.ok(out[k].ratio.every((r) => typeof r === 'number' && r > 0), `${k}: update ratios ${JSON.stringify(out[k].ratio)}`);
    }
    assert.deepEqual(out.before.lr, [0.1, 0.1, 0.05, 0.05, 0.025], 'the lr each step ran with (StepLR made before watch)');
    assert.deepEqual(out.after.lr.map((v) => Number(v!.toFixed(6))), [0.1, 0.05, 0.025, 0.0125, 0.00625]);
    assert.deepEqual(out.hidden.lr, [0.2, 0.1, 0.05, 0.025, 0.0125], 'an optimizer only a helper holds, its scheduler made before watch()');
    assert.deepEqual(out.subclass.lr, [0.05, 0.05, 0.05, 0.05, 0.05], 'super().step() is one step');
    assert.deepEqual(out.hand.lr, [null, null, null, null, null], 'no optimizer: each backward() is a step');
    assert.deepEqual(out.logBefore.loss, [100, 101, 102], '.log() before backward(): its own step');
    assert.deepEqual(out.logAfter.loss, [200, 201, 202], '.log() after step(): the step that just ended');
    assert.deepEqual(out.accum.steps, [1, 2, 3], 'two backward() per optimizer step');
    assert.deepEqual(out.accum.outputs, [32, 4], "the first micro-batch's activations");
  });

  it('single steps asked for while paused run exactly that many steps, whether the request comes before the script reaches its pause or while it waits there', async () => {
    const script = `
import json, threading, time
from backprop_lens.watch import Controls, StopTraining

def run(early):
    c = Controls()
    c.paused = True
    if early:
        c.handle({'type': 'step', 'count': 3})  # before the boundary after step 1
    else:
        threading.Timer(0.05, lambda: c.handle({'type': 'step', 'count': 3})).start()
    waits = []
    def before_wait():
        waits.append(step)
        if len(waits) == (1 if early else 2):
            c.handle({'type': 'stop'})  # the next wait ends the run
    step = 1
    try:
        while True:
            c.checkpoint(before_wait)
            step += 1
    except StopTraining:
        pass
    return {'last': step, 'waits': waits}

print(json.dumps({'early': run(True), 'waiting': run(False)}))
`;
    const { stdout } = await promisify(execFile)(python.executable, ['-c', script], { env: { ...process.env, PYTHONPATH: PACKAGE_DIR } });
    const r = JSON.parse(stdout) as Record<string, { last: number; waits: number[] }>;
    // steps 2, 3 and 4 run; the script waits after step 4 (and, when the request came later, after step 1 first)
    assert.deepEqual(r.early, { last: 4, waits: [4] });
    assert.deepEqual(r.waiting, { last: 4, waits: [1, 4] });
  });

  it('pause, single steps and stop: a run started paused waits after its first step, runs exactly the steps asked for, and stops there', async () => {
    const seen: number[] = [];
    let asked = false;
    let stopped = false;
    const { out } = await train(writeFile(tmp(), 'long.py', LONG), { paused: true }, (p, run) => {
      seen.push(p.step);
      if (p.step === 1 && !asked) {
        asked = true;
        run.step(3);
      } else if (p.step === 4 && !stopped) {
        stopped = true;
        run.stop();
      }
    });
    const r = ok(out);
    assert.equal(r.steps, 4, `steps seen: ${seen.join(', ')}`);
    assert.equal(r.stoppedEarly, 'stopped');
    assert.deepEqual(r.history.map((h) => h.step), [1, 2, 3, 4]);
    assert.ok(!out.logs.some((l) => l.text.includes('past the loop')), 'stop ends the script');
  });

  it("an unsaved buffer trains (Train with unsaved edits), and controls sent with it still arrive", async () => {
    const file = writeFile(tmp(), 'unsaved.py', 'raise SystemExit("the file on disk ran")\n');
    let asked = false;
    let stopped = false;
    const { out } = await train(file, { paused: true, contents: LONG.replace('every=10', 'every=5') }, (p, run) => {
      if (p.step === 1 && !asked) {
        asked = true;
        run.step(2);
      } else if (p.step === 3 && !stopped) {
        stopped = true;
        run.stop();
      }
    });
    const r = ok(out);
    assert.deepEqual(r.history.map((h) => h.step), [1, 2, 3], 'paused from the first step, then two single steps');
    assert.deepEqual(r.layers.map((l) => l.step), [1], "the buffer's every=5");
    assert.equal(r.stoppedEarly, 'stopped');
  });

  it('resume, then pause and stop while it runs: every step up to the stop has its loss', async () => {
    let resumed = false;
    let paused = false;
    const { out } = await train(writeFile(tmp(), 'long2.py', LONG), { paused: true }, (p, run) => {
      if (!resumed) {
        resumed = true;
        run.resume();
      } else if (p.step >= 30 && !paused) {
        paused = true;
        run.pause();
        run.stop();
      }
    });
    const r = ok(out);
    assert.ok(r.steps >= 30, `${r.steps} steps`);
    assert.equal(r.stoppedEarly, 'stopped');
    assert.deepEqual(r.history.map((h) => h.step), Array.from({ length: r.steps }, (_, i) => i + 1));
    assert.deepEqual(r.layers.map((l) => l.step), [1, ...Array.from({ length: Math.floor(r.steps / 10) }, (_, i) => 10 * (i + 1))]);
  });

  it('a script that raises: the error at its line, the steps before it kept', async () => {
    const file = writeFile(tmp(), 'raises.py', RAISES);
    const { out, reports } = await train(file);
    assert.ok(!out.ok, 'the run fails');
    const e = out.errors[0];
    assert.equal(e.kind, 'runtime');
    assert.match(e.message, /ValueError: the data ran out/);
    assert.equal(e.file, file);
    assert.equal(e.line, lineOf(RAISES, '# @raise'));
    assert.ok(e.stack?.includes(`line ${lineOf(RAISES, '# @call')}`), e.stack);
    assert.deepEqual(out.partial?.history.map((h) => h.step), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(out.partial?.layers.map((l) => l.step), [1, 2, 4, 6]);
    assert.ok(reports.length > 0);
  });

  it('log_dir: a plain `python script.py` appends the records to backprop-lens.jsonl, which reads back as the same run', async () => {
    const dir = tmp();
    const text = fs.readFileSync(EXAMPLE, 'utf8').replace(/^watch\(model, every=20\)$/m, "watch(model, every=20, log_dir='runs/x')");
    assert.notEqual(text, fs.readFileSync(EXAMPLE, 'utf8'));
    const file = writeFile(dir, 'logged.py', text);
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: PACKAGE_DIR, PYTHONDONTWRITEBYTECODE: '1' };
    delete env.BPL_FD;
    const plain = await promisify(execFile)(python.executable, [file], { cwd: dir, env, encoding: 'utf8' });
    assert.equal(plain.stdout, '', 'nothing on stdout: the records go to the log');
    const log = path.join(dir, 'runs', 'x', 'backprop-lens.jsonl');
    const { run, problems } = readWatchLog(fs.readFileSync(log, 'utf8'));
    assert.deepEqual(problems, []);
    assert.equal(run.start?.file, file);
    assert.equal(run.end?.reason, 'finished');
    const fromLog = run.result();

    // the same script through the runner: the same history and diagnosis, and the log gets a second run
    fs.renameSync(log, `${log}.first`);
    const viaRunner = ok((await train(file)).out);
    assert.deepEqual(fromLog.history, viaRunner.history);
    assert.deepEqual(fromLog.layers.map((l) => l.step), viaRunner.layers.map((l) => l.step));
    assert.deepEqual(fromLog.diagnosis.map((f) => [f.code, f.layer]), viaRunner.diagnosis.map((f) => [f.code, f.layer]));
    assert.ok(fromLog.diagnosis.some((f) => f.code === 'vanishing-gradient' && f.layer === 'model.0'));
    const second = readWatchLog(fs.readFileSync(log, 'utf8')).run.result();
    assert.deepEqual(second.history, viaRunner.history, 'run from the runner, it writes the log as well');
  });

  it('does nothing with no runner and no log_dir, on a torch.distributed rank other than 0', async () => {
    const script = `import json, os, sys, torch
from torch import nn
import torch.distributed as dist
from backprop_lens import watch
model = nn.Linear(2, 1)
before = torch.autograd.backward
plain = watch(model)
dist.is_initialized = lambda: True
dist.get_rank = lambda: 1
dist.get_world_size = lambda: 2
ranked = watch(model, log_dir='never')
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model(torch.ones(1, 2)).sum().backward()
opt.step()
plain.log(1.0)
plain.close()
print(json.dumps([type(plain).__name__, type(ranked).__name__, os.path.exists('never'),
                  torch.autograd.backward is before, getattr(torch.optim.SGD.step, '_bpl_watch', None)]))
`;
    const dir = tmp();
    const file = writeFile(dir, 'nothing.py', script);
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: PACKAGE_DIR };
    delete env.BPL_FD;
    const { stdout } = await promisify(execFile)(python.executable, [file], { cwd: dir, env, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(stdout), ['_NoWatch', '_NoWatch', false, true, null], 'no handle, no log folder, nothing patched');
  });

  it('a script that never calls watch() is reported as such', async () => {
    const { out } = await train(writeFile(tmp(), 'unwatched.py', 'import torch\nprint(torch.ones(2).sum().item())\n'));
    assert.ok(!out.ok);
    assert.match(out.errors[0].message, /without calling watch\(model\)/);
    assert.ok(out.logs.some((l) => l.text === '2.0'));
  });

  it('the package checks its arguments', async () => {
    const py = (code: string) => new Promise<string>((resolve) => {
      const child = spawn(python.executable, ['-c', code], { env: { ...process.env, PYTHONPATH: PACKAGE_DIR } });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', () => resolve(err));
    });
    assert.match(await py('from backprop_lens import watch\nwatch(3)'), /TypeError: watch\(\) takes the torch.nn.Module/);
    assert.match(await py('import torch\nfrom backprop_lens import watch\nwatch(torch.nn.Linear(1, 1), every=0)'), /ValueError: watch\(every=\.\.\.\)/);
  });
});
