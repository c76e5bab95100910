/**
 * Every WebGPU kernel against the CPU backend in a browser: Debian's Chromium with WebGPU on
 * SwiftShader (Vulkan on the CPU), `navigator.gpu` on a page served from 127.0.0.1 (a secure
 * context) under a strict CSP like the webview's (no 'unsafe-eval'). The Node/Dawn test
 * (../gpu/kernels.test.ts) runs the same case table; here each op's cases are built and their CPU
 * references computed in Node, run in the page (gpu-entry.ts, bundled with esbuild at test time)
 * with `runOp`, and the outputs measured in Node with the same rules and tolerance.
 *
 * No adapter is a failure, not a skip. `BPL_KERNEL_REPORT=1` prints each op's worst case.
 */
import * as assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { OPS } from '../../engine/ops/functional';
import { CHROMIUM_ARGS, findChromium } from '../browser';
import { caseLabel, hash, measure, Rand, reference, SMALL_DEVICE, TABLE, TOLERANCE, type Case, type Outcome, type Reference } from '../gpu/kernelCases';
import type { RunOptions, WireCase, WireRun } from './gpu-entry';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'test-results', 'webview', 'gpu');

/** WebGPU in headless Chromium without a GPU: SwiftShader's Vulkan. */
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

/**
 * Cases left out here: compiling a matmul pipeline takes SwiftShader 0.3–2 s, so the 256×256 square
 * and three of the four transposes at 64×64 tiles go (the Node test runs them all). The one kept,
 * both operands transposed, keeps the transposed loads at 64×64 tiles; plain loads at 64-wide tiles
 * stay in 'sizes off the tile grid' and 'thin output', the transposes at 32×32 tiles in
 * 'transposes'. Planned for the small device (8 rows of invocations instead of 16), matmul runs only
 * the off-grid, thin, broadcast-batch and batched-transposes cases.
 */
const SMALL_DEVICE_MATMUL = ['sizes off the tile grid', 'thin output', 'batched, broadcast batch axes', 'batched transposes'];
function slow(op: string, c: Case, small: boolean): boolean {
  if (op !== 'matmul') return false;
  if (small) return !SMALL_DEVICE_MATMUL.some((t) => c.title.startsWith(t));
  return c.title.startsWith('large square') || (c.title.startsWith('transposes, several tiles') && !(c.attrs.transA && c.attrs.transB));
}

/** Op families of the summary line. */
function family(op: string): string {
  const def = OPS.get(op)!;
  if (def.pointwise) return def.arity === 1 ? 'unary' : 'binary';
  if (op === 'matmul') return 'matmul';
  if (['sum', 'max', 'min', 'sumTo'].includes(op)) return 'reduce';
  return 'layout';
}

// The page's globals, as the test sees them (this file is compiled without the DOM library).
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;

async function bundle(): Promise<string> {
  fs.mkdirSync(OUT, { recursive: true });
  const outfile = path.join(OUT, 'gpu-entry.js');
  await esbuild.build({
    absWorkingDir: ROOT, entryPoints: [path.join(ROOT, 'test', 'webview', 'gpu-entry.ts')], outfile,
    bundle: true, platform: 'browser', format: 'iife', target: 'chrome114', logLevel: 'silent', legalComments: 'none',
  });
  return fs.readFileSync(outfile, 'utf8');
}

