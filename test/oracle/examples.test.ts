/**
 * The PyTorch oracle on every example and lecture case: each has a twin in twins.py that writes its
 * computation again in PyTorch from the snapshot's leaves. The snapshot comes from the CLI
 * (`backprop-lens trace FILE --json`, what a user runs); every named node's value and gradient,
 * every parameter and the output are compared, and every named node must have its twin.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureBuilt, ROOT } from '../runner/helpers';
import { compareNode, largest, Tally, type Side } from './compare';
import { runPython, useTorch } from './torch';

const FILES = [
  ...fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => /^\d\d-.*\.ts$/.test(f)).map((f) => path.join(ROOT, 'examples', f)),
  ...fs.readdirSync(path.join(__dirname, 'lectures')).map((f) => path.join(__dirname, 'lectures', f)),
];

interface JsonNode { id: number; name: string | null; op: string; leaf: string | null; scope: string | null; shape: number[]; dtype: string; requiresGrad: boolean; value: (number | string)[] | null; grad: (number | string)[] | null }
interface JsonSnapshot { output: number; nodes: JsonNode[] }

const num = (v: (number | string)[] | null) => (v ? v.map(Number) : null);
/** What a node is called on both sides: its name, a parameter's with its module scope. */
const keyOf = (n: JsonNode) => (n.name === null ? null : n.leaf === 'param' && n.scope ? `${n.scope}.${n.name}` : n.name);

function cliTrace(file: string): Promise<JsonSnapshot> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'backprop-lens.js'), 'trace', file, '--json'], { cwd: ROOT });
    const out: Buffer[] = [], err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(Buffer.concat(out).toString('utf8'))) : reject(new Error(`trace ${path.basename(file)} exited ${code}: ${Buffer.concat(err)}`))));
  });
}

describe('PyTorch oracle: the examples and lecture cases', function () {
  useTorch();
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
  });

  it(`${FILES.length} files: every named node, parameter and the output agree with the PyTorch twin`, async function () {
    this.timeout(300_000);
    const snapshots: JsonSnapshot[] = [];
    for (let i = 0; i < FILES.length; i += 2) snapshots.push(...(await Promise.all(FILES.slice(i, i + 2).map(cliTrace))));
    const cases = FILES.map((f, i) => ({
      file: path.basename(f),
      leaves: snapshots[i].nodes.filter((n) => n.op === 'leaf').map((n) => ({ key: keyOf(n), leaf: n.leaf, dtype: n.dtype, shape: n.shape, requiresGrad: n.requiresGrad, value: num(n.value) })),
    }));
    const theirs = await runPython<Record<string, { nodes?: Record<string, Side[]>; error?: string }>>('twins.py', { cases });
    const problems: string[] = [];
    const tally = new Tally();
    FILES.forEach((f, i) => {
      const file = path.basename(f), s = snapshots[i], t = theirs[file];
      if (!t?.nodes) {
        problems.push(`${file}: the twin failed: ${t?.error ?? 'no twin'}`);
        return;
      }
      const ours = new Map<string, Side[]>();
      const side = (n: JsonNode): Side => ({ dtype: n.dtype, shape: n.shape, value: num(n.value), grad: num(n.grad) });
      for (const n of s.nodes) {
        const k = keyOf(n);
        if (k !== null) ours.set(k, [...(ours.get(k) ?? []), side(n)]);
      }
      ours.set('$output', [side(s.nodes[s.output])]);
      const all = Object.values(t.nodes).flat();
      const scale = { value: largest(all.map((n) => n.value)), grad: largest(all.map((n) => n.grad)) };
      for (const [key, list] of ours) {
        const twin = t.nodes[key];
        if (!twin) {
          problems.push(`${file}: ${key} has no twin`);
          continue;
        }
        if (twin.length !== list.length) problems.push(`${file}: ${list.length} nodes named ${key}, the twin has ${twin.length}`);
        list.forEach((o, k) => twin[k] && problems.push(...compareNode(`${file} ${key}${list.length > 1 ? `#${k}` : ''}`, o, twin[k], tally, { scale })));
      }
      for (const key of Object.keys(t.nodes)) if (!ours.has(key)) problems.push(`${file}: the twin names ${key}, the graph has no such node`);
    });
    process.stdout.write(`      ${FILES.length} files, ${tally.nodes} nodes compared; worst: ${tally.summary()}\n`);
    assert.deepEqual(problems, []);
  });
});
