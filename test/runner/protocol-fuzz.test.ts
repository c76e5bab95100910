/**
 * The validators never throw and never run a value's code: 100,000 malformed messages each way
 * (seeded, so a failure reproduces), every one rejected with a reason; valid messages carrying
 * hostile extra fields are still accepted, with the extras dropped unread.
 *
 * Malformed by construction: a valid message with one to three of its values (at any depth the
 * schema checks) replaced by something no field accepts, or a required field deleted, or junk as
 * the whole message. The junk: BigInt, symbols, functions, Date, Map, class instances, throwing
 * getters, Proxies whose traps throw, revoked and lying Proxies, a sparse array of 2³² − 1
 * elements, arrays nested 100,000 deep, cyclic arrays and objects, a 10 MiB string, NaN/±∞, and
 * prototype keys (`__proto__`, `constructor`, inherited fields).
 */
import * as assert from 'node:assert/strict';
import { parseHostMessage, parseWebviewMessage, type HostMessage, type WebviewMessage } from '../../extension/protocol';

const SEED = 0x14_c0de;
const CASES = 100_000;

/** mulberry32: a small seeded generator (reproducible across runs and machines). */
function generator(seed: number): { next(): number; int(n: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)] };
}

/** Getters on plain objects: the validators read data properties only, so none may ever run. */
let objectGetterCalls = 0;

const BIG_STRING = 'x'.repeat(10 * 2 ** 20);
const HUGE_SPARSE: unknown[] = new Array(2 ** 32 - 1);
const DEEP_ARRAY: unknown[] = (() => {
  let v: unknown[] = [];
  for (let i = 0; i < 100_000; i++) v = [v];
  return v;
})();
const DEEP_OBJECT: Record<string, unknown> = (() => {
  let v: Record<string, unknown> = { type: 'ready' };
  for (let i = 0; i < 100_000; i++) v = { type: v, request: v };
  return v;
})();
const CYCLIC_ARRAY: unknown[] = [];
CYCLIC_ARRAY.push(CYCLIC_ARRAY, CYCLIC_ARRAY);
const CYCLIC_OBJECT: Record<string, unknown> = { type: 'revealSource' };
CYCLIC_OBJECT.file = CYCLIC_OBJECT;
CYCLIC_OBJECT.self = CYCLIC_OBJECT;

const boom = (): never => {
  throw new Error('a trap ran');
};
const throwingProxy = (target: object = {}): object => new Proxy(target, {
  get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom, defineProperty: boom,
  set: boom, deleteProperty: boom, isExtensible: boom, preventExtensions: boom, setPrototypeOf: boom,
});
const revokedProxy = (): object => {
  const p = Proxy.revocable([], {});
  p.revoke();
  return p.proxy;
};
/** An array that claims 2⁴⁰ elements. */
const lyingArray = (): unknown[] => new Proxy([1, 2, 3], { get: (t, k) => (k === 'length' ? 2 ** 40 : Reflect.get(t, k)) });
/** An array whose every element is a throwing getter. */
const trappedArray = (): unknown[] => new Proxy([1, 2, 3], { get: (t, k) => (k === 'length' ? 3 : typeof k === 'string' && /^\d+$/.test(k) ? boom() : Reflect.get(t, k)) });
/** A proxy that would hand out a valid-looking message, if anyone called its traps after the first throw. */
class Model {
  type = 'ready';
}

/** Values that no field of either direction accepts (where `data` of `exported` is spared the long string). */
const INVALID: readonly ((key: string) => unknown)[] = [
  () => 10n, () => -(2n ** 70n), () => Symbol('ready'), () => () => 1, () => new Date(0), () => new Map([['type', 'ready']]), () => new Set([1]),
  () => /ready/, () => new Error('x'), () => Promise.resolve(1), () => new WeakMap(), () => new Model(), () => Object.create({ type: 'ready', line: 1 }),
  () => new Int32Array(4), () => new BigInt64Array(2), () => new ArrayBuffer(8), () => new DataView(new ArrayBuffer(8)),
  () => throwingProxy(), () => throwingProxy([]), () => revokedProxy(), () => lyingArray(), () => trappedArray(),
  () => HUGE_SPARSE, () => DEEP_ARRAY, () => CYCLIC_ARRAY, () => NaN, () => Infinity, () => -Infinity,
  (key) => (key === 'data' ? 10n : BIG_STRING),
];

