/**
 * The Graph IR: one training step's computation as data — primitive ops in order, with the values
 * they read and write, and where each leaf comes from (a parameter, the minibatch, a constant). The
 * gradients are part of the program (the backward pass recorded as ops), so any backend that has
 * the primitives can replay a whole step without the model's code: the CPU backend (the reference)
 * or WebGPU in the webview.
 */
import type { Attrs } from '../ops/registry';

export type IrDType = 'float32' | 'int32';

export interface IrValue {
  readonly shape: number[];
  readonly dtype: IrDType;
}

export type IrSource =
  | { readonly kind: 'param'; readonly index: number }
  | { readonly kind: 'data'; readonly name: 'x' | 'y' }
  /** Float64Array, not number[]: NaN and ±∞ must survive a JSON-based postMessage (typed arrays travel as binary). */
  | { readonly kind: 'const'; readonly values: Float64Array };

export interface IrLeaf {
  readonly value: number;
  readonly source: IrSource;
}

export interface IrNode {
  readonly op: string;
  readonly inputs: readonly number[];
  readonly attrs: Attrs;
  readonly out: number;
}

export interface IrProgram {
  /** Every value; a value's id is its index. */
  readonly values: readonly IrValue[];
  readonly leaves: readonly IrLeaf[];
  /** Inputs before the nodes that use them. */
  readonly nodes: readonly IrNode[];
  /** The scalar loss. */
  readonly loss: number;
  /** The gradient of each parameter (null where no gradient reaches it). */
  readonly grads: readonly (number | null)[];
  /** Ops, shapes, attributes and constant values: two steps with different signatures make a dynamic graph. */
  readonly signature: string;
}

/** For each value, the index of the last node that reads it (−1: none). */
export function lastUses(p: IrProgram): Int32Array {
  const last = new Int32Array(p.values.length).fill(-1);
  p.nodes.forEach((n, i) => n.inputs.forEach((v) => (last[v] = i)));
  return last;
}
