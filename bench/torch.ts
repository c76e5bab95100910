/**
 * PyTorch benchmark (issue 16), figures only:
 *   (a) tracing a 1,000-op model (Show Graph on a .py file): the runner's wall time (ModelRunner.run,
 *       Python's start-up included), and from the package's own messages as they arrive on fd 3
 *       its start-up (spawn → `started`), the user's code under the tracer (`started` → `recording`)
 *       and the recording (`recording` → `result`), next to the same code run untraced;
 *   (b) watch(model, every=50)'s overhead on a training loop: an MLP 784-256-256-10 (ReLU, Adam,
 *       batch 128, random data) for 500 steps, with and without watch, in one Python process,
 *       interleaved (plain, watched, watched, plain, …), the records going to the runner's pipe as
 *       under Train; the overhead is the watched loop's extra time (watch() and close() included)
 *       as a percentage of the plain loop's (target ≤ 5%), from wall-time and CPU-time medians; and,
 *       as a figure a noisy machine disturbs less, watch's own time counted inside it (CPU time of
 *       its outermost calls) in one more watched loop, against a plain loop's CPU time.
 *
 *   npm run bench:torch                      table
 *   npm run bench:torch -- --json            the last stdout line is one JSON object
 *   options: --reps=N (watched and plain loops each, default 6), --steps=N (default 500),
 *            --every=N (default 50), --batch=N (default 128), --trace-reps=N (default 3), --cuda=1
 *            (the loop on the GPU); env BPL_PYTHON picks the interpreter
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { findPython, lines, type PythonInfo } from '../extension/runner/python';
import { ModelRunner } from '../extension/runner/runner';
import { benchArgs } from './args';

const ARGS = benchArgs({ reps: 6, steps: 500, every: 50, batch: 128, 'trace-reps': 3, cuda: 0 });
const ROOT = path.resolve(__dirname, '..');
const PACKAGE_DIR = path.join(ROOT, 'python');
const log = (s: string) => (ARGS.json ? process.stderr : process.stdout).write(`${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;

/** A chain of 333 × (mul, add, tanh) and a sum: 1,000 torch ops, one backward. */
const TRACE_MODEL = `import torch
torch.manual_seed(0)
x = torch.randn(64, requires_grad=True)
h = x
for i in range(333):
    h = torch.tanh(h * 1.01 + 0.1)
loss = h.sum()
loss.backward()
`;

/** The watched loop: one process, plain and watched repetitions interleaved; prints JSON. */
const WATCH_LOOP = `import json, sys, time
import torch
from torch import nn
from backprop_lens import watch

cfg = json.loads(sys.argv[1])
device = 'cuda' if cfg['cuda'] else 'cpu'
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)).to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(cfg['batch'], 784, device=device)
y = torch.randint(0, 10, (cfg['batch'],), device=device)
loss_fn = nn.CrossEntropyLoss()

def loop(n):
    for _ in range(n):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

def sync():
    if device == 'cuda':
        torch.cuda.synchronize()

def timed(every, steps):
    sync()
    t, c = time.perf_counter(), time.process_time()
    if every:
        w = watch(model, every=every)
        loop(steps)
        w.close()
    else:
        loop(steps)
    sync()
    return (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000

loop(50)
sync()
times = {'plain': [], 'watched': [], 'plainCpu': [], 'watchedCpu': []}
for r in range(cfg['reps']):
    for mode in (('plain', 'watched') if r % 2 == 0 else ('watched', 'plain')):
        wall, cpu = timed(cfg['every'] if mode == 'watched' else 0, cfg['steps'])
        times[mode].append(wall)
        times[mode + 'Cpu'].append(cpu)

# watch's own time, counted inside it (CPU time of its outermost calls: the wrappers' work apart
# from the optimizer's own step), in one more watched loop
from backprop_lens.watch import Watcher
own = {'perStep': 0.0, 'recorded': 0.0, 'setup': 0.0}
calls = {'perStep': 0, 'recorded': 0, 'setup': 0}
depth = [0]
def count(name, part):
    f = getattr(Watcher, name)
    def counted(self, *a, **k):
        if depth[0]:
            return f(self, *a, **k)
        depth[0] += 1
        c = time.process_time()
        try:
            return f(self, *a, **k)
        finally:
            own[part] += time.process_time() - c
            calls[part] += 1
            depth[0] -= 1
    setattr(Watcher, name, counted)
for name, part in (('_before_backward', 'perStep'), ('_after_backward', 'perStep'), ('_boundary', 'perStep'), ('_grad_norm', 'perStep'),
                   ('_end_step', 'perStep'), ('_covers', 'perStep'), ('_safe_layers', 'recorded'), ('_ratios', 'recorded'),
                   ('start', 'setup'), ('close', 'setup')):
    count(name, part)
sync()
c = time.process_time()
w = watch(model, every=cfg['every'])
loop(cfg['steps'])
w.close()
sync()
own_loop = (time.process_time() - c) * 1000
# what the counting itself adds to each counted call (two clock reads and the wrapper), taken out
def probe():
    return None
def counted_probe():
    if depth[0]:
        return probe()
    depth[0] += 1
    c = time.process_time()
    try:
        return probe()
    finally:
        own['probe'] = own.get('probe', 0.0) + time.process_time() - c
        depth[0] -= 1
k = 20000
c = time.process_time()
for _ in range(k):
    counted_probe()
per_call = (time.process_time() - c) / k
own = {part: max(0.0, own[part] - calls[part] * per_call) * 1000 for part in calls}
print(json.dumps({'times': times, 'own': own, 'ownLoopCpu': own_loop, 'threads': torch.get_num_threads(), 'torch': torch.__version__,
                  'device': torch.cuda.get_device_name() if device == 'cuda' else 'cpu'}))
`;


