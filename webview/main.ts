/** Webview entry: build the app, listen for host messages, then say `ready`. */
performance.mark('bpl:script');
import { App } from './app';
import { createHost } from './host';

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
