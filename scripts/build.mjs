// Builds everything the extension, the CLI and the webview load, with esbuild.
//   node scripts/build.mjs            one build
//   node scripts/build.mjs --watch    rebuild on change
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { buildWasmKernels } from './wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: 'linked', logLevel: 'warning', absWorkingDir: root, legalComments: 'none' };
const node = { ...common, platform: 'node', format: 'cjs', target: 'node18' };

await buildWasmKernels();

const builds = [
  { ...node, entryPoints: { worker: 'extension/runner/worker.ts', 'gemm-thread': 'extension/runner/gemm-thread.ts', 'model-host': 'extension/runner/model-host.ts', bundler: 'extension/runner/bundler-worker.ts', cli: 'extension/cli/main.ts' }, outdir: 'dist', external: ['esbuild-wasm'] },
];
for (const extra of ['extension/extension.ts']) {
  if (existsSync(join(root, extra))) builds.push({ ...node, entryPoints: { extension: extra }, outdir: 'dist', external: ['vscode', 'esbuild-wasm'] });
}
if (existsSync(join(root, 'webview/main.ts'))) {
  builds.push({ ...common, platform: 'browser', format: 'iife', target: 'chrome114', minify: true, entryPoints: { webview: 'webview/main.ts' }, outdir: 'media', loader: { '.ttf': 'file', '.woff2': 'file' } });
}
if (existsSync(join(root, 'webview/layout-worker.ts'))) {
  builds.push({ ...common, platform: 'browser', format: 'iife', target: 'chrome114', minify: true, entryPoints: { 'layout-worker': 'webview/layout-worker.ts' }, outdir: 'media' });
}
// The TypeScript server plugin must live at <extension>/node_modules/<name> for tsserver to find it.
if (existsSync(join(root, 'extension/ts-plugin/index.ts'))) {
  const dir = join(root, 'node_modules', 'backprop-lens-ts-plugin');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'backprop-lens-ts-plugin', version: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version, main: 'index.js' }, null, 2));
  builds.push({ ...node, sourcemap: false, entryPoints: [join(root, 'extension/ts-plugin/index.ts')], outfile: join(dir, 'index.js') });
}

// Codicons for the webview (served from media/, the only local resource root).
mkdirSync(join(root, 'media', 'codicons'), { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf']) copyFileSync(join(root, 'node_modules/@vscode/codicons/dist', f), join(root, 'media/codicons', f));

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  const t0 = performance.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  // Declarations of the engine: the TypeScript plugin serves them for `import … from 'backprop-lens'`.
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.types.json')], { stdio: 'inherit' });
  console.log(`built ${builds.length} bundle group(s) in ${Math.round(performance.now() - t0)} ms`);
}
