/**
 * The webview's HTML: one page, a strict Content-Security-Policy with a nonce, scripts and styles only
 * from `media/` (as webview URIs). Pure function of its inputs so the panel, the webview tests and the
 * standalone report build the same page.
 */
import { randomBytes } from 'node:crypto';

export interface WebviewHtmlOptions {
  /** `webview.cspSource` (the origin media URIs are served from). */
  cspSource: string;
  /** URIs (already converted with `asWebviewUri`) of the built files in media/. */
  scriptUri: string;
  styleUri: string;
  codiconsUri: string;
  /** URI of the layout worker script (media/layout-worker.js); worker-src is allowed for it. */
  layoutWorkerUri?: string;
  nonce?: string;
  title?: string;
}

export function makeNonce(): string {
  return randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `worker-src ${cspSource} blob:`,
    `connect-src ${cspSource}`,
  ].join('; ');
}

export function webviewHtml(o: WebviewHtmlOptions): string {
  const nonce = o.nonce ?? makeNonce();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(o.cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${esc(o.codiconsUri)}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${esc(o.styleUri)}">
<title>${esc(o.title ?? 'Backprop Lens')}</title>
</head>
<body data-layout-worker="${esc(o.layoutWorkerUri ?? '')}">
<div id="app" role="application" aria-label="Backprop Lens graph"></div>
<script nonce="${nonce}" src="${esc(o.scriptUri)}"></script>
</body>
</html>
`;
}
