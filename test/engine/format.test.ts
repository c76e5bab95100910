/** The one text form of numbers and tensor summaries (editor, CLI and panel all use it). */
import * as assert from 'node:assert/strict';
import { formatNumber, shapeText, tensorBrief } from '../../engine/format';
import { summarize } from '../../engine/stats/summary';
import { tensor } from '../../engine';

const statsOf = (values: number[]) => summarize(tensor(values, { dtype: 'float64' }));

describe('formatNumber', () => {
  it('3–4 significant digits, exponents for tiny and huge magnitudes', () => {
    assert.equal(formatNumber(0), '0');
    assert.equal(formatNumber(-4), '-4');
    assert.equal(formatNumber(0.123456), '0.1235');
    assert.equal(formatNumber(12345), '1.23e4');
    assert.equal(formatNumber(0.00001234), '1.23e-5');
    assert.equal(formatNumber(NaN), 'NaN');
    assert.equal(formatNumber(-Infinity), '-Infinity');
  });
});

describe('shapeText', () => {
  it('writes a shape as 2×3, and a 0-d one as scalar', () => {
    assert.equal(shapeText([]), 'scalar');
    assert.equal(shapeText([5]), '5');
    assert.equal(shapeText([2, 3, 4]), '2×3×4');
  });
});

describe('tensorBrief', () => {
  it('one value: the number', () => {
    assert.equal(tensorBrief(Float64Array.of(-4), statsOf([-4]), 1), '-4');
  });
  it('up to four values: the list', () => {
    assert.equal(tensorBrief(Float64Array.of(1, 2.5, -3), statsOf([1, 2.5, -3]), 3), '[1, 2.5, -3]');
    assert.equal(tensorBrief([1, 2, 3, 4], null, 4), '[1, 2, 3, 4]');
  });
  it('more values: mean and spread, with the shape in front when asked', () => {
    const v = [1, 2, 3, 4, 5, 6];
    const st = statsOf(v);
    assert.equal(tensorBrief(Float64Array.from(v), st, 6), 'μ 3.5 σ 1.708');
    assert.equal(tensorBrief(null, st, 6), 'μ 3.5 σ 1.708', 'a payload left out of the snapshot: the summary');
    assert.equal(tensorBrief(null, st, 6, { shape: [2, 3] }), '[2×3] μ 3.5 σ 1.708');
    assert.equal(tensorBrief(Float64Array.of(7), st, 1, { shape: [1] }), '7', 'no shape before a single number');
  });
  it('without a summary: how many values; nothing finite: the NaN count or a dash', () => {
    assert.equal(tensorBrief(null, null, 10), '10 values');
    assert.equal(tensorBrief(null, null, 0), '[]');
    assert.equal(tensorBrief(null, statsOf([NaN, NaN, NaN, NaN, NaN]), 5), '5 NaN');
    assert.equal(tensorBrief(null, statsOf([Infinity, Infinity, -Infinity, Infinity, Infinity]), 5), '—');
  });
  it('takes another number style (the panel writes the same text through its own formatter)', () => {
    const st = statsOf([1, 2, 3, 4, 5, 6]);
    assert.equal(tensorBrief(null, st, 6, { num: (x) => x.toFixed(1) }), 'μ 3.5 σ 1.7');
    assert.equal(tensorBrief([NaN, 1], null, 2), '[NaN, 1]');
  });
});
