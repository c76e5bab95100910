/**
 * Which model file a restored panel may run. After a reload VS Code hands the panel serializer the
 * state the webview saved with `setState`: webview data, as untrusted as its messages. Restoring
 * reruns the file it names, so only a model file inside one of the open workspace folders is
 * accepted (a stale or forged state must not make the host run some other file).
 */
import * as path from 'node:path';
import { MODEL_EXTENSIONS } from './modelFiles';

/** Whether `file` lies inside `folder` (both absolute; compared without case where the file system ignores it). */
export function isInside(folder: string, file: string, caseInsensitive = process.platform === 'win32' || process.platform === 'darwin'): boolean {
  const norm = (p: string) => (caseInsensitive ? path.resolve(p).toLowerCase() : path.resolve(p));
  const rel = path.relative(norm(folder), norm(file));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/**
 * The model file of a restored panel's saved state, or null (with why) when it must not run: no
 * state, no file, not an absolute path to a .ts/.mts/.js/.mjs file, or outside every workspace folder.
 */
export function restorableModelFile(state: unknown, workspaceFolders: readonly string[], caseInsensitive?: boolean): { file: string } | { refused: string } {
  let file: unknown;
  try {
    file = typeof state === 'object' && state !== null ? Object.getOwnPropertyDescriptor(state, 'file')?.value : undefined;
  } catch {
    file = undefined;
  }
  if (typeof file !== 'string' || file.length === 0 || file.length > 4096 || file.includes('\0')) return { refused: 'the saved state names no file' };
  if (!path.isAbsolute(file) || !MODEL_EXTENSIONS.test(file)) return { refused: `${JSON.stringify(file.slice(0, 200))} is not a model file` };
  if (!workspaceFolders.some((f) => isInside(f, file as string, caseInsensitive))) return { refused: `${JSON.stringify(file.slice(0, 200))} is outside the workspace` };
  return { file };
}
