/**
 * The training view in Chromium: real bundle, real CSP, snapshots of the real training examples,
 * and progress from real training runs (the runner's worker, as the panel gets it) forwarded into
 * the page as `trainProgress` / `trainStatus` messages.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatNumber } from '../../engine/format';
import { THRESHOLDS } from '../../engine/stats/diagnosis';
import type { TrainResult } from '../../engine/train/trainer';
import type { HostMessage, TrainOverrides, TrainProgress, TrainStatus, WebviewMessage } from '../../extension/protocol';
import { ModelRunner } from '../../extension/runner/runner';
import { clusterText } from '../../webview/format';
import { ROOT, lineOf, screenshotPath, traceModels, usePanels, type PanelPage } from './harness';
import type { ThemeName } from './themes';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const example = (name: string) => fs.readFileSync(path.join(ROOT, 'examples', name), 'utf8');

const MODELS = {
  moons: example('08-moons-mlp.ts'),
  vanishing: example('09-deep-sigmoid-vanishing.ts'),
  quadratic: example('07-minimize-quadratic.ts'),
  digits: example('15-digits-cnn.ts'),
  // a zero-initialized network: every hidden unit is the same one, the loss sits at ln 2
  symmetric: `import { nn, optim, losses, data, defineTraining } from 'backprop-lens';
export default defineTraining({
  model: nn.sequential(nn.linear(2, 8, { init: 'zeros' }), nn.tanh(), nn.linear(8, 1, { init: 'zeros' })).named('net'),
  data: data.moons({ n: 200, noise: 0.1, seed: 0 }),
  loss: losses.bceWithLogits,
  optimizer: optim.sgd({ lr: 0.5 }),
  batchSize: 50,
  steps: 200,
});
`,
  addmul: `import { scalar } from 'backprop-lens';
const x = scalar(-2);
const f = x.add(scalar(5)).mul(scalar(-4));
export default f;
`,
};

interface Trained { reports: TrainProgress[]; result: TrainResult }

const q = (testId: string) => `[data-testid="${testId}"]`;
const text = (p: PanelPage, testId: string) => p.page.locator(q(testId)).innerText();
const count = (p: PanelPage, selector: string) => p.page.$$eval(selector, (els: any[]) => els.length);
const attr = async (p: PanelPage, selector: string, name: string) => (await p.page.getAttribute(selector, name)) ?? '';
const trainMessages = async (p: PanelPage) => (await p.posted()).filter((m): m is Extract<WebviewMessage, { type: 'train' }> => m.type === 'train');
/** Points of an SVG path drawn with straight segments (`M…L…L…`). */
const pathPoints = (d: string) => (d.match(/[ML]/g) ?? []).length;
/** Equal as numbers (0 and −0 alike: an SVG attribute does not keep the sign of zero). */
const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≠ ${expected}`);
const percent = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(v > 0 && v < 0.01 ? 1 : 0)}%`);

