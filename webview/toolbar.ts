/** The toolbar (mode, stepping, fit, layout direction, re-run) and the status line. */
import type { ViewMode } from '../extension/protocol';
import { el, toolButton } from './dom';

export interface ToolbarActions {
  mode(mode: ViewMode): void;
  first(): void;
  prev(): void;
  next(): void;
  last(): void;
  play(): void;
  /** Cycle the play speed. */
  speed(): void;
  fit(): void;
  direction(): void;
  rerun(): void;
  search(query: string): void;
  /** Collapse every group (to the outermost), or expand all when some are collapsed. */
  collapseAll(): void;
  /** Show the graph or the training view. */
  view(view: PanelView): void;
}

export type PanelView = 'graph' | 'training';

export interface ToolbarState {
  mode: ViewMode;
  step: number;
  total: number;
  playing: boolean;
  speed: number;
  hasGraph: boolean;
  direction: 'TB' | 'LR';
  /** The graph has no groups, none collapsed, or some collapsed. */
  groups: 'none' | 'expanded' | 'collapsed';
  view: PanelView;
  /** The file exports a training spec: offer the training view. */
  canTrain: boolean;
}

export class Toolbar {
  readonly root: HTMLElement;
  readonly buttons: Record<string, HTMLElement>;
  private readonly label: HTMLElement;
  private readonly searchBox: HTMLInputElement;

