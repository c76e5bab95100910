/**
 * The local gradients the tape's backward sweep evaluates: compiled once per op from its
 * `localGrads` (engine/ops/number-grads.ts) and held here to the bits of `localGrads` itself on
 * numbers, for every elementwise op of one or two inputs, every set of needed inputs, and inputs
 * with NaN, ±0, ±∞ and subnormals among them.
 */
import assert from 'node:assert/strict';
import { OPS, Rng } from '../../engine/index';
import { NumberOps } from '../../engine/ops/functional';
import { LocalKind, compileLocals, localValue } from '../../engine/ops/number-grads';
import { NO_ATTRS } from '../../engine/tensor';

const SPECIAL = [0, -0, 1, -1, 0.5, 2, NaN, Infinity, -Infinity, 5e-324, -1e-310, 1e300];
const NEEDED: Record<number, boolean[]> = { 1: [true, false], 2: [false, true], 3: [true, true] };

/** The ops the sweep compiles: elementwise, one or two inputs, rows without attributes. */
const COMPILED = [...OPS.values()].filter((d) => d.localGrads && d.pointwise && (d.arity === 1 || d.arity === 2) && (d.attrsOf === undefined || d.attrsOf() === NO_ATTRS));

describe('compiled local gradients (the tape sweep)', () => {
  it('covers the ops micrograd-style code uses', () => {
    const names = COMPILED.map((d) => d.name);
    for (const op of ['add', 'sub', 'mul', 'div', 'pow', 'relu', 'tanh', 'exp', 'log', 'sigmoid', 'neg']) assert.ok(names.includes(op), op);
  });

  for (const def of COMPILED) {
    it(`${def.name}: every local gradient is compiled and gives localGrads' bits`, () => {
      const rng = new Rng(def.name.length * 7919);
      const values = [...SPECIAL, ...Array.from({ length: 40 }, () => rng.normal() * 3)];
      for (const mask of def.arity === 1 ? [1] : [1, 2, 3]) {
        const needed = def.arity === 1 ? [true] : NEEDED[mask];
        const compiled = compileLocals(def.localGrads!, def.arity as 1 | 2, NO_ATTRS, needed, NumberOps);
        assert.ok(compiled !== null, `${def.name} (needed ${needed}) compiles`);
        for (const a of values) {
          for (const b of def.arity === 1 ? [0] : values.slice(0, 20)) {
            const inputs = def.arity === 1 ? [a] : [a, b];
            const out = def.pointwise!(a, b, 0, NO_ATTRS);
            const want = def.localGrads!(NumberOps, inputs, out, NO_ATTRS, needed);
            compiled.forEach((l, i) => {
              const expected = needed[i] ? want[i] : null;
              if (expected === null) assert.equal(l.kind, LocalKind.None, `${def.name} input ${i}: no gradient`);
              else assert.ok(Object.is(localValue(l, a, b, out), expected), `${def.name}(${inputs}) input ${i}: ${localValue(l, a, b, out)} vs ${expected}`);
            });
          }
        }
      }
    });
  }

  it('a localGrads that computes with a value outside the ops is not compiled (the sweep calls it instead)', () => {
    const sneaky = ((_ops: unknown, [x]: number[]) => [(x as number) * 2]) as never;
    assert.equal(compileLocals(sneaky, 1, NO_ATTRS, [true], NumberOps), null);
  });
});
