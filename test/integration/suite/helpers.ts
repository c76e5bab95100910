/** Helpers for the integration suite: the workspace, the extension, and waiting for conditions. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'backprop-lens.backprop-lens';
export const VIEW_TYPE = 'backpropLens.graph';
export const DIAGNOSTIC_SOURCE = 'Backprop Lens';

export function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the integration suite needs a workspace folder (a copy of examples/)');
  return folder.uri.fsPath;
}

/** A file of the workspace (a copy of examples/). */
export function exampleUri(name: string): vscode.Uri {
  const p = path.join(workspaceDir(), name);
  assert.ok(fs.existsSync(p), `${name} is missing from the workspace ${workspaceDir()}`);
  return vscode.Uri.file(p);
}

/** Polls `cond` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function activateExtension(): Promise<vscode.Extension<unknown>> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  await ext.activate();
  return ext;
}

/** Open graph panels (webview tabs of Backprop Lens). */
export function graphTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(VIEW_TYPE));
}

export function lensDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === DIAGNOSTIC_SOURCE);
}

/** 0-based line of the first line matching `re` in a file. */
export function lineOf(file: string, re: RegExp): number {
  const i = fs.readFileSync(file, 'utf8').split(/\r?\n/).findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no line matching ${re} in ${file}`);
  return i;
}

export async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
