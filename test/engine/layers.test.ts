/**
 * The engine is layered: each module imports only modules below it at run time, so any module can
 * be loaded first. Two checks: no runtime import cycle anywhere in engine/ (type-only imports do not
 * count: they are erased), and every module loads first in a fresh Node process.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';

const root = join(__dirname, '..', '..');

function engineModules(dir = join(root, 'engine')): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...engineModules(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(root, path));
  }
  return out;
}

/** Strongly connected components with more than one module (or a module importing itself). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('engine layering', function () {
  this.timeout(120_000);
  const modules = engineModules();
  const dir = mkdtempSync(join(tmpdir(), 'bpl-layers-'));
  let graph: Map<string, string[]>;
  let outputs: Map<string, string>;

  before(async () => {
    // one self-contained bundle per module, each evaluating its imports in ES module order: what
    // loading that module first does (esbuild reproduces a cycle's half-initialised imports)
    const result = await esbuild.build({
      entryPoints: modules, absWorkingDir: root, outdir: dir, outbase: 'engine', bundle: true, platform: 'node',
      format: 'cjs', metafile: true, logLevel: 'silent', external: ['webgpu'],
    });
    graph = new Map(Object.entries(result.metafile.inputs).map(([file, input]) => [file, input.imports.map((i) => i.path)]));
    outputs = new Map(Object.entries(result.metafile.outputs).filter(([, o]) => o.entryPoint).map(([file, o]) => [o.entryPoint!, join(root, file)]));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has no runtime import cycle (type-only imports are erased and do not count)', () => {
    assert.ok(modules.length > 50, `found only ${modules.length} engine modules`);
    for (const m of modules) assert.ok(graph.has(m), `${m} is not in the import graph`);
    assert.deepEqual(cycles(graph), [], 'runtime import cycles among engine modules');
  });

  it('every module can be imported first, in a fresh process', () => {
    const failures: string[] = [];
    for (const m of modules) {
      const file = outputs.get(m);
      if (!file) {
        failures.push(`${m}: no bundle`);
        continue;
      }
      try {
        execFileSync(process.execPath, [file], { stdio: 'pipe', timeout: 30_000 });
      } catch (e) {
        const err = e as { stderr?: Buffer };
        const message = (err.stderr?.toString() ?? String(e)).split('\n').find((l) => /Error/.test(l)) ?? String(e);
        failures.push(`${m}: ${message.trim()}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('the cycle check finds a cycle', () => {
    const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
    assert.deepEqual(cycles(g), [['a', 'b', 'c']]);
  });
});
