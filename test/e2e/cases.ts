/**
 * The end-to-end cases, in the order a person meets the features. They share one code-server session
 * (trusted) except Restricted Mode, which gets its own. Expected lines come from the model file's text,
 * expected numbers from the lecture example f = (x + y)·z at x = −2, y = 5, z = −4.
 */
import { execFileSync } from 'node:child_process';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatNumber } from '../../engine/format';
import { approx, parseNumbers, scrollIntoView, Workbench } from './workbench';

const ROOT = path.resolve(__dirname, '..', '..');

export const MODEL = '01-add-mul.ts';
/** name → [value, gradient] */
export const EXPECTED: Record<string, [number, number]> = {
  x: [-2, -4],
  y: [5, -4],
  z: [-4, 3],
  q: [3, -4],
  f: [-12, 1],
};
const NAMES = Object.keys(EXPECTED);

/** 1-based line of the first line of the workspace's model file matching `re`. */
export function lineIn(workspace: string, re: RegExp, file = MODEL): number {
  const i = fs.readFileSync(path.join(workspace, file), 'utf8').split(/\r?\n/).findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no line matching ${re} in ${file}`);
  return i + 1;
}

/** Waits until every named node shows the expected value (and, with `grads`, gradient). */
export async function expectGraph(wb: Workbench, { grads = true, timeout = 60_000 } = {}): Promise<void> {
  await wb.node('f').waitFor({ state: 'visible', timeout });
  let last = '';
  await wb.until(
    `nodes ${NAMES.join(', ')} with their values${grads ? ' and gradients' : ''}`,
    async () => {
      const wrong: string[] = [];
      for (const name of NAMES) {
        const [value, grad] = EXPECTED[name];
        const got = await wb.nodeNumbers(name);
        if (got.value === null || !approx(got.value, value)) wrong.push(`${name}: value "${got.valueText}" ≠ ${value}`);
        if (grads && (got.grad === null || !approx(got.grad, grad))) wrong.push(`${name}: grad "${got.gradText}" ≠ ${grad}`);
      }
      last = wrong.join('; ');
      return wrong.length === 0;
    },
    timeout,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}\n      last mismatch: ${last}`);
  });
}

export async function showGraphFromPalette(wb: Workbench): Promise<void> {
  await wb.runCommand('Backprop Lens: Show Graph');
  await wb.graphTab(MODEL).waitFor({ state: 'visible', timeout: 15_000 });
}

// ---------------------------------------------------------------------------------------------

export async function caseShowGraph(wb: Workbench): Promise<void> {
  await wb.openFile(MODEL);
  await wb.screenshot('01-editor');
  await showGraphFromPalette(wb);
  // the first run in a fresh extension host also compiles esbuild-wasm: allow for a slow CI machine
  await expectGraph(wb, { timeout: 120_000 });
  // op nodes carry their op
  assert.match((await wb.node('q').getAttribute('data-op')) ?? '', /add/);
  assert.match((await wb.node('f').getAttribute('data-op')) ?? '', /mul/);
  // the inputs in the order the code uses them: x (left) before y, above q = x + y
  const [bx, by, bq] = await Promise.all(['x', 'y', 'q'].map((n) => wb.node(n).boundingBox()));
  assert.ok(bx && by && bq && bx.x + bx.width <= by.x && bx.y + bx.height <= bq.y, `x at ${bx?.x}, y at ${by?.x}, q below them at ${bq?.y}`);
  await wb.screenshot('02-graph');
}

export async function caseCodeLens(wb: Workbench): Promise<void> {
  await wb.focusEditor(MODEL);
  const editor = wb.page.locator('.editor-group-container.active .monaco-editor').first();
  const lens = editor.locator('.codelens-decoration', { hasText: 'Show Graph' }).first();
  await lens.waitFor({ state: 'visible', timeout: 20_000 });
  // it sits right above the `export default` line
  const exportLine = editor.locator('.view-line', { hasText: 'export default' }).first();
  await scrollIntoView(exportLine);
  const [l, e] = [await lens.boundingBox(), await exportLine.boundingBox()];
  assert.ok(l && e, 'the CodeLens and the export line are on screen');
  assert.ok(l.y + l.height <= e.y + 1 && e.y - (l.y + l.height) < e.height, `the CodeLens (y=${l.y}) is directly above "export default" (y=${e.y})`);
  await wb.screenshot('03-codelens');
  // clicking it re-runs the graph for this file (its panel is open already)
  const run = await wb.watchRun();
  await lens.locator('a', { hasText: 'Show Graph' }).first().click();
  assert.equal(await run.done(), 'ready');
  await wb.graphTab(MODEL).waitFor({ state: 'visible' });
  await expectGraph(wb);
}

interface StepView {
  label: string;
  index: number;
  total: number;
  current: string | null;
  withGrad: string[];
  chain: string;
}

/** The stepper's state, read in one go inside the webview (so label, nodes and chain rule agree). */
async function stepView(wb: Workbench): Promise<StepView> {
  // no helper functions inside: the callback is serialised into the page as it is
  const raw = (await wb.view().locator('#app').evaluate((app: any) => {
    const grads: Record<string, string> = {};
    for (const g of app.querySelectorAll('g.node[data-name]')) grads[g.getAttribute('data-name')] = g.querySelector('text.grad')?.textContent ?? '';
    return {
      label: app.querySelector('[data-testid="step-label"]')?.textContent ?? '',
      current: app.querySelector('g.node.current')?.getAttribute('data-name') ?? null,
      grads,
      chain: app.querySelector('[data-testid="chain-rule"]')?.textContent ?? '',
    };
  })) as { label: string; current: string | null; grads: Record<string, string>; chain: string };
  const label = raw.label.replace(/\s+/g, ' ').trim();
  const m = /(\d+)\s*\/\s*(\d+)/.exec(label);
  const withGrad = NAMES.filter((n) => parseNumbers((raw.grads[n] ?? '').replace(/∂\w*/g, '')).length > 0);
  return { label, index: m ? Number(m[1]) : -1, total: m ? Number(m[2]) : -1, current: raw.current, withGrad, chain: raw.chain.replace(/\u2212/g, '-').replace(/\s+/g, ' ') };
}

/** Numbers present in a chain-rule text (as tokens, so "3" is not found inside "-0.3"). */
function hasNumbers(text: string, nums: number[]): boolean {
  const found = [...text.matchAll(/-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi)].map((m) => Number(m[0]));
  return nums.every((n) => found.some((f) => approx(f, n)));
}

