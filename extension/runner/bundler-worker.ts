/**
 * The bundler worker: esbuild turns a model file and the user's helper files into one CommonJS
 * script with a source map. It uses esbuild's WebAssembly build through its in-process (browser)
 * API, with a small plugin that reads files through Node's fs:
 * - one `.vsix` works on every platform (the native esbuild is a per-platform binary);
 * - esbuild-wasm's Node API would spawn a `node` executable, which a VS Code install does not have.
 * The worker stays alive between runs, so the WebAssembly module is compiled once.
 * `'backprop-lens'` stays external: the model worker supplies the engine.
 */
import { parentPort } from 'node:worker_threads';
import { builtinModules, createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import type { BundleProblem, BundleRequest, BundleResponse } from './bundler';

// esbuild's browser build looks for `self`
(globalThis as { self?: unknown }).self ??= globalThis;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const esbuild = require('esbuild-wasm/lib/browser.js') as typeof import('esbuild-wasm');

// Node has WebAssembly; the ES2022 lib without DOM does not declare it.
declare const WebAssembly: { Module: new (bytes: Uint8Array) => object };

let ready: Promise<void> | null = null;
function init(): Promise<void> {
  ready ??= (async () => {
    const wasm = path.join(path.dirname(require.resolve('esbuild-wasm/package.json')), 'esbuild.wasm');
    await esbuild.initialize({ wasmModule: compileBaseline(fs.readFileSync(wasm)) as never, worker: false });
  })();
  return ready;
}

/**
 * esbuild's WebAssembly (14 MB) compiled by V8's baseline compiler (Liftoff) only. By default V8
 * also recompiles its hot functions with the optimizing compiler in the background: 2 s and more
 * of CPU per process, for bundles that take a few ms either way (measured: the first bundle 260 →
 * 85 ms, a CLI trace's CPU 2.4 → 0.6 s on 2 cores). The flag is process-wide: it is set for this one
 * compilation and put back, so other WebAssembly of the process (another extension's) is compiled
 * as usual.
 */
function compileBaseline(bytes: Uint8Array): object {
  let set = false;
  try {
    v8.setFlagsFromString('--liftoff-only');
    set = true;
  } catch {
    /* a runtime without the flag: the usual compilation */
  }
  try {
    return new WebAssembly.Module(bytes);
  } finally {
    if (set) v8.setFlagsFromString('--no-liftoff-only');
  }
}

const EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx', '.json'];
const BUILTINS = new Set(builtinModules);

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Relative or absolute import → an existing file, with TypeScript's extension conventions. */
function resolveLocal(base: string): string | null {
  const candidates = [base, ...EXTENSIONS.map((e) => base + e)];
  // `import './helper.js'` in TypeScript means helper.ts
  const m = /\.(m|c)?js$/.exec(base);
  if (m) candidates.push(base.slice(0, -m[0].length) + `.${m[1] ?? ''}ts`);
  candidates.push(...EXTENSIONS.map((e) => path.join(base, `index${e}`)));
  return candidates.find(isFile) ?? null;
}

function loaderFor(file: string): 'ts' | 'tsx' | 'js' | 'jsx' | 'json' {
  if (/\.(m|c)?ts$/.test(file)) return 'ts';
  if (file.endsWith('.tsx')) return 'tsx';
  if (file.endsWith('.jsx')) return 'jsx';
  if (file.endsWith('.json')) return 'json';
  return 'js';
}

/**
 * A source file's text. UTF-8 is the norm (its byte-order mark is kept: esbuild skips it); UTF-16,
 * as some Windows editors save, is recognised by its byte-order mark or, without one, by the zero
 * bytes of its ASCII characters (what VS Code's own guess looks at), and decoded. Any other file
 * with NUL bytes is not source text: null.
 */
export function decodeSource(bytes: Uint8Array): string | null {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (!bytes.includes(0)) return new TextDecoder('utf-8').decode(bytes);
  // no mark: UTF-16 when (nearly) every zero byte is on the same side of its pair
  const n = Math.min(bytes.length, 4096) & ~1;
  let evenZeros = 0, oddZeros = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  const pairs = n / 2;
  if (oddZeros >= 0.5 * pairs && evenZeros <= 0.02 * pairs) return new TextDecoder('utf-16le').decode(bytes);
  if (evenZeros >= 0.5 * pairs && oddZeros <= 0.02 * pairs) return new TextDecoder('utf-16be').decode(bytes);
  return null;
}

function fsPlugin(entry: string, contents: string | undefined): import('esbuild-wasm').Plugin {
  return {
    name: 'backprop-lens-fs',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (a) => {
        if (a.kind === 'entry-point') return { path: entry };
        const spec = a.path;
        if (spec === 'backprop-lens' || spec.startsWith('backprop-lens/')) return { path: spec, external: true };
        if (spec.startsWith('node:') || BUILTINS.has(spec.split('/')[0])) return { path: spec, external: true };
        if (spec.startsWith('.') || path.isAbsolute(spec)) {
          const found = resolveLocal(path.resolve(a.resolveDir, spec));
          return found ? { path: found } : { errors: [{ text: `Cannot find '${spec}' from ${path.basename(a.importer)}` }] };
        }
        try {
          // a package installed in the user's project
          return { path: createRequire(a.importer || entry).resolve(spec) };
        } catch {
          return { errors: [{ text: `Cannot find package '${spec}' (install it in your project, or import only from 'backprop-lens' and your own files)` }] };
        }
      });
      b.onLoad({ filter: /.*/ }, (a) => {
        const text = a.path === entry && contents !== undefined ? contents : decodeSource(fs.readFileSync(a.path));
        if (text === null) {
          const problem = `${path.basename(a.path)} is not a text file: it has NUL bytes and is neither UTF-8 nor UTF-16. Save it as UTF-8 (VS Code: "Change File Encoding").`;
          return { errors: [{ text: problem, location: { file: a.path, line: 1, column: 0 } }] };
        }
        return { contents: text, loader: loaderFor(a.path), resolveDir: path.dirname(a.path) };
      });
    },
  };
}

interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number } | null;
}

/** esbuild reports paths relative to its working directory (`/` in the browser build). */
const absolute = (p: string) => (path.isAbsolute(p) ? p : path.resolve('/', p));

async function bundle(req: BundleRequest): Promise<BundleResponse> {
  const dir = path.dirname(req.file);
  const bundlePath = path.join(dir, `.${path.basename(req.file)}.backprop-lens.js`);
  try {
    await init();
    const out = await esbuild.build({
      entryPoints: [req.file], bundle: true, format: 'cjs', platform: 'node', target: 'node18',
      sourcemap: 'external', sourcesContent: true, write: false, outfile: bundlePath,
      logLevel: 'silent', metafile: true, charset: 'utf8', plugins: [fsPlugin(req.file, req.contents)],
    });
    const js = out.outputFiles!.find((f) => f.path.endsWith('.js'))!;
    const map = out.outputFiles!.find((f) => f.path.endsWith('.map'))!;
    const files = Object.keys(out.metafile!.inputs).map(absolute);
    return { id: req.id, ok: true, code: js.text, map: map.text, bundlePath, files };
  } catch (err) {
    const errors: BundleProblem[] = ((err as { errors?: EsbuildMessage[] }).errors ?? []).map((e) => ({
      message: e.text,
      file: e.location ? absolute(e.location.file) : req.file,
      line: e.location?.line ?? null,
      column: e.location ? e.location.column + 1 : null,
    }));
    if (errors.length === 0) errors.push({ message: err instanceof Error ? err.message : String(err), file: req.file, line: null, column: null });
    return { id: req.id, ok: false, errors };
  }
}

// One request at a time, in order (esbuild's in-process service is single-threaded anyway).
let chain: Promise<unknown> = Promise.resolve();
parentPort!.on('message', (req: BundleRequest) => {
  chain = chain.then(() => bundle(req).then((res) => parentPort!.postMessage(res)));
});