describe('webview: training view in Chromium', function () {
  let runner: ModelRunner;
  let traced: Awaited<ReturnType<typeof traceModels>>;
  const trainedCache = new Map<string, Trained>();
  const panel = usePanels();

  before(async function () {
    this.timeout(240_000);
    traced = await traceModels(MODELS);
    runner = new ModelRunner(path.join(ROOT, 'dist'));
  });

  after(() => runner?.dispose());

  /** Trains a traced example in the runner's worker and keeps every progress report it streamed. */
  async function train(name: keyof typeof MODELS, overrides: TrainOverrides): Promise<Trained> {
    const key = `${name}:${JSON.stringify(overrides)}`;
    const hit = trainedCache.get(key);
    if (hit) return hit;
    const reports: TrainProgress[] = [];
    const run = await runner.train(traced[name].file, { overrides, progressMs: 0, onProgress: (p) => reports.push(p) });
    const out = await run.done;
    if (!out.ok) assert.fail(out.errors.map((e) => e.message).join('; '));
    // the reports carry only new entries: together they are the whole history
    assert.deepEqual(reports.flatMap((r) => r.history.map((h) => h.step)), out.result.history.map((h) => h.step));
    const t = { reports, result: out.result };
    trainedCache.set(key, t);
    return t;
  }

  /** What the host sends for a run: its status, every progress report, then the final status. */
  async function deliver(p: PanelPage, runId: number, t: Trained, overrides: TrainOverrides, final: TrainStatus = 'done'): Promise<void> {
    const total = t.result.steps;
    // as if the person had set these before pressing Run
    if (overrides.optimizer) await p.page.selectOption(q('train-optimizer'), overrides.optimizer);
    if (overrides.lr !== undefined) await p.page.fill(q('train-lr'), String(overrides.lr));
    if (overrides.steps !== undefined) await p.page.fill(q('train-steps'), String(overrides.steps));
    await p.send({ type: 'trainStatus', runId, status: 'running', step: 0, total, overrides });
    for (const progress of t.reports) await p.send({ type: 'trainProgress', runId, progress });
    await p.send({ type: 'trainStatus', runId, status: final, step: total, total, overrides });
    await waitDrawn(p, runId, t.result.history.length, final);
  }

  async function waitDrawn(p: PanelPage, runId: number, history: number, status: TrainStatus): Promise<void> {
    await p.page.waitForSelector(`${q('training-view')}[data-run-id="${runId}"][data-history="${history}"][data-status="${status}"]`, { state: 'attached' });
  }

  /** Opens a panel with the traced example and switches to the training view. */
  async function trainingPanel(name: keyof typeof MODELS, opts: Parameters<typeof panel>[0] = {}): Promise<PanelPage> {
    const p = await panel(opts);
    await p.showSnapshot(traced[name].snapshot, 1);
    await p.page.click(q('view-training'));
    await p.page.waitForSelector(`#app[data-view="training"] ${q('training-view')}[data-renders]`);
    return p;
  }

  /** Every chart text inside its SVG, tick labels apart, nothing wider than its card. */
  async function assertReadable(p: PanelPage): Promise<void> {
    const problems: string[] = await p.page.evaluate(() => {
      const out: string[] = [];
      const inside = (b: any, r: any) => b.left >= r.left - 1 && b.right <= r.right + 1 && b.top >= r.top - 1 && b.bottom <= r.bottom + 1;
      const overlap = (a: any, b: any) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
      for (const svg of document.querySelectorAll('[data-testid="training-view"] svg.tr-chart:not([hidden])')) {
        const r = svg.getBoundingClientRect();
        for (const t of svg.querySelectorAll('text')) {
          if (!t.textContent) continue;
          if (!inside(t.getBoundingClientRect(), r)) out.push(`"${t.textContent}" sticks out of its chart`);
        }
        for (const axis of svg.querySelectorAll('g.axis')) {
          const ts = Array.from(axis.querySelectorAll('text'), (t: any) => ({ s: t.textContent, b: t.getBoundingClientRect() }));
          for (let i = 0; i < ts.length; i++) for (let j = i + 1; j < ts.length; j++) if (overlap(ts[i].b, ts[j].b)) out.push(`ticks "${ts[i].s}" and "${ts[j].s}" overlap`);
        }
      }
      for (const c of document.querySelectorAll('[data-testid="training-view"] .tr-card, [data-testid="training-view"] .tr-controls')) {
        if (c.scrollWidth > c.clientWidth + 1) out.push(`${c.dataset.testid ?? c.className} is wider than its box (${c.scrollWidth} > ${c.clientWidth})`);
      }
      return out;
    });
    assert.deepEqual(problems, []);
  }

  it('offers the training view only for files that export defineTraining, filled with the file\'s settings', async () => {
    const p = await panel({ theme: 'dark' });
    await p.showSnapshot(traced.addmul.snapshot, 1);
    assert.equal(await p.page.isVisible(q('view-training')), false, 'no training spec: no switch');
    await p.showSnapshot(traced.moons.snapshot, 2);
    assert.equal(await p.page.isVisible(q('view-training')), true);
    assert.equal(await p.page.isVisible(q('training-view')), false, 'the graph shows first');
    await p.page.click(q('view-training'));
    await p.page.waitForSelector(`${q('training-view')}[data-renders]`);
    assert.equal(await attr(p, '#app', 'data-view'), 'training');
    assert.equal(await attr(p, q('view-training'), 'aria-pressed'), 'true');
    assert.equal(await p.page.isVisible(q('step-next')), false, 'graph stepping is hidden in the training view');
    assert.equal(await p.page.$eval(q('train-optimizer'), (e: any) => e.value), 'adam');
    assert.equal(await p.page.inputValue(q('train-lr')), '0.01');
    assert.equal(await p.page.inputValue(q('train-steps')), '500');
    assert.equal(await p.page.inputValue(q('train-batch')), '32');
    assert.equal(await text(p, 'train-status'), 'step 0 / 500 · idle');
    // before any run: the traced step's layers (2 linear layers) and no loss yet
    assert.equal(await count(p, `${q('grad-flow')} g.gf-layer`), 2);
    assert.equal(await count(p, `${q('activation-table')} tbody tr`), 2);
    assert.equal(await count(p, 'path.loss-train'), 0);
    await p.page.screenshot({ path: screenshotPath('training-idle-dark') });
    await assertReadable(p);
    assert.equal((await p.savedState() as any)?.view, 'training', 'the choice is saved with the UI state');
    // a reloaded panel comes back to the training view
    const saved = await p.savedState();
    const again = await panel({ state: saved });
    await again.showSnapshot(traced.moons.snapshot, 1);
    assert.equal(await attr(again, '#app', 'data-view'), 'training');
    assert.equal(await again.page.isVisible(q('training-view')), true);
    // a file without a training spec goes back to the graph
    await p.showSnapshot(traced.addmul.snapshot, 3);
    assert.equal(await attr(p, '#app', 'data-view'), 'graph');
    assert.equal(await p.page.isVisible(q('view-training')), false);
    assert.equal(await p.page.isVisible('svg.graph'), true);
  });

  it('Run / Pause / Step / Reset post train messages with the settings from the inputs', async () => {
    const p = await trainingPanel('moons');
    await p.page.selectOption(q('train-optimizer'), 'sgd');
    await p.page.fill(q('train-lr'), '0.1');
    await p.page.fill(q('train-steps'), '80');
    await p.page.fill(q('train-batch'), '16');
    const overrides: TrainOverrides = { optimizer: 'sgd', lr: 0.1, steps: 80, batchSize: 16 };
    assert.equal(await text(p, 'train-run'), 'Run');
    await p.page.click(q('train-run'));
    assert.deepEqual((await trainMessages(p)).pop(), { type: 'train', action: 'run', overrides });

    await p.send({ type: 'trainStatus', runId: 1, status: 'running', step: 0, total: 80, overrides });
    await p.page.waitForFunction((s: string) => document.querySelector(s)?.textContent === 'Pause', q('train-run'));
    assert.equal(await attr(p, q('train-run'), 'icon'), 'debug-pause');
    await p.send({ type: 'trainProgress', runId: 1, progress: { step: 120, total: 500, history: [], layers: [], findings: [], stepsPerSecond: 850.4, paused: false } });
    await p.page.waitForFunction((s: string) => document.querySelector(s)?.textContent === 'step 120 / 500 · 850 steps/s · running', q('train-status'));
    assert.deepEqual(await p.page.$eval('vscode-progress-bar.tr-progress', (e: any) => [e.value, e.max]), [120, 500]);
    await p.page.click(q('train-run'));
    assert.deepEqual((await trainMessages(p)).pop(), { type: 'train', action: 'pause' });

    await p.send({ type: 'trainStatus', runId: 1, status: 'paused', step: 3, total: 80, overrides });
    await p.page.waitForFunction((s: string) => document.querySelector(s)?.textContent === 'Resume', q('train-run'));
    assert.equal(await text(p, 'train-status'), 'step 3 / 80 · paused');
    // where the run runs: hidden until the host says, then the backend and adapter (or why the CPU), as text
    assert.equal(await p.page.isVisible(q('train-backend')), false);
    await p.send({ type: 'trainStatus', runId: 1, status: 'paused', step: 3, total: 80, overrides, backend: { kind: 'webgpu', adapter: 'NVIDIA <b>H100</b>' } });
    await p.page.waitForFunction((s: string) => document.querySelector(s)?.textContent === 'WebGPU · NVIDIA <b>H100</b>', q('train-backend'));
    assert.equal(await p.page.$$eval(`${q('train-backend')} b`, (b) => b.length), 0, 'the adapter name is text, not markup');
    await p.send({ type: 'trainStatus', runId: 1, status: 'paused', step: 3, total: 80, overrides, backend: { kind: 'cpu', note: 'Runs on the CPU: the graph changes from step to step.' } });
    await p.page.waitForFunction((s: string) => document.querySelector(s)?.textContent === 'CPU — Runs on the CPU: the graph changes from step to step.', q('train-backend'));
    assert.equal(await attr(p, '[data-testid="training-view"]', 'data-backend'), 'cpu');
    await p.page.click(q('train-step'));
    assert.deepEqual((await trainMessages(p)).pop(), { type: 'train', action: 'step', overrides });

    // a changed setting is flagged until a reset applies it
    assert.equal(await p.page.isVisible(q('train-pending')), false);
    await p.page.fill(q('train-lr'), '0.2');
    await p.page.waitForSelector(q('train-pending'), { state: 'visible' });
    assert.equal(await text(p, 'train-pending'), 'changed: applies after Reset', 'a paused run keeps its settings');
    // a finished run: Run again starts over with the inputs, and the note says so
    await p.send({ type: 'trainStatus', runId: 1, status: 'done', step: 80, total: 80, overrides });
    await p.page.waitForFunction((s: string) => document.querySelector(s)?.textContent === 'changed: Run again uses it', q('train-pending'));
    await p.send({ type: 'trainStatus', runId: 1, status: 'paused', step: 3, total: 80, overrides });
    await p.page.waitForFunction((s: string) => document.querySelector(s)?.textContent === 'changed: applies after Reset', q('train-pending'));
    await p.page.click(q('train-reset'));
    assert.deepEqual((await trainMessages(p)).pop(), { type: 'train', action: 'reset', overrides: { ...overrides, lr: 0.2 } });
    // the schedule: the file's until a preset is picked
    assert.equal(await p.page.$eval(q('train-schedule'), (e: any) => e.selectedOptions[0]?.textContent), 'as in the file (constant)');
    await p.page.selectOption(q('train-schedule'), 'cosine');
    await p.page.click(q('train-reset'));
    assert.deepEqual((await trainMessages(p)).pop(), { type: 'train', action: 'reset', overrides: { ...overrides, lr: 0.2, schedule: 'cosine' } });

    // an invalid setting blocks the actions and says why
    await p.page.fill(q('train-lr'), '-1');
    await p.page.waitForFunction((s: string) => document.querySelector(s)?.hasAttribute('disabled'), q('train-run'));
    assert.match(await text(p, 'train-status'), /learning rate must be between 0 and 1e6/);
    const before = (await trainMessages(p)).length;
    await p.page.locator(q('train-run')).dispatchEvent('click');
    assert.equal((await trainMessages(p)).length, before, 'nothing is sent with an invalid setting');
  });

  it('a watched PyTorch script: no settings to override (hidden, not just unset), its own step count, the backend named PyTorch', async () => {
    const p = await panel({ theme: 'dark' });
    const watched = { ...traced.moons.snapshot, training: { optimizer: { optimizer: 'pytorch' }, schedule: 'as in the script', steps: 0, batchSize: null, seed: 0, dataset: null, watched: true } };
    await p.showSnapshot(watched as typeof traced.moons.snapshot, 1);
    await p.page.click(q('view-training'));
    await p.page.waitForSelector(`${q('training-view')}[data-renders]`);
    for (const id of ['train-optimizer', 'train-lr', 'train-steps', 'train-batch']) assert.equal(await p.page.isVisible(q(id)), false, `${id} is hidden`);
    assert.equal(await p.page.isVisible(q('train-run')), true);
    assert.equal(await attr(p, q('train-run'), 'title'), 'Run the script and watch it train');
    await p.page.click(q('train-run'));
    assert.deepEqual((await trainMessages(p)).pop(), { type: 'train', action: 'run', overrides: {} });
    await p.send({ type: 'trainStatus', runId: 1, status: 'running', step: 0, total: 0, overrides: {}, backend: { kind: 'pytorch', adapter: '1.13.0a0 · /usr/bin/python3', note: 'The script trains itself; watch(model) reports its steps.' } });
    await p.send({ type: 'trainProgress', runId: 1, progress: { step: 40, total: 0, history: [], layers: [], findings: [], stepsPerSecond: 120, paused: false } });
    await p.page.waitForFunction((s: string) => document.querySelector(s)?.textContent === 'step 40 · 120 steps/s · running', q('train-status'));
    assert.equal(await text(p, 'train-backend'), 'PyTorch 1.13.0a0 · /usr/bin/python3 — The script trains itself; watch(model) reports its steps.');
    assert.equal(await p.page.isVisible('vscode-progress-bar.tr-progress'), false, 'no progress bar: the script decides its length');
    await p.page.screenshot({ path: screenshotPath('training-watched-dark') });
    await assertReadable(p);
  });

  it('the learning-rate card draws the schedule the run used; smoothing draws the moving average over the faint raw loss', async () => {
    const p = await trainingPanel('moons', { theme: 'light', viewport: { width: 620, height: 1400 } });
    const o = { steps: 60, schedule: 'cosine' as const };
    const t = await train('moons', o);
    await deliver(p, 1, t, o);
    const history = t.result.history;
    assert.ok(new Set(history.map((h) => h.lr)).size > 10, 'a cosine schedule changes the rate');
    await p.page.waitForSelector(`${q('lr-chart')} path.lr-line`);
    assert.equal(Number(await attr(p, `${q('lr-chart')} path.lr-line`, 'data-points')), history.length);
    assert.equal(pathPoints(await attr(p, `${q('lr-chart')} path.lr-line`, 'd')), history.length);
    const end = history[history.length - 1];
    assert.equal(await text(p, 'lr-latest'), `step ${end.step}: ${formatNumber(end.lr)}`);
    // smoothing: the raw loss stays, faint; the line is the moving average
    assert.equal(await p.page.$('path.loss-raw'), null);
    const before = await attr(p, 'path.loss-train', 'd');
    await p.page.selectOption(q('loss-smoothing'), '0.9');
    await p.page.waitForSelector('path.loss-raw');
    assert.equal(await attr(p, `${q('loss-chart')} svg`, 'data-smoothing'), '0.9');
    assert.equal(await attr(p, 'path.loss-raw', 'd'), before, 'the raw loss is drawn as it was');
    assert.notEqual(await attr(p, 'path.loss-train', 'd'), before);
    await p.page.locator(q('lr-chart')).scrollIntoViewIfNeeded();
    await p.page.screenshot({ path: screenshotPath('training-lr-smoothing-light') });
    await assertReadable(p);
    // a constant rate is said, not drawn
    const c = await train('moons', { steps: 20 });
    await deliver(p, 2, c, { steps: 20 });
    await p.page.waitForFunction((s: string) => /^constant /.test(document.querySelector(s)?.textContent ?? ''), q('lr-latest'));
    assert.equal(await p.page.isVisible(`${q('lr-chart')} svg`), false);
  });

  it('draws a real run: loss (linear and log), gradient flow, activations and histograms over steps', async () => {
    const p = await trainingPanel('moons', { theme: 'dark', viewport: { width: 1280, height: 1500 } });
    const o = { steps: 60 };
    const t = await train('moons', o);
    await deliver(p, 1, t, o);
    const history = t.result.history;
    const losses = history.flatMap((h) => [h.loss, ...(h.valLoss === undefined ? [] : [h.valLoss])]);

    // loss: one point per history entry; the y extent is the losses'
    const train1 = 'path.loss-train';
    assert.equal(Number(await attr(p, train1, 'data-points')), history.length);
    assert.equal(pathPoints(await attr(p, train1, 'd')), history.length);
    assert.equal(pathPoints(await attr(p, 'path.loss-val', 'd')), history.filter((h) => h.valLoss !== undefined).length);
    const chart = `${q('loss-chart')} svg`;
    assert.equal(Number(await attr(p, chart, 'data-y-min')), Math.min(...losses));
    assert.equal(Number(await attr(p, chart, 'data-y-max')), Math.max(...losses));
    assert.equal(Number(await attr(p, chart, 'data-x-max')), 60);
    assert.equal(await text(p, 'train-status'), 'step 60 / 60 · done');
    const linear = await attr(p, train1, 'd');
    await p.page.click(q('loss-log'));
    await p.page.waitForSelector(`${chart}[data-scale="log"]`);
    assert.notEqual(await attr(p, train1, 'd'), linear, 'the log scale moves the points');
    assert.match(await p.page.locator(`${q('loss-chart')} .axis-label-y`).textContent() ?? '', /log/);

    // accuracy (binary, logits above 0): one point per logged step on the minibatch and on the
    // validation set, the latest of each in the heading
    const accuracies = history.filter((h) => h.accuracy !== undefined);
    assert.ok(accuracies.length >= 3);
    assert.equal(Number(await attr(p, `${q('accuracy-chart')} path.acc-train`, 'data-points')), accuracies.length);
    assert.equal(Number(await attr(p, `${q('accuracy-chart')} path.acc-val`, 'data-points')), history.filter((h) => h.valAccuracy !== undefined).length);
    const end = history[history.length - 1];
    const pct = (v: number) => `${(v * 100).toFixed(v === 1 ? 0 : 1)}%`;
    assert.equal(await text(p, 'accuracy-latest'), `training ${pct(end.accuracy!)} · validation ${pct(end.valAccuracy!)}`);

    // gradient flow and activations: the latest logged step, one mark / row per layer
    const last = t.result.layers[t.result.layers.length - 1];
    assert.equal(last.step, 60);
    const marks = await p.page.$$eval(`${q('grad-flow')} g.gf-layer`, (els: any[]) => els.map((g) => ({ layer: g.dataset.layer, mean: Number(g.dataset.mean), max: Number(g.dataset.max) })));
    assert.deepEqual(marks, last.layers.map((l) => ({ layer: l.name, mean: l.gradMeanAbs, max: l.gradMaxAbs })));
    // each bar is labelled with its layer's name less the common path, never a bare index
    const labels = await p.page.$$eval(`${q('grad-flow')} g.axis-x g.tick text`, (ts: any[]) => ts.map((t) => t.textContent));
    assert.equal(labels.length, last.layers.length);
    labels.forEach((label, i) => assert.ok(!/^\d+$/.test(label) && last.layers[i].name.endsWith(`.${label}`), `bar ${i}: "${label}" for ${last.layers[i].name}`));
    // the bars stand in the middle of the plot's width, in order, none off it (not crowded into one half)
    const geo = await p.page.$eval(`${q('grad-flow')} svg`, (svg: any) => {
      const axis = svg.querySelector('g.axis-x path.domain').getBoundingClientRect();
      const bars = Array.from(svg.querySelectorAll('g.gf-layer rect.gf-max'), (r: any) => r.getBoundingClientRect()).map((b: any) => [b.left, b.right]);
      return { axis: [axis.left, axis.right], bars };
    });
    const [from, to] = [geo.bars[0][0], geo.bars[geo.bars.length - 1][1]];
    assert.ok(from >= geo.axis[0] && to <= geo.axis[1], `bars ${from}…${to} within the axis ${geo.axis}`);
    assert.ok(Math.abs((from + to) / 2 - (geo.axis[0] + geo.axis[1]) / 2) < 2, `the bars are centred: ${from}…${to} on ${geo.axis}`);
    geo.bars.slice(1).forEach((b, i) => assert.ok(b[0] > geo.bars[i][1], `bar ${i + 1} after bar ${i}`));
    const rows = await p.page.$$eval(`${q('activation-table')} tbody tr`, (trs: any[]) => trs.map((tr) => Array.from(tr.children, (td: any) => td.textContent)));
    assert.deepEqual(rows, last.layers.map((l) => [l.name, l.activation ?? 'none', formatNumber(l.output!.mean!), formatNumber(l.output!.std!), percent(l.saturated), percent(l.dead), formatNumber(l.updateRatio!)]));
    assert.equal(rows[0][1], 'relu');
    // the update/weight ratio of every layer at a logged step is there, and healthy here: not marked
    assert.ok(last.layers.every((l) => typeof l.updateRatio === 'number' && l.updateRatio > 1e-4 && l.updateRatio < 0.1), JSON.stringify(last.layers.map((l) => l.updateRatio)));
    assert.equal(await count(p, `${q('activation-table')} td[data-col="update/weight"].warn`), 0);

    // histograms: 30 ridges over the whole run (the first logged step, the newest, evenly spaced
    // between), newest in front; the slider picks the step
    const logged = t.result.layers;
    assert.ok(logged.length > 30, `${logged.length} logged steps: more than the histogram shows`);
    const window = Array.from({ length: 30 }, (_, i) => logged[Math.round((i * (logged.length - 1)) / 29)]);
    assert.equal(window[0].step, 1, 'initialization (the first step) is still shown after training');
    const ridges = () => p.page.$$eval('path.hist-ridge', (els: any[]) => els.map((e) => Number(e.dataset.step)));
    assert.deepEqual(await ridges(), window.map((h) => h.step));
    const hist = `${q('histograms')} svg`;
    assert.equal(Number(await attr(p, hist, 'data-selected-step')), 60);
    const w0 = window.map((h) => h.layers[0].weight!.histogram);
    near(Number(await attr(p, hist, 'data-x-min')), Math.min(...w0.map((h) => h.lo)), 'the x axis covers the window');
    near(Number(await attr(p, hist, 'data-x-max')), Math.max(...w0.map((h) => h.hi)), 'the x axis covers the window');
    await p.page.$eval(q('hist-step'), (e: any) => { e.value = '0'; e.dispatchEvent(new Event('input', { bubbles: true })); });
    await p.page.waitForSelector(`${hist}[data-selected-step="${window[0].step}"]`);
    assert.equal(await text(p, 'hist-step-label'), String(window[0].step));
    assert.equal(await count(p, `path.hist-ridge.selected[data-step="${window[0].step}"]`), 1);
    assert.match(await text(p, 'hist-caption'), new RegExp(`^step ${window[0].step} · 32 values · mean `));
    await p.page.screenshot({ path: screenshotPath('training-moons-dark') });
    await assertReadable(p);

    await p.page.selectOption(q('hist-mode'), 'overlay');
    await p.page.selectOption(q('hist-quantity'), 'gradients');
    await p.page.selectOption(q('hist-scale'), 'log');
    await p.page.selectOption(q('hist-layer'), 'model.layers.2');
    await p.page.waitForSelector(`${hist}[data-mode="overlay"][data-scale="log"]`);
    const g2 = window.map((h) => h.layers[1].weightGrad!.logHistogram);
    const lo2 = Math.min(...g2.map((h) => h.lo));
    await p.page.waitForFunction(([s, v]: [string, number]) => Math.abs(Number(document.querySelector(s)?.dataset.xMin) - v) < 1e-9, [hist, lo2] as [string, number]);
    near(Number(await attr(p, hist, 'data-x-min')), lo2, 'log |∂L/∂W| window');
    near(Number(await attr(p, hist, 'data-x-max')), Math.max(...g2.map((h) => h.hi)), 'log |∂L/∂W| window');
    assert.equal((await ridges()).length, window.length);
    assert.equal(Number(await attr(p, hist, 'data-selected-step')), window[0].step, 'the picked step stays');
    await assertReadable(p);
  });

  it('a real run at the default width (620 px) and maximized (1280 px), in light, dark and high contrast: readable, screenshots', async () => {
    const o = { steps: 60 };
    const t = await train('moons', o);
    for (const theme of ['light', 'dark', 'high-contrast'] as const) {
      for (const width of [620, 1280]) {
        const p = await trainingPanel('moons', { theme, viewport: { width, height: 2400 } });
        await deliver(p, 1, t, o);
        await p.page.waitForSelector(`${q('histograms')} svg path.hist-ridge`);
        assert.equal(await text(p, 'train-status'), 'step 60 / 60 · done');
        await assertReadable(p);
        await p.page.screenshot({ path: screenshotPath(`training-moons-${width}-${theme}`) });
      }
    }
  });

  it('a new run id starts over and keeps the previous runs as compare lines (at most 4)', async () => {
    const p = await trainingPanel('moons', { theme: 'light', viewport: { width: 1280, height: 1500 } });
    const o1 = { steps: 60 };
    const t1 = await train('moons', o1);
    await deliver(p, 1, t1, o1);
    // reset: the host ends the run and reports a new, idle one
    await p.send({ type: 'trainStatus', runId: 2, status: 'idle', step: 0, total: 60, overrides: {} });
    await p.page.waitForSelector(`${q('training-view')}[data-run-id="2"]`, { state: 'attached' });
    assert.equal(await count(p, 'path.loss-train'), 0, 'the new run has no loss yet');
    assert.equal(await count(p, 'path.loss-compare'), 1);
    assert.equal(Number(await attr(p, 'path.loss-compare', 'data-points')), t1.result.history.length);
    assert.match(await text(p, 'train-status'), /^step 0 \/ 60 · idle$/);

    const o2: TrainOverrides = { optimizer: 'sgd', lr: 0.1, steps: 40 };
    const t2 = await train('moons', o2);
    await deliver(p, 3, t2, o2);
    assert.equal(Number(await attr(p, 'path.loss-train', 'data-points')), t2.result.history.length);
    assert.equal(await count(p, 'path.loss-compare'), 1, 'the idle run left no line');
    assert.equal(Number(await attr(p, `${q('loss-chart')} svg`, 'data-x-max')), 60, 'the axis spans the compared run');
    assert.equal((await p.page.$$eval('path.hist-ridge', (els: any[]) => els.length)), Math.min(30, t2.result.layers.length), 'histograms of the new run only');
    const legend = await text(p, 'loss-legend');
    assert.match(legend, /adam · lr 0\.01/);
    await p.page.screenshot({ path: screenshotPath('training-compare-light') });
    await assertReadable(p);

    // hide, show, remove
    await p.page.click(`${q('loss-legend')} ${q('compare-toggle')}`);
    await p.page.waitForFunction(() => document.querySelectorAll('path.loss-compare').length === 0);
    await p.page.click(`${q('loss-legend')} ${q('compare-toggle')}`);
    await p.page.waitForFunction(() => document.querySelectorAll('path.loss-compare').length === 1);
    await p.page.click(`${q('loss-legend')} ${q('compare-remove')}`);
    await p.page.waitForFunction(() => document.querySelectorAll('path.loss-compare').length === 0 && !document.querySelector('.lg-compare'));

    // more runs: only the last four are kept, labelled by optimizer and learning rate
    for (let runId = 4; runId <= 8; runId++) await deliver(p, runId, t2, o2);
    // runs 3‥7 are kept (run 8 is the current one); the oldest, run 3, made way
    assert.equal(await count(p, 'path.loss-compare'), 4);
    assert.deepEqual(await p.page.$$eval('.lg-compare', (els: any[]) => els.map((e) => e.textContent.trim())), ['sgd · lr 0.1 · 40 steps (2)', 'sgd · lr 0.1 · 40 steps (3)', 'sgd · lr 0.1 · 40 steps (4)', 'sgd · lr 0.1 · 40 steps (5)']);
  });

  it('after the file changes the view says so and offers to train the new version; the compared runs are labelled by file version', async () => {
    const p = await panel({ theme: 'light', viewport: { width: 620, height: 900 } });
    const moons = traced.moons.snapshot;
    await p.showSnapshot({ ...moons, sourceHash: '0000000a' }, 1);
    await p.page.click(q('view-training'));
    await p.page.waitForSelector(`${q('training-view')}[data-file-version="1"]`);
    const o = { steps: 20 };
    const t = await train('moons', o);
    await deliver(p, 1, t, o);
    assert.equal(await p.page.isVisible(q('file-changed')), false);
    // the same text traced again (Re-run): still version 1
    await p.showSnapshot({ ...moons, sourceHash: '0000000a' }, 2);
    assert.equal(await attr(p, q('training-view'), 'data-file-version'), '1');
    assert.equal(await p.page.isVisible(q('file-changed')), false);
    // a saved edit: version 2, and the finished run is of version 1
    await p.showSnapshot({ ...moons, sourceHash: '0000000b' }, 3);
    await p.page.waitForSelector(`${q('file-changed')}:not([hidden])`);
    assert.match(await text(p, 'file-changed'), /The file changed since this run started \(it trains version 1; the file is at version 2\)/);
    const before = (await trainMessages(p)).length;
    await p.page.click(q('file-changed-rerun'));
    const sent = (await trainMessages(p)).slice(before);
    assert.deepEqual(sent.map((m) => m.action), ['reset', 'run']);
    await p.page.screenshot({ path: screenshotPath('training-file-changed-light') });
    // the new run trains version 2: the notice goes, the old run is labelled with its version
    await deliver(p, 4, t, o);
    assert.equal(await p.page.isVisible(q('file-changed')), false);
    assert.deepEqual(await p.page.$$eval('.lg-compare', (els: any[]) => els.map((e) => e.textContent.trim())), ['file v1 · adam · lr 0.01 · 20 steps']);
  });

  it('one parameter: the trace card draws the loss against x with the iterates of the run on it (x ← 0.6·x on x²)', async () => {
    // the report a finished run of examples/07 gives, from the model worker
    const run = await runner.train(traced.quadratic.file, { keepAlive: true, progressMs: 0 });
    const done = await run.done;
    assert.ok(done.ok);
    const answer = await run.inspect({ kind: 'trace' });
    run.cancel();
    assert.ok(answer.ok && 'result' in answer && answer.result.kind === 'trace');
    const report = answer.result.report;
    // gradient descent on x² with lr 0.2 multiplies x by 0.6 each step, from 10
    assert.equal(report.iterates.length, 11);
    report.iterates.forEach((it, t) => {
      assert.equal(it.step, t);
      assert.ok(Math.abs(it.theta - 10 * 0.6 ** t) <= 1e-5 * 10 * 0.6 ** t, `step ${t}: x = ${it.theta}`);
      assert.ok(Math.abs(it.loss! - it.theta ** 2) <= 1e-6 * it.theta ** 2 + 1e-12, `step ${t}: loss ${it.loss} vs x² ${it.theta ** 2}`);
    });
    report.xs.forEach((x, i) => assert.ok(Math.abs(report.ys[i]! - x * x) <= 1e-5 * Math.max(1, x * x), `curve at ${x}`));
    const p = await trainingPanel('quadratic', { theme: 'dark', viewport: { width: 620, height: 1200 } });
    await p.page.waitForSelector(`${q('trace')}:not([hidden])`);
    await p.page.click(q('trace-run'));
    const sent = (await p.posted()).filter((m) => m.type === 'analyze').pop() as Extract<WebviewMessage, { type: 'analyze' }>;
    assert.deepEqual(sent.request, { kind: 'trace' });
    await p.send({ type: 'analysis', requestId: sent.requestId, result: answer.result });
    await p.page.waitForSelector(`${q('trace-plot')}:not([hidden]) circle.trace-iterate`);
    const steps = await p.page.$$eval(`${q('trace-plot')} circle.trace-iterate`, (cs: any[]) => cs.map((c) => Number(c.dataset.step)));
    assert.deepEqual(steps, report.iterates.map((it) => it.step));
    assert.equal(Number(await attr(p, `${q('trace-plot')} path.trace-steps`, 'data-points')), 11);
    assert.match(await text(p, 'trace-status'), /^x: 10 → 0\.060\d* in 10 drawn steps; loss 100 → /);
    await p.page.locator(q('trace')).screenshot({ path: screenshotPath('trace-quadratic-dark') });
    // a model of many parameters has no trace card
    const m = await trainingPanel('moons');
    assert.equal(await m.page.isVisible(q('trace')), false);
  });

  it('the digits CNN (examples/15, 40 steps): per-layer histograms of the conv filters and gradient flow through cnn.conv1, cnn.conv2 and cnn.head (light)', async () => {
    const p = await trainingPanel('digits', { theme: 'light', viewport: { width: 620, height: 1600 } });
    const o = { steps: 40 };
    const t = await train('digits', o);
    await deliver(p, 1, t, o);
    const layers = await p.page.$$eval(`${q('grad-flow')} g.gf-layer`, (gs: any[]) => gs.map((g) => g.dataset.layer));
    assert.deepEqual(layers, ['cnn.conv1', 'cnn.conv2', 'cnn.head']);
    await p.page.selectOption(q('hist-layer'), 'cnn.conv1');
    await p.page.waitForSelector(`${q('histograms')} path.hist-ridge`);
    const ridges = await count(p, `${q('histograms')} path.hist-ridge`);
    assert.equal(ridges, Math.min(30, t.result.layers.length));
    assert.match(await text(p, 'hist-caption'), /· 72 values ·/); // cnn.conv1's weight: 8 filters × 1 channel × 3 × 3
    await p.page.locator(q('grad-flow')).scrollIntoViewIfNeeded();
    await p.page.screenshot({ path: screenshotPath('training-digits-cnn-light'), fullPage: true });
    await assertReadable(p);
  });

  it('draws bursts of progress once per frame', async () => {
    const p = await trainingPanel('moons');
    const o = { steps: 60 };
    const t = await train('moons', o);
    const before = Number(await attr(p, q('training-view'), 'data-renders'));
    // one report per step, as a slow model's run sends them (a fast machine fits the 60 steps in a report or two)
    const perStep: TrainProgress[] = t.reports.flatMap((r) => r.history.map((h, i) => {
      const prev = i === 0 ? -Infinity : r.history[i - 1].step;
      const last = i === r.history.length - 1;
      return { ...r, step: last ? r.step : h.step + 1, history: [h], layers: r.layers.filter((l) => l.step > prev && (last || l.step <= h.step)) };
    }));
    assert.deepEqual(perStep.flatMap((r) => r.layers.map((l) => l.step)), t.reports.flatMap((r) => r.layers.map((l) => l.step)), 'every layer summary is sent once');
    const messages: HostMessage[] = perStep.map((progress) => ({ type: 'trainProgress', runId: 1, progress }));
    assert.equal(messages.length, t.result.history.length);
    await p.page.evaluate((ms: unknown[]) => { for (const m of ms) (globalThis as any).postMessage(m, '*'); }, messages as unknown[]);
    await p.page.waitForSelector(`${q('training-view')}[data-history="${t.result.history.length}"]`, { state: 'attached' });
    const renders = Number(await attr(p, q('training-view'), 'data-renders')) - before;
    assert.ok(renders < messages.length, `${messages.length} messages drawn in ${renders} frames`);
  });

  it('the vanishing example: the diagnosis names the layer and its fixes, and opens the line that made it', async () => {
    const p = await trainingPanel('vanishing', { theme: 'dark', viewport: { width: 1280, height: 1500 } });
    // before training: the traced step's finding
    await p.page.waitForSelector(`${q('diagnosis')} li.finding[data-code="vanishing-gradient"]`);
    const o = { steps: 20 };
    const t = await train('vanishing', o);
    await deliver(p, 1, t, o);
    const f = t.result.diagnosis.find((d) => d.code === 'vanishing-gradient');
    assert.ok(f, JSON.stringify(t.result.diagnosis));
    const item = `${q('diagnosis')} li.finding[data-code="vanishing-gradient"]`;
    assert.equal(await attr(p, item, 'data-layer'), 'deep.layers.0');
    assert.equal(await p.page.locator(`${item} .finding-message`).innerText(), f.message);
    assert.match(await p.page.locator(`${item} .finding-meta`).innerText(), /layer deep\.layers\.0 · step 20 · line \d+/);
    assert.deepEqual(await p.page.$$eval(`${item} .finding-fixes li`, (els: any[]) => els.map((e) => e.textContent)), f.fixes.map((x) => x.title));
    assert.ok(f.fixes.some((x) => x.id === 'use-relu'));
    assert.equal(await count(p, `${item} i.codicon-warning`), 1);
    await p.page.click(item);
    const reveal = (await p.posted()).filter((m) => m.type === 'revealSource').pop();
    assert.deepEqual(reveal, { type: 'revealSource', file: traced.vanishing.file, line: lineOf(traced.vanishing.source, 'hidden.push(nn.linear'), column: f.source!.column });
    // gradient flow: seven layers, falling off toward the input
    const means = await p.page.$$eval(`${q('grad-flow')} g.gf-layer`, (els: any[]) => els.map((g) => Number(g.dataset.mean)));
    assert.equal(means.length, 7);
    assert.ok(means[0] < means[6] / 100, `mean |grad| ${means.join(', ')}`);
    assert.equal(await count(p, `${q('activation-table')} tbody tr`), 7);
    // the update/weight ratio of a layer out of the healthy range is marked, and only such a layer's
    const lastLogged = t.result.layers[t.result.layers.length - 1].layers;
    const ratios = lastLogged.map((l) => l.updateRatio);
    const marked = await p.page.$$eval(`${q('activation-table')} td[data-col="update/weight"]`, (tds: any[]) => tds.map((td) => td.classList.contains('warn')));
    assert.deepEqual(marked, ratios.map((r) => typeof r === 'number' && (r > THRESHOLDS.updateRatioHigh || r < THRESHOLDS.updateRatioLow)), `ratios ${ratios.join(', ')}`);
    assert.ok(marked[0], `the input layer, whose gradient vanished, barely moves: ${ratios[0]}`);
    await p.page.screenshot({ path: screenshotPath('training-vanishing-dark') });
    await assertReadable(p);
  });

  it('a zero-initialized network: the symmetric-units and loss-plateau findings of a real run, with their fixes', async () => {
    const p = await trainingPanel('symmetric', { theme: 'light', viewport: { width: 620, height: 1500 } });
    const o = { steps: 200 };
    const t = await train('symmetric', o);
    await deliver(p, 1, t, o);
    for (const code of ['symmetric-units', 'loss-plateau']) {
      const f = t.result.diagnosis.find((d) => d.code === code);
      assert.ok(f, `${code} in ${t.result.diagnosis.map((d) => d.code).join()}`);
      const item = `${q('diagnosis')} li.finding[data-code="${code}"]`;
      assert.equal(await p.page.locator(`${item} .finding-message`).innerText(), f.message);
      assert.deepEqual(await p.page.$$eval(`${item} .finding-fixes li`, (els: any[]) => els.map((e) => e.textContent)), f.fixes.map((x) => x.title));
    }
    await p.page.locator(q('diagnosis')).screenshot({ path: screenshotPath('training-symmetric-light') });
    await assertReadable(p);
  });

  it('renders layer names, findings and fixes from the host as text', async () => {
    const p = await trainingPanel('moons');
    const evil = '<img src=x onerror="window.__pwned=1">';
    const stats = t0LayerStats();
    await p.send({
      type: 'trainProgress', runId: 1, progress: {
        step: 1, total: 2, stepsPerSecond: 1, paused: true,
        history: [{ step: 1, loss: 0.5, lr: 0.01, gradNorm: 1 }],
        layers: [{ step: 1, layers: [{ ...stats, name: evil }] }],
        findings: [{ code: 'dead-relu', severity: 'warning', message: evil, node: null, layer: evil, step: 1, fixes: [{ id: 'lower-lr', title: evil }], source: null }],
      },
    });
    await p.page.waitForSelector(`${q('training-view')}[data-history="1"]`, { state: 'attached' });
    assert.equal(await p.page.locator(`${q('diagnosis')} .finding-message`).innerText(), evil);
    assert.equal(await p.page.locator(`${q('diagnosis')} .finding-fixes li`).innerText(), evil);
    assert.equal(await p.page.locator(`${q('activation-table')} tbody td`).first().innerText(), evil);
    assert.equal(await count(p, `${q('training-view')} img`), 0);
    assert.equal(await p.page.evaluate(() => (globalThis as any).__pwned), undefined);
  });

  it('shows long and bidi-controlled layer names cut and escaped: table, gradient flow, histograms, findings', async () => {
    const p = await trainingPanel('moons');
    // a right-to-left override would show "layer" reversed and reorder what follows it
    const name = `\u202Eenil.${'block.'.repeat(60)}fc`;
    const stats = t0LayerStats();
    await p.send({
      type: 'trainProgress', runId: 1, progress: {
        step: 1, total: 2, stepsPerSecond: 1, paused: true,
        history: [{ step: 1, loss: 0.5, lr: 0.01, gradNorm: 1 }],
        layers: [{ step: 1, layers: [{ ...stats, name }, { ...stats, name: `${name}2`, depth: stats.depth + 1 }] }],
        findings: [{ code: 'dead-relu', severity: 'warning', message: `Layer ${name} is dead.`, node: null, layer: name, step: 1, fixes: [], source: null }],
      },
    });
    await p.page.waitForSelector(`${q('training-view')}[data-history="1"]`, { state: 'attached' });
    const texts: string[] = await p.page.evaluate(() => {
      const view = document.querySelector('[data-testid="training-view"]')!;
      const out: string[] = [];
      for (const e of view.querySelectorAll('td, text, option, .finding-message, .finding-meta, title')) out.push(e.textContent ?? '');
      return out;
    });
    const RAW_BIDI = /[\u202A-\u202E\u2066-\u2069]/;
    assert.deepEqual(texts.filter((t) => RAW_BIDI.test(t)), [], 'no raw bidirectional control anywhere');
    assert.equal(await p.page.locator(`${q('activation-table')} tbody td`).first().innerText(), clusterText(name));
    assert.ok(clusterText(name).startsWith('\\u202E') && clusterText(name).endsWith('…'));
    assert.ok(texts.some((t) => t.includes('\\u202Eenil.block.')), 'the escaped name is shown');
    await assertReadable(p);
  });

  /** The traced step's first layer, as a template for synthetic layer summaries. */
  const t0LayerStats = () => traced.moons.snapshot.layers![0];

  for (const theme of ['light', 'high-contrast'] as ThemeName[]) {
    it(`stays readable in a narrow panel (${theme})`, async () => {
      const p = await trainingPanel('vanishing', { theme, viewport: { width: 560, height: 2200 } });
      const o = { steps: 20 };
      await deliver(p, 1, await train('vanishing', o), o);
      await assertReadable(p);
      await p.page.screenshot({ path: screenshotPath(`training-narrow-${theme}`), fullPage: true });
    });
  }
});
