/** parseWebviewMessage: the host accepts exactly the messages of the protocol, nothing else. */
import * as assert from 'node:assert/strict';
import { parseWebviewMessage, WEBVIEW_MESSAGE_TYPES, type UiState, type WebviewMessage } from '../../extension/protocol';

const STATE: UiState = { file: '/w/model.ts', mode: 'backward', step: 3, selected: 5, direction: 'TB', transform: { x: 10, y: -4, k: 1.5 } };

const VALID: WebviewMessage[] = [
  { type: 'ready' },
  { type: 'rerun' },
  { type: 'manageTrust' },
  { type: 'state', state: STATE },
  { type: 'state', state: { ...STATE, file: null, selected: null, transform: null, mode: 'forward', direction: 'LR', step: 0 } },
  { type: 'revealSource', file: '/w/model.ts', line: 1, column: 0 },
  { type: 'revealSource', file: '/w/lib/helper.ts', line: 120, column: 17 },
  { type: 'fetchTensor', requestId: 0, node: 12, which: 'value' },
  { type: 'fetchTensor', requestId: 7, node: 0, which: 'grad' },
  { type: 'selectNode', node: 3 },
  { type: 'selectNode', node: null },
  { type: 'exported', requestId: 1, format: 'svg', data: '<svg xmlns="http://www.w3.org/2000/svg"></svg>' },
  { type: 'exported', requestId: 2, format: 'png', data: 'data:image/png;base64,iVBORw0KGgo=' },
  { type: 'error', message: 'layout failed' },
  { type: 'train', action: 'run' },
  { type: 'train', action: 'pause' },
  { type: 'train', action: 'step', overrides: { optimizer: 'adam', lr: 0.001, steps: 200, batchSize: 16, seed: 3 } },
  { type: 'train', action: 'reset', overrides: {} },
  { type: 'train', action: 'run', overrides: { schedule: 'cosine' } },
  { type: 'analyze', requestId: 1, request: { kind: 'gradcheck' } },
  { type: 'analyze', requestId: 2, request: { kind: 'landscape', twoD: true, range: 0.5, seed: 3 } },
  { type: 'analyze', requestId: 3, request: { kind: 'playground', surface: 'rosenbrock', runs: [{ optimizer: 'adam', lr: 0.1 }, { optimizer: 'sgd', lr: 0.001 }], steps: 200, start: [-1.2, 1] } },
  { type: 'gpuStarted', runId: 2, adapter: 'google swiftshader' },
  { type: 'gpuFailed', runId: 2, reason: 'the GPU device was lost: destroyed' },
  { type: 'gpuCheckpoint', runId: 2, step: 0, params: [new Float32Array([1, 2])], slots: [null], history: { step: new Float64Array(0), loss: new Float64Array(0), lr: new Float64Array(0), gradNorm: new Float64Array(0) }, paused: true, log: false },
  {
    type: 'gpuCheckpoint', runId: 2, step: 3, params: [new Float32Array([1, 2]), new Float32Array([0.5])], slots: [{ m: new Float32Array([0, 1]), v: new Float32Array([2, 3]) }, null],
    history: { step: new Float64Array([2, 3]), loss: new Float64Array([0.5, NaN]), lr: new Float64Array([0.1, 0.1]), gradNorm: new Float64Array([1, Infinity]) }, paused: false, log: true,
  },
];

function rejects(m: unknown, why?: string): void {
  const r = parseWebviewMessage(m);
  assert.equal(r.ok, false, `accepted ${why ?? JSON.stringify(m)?.slice(0, 200)}`);
  if (!r.ok) assert.ok(r.reason.length > 0, 'a rejection says why');
}

