/**
 * The only host-specific module. Inside VS Code it wraps `acquireVsCodeApi()`; elsewhere (the
 * standalone HTML report) posting goes nowhere and state lives in memory, so the same bundle runs
 * in both. Messages from the host are validated here (`parseHostMessage`): a malformed one is
 * dropped, and reported to the host once per message type.
 */
import { HOST_MESSAGE_TYPES, packTypedArrays, parseHostMessage, type HostMessage, type UiState, type WebviewMessage } from '../extension/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  // Provided by VS Code inside webviews; absent in a standalone report.
  // eslint-disable-next-line no-var
  var acquireVsCodeApi: (() => VsCodeApi) | undefined;
}

export interface Host {
  readonly kind: 'vscode' | 'standalone';
  post(message: WebviewMessage): void;
  /** The UI state saved before a reload (unvalidated: the caller checks it). */
  getState(): unknown;
  setState(state: UiState): void;
  /** Host messages arrive as `message` events on window (VS Code and the report both use that); only valid ones reach `handler`. */
  onMessage(handler: (message: HostMessage) => void): void;
}

/** The `type` of something that claims to be a protocol message, or null (other posters' messages are none of ours). */
function claimedType(data: unknown): string | null {
  try {
    if (typeof data !== 'object' || data === null) return null;
    const d = Object.getOwnPropertyDescriptor(data, 'type');
    return d && typeof d.value === 'string' ? d.value : null;
  } catch {
    return null;
  }
}

/**
 * Listens for host messages: valid ones go to `handler`; one that claims a `type` but is malformed
 * is dropped and reported through `report` (once per type: a flood of bad messages is one report).
 */
export function listenToHost(target: Pick<Window, 'addEventListener'>, handler: (m: HostMessage) => void, report: (message: WebviewMessage) => void): void {
  const reported = new Set<string>();
  target.addEventListener('message', (e: MessageEvent) => {
    const data: unknown = e.data;
    const type = claimedType(data);
    if (type === null) return;
    const r = parseHostMessage(data);
    if (r.ok) {
      handler(r.message);
      return;
    }
    const key = (HOST_MESSAGE_TYPES as readonly string[]).includes(type) ? type : '(unknown type)';
    if (reported.has(key)) return;
    reported.add(key);
    report({ type: 'error', message: `dropped a malformed message from the host: ${r.reason}`.slice(0, 2000) });
  });
}

export function createHost(): Host {
  if (typeof globalThis.acquireVsCodeApi === 'function') {
    const api = globalThis.acquireVsCodeApi();
    // one buffer per message: see packTypedArrays
    const post = (m: WebviewMessage) => api.postMessage(packTypedArrays(m));
    return {
      kind: 'vscode',
      post,
      getState: () => api.getState(),
      setState: (s) => api.setState(s),
      onMessage: (handler) => listenToHost(window, handler, post),
    };
  }
  let state: unknown = null;
  return {
    kind: 'standalone',
    post: () => undefined,
    getState: () => state,
    setState: (s) => { state = s; },
    // nobody to tell in a report: the console is the only place a reader could look
    onMessage: (handler) => listenToHost(window, handler, (m) => console.warn(m.type === 'error' ? m.message : m)),
  };
}
