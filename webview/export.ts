/**
 * Export the graph as a standalone SVG (computed theme colours inlined, no stylesheet needed) or as
 * a PNG data URL drawn from that SVG, and the controller that answers the host's `export` request.
 */
import type { WebviewMessage } from '../extension/protocol';

const PROPS = [
  'fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-dasharray', 'stroke-opacity', 'opacity',
  'font-family', 'font-size', 'font-weight', 'font-style', 'text-anchor', 'visibility',
];
const SKIP = /^(class|style|tabindex|role|aria-|data-)/;
const esc = (t: string) => t.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Writes the markup by hand instead of cloning: a clone would carry `style` attributes, which the
 * page's CSP refuses (and reports); computed styles become presentation attributes instead.
 */
function serialize(node: Node, out: string[]): void {
  if (node.nodeType === Node.TEXT_NODE) {
    out.push(esc(node.textContent ?? ''));
    return;
  }
  if (!(node instanceof Element)) return;
  // icon-font glyphs would be boxes wherever the codicon font is not installed
  if (node.classList.contains('codicon-glyph')) return;
  const cs = getComputedStyle(node);
  if (cs.display === 'none') return;
  out.push(`<${node.tagName}`);
  for (const a of Array.from(node.attributes)) if (!SKIP.test(a.name)) out.push(` ${a.name}="${esc(a.value)}"`);
  for (const p of PROPS) {
    const v = cs.getPropertyValue(p);
    if (v && !node.hasAttribute(p)) out.push(` ${p}="${esc(v)}"`);
  }
  out.push('>');
  for (const c of Array.from(node.childNodes)) serialize(c, out);
  out.push(`</${node.tagName}>`);
}

export function exportSvg(svg: SVGSVGElement, bounds: { width: number; height: number }): string {
  const w = Math.max(1, Math.ceil(bounds.width)), h = Math.max(1, Math.ceil(bounds.height));
  const bg = getComputedStyle(svg).backgroundColor || getComputedStyle(document.body).backgroundColor || '#ffffff';
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">`,
    `<rect width="${w}" height="${h}" fill="${esc(bg)}"/>`,
  ];
  const defs = svg.querySelector('defs');
  if (defs) serialize(defs, out);
  out.push('<g>');
  const viewport = svg.querySelector('g.viewport');
  if (viewport) for (const c of Array.from(viewport.childNodes)) serialize(c, out);
  out.push('</g></svg>');
  return out.join('');
}

export async function exportPng(svgMarkup: string, bounds: { width: number; height: number }): Promise<string> {
  const scale = 2;
  const url = URL.createObjectURL(new Blob([svgMarkup], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.ceil(bounds.width * scale));
    canvas.height = Math.max(1, Math.ceil(bounds.height * scale));
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas');
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    return canvas.toDataURL('image/png');
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Answers the host's `export` request with the graph as drawn now (an `exported` message, or an `error`). */
export async function answerExport(
  requestId: number, format: 'svg' | 'png', graph: { svg: SVGSVGElement; bounds: { width: number; height: number } }, post: (m: WebviewMessage) => void,
): Promise<void> {
  try {
    const svg = exportSvg(graph.svg, graph.bounds);
    const data = format === 'svg' ? svg : await exportPng(svg, graph.bounds);
    post({ type: 'exported', requestId, format, data });
  } catch (err) {
    post({ type: 'error', message: `export failed: ${String((err as Error)?.message ?? err)}` });
  }
}
