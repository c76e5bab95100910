/**
 * Latency to the first graph (issue 14): in real VS Code (code-server + Chromium, as the e2e run
 * drives it), the time from pressing Enter on "Backprop Lens: Show Graph" to the graph drawn in the
 * webview (`#app[data-rendered]` changes: the snapshot was laid out and its nodes rendered), for
 *   cold   the first Show Graph after the window loaded (Reload Window before each repetition; the
 *          file is opened and its CodeLens shown first, as a user sees it),
 *   rerun  "Backprop Lens: Re-run" with the panel open,
 *   reopen the panel closed, the file opened again, Show Graph,
 * and `backprop-lens trace FILE --json` on the command line (wall time and CPU time of the process).
 * The runner's own figures (bundle / run ms, from the "Backprop Lens" output channel) are printed
 * next to each. Figures only: nothing here asserts a time.
 *
 * Each case runs with the webviews on two kinds of origin (a fresh browser for each):
 *   shared  code-server as shipped: every webview on the workbench's own origin;
 *   own     as VS Code desktop and vscode.dev serve them: each extension's webview type on its own
 *           origin (`<hash>.localhost` here; the workbench's page is rewritten on its way to the
 *           browser so that its webview endpoint is `http://{{uuid}}.localhost:PORT/...`, which VS
 *           Code fills in as vscode.dev fills in `{{uuid}}.vscode-cdn.net`).
 * A new panel of ours only skips VS Code's service-worker swap on an origin of its own
 * (webview/serviceWorker.ts).
 *
 *   npm run bench:latency                          table
 *   npm run bench:latency -- --json                the last stdout line is one JSON object
 *   options: --cold=N (default 3) --warm=N (default 4) --cli=N (default 5)
 *   env: BENCH_EXAMPLES=01-add-mul.ts,06-xor-mlp.ts  BENCH_ORIGINS=own,shared  CHROME_PATH=...
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import type { CodeServer } from '../scripts/code-server.mjs';
import { CHROMIUM_ARGS, findChromium } from '../test/browser';
import { OWN_ORIGIN_CHROMIUM_ARGS, webviewsOnOwnOrigin, Workbench } from '../test/e2e/workbench';
import { benchArgs } from './args';

const ARGS = benchArgs({ cold: 3, warm: 4, cli: 5 });
const ROOT = path.resolve(__dirname, '..');
const EXAMPLES = (process.env.BENCH_EXAMPLES ?? '01-add-mul.ts,06-xor-mlp.ts,08-moons-mlp.ts').split(',').map((s) => s.trim()).filter(Boolean);
const TARGET = { warm: 1000, cold: 2000, cli: 1500 };
const ORIGINS = (process.env.BENCH_ORIGINS ?? 'own,shared').split(',').map((s) => s.trim()).filter((s): s is Origin => s === 'own' || s === 'shared');
type Origin = 'own' | 'shared';

const log = (m: string) => {
  if (!ARGS.json) process.stdout.write(`${m}\n`);
};
const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Sample {
  ms: number;
  bundleMs: number | null;
  runMs: number | null;
  /** ms after the command when the webview's document started and when it reached each mark (script, ready, snapshot, viewmodel, layout, draw, drawn). */
  marks: Record<string, number>;
}

/** The webview's marks of a sample, in order, as `document +412 · script +690 · …`. */
const markText = (s: Sample) => Object.entries(s.marks).sort((a, b) => a[1] - b[1]).map(([k, v]) => `${k} +${Math.round(v)}`).join(' · ');

/** The runner's timings of the latest trace of `file`, from the output channel's log file. */
function runnerTimings(userDataDir: string, file: string, seen: number): { bundleMs: number; runMs: number; count: number } | null {
  const logs = path.join(userDataDir, 'logs');
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/Backprop Lens\.log$/.test(e.name)) found.push(p);
    }
  };
  walk(logs);
  found.sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs); // a window's log after the window before: the last match is the newest
  const re = new RegExp(`^\\[${file.replace(/[.]/g, '\\.')}\\] traced \\d+ nodes \\((\\d+) ms bundle, (\\d+) ms run\\)`, 'gm');
  const all = found.flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(re)]);
  if (all.length <= seen) return null;
  const m = all[all.length - 1];
  return { bundleMs: Number(m[1]), runMs: Number(m[2]), count: all.length };
}

