/**
 * Bundles the integration suite with esbuild (tsx is not available inside an extension host):
 *   out/integration/suite.js                      exports run(): the entry for @vscode/test-electron
 *   out/integration/host-extension/               a test-only extension for code-server (package.json +
 *                                                  dist/extension.js), linked next to Backprop Lens
 * `vscode` stays external (the host provides it); so does mocha, which resolves from the repository's
 * node_modules because out/ sits inside the repository.
 */
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const OUT = path.join(ROOT, 'out', 'integration');
export const HOST_EXTENSION_DIR = path.join(OUT, 'host-extension');
export const SUITE_BUNDLE = path.join(OUT, 'suite.js');
const SUITE_DIR = path.join(__dirname, 'suite');

function testFiles(): string[] {
  return fs.readdirSync(SUITE_DIR).filter((f) => f.endsWith('.test.ts')).sort();
}

/** `loadTests` for the bundle: requires every test module in order (after mocha's globals exist). */
function loaderSource(): string {
  return `() => {\n${testFiles().map((f) => `  require(${JSON.stringify('./' + f)});`).join('\n')}\n}`;
}

export async function buildIntegration(): Promise<{ suite: string; hostExtension: string }> {
  fs.mkdirSync(OUT, { recursive: true });
  const common: esbuild.BuildOptions = {
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: 'inline', logLevel: 'warning',
    external: ['vscode', 'mocha'], absWorkingDir: ROOT,
  };
  await esbuild.build({
    ...common,
    stdin: {
      contents: `import { runSuite } from './index';\nexport function run(): Promise<void> {\n  return runSuite(${loaderSource()}).then((r) => {\n    if (r.failures > 0) throw new Error(r.failures + ' integration test(s) failed');\n  });\n}\n`,
      resolveDir: SUITE_DIR, loader: 'ts', sourcefile: 'suite-entry.ts',
    },
    outfile: SUITE_BUNDLE,
  });
  fs.mkdirSync(path.join(HOST_EXTENSION_DIR, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(__dirname, 'host-extension', 'package.json'), path.join(HOST_EXTENSION_DIR, 'package.json'));
  await esbuild.build({
    ...common,
    stdin: {
      contents: `import type * as vscode from 'vscode';\nimport { activateWith } from '../host-extension/extension';\nexport function activate(context: vscode.ExtensionContext): void {\n  activateWith(context, ${loaderSource()});\n}\nexport function deactivate(): void {}\n`,
      resolveDir: SUITE_DIR, loader: 'ts', sourcefile: 'host-extension-entry.ts',
    },
    outfile: path.join(HOST_EXTENSION_DIR, 'dist', 'extension.js'),
  });
  return { suite: SUITE_BUNDLE, hostExtension: HOST_EXTENSION_DIR };
}
