/** The run lifecycle reducer: every state × event, and random event sequences. */
import * as assert from 'node:assert/strict';
import { IDLE, RUN_EVENT_TYPES, isLive, isTerminal, isTimed, reduce, type RunEvent, type RunState } from '../../engine/train/lifecycle';

const S: Record<string, RunState> = {
  idle: IDLE, startingP: { kind: 'starting', paused: true, steps: 2 }, startingR: { kind: 'starting', paused: false, steps: 0 },
  running: { kind: 'running' }, paused: { kind: 'paused', settled: false }, pausedS: { kind: 'paused', settled: true },
  stepping: { kind: 'stepping', remaining: 2 }, done: { kind: 'done' }, failed: { kind: 'failed', error: 'x' }, cancelled: { kind: 'cancelled' },
};
const E: Record<(typeof RUN_EVENT_TYPES)[number], RunEvent> = {
  start: { type: 'start', paused: true }, started: { type: 'started' }, pause: { type: 'pause' }, resume: { type: 'resume' },
  step: { type: 'step', count: 3 }, stepped: { type: 'stepped' }, halted: { type: 'halted' }, finished: { type: 'finished' },
  failed: { type: 'failed', error: 'e' }, cancel: { type: 'cancel' },
};
const same = 'same';
const done = { kind: 'done' }, failed = { kind: 'failed', error: 'e' }, cancelled = { kind: 'cancelled' };
const ends = { finished: done, failed, cancel: cancelled };
// expected state for each (state, event); `same`: the same object back
const TABLE: Record<keyof typeof S, Record<keyof typeof E, RunState | typeof same>> = {
  idle: { start: { kind: 'starting', paused: true, steps: 0 }, started: same, pause: same, resume: same, step: same, stepped: same, halted: same, finished: same, failed, cancel: cancelled } as never,
  startingP: { start: same, started: { kind: 'stepping', remaining: 2 }, pause: same, resume: { kind: 'starting', paused: false, steps: 0 }, step: { kind: 'starting', paused: true, steps: 5 }, stepped: same, halted: same, ...ends } as never,
  startingR: { start: same, started: { kind: 'running' }, pause: { kind: 'starting', paused: true, steps: 0 }, resume: same, step: same, stepped: same, halted: same, ...ends } as never,
  running: { start: same, started: same, pause: { kind: 'paused', settled: false }, resume: same, step: same, stepped: same, halted: same, ...ends } as never,
  paused: { start: same, started: same, pause: same, resume: { kind: 'running' }, step: { kind: 'stepping', remaining: 3 }, stepped: same, halted: { kind: 'paused', settled: true }, ...ends } as never,
  pausedS: { start: same, started: same, pause: same, resume: { kind: 'running' }, step: { kind: 'stepping', remaining: 3 }, stepped: same, halted: same, ...ends } as never,
  stepping: { start: same, started: same, pause: same, resume: { kind: 'running' }, step: { kind: 'stepping', remaining: 5 }, stepped: { kind: 'stepping', remaining: 1 }, halted: { kind: 'paused', settled: true }, ...ends } as never,
  done: Object.fromEntries(RUN_EVENT_TYPES.map((t) => [t, same])) as never,
  failed: Object.fromEntries(RUN_EVENT_TYPES.map((t) => [t, same])) as never,
  cancelled: Object.fromEntries(RUN_EVENT_TYPES.map((t) => [t, same])) as never,
};

describe('run lifecycle reducer', () => {
  for (const [name, state] of Object.entries(S)) {
    for (const type of RUN_EVENT_TYPES) {
      it(`${name} + ${type}`, () => {
        const want = TABLE[name][type];
        const got = reduce(state, E[type]);
        if (want === same) assert.equal(got, state);
        else assert.deepEqual(got, want);
      });
    }
  }

  it('the last single step pauses (unsettled, timed until the driver halts); a bad count asks for one step', () => {
    const s = reduce({ kind: 'stepping', remaining: 1 }, { type: 'stepped' });
    assert.deepEqual(s, { kind: 'paused', settled: false });
    assert.ok(isTimed(s));
    assert.ok(!isTimed(reduce(s, { type: 'halted' })));
    for (const count of [0, -2, NaN, Infinity, 0.5]) assert.deepEqual(reduce(S.pausedS, { type: 'step', count }), { kind: 'stepping', remaining: 1 });
  });

  it('random event sequences never throw and never leave a terminal state', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const events = Object.values(E).concat([{ type: 'start', paused: false }, { type: 'step', count: 1 }, { type: 'finished', stoppedEarly: 'nan' }]);
    for (let run = 0; run < 2000; run++) {
      let s: RunState = IDLE;
      let ended: RunState | null = null;
      for (let i = 0; i < 30; i++) {
        s = reduce(s, events[Math.floor(rand() * events.length)]);
        if (ended) assert.equal(s, ended);
        else if (isTerminal(s)) ended = s;
        assert.ok(!(isLive(s) && isTerminal(s)));
      }
    }
  });
});
