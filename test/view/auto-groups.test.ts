import assert from 'node:assert/strict';
import { Tensor, scalar } from '../../engine/index';
import { buildSnapshot } from '../../engine/trace/snapshot';
import { trace } from '../../engine/trace/tracer';
import type { GraphSnapshot } from '../../extension/protocol';
import { AUTO_GROUP_ABOVE } from '../../webview/autoGroups';
import { defaultCollapsed } from '../../webview/collapse';
import { buildGroupTree, childClusters, outermost } from '../../webview/groups';
import { buildViewModel } from '../../webview/viewModel';

/** micrograd's MLP(2, [h, h, 1]) on `points` points, traced; weights carry a source line as the tracer would set. */
function scalarMlp(points: number, h: number): GraphSnapshot {
  const { result } = trace(() => {
    let seed = 3;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const sizes = [2, h, h, 1];
    const weights: Tensor[] = [];
    const layers = sizes.slice(1).map((n, l) => Array.from({ length: n }, () => {
      const w = Array.from({ length: sizes[l] }, () => scalar(rand()));
      const b = scalar(0);
      weights.push(...w, b);
      return { w, b };
    }));
    for (const w of weights) w.source = { file: '/m.ts', line: 5, column: 1 };
    let loss: Tensor | null = null;
    for (let p = 0; p < points; p++) {
      let xs: (Tensor | number)[] = [rand(), rand()];
      layers.forEach((layer, l) => {
        xs = layer.map((n) => {
          let act: Tensor = n.b;
          n.w.forEach((w, i) => (act = act.add(w.mul(xs[i]))));
          return l < layers.length - 1 ? act.relu() : act;
        });
      });
      const li = (xs[0] as Tensor).mul(p % 2 ? 1 : -1).neg().add(1).relu().named('li');
      loss = loss ? loss.add(li) : li;
    }
    return loss!.div(points);
  });
  return buildSnapshot(result, { file: '/m.ts' });
}

const measure = Object.assign((_cls: string, text: string) => text.length * 7, {});

describe('automatic groups for large graphs without modules (view model)', () => {
  const s = scalarMlp(6, 8);

  it('a micrograd MLP opens as one group per data point plus the weights, and every node is accounted for', () => {
    assert.ok(s.nodes.length > AUTO_GROUP_ABOVE, `${s.nodes.length} nodes`);
    const tree = buildGroupTree(s);
    const top = outermost(tree).map((k) => tree.clusters.get(k)!);
    const exprs = top.filter((c) => c.kind === 'expr');
    const leaves = top.filter((c) => c.kind === 'leaves');
    assert.equal(exprs.length, 6, `one subexpression per data point: ${exprs.map((c) => c.label).join(', ')}`);
    for (const c of exprs) assert.match(c.label, /^li · \d+ nodes$/);
    assert.equal(leaves.length, 1);
    assert.equal(tree.members.get(leaves[0].key)!.length, 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1, 'all weights and biases, from their one line');
    // the point groups are disjoint and hold everything computed for the point
    const seen = new Set<number>();
    for (const c of exprs) for (const m of tree.members.get(c.key)!) {
      assert.ok(!seen.has(m), `node ${m} in two groups`);
      seen.add(m);
    }
    const vm = buildViewModel(s, measure, { tree, collapsed: defaultCollapsed(s, tree) });
    assert.ok(vm.nodes.length < 30, `collapsed view: ${vm.nodes.length} nodes`);
    assert.equal(vm.byId.size, s.nodes.length, 'every snapshot node is shown by some view node');
    const keys = new Set(vm.nodes.map((v) => v.key));
    for (const e of vm.edges) assert.ok(keys.has(e.fromKey) && keys.has(e.toKey), `edge ${e.key} ends at drawn nodes`);
    // a collapsed point group shows its output, the point's loss term
    const g = vm.nodes.find((v) => v.group?.key === exprs[2].key)!;
    assert.equal(s.nodes[g.id].name, 'li');
  });

  it('opening one point group one level deep shows a readable part of it', () => {
    const tree = buildGroupTree(s);
    const collapsed = new Set(defaultCollapsed(s, tree));
    const point = outermost(tree).find((k) => tree.clusters.get(k)!.kind === 'expr')!;
    collapsed.delete(point);
    const inner = childClusters(tree, point);
    assert.ok(inner.length >= 4, `groups inside a point: ${inner.length}`);
    for (const c of inner) collapsed.add(c);
    const vm = buildViewModel(s, measure, { tree, collapsed });
    const size = tree.members.get(point)!.length;
    assert.ok(vm.nodes.length < size / 2, `${vm.nodes.length} drawn for a group of ${size}`);
  });

  it('small graphs keep their plain structure', () => {
    const small = scalarMlp(1, 4);
    assert.ok(small.nodes.length <= AUTO_GROUP_ABOVE);
    const tree = buildGroupTree(small);
    assert.equal(tree.clusters.size, 0);
  });
});
