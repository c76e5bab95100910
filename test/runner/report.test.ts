/**
 * The standalone report, as a user makes and opens it: `backprop-lens report FILE -o OUT.html`, then
 * the file opened from file:// in Chromium with every non-file request refused. Checks that the page
 * asks for nothing over the network, breaks no rule of its own CSP, logs no error, and draws the
 * example's graph with its values and gradients.
 */
import { CHROMIUM_ARGS, findChromium } from '../browser';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { reportHtml } from '../../extension/report';
import { formatNumber } from '../../engine/format';
import { ROOT, ensureBuilt, useTempDir, writeFile } from './helpers';

const BIN = path.join(ROOT, 'bin', 'backprop-lens.js');
const RESULTS = path.join(ROOT, 'test-results', 'report');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}


// The page's globals, as the test sees them (this file is compiled without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;

describe('CLI: backprop-lens report', function () {
  this.timeout(120_000);
  const tmp = useTempDir('bpl-report-');
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
  });

  it('refuses a missing -o, a missing file and a broken model with readable messages (exit 1)', () => {
    const noOut = cli('report', 'examples/01-add-mul.ts');
    assert.equal(noOut.code, 1);
    assert.match(noOut.stderr, /-o OUT\.html/);

    const noFile = cli('report', path.join(tmp(), 'nope.ts'), '-o', path.join(tmp(), 'nope.html'));
    assert.equal(noFile.code, 1);
    assert.match(noFile.stderr, /nope\.ts: no such file/);

    const broken = writeFile(tmp(), 'broken.ts', `import { scalar } from 'backprop-lens';\nconst x = scalar(1);\nthrow new Error('bad model');\nexport default x;\n`);
    const out = path.join(tmp(), 'broken.html');
    const r = cli('report', broken, '--output', out);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.ts:3:\d+: \w+ error: .*bad model/);
    assert.ok(!fs.existsSync(out), 'no report is written for a failed run');
  });

  describe('examples/01-add-mul.ts opened from file://', () => {
    let browser: Browser;
    let html: string;
    let out: string;
    before(async function () {
      this.timeout(120_000);
      out = path.join(tmp(), 'sub dir', 'report.html');
      const r = cli('report', 'examples/01-add-mul.ts', '-o', out);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /wrote .*report\.html/);
      html = fs.readFileSync(out, 'utf8');
      browser = await chromium.launch({
        executablePath: findChromium(),
        args: [...CHROMIUM_ARGS, '--disable-gpu'],
      });
    });
    after(async () => {
      await browser?.close();
    });

    it('is one file with a strict CSP and the snapshot embedded as JSON', () => {
      const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'sha256-[^']+'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)="(https?:|\/\/|\.\/|[a-z]+\.(js|css))/i, 'nothing is loaded from outside the file');
      const json = /<script type="application\/json" id="messages">([^<]*)<\/script>/.exec(html)?.[1];
      assert.ok(json, 'the messages script element');
      const [message, ...rest] = JSON.parse(json);
      assert.equal(message.type, 'snapshot');
      assert.deepEqual(rest, [], 'a file without training: the graph alone');
      const doc = message.snapshot;
      assert.deepEqual(doc.nodes.map((n: any) => n.name).filter(Boolean).sort(), ['f', 'q', 'x', 'y', 'z']);
    });

    it('keeps hostile names inside the JSON (no `</script>` or `<!--` can end it early)', () => {
      const doc = JSON.parse(/<script type="application\/json" id="messages">([^<]*)<\/script>/.exec(html)?.[1] ?? '[{}]')[0].snapshot;
      const evil = '</script><img src=x onerror="window.__pwned=1"><!--';
      doc.nodes[0].name = evil;
      const page = reportHtml(doc, { title: evil, mediaDir: path.join(ROOT, 'media') });
      assert.ok(!page.includes('<img src=x'), 'the name is not markup');
      const json = /<script type="application\/json" id="messages">([^<]*)<\/script>/.exec(page)?.[1];
      assert.ok(json, 'the messages element is intact');
      assert.equal(JSON.parse(json)[0].snapshot.nodes[0].name, evil, 'and the name survives as text');
    });

    it('renders the graph with values and gradients, no network, no CSP violation, no console error', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      const network: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      context.on('request', (req) => { if (!/^(file|data|blob):/.test(req.url())) network.push(req.url()); });
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        network.push(url);
        return route.abort();
      });
      // tsx wraps functions in `__name(...)`; the functions handed to the page need that helper there too.
      await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
      await page.addInitScript(() => {
        (window as any).__violations = [];
        document.addEventListener('securitypolicyviolation', (e: any) => (window as any).__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
      });
      await page.goto(pathToFileURL(out).href);
      await page.waitForSelector('#app[data-rendered]', { timeout: 30_000 });

      const text = (name: string, cls: 'value' | 'grad') => page.locator(`g.node[data-name="${name}"] text.${cls}`).first().textContent();
      const num = (s: string | null) => Number(String(s ?? '').replace(/\u2212/g, '-').replace(/^[^-\d.]*/, ''));
      assert.equal(num(await text('q', 'value')), 3, `q's value: ${await text('q', 'value')}`);
      assert.equal(num(await text('q', 'grad')), -4, `q's gradient: ${await text('q', 'grad')}`);
      assert.equal(num(await text('f', 'value')), -12, `f's value: ${await text('f', 'value')}`);
      assert.equal(num(await text('x', 'grad')), -4, `x's gradient: ${await text('x', 'grad')}`);
      assert.equal(num(await text('z', 'grad')), 3, `z's gradient: ${await text('z', 'grad')}`);
      // the codicon font came from its data: URL (icons would be blank boxes otherwise)
      assert.ok(await page.evaluate(() => document.fonts.check('16px codicon')), 'codicon font loaded');

      fs.mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: path.join(RESULTS, 'report.png') });
      const layout = await page.evaluate(() => document.getElementById('app').dataset.layout);
      const violations: string[] = await page.evaluate(() => (window as any).__violations);
      await context.close();
      assert.deepEqual(network, [], 'the report made network requests');
      assert.deepEqual(violations, [], 'CSP violations');
      assert.deepEqual(consoleErrors, [], 'console errors');
      assert.equal(layout, 'worker', 'the layout ran in the embedded worker');
    });
  });

  describe('a training file (examples/07-minimize-quadratic.ts): the run and the training view\'s tools', () => {
    const FILE = 'examples/07-minimize-quadratic.ts';
    let out: string;
    let stdout: string;
    let browser: Browser;
    before(async function () {
      this.timeout(120_000);
      out = path.join(tmp(), 'quadratic.html');
      const r = cli('report', FILE, '-o', out);
      assert.equal(r.code, 0, r.stderr);
      stdout = r.stdout;
      browser = await chromium.launch({ executablePath: findChromium(), args: [...CHROMIUM_ARGS, '--disable-gpu'] });
    });
    after(async () => {
      await browser?.close();
    });

    it('says what it holds; --graph-only holds the graph alone, and is refused by other commands', () => {
      assert.match(stdout, /wrote .*quadratic\.html \(\d+ KiB, 3 nodes, 10 training steps, 5 analyses\)/);
      const graphOnly = path.join(tmp(), 'graph-only.html');
      const g = cli('report', FILE, '-o', graphOnly, '--graph-only');
      assert.equal(g.code, 0, g.stderr);
      assert.match(g.stdout, /3 nodes\): open it/);
      const messages = JSON.parse(/<script type="application\/json" id="messages">([^<]*)<\/script>/.exec(fs.readFileSync(graphOnly, 'utf8'))![1]) as { type: string }[];
      assert.deepEqual(messages.map((m) => m.type), ['snapshot']);
      const refused = cli('trace', FILE, '--graph-only');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /--graph-only applies to report/);
    });

    it('shows the run and each tool as the CLI computes them, with nothing to run, no CSP violation, no console error', async () => {
      // the oracle: the CLI's own commands on the same file
      const train = JSON.parse(cli('train', FILE, '--json').stdout) as { history: { step: number; loss: number }[] };
      const hessian = JSON.parse(cli('hessian', FILE, '--at-step', '10', '--json').stdout) as { eigenvalues: number[]; hessian: number[][] };
      const context = await browser.newContext({ viewport: { width: 1000, height: 1400 }, reducedMotion: 'reduce' });
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
      await page.addInitScript(() => {
        (window as any).__violations = [];
        document.addEventListener('securitypolicyviolation', (e: any) => (window as any).__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      await page.goto(pathToFileURL(out).href);
      await page.waitForSelector('#app[data-rendered]', { timeout: 30_000 });
      await page.click('[data-testid="view-training"]');
      await page.waitForSelector('[data-testid="training-view"].report[data-status="done"]');
      await page.waitForSelector('[data-testid="hessian-matrix"] tbody td');
      await page.waitForSelector('[data-testid="trace-plot"]:not([hidden])');
      await page.waitForSelector('[data-testid="playground-plot"] path.trajectory');
      const got = await page.evaluate(() => {
        const view = document.querySelector('[data-testid="training-view"]');
        const visible = (id: string) => { const e = document.querySelector(`[data-testid="${id}"]`); return !!e && e.getClientRects().length > 0; };
        const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
        return {
          samples: view.dataset.lossSamples, step: view.dataset.step,
          run: visible('train-run'), note: visible('train-report-note'), hessianRun: visible('hessian-run'),
          cell: document.querySelector('[data-testid="hessian-matrix"] tbody td').textContent,
          hessian: text('hessian-status'), landscape: text('landscape-status'), gradcheck: text('gradcheck-status'), trace: text('trace-status'),
          cards: ['gradcheck', 'hessian', 'landscape', 'playground', 'trace', 'boundary'].filter(visible),
        };
      });
      fs.mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: path.join(RESULTS, 'report-training.png'), fullPage: true });
      const violations: string[] = await page.evaluate(() => (window as any).__violations);
      await context.close();
      // the loss curve is the CLI's run, sample for sample
      for (const pair of got.samples.split(' ')) {
        const [step, loss] = pair.split(':').map(Number);
        assert.equal(loss, train.history.find((h) => h.step === step)!.loss, `loss at step ${step}`);
      }
      assert.equal(got.step, '10');
      assert.equal(got.run, false, 'no Run button in a report');
      assert.equal(got.hessianRun, false, 'no Compute button in a report');
      assert.equal(got.note, true, 'the report says what it is');
      assert.deepEqual(got.cards, ['gradcheck', 'hessian', 'landscape', 'playground', 'trace'], 'one card per tool that applies (no boundary: no 2-D data)');
      // the card's numbers are the engine's format of the CLI's (a real minus sign)
      const fmt = (v: number) => formatNumber(v).replace(/^-/, '\u2212').replace('e-', 'e\u2212');
      assert.equal(got.cell, fmt(hessian.hessian[0][0]));
      assert.ok(got.hessian.startsWith(`At step 10 (1 parameter value, on the loss function): eigenvalue ${fmt(hessian.eigenvalues[0])};`), got.hessian);
      assert.match(got.landscape, /along a random filter-normalized direction d₁ around the parameters at step 10 \(1 element, seed 0\)/);
      assert.match(got.gradcheck, /^All 1 parameter pass at step 10/);
      assert.match(got.trace, /^x: 10 → 0\.06047 in 10 drawn steps/);
      assert.deepEqual(violations, [], 'CSP violations');
      assert.deepEqual(consoleErrors, [], 'console errors');
    });
  });

  describe('a scalar chain of 20,000 nodes (the default node limit) opened from file://', () => {
    // one leaf, 9,999 times an op and the constant it makes from a number, then tanh: 20,000 nodes
    const MODEL = `import { scalar } from 'backprop-lens';
let h = scalar(0.5);
for (let i = 0; i < 9_999; i++) h = i % 2 ? h.mul(1.0001) : h.add(0.001);
export default h.tanh(); // @out
`;
    const NODES = 1 + 2 * 9_999 + 1;
    let file: string;
    before(() => {
      file = writeFile(tmp(), 'chain.ts', MODEL);
    });

    it('counts every op and leaf against --max-nodes: refused at 19,999, naming the setting', () => {
      const r = cli('report', file, '-o', path.join(tmp(), 'refused.html'), '--max-nodes', String(NODES - 1));
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`too-large.*more than ${NODES - 1} graph nodes`));
      assert.match(r.stderr, /"backpropLens\.maxNodes"/);
    });

    it('is laid out in the worker and drawn: a node element at finite coordinates for every node', async function () {
      this.timeout(600_000);
      const out = path.join(tmp(), 'chain.html');
      const r = cli('report', file, '-o', out);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${NODES} nodes`));
      const browser = await chromium.launch({ executablePath: findChromium(), args: [...CHROMIUM_ARGS, '--disable-gpu'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        const consoleErrors: string[] = [];
        page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
        page.on('pageerror', (e) => consoleErrors.push(String(e)));
        await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
        await page.goto(pathToFileURL(out).href);
        await page.waitForSelector('#app[data-rendered], #app[data-layout-failed]', { timeout: 540_000 });
        const got = await page.evaluate(() => {
          const app = document.getElementById('app');
          const moves = [...document.querySelectorAll('g.node')].map((g: any) => /translate\(([^,]+),([^)]+)\)/.exec(g.getAttribute('transform') ?? ''));
          return {
            rendered: app.dataset.rendered ?? null, failed: app.dataset.layoutFailed ?? null, layout: app.dataset.layout, nodes: app.dataset.nodes,
            drawn: moves.length, placed: moves.filter((m: any) => m && Number.isFinite(Number(m[1])) && Number.isFinite(Number(m[2]))).length,
            status: document.querySelector('.status')?.textContent ?? '',
          };
        });
        fs.mkdirSync(RESULTS, { recursive: true });
        await page.screenshot({ path: path.join(RESULTS, 'report-chain-20000.png') });
        assert.equal(got.failed, null, 'the layout did not fail');
        assert.equal(got.rendered, '1');
        assert.equal(got.layout, 'worker', 'laid out in the embedded worker');
        assert.equal(got.nodes, String(NODES));
        assert.equal(got.drawn, NODES, 'a node element for every node');
        assert.equal(got.placed, NODES, 'every node at finite coordinates');
        assert.match(got.status, new RegExp(`${NODES} nodes · traced`));
        assert.deepEqual(consoleErrors, [], 'console errors');
      } finally {
        await browser.close();
      }
    });
  });
});
