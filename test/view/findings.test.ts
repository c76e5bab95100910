/**
 * One diagnosis type from the engine to the panel: a snapshot's findings (graph and layer health)
 * reach the webview as the engine wrote them, and JSON from an older version is filled in.
 */
import assert from 'node:assert/strict';
import { scalar } from '../../engine/index';
import { diagnose, isHealthFinding, type Finding } from '../../engine/stats/diagnosis';
import type { LayerStats } from '../../engine/stats/layers';
import { buildSnapshot, snapshotToJSON } from '../../engine/trace/snapshot';
import { trace } from '../../engine/trace/tracer';
import type { GraphSnapshot } from '../../extension/protocol';
import { normalizeSnapshot } from '../../webview/snapshot';

const KEYS = ['code', 'fixes', 'layer', 'message', 'node', 'severity', 'source', 'step'];

describe('findings: one type from the engine to the panel', () => {
  it('a snapshot\'s graph findings carry every field of a finding, and survive the JSON round trip unchanged', () => {
    const { result } = trace(() => scalar(-1).log().named('bad'));
    const s = buildSnapshot(result, { file: '/m.ts' });
    const f = s.diagnosis.find((d) => d.code === 'nonfinite-forward')!;
    assert.deepEqual(Object.keys(f).sort(), KEYS);
    assert.equal(isHealthFinding(f), false);
    const back = normalizeSnapshot(JSON.parse(JSON.stringify(snapshotToJSON(s))) as GraphSnapshot);
    assert.deepEqual(back.diagnosis, JSON.parse(JSON.stringify(s.diagnosis)));
  });

  it('layer-health findings carry their fixes and no node until one is found in a graph', () => {
    const layer: LayerStats = {
      name: 'fc1', type: 'linear', depth: 0, activation: 'relu', weight: null, weightGrad: null, gradMeanAbs: null, gradMaxAbs: null,
      output: null, outputGrad: null, dead: 0.9, saturated: null, source: null,
    };
    const [f] = diagnose({ layers: [layer] });
    assert.equal(f.code, 'dead-relu');
    assert.deepEqual(Object.keys(f).sort(), KEYS);
    assert.equal(f.node, null);
    assert.ok(f.fixes.length > 0 && isHealthFinding(f));
  });

  it('JSON without the fields added since (layer, step, fixes) is filled in; unknown codes are dropped', () => {
    const old = {
      version: 1, file: '/m.ts', output: 0, nodes: [{ id: 0, op: 'leaf', shape: [], inputs: [] }], backward: [], forward: [],
      diagnosis: [
        { severity: 'warning', code: 'nonfinite-forward', message: 'NaN at x', node: 0, source: { file: '/m.ts', line: 3, column: 1 } },
        { severity: 'warning', code: 'from-the-future', message: '?', node: null, source: null },
        { severity: 'loud', code: 'no-grad', message: 'no grad', node: 7, source: null },
      ],
    };
    const s = normalizeSnapshot(old as unknown as GraphSnapshot);
    const want: Finding[] = [
      { code: 'nonfinite-forward', severity: 'warning', message: 'NaN at x', node: 0, layer: null, step: null, fixes: [], source: { file: '/m.ts', line: 3, column: 1 } },
      { code: 'no-grad', severity: 'info', message: 'no grad', node: null, layer: null, step: null, fixes: [], source: null },
    ];
    assert.deepEqual(s.diagnosis, want);
  });
});
