/**
 * The training view's analysis tools and the graph that follows training, in Chromium with the real
 * bundle and CSP. The reports come from the real worker (a paused, kept-alive training run of the
 * moons example), so the cards draw exactly what the host would send.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnalysisRequest, AnalysisResult, GraphSnapshot, WebviewMessage } from '../../extension/protocol';
import { ModelRunner, type TrainingRun } from '../../extension/runner/runner';
import type { InspectOutcome } from '../../extension/runner/types';
import { formatNumber } from '../../engine/format';
import { ROOT, screenshotPath, traceModels, usePanels, type PanelPage } from './harness';
import type { ThemeName } from './themes';

const THEMES: ThemeName[] = ['dark', 'light', 'high-contrast'];

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const q = (testId: string) => `[data-testid="${testId}"]`;
const count = (p: PanelPage, selector: string) => p.page.$$eval(selector, (els: any[]) => els.length);
const analyzeMessages = async (p: PanelPage) => (await p.posted()).filter((m): m is Extract<WebviewMessage, { type: 'analyze' }> => m.type === 'analyze');

function resultOf(o: InspectOutcome): AnalysisResult {
  if (!o.ok) assert.fail(o.error.message);
  if (!('result' in o)) assert.fail('expected an analysis result');
  return o.result;
}

describe('webview: analysis tools and the graph that follows training', function () {
  const panel = usePanels();
  let runner: ModelRunner;
  let run: TrainingRun;
  let moons: GraphSnapshot;
  const reports: Partial<Record<'gradcheck' | 'landscape' | 'playground' | 'boundary' | 'momentum', AnalysisResult>> = {};
  const MOMENTUM: Extract<AnalysisRequest, { kind: 'playground' }> = {
    kind: 'playground', surface: 'bowl', steps: 60,
    runs: [{ optimizer: 'sgd', lr: 0.05 }, { optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: false }, { optimizer: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }],
  };
  let stepGraph: { step: number; snapshot: GraphSnapshot };
  const PLAYGROUND: Extract<AnalysisRequest, { kind: 'playground' }> = {
    kind: 'playground', surface: 'rosenbrock', steps: 200,
    runs: [{ optimizer: 'sgd', lr: 0.05 }, { optimizer: 'rmsprop', lr: 0.01 }, { optimizer: 'adam', lr: 0.1 }],
  };

  before(async function () {
    this.timeout(240_000);
    const source = fs.readFileSync(path.join(ROOT, 'examples', '08-moons-mlp.ts'), 'utf8');
    moons = (await traceModels({ moons: source })).moons.snapshot;
    runner = new ModelRunner(path.join(ROOT, 'dist'));
    let reached: (() => void) | null = null;
    run = await runner.train(path.join(ROOT, 'examples', '08-moons-mlp.ts'), {
      paused: true, keepAlive: true, progressMs: 0,
      onProgress: (pr) => {
        if (pr.step === 25 && pr.paused) reached?.();
      },
    });
    reports.gradcheck = resultOf(await run.inspect({ kind: 'gradcheck' }));
    reports.landscape = resultOf(await run.inspect({ kind: 'landscape', twoD: true, range: 1, seed: 0 }));
    reports.playground = resultOf(await run.inspect(PLAYGROUND));
    reports.momentum = resultOf(await run.inspect(MOMENTUM));
    const stepped = new Promise<void>((resolve) => (reached = resolve));
    run.step(25);
    await stepped;
    reports.boundary = resultOf(await run.inspect({ kind: 'boundary' }));
    const g = await run.inspect({ kind: 'graph' });
    if (!g.ok || !('graph' in g)) assert.fail('no graph');
    stepGraph = g.graph;
  });

  after(() => {
    run?.cancel();
    runner?.dispose();
  });

  async function trainingPanel(opts: Parameters<typeof panel>[0] = {}): Promise<PanelPage> {
    const p = await panel(opts);
    await p.showSnapshot(moons, 1);
    await p.page.click(q('view-training'));
    await p.page.waitForSelector(`#app[data-view="training"] ${q('training-view')}[data-renders]`);
    return p;
  }

  /** Clicks a tool's button and answers the request it posted with `result`. */
  async function runTool(p: PanelPage, button: string, result: AnalysisResult | null, error?: { message: string; line: number }): Promise<Extract<WebviewMessage, { type: 'analyze' }>> {
    const before = (await analyzeMessages(p)).length;
    await p.page.click(q(button));
    const sent = await waitFor(async () => (await analyzeMessages(p))[before]);
    await p.send({ type: 'analysis', requestId: sent.requestId, result, ...(error ? { error: { kind: 'runtime', file: '/w/08-moons-mlp.ts', line: error.line, column: 1, message: error.message } } : {}) });
    return sent;
  }

  async function waitFor<T>(f: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < 200; i++) {
      const v = await f();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 25)); // polling the page's posted messages
    }
    throw new Error('timed out');
  }

  it('gradient check: the button asks for it; the table shows every parameter, and a failing one is marked in the graph', async () => {
    const p = await trainingPanel({ theme: 'dark' });
    const report = reports.gradcheck!;
    assert.ok(report.kind === 'gradcheck');
    const sent = await runTool(p, 'gradcheck-run', report);
    assert.deepEqual(sent.request, { kind: 'gradcheck' });
    await p.page.waitForSelector(`${q('gradcheck-table')} tbody tr[data-param]`);
    const rows = await p.page.$$eval(`${q('gradcheck-table')} tbody tr`, (trs: any[]) => trs.map((tr) => ({ param: tr.dataset.param, failed: tr.dataset.failed ?? null, text: tr.textContent })));
    assert.deepEqual(rows.map((r) => r.param), report.report.params.map((x) => x.name));
    assert.ok(rows.every((r) => r.failed !== 'true' && /pass/.test(r.text)), JSON.stringify(rows));
    assert.match(await p.page.innerText(q('gradcheck-status')), new RegExp(`All ${report.report.params.length} parameters pass at step 0`));
    await p.page.locator(q('gradcheck')).screenshot({ path: screenshotPath('gradcheck-pass-dark') });

    // the same report with the second layer's weight failing
    const failing: AnalysisResult = { kind: 'gradcheck', report: { ...report.report, passed: false, params: report.report.params.map((x, i) => (i === 2 ? { ...x, passed: false, maxRelError: 0.5 } : x)) } };
    await runTool(p, 'gradcheck-run', failing);
    const bad = `${q('gradcheck-table')} tbody tr[data-failed="true"]`;
    await p.page.waitForSelector(bad);
    assert.equal(await count(p, bad), 1);
    assert.equal(await p.page.getAttribute(bad, 'data-param'), 'model.layers.2.weight');
    assert.match(await p.page.innerText(q('gradcheck-status')), /1 of 4 parameters fail/);
    // clicking the failing row shows that parameter in the graph, outlined as failed
    await p.page.click(bad);
    await p.page.waitForSelector('#app[data-view="graph"]');
    const marked = await p.page.$$eval('g.node.gradcheck-fail', (gs: any[]) => gs.map((g) => g.dataset.name));
    assert.deepEqual(marked, ['weight']);
    assert.equal(await p.page.$eval('g.node.gradcheck-fail', (g: any) => g.classList.contains('selected')), true, 'and selected');
    await p.page.screenshot({ path: screenshotPath('gradcheck-fail-graph-dark') });
  });

  it('loss landscape: the request carries the inputs; the 1-D slice and the 2-D map are drawn from the report', async () => {
    const p = await trainingPanel({ theme: 'light' });
    const r = reports.landscape!;
    assert.ok(r.kind === 'landscape');
    await p.page.fill(q('landscape-range'), '1');
    await p.page.fill(q('landscape-seed'), '0');
    const sent = await runTool(p, 'landscape-run', r);
    assert.deepEqual(sent.request, { kind: 'landscape', twoD: true, range: 1, seed: 0 });
    await p.page.waitForSelector(`${q('landscape-1d')} path.landscape-line`);
    assert.equal(Number(await p.page.getAttribute(`${q('landscape-1d')} path.landscape-line`, 'data-points')), r.report.losses1d.filter(Number.isFinite).length);
    assert.equal(await count(p, `${q('landscape-2d')} rect.landscape-cell`), r.report.betas!.length ** 2);
    assert.equal(r.report.losses2d!.flat().length, r.report.betas!.length ** 2);
    assert.ok(await count(p, `${q('landscape-2d')} path.landscape-contour`) >= 3, 'contour lines');
    assert.equal(await count(p, `${q('landscape-1d')} circle.landscape-center`), 1);
    assert.match(await p.page.innerText(q('landscape-status')), /step 0/);
    await p.page.locator(q('landscape')).screenshot({ path: screenshotPath('landscape-light') });

    // an error from the host is shown as text, with the file and line
    await p.page.uncheck(q('landscape-2d-toggle'));
    const again = await runTool(p, 'landscape-run', null, { message: 'The model threw <b>boom</b>', line: 12 });
    assert.equal((again.request as { twoD: boolean }).twoD, false);
    await p.page.waitForFunction((sel: string) => /boom/.test(document.querySelector(sel)?.textContent ?? ''), q('landscape-status'));
    const status = await p.page.innerText(q('landscape-status'));
    assert.match(status, /08-moons-mlp\.ts:12: The model threw <b>boom<\/b>/);
    assert.equal(await count(p, `${q('landscape')} b`), 0, 'user text is never markup');
  });

  it('optimizer playground: the chosen optimizers and surface are sent; the trajectories and verdicts are drawn', async () => {
    const p = await trainingPanel({ theme: 'dark' });
    const r = reports.playground!;
    assert.ok(r.kind === 'playground');
    await p.page.selectOption(q('playground-surface'), 'rosenbrock');
    await p.page.fill(q('playground-steps'), '200');
    for (const { optimizer, lr } of PLAYGROUND.runs) {
      await p.page.check(q(`playground-opt-${optimizer}`));
      await p.page.fill(q(`playground-lr-${optimizer}`), String(lr));
    }
    const sent = await runTool(p, 'playground-run', r);
    assert.deepEqual(sent.request, PLAYGROUND);
    await p.page.waitForSelector(`${q('playground-plot')} path.trajectory`);
    const paths = await p.page.$$eval(`${q('playground-plot')} path.trajectory`, (ps: any[]) => ps.map((x) => ({ opt: x.dataset.optimizer, points: Number(x.dataset.points) })));
    assert.deepEqual(paths, r.report.trajectories.map((t) => ({ opt: t.optimizer, points: t.points.length })));
    assert.ok(await count(p, `${q('playground-plot')} path.pg-contour`) >= 5, 'contours of the surface');
    const kinds = await p.page.$$eval(`${q('playground-verdicts')} td.pg-kind`, (tds: any[]) => tds.map((td) => td.dataset.kind));
    assert.deepEqual(kinds, r.report.trajectories.map((t) => t.end.kind));
    // the curvature at the start against the step: Rosenbrock's Hessian at (x, y) is
    // [[2 − 400(y − 3x²), −400x], [−400x, 200]]; gradient descent is stable for η < 2/λmax
    const [x0, y0] = r.report.start;
    const [a, b, c] = [2 - 400 * (y0 - 3 * x0 * x0), -400 * x0, 200];
    const lmax = (a + c) / 2 + Math.hypot((a - c) / 2, b);
    const got = r.report.startEigenvalues!;
    assert.ok(Math.abs(Math.max(...got) / lmax - 1) < 1e-6, `λmax ${Math.max(...got)} vs ${lmax}`);
    const num = (v: number) => formatNumber(v).replace(/^-/, '−').replace('e-', 'e−'); // the cards' number text
    const status = await p.page.innerText(q('playground-status'));
    assert.ok(status.includes(`λmax = ${num(Math.max(...got))}`) && status.includes(`2/λmax = ${num(2 / Math.max(...got))}; sgd at lr 0.05 is above it`), status);
    const lrCells = await p.page.$$eval(`${q('playground-verdicts')} td[data-col="lr"]`, (tds: any[]) => tds.map((td) => td.classList.contains('warn')));
    assert.deepEqual(lrCells, r.report.trajectories.map((t) => t.optimizer === 'sgd' && t.lr > 2 / lmax));
    // sgd diverges (off to 1e130): its path leaves through the plot's edge, clipped there, and its
    // end is not drawn on the edge as if it were there; the ends that are on the plot are inside it
    const geometry = await p.page.evaluate(() => {
      const svg = document.querySelector('[data-testid="playground-plot"]');
      const marks = svg.querySelector('path.trajectory').parentElement.parentElement.parentElement;
      const clip = svg.querySelector(`${(marks.getAttribute('clip-path') ?? '').replace(/^url\((.*)\)$/, '$1')} rect`);
      // the clip rectangle in the svg's user space (its viewBox is its size: one unit is one pixel)
      const o = svg.getBoundingClientRect();
      const [cx, cy, cw, ch] = ['x', 'y', 'width', 'height'].map((k) => Number(clip.getAttribute(k)));
      const plot = { left: o.left + cx, right: o.left + cx + cw, top: o.top + cy, bottom: o.top + cy + ch };
      const ends = [...svg.querySelectorAll('circle.pg-end')].map((c: any) => {
        const b = c.getBoundingClientRect();
        return { opt: c.dataset.optimizer, hidden: c.hasAttribute('hidden'), x: b.left + b.width / 2, y: b.top + b.height / 2 };
      });
      const table = document.querySelector('[data-testid="playground-verdicts"]').getBoundingClientRect();
      const box = svg.getBoundingClientRect();
      return { plot: { left: plot.left, right: plot.right, top: plot.top, bottom: plot.bottom }, ends, svgRight: box.right, tableLeft: table.left, tableTop: table.top, svgBottom: box.bottom };
    });
    for (const e of geometry.ends) {
      const t = r.report.trajectories.find((tr) => tr.optimizer === e.opt)!;
      const [ex, ey] = t.end.point;
      const offPlot = !(Number.isFinite(ex) && Number.isFinite(ey)) || t.end.kind === 'diverged';
      if (offPlot) assert.ok(e.hidden, `${e.opt}'s end (${ex}, ${ey}) is off the plot: not drawn`);
      if (!e.hidden) {
        assert.ok(e.x >= geometry.plot.left - 0.5 && e.x <= geometry.plot.right + 0.5 && e.y >= geometry.plot.top - 0.5 && e.y <= geometry.plot.bottom + 0.5, `${e.opt}'s end at (${e.x}, ${e.y}) lies inside the plot ${JSON.stringify(geometry.plot)}`);
      }
    }
    assert.ok(geometry.ends.some((e) => e.opt === 'sgd' && e.hidden), 'the diverged sgd run has no end point on the plot');
    // the card spans the view: the table stands beside the plot, not under it
    assert.ok(geometry.tableLeft >= geometry.svgRight, `the table (left ${geometry.tableLeft}) beside the plot (right ${geometry.svgRight})`);
    assert.ok(geometry.tableTop < geometry.svgBottom, 'and level with it');
    await p.page.locator(q('playground')).screenshot({ path: screenshotPath('playground-dark') });
  });

  it('optimizer playground: plain sgd, heavy-ball momentum and Nesterov side by side, each labelled with its momentum', async () => {
    const p = await trainingPanel({ theme: 'light', viewport: { width: 620, height: 1400 } });
    await p.page.selectOption(q('playground-surface'), 'bowl');
    await p.page.fill(q('playground-steps'), '60');
    for (const name of ['rmsprop', 'adam']) await p.page.uncheck(q(`playground-opt-${name}`));
    for (const key of ['sgd', 'momentum', 'nesterov']) {
      await p.page.check(q(`playground-opt-${key}`));
      await p.page.fill(q(`playground-lr-${key}`), '0.05');
    }
    const r = reports.momentum as Extract<AnalysisResult, { kind: 'playground' }>;
    const sent = await runTool(p, 'playground-run', r);
    assert.deepEqual(sent.request, MOMENTUM);
    await p.page.waitForSelector(`${q('playground-plot')} path.trajectory`);
    const names = await p.page.$$eval(`${q('playground-verdicts')} .pg-name`, (ns: any[]) => ns.map((n) => n.textContent));
    assert.deepEqual(names, ['sgd', 'sgd (momentum 0.9)', 'sgd (momentum 0.9, Nesterov)']);
    const styles = await p.page.$$eval(`${q('playground-plot')} path.trajectory`, (ps: any[]) => ps.map((x) => x.getAttribute('class')));
    assert.deepEqual(styles, ['trajectory opt-sgd', 'trajectory opt-momentum', 'trajectory opt-nesterov']);
    // the three runs differ: momentum's path is not plain descent's
    assert.notDeepEqual(r.report.trajectories[1].points[5], r.report.trajectories[0].points[5]);
    // a momentum of 1 or more is refused before anything is sent
    await p.page.fill(q('playground-momentum-momentum'), '1');
    await p.page.waitForFunction((s: string) => /momentum of sgd, momentum must be above 0 and below 1/.test(document.querySelector(s)?.textContent ?? ''), `${q('playground')} .an-invalid`);
    await p.page.locator(q('playground')).screenshot({ path: screenshotPath('playground-momentum-light') });
  });

  it('the graph follows training: a trainGraph message shows the step\'s values, and says which step', async () => {
    const p = await panel({ theme: 'dark' });
    await p.showSnapshot(moons, 1);
    // the loss (the output node): a number that training moves
    const lossText = () => p.page.$eval(`g.node[data-key="n${moons.output}"] text.value`, (t: any) => t.textContent as string);
    const before = await lossText();
    await p.send({ type: 'trainGraph', runId: 1, step: stepGraph.step, snapshot: stepGraph.snapshot });
    await p.page.waitForSelector(`#app[data-train-step="${stepGraph.step}"]`);
    assert.equal(stepGraph.step, 25);
    assert.match(await p.page.innerText(q('status')), /at training step 25/);
    assert.equal(stepGraph.snapshot.output, moons.output, 'the same graph');
    // the graph is drawn after its layout: wait for the loss node to show another number
    await p.page.waitForFunction(([sel, old]: string[]) => { const t = document.querySelector(sel)?.textContent; return !!t && t !== old; }, [`g.node[data-key="n${moons.output}"] text.value`, before]);
    const after = await lossText();
    assert.ok(Number(after.replace('\u2212', '-')) < Number(before.replace('\u2212', '-')), `the loss fell: ${before} → ${after}`);
    // a new trace of the file goes back to the file's own graph
    await p.showSnapshot(moons, 2);
    assert.equal(await p.page.getAttribute('#app', 'data-train-step'), '');
  });

  it('decision boundary: Draw asks for it; the plane is coloured by the predicted class, as sure as the model is, with the training points', async () => {
    for (const theme of ['light', 'dark'] as const) {
      const p = await trainingPanel({ theme, viewport: { width: 620, height: 1200 } });
      const report = reports.boundary as Extract<AnalysisResult, { kind: 'boundary' }>;
      const r = report.report;
      assert.equal(r.step, 25);
      assert.equal(r.classes, 2);
      const sent = await runTool(p, 'boundary-run', report);
      assert.deepEqual(sent.request, { kind: 'boundary' });
      await p.page.waitForSelector(`${q('boundary-plot')}:not([hidden]) rect.boundary-cell`);
      const cells = await p.page.$$eval(`${q('boundary-plot')} rect.boundary-cell`, (rs: any[]) => rs.map((c) => ({ cls: c.getAttribute('class'), o: Number(c.getAttribute('fill-opacity')) })));
      assert.equal(cells.length, r.xs.length * r.ys.length);
      cells.forEach((c, i) => {
        assert.ok(c.cls.includes(`class-${r.cls[i]}`), `cell ${i}: ${c.cls} vs class ${r.cls[i]}`);
        assert.ok(Math.abs(c.o - (0.08 + 0.5 * Math.max(0, Math.min(1, (r.confidence[i] - 0.5) / 0.5)))) < 1e-9, `cell ${i}: opacity ${c.o} for confidence ${r.confidence[i]}`);
      });
      const labels = await p.page.$$eval(`${q('boundary-plot')} circle.boundary-point`, (cs: any[]) => cs.map((c) => Number(c.dataset.label)));
      assert.deepEqual(labels, r.points.map((pt) => pt[2]));
      assert.match(await p.page.innerText(q('boundary-status')), new RegExp(`^2 classes at step 25; .*${r.points.length} training examples`));
      await p.page.locator(q('boundary')).screenshot({ path: screenshotPath(`boundary-${theme}`) });
    }
    // data of more than two features: no card
    const p = await panel({ theme: 'dark' });
    const wide = { ...moons, training: { ...moons.training!, dataset: { ...moons.training!.dataset!, features: 64 } } };
    await p.showSnapshot(wide, 1);
    await p.page.click(q('view-training'));
    await p.page.waitForSelector(`${q('training-view')}[data-renders]`);
    assert.equal(await p.page.isVisible(q('boundary')), false);
  });

  it('Hessian: shown for a model of at most 64 values; Compute asks for it; every cell carries its number and sign, the summary the eigenvalues', async function () {
    this.timeout(120_000);
    const file = path.join(ROOT, 'examples', '10-xor-train.ts');
    const xor = (await traceModels({ xor: fs.readFileSync(file, 'utf8') })).xor.snapshot;
    const xorRun = await runner.train(file, { paused: true, keepAlive: true, progressMs: 0 });
    let report: Extract<AnalysisResult, { kind: 'hessian' }>;
    try {
      report = resultOf(await xorRun.inspect({ kind: 'hessian' })) as Extract<AnalysisResult, { kind: 'hessian' }>;
    } finally {
      xorRun.cancel();
    }
    const r = report.report;
    const n = r.names.length;
    assert.equal(n, xor.training!.parameters);
    for (const theme of ['light', 'high-contrast'] as const) {
      const p = await panel({ theme, viewport: { width: 620, height: 1400 } });
      await p.showSnapshot(xor, 1);
      await p.page.click(q('view-training'));
      await p.page.waitForSelector(`${q('training-view')}[data-renders]`);
      assert.equal(await p.page.isVisible(q('hessian')), true);
      const sent = await runTool(p, 'hessian-run', report);
      assert.deepEqual(sent.request, { kind: 'hessian' });
      await p.page.waitForSelector(`${q('hessian-matrix')} tbody td`);
      const cells = await p.page.$$eval(`${q('hessian-matrix')} tbody td`, (tds: any[]) => tds.map((td) => ({ cls: td.className, title: td.title })));
      assert.equal(cells.length, n * n);
      cells.forEach((c, k) => {
        const v = r.hessian[Math.floor(k / n)][k % n];
        assert.equal(c.cls, v > 0 ? 'pos' : v < 0 ? 'neg' : '', `cell ${k}`);
        assert.ok(c.title.endsWith(` = ${formatNumber(v).replace(/^-/, '−').replace('e-', 'e−')}`), `cell ${k}: ${c.title} vs ${v}`);
      });
      const status = await p.page.innerText(q('hessian-status'));
      const fmt = (v: number) => formatNumber(v).replace(/^-/, '−').replace('e-', 'e−');
      assert.ok(status.includes(`eigenvalues from ${fmt(r.eigenvalues[0])} to ${fmt(r.eigenvalues[n - 1])}`), status);
      assert.match(status, new RegExp(`^At step 0 \\(${n} parameter values`));
      await p.page.locator(q('hessian')).screenshot({ path: screenshotPath(`hessian-${theme}`) });
    }
    // the moons model has 65 values: no Hessian card
    const m = await trainingPanel();
    assert.equal(await m.page.isVisible(q('hessian')), false);
  });

  // narrow, the default width beside the editor, and maximized
  for (const theme of THEMES) for (const width of [360, 620, 1280]) {
    it(`the analysis cards stay readable at ${width} px (${theme})`, async () => {
      const p = await trainingPanel({ theme, viewport: { width, height: 900 } });
      for (const [button, kind] of [['gradcheck-run', 'gradcheck'], ['landscape-run', 'landscape'], ['playground-run', 'playground'], ['boundary-run', 'boundary']] as const) {
        await runTool(p, button, reports[kind]!);
      }
      await p.page.waitForSelector(`${q('boundary-plot')}:not([hidden]) rect.boundary-cell`);
      await p.page.waitForSelector(`${q('playground-plot')} path.trajectory`);
      await p.page.waitForSelector(`${q('landscape-2d')} rect.landscape-cell`);
      const problems: string[] = await p.page.evaluate(() => {
        const out: string[] = [];
        const inside = (b: any, r: any) => b.left >= r.left - 1 && b.right <= r.right + 1 && b.top >= r.top - 1 && b.bottom <= r.bottom + 1;
        for (const id of ['gradcheck', 'landscape', 'playground', 'boundary']) {
          const card = document.querySelector(`[data-testid="${id}"]`);
          if (card.scrollWidth > card.clientWidth + 1) out.push(`${id} is wider than its box (${card.scrollWidth} > ${card.clientWidth})`);
          // each row's name and verdict are on screen without scrolling sideways (the other columns may scroll)
          for (const wrap of card.querySelectorAll('.an-table-scroll')) {
            if (wrap.hidden) continue;
            const box = wrap.getBoundingClientRect();
            for (const td of wrap.querySelectorAll('tbody td:nth-child(-n+2)')) {
              const r = td.getBoundingClientRect();
              if (r.right > box.right + 1) out.push(`${id}: "${td.textContent}" (${td.dataset.col}) is off screen: its right edge at ${Math.round(r.right)} px, the table's box ends at ${Math.round(box.right)} px`);
            }
          }
          for (const svg of card.querySelectorAll('svg')) {
            const r = svg.getBoundingClientRect();
            for (const t of svg.querySelectorAll('text')) if (t.textContent && !inside(t.getBoundingClientRect(), r)) out.push(`${id}: "${t.textContent}" sticks out of its chart`);
          }
        }
        return out;
      });
      assert.deepEqual(problems, []);
      for (const id of ['gradcheck', 'landscape', 'playground', 'boundary']) await p.page.locator(q(id)).screenshot({ path: screenshotPath(`${id}-${width}-${theme}`) });
    });
  }
});
