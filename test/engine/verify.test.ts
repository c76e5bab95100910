/** The snapshot invariants (engine/trace/verify.ts) hold on real snapshots and catch broken ones. */
import * as assert from 'node:assert/strict';
import { param, scalar, tensor } from '../../engine/index';
import { buildSnapshot, type GraphSnapshot } from '../../engine/trace/snapshot';
import { verifySnapshot } from '../../engine/trace/verify';

function snapshotOf(make: () => import('../../engine/index').Tensor): GraphSnapshot {
  return buildSnapshot(make(), { file: 'test.ts' });
}

describe('snapshot invariants', () => {
  const broadcastMlp = () => {
    const W = param([[0.5, -1, 2], [1.5, 0.25, -0.75]], { dtype: 'float64' });
    const b = param([0.1, -0.2, 0.3], { dtype: 'float64' });
    const x = tensor([[1, 2], [3, -1], [0.5, 0.5], [-2, 1]], { dtype: 'float64' });
    const h = x.matmul(W).add(b).tanh();
    return h.mul(h).add(h.mul(b)).mean();
  };

  it('hold on a graph with broadcasting, fan-out and a matmul, in float64 and float32', () => {
    assert.deepEqual(verifySnapshot(snapshotOf(broadcastMlp)), []);
    const w = param([[0.3, -0.2], [0.1, 0.7]]);
    assert.deepEqual(verifySnapshot(snapshotOf(() => w.sigmoid().mul(w).sum())), []);
  });

  it('catch a gradient that is not the sum of its contributions', () => {
    const s = snapshotOf(broadcastMlp);
    const b = s.nodes.find((n) => n.leaf === 'param' && n.shape.length === 1)!;
    b.grad![1] += 1e-9;
    assert.match(verifySnapshot(s).join('\n'), /its gradient is not the sum of its 2 contribution/);
  });

  it('catch a contribution that is not upstream × local gradient', () => {
    const s = snapshotOf(broadcastMlp);
    const step = s.backward.find((st) => s.nodes[st.node].op === 'tanh')!;
    step.inputs[0].contribution![0] *= 1 + 1e-12;
    assert.match(verifySnapshot(s).join('\n'), /not upstream × local gradient/);
  });

  it('catch a backward pass that does not start from ∂L/∂L = 1', () => {
    const s = snapshotOf(broadcastMlp);
    s.backward[0].upstreamGrad![0] = 2;
    assert.match(verifySnapshot(s).join('\n'), /∂L\/∂L is 2, not 1/);
  });

  it('count what a leaf held before this backward pass (gradients accumulate)', () => {
    const x = scalar(3);
    x.mul(x).backward();
    const s = snapshotOf(() => x.mul(2));
    const leaf = s.nodes.find((n) => n.op === 'leaf' && n.requiresGrad)!;
    assert.equal(leaf.scalarGrad, 8, '6 from before plus 2');
    assert.deepEqual(Array.from(s.backward[0].inputs[0].previousGrad!), [6]);
    assert.deepEqual(verifySnapshot(s), []);
  });
});
