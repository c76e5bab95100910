/**
 * A traced PyTorch file (torch-trace.ts, recorded by python/backprop_lens) as the same GraphSnapshot
 * a TypeScript model gives, so the panel, the CLI and the report show it the same way. PyTorch's
 * numbers are kept as they are; the engine adds what it knows: each op's symbol, colour family and
 * formula (from its registry where the op is one of its own, else from the table below), the local
 * gradients of elementwise ops (its registry's formulas, evaluated on PyTorch's values, so the step
 * records show upstream × local = contribution, an independent check of autograd's numbers), the
 * accumulated and previous gradients of each step, and the diagnosis.
 */
import { diagnose, type Finding } from '../stats/diagnosis';
import { noGrad } from '../ops/context';
import { OPS, TensorOps } from '../ops/functional';
import type { OpCategory, OpDef } from '../ops/registry';
import { tensor, type Tensor } from '../tensor';
import { formatNumber } from '../format';
import { shapeString } from '../shape';
import { DEFAULT_MAX_ELEMENTS, SNAPSHOT_VERSION, type GraphSnapshot, type SnapshotNode, type SnapshotStep, type TensorPayload } from './snapshot';
import type { JsonPayload, TorchNode, TorchTrace } from './torch-trace';
import { verifySnapshot } from './verify';

interface TorchOpInfo {
  /** The engine's registry op it is (its symbol, formula and, for elementwise ops, local gradients). */
  engine?: string;
  symbol?: string;
  category?: OpCategory;
  formula?: string;
}

const same = (engine: string): TorchOpInfo => ({ engine });
const info = (symbol: string, category: OpCategory, formula?: string): TorchOpInfo => ({ symbol, category, formula });

