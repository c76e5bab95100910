/**
 * The panel's state reducer (webview/state.ts) and the controllers that need no DOM: what the panel
 * does with a snapshot, stepping and playing, groups, selection, views; what it saves and restores.
 */
import assert from 'node:assert/strict';
import { losses, nn, scalar, tensor, type Tensor } from '../../engine/index';
import { buildSnapshot } from '../../engine/trace/snapshot';
import { trace } from '../../engine/trace/tracer';
import type { GraphSnapshot } from '../../extension/protocol';
import { COLLAPSE_ABOVE, EXPAND_ALL_MAX, expandAround, toggleAll, toggleCluster } from '../../webview/collapse';
import { outermost, type GroupTree, type ViewCluster } from '../../webview/groups';
import { Persistence, readState, savedState, type SavedState } from '../../webview/persistence';
import { nextMatch } from '../../webview/search';
import { graphOf, initialState, paramNode, reduce, type Action, type PanelState } from '../../webview/state';
import { shownView } from '../../webview/views';

const FILE = '/w/model.ts';

/** (x + y)·z, each node on its own source line: 2 backward steps, 2 forward steps. */
function addMul(): GraphSnapshot {
  let line = 0;
  const locate = () => ({ file: FILE, line: ++line, column: 1 });
  const { result } = trace(() => scalar(-2).named('x').add(scalar(5).named('y')).named('q').mul(scalar(-4).named('z')).named('f'), { locate });
  return buildSnapshot(result, { file: FILE });
}

/** `layers` linear+tanh layers and an mse: one scope per layer, above COLLAPSE_ABOVE nodes from 12 layers on. */
function deep(layers: number): GraphSnapshot {
  const { result } = trace(() => {
    const X = tensor([[0.5, -1], [1, 0.25]], { dtype: 'float64' });
    const Y = tensor([[1], [0]], { dtype: 'float64' });
    let h: Tensor = X;
    for (let i = 0; i < layers; i++) h = nn.linear(2, 2, { dtype: 'float64', seed: i + 1 }).named(`layer${i}`).forward(h).tanh();
    return losses.mse(nn.linear(2, 1, { dtype: 'float64', seed: 99 }).named('head').forward(h), Y);
  });
  return buildSnapshot(result, { file: FILE });
}

/** a·b, log (NaN: a·b < 0), then more. */
function nan(): GraphSnapshot {
  const { result } = trace(() => {
    const a = scalar(2).named('a');
    const b = scalar(-3).named('b');
    const d = a.mul(b).log().named('d');
    return d.mul(a).add(b).named('f');
  });
  return buildSnapshot(result, { file: FILE });
}

const run = (state: PanelState, ...actions: Action[]): PanelState => actions.reduce(reduce, state);
const snapshotAction = (s: GraphSnapshot, file = FILE, trainStep: number | null = null): Action => ({ type: 'snapshot', graph: graphOf(s), file, fileName: 'model.ts', runId: 1, trainStep });
const shown = (s: GraphSnapshot, file = FILE, from = initialState(null)) => reduce(from, snapshotAction(s, file));