export async function caseStepBackward(wb: Workbench): Promise<void> {
  const backward = wb.testId('mode-backward');
  if (await backward.count()) await backward.click();
  await wb.testId('step-first').click();
  // the first position is "nothing sent back yet" (0/N) or the output's own step (1/N)
  const first = await wb.until('the first step of the backward pass', async () => {
    const s = await stepView(wb);
    return s.index >= 0 && s.index <= 1 && /backward/i.test(s.label) ? s : null;
  });
  assert.ok(first.total >= 2, `step label "${first.label}" should count the backward steps`);
  assert.ok(!first.withGrad.includes('x') && !first.withGrad.includes('y') && !first.withGrad.includes('q'),
    `at the first step only the output may show a gradient; shown: ${first.withGrad}`);
  await wb.screenshot('04-step-first');

  let prev = first;
  const seen: string[] = first.current ? [first.current] : [];
  const check = async (s: StepView) => {
    for (const n of prev.withGrad) assert.ok(s.withGrad.includes(n), `${n} lost its gradient at step ${s.index}`);
    if (s.current === 'f') {
      // f = q·z: upstream 1, ∂f/∂q = z = −4, ∂f/∂z = q = 3; x and y are not reached yet
      assert.ok(s.withGrad.includes('f'), `f shows its gradient at its own step (shown: ${s.withGrad})`);
      assert.ok(!s.withGrad.includes('x') && !s.withGrad.includes('y'), `x and y show gradients before q was processed: ${s.withGrad}`);
      assert.ok(hasNumbers(s.chain, [-4, 3]), `chain rule at f should mention −4 and 3: "${s.chain}"`);
      await wb.screenshot('05-step-f');
    }
    if (s.current === 'q') {
      // q = x + y: upstream −4, local gradients 1 → x and y get −4
      assert.ok(hasNumbers(s.chain, [-4, 1]), `chain rule at q should mention −4 and 1: "${s.chain}"`);
      await wb.screenshot('06-step-q');
    }
  };
  if (first.current) await check(first);
  while (prev.index < prev.total) {
    await wb.testId('step-next').click();
    const want = prev.index + 1;
    const s = await wb.until(`step ${want}/${prev.total}`, async () => {
      const v = await stepView(wb);
      return v.index === want ? v : null;
    });
    if (s.current) seen.push(s.current);
    await check(s);
    prev = s;
    assert.ok(s.index < 50, 'stepping does not end');
  }
  assert.deepEqual(seen.filter((n) => n === 'f' || n === 'q'), ['f', 'q'], `the backward pass visits f, then q (visited: ${seen})`);
  assert.deepEqual([...prev.withGrad].sort(), [...NAMES].sort(), 'after the last step every node shows its gradient');
  await expectGraph(wb, { timeout: 5000 });
}

export async function caseRevealSource(wb: Workbench, workspace: string): Promise<void> {
  const qLine = lineIn(workspace, /const q =/);
  await wb.focusEditor(MODEL);
  await wb.goToLine(1);
  await wb.node('q').click();
  await wb.waitCursor(qLine);
  const c = await wb.cursor();
  assert.equal(c?.line, qLine);
  // the model file is the active editor again
  await wb.page.locator(`.editor-group-container.active .tab.active[data-resource-name="${MODEL}"]`).first().waitFor();
  await wb.screenshot('07-reveal-source');
}

export async function caseDiagnostics(wb: Workbench, workspace: string): Promise<void> {
  const file = path.join(workspace, MODEL);
  const original = fs.readFileSync(file, 'utf8');
  try {
    await breakAndFix(wb, workspace);
  } finally {
    // leave the model file as it was for the cases that follow, even when this one failed midway
    if (fs.readFileSync(file, 'utf8') !== original) {
      fs.writeFileSync(file, original);
      await wb.runCommand('File: Revert File').catch(() => undefined);
    }
  }
}

async function breakAndFix(wb: Workbench, workspace: string): Promise<void> {
  const fLine = lineIn(workspace, /const f =/);
  await wb.focusEditor(MODEL);
  await wb.goToLine(fLine);
  await wb.page.keyboard.press('End');
  await wb.page.keyboard.press('Backspace'); // the ';'
  await wb.page.keyboard.type(' +;');
  await wb.page.keyboard.press('Escape');
  await wb.page.keyboard.press('Control+S');
  await wb.page.locator(`.editor-group-container.active .tab.active[data-resource-name="${MODEL}"]:not(.dirty)`).first().waitFor();

  const problems = await wb.openProblems();
  const row = problems.locator('.monaco-list-row', { hasText: 'Backprop Lens' }).first();
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  const rowText = ((await row.getAttribute('aria-label')) ?? '') + ' ' + ((await row.textContent()) ?? '');
  assert.match(rowText, new RegExp(`(Ln ${fLine}\\b|line ${fLine}\\b)`, 'i'), `the diagnostic should be on line ${fLine}: ${rowText}`);
  // the squiggle in the editor, and the panel shows the error
  await wb.page.locator('.editor-group-container .monaco-editor .squiggly-error').first().waitFor({ state: 'visible' });
  const errors = wb.testId('errors');
  await errors.waitFor({ state: 'visible', timeout: 30_000 });
  const errText = (await errors.textContent()) ?? '';
  assert.ok(errText.trim().length > 0, 'the panel shows the error');
  assert.match(errText, new RegExp(`${fLine}|${MODEL.replace('.', '\\.')}`), `the panel's error names the file or line: ${errText}`);
  await wb.screenshot('08-diagnostic');

  // fix it: remove " +;" and put the ';' back, save → the diagnostic goes away, the graph comes back
  await wb.focusEditor(MODEL);
  await wb.goToLine(fLine);
  await wb.page.keyboard.press('End');
  for (let i = 0; i < 3; i++) await wb.page.keyboard.press('Backspace');
  await wb.page.keyboard.type(';');
  await wb.page.keyboard.press('Escape');
  await wb.page.keyboard.press('Control+S');
  await wb.page.locator(`.editor-group-container.active .tab.active[data-resource-name="${MODEL}"]:not(.dirty)`).first().waitFor();
  await problems.locator('.monaco-list-row', { hasText: 'Backprop Lens' }).first().waitFor({ state: 'detached', timeout: 30_000 });
  const text = fs.readFileSync(path.join(workspace, MODEL), 'utf8');
  assert.match(text, /const f = q\.mul\(z\);/, 'the file is restored');
  await expectGraph(wb, { timeout: 30_000 });
  await wb.closePanel();
  await wb.screenshot('09-fixed');
}

