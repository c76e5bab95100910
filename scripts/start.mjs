// `npm start`: build, then open VS Code with Backprop Lens loaded and examples/ open.
//  - desktop VS Code when a `code` binary is on PATH (extension development host);
//  - otherwise code-server (VS Code in the browser) on 127.0.0.1, URL printed, until Ctrl-C.
// Environment: PORT (code-server port, default 8080 or a free one), BPL_CODE_SERVER=1 forces code-server.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureCodeServer, prepareExtensionsDir, repoRoot, startCodeServer } from './code-server.mjs';

const examples = join(repoRoot, 'examples');

const build = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: repoRoot });
if (build.status !== 0) {
  console.error('build failed');
  process.exit(build.status ?? 1);
}

function findCode() {
  if (process.env.BPL_CODE_SERVER === '1') return null;
  const r = spawnSync(process.platform === 'win32' ? 'where' : 'sh', process.platform === 'win32' ? ['code'] : ['-c', 'command -v code'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const p = r.stdout.split(/\r?\n/)[0].trim();
  // code-server's own `code` shim (inside a code-server terminal) cannot open a dev host window
  if (!p || /code-server/.test(p)) return null;
  return p;
}

const code = findCode();
if (code) {
  console.log(`Opening VS Code (${code}) with the extension from ${repoRoot} and ${examples}`);
  const child = spawn(code, [`--extensionDevelopmentPath=${repoRoot}`, examples], { stdio: 'inherit', shell: process.platform === 'win32' });
  child.on('exit', (c) => process.exit(c ?? 0));
} else {
  try {
    ensureCodeServer();
    const preferred = process.env.PORT ? Number(process.env.PORT) : 8080;
    const server = await startCodeServer({
      workspace: examples,
      extensionsDir: prepareExtensionsDir(join(repoRoot, '.vscode-test', 'start-extensions')),
      userDataDir: join(repoRoot, '.vscode-test', 'start-user-data'),
      trust: true,
      port: preferred,
      logFile: join(repoRoot, '.vscode-test', 'start-code-server.log'),
    });
    if (server.port !== preferred) console.log(`(port ${preferred} is busy; using ${server.port})`);
    console.log('\nNo desktop `code` binary found, so Backprop Lens runs in VS Code in the browser (code-server).');
    console.log(`Open:  ${server.folderUrl}`);
    console.log('Then open a model file such as 01-add-mul.ts and run "Backprop Lens: Show Graph" (or click the CodeLens).');
    console.log('Press Ctrl-C to stop.');
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await server.stop();
      process.exit(0);
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, stop);
    server.process.on('exit', (c) => {
      if (!stopping) {
        console.error(`code-server exited (${c}); log: .vscode-test/start-code-server.log`);
        void server.stop().then(() => process.exit(1));
      }
    });
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
