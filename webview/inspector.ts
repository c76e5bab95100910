/**
 * The inspector: the chain rule of the current step, then the selected node (op, formula, shapes,
 * value and gradient with summaries, a table up to 64 elements or a histogram beyond, its source).
 * Every user-provided string goes in through textContent; names are shown whole up to NAME_MAX
 * characters (`fullName`) and with their controls and bidirectional controls escaped, messages that
 * quote them with the bidirectional controls escaped (`escapeBidi`).
 */
import * as d3 from 'd3';
import type { GraphSnapshot, SnapshotNode, TensorPayload, TensorStats, TensorWhich } from '../extension/protocol';
import { backwardChain, forwardChain, gradientStory } from './chainRule';
import { basename, escapeBidi, fmt, fullName, largestAbs, nodeRef, shapeText, signClass, tensorHeatLegend, tensorOpacity, tick } from './format';
import type { StepView } from './stepper';
import type { NonFinite } from './nonfinite';
import { el, button } from './dom';
import { curveLeaf, tangentSection } from './tangent';
import { elementChainSection } from './elementChain';
import { graphGradScale, type GradScale } from './gradScale';

export interface InspectorEvents {
  revealSource(node: SnapshotNode): void;
  fetchTensor(node: number, which: TensorWhich): void;
  select(id: number): void;
  toggleGroup(key: string): void;
}

/** What the inspector needs to know beyond the snapshot: NaN/Inf findings and collapsed groups. */
export interface InspectorContext {
  nonfinite: NonFinite | null;
  /** The selected node is shown by this collapsed group. */
  collapsedGroup: { key: string; label: string; size: number } | null;
}

const TABLE_MAX = 64;

export class Inspector {
  readonly root: HTMLElement;
  private readonly chain: HTMLElement;
  private readonly details: HTMLElement;
  private readonly diagnosis: HTMLElement;
  /** Tensors fetched on demand, by `node:which`. */
  private fetched = new Map<string, TensorPayload | string>();
  /** The gradient heatmap's colour scale: this tensor's largest |x|, or the graph's one log scale. */
  private heatScale: 'tensor' | 'graph' = 'tensor';
  /** The element picked in a tensor (a table cell, heatmap cell or pixel): its chain rule is written out. */
  private picked: { node: number; index: number } | null = null;
  private last: { s: GraphSnapshot | null; view: StepView | null; selected: number | null; ctx: InspectorContext } | null = null;

  constructor(private readonly events: InspectorEvents) {
    this.root = el('aside', { class: 'inspector', 'data-testid': 'inspector', 'aria-label': 'Inspector' });
    this.chain = el('section', { class: 'chain-rule', 'data-testid': 'chain-rule', 'aria-live': 'polite' });
    this.details = el('section', { class: 'details' });
    this.diagnosis = el('section', { class: 'diagnosis' });
    this.root.append(this.chain, this.details, this.diagnosis);
  }

  resetFetched(): void {
    this.fetched.clear();
  }

  tensorArrived(node: number, which: TensorWhich, data: TensorPayload, reason?: string): void {
    this.fetched.set(`${node}:${which}`, data ?? reason ?? 'not available');
  }

  render(s: GraphSnapshot | null, view: StepView | null, selected: number | null, ctx: InspectorContext = { nonfinite: null, collapsedGroup: null }): void {
    this.last = { s, view, selected, ctx };
    if (this.picked && (this.picked.node !== selected || !s || this.picked.index >= (s.nodes[this.picked.node]?.size ?? 0))) this.picked = null;
    this.renderChain(s, view);
    this.renderDetails(s, selected, ctx);
    this.renderDiagnosis(s);
  }

