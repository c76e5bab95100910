/**
 * The layout stage (webview/layout.ts) on graphs as deep as the tracer allows. dagre recurses once
 * per node along a path in several phases, so deep graphs go through the deep-graph path; these
 * tests check what a drawing needs from any layout: every node and edge placed at finite
 * coordinates, no two nodes overlapping, every edge pointing the way the graph flows.
 */
import assert from 'node:assert/strict';
import { DEEP, computeLayout, depthOf, orderInputs, type LayoutRequest, type LayoutResult } from '../../webview/layout';

type Req = Omit<LayoutRequest, 'id' | 'direction'>;

/** A scalar chain as the view model gives it: `ops` ops, each with its own constant leaf (ops + leaves = nodes). */
function chain(nodes: number, cluster = false): Req {
  const r: Req = { nodes: [], clusters: cluster ? [{ key: 'g', parent: null, labelWidth: 60 }] : [], edges: [] };
  const parent = cluster ? 'g' : null;
  const ops = Math.floor(nodes / 2);
  r.nodes.push({ key: 'x', width: 90, height: 44, parent: null });
  for (let i = 0; i < ops; i++) {
    r.nodes.push({ key: `op${i}`, width: 110, height: 58, parent });
    r.edges.push({ key: `e${i}`, from: i ? `op${i - 1}` : 'x', to: `op${i}` });
    if (r.nodes.length < nodes) {
      r.nodes.push({ key: `c${i}`, width: 70, height: 44, parent });
      r.edges.push({ key: `k${i}`, from: `c${i}`, to: `op${i}` });
    }
  }
  return r;
}

/** An unrolled recurrence, `width` scalar units wide and `steps` deep, each unit reading two of the last step's. */
function unrolled(width: number, steps: number): Req {
  const r: Req = { nodes: [], clusters: [], edges: [] };
  for (let t = 0; t < steps; t++) {
    for (let u = 0; u < width; u++) {
      r.nodes.push({ key: `h${t}_${u}`, width: 80 + 10 * (u % 3), height: 44, parent: null });
      if (t) for (const from of [u, (u + 1) % width]) r.edges.push({ key: `e${t}_${u}_${from}`, from: `h${t - 1}_${from}`, to: `h${t}_${u}` });
    }
  }
  return r;
}

/** The checks a drawing relies on. */
function checkDrawable(req: Req, l: LayoutResult, direction: 'TB' | 'LR'): void {
  assert.equal(l.error, undefined);
  assert.equal(Object.keys(l.nodes).length, req.nodes.length, 'a position for every node');
  const along = (p: { x: number; y: number }) => (direction === 'TB' ? p.y : p.x);
  for (const n of req.nodes) {
    const p = l.nodes[n.key];
    assert.ok(p && Number.isFinite(p.x) && Number.isFinite(p.y), `${n.key} at ${JSON.stringify(p)}`);
    assert.ok(p.x - n.width / 2 >= 0 && p.x + n.width / 2 <= l.width + 1e-6, `${n.key} inside the width`);
    assert.ok(p.y - n.height / 2 >= 0 && p.y + n.height / 2 <= l.height + 1e-6, `${n.key} inside the height`);
  }
  for (const e of req.edges) {
    const pts = l.edges[e.key];
    assert.ok(pts && pts.length >= 2 && pts.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)), `edge ${e.key} routed`);
    assert.ok(along(l.nodes[e.from]) < along(l.nodes[e.to]), `edge ${e.key} goes with the flow`);
  }
  // no overlaps: each box is checked against the boxes in the same cells of a 256-pixel grid
  const CELL = 256;
  const grid = new Map<string, { key: string; x0: number; x1: number; y0: number; y1: number }[]>();
  for (const n of req.nodes) {
    const p = l.nodes[n.key];
    const b = { key: n.key, x0: p.x - n.width / 2, x1: p.x + n.width / 2, y0: p.y - n.height / 2, y1: p.y + n.height / 2 };
    for (let cx = Math.floor(b.x0 / CELL); cx <= Math.floor(b.x1 / CELL); cx++) {
      for (let cy = Math.floor(b.y0 / CELL); cy <= Math.floor(b.y1 / CELL); cy++) {
        const cell = grid.get(`${cx},${cy}`) ?? [];
        for (const o of cell) assert.ok(o.x1 <= b.x0 || b.x1 <= o.x0 || o.y1 <= b.y0 || b.y1 <= o.y0, `${o.key} and ${b.key} overlap`);
        cell.push(b);
        grid.set(`${cx},${cy}`, cell);
      }
    }
  }
}

