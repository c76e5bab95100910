/**
 * The tracer's node limit (setting backpropLens.maxNodes) counts every node a snapshot shows: ops,
 * leaves made by factories, and the constants ops make from plain numbers. Counts are derived from
 * the model code in each test.
 */
import assert from 'node:assert/strict';
import { TooManyNodesError, trace } from '../../engine/trace/tracer';
import { buildSnapshot } from '../../engine/trace/snapshot';
import { scalar } from '../../engine/index';

/** `h = scalar(1)`, then `ops` times `h = h.add(1)`: `ops` add nodes, `ops` constants, one leaf. */
const chain = (ops: number) => () => {
  let h = scalar(1);
  for (let i = 0; i < ops; i++) h = h.add(1);
  return h;
};

describe('tracer: the node limit counts ops and leaves', () => {
  it('a chain of 50 adds of a number is 101 nodes: it fits a limit of 101, not of 100', () => {
    const ok = trace(chain(50), { maxNodes: 101 });
    assert.equal(ok.nodes.length, 50);
    // the snapshot shows the same 101 nodes the tracer counted
    assert.equal(buildSnapshot(ok.result, { file: 'chain.ts' }).nodes.length, 101);
    assert.throws(() => trace(chain(50), { maxNodes: 100 }), (err: unknown) => {
      assert.ok(err instanceof TooManyNodesError);
      assert.equal(err.limit, 100);
      assert.match(err.message, /more than 100 graph nodes/);
      assert.match(err.message, /"backpropLens\.maxNodes"/, 'the message names the setting');
      return true;
    });
  });

  it('leaves alone count: 30 scalars and no op exceed a limit of 20', () => {
    const make = () => Array.from({ length: 30 }, (_, i) => scalar(i));
    assert.equal(trace(make, { maxNodes: 30 }).leaves.length, 30);
    assert.throws(() => trace(make, { maxNodes: 20 }), TooManyNodesError);
  });

  it('a tensor used twice counts once: x·x + x is 3 nodes', () => {
    const model = () => {
      const x = scalar(3);
      return x.mul(x).add(x);
    };
    assert.equal(trace(model, { maxNodes: 3 }).result.item(), 12);
    assert.throws(() => trace(model, { maxNodes: 2 }), TooManyNodesError);
  });

  it('the progress cell reports every counted node', () => {
    const progress = new Int32Array(3);
    trace(chain(10), { progress });
    assert.equal(progress[0], 21);
  });
});
