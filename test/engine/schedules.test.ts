/**
 * Learning-rate schedules (optim.schedules): values at chosen steps against numbers worked out by
 * hand from each schedule's definition (steps are 0-based: the step about to be taken), and that bad
 * options throw messages naming the option.
 */
import assert from 'node:assert/strict';
import { optim, param, tensor } from '../../engine/index';

const { schedules } = optim;

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: got ${actual}, expected ${expected}`);
}

describe('learning-rate schedules', function () {
  it('constant: the base rate at every step', function () {
    const s = schedules.constant();
    assert.equal(s.kind, 'constant');
    for (const t of [0, 1, 7, 100000]) assert.equal(s.lr(t, 0.03), 0.03);
  });

  it('step: ×gamma every stepSize steps', function () {
    const s = schedules.step({ stepSize: 10, gamma: 0.5 });
    close(s.lr(0, 0.8), 0.8, 't = 0');
    close(s.lr(9, 0.8), 0.8, 't = 9 (last step of the first block)');
    close(s.lr(10, 0.8), 0.4, 't = 10');
    close(s.lr(19, 0.8), 0.4, 't = 19');
    close(s.lr(25, 0.8), 0.2, 't = 25');
    close(s.lr(30, 0.8), 0.1, 't = 30');
    // default gamma 0.1 (PyTorch's StepLR)
    close(schedules.step({ stepSize: 3 }).lr(3, 2), 0.2, 'default gamma');
    close(schedules.step({ stepSize: 3 }).lr(6, 2), 0.02, 'default gamma, twice');
  });

  it('piecewise: absolute rates as TensorFlow\'s PiecewiseConstantDecay, values[i] while step ≤ boundaries[i]', function () {
    const s = schedules.piecewise({ boundaries: [10, 20], values: [1, 0.5, 0.1] });
    const at = (t: number) => s.lr(t, 123); // the base rate is ignored
    assert.equal(at(0), 1);
    assert.equal(at(10), 1, 'the boundary step itself still has the earlier value');
    assert.equal(at(11), 0.5);
    assert.equal(at(20), 0.5);
    assert.equal(at(21), 0.1);
    assert.equal(at(5000), 0.1);
    // TF's documented example: boundaries [100000, 110000], values [1, 0.5, 0.1] is "1.0 for the
    // first 100001 steps, 0.5 for the next 10000 steps, and 0.1 for any additional steps"
    const tf = schedules.piecewise({ boundaries: [100000, 110000], values: [1, 0.5, 0.1] });
    const counts = new Map<number, number>();
    for (let t = 0; t < 120000; t++) counts.set(tf.lr(t, 0), (counts.get(tf.lr(t, 0)) ?? 0) + 1);
    assert.equal(counts.get(1), 100001);
    assert.equal(counts.get(0.5), 10000);
    assert.equal(counts.get(0.1), 120000 - 110001);
    // against TF's rule written out: values[0] if t ≤ b[0]; values[i] if b[i−1] < t ≤ b[i]; last if t > b[n−1]
    const b = [3, 7, 8], v = [0.4, 0.3, 0.2, 0.1];
    const tfRule = (t: number) => (t <= b[0] ? v[0] : t > b[b.length - 1] ? v[v.length - 1] : v[b.findIndex((hi, i) => i > 0 && t > b[i - 1] && t <= hi)]);
    const p = schedules.piecewise({ boundaries: b, values: v });
    for (let t = 0; t <= 12; t++) assert.equal(p.lr(t, 1), tfRule(t), `t = ${t}`);
    // a boundary at 0: values[0] for step 0 only
    const zero = schedules.piecewise({ boundaries: [0], values: [2, 1] });
    assert.deepEqual([0, 1, 2].map((t) => zero.lr(t, 9)), [2, 1, 1]);
  });

  it('exponential: base·rate^(t/decaySteps), smooth or staircase', function () {
    const smooth = schedules.exponential({ decayRate: 0.5, decaySteps: 10 });
    const stairs = schedules.exponential({ decayRate: 0.5, decaySteps: 10, staircase: true });
    close(smooth.lr(0, 1), 1, 'smooth t = 0');
    close(smooth.lr(5, 1), Math.SQRT1_2, 'smooth t = 5: 0.5^0.5');
    close(smooth.lr(10, 1), 0.5, 'smooth t = 10');
    close(smooth.lr(15, 2), 2 * 0.5 ** 1.5, 'smooth t = 15');
    close(stairs.lr(5, 1), 1, 'staircase t = 5 (still the first stair)');
    close(stairs.lr(9, 1), 1, 'staircase t = 9');
    close(stairs.lr(10, 1), 0.5, 'staircase t = 10');
    close(stairs.lr(19, 1), 0.5, 'staircase t = 19');
    close(stairs.lr(20, 1), 0.25, 'staircase t = 20');
    // decaySteps defaults to 1: ×rate every step
    close(schedules.exponential({ decayRate: 0.9 }).lr(3, 1), 0.729, 'default decaySteps');
  });

  it('inverseTime: TensorFlow\'s InverseTimeDecay, base / (1 + rate·t/decaySteps), smooth or staircase', function () {
    // the formula from TF's documentation, written out here
    const tf = (base: number, t: number, rate: number, steps: number, staircase: boolean) => base / (1 + rate * (staircase ? Math.floor(t / steps) : t / steps));
    for (const [rate, steps] of [[0.5, 1], [1, 10], [3, 7]]) {
      for (const staircase of [false, true]) {
        const s = schedules.inverseTime({ decayRate: rate, decaySteps: steps, staircase });
        for (const t of [0, 1, 5, 6, 7, 13, 14, 100, 12345]) close(s.lr(t, 0.3), tf(0.3, t, rate, steps, staircase), `rate ${rate}, steps ${steps}, staircase ${staircase}, t = ${t}`);
      }
    }
    // TF's docstring example "decay 1/t with a rate of 0.5": 0.1 / (1 + 0.5·t)
    const s = schedules.inverseTime({ decayRate: 0.5 });
    close(s.lr(0, 0.1), 0.1, 't = 0');
    close(s.lr(2, 0.1), 0.05, 't = 2: halved');
    close(s.lr(6, 0.1), 0.025, 't = 6: a quarter');
    const stairs = schedules.inverseTime({ decayRate: 1, decaySteps: 100, staircase: true });
    close(stairs.lr(99, 1), 1, 'staircase t = 99: still the first stair');
    close(stairs.lr(100, 1), 0.5, 'staircase t = 100');
    close(stairs.lr(250, 1), 1 / 3, 'staircase t = 250');
    assert.deepEqual({ ...s.options }, { decayRate: 0.5, decaySteps: 1, staircase: false });
  });

  it('cosineRestarts: TensorFlow\'s CosineDecayRestarts, periods ×tMul, heights ×mMul, floor alpha', function () {
    // TF's definition, written out from its documentation and source: the fraction of the first
    // period done, the restart it is in found with a logarithm (geometric periods) or a floor (tMul 1),
    // then half a cosine scaled by mMul^restart, lifted by alpha.
    const tf = (base: number, t: number, first: number, tMul: number, mMul: number, alpha: number) => {
      let f = t / first;
      let i: number;
      if (tMul === 1) {
        i = Math.floor(f);
        f -= i;
      } else {
        i = Math.floor(Math.log(1 - f * (1 - tMul)) / Math.log(tMul));
        const sumBefore = (1 - tMul ** i) / (1 - tMul);
        f = (f - sumBefore) / tMul ** i;
      }
      const decayed = 0.5 * mMul ** i * (1 + Math.cos(Math.PI * f));
      return base * ((1 - alpha) * decayed + alpha);
    };
    const configs: [number, number, number, number][] = [[10, 2, 1, 0], [10, 2, 0.5, 0.1], [8, 1, 0.9, 0], [6, 1.5, 0.8, 0.05], [7, 3, 1, 0.2]];
    for (const [first, tMul, mMul, alpha] of configs) {
      const s = schedules.cosineRestarts({ firstDecaySteps: first, tMul, mMul, alpha });
      for (let t = 0; t < 200; t++) close(s.lr(t, 0.2), tf(0.2, t, first, tMul, mMul, alpha), `first ${first}, tMul ${tMul}, mMul ${mMul}, alpha ${alpha}, t = ${t}`, 1e-9);
    }
    // by hand, defaults tMul 2, mMul 1, alpha 0 with firstDecaySteps 10: restarts at 10, 30, 70
    const s = schedules.cosineRestarts({ firstDecaySteps: 10 });
    assert.deepEqual({ ...s.options }, { firstDecaySteps: 10, tMul: 2, mMul: 1, alpha: 0 });
    close(s.lr(0, 1), 1, 't = 0');
    close(s.lr(5, 1), 0.5, 't = 5: half way down the first period');
    close(s.lr(10, 1), 1, 't = 10: first restart');
    close(s.lr(20, 1), 0.5, 't = 20: half way down the second period (20 steps long)');
    close(s.lr(30, 1), 1, 't = 30: second restart');
    close(s.lr(50, 1), 0.5, 't = 50: half way down the third (40 steps)');
    close(s.lr(70, 1), 1, 't = 70: third restart');
    for (let t = 1; t < 10; t++) assert.ok(s.lr(t, 1) < s.lr(t - 1, 1), `falls within the first period at ${t}`);
    // mMul lowers each restart's height; alpha is a floor as a fraction of the base rate
    const low = schedules.cosineRestarts({ firstDecaySteps: 4, tMul: 1, mMul: 0.5, alpha: 0.1 });
    close(low.lr(0, 2), 2, 'first period starts at base');
    close(low.lr(4, 2), 2 * (0.9 * 0.5 + 0.1), 'second starts at half the height above the floor');
    close(low.lr(8, 2), 2 * (0.9 * 0.25 + 0.1), 'third: a quarter');
    close(low.lr(2, 2), 2 * (0.9 * 0.5 + 0.1), 'half way down the first period');
  });

  it('polynomial: (base − end)·(1 − t/T)^power + end, then end', function () {
    const s = schedules.polynomial({ decaySteps: 10, endLr: 0.01, power: 2 });
    close(s.lr(0, 0.1), 0.1, 't = 0');
    close(s.lr(5, 0.1), 0.09 * 0.25 + 0.01, 't = 5: 0.0325');
    close(s.lr(10, 0.1), 0.01, 't = T');
    close(s.lr(50, 0.1), 0.01, 'after T');
    const linear = schedules.polynomial({ decaySteps: 4 }); // power 1, endLr 0
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((t) => linear.lr(t, 1)), [1, 0.75, 0.5, 0.25, 0, 0]);
  });

  it('cosine with warm-up: base/W at step 0, base at the end of the warm-up, (base + min)/2 halfway, min at the end', function () {
    const base = 0.1, minLr = 0.001;
    const s = schedules.cosine({ totalSteps: 110, warmupSteps: 10, minLr });
    close(s.lr(0, base), 0.01, 't = 0: base/10');
    close(s.lr(4, base), 0.05, 't = 4: 5/10 of base');
    close(s.lr(9, base), 0.1, 't = 9: last warm-up step reaches base');
    close(s.lr(10, base), 0.1, 't = 10: the cosine starts at base');
    close(s.lr(35, base), minLr + 0.5 * (base - minLr) * (1 + Math.SQRT1_2), 't = 35: a quarter of the way, cos(π/4)');
    close(s.lr(60, base), 0.0505, 't = 60: halfway, (0.1 + 0.001)/2');
    close(s.lr(85, base), minLr + 0.5 * (base - minLr) * (1 - Math.SQRT1_2), 't = 85: three quarters');
    close(s.lr(110, base), minLr, 't = 110: the end');
    close(s.lr(500, base), minLr, 'after the end');
    // increasing during the warm-up, decreasing after it
    for (let t = 1; t < 10; t++) assert.ok(s.lr(t, base) > s.lr(t - 1, base), `warm-up rises at ${t}`);
    for (let t = 11; t <= 110; t++) assert.ok(s.lr(t, base) < s.lr(t - 1, base), `cosine falls at ${t}`);
  });

  it('cosine without warm-up: base at 0, half at T/2, 0 at T', function () {
    const s = schedules.cosine({ totalSteps: 100 });
    close(s.lr(0, 2), 2, 't = 0');
    close(s.lr(50, 2), 1, 't = 50');
    close(s.lr(100, 2), 0, 't = 100', 1e-15);
  });

  it('cyclic triangular: up from baseLr to maxLr over stepSize steps and back, every cycle the same', function () {
    const s = schedules.cyclic({ baseLr: 0.2, maxLr: 1, stepSize: 4 });
    const want = [0.2, 0.4, 0.6, 0.8, 1, 0.8, 0.6, 0.4, 0.2, 0.4, 0.6, 0.8, 1];
    want.forEach((w, t) => close(s.lr(t, 99), w, `t = ${t}`));
  });

  it('cyclic triangular2 halves the amplitude each cycle', function () {
    const s = schedules.cyclic({ baseLr: 0.2, maxLr: 1, stepSize: 4, mode: 'triangular2' });
    close(s.lr(4, 0), 1, 'first peak: 0.2 + 0.8');
    close(s.lr(8, 0), 0.2, 'first trough');
    close(s.lr(12, 0), 0.6, 'second peak: 0.2 + 0.8/2');
    close(s.lr(10, 0), 0.4, 'halfway up the second cycle: 0.2 + 0.8/2·0.5');
    close(s.lr(20, 0), 0.4, 'third peak: 0.2 + 0.8/4');
    close(s.lr(28, 0), 0.3, 'fourth peak: 0.2 + 0.8/8');
    close(s.lr(24, 0), 0.2, 'troughs stay at baseLr');
  });

  it('cyclic expRange scales the amplitude by gamma^t, and baseLr defaults to the optimizer\'s', function () {
    const s = schedules.cyclic({ maxLr: 1, stepSize: 4, mode: 'expRange', gamma: 0.9 });
    close(s.lr(0, 0.2), 0.2, 't = 0 starts at the optimizer\'s rate');
    close(s.lr(4, 0.2), 0.2 + 0.8 * 0.9 ** 4, 'first peak');
    close(s.lr(2, 0.2), 0.2 + 0.8 * 0.5 * 0.9 ** 2, 'half way up');
    close(s.lr(12, 0.2), 0.2 + 0.8 * 0.9 ** 12, 'second peak');
  });

  it('schedules are plain data: kind and the options they were made with, frozen', function () {
    const s = schedules.cosine({ totalSteps: 50, warmupSteps: 5 });
    assert.equal(s.kind, 'cosine');
    assert.deepEqual({ ...s.options }, { totalSteps: 50, warmupSteps: 5, minLr: 0 });
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.options));
    const p = schedules.piecewise({ boundaries: [3], values: [1, 2] });
    assert.deepEqual({ ...p.options }, { boundaries: [3], values: [1, 2] });
    assert.deepEqual([...schedules.SCHEDULE_KINDS].sort(), ['constant', 'cosine', 'cosineRestarts', 'cyclic', 'exponential', 'inverseTime', 'piecewise', 'polynomial', 'step']);
  });

  it('every kind rebuilds from its kind and options (what GPU training and the training JSON use), and every preset is made', function () {
    const made = [
      schedules.constant(), schedules.step({ stepSize: 3 }), schedules.piecewise({ boundaries: [2, 5], values: [1, 0.5, 0.2] }),
      schedules.exponential({ decayRate: 0.5, decaySteps: 3 }), schedules.inverseTime({ decayRate: 2, decaySteps: 3, staircase: true }),
      schedules.polynomial({ decaySteps: 9 }), schedules.cosine({ totalSteps: 9, warmupSteps: 2 }),
      schedules.cosineRestarts({ firstDecaySteps: 3, tMul: 1.5, mMul: 0.7, alpha: 0.1 }), schedules.cyclic({ maxLr: 1, stepSize: 2 }),
    ];
    assert.deepEqual(made.map((s) => s.kind).sort(), [...schedules.SCHEDULE_KINDS].sort());
    for (const s of made) {
      const again = schedules.fromOptions(s.kind, JSON.parse(JSON.stringify(s.options)));
      for (let t = 0; t < 30; t++) assert.equal(again.lr(t, 0.1), s.lr(t, 0.1), `${s.kind} at ${t}`);
    }
    for (const name of schedules.SCHEDULE_PRESETS) {
      const s = schedules.preset(name, 70, 0.1);
      assert.equal(s.kind, name);
      assert.ok(Number.isFinite(s.lr(69, 0.1)) && s.lr(0, 0.1) > 0, name);
      assert.equal(typeof schedules.SCHEDULE_PRESET_NOTES[name], 'string');
    }
    close(schedules.preset('inverseTime', 70, 0.1).lr(70, 0.1), 0.01, 'inverseTime preset: 10% at the end');
    const restarts = schedules.preset('cosineRestarts', 70, 0.1);
    close(restarts.lr(10, 0.1), 0.1, 'cosineRestarts preset restarts at 1/7 of the run');
    close(restarts.lr(30, 0.1), 0.1, 'and at 3/7');
  });

  it('driving an optimizer: lr set from the schedule before each step changes the step sizes', function () {
    const w = param(tensor([0], { dtype: 'float64' }), { dtype: 'float64' });
    const opt = optim.sgd([w], { lr: 1 });
    const s = schedules.step({ stepSize: 2, gamma: 0.5 });
    const positions: number[] = [];
    for (let t = 0; t < 5; t++) {
      opt.lr = s.lr(t, opt.baseLr);
      w.grad = tensor([1], { dtype: 'float64' });
      opt.step();
      positions.push(w.data[0]);
    }
    // steps of 1, 1, 0.5, 0.5, 0.25
    assert.deepEqual(positions, [-1, -2, -2.5, -3, -3.25]);
  });

  describe('bad options throw, naming the option', function () {
    const bad: [string, () => unknown, RegExp][] = [
      ['step without options', () => schedules.step(undefined as never), /schedules\.step: stepSize must be a positive integer, got undefined/],
      ['step stepSize 0', () => schedules.step({ stepSize: 0 }), /schedules\.step: stepSize must be a positive integer, got 0/],
      ['step stepSize 2.5', () => schedules.step({ stepSize: 2.5 }), /stepSize must be a positive integer, got 2\.5/],
      ['step negative gamma', () => schedules.step({ stepSize: 2, gamma: -1 }), /schedules\.step: gamma must be ≥ 0, got -1/],
      ['piecewise lengths', () => schedules.piecewise({ boundaries: [10, 20], values: [1, 0.5] }), /schedules\.piecewise: needs boundaries .* and values \(n \+ 1 learning rates\)/],
      ['piecewise boundaries not increasing', () => schedules.piecewise({ boundaries: [10, 10], values: [1, 0.5, 0.1] }), /schedules\.piecewise: boundaries\[1\] must be an integer above the previous boundary, got 10/],
      ['piecewise negative boundary', () => schedules.piecewise({ boundaries: [-1], values: [1, 0.5] }), /boundaries\[0\] must be an integer ≥ 0, got -1/],
      ['piecewise negative value', () => schedules.piecewise({ boundaries: [5], values: [1, -0.5] }), /schedules\.piecewise: values\[1\] must be ≥ 0, got -0\.5/],
      ['exponential decayRate 0', () => schedules.exponential({ decayRate: 0 }), /schedules\.exponential: decayRate must be > 0, got 0/],
      ['exponential decaySteps 0', () => schedules.exponential({ decayRate: 0.5, decaySteps: 0 }), /schedules\.exponential: decaySteps must be a positive integer, got 0/],
      ['inverseTime without options', () => schedules.inverseTime(undefined as never), /schedules\.inverseTime: decayRate must be ≥ 0, got undefined/],
      ['inverseTime decaySteps 0', () => schedules.inverseTime({ decayRate: 1, decaySteps: 0 }), /schedules\.inverseTime: decaySteps must be a positive integer, got 0/],
      ['cosineRestarts without firstDecaySteps', () => schedules.cosineRestarts({} as never), /schedules\.cosineRestarts: firstDecaySteps must be a positive integer, got undefined/],
      ['cosineRestarts tMul below 1', () => schedules.cosineRestarts({ firstDecaySteps: 5, tMul: 0.5 }), /schedules\.cosineRestarts: tMul must be ≥ 1, got 0\.5/],
      ['cosineRestarts alpha above 1', () => schedules.cosineRestarts({ firstDecaySteps: 5, alpha: 2 }), /schedules\.cosineRestarts: alpha must be in \[0, 1\], got 2/],
      ['polynomial without decaySteps', () => schedules.polynomial({} as never), /schedules\.polynomial: decaySteps must be a positive integer, got undefined/],
      ['polynomial power 0', () => schedules.polynomial({ decaySteps: 5, power: 0 }), /schedules\.polynomial: power must be > 0, got 0/],
      ['polynomial negative endLr', () => schedules.polynomial({ decaySteps: 5, endLr: -1 }), /schedules\.polynomial: endLr must be ≥ 0, got -1/],
      ['cosine totalSteps NaN', () => schedules.cosine({ totalSteps: NaN }), /schedules\.cosine: totalSteps must be a positive integer, got NaN/],
      ['cosine warm-up as long as the run', () => schedules.cosine({ totalSteps: 10, warmupSteps: 10 }), /schedules\.cosine: warmupSteps must be an integer in \[0, totalSteps\), got 10/],
      ['cosine negative minLr', () => schedules.cosine({ totalSteps: 10, minLr: -0.1 }), /schedules\.cosine: minLr must be ≥ 0, got -0\.1/],
      ['cyclic unknown mode', () => schedules.cyclic({ maxLr: 1, stepSize: 2, mode: 'sawtooth' as never }), /schedules\.cyclic: mode must be triangular, triangular2 or expRange, got "sawtooth"/],
      ['cyclic gamma > 1', () => schedules.cyclic({ maxLr: 1, stepSize: 2, gamma: 1.5 }), /schedules\.cyclic: gamma must be in \(0, 1\], got 1\.5/],
      ['cyclic negative maxLr', () => schedules.cyclic({ maxLr: -1, stepSize: 2 }), /schedules\.cyclic: maxLr must be ≥ 0, got -1/],
      ['cyclic stepSize 0', () => schedules.cyclic({ maxLr: 1, stepSize: 0 }), /schedules\.cyclic: stepSize must be a positive integer, got 0/],
      ['cyclic baseLr a string', () => schedules.cyclic({ maxLr: 1, stepSize: 2, baseLr: '0.1' as never }), /schedules\.cyclic: baseLr must be ≥ 0, got 0\.1/],
    ];
    for (const [what, fn, message] of bad) {
      it(what, () => assert.throws(fn, (e: unknown) => e instanceof Error && message.test(e.message)));
    }
  });
});
