/**
 * The webview validates what the host sends (webview/host.ts): a malformed message is dropped and
 * reported to the host once per message type, the panel keeps working, and nothing throws.
 * `npm run test:webview` (builds first).
 */
import * as assert from 'node:assert/strict';
import { buildSnapshot } from '../../engine/trace/snapshot';
import { trace } from '../../engine/trace/tracer';
import { scalar } from '../../engine';
import { usePanels, type PanelPage } from './harness';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;

/** Posts `m` to the page as the host would, without the harness's typing or conversions. */
const postRaw = (p: PanelPage, m: unknown) => p.page.evaluate((msg: unknown) => window.postMessage(msg, '*'), m);
const errors = async (p: PanelPage) => (await p.posted()).filter((m) => m.type === 'error').map((m) => (m as { message: string }).message);

describe('webview: messages from the host are validated', function () {
  const panel = usePanels();

  it('drops malformed host messages, reports each type once, and goes on drawing valid ones', async () => {
    const p = await panel();
    let line = 0;
    const { result } = trace(() => scalar(2).named('a').mul(scalar(3).named('b')).named('c'), { locate: () => ({ file: '/w/m.ts', line: ++line, column: 1 }) });
    const snapshot = buildSnapshot(result, { file: '/w/m.ts' });

    await postRaw(p, { hello: 'not a protocol message' }); // someone else's message: ignored silently
    await postRaw(p, { type: 'snapshot', runId: 1, file: '/w/m.ts', fileName: 'm.ts', snapshot: { file: '/w/m.ts', nodes: 'all of them', backward: [], forward: [] } });
    await postRaw(p, { type: 'snapshot', runId: 1, file: '/w/m.ts', fileName: 'm.ts' });
    await postRaw(p, { type: 'command', command: 'selfDestruct' });
    await postRaw(p, { type: 'openExternal', url: 'https://example.com' });
    await postRaw(p, { type: 'highlightLines', file: '/w/m.ts', lines: new Array(200_000).fill(1) });
    await p.showSnapshot(snapshot, 7);
    assert.equal(await p.page.$$eval('g.node', (els: unknown[]) => els.length), 3, 'the valid snapshot after the bad ones is drawn');

    const reported = await errors(p);
    assert.equal(reported.length, 4, reported.join('\n'));
    assert.ok(reported.every((m) => m.startsWith('dropped a malformed message from the host: ')), reported.join('\n'));
    assert.match(reported[0], /snapshot\.snapshot\.nodes: expected an array/);
    assert.match(reported[1], /command\.command: expected one of/);
    assert.match(reported[2], /unknown type "openExternal"/);
    assert.match(reported[3], /highlightLines\.lines: expected an array of at most 100000 items, got 200000/);
    assert.deepEqual(p.consoleErrors, []);
    // the reports were the point of this test: the suite's check for panel errors need not see them
    await p.page.evaluate(() => { window.__posted = window.__posted.filter((m: { type: string }) => m.type !== 'error'); });
  });
});
