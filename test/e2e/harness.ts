/**
 * A very small sequential test runner for the e2e cases: clear pass/fail lines, a screenshot of the
 * page when a case fails, a JSON summary, and a non-zero exit code through `failed`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SCREENSHOT_DIR } from './workbench';

export interface CaseResult {
  name: string;
  state: 'passed' | 'failed' | 'skipped';
  ms: number;
  error?: string;
}

/** Playwright's call logs are long and coloured: keep their first lines, drop escape codes. */
function tidy(text: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = text.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
  const i = lines.findIndex((l) => /^\s*Call log:/.test(l));
  if (i < 0) return lines.join('\n');
  const log = lines.slice(i + 1).filter((l) => /^\s+-/.test(l));
  const rest = lines.slice(i + 1).filter((l) => /^\s+at /.test(l));
  return [...lines.slice(0, i + 1), ...log.slice(0, 4), ...(log.length > 4 ? [`    … ${log.length - 4} more lines`] : []), ...rest.slice(0, 4)].join('\n');
}

export class Harness {
  readonly results: CaseResult[] = [];
  private readonly t0 = Date.now();

  /** Runs one case; on failure calls `onFail` (e.g. to take a screenshot) and goes on with the next. */
  async case(name: string, fn: () => Promise<void>, onFail?: (slug: string) => Promise<void>): Promise<boolean> {
    const t = Date.now();
    process.stdout.write(`  … ${name}\n`);
    try {
      await fn();
      const ms = Date.now() - t;
      this.results.push({ name, state: 'passed', ms });
      process.stdout.write(`  ✓ ${name} (${(ms / 1000).toFixed(1)} s)\n`);
      return true;
    } catch (e) {
      const ms = Date.now() - t;
      const err = tidy((e as Error)?.stack ?? String(e));
      this.results.push({ name, state: 'failed', ms, error: err });
      process.stdout.write(`  ✗ ${name} (${(ms / 1000).toFixed(1)} s)\n${err.replace(/^/gm, '      ')}\n`);
      if (onFail) {
        await onFail(`FAIL-${name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 60)}`).catch(() => undefined);
      }
      return false;
    }
  }

  skip(name: string, why: string): void {
    this.results.push({ name, state: 'skipped', ms: 0, error: why });
    process.stdout.write(`  - ${name} (skipped: ${why})\n`);
  }

  /** Records a failure that happened outside a case (setup, a crashed browser). */
  fail(name: string, e: unknown): void {
    const err = (e as Error)?.stack ?? String(e);
    this.results.push({ name, state: 'failed', ms: 0, error: err });
    process.stdout.write(`  ✗ ${name}\n${err.replace(/^/gm, '      ')}\n`);
  }

  get failed(): number {
    return this.results.filter((r) => r.state === 'failed').length;
  }

  summary(): string {
    const passed = this.results.filter((r) => r.state === 'passed').length;
    const skipped = this.results.filter((r) => r.state === 'skipped').length;
    const s = Math.round((Date.now() - this.t0) / 1000);
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    fs.writeFileSync(path.join(SCREENSHOT_DIR, 'results.json'), JSON.stringify({ passed, failed: this.failed, skipped, seconds: s, results: this.results }, null, 2));
    const lines = [`\ne2e: ${passed} passed, ${this.failed} failed${skipped ? `, ${skipped} skipped` : ''} in ${s} s`];
    for (const r of this.results.filter((x) => x.state === 'failed')) lines.push(`  ✗ ${r.name}: ${(r.error ?? '').split('\n')[0]}`);
    lines.push(`screenshots and logs: ${path.relative(process.cwd(), SCREENSHOT_DIR) || SCREENSHOT_DIR}`);
    return lines.join('\n');
  }
}
