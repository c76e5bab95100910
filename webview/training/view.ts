/**
 * The training view: controls on top, then the loss curve, the diagnosis, gradient flow, the
 * activation table and the histograms over steps. Host messages only update the data; drawing
 * happens at most once per animation frame, and only while the view is shown.
 */
import type {
  AnalysisKind, AnalysisRequest, AnalysisResult, Finding, GradcheckReport, GraphSnapshot, HessianReport, HostMessage, LandscapeReport, BoundaryReport, TraceReport, LayerHistory, LayerStats, PlaygroundReport,
  TrainAction, TrainOverrides, TrainingInfo, WebviewMessage,
} from '../../extension/protocol';
import { isHealthFinding } from '../../engine/stats/diagnosis';
import { analysesFor } from '../../engine/check/analysis';
import { button, el } from '../dom';
import { basename } from '../format';
import { ActivationTable } from './activationTable';
import { TrainControls } from './controls';
import { FindingsList } from './findings';
import type { AnalysisState } from './analysisCard';
import { GradcheckCard } from './gradcheckCard';
import { HessianCard } from './hessianCard';
import { LandscapeCard } from './landscapeCard';
import { PlaygroundCard } from './playgroundCard';
import { GradFlow } from './gradFlow';
import { Histograms } from './histograms';
import { LossChart } from './lossChart';
import { AccuracyChart } from './accuracyChart';
import { LrChart } from './lrChart';
import { BoundaryCard } from './boundaryCard';
import { TraceCard } from './traceCard';
import { TrainingRuns } from './runs';

export type TrainMessage = Extract<HostMessage, { type: 'trainProgress' | 'trainStatus' | 'analysis' | 'analyses' }>;

export interface TrainingViewEvents {
  /** A gradient check finished: the parameters that failed (by name), to mark in the graph. */
  gradcheck(failed: string[]): void;
  /** Show a parameter in the graph. */
  selectParam(name: string): void;
}

type Analyses = { gradcheck: AnalysisState<GradcheckReport>; hessian: AnalysisState<HessianReport>; landscape: AnalysisState<LandscapeReport>; playground: AnalysisState<PlaygroundReport>; boundary: AnalysisState<BoundaryReport>; trace: AnalysisState<TraceReport> };
const idle = () => ({ pending: false, report: null, error: null });
const allIdle = (): Analyses => ({ gradcheck: idle(), hessian: idle(), landscape: idle(), playground: idle(), boundary: idle(), trace: idle() });

export class TrainingView {
  readonly root: HTMLElement;
  private posts = 0;
  private info: TrainingInfo | null = null;
  private file = '';
  /** The traced step's layers and findings: shown until a run reports its own. */
  private traced: { layers: LayerStats[]; findings: Finding[] } = { layers: [], findings: [] };
  private shown = false;
  private frame: number | null = null;
  /** Frames drawn (the tests check that bursts of progress are drawn once). */
  private renders = 0;
  private sent: TrainOverrides = {};
  private readonly runs = new TrainingRuns(null, () => this.sent);
  private readonly controls: TrainControls;
  private readonly loss: LossChart;
  private readonly accuracy = new AccuracyChart();
  private readonly lr = new LrChart();
  private readonly findings: FindingsList;
  private readonly gradFlow = new GradFlow();
  private readonly activations = new ActivationTable();
  private readonly histograms: Histograms;
  private readonly gradcheck: GradcheckCard;
  private readonly landscape: LandscapeCard;
  private readonly playground: PlaygroundCard;
  private analyses: Analyses = allIdle();
  private readonly hessian = new HessianCard({ run: () => this.analyze({ kind: 'hessian' }) });
  private readonly trace = new TraceCard({ run: () => this.analyze({ kind: 'trace' }) });
  private readonly boundary = new BoundaryCard({ run: () => this.analyze({ kind: 'boundary' }) });
  /** The request each tool waits for (a newer request replaces an older one). */
  private readonly waiting: Partial<Record<AnalysisKind, number>> = {};
  private requestSeq = 0;

