/** Webview entry: build the app, listen for host messages, then say `ready`. */
performance.mark('bpl:script');
import { App } from './app';
import { createHost } from './host';
import { PANELS_CHANNEL, releaseServiceWorkerOnClose } from './serviceWorker';

const host = createHost();
const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
const app = new App(root, host);
host.onMessage((m) => {
  try {
    app.handle(m);
  } catch (err) {
    host.post({ type: 'error', message: `the panel failed on '${m.type}': ${String((err as Error)?.message ?? err)}` });
  }
});
performance.mark('bpl:ready');
host.post({ type: 'ready' });
if (host.kind === 'vscode') {
  try {
    releaseServiceWorkerOnClose({
      hostname: location.hostname,
      serviceWorker: navigator.serviceWorker,
      channel: () => new BroadcastChannel(PANELS_CHANNEL),
      onPageHide: (f) => addEventListener('pagehide', f),
      id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`,
    });
  } catch {
    // without these APIs the next panel opens as VS Code opens it
  }
}