describe('protocol: parseWebviewMessage', () => {
  it('accepts each valid message and returns it unchanged', () => {
    for (const m of VALID) {
      const r = parseWebviewMessage(structuredClone(m));
      assert.ok(r.ok, `rejected ${JSON.stringify(m)}: ${r.ok ? '' : r.reason}`);
      assert.deepEqual(r.message, m);
    }
  });

  it('rejects malformed GPU checkpoints', () => {
    const h0 = { step: new Float64Array(0), loss: new Float64Array(0), lr: new Float64Array(0), gradNorm: new Float64Array(0) };
    const ok = { type: 'gpuCheckpoint', runId: 1, step: 2, params: [new Float32Array(2)], slots: [null], history: h0, paused: true, log: true };
    assert.ok(parseWebviewMessage(ok).ok);
    rejects({ ...ok, params: ['x'] }, 'a parameter that is not numbers');
    rejects({ ...ok, slots: [] }, 'slots of another length than params');
    rejects({ ...ok, slots: [{ m: new Float32Array(2), v: new Float32Array(2), a: new Float32Array(2), b: new Float32Array(2), c: new Float32Array(2) }] }, 'five slots');
    rejects({ ...ok, slots: [{ '__proto__x': new Float32Array(2) }] }, 'an odd slot name');
    rejects({ ...ok, step: -1 }, 'a negative step');
    rejects({ ...ok, paused: 'yes' }, 'paused not a boolean');
    rejects({ ...ok, history: { ...h0, loss: new Float64Array(1) } }, 'history columns of different lengths');
    rejects({ ...ok, history: { step: new Float64Array([3]), loss: new Float64Array(1), lr: new Float64Array(1), gradNorm: new Float64Array(1) } }, 'a history step after the checkpoint');
    rejects({ ...ok, history: { step: new Float64Array([2, 1]), loss: new Float64Array(2), lr: new Float64Array(2), gradNorm: new Float64Array(2) } }, 'history steps out of order');
    rejects({ ...ok, params: [new Float32Array(64 * 2 ** 20 + 1)] }, 'more than 64 Mi elements');
    rejects({ type: 'gpuStarted', runId: 1, adapter: 'x'.repeat(201) }, 'a very long adapter name');
    rejects({ type: 'gpuFailed', runId: 1 }, 'a failure without a reason');
  });

  it('covers every message type of the protocol', () => {
    assert.deepEqual([...new Set(VALID.map((m) => m.type))].sort(), [...WEBVIEW_MESSAGE_TYPES].sort());
  });

  it('drops unknown extra fields', () => {
    const r = parseWebviewMessage({ type: 'revealSource', file: '/w/a.ts', line: 2, column: 1, evil: 'rm -rf /' });
    assert.ok(r.ok);
    assert.deepEqual(r.message, { type: 'revealSource', file: '/w/a.ts', line: 2, column: 1 });
    const s = parseWebviewMessage({ type: 'state', state: { ...STATE, extra: 1 } });
    assert.ok(s.ok);
    assert.deepEqual(s.message, { type: 'state', state: STATE });
  });

  it('treats a missing transform as null', () => {
    const { transform: _t, ...noTransform } = STATE;
    const r = parseWebviewMessage({ type: 'state', state: noTransform });
    assert.ok(r.ok);
    assert.deepEqual(r.message, { type: 'state', state: { ...STATE, transform: null } });
  });

  it('keeps the collapsed groups of a state and rejects malformed ones', () => {
    const base = { file: '/w/m.ts', mode: 'backward', step: 1, selected: null, direction: 'TB', transform: null };
    const ok = parseWebviewMessage({ type: 'state', state: { ...base, collapsed: ['scope:mlp', 'group:2'] } });
    assert.ok(ok.ok && ok.message.type === 'state');
    assert.deepEqual(ok.ok && ok.message.type === 'state' ? ok.message.state.collapsed : null, ['scope:mlp', 'group:2']);
    for (const collapsed of ['scope:mlp', [1, 2], ['x'.repeat(5000)]]) {
      assert.equal(parseWebviewMessage({ type: 'state', state: { ...base, collapsed } }).ok, false, JSON.stringify(collapsed).slice(0, 40));
    }
  });

  it('keeps a known play speed and rejects others', () => {
    const base = { file: '/w/m.ts', mode: 'backward', step: 1, selected: null, direction: 'TB', transform: null };
    const ok = parseWebviewMessage({ type: 'state', state: { ...base, speed: 4 } });
    assert.equal(ok.ok && ok.message.type === 'state' ? ok.message.state.speed : null, 4);
    for (const speed of [3, 0, -1, '2', null, Infinity]) {
      assert.equal(parseWebviewMessage({ type: 'state', state: { ...base, speed } }).ok, false, String(speed));
    }
  });

  it('rejects non-objects', () => {
    for (const m of [null, undefined, 0, 42, 'ready', true, [], [{ type: 'ready' }], () => 1]) rejects(m, String(m));
  });

  it('rejects unknown or missing types', () => {
    for (const m of [{}, { type: 'openFile', file: '/etc/passwd' }, { type: 'READY' }, { type: 1 }, { type: null }, { type: ['ready'] }, { kind: 'ready' }]) rejects(m);
  });

  it('rejects revealSource with missing fields, wrong types or negative positions', () => {
    const good = { type: 'revealSource', file: '/w/model.ts', line: 3, column: 2 };
    for (const k of ['file', 'line', 'column']) {
      const m: Record<string, unknown> = { ...good };
      delete m[k];
      rejects(m, `without ${k}`);
    }
    rejects({ ...good, line: 0 });
    rejects({ ...good, line: -1 });
    rejects({ ...good, column: -1 });
    rejects({ ...good, line: 1.5 });
    rejects({ ...good, line: '3' });
    rejects({ ...good, line: Number.NaN });
    rejects({ ...good, line: Number.POSITIVE_INFINITY });
    rejects({ ...good, file: 42 });
    rejects({ ...good, file: null });
    rejects({ ...good, file: { path: '/w/model.ts' } });
  });

  it('rejects oversize strings', () => {
    rejects({ type: 'revealSource', file: `/${'a'.repeat(5000)}.ts`, line: 1, column: 0 }, 'a 5000-character path');
    rejects({ type: 'error', message: 'x'.repeat(20_000) }, 'a 20000-character error message');
    rejects({ type: 'state', state: { ...STATE, file: `/${'b'.repeat(5000)}` } }, 'a 5000-character state file');
  });

  it('rejects fetchTensor with bad ids or an unknown tensor', () => {
    const good = { type: 'fetchTensor', requestId: 1, node: 2, which: 'value' };
    rejects({ ...good, which: 'hessian' });
    rejects({ ...good, which: undefined });
    rejects({ ...good, node: -1 });
    rejects({ ...good, node: '2' });
    rejects({ ...good, requestId: -3 });
    rejects({ ...good, requestId: 0.5 });
    const { node: _n, ...noNode } = good;
    rejects(noNode);
  });

  it('rejects selectNode without a valid node', () => {
    rejects({ type: 'selectNode' });
    rejects({ type: 'selectNode', node: -2 });
    rejects({ type: 'selectNode', node: 'a' });
  });

  it('rejects exported with a bad format or data', () => {
    const good = { type: 'exported', requestId: 1, format: 'svg', data: '<svg/>' };
    rejects({ ...good, format: 'pdf' });
    rejects({ ...good, data: 12 });
    rejects({ ...good, requestId: -1 });
    const { data: _d, ...noData } = good;
    rejects(noData);
  });

  it('rejects train messages with an unknown action or bad overrides', () => {
    rejects({ type: 'train' }, 'no action');
    rejects({ type: 'train', action: 'fly' });
    rejects({ type: 'train', action: 'run', overrides: 'fast' });
    rejects({ type: 'train', action: 'run', overrides: { optimizer: 'lbfgs' } });
    rejects({ type: 'train', action: 'run', overrides: { lr: -1 } });
    rejects({ type: 'train', action: 'run', overrides: { lr: Number.NaN } });
    rejects({ type: 'train', action: 'run', overrides: { schedule: 'warp' } });
    rejects({ type: 'analyze', request: { kind: 'gradcheck' } }, 'no requestId');
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'hessian' } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'landscape', twoD: 'yes', range: 1, seed: 0 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'landscape', twoD: true, range: 0, seed: 0 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'moon', runs: [{ optimizer: 'adam', lr: 0.1 }], steps: 10 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [], steps: 10 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [{ optimizer: 'lbfgs', lr: 0.1 }], steps: 10 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [{ optimizer: 'adam', lr: 0.1 }], steps: 1e9 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [{ optimizer: 'adam', lr: 0.1 }], steps: 10, start: [1] } });
    rejects({ type: 'train', action: 'run', overrides: { steps: 0 } });
    rejects({ type: 'train', action: 'run', overrides: { steps: 2.5 } });
    rejects({ type: 'train', action: 'run', overrides: { batchSize: 1e12 } });
    rejects({ type: 'train', action: 'run', overrides: { seed: -1 } });
    const r = parseWebviewMessage({ type: 'train', action: 'run', overrides: { lr: 0.1, extra: 'dropped' } });
    assert.ok(r.ok);
    assert.deepEqual(r.message, { type: 'train', action: 'run', overrides: { lr: 0.1 } });
  });

  it('rejects error messages that are not strings', () => {
    rejects({ type: 'error' });
    rejects({ type: 'error', message: { text: 'x' } });
  });

  it('rejects malformed UI state', () => {
    const bad: Record<string, unknown>[] = [
      { ...STATE, mode: 'sideways' },
      { ...STATE, direction: 'RL' },
      { ...STATE, step: -1 },
      { ...STATE, step: 1.5 },
      { ...STATE, selected: -1 },
      { ...STATE, selected: '3' },
      { ...STATE, file: 3 },
      { ...STATE, transform: { x: 0, y: 0, k: 0 } },
      { ...STATE, transform: { x: 0, y: 0, k: -1 } },
      { ...STATE, transform: { x: Number.NaN, y: 0, k: 1 } },
      { ...STATE, transform: { x: 0, y: 0 } },
      { ...STATE, transform: [0, 0, 1] },
    ];
    for (const state of bad) rejects({ type: 'state', state }, JSON.stringify(state));
    rejects({ type: 'state' }, 'state without state');
    rejects({ type: 'state', state: 'forward' });
    rejects({ type: 'state', state: null });
  });
});
