/**
 * Max pooling's argmax: one invocation per output element scans its window and writes the flat
 * index (into the input) of the first largest element, NaN counting as largest, as the CPU kernel
 * (and PyTorch's max_pool2d) does. Padding is skipped (−∞).
 */
import { sizeOf } from '../../shape';
import { WG, grid, main1d, u32, type GpuLimits, type Program } from './program';

export interface PoolWindowAttrs {
  kernel: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
}

export function poolArgmaxProgram(shape: readonly number[], a: PoolWindowAttrs, outShape: readonly number[], limits: GpuLimits): Program {
  const [, , h, w] = shape;
  const [oh, ow] = [outShape[2], outShape[3]];
  const n = sizeOf(outShape);
  const dispatch = grid(n, WG, limits);
  // window rows r0 … r0 + kh − 1 with r0 = r·sh − ph, clamped to the plane (i32: r0 may be negative)
  const body = `
  let q = i32(i % ${u32(ow)});
  let r = i32((i / ${u32(ow)}) % ${u32(oh)});
  let plane = i / ${u32(oh * ow)};
  let base = plane * ${u32(h * w)};
  let r0 = r * ${a.stride[0]} - ${a.padding[0]};
  let q0 = q * ${a.stride[1]} - ${a.padding[1]};
  var best = 0.0;
  var at = -1;
  for (var u = max(r0, 0); u < min(r0 + ${a.kernel[0]}, ${h}); u = u + 1) {
    for (var v = max(q0, 0); v < min(q0 + ${a.kernel[1]}, ${w}); v = v + 1) {
      let k = i32(base) + u * ${w} + v;
      let val = in0[k];
      if (at < 0 || isnan_(val) || (!isnan_(best) && val > best)) {
        best = val;
        at = k;
      }
    }
  }
  out[i] = at;`;
  return {
    key: `poolArgmax|${shape.join('x')}|${a.kernel.join('x')}|${a.stride.join('x')}|${a.padding.join('x')}|${dispatch.join('x')}`,
    inputs: ['float32'], output: 'int32', outSize: n, dispatch,
    wgsl: () => main1d(dispatch, n, body),
  };
}
