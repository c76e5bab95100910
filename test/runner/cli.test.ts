/**
 * The command line, run as a user runs it: `node bin/backprop-lens.js trace FILE [--json] …`.
 * Checks the JSON contract of the issue (field names and types) and the exit codes.
 */
import * as assert from 'node:assert/strict';
import { formatNumber } from '../../engine/format';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT, ensureBuilt, lineOf, useTempDir, writeFile } from './helpers';

const BIN = path.join(ROOT, 'bin', 'backprop-lens.js');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Json = Record<string, any>;

describe('CLI: backprop-lens', function () {
  const tmp = useTempDir('bpl-cli-');
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
  });

  it('--help prints the usage and exits 0', () => {
    const r = cli('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: backprop-lens/);
    assert.match(r.stdout, /trace FILE/);
    assert.match(r.stdout, /--json/);
  });

  describe('trace FILE --json', () => {
    const MODEL = `import { scalar, tensor, param } from 'backprop-lens';
const x = scalar(-2);
const y = scalar(5);
const q = x.add(y); // @q
const v = param([1, 2, 3, 4, 5, 6, 7, 8], { dtype: 'float64' });
const big = v.mul(q); // @big
console.log('a log line must not break the JSON');
export default big.sum().add(q);
`;
    let doc: Json;
    let file: string;
    before(() => {
      file = writeFile(tmp(), 'model.ts', MODEL);
      const r = cli('trace', file, '--json', '--max-elements', '4');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, 1, 'one JSON document on one line');
      doc = JSON.parse(r.stdout);
      assert.match(r.stderr, /a log line must not break the JSON/, 'the model console goes to stderr in JSON mode');
    });

    it('has the top-level fields {version, file, output, nodes, backward, diagnosis}', () => {
      for (const k of ['version', 'file', 'output', 'nodes', 'backward', 'diagnosis']) assert.ok(k in doc, `missing ${k}`);
      assert.equal(typeof doc.version, 'number');
      assert.equal(doc.file, file);
      assert.ok(Number.isInteger(doc.output) && doc.output >= 0 && doc.output < doc.nodes.length);
      assert.ok(Array.isArray(doc.backward) && doc.backward.length > 0);
      assert.ok(Array.isArray(doc.diagnosis));
    });

    it('every node has {id, op, name, label, shape, inputs, scope, source, value, grad, stats, gradStats}', () => {
      doc.nodes.forEach((n: Json, i: number) => {
        for (const k of ['id', 'op', 'name', 'label', 'shape', 'inputs', 'scope', 'source', 'value', 'grad', 'stats', 'gradStats']) {
          assert.ok(k in n, `node ${i} lacks ${k}`);
        }
        assert.equal(n.id, i);
        assert.equal(typeof n.op, 'string');
        assert.ok(n.name === null || typeof n.name === 'string');
        assert.equal(typeof n.label, 'string');
        assert.ok(Array.isArray(n.shape) && n.shape.every(Number.isInteger));
        assert.ok(Array.isArray(n.inputs) && n.inputs.every((j: number) => Number.isInteger(j) && j < i));
        assert.ok(n.scope === null || typeof n.scope === 'string');
        if (n.source !== null) {
          assert.ok(Number.isInteger(n.source.line) && n.source.line >= 1);
          assert.ok(Number.isInteger(n.source.column) && n.source.column >= 1);
        }
        for (const k of ['min', 'max', 'mean', 'std', 'norm', 'zeros', 'nan', 'inf', 'histogram']) assert.ok(k in n.stats, `node ${i} stats lack ${k}`);
      });
    });

    it('values and gradients are flat number arrays up to --max-elements, null above, with stats always', () => {
      const byName = (name: string) => doc.nodes.find((n: Json) => n.name === name);
      const q = byName('q');
      assert.deepEqual(q.value, [3]);
      assert.equal(q.op, 'add');
      assert.equal(q.source.line, lineOf(MODEL, '// @q'));
      assert.deepEqual(q.shape, []);
      // ∂/∂q of Σ(v·q) + q = Σv + 1 = 37
      assert.deepEqual(q.grad, [37]);
      assert.deepEqual(q.inputs, [byName('x').id, byName('y').id]);
      const big = byName('big');
      assert.deepEqual(big.shape, [8]);
      assert.equal(big.value, null, '8 elements > --max-elements 4');
      assert.equal(big.grad, null);
      assert.equal(big.stats.max, 24);
      assert.equal(big.stats.min, 3);
      assert.ok(big.gradStats, 'gradient summary even without values');
      assert.equal(big.gradStats.mean, 1);
      const v = byName('v');
      assert.equal(v.value, null);
      assert.equal(v.gradStats.max, 3);
    });

    it('backward step records reference node ids', () => {
      for (const step of doc.backward) {
        assert.ok(Number.isInteger(step.node) && step.node < doc.nodes.length);
        for (const i of step.inputs) assert.ok(Number.isInteger(i.input) && i.input < doc.nodes.length);
      }
      assert.equal(doc.backward[0].node, doc.output);
    });
  });

  it('writes NaN as the string "NaN" (the JSON stays valid)', () => {
    const file = writeFile(tmp(), 'nan.ts', `import { scalar } from 'backprop-lens';\nconst x = scalar(-1);\nconst y = x.log();\nexport default y;\n`);
    const r = cli('trace', file, '--json');
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const y = doc.nodes.find((n: Json) => n.name === 'y');
    assert.deepEqual(y.value, ['NaN']);
    assert.ok(doc.diagnosis.some((d: Json) => d.code === 'nonfinite-forward'));
  });

  it('without --json prints a table with the variable names', () => {
    const file = writeFile(tmp(), 'table.ts', `import { scalar } from 'backprop-lens';\nconst a = scalar(2);\nconst b = a.mul(a);\nexport default b;\n`);
    const r = cli('trace', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^id\s+name\s+op/);
    assert.match(r.stdout, /\bb\s+mul\b/);
  });

  it('a missing file → exit 1 and a message naming the file', () => {
    const missing = path.join(tmp(), 'nope.ts');
    const r = cli('trace', missing, '--json');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.includes(missing), r.stderr);
  });

  it('an unknown command → exit 1 with the usage', () => {
    const r = cli('frobnicate', 'x.ts');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    assert.match(r.stderr, /Usage/);
  });

  it('no command or no FILE → exit 1', () => {
    assert.equal(cli().code, 1);
    assert.equal(cli('trace').code, 1);
  });

  it('a bad option value → exit 1', () => {
    const r = cli('trace', 'x.ts', '--timeout', 'soon');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--timeout/);
    assert.equal(cli('trace', 'x.ts', '--no-such-flag').code, 1);
  });

  it('a syntax error → exit 1 and `file:line:col: syntax error: …` on stderr', () => {
    const MODEL = `import { scalar } from 'backprop-lens';\nconst x = scalar(1;  // @bad\nexport default x;\n`;
    const file = writeFile(tmp(), 'broken.ts', MODEL);
    const r = cli('trace', file, '--json');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    const line = lineOf(MODEL, '// @bad');
    assert.ok(r.stderr.startsWith(`${file}:${line}:`), r.stderr);
    assert.match(r.stderr, /: syntax error: /);
  });

  it('a runtime error → exit 1 with the located message', () => {
    const MODEL = `import { tensor } from 'backprop-lens';\nconst a = tensor([1, 2, 3]);\nconst b = a.add(tensor([1, 2])); // @add\nexport default b.sum();\n`;
    const file = writeFile(tmp(), 'shape.ts', MODEL);
    const r = cli('trace', file);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.startsWith(`${file}:${lineOf(MODEL, '// @add')}:`), r.stderr);
    assert.match(r.stderr, /shape error/);
  });

  it('limits out of range are refused with the range (a timeout past 2³¹ − 1 ms would fire at once)', () => {
    const file = path.join(ROOT, 'examples', '01-add-mul.ts');
    for (const [flag, value, re] of [
      ['--timeout', '3000000000', /--timeout is 3000000000; it must be a number from 100 to 3600000 \(milliseconds\)/],
      ['--timeout', '50', /--timeout is 50; it must be a number from 100 to 3600000/],
      ['--memory', '10', /--memory is 10; it must be a whole number from 64 to 65536 \(MB\)/],
      ['--max-nodes', '1e9', /--max-nodes is 1000000000; it must be a whole number from 10 to 100000/],
      ['--max-elements', '2.5', /--max-elements is 2.5; it must be a whole number from 1 to 1048576/],
    ] as const) {
      const r = cli('trace', file, flag, value);
      assert.equal(r.code, 1, `${flag} ${value}`);
      assert.match(r.stderr, re);
    }
  });

  it('--timeout stops an endless model', () => {
    const file = writeFile(tmp(), 'endless.ts', `import { scalar } from 'backprop-lens';\nconst x = scalar(1);\nwhile (x.item() > 0) {}\nexport default x;\n`);
    const r = cli('trace', file, '--timeout', '500');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /timeout error/);
  });

  describe('hessian | landscape | playground FILE: the panel\'s analysis cards in the terminal', () => {
    // L(a, b) = (a − 1)² + 3(b + 2)² + a·b: gradient (2(a − 1) + b, 6(b + 2) + a), Hessian [[2, 1], [1, 6]]
    // everywhere (eigenvalues 4 ∓ √5); the minimum solves 2a + b = 2, a + 6b = −12: a = 24/11, b = −26/11
    const MODEL = `import { defineTraining, optim, param } from 'backprop-lens';
const a = param(0.5).named('a');
const b = param(1).named('b');
export default defineTraining({
  params: [a, b], steps: 400, optimizer: optim.sgd({ lr: 0.1 }),
  loss: () => a.sub(1).pow(2).add(b.add(2).pow(2).mul(3)).add(a.mul(b)),
});
`;
    let file: string;
    before(() => (file = writeFile(tmp(), 'two.ts', MODEL)));

    it('hessian --json: the matrix, the gradient and the eigenvalues of the closed form; a minimum once trained there', () => {
      const r = cli('hessian', file, '--json');
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as Json;
      assert.deepEqual(doc.names, ['a', 'b']);
      assert.equal(doc.step, 0);
      const close = (x: number, y: number, what: string) => assert.ok(Math.abs(x - y) <= 1e-6, `${what}: ${x}, want ${y}`);
      [[2, 1], [1, 6]].forEach((row, i) => row.forEach((v, j) => close(doc.hessian[i][j], v, `H[${i}][${j}]`)));
      close(doc.gradient[0], 2 * (0.5 - 1) + 1, '∂L/∂a');
      close(doc.gradient[1], 6 * (1 + 2) + 0.5, '∂L/∂b');
      close(doc.eigenvalues[0], 4 - Math.sqrt(5), 'λ₁');
      close(doc.eigenvalues[1], 4 + Math.sqrt(5), 'λ₂');
      assert.equal(doc.kind, 'not critical');
      const trained = JSON.parse(cli('hessian', file, '--json', '--at-step', '400').stdout) as Json;
      assert.equal(trained.step, 400);
      assert.equal(trained.kind, 'minimum');
      const text = cli('hessian', file);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /eigenvalues {2}1\.76\d* {2}6\.23/);
      assert.match(text.stdout, /point {8}not critical/);
    });

    it('landscape --json: 41 offsets from −range to range through L(θ) at α = 0; --2d adds the grid', () => {
      const r = cli('landscape', file, '--json', '--range', '0.5', '--2d');
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as Json;
      assert.equal(doc.alphas.length, 41);
      assert.equal(doc.alphas[0], -0.5);
      assert.equal(doc.alphas[40], 0.5);
      const L0 = (0.5 - 1) ** 2 + 3 * 3 ** 2 + 0.5;
      assert.ok(Math.abs(doc.center - L0) < 1e-5, `center ${doc.center}, L(θ) ${L0}`);
      assert.ok(Math.abs(doc.losses1d[20] - L0) < 1e-5);
      assert.equal(doc.losses2d.length, doc.betas.length);
      assert.match(cli('landscape', file).stdout, /Loss landscape around the parameters at step 0/);
    });

    it('playground: the file\'s two numbers, each optimizer\'s end point and verdict; a built-in surface; bad flags refused', () => {
      const r = cli('playground', file, '--json', '--runs', 'sgd:0.1,adam:0.05', '--play-steps', '300');
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as Json;
      assert.equal(doc.surface, 'file');
      assert.deepEqual(doc.start, [0.5, 1]);
      assert.deepEqual(doc.trajectories.map((t: Json) => [t.optimizer, t.lr, t.points.length]), [['sgd', 0.1, 301], ['adam', 0.05, 301]]);
      const sgd = doc.trajectories[0].end;
      assert.ok(Math.abs(sgd.point[0] - 24 / 11) < 1e-4 && Math.abs(sgd.point[1] + 26 / 11) < 1e-4, `sgd ends at ${sgd.point}`);
      assert.equal(sgd.kind, 'minimum');
      const text = cli('playground', file, '--surface', 'saddle', '--runs', 'sgd:0.05');
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /Optimizer playground on .*saddle/);
      assert.match(text.stdout, /sgd +0\.05/);
      // sgd with heavy-ball momentum and in Nesterov's form (PyTorch's): v ← μ·v + g; θ ← θ − lr·v, or θ ← θ − lr·(g + μ·v)
      // (the playground works on float64 copies of the file's parameters)
      const grad = ([a, b]: number[]) => [2 * (a - 1) + b, 6 * (b + 2) + a];
      const m = JSON.parse(cli('playground', file, '--json', '--runs', 'sgd:0.05:0.9,sgd:0.05:0.9:nesterov', '--play-steps', '2').stdout) as Json;
      assert.deepEqual(m.trajectories.map((t: Json) => [t.optimizer, t.lr, t.momentum, t.nesterov ?? false]), [['sgd', 0.05, 0.9, false], ['sgd', 0.05, 0.9, true]]);
      for (const [i, nesterov] of [[0, false], [1, true]] as const) {
        let th = [0.5, 1], v = [0, 0];
        const want = [th];
        for (let step = 0; step < 2; step++) {
          const g = grad(th);
          v = v.map((vi, j) => 0.9 * vi + g[j]);
          th = th.map((x, j) => x - 0.05 * (nesterov ? g[j] + 0.9 * v[j] : v[j]));
          want.push(th);
        }
        m.trajectories[i].points.forEach((p: number[], k: number) => p.forEach((x, j) => assert.ok(Math.abs(x - want[k][j]) < 1e-12, `${nesterov ? 'Nesterov' : 'momentum'} step ${k}: ${p} vs ${want[k]}`)));
      }
      // 2/λmax at the start: λmax = 4 + √5 (the closed-form Hessian); plain sgd above it is marked
      const limit = 2 / (4 + Math.sqrt(5));
      const t2 = cli('playground', file, '--runs', `sgd:0.3,sgd:0.33,sgd:0.33:0.5`, '--play-steps', '5');
      assert.equal(t2.code, 0, t2.stderr);
      assert.ok(t2.stdout.includes(`λmax = ${formatNumber(4 + Math.sqrt(5))}: plain gradient descent is stable there for lr < 2/λmax = ${formatNumber(limit)}.`), t2.stdout);
      const row = (label: RegExp) => t2.stdout.split('\n').find((l) => label.test(l)) ?? '';
      assert.ok(!row(/^sgd +0\.3 /).includes('2/λmax'), 'sgd at 0.3 is below the limit');
      assert.ok(row(/^sgd +0\.33/).includes('0.33 > 2/λmax'), 'sgd at 0.33 is above it');
      assert.ok(!row(/^sgd \(momentum 0\.5\)/).includes('2/λmax'), 'the limit is about plain gradient descent');
      for (const [args, re] of [
        [['playground', file, '--runs', 'lion:0.1'], /--runs expects optimizer:lr pairs/],
        [['playground', file, '--runs', 'adam:0.1:0.9'], /for sgd a momentum from 0 to 1/],
        [['playground', file, '--runs', 'sgd:0.1:1.5'], /for sgd a momentum from 0 to 1/],
        [['playground', file, '--runs', 'sgd:0.1:0.9:heavy'], /sgd:0.01:0.9:nesterov/],
        [['playground', file, '--surface', 'moon'], /--surface must be one of file, saddle, bowl, rosenbrock/],
        [['hessian', file, '--range', '2'], /--range applies to landscape/],
        [['hessian', file, '--lr', '2'], /--lr applies to train \(or with --at-step\)/],
        [['hessian', path.join(ROOT, 'examples', '08-moons-mlp.ts')], /The Hessian is computed for models of up to 64 parameter values; this one has 65/],
      ] as const) {
        const bad = cli(...args);
        assert.equal(bad.code, 1, args.join(' '));
        assert.match(bad.stderr, re);
      }
    });
  });
});
