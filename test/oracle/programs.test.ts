/**
 * The PyTorch oracle on random programs (see programs.ts). Each program is written as a model file
 * and as a PyTorch script; the model file runs through the real runner (bundled, in the model
 * worker, traced, the stepped backward pass into a snapshot) and again in this process untraced
 * with plain `backward()` (the scalar tape for 0-d float64 values); every named value and its
 * gradient is compared with PyTorch's. A failing program is shrunk to the smallest sub-program that
 * still fails and printed in both languages, ready to become a fixed test.
 *
 * ORACLE_PROGRAMS sets the count (default 500).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { transformSync } from 'esbuild';
import * as engine from '../../engine/index';
import { Tensor } from '../../engine/tensor';
import type { GraphSnapshot } from '../../engine/trace/snapshot';
import { useRunner, useTempDir } from '../runner/helpers';
import { compareNode, largest, Tally, type Side } from './compare';
import { generate, missingGenerators, opsOf, precisions, subPrograms, toPython, toTypeScript, type Program } from './programs';
import { runPython, useTorch } from './torch';

const COUNT = Number(process.env.ORACLE_PROGRAMS ?? 500);
const SEED = 20261203;

type Sides = Record<string, Side>;
interface TorchResult { nodes?: Record<string, { dtype: string; shape: number[]; value: number[]; grad: number[] | null }>; error?: string }

function fromSnapshot(s: GraphSnapshot): Sides {
  const out: Sides = {};
  for (const n of s.nodes) if (n.name) out[n.name] = { dtype: n.dtype, shape: n.shape, value: n.value, grad: n.grad };
  return out;
}

/** The model file run in this process without the tracer: plain backward(), the tape for scalars. */
function untraced(p: Program): Sides {
  const code = transformSync(toTypeScript(p), { loader: 'ts', format: 'cjs' }).code;
  const module = { exports: {} as { default?: Tensor; values?: Record<string, Tensor> } };
  const req = (id: string) => {
    if (id !== 'backprop-lens') throw new Error(`unexpected import ${id}`);
    return engine;
  };
  new Function('require', 'module', 'exports', code)(req, module, module.exports);
  const { default: out, values } = module.exports;
  out!.backward();
  const sides: Sides = {};
  for (const [name, t] of Object.entries(values!)) {
    const g = t.grad;
    sides[name] = { dtype: t.dtype, shape: t.shape, value: Array.from(t.data as ArrayLike<number>), grad: g ? Array.from(g.data as ArrayLike<number>) : null };
  }
  return sides;
}

/**
 * Which values' gradients both sides define the same way: all of them, except in a second-order
 * program the first-order part's intermediate values, whose d(output)/d(value) depends on which
 * values each backward formula reuses (ours and PyTorch's differ and are both right). Leaves and
 * everything computed from the gradient are compared.
 */
function gradComparable(p: Program): (name: string) => boolean {
  if (!p.secondOrder) return () => true;
  const gi = p.stmts.findIndex((s) => s.val.name === p.secondOrder!.grad);
  const before = new Set(p.stmts.slice(0, gi).filter((s) => !s.val.leaf).map((s) => s.val.name));
  return (name) => !before.has(name);
}