/** PyTorch's names (functions, methods, operators, in-place forms) for the engine's ops, and what to show for the others. */
const TORCH_OPS: Record<string, TorchOpInfo> = {
  add: same('add'), __add__: same('add'), __radd__: same('add'), add_: same('add'), __iadd__: same('add'),
  sub: same('sub'), __sub__: same('sub'), sub_: same('sub'), __isub__: same('sub'), subtract: same('sub'),
  mul: same('mul'), __mul__: same('mul'), __rmul__: same('mul'), mul_: same('mul'), __imul__: same('mul'), multiply: same('mul'),
  div: same('div'), __truediv__: same('div'), div_: same('div'), __itruediv__: same('div'), true_divide: same('div'), divide: same('div'),
  pow: same('pow'), __pow__: same('pow'), pow_: same('pow'),
  maximum: same('maximum'), minimum: same('minimum'),
  neg: same('neg'), __neg__: same('neg'), negative: same('neg'), neg_: same('neg'),
  exp: same('exp'), exp_: same('exp'), log: same('log'), log_: same('log'), sqrt: same('sqrt'), sqrt_: same('sqrt'),
  abs: same('abs'), abs_: same('abs'), __abs__: same('abs'), square: same('square'), sign: same('sign'), erf: same('erf'),
  sin: same('sin'), cos: same('cos'), tan: same('tan'), atan: same('atan'), sinh: same('sinh'), cosh: same('cosh'),
  log1p: same('log1p'), expm1: same('expm1'),
  relu: same('relu'), relu_: same('relu'), sigmoid: same('sigmoid'), sigmoid_: same('sigmoid'), tanh: same('tanh'), tanh_: same('tanh'),
  gelu: same('gelu'), softplus: same('softplus'), elu: same('elu'), elu_: same('elu'), leaky_relu: same('leakyRelu'), leaky_relu_: same('leakyRelu'),
  where: same('where'),
  gt: same('greater'), __gt__: same('greater'), greater: same('greater'), lt: same('less'), __lt__: same('less'), less: same('less'),
  eq: same('equal'), __eq__: same('equal'),
  matmul: same('matmul'), __matmul__: same('matmul'), mm: same('matmul'), bmm: same('matmul'),
  sum: same('sum'), amax: same('max'), amin: same('min'),
  reshape: same('reshape'), view: same('reshape'), flatten: same('reshape'), squeeze: same('reshape'), unsqueeze: same('reshape'),
  permute: same('permute'), transpose: same('permute'), t: same('permute'),
  cat: same('concat'), concat: same('concat'), index_select: same('gather'), expand: same('broadcastTo'), broadcast_to: same('broadcastTo'),
  to: same('cast'), float: same('cast'), double: same('cast'),
  // what the engine has as composites or not at all
  mean: info('mean', 'reduce', '∂mean(x)/∂xᵢ = 1/n'),
  var: info('var', 'reduce'), std: info('std', 'reduce'),
  max: info('max', 'reduce'), min: info('min', 'reduce'),
  linear: info('linear', 'matmul', 'y = x·Wᵀ + b:  ∂L/∂x = ∂L/∂y · W,  ∂L/∂W = ∂L/∂yᵀ · x,  ∂L/∂b = Σ ∂L/∂y'),
  addmm: info('addmm', 'matmul'),
  conv1d: info('conv', 'matmul', 'the gradient of a convolution is the correlation of the upstream gradient with the weights (∂x) and with the input (∂W)'),
  conv2d: info('conv', 'matmul', 'the gradient of a convolution is the correlation of the upstream gradient with the weights (∂x) and with the input (∂W)'),
  max_pool2d: info('maxpool', 'reduce', 'the gradient goes to the largest element of each window'),
  avg_pool2d: info('avgpool', 'reduce', 'the gradient is shared equally by each window'),
  adaptive_avg_pool2d: info('avgpool', 'reduce', 'the gradient is shared equally by each window'),
  softmax: info('softmax', 'activation', '∂softmaxᵢ/∂xⱼ = sᵢ(δᵢⱼ − sⱼ)'),
  log_softmax: info('logSoftmax', 'activation', '∂log softmaxᵢ/∂xⱼ = δᵢⱼ − sⱼ'),
  dropout: info('dropout', 'layout', 'the gradient passes where the mask kept the value, scaled by 1/(1−p)'),
  batch_norm: info('BN', 'reduce'), layer_norm: info('LN', 'reduce'), embedding: info('embed', 'layout', 'the gradient is added back at the looked-up rows'),
  cross_entropy: info('CE', 'loss', '∂CE/∂logits = softmax(logits) − onehot(target), / N'),
  nll_loss: info('NLL', 'loss'), mse_loss: info('MSE', 'loss', '∂mean((p − t)²)/∂p = 2(p − t)/N'),
  l1_loss: info('L1', 'loss'), binary_cross_entropy: info('BCE', 'loss'),
  binary_cross_entropy_with_logits: info('BCE', 'loss', '∂/∂x = σ(x) − t, / N'), smooth_l1_loss: info('huber', 'loss'), huber_loss: info('huber', 'loss'),
  __rsub__: info('−', 'arithmetic', '∂(c − x)/∂x = −1'), rsub: info('−', 'arithmetic', '∂(c − x)/∂x = −1'),
  __rtruediv__: info('÷', 'arithmetic', '∂(c/x)/∂x = −c/x²'), __rpow__: info('^', 'arithmetic', '∂(cˣ)/∂x = cˣ·ln c'),
  __getitem__: info('[ ]', 'layout', 'the gradient is placed back at the indexed positions, zero elsewhere'),
  __setitem__: info('[ ]=', 'layout'),
  stack: info('stack', 'layout'), split: info('split', 'layout'), chunk: info('chunk', 'layout'),
  clamp: info('clamp', 'arithmetic', 'd/dx clamp(x) = 1 on [lo, hi], 0 outside'), clip: info('clamp', 'arithmetic', 'd/dx clamp(x) = 1 on [lo, hi], 0 outside'),
  contiguous: info('contiguous', 'layout'), clone: info('clone', 'layout'), detach: info('detach', 'layout'),
};

