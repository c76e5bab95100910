/**
 * Shared setup for the runner, tracer, CLI and example tests: build dist/ once per process, one
 * ModelRunner per suite, model files written into a temporary folder, and small lookups into a
 * snapshot. Expected lines are found in the model text (by a marker comment), never hard-coded.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelRunner } from '../../extension/runner/runner';
import type { RunOptions, RunOutcome, RunError } from '../../extension/runner/types';
import type { GraphSnapshot, SnapshotNode } from '../../engine/trace/snapshot';

export const ROOT = path.resolve(__dirname, '..', '..');
export const DIST = path.join(ROOT, 'dist');

let built = false;
/** Builds dist/ (worker.js, bundler.js, cli.js) from the current sources, once per test process. */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  built = true;
}

/** Registers before/after hooks for a suite and returns a getter for its runner. */
export function useRunner(): () => ModelRunner {
  let runner: ModelRunner | null = null;
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
    runner = new ModelRunner(DIST);
  });
  after(() => runner?.dispose());
  return () => {
    assert.ok(runner, 'runner not started');
    return runner;
  };
}

/** A temporary folder for model files, removed after the suite. */
export function useTempDir(prefix = 'bpl-test-'): () => string {
  let dir: string | null = null;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    assert.ok(dir, 'temp dir not created');
    return dir;
  };
}

/** Writes `text` to `dir/name` and returns the absolute path. */
export function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** 1-based line of the only line of `text` that contains `marker`. */
export function lineOf(text: string, marker: string): number {
  const lines = text.split(/\r?\n/);
  const hits = lines.flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  assert.equal(hits.length, 1, `marker ${JSON.stringify(marker)} should occur on exactly one line, found ${hits.length}`);
  return hits[0];
}

/** 1-based column of `needle` on the line of `text` that contains `marker`. */
export function columnOf(text: string, marker: string, needle: string): number {
  const line = text.split(/\r?\n/)[lineOf(text, marker) - 1];
  const i = line.indexOf(needle);
  assert.ok(i >= 0, `${JSON.stringify(needle)} is not on the line of ${JSON.stringify(marker)}`);
  return i + 1;
}

export function expectOk(out: RunOutcome): GraphSnapshot {
  if (!out.ok) assert.fail(`expected a successful run, got errors:\n${out.errors.map(formatError).join('\n')}\nlogs: ${JSON.stringify(out.logs)}`);
  return out.snapshot;
}

export function expectError(out: RunOutcome): RunError {
  if (out.ok) assert.fail(`expected the run to fail; it produced ${out.snapshot.nodes.length} nodes`);
  assert.ok(out.errors.length >= 1, 'a failed run carries at least one error');
  return out.errors[0];
}

export function formatError(e: RunError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.kind}: ${e.message}`;
}

/** The one node with this name (fails when there is none or several). */
export function node(s: GraphSnapshot, name: string): SnapshotNode {
  const hits = s.nodes.filter((n) => n.name === name);
  assert.equal(hits.length, 1, `expected one node named ${JSON.stringify(name)}, found ${hits.length} (names: ${names(s).join(', ')})`);
  return hits[0];
}

export function nodesNamed(s: GraphSnapshot, name: string): SnapshotNode[] {
  return s.nodes.filter((n) => n.name === name);
}

export function names(s: GraphSnapshot): string[] {
  return s.nodes.flatMap((n) => (n.name ? [n.name] : []));
}

/** Writes a model into `dir` and runs it. */
export async function runModel(runner: ModelRunner, dir: string, name: string, text: string, opts: RunOptions = {}): Promise<{ file: string; out: RunOutcome }> {
  const file = writeFile(dir, name, text);
  return { file, out: await runner.run(file, opts) };
}

/** Plain numbers of a payload (Float64Array or number[]). */
export function numbers(v: ArrayLike<number> | null | undefined): number[] {
  assert.ok(v, 'expected a payload');
  return Array.from(v);
}

export function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: expected ${expected}, got ${actual}`);
}