export async function caseReload(wb: Workbench): Promise<void> {
  // leave the panel at a recognisable step, so the restored UI state can be checked
  await wb.testId('step-first').click();
  await wb.testId('step-next').click();
  const before = await wb.until('a step label', async () => {
    const s = await stepView(wb);
    return s.index >= 1 ? s : null;
  });
  const navigated = wb.page.waitForEvent('framenavigated', { predicate: (f) => f === wb.page.mainFrame(), timeout: 30_000 });
  await wb.runCommand('Developer: Reload Window');
  await navigated;
  await wb.waitReady();
  await wb.graphTab(MODEL).waitFor({ state: 'visible', timeout: 30_000 });
  await expectGraph(wb, { grads: false, timeout: 60_000 });
  const after = await wb.until(`the step label "${before.label}" restored`, async () => {
    const s = await stepView(wb);
    return s.label === before.label ? s : null;
  });
  assert.equal(after.current, before.current, 'the current step node is restored');
  await wb.screenshot('10-after-reload');
  await wb.testId('step-last').click();
  await expectGraph(wb, { timeout: 10_000 });
}

export async function caseRestricted(wb: Workbench): Promise<void> {
  // VS Code says so in the status bar / banner
  await wb.page.locator('text=Restricted Mode').first().waitFor({ state: 'visible', timeout: 30_000 });
  await wb.openFile(MODEL);
  await showGraphFromPalette(wb);
  const untrusted = wb.testId('untrusted');
  await untrusted.waitFor({ state: 'visible', timeout: 30_000 });
  assert.match((await untrusted.textContent()) ?? '', /trust|restricted/i);
  assert.equal(await wb.view().locator('g.node').count(), 0, 'no graph nodes in Restricted Mode');
  await wb.screenshot('12-restricted-mode');
}

// ---------------------------------------------------------------------------------------------
// training in the panel

const MOONS = '08-moons-mlp.ts';
const VANISHING = '09-deep-sigmoid-vanishing.ts';
const TORCH_VANISHING = '13-pytorch-watch-vanishing.py';

/** Step and status word of the training view's status line ("step 120 / 500 · 850 steps/s · running"; a watched PyTorch script's "step 120 · running"). */
async function trainStatus(wb: Workbench): Promise<{ step: number; status: string; text: string }> {
  const text = ((await wb.testId('train-status').textContent()) ?? '').trim();
  const m = /step (\d+)(?: \/ (\d+))?/.exec(text);
  const status = /\b(idle|running|paused|done|stopped|error)\b/.exec(text)?.[1] ?? '';
  return { step: m ? Number(m[1]) : -1, status, text };
}

/** y (pixels, down is larger) of the first and last point of the training-loss path. */
async function lossEnds(wb: Workbench): Promise<{ first: number; last: number; points: number }> {
  const path = wb.testId('loss-chart').locator('path.loss-train');
  const d = (await path.getAttribute('d')) ?? '';
  const nums = (d.match(/-?\d+(\.\d+)?(e-?\d+)?/g) ?? []).map(Number);
  return { first: nums[1], last: nums[nums.length - 1], points: Number(await path.getAttribute('data-points')) };
}

async function openTraining(wb: Workbench, file: string): Promise<void> {
  await wb.runCommand('View: Close All Editors');
  await wb.openFile(file);
  await wb.runCommand('Backprop Lens: Show Graph');
  await wb.graphTab(file).waitFor({ state: 'visible', timeout: 30_000 });
  await wb.testId('view-training').click({ timeout: 60_000 });
  await wb.testId('training-view').waitFor({ state: 'visible' });
}

/** The training view's last request to the host ("3 pause"), from its data-posted attribute. */
const lastPosted = async (wb: Workbench) => (await wb.testId('training-view').getAttribute('data-posted')) ?? '';
let posted = '';

/**
 * Clicks Pause and waits until the panel has sent `pause`. A click that never reached the button's
 * handler (it happened to CI once: the run went on, and nothing says where the click went) is
 * repeated once, and said in the log; a pause that was sent but not obeyed fails the case later.
 */
async function clickPause(wb: Workbench): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const before = await lastPosted(wb);
    await wb.testId('train-run').click();
    try {
      await wb.until('the panel to send pause', async () => {
        posted = await lastPosted(wb);
        return posted !== before && posted.endsWith(' pause');
      }, 5_000);
      return;
    } catch (err) {
      if (attempt === 2) throw err;
      console.log(`      (the Pause click did not reach the button's handler; last request "${posted}"; clicking again)`);
    }
  }
}

export async function caseTrain(wb: Workbench): Promise<void> {
  await openTraining(wb, MOONS);
  // far more steps than the case takes, so the run cannot end before the Pause click lands (the loss
  // history keeps the first step and every 1,000th)
  await wb.testId('train-steps').fill('1000000');
  await wb.testId('train-run').click();
  let seen = '';
  await wb.until(() => `training to run 12,000 steps (status: "${seen}")`, async () => {
    const s = await trainStatus(wb);
    seen = s.text;
    return s.status === 'running' && s.step >= 12_000;
  }, 60_000);
  await clickPause(wb);
  // the host says "paused" at once; the worker finishes its current slice and reports where it stopped
  let previous: { step: number; at: number } | null = null;
  const paused = await wb.until(() => `the run to pause at a step that no longer moves (status: "${seen}"; last request the panel sent: "${posted}")`, async () => {
    posted = await lastPosted(wb);
    const s = await trainStatus(wb);
    seen = s.text;
    if (s.status !== 'paused') {
      previous = null;
      return null;
    }
    if (!previous || previous.step !== s.step) {
      previous = { step: s.step, at: Date.now() };
      return null;
    }
    return Date.now() - previous.at >= 300 ? s : null;
  });
  await wb.testId('train-step').click();
  await wb.until(`one step after ${paused.step}`, async () => (await trainStatus(wb)).step === paused.step + 1);
  const loss = await lossEnds(wb);
  assert.ok(loss.points >= 12, `the loss curve has ${loss.points} points`);
  assert.ok(loss.last > loss.first, `the loss falls (y ${loss.first} → ${loss.last} px)`);
  assert.ok(await wb.testId('grad-flow').locator('rect, circle').count() >= 2, 'gradient flow per layer');
  assert.ok(await wb.testId('histograms').locator('path').count() >= 2, 'histograms over steps');
  await wb.screenshot('13-training-paused');
  // the gradient check runs in the worker at the paused step; the graph follows the run to that step
  const at = paused.step + 1;
  await wb.testId('gradcheck-run').click();
  await wb.until(`the gradient check at step ${at}`, async () => new RegExp(`All 4 parameters pass at step ${at}\\b`).test((await wb.testId('gradcheck-status').textContent()) ?? ''), 30_000);
  await wb.testId('gradcheck').scrollIntoViewIfNeeded();
  await wb.screenshot('15-gradcheck');
  await wb.testId('view-graph').click();
  await wb.view().locator(`#app[data-train-step="${at}"]`).waitFor({ timeout: 30_000 });
  assert.match((await wb.testId('status').textContent()) ?? '', new RegExp(`at training step ${at}\\b`));
  await wb.screenshot('16-graph-at-step');
  await wb.testId('view-training').click();
  await wb.testId('train-run').click(); // Resume
  await wb.until('training to go on', async () => (await trainStatus(wb)).step > paused.step + 200, 60_000);
  await wb.testId('train-reset').click();
  await wb.until('an idle, reset run', async () => (await trainStatus(wb)).status === 'idle');
  // the graph is the file's own again, not the last step's of the run that was reset
  await wb.view().locator('#app[data-train-step=""]').waitFor({ timeout: 30_000 });
  assert.doesNotMatch((await wb.testId('status').textContent()) ?? '', /at training step/);
  // the first Step after the reset takes step 1 of a new run, and the graph follows to it
  await wb.testId('train-step').click();
  await wb.until('step 1 of the new run', async () => (await trainStatus(wb)).step === 1);
  await wb.view().locator('#app[data-train-step="1"]').waitFor({ timeout: 30_000 });
  await wb.testId('view-graph').click();
  assert.match((await wb.testId('status').textContent()) ?? '', /at training step 1\b/);
}

