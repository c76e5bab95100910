/**
 * Integration tests that need the real `vscode` API: the extension loaded by VS Code (code-server in
 * the e2e run, desktop VS Code under @vscode/test-electron), its commands, panels, diagnostics, CodeLens
 * and settings. The workspace is a copy of examples/.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, closeAll, exampleUri, graphTabs, lensDiagnostics, lineOf, waitFor, workspaceDir } from './helpers';

const manifest = () => vscode.extensions.getExtension('backprop-lens.backprop-lens')!.packageJSON as {
  contributes: { commands: { command: string; title: string }[]; configuration: { properties: Record<string, { default: unknown }> } };
  engines: { vscode: string };
};

/** The lecture example f = (x + y)·z, written by the suite so earlier UI tests cannot change it. */
const ADD_MUL = [
  "import { scalar } from 'backprop-lens';",
  'const x = scalar(-2);',
  'const y = scalar(5);',
  'const z = scalar(-4);',
  'const q = x.add(y);',
  'const f = q.mul(z);',
  'export default f;',
  '',
].join('\n');

describe('Backprop Lens in VS Code', () => {
  const scratch: string[] = [];
  let model: vscode.Uri;
  /** A new model file in the workspace, deleted after the suite. */
  const writeModel = (name: string, text: string): vscode.Uri => {
    const file = path.join(workspaceDir(), name);
    fs.writeFileSync(file, text);
    scratch.push(file);
    return vscode.Uri.file(file);
  };

  before(async function () {
    this.timeout(60_000);
    await activateExtension();
    model = writeModel('zz-add-mul-integration.ts', ADD_MUL);
  });

  after(async () => {
    await closeAll();
    for (const f of scratch) fs.rmSync(f, { force: true });
  });

  it('activates and registers every contributed command', async () => {
    const ext = await activateExtension();
    assert.equal(ext.isActive, true);
    const all = new Set(await vscode.commands.getCommands(true));
    const contributed = manifest().contributes.commands.map((c) => c.command);
    for (const id of ['backpropLens.showGraph', 'backpropLens.rerun', 'backpropLens.stepForward', 'backpropLens.stepBackward', 'backpropLens.reset', 'backpropLens.export', 'backpropLens.createExample']) {
      assert.ok(contributed.includes(id), `${id} is not contributed in package.json`);
    }
    const missing = contributed.filter((id) => !all.has(id));
    assert.deepEqual(missing, [], 'contributed commands without a registration');
  });

  it('accepts the VS Code it runs in (engines.vscode)', () => {
    const want = manifest().engines.vscode; // e.g. ^1.100.0
    const m = /(\d+)\.(\d+)/.exec(want);
    assert.ok(m, `unexpected engines.vscode ${want}`);
    const [maj, min] = vscode.version.split('.').map(Number);
    assert.ok(maj > Number(m[1]) || (maj === Number(m[1]) && min >= Number(m[2])), `VS Code ${vscode.version} is older than engines.vscode ${want}`);
  });

  it('has the documented setting defaults', () => {
    const cfg = vscode.workspace.getConfiguration('backpropLens');
    const expected: Record<string, unknown> = {
      retrace: 'onSave', retraceDelayMs: 600, timeoutMs: 10000, memoryLimitMb: 2048, maxNodes: 20000, inlineValues: true, codeLens: true,
    };
    for (const [k, v] of Object.entries(expected)) {
      assert.deepEqual(cfg.inspect(k)?.defaultValue, v, `default of backpropLens.${k}`);
    }
    // every declared setting has a default
    for (const [k, p] of Object.entries(manifest().contributes.configuration.properties)) assert.notEqual(p.default, undefined, `${k} has no default`);
  });

  it('offers a "Show Graph" CodeLens above the default export of a model file', async () => {
    const uri = exampleUri('01-add-mul.ts');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const lenses = await waitFor('the Show Graph CodeLens', async () => {
      const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
      const ours = all.filter((l) => l.command?.command === 'backpropLens.showGraph');
      return ours.length ? ours : null;
    });
    assert.equal(lenses[0].range.start.line, lineOf(uri.fsPath, /^\s*export\s+default\b/));
    assert.match(lenses[0].command!.title, /Show Graph/);
  });

  it('offers no CodeLens on a TypeScript file that does not import backprop-lens', async () => {
    const uri = writeModel('zz-plain-integration.ts', 'const a = 1;\nexport default a;\n');
    await vscode.workspace.openTextDocument(uri);
    const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
    assert.equal(all.filter((l) => l.command?.command?.startsWith('backpropLens.')).length, 0);
  });

  it('Show Graph opens one panel per model file, titled with the file name', async () => {
    await closeAll();
    const uri = model;
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    await vscode.commands.executeCommand('backpropLens.showGraph', uri);
    const tabs = await waitFor('a graph panel', () => {
      const t = graphTabs();
      return t.length ? t : null;
    });
    assert.equal(tabs.length, 1);
    assert.equal(tabs[0].label, `Graph: ${path.basename(uri.fsPath)}`);
    // running it again reuses the panel
    await vscode.commands.executeCommand('backpropLens.showGraph', uri);
    assert.equal(graphTabs().length, 1);
    // a good model leaves no error diagnostics
    assert.deepEqual(lensDiagnostics(uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error).map((d) => d.message), []);
  });

  it('hovering a traced variable shows its value and gradient', async () => {
    const uri = model;
    const line = lineOf(uri.fsPath, /const q =/);
    const col = fs.readFileSync(uri.fsPath, 'utf8').split(/\r?\n/)[line].indexOf('q');
    const text = await waitFor('a hover for q', async () => {
      const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line, col))) ?? [];
      const md = hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value)).join('\n');
      return /gradient/.test(md) ? md : null;
    });
    assert.match(text, /value: `3`/);
    assert.match(text, /`-4`/);
  });

  it('reports a syntax error as a diagnostic at its line, and clears it when fixed', async () => {
    const good = "import { scalar } from 'backprop-lens';\nconst a = scalar(2);\nconst b = a.mul(a);\nexport default b;\n";
    const broken = "import { scalar } from 'backprop-lens';\nconst a = scalar(2);\nconst b = a.mul(a) +;\nexport default b;\n";
    const uri = writeModel('zz-broken-integration.ts', broken);
    await vscode.commands.executeCommand('backpropLens.showGraph', uri);
    const diags = await waitFor('a Backprop Lens diagnostic', () => {
      const d = lensDiagnostics(uri);
      return d.length ? d : null;
    });
    assert.equal(diags[0].severity, vscode.DiagnosticSeverity.Error);
    assert.equal(diags[0].range.start.line, 2);
    // fix it in the editor and save: re-trace on save clears the diagnostic
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((e) => e.replace(new vscode.Range(0, 0, doc.lineCount, 0), good));
    await doc.save();
    await waitFor('the diagnostic to clear', () => lensDiagnostics(uri).length === 0);
  });

  it('reports a runtime exception at the line that threw', async () => {
    const text = "import { scalar } from 'backprop-lens';\nconst a = scalar(2);\nif (a.item() > 0) throw new Error('boom from the model');\nexport default a;\n";
    const uri = writeModel('zz-throws-integration.ts', text);
    await vscode.commands.executeCommand('backpropLens.showGraph', uri);
    const diags = await waitFor('a runtime diagnostic', () => {
      const d = lensDiagnostics(uri);
      return d.length ? d : null;
    });
    assert.match(diags[0].message, /boom from the model/);
    assert.equal(diags[0].range.start.line, 2);
  });

  it('Step/Reset commands and Re-run work with a panel open', async () => {
    const uri = model;
    await vscode.commands.executeCommand('backpropLens.showGraph', uri);
    for (const id of ['backpropLens.stepBackward', 'backpropLens.stepForward', 'backpropLens.reset', 'backpropLens.rerun']) {
      await vscode.commands.executeCommand(id); // must not throw
    }
  });
  describe('a PyTorch file', function () {
    this.timeout(90_000);
    const hoverAt = async (uri: vscode.Uri, re: RegExp, word: string) => {
      const line = lineOf(uri.fsPath, re);
      const col = fs.readFileSync(uri.fsPath, 'utf8').split(/\r?\n/)[line].indexOf(word);
      const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, new vscode.Position(line, col))) ?? [];
      return hovers.flatMap((h) => h.contents).map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value)).join('\n');
    };

    it('gets the CodeLens above its backward() call, and Show Graph gives hovers with the values and gradients PyTorch computed', async () => {
      const uri = exampleUri('11-pytorch-add-mul.py');
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const lenses = await waitFor('the Show Graph CodeLens on a .py file', async () => {
        const all = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10)) ?? [];
        const ours = all.filter((l) => l.command?.command === 'backpropLens.showGraph');
        return ours.length ? ours : null;
      });
      assert.equal(lenses[0].range.start.line, lineOf(uri.fsPath, /^f\.backward\(\)/));
      await vscode.commands.executeCommand('backpropLens.showGraph', uri);
      const text = await waitFor('a hover for q', async () => {
        const md = await hoverAt(uri, /^q = x \+ y/, 'q');
        return /gradient/.test(md) ? md : null;
      }, 60_000);
      assert.match(text, /value: `3`/);
      assert.match(text, /`-4`/);
      assert.deepEqual(lensDiagnostics(uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error).map((d) => d.message), []);
    });

    it("a Python exception lands in Problems at the user's line; saving the fix traces it again (retrace on save) and clears it", async () => {
      const broken = 'import torch\nx = torch.ones(2, requires_grad=True)\ny = (x @ torch.ones(3)).sum()\ny.backward()\n';
      const uri = writeModel('zz-shape-integration.py', broken);
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc);
      await vscode.commands.executeCommand('backpropLens.showGraph', uri);
      const diags = await waitFor('a diagnostic from the Python exception', () => {
        const d = lensDiagnostics(uri);
        return d.length ? d : null;
      }, 60_000);
      assert.equal(diags[0].range.start.line, 2);
      assert.match(diags[0].message, /shape|size|mismatch/i);
      // fixed in the editor and saved: the panel traces the file again
      await editor.edit((e) => e.replace(new vscode.Range(2, 0, 3, 0), 'y = (x * 5).sum()\n'));
      await doc.save();
      await waitFor('the diagnostic to clear', () => lensDiagnostics(uri).length === 0, 60_000);
      const text = await waitFor('a hover for x with its gradient', async () => {
        const md = await hoverAt(uri, /^x = /, 'x');
        return /gradient/.test(md) && /5/.test(md) ? md : null;
      }, 60_000);
      assert.match(text, /5/, "x's gradient from the fixed y = (x * 5).sum()");
    });
  });

  it('IntelliSense: TypeScript resolves \'backprop-lens\' to the shipped types without npm install', async function () {
    this.timeout(120_000);
    // A type error that only exists if the import resolved to the engine's declarations: scalar() returns a Tensor.
    const uri = writeModel('zz-types-integration.ts', "import { scalar } from 'backprop-lens';\nconst bad: number = scalar(1);\nexport default scalar(2);\n");
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const tsDiags = () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'ts');
    const found = await waitFor('a TypeScript diagnostic naming Tensor', () => tsDiags().find((d) => /Tensor/.test(d.message)), 100_000);
    assert.equal(found.range.start.line, 1, 'the type error is on the line that assigns a Tensor to a number');
    assert.deepEqual(tsDiags().filter((d) => String(typeof d.code === 'object' ? d.code.value : d.code) === '2307'), [], 'no "Cannot find module" error');
  });
});
