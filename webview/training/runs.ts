/**
 * What the training view knows: the current run (history, layer summaries, findings, status, all as
 * the host streams them) and up to four earlier runs kept for comparison. Pure data, no DOM.
 */
import type { Finding, HistoryEntry, LayerHistory, TrainBackend, TrainOverrides, TrainProgress, TrainStatus, TrainingInfo } from '../../extension/protocol';
import { formatNumber } from '../format';
import { StepReservoir } from '../../engine/stats/reservoir';

/** Earlier runs whose loss curves stay on the chart. */
export const MAX_COMPARE = 4;
/**
 * Layer summaries kept per run: the first logged step, the newest and evenly spaced steps between
 * (a reservoir thinned to every other step when full), so initialization is still there at the end.
 */
export const MAX_LAYER_HISTORY = 240;

export interface Run {
  runId: number;
  history: HistoryEntry[];
  /** The logged steps' layer summaries that are kept (see MAX_LAYER_HISTORY), oldest first. */
  layers: LayerHistory[];
  /** Where `layers` comes from. */
  keptLayers: StepReservoir<LayerHistory>;
  findings: Finding[];
  step: number;
  total: number;
  stepsPerSecond: number;
  status: TrainStatus;
  message: string | null;
  /** The settings the run uses (from the host's status; until then, what the controls sent). */
  overrides: TrainOverrides;
  /** Where it runs (WebGPU and its adapter, or the CPU and why), once the host knows. */
  backend: TrainBackend | null;
  /** The version of the model file it trains (1 for the first text traced, counting each change). */
  fileVersion: number;
}

/** A finished or reset run, kept as a faint loss curve. */
export interface PastRun {
  /** Its own id (a run restarted under the same runId is kept apart). */
  id: number;
  label: string;
  /** What the label is made of: the settings part, which of its kind it is (2 for the second), and the file version (shown once there are several). */
  settings: string;
  uses: number;
  fileVersion: number;
  points: { step: number; loss: number }[];
  visible: boolean;
  /** Colour slot 0‥3 (free slots are reused, so colours stay put while a run is kept). */
  slot: number;
}

export class TrainingRuns {
  current: Run | null = null;
  past: PastRun[] = [];
  private pastSeq = 0;
  /** How often each label was used, to tell runs with the same settings apart. */
  private labelUses = new Map<string, number>();
  /** Bumped on every change, so the view redraws only when something moved. */
  version = 0;
  /** The model file's versions seen (hashes of its traced text), oldest first; the last is the file now. */
  private hashes: string[] = [];

  constructor(public info: TrainingInfo | null = null, private readonly sentOverrides: () => TrainOverrides = () => ({})) {}

  /** A new model file: nothing from the previous file's runs is comparable. */
  clear(): void {
    this.current = null;
    this.past = [];
    this.labelUses.clear();
    this.hashes = [];
    this.version++;
  }

  /** The version number of the file as last traced (1, 2, …; 0 before any trace said). */
  get fileVersion(): number {
    return this.hashes.length;
  }

  /** A new trace of the file, with the hash of its text: a text not seen last is a new version. */
  traced(hash: string | undefined): void {
    if (!hash || this.hashes[this.hashes.length - 1] === hash) return;
    this.hashes.push(hash);
    this.relabel();
    this.version++;
  }

  progress(runId: number, p: TrainProgress): void {
    const history = Array.isArray(p.history) ? p.history : [];
    let run = this.runFor(runId);
    // the same run id starting again from step 1 is a reset too
    const last = run.history[run.history.length - 1];
    if (last && history.length && history[0].step <= last.step) {
      this.archive();
      run = this.runFor(runId);
    }
    run.history.push(...history);
    if (Array.isArray(p.layers) && p.layers.length) {
      run.keptLayers.push(...p.layers);
      run.layers = run.keptLayers.items();
    }
    if (Array.isArray(p.findings)) run.findings = p.findings;
    run.step = p.step;
    run.total = p.total;
    run.stepsPerSecond = p.stepsPerSecond;
    if (run.status === 'idle' || run.status === 'running' || run.status === 'paused') run.status = p.paused ? 'paused' : 'running';
    this.version++;
  }

  status(runId: number, status: TrainStatus, step: number, total: number, overrides: TrainOverrides, message?: string, backend?: TrainBackend): void {
    const run = this.runFor(runId);
    if (backend) run.backend = backend;
    run.status = status;
    run.step = step;
    run.total = total;
    run.overrides = overrides ?? {};
    run.message = message ?? null;
    this.version++;
  }

  /** Keeps the current run's loss curve for comparison and forgets the run. */
  archive(): void {
    const run = this.current;
    this.current = null;
    this.version++;
    if (!run) return;
    const points = run.history.filter((h) => Number.isFinite(h.loss)).map((h) => ({ step: h.step, loss: h.loss }));
    if (!points.length) return;
    while (this.past.length >= MAX_COMPARE) this.past.shift();
    const used = new Set(this.past.map((r) => r.slot));
    const slot = [0, 1, 2, 3].find((s) => !used.has(s)) ?? 0;
    const settings = this.label(run.overrides);
    const key = `${run.fileVersion}|${settings}`;
    const uses = (this.labelUses.get(key) ?? 0) + 1;
    this.labelUses.set(key, uses);
    this.past.push({ id: ++this.pastSeq, label: '', settings, uses, fileVersion: run.fileVersion, points, visible: true, slot });
    this.relabel();
  }

  /** Labels from what each run used; the same settings on the same file again get (2), (3)…; the file version once there are several. */
  private relabel(): void {
    for (const r of this.past) {
      const version = this.hashes.length > 1 && r.fileVersion > 0 ? `file v${r.fileVersion} · ` : '';
      r.label = `${version}${r.settings}${r.uses > 1 ? ` (${r.uses})` : ''}`;
    }
  }

  toggle(id: number): void {
    const r = this.past.find((x) => x.id === id);
    if (r) r.visible = !r.visible;
    this.version++;
  }

  remove(id: number): void {
    this.past = this.past.filter((x) => x.id !== id);
    this.version++;
  }

  /**
   * `adam · lr 0.01 · cosine · 300 steps`: the optimizer and learning rate, and the schedule, steps
   * and batch size where they are not the file's (a kept run's label adds its file version).
   */
  label(o: TrainOverrides): string {
    const opt = o.optimizer ?? String(this.info?.optimizer.optimizer ?? 'optimizer');
    const lr = o.lr ?? this.info?.optimizer.lr;
    const parts = [typeof lr === 'number' ? `${opt} · lr ${formatNumber(lr)}` : opt];
    if (o.schedule && o.schedule !== 'constant') parts.push(o.schedule);
    if (o.steps !== undefined && o.steps !== this.info?.steps) parts.push(`${o.steps} steps`);
    if (o.batchSize !== undefined && o.batchSize !== this.info?.batchSize) parts.push(`batch ${o.batchSize}`);
    return parts.join(' · ');
  }

  private runFor(runId: number): Run {
    if (this.current && this.current.runId !== runId) this.archive();
    if (!this.current) {
      this.current = {
        runId, history: [], layers: [], keptLayers: new StepReservoir(MAX_LAYER_HISTORY), findings: [], step: 0, total: this.info?.steps ?? 0, stepsPerSecond: 0,
        status: 'idle', message: null, overrides: { ...this.sentOverrides() }, backend: null, fileVersion: this.fileVersion,
      };
    }
    return this.current;
  }
}
