/**
 * The standalone HTML report (`backprop-lens report FILE -o OUT.html`): the same webview bundle as the
 * panel, with the snapshot embedded, in ONE file that opens offline from file:// in any browser.
 *
 * Everything is inline: the webview CSS, the codicons (font as a data: URL), webview.js, the layout
 * worker's source and the snapshot. The page asks for nothing over the network; its CSP allows
 * scripts only by their sha256 hashes and styles by hash or nonce:
 *   - the layout worker's source sits in a JSON script element; a small bootstrap turns it into a
 *     blob: URL and puts that in `body[data-layout-worker]`, where the webview looks for its worker
 *     (it fetches the text and starts the worker from a blob, so connect-src and worker-src allow
 *     blob: only). If the browser refuses, the webview lays out on the main thread instead.
 *   - after the bundle has loaded, a second bootstrap delivers the embedded snapshot as the same
 *     `message` event VS Code would send, so the bundle needs no report-specific code.
 *   - the codicon stylesheet is a `<link id="vscode-codicon-stylesheet">` to a data: URL with a nonce:
 *     @vscode-elements' icons re-link that stylesheet (href and nonce) inside their shadow roots,
 *     which an inline `<style>` could not serve. A hash cannot allow a linked stylesheet; the nonce can.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { snapshotToJSON, type GraphSnapshot, type GraphSnapshotJSON } from '../engine/trace/snapshot';
import type { TrainResult } from '../engine/train/trainer';
import type { AnalysisRequest } from '../engine/check/analysis';
import type { InspectOutcome } from './runner/types';
import type { HostMessage } from './protocol';

export interface ReportOptions {
  /** The page title (plain text). */
  title: string;
  /** The folder with the built webview files (media/: webview.js, webview.css, layout-worker.js, codicons/). */
  mediaDir: string;
  /** A training file's whole run and the analyses after its last step (ModelRunner.reportRun): the training view shows them. */
  training?: { result: TrainResult; analyses: { request: AnalysisRequest; outcome: InspectOutcome }[] };
}

/** Light and dark colours for the --vscode-* variables the webview styles with (VS Code's Light/Dark Modern). */
const THEME_CSS = `:root{color-scheme:light dark;
--vscode-font-family:-apple-system,BlinkMacSystemFont,"Segoe WPC","Segoe UI",Ubuntu,"Droid Sans",sans-serif;--vscode-font-size:13px;--vscode-font-weight:normal;
--vscode-editor-font-family:ui-monospace,"SF Mono",Menlo,Consolas,"Droid Sans Mono","DejaVu Sans Mono",monospace;--vscode-editor-font-size:13px;
--vscode-editor-background:#ffffff;--vscode-editor-foreground:#3b3b3b;--vscode-foreground:#3b3b3b;--vscode-descriptionForeground:#717171;--vscode-errorForeground:#f85149;
--vscode-focusBorder:#005fb8;--vscode-editorWidget-background:#f8f8f8;--vscode-editorWidget-border:#c8c8c8;--vscode-panel-border:#e5e5e5;--vscode-widget-border:#e5e5e5;--vscode-sideBar-background:#f8f8f8;
--vscode-charts-foreground:#3b3b3b;--vscode-charts-red:#e51400;--vscode-charts-blue:#1a85ff;--vscode-charts-yellow:#bf8803;--vscode-charts-orange:#d18616;--vscode-charts-green:#388a34;--vscode-charts-purple:#652d90;
--vscode-button-background:#005fb8;--vscode-button-foreground:#ffffff;--vscode-button-hoverBackground:#0258a8;--vscode-button-border:rgba(0,0,0,.1);
--vscode-button-secondaryBackground:#e5e5e5;--vscode-button-secondaryForeground:#3b3b3b;--vscode-button-secondaryHoverBackground:#cccccc;--vscode-icon-foreground:#424242;
--vscode-toolbar-hoverBackground:rgba(184,184,184,.31);--vscode-toolbar-activeBackground:rgba(166,166,166,.31);
--vscode-input-background:#ffffff;--vscode-input-foreground:#3b3b3b;--vscode-input-border:#cecece;--vscode-input-placeholderForeground:#767676;
--vscode-inputOption-activeBackground:rgba(190,214,237,.6);--vscode-inputOption-activeBorder:#005fb8;--vscode-inputOption-activeForeground:#000000;
--vscode-inputValidation-errorBackground:#f2dede;--vscode-inputValidation-errorBorder:#be1100;--vscode-inputValidation-warningBackground:#f6f5d2;--vscode-inputValidation-warningBorder:#bf8803;
--vscode-textLink-foreground:#005fb8;--vscode-textCodeBlock-background:#f8f8f8;--vscode-progressBar-background:#005fb8;
--vscode-editorWarning-foreground:#bf8803;--vscode-editorError-foreground:#e51400;--vscode-editorInfo-foreground:#1a85ff}
@media (prefers-color-scheme:dark){:root{
--vscode-editor-background:#1f1f1f;--vscode-editor-foreground:#cccccc;--vscode-foreground:#cccccc;--vscode-descriptionForeground:#9d9d9d;--vscode-errorForeground:#f85149;
--vscode-focusBorder:#0078d4;--vscode-editorWidget-background:#202020;--vscode-editorWidget-border:#454545;--vscode-panel-border:#2b2b2b;--vscode-widget-border:#313131;--vscode-sideBar-background:#181818;
--vscode-charts-foreground:#cccccc;--vscode-charts-red:#f14c4c;--vscode-charts-blue:#3794ff;--vscode-charts-yellow:#cca700;--vscode-charts-orange:#d18616;--vscode-charts-green:#89d185;--vscode-charts-purple:#b180d7;
--vscode-button-background:#0078d4;--vscode-button-foreground:#ffffff;--vscode-button-hoverBackground:#026ec1;--vscode-button-border:rgba(255,255,255,.07);
--vscode-button-secondaryBackground:#313131;--vscode-button-secondaryForeground:#cccccc;--vscode-button-secondaryHoverBackground:#3c3c3c;--vscode-icon-foreground:#cccccc;
--vscode-toolbar-hoverBackground:rgba(90,93,94,.31);--vscode-toolbar-activeBackground:rgba(99,102,103,.31);
--vscode-input-background:#313131;--vscode-input-foreground:#cccccc;--vscode-input-border:#3c3c3c;--vscode-input-placeholderForeground:#989898;
--vscode-inputOption-activeBackground:rgba(36,137,219,.51);--vscode-inputOption-activeBorder:#2488db;--vscode-inputOption-activeForeground:#ffffff;
--vscode-inputValidation-errorBackground:#5a1d1d;--vscode-inputValidation-errorBorder:#be1100;--vscode-inputValidation-warningBackground:#352a05;--vscode-inputValidation-warningBorder:#b89500;
--vscode-textLink-foreground:#4daafc;--vscode-textCodeBlock-background:#2b2b2b;--vscode-progressBar-background:#0078d4;
--vscode-editorWarning-foreground:#cca700;--vscode-editorError-foreground:#f14c4c;--vscode-editorInfo-foreground:#3794ff}}`;

