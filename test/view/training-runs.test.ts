/**
 * The training view's record of a run (webview/training/runs): a run longer than the layer-summary
 * budget still has its first logged step (initialization) and its newest, with the steps between
 * spread over the whole run, not only its end; fed in any slicing, it keeps the same steps.
 */
import assert from 'node:assert/strict';
import type { LayerHistory, TrainProgress } from '../../extension/protocol';
import { MAX_LAYER_HISTORY, TrainingRuns } from '../../webview/training/runs';

const logged = (step: number): LayerHistory => ({ step, layers: [] });

function progress(steps: number[], total: number): TrainProgress {
  return { step: steps[steps.length - 1], total, history: steps.map((s) => ({ step: s, loss: 1 / s, lr: 0.1, gradNorm: 1 })), layers: steps.map(logged), findings: [], stepsPerSecond: 100, paused: false };
}

describe('training view: a long run\'s layer summaries', () => {
  it('keeps the first logged step, the newest, and steps from the whole run, within the budget', () => {
    const runs = new TrainingRuns();
    const total = 5000;
    for (let from = 1; from <= total; from += 37) {
      const steps = [];
      for (let s = from; s < from + 37 && s <= total; s++) steps.push(s);
      runs.progress(1, progress(steps, total));
      const kept = runs.current!.layers.map((l) => l.step);
      assert.ok(kept.length <= MAX_LAYER_HISTORY, `${kept.length} kept`);
      assert.equal(kept[0], 1, 'the first logged step stays');
      assert.equal(kept[kept.length - 1], steps[steps.length - 1], 'the newest is there');
    }
    const kept = runs.current!.layers.map((l) => l.step);
    // the first half of the run is as well covered as the second
    const firstHalf = kept.filter((s) => s <= total / 2).length;
    const secondHalf = kept.filter((s) => s > total / 2).length;
    assert.ok(Math.abs(firstHalf - secondHalf) <= 2, `${firstHalf} kept in the first half, ${secondHalf} in the second`);
    assert.ok(kept.length >= MAX_LAYER_HISTORY / 2, `${kept.length} kept`);
  });

  it('the same steps whether they arrive one report at a time or all at once', () => {
    const one = new TrainingRuns(), all = new TrainingRuns();
    const steps = Array.from({ length: 1000 }, (_, i) => i + 1);
    for (const s of steps) one.progress(7, progress([s], 1000));
    all.progress(7, progress(steps, 1000));
    assert.deepEqual(one.current!.layers.map((l) => l.step), all.current!.layers.map((l) => l.step));
  });

  it('a new run starts a new record', () => {
    const runs = new TrainingRuns();
    runs.progress(1, progress(Array.from({ length: 500 }, (_, i) => i + 1), 500));
    runs.progress(2, progress([1, 2], 500));
    assert.deepEqual(runs.current!.layers.map((l) => l.step), [1, 2]);
  });
});