describe('panel state: a new snapshot', () => {
  it('starts at the end of the backward pass, nothing selected, everything expanded in a small graph', () => {
    const s = addMul();
    const st = shown(s);
    assert.equal(st.phase, 'ready');
    assert.equal(st.file, FILE);
    assert.equal(st.mode, 'backward');
    assert.equal(st.step, s.backward.length);
    assert.equal(st.selected, null);
    assert.equal(st.collapsed.size, 0);
    assert.equal(st.autoDirection, true);
  });

  it('a large graph starts collapsed to its outermost groups', () => {
    const s = deep(12);
    assert.ok(s.nodes.length > COLLAPSE_ABOVE);
    const st = shown(s);
    assert.deepEqual([...st.collapsed].sort(), outermost(st.graph!.tree).sort());
    assert.ok(st.collapsed.has('scope:layer0') && st.collapsed.has('scope:head'));
  });

  it('a re-trace of the same file keeps the selection, the zoom and the groups; another file starts afresh', () => {
    const s = deep(12);
    let st = run(shown(s), { type: 'select', id: 3 }, { type: 'transform', transform: { x: 1, y: 2, k: 0.5 } }, { type: 'toggleGroup', key: 'scope:layer0' });
    assert.ok(!st.collapsed.has('scope:layer0'));
    st = reduce(st, snapshotAction(deep(12)));
    assert.equal(st.selected, 3);
    assert.deepEqual(st.transform, { x: 1, y: 2, k: 0.5 });
    assert.ok(!st.collapsed.has('scope:layer0') && st.collapsed.has('scope:layer1'));
    st = reduce(st, snapshotAction(deep(12), '/w/other.ts'));
    assert.equal(st.selected, null);
    assert.equal(st.transform, null);
    assert.ok(st.collapsed.has('scope:layer0'));
  });

  it('selects where NaN first appears and opens the groups around it, unless the user picked another node', () => {
    const s = nan();
    const first = graphOf(s).nonfinite.first;
    assert.equal(s.nodes[first!].op, 'log');
    let st = shown(s);
    assert.equal(st.selected, first);
    assert.equal(st.focusNonfinite, true);
    st = run(st, { type: 'drawn', transform: { x: 0, y: 0, k: 1 } }, { type: 'select', id: 0 });
    assert.equal(st.focusNonfinite, false);
    st = reduce(st, snapshotAction(nan()));
    assert.equal(st.selected, 0, 'the same culprit: the user\'s selection stays');
  });

  it('a saved state applies to the first snapshot of its file (steps clamped, unknown groups dropped), and only once', () => {
    const s = deep(12);
    const saved: SavedState = { file: FILE, mode: 'forward', step: 10_000, selected: 5, direction: 'LR', transform: { x: 3, y: 4, k: 2 }, collapsed: ['scope:layer4', 'scope:gone'], speed: 4, view: 'graph' };
    let st = initialState(saved);
    assert.equal(st.autoDirection, false);
    assert.deepEqual(savedState(st).collapsed, saved.collapsed, 'before the snapshot the saved groups are kept as they were');
    st = reduce(st, snapshotAction(s));
    assert.equal(st.mode, 'forward');
    assert.equal(st.step, s.forward.length);
    assert.equal(st.selected, 5);
    assert.equal(st.direction, 'LR');
    assert.deepEqual(st.transform, { x: 3, y: 4, k: 2 });
    assert.deepEqual([...st.collapsed], ['scope:layer4']);
    assert.equal(st.speed, 4);
    assert.equal(st.restored, null);
    assert.equal(shown(s, '/w/other.ts', initialState(saved)).mode, 'backward', 'another file: the saved state is dropped');
  });

  it('the host\'s phases: running, errors, Restricted Mode; a snapshot clears the errors', () => {
    let st = reduce(initialState(null), { type: 'running', fileName: 'model.ts' });
    assert.equal(st.phase, 'running');
    st = reduce(st, { type: 'errors', fileName: 'model.ts', errors: [{ kind: 'runtime', message: 'boom', file: FILE, line: 3, column: 1 }] });
    assert.equal(st.phase, 'errors');
    assert.equal(st.errors.length, 1);
    st = reduce(st, snapshotAction(addMul(), FILE, 4));
    assert.deepEqual([st.phase, st.errors, st.trainStep], ['ready', [], 4]);
    assert.equal(reduce(st, { type: 'untrusted', fileName: 'model.ts' }).phase, 'untrusted');
  });
});

