/**
 * The contract both ways: the host accepts exactly the messages of the protocol (parseWebviewMessage),
 * the webview checks the host's by their fields and the envelope of large payloads (parseHostMessage).
 */
import * as assert from 'node:assert/strict';
import { buildSnapshot } from '../../engine/trace/snapshot';
import { trace } from '../../engine/trace/tracer';
import { scalar } from '../../engine';
import {
  HOST_MESSAGE_TYPES, packTypedArrays, parseHostMessage, parseWebviewMessage, WEBVIEW_MESSAGE_TYPES,
  type GraphSnapshot, type HostMessage, type WebviewMessage,
} from '../../extension/protocol';

const VALID: WebviewMessage[] = [
  { type: 'ready' },
  { type: 'rerun' },
  { type: 'manageTrust' },
  { type: 'revealSource', file: '/w/model.ts', line: 1, column: 0 },
  { type: 'revealSource', file: '/w/lib/helper.ts', line: 120, column: 17 },
  { type: 'fetchTensor', requestId: 0, node: 12, which: 'value' },
  { type: 'fetchTensor', requestId: 7, node: 0, which: 'grad' },
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
    const a = parseWebviewMessage({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [{ optimizer: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0.5 }], steps: 5, extra: [] } });
    assert.ok(a.ok);
    assert.deepEqual(a.message, { type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [{ optimizer: 'sgd', lr: 0.1, momentum: 0.9 }], steps: 5 } });
  });

  it('says where a message is wrong', () => {
    const r = parseWebviewMessage({ type: 'revealSource', file: '/w/a.ts', line: 0, column: 1 });
    assert.ok(!r.ok);
    assert.match(r.reason, /^revealSource\.line: expected an integer ≥ 1, got 0$/);
    const a = parseWebviewMessage({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [{ optimizer: 'sgd', lr: -1 }], steps: 5 } });
    assert.ok(!a.ok);
    assert.match(a.reason, /runs\[0\]\.lr: expected a finite number from 0 to 1000000, got -1/);
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
    rejects({ type: 'gpuFailed', runId: 1, reason: 'c'.repeat(2001) }, 'a 2001-character failure');
    rejects({ type: 'exported', requestId: 1, format: 'svg', data: 'd'.repeat(64 * 1024 * 1024 + 1) }, 'an export past 64 MiB');
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

  it('rejects the messages nothing read (state, selectNode): the panel restores from the webview\'s own setState', () => {
    rejects({ type: 'selectNode', node: 3 });
    rejects({ type: 'state', state: { file: '/w/model.ts', mode: 'backward', step: 3, selected: 5, direction: 'TB', transform: null } });
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
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'jacobian' } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'landscape', twoD: 'yes', range: 1, seed: 0 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'landscape', twoD: true, range: 0, seed: 0 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'moon', runs: [{ optimizer: 'adam', lr: 0.1 }], steps: 10 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [], steps: 10 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [{ optimizer: 'lbfgs', lr: 0.1 }], steps: 10 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [{ optimizer: 'adam', lr: 0.1 }], steps: 1e9 } });
    rejects({ type: 'analyze', requestId: 1, request: { kind: 'playground', surface: 'bowl', runs: [{ optimizer: 'sgd', lr: 0.1, momentum: 1 }], steps: 10 } });
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

  it('accepts a GPU checkpoint packed into one buffer (packTypedArrays) and keeps its views', () => {
    const m: WebviewMessage = {
      type: 'gpuCheckpoint', runId: 3, step: 2, params: [new Float32Array([1, 2, 3]), new Float32Array([4])], slots: [{ m: new Float32Array([0.5, 0.5, 0.5]) }, null],
      history: { step: Float64Array.of(1, 2), loss: Float64Array.of(0.3, 0.2), lr: Float64Array.of(0.1, 0.1), gradNorm: Float64Array.of(1, NaN) }, paused: false, log: false,
    };
    const packed = packTypedArrays(m);
    assert.ok(packed.type === 'gpuCheckpoint' && packed.params[0].buffer === packed.params[1].buffer, 'one shared buffer');
    const r = parseWebviewMessage(packed);
    assert.ok(r.ok && r.message.type === 'gpuCheckpoint', r.ok ? '' : r.reason);
    assert.deepEqual(r.message, m);
    assert.equal(r.message.params[1], packed.params[1], 'the view itself, not a copy');
    assert.equal(r.message.params[1].length, 1, 'its own length, not the arena\'s');
  });

  it('turns arrays of numbers into typed arrays, and checks sizes before converting', () => {
    const h0 = { step: [], loss: [], lr: [], gradNorm: [] };
    const r = parseWebviewMessage({ type: 'gpuCheckpoint', runId: 1, step: 1, params: [[1, null, 2]], slots: [null], history: { ...h0, step: [1], loss: [null], lr: [0.1], gradNorm: [2] }, paused: true, log: false });
    assert.ok(r.ok && r.message.type === 'gpuCheckpoint', r.ok ? '' : r.reason);
    assert.deepEqual(r.message.params, [Float32Array.of(1, NaN, 2)]);
    assert.deepEqual(r.message.history.loss, Float64Array.of(NaN));
    // a sparse array of 2³² − 1 elements: converting it first would take minutes and 16 GiB
    const huge = new Array(2 ** 32 - 1);
    rejects({ type: 'gpuCheckpoint', runId: 1, step: 1, params: [huge], slots: [null], history: h0, paused: true, log: false }, 'a parameter of 2³² − 1 elements');
    rejects({ type: 'gpuCheckpoint', runId: 1, step: 1, params: huge, slots: huge, history: h0, paused: true, log: false }, '2³² − 1 parameters');
    rejects({ type: 'gpuCheckpoint', runId: 1, step: 1, params: [], slots: [], history: { ...h0, step: huge }, paused: true, log: false }, 'a history of 2³² − 1 steps');
    // the budget is for the whole message: two halves that fit alone do not fit together
    const half = new Float32Array(32 * 2 ** 20 + 1);
    rejects({ type: 'gpuCheckpoint', runId: 1, step: 1, params: [half], slots: [{ m: half }], history: h0, paused: true, log: false }, 'params and slots past 64 Mi elements together');
  });

  it('refuses slot names that Object.prototype has', () => {
    const h0 = { step: new Float64Array(0), loss: new Float64Array(0), lr: new Float64Array(0), gradNorm: new Float64Array(0) };
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
      const slot = JSON.parse(`{"${name}": [1]}`);
      rejects({ type: 'gpuCheckpoint', runId: 1, step: 1, params: [new Float32Array(1)], slots: [slot], history: h0, paused: true, log: false }, `a slot named ${name}`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

/** (x + y)·z, as the host sends it. */
function smallSnapshot(): GraphSnapshot {
  let line = 0;
  const { result } = trace(() => scalar(-2).named('x').add(scalar(5).named('y')).mul(scalar(-4).named('z')), { locate: () => ({ file: '/w/m.ts', line: ++line, column: 1 }) });
  return buildSnapshot(result, { file: '/w/m.ts' });
}

describe('protocol: parseHostMessage', () => {
  const snapshot = smallSnapshot();
  const overrides = { optimizer: 'adam' as const, lr: 0.01 };
  const HOST_VALID: HostMessage[] = [
    { type: 'snapshot', runId: 1, file: '/w/m.ts', fileName: 'm.ts', snapshot },
    { type: 'running', file: '/w/m.ts', fileName: 'm.ts' },
    { type: 'errors', file: '/w/m.ts', fileName: 'm.ts', errors: [{ kind: 'runtime', message: 'x.mull is not a function', file: '/w/m.ts', line: 5, column: 11, stack: 'at m.ts:5:11' }, { kind: 'timeout', message: 'too slow', file: '/w/m.ts', line: null, column: null }] },
    { type: 'untrusted', file: '/w/m.ts', fileName: 'm.ts' },
    { type: 'tensorData', requestId: 1, node: 2, which: 'value', data: Float64Array.of(1, 2) },
    { type: 'tensorData', requestId: 2, node: 2, which: 'grad', data: null, reason: 'larger than 1048576 elements: only its summary is kept' },
    { type: 'command', command: 'stepForward' },
    { type: 'highlightLines', file: '/w/m.ts', lines: [3, 4] },
    { type: 'export', requestId: 4, format: 'png' },
    { type: 'trainProgress', runId: 1, progress: { step: 3, total: 10, history: [{ step: 3, loss: 0.5, lr: 0.1, gradNorm: 1 }], layers: [], findings: [], stepsPerSecond: Infinity, paused: false } as never },
    { type: 'trainStatus', runId: 1, status: 'running', step: 0, total: 10, overrides: {} },
    { type: 'trainStatus', runId: 1, status: 'error', step: 2, total: 10, overrides, message: 'NaN loss', backend: { kind: 'webgpu', adapter: 'swiftshader' } },
    { type: 'analysis', requestId: 1, result: { kind: 'gradcheck', report: { params: [] } as never } },
    { type: 'analysis', requestId: 2, result: null, error: { kind: 'runtime', message: 'boom', file: '/w/m.ts', line: null, column: null } },
    { type: 'analyses', answers: [{ kind: 'hessian', result: { kind: 'hessian', report: { names: [] } as never } }, { kind: 'trace', result: null, error: { kind: 'runtime', message: 'no', file: 'm.ts', line: null, column: null } }] },
    { type: 'trainGraph', runId: 1, step: 5, snapshot },
    { type: 'gpuTrain', runId: 1, plan: { programs: [], params: [], totalSteps: 10 } as never, paused: true, software: false },
    { type: 'gpuControl', runId: 1, action: 'resume' },
  ];

  it('accepts each valid message, and covers every host message type', () => {
    for (const m of HOST_VALID) {
      const r = parseHostMessage(m);
      assert.ok(r.ok, `rejected ${m.type}: ${r.ok ? '' : r.reason}`);
      assert.deepEqual(r.message, m);
    }
    assert.deepEqual([...new Set(HOST_VALID.map((m) => m.type))].sort(), [...HOST_MESSAGE_TYPES].sort());
  });

  it('keeps a large payload as it is: checked by its envelope, not copied', () => {
    const m = packTypedArrays<HostMessage>({ type: 'snapshot', runId: 1, file: '/w/m.ts', fileName: 'm.ts', snapshot });
    const r = parseHostMessage(structuredClone(m));
    assert.ok(r.ok && r.message.type === 'snapshot', r.ok ? '' : r.reason);
    assert.deepEqual(r.message.snapshot, snapshot);
    const same = parseHostMessage(m);
    assert.ok(same.ok && same.message.type === 'snapshot' && same.message.snapshot === (m as { snapshot: GraphSnapshot }).snapshot);
  });

  it('rejects malformed host messages', () => {
    const bad: unknown[] = [
      { type: 'snapshot', runId: 1, file: '/w/m.ts', fileName: 'm.ts', snapshot: null },
      { type: 'snapshot', runId: 1, file: '/w/m.ts', fileName: 'm.ts', snapshot: { ...snapshot, nodes: 'many' } },
      { type: 'snapshot', runId: 1, file: '/w/m.ts', fileName: 'm.ts', snapshot: { ...snapshot, nodes: new Array(2 ** 32 - 1) } },
      { type: 'snapshot', runId: -1, file: '/w/m.ts', fileName: 'm.ts', snapshot },
      { type: 'errors', file: '/w/m.ts', fileName: 'm.ts', errors: [{ kind: 'oops', message: 'x', file: '', line: null, column: null }] },
      { type: 'tensorData', requestId: 1, node: 2, which: 'value', data: new Float32Array(2) },
      { type: 'tensorData', requestId: 1, node: 2, which: 'value', data: [1, 2] },
      { type: 'command', command: 'format' },
      { type: 'highlightLines', file: '/w/m.ts', lines: new Array(100_001).fill(1) },
      { type: 'trainStatus', runId: 1, status: 'running', step: 0, total: 10, overrides: { lr: -1 } },
      { type: 'trainProgress', runId: 1, progress: { step: 1, total: 2, history: {}, layers: [], findings: [], stepsPerSecond: 1, paused: false } },
      { type: 'analysis', requestId: 1, result: { kind: 'jacobian', report: {} } },
      { type: 'analyses', answers: [{ kind: 'hessian', result: { kind: 'hessian', report: 'big' } }] },
      { type: 'analyses', answers: [{ kind: 'jacobian', result: null }] },
      { type: 'analyses', answers: new Array(7).fill({ kind: 'trace', result: null }) },
      { type: 'gpuTrain', runId: 1, plan: { programs: [] }, paused: true, software: false },
      { type: 'gpuControl', runId: 1, action: 'explode' },
      { type: 'selectNode', node: 1 },
    ];
    bad.forEach((m, i) => assert.equal(parseHostMessage(m).ok, false, `accepted bad[${i}] (${(m as { type: string }).type})`));
  });
});