  private renderChain(s: GraphSnapshot | null, view: StepView | null): void {
    this.chain.replaceChildren();
    if (!s || !view) return;
    const text = view.mode === 'backward' ? backwardChain(s, view.step) : forwardChain(s, view.step);
    if (!text) {
      const hint = view.mode === 'backward'
        ? (s.backward.length ? 'Step forward (Next) to send the gradient backward from the output, one node at a time.' : 'This graph has no backward pass.')
        : 'Step forward (Next) to compute the graph one node at a time.';
      this.chain.append(el('div', { class: 'chain-title' }, view.mode === 'backward' ? `Backward 0/${view.total}` : `Forward 0/${view.total}`), el('div', { class: 'hint' }, hint));
      return;
    }
    this.chain.append(el('div', { class: 'chain-title' }, text.title));
    for (const line of text.lines) this.chain.append(el('div', { class: 'chain-line' }, line));
  }

  private renderDetails(s: GraphSnapshot | null, selected: number | null, ctx: InspectorContext): void {
    this.details.replaceChildren();
    const n = s && selected !== null ? s.nodes[selected] : undefined;
    if (!s || !n) {
      this.details.append(el('div', { class: 'hint' }, 'Select a node to see its op, values, gradient and source.'));
      return;
    }
    const head = el('div', { class: 'insp-head' });
    head.append(el('span', { class: 'insp-name' }, fullName(n.name ?? n.label)), el('span', { class: 'insp-op' }, fullName(n.op === 'leaf' ? (n.leaf ?? 'leaf') : `${n.symbol && n.symbol !== n.op ? `${n.symbol} ` : ''}${n.op}`)));
    this.details.append(head);
    const nf = ctx.nonfinite;
    if (nf && nf.first !== null) {
      if (nf.first === n.id) this.details.append(this.nonfiniteCallout(s, n, nf));
      else if (nf.others.has(n.id)) {
        const note = el('div', { class: 'nonfinite-note', 'data-testid': 'nonfinite-note' });
        const link = el('a', { href: '#', class: 'node-link' }, nodeRef(s.nodes[nf.first]));
        link.addEventListener('click', (e) => { e.preventDefault(); this.events.select(nf.first!); });
        note.append(el('i', { class: 'codicon codicon-warning', 'aria-hidden': 'true' }), ` Holds NaN or Inf; it first appears at `, link, '.');
        this.details.append(note);
      }
    }
    if (ctx.collapsedGroup) {
      const g = ctx.collapsedGroup;
      const box = el('div', { class: 'insp-group' });
      const label = fullName(g.label);
      box.append(el('span', {}, `Shown collapsed as ${label} (${g.size} nodes).`), button('expand-all', `Expand ${label}`, () => this.events.toggleGroup(g.key), 'expand-group'));
      this.details.append(box);
    }

    const rows: [string, string | HTMLElement][] = [];
    if (n.formula) rows.push(['local gradient', escapeBidi(n.formula)]);
    rows.push(['shape', `${shapeText(n.shape)} · ${n.dtype}`]);
    if (n.inputs.length) {
      const ins = el('span', { class: 'insp-inputs' });
      n.inputs.forEach((i, k) => {
        const input = s.nodes[i];
        const link = el('a', { href: '#', class: 'node-link' }, `${nodeRef(input)} [${shapeText(input.shape)}]`);
        link.addEventListener('click', (e) => { e.preventDefault(); this.events.select(i); });
        if (k) ins.append(', ');
        ins.append(link);
      });
      rows.push(['inputs', ins]);
    }
    if (n.scope) rows.push(['scope', fullName(n.scope)]);
    if (n.group !== null && s.groups[n.group]) rows.push(['in', fullName(String(s.groups[n.group].name))]);
    this.details.append(table(rows));

    if (n.source) {
      const src = el('div', { class: 'insp-source' });
      const loc = `${fullName(basename(n.source.file))}:${n.source.line}`;
      const go = button('go-to-file', 'Go to source', () => this.events.revealSource(n), 'go-to-source');
      src.append(el('span', { class: 'mono' }, loc), go);
      this.details.append(src);
    }

    const story = gradientStory(s, n.id);
    if (story) this.details.append(el('div', { class: 'story mono' }, story));
    const withCurve = curveLeaf(s, n);
    if (withCurve) this.details.append(tangentSection(s, withCurve));
    if (this.picked && this.picked.node === n.id) this.details.append(elementChainSection(s, n, this.picked.index, () => this.pick(null)));
    else if (n.size > 1 && (n.value || n.grad)) this.details.append(el('div', { class: 'hint', 'data-testid': 'element-hint' }, 'Click an element (a number, a heatmap cell or a pixel) to write its chain rule with every term.'));

    this.details.append(this.tensorSection(s, n, 'value', n.value, n.stats));
    if (n.gradStats) this.details.append(this.tensorSection(s, n, 'grad', n.grad, n.gradStats));
    else if (n.requiresGrad) this.details.append(el('div', { class: 'hint' }, 'No gradient: the output does not depend on this node.'));
  }

