/**
 * The only host-specific module. Inside VS Code it wraps `acquireVsCodeApi()`; elsewhere (the
 * standalone HTML report) posting goes nowhere and state lives in memory, so the same bundle runs
 * in both.
 */
import { packTypedArrays, type HostMessage, type UiState, type WebviewMessage } from '../extension/protocol';

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
  /** Host messages arrive as `message` events on window (VS Code and the report both use that). */
  onMessage(handler: (message: HostMessage) => void): void;
}

export function createHost(): Host {
  const onMessage = (handler: (m: HostMessage) => void) => {
    window.addEventListener('message', (e: MessageEvent) => {
      const data: unknown = e.data;
      if (typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string') handler(data as HostMessage);
    });
  };
  if (typeof globalThis.acquireVsCodeApi === 'function') {
    const api = globalThis.acquireVsCodeApi();
    return {
      kind: 'vscode',
      // one buffer per message: see packTypedArrays
      post: (m) => api.postMessage(packTypedArrays(m)),
      getState: () => api.getState(),
      setState: (s) => api.setState(s),
      onMessage,
    };
  }
  let state: unknown = null;
  return {
    kind: 'standalone',
    post: () => undefined,
    getState: () => state,
    setState: (s) => { state = s; },
    onMessage,
  };
}
