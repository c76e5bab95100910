/**
 * Layouts in the real panel (Chromium, the real bundle and its layout worker): a deep scalar chain is
 * drawn, laid out in the worker, whose stack is about half the main thread's; a layout that fails
 * says so in the canvas instead of leaving it blank.
 */
import * as assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { GraphSnapshot } from '../../engine/trace/snapshot';
import { build, launch, openPanel, screenshotPath, serve, traceModels, type PanelPage, type Served } from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;

const OPS = 2_500;
const MODELS = {
  // OPS ops, each with the constant it makes from a number, after one leaf: 2·OPS + 1 nodes
  chain: `import { scalar } from 'backprop-lens';
let h = scalar(0.5);
for (let i = 0; i < ${OPS}; i++) h = i % 2 ? h.mul(1.0001) : h.add(0.001);
export default h;
`,
  addmul: `import { scalar } from 'backprop-lens';
const x = scalar(-2);
const f = x.add(scalar(5)).mul(scalar(-4));
export default f;
`,
};

/** Replaces the panel's Worker before its first layout with one that answers every layout with `error`. */
/**
 * A Worker whose layouts all fail with `error`, installed before the panel's script runs (the
 * panel starts its layout worker as it loads).
 */
const failingWorker = (error: string) => async (page: Page): Promise<void> => {
  await page.addInitScript((message: string) => {
    window.Worker = class {
      onmessage: ((e: { data: unknown }) => void) | null = null;
      onerror: (() => void) | null = null;
      postMessage(req: { id: number }) {
        queueMicrotask(() => this.onmessage?.({ data: { id: req.id, nodes: {}, clusters: {}, edges: {}, width: 0, height: 0, error: message } }));
      }
      terminate() {}
    };
  }, error);
};

const send = (p: PanelPage, s: GraphSnapshot, runId: number) => p.send({ type: 'snapshot', runId, file: s.file, fileName: 'model.ts', snapshot: s });

describe('webview: layouts of deep graphs, and layout failures', function () {
  this.timeout(300_000);
  let served: Served;
  let browser: Browser;
  let traced: Awaited<ReturnType<typeof traceModels>>;
  const pages: PanelPage[] = [];
  before(async function () {
    build();
    served = await serve();
    browser = await launch();
    traced = await traceModels(MODELS);
  });
  after(async () => {
    await browser?.close();
    await served?.close();
  });
  afterEach(async () => {
    for (const p of pages.splice(0)) {
      assert.deepEqual(await p.violations(), [], 'CSP violations');
      await p.page.context().close();
    }
  });
  const open = async (beforeLoad?: (page: Page) => Promise<void>) => {
    const p = await openPanel(browser, served.pageUrl, { theme: 'light', beforeLoad });
    pages.push(p);
    return p;
  };

  it(`draws a chain of ${OPS} ops (${2 * OPS + 1} nodes), laid out in the worker, every node placed`, async () => {
    const p = await open();
    const s = traced.chain.snapshot;
    assert.equal(s.nodes.length, 2 * OPS + 1);
    await send(p, s, 1);
    await p.page.waitForSelector('#app[data-rendered="1"], #app[data-layout-failed]');
    const got = await p.page.evaluate(() => {
      const app = document.getElementById('app');
      const moves = [...document.querySelectorAll('g.node')].map((g: any) => /translate\(([^,]+),([^)]+)\)/.exec(g.getAttribute('transform') ?? ''));
      return {
        rendered: app.dataset.rendered, layout: app.dataset.layout, failed: app.dataset.layoutFailed ?? null,
        nodes: moves.length, placed: moves.filter((m: any) => m && Number.isFinite(Number(m[1])) && Number.isFinite(Number(m[2]))).length,
        edges: document.querySelectorAll('path.edge[d^="M"]').length,
      };
    });
    assert.equal(got.failed, null, 'no layout failure');
    assert.equal(got.rendered, '1');
    assert.equal(got.layout, 'worker', 'laid out in the worker');
    assert.equal(got.nodes, s.nodes.length, 'a node element for every node');
    assert.equal(got.placed, s.nodes.length, 'every node at finite coordinates');
    assert.equal(got.edges, s.nodes.reduce((k, n) => k + n.inputs.length, 0), 'every edge drawn');
    assert.deepEqual(p.consoleErrors, []);
    assert.ok(!(await p.posted()).some((m) => m.type === 'error'), 'no error posted');
    await p.page.screenshot({ path: screenshotPath('layout-deep-chain') });
  });

  it('a layout that fails shows why in the canvas (not a blank one) and tells the host', async () => {
    const p = await open(failingWorker('dagre gave up (a test failure)'));
    await send(p, traced.addmul.snapshot, 1);
    await p.page.waitForSelector('#app[data-layout-failed="1"]');
    const note = p.page.locator('[data-testid="layout-error"]');
    assert.ok(await note.isVisible(), 'the message is visible');
    assert.equal(await note.getAttribute('role'), 'alert');
    assert.equal(await note.textContent(), 'The graph could not be laid out: dagre gave up (a test failure)');
    assert.equal(await p.page.locator('g.node').count(), 0, 'nothing half drawn');
    const errors = (await p.posted()).filter((m) => m.type === 'error');
    assert.deepEqual(errors.map((m: any) => m.message), ['layout failed: dagre gave up (a test failure)']);
    await p.page.screenshot({ path: screenshotPath('layout-failed') });
  });

  it('a stack overflow in the worker is redone on the main thread, whose stack is larger', async () => {
    const p = await open(failingWorker('Maximum call stack size exceeded'));
    await p.showSnapshot(traced.addmul.snapshot, 1);
    assert.equal(await p.page.evaluate(() => document.getElementById('app').dataset.layout), 'main');
    assert.equal(await p.page.locator('g.node').count(), traced.addmul.snapshot.nodes.length);
    assert.equal(await p.page.locator('[data-testid="layout-error"]').count(), 0);
    assert.deepEqual(p.consoleErrors, []);
  });
});