describe('PyTorch oracle: random programs', function () {
  useTorch();
  const runner = useRunner();
  const tmp = useTempDir('bpl-oracle-');

  it('every registry op and composite has a generator', () => {
    assert.deepEqual(missingGenerators(), [], 'add a generator to GENERATORS in test/oracle/programs.ts');
  });

  /** Runs programs on both sides; returns each one's disagreements. */
  async function evaluate(programs: Program[], tally: Tally): Promise<Map<string, string[]>> {
    const dir = fs.mkdtempSync(path.join(tmp(), 'batch-'));
    const files = programs.map((p) => {
      const f = path.join(dir, `${p.id.replace(/[^\w-]/g, '_')}.ts`);
      fs.writeFileSync(f, toTypeScript(p));
      return f;
    });
    const torch = runPython<Record<string, TorchResult>>('programs.py', { programs: programs.map((p) => ({ id: p.id, source: toPython(p) })) });
    const traced: (Sides | string)[] = new Array(programs.length);
    let next = 0;
    const worker = async () => {
      while (next < programs.length) {
        const i = next++;
        const o = await runner().run(files[i]);
        traced[i] = o.ok ? fromSnapshot(o.snapshot) : o.errors.map((e) => `${e.kind}: ${e.message} (line ${e.line})`).join('; ');
      }
    };
    await Promise.all([worker(), worker()]);
    const theirs = await torch;
    const out = new Map<string, string[]>();
    programs.forEach((p, i) => {
      const problems: string[] = [];
      const t = theirs[p.id];
      if (!t || t.error) problems.push(`PyTorch: ${t?.error ?? 'no result'}`);
      const ours = traced[i];
      if (typeof ours === 'string') problems.push(`model file: ${ours}`);
      let plain: Sides | string;
      try {
        plain = untraced(p);
      } catch (e) {
        plain = `untraced: ${(e as Error).message}`;
      }
      if (typeof plain === 'string') problems.push(plain);
      if (t?.nodes && typeof ours !== 'string') {
        const grads = gradComparable(p);
        const precision = precisions(p);
        const nodes = Object.values(t.nodes);
        const scale = { value: largest(nodes.map((n) => n.value)), grad: largest(nodes.map((n) => n.grad)) };
        for (const [name, node] of Object.entries(t.nodes)) {
          const opts = { grads: grads(name), precision: precision.value.get(name), gradPrecision: precision.grad, scale };
          // the graph holds what the output depends on: a value PyTorch gives no gradient may be left out
          if (ours[name] || node.grad !== null) problems.push(...compareNode(name, ours[name], node, tally, opts).map((m) => `traced ${m}`));
          if (typeof plain !== 'string') problems.push(...compareNode(name, plain[name], node, tally, opts).map((m) => `untraced ${m}`));
        }
      }
      out.set(p.id, problems);
    });
    return out;
  }

  it(`${COUNT} programs over every registry op agree with PyTorch node by node (float64 1e-12, float32 1e-5)`, async function () {
    this.timeout(900_000);
    const programs = Array.from({ length: COUNT }, (_, i) => generate(`p${i}`, { seed: SEED + i }));
    const ops = new Set(programs.flatMap((p) => [...opsOf(p)]));
    const unused = [...engine.OPS.keys()].filter((o) => !ops.has(o));
    // a small ORACLE_PROGRAMS (a quick local run) may miss some; the default count must use them all
    if (COUNT >= 300) assert.deepEqual(unused, [], `registry ops no program used: raise ORACLE_PROGRAMS or the op's weight`);
    const tally = new Tally();
    const results = await evaluate(programs, tally);
    const failing = programs.filter((p) => results.get(p.id)!.length > 0);
    const kinds = { secondOrder: programs.filter((p) => p.secondOrder).length, scalar: programs.filter((p) => p.stmts.every((s) => s.val.shape.length === 0)).length };
    process.stdout.write(`      ${programs.length} programs (${kinds.scalar} of 0-d scalars, ${kinds.secondOrder} second order), ${ops.size} ops, ${tally.nodes} node comparisons (traced and untraced); worst: ${tally.summary()}\n`);
    if (failing.length === 0) return;
    // shrink the first few failures to the smallest sub-program that still disagrees
    const reports: string[] = [];
    for (const p of failing.slice(0, 3)) {
      const candidates = subPrograms(p);
      const r = await evaluate(candidates, new Tally());
      const small = candidates.find((c) => r.get(c.id)!.length > 0) ?? p;
      const problems = small === p ? results.get(p.id)! : r.get(small.id)!;
      reports.push(`${small.id} (shrunk from ${p.stmts.length} to ${small.stmts.length} statements):\n  ${problems.slice(0, 6).join('\n  ')}\n--- model file\n${toTypeScript(small)}--- PyTorch\n${toPython(small)}`);
    }
    const firsts = failing.slice(0, 25).map((p) => `  ${p.id}: ${results.get(p.id)![0]}`).join('\n');
    assert.fail(`${failing.length} of ${programs.length} programs disagree with PyTorch:\n${firsts}\n\n${reports.join('\n\n')}`);
  });
});
