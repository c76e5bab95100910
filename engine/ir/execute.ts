/**
 * Replays a Graph IR program on a backend: leaves bound by the caller (parameters, minibatch,
 * constants), every node run in order, each intermediate value released right after its last use.
 * Returns the loss and the gradients. Backend-free (the webview's GPU path imports it); the CPU
 * backend, the reference the GPU is held to, is in cpu.ts.
 */
import { lastUses, type IrNode, type IrProgram, type IrValue } from './program';

export interface IrBackend<T> {
  run(node: IrNode, inputs: readonly T[], out: IrValue): T;
  release(t: T): void;
}

export interface IrOutputs<T> {
  loss: T;
  grads: (T | null)[];
}

/**
 * Runs `program` with the leaves in `bound` (value id → backend value; the caller owns them).
 * `lastUse` may be passed in when the program runs many times.
 */
export function execute<T>(program: IrProgram, backend: IrBackend<T>, bound: ReadonlyMap<number, T>, lastUse = lastUses(program)): IrOutputs<T> {
  const vals = new Map<number, T>(bound);
  const keep = new Set<number>([program.loss, ...program.grads.filter((g): g is number => g !== null)]);
  for (const leaf of program.leaves) if (!vals.has(leaf.value)) throw new Error(`ir: leaf ${leaf.value} (${leaf.source.kind}) is not bound`);
  program.nodes.forEach((node, i) => {
    const inputs = node.inputs.map((v) => vals.get(v)!);
    vals.set(node.out, backend.run(node, inputs, program.values[node.out]));
    for (const v of new Set(node.inputs)) {
      if (lastUse[v] === i && !keep.has(v) && !bound.has(v)) {
        backend.release(vals.get(v)!);
        vals.delete(v);
      }
    }
  });
  // outputs nobody reads (a node whose value only the caller wants) were never released
  return { loss: vals.get(program.loss)!, grads: program.grads.map((g) => (g === null ? null : vals.get(g)!)) };
}
