// code-server 4.100.3 (VS Code 1.100.3 in the browser, runs on Node 20), installed offline under
// .vscode-test/code-server/, and started with Backprop Lens loaded. See docs/testing.md.
//
//   node scripts/code-server.mjs install      install (idempotent) and print the binary path
//   node scripts/code-server.mjs start [folder] [--untrusted] [--port N]
//
// As a module:
//   ensureCodeServer()            → absolute path of the code-server binary
//   prepareExtensionsDir(dir?)    → an extensions directory with Backprop Lens linked in
//   startCodeServer({ workspace, extensionsDir, userDataDir, trust, port, env })
//                                 → { url, folderUrl, port, stop() }
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync, readdirSync, lstatSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import http from 'node:http';

export const CODE_SERVER_VERSION = '4.100.3';
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const installDir = join(repoRoot, '.vscode-test', 'code-server');
export const binaryPath = join(installDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

const RIPGREP_VERSION = '1.15.11'; // @vscode/ripgrep version code-server 4.100.3 depends on
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

function log(msg) {
  process.stderr.write(`[code-server] ${msg}\n`);
}

function installedVersion() {
  const pj = join(installDir, 'node_modules', 'code-server', 'package.json');
  if (!existsSync(pj) || !existsSync(binaryPath)) return null;
  // The marker is written only after a complete install (npm may leave a half tree when it fails).
  if (!existsSync(join(installDir, '.complete'))) return null;
  try {
    return JSON.parse(readFileSync(pj, 'utf8')).version;
  } catch {
    return null;
  }
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** @vscode/ripgrep downloads rg from GitHub in its post-install unless the archive is cached. */
function seedRipgrepCache() {
  const cache = join(tmpdir(), `vscode-ripgrep-cache-${RIPGREP_VERSION}`);
  const archive = join(cache, RIPGREP_ASSET);
  if (existsSync(archive)) return;
  const rg = which('rg');
  if (!rg) {
    throw new Error(
      'ripgrep (rg) is needed to install code-server offline (its @vscode/ripgrep dependency would download it).\n' +
        '  Install it with:  apt-get install -y ripgrep',
    );
  }
  if (process.arch !== 'x64') log(`warning: the ripgrep cache is seeded for x86_64, this machine is ${process.arch}`);
  mkdirSync(cache, { recursive: true });
  const d = mkdtempSync(join(tmpdir(), 'rg-seed-'));
  copyFileSync(rg, join(d, 'rg'));
  const r = spawnSync('tar', ['czf', archive, '-C', d, 'rg'], { stdio: 'inherit' });
  rmSync(d, { recursive: true, force: true });
  if (r.status !== 0) throw new Error('could not create the ripgrep cache archive with tar');
}

/** Installs code-server (once) and returns the path of its entry script (run it with node). */
export function ensureCodeServer({ quiet = false } = {}) {
  if (installedVersion() === CODE_SERVER_VERSION) return binaryPath;
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20 && !quiet) log(`warning: code-server ${CODE_SERVER_VERSION} is built for Node 20, this is Node ${process.versions.node}`);
  seedRipgrepCache();
  const missing = [];
  if (!which('pkg-config')) missing.push('pkg-config');
  if (!existsSync('/usr/include/krb5.h') && !existsSync('/usr/include/krb5/krb5.h') && !existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
  if (missing.length) {
    log(`warning: ${missing.join(', ')} not found; code-server's native modules may fail to build.\n  Install with:  apt-get install -y ${missing.join(' ')} build-essential python3`);
  }
  mkdirSync(installDir, { recursive: true });
  rmSync(join(installDir, '.complete'), { force: true });
  // Its own package.json so npm does not walk up into the repository's.
  if (!existsSync(join(installDir, 'package.json'))) {
    writeFileSync(join(installDir, 'package.json'), JSON.stringify({ name: 'code-server-cache', private: true }, null, 2));
  }
  log(`installing code-server@${CODE_SERVER_VERSION} into ${installDir} (about 70 s, once)…`);
  const t0 = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(
    npm,
    ['install', '--prefix', installDir, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `code-server@${CODE_SERVER_VERSION}`],
    {
      cwd: installDir,
      stdio: ['ignore', quiet ? 'ignore' : 'inherit', 'inherit'],
      env: { ...process.env, npm_config_unsafe_perm: 'true', npm_config_yes: 'true' },
    },
  );
  if (r.status !== 0) {
    throw new Error(
      `npm install code-server@${CODE_SERVER_VERSION} failed (exit ${r.status}).\n` +
        '  It needs build tools and headers: apt-get install -y libkrb5-dev pkg-config ripgrep build-essential python3',
    );
  }
  if (!existsSync(binaryPath)) throw new Error(`code-server installed but ${binaryPath} is missing`);
  writeFileSync(join(installDir, '.complete'), `${CODE_SERVER_VERSION}\n`);
  log(`installed in ${Math.round((Date.now() - t0) / 1000)} s`);
  return binaryPath;
}

export function extensionFolderName(pkgDir = repoRoot) {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`;
}

/**
 * Makes (or reuses) an extensions directory holding Backprop Lens as a symlink to the repository,
 * plus any extra extension folders given (also linked).
 */
export function prepareExtensionsDir(dir = mkdtempSync(join(tmpdir(), 'bpl-ext-')), extra = []) {
  mkdirSync(dir, { recursive: true });
  for (const src of [repoRoot, ...extra]) {
    const link = join(dir, extensionFolderName(src));
    try {
      lstatSync(link);
      rmSync(link, { recursive: true, force: true });
    } catch {
      /* not there */
    }
    symlinkSync(src, link, 'dir');
  }
  // code-server rescans when extensions.json is missing; an old one from a previous run could hide a link.
  rmSync(join(dir, 'extensions.json'), { force: true });
  return dir;
}

/** A free TCP port on 127.0.0.1 (preferred one if it is free). */
export function freePort(preferred) {
  const tryPort = (p) =>
    new Promise((res) => {
      const s = createServer();
      s.once('error', () => res(null));
      s.listen(p, '127.0.0.1', () => {
        const port = s.address().port;
        s.close(() => res(port));
      });
    });
  return (async () => {
    if (preferred) {
      const p = await tryPort(preferred);
      if (p) return p;
    }
    return tryPort(0);
  })();
}

function httpStatus(url) {
  return new Promise((res) => {
    const req = http.get(url, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on('error', () => res(0));
    req.setTimeout(2000, () => {
      req.destroy();
      res(0);
    });
  });
}

/**
 * Starts code-server with the given workspace folder. Resolves once it answers HTTP.
 * trust=false leaves Workspace Trust on: the folder then opens in Restricted Mode.
 */
export async function startCodeServer({
  workspace,
  extensionsDir,
  userDataDir,
  trust = true,
  port,
  env = {},
  settings = {},
  timeoutMs = 60000,
  logFile,
  quiet = true,
} = {}) {
  if (!workspace) throw new Error('startCodeServer: workspace is required');
  // a profile made here is removed again by stop()
  const ownUserData = !userDataDir;
  if (!userDataDir) userDataDir = mkdtempSync(join(tmpdir(), 'bpl-user-'));
  const ownExtensions = !extensionsDir;
  if (!extensionsDir) extensionsDir = prepareExtensionsDir();
  const bin = ensureCodeServer();
  const p = await freePort(port);
  // Quiet defaults for a test/demo profile: no welcome page, no telemetry, no trust prompt on startup files.
  const userSettings = {
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'always',
    'git.enabled': false,
    'chat.commandCenter.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    // Quick Open on a file that is already open focuses that editor instead of opening a second copy
    'workbench.editor.revealIfOpen': true,
    ...settings,
  };
  const userDir = join(userDataDir, 'User');
  mkdirSync(userDir, { recursive: true });
  const settingsFile = join(userDir, 'settings.json');
  if (!existsSync(settingsFile)) writeFileSync(settingsFile, JSON.stringify(userSettings, null, 2));

  // Its own config file, so code-server does not write ~/.config/code-server/config.yaml.
  const configFile = join(userDataDir, 'code-server.yaml');
  if (!existsSync(configFile)) writeFileSync(configFile, 'auth: none\ncert: false\n');
  const args = [
    bin,
    '--config', configFile,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${p}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--extensions-dir', extensionsDir,
    '--user-data-dir', userDataDir,
  ];
  if (trust) args.push('--disable-workspace-trust');
  args.push(workspace);

  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: process.platform !== 'win32', // own process group, so stop() ends its children too
  });
  let output = '';
  const onData = (d) => {
    output += d.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    if (!quiet) process.stderr.write(d);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));

  const url = `http://127.0.0.1:${p}/`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`code-server exited (${JSON.stringify(exited)}) before answering:\n${output.slice(-4000)}`);
    const status = await httpStatus(url + 'healthz');
    if (status >= 200 && status < 500) break;
    if (Date.now() > deadline) {
      stopChild(child);
      throw new Error(`code-server did not answer on ${url} within ${timeoutMs} ms:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 150)); // poll interval, not a wait for a fixed duration
  }
  const folderUrl = `${url}?folder=${encodeURIComponent(resolve(workspace)).replace(/%2F/g, '/')}`;
  let stopped = false;
  return {
    url,
    folderUrl,
    port: p,
    userDataDir,
    extensionsDir,
    get output() {
      return output;
    },
    process: child,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (logFile) {
        try {
          mkdirSync(dirname(logFile), { recursive: true });
          writeFileSync(logFile, output);
        } catch {
          /* best effort */
        }
      }
      await stopChild(child);
      if (ownUserData) rmSync(userDataDir, { recursive: true, force: true });
      if (ownExtensions) rmSync(extensionsDir, { recursive: true, force: true }); // only links inside
    },
  };
}

function stopChild(child) {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    const kill = (sig) => {
      try {
        if (process.platform !== 'win32') process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        try {
          child.kill(sig);
        } catch {
          /* gone */
        }
      }
    };
    const t = setTimeout(() => kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      res();
    });
    kill('SIGTERM');
  });
}

// ── CLI ──────────────────────────────────────────────────────────────────────────────────────────
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [cmd = 'install', ...rest] = process.argv.slice(2);
  try {
    if (cmd === 'install') {
      console.log(ensureCodeServer());
    } else if (cmd === 'start') {
      const untrusted = rest.includes('--untrusted');
      const pi = rest.indexOf('--port');
      const port = pi >= 0 ? Number(rest[pi + 1]) : undefined;
      const folder = resolve(rest.find((a, i) => !a.startsWith('--') && rest[i - 1] !== '--port') ?? join(repoRoot, 'examples'));
      const server = await startCodeServer({ workspace: folder, trust: !untrusted, port, quiet: false, extensionsDir: prepareExtensionsDir(join(repoRoot, '.vscode-test', 'cli-extensions')) });
      console.log(server.folderUrl);
      const stop = async () => {
        await server.stop();
        process.exit(0);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    } else {
      console.error('usage: node scripts/code-server.mjs install | start [folder] [--untrusted] [--port N]');
      process.exit(2);
    }
  } catch (e) {
    console.error(`error: ${e.message}`);
    process.exit(1);
  }
}
