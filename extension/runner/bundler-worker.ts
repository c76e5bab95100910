/**
 * The bundler worker: esbuild (its WebAssembly build, so one .vsix works on every platform) turns a
 * model file and the user's helper files into one CommonJS script with a source map. It stays
 * alive between runs so the WebAssembly module is compiled once. `'backprop-lens'` stays external:
 * the model worker supplies the engine.
 */
import { parentPort } from 'node:worker_threads';
import * as path from 'node:path';
import type { BundleRequest, BundleResponse } from './bundler';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild-wasm') as typeof import('esbuild-wasm');

interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number } | null;
}

function loaderFor(file: string): 'ts' | 'js' {
  return /\.m?ts$|\.cts$/.test(file) ? 'ts' : 'js';
}

parentPort!.on('message', (req: BundleRequest) => {
  const dir = path.dirname(req.file);
  const bundlePath = path.join(dir, `.${path.basename(req.file)}.backprop-lens.js`);
  let res: BundleResponse;
  try {
    const out = esbuild.buildSync({
      ...(req.contents !== undefined
        ? { stdin: { contents: req.contents, resolveDir: dir, sourcefile: path.basename(req.file), loader: loaderFor(req.file) } }
        : { entryPoints: [req.file] }),
      absWorkingDir: dir, bundle: true, format: 'cjs', platform: 'node', target: 'node18',
      external: ['backprop-lens'], sourcemap: 'external', sourcesContent: true, write: false, outfile: bundlePath,
      logLevel: 'silent', metafile: true, charset: 'utf8',
    });
    const js = out.outputFiles.find((f) => f.path.endsWith('.js'))!;
    const map = out.outputFiles.find((f) => f.path.endsWith('.map'))!;
    const files = Object.keys(out.metafile!.inputs).map((f) => path.resolve(dir, f));
    res = { id: req.id, ok: true, code: js.text, map: map.text, bundlePath, files };
  } catch (err) {
    const errors = ((err as { errors?: EsbuildMessage[] }).errors ?? []).map((e) => ({
      message: e.text,
      file: e.location ? path.resolve(dir, e.location.file) : req.file,
      line: e.location?.line ?? null,
      column: e.location ? e.location.column + 1 : null,
    }));
    if (errors.length === 0) errors.push({ message: err instanceof Error ? err.message : String(err), file: req.file, line: null, column: null });
    res = { id: req.id, ok: false, errors };
  }
  parentPort!.postMessage(res);
});