/** What the graph shows for a torch op: the engine's entry, its table row, or the op's own name. */
function describeOp(op: string): { def: OpDef | null; symbol: string; category: string; formula: string | null } {
  const row = TORCH_OPS[op] ?? TORCH_OPS[op.replace(/_$/, '')];
  const def = row?.engine ? OPS.get(row.engine) ?? null : null;
  if (def) return { def, symbol: def.symbol, category: def.category, formula: def.formula };
  return { def: null, symbol: row?.symbol ?? op.replace(/^__(\w+)__$/, '$1'), category: row?.category ?? 'unary', formula: row?.formula ?? null };
}

const fromJson = (p: JsonPayload | undefined): TensorPayload => (p ? Float64Array.from(p, Number) : null);

/** Attributes as the engine's op wants them (PyTorch spells some differently). */
function engineAttrs(def: OpDef, node: TorchNode): Record<string, unknown> {
  const a = node.attrs ?? {};
  if (def.name === 'leakyRelu') return { alpha: Number(a.alpha ?? a.negative_slope ?? 0.01) };
  if (def.name === 'elu') return { alpha: Number(a.alpha ?? 1) };
  return a;
}

/**
 * ∂node/∂input_i of an elementwise op from the engine's formula, on PyTorch's values: a payload
 * broadcastable to the node's shape, a constant, or null where the engine cannot say (the op is
 * not elementwise, not its own, or a value is too large to have been sent).
 */
function localGrads(node: TorchNode, nodes: readonly TorchNode[], values: readonly TensorPayload[], def: OpDef | null): ({ payload: TensorPayload | number; shape: number[] | null } | null)[] | null {
  if (!def?.localGrads || def.arity !== node.inputs.length) return null;
  const ins = node.inputs.map((id) => ({ node: nodes[id], value: values[id] }));
  const out = values[node.id];
  if (!out || ins.some((i) => !i.value)) return null;
  const t = (v: Float64Array, shape: number[]) => tensor(v, { dtype: 'float64', shape: shape.slice() });
  try {
    return noGrad(() => {
      const inputs = ins.map((i) => t(i.value!, i.node.shape));
      const needed = ins.map((i) => i.node.requiresGrad);
      const locals = def.localGrads!(TensorOps, inputs, t(out, node.shape), engineAttrs(def, node), needed);
      return locals.map((l) => (l === null ? null : typeof l === 'number' ? { payload: l, shape: null } : { payload: Float64Array.from((l as Tensor).data), shape: (l as Tensor).shape.slice() }));
    });
  } catch {
    return null; // attributes the engine's op does not read the same way: show the step without local gradients
  }
}

