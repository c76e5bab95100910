/**
 * Runs the integration suite (test/integration/suite/*.test.ts) with mocha inside a VS Code extension
 * host. The suite is bundled by esbuild (see ../build.ts) into one file, so mocha's file loading is not
 * used: `runSuite` sets up the BDD globals, then calls `loadTests`, which requires the bundled test
 * modules. Two callers:
 *   - `run()` (this module's export in out/integration/suite.js): the entry @vscode/test-electron calls;
 *   - the test-only host extension (../host-extension), which runs it inside code-server on a command
 *     and writes the results as JSON for the e2e harness.
 */
import Mocha from 'mocha';

export interface TestResult {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: string;
}

export interface SuiteResult {
  passes: number;
  failures: number;
  pending: number;
  tests: TestResult[];
  durationMs: number;
}

export function runSuite(loadTests: () => void, log: (line: string) => void = (l) => console.log(l)): Promise<SuiteResult> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'integration-bundle', mocha);
  loadTests();
  const tests: TestResult[] = [];
  const t0 = Date.now();
  return new Promise((resolve) => {
    const runner = mocha.run((failures) => {
      resolve({
        passes: tests.filter((t) => t.state === 'passed').length,
        failures,
        pending: tests.filter((t) => t.state === 'pending').length,
        tests,
        durationMs: Date.now() - t0,
      });
    });
    runner.on('pass', (t) => {
      tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration ?? 0 });
      log(`  ✓ ${t.fullTitle()} (${t.duration ?? 0} ms)`);
    });
    runner.on('fail', (t, err: Error) => {
      tests.push({ title: t.fullTitle(), state: 'failed', durationMs: t.duration ?? 0, error: String(err?.stack ?? err) });
      log(`  ✗ ${t.fullTitle()}\n${String(err?.stack ?? err).replace(/^/gm, '      ')}`);
    });
    runner.on('pending', (t) => {
      tests.push({ title: t.fullTitle(), state: 'pending', durationMs: 0 });
      log(`  - ${t.fullTitle()} (skipped)`);
    });
  });
}
