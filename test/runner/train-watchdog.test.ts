/**
 * The runner's watchdog follows the run's lifecycle (engine/train/lifecycle.ts): loading a training
 * file is timed even when the run starts paused (the panel always starts it so), the single steps
 * asked for are timed until the worker halts (a progress report between them says the run is not
 * paused), and a paused run is not timed.
 */
import * as assert from 'node:assert/strict';
import { lineOf, useRunner, useTempDir, writeFile } from './helpers';

/** Busy-waits `ms` milliseconds. */
const SPIN = 'const spin = (ms: number) => { const t = Date.now(); while (Date.now() - t < ms) {} }; // @spin\n';

describe('the training watchdog follows the run lifecycle', function () {
  this.timeout(60_000);
  const runner = useRunner();
  const tmp = useTempDir('bpl-train-watchdog-');

  it('a file that never finishes loading is stopped when the run starts paused', async () => {
    const MODEL = `import { param, optim, defineTraining } from 'backprop-lens';\n${SPIN}spin(60_000);\nconst x = param(3);\nexport default defineTraining({ params: [x], loss: () => x.square(), optimizer: optim.sgd({ lr: 0.1 }), steps: 10 });\n`;
    const file = writeFile(tmp(), 'load.ts', MODEL);
    const run = await runner().train(file, { timeoutMs: 1000, paused: true });
    const out = await run.done;
    assert.ok(!out.ok, 'the run must not finish');
    assert.equal(out.errors[0].kind, 'timeout', out.errors[0].message);
    assert.equal(out.errors[0].line, lineOf(MODEL, '// @spin'));
  });

  for (const when of ['while it loads', 'once it is paused'] as const) {
    it(`single steps asked for ${when} are timed until the last one ends`, async () => {
      const MODEL = `import { param, optim, defineTraining } from 'backprop-lens';\n${SPIN}const x = param(3);\nlet calls = 0;\nexport default defineTraining({ params: [x], loss: () => { if (++calls === 3) spin(60_000);\n  spin(50); return x.square(); }, optimizer: optim.sgd({ lr: 0.1 }), steps: 10 });\n`;
      const file = writeFile(tmp(), 'step.ts', MODEL);
      let paused!: () => void;
      const atPause = new Promise<void>((resolve) => (paused = resolve));
      const run = await runner().train(file, { timeoutMs: 1000, paused: true, progressMs: 10, onProgress: (p) => p.paused && paused() });
      if (when === 'once it is paused') {
        await atPause;
        // paused: not timed (longer than the limit)
        await new Promise((r) => setTimeout(r, 1500));
      }
      run.step(5);
      const out = await run.done;
      assert.ok(!out.ok, 'the run must not finish');
      assert.equal(out.errors[0].kind, 'timeout', out.errors[0].message);
      assert.match(out.errors[0].message, /after 2 steps/);
    });
  }
});
