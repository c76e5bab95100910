#!/usr/bin/env node
// Runs a benchmark from bench/ the way model code runs: bundled by esbuild (as dist/worker.js bundles
// the engine), not through tsx's per-module CommonJS wrappers, which cost the scalar path ~2×, and in a
// Node with the V8 options of a model process.
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
  // peers stay as installed (tfjs finds its wasm binaries next to its package; wabt loads its own)
  external: ['@tensorflow/*', 'webgpu', 'wabt'],
  logLevel: 'warning',
});
// the V8 options a model process gets (relaxed SIMD on Node 20: extension/runner/model-process.ts;
// the inlining budget: extension/runner/v8-flags.ts)
const probe = await build({
  stdin: { contents: "export { modelExecArgv } from './extension/runner/model-process'; export { MODEL_V8_FLAGS } from './extension/runner/v8-flags';", resolveDir: root, loader: 'ts' },
  bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'warning',
});
const { modelExecArgv, MODEL_V8_FLAGS } = await import(`data:text/javascript;base64,${Buffer.from(probe.outputFiles[0].text).toString('base64')}`);
// with the V8 flags a model process sets on itself (extension/runner/v8-flags.ts), given here on the
// command line (this Node is known to have them); and no --enable-source-maps: a model process runs
// without it, and with it V8 ran the scalar tape's forward pass ~12 % slower here (stack traces of a
// failing benchmark point into the bundle instead)
const r = spawnSync(process.execPath, [...modelExecArgv(), ...MODEL_V8_FLAGS, outfile, ...args], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
