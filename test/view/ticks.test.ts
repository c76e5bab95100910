import assert from 'node:assert/strict';
import * as d3 from 'd3';
import { stepTick, tick } from '../../webview/format';

describe('axis tick labels', () => {
  it('neighbouring ticks of a large or tiny range read differently', () => {
    for (const domain of [[0, 14_275], [10_000, 16_000], [0, 1.2e6], [0, 3e-4], [1e-5, 1.4e-5]] as const) {
      const ticks = d3.scaleLinear().domain(domain).ticks(8);
      const labels = ticks.map(tick);
      assert.equal(new Set(labels).size, labels.length, `${domain}: ${labels.join(' ')}`);
    }
    assert.equal(tick(12_000), '1.2e4');
    assert.equal(tick(10_000), '1e4');
    assert.equal(tick(-2.5e-5), '−2.5e−5');
    assert.equal(tick(0.25), '0.25');
  });

  it('step axes: whole numbers, then SI prefixes', () => {
    assert.deepEqual([0, 950, 9_999, 10_000, 12_000, 1_500_000].map(stepTick), ['0', '950', '9999', '10k', '12k', '1.5M']);
    const labels = d3.scaleLinear().domain([0, 1_000_000]).ticks(10).map(stepTick);
    assert.equal(new Set(labels).size, labels.length, labels.join(' '));
  });
});
