/**
 * A run's time and its end: the timeout counts the model's own time (not bundling, not starting its
 * process), bundling has its own limit, a timeout says whether the model was still making progress,
 * a training step is stopped within its limit plus the watch interval, and an aborted run (a closed
 * panel) ends its model process at once.
 */
import * as assert from 'node:assert/strict';
import { liveModelProcesses } from '../../extension/runner/model-process';
import { expectError, expectOk, lineOf, runModel, useRunner, useTempDir, writeFile } from './helpers';

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Busy-waits `ms` milliseconds (model code that is slow, not stuck). */
const SPIN = 'const spin = (ms: number) => { const t = Date.now(); while (Date.now() - t < ms) {} }; // @spin\n';

describe('a run\'s time limits and its end', function () {
  const runner = useRunner();
  const tmp = useTempDir('bpl-lifecycle-');
  // each test counts the model processes: those of earlier tests must have ended
  beforeEach(() => until('earlier model processes to end', () => liveModelProcesses() === 0));

  it('the smallest timeout (100 ms) is the model\'s own time: starting its process and loading the engine are not charged', async () => {
    const { out } = await runModel(runner(), tmp(), 'quick.ts', `import { scalar } from 'backprop-lens';\nexport default scalar(2).mul(3);\n`, { timeoutMs: 100 });
    const s = expectOk(out);
    assert.equal(s.nodes.length, 3);
  });

  it('a model still making graph values when it times out is "too much work", not an infinite loop', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\n${SPIN}let s = scalar(0);\nfor (let i = 0; i < 1e6; i++) { spin(5); s = s.add(1); } // @slow\nexport default s;\n`;
    const { out } = await runModel(runner(), tmp(), 'slow.ts', MODEL, { timeoutMs: 1500 });
    const e = expectError(out);
    assert.equal(e.kind, 'timeout', e.message);
    assert.match(e.message, /still making graph values \(\d+ so far, \d+ in its last second\): too much work for the limit/);
    assert.doesNotMatch(e.message, /infinite loop would/);
    // where it was executing when stopped: inside spin(), or the loop that calls it
    assert.ok([lineOf(MODEL, '// @spin'), lineOf(MODEL, '// @slow')].includes(e.line ?? -1), `line ${e.line}`);
  });

  it('a model that makes no graph values when it times out is reported as a loop, at its line', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\nlet n = 0;\nwhile (n >= 0) n = (n + 1) % 7; // @loop\nexport default scalar(n);\n`;
    const { out } = await runModel(runner(), tmp(), 'loop.ts', MODEL, { timeoutMs: 1000 });
    const e = expectError(out);
    assert.equal(e.kind, 'timeout', e.message);
    assert.match(e.message, /made no graph values in its last second \(0 in all\), as an infinite loop would/);
    assert.equal(e.line, lineOf(MODEL, '// @loop'));
  });

  it('bundling has its own limit and message; the next run bundles again', async () => {
    const file = writeFile(tmp(), 'bundle.ts', `import { scalar } from 'backprop-lens';\nexport default scalar(2).mul(3);\n`);
    const out = await runner().run(file, { bundleLimitMs: 1 });
    const e = expectError(out);
    assert.equal(e.kind, 'timeout', e.message);
    assert.match(e.message, /^Bundling bundle\.ts \(0 kB\) took longer than 0\.001 s and was stopped\. Bundling has its own limit, apart from the model's "backpropLens\.timeoutMs"/);
    expectOk(await runner().run(file));
  });

  it('a training step past the limit is stopped within the limit plus the watch interval, at its line', async () => {
    const MODEL = `import { param, optim, defineTraining } from 'backprop-lens';\n${SPIN}const x = param(3);\nlet calls = 0;\nexport default defineTraining({ params: [x], loss: () => { if (++calls > 3) spin(60_000);\n  return x.square(); }, optimizer: optim.sgd({ lr: 0.1 }), steps: 10 });\n`;
    const file = writeFile(tmp(), 'stuck.ts', MODEL);
    const run = await runner().train(file, { timeoutMs: 1000 });
    const out = await run.done;
    assert.ok(!out.ok, 'the run must not finish');
    const e = out.errors[0];
    assert.equal(e.kind, 'timeout', e.message);
    assert.match(e.message, /^A training step ran longer than 1 s and was stopped \(after 3 steps\)/);
    assert.equal(e.line, lineOf(MODEL, '// @spin'));
  });

  it('an aborted trace (its panel closed) ends its model process at once and says it was cancelled', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\n${SPIN}spin(60_000);\nexport default scalar(1);\n`;
    const file = writeFile(tmp(), 'abort.ts', MODEL);
    const before = 0;
    const controller = new AbortController();
    const pending = runner().run(file, { timeoutMs: 120_000, signal: controller.signal });
    await until('the model process to start', () => liveModelProcesses() > before);
    controller.abort();
    const e = expectError(await pending);
    assert.equal(e.kind, 'cancelled');
    assert.match(e.message, /cancelled \(its panel was closed\)/);
    await until('the model process to end', () => liveModelProcesses() === before);
  });

  it('a run aborted before it starts starts no model process', async () => {
    const file = writeFile(tmp(), 'early.ts', `import { scalar } from 'backprop-lens';\nexport default scalar(1);\n`);
    const controller = new AbortController();
    controller.abort();
    const before = liveModelProcesses();
    const e = expectError(await runner().run(file, { signal: controller.signal }));
    assert.equal(e.kind, 'cancelled');
    assert.equal(liveModelProcesses(), before);
  });

  it('an aborted training run ends its model process', async () => {
    const file = writeFile(tmp(), 'train-abort.ts', `import { param, optim, defineTraining } from 'backprop-lens';\nconst x = param(3);\nexport default defineTraining({ params: [x], loss: () => x.square(), optimizer: optim.sgd({ lr: 0.001 }), steps: 1e7 });\n`);
    const before = liveModelProcesses();
    const controller = new AbortController();
    let steps = 0;
    const run = await runner().train(file, { signal: controller.signal, onProgress: (p) => void (steps = p.step) });
    await until('training to take steps', () => steps > 0);
    controller.abort();
    const out = await run.done;
    assert.ok(!out.ok);
    assert.equal(out.errors[0].kind, 'cancelled');
    await until('the model process to end', () => liveModelProcesses() === before);
  });
});
