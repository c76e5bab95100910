/**
 * The graph panel in Chromium: real bundle, real CSP, snapshots from the real runner.
 * `npm run test:webview` (builds first, so this file also runs on its own).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { GraphSnapshot } from '../../engine/trace/snapshot';
import type { UiState, WebviewMessage } from '../../extension/protocol';
import { ModelRunner } from '../../extension/runner/runner';
import { ROOT, build, launch, lineOf, openPanel, screenshotPath, serve, traceModels, type PanelPage, type Served } from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const MODELS = {
  addmul: `import { scalar } from 'backprop-lens';
const x = scalar(-2);
const y = scalar(5);
const z = scalar(-4);
const q = x.add(y);
const f = q.mul(z);
export default f;
`,
  fanout: `import { scalar } from 'backprop-lens';
const a = scalar(3);
const t = a.mul(a);
const b = t.add(a);
export default b;
`,
  mlp: `import { tensor, nn, losses } from 'backprop-lens';
const X = tensor([[0.5, -1, 2], [1, 0, -0.5], [-1.5, 2, 0.25], [0, 1, 1]], { dtype: 'float64' });
const Y = tensor([[1, 0], [0, 1], [1, 1], [0, 0]], { dtype: 'float64' });
const layer1 = nn.linear(3, 8, { dtype: 'float64', seed: 1 }).named('layer1');
const layer2 = nn.linear(8, 2, { dtype: 'float64', seed: 2 }).named('layer2');
const h = layer1.forward(X).relu();
const yhat = layer2.forward(h);
const loss = losses.mse(yhat, Y);
export default loss;
`,
};

interface NodeInfo { id: number; name: string; op: string; cls: string; value: string; grad: string }

async function nodes(p: PanelPage): Promise<NodeInfo[]> {
  return p.page.$$eval('g.node', (els: any[]) => els.map((g) => ({
    id: Number(g.dataset.id), name: g.dataset.name, op: g.dataset.op, cls: g.getAttribute('class'),
    value: g.querySelector('text.value')?.textContent ?? '', grad: g.querySelector('text.grad')?.textContent ?? '',
  })));
}

const byName = (list: NodeInfo[], name: string): NodeInfo => {
  const n = list.find((x) => x.name === name);
  assert.ok(n, `no node named ${name}`);
  return n;
};

const text = (p: PanelPage, testId: string) => p.page.locator(`[data-testid="${testId}"]`).innerText();

async function lastOf<T extends WebviewMessage['type']>(p: PanelPage, type: T): Promise<Extract<WebviewMessage, { type: T }> | undefined> {
  return (await p.posted()).filter((m): m is Extract<WebviewMessage, { type: T }> => m.type === type).pop();
}


/** Node boxes do not overlap each other; every text sits inside its box and overlaps no other text. */
async function assertReadable(p: PanelPage, expectedNodes: number): Promise<void> {
  // graph coordinates at zoom 1 (Chromium's text boxes are coarse at small zooms): node boxes from
  // their transforms, texts from getBBox(); the zoom is put back afterwards
  const zoom = await p.page.evaluate(() => {
    const v = document.querySelector('g.viewport');
    const t = v.getAttribute('transform');
    v.removeAttribute('transform');
    return t;
  });
  const boxes = await p.page.$$eval('g.node', (els: any[]) => els.map((g) => {
    const m = /translate\(([-\d.e]+),([-\d.e]+)\)/.exec(g.getAttribute('transform'))!;
    const x = Number(m[1]), y = Number(m[2]);
    const box = g.querySelector('rect.box');
    const r = { x, y, w: Number(box.getAttribute('width')), h: Number(box.getAttribute('height')) };
    const texts = Array.from(g.querySelectorAll('text'), (t: any) => ({ cls: t.getAttribute('class'), text: t.textContent, b: t.getBBox() }))
      .filter((t: any) => t.text)
      .map((t: any) => ({ cls: t.cls, text: t.text, x: x + t.b.x, y: y + t.b.y, w: t.b.width, h: t.b.height }));
    return { id: g.dataset.id, r, texts };
  }));
  await p.page.evaluate((t: string | null) => { if (t) document.querySelector('g.viewport').setAttribute('transform', t); }, zoom);
  assert.equal(boxes.length, expectedNodes);
  const overlaps = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }, slack = 0) =>
    a.x < b.x + b.w - slack && b.x < a.x + a.w - slack && a.y < b.y + b.h - slack && b.y < a.y + a.h - slack;
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i].r;
    for (let j = i + 1; j < boxes.length; j++) assert.ok(!overlaps(a, boxes[j].r), `nodes ${boxes[i].id} and ${boxes[j].id} overlap`);
    const ts = boxes[i].texts;
    for (const t of ts) {
      const inside = t.x >= a.x - 0.5 && t.x + t.w <= a.x + a.w + 0.5 && t.y >= a.y - 0.5 && t.y + t.h <= a.y + a.h + 0.5;
      assert.ok(inside, `text "${t.text}" (${t.cls}) of node ${boxes[i].id} is clipped`);
    }
    for (let m = 0; m < ts.length; m++) {
      for (let n = m + 1; n < ts.length; n++) assert.ok(!overlaps(ts[m], ts[n], 0.5), `"${ts[m].text}" and "${ts[n].text}" overlap in node ${boxes[i].id}`);
    }
  }
}

