/**
 * A new panel skips VS Code's one-second service-worker swap (webview/serviceWorker.ts): the last of
 * our panels to close unregisters the registration, only on a webview origin of our own. Origins are
 * made here as VS Code makes them (sha-256 of the workbench origin and a salt, in base 32, 52
 * digits); the panels talk over a channel hub that delivers as BroadcastChannel does (to every other
 * channel of the origin, never to the sender).
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isOwnWebviewOrigin, releaseServiceWorkerOnClose } from '../../webview/serviceWorker';

/** VS Code's parentOriginHash (src/vs/workbench/common/webview.ts), as its webview index.html checks it. */
function webviewHost(parentOrigin: string, salt: string): string {
  const hex = createHash('sha256').update(JSON.stringify({ parentOrigin, salt })).digest('hex');
  return BigInt(`0x${hex}`).toString(32).padStart(52, '0');
}

class Hub {
  private readonly listeners = new Set<{ self: object; f: (e: { data: unknown }) => void }>();
  channel() {
    const self = {};
    return {
      postMessage: (data: unknown) => {
        for (const l of [...this.listeners]) if (l.self !== self) l.f({ data });
      },
      addEventListener: (_type: 'message', f: (e: { data: unknown }) => void) => void this.listeners.add({ self, f }),
    };
  }
}

/** A panel: its page-hide handler and how often it asked to unregister. */
function panel(hub: Hub, hostname: string, id: string) {
  let hide: (() => void) | null = null;
  const out = { unregistered: 0, asked: 0, hide: () => hide?.() };
  releaseServiceWorkerOnClose({
    hostname, id,
    channel: () => hub.channel(),
    onPageHide: (f) => (hide = f),
    serviceWorker: {
      getRegistration: () => {
        out.asked++;
        return { then: (ok: (r: unknown) => void) => ok({ unregister: () => (out.unregistered++, Promise.resolve(true)) }) } as unknown as Promise<{ unregister(): Promise<boolean> }>;
      },
    },
  });
  return out;
}

describe('the webview service-worker registration on closing the last panel', () => {
  const own = webviewHost('vscode-file://vscode-app', 'f6a1c3e0-5b2d-4c8e-9f7a-0d1e2c3b4a59');

  it('knows VS Code\'s per-webview-type origins from a shared one', () => {
    assert.equal(own.length, 52);
    for (const h of [own, `${own}.localhost`, `${own}.vscode-cdn.net`, webviewHost('https://vscode.dev', 'x')]) assert.ok(isOwnWebviewOrigin(h), h);
    for (const h of ['127.0.0.1', 'localhost', 'code.example.com', `${own.slice(1)}.localhost`, `${own}x.localhost`, own.toUpperCase(), '']) {
      assert.ok(!isOwnWebviewOrigin(h), h);
    }
  });

  it('a lone panel unregisters when it closes; a shared origin is left alone', () => {
    const hub = new Hub();
    const p = panel(hub, `${own}.localhost`, 'a');
    assert.equal(p.unregistered, 0, 'not while it is open');
    p.hide();
    assert.equal(p.unregistered, 1);
    const shared = panel(hub, '127.0.0.1', 'b');
    shared.hide();
    assert.equal(shared.asked + shared.unregistered, 0, 'on the workbench\'s origin it does not even look');
  });

  it('only the last of several panels unregisters, whichever opened first', () => {
    const hub = new Hub();
    const a = panel(hub, own, 'a');
    const b = panel(hub, own, 'b');
    const c = panel(hub, own, 'c');
    b.hide();
    a.hide();
    assert.equal(a.unregistered + b.unregistered, 0, 'another panel was still open');
    c.hide();
    assert.equal(c.unregistered, 1);
    // a panel opened after the others closed is alone again
    const d = panel(hub, own, 'd');
    d.hide();
    assert.equal(d.unregistered, 1);
  });

  it('a panel whose content is reloaded in place (the new frame starts before the old one goes) keeps the registration', () => {
    const hub = new Hub();
    const old = panel(hub, own, 'old');
    const fresh = panel(hub, own, 'new');
    old.hide();
    assert.equal(old.unregistered, 0, 'the new frame still loads through it');
    fresh.hide();
    assert.equal(fresh.unregistered, 1);
  });
});