  constructor(private readonly post: (m: WebviewMessage) => void, private readonly events: TrainingViewEvents) {
    this.root = el('div', { class: 'training panel', 'data-testid': 'training-view', role: 'region', 'aria-label': 'Training' });
    this.root.hidden = true;
    const redraw = () => this.schedule();
    this.controls = new TrainControls({ action: (action, overrides) => this.train(action, overrides) });
    this.controls.onChange = redraw;
    this.loss = new LossChart({ toggle: (id) => { this.runs.toggle(id); redraw(); }, remove: (id) => { this.runs.remove(id); redraw(); } }, redraw);
    this.findings = new FindingsList({
      reveal: (src) => this.post({ type: 'revealSource', file: src.file || this.file, line: Math.max(1, src.line), column: Math.max(0, src.column ?? 0) }),
    });
    this.histograms = new Histograms(redraw);
    this.gradcheck = new GradcheckCard({ run: () => this.analyze({ kind: 'gradcheck' }), select: (name) => this.events.selectParam(name) });
    this.landscape = new LandscapeCard({ run: (o) => this.analyze({ kind: 'landscape', ...o }) });
    this.playground = new PlaygroundCard({ run: (r) => this.analyze(r) });
    const grid = el('div', { class: 'tr-grid' });
    grid.append(this.loss.root, this.accuracy.root, this.boundary.root, this.trace.root, this.lr.root, this.findings.root, this.gradFlow.root, this.activations.root, this.histograms.root, this.gradcheck.root, this.hessian.root, this.landscape.root, this.playground.root);
    // the file changed since the run started: say so, and offer the run again on the new text
    this.changed = el('div', { class: 'tr-file-changed', 'data-testid': 'file-changed', role: 'status' });
    this.changedText = el('span', {});
    this.changed.append(el('i', { class: 'codicon codicon-info', 'aria-hidden': 'true' }), this.changedText,
      button('debug-restart', 'Train the new version', () => this.rerun(), 'file-changed-rerun'));
    this.changed.hidden = true;
    this.root.append(this.controls.root, this.changed, grid);
    let width = 0;
    new ResizeObserver(() => {
      if (this.root.clientWidth !== width) {
        width = this.root.clientWidth;
        redraw();
      }
    }).observe(this.root);
  }

  private readonly changed: HTMLElement;
  private readonly changedText: HTMLElement;

  /** Starts over on the file as it is now, with the settings in the inputs (the run that was shown stays as a compare line). */
  private rerun(): void {
    const o = this.controls.overrides();
    if (!o) return;
    this.train('reset', o);
    this.train('run', o);
  }

  /** A new trace. Runs of the same file stay (to compare before and after an edit); another file starts afresh. */
  setSnapshot(s: GraphSnapshot): void {
    const info = s.training ?? null;
    const fileChanged = s.file !== this.file;
    if (fileChanged) {
      this.runs.clear();
      this.analyses = allIdle();
      this.events.gradcheck([]);
    }
    if (info && (fileChanged || JSON.stringify(info) !== JSON.stringify(this.info))) this.controls.setInfo(info);
    this.file = s.file;
    this.info = info;
    this.runs.info = info;
    this.runs.traced(s.sourceHash);
    this.traced = {
      layers: Array.isArray(s.layers) ? s.layers : [],
      findings: s.diagnosis.filter(isHealthFinding),
    };
    this.schedule();
  }

  handle(m: TrainMessage): void {
    if (m.type === 'trainProgress') this.runs.progress(m.runId, m.progress);
    else if (m.type === 'trainStatus') this.runs.status(m.runId, m.status, m.step, m.total, m.overrides, m.message, m.backend);
    else if (m.type === 'analyses') this.computed(m);
    else this.answered(m);
    this.schedule();
  }

  /** Asks the host for a gradient check, a landscape or a playground run (at the current training step). */
  private analyze(request: AnalysisRequest): void {
    const requestId = ++this.requestSeq;
    this.waiting[request.kind] = requestId;
    this.analyses[request.kind] = { ...this.analyses[request.kind], pending: true, error: null } as never;
    this.post({ type: 'analyze', requestId, request });
    this.schedule();
  }

  private answered(m: Extract<HostMessage, { type: 'analysis' }>): void {
    const kind = (Object.keys(this.waiting) as AnalysisKind[]).find((k) => this.waiting[k] === m.requestId);
    if (!kind) return; // an answer to a request that a newer one replaced
    this.settle(kind, m.result, m.error);
  }

  /** Analyses computed before anyone asked (the standalone report carries them): each card shows its own. */
  private computed(m: Extract<HostMessage, { type: 'analyses' }>): void {
    for (const a of m.answers) this.settle(a.kind, a.result, a.error);
  }

