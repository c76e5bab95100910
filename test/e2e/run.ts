/**
 * `npm run test:e2e`: Backprop Lens in real VS Code (code-server 4.100.3 = VS Code 1.100.3) driven by
 * Chromium through playwright-core, as a user drives it. See docs/testing.md for the recipe.
 *
 *   1. build if dist/ or media/ is older than the sources; install code-server once (offline);
 *   2. copy examples/ into a temporary workspace; start code-server (trusted) with the extension and
 *      the test-only integration extension; run the UI cases; run the integration suite inside the
 *      same extension host (results JSON written to a file named by BPL_INTEGRATION_RESULTS);
 *   3. a second code-server without --disable-workspace-trust: Restricted Mode runs nothing;
 *   4. screenshots and logs in test-results/e2e/; servers and browser always stopped.
 *
 * Environment: CHROME_PATH (a Chromium/Chrome binary), E2E_HEADED=1 (show the browser),
 * E2E_ONLY=<substring> (run only matching cases).
 */
import '../verify-snapshots';
import { CHROMIUM_ARGS, findChromium } from '../browser';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { CodeServer } from '../../scripts/code-server.mjs';
import { buildIntegration } from '../integration/build';
import { caseCodeLens, caseDiagnostics, caseReload, caseRestricted, caseRevealSource, caseShowGraph, caseStepBackward, caseTrain, caseTrainClose, caseTrainVanishing, caseTrainTorch, caseTrainCnn, caseTrainWebGpu, caseThemes, caseTrainingTools, caseOwnOrigin, caseTensorsAndTools } from './cases';
import { ModelRunner } from '../../extension/runner/runner';
import { Harness } from './harness';
import { caseNumbers, caseNumbersAtSteps } from './numbers';
import { OWN_ORIGIN_CHROMIUM_ARGS, SCREENSHOT_DIR, webviewsOnOwnOrigin, Workbench } from './workbench';

const ROOT = path.resolve(__dirname, '..', '..');
const WATCHDOG_MS = 12 * 60_000;
const VIEWPORT = { width: 1400, height: 900 };

function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