/** Runs python with the package on PYTHONPATH and BPL_FD=3; each message on fd 3 is timestamped as it arrives. */
function runPython(python: PythonInfo, args: string[], cwd: string): Promise<{ stdout: string; stderr: string; code: number | null; messages: { type: string; at: number }[]; t0: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(python.executable, ['-X', 'utf8', ...args], {
      cwd, stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONPATH: [PACKAGE_DIR, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), BPL_FD: '3', PYTHONDONTWRITEBYTECODE: '1' },
    });
    const messages: { type: string; at: number }[] = [];
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    lines(child.stdio[3] as Readable, (text) => {
      const at = performance.now();
      try {
        messages.push({ type: (JSON.parse(text) as { type: string }).type, at });
      } catch {
        messages.push({ type: 'garbage', at });
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code, messages, t0 }));
  });
}

async function tracing(python: PythonInfo, dir: string) {
  const file = path.join(dir, 'chain1000.py');
  fs.writeFileSync(file, TRACE_MODEL);
  const runner = new ModelRunner(path.join(ROOT, 'dist'));
  const wall: number[] = [], startup: number[] = [], user: number[] = [], recording: number[] = [], plain: number[] = [];
  let nodes = 0;
  try {
    for (let i = 0; i < ARGS['trace-reps']; i++) {
      const t = performance.now();
      const out = await runner.run(file, { python });
      wall.push(performance.now() - t);
      if (!out.ok) throw new Error(`tracing failed: ${out.errors.map((e) => e.message).join('; ')}`);
      nodes = out.snapshot.nodes.length;

      const r = await runPython(python, ['-m', 'backprop_lens', 'trace', file], dir);
      const at = (type: string) => r.messages.find((m) => m.type === type)?.at ?? NaN;
      if (!r.messages.some((m) => m.type === 'result')) throw new Error(`the trace sent ${r.messages.map((m) => m.type).join(', ')}\n${r.stderr}`);
      startup.push(at('started') - r.t0);
      user.push(at('recording') - at('started'));
      recording.push(at('result') - at('recording'));

      const p = await runPython(python, ['-c', `import time, runpy, torch\nt = time.perf_counter()\nrunpy.run_path(${JSON.stringify(file)}, run_name='__main__')\nprint((time.perf_counter() - t) * 1000)`], dir);
      plain.push(Number(p.stdout.trim()));
    }
  } finally {
    runner.dispose();
  }
  return { ops: 1000, nodes, wallMs: median(wall), startupMs: median(startup), userCodeTracedMs: median(user), recordingMs: median(recording), userCodePlainMs: median(plain) };
}