  /** A tool's report, or why there is none (a report of another kind counts as none); failed gradient checks are marked in the graph. */
  private settle(kind: AnalysisKind, r: AnalysisResult | null, error: { file: string; line: number | null; message: string } | undefined): void {
    delete this.waiting[kind];
    if (r && r.kind === kind) {
      this.analyses[kind] = { pending: false, report: r.report, error: null } as never;
      if (r.kind === 'gradcheck') this.events.gradcheck(r.report.params.filter((p) => !p.passed).map((p) => p.name));
    } else {
      this.analyses[kind] = { ...this.analyses[kind], pending: false, error: error ? errorText(error) : 'No answer.' } as never;
    }
  }

  setShown(shown: boolean): void {
    if (shown === this.shown) return;
    this.shown = shown;
    this.root.hidden = !shown;
    this.schedule();
  }

  private train(action: TrainAction, overrides: TrainOverrides): void {
    // the last request sent, for tests and for a person reading the DOM: "3 pause"
    this.root.dataset.posted = `${++this.posts} ${action}`;
    if (action === 'pause') {
      this.post({ type: 'train', action });
      return;
    }
    this.sent = overrides;
    this.post({ type: 'train', action, overrides });
  }

  private schedule(): void {
    if (!this.shown || this.frame !== null) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.render();
    });
  }

  private render(): void {
    const run = this.runs.current;
    const logged: LayerHistory[] = run?.layers.length ? run.layers : this.traced.layers.length ? [{ step: 0, layers: this.traced.layers }] : [];
    const latest = logged[logged.length - 1] ?? null;
    const reported = !!run && (run.history.length > 0 || run.layers.length > 0);
    this.controls.render(run, this.info);
    const stale = !!run && run.step > 0 && run.fileVersion > 0 && run.fileVersion < this.runs.fileVersion && !(this.info?.watched || this.info?.log);
    this.changed.hidden = !stale;
    if (stale) this.changedText.textContent = ` The file changed since this run started (it trains version ${run!.fileVersion}; the file is at version ${this.runs.fileVersion}).`;
    this.root.dataset.fileVersion = String(this.runs.fileVersion);
    this.loss.render(run, this.runs.past);
    this.accuracy.render(run);
    this.lr.render(run);
    this.findings.render(reported ? run!.findings : this.traced.findings, reported ? 'run' : this.traced.layers.length ? 'traced' : 'none');
    this.gradFlow.render(latest?.layers ?? [], latest?.step ?? null);
    this.activations.render(latest?.layers ?? [], latest?.step ?? null);
    this.histograms.render(logged);
    // the analysis tools drive a TypeScript training spec; a watched PyTorch script is only watched,
    // and a standalone report shows what was computed when it was written
    const canAnalyze = !!this.info && !this.info.watched && !this.info.report;
    const applies = new Set(this.info && !this.info.watched ? analysesFor(this.info) : []);
    this.root.classList.toggle('report', !!this.info?.report);
    this.gradcheck.render(this.analyses.gradcheck, canAnalyze);
    this.hessian.render(this.analyses.hessian, applies.has('hessian'), canAnalyze);
    this.landscape.render(this.analyses.landscape, canAnalyze);
    this.playground.render(this.analyses.playground, this.info?.surface ?? null);
    this.boundary.render(this.analyses.boundary, applies.has('boundary'), canAnalyze);
    this.trace.render(this.analyses.trace, applies.has('trace'), canAnalyze);
    this.root.dataset.runId = String(run?.runId ?? '');
    this.root.dataset.history = String(run?.history.length ?? 0);
    this.root.dataset.step = String(run?.step ?? 0);
    this.root.dataset.backend = run?.backend?.kind ?? '';
    this.root.dataset.lossSamples = run ? lossSamples(run.history) : '';
    this.root.dataset.status = run?.status ?? 'idle';
    this.root.dataset.version = String(this.runs.version);
    this.root.dataset.renders = String(++this.renders);
  }
}

/** A failed analysis, located in the user's file where it is theirs. */
function errorText(e: { file: string; line: number | null; message: string }): string {
  return `${e.line ? `${basename(e.file)}:${e.line}: ` : ''}${e.message}`;
}

/** `step:loss` at the first step and about every tenth of the history (full precision: tests compare runs by it). */
function lossSamples(history: readonly { step: number; loss: number }[]): string {
  if (!history.length) return '';
  const picks = new Set<number>([0, history.length - 1]);
  for (let k = 1; k < 10; k++) picks.add(Math.floor((k * (history.length - 1)) / 10));
  return [...picks].sort((a, b) => a - b).map((i) => `${history[i].step}:${history[i].loss}`).join(' ');
}
