/**
 * The tracer: while a model runs, every node an op creates and every leaf a factory creates is
 * recorded with the place in the user's code that created it. Locating is delegated to a callback
 * (the Node runner reads V8 call sites; the engine itself stays free of host APIs).
 */
import { setHooks } from '../ops/context';
import type { SourceLocation, Tensor } from '../tensor';

/** A located node: where it is in the user's file, and what to write to the progress cells. */
export interface TracedLocation extends SourceLocation {
  /** [line, column] for the progress cells when they are not `line`/`column` (a bundle's coordinates). */
  progress?: readonly [number, number];
}

export interface TraceOptions {
  /** Where the user's code is right now (called once per node and leaf). */
  locate?: () => TracedLocation | null;
  /**
   * Stop recording (and report) beyond this many graph nodes: ops and leaves together, the leaves
   * including the constants ops make from plain numbers (`x.add(1)`); a tensor made before tracing
   * began counts once, where a recorded op uses it. Default 20000.
   */
  maxNodes?: number;
  /**
   * Shared progress cells, readable from another thread while the model runs (e.g. to say where an
   * infinite loop is): [nodes created, line, column] of the latest located node.
   */
  progress?: Int32Array;
  /** Called for every recorded node and leaf after it is placed (e.g. a memory check); may throw. */
  check?: (t: Tensor) => void;
}

export class TooManyNodesError extends Error {
  constructor(readonly limit: number) {
    super(
      `The model created more than ${limit} graph nodes (ops and leaves). Backprop Lens shows graphs up to that size: ` +
        'use tensors instead of many scalars, a smaller example, or raise the "backpropLens.maxNodes" setting.',
    );
    this.name = 'TooManyNodesError';
  }
}

export interface TraceResult<T> {
  result: T;
  /** Op nodes in creation order. */
  nodes: Tensor[];
  /** Leaves created by factories while tracing, in creation order. */
  leaves: Tensor[];
}

/** Runs `fn` with the tracer's hooks installed. */
export function trace<T>(fn: () => T, opts: TraceOptions = {}): TraceResult<T> {
  const nodes: Tensor[] = [];
  const leaves: Tensor[] = [];
  const max = opts.maxNodes ?? 20000;
  const progress = opts.progress;
  const locate = opts.locate;
  const check = opts.check;
  const place = (t: Tensor) => {
    if (!locate) return;
    const loc = locate();
    if (!loc) return;
    t.source = loc;
    if (progress) {
      const [line, column] = loc.progress ?? [loc.line, loc.column];
      progress[1] = line;
      progress[2] = column;
    }
  };
  // everything counted against `max`: recorded nodes and leaves, and the inputs of recorded nodes
  // that no factory announced (constants from numbers, tensors from before the trace)
  const counted = new Set<Tensor>();
  const fresh: Tensor[] = [];
  const restore = setHooks({
    onNode(node) {
      fresh.length = 0;
      for (const input of node.inputs) if (!counted.has(input) && !fresh.includes(input)) fresh.push(input);
      if (!counted.has(node)) fresh.push(node);
      if (counted.size + fresh.length > max) throw new TooManyNodesError(max);
      for (const t of fresh) counted.add(t);
      nodes.push(node);
      if (progress) progress[0] = counted.size;
      place(node);
      if (check) check(node);
    },
    onLeaf(leaf) {
      if (!counted.has(leaf)) {
        if (counted.size >= max) throw new TooManyNodesError(max);
        counted.add(leaf);
      }
      leaves.push(leaf);
      if (progress) progress[0] = counted.size;
      place(leaf);
      if (check) check(leaf);
    },
  });
  try {
    return { result: fn(), nodes, leaves };
  } finally {
    restore();
  }
}
