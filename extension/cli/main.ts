/**
 * The command line: the same runner and tracer as the extension.
 *
 *   backprop-lens trace FILE [--json] [--at-step N] [--timeout MS] [--memory MB] [--max-elements N] [--max-nodes N]
 *   backprop-lens report FILE -o OUT.html [same options, without --json]
 *   backprop-lens train FILE [--json] [--optimizer NAME] [--lr X] [--schedule NAME] [--steps N] [--batch-size N] [--seed N]
 *   backprop-lens hessian|landscape|playground FILE [--json] [--at-step N] [their options, training options]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { formatNumber, shapeText, tensorBrief } from '../../engine/format';
import { snapshotToJSON, type GraphSnapshot } from '../../engine/trace/snapshot';
import { reportHtml, type ReportOptions } from '../report';
import { terminalJson, terminalText, visibleName } from '../safe-text';
import { ModelRunner, isPythonFile } from '../runner/runner';
import { findPython, type PythonInfo } from '../runner/python';
import { limitProblem, type LimitName, type RunError } from '../runner/types';
import { OPTIMIZER_NAMES, type OptimizerName } from '../../engine/optim/optimizer';
import { SCHEDULE_PRESETS, type SchedulePreset } from '../../engine/optim/schedules';
import type { TrainingOverrides, TrainResult } from '../../engine/train/trainer';
import { trainText } from './train-text';
import { hessianText, landscapeText, playgroundText } from './analysis-text';
import { analysesFor, defaultRequest, DEFAULT_LANDSCAPE, DEFAULT_PLAYGROUND_RUNS, DEFAULT_PLAYGROUND_STEPS, type AnalysisRequest, type PlaygroundRun, type SurfaceName } from '../../engine/check/analysis';
import type { TrainOptions } from '../runner/types';

/** The playground card's runs, as the flag writes them. */
const PLAYGROUND_RUNS = DEFAULT_PLAYGROUND_RUNS.map((r) => `${r.optimizer}:${r.lr}${r.momentum ? `:${r.momentum}${r.nesterov ? ':nesterov' : ''}` : ''}`).join(',');

const USAGE = `Usage: backprop-lens <command> FILE [options]

Commands:
  trace FILE     run the model file, trace its graph and run backward from its default export
                 (a .py file: run it with PyTorch and trace the torch ops it ran)
  report FILE    the same trace as one standalone HTML page (the graph view, snapshot embedded,
                 works offline in any browser): backprop-lens report FILE -o OUT.html
                 (a training file's report also trains it and holds the run and, after its last
                 step, the cards of the training view: gradient check, Hessian, landscape,
                 playground, decision boundary and trace where they apply)
  train FILE     run the file's \`export default defineTraining({ … })\` headless and print the
                 loss at the logged steps (with the validation loss), the final parameters
                 (every value up to 64 of them, else a summary of each tensor), the layers at the
                 last logged step and the diagnosis, or "no problems found"
                 (a .py script: run it with PyTorch; what its watch(model) records)
  hessian FILE   the Hessian of a training file's loss at its parameters (up to 64 values): the
                 matrix, its eigenvalues, and whether the point is a minimum, maximum or saddle
  landscape FILE the loss along a random filter-normalized direction through the parameters
                 (and a 2-D slice with --2d), as the panel's loss landscape card
  playground FILE  optimizers from the same start on a two-parameter loss (the file's, or a
                 built-in surface): where each ends and what the point is, as the panel's card
                 (hessian, landscape and playground take --at-step N: after N training steps)

Options:
  --json             trace: print the snapshot as JSON (stdout) instead of a table
  --at-step N        trace, report: a training file's graph at training step N (trained there
                     first, as the panel's graph after N steps; training options apply)
  -o, --output FILE  report: the HTML file to write (required)
  --graph-only       report: the graph alone (a training file is not trained)
  --timeout MS       stop the model after MS milliseconds (default 10000)
  --memory MB        heap limit of the model's worker (default 2048)
  --max-elements N   tensors up to N elements carry values in the JSON (default 4096)
  --max-nodes N      refuse graphs larger than N nodes (default 20000)
  --python PATH      the Python (with PyTorch) that runs a .py FILE (default: BPL_PYTHON, else
                     python3 or python on PATH, else /usr/bin/python3)
  -h, --help         show this help

Analysis options:
  --json             hessian, landscape, playground: print the report as JSON (stdout)
  --range X          landscape: α (and β) from −X to X (default 1)
  --2d               landscape: also the 2-D slice
  --direction-seed N landscape: seed of the random directions (default 0)
  --surface NAME     playground: file (default; the file's loss of two numbers), saddle, bowl, rosenbrock
  --runs LIST        playground: optimizer:lr pairs, e.g. sgd:0.05,adam:0.1 (default ${PLAYGROUND_RUNS});
                     sgd takes a momentum and Nesterov's form: sgd:0.01:0.9, sgd:0.01:0.9:nesterov
  --play-steps N     playground: steps per optimizer (default 100)

Training options (override the file's spec):
  --json             print { history, params, layers, diagnosis, … } as JSON (stdout)
  --optimizer NAME   ${OPTIMIZER_NAMES.join(', ')}
  --lr X             learning rate
  --schedule NAME    ${SCHEDULE_PRESETS.join(', ')} (sized to the run's steps)
  --steps N          number of optimizer steps
  --batch-size N     minibatch size
  --seed N           seed for shuffling and the validation split
  (--timeout applies to each training step)`;