/** Junk as a whole message. */
const JUNK: readonly (() => unknown)[] = [
  ...INVALID.map((f) => () => f('')), () => null, () => undefined, () => 0, () => 'ready', () => BIG_STRING, () => true, () => [],
  () => [{ type: 'ready' }], () => DEEP_OBJECT, () => CYCLIC_OBJECT, () => JSON.parse('{"__proto__": {"type": "ready"}}'),
  () => JSON.parse('{"type": "__proto__"}'), () => ({ type: 'constructor' }), () => ({ type: 'toString' }), () => ({ type: 'hasOwnProperty' }),
  () => ({ type: 'READY' }), () => ({ type: BIG_STRING }), () => ({ type: Symbol('ready') }), () => ({ type: 1n }), () => ({ type: ['ready'] }),
  () => Object.defineProperty({}, 'type', { get: () => (objectGetterCalls++, 'ready'), enumerable: true }),
  () => Object.defineProperty({}, 'type', { get: () => (objectGetterCalls++, boom()), enumerable: true }),
  () => new Proxy({ type: 'ready' }, { getOwnPropertyDescriptor: boom }),
  () => new Proxy({ type: 'ready' }, { getPrototypeOf: boom }),
  () => throwingProxy({ type: 'ready' }),
  () => Object.assign(new Date(), { type: 'ready' }),
  () => Object.assign(Object.create(Array.prototype), { type: 'ready' }),
];

const h0 = () => ({ step: new Float64Array(0), loss: new Float64Array(0), lr: new Float64Array(0), gradNorm: new Float64Array(0) });
const WEBVIEW_BASES: WebviewMessage[] = [
  { type: 'ready' }, { type: 'rerun' }, { type: 'manageTrust' },
  { type: 'revealSource', file: '/w/model.ts', line: 3, column: 2 },
  { type: 'fetchTensor', requestId: 7, node: 0, which: 'grad' },
  { type: 'exported', requestId: 1, format: 'svg', data: '<svg/>' },
  { type: 'error', message: 'layout failed' },
  { type: 'train', action: 'step', overrides: { optimizer: 'adam', lr: 0.001, steps: 200, batchSize: 16, seed: 3, schedule: 'cosine' } },
  { type: 'analyze', requestId: 1, request: { kind: 'gradcheck' } },
  { type: 'analyze', requestId: 2, request: { kind: 'landscape', twoD: true, range: 0.5, seed: 3 } },
  { type: 'analyze', requestId: 3, request: { kind: 'playground', surface: 'rosenbrock', runs: [{ optimizer: 'adam', lr: 0.1 }, { optimizer: 'sgd', lr: 0.001 }], steps: 200, start: [-1.2, 1] } },
  { type: 'gpuStarted', runId: 2, adapter: 'google swiftshader' },
  { type: 'gpuFailed', runId: 2, reason: 'the GPU device was lost' },
  { type: 'gpuCheckpoint', runId: 2, step: 0, params: [new Float32Array([1, 2])], slots: [null], history: h0(), paused: true, log: false },
  {
    type: 'gpuCheckpoint', runId: 2, step: 3, params: [new Float32Array([1, 2]), new Float32Array([0.5])], slots: [{ m: new Float32Array([0, 1]), v: new Float32Array([2, 3]) }, null],
    history: { step: Float64Array.of(2, 3), loss: Float64Array.of(0.5, NaN), lr: Float64Array.of(0.1, 0.1), gradNorm: Float64Array.of(1, Infinity) }, paused: false, log: true,
  },
];
/** Fields the schemas allow to be absent. */
const OPTIONAL = new Set(['overrides', 'start', 'reason', 'message', 'backend', 'error', 'groups', 'diagnosis']);

