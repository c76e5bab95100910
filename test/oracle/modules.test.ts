/**
 * The engine's modules against PyTorch's own (`torch.nn.BatchNorm2d`, `torch.nn.MultiheadAttention`)
 * given the same weights and inputs, in float64: outputs, the input's gradient, parameter gradients
 * and batch norm's running statistics and eval-mode output.
 */
import * as assert from 'node:assert/strict';
import { nn, param, randn, type Tensor } from '../../engine/index';
import { relError } from './compare';
import { runPython, useTorch } from './torch';

const wire = (x: Tensor) => ({ data: Array.from(x.data), shape: x.shape.slice() });
const f64 = (shape: number[], seed: number) => randn(shape, { seed, dtype: 'float64' });

describe('PyTorch oracle: modules with the same weights', function () {
  this.timeout(300_000);
  useTorch();

  it('nn.batchNorm2d (training and eval) and nn.multiheadAttention (causal or not, batch first or not) agree with torch.nn to 1e-12', async () => {
    const cases: Record<string, unknown>[] = [];
    const ours: Record<string, Record<string, number[]>> = {};

    // batch norm over [N, C, H, W]
    {
      const bn = nn.batchNorm2d(3, { dtype: 'float64' });
      bn.weight!.data.set(f64([3], 1).data);
      bn.bias!.data.set(f64([3], 2).data);
      const x = param(f64([4, 3, 2, 5], 3));
      const g = f64([4, 3, 2, 5], 4);
      const y = bn.forward(x);
      y.mul(g).sum().backward();
      bn.train(false);
      const ev = bn.forward(x);
      ours.bn = { y: Array.from(y.data), gx: Array.from(x.grad!.data), gw: Array.from(bn.weight!.grad!.data), gb: Array.from(bn.bias!.grad!.data), runningMean: Array.from(bn.runningMean.data), runningVar: Array.from(bn.runningVar.data), eval: Array.from(ev.data) };
      cases.push({ name: 'bn', kind: 'batchNorm2d', c: 3, x: wire(x), g: wire(g), weight: wire(bn.weight!), bias: wire(bn.bias!) });
    }
    // multi-head attention
    for (const [name, causal, batchFirst] of [['mha', false, false], ['mha-causal-bf', true, true]] as const) {
      const m = nn.multiheadAttention(6, 2, { dtype: 'float64', seed: 5, batchFirst });
      m.inProjBias!.data.set(f64([18], 6).data);
      m.outProjBias!.data.set(f64([6], 7).data);
      const shape = batchFirst ? [2, 4, 6] : [4, 2, 6];
      const x = param(f64(shape, 8));
      const g = f64(shape, 9);
      const y = m.forward(x, x, x, { causal });
      y.mul(g).sum().backward();
      ours[name] = { y: Array.from(y.data), gx: Array.from(x.grad!.data), gInW: Array.from(m.inProjWeight.grad!.data), gOutW: Array.from(m.outProjWeight.grad!.data) };
      cases.push({ name, kind: 'multiheadAttention', e: 6, h: 2, causal, batchFirst, x: wire(x), g: wire(g), inW: wire(m.inProjWeight), inB: wire(m.inProjBias!), outW: wire(m.outProjWeight), outB: wire(m.outProjBias!) });
    }

    const theirs = await runPython<Record<string, Record<string, number[]>>>('modules.py', { cases });
    const problems: string[] = [];
    for (const [name, fields] of Object.entries(ours)) {
      for (const [k, v] of Object.entries(fields)) {
        const e = relError(v, theirs[name][k]);
        if (!(e <= 1e-12)) problems.push(`${name}.${k}: relative error ${e}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