/**
 * Every line the CLI prints goes through here: names, messages, errors and the model's console come
 * from the user's code and must not drive the terminal (escape sequences, `\r`, bidi controls).
 */
function say(stream: NodeJS.WriteStream, text: string): void {
  stream.write(terminalText(text));
}

/** JSON for stdout: C1, DEL, bidi controls and line separators as `\uXXXX` escapes (the same value parsed). */
const sayJson = (text: string) => say(process.stdout, `${terminalJson(text)}\n`);

/** For bin/backprop-lens.js, which prints an internal error's stack (its message may quote the model). */
export { terminalText };

function formatError(e: RunError): string {
  const where = e.line !== null ? `${e.file}:${e.line}${e.column !== null ? `:${e.column}` : ''}` : e.file;
  return `${where}: ${e.kind} error: ${e.message}`;
}

function table(s: GraphSnapshot): string {
  // names (and ops, files) on one line each, escaped and cut, so the columns hold
  const rows = s.nodes.map((n) => [
    String(n.id), visibleName(n.name ?? ''), visibleName(n.op === 'leaf' ? n.leaf ?? 'leaf' : n.op), shapeText(n.shape),
    tensorBrief(n.value, n.stats, n.size), n.gradStats ? tensorBrief(n.grad, n.gradStats, n.size) : '', n.source ? `${visibleName(path.basename(n.source.file))}:${n.source.line}` : '',
  ]);
  const head = ['id', 'name', 'op', 'shape', 'value', 'grad', 'source'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [fmt(head), ...rows.map(fmt)];
  for (const d of s.diagnosis) out.push(`${d.severity}: ${d.message}`);
  return out.join('\n');
}

/** Writes the standalone HTML report; the media files sit next to dist/ (the CLI bundle's folder). */
function writeReport(snapshot: GraphSnapshot, file: string, output: string, training?: ReportOptions['training']): number {
  try {
    const html = reportHtml(snapshot, { title: `Backprop Lens — ${path.basename(file)}`, mediaDir: path.join(__dirname, '..', 'media'), training });
    fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
    fs.writeFileSync(output, html);
    const run = training ? `, ${training.result.steps} training steps, ${training.analyses.filter((a) => a.outcome.ok).length} analyses` : '';
    say(process.stdout, `wrote ${output} (${Math.round(Buffer.byteLength(html) / 1024)} KiB, ${snapshot.nodes.length} nodes${run}): open it in any browser\n`);
    return 0;
  } catch (err) {
    say(process.stderr, `backprop-lens: cannot write the report ${output}: ${(err as Error).message}\n`);
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
        'at-step': { type: 'string' }, python: { type: 'string' }, 'graph-only': { type: 'boolean' },
        optimizer: { type: 'string' }, lr: { type: 'string' }, schedule: { type: 'string' }, steps: { type: 'string' }, 'batch-size': { type: 'string' }, seed: { type: 'string' },
        range: { type: 'string' }, '2d': { type: 'boolean' }, 'direction-seed': { type: 'string' },
        surface: { type: 'string' }, runs: { type: 'string' }, 'play-steps': { type: 'string' },
      },
    });
  } catch (err) {
    say(process.stderr, `backprop-lens: ${(err as Error).message}\n\n${USAGE}\n`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    say(process.stdout, `${USAGE}\n`);
    return 0;
  }
  const [command, file] = positionals;
  const analysis = command === 'hessian' || command === 'landscape' || command === 'playground';
  const known = command === 'trace' || command === 'report' || command === 'train' || analysis;
  if (!known || !file) {
    say(process.stderr, `backprop-lens: ${command ? (known ? 'missing FILE' : `unknown command '${command}'`) : 'missing command'}\n\n${USAGE}\n`);
    return 1;
  }
  const trainFlags = (['optimizer', 'lr', 'schedule', 'steps', 'batch-size', 'seed'] as const).filter((k) => values[k] !== undefined);
  const analysisFlags = ANALYSIS_FLAGS.filter((k) => values[k] !== undefined);
  const ownFlags: readonly string[] = command === 'landscape' ? ['range', '2d', 'direction-seed'] : command === 'playground' ? ['surface', 'runs', 'play-steps'] : [];
  const strayAnalysisFlag = analysisFlags.find((k) => !ownFlags.includes(k));
  const usageError = strayAnalysisFlag ? `--${strayAnalysisFlag} applies to ${ANALYSIS_FLAG_OF[strayAnalysisFlag]}`
    : values['graph-only'] && command !== 'report' ? '--graph-only applies to report'
    : analysis ? (values.output !== undefined ? `-o/--output applies to report only (${command} writes to stdout)`
      : values['max-nodes'] !== undefined || values['max-elements'] !== undefined ? '--max-nodes and --max-elements apply to trace and report'
        : trainFlags.length && values['at-step'] === undefined ? `--${trainFlags[0]} applies to train (or with --at-step)` : null)
    : command === 'report'
    ? (values.output === undefined || values.output === '' ? 'report needs the HTML file to write: -o OUT.html' : values.json ? '--json applies to trace and train (report writes HTML to -o)' : null)
    : values.output !== undefined ? `-o/--output applies to report only (${command} writes to stdout)`
      : command !== 'train' && trainFlags.length && values['at-step'] === undefined ? `--${trainFlags[0]} applies to train (or with --at-step)`
        : command === 'train' && values['at-step'] !== undefined ? '--at-step applies to trace and report (train prints the whole run)'
        : command === 'train' && (values['max-nodes'] !== undefined || values['max-elements'] !== undefined) ? '--max-nodes and --max-elements apply to trace and report' : null;
  if (usageError) {
    say(process.stderr, `backprop-lens: ${usageError}\n\n${USAGE}\n`);
    return 1;
  }
  const num = (name: LimitName, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    const problem = limitProblem(name, n, 'flag');
    if (problem) throw new Error(problem);
    return n;
  };
  let opts;
  let overrides: TrainingOverrides;
  let atStep: number | null = null;
  let request: AnalysisRequest | null = null;
  try {
    if (analysis) request = analysisRequest(command, values);
    if (values['at-step'] !== undefined) {
      atStep = Number(values['at-step']);
      if (!Number.isInteger(atStep) || atStep < 0) throw new Error(`--at-step expects an integer ≥ 0, got '${values['at-step']}'`);
    }
    opts = { timeoutMs: num('timeoutMs', values.timeout), memoryMb: num('memoryMb', values.memory), maxElements: num('maxElements', values['max-elements']), maxNodes: num('maxNodes', values['max-nodes']) };
    overrides = trainOverrides(values);
  } catch (err) {
    say(process.stderr, `backprop-lens: ${(err as Error).message}\n`);
    return 1;
  }
  if (!fs.existsSync(file)) {
    say(process.stderr, `backprop-lens: ${file}: no such file\n`);
    return 1;
  }
  const runner = new ModelRunner(__dirname);
  if (isPythonFile(file) && (atStep !== null || analysis)) {
    if (analysis) {
      say(process.stderr, `backprop-lens: ${command} applies to TypeScript training files (\`export default defineTraining({ … })\`)\n`);
      return 1;
    }
    say(process.stderr, 'backprop-lens: --at-step applies to TypeScript training files (a PyTorch file traces the pass it runs)\n');
    return 1;
  }
  if (isPythonFile(file)) {
    const chosen = values.python ?? process.env.BPL_PYTHON;
    try {
      Object.assign(opts, { python: await findPython(chosen ? [{ executable: chosen, source: values.python ? 'setting' : 'environment' }] : []) });
    } catch (err) {
      say(process.stderr, `backprop-lens: ${(err as Error).message}\n`);
      return 1;
    }
  }
  if (request) {
    try {
      return await inspect(runner, file, atStep ?? 0, request, { ...opts, overrides }, !!values.json);
    } finally {
      runner.dispose();
    }
  }
  if (command === 'train') {
    try {
      if (isPythonFile(file) && trainFlags.length) {
        say(process.stderr, `backprop-lens: --${trainFlags[0]} applies to TypeScript training files (a PyTorch script trains as it is written; watch(model) reports it)\n`);
        return 1;
      }
      return await train(runner, file, { timeoutMs: opts.timeoutMs, memoryMb: opts.memoryMb, python: (opts as { python?: PythonInfo }).python }, overrides, !!values.json);
    } finally {
      runner.dispose();
    }
  }
  try {
    // the model's console goes to stderr in JSON mode so stdout stays one JSON document
    const onLog = (l: { stream: string; text: string }) => say(values.json || l.stream === 'stderr' ? process.stderr : process.stdout, `${l.text}\n`);
    const out = atStep === null ? await runner.run(file, { ...opts, onLog }) : await runner.graphAtStep(file, atStep, { ...opts, overrides, onLog });
    if (!out.ok) {
      for (const e of out.errors) say(process.stderr, `${formatError(e)}\n`);
      return 1;
    }
    if (command === 'report') {
      const t = out.snapshot.training;
      if (!t || t.watched || values['graph-only']) return writeReport(out.snapshot, file, values.output as string);
      // a training file: its run, and each tool of the training view after the run's last step
      const r = await runner.reportRun(file, analysesFor(t).map((k) => defaultRequest(k, t)), { ...opts, overrides, onLog });
      if (!r.ok) {
        for (const e of r.errors) say(process.stderr, `${formatError(e)}\n`);
        return 1;
      }
      return writeReport(out.snapshot, file, values.output as string, { result: r.result, analyses: r.analyses });
    }
    if (values.json) sayJson(JSON.stringify(snapshotToJSON(out.snapshot)));
    else say(process.stdout, `${table(out.snapshot)}\n`);
    return 0;
  } finally {
    runner.dispose();
  }
}

