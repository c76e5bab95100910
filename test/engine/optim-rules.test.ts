/**
 * The optimizers' update rules as data: the expression parser (engine/optim/expr.ts), the CPU's
 * array-at-a-time evaluator (engine/optim/evaluate.ts) against a plain per-element reading of the
 * same trees, bit for bit, on special values (±0, NaN, ±∞, subnormals) and around its chunk size,
 * and the WGSL renderer's uniforms (engine/optim/wgsl.ts) against the CPU's step scalars. What the
 * rules compute is checked against PyTorch's formulas in optim.test.ts, and the WGSL on a GPU in
 * test/gpu/train.test.ts.
 */
import assert from 'node:assert/strict';
import { Rng, optim, param } from '../../engine/index';
import { VectorProgram } from '../../engine/optim/evaluate';
import { parseRule, show, type Expr, type Scope, type Stmt } from '../../engine/optim/expr';
import { ruleOf, type Config } from '../../engine/optim/rules';
import { gpuRuleOf } from '../../engine/optim/wgsl';

const SCOPE: Scope = { elements: ['g', 'w', 'm'], scalars: ['lr', 't', 'k'], constants: { beta: 0.9, eps: 1e-8, flag: true } };
const parse = (...lines: string[]) => parseRule('test', lines, SCOPE);
const tree = (line: string) => show(parse(line)[0].value);