async function main(): Promise<void> {
  const cs = await import(pathToFileURL(path.join(ROOT, 'scripts', 'code-server.mjs')).href) as typeof import('../scripts/code-server.mjs');
  const { chromium } = await import('playwright-core');
  cs.ensureCodeServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-latency-'));
  const ws = path.join(tmp, 'ws');
  fs.cpSync(path.join(ROOT, 'examples'), ws, { recursive: true });
  const userDataDir = path.join(tmp, 'user');
  let server: CodeServer | null = null;
  let browser: Browser | null = null;
  type Result = { cold: Sample[]; rerun: Sample[]; reopen: Sample[] };
  const results: Record<string, Record<string, Result>> = {}; // by origin, then file
  const cli: Record<string, { wallMs: number; cpuMs: number | null }[]> = {};
  const traces = new Map<string, number>(); // the runner's lines of each file seen so far
  try {
    server = await cs.startCodeServer({ workspace: ws, extensionsDir: cs.prepareExtensionsDir(path.join(tmp, 'ext')), userDataDir, trust: true });
    const port = new URL(server.url).port;
    let fresh = true; // the first window of the code-server: its extension host starts with it
    for (const origin of ORIGINS) {
      results[origin] = {};
      log(`webviews on ${origin === 'own' ? 'an origin of their own (as VS Code desktop and vscode.dev)' : "the workbench's origin (code-server as shipped)"}`);
      // the same flags for both kinds of origin
      browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan', ...OWN_ORIGIN_CHROMIUM_ARGS] });
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.setDefaultTimeout(30_000);
      if (origin === 'own') {
        await webviewsOnOwnOrigin(page, port);
      }
      const wb = new Workbench(page);
      // the moment the command is given: the Enter that runs the palette's entry
      let entered = 0;
      const press = page.keyboard.press.bind(page.keyboard);
      page.keyboard.press = async (key, options) => {
        if (key === 'Enter') entered = Date.now();
        return press(key, options);
      };
      await page.goto(server.folderUrl);
      await wb.waitReady();
      /** Runs `command` and waits for a graph drawn after it (`prev`: the panel's data-rendered before, if it has one). */
      const timed = async (file: string, command: string, prev: string | null): Promise<Sample> => {
        await wb.runCommand(command);
        const app = wb.view().locator(prev === null ? '#app[data-rendered]' : `#app[data-rendered]:not([data-rendered="${prev}"])`);
        await app.waitFor({ state: 'attached', timeout: 120_000 });
        const ms = Date.now() - entered;
        // where the time went, from the webview's own clock: its document's start and the panel's marks
        const marks = await app.evaluate((_, at) => {
          const out: Record<string, number> = { document: performance.timeOrigin - at };
          for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('bpl:')) out[m.name.slice(4)] = Math.round(performance.timeOrigin + m.startTime - at);
          // VS Code's fake.html, loaded first into the frame our HTML is then written into
          // (no named functions in here: tsx would add a helper the page does not have)
          const perf = performance as unknown as { getEntriesByType(t: string): { name: string; startTime: number; responseEnd: number; domContentLoadedEventStart: number }[] };
          const nav = perf.getEntriesByType('navigation')[0];
          if (nav) {
            out['frame-response'] = Math.round(performance.timeOrigin + nav.responseEnd - at);
            out['frame-domcontentloaded'] = Math.round(performance.timeOrigin + nav.domContentLoadedEventStart - at);
          }
          // the panel's own files: when each was asked for and when it had arrived
          for (const r of perf.getEntriesByType('resource')) {
            const name = r.name.split('/').pop()!.split('?')[0];
            if (!/\.(js|css)$/.test(name)) continue;
            out[`${name}>`] = Math.round(performance.timeOrigin + r.startTime - at);
            out[`${name}<`] = Math.round(performance.timeOrigin + r.responseEnd - at);
          }
          return out;
        }, entered);
        await wb.view().locator('g.node').first().waitFor({ state: 'visible' });
        let t: ReturnType<typeof runnerTimings> = null;
        for (let i = 0; i < 20 && !(t = runnerTimings(userDataDir, file, traces.get(file) ?? 0)); i++) await page.waitForTimeout(100); // the log file is written shortly after
        if (t) traces.set(file, t.count);
        return { ms, bundleMs: t?.bundleMs ?? null, runMs: t?.runMs ?? null, marks };
      };
      const rendered = async () => (await wb.view().locator('#app').getAttribute('data-rendered')) ?? '';
      const closeAll = async () => {
        await wb.runCommand('View: Close All Editors');
        await page.locator('.tabs-container .tab').first().waitFor({ state: 'detached', timeout: 15_000 }).catch(() => undefined);
      };
      let reloaded = fresh; // the first Show Graph of a new browser is cold without a reload
      fresh = false;
      for (const file of EXAMPLES) {
        const r: Result = (results[origin][file] = { cold: [], rerun: [], reopen: [] });
        for (let rep = 0; rep < ARGS.cold; rep++) {
          if (!reloaded) {
            await closeAll();
            const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60_000 });
            await wb.runCommand('Developer: Reload Window');
            await navigated;
            await wb.waitReady();
          }
          reloaded = false;
          await wb.openFile(file);
          // the extension is active once its CodeLens shows: what a user sees before giving the command
          await wb.editor().locator('.codelens-decoration', { hasText: 'Show Graph' }).first().waitFor({ state: 'visible', timeout: 60_000 });
          const s = await timed(file, 'Backprop Lens: Show Graph', null);
          r.cold.push(s);
          log(`  ${file} cold #${rep + 1}: ${s.ms} ms (runner: ${s.bundleMs ?? '?'} ms bundle, ${s.runMs ?? '?'} ms run; webview: ${markText(s)})`);
        }
        for (let rep = 0; rep < ARGS.warm; rep++) {
          const s = await timed(file, 'Backprop Lens: Re-run', await rendered());
          r.rerun.push(s);
          log(`  ${file} re-run #${rep + 1}: ${s.ms} ms (runner: ${s.bundleMs ?? '?'} ms bundle, ${s.runMs ?? '?'} ms run)`);
        }
        for (let rep = 0; rep < ARGS.warm; rep++) {
          await closeAll();
          await wb.openFile(file);
          const s = await timed(file, 'Backprop Lens: Show Graph', null);
          r.reopen.push(s);
          log(`  ${file} close + Show Graph #${rep + 1}: ${s.ms} ms (runner: ${s.bundleMs ?? '?'} ms bundle, ${s.runMs ?? '?'} ms run; webview: ${markText(s)})`);
        }
        await closeAll();
      }
      await browser.close();
      browser = null;
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await server?.stop().catch(() => undefined);
  }

  // the CLI, with nothing else running: a fresh process per trace
  const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  for (const file of EXAMPLES) {
    for (let rep = 0; rep < ARGS.cli; rep++) {
      const args = [path.join(ROOT, 'bin', 'backprop-lens.js'), 'trace', path.join(ws, file), '--json'];
      const t0 = performance.now();
      const p = timeBin
        ? spawnSync(timeBin, ['-f', 'BPL-CPU %U %S', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 })
        : spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
      const wallMs = performance.now() - t0;
      if (p.status !== 0) throw new Error(`backprop-lens trace ${file} exited ${p.status}: ${p.stderr}`);
      const m = /BPL-CPU ([\d.]+) ([\d.]+)/.exec(p.stderr ?? '');
      (cli[file] ??= []).push({ wallMs, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : null });
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });

  const f = (ms: number | null) => (ms === null || Number.isNaN(ms) ? '     –' : `${Math.round(ms)}`.padStart(6));
  const med = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? median(v) : null;
  };
  const rows = Object.entries(results).flatMap(([origin, byFile]) => Object.entries(byFile).map(([file, r]) => ({
    origin, file,
    coldMs: median(r.cold.map((s) => s.ms)), rerunMs: median(r.rerun.map((s) => s.ms)), reopenMs: median(r.reopen.map((s) => s.ms)),
    coldBundleMs: med(r.cold.map((s) => s.bundleMs)), coldRunMs: med(r.cold.map((s) => s.runMs)),
    warmBundleMs: med([...r.rerun, ...r.reopen].map((s) => s.bundleMs)), warmRunMs: med([...r.rerun, ...r.reopen].map((s) => s.runMs)),
    cliMs: median((cli[file] ?? []).map((c) => c.wallMs)), cliCpuMs: med((cli[file] ?? []).map((c) => c.cpuMs)),
  })));
  log('');
  log(`command → graph drawn, medians in ms (cold: ${ARGS.cold}, warm: ${ARGS.warm} each, CLI: ${ARGS.cli}); ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  log(`targets: warm ≤ ${TARGET.warm}, cold ≤ ${TARGET.cold}, CLI trace ≤ ${TARGET.cli}`);
  log('webview origin  example              cold  re-run  reopen │ runner cold: bundle   run │ warm: bundle   run │  CLI wall   CPU');
  for (const s of rows) {
    log(`${s.origin.padEnd(15)} ${s.file.padEnd(18)} ${f(s.coldMs)}  ${f(s.rerunMs)}  ${f(s.reopenMs)} │              ${f(s.coldBundleMs)} ${f(s.coldRunMs)} │       ${f(s.warmBundleMs)} ${f(s.warmRunMs)} │    ${f(s.cliMs)} ${f(s.cliCpuMs)}`);
  }
  log('(cold, re-run, reopen and CLI wall against the targets above; runner: the bundle and run ms the output channel reports;');
  log(' own: webviews on an origin of their own, as VS Code desktop and vscode.dev serve them; shared: code-server as shipped)');
  if (ARGS.json) process.stdout.write(`${JSON.stringify({ cpus: os.cpus().length, loadavg: os.loadavg(), target: TARGET, summary: rows, results, cli })}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench:latency: ${(e as Error)?.stack ?? e}`);
    process.exit(1);
  },
);
