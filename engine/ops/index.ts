/**
 * The op registry: every primitive op, by name. The UI reads categories, symbols and formulas from
 * here; tests iterate it to make sure every op has a gradient check. Composite ops (mean, var,
 * softmax, logSoftmax, linear, clamp, the losses) are functions in `functional.ts`/`losses.ts` that
 * tag their nodes with a group name instead of having entries here.
 */
import * as A from './activations';
import * as E from './elementwise';
import * as L from './layout';
import * as M from './matmul';
import * as R from './reduce';
import type { OpDef } from './registry';

const all: OpDef[] = [
  E.add, E.sub, E.mul, E.div, E.pow, E.maximum, E.minimum, E.neg, E.exp, E.log, E.sqrt, E.abs, E.square,
  E.erf, E.where, E.greater, E.less, E.equal, E.sign,
  A.relu, A.leakyRelu, A.elu, A.sigmoid, A.tanh, A.softplus, A.gelu,
  M.matmul,
  R.sum, R.max, R.min, R.broadcastTo, R.sumTo,
  L.reshape, L.cast, L.permute, L.slice, L.pad, L.concat, L.gather, L.scatterAdd,
] as unknown as OpDef[];

export const OPS: ReadonlyMap<string, OpDef> = new Map(all.map((d) => [d.name, d]));

/** Names of the composite ops (their nodes carry a group with this name). */
export const COMPOSITE_OPS = [
  'mean', 'var', 'softmax', 'logSoftmax', 'linear', 'clamp',
  'mse', 'l1', 'huber', 'bce', 'bceWithLogits', 'softmaxCrossEntropy', 'batchNorm1d', 'dropout',
] as const;

export type { OpDef, OpCategory } from './registry';
