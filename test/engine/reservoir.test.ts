/**
 * Keeping a whole run's logged steps in bounded memory (engine/stats/reservoir): the first step and
 * the newest are always kept, the rest spread evenly, never more than the capacity, the same result
 * every time; and `evenlySpaced` picks n items including both ends.
 */
import assert from 'node:assert/strict';
import { StepReservoir, evenlySpaced } from '../../engine/stats/reservoir';

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** The gaps between consecutive kept steps. */
const gaps = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]);

describe('StepReservoir: the whole run in bounded memory', function () {
  it('keeps everything until it is full', function () {
    const r = new StepReservoir<number>(10);
    r.push(...range(9, 1));
    assert.deepEqual(r.items(), range(9, 1));
  });

  it('never holds more than its capacity, and always the first and the newest step', function () {
    for (const capacity of [3, 4, 7, 10, 30, 240]) {
      const r = new StepReservoir<number>(capacity);
      for (let step = 1; step <= 5000; step++) {
        r.push(step);
        const kept = r.items();
        assert.ok(kept.length <= capacity, `capacity ${capacity}: ${kept.length} kept after ${step}`);
        assert.equal(kept[0], 1, `capacity ${capacity}: the first step is kept after ${step}`);
        assert.equal(kept[kept.length - 1], step, `capacity ${capacity}: the newest step is kept`);
        assert.ok(gaps(kept).every((g) => g > 0), 'oldest first, no repeats');
      }
      assert.equal(r.seen, 5000);
    }
  });

  it('spreads the kept steps evenly: one stride between grid points, the newest possibly closer', function () {
    const r = new StepReservoir<number>(30);
    r.push(...range(1000));
    const kept = r.items();
    const grid = kept.slice(0, -1);
    const stride = grid[1] - grid[0];
    // a power of two of the arrival interval (each thinning doubles it)
    assert.equal(Math.log2(stride) % 1, 0, `stride ${stride}`);
    assert.ok(gaps(grid).every((g) => g === stride), `evenly spaced: ${gaps(grid)}`);
    assert.ok(kept[kept.length - 1] - grid[grid.length - 1] <= stride);
    // the run is covered, not only its end: at least half the capacity on the grid
    assert.ok(grid.length >= 15, `${grid.length} grid points`);
    assert.ok(grid[grid.length - 1] >= 1000 - 2 * stride, 'the grid reaches the end of the run');
  });

  it('thins to every other kept step when full, keeping the first', function () {
    const r = new StepReservoir<number>(4);
    r.push(0, 1, 2);
    assert.deepEqual(r.items(), [0, 1, 2]);
    r.push(3); // full: thin 0 1 2 3 → 0 2, and 3 is the newest
    assert.deepEqual(r.items(), [0, 2, 3]);
    r.push(4); // on the stride-2 grid
    assert.deepEqual(r.items(), [0, 2, 4]);
    r.push(5);
    assert.deepEqual(r.items(), [0, 2, 4, 5]);
    r.push(6); // full again: 0 2 4 6 → 0 4, stride 4; 6 is the newest
    assert.deepEqual(r.items(), [0, 4, 6]);
  });

  it('is deterministic: the same arrivals give the same kept steps', function () {
    const a = new StepReservoir<number>(17), b = new StepReservoir<number>(17);
    for (let i = 0; i < 777; i++) a.push(i * 5);
    b.push(...range(777).map((i) => i * 5));
    assert.deepEqual(a.items(), b.items());
  });

  it('refuses a capacity below 3', function () {
    assert.throws(() => new StepReservoir(2), /capacity must be an integer ≥ 3, got 2/);
  });
});

describe('evenlySpaced', function () {
  it('n items including the first and the last, evenly apart', function () {
    assert.deepEqual(evenlySpaced(range(11), 6), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(evenlySpaced(range(101, 1), 5), [1, 26, 51, 76, 101]);
    const picked = evenlySpaced(range(1000), 30);
    assert.equal(picked.length, 30);
    assert.equal(picked[0], 0);
    assert.equal(picked[29], 999);
    const g = gaps(picked);
    assert.ok(Math.max(...g) - Math.min(...g) <= 1, `gaps ${g}`);
  });

  it('everything when there are no more than n, and the last alone for n = 1', function () {
    assert.deepEqual(evenlySpaced([3, 4], 5), [3, 4]);
    assert.deepEqual(evenlySpaced([3, 4, 5], 1), [5]);
    assert.deepEqual(evenlySpaced([3, 4, 5], 0), []);
  });
});
