/**
 * The lecture's picture of a derivative: the output as a function of one scalar input (everything
 * else as recorded), the recorded point on it, and the tangent line there, whose slope is the
 * gradient the backward pass computed. The curve's points come from the engine (`curve` of a leaf
 * in the snapshot: the graph evaluated again at each value); nothing here computes a derivative.
 */
import * as d3 from 'd3';
import type { GraphSnapshot, SnapshotNode } from '../extension/protocol';
import { el } from './dom';
import { fmt, nodeRef, tick } from './format';

const W = 300, H = 170;
const M = { top: 8, right: 10, bottom: 24, left: 44 };

/** The leaf whose curve a node shows: the leaf itself, or, for the output, its only input with a curve. */
export function curveLeaf(s: GraphSnapshot, n: SnapshotNode): SnapshotNode | null {
  // a tangent needs a finite point and slope (NaN at the recorded point: the NaN finding explains it)
  const y0 = s.nodes[s.output]?.scalar;
  if (y0 === null || y0 === undefined || !Number.isFinite(y0)) return null;
  const drawable = (m: SnapshotNode) => !!m.curve && Number.isFinite(m.scalar) && Number.isFinite(m.scalarGrad) && m.scalar !== null && m.scalarGrad !== null;
  if (drawable(n)) return n;
  if (n.id !== s.output) return null;
  const withCurve = s.nodes.filter(drawable);
  return withCurve.length === 1 ? withCurve[0] : null;
}

/** The plot and its sentence, for a leaf that has a curve. */
export function tangentSection(s: GraphSnapshot, leaf: SnapshotNode): HTMLElement {
  const curve = leaf.curve!;
  const out = s.nodes[s.output];
  const x0 = leaf.scalar!, y0 = out.scalar!, slope = leaf.scalarGrad!;
  const xName = nodeRef(leaf), yName = nodeRef(out);
  const sec = el('div', { class: 'tangent', 'data-testid': 'tangent', 'data-slope': String(slope), 'data-x0': String(x0), 'data-y0': String(y0) });
  sec.append(el('h3', {}, `${yName} as a function of ${xName}`));
  const others = s.nodes.filter((m) => m.curve && m.id !== leaf.id).length;
  const held = others ? ` (the other ${others === 1 ? 'input' : `${others} inputs`} as recorded)` : '';
  const intercept = `${fmt(y0)} ${slope < 0 ? '−' : '+'} ${fmt(Math.abs(slope))}·(${xName} ${x0 < 0 ? '+' : '−'} ${fmt(Math.abs(x0))})`;
  sec.append(el('div', { class: 'hint' }, `The slope of the tangent at ${xName} = ${fmt(x0)} is ∂${yName}/∂${xName} = ${fmt(slope)}${held}: near there, ${yName} changes about ${fmt(slope)} for each unit ${xName} grows.`));
  sec.append(el('div', { class: 'mono tangent-line', 'data-testid': 'tangent-equation' }, `tangent: y = ${intercept}`));

  const pts = curve.xs.map((x, i) => ({ x, y: curve.ys[i] }));
  const ys = pts.flatMap((p) => (p.y === null ? [] : [p.y]));
  const [lo, hi] = ys.length ? (d3.extent([...ys, y0]) as [number, number]) : [y0 - 1, y0 + 1];
  const pad = (hi - lo) * 0.08 || Math.max(1, Math.abs(y0)) * 0.1;
  const x = d3.scaleLinear().domain([curve.xs[0], curve.xs[curve.xs.length - 1]]).range([M.left, W - M.right]);
  const y = d3.scaleLinear().domain([lo - pad, hi + pad]).range([H - M.bottom, M.top]).nice();
  const svg = d3.select(sec).append('svg').attr('class', 'tangent-plot').attr('viewBox', `0 0 ${W} ${H}`).attr('width', W).attr('height', H)
    .attr('role', 'img').attr('aria-label', `${yName} against ${xName}, with the tangent line of slope ${fmt(slope)} at ${xName} = ${fmt(x0)}`);
  const clip = `tangent-clip-${leaf.id}`;
  svg.append('clipPath').attr('id', clip).append('rect').attr('x', M.left).attr('y', M.top).attr('width', W - M.left - M.right).attr('height', H - M.top - M.bottom);
  svg.append('g').attr('class', 'axis').attr('transform', `translate(0,${H - M.bottom})`).call(d3.axisBottom(x).ticks(5).tickFormat(tick));
  svg.append('g').attr('class', 'axis').attr('transform', `translate(${M.left},0)`).call(d3.axisLeft(y).ticks(5).tickFormat(tick));
  const plot = svg.append('g').attr('clip-path', `url(#${clip})`);
  const line = d3.line<{ x: number; y: number | null }>().defined((p) => p.y !== null).x((p) => x(p.x)).y((p) => y(p.y!));
  plot.append('path').attr('class', 'tangent-curve').attr('d', line(pts));
  const [a, b] = x.domain();
  plot.append('path').attr('class', 'tangent-tangent').attr('data-testid', 'tangent-tangent')
    .attr('d', line([{ x: a, y: y0 + slope * (a - x0) }, { x: b, y: y0 + slope * (b - x0) }]));
  svg.append('circle').attr('class', 'tangent-point').attr('cx', x(x0)).attr('cy', y(y0)).attr('r', 3.5)
    .append('title').text(`${xName} = ${fmt(x0)}, ${yName} = ${fmt(y0)}`);
  return sec;
}