function trainOverrides(v: Record<string, string | boolean | undefined>): TrainingOverrides {
  const o: TrainingOverrides = {};
  const int = (name: string, x: string) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a positive integer, got '${x}'`);
    return n;
  };
  if (typeof v.optimizer === 'string') {
    if (!OPTIMIZER_NAMES.includes(v.optimizer as OptimizerName)) throw new Error(`--optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}, got '${v.optimizer}'`);
    o.optimizer = v.optimizer as OptimizerName;
  }
  if (typeof v.lr === 'string') {
    const lr = Number(v.lr);
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`--lr expects a number ≥ 0, got '${v.lr}'`);
    o.lr = lr;
  }
  if (typeof v.schedule === 'string') {
    if (!(SCHEDULE_PRESETS as readonly string[]).includes(v.schedule)) throw new Error(`--schedule must be one of ${SCHEDULE_PRESETS.join(', ')}, got '${v.schedule}'`);
    o.schedule = v.schedule as SchedulePreset;
  }
  if (typeof v.steps === 'string') o.steps = int('steps', v.steps);
  if (typeof v['batch-size'] === 'string') o.batchSize = int('batch-size', v['batch-size']);
  if (typeof v.seed === 'string') {
    const seed = Number(v.seed);
    if (!Number.isInteger(seed)) throw new Error(`--seed expects an integer, got '${v.seed}'`);
    o.seed = seed;
  }
  return o;
}

const ANALYSIS_FLAG_OF = { range: 'landscape', '2d': 'landscape', 'direction-seed': 'landscape', surface: 'playground', runs: 'playground', 'play-steps': 'playground' } as const;
const ANALYSIS_FLAGS = Object.keys(ANALYSIS_FLAG_OF) as (keyof typeof ANALYSIS_FLAG_OF)[];

/** The analysis command's request, from its flags (the panel's defaults where a flag is absent). */
function analysisRequest(command: 'hessian' | 'landscape' | 'playground', v: Record<string, string | boolean | undefined>): AnalysisRequest {
  if (command === 'hessian') return { kind: 'hessian' };
  if (command === 'landscape') {
    const range = v.range === undefined ? DEFAULT_LANDSCAPE.range : Number(v.range);
    if (!(range >= 1e-6 && range <= 100)) throw new Error(`--range expects a number from 1e-6 to 100, got '${String(v.range)}'`);
    const seed = v['direction-seed'] === undefined ? DEFAULT_LANDSCAPE.seed : Number(v['direction-seed']);
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`--direction-seed expects an integer ≥ 0, got '${String(v['direction-seed'])}'`);
    return { kind: 'landscape', twoD: v['2d'] === true, range, seed };
  }
  const surfaces: readonly SurfaceName[] = ['file', 'saddle', 'bowl', 'rosenbrock'];
  const surface = (v.surface ?? 'file') as SurfaceName;
  if (!surfaces.includes(surface)) throw new Error(`--surface must be one of ${surfaces.join(', ')}, got '${String(v.surface)}'`);
  const runs = String(v.runs ?? PLAYGROUND_RUNS).split(',').map((pair): PlaygroundRun => {
    const [name, lrText, momentumText, nesterovText, extra] = pair.trim().split(':');
    const lr = Number(lrText);
    const momentum = momentumText === undefined ? 0 : Number(momentumText);
    const bad = !OPTIMIZER_NAMES.includes(name as OptimizerName) || lrText === undefined || !(lr >= 0 && lr <= 1e6) || extra !== undefined
      || (momentumText !== undefined && (name !== 'sgd' || !(momentum >= 0 && momentum < 1)))
      || (nesterovText !== undefined && (nesterovText !== 'nesterov' || !(momentum > 0)));
    if (bad) {
      throw new Error(`--runs expects optimizer:lr pairs such as sgd:0.05,adam:0.1, and for sgd a momentum from 0 to 1 and Nesterov's form, as in sgd:0.01:0.9 or sgd:0.01:0.9:nesterov (optimizers: ${OPTIMIZER_NAMES.join(', ')}), got '${pair}'`);
    }
    return momentum ? { optimizer: 'sgd', lr, momentum, ...(nesterovText ? { nesterov: true } : {}) } : { optimizer: name as OptimizerName, lr };
  });
  const steps = v['play-steps'] === undefined ? DEFAULT_PLAYGROUND_STEPS : Number(v['play-steps']);
  if (!Number.isInteger(steps) || steps < 1 || steps > 100_000) throw new Error(`--play-steps expects an integer from 1 to 100000, got '${String(v['play-steps'])}'`);
  return { kind: 'playground', surface, runs, steps };
}