/** The page and the bundle from one 127.0.0.1 origin; the CSP allows scripts from it and nothing else. */
async function serve(script: string): Promise<{ url: string; close(): Promise<void> }> {
  let origin = '';
  const server = http.createServer((req, res) => {
    if (req.url === '/gpu-entry.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    } else if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src ${origin}">
<title>Backprop Lens WebGPU kernels</title>
</head>
<body>
<script src="${origin}/gpu-entry.js"></script>
</body>
</html>
`);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: `${origin}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const fmtErr = (e: number) => e.toExponential(1);

describe('webgpu kernels match the CPU backend (Chromium, SwiftShader)', function () {
  this.timeout(120_000);
  let browser: Browser | null = null;
  let server: { url: string; close(): Promise<void> } | null = null;
  let page: Page;
  const consoleErrors: string[] = [];
  let adapter = '';
  let cases = 0;
  let skipped = 0;
  let failed = 0;
  let started = 0;
  const exercised = new Set<string>();
  const worstByOp = new Map<string, Outcome>();

  before(async () => {
    started = performance.now();
    server = await serve(await bundle());
    browser = await chromium.launch({ executablePath: findChromium(), args: [...CHROMIUM_ARGS, ...WEBGPU_ARGS] });
    page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    // tsx compiles this file with esbuild's keepNames, which wraps functions in `__name(...)`
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e: any) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    });
    await page.goto(server.url);
    try {
      await page.waitForFunction(() => typeof window.bplRunKernelCases === 'function', undefined, { timeout: 20_000 });
    } catch (err) {
      throw new Error(`the kernel bundle never loaded: ${consoleErrors.join('; ') || String(err)}`);
    }
  });

  after(async () => {
    if (process.env.BPL_KERNEL_REPORT) for (const [op, { worst, message }] of worstByOp) console.log(`${op.padEnd(12)} ${worst.toExponential(2)}  ${message}`);
    if (cases) {
      const families = new Map<string, number>();
      for (const [op, { worst }] of worstByOp) families.set(family(op), Math.max(families.get(family(op)) ?? 0, worst));
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`      WebGPU in Chromium on ${adapter}: ${cases} cases (${failed} failed, ${skipped} slow ones left out), ${exercised.size}/${OPS.size} kernels, ${seconds} s; worst relative error (tolerance ${TOLERANCE}): ${[...families].map(([f, e]) => `${f} ${fmtErr(e)}`).join(', ')}`);
    }
    await browser?.close();
    await server?.close();
  });

  afterEach(async () => {
    assert.deepEqual(await page.evaluate(() => window.__violations), [], 'CSP violations');
    assert.deepEqual(consoleErrors, [], 'console errors');
  });

  it('opens a WebGPU adapter through navigator.gpu', async () => {
    const run: WireRun = await page.evaluate(() => window.bplRunKernelCases([]));
    adapter = `${run.adapter.name} (${run.adapter.featureLevel}${run.adapter.fallback ? ', fallback' : ''})`;
    assert.ok(run.adapter.name, 'no adapter name');
  });

  /** Runs one op's cases in the page and measures them; returns the failures. */
  async function runOpCases(op: string, opCases: Case[], opts: RunOptions): Promise<string[]> {
    const refs: Reference[] = opCases.map((c) => reference(op, c));
    const wire: WireCase[] = opCases.map((c, i) => ({ op, inputs: c.inputs, attrs: c.attrs, outShape: refs[i].ref.shape }));
    const run: WireRun = await page.evaluate(([w, o]) => window.bplRunKernelCases(w, o), [wire, opts] as const);
    const failures: string[] = [];
    if (run.lost) failures.push(`the device was lost: ${run.lost}`);
    if (run.errors.length) failures.push(`WebGPU errors after the last case: ${run.errors.join('; ')}`);
    assert.equal(run.results.length, opCases.length, `${op}: ${run.results.length} results for ${opCases.length} cases`);
    opCases.forEach((c, i) => {
      const label = caseLabel(op, c);
      const r = run.results[i];
      if (process.env.BPL_KERNEL_TIMES) console.log(`${r.ms.toFixed(0).padStart(6)} ms  ${label}`);
      if (r.failure) return void failures.push(`${label}: ${r.failure}`);
      if (r.errors.length) return void failures.push(`${label}: WebGPU errors: ${r.errors.join('; ')}`);
      if (JSON.stringify(r.shape) !== JSON.stringify(refs[i].ref.shape)) return void failures.push(`${label}: output shape [${r.shape}], expected [${refs[i].ref.shape}]`);
      try {
        const outcome = measure(label, c, refs[i], r.values);
        const seen = worstByOp.get(op);
        if (!seen || outcome.worst > seen.worst) worstByOp.set(op, outcome);
      } catch (err) {
        failures.push((err as Error).message);
      }
    });
    cases += opCases.length;
    exercised.add(op);
    return failures;
  }

  const plans: { title: string; opts: RunOptions }[] = [
    { title: "with this device's limits", opts: {} },
    { title: 'planned for a small device (128 invocations, 7 workgroups per dimension)', opts: { limits: SMALL_DEVICE } },
  ];
  for (const plan of plans) {
    describe(plan.title, () => {
      for (const op of OPS.keys()) {
        it(op, async () => {
          assert.ok(op in TABLE, `kernel ${op} has no case in ../gpu/kernelCases.ts`);
          const all = TABLE[op](new Rand(hash(op)));
          const opCases = all.filter((c) => !slow(op, c, !!plan.opts.limits));
          skipped += all.length - opCases.length;
          const failures = await runOpCases(op, opCases, plan.opts);
          failed += failures.length;
          if (failures.length) assert.fail(`${op}: ${failures.length} of ${opCases.length} cases failed:\n${failures.join('\n')}`);
        });
      }
    });
  }

  // (a suite of its own: mocha runs a suite's tests before its child suites)
  describe('coverage', () => {
    it('exercised the kernel of every registry op', () => {
      assert.deepEqual([...OPS.keys()].filter((op) => !exercised.has(op)), [], 'kernels not run in Chromium');
    });
  });
});
