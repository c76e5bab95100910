/**
 * ModelRunner error handling: every way a model can go wrong becomes one RunError of the right kind,
 * located at the right line of the user's file, and the calling thread stays responsive. Model files
 * are written into a temporary folder; expected lines are found by marker comments.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LIMITS, type LogLine } from '../../extension/runner/types';
import { MODEL_V8_FLAGS } from '../../extension/runner/v8-flags';
import { ROOT, expectError, expectOk, lineOf, columnOf, node, runModel, useRunner, useTempDir, writeFile } from './helpers';

describe('ModelRunner', function () {
  const runner = useRunner();
  const tmp = useTempDir('bpl-runner-');

  it('syntax error → kind "syntax" at the line of the mistake', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(1);
const y = x.mul(2; // @bad
export default y;
`;
    const { file, out } = await runModel(runner(), tmp(), 'syntax.ts', MODEL);
    const e = expectError(out);
    assert.equal(e.kind, 'syntax');
    assert.equal(e.file, file);
    assert.equal(e.line, lineOf(MODEL, '// @bad'));
    assert.ok(e.column !== null && e.column >= 1);
    assert.ok(e.message.length > 0);
  });

  it('syntax error in an imported helper → located in the helper file', async () => {
    const HELPER = `export const twice = (v: number) => v * ; // @bad\n`;
    const helper = writeFile(tmp(), 'broken-helper.ts', HELPER);
    const { out } = await runModel(runner(), tmp(), 'uses-broken.ts', `import { scalar } from 'backprop-lens';\nimport { twice } from './broken-helper';\nexport default scalar(twice(2));\n`);
    const e = expectError(out);
    assert.equal(e.kind, 'syntax');
    assert.equal(e.file, helper);
    assert.equal(e.line, lineOf(HELPER, '// @bad'));
  });

  it('an import that does not resolve → kind "syntax" naming the import line', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\nimport { nothing } from './does-not-exist'; // @import\nexport default scalar(nothing);\n`;
    const { out } = await runModel(runner(), tmp(), 'unresolved.ts', MODEL);
    const e = expectError(out);
    assert.equal(e.kind, 'syntax');
    assert.equal(e.line, lineOf(MODEL, '// @import'));
    assert.match(e.message, /does-not-exist/);
  });

  it('runtime `throw` inside a function → kind "runtime" at the throw line, stack in the model file', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(2);

function checkPositive(v: number): void {
  if (v > 0) {
    throw new Error('boom: the value is positive'); // @throw
  }
}

checkPositive(x.item()); // @call
export default x;
`;
    const { file, out } = await runModel(runner(), tmp(), 'throws.ts', MODEL);
    const e = expectError(out);
    assert.equal(e.kind, 'runtime');
    assert.equal(e.file, file);
    assert.equal(e.line, lineOf(MODEL, '// @throw'));
    assert.match(e.message, /boom: the value is positive/);
    assert.ok(e.stack, 'a runtime error carries the mapped stack');
    assert.ok(e.stack.includes(`${file}:${lineOf(MODEL, '// @throw')}:`), `stack names the throw line:\n${e.stack}`);
    assert.ok(e.stack.includes(`${file}:${lineOf(MODEL, '// @call')}:`), `stack names the call line:\n${e.stack}`);
    assert.match(e.stack, /checkPositive/);
    assert.doesNotMatch(e.stack, /backprop-lens\.js|dist\/worker\.js/, 'no frames of the bundle or the worker');
  });

  it('a TypeError from a misspelt method → kind "runtime" at that line', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\nconst x = scalar(1);\nconst y = (x as any).addd(2); // @typo\nexport default y;\n`;
    const { out } = await runModel(runner(), tmp(), 'typo.ts', MODEL);
    const e = expectError(out);
    assert.equal(e.kind, 'runtime');
    assert.equal(e.line, lineOf(MODEL, '// @typo'));
    assert.match(e.message, /addd/);
  });

  it("a name the API does not have is said in the user's terms, with what the namespace has, at its line (never the bundler's import_backprop_lens)", async () => {
    const cases: [string, string, RegExp][] = [
      ['nn.conv3d(1, 1, 3)', 'nn.conv3d', /^backprop-lens has no nn\.conv3d; nn has: .*\blinear\b/],
      ['new (nn as any).Linaer(2, 2)', 'nn.Linaer', /^backprop-lens has no nn\.Linaer; nn has: .*Did you mean nn\.Linear\?$/],
      ['(optim as any).adamm([], {})', 'optim.adamm', /^backprop-lens has no optim\.adamm; optim has: .*Did you mean optim\.adam\?$/],
      ['conv9(1)', 'conv9', /^backprop-lens has no conv9; backprop-lens has: /],
    ];
    for (const [call, name, want] of cases) {
      const MODEL = `import { scalar, nn, optim } from 'backprop-lens';\n// @ts-ignore\nimport { conv9 } from 'backprop-lens';\nconst x = scalar(1);\nconst layer = ${call}; // @call\nexport default x;\n`;
      const e = expectError((await runModel(runner(), tmp(), 'no-such-name.ts', MODEL)).out);
      assert.equal(e.kind, 'runtime', name);
      assert.equal(e.line, lineOf(MODEL, '// @call'), name);
      assert.match(e.message, want, name);
      assert.doesNotMatch(e.message, /import_backprop_lens/, name);
    }
    // other errors that name the engine keep their words, without the bundler's name
    const e = expectError((await runModel(runner(), tmp(), 'not-callable.ts', `import { scalar, nn } from 'backprop-lens';\n(nn.linear(2, 1) as any)(); // @call\nexport default scalar(1);\n`)).out);
    assert.equal(e.message, 'nn.linear(...) is not a function');
  });

  it("data.fromCsv reads the user's file relative to the model file; a bad one is an error at the line that reads it", async () => {
    const dir = tmp();
    writeFile(dir, 'points.csv', 'x1,x2,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n');
    const MODEL = `import { nn, losses, data, defineTraining } from 'backprop-lens';\nconst points = data.fromCsv('points.csv'); // @read\nexport default defineTraining({ model: nn.sequential(nn.linear(2, 4, { seed: 1 }), nn.tanh(), nn.linear(4, 1, { seed: 2 })), data: points, loss: losses.bceWithLogits, steps: 3 });\n`;
    const s = expectOk((await runModel(runner(), dir, 'from-csv.ts', MODEL)).out);
    // the first minibatch is the four rows, shuffled: the inputs hold four 0s and four 1s
    const inputs = s.nodes.find((n) => n.leaf === 'constant' && n.shape.join() === '4,2');
    assert.ok(inputs?.value, 'the CSV rows are the step\'s inputs');
    assert.deepEqual(Array.from(inputs.value).sort(), [0, 0, 0, 0, 1, 1, 1, 1]);
    writeFile(dir, 'points.csv', 'x1,x2,label\n0,0,0\n0,one,1\n');
    const e = expectError((await runModel(runner(), dir, 'from-csv.ts', MODEL)).out);
    assert.equal(e.line, lineOf(MODEL, '// @read'));
    assert.match(e.message, /^data\.fromCsv: points\.csv line 3, column "x2": "one" is not a number$/);
  });

  it('a runtime error inside a helper file is located in the helper', async () => {
    const HELPER = `import type { Tensor } from 'backprop-lens';\nexport function layer(x: Tensor): Tensor {\n  if (x.item() > 0) throw new RangeError('layer: bad input'); // @throw\n  return x.tanh();\n}\n`;
    const helper = writeFile(tmp(), 'throwing-helper.ts', HELPER);
    const { out } = await runModel(runner(), tmp(), 'uses-throwing.ts', `import { scalar } from 'backprop-lens';\nimport { layer } from './throwing-helper';\nexport default layer(scalar(1));\n`);
    const e = expectError(out);
    assert.equal(e.kind, 'runtime');
    assert.equal(e.file, helper);
    assert.equal(e.line, lineOf(HELPER, '// @throw'));
  });

  it('shape mismatch → kind "shape" at the line and column of the op', async () => {
    const MODEL = `import { tensor } from 'backprop-lens';
const a = tensor([1, 2, 3], { requiresGrad: true });
const b = tensor([1, 2]);

const c = a.add(b); // @add
export default c.sum();
`;
    const { file, out } = await runModel(runner(), tmp(), 'shape.ts', MODEL);
    const e = expectError(out);
    assert.equal(e.kind, 'shape');
    assert.equal(e.file, file);
    assert.equal(e.line, lineOf(MODEL, '// @add'));
    assert.equal(e.column, columnOf(MODEL, '// @add', 'add('));
    assert.match(e.message, /\[3\]/, `the message names the shapes: ${e.message}`);
  });

  it('an error the engine writes about a node names the line of the user\'s file that made it', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\n\n// a comment, so bundle and file lines differ\nconst x = scalar(0.5);\nconst y = x.exp(); // @exp\ny.backward();\ny.backward(); // @again\nexport default y;\n`;
    const e = expectError((await runModel(runner(), tmp(), 'twice.ts', MODEL)).out);
    assert.equal(e.line, lineOf(MODEL, '// @again'));
    assert.match(e.message, new RegExp(`exp#\\d+ \\(line ${lineOf(MODEL, '// @exp')}\\)`), e.message);
  });

  it('matmul shape mismatch → kind "shape"', async () => {
    const MODEL = `import { tensor } from 'backprop-lens';\nconst W = tensor([[1, 2], [3, 4]], { requiresGrad: true });\nconst x = tensor([[1], [2], [3]]);\nconst y = W.matmul(x); // @mm\nexport default y.sum();\n`;
    const e = expectError((await runModel(runner(), tmp(), 'matmul.ts', MODEL)).out);
    assert.equal(e.kind, 'shape');
    assert.equal(e.line, lineOf(MODEL, '// @mm'));
  });

  it('errors are classified by type, not by their words: a gather index out of range is "shape", the model\'s own Error about a shape is "runtime"', async () => {
    const gather = `import { tensor } from 'backprop-lens';\nconst x = tensor([1, 2, 3], { requiresGrad: true });\nexport default x.gather([7]).sum();\n`;
    assert.equal(expectError((await runModel(runner(), tmp(), 'gather.ts', gather)).out).kind, 'shape');
    const own = `import { scalar } from 'backprop-lens';\nconst x = scalar(1);\nif (x.item() > 0) throw new Error('the shape of my data is wrong along axis 2');\nexport default x;\n`;
    assert.equal(expectError((await runModel(runner(), tmp(), 'own.ts', own)).out).kind, 'runtime');
  });

  it('limits out of their range are refused before anything runs, naming the setting and its range', async () => {
    const { out } = await runModel(runner(), tmp(), 'fine.ts', `import { scalar } from 'backprop-lens';\nexport default scalar(1).mul(2);\n`, { timeoutMs: 3_000_000_000 });
    const e = expectError(out);
    assert.equal(e.kind, 'settings');
    assert.match(e.message, /backpropLens\.timeoutMs is 3000000000; it must be a number from 100 to 3600000 \(milliseconds\)/);
    const t = await (await runner().train(path.join(ROOT, 'examples', '07-minimize-quadratic.ts'), { memoryMb: 1 })).done;
    assert.ok(!t.ok && t.errors[0].kind === 'settings' && /backpropLens\.memoryLimitMb is 1/.test(t.errors[0].message));
  });

  it('the settings in package.json have the ranges the runner enforces', () => {
    const props = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).contributes.configuration.properties;
    for (const l of Object.values(LIMITS)) {
      if (!l.setting) continue;
      assert.equal(props[l.setting].minimum, l.min, `${l.setting} minimum`);
      assert.equal(props[l.setting].maximum, l.max, `${l.setting} maximum`);
    }
  });

  describe('timeout', () => {
    /** Runs with a timer ticking on this thread, and returns how often it ticked during the run. */
    async function whileTicking<T>(work: () => Promise<T>): Promise<{ result: T; ticks: number }> {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 20);
      try {
        const result = await work();
        return { result, ticks };
      } finally {
        clearInterval(timer);
      }
    }

    it('an infinite loop that builds nodes → kind "timeout" at the loop body, and this thread stays responsive', async () => {
      const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(1);
let h = x.mul(1);
while (true) { // @loop
  h = h.mul(1); for (const t = Date.now(); Date.now() - t < 1;); // @body (1 ms a turn, which V8 cannot optimise away: 2 nodes a turn, far from the node limit)
}
export default h;
`;
      const { result: { file, out }, ticks } = await whileTicking(() =>
        runModel(runner(), tmp(), 'loop-nodes.ts', MODEL, { timeoutMs: 1500, maxNodes: LIMITS.maxNodes.max }),
      );
      const e = expectError(out);
      assert.equal(e.kind, 'timeout');
      assert.equal(e.file, file);
      // where it was executing when the debugger paused it: the body, or the loop's own jump back (once a turn)
      assert.ok([lineOf(MODEL, '// @body'), lineOf(MODEL, '// @loop')].includes(e.line ?? -1), `line ${e.line}`);
      assert.match(e.message, /1\.5 s/);
      assert.match(e.message, /timeoutMs/, 'the message names the setting');
      assert.ok(ticks >= 5, `a timer on the calling thread ticked only ${ticks} times during the run`);
    });

    it('a plain JavaScript infinite loop → kind "timeout" located in the loop', async () => {
      const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(1);
const h = x.mul(2);
let i = 0;
while (h.item() > 0) { // @loop-start
  i = (i + 1) % 7;
} // @loop-end
export default h;
`;
      const { result: { out }, ticks } = await whileTicking(() => runModel(runner(), tmp(), 'loop-js.ts', MODEL, { timeoutMs: 1500 }));
      const e = expectError(out);
      assert.equal(e.kind, 'timeout');
      assert.ok(ticks >= 5, `a timer on the calling thread ticked only ${ticks} times during the run`);
      const start = lineOf(MODEL, '// @loop-start');
      const end = lineOf(MODEL, '// @loop-end');
      // The diagnostic goes where the model was stuck, not at the last line that created a node.
      assert.ok(e.line !== null && e.line >= start && e.line <= end, `timeout reported at line ${e.line}; the loop is at lines ${start}–${end}`);
    });

    it('a 5 MB model traces under a 300 ms limit: bundling it and parsing it for names are not charged', async function () {
      this.timeout(120_000);
      // about 5 MB of data table, as a model with its data inline; the model itself does little
      const rows: string[] = [];
      for (let i = 0, size = 0; size < 5_000_000; i++) {
        const row = `  [${Array.from({ length: 16 }, (_, j) => ((i * 16 + j) % 997 / 997).toFixed(6)).join(', ')}],`;
        rows.push(row);
        size += row.length + 1;
      }
      const MODEL = `import { tensor } from 'backprop-lens';\nconst DATA = [\n${rows.join('\n')}\n];\nconst x = tensor(DATA.slice(0, 4), { requiresGrad: true });\nexport default x.mul(2).sum();\n`;
      const { out } = await runModel(runner(), tmp(), 'big.ts', MODEL, { timeoutMs: 300 });
      const snap = expectOk(out);
      assert.equal(snap.nodes[snap.output].op, 'sum');
      assert.ok(out.timings.bundleMs > 300, `bundling took ${out.timings.bundleMs} ms (the limit would have been spent there)`);
    });

    it("recording the graph is not charged to the model's limit: a model that runs in a few ms but records for longer traces under a 200 ms limit", async function () {
      this.timeout(120_000);
      // the model's code is 18 elementwise ops on 600×600 tensors; recording (the backward pass, and
      // statistics and histograms of every value and gradient) takes several times as long
      const MODEL = `import { randn } from 'backprop-lens';\nconst x = randn([600, 600], { seed: 1 });\nx.requiresGrad = true;\nlet h = x;\nfor (let i = 0; i < 6; i++) h = h.mul(0.9).add(0.1).tanh();\nexport default h.sum();\n`;
      const { out } = await runModel(runner(), tmp(), 'wide.ts', MODEL, { timeoutMs: 200 });
      const snap = expectOk(out);
      assert.equal(snap.nodes[snap.output].op, 'sum');
      assert.ok(out.timings.runMs > 200, `the run (model and recording) took ${Math.round(out.timings.runMs)} ms: more than the model's limit`);
    });

    it('a limit too short to tell a loop from a slow model is not blamed on an infinite loop', async () => {
      const MODEL = `import { scalar } from 'backprop-lens';\nconst x = scalar(1);\nwhile (true) {} // @loop\nexport default x;\n`;
      const e = expectError((await runModel(runner(), tmp(), 'short.ts', MODEL, { timeoutMs: 300 })).out);
      assert.equal(e.kind, 'timeout');
      assert.doesNotMatch(e.message, /infinite loop/);
      assert.match(e.message, /too short to tell/);
    });

    it('the runner works again after a timeout', async () => {
      const s = expectOk((await runModel(runner(), tmp(), 'after-timeout.ts', `import { scalar } from 'backprop-lens';\nconst a = scalar(4);\nconst b = a.sqrt();\nexport default b;\n`)).out);
      assert.equal(node(s, 'b').scalar, 2);
      assert.equal(node(s, 'a').scalarGrad, 0.25);
    });
  });

  it('heap blow-up with memoryMb: 128 → kind "memory"', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(1);
const keep: number[][] = [];
for (;;) keep.push(new Array(1_000_000).fill(x.item())); // @grow
export default x;
`;
    const { out } = await runModel(runner(), tmp(), 'heap.ts', MODEL, { memoryMb: 128, timeoutMs: 60_000 });
    const e = expectError(out);
    assert.equal(e.kind, 'memory');
    assert.match(e.message, /128 MB/);
  });

  it('tensor blow-up with memoryMb: 128 → kind "memory" (tensor data counts against the limit)', async () => {
    // 128 tensors of 4 MB each: 512 MB of tensor data, four times the limit (and bounded, so a
    // runner without the check does not take the machine down).
    const MODEL = `import { scalar, zeros, Tensor } from 'backprop-lens';
const x = scalar(1);
const keep: Tensor[] = [];
for (let i = 0; i < 128; i++) keep.push(zeros([1024, 1024])); // @grow
export default x.mul(keep.length);
`;
    const { out } = await runModel(runner(), tmp(), 'tensors.ts', MODEL, { memoryMb: 128, timeoutMs: 60_000 });
    const e = expectError(out);
    assert.ok(e.kind === 'memory' || e.kind === 'too-large', `kind ${e.kind}: ${e.message}`);
  });

  it('a huge tensor (zeros([1e5, 1e5])) → kind "too-large" at its line', async () => {
    const MODEL = `import { scalar, zeros } from 'backprop-lens';\nconst x = scalar(1);\nconst big = zeros([1e5, 1e5]); // @big\nexport default x.mul(big.sum());\n`;
    const e = expectError((await runModel(runner(), tmp(), 'huge.ts', MODEL)).out);
    assert.equal(e.kind, 'too-large');
    assert.equal(e.line, lineOf(MODEL, '// @big'));
  });

  it('more nodes than maxNodes → kind "too-large" naming the limit', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\nlet h = scalar(1);\nfor (let i = 0; i < 50; i++) h = h.add(1); // @loop\nexport default h;\n`;
    const e = expectError((await runModel(runner(), tmp(), 'many.ts', MODEL, { maxNodes: 10 })).out);
    assert.equal(e.kind, 'too-large');
    assert.equal(e.line, lineOf(MODEL, '// @loop'));
    assert.match(e.message, /\b10\b/);
    assert.match(e.message, /maxNodes/);
  });

  it('the same model within maxNodes traces fine', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\nlet h = scalar(1);\nfor (let i = 0; i < 50; i++) h = h.add(1);\nexport default h;\n`;
    // the limit counts ops and leaves: 50 adds, their 50 constants and h's first scalar
    const s = expectOk((await runModel(runner(), tmp(), 'many-ok.ts', MODEL, { maxNodes: 101 })).out);
    assert.equal(s.nodes[s.output].scalar, 51);
  });

  describe('default export', () => {
    it('no default export → kind "export" explaining what to write', async () => {
      const { out } = await runModel(runner(), tmp(), 'no-export.ts', `import { scalar } from 'backprop-lens';\nconst loss = scalar(1).mul(2);\nconsole.log(loss.item());\n`);
      const e = expectError(out);
      assert.equal(e.kind, 'export');
      assert.match(e.message, /export default/);
    });

    it('a non-scalar default export → kind "export" asking to reduce it', async () => {
      const MODEL = `import { tensor } from 'backprop-lens';\nconst v = tensor([1, 2, 3], { requiresGrad: true });\nconst w = v.mul(2); // @w\nexport default w; // @export\n`;
      const e = expectError((await runModel(runner(), tmp(), 'vector.ts', MODEL)).out);
      assert.equal(e.kind, 'export');
      assert.match(e.message, /\[3\]/);
      assert.match(e.message, /\.sum\(\)|\.mean\(\)/);
      assert.ok([lineOf(MODEL, '// @w'), lineOf(MODEL, '// @export')].includes(e.line!), `line ${e.line}`);
    });

    it('a number as default export → kind "export" naming what was exported', async () => {
      const MODEL = `import { scalar } from 'backprop-lens';\nconst loss = scalar(3);\nexport default loss.item(); // @export\n`;
      const e = expectError((await runModel(runner(), tmp(), 'number.ts', MODEL)).out);
      assert.equal(e.kind, 'export');
      assert.match(e.message, /number/);
      assert.equal(e.line, lineOf(MODEL, '// @export'));
    });

    it('`export default undefined` is reported as exporting nothing, not "a object"', async () => {
      const MODEL = `import { scalar } from 'backprop-lens';\nconst loss = scalar(3);\nlet out;\nexport default out; // @export\n`;
      const e = expectError((await runModel(runner(), tmp(), 'undefined.ts', MODEL)).out);
      assert.equal(e.kind, 'export');
      assert.match(e.message, /exports nothing as default/);
      assert.doesNotMatch(e.message, /\ba object\b/);
    });

    it('a plain object or null as default export is named with the right article', async () => {
      for (const [what, want] of [['{ loss: 1 }', /exports an object as default/], ['null', /exports null as default/], ['() => 1', /exports a function as default/]] as const) {
        const MODEL = `import { scalar } from 'backprop-lens';\nscalar(1);\nexport default ${what};\n`;
        const e = expectError((await runModel(runner(), tmp(), 'object.ts', MODEL)).out);
        assert.equal(e.kind, 'export');
        assert.match(e.message, want);
      }
    });
  });

  describe('file encodings', () => {
    const MODEL = `import { scalar } from 'backprop-lens';\nconst x = scalar(2); // é\nexport default x.mul(3);\n`;
    const encodings: [string, (t: string) => Buffer][] = [
      ['UTF-16 LE with a byte-order mark', (t) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(t, 'utf16le')])],
      ['UTF-16 BE with a byte-order mark', (t) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(t, 'utf16le').swap16()])],
      ['UTF-16 LE without a byte-order mark', (t) => Buffer.from(t, 'utf16le')],
      ['UTF-8 with a byte-order mark', (t) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t, 'utf8')])],
    ];
    for (const [name, encode] of encodings) {
      it(`a model file in ${name} runs`, async () => {
        const file = path.join(tmp(), 'encoded.ts');
        fs.writeFileSync(file, encode(MODEL));
        const out = await runner().run(file);
        const s = expectOk(out);
        assert.equal(s.nodes[s.output].scalar, 6);
      });
    }

    it('a binary file with NUL bytes is refused with a message naming the file', async () => {
      const file = path.join(tmp(), 'binary.ts');
      fs.writeFileSync(file, Buffer.from([0x00, 0x01, 0x02, 0x03, 0x50, 0x4b, 0x00, 0x03, 0x04, 0x00, 0x00, 0x08]));
      const e = expectError(await runner().run(file));
      assert.equal(e.file, file);
      assert.match(e.message, /not a text file|NUL/);
    });
  });

  it('console output arrives in `logs` and through onLog, in order', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(2);
console.log('hello', 42);
console.error('careful:', x.item());
console.log({ a: 1 });
export default x.mul(3);
`;
    const seen: LogLine[] = [];
    const { out } = await runModel(runner(), tmp(), 'logs.ts', MODEL, { onLog: (l) => seen.push(l) });
    expectOk(out);
    const want: LogLine[] = [
      { stream: 'stdout', text: 'hello 42' },
      { stream: 'stderr', text: 'careful: 2' },
      { stream: 'stdout', text: '{ a: 1 }' },
    ];
    assert.deepEqual(out.logs, want);
    assert.deepEqual(seen, want);
  });

  it('a model process runs the relaxed-SIMD kernels (Node 20 is given its flag: modelExecArgv), as VS Code\'s Electron does', async () => {
    const MODEL = `import { scalar, getCpuCapability } from 'backprop-lens';
console.log(getCpuCapability());
export default scalar(1).mul(2);
`;
    const { out } = await runModel(runner(), tmp(), 'kernels.ts', MODEL);
    expectOk(out);
    assert.deepEqual(out.logs, [{ stream: 'stdout', text: 'relaxed-simd' }]);
  });

  it('a model process sets its V8 flags on itself before model code runs (v8-flags.ts: the inlining budget the scalar tape needs)', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';
console.log(process.env.BACKPROP_LENS_V8_FLAGS);
export default scalar(1).mul(2);
`;
    const { out } = await runModel(runner(), tmp(), 'v8-flags.ts', MODEL);
    expectOk(out);
    assert.deepEqual(out.logs, [{ stream: 'stdout', text: MODEL_V8_FLAGS.join(' ') }]);
  });

    it('logs of a failing run are kept', async () => {
    const { out } = await runModel(runner(), tmp(), 'logs-fail.ts', `console.log('before');\nthrow new Error('after');\n`);
    assert.equal(expectError(out).kind, 'runtime');
    assert.deepEqual(out.logs, [{ stream: 'stdout', text: 'before' }]);
  });

  it('NaN (log of a negative number) → a successful run with a "nonfinite-forward" diagnosis at that line', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';
const x = scalar(-1);
const y = x.log(); // @log
const z = y.mul(2);
export default z;
`;
    const { file, out } = await runModel(runner(), tmp(), 'nan.ts', MODEL);
    const s = expectOk(out);
    assert.ok(Number.isNaN(node(s, 'y').scalar));
    const d = s.diagnosis.find((x) => x.code === 'nonfinite-forward');
    assert.ok(d, `diagnosis: ${JSON.stringify(s.diagnosis)}`);
    assert.equal(d.node, node(s, 'y').id);
    assert.equal(d.source?.file, file);
    assert.equal(d.source?.line, lineOf(MODEL, '// @log'));
    assert.equal(d.severity, 'warning');
  });

  it('a model that needs no gradient → ok with a "no-grad" info', async () => {
    const { out } = await runModel(runner(), tmp(), 'nograd.ts', `import { tensor } from 'backprop-lens';\nconst a = tensor([1, 2]);\nexport default a.sum();\n`);
    const s = expectOk(out);
    assert.deepEqual(s.diagnosis.map((d) => d.code), ['no-grad']);
    assert.equal(s.backward.length, 0);
  });

  it('a model that already called backward itself keeps its gradients', async () => {
    const MODEL = `import { scalar } from 'backprop-lens';\nconst x = scalar(3);\nconst y = x.mul(x);\ny.backward();\nexport default y;\n`;
    const s = expectOk((await runModel(runner(), tmp(), 'own-backward.ts', MODEL)).out);
    assert.equal(node(s, 'x').scalarGrad, 6);
  });

  it('runs unsaved contents instead of the file on disk', async () => {
    const file = writeFile(tmp(), 'unsaved.ts', `import { scalar } from 'backprop-lens';\nexport default scalar(1).mul(1);\n`);
    const out = await runner().run(file, { contents: `import { scalar } from 'backprop-lens';\nconst a = scalar(5);\nconst b = a.mul(a);\nexport default b;\n` });
    const s = expectOk(out);
    assert.equal(node(s, 'b').scalar, 25);
    assert.equal(node(s, 'b').source?.file, file);
    assert.equal(node(s, 'b').source?.line, 3);
  });

  it('JavaScript model files (.js, .mjs) work too', async () => {
    for (const ext of ['js', 'mjs']) {
      const MODEL = `import { scalar } from 'backprop-lens';\nconst a = scalar(2);\nconst b = a.pow(3); // @pow\nexport default b;\n`;
      const s = expectOk((await runModel(runner(), tmp(), `plain.${ext}`, MODEL)).out);
      assert.equal(node(s, 'b').scalar, 8);
      assert.equal(node(s, 'a').scalarGrad, 12);
      assert.equal(node(s, 'b').source?.line, lineOf(MODEL, '// @pow'));
    }
  });

  it('reports timings and the files that went into the bundle', async () => {
    const helper = writeFile(tmp(), 'consts.ts', `export const SCALE = 3;\n`);
    const { file, out } = await runModel(runner(), tmp(), 'with-const.ts', `import { scalar } from 'backprop-lens';\nimport { SCALE } from './consts';\nexport default scalar(SCALE).mul(2);\n`);
    expectOk(out);
    assert.deepEqual([...out.files].sort(), [file, helper].sort());
    assert.ok(out.timings.bundleMs >= 0 && out.timings.runMs >= 0);
  });
});
