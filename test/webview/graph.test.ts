/**
 * The graph panel in Chromium: real bundle, real CSP, snapshots from the real runner.
 * `npm run test:webview` (builds first, so this file also runs on its own).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatNumber } from '../../engine/format';
import { fmtChain } from '../../webview/format';
import type { GraphSnapshot } from '../../engine/trace/snapshot';
import type { UiState, WebviewMessage } from '../../extension/protocol';
import { ModelRunner } from '../../extension/runner/runner';
import { limitSnapshot } from '../../extension/snapshotView';
import { ROOT, applyTheme, lineOf, screenshotPath, traceModels, usePanels, type PanelPage } from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const MODELS = {
  cnn: `import { nn, randn, losses } from 'backprop-lens';
const conv = nn.conv2d(2, 3, 3, { padding: 1, seed: 1 }).named('conv');
const x = randn([2, 2, 5, 4], { seed: 2 });
const fmap = conv.forward(x).relu();
export default losses.mse(fmap, randn([2, 3, 5, 4], { seed: 3 }));
`,
  digits: fs.readFileSync(path.join(ROOT, 'examples', '15-digits-cnn.ts'), 'utf8'),
  lecture: fs.readFileSync(path.join(ROOT, 'examples', '14-x-sin-x-squared.ts'), 'utf8'),
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
  batch6: `import { tensor, nn, losses } from 'backprop-lens';
const X = tensor([[0.5, -1], [1, 0.25], [-1.5, 2], [0.75, 1], [2, -0.5], [-1, 1.5]], { dtype: 'float64' });
const layer = nn.linear(2, 1, { dtype: 'float64', seed: 3 }).named('layer');
export default losses.mse(layer.forward(X), tensor([[1], [0], [1], [0], [1], [0]], { dtype: 'float64' }));
`,
  nan: `import { scalar } from 'backprop-lens';
const a = scalar(2);
const b = scalar(-3);
const c = a.mul(b);
const d = c.log();
const e = d.mul(a);
const f = e.add(b);
export default f;
`,
  tanh05: fs.readFileSync(path.join(ROOT, 'examples', '05-deep-tanh-vanishing.ts'), 'utf8'),
  deep: `import { tensor, nn, losses } from 'backprop-lens';
const X = tensor([[0.5, -1], [1, 0.25]], { dtype: 'float64' });
const Y = tensor([[1], [0]], { dtype: 'float64' });
let h = X;
for (let i = 0; i < 12; i++) {
  const layer = nn.linear(2, 2, { dtype: 'float64', seed: i + 1 }).named(\`layer\${i}\`);
  h = layer.forward(h).tanh();
}
const head = nn.linear(2, 1, { dtype: 'float64', seed: 99 }).named('head');
const yhat = head.forward(h);
const loss = losses.mse(yhat, Y);
export default loss;
`,
};

interface NodeInfo { id: number; name: string; op: string; cls: string; value: string; grad: string }

/** Expands every collapsed group (a graph with groups may open collapsed). */
async function expandAll(p: PanelPage): Promise<void> {
  if ((await p.page.getAttribute('[data-testid="collapse-all"]', 'data-state')) === 'collapsed') await p.page.click('[data-testid="collapse-all"]');
}

/** Opens node `id` in the inspector with the keyboard and picks its element `index` in the value table: its chain rule is written. */
async function pickElement(p: PanelPage, id: number, index: number): Promise<void> {
  const g = p.page.locator(`g.node[data-id="${id}"]`).first();
  await g.focus();
  await g.press('Enter');
  await p.page.waitForSelector('[data-testid="element-hint"]');
  await p.page.click(`table.values-value td[data-index="${index}"]`);
  await p.page.waitForSelector('[data-testid="element-chain"]');
}

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

const visibleCount = (p: PanelPage) => p.page.$$eval('g.node', (els: any[]) => els.length);

/** Waits until the graph shows `n` nodes (a collapse or expand re-lays it out asynchronously). */
async function waitForCount(p: PanelPage, n: number): Promise<void> {
  await p.page.waitForFunction((k: number) => document.querySelectorAll('g.node').length === k, n, { timeout: 10_000 });
}

