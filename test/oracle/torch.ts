/**
 * PyTorch as the oracle: the one lookup of a Python interpreter that imports torch, and a way to run
 * the oracle's Python scripts with JSON in and JSON out. On these machines a pyenv shim may come
 * first on PATH as `python3` without torch, so candidates are tried in order and the first that
 * imports torch wins; none found is an error that names the package to install.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';

export interface TorchPython {
  /** The interpreter that ran (its sys.executable). */
  executable: string;
  torch: string;
  python: string;
}

let found: TorchPython | null = null;

/** BPL_PYTHON, then Debian's /usr/bin/python3, then python3 and python on PATH. */
export function findTorchPython(): TorchPython {
  if (found) return found;
  const candidates = [process.env.BPL_PYTHON, '/usr/bin/python3', 'python3', 'python'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const c of candidates) {
    try {
      const out = execFileSync(c, ['-c', 'import sys, torch; print(sys.executable); print(torch.__version__); print(sys.version.split()[0])'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      const [executable, torch, python] = out.trim().split('\n');
      found = { executable, torch, python };
      return found;
    } catch (e) {
      const err = e as { code?: string; stderr?: string };
      tried.push(`${c}: ${err.code === 'ENOENT' ? 'not found' : (err.stderr ?? '').trim().split('\n').pop() || 'failed'}`);
    }
  }
  throw new Error(
    'The PyTorch oracle needs a Python interpreter that imports torch. Install it:\n' +
      '  Debian/Ubuntu:  sudo apt-get install -y python3-torch   (PyTorch for /usr/bin/python3)\n' +
      '  or set BPL_PYTHON=/path/to/python with torch installed.\n' +
      `Tried: ${tried.join('; ')}`,
  );
}

/** Runs `script` (a file in this folder) with `input` as JSON on stdin; resolves with its JSON on stdout. */
export function runPython<T>(script: string, input: unknown, timeoutMs = 600_000): Promise<T> {
  const py = findTorchPython();
  return new Promise<T>((resolve, reject) => {
    const child = spawn(py.executable, [path.join(__dirname, script)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} ran longer than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${script} exited with ${code}:\n${Buffer.concat(err).toString('utf8').slice(-4000)}`));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8'), (_k, v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v)) as T);
      } catch (e) {
        reject(new Error(`${script} printed something that is not JSON: ${(e as Error).message}`));
      }
    });
    child.stdin.end(JSON.stringify(input, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
  });
}

/** A mocha `before` hook: finds torch (or fails with what to install) and says which interpreter runs. */
export function useTorch(): void {
  before(function () {
    this.timeout(120_000);
    const py = findTorchPython();
    if (!announced) process.stdout.write(`      PyTorch oracle: torch ${py.torch}, Python ${py.python} (${py.executable})\n`);
    announced = true;
  });
}
let announced = false;
