/**
 * The panel's training session with the real runner and worker (no VS Code needed: the host is a
 * recorder): run to the end, step from idle, pause, reset mid-run (the old run's progress is not
 * forwarded), an untrusted workspace, and a model error reported with its line.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { TrainingSession, type TrainingHost } from '../../extension/training';
import type { HostMessage } from '../../extension/protocol';
import { ROOT, useRunner, useTempDir, writeFile, lineOf } from '../runner/helpers';

type Msg = Extract<HostMessage, { type: 'trainStatus' | 'trainProgress' }>;

describe('TrainingSession (panel training)', function () {
  const runner = useRunner();
  const tmp = useTempDir('bpl-session-');

  function session(file: string, trusted = true) {
    const messages: Msg[] = [];
    let wake: (() => void) | null = null;
    const host: TrainingHost = {
      runner: runner(), file, trusted: () => trusted,
      post: (m) => {
        if (m.type === 'trainStatus' || m.type === 'trainProgress') messages.push(m);
        wake?.();
      },
      log: () => {},
      options: () => ({ timeoutMs: 10_000 }),
      progress: (_title, work) => void work(() => {}, () => {}),
    };
    const s = new TrainingSession(host);
    const until = (test: (m: Msg) => boolean) => new Promise<Msg>((resolve) => {
      const check = () => {
        const hit = messages.find(test);
        if (hit) resolve(hit);
        else wake = check;
      };
      check();
    });
    const statuses = () => messages.flatMap((m) => (m.type === 'trainStatus' ? [m.status] : []));
    return { s, messages, until, statuses };
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
  });

  it('step from idle takes exactly one step and pauses; reset forgets the run', async () => {
    const { s, until, statuses } = session(MOONS);
    await s.handle('step');
    await until((m) => m.type === 'trainProgress' && m.progress.step === 1 && m.progress.paused);
    await s.handle('step');
    await until((m) => m.type === 'trainProgress' && m.progress.step === 2 && m.progress.paused);
    const before = s.state.runId;
    s.reset();
    assert.equal(s.state.status, 'idle');
    assert.ok(s.state.runId > before);
    assert.deepEqual(statuses().slice(-1), ['idle']);
  });

  it('pause stops the steps; run resumes the same run', async () => {
    const { s, until, messages } = session(MOONS);
    await s.handle('run', { steps: 1_000_000 });
    await until((m) => m.type === 'trainProgress' && m.progress.step > 50);
    await s.handle('pause');
    const paused = await until((m) => m.type === 'trainProgress' && m.progress.paused);
    const at = paused.type === 'trainProgress' ? paused.progress.step : -1;
    const runId = s.state.runId;
    await s.handle('run');
    await until((m) => m.type === 'trainProgress' && m.progress.step > at + 50);
    assert.equal(s.state.runId, runId, 'resume keeps the run');
    s.reset();
    const count = messages.length;
    await new Promise<void>((r) => setImmediate(r));
    assert.ok(messages.slice(count).every((m) => m.type !== 'trainProgress'), 'nothing from the cancelled run');
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
});