/** Every optimizer with each of its options on, as its config() reports them. */
function configs(): { name: optim.OptimizerName; config: Config; label: string }[] {
  const variants: [optim.OptimizerName, Record<string, number | boolean | string>][] = [
    ['sgd', {}], ['sgd', { momentum: 0.9 }], ['sgd', { momentum: 0.9, dampening: 0.3 }], ['sgd', { momentum: 0.9, nesterov: true }],
    ['adagrad', {}], ['adagrad', { lrDecay: 0.1, initialAccumulatorValue: 0.2 }],
    ['rmsprop', {}], ['rmsprop', { centered: true }], ['rmsprop', { momentum: 0.5 }], ['rmsprop', { centered: true, momentum: 0.5 }],
    ['adadelta', {}], ['adam', {}], ['adam', { amsgrad: true }], ['adamw', {}], ['adamw', { amsgrad: true }], ['adamax', {}], ['nadam', {}],
    // the textbook variants
    ['sgd', { momentum: 0.9, nesterov: 'lookahead' }], ['adagrad', { epsInsideSqrt: true }], ['rmsprop', { centered: true, epsInsideSqrt: true }],
    ['adam', { epsInsideSqrt: true }], ['adam', { biasCorrection: false }], ['adam', { amsgrad: true, biasCorrection: false, epsInsideSqrt: true }],
    ['adamw', { biasCorrection: false, epsInsideSqrt: true }],
  ];
  const out: { name: optim.OptimizerName; config: Config; label: string }[] = [];
  for (const [name, o] of variants) {
    for (const wd of [0, 0.05]) {
      const config = optim.spec(name, { ...o, weightDecay: wd }).create([param([1])]).config();
      out.push({ name, config, label: `${name} ${JSON.stringify({ ...o, weightDecay: wd })}` });
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// The per-element reading of a rule: every element on its own, statement by statement, a stored
// value read back as stored (float32 weights round), as the formulas mean.

function valueAt(e: Expr, env: Record<string, number>, scalars: Record<string, number>): number {
  switch (e.kind) {
    case 'num': return e.value;
    case 'element': return env[e.name];
    case 'scalar': return scalars[e.name];
    case 'unary': {
      const a = valueAt(e.a, env, scalars);
      return e.op === 'neg' ? -a : e.op === 'sqrt' ? Math.sqrt(a) : Math.abs(a);
    }
    case 'binary': {
      const a = valueAt(e.a, env, scalars), b = valueAt(e.b, env, scalars);
      return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : e.op === '/' ? a / b : Math.max(a, b);
    }
    case 'select': {
      const a = valueAt(e.a, env, scalars), b = valueAt(e.b, env, scalars);
      const yes = e.cmp === '>' ? a > b : e.cmp === '<' ? a < b : a === b;
      return yes ? valueAt(e.then, env, scalars) : valueAt(e.else, env, scalars);
    }
  }
}

function perElement(stmts: readonly Stmt[], names: readonly string[], arrays: (Float32Array | Float64Array)[], scalars: Record<string, number>): void {
  for (let i = 0; i < arrays[0].length; i++) {
    const env: Record<string, number> = {};
    names.forEach((name, k) => (env[name] = arrays[k][i]));
    for (const s of stmts) {
      const v = valueAt(s.value, env, scalars);
      const k = names.indexOf(s.target);
      if (k < 0) env[s.target] = v;
      else {
        arrays[k][i] = v;
        env[s.target] = arrays[k][i];
      }
    }
  }
}

/** Values that find a difference in signed zeros, NaN, infinities, rounding. */
function awkwardValues(rng: Rng, n: number): Float64Array {
  const special = [0, -0, NaN, Infinity, -Infinity, 5e-324, -1e-310, 1e300, -1e-300, 1, -1, 0.1, 3e38, -3.5e38];
  return Float64Array.from({ length: n }, () => (rng.uniform() < 0.3 ? special[rng.int(special.length)] : (rng.uniform() - 0.5) * 10 ** (rng.int(9) - 4)));
}

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
};

// ------------------------------------------------------------------------------------------------

describe('optimizer rules as data', function () {
  describe('parsing', function () {
    it('JavaScript precedence and left associativity: the order of floating-point operations is the text\'s', function () {
      assert.equal(tree('w = w - lr*g - m'), '((w - (lr * g)) - m)');
      assert.equal(tree('w = lr/k*m / (sqrt(m)/k + eps)'), '(((lr / k) * m) / ((sqrt(m) / k) + 1e-8))');
      assert.equal(tree('m = beta*m + (1 - beta)*g*g'), '((0.9 * m) + ((0.09999999999999998 * g) * g))');
      assert.equal(tree('w = -g*m'), '(neg(g) * m)');
      assert.equal(tree('w = max(m, abs(g) + eps)'), 'max(m, (abs(g) + 1e-8))');
    });

    it('constants fold in float64 as JavaScript computes them; step scalars and elements stay', function () {
      const [s] = parse('w = (1 - beta)*(1 - beta) + 2e-3 + 1.5 * .5 + g');
      assert.equal(show(s.value), `(${(1 - 0.9) * (1 - 0.9) + 2e-3 + 1.5 * 0.5} + g)`);
      assert.equal(tree('w = (1 - lr)*g'), '((1 - lr) * g)');
    });

    it('a ternary picks on a comparison and nests to the right', function () {
      assert.equal(tree('g = g > eps ? eps : g < -eps ? -eps : g'), '(g > 1e-8 ? 1e-8 : (g < -1e-8 ? -1e-8 : g))');
      assert.equal(tree('m = t == 1 ? g : beta*m'), '(t == 1 ? g : (0.9 * m))');
    });

    it('a let is a temporary that later statements read', function () {
      const [a, b] = parse('let d = g*g', 'w = w - d');
      assert.equal(a.isLet, true);
      assert.equal(a.target, 'd');
      assert.equal(show(b.value), '(w - d)');
      assert.deepEqual(b.value, { kind: 'binary', op: '-', a: { kind: 'element', name: 'w' }, b: { kind: 'element', name: 'd' } });
    });

    const bad: [string, string[], RegExp][] = [
      ['an unknown name', ['w = w - lr*q'], /optim\.test: in the update rule "w = w - lr\*q": unknown name q/],
      ['an assignment to a step scalar', ['lr = 1'], /cannot assign lr: only g, w and the slots \(m\) can be assigned; use let for a temporary/],
      ['an assignment to a let', ['let d = g', 'd = 2'], /cannot assign d/],
      ['a let that hides a slot', ['let m = g'], /let m hides another name/],
      ['a let that hides a constant', ['let beta = g'], /let beta hides another name/],
      ['a boolean setting in arithmetic', ['w = flag*g'], /flag is boolean, not a number/],
      ['an unknown function', ['w = exp(g)'], /unknown function exp\/1 \(there are sqrt\(x\), abs\(x\), max\(a, b\)\)/],
      ['max of one argument', ['w = max(g)'], /unknown function max\/1/],
      ['text left over', ['w = g g'], /unexpected "g"/],
      ['an unclosed parenthesis', ['w = (g + m'], /unexpected end/],
      ['a stray character', ['w = g % 2'], /unexpected character at "% 2"/],
    ];
    for (const [what, lines, message] of bad) {
      it(`refuses ${what}, naming the rule and the text`, () => assert.throws(() => parse(...lines), message));
    }

    it('every optimizer\'s rule parses, for every option, with clipping and weight decay', function () {
      for (const { name, config, label } of configs()) {
        for (const clip of [{}, { value: 0.5 }, { norm: 1 }, { value: 0.5, norm: 1 }]) {
          const rule = ruleOf(name, config, clip);
          assert.ok(rule.update.length >= 1, label);
          assert.equal(rule.byValue.length, clip.value === undefined ? 0 : 1, label);
          assert.equal(rule.update.some((s) => show(s.value).includes('norm')), clip.norm !== undefined, `${label}: clipping by norm`);
        }
      }
    });
  });

  describe('the CPU evaluator', function () {
    it('gives, bit for bit, what reading each rule per element gives: every optimizer and option, awkward values, float32 and float64 weights, around its chunk size', function () {
      const rng = new Rng(17);
      for (const { name, config, label } of configs()) {
        for (const clip of [{}, { value: 0.5 }, { norm: 1 }]) {
          const rule = ruleOf(name, config, clip);
          const names = ['g', 'w', ...rule.slots];
          const programs = { byValue: new VectorProgram(rule.byValue, names), update: new VectorProgram(rule.update, names) };
          for (const n of [1, 1023, 1024, 1025, 2500]) {
            for (const dtype of ['float32', 'float64'] as const) {
              for (const t of [1, 4]) {
                const w = dtype === 'float32' ? Float32Array.from(awkwardValues(rng, n)) : awkwardValues(rng, n);
                const start = [awkwardValues(rng, n), w, ...rule.slots.map(() => awkwardValues(rng, n).map(Math.abs))];
                const ours = start.map((a) => a.slice());
                const theirs = start.map((a) => a.slice());
                const scalars = { ...rule.scalars({ t, lr: 0.01 }, []), norm: t === 1 ? 0.3 : 7 };
                programs.byValue.run(n, ours, {});
                programs.update.run(n, ours, scalars);
                perElement(rule.byValue, names, theirs, scalars);
                perElement(rule.update, names, theirs, scalars);
                names.forEach((k, j) => {
                  const i = sameBits(ours[j], theirs[j]);
                  assert.equal(i, -1, `${label} ${JSON.stringify(clip)}, ${dtype}, n ${n}, t ${t}: ${k}[${i}] is ${ours[j][i]}, per element ${theirs[j][i]}`);
                });
              }
            }
          }
        }
      }
    });

    it('a scaled operand keeps −0 and NaN (s·x + c is read with s = 1, c = −0)', function () {
      const names = ['g', 'w'];
      const prog = new VectorProgram(parseRule('test', ['w = g', 'g = 2*g + lr'], { elements: names, scalars: ['lr'], constants: {} }), names);
      const g = Float64Array.of(-0, NaN, 0, -Infinity), w = new Float64Array(4);
      prog.run(4, [g, w], { lr: -0 });
      assert.deepEqual([...w].map((x) => Object.is(x, -0) ? '-0' : String(x)), ['-0', 'NaN', '0', '-Infinity']);
      assert.deepEqual([...g].map((x) => Object.is(x, -0) ? '-0' : String(x)), ['-0', 'NaN', '0', '-Infinity']);
    });

    it('a branch on step scalars is taken per run: t == 1 starts SGD\'s momentum buffer from g', function () {
      const rule = ruleOf('sgd', { momentum: 0.5, dampening: 0.5, nesterov: false, weightDecay: 0 });
      const prog = new VectorProgram(rule.update, ['g', 'w', ...rule.slots]);
      const g = Float64Array.of(2), w = Float64Array.of(0), buf = Float64Array.of(0);
      prog.run(1, [g, w, buf], rule.scalars({ t: 1, lr: 1 }, []));
      assert.deepEqual([w[0], buf[0]], [-2, 2], 'step 1: buf = g');
      prog.run(1, [g, w, buf], rule.scalars({ t: 2, lr: 1 }, []));
      assert.deepEqual([w[0], buf[0]], [-4, 2], 'step 2: buf = 0.5·2 + 0.5·2');
    });
  });

  describe('the WGSL renderer', function () {
    it('turns every step-scalar subexpression into one uniform, with the CPU\'s values; reads the norm only to clip by it', function () {
      for (const { name, config, label } of configs()) {
        for (const clip of [{}, { value: 0.5 }, { norm: 1 }]) {
          const gpu = gpuRuleOf({ name, config, clipNorm: clip.norm, clipValue: clip.value });
          assert.ok(typeof gpu !== 'string', `${label}: ${String(gpu)}`);
          const rule = ruleOf(name, config, clip);
          assert.deepEqual(gpu.slots, rule.slots);
          assert.deepEqual(gpu.initial, rule.initial);
          assert.equal(gpu.kernel.readsNorm, clip.norm !== undefined, label);
          for (const t of [1, 2, 30]) assert.equal(gpu.scalars(t, 0.01).length, gpu.kernel.scalars, `${label}: uniforms at step ${t}`);
          assert.ok(gpu.kernel.body.includes('w = '), `${label}: assigns w`);
          rule.slots.forEach((_, k) => assert.ok(gpu.kernel.body.includes(`s${k} = `), `${label}: assigns slot ${k}`));
        }
      }
    });

    it('NAdam\'s μ products and Adam\'s bias corrections: the uniforms are the CPU\'s step scalars, computed in float64', function () {
      const config = optim.nadam([param([1])], { lr: 0.1 }).config();
      const gpu = gpuRuleOf({ name: 'nadam', config });
      assert.ok(typeof gpu !== 'string');
      const mu = (t: number) => 0.9 * (1 - 0.5 * 0.96 ** (t * 0.004));
      let product = 1;
      for (let t = 1; t <= 5; t++) {
        product *= mu(t);
        const uniforms = gpu.scalars(t, 0.1);
        assert.ok(uniforms.includes((0.1 * (1 - mu(t))) / (1 - product)), `step ${t}: lr·(1 − μₜ)/(1 − Πμ)`);
        assert.ok(uniforms.includes((0.1 * mu(t + 1)) / (1 - product * mu(t + 1))), `step ${t}: lr·μₜ₊₁/(1 − Πμ·μₜ₊₁)`);
        assert.ok(uniforms.includes(Math.sqrt(1 - 0.999 ** t)), `step ${t}: √(1 − β₂ᵗ)`);
      }
      const adam = gpuRuleOf({ name: 'adam', config: optim.adam([param([1])]).config() });
      assert.ok(typeof adam !== 'string');
      assert.deepEqual(adam.scalars(3, 0.01).sort(), [0.01 / (1 - 0.9 ** 3), Math.sqrt(1 - 0.999 ** 3)].sort());
    });

    it('refuses clipping by norm and by value together, and an unknown optimizer, with the reason', function () {
      const config = optim.sgd([param([1])]).config();
      assert.equal(gpuRuleOf({ name: 'sgd', config, clipNorm: 1, clipValue: 1 }), 'clipping by norm and by value together runs on the CPU');
      assert.equal(gpuRuleOf({ name: 'lion' as never, config }), 'the lion optimizer has no GPU update rule');
    });
  });
});