/** Centre of an element on screen. */
async function centre(p: PanelPage, selector: string): Promise<{ x: number; y: number }> {
  const b = await p.page.locator(selector).boundingBox();
  assert.ok(b, `${selector} not on screen`);
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** Steps the backward pass from 0 to the end; at every step one node is current and the chain rule is written. */
async function stepToEnd(p: PanelPage, total: number): Promise<void> {
  await p.send({ type: 'command', command: 'first' });
  assert.equal(await text(p, 'step-label'), `Backward 0/${total}`);
  for (let k = 1; k <= total; k++) {
    await p.send({ type: 'command', command: 'stepForward' });
    assert.equal(await text(p, 'step-label'), `Backward ${k}/${total}`);
    assert.equal((await p.page.$$('g.node.current')).length, 1, `one current node at step ${k}`);
    const chain = await text(p, 'chain-rule');
    assert.ok(chain.includes(`Backward ${k}/${total}`) && chain.includes('∂L/∂'), `chain rule at step ${k}: ${chain}`);
  }
}

const text = (p: PanelPage, testId: string) => p.page.locator(`[data-testid="${testId}"]`).innerText();

async function lastOf<T extends WebviewMessage['type']>(p: PanelPage, type: T): Promise<Extract<WebviewMessage, { type: T }> | undefined> {
  return (await p.posted()).filter((m): m is Extract<WebviewMessage, { type: T }> => m.type === type).pop();
}


/** The main view's zoom transform, read from the viewport group. */
async function viewTransform(p: PanelPage): Promise<{ x: number; y: number; k: number }> {
  const t = await p.page.getAttribute('g.viewport', 'transform');
  const m = /translate\(([-\d.e]+),\s*([-\d.e]+)\)\s*scale\(([-\d.e]+)\)/.exec(t ?? '');
  assert.ok(m, `viewport transform: ${t}`);
  return { x: Number(m[1]), y: Number(m[2]), k: Number(m[3]) };
}

interface Rect { x: number; y: number; width: number; height: number }

/**
 * The minimap as the page lays it out: where layout point (0, 0) is on the page and the px per
 * layout unit (the SVG's viewBox drawn with `meet`), the layout size, the viewport rect (layout
 * units), the main view's size, and the drawn node rects (layout units).
 */
async function minimap(p: PanelPage): Promise<{ left: number; top: number; s: number; width: number; height: number; viewport: Rect; view: { w: number; h: number }; nodes: (Rect & { key: string })[] }> {
  return p.page.evaluate(() => {
    const svg = document.querySelector('[data-testid="minimap"] svg');
    const r = svg.getBoundingClientRect();
    const [, , width, height] = svg.getAttribute('viewBox').split(/\s+/).map(Number);
    const s = Math.min(r.width / width, r.height / height);
    const box = (e: any) => ({ x: Number(e.getAttribute('x')), y: Number(e.getAttribute('y')), width: Number(e.getAttribute('width')), height: Number(e.getAttribute('height')) });
    const graph = document.querySelector('svg.graph');
    return {
      left: r.left + (r.width - width * s) / 2, top: r.top + (r.height - height * s) / 2, s, width, height,
      viewport: box(document.querySelector('[data-testid="minimap-viewport"]')),
      view: { w: graph.clientWidth, h: graph.clientHeight },
      nodes: Array.from(svg.querySelectorAll('rect.mm-node'), (e: any) => ({ key: e.dataset.key, ...box(e) })),
    };
  });
}

/** The minimap's viewport rect is the main view's visible area, clipped to the layout. */
function assertViewportMatches(m: Awaited<ReturnType<typeof minimap>>, t: { x: number; y: number; k: number }): void {
  const x0 = Math.max(0, -t.x / t.k), y0 = Math.max(0, -t.y / t.k);
  const x1 = Math.min(m.width, (m.view.w - t.x) / t.k), y1 = Math.min(m.height, (m.view.h - t.y) / t.k);
  const expected = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  for (const k of ['x', 'y', 'width', 'height'] as const) {
    assert.ok(Math.abs(m.viewport[k] - expected[k]) < 0.5, `viewport rect ${k}: ${JSON.stringify({ rect: m.viewport, expected })}`);
  }
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
  let traced: Awaited<ReturnType<typeof traceModels>>;
  const panel = usePanels();

  before(async function () {
    this.timeout(240_000);
    traced = await traceModels(MODELS);
  });

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
    assert.equal((await p.savedState())?.step, 2, 'the state the panel restores after a reload');

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
    assert.equal((await p.savedState())?.mode, 'forward');
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
    assert.equal((await p.savedState())?.selected, q.id, 'the selection is kept for a reload');
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

  it('the inspector draws a 2-D value and gradient as heatmaps, one cell per element, coloured by sign', async () => {
    const p = await panel({ theme: 'dark' });
    const s = snap('mlp');
    await p.showSnapshot(s, 1);
    const h = s.nodes.find((n) => n.name === 'h')!;
    assert.deepEqual(h.shape, [4, 8]);
    await p.page.click(`g.node[data-id="${h.id}"]`);
    for (const which of ['value', 'grad'] as const) {
      const data = (which === 'value' ? h.value : h.grad)!;
      const cells = await p.page.$$eval(`[data-testid="heatmap-${which}"] rect.cell`, (rs) => rs.map((r) => ({ cls: r.getAttribute('class'), title: r.textContent })));
      assert.equal(cells.length, 32, `${which}: 4 × 8 cells`);
      data.forEach((v, i) => {
        assert.equal(cells[i].cls, `cell ${v > 0 ? 'pos' : v < 0 ? 'neg' : 'zero'}`, `${which}[${i}] = ${v}`);
        assert.ok(cells[i].title?.startsWith(`[${Math.floor(i / 8)}, ${i % 8}] = `), cells[i].title ?? '');
      });
    }
    await p.page.screenshot({ path: screenshotPath('inspector-heatmap') });
  });

  it('play speed: the toolbar cycles 1× → 2× → … → 0.5×, saves it, and play runs at the new speed to the end', async () => {
    const p = await panel();
    await p.showSnapshot(snap('addmul'), 1);
    const speed = () => p.page.textContent('[data-testid="play-speed"]');
    assert.equal((await speed())?.trim(), '1×');
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      await p.page.click('[data-testid="play-speed"]');
      seen.push((await speed())?.trim() ?? '');
    }
    assert.deepEqual(seen, ['2×', '4×', '8×', '0.5×', '1×']);
    await p.page.click('[data-testid="play-speed"]');
    await p.page.click('[data-testid="play-speed"]');
    await p.page.click('[data-testid="play-speed"]'); // 8×
    assert.equal((await p.savedState())?.speed, 8);
    await p.page.click('[data-testid="step-first"]');
    await p.page.click('[data-testid="step-play"]');
    await p.page.waitForFunction(() => document.querySelector('[data-testid="step-label"]')?.textContent === 'Backward 2/2');
    // play stops by itself at the last step
    await p.page.waitForFunction(() => document.querySelector('[data-testid="step-play"]')?.getAttribute('icon') === 'play');
    assert.equal(await p.page.textContent('[data-testid="step-label"]'), 'Backward 2/2');
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

  it('nodes keep their place and size from the first forward step to the last backward step (gradient rows do not move them)', async () => {
    const p = await panel();
    await p.showSnapshot(snap('mlp'), 1);
    const place = () => p.page.$$eval('g.node', (els: any[]) => els.map((g) => {
      const b = g.getBBox();
      return `${g.dataset.id} ${g.getAttribute('transform')} ${Math.round(b.width)}×${Math.round(b.height)}`;
    }));
    const view = () => p.page.$eval('svg g.viewport', (g: any) => g.getAttribute('transform'));
    await p.page.click('[data-testid="mode-forward"]');
    await p.send({ type: 'command', command: 'first' });
    const before = { nodes: await place(), view: await view() };
    assert.ok((await nodes(p)).every((n) => n.grad === ''), 'no gradient rows at the first forward step');
    await p.page.click('[data-testid="mode-backward"]');
    await p.send({ type: 'command', command: 'last' });
    assert.ok((await nodes(p)).some((n) => n.grad !== ''), 'gradient rows at the last backward step');
    assert.deepEqual(await place(), before.nodes);
    assert.equal(await view(), before.view, 'the view did not pan or zoom');
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
          // a large graph opens with its groups (conv2d, attention…) collapsed: expand them, so that every node is checked
          if ((await p.page.getAttribute('[data-testid="collapse-all"]', 'data-state')) === 'collapsed') {
            await p.page.click('[data-testid="collapse-all"]');
            await p.page.waitForFunction((n: number) => document.querySelectorAll('g.node').length === n, r.snapshot.nodes.length);
          }
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

  it('marks and selects the node where NaN first appears, with its source line', async () => {
    const p = await panel({ theme: 'dark' });
    const { snapshot, source } = traced.nan;
    await p.showSnapshot(snapshot, 1);
    const list = await nodes(p);
    const d = byName(list, 'd');
    assert.equal(d.op, 'log');
    assert.match(d.cls, /\bnonfinite\b/);
    assert.match(d.cls, /\bselected\b/);
    assert.equal(await p.page.locator(`g.node[data-id="${d.id}"] text.icon-warning`).textContent(), '\uea6c', 'warning codicon');
    // the NaN spreads to e and f: lighter marker, not the first
    for (const name of ['e', 'f']) {
      assert.match(byName(list, name).cls, /\bnonfinite-other\b/, name);
      assert.doesNotMatch(byName(list, name).cls, /\bnonfinite\b(?!-)/, name);
    }
    for (const name of ['b', 'c']) assert.doesNotMatch(byName(list, name).cls, /nonfinite/, name);
    const line = lineOf(source, 'const d =');
    assert.match(await text(p, 'status'), new RegExp(`NaN first appears at d \\(log, line ${line}\\)`));
    const callout = await text(p, 'nonfinite');
    assert.ok(callout.includes('NaN first appears here'), callout);
    assert.ok(callout.includes(`nan.ts:${line}`), callout);
    assert.ok(callout.includes('first appears in the forward pass'), 'the engine\'s diagnosis message');
    await p.page.click('[data-testid="nonfinite-source"]');
    assert.deepEqual((await lastOf(p, 'revealSource'))?.line, line);
    await assertReadable(p, snapshot.nodes.length);
    await p.page.screenshot({ path: screenshotPath('nan-dark') });
    // another node that holds NaN points back at the first
    await p.page.click(`g.node[data-id="${byName(list, 'f').id}"]`);
    assert.ok((await text(p, 'nonfinite-note')).includes('first appears at d'));

    // a saved selection wins over the automatic one
    const q = await panel({ state: { file: snapshot.file, mode: 'backward', step: 0, selected: byName(list, 'a').id, direction: 'TB', transform: null } });
    await q.showSnapshot(snapshot, 1);
    const again = await nodes(q);
    assert.match(byName(again, 'a').cls, /\bselected\b/);
    assert.doesNotMatch(byName(again, 'd').cls, /\bselected\b/);
    assert.match(byName(again, 'd').cls, /\bnonfinite\b/);
  });

  it('collapses a composite op (mse) into one node and expands it again', async () => {
    const p = await panel({ theme: 'light' });
    const s = snap('mlp');
    await p.showSnapshot(s, 1);
    assert.equal(await visibleCount(p), s.nodes.length, 'a small graph starts expanded');
    await p.send({ type: 'command', command: 'fit' });
    const mseHead = 'g.cluster-group:has(text.cluster-label:text-is("mse")) g.cluster-head';
    const loss = byName(await nodes(p), 'loss');
    const before = await centre(p, 'g.cluster-group:has(text.cluster-label:text-is("mse")) rect.cluster-box');
    await p.page.click(mseHead);
    // sub, square, sum, mean's divisor and div become one node
    await waitForCount(p, s.nodes.length - 4);
    const list = await nodes(p);
    const collapsed = list.filter((n) => /\bcollapsed\b/.test(n.cls));
    assert.equal(collapsed.length, 1);
    const mse = collapsed[0];
    assert.equal(mse.name, 'mse');
    assert.equal(await p.page.locator('g.node.collapsed text.label').textContent(), 'mse');
    assert.equal(await p.page.locator('g.node.collapsed text.op').textContent(), '→ loss');
    assert.equal(mse.id, loss.id, 'it stands for its output');
    assert.equal(mse.value, loss.value);
    assert.equal(mse.grad, '1');
    // the edges into mse now end at the collapsed node
    const into = await p.page.$$eval(`path.edge[data-to="${loss.id}"]`, (els: any[]) => els.map((e) => Number(e.dataset.from)).sort());
    assert.deepEqual(into, [byName(list, 'Y').id, byName(list, 'yhat').id].sort());
    // kept where it was on screen
    const after = await centre(p, 'g.node.collapsed rect.box');
    assert.ok(Math.abs(after.x - before.x) < 2 && Math.abs(after.y - before.y) < 2, `anchored: ${JSON.stringify({ before, after })}`);
    await assertReadable(p, s.nodes.length - 4);
    assert.ok(((await p.savedState()) as any).collapsed.includes('group:2'), 'collapsed set saved');
    assert.match(await text(p, 'status'), /16 nodes \(12 shown\)/);
    await p.page.screenshot({ path: screenshotPath('mlp-mse-collapsed-light') });

    // stepping: the first backward steps are inside mse, so the collapsed node is current
    await p.send({ type: 'command', command: 'first' });
    await p.send({ type: 'command', command: 'stepForward' });
    assert.match((await nodes(p)).find((n) => n.id === loss.id)!.cls, /\bcurrent\b/);
    await stepToEnd(p, s.backward.length);

    // selecting it offers to expand; the inspector button expands it
    await p.page.click('g.node.collapsed');
    assert.ok((await text(p, 'inspector')).includes('Shown collapsed as mse'));
    await p.page.click('[data-testid="expand-group"]');
    await waitForCount(p, s.nodes.length);
    await assertReadable(p, s.nodes.length);
    assert.equal((await p.page.$$('g.node.collapsed')).length, 0);

    // keyboard: '-' on a node collapses its group, '+' on the collapsed node expands it
    const sub = (await nodes(p)).find((n) => n.op === 'sub')!;
    await p.page.focus(`g.node[data-id="${sub.id}"]`);
    await p.page.keyboard.press('-');
    await waitForCount(p, s.nodes.length - 4);
    await p.page.focus('g.node.collapsed');
    await p.page.keyboard.press('+');
    await waitForCount(p, s.nodes.length);
    // double-click on a collapsed node expands too; the toolbar collapses everything
    await p.page.click('[data-testid="collapse-all"]');
    // layer1, layer2 (scopes) and mse: X, Y, h and three groups
    await waitForCount(p, 6);
    assert.equal(await p.page.getAttribute('[data-testid="collapse-all"]', 'label'), 'Expand all groups');
    await assertReadable(p, 6);
    await p.page.dblclick('g.node.collapsed[data-group="scope:layer1"]');
    await waitForCount(p, 6 - 1 + 4);
    await p.page.click('[data-testid="collapse-all"]');
    await waitForCount(p, s.nodes.length);
  });

  it('starts a large graph collapsed to its outermost groups; expanding one keeps the view anchored; stepping works', async function () {
    this.timeout(120_000);
    const s = snap('deep');
    assert.ok(s.nodes.length > 60, `the model has ${s.nodes.length} nodes`);
    const p = await panel({ theme: 'dark' });
    await p.showSnapshot(s, 1);
    const list = await nodes(p);
    // X, Y, 12 tanh outside the layers, and 12 layers + head + mse collapsed
    const groups = list.filter((n) => /\bcollapsed\b/.test(n.cls));
    assert.deepEqual(groups.map((n) => n.name).sort(), [...Array.from({ length: 12 }, (_, i) => `layer${i}`), 'head', 'mse'].sort());
    assert.equal(list.length, 2 + 12 + 14);
    await assertReadable(p, list.length);
    assert.match(await text(p, 'status'), new RegExp(`${s.nodes.length} nodes \\(${list.length} shown\\)`));
    await p.page.screenshot({ path: screenshotPath('deep-collapsed-dark') });
    const direction = await p.page.getAttribute('[data-testid="direction"]', 'label');
    await p.send({ type: 'command', command: 'fit' });

    // expand one layer: it opens where the collapsed node was, the direction stays
    const before = await centre(p, 'g.node[data-group="scope:layer5"] rect.box');
    const transformBefore = await p.page.getAttribute('g.viewport', 'transform');
    await p.page.click('g.node[data-group="scope:layer5"] text.icon-toggle');
    await waitForCount(p, list.length - 1 + 4);
    const box = await centre(p, 'g.cluster[data-key="scope:layer5"] rect.cluster-box');
    assert.ok(Math.abs(box.x - before.x) < 2 && Math.abs(box.y - before.y) < 2, `anchored: ${JSON.stringify({ before, box })}`);
    assert.equal(/scale\(([\d.]+)\)/.exec((await p.page.getAttribute('g.viewport', 'transform'))!)?.[1], /scale\(([\d.]+)\)/.exec(transformBefore!)?.[1], 'zoom kept');
    assert.equal(await p.page.getAttribute('[data-testid="direction"]', 'label'), direction, 'direction kept');
    await assertReadable(p, list.length + 3);
    await p.page.screenshot({ path: screenshotPath('deep-layer5-expanded-dark') });

    // stepping the whole backward pass works with collapsed groups
    await stepToEnd(p, s.backward.length);
    // a hidden node (inside head) while stepping: its collapsed group is current
    const inHead = s.backward.findIndex((r) => s.nodes[r.node].scope === 'head');
    await p.send({ type: 'command', command: 'first' });
    for (let k = 0; k <= inHead; k++) await p.send({ type: 'command', command: 'stepForward' });
    assert.match(await p.page.getAttribute('g.node[data-group="scope:head"]', 'class') ?? '', /\bcurrent\b/);

    // the collapsed set survives a reload
    const saved = (await p.savedState()) as any;
    assert.ok(Array.isArray(saved.collapsed) && !saved.collapsed.includes('scope:layer5') && saved.collapsed.includes('scope:layer4'));
    const q = await panel({ state: saved });
    await q.showSnapshot(s, 1);
    assert.equal(await visibleCount(q), list.length + 3);

    // search finds a node inside a collapsed group and opens the group
    await q.page.fill('[data-testid="search"]', 'weight');
    await q.page.press('[data-testid="search"]', 'Enter');
    await waitForCount(q, list.length + 3 - 1 + 4);
    assert.equal((await q.page.$$('g.node.selected')).length, 1);
    assert.equal(await q.page.getAttribute('g.node.selected', 'data-name'), 'weight');

    // expand all, collapse all
    await q.page.click('[data-testid="collapse-all"]');
    await waitForCount(q, s.nodes.length);
    await assertReadable(q, s.nodes.length);
    await q.page.click('[data-testid="collapse-all"]');
    await waitForCount(q, list.length);
  });

  it('a minimap shows the whole graph while it does not fit, follows panning, and clicking it centres the view there', async function () {
    this.timeout(120_000);
    // a graph that fits: no minimap
    const small = await panel({ theme: 'dark' });
    await small.showSnapshot(snap('addmul'), 1);
    assert.ok(await small.page.$('[data-testid="minimap"]'), 'the minimap exists');
    assert.ok(await small.page.isHidden('[data-testid="minimap"]'), 'hidden while the graph fits');

    // the deep model expanded whole is too tall for the panel at a readable zoom
    const s = snap('deep');
    const p = await panel({ theme: 'dark' });
    await p.showSnapshot(s, 1);
    await p.page.click('[data-testid="collapse-all"]');
    await waitForCount(p, s.nodes.length);
    await p.page.waitForSelector('[data-testid="minimap"]', { state: 'visible' });
    assert.match(await p.page.getAttribute('[data-testid="minimap"]', 'aria-label') ?? '', /overview/i);
    let m = await minimap(p);
    assert.equal(m.nodes.length, s.nodes.length, 'one rect per drawn node');
    assertViewportMatches(m, await viewTransform(p));
    assert.ok(m.viewport.width * m.viewport.height < m.width * m.height * 0.9, 'the viewport rect shows part of the graph');
    // in the graph's corner: clear of the inspector, the toolbar and the status line
    const mini = (await p.page.locator('[data-testid="minimap"]').boundingBox())!;
    const graph = (await p.page.locator('svg.graph').boundingBox())!;
    const inspector = (await p.page.locator('[data-testid="inspector"]').boundingBox())!;
    assert.ok(mini.x >= graph.x && mini.y >= graph.y && mini.x + mini.width <= graph.x + graph.width && mini.y + mini.height <= graph.y + graph.height, 'inside the graph area');
    assert.ok(mini.x + mini.width <= inspector.x, 'left of the inspector');
    assert.ok(mini.x + mini.width > graph.x + graph.width - 20 && mini.y + mini.height > graph.y + graph.height - 20, 'bottom-right');

    // panning the main view (a drag towards the middle of the graph) moves the viewport rect with it
    const before = await viewTransform(p);
    const toMiddle = (v: number, size: number, seen: number) => (v + seen / 2 < size / 2 ? -1 : 1);
    const dx = 60 * toMiddle(m.viewport.x, m.width, m.viewport.width), dy = 240 * toMiddle(m.viewport.y, m.height, m.viewport.height);
    const start = { x: graph.x + graph.width / 2, y: graph.y + graph.height / 2 };
    const rectText = () => p.page.evaluate(() => ['x', 'y', 'width', 'height'].map((a) => document.querySelector('[data-testid="minimap-viewport"]').getAttribute(a)).join());
    const rectBefore = await rectText();
    await p.page.mouse.move(start.x, start.y);
    await p.page.mouse.down();
    await p.page.mouse.move(start.x + dx / 2, start.y + dy / 2, { steps: 4 });
    await p.page.mouse.move(start.x + dx, start.y + dy, { steps: 4 });
    await p.page.mouse.up();
    await p.page.waitForFunction((r: string) => ['x', 'y', 'width', 'height'].map((a) => document.querySelector('[data-testid="minimap-viewport"]').getAttribute(a)).join() !== r, rectBefore);
    const panned = await viewTransform(p);
    assert.ok(Math.abs(panned.x - before.x - dx) < 1 && Math.abs(panned.y - before.y - dy) < 1, `panned by the drag: ${JSON.stringify({ before, panned })}`);
    const afterPan = await minimap(p);
    assertViewportMatches(afterPan, panned);
    const middleY = (r: Rect) => r.y + r.height / 2;
    assert.ok(Math.sign(middleY(m.viewport) - middleY(afterPan.viewport)) === Math.sign(dy), `the viewport rect moved against the drag: ${JSON.stringify([m.viewport, afterPan.viewport])}`);
    m = afterPan;

    // click the node farthest from what the view shows: the clicked point becomes the view's centre
    const cx = m.viewport.x + m.viewport.width / 2, cy = m.viewport.y + m.viewport.height / 2;
    const far = m.nodes.reduce((a, b) => (Math.hypot(b.x + b.width / 2 - cx, b.y + b.height / 2 - cy) > Math.hypot(a.x + a.width / 2 - cx, a.y + a.height / 2 - cy) ? b : a));
    const click = { x: Math.round(m.left + (far.x + far.width / 2) * m.s), y: Math.round(m.top + (far.y + far.height / 2) * m.s) };
    await p.page.mouse.click(click.x, click.y);
    const target = { x: (click.x - m.left) / m.s, y: (click.y - m.top) / m.s };
    const t = await viewTransform(p);
    assert.equal(t.k, panned.k, 'the zoom is kept');
    assert.ok(Math.abs(t.x + target.x * t.k - m.view.w / 2) < 1.5 && Math.abs(t.y + target.y * t.k - m.view.h / 2) < 1.5, `centred on ${JSON.stringify(target)}: ${JSON.stringify(t)}`);
    // the node clicked in the minimap is now in the middle of the graph area
    const node = await centre(p, `g.node[data-key="${far.key}"] rect.box`);
    const near = (t.k / m.s) + 2;
    assert.ok(Math.abs(node.x - (graph.x + graph.width / 2)) < near && Math.abs(node.y - (graph.y + graph.height / 2)) < near, `node ${far.key} centred: ${JSON.stringify({ node, graph })}`);
    const clicked = await minimap(p);
    assertViewportMatches(clicked, t);
    // one zoom state: the move was saved, and a drag on the graph continues from it
    const saved = (await p.savedState())!.transform!;
    assert.ok(Math.abs(saved.x - t.x) < 0.01 && Math.abs(saved.y - t.y) < 0.01 && saved.k === t.k, `saved ${JSON.stringify(saved)}`);
    await p.page.screenshot({ path: screenshotPath('minimap-dark') });
    await p.page.mouse.move(start.x, start.y);
    await p.page.mouse.down();
    await p.page.mouse.move(start.x + 30, start.y + 20, { steps: 4 });
    await p.page.mouse.up();
    const dragged = await viewTransform(p);
    assert.ok(Math.abs(dragged.x - t.x - 30) < 1 && Math.abs(dragged.y - t.y - 20) < 1, `the drag continued from the minimap's move: ${JSON.stringify({ t, dragged })}`);

    // dragging inside the minimap moves the view along; the arrow keys pan it
    const from = await minimap(p);
    await p.page.mouse.move(click.x, click.y);
    await p.page.mouse.down();
    const to = { x: Math.round(from.left + (from.width / 2) * from.s), y: Math.round(from.top + (from.height / 2) * from.s) };
    await p.page.mouse.move(to.x, to.y, { steps: 5 });
    await p.page.mouse.up();
    const middle = await viewTransform(p);
    const mid = { x: (to.x - from.left) / from.s, y: (to.y - from.top) / from.s };
    assert.ok(Math.abs(middle.x + mid.x * middle.k - from.view.w / 2) < 1.5 && Math.abs(middle.y + mid.y * middle.k - from.view.h / 2) < 1.5, `dragged to the middle: ${JSON.stringify(middle)}`);
    assert.equal((await p.savedState())!.transform!.y, middle.y, 'saved where the drag ended');
    await p.page.focus('[data-testid="minimap"]');
    await p.page.keyboard.press(from.height > from.width ? 'ArrowDown' : 'ArrowRight');
    const keyed = await viewTransform(p);
    assert.ok(keyed.x !== middle.x || keyed.y !== middle.y, 'an arrow key pans the view');
    assertViewportMatches(await minimap(p), keyed);

    // colours come from the theme: light and high contrast too
    for (const theme of ['light', 'high-contrast'] as const) {
      await applyTheme(p.page, theme);
      await p.page.screenshot({ path: screenshotPath(`minimap-${theme}`) });
    }
    // not part of an export
    await p.send({ type: 'export', requestId: 3, format: 'svg' });
    await p.page.waitForFunction(() => (globalThis as any).__posted.some((x: any) => x.type === 'exported' && x.requestId === 3));
    const svg = (await lastOf(p, 'exported'))!.data;
    assert.ok(!svg.includes('mm-') && !svg.includes('minimap'), 'the exported SVG has no minimap');
  });

  it('draws a 4-D tensor as images, one tile per channel: a conv weight as filters × input channels, a feature map as the channels of the first example, values and gradients on one scale', async () => {
    const p = await panel({ theme: 'dark' });
    const s = snap('cnn');
    await p.showSnapshot(s, 1);
    const select = async (id: number) => {
      const g = p.page.locator(`g.node[data-id="${id}"]`).first();
      await g.focus();
      await g.press('Enter');
    };
    // expanded, so the conv group's weight is drawn
    await expandAll(p);
    const w = s.nodes.find((n) => n.leaf === 'param' && n.shape.length === 4)!;
    assert.deepEqual(w.shape, [3, 2, 3, 3]);
    await select(w.id);
    await p.page.waitForSelector('[data-testid="image-grid-value"]');
    const tiles = (which: string) => p.page.$$eval(`[data-testid="image-grid-${which}"] svg.tile`, (ts: any[]) => ts.map((t) => ({ label: t.getAttribute('aria-label'), cells: t.querySelectorAll('rect.cell').length })));
    const wt = await tiles('value');
    assert.equal(wt.length, 6, '3 filters × 2 input channels');
    assert.deepEqual(wt[0], { label: 'filter 0, input channel 0', cells: 9 });
    assert.equal((await tiles('grad')).length, 6, 'the gradient as images too');
    assert.equal(await p.page.$('[data-testid="heatmap-value"]'), null, 'images instead of the stacked heatmap');
    // a pixel's title is its value, on the tensor's own scale
    const title = await p.page.$eval('[data-testid="image-grid-value"] svg.tile rect.cell title', (t: any) => t.textContent);
    assert.equal(title, `filter 0, input channel 0 [0, 0] = ${formatNumber(w.value![0])}`);
    // the feature map after the ReLU: the 3 channels of example 0, 5 × 4 pixels each
    const fmap = s.nodes.find((n) => n.name === 'fmap')!;
    await select(fmap.id);
    await p.page.waitForSelector('[data-testid="image-grid-value"] svg.tile[aria-label="example 0, channel 2"]');
    const ft = await tiles('value');
    assert.deepEqual(ft.map((t) => t.cells), [20, 20, 20]);
    await p.page.screenshot({ path: screenshotPath('inspector-image-grid-dark') });
  });

  it('a minibatch of digits is drawn as the images it holds: the traced step names it x, its first 16 examples as 8×8 tiles', async () => {
    const p = await panel({ theme: 'light' });
    const s = snap('digits');
    assert.deepEqual(s.training?.dataset?.imageShape, [1, 8, 8]);
    const x = s.nodes.find((n) => n.name === 'x' && n.op === 'leaf')!;
    assert.deepEqual({ shape: x.shape, image: x.image }, { shape: [32, 64], image: [1, 8, 8] });
    assert.ok(s.nodes.find((n) => n.name === 'y' && n.op === 'leaf' && n.dtype === 'int32'), 'the labels are named y');
    await p.showSnapshot(s, 1);
    await p.page.click(`g.node[data-id="${x.id}"]`);
    await p.page.waitForSelector('[data-testid="image-grid-value"]');
    const tiles = await p.page.$$eval('[data-testid="image-grid-value"] svg.tile', (ts: any[]) => ts.map((t) => ({ label: t.getAttribute('aria-label'), cells: t.querySelectorAll('rect.cell').length })));
    assert.equal(tiles.length, 16);
    assert.deepEqual(tiles[3], { label: 'example 3', cells: 64 });
    assert.match(await text(p, 'image-grid-value'), /the 32 examples \(the first 16\)/);
    // pixel (2, 5) of example 3 is element 3·64 + 2·8 + 5 of the batch
    const title = await p.page.$eval('[data-testid="image-grid-value"] svg.tile[aria-label="example 3"] rect.cell:nth-of-type(22) title', (t: any) => t.textContent);
    assert.equal(title, `example 3 [2, 5] = ${formatNumber(x.value![3 * 64 + 2 * 8 + 5])}`);
    assert.equal(await p.page.$('[data-testid="heatmap-value"]'), null, 'images instead of a 32 × 64 heatmap');
    await p.page.screenshot({ path: screenshotPath('inspector-digits-batch-light') });
  });

  it('an idle panel at a backward step animates nothing forever: the active edges flow a few times and stop (idle CPU is printed); with reduced motion they do not move', async () => {
    const still = await panel({ theme: 'dark' });
    await still.showSnapshot(snap('mlp'), 1);
    await still.send({ type: 'command', command: 'first' });
    await still.send({ type: 'command', command: 'stepForward' });
    await still.page.waitForSelector('path.edge.active', { state: 'attached' });
    assert.equal(await still.page.evaluate(() => document.getAnimations().length), 0, 'reduced motion: no animation');
    const p = await panel({ theme: 'dark', motion: 'no-preference' });
    await p.showSnapshot(snap('mlp'), 1);
    await p.send({ type: 'command', command: 'first' });
    await p.send({ type: 'command', command: 'stepForward' });
    await p.send({ type: 'command', command: 'stepForward' });
    await p.page.waitForSelector('path.edge.active', { state: 'attached' });
    const running = await p.page.evaluate(() => document.getAnimations().map((a: any) => ({ name: a.animationName ?? a.constructor.name, end: a.effect.getComputedTiming().endTime })));
    assert.ok(running.length > 0, 'the active edges animate');
    for (const a of running) assert.ok(Number.isFinite(a.end), `animation ${a.name} runs forever`);
    // once they have run, nothing is left running, and the page's own work in a quiet second is measured
    await p.page.waitForFunction(() => document.getAnimations().every((a: any) => a.playState === 'finished'), undefined, { timeout: 10_000 });
    const cdp = await p.page.context().newCDPSession(p.page);
    await cdp.send('Performance.enable');
    const busy = async () => {
      const m = (await cdp.send('Performance.getMetrics')).metrics as { name: string; value: number }[];
      const v = (k: string) => m.find((x) => x.name === k)?.value ?? 0;
      return { task: v('TaskDuration'), at: v('Timestamp') };
    };
    const t0 = await busy();
    await p.page.evaluate(() => new Promise((r) => setTimeout(r, 1000)));
    const t1 = await busy();
    const share = (t1.task - t0.task) / (t1.at - t0.at);
    console.log(`      idle panel at a backward step: ${(share * 100).toFixed(1)}% of a core (the renderer's main thread, CDP TaskDuration over ${(t1.at - t0.at).toFixed(2)} s)`);
    assert.equal(await p.page.evaluate(() => document.getAnimations().filter((a: any) => a.playState === 'running').length), 0, 'no animation runs when idle');
  });

  it('at the default width (620 px) the inspector opens below the graph and the selected node stays in view', async () => {
    for (const name of ['mlp', 'deep'] as const) {
      const p = await panel({ theme: 'light', viewport: { width: 620, height: 700 } });
      const s = snap(name);
      await p.showSnapshot(s, 1);
      // the forward pass before its first step: the inspector holds one line; the output is in view
      await p.page.click('[data-testid="mode-forward"]');
      await p.send({ type: 'command', command: 'first' });
      await p.page.waitForSelector('[data-testid="step-label"]:text-is("Forward 0/' + s.forward.length + '")');
      const out = s.output;
      const visible = () => p.page.evaluate((id: number) => {
        const svg = document.querySelector('svg.graph') ?? document.querySelector('g.viewport').ownerSVGElement;
        const box = svg.getBoundingClientRect();
        const r = document.querySelector(`g.node[data-id="${id}"] rect.box`)?.getBoundingClientRect();
        return r ? { inside: r.top >= box.top - 1 && r.bottom <= box.bottom + 1 && r.left >= box.left - 1 && r.right <= box.right + 1, node: [r.top, r.bottom], svg: [box.top, box.bottom] } : null;
      }, out);
      // the minimap takes the view to the bottom of the graph, where the loss is; then a click on it opens the inspector
      const mm = (await p.page.locator('[data-testid="minimap"] svg').first().boundingBox()) ?? (await p.page.locator('[data-testid="minimap"]').boundingBox());
      assert.ok(mm);
      await p.page.mouse.click(mm.x + mm.width / 2, mm.y + mm.height - 3);
      await p.page.waitForFunction((id: number) => {
        const svg = document.querySelector('g.viewport').ownerSVGElement;
        const box = svg.getBoundingClientRect();
        const r = document.querySelector(`g.node[data-id="${id}"] rect.box`)?.getBoundingClientRect();
        return !!r && r.top >= box.top && r.bottom <= box.bottom && r.left >= box.left && r.right <= box.right;
      }, out, { timeout: 5_000 });
      const before = await p.page.evaluate(() => document.querySelector('[data-testid="inspector"]').getBoundingClientRect().height);
      await p.page.click(`g.node[data-id="${out}"]`);
      await p.page.waitForSelector('.insp-head');
      const after = await p.page.evaluate(() => document.querySelector('[data-testid="inspector"]').getBoundingClientRect().height);
      assert.ok(after > before + 50, `the inspector grew (${before} → ${after} px)`);
      // the inspector's growth resizes the graph area: wait for the view to settle on the node
      await p.page.waitForFunction((id: number) => {
        const svg = document.querySelector('g.viewport').ownerSVGElement;
        const box = svg.getBoundingClientRect();
        const r = document.querySelector(`g.node[data-id="${id}"] rect.box`)?.getBoundingClientRect();
        return !!r && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
      }, out, { timeout: 5_000 }).catch(() => undefined);
      const v = await visible();
      assert.ok(v?.inside, `${name}: the selected node is covered: ${JSON.stringify(v)}`);
      await p.page.screenshot({ path: screenshotPath(`inspector-open-620-${name}-light`) });
    }
  });

  it("one element's chain rule: a click on weight[2, 1] writes ∂L/∂W[2,1] = Σₖ ∂L/∂Z[k,2]·X[k,1] with its terms, and they add up to the gradient", async () => {
    const p = await panel({ theme: 'dark' });
    const s = snap('mlp');
    await p.showSnapshot(s, 1);
    await expandAll(p);
    const w = s.nodes.find((n) => n.leaf === 'param' && n.scope === 'layer1' && n.shape.length === 2)!;
    assert.deepEqual(w.shape, [8, 3]);
    await pickElement(p, w.id, 7);
    // by hand from the snapshot: the matmul Z = X·Wᵀ, X [4, 3]; ∂L/∂W[2,1] = Σₖ ∂L/∂Z[k,2]·X[k,1]
    const step = s.backward.find((st) => st.inputs.some((i) => i.input === w.id))!;
    const mm = s.nodes[step.node];
    assert.equal(mm.op, 'matmul');
    const X = s.nodes[mm.inputs.find((i) => i !== w.id)!];
    const want = [0, 1, 2, 3].map((k) => ({ k, up: step.upstreamGrad![k * 8 + 2], x: X.value![k * 3 + 1] })).filter((t) => t.x !== 0);
    const terms = p.page.locator('[data-testid="element-terms"]');
    assert.equal(Number(await terms.getAttribute('data-terms')), want.length);
    const total = Number(await terms.getAttribute('data-total'));
    const exact = want.reduce((a, t) => a + t.up * t.x, 0);
    assert.ok(Math.abs(total - exact) <= 1e-14 * want.reduce((a, t) => a + Math.abs(t.up * t.x), 0), `total ${total} vs ${exact}`);
    assert.ok(Math.abs(total - w.grad![7]) <= 1e-14 * want.reduce((a, t) => a + Math.abs(t.up * t.x), 0), `total ${total} vs the gradient ${w.grad![7]}`);
    const line = (await terms.textContent()) ?? '';
    for (const t of want) assert.ok(line.includes(`(${fmtChain(t.up)})·(${fmtChain(t.x)}) [m = [${t.k}, 2]]`), `the term for k = ${t.k} in: ${line}`);
    assert.match((await p.page.locator('[data-testid="element-chain"] h3').textContent()) ?? '', /Element \[2, 1\]/);
    assert.equal(await p.page.$$eval('table.values-value td.picked', (tds: any[]) => tds.map((td) => td.dataset.index)).then((x) => x.join()), '7');
    // a heatmap cell picks too; "clear" goes back to the whole tensor
    await p.page.click('[data-testid="heatmap-grad"] rect[data-index="0"]');
    await p.page.waitForSelector('[data-testid="element-chain"][data-element="0"]');
    await p.page.screenshot({ path: screenshotPath('inspector-element-chain-dark') });
    await p.page.click('[data-testid="element-chain"] a.node-link');
    await p.page.waitForSelector('[data-testid="element-hint"]');
  });

  it("one element's chain rule over six examples: the four largest terms in numbers, the other two summed as \"2 more terms\", and the total is the gradient", async () => {
    const p = await panel({ theme: 'light' });
    const s = snap('batch6');
    await p.showSnapshot(s, 1);
    await expandAll(p);
    const w = s.nodes.find((n) => n.leaf === 'param' && n.shape.length === 2)!;
    assert.deepEqual(w.shape, [1, 2]);
    await pickElement(p, w.id, 1);
    // ∂L/∂W[0,1] = Σₖ ∂L/∂Z[k,0]·X[k,1], k over the six examples
    const step = s.backward.find((st) => st.inputs.some((i) => i.input === w.id))!;
    const X = s.nodes[s.nodes[step.node].inputs.find((i) => i !== w.id)!];
    const products = [0, 1, 2, 3, 4, 5].map((k) => step.upstreamGrad![k] * X.value![k * 2 + 1]);
    const order = products.map((v, k) => ({ v, k })).sort((a, b) => Math.abs(b.v) - Math.abs(a.v) || a.k - b.k);
    const terms = p.page.locator('[data-testid="element-terms"]');
    assert.equal(Number(await terms.getAttribute('data-terms')), 6);
    const line = (await terms.textContent()) ?? '';
    for (const { k } of order.slice(0, 4)) assert.ok(line.includes(`[m = [${k}, 0]]`), `the term for k = ${k} in: ${line}`);
    for (const { k } of order.slice(4)) assert.ok(!line.includes(`[m = [${k}, 0]]`), `k = ${k} is one of the two summed: ${line}`);
    const rest = order.slice(4).reduce((a, t) => a + t.v, 0);
    assert.ok(line.includes(`+ ${fmtChain(rest)} (2 more terms) = `), `the two smallest summed (${rest}): ${line}`);
    const total = Number(await terms.getAttribute('data-total'));
    assert.ok(Math.abs(total - w.grad![1]) <= 1e-14 * products.reduce((a, v) => a + Math.abs(v), 0), `total ${total} vs the gradient ${w.grad![1]}`);
    await p.page.locator('[data-testid="element-chain"]').screenshot({ path: screenshotPath('inspector-element-chain-more-light') });
  });

  it("a node's value thumbnail is on its own tensor's scale and says so on hover: opacity |x| against the tensor's largest", async () => {
    const p = await panel({ theme: 'light' });
    const s = snap('mlp');
    await p.showSnapshot(s, 1);
    await expandAll(p);
    const thumbs = await p.page.$$eval('g.node[data-id] g.heat', (gs: any[]) => gs.filter((g) => g.querySelector('rect')).map((g) => ({
      id: Number(g.closest('g.node').dataset.id), title: g.querySelector(':scope > title')?.textContent ?? '',
      opacity: Array.from(g.querySelectorAll('rect'), (r: any) => Number(r.getAttribute('fill-opacity'))),
    })));
    assert.ok(thumbs.length >= 3, `${thumbs.length} thumbnails`);
    for (const t of thumbs) {
      const values = s.nodes[t.id].value!;
      const max = Math.max(...Array.from(values, (v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
      assert.equal(t.title, `Values. Colour: sign; opacity: |x| against this tensor's largest, ${formatNumber(max)}.`, `node ${t.id}`);
      t.opacity.forEach((o, i) => assert.ok(Math.abs(o - (max > 0 ? 0.15 + 0.85 * Math.abs(values[i]) / max : 0.15)) < 1e-9, `node ${t.id} cell ${i}: ${o}`));
    }
  });

  it('gradient magnitudes on one log scale: the legend gives its ends, the per-layer strip puts the 13 layers of a vanishing tanh stack on it (dark, light, high contrast; 620 and 1280 px)', async () => {
    for (const [theme, width] of [['dark', 1280], ['light', 620], ['high-contrast', 620], ['high-contrast', 1280]] as const) {
      const p = await panel({ theme, viewport: { width, height: 900 } });
      const s = snap('deep');
      await p.showSnapshot(s, 1);
      await p.page.waitForSelector('[data-testid="grad-strip"]:not([hidden])');
      // the ends: the smallest and largest mean |∂L/∂x| over the graph's nodes, computed here from the snapshot
      const mags = s.nodes.filter((n) => n.grad).map((n) => n.grad!.reduce((a, v) => a + Math.abs(v), 0) / n.grad!.length).filter((v) => v > 0);
      const lo = Math.min(...mags), hi = Math.max(...mags);
      const strip = p.page.locator('[data-testid="grad-strip"]');
      assert.ok(Math.abs(Number(await strip.getAttribute('data-lo')) / lo - 1) < 1e-12, 'the low end');
      assert.ok(Math.abs(Number(await strip.getAttribute('data-hi')) / hi - 1) < 1e-12, 'the high end');
      assert.ok(hi / lo > 1e3, `a vanishing stack spans orders of magnitude (${lo} … ${hi})`);
      const rows = await p.page.$$eval('[data-testid="grad-strip-layers"] g.gs-row', (gs: any[]) => gs.map((g) => ({ layer: g.dataset.layer, mean: Number(g.dataset.mean), width: Number(g.querySelector('rect.gs-bar').getAttribute('width')) })));
      const layers = (s.layers ?? []).slice().sort((a, b) => a.depth - b.depth);
      assert.deepEqual(rows.map((r) => r.layer), layers.map((l) => l.name), 'one row per layer, input first');
      assert.equal(rows.length, 13);
      // bar length is the position on the log scale
      const span = rows[0].width / Math.max(0.08, (Math.log10(rows[0].mean) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));
      for (const r of rows) {
        const at = Math.max(0.08, (Math.log10(r.mean) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)));
        assert.ok(Math.abs(r.width - Math.max(2, span * at)) < 0.01, `${r.layer}: width ${r.width} at ${at}`);
      }
      assert.ok(rows[0].width < rows[rows.length - 1].width, 'the input side is shorter: the gradient vanished there');
      // every node's ∂ bar is on the same scale: its length is the node's mean |∂L/∂x| on it (at least 2 px)
      const bars = await p.page.$$eval('g.node[data-id]', (gs: any[]) => gs.map((g) => ({
        id: Number(g.dataset.id), box: Number(g.querySelector('rect.box')?.getAttribute('width')),
        x: Number(g.querySelector('rect.gradbar')?.getAttribute('x')), width: Number(g.querySelector('rect.gradbar')?.getAttribute('width') ?? 0),
      })));
      let checked = 0;
      for (const b of bars) {
        const n = s.nodes[b.id];
        if (!n.grad) continue;
        const mag = n.grad.reduce((a, v) => a + Math.abs(v), 0) / n.grad.length;
        const at = mag > 0 ? Math.max(0.08, (Math.log10(mag) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) : 0;
        assert.ok(Math.abs(b.width - Math.max(2, (b.box - 2 * b.x) * at)) < 0.01, `node ${b.id} (${n.name ?? n.op}): bar ${b.width} px for ${mag} at ${at} of the scale`);
        checked++;
      }
      assert.ok(checked >= 20, `${checked} node bars checked`);
      // a row selects its layer's weight
      await p.page.click('[data-testid="grad-strip-layers"] g.gs-row[data-layer="layer3"]');
      const w = s.nodes.find((n) => n.leaf === 'param' && n.scope === 'layer3')!;
      await p.page.waitForFunction((id: number) => document.querySelector(`g.node.selected[data-id="${id}"]`) !== null || document.querySelector('.insp-name')?.textContent === 'weight', w.id);
      // its gradient heatmap: per tensor, the largest cell is opaque; on the graph's scale this vanished gradient is faint
      await p.page.waitForSelector('[data-testid="heatmap-grad"][data-scale="tensor"]');
      const largest = Math.max(...Array.from(w.grad!, Math.abs));
      assert.equal(await text(p, 'heat-legend-grad'), `Colour: sign; opacity: |x| against this tensor's largest, ${formatNumber(largest)}.`);
      const opacities = () => p.page.$$eval('[data-testid="heatmap-grad"] rect.cell', (rs: any[]) => rs.map((r) => Number(r.getAttribute('fill-opacity'))));
      assert.equal(Math.max(...(await opacities())), 1);
      await p.page.selectOption('[data-testid="heat-scale"]', 'graph');
      await p.page.waitForSelector('[data-testid="heatmap-grad"][data-scale="graph"]');
      const shared = await opacities();
      const at = (Math.log10(largest) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
      assert.ok(Math.abs(Math.max(...shared) - (0.08 + 0.92 * Math.max(0.08, at))) < 1e-9, `the largest cell sits at ${at} of the graph's scale: ${Math.max(...shared)}`);
      assert.ok(Math.max(...shared) < 0.6, 'a vanished gradient looks faint on the shared scale');
      assert.match(await text(p, 'heat-legend-grad'), /graph's log scale of mean gradients/);
      await p.page.screenshot({ path: screenshotPath(`grad-strip-deep-${theme}-${width}`) });
      await p.page.selectOption('[data-testid="heat-scale"]', 'tensor');
    }
  });

  it('examples/05 (ten tanh layers): fit, collapse-all and left-to-right keep the per-layer gradient strip, falling toward the input; the value heatmap has its legend', async () => {
    const p = await panel({ theme: 'dark' });
    const s = snap('tanh05');
    await p.showSnapshot(s, 1);
    const strip = async () => {
      await p.page.waitForSelector('[data-testid="grad-strip"]:not([hidden])');
      return p.page.$$eval('[data-testid="grad-strip-layers"] g.gs-row', (gs: any[]) => gs.map((g) => ({ layer: g.dataset.layer, mean: Number(g.dataset.mean) })));
    };
    const want = (s.layers ?? []).slice().sort((a, b) => a.depth - b.depth).map((l) => l.name);
    assert.equal(want.length, 10);
    for (const [what, act] of [
      ['fit', () => p.send({ type: 'command', command: 'fit' })],
      ['collapse-all', () => p.page.click('[data-testid="collapse-all"]')],
      ['left-to-right', () => p.page.click('[data-testid="direction"]')],
    ] as const) {
      await act();
      const rows = await strip();
      assert.deepEqual(rows.map((r) => r.layer), want, `${what}: one row per layer, input first`);
      assert.ok(rows[0].mean < rows[rows.length - 1].mean / 100, `${what}: the gradient vanishes toward the input (${rows[0].mean} vs ${rows[rows.length - 1].mean})`);
      await p.page.screenshot({ path: screenshotPath(`vanishing-05-${what}-dark`) });
    }
    // a weight's value heatmap says how it is coloured
    const w = s.nodes.find((n) => n.leaf === 'param' && n.scope === 'layer0' && n.shape.length === 2)!;
    await p.page.click('[data-testid="grad-strip-layers"] g.gs-row[data-layer="layer0"]');
    await p.page.waitForSelector('[data-testid="heatmap-value"]');
    const largest = Math.max(...Array.from(w.value!, Math.abs));
    assert.equal(await text(p, 'heat-legend-value'), `Colour: sign; opacity: |x| against this tensor's largest, ${formatNumber(largest)}.`);
  });

  it("the lecture's f(x) = x·sin(x²) + 1: the output and x show f against x with the tangent at −2, its slope the gradient (−5.99)", async () => {
    for (const theme of ['light', 'dark'] as const) {
      const p = await panel({ theme });
      const s = snap('lecture');
      await p.showSnapshot(s, 1);
      const x = s.nodes.find((n) => n.name === 'x')!;
      const f = s.nodes[s.output];
      assert.ok(x.curve && Math.abs(x.scalarGrad! - (Math.sin(4) + 8 * Math.cos(4))) < 1e-12, 'the engine gives the curve and f′(−2)');
      for (const id of [f.id, x.id]) {
        await p.page.click(`g.node[data-id="${id}"]`);
        await p.page.waitForSelector(`.insp-name:text-is("${id === f.id ? 'f' : 'x'}")`);
        const sec = p.page.locator('[data-testid="tangent"]');
        assert.equal(Number(await sec.getAttribute('data-slope')), x.scalarGrad, 'the slope is the gradient of x');
        assert.equal(Number(await sec.getAttribute('data-y0')), f.scalar);
        assert.equal(await sec.locator('h3').textContent(), 'f as a function of x');
        assert.equal(await p.page.locator('[data-testid="tangent-equation"]').innerText(), `tangent: y = ${formatNumber(f.scalar!)} − ${formatNumber(-x.scalarGrad!)}·(x + 2)`);
        assert.match((await sec.textContent()) ?? '', new RegExp(`∂f/∂x = ${formatNumber(x.scalarGrad!).replace('.', '\\.')}`));
      }
      // the point sits on the drawn curve and on the tangent: the curve's vertex 40 (x = −2) is the
      // point, and the tangent's end points are on one line through it
      const geo = await p.page.evaluate(() => {
        const c = document.querySelector('[data-testid="tangent"] circle.tangent-point');
        const nums = (d: string) => (d.match(/-?[\d.]+(e-?\d+)?/g) ?? []).map(Number);
        const curve = nums(document.querySelector('[data-testid="tangent"] path.tangent-curve').getAttribute('d'));
        const tan = nums(document.querySelector('[data-testid="tangent-tangent"]').getAttribute('d'));
        return { cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')), curve, tan };
      });
      assert.equal(geo.curve.length, 2 * 81, 'all 81 points are drawn (no gaps)');
      assert.ok(Math.abs(geo.curve[80] - geo.cx) < 0.01 && Math.abs(geo.curve[81] - geo.cy) < 0.01, `the middle vertex (${geo.curve[80]}, ${geo.curve[81]}) is the point (${geo.cx}, ${geo.cy}); d3 writes paths to 3 decimals`);
      const [x1, y1, x2, y2] = geo.tan;
      const cross = (x2 - x1) * (geo.cy - y1) - (y2 - y1) * (geo.cx - x1);
      assert.ok(Math.abs(cross) / Math.hypot(x2 - x1, y2 - y1) < 0.01, 'the tangent passes through the point');
      // a node with no curve (the square) shows none
      await p.page.click(`g.node[data-id="${s.nodes.find((n) => n.name === 'square')!.id}"]`);
      await p.page.waitForSelector('.insp-name:text-is("square")');
      assert.equal(await p.page.$('[data-testid="tangent"]'), null);
      await p.page.click(`g.node[data-id="${f.id}"]`);
      await p.page.waitForSelector('[data-testid="tangent"]');
      await p.page.screenshot({ path: screenshotPath(`inspector-tangent-${theme}`) });
    }
  });

  it('loads a tensor above maxElements on demand: the fetch button asks the host, its answer fills the inspector', async () => {
    const p = await panel({ theme: 'light' });
    const full = snap('mlp');
    // what the panel sends when payloads are over the limit: values and gradients of h are null
    const s = limitSnapshot(full, 8);
    const h = s.nodes.find((n) => n.name === 'h')!;
    assert.equal(h.value, null);
    assert.deepEqual(h.shape, [4, 8]);
    await p.showSnapshot(s, 1);
    await p.page.click(`g.node[data-id="${h.id}"]`);
    await p.page.waitForSelector('[data-testid="fetch-value"]');
    assert.ok(await p.page.$('[data-testid="fetch-grad"]'), 'the gradient can be loaded too');
    assert.equal(await p.page.$('[data-testid="heatmap-value"]'), null, 'no values before they are loaded');
    await p.page.click('[data-testid="fetch-value"]');
    const req = await lastOf(p, 'fetchTensor');
    assert.ok(req && Number.isInteger(req.requestId), 'a fetchTensor request');
    assert.deepEqual(req, { type: 'fetchTensor', requestId: req.requestId, node: h.id, which: 'value' });

    const values = full.nodes[h.id].value!;
    await p.send({ type: 'tensorData', requestId: req.requestId, node: h.id, which: 'value', data: values });
    await p.page.waitForSelector('[data-testid="heatmap-value"]');
    assert.equal(await p.page.$$eval('[data-testid="heatmap-value"] rect.cell', (rs: any[]) => rs.length), 32, '4 × 8 heatmap cells');
    const cells = await p.page.$$eval('table.values-value td', (tds: any[]) => tds.map((td) => td.textContent));
    assert.deepEqual(cells, Array.from(values, formatNumber), 'the table shows every loaded value');
    assert.equal(await p.page.$('[data-testid="fetch-value"]'), null, 'the button is gone once loaded');
    await p.page.screenshot({ path: screenshotPath('inspector-fetched-light') });

    // a tensor the host no longer has: its reason is shown instead
    await p.page.click('[data-testid="fetch-grad"]');
    const gradReq = (await lastOf(p, 'fetchTensor'))!;
    assert.deepEqual({ node: gradReq.node, which: gradReq.which }, { node: h.id, which: 'grad' });
    assert.ok(gradReq.requestId > req.requestId);
    await p.send({ type: 'tensorData', requestId: gradReq.requestId, node: h.id, which: 'grad', data: null, reason: 'larger than 1048576 elements: only its summary is kept' });
    await p.page.waitForFunction(() => document.querySelector('[data-testid="inspector"]').innerText.includes('only its summary is kept'));
    assert.equal(await p.page.$('[data-testid="fetch-grad"]'), null);
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