/** Newest modification time of the files under `dir` (recursively, skipping node_modules). */
function newest(dir: string): number {
  let t = 0;
  if (!fs.existsSync(dir)) return t;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

function buildIfNeeded(): void {
  const outputs = ['dist/extension.js', 'dist/worker.js', 'dist/bundler.js'].map((f) => path.join(ROOT, f));
  if (fs.existsSync(path.join(ROOT, 'webview', 'main.ts'))) outputs.push(path.join(ROOT, 'media', 'webview.js'));
  const sources = Math.max(...['extension', 'webview', 'engine'].map((d) => newest(path.join(ROOT, d))));
  const stale = outputs.some((o) => !fs.existsSync(o) || fs.statSync(o).mtimeMs < sources);
  if (!stale) return;
  log('building (node scripts/build.mjs)…');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

/** The loss at every recorded step of an example's CPU run (the runner the extension uses, in this process). */
async function cpuLosses(file: string): Promise<Map<number, number>> {
  const runner = new ModelRunner(path.join(ROOT, 'dist'));
  try {
    const out = await (await runner.train(path.join(ROOT, 'examples', file))).done;
    if (!out.ok) throw new Error(`the CPU run of ${file} failed: ${out.errors[0].message}`);
    return new Map(out.result.history.map((h) => [h.step, h.loss]));
  } finally {
    runner.dispose();
  }
}

async function main(): Promise<number> {
  const h = new Harness();
  fs.rmSync(SCREENSHOT_DIR, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const only = process.env.E2E_ONLY;
  const want = (name: string) => !only || name.toLowerCase().includes(only.toLowerCase());

  buildIfNeeded();
  const cs = await import(pathToFileURL(path.join(ROOT, 'scripts', 'code-server.mjs')).href) as typeof import('../../scripts/code-server.mjs');
  const { chromium } = await import('playwright-core');
  const executablePath = findChromium();
  cs.ensureCodeServer();
  const integration = await buildIntegration();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-e2e-'));
  const servers: CodeServer[] = [];
  let browser: Browser | null = null;
  const consoleLog: string[] = [];
  const cleanup = async () => {
    await browser?.close().catch(() => undefined);
    browser = null;
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
    fs.writeFileSync(path.join(SCREENSHOT_DIR, 'browser-console.log'), consoleLog.join('\n'));
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const watchdog = setTimeout(() => {
    log(`e2e: still running after ${WATCHDOG_MS / 60000} min; stopping`);
    void cleanup().finally(() => process.exit(1));
  }, WATCHDOG_MS);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => void cleanup().finally(() => process.exit(130)));
  }

  try {
    browser = await chromium.launch({
      executablePath,
      headless: process.env.E2E_HEADED !== '1',
      args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'],
    });
    log(`browser: ${executablePath} (${browser.version()})`);

    const newPage = async (session: string): Promise<Page> => {
      const page = await browser!.newPage({ viewport: VIEWPORT });
      page.setDefaultTimeout(20_000);
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') consoleLog.push(`[${session}] ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => consoleLog.push(`[${session}] pageerror: ${e.message}`));
      return page;
    };
    const workspaceCopy = (name: string) => {
      const dir = path.join(tmp, name);
      fs.cpSync(path.join(ROOT, 'examples'), dir, { recursive: true });
      return dir;
    };

    // ── trusted session ──────────────────────────────────────────────────────────────────────────
    const trustedCases: [string, (wb: Workbench, ws: string) => Promise<void>][] = [
      ['a. Show Graph from the command palette: named nodes with values and gradients', (wb) => caseShowGraph(wb)],
      ['f. CodeLens "Show Graph" above export default', (wb) => caseCodeLens(wb)],
      ['b. step the backward pass: gradients appear node by node, chain rule numbers', (wb) => caseStepBackward(wb)],
      ['c. click a node: the editor reveals its line', (wb, ws) => caseRevealSource(wb, ws)],
      ['d. a syntax error becomes a diagnostic and shows in the panel; fixing clears it', (wb, ws) => caseDiagnostics(wb, ws)],
      ['g. after Reload Window the panel comes back with its graph', (wb) => caseReload(wb)],
      ['h. train the moons example in the panel: falling loss, pause, one step, resume, reset', (wb) => caseTrain(wb)],
      ['m. close the panel while it trains: the training run and its model process end', (wb) => caseTrainClose(wb)],
      ['i. train the vanishing example: the diagnosis names the layer and the fixes; histograms', (wb) => caseTrainVanishing(wb)],
      ['p. high contrast, light and dark, at the default width and maximized: graph, training view, playground and boundary fit', (wb, ws) => caseThemes(wb, ws)],
      ['q. the training view\'s tools: gradient strip of examples/05, cosine LR card, smoothing, the file-changed notice and a run of the saved version', (wb, ws) => caseTrainingTools(wb, ws)],
      ['s. tensors and tools against the CLI: one element\'s chain rule adds up to its gradient, the inspector keeps the output in view, nothing animates forever, the Hessian card, the gradient check on screen, whole-run histograms, each Quick Fix once, the trace card', (wb, ws) => caseTensorsAndTools(wb, ws)],
      ['o. train the digits CNN in the panel: validation accuracy of 95% or more in the Accuracy card', (wb) => caseTrainCnn(wb)],
      ['n. train a PyTorch script that calls watch(model): its loss as the CLI has it, histograms, the vanishing layer named', (wb, ws) => caseTrainTorch(wb, ws)],
      ['j. train XOR and moons on WebGPU in the panel: the loss history matches the CPU run', (wb, ws) => caseTrainWebGpu(wb, ws, cpuLosses)],
      ['k. numbers: every example\'s node faces, chain rule and inspector show the CLI snapshot\'s numbers', (wb, ws) => caseNumbers(wb, ws)],
      ['l. numbers: a training file at steps 0, 1 and 5: the panel shows trace --at-step N\'s numbers', (wb, ws) => caseNumbersAtSteps(wb, ws)],
    ];
    const integrationName = 'integration suite (vscode API) inside code-server';
    const ownOriginName = 'r. webviews on an origin of their own (as VS Code desktop and vscode.dev): a reloaded panel still draws; the last panel closed leaves no service-worker registration, so the next registers afresh';
    if (trustedCases.some(([n]) => want(n)) || want(integrationName) || want(ownOriginName)) {
      const ws = workspaceCopy('trusted');
      const resultsFile = path.join(tmp, 'integration-results.json');
      const extDir = cs.prepareExtensionsDir(path.join(tmp, 'extensions'), [integration.hostExtension]);
      log(`\ncode-server (trusted workspace ${ws})`);
      const server = await cs.startCodeServer({
        workspace: ws, extensionsDir: extDir, userDataDir: path.join(tmp, 'user-trusted'), trust: true,
        env: { BPL_INTEGRATION_RESULTS: resultsFile },
        // the other training cases train on the CPU; case j sets "webgpu" in the workspace's settings
        settings: { 'workbench.colorTheme': 'Default Dark Modern', 'backpropLens.backend': 'cpu' },
        logFile: path.join(SCREENSHOT_DIR, 'code-server-trusted.log'),
      });
      servers.push(server);
      const page = await newPage('trusted');
      const wb = new Workbench(page);
      const shot = async (slug: string) => {
        log((await wb.describe().catch((e) => `(no workbench state: ${(e as Error).message})`)).replace(/^/gm, '      | '));
        await wb.screenshot(slug);
      };
      let ready = await h.case('workbench loads with the extension installed', async () => {
        await page.goto(server.folderUrl);
        await wb.waitReady();
      }, shot);
      for (const [name, fn] of trustedCases) {
        if (!want(name)) continue;
        if (!ready) h.skip(name, 'the workbench did not load');
        else await h.case(name, () => fn(wb, ws), shot);
      }
      if (want(integrationName)) {
        if (!ready) h.skip(integrationName, 'the workbench did not load');
        else await h.case(integrationName, async () => {
          await wb.runCommand('Backprop Lens Tests: Run Integration Suite');
          const deadline = Date.now() + 180_000;
          while (!fs.existsSync(resultsFile)) {
            if (Date.now() > deadline) throw new Error('the integration suite wrote no results within 3 minutes (see the "Backprop Lens Tests" output channel)');
            await page.waitForTimeout(250); // polling the results file
          }
          const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as { vscodeVersion: string; passes: number; failures: number; tests: { title: string; state: string; error?: string }[] };
          fs.copyFileSync(resultsFile, path.join(SCREENSHOT_DIR, 'integration-results.json'));
          log(`      VS Code ${r.vscodeVersion}: ${r.passes} passed, ${r.failures} failed`);
          for (const t of r.tests) log(`      ${t.state === 'passed' ? '✓' : t.state === 'failed' ? '✗' : '-'} ${t.title}${t.error ? `\n${t.error.split('\n').slice(0, 6).join('\n').replace(/^/gm, '          ')}` : ''}`);
          await wb.screenshot('11-after-integration');
          if (r.failures > 0) throw new Error(`${r.failures} integration test(s) failed`);
          if (r.passes === 0) throw new Error('the integration suite ran no tests');
        }, shot);
      }
      if (want(ownOriginName)) {
        if (!ready) h.skip(ownOriginName, 'the workbench did not load');
        else {
          // a second window of the same code-server, in a browser of its own (see OWN_ORIGIN_CHROMIUM_ARGS)
          const own = await chromium.launch({ executablePath, headless: process.env.E2E_HEADED !== '1', args: [...CHROMIUM_ARGS, ...OWN_ORIGIN_CHROMIUM_ARGS] });
          try {
            const p = await (await own.newContext({ viewport: VIEWPORT })).newPage(); // a context: the case opens a second page in it
            p.setDefaultTimeout(20_000);
            p.on('pageerror', (e) => consoleLog.push(`[own origin] pageerror: ${e.message}`));
            await webviewsOnOwnOrigin(p, new URL(server.url).port);
            const owb = new Workbench(p);
            await h.case(ownOriginName, async () => {
              await p.goto(server.folderUrl);
              await owb.waitReady();
              await caseOwnOrigin(owb);
            }, (slug) => owb.screenshot(slug).then(() => undefined));
          } finally {
            await own.close();
          }
        }
      }
      ready = false;
      await page.close();
      await server.stop();
    }

    // ── Restricted Mode session ──────────────────────────────────────────────────────────────────
    const restrictedName = 'e. Restricted Mode: Show Graph runs nothing and says why';
    if (want(restrictedName)) {
      const ws = workspaceCopy('untrusted');
      log(`\ncode-server (untrusted workspace ${ws})`);
      const server = await cs.startCodeServer({
        workspace: ws, extensionsDir: cs.prepareExtensionsDir(path.join(tmp, 'extensions-untrusted')), userDataDir: path.join(tmp, 'user-untrusted'), trust: false,
        settings: { 'workbench.colorTheme': 'Default Light Modern' },
        logFile: path.join(SCREENSHOT_DIR, 'code-server-untrusted.log'),
      });
      servers.push(server);
      const page = await newPage('untrusted');
      const wb = new Workbench(page);
      await h.case(restrictedName, async () => {
        await page.goto(server.folderUrl);
        await wb.waitReady();
        await caseRestricted(wb);
      }, (slug) => wb.screenshot(slug).then(() => undefined));
      await page.close();
    }
  } catch (e) {
    h.fail('e2e setup', e);
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
  log(h.summary());
  return h.failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`e2e: ${(e as Error)?.stack ?? e}`);
    process.exit(1);
  },
);