  /** Where NaN/Inf first appears: the engine's message and the source line, linked to the editor. */
  private nonfiniteCallout(s: GraphSnapshot, n: SnapshotNode, nf: NonFinite): HTMLElement {
    const box = el('div', { class: 'nonfinite-callout', role: 'alert', 'data-testid': 'nonfinite' });
    const title = el('div', { class: 'nonfinite-title' });
    title.append(el('i', { class: 'codicon codicon-warning', 'aria-hidden': 'true' }), ` ${nf.what} first appears here${nf.phase === 'backward' ? ' (backward pass)' : ''}`);
    box.append(title);
    if (nf.message) box.append(el('div', { class: 'nonfinite-message' }, escapeBidi(nf.message)));
    const src = nf.source;
    if (src) {
      const loc = el('a', { href: '#', class: 'mono node-link', 'data-testid': 'nonfinite-source' }, `${fullName(basename(src.file || s.file))}:${src.line} (line ${src.line})`);
      loc.addEventListener('click', (e) => {
        e.preventDefault();
        this.events.revealSource(n.source ? n : { ...n, source: src });
      });
      box.append(loc);
    }
    return box;
  }

  /** Picks an element of the selected tensor (null: none) and draws the inspector again. */
  private pick(at: { node: number; index: number } | null): void {
    this.picked = at;
    const l = this.last;
    if (l) this.render(l.s, l.view, l.selected, l.ctx);
  }