const snapshot = { version: 1, file: '/w/m.ts', output: 0, nodes: [], groups: [], backward: [], forward: [], diagnosis: [], maxElements: 4096, unusedNodes: 0 };
const HOST_BASES: HostMessage[] = [
  { type: 'snapshot', runId: 1, file: '/w/m.ts', fileName: 'm.ts', snapshot: snapshot as never },
  { type: 'running', file: '/w/m.ts', fileName: 'm.ts' },
  { type: 'errors', file: '/w/m.ts', fileName: 'm.ts', errors: [{ kind: 'runtime', message: 'boom', file: '/w/m.ts', line: 5, column: 11 }] },
  { type: 'untrusted', file: '/w/m.ts', fileName: 'm.ts' },
  { type: 'tensorData', requestId: 1, node: 2, which: 'value', data: Float64Array.of(1, 2), reason: 'x' },
  { type: 'command', command: 'fit' },
  { type: 'highlightLines', file: '/w/m.ts', lines: [3, 4] },
  { type: 'export', requestId: 4, format: 'png' },
  { type: 'trainProgress', runId: 1, progress: { step: 3, total: 10, history: [], layers: [], findings: [], stepsPerSecond: 3, paused: false } },
  { type: 'trainStatus', runId: 1, status: 'error', step: 2, total: 10, overrides: { lr: 0.1 }, message: 'NaN loss', backend: { kind: 'cpu', note: 'no GPU' } },
  { type: 'analysis', requestId: 2, result: null, error: { kind: 'runtime', message: 'boom', file: '/w/m.ts', line: null, column: null } },
  { type: 'trainGraph', runId: 1, step: 5, snapshot: snapshot as never },
  { type: 'gpuTrain', runId: 1, plan: { programs: [], params: [] } as never, paused: true, software: false },
  { type: 'gpuControl', runId: 1, action: 'resume' },
];

type Path = (string | number)[];

/** Every path to a value inside `v` that its schema checks (plain objects and arrays; typed arrays are leaves). */
function paths(v: unknown, maxDepth: number, prefix: Path = [], out: Path[] = []): Path[] {
  if (prefix.length >= maxDepth || typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return out;
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_x, i) => i) : Object.keys(v);
  for (const k of keys) {
    out.push([...prefix, k]);
    paths((v as Record<string | number, unknown>)[k], maxDepth, [...prefix, k], out);
  }
  return out;
}

function parentOf(root: unknown, path: Path): Record<string | number, unknown> {
  let v = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) v = v[k] as Record<string | number, unknown>;
  return v;
}

/** Replaces the values at 1–3 paths (deepest first) with invalid ones, or with throwing getters. */
function mutate(base: object, rnd: ReturnType<typeof generator>, maxDepth: number, clone: (b: object) => object): object {
  const m = clone(base);
  const all = paths(m, maxDepth);
  const chosen = Array.from({ length: 1 + rnd.int(3) }, () => rnd.pick(all)).sort((a, b) => b.length - a.length);
  for (const p of chosen) {
    const parent = parentOf(m, p);
    const key = p[p.length - 1];
    if (rnd.int(8) === 0) {
      const onObject = !Array.isArray(parent);
      Object.defineProperty(parent, key, { get: () => (onObject && objectGetterCalls++, boom()), enumerable: true, configurable: true });
    } else {
      Object.defineProperty(parent, key, { value: rnd.pick(INVALID)(String(key)), enumerable: true, configurable: true, writable: true });
    }
  }
  return m;
}

/** A valid message with a required field deleted. */
function withoutField(base: object, rnd: ReturnType<typeof generator>, clone: (b: object) => object): object | null {
  const m = clone(base) as Record<string, unknown>;
  const required = Object.keys(m).filter((k) => !OPTIONAL.has(k));
  if (required.length === 0) return null;
  delete m[rnd.pick(required)];
  return m;
}

