/**
 * One graph panel per model file: runs the model (through the runner, in a worker), feeds the
 * webview, answers its messages, and keeps diagnostics and inline values in step with the last run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SNAPSHOT_VERSION, snapshotToJSON, type GraphSnapshot } from '../engine/trace/snapshot';
import { isTrainingLog } from './modelFiles';
import { BACKEND_SETTINGS, packTypedArrays, parseWebviewMessage, type BackendSetting, type HostMessage, type PanelCommand, type WebviewMessage } from './protocol';
import { isPythonFile, type ModelRunner } from './runner/runner';
import { pythonFor } from './pythonEnv';
import { readWatchLog } from '../engine/train/watch';
import type { PythonInfo } from './runner/python';
import type { RunError, RunOutcome } from './runner/types';
import { limitSnapshot } from './snapshotView';
import { TrainingSession } from './training';
import { webviewHtml } from './webviewHtml';

/** How long a reveal waits for the click's focus to be reported, and how late that focus is still taken back. */
const REFOCUS_MS = 1500;

export const VIEW_TYPE = 'backpropLens.graph';
/** Tensors up to this size travel with the snapshot; larger ones are fetched on demand. */
export const WEBVIEW_MAX_ELEMENTS = 4096;
/** The host keeps values up to this size for on-demand fetches (larger: summaries only). */
export const HOST_MAX_ELEMENTS = 1 << 20;

export interface PanelServices {
  context: vscode.ExtensionContext;
  runner: ModelRunner;
  output: vscode.OutputChannel;
  diagnostics: vscode.DiagnosticCollection;
  /** Called after every run so decorations and hovers can follow. */
  onRun(panel: GraphPanel): void;
  onDispose(panel: GraphPanel): void;
  onFocus(panel: GraphPanel): void;
}

export class GraphPanel {
  snapshot: GraphSnapshot | null = null;
  /** The file's own graph from its last trace (the snapshot above may be a training step's since). */
  private traced: GraphSnapshot | null = null;
  lastErrors: RunError[] = [];
  /** Every file the last bundle read (the model and its relative imports): re-trace triggers, reveal targets. */
  files = new Set<string>();
  private runId = 0;
  private running: Promise<void> | null = null;
  /** What the current run traces: its unsaved text, or the file on disk as of its modification time. */
  private runningKey: string | null = null;
  private rerunRequested = false;
  /** Aborted when the panel closes: its trace's model process ends at once. */
  private readonly closing = new AbortController();
  private ready = false;
  private queue: HostMessage[] = [];
  private pendingExports = new Map<number, (data: { format: 'svg' | 'png'; data: string } | null) => void>();
  private nextExportId = 1;
  private disposed = false;
  /** The Python that traced this PyTorch file last (Train runs the script with it). */
  private python: PythonInfo | undefined;
  private lastReveal: { editor: vscode.TextEditor; at: number } | null = null;
  /** Set while a reveal waits for the webview's focus (from the same click) to be reported. */
  private onActive: (() => void) | null = null;
  /** Fixes of the gradient-health findings shown as diagnostics, by `file:line:code` (for Quick Fixes). */
  private readonly fixes = new Map<string, { id: string; title: string }[]>();
  private readonly subscriptions: vscode.Disposable[] = [];
  readonly training: TrainingSession;

