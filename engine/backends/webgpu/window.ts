/**
 * Sliding windows over [N, C, H, W] planes, as the CPU kernels (backends/cpu/window.ts) compute
 * them: unfold (one invocation per column entry reads its pixel or the zero padding), fold (one
 * invocation per output pixel sums the at most kh·kw column entries that came from it, so its cost is
 * O(outputs · kh·kw), with no atomics and in the CPU's order), and max pooling's argmax.
 */
import { sizeOf } from '../../shape';
import type { Window2d } from '../cpu/window';
import { WG, grid, main1d, u32, wgslType, type GpuDType, type GpuLimits, type Program } from './program';

const windowKey = (w: Omit<Window2d, 'dilation'> & Partial<Window2d>) => [w.kernel, w.stride, w.padding, w.dilation ?? [1, 1]].map((p) => p.join('x')).join('|');

/** x [N, C, H, W] → [N, C·kh·kw, OH·OW]; i32 coordinates, since a window may start in the padding. */
export function unfoldProgram(shape: readonly number[], win: Window2d, oh: number, ow: number, dtype: GpuDType, limits: GpuLimits): Program {
  const [n, c, h, w] = shape;
  const [kh, kw] = win.kernel;
  const k = kh * kw, l = oh * ow;
  const size = n * c * k * l;
  const dispatch = grid(size, WG, limits);
  const body = `
  let q = i32(i % ${u32(ow)});
  let r = i32((i / ${u32(ow)}) % ${u32(oh)});
  let kk = i32((i / ${u32(l)}) % ${u32(k)});
  let plane = i / ${u32(k * l)};
  let u = r * ${win.stride[0]} - ${win.padding[0]} + (kk / ${kw}) * ${win.dilation[0]};
  let v = q * ${win.stride[1]} - ${win.padding[1]} + (kk % ${kw}) * ${win.dilation[1]};
  var val: ${wgslType(dtype)} = ${dtype === 'int32' ? '0' : '0.0'};
  if (u >= 0 && u < ${h} && v >= 0 && v < ${w}) { val = in0[plane * ${u32(h * w)} + u32(u * ${w} + v)]; }
  out[i] = val;`;
  return {
    key: `unfold|${shape.join('x')}|${windowKey(win)}|${dtype}|${dispatch.join('x')}`, inputs: [dtype], output: dtype, outSize: size, dispatch,
    wgsl: () => main1d(dispatch, size, body),
  };
}

/** cols [N, C·kh·kw, OH·OW] → [N, C, H, W] (outShape): kernel positions (a, b) in order, those whose window start is on the stride grid. */
export function foldProgram(win: Window2d, oh: number, ow: number, outShape: readonly number[], dtype: GpuDType, limits: GpuLimits): Program {
  const [, , h, w] = outShape;
  const [kh, kw] = win.kernel, [sh, sw] = win.stride;
  const l = oh * ow;
  const size = sizeOf(outShape);
  const dispatch = grid(size, WG, limits);
  const body = `
  let v = i32(i % ${u32(w)});
  let u = i32((i / ${u32(w)}) % ${u32(h)});
  let base = (i / ${u32(h * w)}) * ${u32(kh * kw * l)};
  var acc: ${wgslType(dtype)} = ${dtype === 'int32' ? '0' : '0.0'};
  for (var a = 0; a < ${kh}; a = a + 1) {
    let ru = u + ${win.padding[0]} - a * ${win.dilation[0]};
    if (ru < 0 || ru % ${sh} != 0 || ru / ${sh} >= ${oh}) { continue; }
    for (var b = 0; b < ${kw}; b = b + 1) {
      let qv = v + ${win.padding[1]} - b * ${win.dilation[1]};
      if (qv < 0 || qv % ${sw} != 0 || qv / ${sw} >= ${ow}) { continue; }
      acc = acc + in0[base + u32((a * ${kw} + b) * ${l} + (ru / ${sh}) * ${ow} + qv / ${sw})];
    }
  }
  out[i] = acc;`;
  return {
    key: `fold|${outShape.join('x')}|${windowKey(win)}|${oh}x${ow}|${dtype}|${dispatch.join('x')}`, inputs: [dtype], output: dtype, outSize: size, dispatch,
    wgsl: () => main1d(dispatch, size, body),
  };
}

/**
 * Max pooling's argmax: one invocation per window scans it and writes the position a·kw + b inside
 * it of the first largest element, NaN counting as largest, as the CPU kernel (and PyTorch's
 * max_pool2d) does. Padding is skipped (−∞).
 */
export function poolArgmaxProgram(shape: readonly number[], win: Omit<Window2d, 'dilation'>, oh: number, ow: number, limits: GpuLimits): Program {
  const [n, c, h, w] = shape;
  const size = n * c * oh * ow;
  const dispatch = grid(size, WG, limits);
  // window rows r0 … r0 + kh − 1 with r0 = r·sh − ph, clamped to the plane (i32: r0 may be negative)
  const body = `
  let q = i32(i % ${u32(ow)});
  let r = i32((i / ${u32(ow)}) % ${u32(oh)});
  let plane = i / ${u32(oh * ow)};
  let base = i32(plane * ${u32(h * w)});
  let r0 = r * ${win.stride[0]} - ${win.padding[0]};
  let q0 = q * ${win.stride[1]} - ${win.padding[1]};
  var best = 0.0;
  var at = -1;
  for (var u = max(r0, 0); u < min(r0 + ${win.kernel[0]}, ${h}); u = u + 1) {
    for (var v = max(q0, 0); v < min(q0 + ${win.kernel[1]}, ${w}); v = v + 1) {
      let val = in0[base + u * ${w} + v];
      if (at < 0 || isnan_(val) || (!isnan_(best) && val > best)) {
        best = val;
        at = (u - r0) * ${win.kernel[1]} + (v - q0);
      }
    }
  }
  out[i] = at;`;
  return {
    key: `poolArgmax|${shape.join('x')}|${windowKey(win)}|${dispatch.join('x')}`,
    inputs: ['float32'], output: 'int32', outSize: size, dispatch,
    wgsl: () => main1d(dispatch, size, body),
  };
}
