/** nn.conv2d / conv1d / pooling / flatten layers: PyTorch's default init, shapes and options, errors, and per-channel layer health. */
import assert from 'node:assert/strict';
import { LayerRecorder } from '../../engine/stats/layers';
import { fold, losses, maxPool2d, nn, param, randn, tensor, unfold, type Tensor } from '../../engine/index';

const bounds = (t: Tensor) => {
  let lo = Infinity, hi = -Infinity;
  for (const v of t.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return { lo, hi };
};

describe('nn: convolution and pooling layers', () => {
  it("conv2d has PyTorch's default init: weight and bias U(±1/√fanIn), fanIn = in/groups·kh·kw", () => {
    const c = nn.conv2d(6, 8, [3, 2], { groups: 2, seed: 3 });
    assert.deepEqual(c.weight.shape, [8, 3, 3, 2]);
    assert.deepEqual(c.bias!.shape, [8]);
    const b = 1 / Math.sqrt(3 * 3 * 2);
    for (const t of [c.weight, c.bias!]) {
      const { lo, hi } = bounds(t);
      assert.ok(lo >= -b && hi <= b, `within ±${b}: [${lo}, ${hi}]`);
      assert.ok(hi - lo > b, 'spread over the interval');
    }
    assert.equal(nn.conv2d(1, 2, 3, { bias: false }).bias, null);
    assert.deepEqual(nn.conv2d(2, 4, 3, { init: 'he' }).weight.shape, [4, 2, 3, 3]);
  });

  it('a conv net runs end to end: shapes through conv, pool and flatten, a loss and gradients for every parameter', () => {
    const model = nn.sequential(
      nn.conv2d(1, 4, 3, { padding: 1, seed: 1 }), nn.relu(), nn.maxPool2d(2),
      nn.conv2d(4, 6, 3, { padding: 'same', seed: 2 }), nn.relu(), nn.avgPool2d(2),
      nn.flatten(), nn.linear(6 * 2 * 2, 3, { seed: 3 }),
    );
    const x = randn([5, 1, 8, 8], { seed: 4 });
    const y = model.forward(x);
    assert.deepEqual(y.shape, [5, 3]);
    losses.softmaxCrossEntropy(y, [0, 1, 2, 0, 1]).backward();
    for (const [name, p] of model.namedParameters()) assert.ok(p.grad && p.grad.data.some((v) => v !== 0), `${name} has a gradient`);
    assert.equal(y.inputs.some((t) => t.scope?.startsWith('sequential')), true);
  });

  it('conv1d, adaptiveAvgPool2d and flatten(startDim, endDim)', () => {
    const c = nn.conv1d(2, 3, 3, { stride: 2, padding: 1, seed: 0 });
    assert.deepEqual(c.forward(randn([4, 2, 9], { seed: 1 })).shape, [4, 3, 5]);
    assert.deepEqual(nn.adaptiveAvgPool2d([2, 3]).forward(randn([1, 2, 7, 5], { seed: 2 })).shape, [1, 2, 2, 3]);
    const x = randn([2, 3, 4, 5], { seed: 3 });
    assert.deepEqual(nn.flatten().forward(x).shape, [2, 60]);
    assert.deepEqual(nn.flatten(0, 1).forward(x).shape, [6, 4, 5]);
    assert.deepEqual(nn.flatten(-2).forward(x).shape, [2, 3, 20]);
  });

  it("unfold lays windows out as PyTorch's F.unfold does, and fold(unfold(x)) is x times the number of windows over each pixel", () => {
    const x = tensor([1, 2, 3, 4, 5, 6], { shape: [1, 1, 2, 3], dtype: 'float64' });
    const cols = unfold(x, 2);
    assert.deepEqual(cols.shape, [1, 4, 2]);
    assert.deepEqual(Array.from(cols.data), [1, 2, 2, 3, 4, 5, 5, 6]);
    assert.deepEqual(Array.from(fold(cols, [2, 3], 2).data), [1, 4, 3, 4, 10, 6]);
    // a 1×1 kernel with a stride spreads pixels onto the stride grid
    assert.deepEqual(Array.from(fold(tensor([1, 2, 3, 4], { shape: [1, 1, 4] }), [3, 3], 1, { stride: 2 }).data), [1, 0, 2, 0, 0, 0, 3, 0, 4]);
    assert.throws(() => fold(cols, [3, 3], 2), /an output of 3×3 has 2×2 windows .* but the input \[1, 4, 2\] has 2 columns/);
    assert.throws(() => fold(tensor([1, 2, 3], { shape: [1, 3, 1] }), [2, 2], 2), /3 rows, not a multiple of the 2×2 kernel's 4 positions/);
  });

  it("maxPool2d keeps PyTorch's choice: NaN wins its window, −∞ padding, the first of tied largest gets the whole gradient, overlapping windows add up", () => {
    const x = param(tensor([1, 5, 5, 5, 2, 0, 3, NaN, 4], { shape: [1, 1, 3, 3], dtype: 'float64' }));
    const y = maxPool2d(x, 2, { stride: 1 });
    assert.deepEqual(Array.from(y.data), [5, 5, NaN, NaN]);
    y.mul(tensor([1, 2, 3, 4], { shape: [1, 1, 2, 2], dtype: 'float64' })).sum().backward();
    assert.deepEqual(Array.from(x.grad!.data), [0, 3, 0, 0, 0, 0, 0, 7, 0]);
    // windows [pad, x0], [x0, x1], [x1, x2], [x2, pad] of −∞ values: each takes its first element that is not padding
    const m = param(tensor([-Infinity, -Infinity, -Infinity], { shape: [1, 1, 1, 3], dtype: 'float64' }));
    const z = maxPool2d(m, [1, 2], { stride: 1, padding: [0, 1] });
    assert.deepEqual(Array.from(z.data), [-Infinity, -Infinity, -Infinity, -Infinity]);
    z.mul(tensor([1, 2, 3, 4], { shape: [1, 1, 1, 4], dtype: 'float64' })).sum().backward();
    assert.deepEqual(Array.from(m.grad!.data), [3, 3, 4]);
  });

  it('refuses bad options and inputs with messages in PyTorch terms', () => {
    assert.throws(() => nn.conv2d(3, 4, 3, { groups: 2 }), /groups = 2 must divide inChannels \(3\)/);
    assert.throws(() => nn.conv2d(0, 4, 3), /inChannels must be a positive integer/);
    assert.throws(() => nn.conv2d(2, 4, 3).forward(randn([1, 3, 5, 5])), /has 3 channels, but the weight \[4, 2, 3, 3\] expects 2/);
    assert.throws(() => nn.conv2d(1, 1, 5).forward(randn([1, 1, 3, 3])), /smaller than the kernel 5×5/);
    assert.throws(() => nn.conv2d(1, 1, 3, { padding: 'same', stride: 2 }).forward(randn([1, 1, 6, 6])), /'same' needs stride 1/);
    assert.throws(() => nn.maxPool2d(2, { padding: 2 }).forward(randn([1, 1, 6, 6])), /at most half the kernel/);
    assert.throws(() => nn.conv2d(1, 1, 3).forward(randn([1, 6, 6])), /must be 4-D \[N, C, H, W\]/);
  });

  it('layer health per conv layer: type conv2d, the ReLU after it, dead channels counted over N, H and W', () => {
    const conv = nn.conv2d(1, 3, 1, { seed: 0, bias: false });
    // channel 0 passes x, channel 1 negates it, channel 2 is zero: after ReLU, channel 2 is dead
    conv.weight.data.set([1, -1, 0]);
    const model = nn.sequential(conv, nn.relu(), nn.flatten(), nn.linear(3 * 4, 1, { seed: 1 }));
    const rec = new LayerRecorder();
    const x = tensor([[[[1, -2], [3, -4]]]]);
    const y = rec.record(() => model.forward(x));
    y.sum().backward();
    const [first, second] = rec.summarize();
    assert.equal(first.type, 'conv2d');
    assert.equal(first.activation, 'relu');
    assert.equal(first.dead, 1 / 3);
    assert.equal(second.type, 'linear');
  });
});