/** Model processes (model-host.js) that code-server's extension host started (a process of this machine). */
function modelProcesses(): number {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).split('\n').flatMap((l) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(l);
    return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] }] : [];
  });
  const byPid = new Map(rows.map((r) => [r.pid, r]));
  const underCodeServer = (r: { ppid: number }): boolean => {
    for (let p = byPid.get(r.ppid), depth = 0; p && depth < 20; p = byPid.get(p.ppid), depth++) if (p.args.includes('code-server')) return true;
    return false;
  };
  return rows.filter((r) => r.args.includes('model-host.js') && underCodeServer(r)).length;
}

/** Closing the panel while it trains ends the run and its model process (closing while the run is still starting: test/extension/training-session.test.ts). */
export async function caseTrainClose(wb: Workbench): Promise<void> {
  await openTraining(wb, MOONS);
  await wb.testId('train-steps').fill('1000000');
  await wb.testId('train-run').click();
  await wb.until('training to run', async () => (await trainStatus(wb)).step > 0, 60_000);
  assert.ok(modelProcesses() >= 1, 'a model process trains');
  await wb.runCommand('View: Close All Editors');
  await wb.until('the training process to end with its panel', async () => modelProcesses() === 0, 10_000);
}

export async function caseTrainVanishing(wb: Workbench): Promise<void> {
  await openTraining(wb, VANISHING);
  await wb.testId('train-run').click();
  await wb.until('the run to finish', async () => (await trainStatus(wb)).status === 'done', 60_000);
  const diagnosis = wb.testId('diagnosis');
  await wb.until('a vanishing-gradient finding with fixes', async () => /vanish/i.test((await diagnosis.textContent()) ?? '') && /ReLU/.test((await diagnosis.textContent()) ?? ''));
  assert.ok(await wb.testId('histograms').locator('path').count() >= 2, 'histograms over steps');
  await wb.screenshot('14-training-vanishing');
}

/**
 * Train on a PyTorch script that calls watch(model): the script runs in Python, the training view
 * shows its loss (the same numbers as `backprop-lens train FILE --json`), histograms and gradient
 * flow, and the engine's diagnosis names the vanishing layer.
 */
export async function caseTrainTorch(wb: Workbench, workspace: string): Promise<void> {
  const cli = JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'bin', 'backprop-lens.js'), 'train', path.join(workspace, TORCH_VANISHING), '--json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }).trim().split('\n').pop()!) as { history: { step: number; loss: number }[] };
  await openTraining(wb, TORCH_VANISHING);
  await wb.testId('train-run').click();
  let seen = '';
  await wb.until(() => `the script to finish its 200 steps (status: "${seen}")`, async () => {
    const s = await trainStatus(wb);
    seen = s.text;
    return s.status === 'done' && s.step === 200;
  }, 90_000);
  const diagnosis = wb.testId('diagnosis');
  await wb.until('a vanishing-gradient finding at model.0 with fixes', async () => {
    const t = (await diagnosis.textContent()) ?? '';
    return /vanish/i.test(t) && /model\.0/.test(t) && /ReLU/.test(t);
  });
  assert.ok(await wb.testId('histograms').locator('path').count() >= 2, 'histograms over steps');
  assert.ok(await wb.testId('grad-flow').locator('rect, circle').count() >= 2, 'gradient flow per layer');
  const shown = await lossSamples(wb);
  assert.ok(shown.size >= 5, `${shown.size} loss samples`);
  const byStep = new Map(cli.history.map((h) => [h.step, h.loss]));
  for (const [step, loss] of shown) {
    const want = byStep.get(step);
    assert.ok(want !== undefined && Math.abs(loss - want) <= 1e-6 * Math.abs(want), `the loss at step ${step}: the panel ${loss}, the CLI ${want}`);
  }
  await wb.screenshot('22-training-pytorch-vanishing');
}

/** Train the digits CNN (examples/15) in the panel on the CPU: the Accuracy card ends at 95% or more on the validation set. */
export async function caseTrainCnn(wb: Workbench): Promise<void> {
  await openTraining(wb, '15-digits-cnn.ts');
  await wb.testId('train-run').click();
  let seen = '';
  await wb.until(() => `the CNN to finish its 400 steps (status: "${seen}")`, async () => {
    const s = await trainStatus(wb);
    seen = s.text;
    return s.status === 'done' && s.step === 400;
  }, 120_000);
  const card = wb.testId('accuracy-chart');
  const latest = await wb.until('the accuracy card', async () => ((await card.getAttribute('data-latest')) ?? '').trim() || null);
  const [, val] = latest.split(' ').map(Number);
  assert.ok(val >= 0.95, `validation accuracy at the end: ${val} (heading: "${await wb.testId('accuracy-latest').textContent()}")`);
  assert.ok(await wb.testId('grad-flow').locator('g.gf-layer').count() === 3, 'gradient flow for cnn.conv1, cnn.conv2 and cnn.head');
  await card.scrollIntoViewIfNeeded();
  await wb.screenshot('23-training-digits-cnn');
}

/** `step:loss` pairs the training view publishes (first step and about every tenth of the history). */
async function lossSamples(wb: Workbench): Promise<Map<number, number>> {
  const text = (await wb.testId('training-view').getAttribute('data-loss-samples')) ?? '';
  return new Map(text.split(' ').filter(Boolean).map((p) => p.split(':').map(Number) as [number, number]));
}

/**
 * XOR and moons train on WebGPU inside the panel (SwiftShader in this browser) with the setting
 * `backpropLens.backend: webgpu`; the view names the backend and adapter, and the loss history
 * matches the CPU run of the same file (`cpuLosses`, the runner in Node) at every sampled step.
 */