describe('layout of deep graphs', function () {
  this.timeout(300_000);

  it('depthOf counts the nodes on the longest path, without recursion; a cycle is Infinity', () => {
    assert.equal(depthOf(chain(20_000)), 10_001);
    assert.equal(depthOf(unrolled(4, 30)), 30);
    assert.equal(depthOf({ nodes: [], edges: [] }), 0);
    assert.equal(depthOf({ nodes: [{ key: 'a', width: 1, height: 1, parent: null }, { key: 'b', width: 1, height: 1, parent: null }], edges: [{ key: '1', from: 'a', to: 'b' }, { key: '2', from: 'b', to: 'a' }] }), Infinity);
  });

  it('a chain of 2,500 ops (5,000 nodes with their constants) lays out, top to bottom and left to right', () => {
    const req = chain(5_000);
    for (const direction of ['TB', 'LR'] as const) {
      const l = computeLayout({ id: 1, direction, ...req });
      checkDrawable(req, l, direction);
      assert.equal(l.deep, true);
    }
  });

  it('a 20,000-node scalar chain (the default node limit) lays out', () => {
    const req = chain(20_000);
    const l = computeLayout({ id: 7, direction: 'TB', ...req });
    assert.equal(l.id, 7);
    checkDrawable(req, l, 'TB');
  });

  it('a chain of 20,000 ops without leaves lays out as one straight column', () => {
    const req: Req = { nodes: [], clusters: [], edges: [] };
    for (let i = 0; i < 20_000; i++) {
      req.nodes.push({ key: `n${i}`, width: 100, height: 50, parent: null });
      if (i) req.edges.push({ key: `e${i}`, from: `n${i - 1}`, to: `n${i}` });
    }
    const l = computeLayout({ id: 1, direction: 'TB', ...req });
    checkDrawable(req, l, 'TB');
    assert.equal(new Set(req.nodes.map((n) => l.nodes[n.key].x)).size, 1, 'every node in one column');
  });

  it('a deep graph with an expanded group lays out flat (no cluster boxes), every node placed', () => {
    const req = chain(2 * DEEP + 200, true);
    const l = computeLayout({ id: 1, direction: 'TB', ...req });
    checkDrawable(req, l, 'TB');
    assert.equal(l.flattened, true);
    assert.deepEqual(l.clusters, {});
  });

  it('a wide deep graph (six units unrolled over 800 steps) lays out with no overlaps', () => {
    const req = unrolled(6, 2 * DEEP);
    const l = computeLayout({ id: 1, direction: 'TB', ...req });
    assert.equal(l.deep, true);
    checkDrawable(req, l, 'TB');
  });

  it('a chain of 19,998 ops that all use one shared weight (20,000 nodes) lays out; its longest edges are drawn straight', () => {
    const req: Req = { nodes: [{ key: 'x', width: 90, height: 44, parent: null }, { key: 'w', width: 90, height: 44, parent: null }], clusters: [], edges: [] };
    for (let i = 0; i < 19_998; i++) {
      req.nodes.push({ key: `op${i}`, width: 110, height: 58, parent: null });
      req.edges.push({ key: `e${i}`, from: i ? `op${i - 1}` : 'x', to: `op${i}` }, { key: `w${i}`, from: 'w', to: `op${i}` });
    }
    const l = computeLayout({ id: 1, direction: 'TB', ...req });
    checkDrawable(req, l, 'TB');
    assert.ok(l.straightEdges! > 0 && l.straightEdges! < 19_998, `${l.straightEdges} straight edges`);
    // a straight edge starts on the weight's box and ends on its op's box
    const last = l.edges.w19997;
    assert.equal(last.length, 2);
    const w = l.nodes.w, op = l.nodes.op19997;
    assert.ok(Math.abs(last[0].x - w.x) <= 45 + 1e-6 && Math.abs(last[0].y - w.y) <= 22 + 1e-6, 'starts on w');
    assert.ok(Math.abs(last[1].x - op.x) <= 55 + 1e-6 && Math.abs(last[1].y - op.y) <= 29 + 1e-6, 'ends on the op');
  });

  it('graphs no deeper than DEEP keep dagre\'s usual layout, clusters included', () => {
    const req = chain(DEEP, true);
    const l = computeLayout({ id: 1, direction: 'TB', ...req });
    checkDrawable(req, l, 'TB');
    assert.equal(l.deep, undefined);
    assert.equal(l.flattened, undefined);
    assert.ok(l.clusters.g, 'the group has its box');
  });
});

describe('inputs in the order the op takes them', () => {
  /** (x + y)·z as the view model gives it: x, y feed q; q and z feed f (in that input order). */
  const addmul = (widths: Record<string, number> = {}): Req => ({
    nodes: ['x', 'y', 'z', 'q', 'f'].map((k) => ({ key: k, width: widths[k] ?? 110, height: 58, parent: null })),
    clusters: [],
    edges: [
      { key: 'x->q', from: 'x', to: 'q' }, { key: 'y->q', from: 'y', to: 'q' },
      { key: 'q->f', from: 'q', to: 'f' }, { key: 'z->f', from: 'z', to: 'f' },
    ],
  });

  for (const direction of ['TB', 'LR'] as const) {
    it(`x is before y across the layer (${direction}), with nodes of different widths; the layout stays drawable`, () => {
      for (const widths of [{}, { x: 160, y: 90 }, { x: 80, y: 150 }] as Record<string, number>[]) {
        const req = addmul(widths);
        const l = computeLayout({ id: 1, direction, ...req });
        const across = (k: string) => (direction === 'TB' ? l.nodes[k].x : l.nodes[k].y);
        assert.ok(across('x') < across('y'), `x (${across('x')}) before y (${across('y')}) with widths ${JSON.stringify(widths)}`);
        checkDrawable(req, l, direction);
        // each moved edge still starts at its node and ends where it did
        for (const k of ['x', 'y']) {
          const pts = l.edges[`${k}->q`];
          assert.ok(Math.abs((direction === 'TB' ? pts[0].x : pts[0].y) - across(k)) < (direction === 'TB' ? req.nodes.find((n) => n.key === k)!.width : 58) / 2 + 1e-6, `${k}'s edge leaves its box`);
        }
      }
    });
  }

  it('a source that feeds two ops is left where dagre put it (moving it could add crossings)', () => {
    const req = addmul();
    req.edges.push({ key: 'y->f', from: 'y', to: 'f' });
    const plain = computeLayout({ id: 1, direction: 'TB', ...req });
    assert.equal(orderInputs({ id: 1, direction: 'TB', ...req }, structuredClone(plain)), 0);
  });
});