  private tensorSection(s: GraphSnapshot, n: SnapshotNode, which: TensorWhich, payload: TensorPayload, stats: TensorStats | null): HTMLElement {
    const sec = el('div', { class: `tensor tensor-${which}` });
    // a click on any element (table cell, heatmap cell, pixel) picks it
    sec.addEventListener('click', (e) => {
      const hit = (e.target as Element).closest?.('[data-index]');
      if (!hit || n.size <= 1) return;
      this.pick({ node: n.id, index: Number(hit.getAttribute('data-index')) });
    });
    sec.append(el('h3', {}, which === 'value' ? 'Value' : 'Gradient ∂L/∂' + nodeRef(n)));
    const fetched = this.fetched.get(`${n.id}:${which}`);
    const data = payload ?? (fetched instanceof Float64Array ? fetched : null);
    if (stats) {
      sec.append(table([
        ['min / max', `${fmt(stats.min)} / ${fmt(stats.max)}`],
        ['mean ± std', `${fmt(stats.mean)} ± ${fmt(stats.std)}`],
        ['norm', fmt(stats.norm)],
        ...(stats.zeros ? [['zeros', `${(stats.zeros * 100).toFixed(1)}%`] as [string, string]] : []),
        ...(stats.nan || stats.inf ? [['NaN / Inf', `${stats.nan} / ${stats.inf}`] as [string, string]] : []),
      ], 'stats'));
    }
    // a minibatch of images ([N, C·H·W] with `image` [C, H, W]) is drawn as the images it holds
    const asImages = n.image && n.shape.length === 2 ? [n.shape[0], ...n.image] : n.shape;
    if (data && asImages.length === 4 && data.length > 1) sec.append(imageGrid(data, asImages, which, n.leaf === 'param'));
    else if (data && n.shape.length >= 2 && data.length > 1) {
      // gradients can be read on the graph's one log scale (gradScale.ts), so a vanished one looks vanished
      const shared = which === 'grad' && this.heatScale === 'graph' ? graphGradScale(s) : null;
      sec.append(heatmap(data, n.shape, which, shared && shared.lo !== null ? shared : null));
      if (which === 'grad') {
        const choice = el('select', { class: 'heat-scale', 'data-testid': 'heat-scale', 'aria-label': 'Colour scale of the gradient heatmap' }) as HTMLSelectElement;
        choice.append(el('option', { value: 'tensor' }, 'scale: this tensor'), el('option', { value: 'graph' }, 'scale: whole graph (log)'));
        choice.value = this.heatScale;
        choice.addEventListener('change', () => {
          this.heatScale = choice.value === 'graph' ? 'graph' : 'tensor';
          const l = this.last;
          if (l) this.render(l.s, l.view, l.selected, l.ctx);
        });
        sec.append(choice);
      }
    }
    if (data && data.length <= TABLE_MAX) {
      const scroll = el('div', { class: 'table-scroll' });
      scroll.append(valueTable(data, n.shape, which));
      sec.append(scroll);
    }
    else if (stats && n.size > 1) sec.append(histogram(stats));
    // offered only where the values would show (a table, or a heatmap for 2-D): a longer 1-D tensor
    // is drawn as the histogram of its summary either way, so loading it would change nothing
    const shows = n.size <= TABLE_MAX || n.shape.length >= 2;
    if (!data && shows && n.size > 0 && n.size <= s.maxElements * 64) {
      if (typeof fetched === 'string') sec.append(el('div', { class: 'hint' }, fetched));
      else sec.append(button('cloud-download', `Load ${n.size} values`, () => this.events.fetchTensor(n.id, which), `fetch-${which}`));
    }
    if (this.picked?.node === n.id) for (const e of sec.querySelectorAll(`[data-index="${this.picked.index}"]`)) e.classList.add('picked');
    return sec;
  }

  private renderDiagnosis(s: GraphSnapshot | null): void {
    this.diagnosis.replaceChildren();
    if (!s?.diagnosis.length) return;
    this.diagnosis.append(el('h3', {}, 'Diagnosis'));
    for (const d of s.diagnosis) {
      const row = el('div', { class: `diag diag-${d.severity}` });
      row.append(el('i', { class: `codicon codicon-${d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'info'}` }), el('span', {}, escapeBidi(d.message)));
      if (d.node !== null && s.nodes[d.node]) {
        const link = el('a', { href: '#', class: 'node-link' }, ` ${nodeRef(s.nodes[d.node])}`);
        link.addEventListener('click', (e) => { e.preventDefault(); this.events.select(d.node!); });
        row.append(link);
      }
      this.diagnosis.append(row);
    }
  }
}

function table(rows: [string, string | HTMLElement][], cls = 'props'): HTMLElement {
  const t = el('table', { class: cls });
  for (const [k, v] of rows) {
    const tr = el('tr');
    tr.append(el('th', {}, k));
    const td = el('td');
    td.append(v);
    tr.append(td);
    t.append(tr);
  }
  return t;
}

/** Up to 64 numbers: a grid for 2-D (rows × last dim), one row of columns otherwise. */
function valueTable(data: Float64Array, shape: readonly number[], which: TensorWhich): HTMLElement {
  const cols = shape.length >= 2 ? shape[shape.length - 1] : Math.min(data.length, 8);
  const t = el('table', { class: `values values-${which}` });
  for (let r = 0; r * cols < data.length; r++) {
    const tr = el('tr');
    for (let c = 0; c < cols && r * cols + c < data.length; c++) {
      const v = data[r * cols + c];
      tr.append(el('td', { class: which === 'grad' ? signClass(v) : '', 'data-index': String(r * cols + c) }, fmt(v)));
    }
    t.append(tr);
  }
  return t;
}