describe('panel state: stepping and playing', () => {
  it('go: first, prev, next, last within the pass; a step that changes nothing returns the same state', () => {
    const s = addMul();
    let st = shown(s);
    assert.equal(reduce(st, { type: 'go', to: 'next' }), st, 'already at the last step');
    st = reduce(st, { type: 'go', to: 'first' });
    assert.equal(st.step, 0);
    assert.equal(reduce(st, { type: 'go', to: 'prev' }), st);
    assert.equal(run(st, { type: 'go', to: 'next' }, { type: 'go', to: 'next' }).step, 2);
    assert.equal(reduce(st, { type: 'go', to: 'last' }).step, s.backward.length);
    assert.equal(reduce(initialState(null), { type: 'go', to: 'next' }).step, 0, 'no graph: no steps');
  });

  it('another mode starts that pass from its beginning and stops playing', () => {
    const st = run(shown(addMul()), { type: 'go', to: 'first' }, { type: 'play' }, { type: 'mode', mode: 'forward' });
    assert.deepEqual([st.mode, st.step, st.playing], ['forward', 0, false]);
    assert.equal(reduce(st, { type: 'mode', mode: 'forward' }), st);
  });

  it('play takes the first step at once, ticks to the last one and stops there; from the end it starts over', () => {
    const s = addMul();
    let st = reduce(shown(s), { type: 'go', to: 'first' });
    st = reduce(st, { type: 'play' });
    assert.deepEqual([st.playing, st.step], [true, 1]);
    st = reduce(st, { type: 'tick' });
    assert.deepEqual([st.playing, st.step], [true, 2]);
    st = reduce(st, { type: 'tick' });
    assert.deepEqual([st.playing, st.step], [false, 2], 'stopped at the last step');
    assert.equal(reduce(st, { type: 'tick' }), st, 'a late tick changes nothing');
    st = reduce(st, { type: 'play' });
    assert.deepEqual([st.playing, st.step], [true, 1], 'from the end: starts over');
    assert.equal(reduce(st, { type: 'play' }).playing, false, 'play again pauses');
    assert.equal(reduce(initialState(null), { type: 'play' }).playing, false, 'nothing to play');
  });

  it('speed cycles through the play speeds; the training view stops playing', () => {
    let st = shown(addMul());
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push((st = reduce(st, { type: 'speed' })).speed);
    assert.deepEqual(seen, [2, 4, 8, 0.5, 1]);
    st = run(st, { type: 'go', to: 'first' }, { type: 'play' }, { type: 'view', view: 'training' });
    assert.deepEqual([st.view, st.playing], ['training', false]);
    assert.equal(shownView(st.view, st.graph!.snapshot), 'graph', 'a file without a training spec shows the graph');
    assert.equal(shownView(st.view, { ...st.graph!.snapshot, training: { optimizer: {}, schedule: 'constant', steps: 10, batchSize: null, seed: 1, dataset: null } }), 'training');
  });
});

describe('panel state: groups, selection, direction, highlights', () => {
  it('collapses and expands one group; unknown keys change nothing', () => {
    const st = shown(addMul());
    assert.equal(reduce(st, { type: 'toggleGroup', key: 'scope:nothing' }), st);
    const d = shown(deep(2));
    const mse = [...d.graph!.tree.clusters.values()].find((c) => c.label === 'mse')!.key;
    const closed = reduce(d, { type: 'toggleGroup', key: mse });
    assert.ok(closed.collapsed.has(mse));
    assert.ok(!reduce(closed, { type: 'toggleGroup', key: mse }).collapsed.has(mse));
  });

  it('toggleAll: collapse to the outermost groups, then expand all', () => {
    let st = shown(deep(2));
    assert.equal(st.collapsed.size, 0);
    st = reduce(st, { type: 'toggleAll' });
    assert.deepEqual([...st.collapsed].sort(), outermost(st.graph!.tree).sort());
    st = reduce(st, { type: 'toggleAll' });
    assert.equal(st.collapsed.size, 0);
  });

  it('expandAround opens the groups that hide a node; select ignores ids the graph does not have', () => {
    const s = deep(12);
    let st = shown(s);
    const inside = s.nodes.find((n) => n.scope === 'layer3')!.id;
    st = reduce(st, { type: 'expandAround', id: inside });
    assert.ok(!st.collapsed.has('scope:layer3') && st.collapsed.has('scope:layer2'));
    assert.equal(reduce(st, { type: 'expandAround', id: inside }), st);
    assert.equal(reduce(st, { type: 'select', id: s.nodes.length }), st);
    assert.equal(reduce(st, { type: 'select', id: inside }).selected, inside);
  });

  it('the user\'s direction ends the automatic choice and resets the zoom', () => {
    let st = reduce(shown(addMul()), { type: 'layoutDirection', direction: 'LR' });
    assert.deepEqual([st.direction, st.autoDirection], ['LR', true]);
    st = run(st, { type: 'transform', transform: { x: 1, y: 1, k: 1 } }, { type: 'direction' });
    assert.deepEqual([st.direction, st.autoDirection, st.transform], ['TB', false, null]);
  });

  it('highlights the nodes made on the editor\'s lines; flags the parameters a gradient check failed', () => {
    const s = addMul();
    const q = s.nodes.find((n) => n.name === 'q')!;
    let st = reduce(shown(s), { type: 'highlight', file: FILE, lines: [q.source!.line] });
    assert.deepEqual([...st.highlighted], [q.id]);
    const d = deep(2);
    st = reduce(shown(d), { type: 'gradcheck', failed: ['layer1.weight'] });
    const w = paramNode(d, 'layer1.weight')!;
    assert.equal(d.nodes[w].scope, 'layer1');
    assert.deepEqual([...st.flagged], [w]);
    assert.deepEqual([...reduce(st, snapshotAction(deep(2))).flagged], [w], 'found again in the next snapshot');
  });
});

