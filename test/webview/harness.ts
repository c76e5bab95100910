/**
 * Drives the real webview bundle in Debian's Chromium: the page comes from `webviewHtml()` with its
 * real CSP, media/ is served from a second origin (as VS Code serves webview resources), and a fake
 * `acquireVsCodeApi` records what the panel posts and saves. Host messages are delivered as
 * `message` events on window, the way VS Code delivers them.
 */
import * as assert from 'node:assert/strict';
import { CHROMIUM_ARGS, findChromium } from '../browser';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { snapshotToJSON, type GraphSnapshot } from '../../engine/trace/snapshot';
import { ModelRunner } from '../../extension/runner/runner';
import type { HostMessage, UiState, WebviewMessage } from '../../extension/protocol';
import { webviewHtml } from '../../extension/webviewHtml';
import { THEMES, type ThemeName } from './themes';

export const ROOT = path.resolve(__dirname, '..', '..');
export const RESULTS = path.join(ROOT, 'test-results', 'webview');

export function build(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.svg': 'image/svg+xml', '.map': 'application/json',
};

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

export interface Served {
  pageUrl: string;
  mediaOrigin: string;
  close(): Promise<void>;
}

/** Two origins: the page (like vscode-webview://) and media/ (like the webview resource host). */
export async function serve(): Promise<Served> {
  const mediaDir = path.join(ROOT, 'media');
  const media = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const file = path.resolve(mediaDir, rel);
    if (!file.startsWith(mediaDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Access-Control-Allow-Origin': '*' });
    res.end(fs.readFileSync(file));
  });
  const mediaOrigin = await listen(media);
  const html = webviewHtml({
    cspSource: mediaOrigin,
    scriptUri: `${mediaOrigin}/webview.js`,
    styleUri: `${mediaOrigin}/webview.css`,
    codiconsUri: `${mediaOrigin}/codicons/codicon.css`,
    layoutWorkerUri: `${mediaOrigin}/layout-worker.js`,
  });
  const page = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  const pageUrl = await listen(page);
  const close = (s: http.Server) => new Promise<void>((r) => s.close(() => r()));
  return { pageUrl, mediaOrigin, close: async () => { await Promise.all([close(media), close(page)]); } };
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    args: [...CHROMIUM_ARGS, '--disable-gpu'],
  });
}

/** Traces model sources with the real runner (the extension's own path to a snapshot). */
export async function traceModels(models: Record<string, string>): Promise<Record<string, { file: string; source: string; snapshot: GraphSnapshot }>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-webview-'));
  const runner = new ModelRunner(path.join(ROOT, 'dist'));
  const out: Record<string, { file: string; source: string; snapshot: GraphSnapshot }> = {};
  try {
    for (const [name, source] of Object.entries(models)) {
      const file = path.join(dir, `${name}.ts`);
      fs.writeFileSync(file, source);
      const r = await runner.run(file);
      if (!r.ok) throw new Error(`${name}: ${r.errors.map((e) => `${e.line}: ${e.message}`).join('; ')}`);
      out[name] = { file, source, snapshot: r.snapshot };
    }
  } finally {
    runner.dispose();
  }
  return out;
}

/** The 1-based line of the first line of `source` that contains `text`. */
export function lineOf(source: string, text: string): number {
  const i = source.split('\n').findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`'${text}' not in the model source`);
  return i + 1;
}

export interface PanelPage {
  page: Page;
  consoleErrors: string[];
  posted(): Promise<WebviewMessage[]>;
  violations(): Promise<string[]>;
  send(m: HostMessage): Promise<void>;
  /** Sends a snapshot message and waits until it is drawn. */
  showSnapshot(s: GraphSnapshot, runId: number, fileName?: string): Promise<void>;
  savedState(): Promise<UiState | null>;
}

// The page's globals, as the tests see them (this file is compiled without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;