async function watching(python: PythonInfo, dir: string) {
  const file = path.join(dir, 'watch_loop.py');
  fs.writeFileSync(file, WATCH_LOOP);
  const cfg = { reps: ARGS.reps, steps: ARGS.steps, every: ARGS.every, batch: ARGS.batch, cuda: ARGS.cuda > 0 };
  const r = await runPython(python, [file, JSON.stringify(cfg)], dir);
  if (r.code !== 0) throw new Error(`the training loop failed:\n${r.stderr.slice(-3000)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    times: { plain: number[]; watched: number[]; plainCpu: number[]; watchedCpu: number[] };
    own: { perStep: number; recorded: number; setup: number }; ownLoopCpu: number; threads: number; torch: string; device: string;
  };
  const steps = r.messages.filter((m) => m.type === 'watch-step').length;
  const t = out.times;
  const pct = (w: number, p: number) => ((w - p) / p) * 100;
  const recordedSteps = 1 + Math.floor(cfg.steps / cfg.every) - (cfg.every === 1 ? 1 : 0);
  const ownMs = out.own.perStep + out.own.recorded + out.own.setup;
  return {
    model: 'MLP 784-256-256-10, ReLU, Adam, cross-entropy', batch: cfg.batch, steps: cfg.steps, every: cfg.every, reps: cfg.reps,
    device: out.device, threads: out.threads, torch: out.torch,
    plainMs: median(t.plain), watchedMs: median(t.watched), plainMsPerStep: median(t.plain) / cfg.steps,
    overheadPct: pct(median(t.watched), median(t.plain)), overheadPctCpu: pct(median(t.watchedCpu), median(t.plainCpu)),
    plainRuns: t.plain, watchedRuns: t.watched, plainCpuRuns: t.plainCpu, watchedCpuRuns: t.watchedCpu,
    recordsReceived: steps, recordsExpected: (cfg.reps + 1) * cfg.steps,
    own: {
      ms: ownMs, pctOfPlainCpu: (ownMs / median(t.plainCpu)) * 100,
      perUnrecordedStepUs: ((out.own.perStep / cfg.steps) * 1000), perRecordedStepMs: out.own.recorded / recordedSteps, watchAndCloseMs: out.own.setup,
      loopCpuMs: out.ownLoopCpu,
    },
  };
}

async function main() {
  const chosen = process.env.BPL_PYTHON ? [{ executable: process.env.BPL_PYTHON, source: 'environment' as const }] : [];
  const python = await findPython(chosen);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-bench-torch-'));
  try {
    log(`Python ${python.version} (${python.executable}), torch ${python.torch}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`);
    const t = await tracing(python, dir);
    log('\n(a) tracing a 1,000-op model (median of ' + ARGS['trace-reps'] + ')');
    log(`  runner wall time (Python start-up included)   ${ms(t.wallMs)}   (${t.nodes} nodes)`);
    log(`  start-up (spawn → started)                      ${ms(t.startupMs)}`);
    log(`  user code under the tracer (started → recording) ${ms(t.userCodeTracedMs)}`);
    log(`  recording (recording → result)                  ${ms(t.recordingMs)}`);
    log(`  the same code untraced                          ${ms(t.userCodePlainMs)}`);
    const w = await watching(python, dir);
    log(`\n(b) watch(model, every=${w.every}) on ${w.model}, batch ${w.batch}, ${w.steps} steps, ${w.device}, ${w.threads} threads (median of ${w.reps} each, interleaved)`);
    log(`  plain loop     ${ms(w.plainMs)}  (${w.plainMsPerStep.toFixed(2)} ms/step)   runs: ${w.plainRuns.map((x) => x.toFixed(0)).join(' ')}`);
    log(`  watched loop   ${ms(w.watchedMs)}   runs: ${w.watchedRuns.map((x) => x.toFixed(0)).join(' ')}`);
    log(`  overhead       ${w.overheadPct.toFixed(2)}% of the wall-time medians, ${w.overheadPctCpu.toFixed(2)}% of the CPU-time medians (target ≤ 5%)`);
    const o = w.own;
    log(`  watch's own time in one more watched loop: ${ms(o.ms)} = ${o.pctOfPlainCpu.toFixed(2)}% of a plain loop's CPU time`);
    log(`    ${o.perUnrecordedStepUs.toFixed(0)} µs a step, ${o.perRecordedStepMs.toFixed(2)} ms more a recorded step, ${o.watchAndCloseMs.toFixed(2)} ms watch() and close();   records received ${w.recordsReceived} of ${w.recordsExpected}`);
    if (ARGS.json) process.stdout.write(`${JSON.stringify({ python: { executable: python.executable, version: python.version, torch: python.torch }, tracing: t, watch: w })}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
