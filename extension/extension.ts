/**
 * Backprop Lens in VS Code: commands, CodeLens, the graph panels (one per model file, restored after
 * a reload), diagnostics, inline values, hovers, re-trace on save or while typing, Workspace Trust.
 * Model code runs only through the runner, in a worker; nothing here executes user code.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { PanelCommand, TrainAction } from './protocol';
import { quickFix, uniqueFixes, type QuickFix } from './quickfix';
import { ModelRunner, isPythonFile } from './runner/runner';
import { pythonFor } from './pythonEnv';
import { GraphPanel, VIEW_TYPE, type PanelServices } from './panel';
import { defaultExportLine, isModelSource, MODEL_EXTENSIONS } from './modelFiles';
import { restorableModelFile } from './restore';
import { hoverMarkdown, inlineValues, nodeForWord } from './snapshotView';

const MODEL_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', language: 'typescript' },
  { scheme: 'file', language: 'javascript' },
  { scheme: 'file', language: 'python' },
];

class Lens implements vscode.Disposable {
  private readonly panels = new Map<string, GraphPanel>();
  private active: GraphPanel | null = null;
  private readonly runner: ModelRunner;
  private readonly output: vscode.OutputChannel;
  private readonly diagnostics: vscode.DiagnosticCollection;
  private readonly inline: vscode.TextEditorDecorationType;
  private readonly services: PanelServices;
  private readonly typingTimers = new Map<string, NodeJS.Timeout>();
  private readonly codeLensChanged = new vscode.EventEmitter<void>();

  constructor(private readonly context: vscode.ExtensionContext) {
    this.runner = new ModelRunner(path.join(context.extensionPath, 'dist'));
    this.output = vscode.window.createOutputChannel('Backprop Lens');
    this.diagnostics = vscode.languages.createDiagnosticCollection('backprop-lens');
    this.inline = vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em', fontStyle: 'italic' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    this.services = {
      context, runner: this.runner, output: this.output, diagnostics: this.diagnostics,
      onRun: () => this.refreshDecorations(),
      onDispose: (p) => {
        // a retrace the typing scheduled must not run the model of a closed panel
        clearTimeout(this.typingTimers.get(p.file));
        this.typingTimers.delete(p.file);
        if (this.panels.get(p.file) === p) this.panels.delete(p.file);
        if (this.active === p) this.setActive(null);
        this.refreshDecorations();
      },
      onFocus: (p) => this.setActive(p),
    };
  }

  register(): void {
    const { context } = this;
    const cmd = (id: string, fn: (...args: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
    cmd('backpropLens.showGraph', (uri?: vscode.Uri) => this.showGraph(uri));
    cmd('backpropLens.rerun', (uri?: vscode.Uri) => this.rerun(uri));
    const step = (c: PanelCommand) => () => this.panelCommand(c);
    cmd('backpropLens.stepForward', step('stepForward'));
    cmd('backpropLens.stepBackward', step('stepBackward'));
    cmd('backpropLens.reset', step('reset'));
    cmd('backpropLens.export', () => this.exportView());
    cmd('backpropLens.createExample', () => this.createExample());
    cmd('backpropLens.openTrainingLog', (uri?: vscode.Uri) => this.openTrainingLog(uri));
    const train = (action: TrainAction) => async () => {
      if (!this.currentPanel()) await this.showGraph();
      const p = this.currentPanel();
      if (p) await p.training.handle(action);
    };
    cmd('backpropLens.train', train('run'));
    cmd('backpropLens.pauseTraining', train('pause'));
    cmd('backpropLens.stepTraining', train('step'));
    cmd('backpropLens.resetTraining', train('reset'));

    context.subscriptions.push(
      this, this.output, this.diagnostics, this.inline, this.codeLensChanged,
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => this.restore(panel, state),
      }),
      vscode.languages.registerCodeLensProvider(MODEL_SELECTOR, {
        onDidChangeCodeLenses: this.codeLensChanged.event,
        provideCodeLenses: (doc) => this.codeLenses(doc),
      }),
      vscode.languages.registerHoverProvider(MODEL_SELECTOR, { provideHover: (doc, pos) => this.hover(doc, pos) }),
      vscode.languages.registerCodeActionsProvider(MODEL_SELECTOR, { provideCodeActions: (doc, _range, ctx) => this.quickFixes(doc, ctx) }, {
        providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
      }),
      vscode.workspace.onDidSaveTextDocument((doc) => this.onSaved(doc)),
      vscode.workspace.onDidChangeTextDocument((e) => this.onTyped(e)),
      vscode.window.onDidChangeActiveTextEditor((e) => this.updateContext(e)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshDecorations()),
      vscode.window.onDidChangeTextEditorSelection((e) => this.onSelection(e)),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.updateContext(vscode.window.activeTextEditor);
        for (const p of this.panels.values()) void p.run();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('backpropLens.codeLens')) this.codeLensChanged.fire();
        if (e.affectsConfiguration('backpropLens.inlineValues')) this.refreshDecorations();
      }),
    );
    this.updateContext(vscode.window.activeTextEditor);
  }

  // ---- panels

  private panelFor(file: string, existing?: vscode.WebviewPanel): GraphPanel {
    const known = this.panels.get(file);
    if (known && !existing) return known;
    const panel = existing ?? vscode.window.createWebviewPanel(VIEW_TYPE, `Graph: ${path.basename(file)}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, retainContextWhenHidden: false });
    const gp = new GraphPanel(file, panel, this.services);
    this.panels.set(file, gp);
    this.setActive(gp);
    return gp;
  }

  /** Quick Fixes for gradient-health diagnostics (He/Xavier init, ReLU, lower lr, clipping, standardize). */
  private quickFixes(doc: vscode.TextDocument, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    const candidates: { fix: QuickFix; diagnostic: vscode.Diagnostic }[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source !== 'Backprop Lens' || typeof d.code !== 'string') continue;
      const fixes = [...this.panels.values()].flatMap((p) => p.fixesAt(doc.uri.fsPath, d.range.start.line + 1, d.code as string));
      for (const f of fixes) {
        const fix = quickFix(f.id, doc.getText(), d.range.start.line);
        if (fix) candidates.push({ fix, diagnostic: d });
      }
    }
    // one action per edit: the findings of one line often suggest the same one
    for (const { fix, diagnostic } of uniqueFixes(candidates)) {
      const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
      action.diagnostics = [diagnostic];
      action.edit = new vscode.WorkspaceEdit();
      for (const e of fix.edits) action.edit.replace(doc.uri, new vscode.Range(e.line, e.start, e.line, e.end), e.newText);
      out.push(action);
    }
    if (out.length) out[0].isPreferred = true;
    return out;
  }

  private async showGraph(uri?: vscode.Uri): Promise<void> {
    const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file' || !MODEL_EXTENSIONS.test(target.fsPath)) {
      void vscode.window.showInformationMessage('Backprop Lens: open a model file (.ts, .mts, .js or .mjs that imports from \'backprop-lens\', or a .py file that imports torch) first, or run "Backprop Lens: Create Example Model".');
      return;
    }
    const doc = await vscode.workspace.openTextDocument(target);
    if (doc.isDirty) await doc.save();
    const existing = this.panels.get(target.fsPath);
    if (existing) {
      existing.panel.reveal(undefined, true);
      await existing.run();
      return;
    }
    const gp = this.panelFor(target.fsPath);
    await gp.run();
  }

  /**
   * Shows a training log written by watch(model, log_dir=…) (a `backprop-lens.jsonl`, or the folder
   * holding one), from this machine or copied from a cluster, in the training view.
   */
  private async openTrainingLog(uri?: vscode.Uri): Promise<void> {
    let target = uri instanceof vscode.Uri ? uri : undefined;
    if (!target) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFiles: true, canSelectFolders: true, canSelectMany: false, openLabel: 'Open Training Log',
        filters: { 'Training logs': ['jsonl'] }, title: 'A backprop-lens.jsonl written by watch(model, log_dir=…), or its folder',
      });
      target = picked?.[0];
    }
    if (!target || target.scheme !== 'file') return;
    let file = target.fsPath;
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'backprop-lens.jsonl');
    if (!fs.existsSync(file)) {
      void vscode.window.showErrorMessage(`Backprop Lens: no training log at ${file}. watch(model, log_dir='…') writes backprop-lens.jsonl in that folder.`);
      return;
    }
    const existing = this.panels.get(file);
    if (existing) {
      existing.panel.reveal(undefined, false);
      await existing.run();
      return;
    }
    await this.panelFor(file).run();
  }

  private async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    // the saved state is webview data: rerun only a model file inside the workspace
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const restorable = restorableModelFile(state, folders);
    if ('refused' in restorable || !fs.existsSync(restorable.file)) {
      if ('refused' in restorable) this.output.appendLine(`did not restore a graph panel: ${restorable.refused}`);
      panel.dispose();
      return;
    }
    const file = restorable.file;
    const old = this.panels.get(file);
    if (old) old.dispose();
    const gp = this.panelFor(file, panel);
    await gp.run();
  }

  private currentPanel(): GraphPanel | null {
    if (this.active) return this.active;
    const editor = vscode.window.activeTextEditor;
    if (editor) {
      const p = this.panels.get(editor.document.uri.fsPath);
      if (p) return p;
    }
    return this.panels.values().next().value ?? null;
  }

  private setActive(p: GraphPanel | null): void {
    this.active = p;
    void vscode.commands.executeCommand('setContext', 'backpropLens.panelActive', p !== null);
  }

  /** Traces again (the unsaved text too): the panel of `uri` when given (the CodeLens in that file), else the current one. */
  private rerun(uri?: vscode.Uri): void {
    const p = uri instanceof vscode.Uri ? this.panels.get(uri.fsPath) ?? null : this.currentPanel();
    if (p) void p.run();
    else void this.showGraph(uri instanceof vscode.Uri ? uri : undefined);
  }

  private panelCommand(c: PanelCommand): void {
    const p = this.currentPanel();
    if (p) p.command(c);
    else void vscode.window.showInformationMessage('Backprop Lens: no graph panel is open. Run "Backprop Lens: Show Graph" on a model file first.');
  }

  private async exportView(): Promise<void> {
    const p = this.currentPanel();
    if (!p || !p.snapshot) {
      void vscode.window.showInformationMessage('Backprop Lens: nothing to export yet — show a graph first.');
      return;
    }
    const pick = await vscode.window.showQuickPick([
      { label: 'SVG', description: 'the graph as a vector image', format: 'svg' as const },
      { label: 'PNG', description: 'the graph as a picture', format: 'png' as const },
      { label: 'JSON', description: 'the snapshot: nodes, values, gradients, backward steps', format: 'json' as const },
    ], { title: 'Export the graph' });
    if (!pick) return;
    const base = p.file.replace(/\.[^.]+$/, '');
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(`${base}.graph.${pick.format}`), filters: { [pick.label]: [pick.format] } });
    if (!target) return;
    let bytes: Uint8Array;
    if (pick.format === 'json') bytes = Buffer.from(p.exportJson() ?? '{}', 'utf8');
    else {
      const r = await p.requestExport(pick.format);
      if (!r) {
        void vscode.window.showErrorMessage('Backprop Lens: the panel did not produce an image (is it open?).');
        return;
      }
      bytes = pick.format === 'png' ? Buffer.from(r.data.replace(/^data:image\/png;base64,/, ''), 'base64') : Buffer.from(r.data, 'utf8');
    }
    await vscode.workspace.fs.writeFile(target, bytes);
    void vscode.window.showInformationMessage(`Backprop Lens: exported ${path.basename(target.fsPath)}`);
  }

  private async createExample(): Promise<void> {
    const dir = path.join(this.context.extensionPath, 'examples');
    let files: string[] = [];
    try {
      files = fs.readdirSync(dir).filter((f) => MODEL_EXTENSIONS.test(f)).sort();
    } catch {
      /* no examples shipped */
    }
    if (files.length === 0) {
      void vscode.window.showErrorMessage('Backprop Lens: no examples found in the extension.');
      return;
    }
    const items = files.map((f) => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const title = /^\s*(?:\/\/|\*|\/\*\*?)\s*(.+)$/m.exec(text)?.[1]?.trim() ?? f;
      return { label: f, description: title, file: f };
    });
    const pick = await vscode.window.showQuickPick(items, { title: 'Create an example model', matchOnDescription: true });
    if (!pick) return;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    let target: vscode.Uri | undefined = folder ? vscode.Uri.joinPath(folder, pick.file) : undefined;
    if (target && fs.existsSync(target.fsPath)) {
      target = await vscode.window.showSaveDialog({ defaultUri: target, filters: { 'Model file': [pick.file.split('.').pop()!] } });
    } else if (!target) {
      target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(pick.file), filters: { 'Model file': ['ts', 'js'] } });
    }
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, fs.readFileSync(path.join(dir, pick.file)));
    const doc = await vscode.workspace.openTextDocument(target);
    await vscode.window.showTextDocument(doc);
  }

  // ---- editor integration

  private isModel(doc: vscode.TextDocument): boolean {
    return doc.uri.scheme === 'file' && isModelSource(doc.fileName, doc.getText());
  }

  private updateContext(editor: vscode.TextEditor | undefined): void {
    const model = !!editor && this.isModel(editor.document);
    void vscode.commands.executeCommand('setContext', 'backpropLens.isModelFile', model);
    // Once a model file is shown, the bundler compiles its WebAssembly and a spare model process
    // waits for its Show Graph (neither runs model code), so the first run waits for neither. Not at
    // activation: most TypeScript files are not models. Only in a trusted workspace; runner.dispose ends both.
    // A PyTorch file: its Python is found and probed for torch now (importing torch takes a second or two).
    if (model && vscode.workspace.isTrusted) {
      const file = editor!.document.uri.fsPath;
      if (isPythonFile(file)) void pythonFor(file).catch(() => undefined);
      else this.runner.warm(file);
    }
  }

  private codeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.getConfiguration('backpropLens', doc.uri).get<boolean>('codeLens', true) || !this.isModel(doc)) return [];
    const line = defaultExportLine(doc.getText(), doc.fileName);
    const range = new vscode.Range(line ?? 0, 0, line ?? 0, 0);
    const lenses = [new vscode.CodeLens(range, { title: '$(type-hierarchy) Show Graph', command: 'backpropLens.showGraph', arguments: [doc.uri], tooltip: 'Trace this model and show its computational graph with values and gradients' })];
    if (this.panels.has(doc.uri.fsPath)) lenses.push(new vscode.CodeLens(range, { title: '$(refresh) Re-run', command: 'backpropLens.rerun', arguments: [doc.uri], tooltip: 'Trace the model again' }));
    return lenses;
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | null {
    const range = doc.getWordRangeAtPosition(pos, /[A-Za-z_$][\w$]*/);
    if (!range) return null;
    const word = doc.getText(range);
    for (const p of this.panels.values()) {
      if (!p.snapshot || !p.files.has(doc.uri.fsPath)) continue;
      const node = nodeForWord(p.snapshot, doc.uri.fsPath, word, pos.line + 1);
      if (node) return new vscode.Hover(new vscode.MarkdownString(hoverMarkdown(node)), range);
    }
    return null;
  }

  private refreshDecorations(): void {
    this.codeLensChanged.fire();
    const enabled = vscode.workspace.getConfiguration('backpropLens').get<boolean>('inlineValues', true);
    for (const editor of vscode.window.visibleTextEditors) {
      const file = editor.document.uri.fsPath;
      const panel = [...this.panels.values()].find((p) => p.snapshot && p.files.has(file));
      if (!enabled || !panel?.snapshot || editor.document.isDirty) {
        editor.setDecorations(this.inline, []);
        continue;
      }
      const items: vscode.DecorationOptions[] = [];
      for (const [line, text] of inlineValues(panel.snapshot, file)) {
        if (line < 1 || line > editor.document.lineCount) continue;
        const end = editor.document.lineAt(line - 1).range.end;
        items.push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: `  ${text}` } } });
      }
      editor.setDecorations(this.inline, items);
    }
  }

  private onSelection(e: vscode.TextEditorSelectionChangeEvent): void {
    const file = e.textEditor.document.uri.fsPath;
    const lines = [...new Set(e.selections.flatMap((s) => {
      const out: number[] = [];
      for (let l = s.start.line; l <= s.end.line && out.length < 200; l++) out.push(l + 1);
      return out;
    }))];
    for (const p of this.panels.values()) if (p.files.has(file)) p.post({ type: 'highlightLines', file, lines });
  }

  private retraceMode(uri: vscode.Uri): 'onSave' | 'onType' | 'off' {
    return vscode.workspace.getConfiguration('backpropLens', uri).get('retrace', 'onSave');
  }

  private onSaved(doc: vscode.TextDocument): void {
    this.updateContext(vscode.window.activeTextEditor);
    if (this.retraceMode(doc.uri) === 'off') return;
    for (const p of this.panels.values()) if (p.files.has(doc.uri.fsPath)) void p.run();
  }

  private onTyped(e: vscode.TextDocumentChangeEvent): void {
    if (e.contentChanges.length === 0 || e.document.uri.scheme !== 'file') return;
    const file = e.document.uri.fsPath;
    const panel = this.panels.get(file);
    if (panel) {
      // stale inline values would point at the wrong lines while the text changes
      for (const ed of vscode.window.visibleTextEditors) if (ed.document === e.document) ed.setDecorations(this.inline, []);
    }
    if (!panel || this.retraceMode(e.document.uri) !== 'onType') return;
    // within the setting's range (a value past 2³¹ − 1 ms would make the timer fire at once)
    const delay = Math.min(60_000, Math.max(100, vscode.workspace.getConfiguration('backpropLens', e.document.uri).get<number>('retraceDelayMs', 600) || 600));
    clearTimeout(this.typingTimers.get(file));
    this.typingTimers.set(file, setTimeout(() => {
      this.typingTimers.delete(file);
      void panel.run();
    }, delay));
  }

  dispose(): void {
    for (const t of this.typingTimers.values()) clearTimeout(t);
    for (const p of [...this.panels.values()]) p.dispose();
    this.runner.dispose();
  }
}

export function activate(context: vscode.ExtensionContext): void {
  new Lens(context).register();
}

export function deactivate(): void {
  /* everything is disposed through context.subscriptions */
}
