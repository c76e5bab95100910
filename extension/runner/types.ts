/** What a model run produces, shared by the runner, the CLI and the extension (no vscode, no DOM). */
import type { GraphSnapshot } from '../../engine/trace/snapshot';

export type RunErrorKind = 'syntax' | 'runtime' | 'shape' | 'timeout' | 'memory' | 'export' | 'too-large' | 'internal';

/** A problem with the model, located in the user's files (1-based line and column) when possible. */
export interface RunError {
  kind: RunErrorKind;
  message: string;
  file: string;
  line: number | null;
  column: number | null;
  /** Stack with positions mapped to the user's files (runtime errors). */
  stack?: string;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface RunOptions {
  /** Wall-clock limit for running the model (not for bundling). */
  timeoutMs?: number;
  /** Heap limit of the model's worker. */
  memoryMb?: number;
  maxNodes?: number;
  maxElements?: number;
  /** Unsaved text of the model file to run instead of the file on disk. */
  contents?: string;
  /** Called with each console line of the model as it happens. */
  onLog?: (line: LogLine) => void;
}

export interface RunTimings {
  bundleMs: number;
  runMs: number;
}

export type RunOutcome =
  | { ok: true; file: string; snapshot: GraphSnapshot; logs: LogLine[]; timings: RunTimings; files: string[] }
  | { ok: false; file: string; errors: RunError[]; logs: LogLine[]; timings: RunTimings; files: string[] };

/** Messages from the model worker to the runner. */
export type WorkerMessage =
  | { type: 'log'; line: LogLine }
  | { type: 'result'; snapshot: GraphSnapshot }
  | { type: 'error'; error: RunError };

/** Data the runner hands the model worker. */
export interface WorkerInput {
  file: string;
  /** Path the bundle pretends to live at (stack frames, relative requires). */
  bundlePath: string;
  code: string;
  map: string;
  maxNodes: number;
  maxElements: number;
  memoryMb: number;
  /** [nodes created, bundle line, bundle column] of the latest located node. */
  progress: SharedArrayBuffer;
}

export const DEFAULTS = { timeoutMs: 10_000, memoryMb: 2048, maxNodes: 20_000, maxElements: 4096 } as const;
