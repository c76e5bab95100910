/**
 * Text widths for sizing nodes. Fonts come from the stylesheet (theme variables), read from hidden
 * probe elements that carry the same classes as the real node texts; widths come from a canvas.
 */
import type { Measure, TextClass } from './viewModel';

const SVG_NS = 'http://www.w3.org/2000/svg';
const CLASSES: TextClass[] = ['label', 'op', 'value', 'shape', 'grad', 'grad-key', 'cluster-label'];

export function createMeasure(host: HTMLElement): Measure {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', 'graph measure');
  svg.setAttribute('aria-hidden', 'true');
  const node = document.createElementNS(SVG_NS, 'g');
  node.setAttribute('class', 'node');
  svg.appendChild(node);
  const fonts = new Map<TextClass, string>();
  const probes = CLASSES.map((cls) => {
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('class', cls);
    node.appendChild(t);
    return [cls, t] as const;
  });
  host.appendChild(svg);
  for (const [cls, t] of probes) {
    const cs = getComputedStyle(t);
    fonts.set(cls, `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`);
  }
  svg.remove();
  const ctx = document.createElement('canvas').getContext('2d');
  const cache = new Map<string, number>();
  const measure: Measure = (cls, text) => {
    if (!text) return 0;
    const key = `${cls}\u0000${text}`;
    let w = cache.get(key);
    if (w === undefined) {
      if (ctx) {
        ctx.font = fonts.get(cls) ?? '12px sans-serif';
        w = ctx.measureText(text).width;
      } else {
        w = text.length * 7.5;
      }
      // a little slack for hinting differences between canvas and SVG text
      w = Math.ceil(w) + 2;
      cache.set(key, w);
    }
    return w;
  };
  measure.lineMetrics = (cls) => {
    if (!ctx) return { ascent: 12, descent: 4 };
    ctx.font = fonts.get(cls) ?? '12px sans-serif';
    // the font's box, not the glyphs': the same for every text, like the SVG text's bounding box
    const m = ctx.measureText('Mg∂μ');
    return { ascent: m.fontBoundingBoxAscent, descent: m.fontBoundingBoxDescent };
  };
  return measure;
}
