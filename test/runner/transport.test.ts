/**
 * Tensors through VS Code's postMessage. VS Code sends a webview message's ArrayBuffers as the
 * arguments of one RPC call and writes the argument count in one byte (`writeMixedArray` in
 * code-server 4.100.3's extensionHostProcess.js), so a message with more than 253 buffers loses the
 * rest: they arrive as empty arrays. `throughVsCode` models exactly that (serializeWebviewMessage →
 * RPC → deserializeWebviewMessage); the e2e suite checks the same in real VS Code.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { packTypedArrays, type HostMessage } from '../../extension/protocol';
import { limitSnapshot } from '../../extension/snapshotView';
import type { GraphSnapshot } from '../../engine/trace/snapshot';
import { ROOT, useRunner } from './helpers';

type Ref = { $$ref: number; type: string; byteOffset: number; byteLength: number };
const CTORS: Record<string, new (b: ArrayBuffer | undefined, o: number, n: number) => ArrayBufferView & { BYTES_PER_ELEMENT: number }> = {
  Float64Array: Float64Array as never, Float32Array: Float32Array as never, Int32Array: Int32Array as never, Uint8Array: Uint8Array as never,
};

function throughVsCode<T>(message: T): { message: T; buffers: number } {
  const buffers: ArrayBufferLike[] = [];
  const json = JSON.stringify(message, (_k, v) => {
    if (!ArrayBuffer.isView(v)) return v;
    let index = buffers.indexOf(v.buffer);
    if (index < 0) index = buffers.push(v.buffer) - 1;
    return { $$ref: index, type: v.constructor.name, byteOffset: v.byteOffset, byteLength: v.byteLength } satisfies Ref;
  });
  // the RPC call's arguments: the webview handle, the JSON, then one per buffer; the count is a byte
  const arrived = buffers.slice(0, Math.max(0, ((2 + buffers.length) & 0xff) - 2)).map((b) => (b as ArrayBuffer).slice(0));
  const out = JSON.parse(json, (_k, v) => {
    if (!v || typeof v !== 'object' || !('$$ref' in v)) return v;
    const r = v as Ref;
    const C = CTORS[r.type];
    return new C(arrived[r.$$ref], r.byteOffset, r.byteLength / (C as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT);
  }) as T;
  return { message: out, buffers: buffers.length };
}

function payloads(s: GraphSnapshot): (Float64Array | null)[] {
  const out: (Float64Array | null)[] = [];
  for (const n of s.nodes) out.push(n.value, n.grad);
  for (const st of s.backward) {
    out.push(st.upstreamGrad);
    for (const i of st.inputs) out.push(typeof i.localGrad === 'number' ? null : i.localGrad, i.contribution, i.accumulatedGrad, i.previousGrad);
  }
  return out;
}

describe('typed arrays through VS Code postMessage', () => {
  const runner = useRunner();

  it('packTypedArrays puts every typed array of a message into one buffer, keeping types, values and shared identity', () => {
    const a = new Float64Array([1, NaN, -Infinity]);
    const msg = { type: 'x', list: [a, a, new Float32Array([0.5]), { deep: new Int32Array([7, -8]) }], n: 3, s: 'text', none: null };
    const packed = packTypedArrays(msg);
    assert.deepEqual(packed, msg);
    assert.equal(packed.list[0], packed.list[1], 'one array referenced twice stays one view');
    assert.ok(packed.list[2] instanceof Float32Array && (packed.list[3] as { deep: Int32Array }).deep instanceof Int32Array);
    const { message, buffers } = throughVsCode(packed);
    assert.equal(buffers, 1);
    assert.deepEqual(message, msg);
    assert.equal(msg.list[0], a, 'the original message is not changed');
  });

  it("the deep tanh example's snapshot (float64, ~300 tensors) arrives whole only when packed", async function () {
    this.timeout(60_000);
    const out = await runner().run(path.join(ROOT, 'examples', '05-deep-tanh-vanishing.ts'));
    assert.ok(out.ok, out.ok ? '' : out.errors[0].message);
    // each payload in a buffer of its own, as the engine makes them (the IPC from the model process
    // may hand them over as views of the message it came in: a message the host must not count on)
    const own = (v: unknown): unknown => (v instanceof Float64Array ? Float64Array.from(v) : Array.isArray(v) ? v.map(own) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, own(x)])) : v);
    const snapshot = own(limitSnapshot(out.snapshot, 4096)) as GraphSnapshot;
    const sent: HostMessage = { type: 'snapshot', runId: 1, file: 'f', fileName: 'f', snapshot };
    const want = payloads(snapshot);
    assert.ok(want.filter(Boolean).length > 255, `${want.filter(Boolean).length} payloads: enough to overflow the argument count`);
    const raw = throughVsCode(sent).message as Extract<HostMessage, { type: 'snapshot' }>;
    assert.ok(payloads(raw.snapshot).some((p, i) => want[i] && p!.length !== want[i]!.length), 'unpacked, payloads are lost (the defect this guards)');
    const got = payloads((throughVsCode(packTypedArrays(sent)).message as typeof raw).snapshot);
    got.forEach((p, i) => assert.deepEqual(p, want[i], `payload ${i}`));
  });
});