  constructor(a: ToolbarActions) {
    this.root = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Graph controls' });
    const modeForward = toolButton('arrow-down', 'Forward pass: reveal values node by node', 'mode-forward', () => a.mode('forward'));
    modeForward.textContent = 'Forward';
    const modeBackward = toolButton('arrow-up', 'Backward pass: send gradients node by node', 'mode-backward', () => a.mode('backward'));
    modeBackward.textContent = 'Backward';
    const viewGraph = toolButton('type-hierarchy-sub', 'Show the computational graph', 'view-graph', () => a.view('graph'));
    viewGraph.textContent = 'Graph';
    const viewTraining = toolButton('graph-line', 'Train the model and watch it learn', 'view-training', () => a.view('training'));
    viewTraining.textContent = 'Training';
    this.buttons = {
      viewGraph, viewTraining,
      modeForward, modeBackward,
      first: toolButton('debug-reverse-continue', 'First step', 'step-first', a.first),
      prev: toolButton('debug-step-back', 'Previous step', 'step-prev', a.prev),
      next: toolButton('debug-step-over', 'Next step', 'step-next', a.next),
      last: toolButton('debug-continue', 'Last step', 'step-last', a.last),
      play: toolButton('play', 'Play the steps', 'step-play', a.play),
      speed: toolButton('dashboard', 'Play speed', 'play-speed', a.speed),
      fit: toolButton('screen-full', 'Fit the graph to the view', 'fit', a.fit),
      direction: toolButton('arrow-swap', 'Switch layout direction', 'direction', a.direction),
      collapse: toolButton('collapse-all', 'Collapse all groups', 'collapse-all', a.collapseAll),
      rerun: toolButton('refresh', 'Re-run the model', 'rerun', a.rerun),
    };
    this.label = el('span', { class: 'step-label', 'data-testid': 'step-label', 'aria-live': 'polite' });
    this.searchBox = el('input', { type: 'search', class: 'search', placeholder: 'Find node…', 'aria-label': 'Find node by name or op', 'data-testid': 'search' });
    this.searchBox.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') a.search(this.searchBox.value);
    });
    const group = (...items: HTMLElement[]) => {
      const g = el('div', { class: 'tb-group graph-only' });
      g.append(...items);
      return g;
    };
    const b = this.buttons;
    const views = el('div', { class: 'tb-group view-switch', role: 'group', 'aria-label': 'View' });
    views.append(b.viewGraph, b.viewTraining);
    this.root.append(
      views,
      group(b.modeForward, b.modeBackward),
      group(b.first, b.prev, this.label, b.next, b.last, b.play, b.speed),
      group(b.fit, b.direction, b.collapse, this.searchBox),
      el('span', { class: 'tb-spacer' }),
      group(b.rerun),
    );
    b.rerun.parentElement!.classList.remove('graph-only');
  }

  update(s: ToolbarState): void {
    const b = this.buttons;
    const setDisabled = (e: HTMLElement, off: boolean) => {
      e.toggleAttribute('disabled', off);
      e.setAttribute('aria-disabled', String(off));
    };
    for (const [v, e] of [['graph', b.viewGraph], ['training', b.viewTraining]] as const) {
      e.classList.toggle('active', s.view === v);
      e.setAttribute('aria-pressed', String(s.view === v));
    }
    b.viewGraph.parentElement!.hidden = !s.canTrain;
    for (const [m, e] of [['forward', b.modeForward], ['backward', b.modeBackward]] as const) {
      e.classList.toggle('active', s.mode === m);
      e.setAttribute('aria-pressed', String(s.mode === m));
      setDisabled(e, !s.hasGraph);
    }
    setDisabled(b.first, !s.hasGraph || s.step === 0);
    setDisabled(b.prev, !s.hasGraph || s.step === 0);
    setDisabled(b.next, !s.hasGraph || s.step >= s.total);
    setDisabled(b.last, !s.hasGraph || s.step >= s.total);
    setDisabled(b.play, !s.hasGraph || (s.step >= s.total && !s.playing));
    setDisabled(b.fit, !s.hasGraph);
    setDisabled(b.direction, !s.hasGraph);
    b.play.setAttribute('icon', s.playing ? 'debug-pause' : 'play');
    const speedText = `${s.speed}×`;
    if (b.speed.textContent !== speedText) b.speed.textContent = speedText;
    b.speed.setAttribute('label', `Play speed ${speedText}: click for the next speed`);
    b.speed.setAttribute('title', `Play speed ${speedText} (click to change)`);
    setDisabled(b.speed, !s.hasGraph);
    b.play.setAttribute('label', s.playing ? 'Pause' : 'Play the steps');
    b.direction.setAttribute('label', s.direction === 'TB' ? 'Lay out left to right' : 'Lay out top to bottom');
    setDisabled(b.collapse, !s.hasGraph || s.groups === 'none');
    const expand = s.groups === 'collapsed';
    b.collapse.setAttribute('icon', expand ? 'expand-all' : 'collapse-all');
    b.collapse.setAttribute('label', expand ? 'Expand all groups' : 'Collapse all groups');
    b.collapse.setAttribute('title', expand ? 'Expand all groups' : 'Collapse all groups');
    b.collapse.dataset.state = s.groups;
    this.label.textContent = s.hasGraph ? `${s.mode === 'backward' ? 'Backward' : 'Forward'} ${s.step}/${s.total}` : '';
  }
}

export class StatusLine {
  readonly root: HTMLElement;
  private readonly text: HTMLElement;
  private readonly progress: HTMLElement;

  constructor() {
    this.root = el('footer', { class: 'status' });
    this.progress = document.createElement('vscode-progress-bar');
    this.progress.setAttribute('indeterminate', '');
    this.progress.setAttribute('aria-label', 'Running the model');
    this.progress.classList.add('progress');
    this.text = el('span', { 'data-testid': 'status', role: 'status' });
    this.root.append(this.progress, this.text);
  }

  /** `warning`: a NaN/Inf finding, shown after the text with a warning icon. */
  update(text: string, running: boolean, warning: string | null = null): void {
    this.text.replaceChildren(text);
    if (warning) {
      const w = el('span', { class: 'status-warning', 'data-testid': 'status-warning' });
      w.append(' · ', el('i', { class: 'codicon codicon-warning', 'aria-hidden': 'true' }), ` ${warning}`);
      this.text.append(w);
    }
    this.progress.hidden = !running;
    this.root.classList.toggle('running', running);
  }
}
