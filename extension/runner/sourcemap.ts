/** Maps positions in the bundled model back to the user's files (Node's built-in source-map reader). */
import { SourceMap } from 'node:module';
import * as path from 'node:path';
import type { SourceLocation } from '../../engine/tensor';

interface Payload {
  sources: string[];
  sourcesContent?: (string | null)[];
}

export class BundleMap {
  private readonly map: SourceMap;
  private readonly files: string[];
  private readonly texts = new Map<string, string>();
  private readonly cache = new Map<string, SourceLocation | null>();

  constructor(json: string, bundlePath: string) {
    const payload = JSON.parse(json) as Payload & Record<string, unknown>;
    this.map = new SourceMap(payload as never);
    const dir = path.dirname(bundlePath);
    this.files = payload.sources.map((s) => path.resolve(dir, s));
    payload.sources.forEach((s, i) => {
      const text = payload.sourcesContent?.[i];
      if (typeof text === 'string') this.texts.set(path.resolve(dir, s), text);
    });
  }

  /** The user's file and 1-based line/column for a 1-based bundle position; null if unmapped. */
  original(line: number, column: number): SourceLocation | null {
    const key = `${line}:${column}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const e = this.map.findEntry(line - 1, Math.max(0, column - 1)) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    let loc: SourceLocation | null = null;
    if (e && typeof e.originalSource === 'string' && typeof e.originalLine === 'number') {
      const file = this.files.find((f) => f === e.originalSource || f.endsWith(e.originalSource!)) ?? resolveSource(e.originalSource);
      loc = { file, line: e.originalLine + 1, column: (e.originalColumn ?? 0) + 1 };
    }
    this.cache.set(key, loc);
    return loc;
  }

  /** Source text of a user file (from the map's sourcesContent). */
  text(file: string): string | undefined {
    return this.texts.get(file);
  }

  /** All user files that went into the bundle. */
  sources(): string[] {
    return this.files.slice();
  }
}

function resolveSource(s: string): string {
  if (s.startsWith('file://')) return new URL(s).pathname;
  return path.resolve(s);
}
