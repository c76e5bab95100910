/** The Graph IR's CPU backend: the op registry's own kernels (the reference for the GPU). */
import { noGrad } from '../ops/context';
import { OPS } from '../ops/functional';
import { apply } from '../ops/registry';
import type { Tensor } from '../tensor';
import type { IrBackend } from './execute';

/** Float64 where the trace was float64. */
export const cpuBackend: IrBackend<Tensor> = {
  run: (node, inputs) => {
    const def = OPS.get(node.op);
    if (!def) throw new Error(`ir: unknown op ${node.op}`);
    return noGrad(() => apply(def, inputs as Tensor[], node.attrs));
  },
  release: () => {},
};