/** Largest cell and the width the heatmap fits in (px). */
const HEAT_CELL = 14;
const HEAT_WIDTH = 256;

/**
 * A 2-D view of a tensor (rows × last axis; higher ranks stack their leading axes as rows): one cell
 * per element, coloured by sign like the gradient numbers, opacity by |x| relative to the largest.
 * Each cell's title gives its index and value.
 */
function heatmap(data: Float64Array, shape: readonly number[], which: TensorWhich, shared: GradScale | null = null): HTMLElement {
  const cols = shape[shape.length - 1] || 1;
  const rows = Math.ceil(data.length / cols);
  const cell = Math.max(2, Math.min(HEAT_CELL, Math.floor(HEAT_WIDTH / cols)));
  const max = largestAbs(data);
  const wrap = el('div', { class: `heatmap heatmap-${which}`, 'data-testid': `heatmap-${which}`, 'data-scale': shared ? 'graph' : 'tensor' });
  // opacity: |x| against this tensor's largest, or its place on the graph's log scale of gradients
  const opacity = (v: number) => {
    if (!Number.isFinite(v)) return 1;
    if (shared) return v === 0 ? 0.08 : 0.08 + 0.92 * Math.min(1, shared(Math.abs(v)));
    return tensorOpacity(v, max);
  };
  const svg = d3.select(wrap).append('svg')
    .attr('width', cols * cell).attr('height', rows * cell)
    .attr('role', 'img').attr('aria-label', `${which === 'grad' ? 'Gradient' : 'Value'} heatmap, ${rows} × ${cols}`);
  const cells = Array.from(data, (v, i) => ({ v, i, r: Math.floor(i / cols), c: i % cols }));
  svg.selectAll('rect').data(cells).join('rect')
    .attr('data-index', (d) => d.i)
    .attr('x', (d) => d.c * cell).attr('y', (d) => d.r * cell)
    .attr('width', Math.max(1, cell - 1)).attr('height', Math.max(1, cell - 1))
    .attr('class', (d) => `cell ${Number.isFinite(d.v) ? signClass(d.v) : 'nonfinite'}`)
    .attr('fill-opacity', (d) => opacity(d.v))
    .append('title').text((d) => `[${d.r}, ${d.c}] = ${fmt(d.v)}`);
  const legend = shared
    ? `Colour: sign; opacity: |x| on the graph's log scale of mean gradients, ${tick(10 ** shared.lo!)} … ${tick(10 ** shared.hi!)}.`
    : tensorHeatLegend(max);
  wrap.append(el('div', { class: 'hint heat-legend', 'data-testid': `heat-legend-${which}` }, legend));
  return wrap;
}

/** Tiles of an image grid: at most this many, each at most this many pixels a side. */
const GRID_TILES = 128;
const GRID_TILE = 64;
/** A minibatch shows its first examples, four to a row (the inspector's width). */
const GRID_EXAMPLES = 16;

/**
 * A 4-D tensor as images, one tile per channel, on one colour scale (sign colour, opacity by |x|
 * against the largest in the tensor, as the heatmap): a conv weight [out, in, kh, kw] as a grid of
 * filters (a row per output channel, a column per input channel); activations or their gradients
 * [N, C, H, W] as the C channels of the first example, or, with one channel, as the first examples
 * (a minibatch of digits). Each tile's title names it; each pixel's title gives its index and value.
 */