export async function caseTrainWebGpu(wb: Workbench, workspace: string, cpuLosses: (file: string) => Promise<Map<number, number>>): Promise<void> {
  const settings = path.join(workspace, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(settings), { recursive: true });
  fs.writeFileSync(settings, JSON.stringify({ 'backpropLens.backend': 'webgpu' }, null, 2));
  // a workspace setting written on disk reaches the extension host through a file watcher, some
  // time later (a Run before that trains on the CPU): a reloaded window reads it at start-up
  const navigated = wb.page.waitForEvent('framenavigated', { predicate: (f) => f === wb.page.mainFrame(), timeout: 30_000 });
  await wb.runCommand('Developer: Reload Window');
  await navigated;
  await wb.waitReady();
  try {
    for (const [file, shot] of [['10-xor-train.ts', '17-training-webgpu-xor'], [MOONS, '18-training-webgpu-moons']] as const) {
      await openTraining(wb, file);
      await wb.testId('train-run').click();
      let seen = '';
      await wb.until(() => `the WebGPU run of ${file} to finish (status: "${seen}")`, async () => {
        const s = await trainStatus(wb);
        seen = `${s.text} | ${(await wb.testId('train-backend').textContent()) ?? ''}`;
        return s.status === 'done';
      }, 120_000);
      const backend = ((await wb.testId('train-backend').textContent()) ?? '').trim();
      assert.equal(await wb.testId('training-view').getAttribute('data-backend'), 'webgpu', `${file} ran on WebGPU (the view says "${backend}")`);
      assert.match(backend, /^WebGPU · \S/, 'the view names the adapter');
      const gpu = await lossSamples(wb);
      const cpu = await cpuLosses(file);
      assert.ok(gpu.size >= 5, `${file}: ${gpu.size} loss samples`);
      for (const [step, loss] of gpu) {
        const want = cpu.get(step);
        assert.ok(want !== undefined, `${file}: the CPU run has step ${step}`);
        const rel = Math.abs(loss - want) / Math.max(1e-6, Math.abs(want));
        assert.ok(rel <= 2e-3, `${file} step ${step}: loss ${loss} on WebGPU vs ${want} on the CPU (rel ${rel.toExponential(2)})`);
      }
      assert.ok(await wb.testId('histograms').locator('path').count() >= 2, 'histograms from the mirrored layer summaries');
      console.log(`      ${file}: ${backend}; ${gpu.size} sampled steps match the CPU run`);
      await wb.screenshot(shot);
    }
  } finally {
    fs.rmSync(settings, { force: true });
  }
}

/**
 * The panel in each of VS Code's theme kinds, at the default width beside the editor and with the
 * editor group maximized: the graph, and the training view of a finished moons run with its
 * playground and decision boundary drawn. Each card must fit its box (nothing wider than the card)
 * in every combination; the screenshots are for a person to look at.
 */
export async function caseThemes(wb: Workbench, workspace: string): Promise<void> {
  const settings = path.join(workspace, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(settings), { recursive: true });
  await openTraining(wb, MOONS);
  await wb.testId('train-steps').fill('60');
  await wb.testId('train-run').click();
  await wb.until('the 60-step run to finish', async () => (await trainStatus(wb)).status === 'done', 60_000);
  await wb.testId('playground-run').click();
  await wb.testId('playground-plot').locator('path.trajectory').first().waitFor({ timeout: 30_000 });
  await wb.testId('boundary-run').click();
  await wb.testId('boundary-plot').locator('rect.boundary-cell').first().waitFor({ timeout: 30_000 });
  const width = async () => Math.round((await wb.view().locator('#app').boundingBox())?.width ?? 0);
  /** Cards whose content is wider than the card (a clipped table or chart). */
  const overflowing = () => wb.view().locator('body').evaluate((body: any) => [...body.querySelectorAll('.tr-card')]
    .filter((c: any) => c.getClientRects().length > 0 && c.scrollWidth > c.clientWidth + 1)
    .map((c: any) => `${c.dataset.testid} (${c.scrollWidth} > ${c.clientWidth})`));
  try {
    for (const [theme, kind, slug] of [
      ['Default High Contrast', 'vscode-high-contrast', 'hc'], ['Default Light Modern', 'vscode-light', 'light'], ['Default Dark Modern', 'vscode-dark', 'dark'],
    ] as const) {
      fs.writeFileSync(settings, JSON.stringify({ 'workbench.colorTheme': theme }, null, 2));
      await wb.view().locator(`body.${kind}`).waitFor({ timeout: 30_000 });
      const normal = await width();
      await wb.runCommand('View: Toggle Maximize Editor Group');
      const maximized = await wb.until('the panel to widen', async () => {
        const w = await width();
        return w > normal + 100 ? w : null;
      });
      for (const [layout, w] of [['maximized', maximized], ['default', normal]] as const) {
        if (layout === 'default') {
          await wb.runCommand('View: Toggle Maximize Editor Group');
          await wb.until('the panel to narrow again', async () => (await width()) === normal);
        }
        await wb.testId('view-training').click();
        assert.deepEqual(await overflowing(), [], `${theme}, ${layout} (${w} px): every card fits its box`);
        await wb.testId('playground').scrollIntoViewIfNeeded();
        // every end point drawn lies inside the plot (a diverged run's is not drawn on its edge)
        const ends = await wb.testId('playground-plot').evaluate((svg: any) => {
          const marks = svg.querySelector('path.trajectory').parentElement.parentElement.parentElement;
          const clip = svg.querySelector(`${(marks.getAttribute('clip-path') ?? '').replace(/^url\((.*)\)$/, '$1')} rect`);
          const o = svg.getBoundingClientRect();
          const [cx, cy, cw, ch] = ['x', 'y', 'width', 'height'].map((k) => Number(clip.getAttribute(k)));
          return [...svg.querySelectorAll('circle.pg-end')].filter((c: any) => !c.hasAttribute('hidden')).map((c: any) => {
            const b = c.getBoundingClientRect();
            const x = b.left + b.width / 2, y = b.top + b.height / 2;
            return { opt: c.dataset.optimizer, x, y, inside: x >= o.left + cx - 0.5 && x <= o.left + cx + cw + 0.5 && y >= o.top + cy - 0.5 && y <= o.top + cy + ch + 0.5 };
          });
        });
        assert.ok(ends.length > 0 && ends.every((e: { inside: boolean }) => e.inside), `${theme}, ${layout}: end points inside the plot: ${JSON.stringify(ends)}`);
        await wb.screenshot(`30-theme-${slug}-${layout}-playground`);
        await wb.testId('loss-chart').scrollIntoViewIfNeeded();
        await wb.screenshot(`30-theme-${slug}-${layout}-training`);
        await wb.testId('view-graph').click();
        await wb.view().locator('g.node').first().waitFor();
        await wb.screenshot(`30-theme-${slug}-${layout}-graph`);
      }
      console.log(`      ${theme}: panel ${normal} px, maximized ${maximized} px`);
    }
    // a setting changed after a finished run: Run again uses it (and says so), then nothing differs
    await wb.testId('view-training').click();
    await wb.testId('train-lr').fill('0.02');
    await wb.testId('train-lr').press('Tab');
    const pending = wb.testId('train-pending');
    await wb.until('the changed-setting note', async () => ((await pending.isVisible()) ? ((await pending.textContent()) ?? '').trim() : null) === 'changed: Run again uses it');
    await wb.testId('train-run').click();
    await wb.until('the run with the new rate to finish, its setting no longer pending', async () => (await trainStatus(wb)).status === 'done' && !(await pending.isVisible()), 60_000);
  } finally {
    fs.rmSync(settings, { force: true });
  }
}