/** A valid message with hostile extra fields: still valid, extras dropped and never read. */
function withHostileExtras(base: object, rnd: ReturnType<typeof generator>, clone: (b: object) => object): object {
  const m = clone(base) as Record<string | symbol, unknown>;
  m.__extra = rnd.pick(INVALID)('');
  m[Symbol('hidden')] = boom;
  Object.defineProperty(m, 'evil', { get: () => (objectGetterCalls++, boom()), enumerable: true });
  Object.defineProperty(m, 'constructor', { value: throwingProxy(), enumerable: true });
  if (rnd.int(2)) m.self = m;
  return m;
}

interface Tally {
  cases: number;
  failures: string[];
}

function expectRejected(parse: (m: unknown) => { ok: boolean; reason?: string }, m: unknown, label: string, tally: Tally): void {
  tally.cases++;
  let r: { ok: boolean; reason?: string };
  try {
    r = parse(m);
  } catch (err) {
    tally.failures.push(`${label}: threw ${String((err as Error)?.message ?? 'something')}`);
    return;
  }
  if (r.ok) tally.failures.push(`${label}: accepted`);
  else if (typeof r.reason !== 'string' || r.reason.length === 0) tally.failures.push(`${label}: rejected without a reason`);
}

function fuzz(direction: 'webview' | 'host', parse: (m: unknown) => { ok: boolean; reason?: string }, bases: readonly object[]): Tally {
  const rnd = generator(SEED + (direction === 'host' ? 1 : 0));
  // host messages: only their fields and the envelope are checked, so only the top level is mutated
  const maxDepth = direction === 'host' ? 1 : Infinity;
  const clone = direction === 'host' ? (b: object) => ({ ...b }) : (b: object) => structuredClone(b);
  const tally: Tally = { cases: 0, failures: [] };
  for (let i = 0; tally.cases < CASES; i++) {
    const label = `${direction} case ${i} (seed ${SEED})`;
    const roll = rnd.next();
    const base = rnd.pick(bases);
    if (roll < 0.6) expectRejected(parse, mutate(base, rnd, maxDepth, clone), `${label}, mutated ${(base as { type: string }).type}`, tally);
    else if (roll < 0.8) {
      const m = withoutField(base, rnd, clone);
      if (m) expectRejected(parse, m, `${label}, ${(base as { type: string }).type} without a field`, tally);
    } else expectRejected(parse, rnd.pick(JUNK)(), `${label}, junk`, tally);
    if (tally.failures.length >= 20) break;
  }
  return tally;
}

describe('protocol: the validators against 100,000 malformed messages each way', function () {
  this.timeout(600_000);

  const directions = [
    ['the host rejects every malformed webview message', 'webview', parseWebviewMessage, WEBVIEW_BASES],
    ['the webview rejects every malformed host message', 'host', parseHostMessage, HOST_BASES],
  ] as const;
  for (const [title, side, parser, bases] of directions) {
    it(`${title}, with a reason, and never throws`, () => {
      objectGetterCalls = 0;
      const t = fuzz(side, parser, bases);
      assert.deepEqual(t.failures, []);
      assert.equal(t.cases, CASES);
      assert.equal(objectGetterCalls, 0, 'a getter of a message ran');
    });
  }

  it('accepts valid messages with hostile extra fields, dropping them unread', () => {
    objectGetterCalls = 0;
    const rnd = generator(SEED + 2);
    for (let i = 0; i < 10_000; i++) {
      const webview = i % 2 === 0;
      const base = rnd.pick<object>(webview ? WEBVIEW_BASES : HOST_BASES);
      const m = withHostileExtras(base, rnd, webview ? structuredClone : (b) => ({ ...b }));
      const r = webview ? parseWebviewMessage(m) : parseHostMessage(m);
      assert.ok(r.ok, `case ${i} (${(base as { type: string }).type}): ${r.ok ? '' : r.reason}`);
      assert.deepEqual(r.message, base, `case ${i}: only the declared fields are kept`);
    }
    assert.equal(objectGetterCalls, 0, 'a getter of a message ran');
  });

  it('leaves Object.prototype as it was', () => {
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), [
      '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__', '__proto__', 'constructor', 'hasOwnProperty',
      'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'toString', 'valueOf',
    ]);
    const probe: Record<string, unknown> = {};
    assert.equal(probe.type, undefined);
    assert.equal(probe.line, undefined);
  });
});
