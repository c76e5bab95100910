/**
 * Model code runs in its own process (model-host.ts): whatever it does, the runner's process goes
 * on and reports it with the line where one is known; the whole process's memory is counted; no
 * model process outlives its run or its runner.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ModelRunner } from '../../extension/runner/runner';
import { liveModelProcesses, parseModelMessage } from '../../extension/runner/model-process';
import { DIST, ROOT, expectError, expectOk, lineOf, runModel, useRunner, useTempDir, writeFile } from './helpers';

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the model process', function () {
  const runner = useRunner();
  const tmp = useTempDir('bpl-isolation-');

  it('is another process than the runner', async () => {
    const { out } = await runModel(runner(), tmp(), 'pid.ts', `import { scalar } from 'backprop-lens';\nconsole.log('pid', process.pid);\nexport default scalar(1).mul(2);\n`);
    expectOk(out);
    const pid = Number(/pid (\d+)/.exec(out.logs.map((l) => l.text).join('\n'))?.[1]);
    assert.ok(pid > 0 && pid !== process.pid, `model pid ${pid}, runner pid ${process.pid}`);
  });

  it('typed arrays the model keeps count against the memory limit: stopped at the limit, at its line, not a timeout', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\nconst keep: Float64Array[] = [];\nfor (let i = 0; i < 1000; i++) keep.push(new Float64Array(1e7).fill(i)); // @keep\nexport default scalar(keep.length);\n`;
    const { out } = await runModel(runner(), tmp(), 'keep.ts', MODEL, { memoryMb: 256, timeoutMs: 60_000 });
    const e = expectError(out);
    assert.equal(e.kind, 'memory', e.message);
    assert.match(e.message, /more than the memory limit of 256 MB/);
    assert.equal(e.line, lineOf(MODEL, '// @keep'));
  });

  it('a training run that keeps a tensor every step is stopped at the memory limit, with the steps taken', async () => {
    const file = writeFile(tmp(), 'train-keep.ts', `import { param, zeros, optim, defineTraining, type Tensor } from 'backprop-lens';
const x = param(3);
const kept: Tensor[] = [];
export default defineTraining({ params: [x], loss: () => { kept.push(zeros([1e7]).add(1)); return x.square(); }, optimizer: optim.sgd({ lr: 0.01 }), steps: 100000 });
`);
    const out = await (await runner().train(file, { memoryMb: 256, timeoutMs: 60_000 })).done;
    assert.ok(!out.ok, 'the run must not finish');
    assert.equal(out.errors[0].kind, 'memory', out.errors[0].message);
    assert.ok(out.partial && out.partial.step > 0, 'the steps before are kept');
  });

  it('process.kill(process.pid) and process.exit() end the model, not the runner, and say so at the line', async () => {
    const KILL = `import { scalar } from 'backprop-lens';\nconst x = scalar(1).mul(2);\nprocess.kill(process.pid, 'SIGTERM');\nexport default x;\n`;
    const killed = expectError((await runModel(runner(), tmp(), 'kill.ts', KILL)).out);
    assert.match(killed.message, /ended by the signal SIGTERM/);
    const EXIT = `import { scalar } from 'backprop-lens';\nconst x = scalar(1).mul(2); // @x\nprocess.exit(3);\nexport default x;\n`;
    const exited = expectError((await runModel(runner(), tmp(), 'exit.ts', EXIT)).out);
    assert.match(exited.message, /exited \(code 3\)/);
    assert.equal(exited.line, lineOf(EXIT, '// @x'), 'near the last node it created');
    // and the runner still works
    expectOk((await runModel(runner(), tmp(), 'after.ts', `import { scalar } from 'backprop-lens';\nexport default scalar(2).mul(3);\n`)).out);
  });

  it('a thrown non-Error, a promise that never settles and timers left running are reported or ended', async () => {
    const thrown = expectError((await runModel(runner(), tmp(), 'throw42.ts', `import { scalar } from 'backprop-lens';\nthrow 42;\nexport default scalar(1);\n`)).out);
    assert.match(thrown.message, /threw 42/);
    const before = liveModelProcesses();
    const { out } = await runModel(runner(), tmp(), 'timers.ts', `import { scalar } from 'backprop-lens';\nsetInterval(() => console.log('tick'), 5);\nnew Promise(() => {});\nexport default scalar(1).mul(2);\n`);
    expectOk(out);
    await until('the model process to end after its result', () => liveModelProcesses() <= before);
  });

  it('disposing the runner ends every model process it started, a kept training run too', async () => {
    const own = new ModelRunner(DIST);
    await until('the earlier runs\' processes to end', () => liveModelProcesses() === 0);
    const before = 0;
    const run = await own.train(path.join(ROOT, 'examples', '08-moons-mlp.ts'), { paused: true, keepAlive: true });
    await until('a model process', () => liveModelProcesses() > before);
    own.dispose();
    await until('no model process left', () => liveModelProcesses() === before);
    const out = await run.done;
    assert.ok(!out.ok, 'the run ends, with a reason');
  });

  it('its messages are checked like the webview\'s: the protocol\'s pass, anything else is refused with the reason', () => {
    const ok = parseModelMessage({ type: 'status', cells: [3, 10, 2, 0], rss: 1e6 });
    assert.ok(ok.ok && ok.value.type === 'status' && ok.value.cells[1] === 10);
    const cases: [unknown, RegExp][] = [
      [{ type: 'status', cells: [3, 10, 2], rss: 1 }, /cells/],
      [{ type: 'status', cells: [3, 10, 2, 0.5], rss: 1 }, /integer/],
      [{ type: 'worker', message: { type: 'eval' }, cells: [0, 0, 0, 0] }, /message/],
      [{ type: 'exec', command: 'rm' }, /unknown type "exec"/],
      [{ type: 'output', stream: 'stdin', text: '' }, /stream/],
      [Object.defineProperty({ type: 'located', location: null }, 'id', { get: () => { throw new Error('getter ran'); }, enumerable: true }), /accessor/],
    ];
    for (const [i, [raw, why]] of cases.entries()) {
      const r = parseModelMessage(raw);
      assert.ok(!r.ok, `case ${i} was accepted`);
      assert.match(r.reason, why);
    }
  });
});