/** Runs before the bundle: the layout worker's source becomes a blob: URL the webview can fetch and start. */
const WORKER_BOOTSTRAP = `(function(){try{var e=document.getElementById("layout-worker-src");if(!e)return;` +
  `var src=JSON.parse(e.textContent||'""');if(typeof src!=="string"||!src)return;` +
  `document.body.dataset.layoutWorker=URL.createObjectURL(new Blob([src],{type:"text/javascript"}))}catch(_){}})();`;

/** Runs after the bundle: the class VS Code would put on body, then the embedded snapshot as a host message. */
const SNAPSHOT_BOOTSTRAP = `(function(){var dark=window.matchMedia&&window.matchMedia("(prefers-color-scheme: dark)");` +
  `function theme(){var d=!!(dark&&dark.matches);document.body.classList.toggle("vscode-dark",d);document.body.classList.toggle("vscode-light",!d);` +
  `document.body.dataset.vscodeThemeKind=d?"vscode-dark":"vscode-light"}theme();if(dark&&dark.addEventListener)dark.addEventListener("change",theme);` +
  `var m=JSON.parse(document.getElementById("messages").textContent);` +
  `for(var i=0;i<m.length;i++)window.dispatchEvent(new MessageEvent("message",{data:m[i]}))})();`;

const escAttr = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const escText = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
/** JSON that is safe inside a `<script>` element: no `<` at all (so no `</script`, no `<!--`). */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
const stripSourceMap = (text: string) => text.replace(/\n?\/[/*][#@] sourceMappingURL=[^\n]*\s*$/, '');

/** The text of an inline `<script>`/`<style>` element; refuses text the HTML parser would cut short. */
function inlineText(text: string, tag: 'script' | 'style', what: string): string {
  // In JS, `</script` can only occur inside strings, templates, regexes and comments, where `<\/` means the same.
  const out = tag === 'script' ? text.replace(/<\/(script)/gi, '<\\/$1') : text;
  if (new RegExp(`</${tag}`, 'i').test(out) || (tag === 'script' && /<!--/.test(out))) {
    throw new Error(`${what} contains text that cannot be inlined in a <${tag}> element`);
  }
  return out;
}

function readMedia(mediaDir: string, rel: string, encoding: 'utf8'): string;
function readMedia(mediaDir: string, rel: string): Buffer;
function readMedia(mediaDir: string, rel: string, encoding?: 'utf8'): string | Buffer {
  const file = path.join(mediaDir, rel);
  try {
    return encoding ? fs.readFileSync(file, encoding) : fs.readFileSync(file);
  } catch {
    throw new Error(`${file} is missing: build the webview first (npm run build)`);
  }
}

/** Paths relative to the model's folder: a shared report does not reveal where the author keeps files. */
function relativeTo(file: string): (f: string) => string {
  const dir = path.dirname(file);
  return (f: string) => path.relative(dir, f).split(path.sep).join('/') || path.basename(f);
}

type Located = { source: { file: string } | null };
const relSources = <T extends Located>(list: readonly T[], rel: (f: string) => string): T[] =>
  list.map((d) => (d.source ? { ...d, source: { ...d.source, file: rel(d.source.file) } } : d));

function shareable(s: GraphSnapshotJSON, report: boolean): GraphSnapshotJSON {
  const rel = relativeTo(s.file);
  return {
    ...s,
    file: path.basename(s.file),
    nodes: relSources(s.nodes as (GraphSnapshotJSON['nodes'][number] & Located)[], rel),
    diagnosis: relSources(s.diagnosis, rel),
    ...(report && s.training ? { training: { ...s.training, report: true } } : {}),
  };
}

/**
 * What the page shows, as the host messages VS Code would send: the graph; for a training file
 * also its whole run (as one progress report and the final status) and the analyses after it.
 */
function reportMessages(snapshot: GraphSnapshot, o: ReportOptions): unknown[] {
  const json = shareable(snapshotToJSON(snapshot), !!o.training);
  const messages: unknown[] = [{ type: 'snapshot', runId: 1, file: json.file, fileName: json.file, snapshot: json }];
  const t = o.training;
  if (!t) return messages;
  const rel = relativeTo(snapshot.file);
  const r = t.result;
  const total = snapshot.training?.steps ?? r.steps;
  const progress: Extract<HostMessage, { type: 'trainProgress' }> = {
    type: 'trainProgress', runId: 1,
    progress: { step: r.steps, total, history: r.history, layers: r.layers, findings: relSources(r.diagnosis, rel), stepsPerSecond: 0, paused: false },
  };
  const status: Extract<HostMessage, { type: 'trainStatus' }> = {
    type: 'trainStatus', runId: 1, status: r.stoppedEarly ? 'stopped' : 'done', step: r.steps, total, overrides: {},
    ...(r.stoppedEarly ? { message: r.stoppedEarly } : {}),
  };
  const analyses: Extract<HostMessage, { type: 'analyses' }> = {
    type: 'analyses',
    answers: t.analyses.map(({ request, outcome }) => outcome.ok
      ? { kind: request.kind, result: 'result' in outcome ? outcome.result : null }
      : { kind: request.kind, result: null, error: { ...outcome.error, file: rel(outcome.error.file), stack: undefined } }),
  };
  messages.push(progress, status, analyses);
  return messages;
}

/** One self-contained, offline HTML page that shows `snapshot` with the webview bundle. */
export function reportHtml(snapshot: GraphSnapshot, o: ReportOptions): string {
  const webviewJs = inlineText(stripSourceMap(readMedia(o.mediaDir, 'webview.js', 'utf8')), 'script', 'webview.js');
  const webviewCss = inlineText(stripSourceMap(readMedia(o.mediaDir, 'webview.css', 'utf8')), 'style', 'webview.css');
  const workerJs = stripSourceMap(readMedia(o.mediaDir, 'layout-worker.js', 'utf8'));
  const font = readMedia(o.mediaDir, 'codicons/codicon.ttf').toString('base64');
  const codiconCss = readMedia(o.mediaDir, 'codicons/codicon.css', 'utf8').replace(/url\((["']?)[^)"']*codicon\.ttf[^)"']*\1\)/g, `url("data:font/ttf;base64,${font}")`);
  if (!codiconCss.includes('data:font/ttf;base64,')) throw new Error('codicon.css: the font reference was not found');
  const codiconHref = `data:text/css;base64,${Buffer.from(codiconCss, 'utf8').toString('base64')}`;

  const nonce = randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '');
  const styles = [THEME_CSS, webviewCss];
  const scripts = [WORKER_BOOTSTRAP, webviewJs, SNAPSHOT_BOOTSTRAP];
  const csp = [
    "default-src 'none'",
    `script-src ${scripts.map(sha256).join(' ')}`,
    `style-src ${styles.map(sha256).join(' ')} 'nonce-${nonce}'`,
    'img-src data: blob:',
    'font-src data:',
    'worker-src blob:',
    // the webview fetches the worker source from its blob: URL; nothing else is fetched
    'connect-src blob:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="Backprop Lens">
<title>${escText(o.title)}</title>
<link rel="stylesheet" id="vscode-codicon-stylesheet" nonce="${nonce}" href="${codiconHref}">
<style>${styles[0]}</style>
<style>${styles[1]}</style>
</head>
<body data-layout-worker="" class="vscode-light">
<div id="app" role="application" aria-label="Backprop Lens graph"></div>
<script type="application/json" id="messages">${scriptJson(reportMessages(snapshot, o))}</script>
<script type="application/json" id="layout-worker-src">${scriptJson(workerJs)}</script>
<script>${scripts[0]}</script>
<script>${scripts[1]}</script>
<script>${scripts[2]}</script>
</body>
</html>
`;
}
