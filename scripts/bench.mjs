#!/usr/bin/env node
// Runs a benchmark from bench/ the way model code runs: bundled by esbuild (as dist/worker.js bundles
// the engine), not through tsx's per-module CommonJS wrappers, which cost the scalar path ~2×.
// Usage: node scripts/bench.mjs bench/engine.ts [args passed to the benchmark]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/bench.mjs bench/NAME.ts [benchmark args]');
  process.exit(2);
}
const outfile = path.join(root, 'out', 'bench', path.basename(entry).replace(/\.ts$/, '.cjs'));
await build({
  entryPoints: [path.resolve(root, entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  // peers stay as installed (tfjs finds its wasm binaries next to its package; wabt loads its own)
  external: ['@tensorflow/*', 'webgpu', 'wabt'],
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['--enable-source-maps', outfile, ...args], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
