/** The toolbar (views, mode, stepping, fit, layout direction, groups, search, re-run) and the status line. */
import type { GraphSnapshot, ViewMode } from '../extension/protocol';
import { el, toolButton } from './dom';
import { basename, fullName } from './format';
import type { NonFinite } from './nonfinite';
import { VIEWS, type PanelView } from './views';
import type { Direction, PanelState } from './state';

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
  /** Show the graph or a panel (panels.ts). */
  view(view: PanelView): void;
}

export interface ToolbarState {
  mode: ViewMode;
  step: number;
  total: number;
  playing: boolean;
  speed: number;
  hasGraph: boolean;
  direction: Direction;
  /** The graph has no groups, none collapsed, or some collapsed. */
  groups: 'none' | 'expanded' | 'collapsed';
  view: PanelView;
  /** The views this snapshot offers (the switch shows when there is more than the graph). */
  offered: readonly PanelView[];
}

export class Toolbar {
  readonly root: HTMLElement;
  readonly buttons: Record<string, HTMLElement>;
  private readonly views: Map<PanelView, HTMLElement>;
  private readonly label: HTMLElement;
  private readonly searchBox: HTMLInputElement;

  constructor(a: ToolbarActions) {
    this.root = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Graph controls' });
    const modeForward = toolButton('arrow-down', 'Forward pass: reveal values node by node', 'mode-forward', () => a.mode('forward'));
    modeForward.textContent = 'Forward';
    const modeBackward = toolButton('arrow-up', 'Backward pass: send gradients node by node', 'mode-backward', () => a.mode('backward'));
    modeBackward.textContent = 'Backward';
    this.views = new Map(VIEWS.map((v) => {
      const b = toolButton(v.icon, v.title, `view-${v.id}`, () => a.view(v.id));
      b.textContent = v.label;
      return [v.id, b];
    }));
    this.buttons = {
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
    views.append(...this.views.values());
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
    for (const [v, e] of this.views) {
      e.classList.toggle('active', s.view === v);
      e.setAttribute('aria-pressed', String(s.view === v));
      e.hidden = !s.offered.includes(v);
    }
    this.views.get('graph')!.parentElement!.hidden = s.offered.length < 2;
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

/** The status line's text: `model.ts · 12 nodes (5 shown) · traced`. */
export function statusText(st: PanelState, shownNodes: number | null): string {
  const s = st.graph?.snapshot ?? null;
  const phaseText: Record<PanelState['phase'], string> = { waiting: 'waiting for the trace', running: 'running…', ready: 'traced', errors: 'failed', untrusted: 'Restricted Mode' };
  const parts = [st.fileName || (s ? basename(s.file) : '')].filter(Boolean);
  if (s) {
    const shown = shownNodes !== null && shownNodes < s.nodes.length ? ` (${shownNodes} shown)` : '';
    parts.push(`${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'}${shown}`);
  }
  parts.push(st.phase === 'ready' && st.trainStep !== null ? `at training step ${st.trainStep}` : phaseText[st.phase]);
  // a PyTorch file: which PyTorch and which Python ran it
  if (s?.runtime) parts.push(`PyTorch ${s.runtime.torch} · ${s.runtime.python}`);
  return parts.join(' · ');
}

/** `NaN first appears at log (line 7)`; null when everything is finite. */
export function nonfiniteText(s: GraphSnapshot, nf: NonFinite): string | null {
  if (nf.first === null) return null;
  const n = s.nodes[nf.first];
  const line = nf.source?.line;
  const what = n.name ? `${fullName(n.name)} (${n.op}${line ? `, line ${line}` : ''})` : `${n.op}${line ? ` (line ${line})` : ''}`;
  return `${nf.what} first appears ${nf.phase === 'backward' ? 'in the backward pass ' : ''}at ${what}`;
}