  constructor(
    readonly file: string,
    readonly panel: vscode.WebviewPanel,
    private readonly services: PanelServices,
  ) {
    this.files.add(file);
    this.training = new TrainingSession({
      runner: services.runner, file,
      post: (m) => this.post(m),
      log: (line) => services.output.appendLine(line),
      trusted: () => vscode.workspace.isTrusted,
      graph: (runId, step, snapshot) => this.showTrainingGraph(runId, step, snapshot),
      graphReset: () => this.showTracedGraph(),
      backend: () => {
        const v = vscode.workspace.getConfiguration('backpropLens', vscode.Uri.file(file)).get<string>('backend', 'auto');
        return (BACKEND_SETTINGS as readonly string[]).includes(v) ? (v as BackendSetting) : 'auto';
      },
      options: () => {
        const cfg = vscode.workspace.getConfiguration('backpropLens', vscode.Uri.file(file));
        return { timeoutMs: cfg.get<number>('timeoutMs', 10000), memoryMb: cfg.get<number>('memoryLimitMb', 2048), contents: this.unsavedText(), python: this.python };
      },
      progress: (title, work) => {
        // the status bar, not a notification: it would cover the panel's charts; the panel's Pause and Reset cancel
        void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title, cancellable: true }, (progress, token) => {
          let last = 0;
          return work((step, total) => {
            const pct = total ? (100 * step) / total : 0;
            progress.report({ increment: pct - last, message: total ? `step ${step} / ${total}` : `step ${step}` });
            last = pct;
          }, (f) => token.onCancellationRequested(f));
        });
      },
    });
    const media = vscode.Uri.joinPath(services.context.extensionUri, 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [media] };
    panel.iconPath = vscode.Uri.joinPath(services.context.extensionUri, 'media', 'icon.svg');
    const uri = (...p: string[]) => panel.webview.asWebviewUri(vscode.Uri.joinPath(media, ...p)).toString();
    panel.webview.html = webviewHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: uri('webview.js'), styleUri: uri('webview.css'), codiconsUri: uri('codicons', 'codicon.css'),
      layoutWorkerUri: uri('layout-worker.js'), title: `Graph: ${path.basename(file)}`,
    });
    this.subscriptions.push(
      panel.webview.onDidReceiveMessage((raw) => this.receive(raw)),
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => {
        if (!panel.active) return;
        services.onFocus(this);
        if (this.onActive) {
          this.onActive();
          return;
        }
        // The click that asked to reveal a line also focused the webview; if that focus lands after
        // the editor was shown, give the editor its focus back (the user asked to see the code).
        const r = this.lastReveal;
        if (r && Date.now() - r.at < REFOCUS_MS) {
          this.lastReveal = null;
          void vscode.window.showTextDocument(r.editor.document, { viewColumn: r.editor.viewColumn ?? vscode.ViewColumn.One, selection: r.editor.selection, preserveFocus: false });
        }
      }),
    );
  }

  get fileName(): string {
    return path.basename(this.file);
  }

  post(m: HostMessage): void {
    if (this.disposed) return;
    if (!this.ready) {
      // keep only the latest message of each kind until the webview says it is ready (progress is appended data: keep all)
      this.queue = this.queue.filter((q) => q.type !== m.type || m.type === 'tensorData' || m.type === 'trainProgress');
      this.queue.push(m);
      return;
    }
    this.send(m);
  }

  /** The one place messages leave for the webview (typed arrays packed: see packTypedArrays). */
  private send(m: HostMessage): void {
    void this.panel.webview.postMessage(packTypedArrays(m));
  }

  command(command: PanelCommand): void {
    this.post({ type: 'command', command });
  }

  /**
   * Runs the model: the editor's unsaved text when the file is open with changes (the text the user
   * sees; Re-run and a retrace while typing alike), else the file on disk. A request while a run of
   * the same text is going joins it (Show Graph twice runs once); one for other text (typed since,
   * or saved since: the file's modification time) runs right after it, with the latest text.
   */
  run(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    const contents = this.unsavedText();
    const key = contents !== undefined ? `unsaved:${contents}` : `disk:${modified(this.file)}`;
    if (this.running) {
      if (key !== this.runningKey) this.rerunRequested = true;
      return this.running;
    }
    this.runningKey = key;
    this.running = this.runOnce(contents).finally(() => {
      this.running = null;
      this.runningKey = null;
      if (this.rerunRequested && !this.disposed) {
        this.rerunRequested = false;
        void this.run();
      }
    });
    return this.running;
  }

  /** The model file's text in an editor with unsaved changes, if there is one. */
  private unsavedText(): string | undefined {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === this.file);
    return doc?.isDirty ? doc.getText() : undefined;
  }

  private async runOnce(contents?: string): Promise<void> {
    const { output } = this.services;
    if (isTrainingLog(this.file)) {
      this.showLog();
      return;
    }
    if (!vscode.workspace.isTrusted) {
      this.post({ type: 'untrusted', file: this.file, fileName: this.fileName });
      output.appendLine(`[${this.fileName}] Restricted Mode: model code does not run in an untrusted workspace.`);
      return;
    }
    const runId = ++this.runId;
    this.post({ type: 'running', file: this.file, fileName: this.fileName });
    const cfg = vscode.workspace.getConfiguration('backpropLens', vscode.Uri.file(this.file));
    let python: PythonInfo | undefined;
    if (isPythonFile(this.file)) {
      try {
        python = this.python = await pythonFor(this.file);
        output.appendLine(`[${this.fileName}] PyTorch ${python.torch} · ${python.executable} (Python ${python.version}, from ${python.source})`);
      } catch (err) {
        if (this.disposed || runId !== this.runId) return;
        const errors: RunError[] = [{ kind: 'settings', file: this.file, line: null, column: null, message: String((err as Error).message) }];
        this.lastErrors = errors;
        output.appendLine(`[${this.fileName}] ${errors[0].message}`);
        this.post({ type: 'errors', file: this.file, fileName: this.fileName, errors });
        return;
      }
    }
    const outcome: RunOutcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `Backprop Lens: tracing ${this.fileName}` },
      () => this.services.runner.run(this.file, {
        python,
        contents,
        timeoutMs: cfg.get<number>('timeoutMs', 10000),
        memoryMb: cfg.get<number>('memoryLimitMb', 2048),
        maxNodes: cfg.get<number>('maxNodes', 20000),
        maxElements: HOST_MAX_ELEMENTS,
        signal: this.closing.signal,
        onLog: (l) => output.appendLine(`[${this.fileName}] ${l.text}`),
      }),
    );
    if (this.disposed || runId !== this.runId) return;
    for (const f of outcome.files) this.files.add(f);
    const ms = `${Math.round(outcome.timings.bundleMs)} ms bundle, ${Math.round(outcome.timings.runMs)} ms run`;
    if (outcome.ok) {
      outcome.snapshot.sourceHash = textHash(contents ?? readText(this.file));
      this.snapshot = this.traced = outcome.snapshot;
      this.lastErrors = [];
      output.appendLine(`[${this.fileName}] traced ${outcome.snapshot.nodes.length} nodes (${ms})`);
      this.post({ type: 'snapshot', runId, file: this.file, fileName: this.fileName, snapshot: limitSnapshot(outcome.snapshot, WEBVIEW_MAX_ELEMENTS) });
    } else {
      this.lastErrors = outcome.errors;
      for (const e of outcome.errors) output.appendLine(`[${this.fileName}] ${e.kind} error${e.line ? ` at ${path.basename(e.file)}:${e.line}` : ''}: ${e.message}${e.stack ? `\n${e.stack}` : ''}`);
      this.post({ type: 'errors', file: this.file, fileName: this.fileName, errors: outcome.errors });
    }
    this.updateDiagnostics(outcome);
    this.services.onRun(this);
  }

  /**
   * A training log (watch(model, log_dir=…)): its records read afresh (Re-run follows a log that is
   * still growing), shown in the training view as a finished run; there is no graph. Reading a
   * log runs no code, so it is shown in Restricted Mode too.
   */
  private showLog(): void {
    const { output } = this.services;
    const runId = ++this.runId;
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      const errors: RunError[] = [{ kind: 'runtime', file: this.file, line: null, column: null, message: `The training log cannot be read: ${(err as Error).message}` }];
      this.lastErrors = errors;
      this.post({ type: 'errors', file: this.file, fileName: this.fileName, errors });
      return;
    }
    const { run, problems } = readWatchLog(text);
    for (const p of problems.slice(0, 5)) output.appendLine(`[${this.fileName}] ${p}`);
    const start = run.start;
    const steps = run.end?.steps ?? run.history[run.history.length - 1]?.step ?? run.layers[run.layers.length - 1]?.step ?? 0;
    const snapshot: GraphSnapshot = {
      version: SNAPSHOT_VERSION, file: this.file, output: 0, nodes: [], groups: [], backward: [], forward: [],
      diagnosis: run.findings, maxElements: 0, unusedNodes: 0, layers: run.layers[run.layers.length - 1]?.layers ?? [],
      training: { optimizer: { optimizer: 'pytorch' }, schedule: 'as in the script', steps, batchSize: null, seed: 0, dataset: null, watched: true, log: true },
      ...(start ? { runtime: { kind: 'pytorch' as const, torch: start.torch, python: start.python.executable, pythonVersion: start.python.version } } : {}),
    };
    this.snapshot = snapshot;
    this.lastErrors = [];
    output.appendLine(`[${this.fileName}] training log: ${steps} steps${start ? ` of ${start.model} (${start.file})` : ''}, ${run.layers.length} logged steps${run.end ? `, ${run.end.reason}` : ', still running or cut short'}`);
    this.post({ type: 'snapshot', runId, file: this.file, fileName: this.fileName, snapshot });
    this.post({ type: 'trainProgress', runId, progress: { step: steps, total: steps, history: run.history, layers: run.layers, findings: run.findings, stepsPerSecond: 0, paused: false } });
    this.post({ type: 'trainStatus', runId, status: run.end && run.end.reason !== 'finished' ? 'stopped' : 'done', step: steps, total: steps, overrides: {}, message: run.end ? (run.end.reason === 'finished' ? undefined : run.end.reason) : 'the log has no end record: the run is still going, or was cut short' });
  }

  /**
   * The graph follows a training run: the traced step at the current parameters becomes the panel's
   * graph (inspector fetches, inline values and hovers use it), and its layer findings the diagnostics.
   */
  private showTrainingGraph(runId: number, step: number, snapshot: GraphSnapshot): void {
    if (this.disposed) return;
    this.snapshot = snapshot;
    this.post({ type: 'trainGraph', runId, step, snapshot: limitSnapshot(snapshot, WEBVIEW_MAX_ELEMENTS) });
    this.updateDiagnostics({ ok: true, snapshot });
    this.services.onRun(this);
  }

  /** After a training reset: the file's traced graph again, in place of the graph at the run's last step. */
  private showTracedGraph(): void {
    if (this.disposed || !this.traced || this.snapshot === this.traced) return;
    this.snapshot = this.traced;
    this.post({ type: 'snapshot', runId: this.runId, file: this.file, fileName: this.fileName, snapshot: limitSnapshot(this.traced, WEBVIEW_MAX_ELEMENTS) });
    this.updateDiagnostics({ ok: true, snapshot: this.traced });
    this.services.onRun(this);
  }

  /** Problems entries from a failed run's errors, or from a snapshot's diagnosis (its Quick Fixes too). */
  private updateDiagnostics(outcome: Pick<RunOutcome & { ok: true }, 'ok' | 'snapshot'> | Pick<RunOutcome & { ok: false }, 'ok' | 'errors'>): void {
    const { diagnostics } = this.services;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const add = (file: string, d: vscode.Diagnostic) => byFile.set(file, [...(byFile.get(file) ?? []), d]);
    const range = (line: number | null, column: number | null) => {
      const l = Math.max(0, (line ?? 1) - 1);
      const c = Math.max(0, (column ?? 1) - 1);
      return new vscode.Range(l, c, l, Number.MAX_SAFE_INTEGER);
    };
    if (!outcome.ok) {
      for (const e of outcome.errors) {
        const d = new vscode.Diagnostic(range(e.line, e.column), e.message, vscode.DiagnosticSeverity.Error);
        d.source = 'Backprop Lens';
        d.code = e.kind;
        add(e.file || this.file, d);
      }
    } else {
      this.fixes.clear();
      for (const g of outcome.snapshot.diagnosis) {
        if (g.fixes.length && g.source) this.fixes.set(`${g.source.file}:${g.source.line}:${g.code}`, g.fixes);
        if (g.severity === 'info' && !g.source) continue;
        const d = new vscode.Diagnostic(range(g.source?.line ?? null, g.source?.column ?? null), g.message,
          g.severity === 'error' ? vscode.DiagnosticSeverity.Error : g.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information);
        d.source = 'Backprop Lens';
        d.code = g.code;
        add(g.source?.file ?? this.file, d);
      }
    }
    for (const f of this.files) diagnostics.delete(vscode.Uri.file(f));
    for (const [f, list] of byFile) diagnostics.set(vscode.Uri.file(f), list);
  }

  /** The fixes suggested for the finding `code` reported at `file:line` (1-based). */
  fixesAt(file: string, line: number, code: string): { id: string; title: string }[] {
    return this.fixes.get(`${file}:${line}:${code}`) ?? [];
  }

  /** Asks the webview for SVG or PNG; resolves with the data, or null when it does not answer. */
  requestExport(format: 'svg' | 'png'): Promise<{ format: 'svg' | 'png'; data: string } | null> {
    const requestId = this.nextExportId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingExports.delete(requestId);
        resolve(null);
      }, 15000);
      this.pendingExports.set(requestId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.post({ type: 'export', requestId, format });
    });
  }

  exportJson(): string | null {
    return this.snapshot ? JSON.stringify(snapshotToJSON(this.snapshot), null, 1) : null;
  }

  private receive(raw: unknown): void {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.services.output.appendLine(`[${this.fileName}] ignored a malformed message from the panel (${parsed.reason})`);
      return;
    }
    this.handle(parsed.message);
  }

  private handle(m: WebviewMessage): void {
    switch (m.type) {
      case 'ready': {
        this.ready = true;
        this.training.panelReloaded();
        const queued = this.queue;
        this.queue = [];
        for (const q of queued) this.send(q);
        if (!this.snapshot && this.lastErrors.length === 0 && !this.running) {
          void this.run();
          break;
        }
        // a webview that was hidden (and so reloaded) gets the last result again
        if (this.snapshot && !queued.some((q) => q.type === 'snapshot')) {
          this.post({ type: 'snapshot', runId: this.runId, file: this.file, fileName: this.fileName, snapshot: limitSnapshot(this.snapshot, WEBVIEW_MAX_ELEMENTS) });
        }
        if (this.lastErrors.length > 0 && !queued.some((q) => q.type === 'errors')) {
          this.post({ type: 'errors', file: this.file, fileName: this.fileName, errors: this.lastErrors });
        }
        break;
      }
      case 'revealSource':
        void this.reveal(m.file, m.line, m.column);
        break;
      case 'fetchTensor': {
        const node = this.snapshot?.nodes[m.node];
        const data = node ? (m.which === 'value' ? node.value : node.grad) : null;
        const reason = !node ? 'no such node' : data ? undefined : `larger than ${HOST_MAX_ELEMENTS} elements: only its summary is kept`;
        this.post({ type: 'tensorData', requestId: m.requestId, node: m.node, which: m.which, data, reason });
        break;
      }
      case 'rerun':
        void this.run();
        break;
      case 'manageTrust':
        void vscode.commands.executeCommand('workbench.trust.manage');
        break;
      case 'exported': {
        const done = this.pendingExports.get(m.requestId);
        this.pendingExports.delete(m.requestId);
        done?.({ format: m.format, data: m.data });
        break;
      }
      case 'error':
        this.services.output.appendLine(`[${this.fileName}] panel error: ${m.message}`);
        break;
      case 'train':
        void this.training.handle(m.action, m.overrides);
        break;
      case 'analyze':
        void this.training.analyze(m.requestId, m.request);
        break;
      case 'gpuStarted':
      case 'gpuCheckpoint':
      case 'gpuFailed':
        this.training.gpuMessage(m);
        break;
      default: {
        const never: never = m;
        void never;
      }
    }
  }

  /** Opens a file of the current trace at a line; other files are refused (the webview is untrusted input). */
  private async reveal(file: string, line: number, column: number): Promise<void> {
    if (!this.files.has(file)) {
      this.services.output.appendLine(`[${this.fileName}] refused to reveal ${JSON.stringify(file)}: not a file of this trace`);
      return;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    // A click in the webview focuses it, and VS Code reports that focus asynchronously: sometimes
    // after this message. Wait for it (briefly), so that focus does not land after the editor's.
    if (!this.panel.active && this.panel.visible) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          if (this.onActive === done) this.onActive = null;
          resolve();
        };
        const timer = setTimeout(done, REFOCUS_MS);
        this.onActive = done;
      });
    }
    const l = Math.min(Math.max(0, line - 1), doc.lineCount - 1);
    const c = Math.max(0, column - 1);
    const existing = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === doc.uri.fsPath);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: existing?.viewColumn ?? vscode.ViewColumn.One, preserveFocus: false });
    const pos = new vscode.Position(l, c);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    this.lastReveal = { editor, at: Date.now() };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.closing.abort();
    this.training.dispose();
    for (const d of this.subscriptions) d.dispose();
    for (const f of this.files) this.services.diagnostics.delete(vscode.Uri.file(f));
    this.services.onDispose(this);
    this.panel.dispose();
  }
}

/** The file's modification time (ms), or -1 when it cannot be read. */
function modified(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** FNV-1a (32 bits, hex) of a file's text: enough to tell one saved version from the next. */
export function textHash(text: string | null): string {
  if (text === null) return '';
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
