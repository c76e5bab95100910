/**
 * A watched PyTorch training run (watch-records.ts) as the engine's own training results: the loss
 * history, the layer summaries per logged step and the diagnosis, with the same rules a TypeScript
 * run gets. Fed record by record (a live run) or all at once (a training log).
 */
import { diagnose, isTransient, type Finding } from '../stats/diagnosis';
import type { HistoryEntry, LayerHistory, TrainResult } from './trainer';
import { WATCH_VERSION, type WatchEnd, type WatchRecord, type WatchStart } from './watch-records';

/** What a watched run has produced: the history and layer summaries, and the findings at the latest logged step. */
export class WatchedRun {
  start: WatchStart | null = null;
  end: WatchEnd | null = null;
  readonly history: HistoryEntry[] = [];
  readonly layers: LayerHistory[] = [];
  findings: Finding[] = [];
  /** Findings of earlier logged steps that are not repeated at the latest one (TrainResult.diagnosis keeps them). */
  private readonly earlier: Finding[] = [];
  private readonly losses: number[] = [];

  /** Adds one record; returns what it added (for a live view), or a problem with the record. */
  add(r: WatchRecord): { history: HistoryEntry[]; layers: LayerHistory[] } | { problem: string } {
    switch (r.type) {
      case 'watch-start':
        if (r.version !== WATCH_VERSION) return { problem: `a watch record of version ${String(r.version)}; this Backprop Lens reads version ${WATCH_VERSION}` };
        this.start = r;
        return { history: [], layers: [] };
      case 'watch-step': {
        const added: { history: HistoryEntry[]; layers: LayerHistory[] } = { history: [], layers: [] };
        if (typeof r.step !== 'number') return { problem: 'a watch step without a step number' };
        if (r.loss !== null && typeof r.loss === 'number') {
          const h: HistoryEntry = { step: r.step, loss: r.loss, lr: r.lr ?? NaN, gradNorm: r.gradNorm ?? NaN };
          this.history.push(h);
          this.losses.push(r.loss);
          added.history.push(h);
        }
        if (Array.isArray(r.layers)) {
          const l: LayerHistory = { step: r.step, layers: r.layers };
          this.layers.push(l);
          added.layers.push(l);
          const now = diagnose({ layers: r.layers, step: r.step, losses: this.losses, api: 'pytorch' });
          for (const f of this.findings) if (!now.some((g) => g.code === f.code && g.layer === f.layer) && !isTransient(f)) this.earlier.push(f);
          this.findings = now;
        }
        return added;
      }
      case 'watch-end':
        this.end = r;
        return { history: [], layers: [] };
      default:
        return { problem: `a watch record of type ${JSON.stringify((r as { type?: unknown }).type).slice(0, 40)}` };
    }
  }

  /** The run as a TrainResult (what `backprop-lens train script.py --json` prints). */
  result(): TrainResult {
    const steps = this.end?.steps ?? this.history[this.history.length - 1]?.step ?? 0;
    return {
      optimizer: { optimizer: 'pytorch' }, schedule: { kind: 'pytorch', options: {} } as TrainResult['schedule'],
      steps, stoppedEarly: this.end && this.end.reason !== 'finished' ? this.end.reason : null,
      batchSize: null, seed: 0, history: this.history, params: [], layers: this.layers,
      diagnosis: [...this.findings, ...this.earlier.filter((f, i, all) => all.findIndex((g) => g.code === f.code && g.layer === f.layer) === i && !this.findings.some((g) => g.code === f.code && g.layer === f.layer))],
    };
  }
}

/** Reads a training log (`<log_dir>/backprop-lens.jsonl`): every record in order; lines that are not records are reported, not fatal. */
export function readWatchLog(text: string): { run: WatchedRun; problems: string[] } {
  const run = new WatchedRun();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch {
      problems.push(`line ${i + 1} is not JSON`);
      return;
    }
    if (typeof r !== 'object' || r === null) {
      problems.push(`line ${i + 1} is not a record`);
      return;
    }
    const added = run.add(r as WatchRecord);
    if ('problem' in added) problems.push(`line ${i + 1}: ${added.problem}`);
  });
  return { run, problems };
}
