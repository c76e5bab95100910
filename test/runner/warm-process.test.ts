/**
 * Warm model processes (model-process.ts): with warming on, a run takes the spare process forked
 * ahead of it (nothing is forked when the run starts), a spare runs no model code and is not counted
 * as a model process, and disposing the runner ends the spare: no process is left.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { ModelRunner } from '../../extension/runner/runner';
import { liveModelProcesses, modelProcessForks, spareModelProcesses, warmModelProcesses } from '../../extension/runner/model-process';
import { DIST, ensureBuilt, expectOk, useTempDir, writeFile } from './helpers';

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** This process's children, by their command line (as `ps` shows them). */
function children(): string[] {
  try {
    return execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').filter((l) => l.trim() && !l.startsWith('ps '));
  } catch {
    return []; // ps exits 1 when there are none
  }
}

const MODEL = "import { scalar } from 'backprop-lens';\nexport default scalar(2).mul(3);\n";

describe('warm model processes', function () {
  this.timeout(60_000);
  const tmp = useTempDir('bpl-warm-');
  const host = path.join(DIST, 'model-host.js');
  let runner: ModelRunner;

  before(function () {
    this.timeout(120_000);
    ensureBuilt();
    runner = new ModelRunner(DIST);
  });
  after(() => {
    runner.dispose(); // also when a test failed: no spare is left behind
  });

  it('a run takes the spare forked ahead of it, and another spare is forked after the run', async () => {
    await until('earlier model processes to end', () => liveModelProcesses() === 0);
    warmModelProcesses(host);
    assert.equal(spareModelProcesses(), 1);
    const file = writeFile(tmp(), 'warm.ts', MODEL);
    // a spare is not a model process: it runs no model code, and `ps` names it apart
    await until('the spare to name itself', () => children().some((c) => c.includes('spare model process')));
    assert.equal(liveModelProcesses(), 0);
    assert.ok(!children().some((c) => c.includes('model-host.js')), children().join('\n'));

    for (let run = 1; run <= 3; run++) {
      await until(`a spare before run ${run}`, () => spareModelProcesses() === 1);
      const forks = modelProcessForks();
      const pending = runner.run(file);
      await until(`run ${run}'s model process`, () => liveModelProcesses() === 1);
      // the run started with the spare: nothing was forked for it
      assert.equal(modelProcessForks(), forks, `run ${run} forked a process`);
      assert.equal(spareModelProcesses(), 0);
      const s = expectOk(await pending);
      assert.equal(s.nodes.length, 3);
      // the next spare follows the run's end
      await until(`the spare after run ${run}`, () => spareModelProcesses() === 1 && liveModelProcesses() === 0);
      assert.equal(modelProcessForks(), forks + 1);
    }
  });

  it('disposing the runner ends the spare: no process is left', async () => {
    warmModelProcesses(host);
    await until('a spare', () => spareModelProcesses() === 1);
    await until('the spare process to be listed', () => children().some((c) => c.includes('spare model process')));
    runner.dispose();
    assert.equal(spareModelProcesses(), 0);
    assert.equal(liveModelProcesses(), 0);
    await until('no child process', () => !children().some((c) => c.includes('spare model process') || c.includes('model-host.js')), 5000);
  });

  it('without warming (the CLI) a run forks its own process and no spare is kept', async () => {
    runner = new ModelRunner(DIST);
    const file = writeFile(tmp(), 'cold.ts', MODEL);
    const forks = modelProcessForks();
    expectOk(await runner.run(file));
    assert.equal(modelProcessForks(), forks + 1);
    assert.equal(spareModelProcesses(), 0);
  });
});
