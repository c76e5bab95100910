/** A watched PyTorch run's records (watch-records.ts) as the engine's history, layer summaries and diagnosis. */
import assert from 'node:assert/strict';
import { readWatchLog, WatchedRun } from '../../engine/train/watch';
import { summarize } from '../../engine/stats/summary';
import type { LayerStats } from '../../engine/stats/layers';
import type { WatchRecord } from '../../engine/train/watch-records';

/** A linear layer whose weight gradients have mean |g| = `grad`. */
function layer(name: string, depth: number, grad: number): LayerStats {
  const g = summarize([grad, -grad, grad, -grad]);
  return {
    name, type: 'linear', depth, activation: 'sigmoid', weight: summarize([0.1, -0.1, 0.2, -0.2]), weightGrad: g,
    gradMeanAbs: grad, gradMaxAbs: grad, output: summarize([0.5, 0.5, 0.5, 0.5]), outputGrad: g, dead: 0, saturated: 0,
    source: null, updateRatio: 1e-3,
  };
}

const start: WatchRecord = {
  type: 'watch-start', version: 1, file: '/w/train.py', model: 'Sequential', every: 2, params: 100, torch: '1.13.1',
  python: { executable: '/usr/bin/python3', version: '3.11.2' }, rank: 0, world: 1, time: 0,
};

describe('watched PyTorch runs', () => {
  it('every step with a loss is a history entry; layer summaries on logged steps; the diagnosis on the latest', () => {
    const run = new WatchedRun();
    run.add(start);
    const deep = [layer('model.0', 0, 1e-7), layer('model.2', 1, 1e-4), layer('model.4', 2, 1e-2)];
    for (let step = 1; step <= 4; step++) {
      const added = run.add({ type: 'watch-step', step, loss: 1 / step, lr: 0.1, gradNorm: 2, time: step, ...(step % 2 === 0 ? { layers: deep } : {}) });
      assert.ok(!('problem' in added));
    }
    run.add({ type: 'watch-end', steps: 4, reason: 'finished', time: 5 });
    assert.deepEqual(run.history.map((h) => h.step), [1, 2, 3, 4]);
    assert.deepEqual(run.layers.map((l) => l.step), [2, 4]);
    const vanishing = run.findings.find((f) => f.code === 'vanishing-gradient');
    assert.ok(vanishing, 'the engine\'s rules found the vanishing gradients');
    assert.equal(vanishing.layer, 'model.0');
    assert.equal(vanishing.step, 4);
    const r = run.result();
    assert.equal(r.steps, 4);
    assert.equal(r.stoppedEarly, null);
    assert.ok(r.diagnosis.some((f) => f.code === 'vanishing-gradient'));
  });

  it('a healthy run has no vanishing or exploding finding', () => {
    const run = new WatchedRun();
    run.add(start);
    run.add({ type: 'watch-step', step: 2, loss: 0.5, lr: 0.1, gradNorm: 1, time: 1, layers: [layer('a', 0, 1e-2), layer('b', 1, 1.2e-2), layer('c', 2, 1e-2)] });
    assert.deepEqual(run.findings.filter((f) => /vanishing|exploding/.test(f.code)), []);
  });

  it('a log file: records in order; a line that is not a record is reported, not fatal; another version is refused', () => {
    const lines = [JSON.stringify(start), 'not json', JSON.stringify({ type: 'watch-step', step: 1, loss: 0.7, lr: 0.01, gradNorm: 1, time: 1 }), JSON.stringify({ ...start, version: 99 })];
    const { run, problems } = readWatchLog(lines.join('\n'));
    assert.equal(run.history.length, 1);
    assert.equal(run.start?.model, 'Sequential');
    assert.equal(problems.length, 2);
    assert.match(problems[0], /line 2 is not JSON/);
    assert.match(problems[1], /version 99/);
  });
});