function imageGrid(data: Float64Array, shape: readonly number[], which: TensorWhich, weight: boolean): HTMLElement {
  const [a, b, h, w] = shape;
  const tiles: { label: string; offset: number }[] = [];
  if (weight) {
    for (let o = 0; o < a && tiles.length < GRID_TILES; o++) for (let i = 0; i < b && tiles.length < GRID_TILES; i++) tiles.push({ label: `filter ${o}, input channel ${i}`, offset: (o * b + i) * h * w });
  } else if (b === 1) {
    for (let e = 0; e < a && tiles.length < GRID_EXAMPLES; e++) tiles.push({ label: `example ${e}`, offset: e * h * w });
  } else {
    for (let c = 0; c < b && tiles.length < GRID_TILES; c++) tiles.push({ label: `example 0, channel ${c}`, offset: c * h * w });
  }
  let max = 0;
  for (const t of tiles) for (let k = 0; k < h * w; k++) {
    const v = data[t.offset + k];
    if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  }
  const cell = Math.max(2, Math.min(10, Math.floor(GRID_TILE / Math.max(h, w))));
  const wrap = el('div', { class: `image-grid image-grid-${which}`, 'data-testid': `image-grid-${which}` });
  const examples = !weight && b === 1;
  wrap.style.setProperty('--grid-cols', String(weight ? Math.min(b, 16) : examples ? Math.min(a, 4) : Math.min(b, 8)));
  const shown = weight ? `${a} filters × ${b} input channels` : examples ? `the ${a} examples` : `the ${b} channels of example 0 of ${a}`;
  const total = weight ? a * b : examples ? a : b;
  wrap.append(el('div', { class: 'hint' }, `${which === 'grad' ? 'Gradient' : 'Values'} as images: ${shown}${tiles.length < total ? ` (the first ${tiles.length})` : ''}, one colour scale (largest |x| ${fmt(max)}).`));
  const grid = el('div', { class: 'tiles' });
  for (const t of tiles) {
    const svg = d3.select(grid).append('svg').attr('class', 'tile').attr('width', w * cell).attr('height', h * cell)
      .attr('role', 'img').attr('aria-label', t.label);
    svg.append('title').text(t.label);
    const cells = Array.from({ length: h * w }, (_, k) => ({ v: data[t.offset + k], i: t.offset + k, r: Math.floor(k / w), c: k % w }));
    svg.selectAll('rect').data(cells).join('rect')
      .attr('data-index', (d) => d.i)
      .attr('x', (d) => d.c * cell).attr('y', (d) => d.r * cell).attr('width', cell).attr('height', cell)
      .attr('class', (d) => `cell ${Number.isFinite(d.v) ? signClass(d.v) : 'nonfinite'}`)
      .attr('fill-opacity', (d) => (Number.isFinite(d.v) ? (max > 0 ? 0.08 + 0.92 * (Math.abs(d.v) / max) : 0.08) : 1))
      .append('title').text((d) => `${t.label} [${d.r}, ${d.c}] = ${fmt(d.v)}`);
  }
  wrap.append(grid);
  return wrap;
}

function histogram(stats: TensorStats): HTMLElement {
  const h = stats.histogram;
  const wrap = el('div', { class: 'histogram' });
  const w = 240, ht = 60;
  const svg = d3.select(wrap).append('svg').attr('width', w).attr('height', ht + 14).attr('role', 'img').attr('aria-label', 'Histogram of the values');
  const max = Math.max(1, ...h.counts);
  const bw = w / Math.max(1, h.counts.length);
  svg.selectAll('rect').data(h.counts).join('rect')
    .attr('x', (_, i) => i * bw).attr('width', Math.max(1, bw - 1))
    .attr('y', (c) => ht - (c / max) * ht).attr('height', (c) => (c / max) * ht);
  svg.append('text').attr('x', 0).attr('y', ht + 12).attr('class', 'axis').text(fmt(h.lo));
  svg.append('text').attr('x', w).attr('y', ht + 12).attr('text-anchor', 'end').attr('class', 'axis').text(fmt(h.hi));
  return wrap;
}
