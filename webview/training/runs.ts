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
}

/** A finished or reset run, kept as a faint loss curve. */
export interface PastRun {
  /** Its own id (a run restarted under the same runId is kept apart). */
  id: number;
  label: string;
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

  constructor(public info: TrainingInfo | null = null, private readonly sentOverrides: () => TrainOverrides = () => ({})) {}

  /** A new model file: nothing from the previous file's runs is comparable. */
  clear(): void {
    this.current = null;
    this.past = [];
    this.labelUses.clear();
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
    const base = this.label(run.overrides);
    const uses = (this.labelUses.get(base) ?? 0) + 1;
    this.labelUses.set(base, uses);
    this.past.push({ id: ++this.pastSeq, label: uses > 1 ? `${base} (${uses})` : base, points, visible: true, slot });
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

  /** `adam · lr 0.01 · cosine`: the optimizer, learning rate and (a chosen) schedule a run used. */
  label(o: TrainOverrides): string {
    const opt = o.optimizer ?? String(this.info?.optimizer.optimizer ?? 'optimizer');
    const lr = o.lr ?? this.info?.optimizer.lr;
    const base = typeof lr === 'number' ? `${opt} · lr ${formatNumber(lr)}` : opt;
    return o.schedule && o.schedule !== 'constant' ? `${base} · ${o.schedule}` : base;
  }

  private runFor(runId: number): Run {
    if (this.current && this.current.runId !== runId) this.archive();
    if (!this.current) {
      this.current = {
        runId, history: [], layers: [], keptLayers: new StepReservoir(MAX_LAYER_HISTORY), findings: [], step: 0, total: this.info?.steps ?? 0, stepsPerSecond: 0,
        status: 'idle', message: null, overrides: { ...this.sentOverrides() }, backend: null,
      };
    }
    return this.current;
  }
}
