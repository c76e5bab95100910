// Types for scripts/code-server.mjs (used by the TypeScript test harness).
import type { ChildProcess } from 'node:child_process';

export const CODE_SERVER_VERSION: string;
export const repoRoot: string;
export const installDir: string;
export const binaryPath: string;

export interface CodeServer {
  url: string;
  /** URL that opens the workspace folder. */
  folderUrl: string;
  port: number;
  userDataDir: string;
  extensionsDir: string;
  readonly output: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface StartOptions {
  workspace: string;
  extensionsDir?: string;
  userDataDir?: string;
  /** false: Workspace Trust stays on and the folder opens in Restricted Mode. */
  trust?: boolean;
  port?: number;
  env?: Record<string, string>;
  /** User settings written when the profile is new. */
  settings?: Record<string, unknown>;
  timeoutMs?: number;
  /** Where stop() writes code-server's output. */
  logFile?: string;
  quiet?: boolean;
}

export function ensureCodeServer(opts?: { quiet?: boolean }): string;
export function extensionFolderName(pkgDir?: string): string;
export function prepareExtensionsDir(dir?: string, extra?: string[]): string;
export function freePort(preferred?: number): Promise<number>;
export function startCodeServer(opts: StartOptions): Promise<CodeServer>;