describe('collapse policy (large groups)', () => {
  /** `outer` holds `a` and `b`, each larger than COLLAPSE_ABOVE. */
  function bigTree(): GroupTree {
    const n = 2 * (COLLAPSE_ABOVE + 1);
    const ids = Array.from({ length: n }, (_, i) => i);
    const cluster = (key: string, parent: string | null): ViewCluster => ({ key, label: key, kind: 'scope', parent });
    return {
      clusters: new Map([['outer', cluster('outer', null)], ['a', cluster('a', 'outer')], ['b', cluster('b', 'outer')]]),
      of: ids.map((i) => (i < n / 2 ? 'a' : 'b')),
      members: new Map([['outer', ids], ['a', ids.slice(0, n / 2)], ['b', ids.slice(n / 2)]]),
    };
  }

  it('a group larger than COLLAPSE_ABOVE opens one level deep: the groups inside it start collapsed', () => {
    const tree = bigTree();
    assert.deepEqual([...toggleCluster(new Set(['outer']), tree, 'outer')].sort(), ['a', 'b']);
    assert.deepEqual([...expandAround(new Set(['outer']), tree, 0)], ['b'], 'around node 0: outer, then a');
  });

  it('above EXPAND_ALL_MAX nodes, Expand all opens one level per click', () => {
    const tree = bigTree();
    assert.deepEqual([...toggleAll(new Set(['outer']), tree, EXPAND_ALL_MAX + 1)].sort(), ['a', 'b']);
    assert.deepEqual([...toggleAll(new Set(['a', 'b']), tree, EXPAND_ALL_MAX + 1)], []);
    assert.deepEqual([...toggleAll(new Set(['outer']), tree, EXPAND_ALL_MAX)], [], 'a graph that fits: all at once');
  });
});

describe('persistence and search', () => {
  it('saves the state\'s saved part only when it changes, and reads back what it saved', () => {
    const stored: unknown[] = [];
    const p = new Persistence({ getState: () => stored[stored.length - 1] ?? null, setState: (s) => { stored.push(s); } });
    assert.equal(p.load(), null);
    let st = shown(deep(12));
    p.save(st);
    p.save(reduce(st, { type: 'highlight', file: FILE, lines: [1] }));
    assert.equal(stored.length, 1, 'highlights are not saved');
    st = reduce(st, { type: 'toggleGroup', key: 'scope:layer0' });
    p.save(st);
    assert.equal(stored.length, 2);
    assert.deepEqual(p.load(), savedState(st));
    assert.equal(readState({ mode: 'sideways', step: 1 }), null);
    assert.deepEqual(readState({ mode: 'forward', step: 2.7, view: 'nowhere', speed: 3, collapsed: ['a', 7] }), {
      file: null, mode: 'forward', step: 2, selected: null, direction: 'TB', transform: null, collapsed: ['a'], speed: 1, view: 'graph',
    });
  });

  it('search cycles through names that hold the query, and ops or labels that are it', () => {
    const s = addMul();
    const id = (name: string) => s.nodes.find((n) => n.name === name)!.id;
    assert.equal(nextMatch(s, 'Q', null), id('q'));
    assert.equal(nextMatch(s, 'mul', null), id('f'));
    const x = nextMatch(s, 'x', null)!;
    assert.equal(x, id('x'));
    assert.equal(nextMatch(s, '  ', null), null);
    assert.equal(nextMatch(s, 'nothing', null), null);
    // names holding "y" or "z"… only one each: repeated Enter stays on it
    assert.equal(nextMatch(s, 'y', id('y')), id('y'));
  });
});
