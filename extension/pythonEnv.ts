/**
 * Which Python runs a PyTorch file in VS Code: the "backpropLens.python" setting, else the
 * interpreter the Python extension has selected for the file (through its API, when it is
 * installed), else one found on PATH (runner/python.ts). Whichever is chosen must import torch.
 */
import * as vscode from 'vscode';
import { findPython, type PythonInfo } from './runner/python';

/** The shape of the Python extension's API this reads (its `environments` API, and the older `settings` one). */
interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): { path: string } | undefined;
    resolveEnvironment?(env: { path: string }): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: { getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] } | undefined };
}

/** The interpreter the Python extension has selected for `uri`, or null (not installed, or none selected). */
async function pythonExtensionInterpreter(uri: vscode.Uri): Promise<string | null> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return null;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const active = api?.environments?.getActiveEnvironmentPath?.(uri);
    if (active?.path) {
      const resolved = await api.environments?.resolveEnvironment?.(active);
      return resolved?.executable?.uri?.fsPath ?? active.path;
    }
    return api?.settings?.getExecutionDetails?.(uri)?.execCommand?.[0] ?? null;
  } catch {
    return null;
  }
}

/** The Python for a PyTorch file; throws NoPythonError, with what to install or set, when there is none. */
export async function pythonFor(file: string): Promise<PythonInfo> {
  const uri = vscode.Uri.file(file);
  const setting = vscode.workspace.getConfiguration('backpropLens', uri).get<string>('python', '').trim();
  if (setting) return findPython([{ executable: setting, source: 'setting' }]);
  const selected = await pythonExtensionInterpreter(uri);
  return findPython(selected ? [{ executable: selected, source: 'python-extension' }] : []);
}