/** Runs the training file to the step, asks it the analysis and prints the report (text or JSON). */
async function inspect(runner: ModelRunner, file: string, step: number, request: AnalysisRequest, opts: TrainOptions, json: boolean): Promise<number> {
  const out = await runner.inspectAtStep(file, step, request, {
    ...opts, onLog: (l) => say(json || l.stream === 'stderr' ? process.stderr : process.stdout, `${l.text}\n`),
  });
  if (!out.ok) {
    for (const e of out.errors) say(process.stderr, `${formatError(e)}\n`);
    return 1;
  }
  const a = out.answer;
  if (!('result' in a)) {
    say(process.stderr, 'backprop-lens: the model worker answered with a graph instead of an analysis\n');
    return 1;
  }
  const r = a.result;
  if (json) sayJson(JSON.stringify(r.report, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)));
  else say(process.stdout, `${r.kind === 'hessian' ? hessianText(r.report) : r.kind === 'landscape' ? landscapeText(r.report) : r.kind === 'playground' ? playgroundText(r.report) : JSON.stringify(r.report)}\n`);
  return 0;
}

/** NaN and ±Infinity as strings, like the trace JSON. */
function toJSON(r: TrainResult): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

async function train(runner: ModelRunner, file: string, opts: { timeoutMs?: number; memoryMb?: number; python?: PythonInfo }, overrides: TrainingOverrides, json: boolean): Promise<number> {
  const tty = !json && process.stderr.isTTY;
  const run = await runner.train(file, {
    ...opts, overrides,
    onLog: (l) => say(json || l.stream === 'stderr' ? process.stderr : process.stdout, `${l.text}\n`),
    // the CLI's own progress line rewrites itself with \r (nothing in it comes from the model)
    onProgress: tty ? (p) => process.stderr.write(`\rstep ${p.step}/${p.total}  ${Math.round(p.stepsPerSecond)} steps/s `) : undefined,
  });
  const out = await run.done;
  if (tty) say(process.stderr, '\n');
  if (!out.ok) {
    for (const e of out.errors) say(process.stderr, `${formatError(e)}\n`);
    if (out.partial) say(process.stderr, `(stopped after ${out.partial.step} of ${out.partial.total} steps)\n`);
    return 1;
  }
  if (json) sayJson(toJSON(out.result));
  else say(process.stdout, `${trainText(out.result)}\n`);
  return 0;
}
