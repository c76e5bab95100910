/**
 * The two evaluators of local gradients (see `Algebra` in registry.ts): over tensors, and over
 * plain numbers using each op's own scalar function, so both give the same doubles.
 */
import * as A from './activations';
import * as E from './elementwise';
import * as F from './functional';
import type { Algebra, OpDef } from './registry';
import { NO_ATTRS } from '../tensor';

export const TensorAlgebra: Algebra<import('../tensor').Tensor> = {
  add: F.add, sub: F.sub, mul: F.mul, div: F.div, pow: F.pow, neg: F.neg, exp: F.exp, log: F.log,
  square: F.square, sign: F.sign, erf: F.erf, sigmoid: F.sigmoid,
  greater: F.greater, less: F.less, equal: F.equal, where: F.where,
};

const binary = (def: OpDef) => {
  const fn = def.pointwise!;
  return (a: number, b: number) => fn(a, b, 0, NO_ATTRS);
};
const unary = (def: OpDef) => {
  const fn = def.pointwise!;
  return (x: number) => fn(x, 0, 0, NO_ATTRS);
};
const where = E.where.pointwise!;

export const NumberAlgebra: Algebra<number> = {
  add: binary(E.add), sub: binary(E.sub), mul: binary(E.mul), div: binary(E.div), pow: binary(E.pow),
  neg: unary(E.neg), exp: unary(E.exp), log: unary(E.log), square: unary(E.square), sign: unary(E.sign),
  erf: unary(E.erf), sigmoid: unary(A.sigmoid),
  greater: binary(E.greater), less: binary(E.less), equal: binary(E.equal),
  where: (c, a, b) => where(c, a, b, NO_ATTRS),
};