/**
 * More of the training view in real VS Code, as a student uses it: the cosine schedule drawn in the
 * Learning rate card and the loss smoothed; then the file edited in the editor and saved while the
 * finished run is shown: the view says the run trains an older version, "Train the new version"
 * trains the saved text, and the earlier run stays as a compare line labelled with its version.
 * Also examples/05's per-layer gradient strip in the graph view (ten layers, vanishing toward the input).
 */
export async function caseTrainingTools(wb: Workbench, workspace: string): Promise<void> {
  await wb.runCommand('View: Close All Editors');
  await wb.openFile('05-deep-tanh-vanishing.ts');
  await wb.runCommand('Backprop Lens: Show Graph');
  const strip = wb.testId('grad-strip-layers');
  await strip.locator('g.gs-row').first().waitFor({ timeout: 30_000 });
  const rows = await strip.locator('g.gs-row').evaluateAll((gs: any[]) => gs.map((g) => ({ layer: g.dataset.layer, mean: Number(g.dataset.mean) })));
  assert.deepEqual(rows.map((r) => r.layer), Array.from({ length: 10 }, (_, i) => `layer${i}`));
  assert.ok(rows[0].mean < rows[9].mean / 100, `the gradient vanishes toward the input: ${rows[0].mean} vs ${rows[9].mean}`);
  await wb.screenshot('31-gradient-strip-05');

  const file = path.join(workspace, MOONS);
  const original = fs.readFileSync(file, 'utf8');
  try {
    await openTraining(wb, MOONS);
    await wb.testId('train-steps').fill('60');
    await wb.testId('train-schedule').selectOption('cosine');
    await wb.testId('train-run').click();
    await wb.until('the 60-step cosine run to finish', async () => (await trainStatus(wb)).status === 'done', 60_000);
    const lr = wb.testId('lr-chart');
    assert.equal(Number(await lr.locator('path.lr-line').getAttribute('data-points')), 60, 'the rate of every step is drawn');
    // the rate input keeps the file's 0.01 (the graph that follows the run once wrote the last scheduled rate there)
    assert.equal(await wb.testId('train-lr').inputValue(), '0.01');
    await wb.testId('loss-smoothing').selectOption('0.9');
    await wb.testId('loss-chart').locator('path.loss-raw').waitFor();
    assert.equal(await wb.testId('loss-chart').locator('svg').first().getAttribute('data-smoothing'), '0.9');
    await lr.scrollIntoViewIfNeeded();
    await wb.screenshot('32-training-lr-smoothing');

    // edit the learning rate in the editor (0.01 → 0.02) and save
    const line = lineIn(workspace, /optim\.adam\(\{ lr: 0\.01 \}\)/, MOONS);
    const column = original.split('\n')[line - 1].indexOf('0.01') + 5;
    await wb.focusEditor(MOONS);
    await wb.goToLine(line, column);
    await wb.page.keyboard.press('Backspace');
    await wb.page.keyboard.type('2');
    await wb.page.keyboard.press('Control+S');
    await wb.until('the saved edit on disk', async () => /optim\.adam\(\{ lr: 0\.02 \}\)/.test(fs.readFileSync(file, 'utf8')));
    const notice = wb.testId('file-changed');
    await notice.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await notice.textContent()) ?? '', /The file changed since this run started \(it trains version 1; the file is at version 2\)/);
    await wb.screenshot('33-training-file-changed');
    await wb.testId('file-changed-rerun').click();
    await wb.until('the new version\'s run to finish', async () => (await trainStatus(wb)).status === 'done' && !(await notice.isVisible()), 60_000);
    const compare = await wb.view().locator('.lg-compare').allTextContents();
    assert.equal(compare.length, 1, `one compare line: ${compare.join(' | ')}`);
    assert.match(compare[0].trim(), /^file v1 · adam · lr 0\.01 · cosine · 60 steps$/);
    await wb.testId('loss-chart').scrollIntoViewIfNeeded();
    await wb.screenshot('34-training-compare-versions');
  } finally {
    if (fs.readFileSync(file, 'utf8') !== original) {
      fs.writeFileSync(file, original);
      await wb.runCommand('File: Revert File').catch(() => undefined);
    }
  }
}

/**
 * Webviews on an origin of their own, as VS Code desktop and vscode.dev serve them (the page comes
 * through webviewsOnOwnOrigin): VS Code registers its webview service worker under a URL with the
 * webview's id, so a new panel would find the last one's registration and wait about a second for
 * Chromium to swap the workers. The last panel of ours to close unregisters it
 * (webview/serviceWorker.ts), so the next panel registers afresh: VS Code's own webview page logs
 * "No service worker controller found" instead of "Found unexpected service worker controller".
 * The panel's content reloaded in place (Developer: Reload Webviews) still loads through the worker.
 */
