/**
 * `npm run test:integration`: the integration suite in desktop VS Code, through @vscode/test-electron.
 * It downloads VS Code (1.100.3 by default, the version inside code-server 4.100.3; override with
 * VSCODE_TEST_VERSION, e.g. "stable"), so it needs internet access to update.code.visualstudio.com and
 * cannot run on the offline CI machines — there the same suite runs inside code-server as part of
 * `npm run test:e2e`. On Linux without a display, run it under xvfb-run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runTests } from '@vscode/test-electron';
import { buildIntegration, ROOT } from './build';

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  }
  const { suite } = await buildIntegration();
  // A scratch copy of examples/ as the workspace: the suite writes (and deletes) files in it.
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-integration-'));
  fs.cpSync(path.join(ROOT, 'examples'), workspace, { recursive: true });
  const userData = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-integration-user-'));
  try {
    await runTests({
      version: process.env.VSCODE_TEST_VERSION || '1.100.3',
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: suite,
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', `--user-data-dir=${userData}`],
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(userData, { recursive: true, force: true });
  }
}

main().catch((e) => {
  const msg = String((e as Error)?.message ?? e);
  console.error(`integration tests failed: ${msg}`);
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo/.test(msg)) {
    console.error('  @vscode/test-electron could not download VS Code (no internet access?). The same suite runs\n' +
      '  offline inside code-server as part of `npm run test:e2e`.');
  }
  process.exit(1);
});
