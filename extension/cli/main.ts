/**
 * The command line: the same runner and tracer as the extension.
 *
 *   backprop-lens trace FILE [--json] [--timeout MS] [--memory MB] [--max-elements N] [--max-nodes N]
 *   backprop-lens report FILE -o OUT.html [same options, without --json]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatNumber, snapshotToJSON, type GraphSnapshot } from '../../engine/trace/snapshot';
import { reportHtml } from '../report';
import { ModelRunner } from '../runner/runner';
import type { RunError } from '../runner/types';

const USAGE = `Usage: backprop-lens <command> FILE [options]

Commands:
  trace FILE     run the model file, trace its graph and run backward from its default export
  report FILE    the same trace as one standalone HTML page (the graph view, snapshot embedded,
                 works offline in any browser): backprop-lens report FILE -o OUT.html

Options:
  --json             trace: print the snapshot as JSON (stdout) instead of a table
  -o, --output FILE  report: the HTML file to write (required)
  --timeout MS       stop the model after MS milliseconds (default 10000)
  --memory MB        heap limit of the model's worker (default 2048)
  --max-elements N   tensors up to N elements carry values in the JSON (default 4096)
  --max-nodes N      refuse graphs larger than N nodes (default 20000)
  -h, --help         show this help`;

function formatError(e: RunError): string {
  const where = e.line !== null ? `${e.file}:${e.line}${e.column !== null ? `:${e.column}` : ''}` : e.file;
  return `${where}: ${e.kind} error: ${e.message}`;
}

function preview(v: Float64Array | null, n: number | null): string {
  if (n !== null) return formatNumber(n);
  if (!v) return '…';
  const head = Array.from(v.slice(0, 4), formatNumber).join(', ');
  return v.length > 4 ? `[${head}, …]` : `[${head}]`;
}

function table(s: GraphSnapshot): string {
  const rows = s.nodes.map((n) => [
    String(n.id), n.name ?? '', n.op === 'leaf' ? n.leaf ?? 'leaf' : n.op, `[${n.shape.join(',')}]`,
    preview(n.value, n.scalar), n.gradStats ? preview(n.grad, n.scalarGrad) : '', n.source ? `${path.basename(n.source.file)}:${n.source.line}` : '',
  ]);
  const head = ['id', 'name', 'op', 'shape', 'value', 'grad', 'source'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [fmt(head), ...rows.map(fmt)];
  for (const d of s.diagnosis) out.push(`${d.severity}: ${d.message}`);
  return out.join('\n');
}

/** Writes the standalone HTML report; the media files sit next to dist/ (the CLI bundle's folder). */
function writeReport(snapshot: GraphSnapshot, file: string, output: string): number {
  try {
    const html = reportHtml(snapshot, { title: `Backprop Lens — ${path.basename(file)}`, mediaDir: path.join(__dirname, '..', 'media') });
    fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
    fs.writeFileSync(output, html);
    process.stdout.write(`wrote ${output} (${Math.round(Buffer.byteLength(html) / 1024)} KiB, ${snapshot.nodes.length} nodes): open it in any browser\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`backprop-lens: cannot write the report ${output}: ${(err as Error).message}\n`);
    return 1;
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        json: { type: 'boolean' }, output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' },
        timeout: { type: 'string' }, memory: { type: 'string' }, 'max-elements': { type: 'string' }, 'max-nodes': { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`backprop-lens: ${(err as Error).message}\n\n${USAGE}\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, file] = positionals;
  const known = command === 'trace' || command === 'report';
  if (!known || !file) {
    process.stderr.write(`backprop-lens: ${command ? (known ? 'missing FILE' : `unknown command '${command}'`) : 'missing command'}\n\n${USAGE}\n`);
    return 1;
  }
  const usageError = command === 'report'
    ? (values.output === undefined || values.output === '' ? 'report needs the HTML file to write: -o OUT.html' : values.json ? '--json applies to trace only (report writes HTML to -o)' : null)
    : (values.output !== undefined ? '-o/--output applies to report only (trace writes to stdout)' : null);
  if (usageError) {
    process.stderr.write(`backprop-lens: ${usageError}\n\n${USAGE}\n`);
    return 1;
  }
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} expects a positive number, got '${v}'`);
    return n;
  };
  let opts;
  try {
    opts = { timeoutMs: num('timeout', values.timeout), memoryMb: num('memory', values.memory), maxElements: num('max-elements', values['max-elements']), maxNodes: num('max-nodes', values['max-nodes']) };
  } catch (err) {
    process.stderr.write(`backprop-lens: ${(err as Error).message}\n`);
    return 1;
  }
  if (!fs.existsSync(file)) {
    process.stderr.write(`backprop-lens: ${file}: no such file\n`);
    return 1;
  }
  const runner = new ModelRunner(__dirname);
  try {
    const out = await runner.run(file, {
      ...opts,
      // the model's console goes to stderr in JSON mode so stdout stays one JSON document
      onLog: (l) => (values.json || l.stream === 'stderr' ? process.stderr : process.stdout).write(`${l.text}\n`),
    });
    if (!out.ok) {
      for (const e of out.errors) process.stderr.write(`${formatError(e)}\n`);
      return 1;
    }
    if (command === 'report') return writeReport(out.snapshot, file, values.output as string);
    process.stdout.write(values.json ? `${JSON.stringify(snapshotToJSON(out.snapshot))}\n` : `${table(out.snapshot)}\n`);
    return 0;
  } finally {
    runner.dispose();
  }
}