describe('webview: graph panel in Chromium', function () {
  let served: Served;
  let browser: Browser;
  let traced: Awaited<ReturnType<typeof traceModels>>;
  const open: PanelPage[] = [];

  before(async function () {
    this.timeout(240_000);
    build();
    traced = await traceModels(MODELS);
    served = await serve();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await served?.close();
  });

  afterEach(async function () {
    // every test: no console errors and nothing the CSP had to block
    for (const p of open.splice(0)) {
      const violations = await p.violations();
      assert.deepEqual(violations, [], `CSP violations in "${this.currentTest?.title}"`);
      assert.deepEqual(p.consoleErrors, [], `console errors in "${this.currentTest?.title}"`);
      assert.ok(!(await p.posted()).some((m) => m.type === 'error'), 'the panel reported an error');
      await p.page.context().close();
    }
  });

  async function panel(opts: Parameters<typeof openPanel>[2] = {}): Promise<PanelPage> {
    const p = await openPanel(browser, served.pageUrl, opts);
    open.push(p);
    return p;
  }

  const snap = (name: keyof typeof MODELS): GraphSnapshot => traced[name].snapshot;

  it('says ready, then draws (x+y)·z with names, values and final gradients (layout in a worker)', async () => {
    const p = await panel({ theme: 'dark' });
    assert.equal((await p.posted())[0].type, 'ready');
    await p.showSnapshot(snap('addmul'), 1);
    const list = await nodes(p);
    assert.equal(list.length, 5);
    assert.deepEqual(list.map((n) => n.name).sort(), ['f', 'q', 'x', 'y', 'z']);
    assert.equal(byName(list, 'q').op, 'add');
    assert.equal(byName(list, 'f').op, 'mul');
    assert.equal(byName(list, 'x').op, 'leaf');
    const expect: Record<string, [string, string]> = { x: ['-2', '-4'], y: ['5', '-4'], z: ['-4', '3'], q: ['3', '-4'], f: ['-12', '1'] };
    for (const [name, [value, grad]] of Object.entries(expect)) {
      assert.equal(byName(list, name).value, value, `value of ${name}`);
      assert.equal(byName(list, name).grad, grad, `grad of ${name}`);
    }
    assert.match(byName(list, 'x').cls, /\bkind-input\b/);
    assert.match(byName(list, 'q').cls, /\bkind-op\b/);
    assert.equal(await text(p, 'step-label'), 'Backward 2/2');
    assert.match(await text(p, 'status'), /addmul\.ts · 5 nodes · traced/);
    assert.equal(await p.page.getAttribute('#app', 'data-layout'), 'worker');
    // edges in data direction: x→q, y→q, q→f, z→f
    const edges = await p.page.$$eval('path.edge', (els: any[]) => els.map((e) => `${e.dataset.from}->${e.dataset.to}`).sort());
    const id = (n: string) => byName(list, n).id;
    assert.deepEqual(edges, [`${id('x')}->${id('q')}`, `${id('y')}->${id('q')}`, `${id('q')}->${id('f')}`, `${id('z')}->${id('f')}`].sort());
    await p.page.screenshot({ path: screenshotPath('addmul-dark') });
  });

  it('steps the backward pass: gradients appear node by node with the chain rule in numbers', async () => {
    const p = await panel({ theme: 'light' });
    await p.showSnapshot(snap('addmul'), 1);
    await p.page.click('[data-testid="step-first"]');
    assert.equal(await text(p, 'step-label'), 'Backward 0/2');
    assert.ok((await nodes(p)).every((n) => n.grad === ''), 'no gradient before the first step');
    assert.equal((await p.page.$$('g.node.current')).length, 0);

    await p.page.click('[data-testid="step-next"]');
    assert.equal(await text(p, 'step-label'), 'Backward 1/2');
    let list = await nodes(p);
    assert.match(byName(list, 'f').cls, /\bcurrent\b/);
    assert.deepEqual(['f', 'q', 'z'].map((n) => byName(list, n).grad), ['1', '-4', '3']);
    assert.deepEqual(['x', 'y'].map((n) => byName(list, n).grad), ['', '']);
    let chain = await text(p, 'chain-rule');
    assert.ok(chain.includes('∂L/∂q = ∂L/∂f · ∂f/∂q = 1.000 · −4.000 = −4.000'), chain);
    assert.ok(chain.includes('∂L/∂z = ∂L/∂f · ∂f/∂z = 1.000 · 3.000 = 3.000'), chain);
    // the edges into f carry gradient now
    const active = await p.page.$$eval('path.edge.active', (els: any[]) => els.map((e) => Number(e.dataset.to)));
    assert.deepEqual(active, [byName(list, 'f').id, byName(list, 'f').id]);
    await p.page.screenshot({ path: screenshotPath('addmul-step1-light') });

    await p.page.click('[data-testid="step-next"]');
    list = await nodes(p);
    assert.match(byName(list, 'q').cls, /\bcurrent\b/);
    assert.deepEqual(['x', 'y'].map((n) => byName(list, n).grad), ['-4', '-4']);
    chain = await text(p, 'chain-rule');
    assert.ok(chain.includes('∂L/∂x = ∂L/∂q · ∂q/∂x = −4.000 · 1.000 = −4.000'), chain);
    assert.equal((await lastOf(p, 'state'))?.state.step, 2);

    await p.page.click('[data-testid="step-prev"]');
    assert.equal(await text(p, 'step-label'), 'Backward 1/2');
    // host commands (keybindings) do the same
    await p.send({ type: 'command', command: 'first' });
    assert.equal(await text(p, 'step-label'), 'Backward 0/2');
    await p.send({ type: 'command', command: 'stepForward' });
    assert.equal(await text(p, 'step-label'), 'Backward 1/2');
    await p.send({ type: 'command', command: 'last' });
    assert.equal(await text(p, 'step-label'), 'Backward 2/2');
    await p.send({ type: 'command', command: 'reset' });
    assert.equal(await text(p, 'step-label'), 'Backward 0/2');
    await p.send({ type: 'command', command: 'fit' });
    const saved = await p.savedState();
    assert.equal(saved?.mode, 'backward');
    assert.equal(saved?.step, 0);
  });

  it('forward mode reveals values in program order', async () => {
    const p = await panel();
    await p.showSnapshot(snap('addmul'), 1);
    await p.page.click('[data-testid="mode-forward"]');
    assert.equal(await text(p, 'step-label'), 'Forward 0/2');
    let list = await nodes(p);
    assert.equal(byName(list, 'x').value, '-2', 'leaves are known before the first op');
    assert.equal(byName(list, 'q').value, '');
    assert.equal(byName(list, 'f').value, '');
    assert.ok(list.every((n) => n.grad === ''), 'no gradients in the forward pass');
    await p.page.click('[data-testid="step-next"]');
    list = await nodes(p);
    assert.equal(byName(list, 'q').value, '3');
    assert.equal(byName(list, 'f').value, '');
    assert.match(byName(list, 'q').cls, /\bcurrent\b/);
    assert.ok((await text(p, 'chain-rule')).includes('q = x + y = −2.000 + 5.000 = 3.000'));
    await p.page.click('[data-testid="step-last"]');
    assert.equal(byName(await nodes(p), 'f').value, '-12');
    assert.equal((await lastOf(p, 'state'))?.state.mode, 'forward');
  });

  it('writes accumulation when a value feeds several ops (a·a + a)', async () => {
    const p = await panel();
    await p.showSnapshot(snap('fanout'), 1);
    assert.equal(byName(await nodes(p), 'a').grad, '7');
    const chain = await text(p, 'chain-rule');
    assert.ok(chain.includes('∂L/∂a = 1.000 (from add) + 3.000 (from mul) = 4.000'), chain);
    assert.ok(chain.includes('∂L/∂a = 1.000 (from add) + 3.000 (from mul) + 3.000 (from mul) = 7.000'), chain);
    await p.page.click('[data-testid="step-prev"]');
    assert.equal(byName(await nodes(p), 'a').grad, '1', 'after the add only: the first contribution');
  });

  it('clicking a node selects it, reveals its line and fills the inspector; highlightLines marks nodes', async () => {
    const p = await panel();
    const { snapshot, source, file } = traced.addmul;
    await p.showSnapshot(snapshot, 1);
    const q = byName(await nodes(p), 'q');
    await p.page.click(`g.node[data-id="${q.id}"]`);
    const reveal = await lastOf(p, 'revealSource');
    assert.deepEqual({ file: reveal?.file, line: reveal?.line }, { file, line: lineOf(source, 'const q =') });
    assert.deepEqual(await lastOf(p, 'selectNode'), { type: 'selectNode', node: q.id });
    assert.match(byName(await nodes(p), 'q').cls, /\bselected\b/);
    const insp = await text(p, 'inspector');
    assert.ok(insp.includes('add'), insp);
    assert.ok(insp.includes('∂(a+b)/∂a = 1'), 'formula shown');
    assert.ok(insp.includes(`addmul.ts:${lineOf(source, 'const q =')}`), 'source location shown');
    assert.ok(insp.includes('∂L/∂q = −4.000 (from mul)'), 'how the gradient came about');
    const before = (await p.posted()).length;
    await p.page.click('[data-testid="go-to-source"]');
    const after = await p.posted();
    assert.equal(after.length > before && after[after.length - 1].type, 'revealSource');

    await p.send({ type: 'highlightLines', file, lines: [lineOf(source, 'const f =')] });
    await p.page.waitForSelector('g.node.highlighted');
    const hl = (await nodes(p)).filter((n) => /\bhighlighted\b/.test(n.cls)).map((n) => n.name);
    assert.deepEqual(hl, ['f']);
  });

  it('keeps nodes in place when the same graph is sent again (keyed join)', async () => {
    const p = await panel();
    await p.showSnapshot(snap('addmul'), 1);
    const pos = () => p.page.$$eval('g.node', (els: any[]) => els.map((g) => `${g.dataset.id}:${g.getAttribute('transform')}`));
    await p.page.evaluate(() => { for (const g of document.querySelectorAll('g.node')) g.__marker = g.dataset.id; });
    const first = await pos();
    await p.showSnapshot(snap('addmul'), 2);
    assert.deepEqual(await pos(), first);
    const kept = await p.page.$$eval('g.node', (els: any[]) => els.every((g) => g.__marker === g.dataset.id));
    assert.ok(kept, 'the same DOM elements were updated, not recreated');
  });

  it('shows running, errors (keeping the old graph dimmed) and Restricted Mode', async () => {
    const p = await panel({ theme: 'dark' });
    const { snapshot, file } = traced.addmul;
    await p.showSnapshot(snapshot, 1);
    await p.send({ type: 'running', file, fileName: 'addmul.ts' });
    assert.match(await text(p, 'status'), /running/);
    assert.equal((await nodes(p)).length, 5, 'old graph kept while running');
    await p.send({ type: 'errors', file, fileName: 'addmul.ts', errors: [{ kind: 'runtime', message: 'x.mull is not a function <b>bold</b>', file, line: 5, column: 11 }] });
    const errs = await text(p, 'errors');
    assert.ok(errs.includes('addmul.ts:5 — x.mull is not a function <b>bold</b>'), errs);
    assert.equal((await p.page.$$('[data-testid="errors"] b')).length, 0, 'messages are text, not markup');
    assert.equal((await nodes(p)).length, 5);
    assert.ok(await p.page.$('.graph-wrap.stale'), 'old graph dimmed');
    await p.page.click('[data-testid="errors"] a');
    assert.deepEqual(await lastOf(p, 'revealSource'), { type: 'revealSource', file, line: 5, column: 11 });
    await p.page.screenshot({ path: screenshotPath('errors-dark') });

    await p.send({ type: 'untrusted', file, fileName: 'addmul.ts' });
    assert.match(await text(p, 'untrusted'), /Restricted Mode/);
    await p.page.click('[data-testid="manage-trust"]');
    assert.equal((await lastOf(p, 'manageTrust'))?.type, 'manageTrust');
    await p.page.click('[data-testid="rerun"]');
    assert.equal((await lastOf(p, 'rerun'))?.type, 'rerun');
    await p.page.screenshot({ path: screenshotPath('untrusted-dark') });
  });

  it('exports a standalone SVG and a PNG', async () => {
    const p = await panel({ theme: 'light' });
    await p.showSnapshot(snap('addmul'), 1);
    await p.send({ type: 'export', requestId: 7, format: 'svg' });
    await p.page.waitForFunction(() => (globalThis as any).__posted.some((m: any) => m.type === 'exported' && m.requestId === 7));
    const svg = (await lastOf(p, 'exported'))!;
    assert.equal(svg.format, 'svg');
    const parsed = await p.page.evaluate((markup: string) => {
      const doc = new (globalThis as any).DOMParser().parseFromString(markup, 'image/svg+xml');
      return { error: !!doc.querySelector('parsererror'), texts: Array.from(doc.querySelectorAll('text'), (t: any) => t.textContent), fill: doc.querySelector('rect')?.getAttribute('fill') };
    }, svg.data);
    assert.equal(parsed.error, false);
    assert.ok(parsed.texts.includes('-12') && parsed.texts.includes('q'), 'node texts in the SVG');
    assert.ok(!svg.data.includes('var(--'), 'colours are inlined, not theme variables');
    await p.send({ type: 'export', requestId: 8, format: 'png' });
    await p.page.waitForFunction(() => (globalThis as any).__posted.some((m: any) => m.type === 'exported' && m.requestId === 8));
    const png = (await lastOf(p, 'exported'))!;
    assert.equal(png.format, 'png');
    assert.match(png.data, /^data:image\/png;base64,/);
    assert.ok(png.data.length > 2000);
  });

  it('restores the saved UI state after a reload', async () => {
    const s = snap('addmul');
    const state: UiState = { file: s.file, mode: 'forward', step: 1, selected: 3, direction: 'TB', transform: { x: 40, y: 30, k: 0.9 } };
    const p = await panel({ state });
    await p.showSnapshot(s, 1);
    assert.equal(await text(p, 'step-label'), 'Forward 1/2');
    assert.match((await nodes(p)).find((n) => n.id === 3)!.cls, /\bselected\b/);
    const t = await p.page.getAttribute('g.viewport', 'transform');
    assert.equal(t, 'translate(40,30) scale(0.9)');
  });

  for (const theme of ['dark', 'light', 'high-contrast'] as const) {
    it(`lays out a 2-layer MLP without overlaps or clipped text (${theme})`, async () => {
      const p = await panel({ theme });
      await p.showSnapshot(snap('mlp'), 1);
      await assertReadable(p, snap('mlp').nodes.length);
      const loss = byName(await nodes(p), 'loss');
      await p.page.click(`g.node[data-id="${byName(await nodes(p), 'h').id}"]`);
      assert.ok((await text(p, 'inspector')).includes('relu'));
      assert.ok(loss.grad === '1');
      await p.page.screenshot({ path: screenshotPath(`mlp-${theme}`) });
      await p.send({ type: 'command', command: 'first' });
      await p.page.click('[data-testid="step-next"]');
      await p.page.click('[data-testid="step-next"]');
      await p.page.click('[data-testid="step-next"]');
      await p.page.screenshot({ path: screenshotPath(`mlp-step3-${theme}`) });
    });
  }

  it('renders every example in examples/ readably (dark and light screenshots)', async function () {
    this.timeout(300_000);
    const dir = path.join(ROOT, 'examples');
    const files = fs.readdirSync(dir).filter((f) => /\.(ts|mts|js|mjs)$/.test(f)).sort();
    assert.ok(files.length > 0, 'no examples found');
    const runner = new ModelRunner(path.join(ROOT, 'dist'));
    const pages = { dark: await panel({ theme: 'dark' }), light: await panel({ theme: 'light' }) };
    let runId = 0;
    try {
      for (const f of files) {
        const r = await runner.run(path.join(dir, f));
        assert.ok(r.ok, `${f} did not trace: ${r.ok ? '' : r.errors.map((e) => e.message).join('; ')}`);
        runId++;
        for (const [theme, p] of Object.entries(pages)) {
          await p.showSnapshot(r.snapshot, runId, f);
          await assertReadable(p, r.snapshot.nodes.length);
          const shown = await nodes(p);
          for (const n of r.snapshot.nodes.filter((x) => x.name)) assert.ok(shown.some((s) => s.name === n.name), `${f}: ${n.name} shown`);
          assert.ok(shown.every((s) => s.value !== ''), `${f}: every value shown`);
          await p.page.screenshot({ path: screenshotPath(`example-${f.replace(/\.\w+$/, '')}-${theme}`) });
        }
      }
    } finally {
      runner.dispose();
    }
  });

  it('renders a hostile snapshot as text without executing anything', async () => {
    const p = await panel();
    const base = snap('addmul');
    const evil = '<img src=x onerror="window.__pwned=1">';
    const hostile: GraphSnapshot = {
      ...base,
      nodes: base.nodes.map((n, i) => ({
        ...n,
        name: i === 0 ? evil : n.name,
        label: i === 0 ? evil : n.label,
        scalar: i === 1 ? NaN : n.scalar,
        value: i === 1 ? Float64Array.of(NaN) : i === 2 ? Float64Array.of(1e300) : n.value,
        shape: i === 2 ? [] : i === 3 ? [1, 1, 1, 1, 1] : n.shape,
      })),
    };
    await p.showSnapshot(hostile, 1);
    assert.equal(await p.page.evaluate(() => (globalThis as any).__pwned), undefined);
    assert.equal((await p.page.$$('g.node img, [data-testid="inspector"] img')).length, 0);
    const list = await nodes(p);
    assert.equal(list.find((n) => n.id === 0)!.name, evil);
    assert.equal(list.find((n) => n.id === 1)!.value, 'NaN');
    assert.equal(list.find((n) => n.id === 2)!.value, '1.00e300');
    await p.page.click('g.node[data-id="0"]');
    assert.ok((await text(p, 'inspector')).includes(evil));
    const empty: GraphSnapshot = { ...base, nodes: [], backward: [], forward: [], output: 0 };
    await p.showSnapshot(empty, 2);
    assert.equal((await nodes(p)).length, 0);
    assert.equal(await text(p, 'step-label'), 'Backward 0/0');
  });
});
