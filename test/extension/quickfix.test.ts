/**
 * Quick Fixes for gradient-health findings, as text edits: each edits the call it targets and
 * nothing else, is not offered where it cannot apply, and — the real test — applying the fixes the
 * diagnosis suggests to the vanishing example makes its finding go away when it is traced again.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { quickFix, uniqueFixes, type QuickFix } from '../../extension/quickfix';
import { ROOT, expectOk, useRunner, useTempDir, writeFile } from '../runner/helpers';

/** Applies a fix's edits (right to left per line, so columns stay valid). */
function apply(text: string, fix: QuickFix | null): string {
  assert.ok(fix, 'a fix is offered');
  const lines = text.split('\n');
  const edits = [...fix.edits].sort((a, b) => b.line - a.line || b.start - a.start);
  for (const e of edits) lines[e.line] = lines[e.line].slice(0, e.start) + e.newText + lines[e.line].slice(e.end);
  return lines.join('\n');
}

describe('quick fixes', () => {
  const runner = useRunner();
  const tmp = useTempDir('bpl-fix-');

  it('he-init / xavier-init: replaces an init, adds one to options, or adds the options', () => {
    const cases: [string, string][] = [
      [`const a = nn.linear(2, 16, { init: 'normal', seed: 1 });`, `const a = nn.linear(2, 16, { init: 'he', seed: 1 });`],
      [`const a = nn.linear(2, 16, { seed: 10 + i });`, `const a = nn.linear(2, 16, { init: 'he', seed: 10 + i });`],
      [`const a = nn.linear(2, 16);`, `const a = nn.linear(2, 16, { init: 'he' });`],
      [`const a = nn.linear(f(2), 16, {});`, `const a = nn.linear(f(2), 16, { init: 'he' });`],
      [`m = [nn.linear(2, 4), nn.relu(), nn.linear(4, 1, { seed: 2 })];`, `m = [nn.linear(2, 4, { init: 'he' }), nn.relu(), nn.linear(4, 1, { init: 'he', seed: 2 })];`],
    ];
    for (const [before, after] of cases) assert.equal(apply(before, quickFix('he-init', before, 0)), after);
    assert.equal(apply(cases[0][0], quickFix('xavier-init', cases[0][0], 0)), cases[0][1].replace("'he'", "'xavier'"));
    assert.equal(quickFix('he-init', 'const x = 1;', 0), null, 'no linear call on the line: no fix');
    assert.equal(quickFix('he-init', 'nn.linear(2, 3, { init: myInit })', 0), null, 'a function initializer is left alone');
  });

  it('use-relu switches to ReLU with He init in one fix; leaky-relu replaces the activation calls in the file', () => {
    const text = 'a = nn.sigmoid();\nb = [nn.tanh(), nn.sigmoid()];\nc = nn.relu();';
    assert.equal(apply(text, quickFix('use-relu', text, 0)), 'a = nn.relu();\nb = [nn.relu(), nn.relu()];\nc = nn.relu();');
    const model = "const l1 = nn.linear(2, 8, { init: 'xavier' });\nconst l2 = nn.linear(8, 1);\nconst net = nn.sequential(l1, nn.tanh(), l2);";
    const fix = quickFix('use-relu', model, 0);
    assert.equal(fix!.title, "Use ReLU with He init (nn.relu(), init: 'he')");
    assert.equal(apply(model, fix), "const l1 = nn.linear(2, 8, { init: 'he' });\nconst l2 = nn.linear(8, 1, { init: 'he' });\nconst net = nn.sequential(l1, nn.relu(), l2);");
    assert.equal(quickFix('use-relu', 'x = nn.relu();', 0), null, 'already ReLU: nothing to offer');
    assert.equal(apply('x = nn.relu();', quickFix('leaky-relu', 'x = nn.relu();', 0)), 'x = nn.leakyRelu();');
  });

  it('lower-lr divides the optimizer\'s learning rate by 10; clip-gradients adds clipNorm; normalize-inputs adds standardize', () => {
    const text = "export default defineTraining({\n  optimizer: optim.sgd({ lr: 0.5, momentum: 0.9 }),\n  steps: 10,\n});";
    assert.match(apply(text, quickFix('lower-lr', text, 0)), /optim\.sgd\(\{ lr: 0\.05, momentum: 0\.9 \}\)/);
    const raise = quickFix('higher-lr', text, 0);
    assert.equal(raise!.title, 'Raise the learning rate to 5 (×10)');
    assert.match(apply(text, raise), /optim\.sgd\(\{ lr: 5, momentum: 0\.9 \}\)/);
    assert.match(apply(text, quickFix('clip-gradients', text, 0)), /optim\.sgd\(\{ lr: 0\.5, momentum: 0\.9, clipNorm: 1 \}\)/);
    assert.equal(apply(text, quickFix('normalize-inputs', text, 0)).split('\n')[1], '  standardize: true,');
    assert.equal(quickFix('batch-norm', text, 0), null, 'structural fixes are suggestions only');
    assert.equal(quickFix('normalize-inputs', text.replace('steps', 'standardize: true, steps'), 0), null);
  });

  it('the fixes of several findings on one line are offered once per edit (He init once, not once per finding)', () => {
    const text = 'const layers = [nn.linear(2, 16, { seed: 1 }), nn.relu(), nn.linear(16, 1)];';
    // vanishing, collapse and dead units of the same layer line each suggest He init
    const offered = ['he-init', 'batch-norm', 'he-init', 'lower-lr', 'he-init', 'leaky-relu', 'he-init']
      .map((id, i) => ({ id, finding: i, fix: quickFix(id, text, 0) }))
      .filter((x): x is { id: string; finding: number; fix: QuickFix } => x.fix !== null);
    const unique = uniqueFixes(offered);
    assert.deepEqual(unique.map((x) => [x.id, x.finding]), [['he-init', 0], ['leaky-relu', 5]]);
    assert.equal(unique.filter((x) => /He init/.test(x.fix.title)).length, 1);
  });

  it('applying the suggested fixes to the vanishing example clears its vanishing-gradient finding', async () => {
    const file = path.join(ROOT, 'examples', '09-deep-sigmoid-vanishing.ts');
    const before = expectOk(await runner().run(file));
    const finding = before.diagnosis.find((d) => d.code === 'vanishing-gradient');
    assert.ok(finding?.source && finding.fixes, 'the example is diagnosed');
    let text = fs.readFileSync(file, 'utf8');
    const line = finding.source.line - 1;
    // one fix: ReLU with He init
    assert.equal(finding.fixes[0].id, 'use-relu');
    text = apply(text, quickFix('use-relu', text, line));
    assert.equal(quickFix('he-init', text, line), null, 'He init came with it');
    assert.match(text, /nn\.linear\(i === 0 \? 2 : width, width, \{ init: 'he', seed: 10 \+ i \}\), nn\.relu\(\)/);
    const after = expectOk(await runner().run(writeFile(tmp(), 'fixed.ts', text)));
    assert.deepEqual(after.diagnosis.filter((d) => d.code === 'vanishing-gradient'), []);
  });
});
