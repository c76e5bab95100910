/**
 * A new panel's first second (issue 14's latency). VS Code loads every webview through a service
 * worker that it registers under a URL carrying the webview's id. A webview type keeps one origin, so
 * the next panel of ours finds the last panel's registration, registers a different URL, and waits
 * for Chromium to swap the workers: when the outgoing worker had work in flight, Chromium delays the
 * swap by one second (ServiceWorkerRegistration::ActivateWaitingVersion(delay)). Without a
 * registration the next panel registers afresh in a few milliseconds.
 *
 * So the last of our panels to close unregisters the registration. Only where the origin is ours:
 * VS Code (desktop and vscode.dev) gives each extension's webview type an origin whose host starts
 * with a 52-character base-32 hash (its own index.html refuses any other host but the workbench's);
 * where webviews share the workbench's origin (code-server as shipped) the registration serves other
 * extensions' webviews too, and it is left alone. Our panels tell each other they are open on a
 * BroadcastChannel (one origin: only ours hear it); a panel that closes while another is open leaves
 * the registration to it (its content might still be reloaded through it).
 */

/** True when `hostname` is a per-webview-type origin of VS Code's (its first label a 52-digit base-32 hash). */
export function isOwnWebviewOrigin(hostname: string): boolean {
  return /^[0-9a-v]{52}$/.test(hostname.split('.')[0]);
}

/** The parts of the browser this needs (structural: the tests give their own). */
export interface ReleaseDeps {
  hostname: string;
  /** navigator.serviceWorker, where there is one. */
  serviceWorker: { getRegistration(): Promise<{ unregister(): Promise<boolean> } | undefined> } | undefined;
  /** A BroadcastChannel of this origin. */
  channel: () => { postMessage(message: unknown): void; addEventListener(type: 'message', f: (e: { data: unknown }) => void): void };
  onPageHide: (f: () => void) => void;
  id: string;
}

/** The channel our panels announce themselves on. */
export const PANELS_CHANNEL = 'backprop-lens-panels';

/** Arranges for the service-worker registration to be dropped when the last of our panels closes. */
export function releaseServiceWorkerOnClose(deps: ReleaseDeps): void {
  if (!deps.serviceWorker || !isOwnWebviewOrigin(deps.hostname)) return;
  const others = new Set<string>();
  let closed = false;
  const channel = deps.channel();
  channel.addEventListener('message', (e) => {
    if (closed) return;
    const data = e.data;
    if (typeof data !== 'object' || data === null) return;
    const { kind, id } = data as { kind?: unknown; id?: unknown };
    if (typeof id !== 'string' || id === deps.id) return;
    if (kind === 'open') {
      others.add(id);
      channel.postMessage({ kind: 'here', id: deps.id });
    } else if (kind === 'here') others.add(id);
    else if (kind === 'closed') others.delete(id);
  });
  channel.postMessage({ kind: 'open', id: deps.id });
  let registration: { unregister(): Promise<boolean> } | undefined;
  deps.serviceWorker.getRegistration().then((r) => (registration = r), () => undefined);
  deps.onPageHide(() => {
    closed = true;
    channel.postMessage({ kind: 'closed', id: deps.id });
    if (others.size === 0) registration?.unregister().catch(() => undefined);
  });
}
