/**
 * The panel's training on WebGPU, end to end without a browser: the real TrainingSession, runner
 * and model worker on the host side; the webview's PanelGpu on Dawn (Node) on the other; every
 * message between them goes through a JSON round trip that keeps typed arrays (as VS Code's
 * postMessage does) and, towards the host, through `parseWebviewMessage`.
 *
 * XOR and moons train to the CPU run's loss history; pause and single steps land on the GPU and the
 * graph follows; a dynamic graph and a lost device both go on on the CPU with a note, and the
 * fallback run ends where an all-CPU run ends.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { TrainingSession, type TrainingHost } from '../../extension/training';
import { parseWebviewMessage, type BackendSetting, type HostMessage, type TrainBackend, type WebviewMessage } from '../../extension/protocol';
import { PanelGpu } from '../../webview/gpu/gpuTraining';
import { ROOT, useRunner, useTempDir, writeFile } from '../runner/helpers';
import { nodeGpu } from './nodeGpu';

/** JSON with typed arrays as tagged base64, like VS Code's webview message serialization (NaN, ±∞ survive only in typed arrays). */
function roundTrip<T>(m: T): T {
  const text = JSON.stringify(m, (_k, v) => {
    if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array) {
      return { $typed: v.constructor.name, data: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    }
    return v;
  });
  const ctors = { Float32Array, Float64Array, Int32Array } as const;
  return JSON.parse(text, (_k, v) => {
    if (v && typeof v === 'object' && typeof v.$typed === 'string') {
      const bytes = Buffer.from(v.data, 'base64');
      const C = ctors[v.$typed as keyof typeof ctors];
      return new C(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
    return v;
  }) as T;
}

type Status = Extract<HostMessage, { type: 'trainStatus' }>;
type Progress = Extract<HostMessage, { type: 'trainProgress' }>;

describe('training on WebGPU in the panel (session ↔ PanelGpu on Dawn)', function () {
  this.timeout(180_000);
  const runner = useRunner();
  const tmp = useTempDir('bpl-gpu-session-');
  const sessions: TrainingSession[] = [];
  afterEach(() => {
    for (const s of sessions.splice(0)) s.dispose();
  });

  async function setup(file: string, opts: { backend?: BackendSetting; gpu?: 'dawn' | 'none' | 'software' } = {}) {
    const { rt } = await nodeGpu();
    const statuses: Status[] = [];
    const analyses: Extract<HostMessage, { type: 'analysis' }>[] = [];
    const progress: Progress[] = [];
    const toPanel: string[] = [];
    const graphs: number[] = [];
    const waiters = new Set<() => void>();
    const poke = () => waiters.forEach((f) => f());
    let session!: TrainingSession;
    const fromPanel = (m: WebviewMessage) => {
      const parsed = parseWebviewMessage(roundTrip(m));
      assert.ok(parsed.ok, `the host accepts the panel's ${m.type}: ${parsed.ok ? '' : parsed.reason}`);
      const msg = parsed.message;
      if (msg.type === 'gpuStarted' || msg.type === 'gpuCheckpoint' || msg.type === 'gpuFailed') session.gpuMessage(msg);
      poke();
    };
    // the panel's GPU: the suite's Dawn device, or none (a panel without navigator.gpu)
    const panel = new PanelGpu(() => undefined, fromPanel, {
      syncEvery: 16, checkpointMs: 50,
      open: opts.gpu === 'none' ? undefined : async () => ({ rt, info: { name: 'Dawn (test)', fallback: opts.gpu === 'software' } }),
    });
    const host: TrainingHost = {
      runner: runner(), file, trusted: () => true,
      post: (m) => {
        if (m.type === 'trainStatus') statuses.push(m);
        if (m.type === 'trainProgress') progress.push(m);
        if (m.type === 'analysis') analyses.push(m);
        if (m.type === 'gpuTrain' || m.type === 'gpuControl') {
          toPanel.push(m.type === 'gpuControl' ? m.action : 'train');
          panel.handle(roundTrip(m));
        }
        poke();
      },
      graph: (_runId, step) => {
        graphs.push(step);
        poke();
      },
      graphReset: () => {},
      log: () => {},
      options: () => ({ timeoutMs: 20_000 }),
      backend: () => opts.backend ?? 'auto',
      progress: (_title, work) => void work(() => {}, () => {}),
    };
    session = new TrainingSession(host);
    sessions.push(session);
    const until = <T>(what: string, test: () => T | null | undefined | false, ms = 120_000) => new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; last status ${JSON.stringify(statuses.at(-1))}`));
      }, ms);
      const check = () => {
        const hit = test();
        if (!hit) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(hit);
      };
      waiters.add(check);
      check();
    });
    const history = () => progress.flatMap((p) => p.progress.history);
    const backend = () => statuses.map((s) => s.backend).filter((b): b is TrainBackend => !!b).at(-1);
    return { session, statuses, analyses, progress, history, backend, until, toPanel, graphs, panel, rt };
  }

  /** The same run on the CPU only (the reference). */
  async function cpuHistory(file: string, overrides = {}) {
    const run = await runner().train(file, { overrides });
    const out = await run.done;
    assert.ok(out.ok, out.ok ? '' : out.errors[0].message);
    return out.result;
  }

  function assertMatches(got: { step: number; loss: number }[], want: { step: number; loss: number }[], tol: number, what: string) {
    assert.deepEqual(got.map((h) => h.step), want.map((h) => h.step), `${what}: the same steps`);
    let worst = 0;
    want.forEach((h, i) => (worst = Math.max(worst, Math.abs(got[i].loss - h.loss) / Math.max(1e-6, Math.abs(h.loss)))));
    assert.ok(worst <= tol, `${what}: loss history within ${tol} of the CPU run (max rel ${worst.toExponential(2)})`);
    return worst;
  }

  for (const [name, file] of [['XOR (examples/10)', '10-xor-train.ts'], ['moons (examples/08)', '08-moons-mlp.ts']] as const) {
    it(`${name} trains on WebGPU to the CPU run's loss history, with layer summaries and the result from the worker`, async () => {
      const f = path.join(ROOT, 'examples', file);
      const t = await setup(f);
      await t.session.handle('run');
      const done = await t.until('the run to finish', () => t.statuses.find((s) => s.status === 'done'));
      assert.equal(t.backend()?.kind, 'webgpu', `ran on WebGPU (${JSON.stringify(t.backend())})`);
      assert.equal(t.backend()?.adapter, 'Dawn (test)');
      const cpu = await cpuHistory(f);
      assert.equal(done.step, cpu.steps);
      assertMatches(t.history(), cpu.history, 2e-3, name);
      const layers = t.progress.flatMap((p) => p.progress.layers);
      assert.ok(layers.length >= 2 && layers.at(-1)!.step === cpu.steps, `layer summaries up to the last step (${layers.map((l) => l.step).join(',')})`);
      assert.ok(t.toPanel[0] === 'train' && !t.toPanel.includes('cancel'));
      // the graph follows to the last step (traced by the worker at the GPU's parameters)
      await t.until('the graph at the last step', () => t.graphs.includes(cpu.steps));
    });
  }

  it('pause and single steps land on the GPU; the graph follows; resume goes on; reset cancels the GPU run', async () => {
    const t = await setup(path.join(ROOT, 'examples', '08-moons-mlp.ts'));
    await t.session.handle('step');
    await t.until('one step', () => t.progress.find((p) => p.progress.step === 1 && p.progress.paused));
    await t.session.handle('step');
    await t.until('two steps', () => t.progress.find((p) => p.progress.step === 2 && p.progress.paused));
    await t.until('the graph at step 2', () => t.graphs.includes(2));
    await t.session.handle('run', { steps: 100_000 });
    await t.until('steps on the GPU', () => t.progress.find((p) => p.progress.step > 100));
    await t.session.handle('pause');
    const paused = await t.until('a paused report', () => t.progress.find((p) => p.progress.paused && p.progress.step > 100));
    const at = paused.progress.step;
    await t.session.analyze(1, { kind: 'gradcheck' });
    const report = await t.until('the gradient check', () => t.analyses.find((a) => a.requestId === 1));
    assert.ok(report.result?.kind === 'gradcheck' && report.result.report.step === at, `the gradient check ran at the GPU's step ${at}: ${JSON.stringify(report).slice(0, 200)}`);
    await t.session.handle('run');
    await t.until('steps after the pause', () => t.progress.find((p) => p.progress.step > at + 50));
    t.session.reset();
    assert.equal(t.toPanel.at(-1), 'cancel');
    await t.until('the panel run to end', () => t.panel.state === 'cancelled');
  });

  it('"auto" leaves a software adapter alone; "webgpu" trains on it', async () => {
    const f = path.join(ROOT, 'examples', '10-xor-train.ts');
    const auto = await setup(f, { gpu: 'software' });
    await auto.session.handle('run');
    await auto.until('the run to finish', () => auto.statuses.find((s) => s.status === 'done'));
    assert.equal(auto.backend()?.kind, 'cpu');
    assert.match(auto.backend()?.note ?? '', /software one \(Dawn \(test\)\).*"webgpu"/);
    const forced = await setup(f, { gpu: 'software', backend: 'webgpu' });
    await forced.session.handle('run');
    await forced.until('the run to finish', () => forced.statuses.find((s) => s.status === 'done'));
    assert.equal(forced.backend()?.kind, 'webgpu');
  });

  it('a dynamic graph stays on the CPU and says why', async () => {
    const f = writeFile(tmp(), 'dropout.ts', `import { nn, optim, losses, data, defineTraining } from 'backprop-lens';
export default defineTraining({
  model: nn.sequential(nn.linear(2, 8, { seed: 1 }), nn.relu(), nn.dropout(0.5), nn.linear(8, 1, { seed: 2 })),
  data: data.moons({ n: 64, seed: 0 }), loss: losses.bceWithLogits, optimizer: optim.adam({ lr: 0.01 }), steps: 40, batchSize: 16,
});
`);
    const t = await setup(f);
    await t.session.handle('run');
    await t.until('the run to finish', () => t.statuses.find((s) => s.status === 'done'));
    const b = t.backend();
    assert.equal(b?.kind, 'cpu');
    assert.match(b?.note ?? '', /changes from step to step/);
    assert.ok(!t.toPanel.includes('train'), 'no plan was sent to the panel');
  });

  it('a panel without WebGPU, and a device lost mid-run, go on on the CPU; the run ends as the CPU run does', async () => {
    const f = path.join(ROOT, 'examples', '08-moons-mlp.ts');
    const cpu = await cpuHistory(f);
    const none = await setup(f, { gpu: 'none' });
    await none.session.handle('run');
    await none.until('the run to finish', () => none.statuses.find((s) => s.status === 'done'));
    assert.equal(none.backend()?.kind, 'cpu');
    assert.match(none.backend()?.note ?? '', /^Runs on the CPU: .*no WebGPU/);
    assertMatches(none.history(), cpu.history, 0, 'no WebGPU');

    const t = await setup(f);
    await t.session.handle('step');
    await t.until('one step', () => t.progress.find((p) => p.progress.step === 1 && p.progress.paused));
    for (let i = 0; i < 40; i++) await t.session.handle('step');
    await t.until('41 steps', () => t.progress.find((p) => p.progress.step === 41 && p.progress.paused));
    // the device goes away: the panel reports it, as it would from device.lost or a failed readback
    (t.panel as unknown as { run: { fail(r: string): void } }).run.fail('the GPU device was lost: test');
    await t.until('the CPU backend', () => t.backend()?.kind === 'cpu');
    assert.match(t.backend()!.note!, /device was lost.*from step 41/);
    await t.session.handle('run');
    await t.until('the run to finish', () => t.statuses.find((s) => s.status === 'done'));
    assertMatches(t.history(), cpu.history, 2e-3, 'GPU then CPU');
  });
});
