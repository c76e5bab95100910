/**
 * Running python/backprop_lens as the Node runner does (BPL_FD=3, the messages on a pipe) and the
 * oracle scripts of this folder, with the interpreter test/oracle/torch.ts finds (BPL_PYTHON, else
 * Debian's /usr/bin/python3, else python3 on PATH: the first that imports torch).
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { lines } from '../../extension/runner/python';
import type { TorchTrace } from '../../engine/trace/torch-trace';
import { findTorchPython } from '../oracle/torch';

export const ROOT = path.resolve(__dirname, '..', '..');
export const PACKAGE_DIR = path.join(ROOT, 'python');

export interface TraceError {
  kind: string;
  message: string;
  file: string | null;
  line: number | null;
  column: number | null;
  traceback: string;
}

export type Message =
  | { type: 'started' }
  | { type: 'recording' }
  | { type: 'where'; file: string | null; line: number | null }
  | { type: 'result'; trace: TorchTrace }
  | { type: 'error'; error: TraceError };

export interface TraceRun {
  messages: Message[];
  stdout: string;
  stderr: string;
  code: number | null;
  /** Lines on the message pipe that were not JSON (there must be none). */
  garbage: string[];
}

const revive = (_k: string, v: unknown) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v);

function env(): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: [PACKAGE_DIR, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' };
}


export interface TraceHooks {
  /** Each message as it comes (with the process id, e.g. to signal it). */
  onMessage?: (m: Message, pid: number) => void;
  /** The user's output so far, each time more arrives. */
  onStdout?: (stdout: string, pid: number) => void;
}

/** `python -X utf8 -m backprop_lens trace FILE ARGS` from the file's folder, the messages read from fd 3. */
export function traceFile(file: string, args: string[] = [], hooks: TraceHooks = {}): Promise<TraceRun> {
  const py = findTorchPython();
  return new Promise((resolve, reject) => {
    const child = spawn(py.executable, ['-X', 'utf8', '-m', 'backprop_lens', 'trace', file, ...args], {
      cwd: path.dirname(file), env: { ...env(), BPL_FD: '3' }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const run: TraceRun = { messages: [], stdout: '', stderr: '', code: null, garbage: [] };
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      run.stdout += d;
      hooks.onStdout?.(run.stdout, child.pid!);
    });
    child.stderr!.on('data', (d: string) => (run.stderr += d));
    lines(child.stdio[3] as Readable, (text) => {
      if (!text.trim()) return;
      try {
        const m = JSON.parse(text, revive) as Message;
        run.messages.push(m);
        hooks.onMessage?.(m, child.pid!);
      } catch {
        run.garbage.push(text);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      run.code = code;
      resolve(run);
    });
  });
}

/** Runs a Python script of this folder with JSON on stdin; resolves with its JSON output. */
export function runScript<T>(script: string, input: unknown): Promise<T> {
  const py = findTorchPython();
  return new Promise((resolve, reject) => {
    const child = spawn(py.executable, [path.join(__dirname, script)], { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.stderr.on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${script} exited with ${code}:\n${err.slice(-4000)}`));
        return;
      }
      try {
        resolve(JSON.parse(out, revive) as T);
      } catch (e) {
        reject(new Error(`${script} printed something that is not JSON: ${(e as Error).message}\n${err.slice(-2000)}`));
      }
    });
    child.stdin.end(JSON.stringify(input, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
  });
}

/** Runs `jobs` with at most `limit` at a time. */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

/** 1-based line of the only line of `text` that contains `marker` (as a whole word: `# @loss` is not `# @loss2`). */
export function lineOf(text: string, marker: string): number {
  const re = new RegExp(marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '(?!\\w)');
  const hits = text.split('\n').flatMap((l, i) => (re.test(l) ? [i + 1] : []));
  assert.equal(hits.length, 1, `marker ${JSON.stringify(marker)} should occur on exactly one line, found ${hits.length}`);
  return hits[0];
}

/** 1-based column of `needle` on the line that contains `marker`. */
export function columnOf(text: string, marker: string, needle: string): number {
  const line = text.split('\n')[lineOf(text, marker) - 1];
  const i = line.indexOf(needle);
  assert.ok(i >= 0, `${JSON.stringify(needle)} is not on the line of ${JSON.stringify(marker)}`);
  return i + 1;
}

/** The trace of a run that must have succeeded, with the messages in protocol order. */
export function expectTrace(run: TraceRun): TorchTrace {
  assert.deepEqual(run.garbage, [], 'the message pipe carries JSON lines only');
  const last = run.messages[run.messages.length - 1];
  if (last?.type === 'error') assert.fail(`the trace failed: ${last.error.kind}: ${last.error.message}\n${last.error.traceback}\n${run.stderr}`);
  assert.deepEqual(run.messages.map((m) => m.type), ['started', 'recording', 'result'], `messages, stderr:\n${run.stderr}`);
  assert.equal(run.code, 0);
  return (last as { trace: TorchTrace }).trace;
}

/** The error of a run that must have failed. */
export function expectError(run: TraceRun): TraceError {
  assert.deepEqual(run.garbage, []);
  const last = run.messages[run.messages.length - 1];
  assert.ok(last && last.type === 'error', `expected an error, got ${run.messages.map((m) => m.type).join(', ')}\n${run.stderr}`);
  assert.equal(run.code, 0, 'the process exits 0 after saying what went wrong');
  return last.error;
}