function sum(a: TensorPayload, b: TensorPayload): TensorPayload {
  if (!a || !b || a.length !== b.length) return null;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

const hasNonFinite = (s: { nan: number; inf: number } | null | undefined) => !!s && s.nan + s.inf > 0;

export interface TorchSnapshotOptions {
  /** Check the chain rule's bookkeeping (tests set BPL_VERIFY_SNAPSHOTS=1, as for TypeScript snapshots). */
  verify?: boolean;
}

/** The snapshot of a traced PyTorch file. */
export function torchSnapshot(trace: TorchTrace, opts: TorchSnapshotOptions = {}): GraphSnapshot {
  const values = trace.nodes.map((n) => fromJson(n.value));
  const described = trace.nodes.map((n) => (n.leaf ? null : describeOp(n.op)));
  const nodes: SnapshotNode[] = trace.nodes.map((n, id) => {
    const d = described[id];
    const scalar = n.shape.reduce((a, b) => a * b, 1) === 1 && values[id] ? values[id]![0] : null;
    const grad = fromJson(n.grad);
    const label = n.name ?? (d ? d.symbol : scalar !== null ? formatNumber(scalar) : `${n.leaf} ${shapeString(n.shape)}`);
    return {
      id, op: d ? d.def?.name ?? n.op : 'leaf', leaf: n.leaf, name: n.name, label,
      symbol: d?.symbol ?? '', category: d?.category ?? 'leaf', formula: d?.formula ?? null,
      shape: n.shape.slice(), dtype: n.dtype, size: n.shape.reduce((a, b) => a * b, 1),
      inputs: n.inputs.slice(), scope: n.scope, group: null, source: n.source,
      requiresGrad: n.requiresGrad, value: values[id], grad,
      stats: n.stats, gradStats: n.gradStats,
      scalar, scalarGrad: grad && grad.length === 1 ? grad[0] : null,
    };
  });

  // the steps: PyTorch's upstream gradients and contributions; the engine's local gradients; the
  // accumulation in the order autograd ran (each input's gradient before and after the step)
  const running = new Map<number, TensorPayload>();
  const backward: SnapshotStep[] = trace.steps.map((s, index) => {
    const node = trace.nodes[s.node];
    const locals = localGrads(node, trace.nodes, values, described[s.node]?.def ?? null);
    return {
      index, node: s.node, upstreamGrad: fromJson(s.upstreamGrad),
      inputs: s.inputs.map((i) => {
        const contribution = fromJson(i.contribution);
        const had = running.has(i.input);
        const previousGrad = had ? running.get(i.input)! : null;
        const accumulatedGrad = had ? sum(previousGrad, contribution) : contribution;
        running.set(i.input, accumulatedGrad);
        const local = locals?.[i.index] ?? null;
        return {
          index: i.index, input: i.input,
          localGrad: local ? local.payload : null, localShape: local?.shape ?? null,
          contribution, accumulatedGrad, accumulated: had, previousGrad,
        };
      }),
    };
  });

  const diagnosis: Finding[] = [];
  const ref = (n: TorchNode) => `${n.name ? `'${n.name}' (` : ''}${n.op}#${n.id}${n.source ? `, line ${n.source.line}` : ''}${n.name ? ')' : ''}`;
  const firstBad = trace.nodes.find((n) => hasNonFinite(n.stats));
  if (firstBad) {
    const inputsFinite = firstBad.inputs.every((i) => !hasNonFinite(trace.nodes[i].stats));
    const cause = firstBad.leaf ? 'it is an input value' : inputsFinite ? `its inputs were finite, so ${firstBad.op} produced it` : 'an input was already non-finite';
    diagnosis.push({
      severity: 'warning', code: 'nonfinite-forward', node: firstBad.id, source: firstBad.source, layer: null, step: null, fixes: [],
      message: `NaN or Inf first appears in the forward pass at ${ref(firstBad)} (${cause}).`,
    });
  }
  for (const s of backward) {
    const bad = s.inputs.find((i) => i.contribution && Array.from(i.contribution).some((v) => !Number.isFinite(v)));
    if (!bad) continue;
    const n = trace.nodes[s.node];
    diagnosis.push({
      severity: 'warning', code: 'nonfinite-backward', node: s.node, source: trace.nodes[bad.input].source ?? n.source, layer: null, step: null, fixes: [],
      message: `NaN or Inf first appears in the backward pass in the gradient of ${ref(trace.nodes[bad.input])}, sent back through ${ref(n)}.`,
    });
    break;
  }
  if (trace.steps.length === 0) {
    diagnosis.push({
      severity: 'info', code: 'no-grad', node: trace.output, source: trace.nodes[trace.output]?.source ?? null, layer: null, step: null, fixes: [],
      message: 'The output does not depend on anything that requires grad (use requires_grad=True or nn.Parameter), so there is no backward pass to show.',
    });
  }
  const layers = trace.layers ?? [];
  diagnosis.push(...diagnose({ layers, api: 'pytorch' }).map((f) => ({ ...f, node: trace.nodes.find((n) => n.leaf === 'param' && n.scope === f.layer)?.id ?? null })));

  const snapshot: GraphSnapshot = {
    version: SNAPSHOT_VERSION,
    file: trace.file,
    output: trace.output,
    nodes, groups: [], backward,
    forward: nodes.filter((n) => n.op !== 'leaf').map((n) => n.id),
    diagnosis,
    maxElements: trace.maxElements ?? DEFAULT_MAX_ELEMENTS,
    unusedNodes: trace.unusedNodes,
    layers,
  };
  if (opts.verify) {
    const broken = verifySnapshot(snapshot);
    if (broken.length) throw new Error(`snapshot invariants violated (PyTorch trace of ${trace.file}):\n  ${broken.slice(0, 8).join('\n  ')}`);
  }
  return snapshot;
}