export async function caseOwnOrigin(wb: Workbench): Promise<void> {
  const page = wb.page;
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  const webviewFrame = () => page.frames().find((f) => /^http:\/\/[0-9a-v]{52}\.localhost:\d+\/.*\/pre\/index\.html/.test(f.url()));
  const registrations = async () => (await webviewFrame()!.evaluate(() => (globalThis as any).navigator.serviceWorker.getRegistrations().then((r: unknown[]) => r.length))) as number;

  await wb.openFile(MODEL);
  await showGraphFromPalette(wb);
  await expectGraph(wb, { timeout: 120_000 });
  const frame = await wb.until('the graph webview on a <52-digit hash>.localhost origin', async () => webviewFrame());
  const origin = new URL(frame.url()).origin;
  assert.equal(await registrations(), 1, 'VS Code registered its service worker for the panel');

  // reloaded in place, the panel's content still loads (through the registration it kept)
  await wb.view().locator('#app').evaluate((el: any) => (el.dataset.beforeReload = '1'));
  await wb.runCommand('Developer: Reload Webviews');
  // a new document: its #app has no mark, and it draws the graph
  await wb.view().locator('#app[data-rendered]:not([data-before-reload])').waitFor({ state: 'attached', timeout: 60_000 });
  await expectGraph(wb);

  // closed, the last panel leaves no registration behind, looked at from a frame of that origin outside
  // the worker's scope, in the workbench page (an iframe's registrations are the workbench site's)
  await wb.runCommand('View: Close All Editors');
  await wb.graphTab(MODEL).waitFor({ state: 'detached', timeout: 15_000 });
  const probeUrl = `${origin}/healthz`;
  await page.evaluate((src) => {
    const f = (globalThis as any).document.createElement('iframe');
    f.id = 'bpl-sw-probe';
    f.src = src;
    f.style.display = 'none';
    (globalThis as any).document.body.appendChild(f);
  }, probeUrl);
  try {
    const probe = await wb.until('the probe frame', async () => page.frames().find((f) => f.url() === probeUrl));
    const count = async () => (await probe.evaluate(() => (globalThis as any).navigator.serviceWorker.getRegistrations().then((r: unknown[]) => r.length))) as number;
    await wb.until('the service-worker registration to be gone', async () => (await count()) === 0, 15_000);
  } finally {
    await page.evaluate(() => (globalThis as any).document.getElementById('bpl-sw-probe')?.remove());
  }

  // so the next panel registers afresh instead of waiting for a swap
  logs.length = 0;
  await wb.openFile(MODEL);
  await showGraphFromPalette(wb);
  await expectGraph(wb);
  assert.ok(logs.some((l) => l.includes('No service worker controller found')), `VS Code's webview page registered afresh (its log: ${logs.filter((l) => /service worker/i.test(l)).join(' | ') || 'nothing about its service worker'})`);
  assert.ok(!logs.some((l) => l.includes('Found unexpected service worker controller')), 'the new panel found no old worker to swap');
  await wb.screenshot('35-own-origin-reopened');
  await wb.runCommand('View: Close All Editors');
}

const XOR_GRAPH = '06-xor-mlp.ts';
const XOR_TRAIN = '10-xor-train.ts';
const cliJson = <T>(...args: string[]): T => JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'bin', 'backprop-lens.js'), ...args, '--json'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }).trim().split('\n').pop()!) as T;
/** The training view's number format (webview/training/analysisCard.ts num). */
const panelNum = (v: number) => formatNumber(v).replace(/^-/, '−').replace('e-', 'e−');

/**
 * The tensor lesson and the training tools in real VS Code, against the CLI's numbers:
 * - one element's chain rule: a click on hidden.weight[2, 1] of examples/06 writes
 *   ∂L/∂W[2,1] = Σₖ ∂L/∂Z[k,2]·X[k,1] with one term per example whose input is not 0, and the
 *   terms add up to the gradient `trace --json` has for that element;
 * - the inspector, once open, leaves the selected node in view (the weight, then the output);
 * - at the last backward step nothing animates forever; the gradient legend gives its log scale's ends;
 * - a trained XOR (examples/10): the Hessian card's eigenvalues are `hessian --at-step 300`'s, the
 *   histograms keep the whole run (the first logged step and the last), and the gradient check's
 *   verdicts are on screen beside the editor;
 * - the gradient heatmap's legend, per tensor and on the graph's scale;
 * - the vanishing example's Quick Fix menu lists each fix once, matched to its sigmoid layers, and the
 *   file has no TypeScript error;
 * - examples/07's trace card draws the run's 11 iterates.
 */
