/**
 * What the Python package (python/backprop_lens) records from a PyTorch file, as one JSON document:
 * the contract between it and the engine, which turns it into the same GraphSnapshot a TypeScript
 * model gives (torch.ts). PyTorch computes every value, gradient and contribution; the engine adds
 * what it knows about ops (symbols, categories, formulas, elementwise local gradients from its own
 * registry), the accumulation bookkeeping and the diagnosis.
 *
 * Payloads are flat row-major arrays of numbers (NaN and ±∞ as the strings "NaN", "Infinity",
 * "-Infinity"), or null for tensors over `maxElements` elements (their `stats` are still there).
 * Shapes are lists of sizes; a 0-d tensor has shape [].
 */
import type { LayerStats } from '../stats/layers';
import type { TensorStats } from '../stats/summary';

export const TORCH_TRACE_VERSION = 1;

export type JsonPayload = (number | string)[] | null;

export interface TorchTrace {
  version: typeof TORCH_TRACE_VERSION;
  /** The model file (absolute path). */
  file: string;
  /** torch.__version__ and the interpreter (sys.executable, the Python version). */
  torch: string;
  python: { executable: string; version: string };
  /** Id of the node the backward pass started from: the tensor the file called .backward() on, else the last scalar that requires grad, else what backprop_lens.show() picked. */
  output: number;
  /** Every recorded tensor the output depends on (ops and leaves), in the order the program made them: a node's id is its index. */
  nodes: TorchNode[];
  /** The backward pass as autograd ran it: one record per op node that received a gradient, in the order autograd processed them. */
  steps: TorchStep[];
  maxElements: number;
  /** Ops the program ran that the output does not depend on (not in `nodes`). */
  unusedNodes: number;
  /** Per-layer health of this pass (nn.Module layers with parameters, input side first), as the engine's LayerStats. */
  layers?: LayerStats[];
  /** What could not be captured, in words (shown in the output channel). */
  notes: string[];
}

export interface TorchNode {
  id: number;
  /**
   * The op as PyTorch names it: the function or method the file called, without the namespace
   * (`add`, `mul`, `matmul`, `linear`, `relu`, `cross_entropy`, `__getitem__`, `add_` for in-place,
   * `view`…), or `leaf` for a tensor the file made (a parameter, an input, a constant).
   */
  op: string;
  leaf: 'param' | 'input' | 'constant' | null;
  /** The variable name the user wrote (`h = model.fc1(x)` names the last op of that statement), or the parameter's name (`fc1.weight`). */
  name: string | null;
  /** Ids of the tensor inputs, in the order of the call's arguments. */
  inputs: number[];
  /** The call's non-tensor arguments that matter for its gradient (`alpha`, `negative_slope`, `dim`, `exponent`…), by the engine's attribute names where it has them. */
  attrs: Record<string, number | boolean | string | number[] | null>;
  shape: number[];
  /** torch dtype without the namespace: float32, float64, int64… */
  dtype: string;
  /** Where the tensor lived (cpu, cuda:0); values are copied to the CPU for display. */
  device: string;
  /** Module path of the innermost module running when the op ran (`model.layers.0`). */
  scope: string | null;
  /** Where the user's file made it (1-based line; column 1-based, or 0 when unknown). */
  source: { file: string; line: number; column: number } | null;
  requiresGrad: boolean;
  value: JsonPayload;
  /** ∂L/∂node as autograd computed it (a leaf's .grad; an op's gradient from its grad_fn). */
  grad: JsonPayload;
  stats: TensorStats;
  gradStats: TensorStats | null;
}

export interface TorchStep {
  /** The op node this step went back through. */
  node: number;
  /** ∂L/∂node, as autograd passed it to the node's grad_fn. */
  upstreamGrad: JsonPayload;
  /** What autograd gave each input that needs a gradient (the vector–Jacobian product). */
  inputs: { index: number; input: number; contribution: JsonPayload }[];
}
