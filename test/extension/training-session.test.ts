/**
 * The panel's training session with the real runner and worker (no VS Code needed: the host is a
 * recorder): run to the end, step from idle, pause, reset mid-run (the old run's progress is not
 * forwarded), an untrusted workspace, and a model error reported with its line.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { TrainingSession, type TrainingHost } from '../../extension/training';
import { liveModelProcesses } from '../../extension/runner/model-process';
import type { GraphSnapshot, HostMessage } from '../../extension/protocol';
import { ROOT, useRunner, useTempDir, writeFile, lineOf } from '../runner/helpers';
import { findPython } from '../../extension/runner/python';
import { findTorchPython } from '../oracle/torch';

type Msg = Extract<HostMessage, { type: 'trainStatus' | 'trainProgress' | 'analysis' }>;

describe('TrainingSession (panel training)', function () {
  const runner = useRunner();
  const tmp = useTempDir('bpl-session-');

  // a finished run keeps its worker for inspections until the session is disposed
  const sessions: TrainingSession[] = [];
  afterEach(() => {
    for (const s of sessions.splice(0)) s.dispose();
  });

  function session(file: string, trusted = true, more: Partial<TrainingHost> = {}) {
    const messages: Msg[] = [];
    const graphs: { runId: number; step: number; snapshot: GraphSnapshot }[] = [];
    let resets = 0;
    let wake: (() => void) | null = null;
    const host: TrainingHost = {
      runner: runner(), file, trusted: () => trusted,
      post: (m) => {
        if (m.type === 'trainStatus' || m.type === 'trainProgress' || m.type === 'analysis') messages.push(m);
        wake?.();
      },
      graph: (runId, step, snapshot) => {
        graphs.push({ runId, step, snapshot });
        wake?.();
      },
      graphReset: () => {
        resets++;
        wake?.();
      },
      log: () => {},
      options: () => ({ timeoutMs: 10_000 }),
      backend: () => 'cpu',
      progress: (_title, work) => void work(() => {}, () => {}),
      ...more,
    };
    const s = new TrainingSession(host);
    sessions.push(s);
    const until = (test: (m: Msg) => boolean) => new Promise<Msg>((resolve) => {
      const check = () => {
        const hit = messages.find(test);
        if (hit) resolve(hit);
        else wake = check;
      };
      check();
    });
    const untilGraph = (step: number) => new Promise<GraphSnapshot>((resolve) => {
      const check = () => {
        const hit = graphs.find((g) => g.step === step);
        if (hit) resolve(hit.snapshot);
        else wake = check;
      };
      check();
    });
    const statuses = () => messages.flatMap((m) => (m.type === 'trainStatus' ? [m.status] : []));
    return { s, messages, until, untilGraph, graphs, statuses, resets: () => resets };
  }

  const MOONS = path.join(ROOT, 'examples', '08-moons-mlp.ts');

  it('run: running → progress → done, with overrides applied', async () => {
    const { s, until, messages } = session(MOONS);
    await s.handle('run', { steps: 30, optimizer: 'sgd', lr: 0.1 });
    const done = await until((m) => m.type === 'trainStatus' && m.status === 'done');
    assert.equal(done.type === 'trainStatus' && done.step, 30);
    const progress = messages.filter((m) => m.type === 'trainProgress');
    const steps = progress.flatMap((m) => (m.type === 'trainProgress' ? m.progress.history.map((h) => h.step) : []));
    assert.deepEqual(steps, Array.from({ length: 30 }, (_, i) => i + 1));
    assert.ok(progress.every((m) => m.type === 'trainProgress' && m.progress.history.every((h) => h.lr === 0.1)));
    assert.equal(s.state.status, 'done');
    assert.deepEqual(s.state.lifecycle, { kind: 'done' });
  });

  it('step from idle takes exactly one step and pauses; reset forgets the run', async () => {
    const { s, until, statuses, resets } = session(MOONS);
    await s.handle('step');
    await until((m) => m.type === 'trainProgress' && m.progress.step === 1 && m.progress.paused);
    // the worker's paused report settled the single step: one state, the reducer's
    assert.deepEqual(s.state.lifecycle, { kind: 'paused', settled: true });
    await s.handle('step');
    assert.deepEqual(s.state.lifecycle, { kind: 'stepping', remaining: 1 });
    assert.equal(s.state.status, 'paused', 'a run taking single steps shows as paused');
    await until((m) => m.type === 'trainProgress' && m.progress.step === 2 && m.progress.paused);
    assert.deepEqual(s.state.lifecycle, { kind: 'paused', settled: true });
    const before = s.state.runId;
    s.reset();
    assert.equal(s.state.status, 'idle');
    assert.equal(s.state.lifecycle.kind, 'idle');
    assert.ok(s.state.runId > before);
    assert.deepEqual(statuses().slice(-1), ['idle']);
    assert.equal(resets(), 1, 'the panel goes back to the file\'s own graph');
  });

  it('the first Step after a Reset takes step 1 of a new run, from the initial weights, and the graph follows to it', async () => {
    const { s, until, untilGraph, graphs, messages } = session(MOONS);
    await s.handle('run', { steps: 40 });
    await until((m) => m.type === 'trainStatus' && m.status === 'done');
    const first = messages.find((m) => m.type === 'trainProgress' && m.progress.history.length > 0);
    const firstLoss = first?.type === 'trainProgress' ? first.progress.history[0].loss : NaN;
    const trained = s.state.runId;
    s.reset();
    const count = messages.length;
    graphs.length = 0;
    await s.handle('step');
    const stepped = await until((m) => messages.indexOf(m) >= count && m.type === 'trainProgress' && m.progress.paused && m.progress.step === 1);
    assert.ok(stepped.type === 'trainProgress' && stepped.runId > trained && stepped.runId === s.state.runId, 'the step belongs to a new run');
    // the same first loss as the run before the reset: it starts again from the file's initial weights
    assert.equal(stepped.type === 'trainProgress' && stepped.progress.history[0]?.loss, firstLoss);
    const graph = await untilGraph(1);
    assert.ok(graph.nodes.length > 0, 'the graph at step 1');
    assert.deepEqual(s.state.lifecycle, { kind: 'paused', settled: true });
  });

  it('pause stops the steps; run resumes the same run', async () => {
    const { s, until, messages } = session(MOONS);
    await s.handle('run', { steps: 1_000_000 });
    await until((m) => m.type === 'trainProgress' && m.progress.step > 50);
    await s.handle('pause');
    const paused = await until((m) => m.type === 'trainProgress' && m.progress.paused);
    const at = paused.type === 'trainProgress' ? paused.progress.step : -1;
    assert.deepEqual(s.state.lifecycle, { kind: 'paused', settled: true });
    const runId = s.state.runId;
    await s.handle('run');
    assert.equal(s.state.lifecycle.kind, 'running');
    await until((m) => m.type === 'trainProgress' && m.progress.step > at + 50);
    assert.equal(s.state.runId, runId, 'resume keeps the run');
    s.reset();
    const count = messages.length;
    await new Promise<void>((r) => setImmediate(r));
    assert.ok(messages.slice(count).every((m) => m.type !== 'trainProgress'), 'nothing from the cancelled run');
  });

  it('closing the panel while a run starts (bundling, forking) ends it: no model process is left, nothing more is posted', async () => {
    const { s, messages } = session(MOONS);
    const starting = s.handle('run', { steps: 1_000_000 });
    s.dispose();
    const count = messages.length;
    await starting;
    const deadline = Date.now() + 20_000;
    while (liveModelProcesses() > 0) {
      assert.ok(Date.now() < deadline, 'the training process outlived its closed panel');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(messages.slice(count).every((m) => m.type !== 'trainProgress'), 'progress from a closed panel\'s run');
  });

  it('a PyTorch script trains itself in Python, also under the "auto" backend (no GPU run waits for a plan), with the Python that traced it; no graph is taken of its steps', async () => {
    const t = findTorchPython();
    const python = await findPython([{ executable: t.executable, source: 'environment' }]);
    const { s, until, messages, graphs } = session(path.join(ROOT, 'examples', '13-pytorch-watch-vanishing.py'), true, { backend: () => 'auto', options: () => ({ timeoutMs: 60_000, python }) });
    await s.handle('run', {});
    const done = await until((m) => m.type === 'trainStatus' && (m.status === 'done' || m.status === 'error'));
    assert.ok(done.type === 'trainStatus' && done.status === 'done' && done.step === 200, JSON.stringify(done));
    assert.deepEqual(done.type === 'trainStatus' && done.backend, { kind: 'pytorch', adapter: `${python.torch} · ${python.executable}`, note: 'The script trains itself; watch(model) reports its steps.' });
    const steps = messages.flatMap((m) => (m.type === 'trainProgress' ? m.progress.history.map((h) => h.step) : []));
    assert.deepEqual(steps, Array.from({ length: 200 }, (_, i) => i + 1));
    assert.deepEqual(graphs, []);
  });

  it('refuses to run in an untrusted workspace', async () => {
    const { s, until } = session(MOONS, false);
    await s.handle('run');
    const m = await until((x) => x.type === 'trainStatus' && x.status === 'error');
    assert.match(m.type === 'trainStatus' ? m.message ?? '' : '', /Restricted Mode/);
  });

  it('reports a model error with its file and line', async () => {
    const text = `import { param, optim, defineTraining } from 'backprop-lens';
const x = param([1, 2]);
export default defineTraining({ params: [x], steps: 5, loss: () => x.reshape([3]).sum() }); // @bad
`;
    const file = writeFile(tmp(), 'bad.ts', text);
    const { s, until } = session(file);
    await s.handle('run');
    const m = await until((x) => x.type === 'trainStatus' && x.status === 'error');
    assert.match(m.type === 'trainStatus' ? m.message ?? '' : '', new RegExp(`bad\\.ts:${lineOf(text, '@bad')}: .*reshape`));
  });

  describe('the graph follows the run, and the analysis tools', () => {
    /** Waits for the answer to analysis request `id`. */
    const answer = async (until: ReturnType<typeof session>['until'], id: number) => {
      const m = await until((x) => x.type === 'analysis' && x.requestId === id);
      assert.ok(m.type === 'analysis');
      return m;
    };

    it('after the last step the graph holds the parameters the run ended with', async () => {
      const { s, until, untilGraph } = session(MOONS);
      await s.handle('run', { steps: 30 });
      await until((m) => m.type === 'trainStatus' && m.status === 'done');
      const graph = await untilGraph(30);
      // the same run, headless: the trained parameters the graph must show
      const out = await (await runner().train(MOONS, { overrides: { steps: 30 } })).done;
      assert.ok(out.ok);
      const params = graph.nodes.filter((n) => n.leaf === 'param');
      assert.equal(params.length, out.result.params.length);
      for (const p of out.result.params) {
        const node = params.find((n) => `${n.scope}.${n.name}` === p.name);
        assert.ok(node, `the graph has ${p.name}`);
        assert.deepEqual(Array.from(node.value ?? []), p.value.map((v) => Math.fround(v)), `${p.name} at step 30`);
        assert.ok(node.grad, `${p.name} has its gradient at step 30`);
      }
    });

    it('a single step from idle: the graph shows step 1', async () => {
      const { s, untilGraph } = session(MOONS);
      await s.handle('step');
      const graph = await untilGraph(1);
      assert.ok(graph.nodes.length > 10 && graph.training, 'a traced training step with its training info');
    });

    it('gradient check from idle: every parameter of the moons MLP passes at step 0', async () => {
      const { s, until } = session(MOONS);
      await s.analyze(1, { kind: 'gradcheck' });
      const m = await answer(until, 1);
      assert.ok(m.result?.kind === 'gradcheck', m.error?.message);
      const r = m.result.report;
      assert.equal(r.step, 0);
      assert.deepEqual(r.params.map((p) => p.name), ['model.layers.0.weight', 'model.layers.0.bias', 'model.layers.2.weight', 'model.layers.2.bias']);
      assert.ok(r.passed && r.params.every((p) => p.passed && p.checked === p.size && p.maxRelError < r.rtol), JSON.stringify(r.params));
      assert.equal(s.state.status, 'paused', 'the check started a paused run');
    });

    it('gradient check: a gradient backprop cannot see fails, on the parameter it belongs to', async () => {
      const text = `import { param, optim, defineTraining } from 'backprop-lens';
const a = param([0.5, -1.5, 2]).named('a');
const b = param([1, 2]).named('b');
// detach() hides a·a from backprop: ∂/∂a is a, not 2a
export default defineTraining({ params: [a, b], loss: () => a.mul(a.detach()).sum().add(b.pow(2).sum()), optimizer: optim.sgd({ lr: 0.1 }), steps: 5 });
`;
      const { s, until } = session(writeFile(tmp(), 'detached.ts', text));
      await s.analyze(7, { kind: 'gradcheck' });
      const m = await answer(until, 7);
      assert.ok(m.result?.kind === 'gradcheck', m.error?.message);
      const [a, b] = m.result.report.params;
      assert.equal(m.result.report.passed, false);
      assert.equal(a.name, 'a');
      assert.equal(a.passed, false);
      assert.ok(Math.abs(a.numeric - 2 * a.analytic) < 1e-6, `numeric ${a.numeric} = 2 × backprop ${a.analytic}`);
      assert.equal(b.passed, true);
    });

    it('an analysis pauses a running run and answers at the step where it paused', async () => {
      const { s, until } = session(MOONS);
      await s.handle('run', { steps: 1_000_000 });
      await until((m) => m.type === 'trainProgress' && m.progress.step > 100);
      await s.analyze(2, { kind: 'landscape', twoD: true, range: 0.5, seed: 1 });
      const m = await answer(until, 2);
      assert.ok(m.result?.kind === 'landscape', m.error?.message);
      const r = m.result.report;
      assert.equal(s.state.status, 'paused');
      const paused = await until((x) => x.type === 'trainProgress' && x.progress.paused);
      assert.ok(paused.type === 'trainProgress' && r.step === paused.progress.step, `landscape at step ${r.step}`);
      assert.ok(r.step > 100);
      assert.equal(r.alphas.length, r.losses1d.length);
      const mid = (r.alphas.length - 1) / 2, mid2 = (r.betas!.length - 1) / 2;
      assert.equal(r.alphas[mid], 0);
      assert.equal(r.losses1d[mid], r.center, 'the 1-D slice passes through L(θ)');
      assert.equal(r.losses2d![mid2][mid2], r.center, 'and so does the 2-D slice');
      assert.match(r.on, /training examples/);
      // a trained model sits in a valley: moving away along d₁ raises the loss at both ends
      assert.ok(r.losses1d[0] > r.center && r.losses1d[r.losses1d.length - 1] > r.center, JSON.stringify(r.losses1d));
    });

    it('playground on the file\'s own loss of two numbers: the end point is a minimum with the Hessian\'s eigenvalues, and the file\'s parameters are left as they were', async () => {
      const text = `import { param, optim, defineTraining } from 'backprop-lens';
const x = param(1.5).named('x');
const y = param(-1).named('y');
export default defineTraining({ params: [x, y], loss: () => x.pow(2).mul(2).add(y.pow(2)), optimizer: optim.sgd({ lr: 0.1 }), steps: 10 });
`;
      const { s, until } = session(writeFile(tmp(), 'bowl.ts', text));
      await s.analyze(3, { kind: 'playground', surface: 'file', runs: [{ optimizer: 'sgd', lr: 0.1 }, { optimizer: 'adam', lr: 0.05 }], steps: 300 });
      const m = await answer(until, 3);
      assert.ok(m.result?.kind === 'playground', m.error?.message);
      const r = m.result.report;
      assert.deepEqual(r.start, [1.5, -1]);
      assert.match(r.title, /x, y/);
      const sgd = r.trajectories[0];
      assert.equal(sgd.points.length, 301);
      assert.equal(sgd.end.kind, 'minimum');
      assert.ok(Math.hypot(...sgd.end.point) < 1e-6);
      assert.ok(Math.abs(sgd.end.eigenvalues[0] - 2) < 1e-4 && Math.abs(sgd.end.eigenvalues[1] - 4) < 1e-4, `eigenvalues ${sgd.end.eigenvalues}`);
      // x takes sgd's steps: x ← x − 0.1·4x
      assert.ok(Math.abs(sgd.points[1][0] - 1.5 * 0.6) < 1e-6);
      assert.equal(r.grid.z.length, r.grid.ys.length);
      assert.equal(r.grid.z[0].length, r.grid.xs.length);
      // the run's own first step still starts from (1.5, −1)
      await s.handle('step');
      const g = await until((x) => x.type === 'trainProgress' && x.progress.step === 1);
      assert.ok(g.type === 'trainProgress');
      assert.equal(g.progress.history[0].loss, 2 * 1.5 ** 2 + 1);
    });

    it('playground on the moons file says why it needs two numbers; the built-in saddle still runs', async () => {
      const { s, until } = session(MOONS);
      await s.analyze(4, { kind: 'playground', surface: 'file', runs: [{ optimizer: 'sgd', lr: 0.1 }], steps: 10 });
      const m = await answer(until, 4);
      assert.equal(m.result, null);
      assert.match(m.error?.message ?? '', /exactly two numbers/);
      await s.analyze(5, { kind: 'playground', surface: 'saddle', runs: [{ optimizer: 'sgd', lr: 0.1 }], steps: 50 });
      const ok = await answer(until, 5);
      assert.ok(ok.result?.kind === 'playground');
      const t = ok.result.report.trajectories[0];
      // x² − y² from (1, 0.01): x shrinks, y grows — sgd leaves the saddle point along y
      assert.ok(Math.abs(t.end.point[0]) < 1e-3 && Math.abs(t.end.point[1]) > 1, JSON.stringify(t.end));
    });

    it('refuses an analysis in an untrusted workspace', async () => {
      const { s, until } = session(MOONS, false);
      await s.analyze(6, { kind: 'gradcheck' });
      const m = await answer(until, 6);
      assert.match(m.error?.message ?? '', /Restricted Mode/);
    });
  });
});