export async function caseTensorsAndTools(wb: Workbench, workspace: string): Promise<void> {
  // ── one element's chain rule ──
  const snap = cliJson<{ nodes: { id: number; name: string | null; op: string; shape: number[]; value?: number[]; grad?: number[]; inputs?: number[] }[]; output: number }>('trace', path.join(workspace, XOR_GRAPH));
  const w = snap.nodes.find((n) => n.name === 'weight' && n.shape.join() === '4,2')!;
  const X = snap.nodes.find((n) => n.name === 'X')!;
  assert.ok(w && X?.value && w.grad, 'the CLI snapshot has the hidden weight, its gradient and the inputs');
  await wb.runCommand('View: Close All Editors');
  await wb.openFile(XOR_GRAPH);
  await wb.runCommand('Backprop Lens: Show Graph');
  await wb.graphTab(XOR_GRAPH).waitFor({ state: 'visible', timeout: 30_000 });
  await wb.view().locator('g.node').first().waitFor({ state: 'visible', timeout: 60_000 });
  // the last backward step (where a graph opens): every gradient is there
  const last = wb.testId('step-last');
  if ((await last.getAttribute('aria-disabled')) !== 'true') await last.click();
  const collapse = wb.view().locator('[data-testid="collapse-all"]');
  if ((await collapse.getAttribute('data-state')) === 'collapsed') await collapse.click();
  const wNode = wb.view().locator(`g.node[data-id="${w.id}"]`).first();
  await wNode.waitFor({ state: 'visible' });
  await wNode.focus();
  await wNode.press('Enter');
  await wb.testId('element-hint').waitFor({ state: 'visible' });
  // a node picked in the graph opens its line in the editor: wait for it, so that it lands before what follows
  await wb.waitCursor(lineIn(workspace, /^const hidden = nn\.linear/, XOR_GRAPH));
  // the inspector leaves the output node and the selected one in view
  const inView = async (id: number) => wb.view().locator('g.viewport').evaluate((vp: any, nodeId) => {
    const box = vp.ownerSVGElement.getBoundingClientRect();
    const r = vp.ownerDocument.querySelector(`g.node[data-id="${nodeId}"] rect.box`)?.getBoundingClientRect();
    return !!r && r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && r.left >= box.left - 1 && r.right <= box.right + 1;
  }, id);
  await wb.until('the selected weight in view beside the inspector', async () => inView(w.id), 10_000);
  await wb.view().locator('table.values-value td[data-index="5"]').click();
  await wb.testId('element-chain').waitFor({ state: 'visible' });
  const terms = wb.testId('element-terms');
  const nonzero = [0, 1, 2, 3].filter((k) => X.value![k * 2 + 1] !== 0).length;
  assert.equal(Number(await terms.getAttribute('data-terms')), nonzero, 'one term per example whose X[k, 1] is not 0');
  const total = Number(await terms.getAttribute('data-total'));
  assert.ok(Math.abs(total - w.grad![5]) <= 1e-12 * Math.max(1e-300, Math.abs(w.grad![5])), `the terms add up to ${total}; the CLI's ∂L/∂W[2,1] is ${w.grad![5]}`);
  assert.match((await wb.view().locator('[data-testid="element-chain"] h3').textContent()) ?? '', /Element \[2, 1\]/);
  // the gradient heatmap's legend, per tensor and then on the graph's one scale
  assert.match((await wb.testId('heat-legend-grad').textContent()) ?? '', /against this tensor's largest/);
  await wb.testId('heat-scale').selectOption('graph');
  await wb.view().locator('[data-testid="heatmap-grad"][data-scale="graph"]').waitFor();
  assert.match((await wb.testId('heat-legend-grad').textContent()) ?? '', /graph's log scale of mean gradients/);
  await wb.testId('heat-scale').selectOption('tensor');
  // the output node, selected in turn, is in view beside the inspector too
  const outNode = wb.view().locator(`g.node[data-id="${snap.output}"]`).first();
  await outNode.focus();
  await outNode.press('Enter');
  await wb.until('the selected output node in view beside the inspector', async () => inView(snap.output), 10_000);
  await wb.waitCursor(lineIn(workspace, /^const loss = /, XOR_GRAPH));
  // nothing animates forever
  const animations = await wb.view().locator('body').evaluate((b: any) => b.ownerDocument.getAnimations().map((a: any) => a.effect.getComputedTiming().endTime as number));
  assert.ok(animations.every((t: number) => Number.isFinite(t)), `every animation ends: ${animations.join(', ')}`);
  // the gradient legend: one log scale's ends
  const lo = parseNumbers(await wb.testId('grad-legend-lo').textContent())[0];
  const hi = parseNumbers(await wb.testId('grad-legend-hi').textContent())[0];
  assert.ok(lo > 0 && hi >= lo, `legend ends ${lo} … ${hi}`);
  await wb.screenshot('36-element-chain');

  // ── a trained XOR: the Hessian card against the CLI; histograms over the whole run ──
  await openTraining(wb, XOR_TRAIN);
  await wb.testId('train-run').click();
  await wb.until('the XOR run to finish its 300 steps', async () => {
    const s = await trainStatus(wb);
    return s.status === 'done' && s.step === 300;
  }, 90_000);
  const cli = cliJson<{ eigenvalues: number[] }>('hessian', path.join(workspace, XOR_TRAIN), '--at-step', '300');
  await wb.testId('hessian-run').click();
  const eig = wb.testId('hessian-eigenvalues');
  await eig.waitFor({ state: 'visible', timeout: 60_000 });
  assert.equal((await eig.textContent())?.trim(), `eigenvalues (ascending): ${cli.eigenvalues.map(panelNum).join(', ')}`);
  const ridges = await wb.view().locator('path.hist-ridge').evaluateAll((els: any[]) => els.map((e) => Number(e.dataset.step)));
  assert.ok(ridges.length >= 2 && Math.min(...ridges) === 1, `the first logged step is kept after training: ${ridges.join(', ')}`);
  assert.equal(Math.max(...ridges), 300, 'and the last');
  await wb.screenshot('37-hessian-xor');
  // the gradient check beside the editor: every parameter's verdict is on screen, no sideways scrolling
  await wb.testId('gradcheck-run').click();
  const verdicts = wb.view().locator('[data-testid="gradcheck-table"] td[data-col="verdict"]');
  await verdicts.first().waitFor({ state: 'visible', timeout: 60_000 });
  await verdicts.first().scrollIntoViewIfNeeded();
  const panelBox = (await wb.page.locator('iframe.webview.ready').boundingBox())!;
  const vb = (await verdicts.first().boundingBox())!;
  assert.ok(vb.x >= panelBox.x && vb.x + vb.width <= panelBox.x + panelBox.width + 0.5, `the verdict column (${vb.x}…${vb.x + vb.width}) inside the panel (${panelBox.x}…${panelBox.x + panelBox.width})`);
  const words = await verdicts.evaluateAll((tds: any[]) => tds.map((td) => td.textContent.trim()));
  assert.equal(words.length, 4, 'XOR\'s four parameters');
  assert.ok(words.every((w: string) => /pass/i.test(w)), `backprop agrees with the differences: ${words.join(', ')}`);

  // ── the vanishing example's Quick Fixes, each once ──
  await openTraining(wb, VANISHING);
  await wb.testId('train-run').click();
  await wb.until('the vanishing run to finish', async () => (await trainStatus(wb)).status === 'done', 90_000);
  await wb.focusEditor(VANISHING);
  await wb.until('a gradient-health diagnostic in the editor', async () => (await wb.problemCounts()).warnings + (await wb.problemCounts()).errors > 0, 30_000);
  await wb.page.keyboard.press('F8'); // the next problem
  await wb.page.keyboard.press('Escape');
  await wb.page.keyboard.press('Control+.');
  const rows = wb.page.locator('.action-widget .monaco-list-row.action');
  await rows.first().waitFor({ state: 'visible', timeout: 15_000 });
  const titles = (await rows.evaluateAll((els: any[]) => els.map((e) => (e.getAttribute('aria-label') ?? e.textContent ?? '').trim()))).filter((t: string) => t);
  await wb.screenshot('38-quick-fixes');
  await wb.page.keyboard.press('Escape');
  assert.ok(titles.length >= 1, 'the finding offers fixes');
  assert.equal(new Set(titles).size, titles.length, `each fix once: ${titles.join(' | ')}`);
  // matched to a sigmoid network: ReLU with He init as one fix, or Xavier for the sigmoid
  assert.ok(titles.some((t: string) => /ReLU with He init/.test(t)) && titles.some((t: string) => /Xavier/.test(t)), titles.join(' | '));
  // examples/09 type-checks in VS Code: its only problems are the gradient-health findings
  const problems = ((await (await wb.openProblems()).textContent()) ?? '');
  assert.match(problems, /Backprop Lens/);
  assert.doesNotMatch(problems, /ts\(\d+\)/, `a TypeScript problem: ${problems.slice(0, 500)}`);
  await wb.closePanel();

  // ── one parameter: the trace card draws the run's iterates x ← 0.6·x on x² ──
  await openTraining(wb, '07-minimize-quadratic.ts');
  await wb.testId('train-run').click();
  await wb.until('the 10 steps of examples/07', async () => (await trainStatus(wb)).status === 'done', 60_000);
  await wb.testId('trace-run').click();
  const iterates = wb.view().locator('[data-testid="trace-plot"] circle.trace-iterate');
  await iterates.first().waitFor({ timeout: 30_000 });
  assert.deepEqual(await iterates.evaluateAll((cs: any[]) => cs.map((c) => Number(c.dataset.step))), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  await wb.testId('trace').scrollIntoViewIfNeeded();
  await wb.screenshot('39-trace-quadratic');
}