export async function openPanel(
  browser: Browser, url: string,
  /** `beforeLoad`: runs before the page loads (init scripts that must come before the panel's own, e.g. a fake Worker). */
  /** `motion`: the user's motion preference (default 'reduce', so screenshots do not catch an animation midway). */
  opts: { theme?: ThemeName; state?: UiState | null; viewport?: { width: number; height: number }; beforeLoad?: (page: Page) => Promise<void>; motion?: 'reduce' | 'no-preference' } = {},
): Promise<PanelPage> {
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 }, reducedMotion: opts.motion ?? 'reduce' });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  // tsx compiles this file with esbuild's keepNames, which wraps functions in `__name(...)`; the
  // functions handed to the page need that helper there too.
  await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  await page.addInitScript((initial: UiState | null) => {
    const w = window as any;
    w.__posted = [];
    w.__violations = [];
    w.__state = initial;
    document.addEventListener('securitypolicyviolation', (e: any) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    w.acquireVsCodeApi = () => ({
      postMessage: (m: unknown) => w.__posted.push(m),
      getState: () => w.__state,
      setState: (s: unknown) => { w.__state = s; },
    });
    // What VS Code does with tensor payloads: they arrive as Float64Arrays, not JSON arrays.
    const f64 = (v: any) => (Array.isArray(v) ? Float64Array.from(v, Number) : v);
    w.__revive = (m: any) => {
      if (m.type !== 'snapshot') return m;
      const s = m.snapshot;
      for (const n of s.nodes) { n.value = f64(n.value); n.grad = f64(n.grad); }
      for (const st of s.backward) {
        st.upstreamGrad = f64(st.upstreamGrad);
        for (const i of st.inputs) {
          i.localGrad = typeof i.localGrad === 'number' ? i.localGrad : f64(i.localGrad);
          i.contribution = f64(i.contribution); i.accumulatedGrad = f64(i.accumulatedGrad); i.previousGrad = f64(i.previousGrad);
        }
      }
      return m;
    };
  }, opts.state ?? null);
  await opts.beforeLoad?.(page);
  await page.goto(url);
  try {
    await page.waitForFunction(() => (window as any).__posted.some((m: any) => m.type === 'ready'), undefined, { timeout: 20_000 });
  } catch (err) {
    throw new Error(`the panel never posted 'ready': ${consoleErrors.join('; ') || String(err)}`);
  }
  if (opts.theme) await applyTheme(page, opts.theme);
  const send = async (m: HostMessage) => {
    const wire = m.type === 'snapshot' ? { ...m, snapshot: snapshotToJSON(m.snapshot) } : m;
    // resolves once the panel has handled the message: a marker posted after it arrives after it
    // (posted messages are delivered in order; the marker has no `type`, so the panel ignores it)
    await page.evaluate((msg: unknown) => new Promise<void>((resolve) => {
      const marker = `__sent:${Math.random()}`;
      const done = (e: any) => {
        if (e.data !== marker) return;
        window.removeEventListener('message', done);
        resolve();
      };
      window.addEventListener('message', done);
      window.postMessage((window as any).__revive(msg), '*');
      window.postMessage(marker, '*');
    }), wire as unknown);
  };
  return {
    page,
    consoleErrors,
    posted: () => page.evaluate(() => (window as any).__posted),
    violations: () => page.evaluate(() => (window as any).__violations),
    savedState: () => page.evaluate(() => (window as any).__state),
    send,
    showSnapshot: async (snapshot, runId, fileName) => {
      await send({ type: 'snapshot', runId, file: snapshot.file, fileName: fileName ?? path.basename(snapshot.file), snapshot });
      await page.waitForSelector(`#app[data-rendered="${runId}"]`);
    },
  };
}

/** The --vscode-* variables and body classes VS Code puts on a webview for a theme. */
export async function applyTheme(page: Page, theme: ThemeName): Promise<void> {
  const t = THEMES[theme];
  await page.evaluate(({ vars, bodyClass, kind }: { vars: Record<string, string>; bodyClass: string; kind: string }) => {
    const root = document.documentElement;
    for (const [k, v] of Object.entries(vars)) root.style.setProperty(k, v);
    document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast');
    document.body.classList.add(bodyClass);
    document.body.dataset.vscodeThemeKind = kind;
  }, t);
}

export function screenshotPath(name: string): string {
  fs.mkdirSync(RESULTS, { recursive: true });
  return path.join(RESULTS, `${name}.png`);
}

/**
 * Registers a suite's browser lifecycle: build, serve and launch before, close after, and after
 * every test the same checks on each panel it opened (no CSP violations, no console errors, no
 * `error` posted to the host). Returns the function that opens a panel.
 */
export function usePanels(): (opts?: Parameters<typeof openPanel>[2]) => Promise<PanelPage> {
  let served: Served | null = null;
  let browser: Browser | null = null;
  const open: PanelPage[] = [];
  before(async function () {
    this.timeout(240_000);
    build();
    served = await serve();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await served?.close();
  });
  afterEach(async function () {
    for (const p of open.splice(0)) {
      assert.deepEqual(await p.violations(), [], `CSP violations in "${this.currentTest?.title}"`);
      assert.deepEqual(p.consoleErrors, [], `console errors in "${this.currentTest?.title}"`);
      assert.ok(!(await p.posted()).some((m) => m.type === 'error'), 'the panel reported an error');
      await p.page.context().close();
    }
  });
  return async (opts = {}) => {
    const p = await openPanel(browser!, served!.pageUrl, opts);
    open.push(p);
    return p;
  };
}
