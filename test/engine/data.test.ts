/**
 * Toy datasets and data utilities (engine/data): seeded determinism, shapes/dtypes/tasks, the
 * geometry each generator promises (checked from the generated points, not from the generator's
 * code), split, standardize, the DataLoader and the errors for bad input.
 *
 * Coordinates are stored as float32 by default, so geometric identities are checked to 1e-6
 * (a few float32 ulps of numbers of size ~1).
 */
import assert from 'node:assert/strict';
import { data, type Tensor } from '../../engine/index';

type Dataset = data.Dataset;

const F32 = 1e-6;

function rows(t: Tensor): number[][] {
  const [n, f] = t.shape;
  return Array.from({ length: n }, (_, i) => Array.from(t.data.subarray(i * f, (i + 1) * f)));
}

function labels(ds: Dataset): number[] {
  return Array.from(ds.y.data);
}

function counts(values: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function same(a: Dataset, b: Dataset): boolean {
  const eq = (x: ArrayLike<number>, y: ArrayLike<number>) => x.length === y.length && Array.from(x).every((v, i) => Object.is(v, y[i]));
  return eq(a.x.data, b.x.data) && eq(a.y.data, b.y.data);
}

/** Angles of points, sorted, and the gaps between consecutive ones. */
function angleGaps(points: number[][], cx = 0, cy = 0): number[] {
  const a = points.map(([x, y]) => Math.atan2(y - cy, x - cx)).sort((p, q) => p - q);
  return a.slice(1).map((v, i) => v - a[i]);
}

/** Solves the 3×3 system A·s = b (Cramer's rule). */
function solve3(A: number[][], b: number[]): number[] {
  const det = (M: number[][]) =>
    M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) + M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
  const d = det(A);
  return [0, 1, 2].map((j) => det(A.map((row, i) => row.map((v, k) => (k === j ? b[i] : v)))) / d);
}

describe('datasets', function () {
  describe('determinism', function () {
    const generators: [string, (seed?: number) => Dataset][] = [
      ['linear', (seed) => data.linear({ seed, features: 2 })],
      ['xor (n = 40, noisy)', (seed) => data.xor({ seed, n: 40, noise: 0.1 })],
      ['moons', (seed) => data.moons({ seed, noise: 0.1 })],
      ['moons without noise (only the order is random)', (seed) => data.moons({ seed })],
      ['circles', (seed) => data.circles({ seed, noise: 0.05 })],
      ['spirals', (seed) => data.spirals({ seed, classes: 3 })],
      ['blobs', (seed) => data.blobs({ seed })],
    ];
    for (const [name, make] of generators) {
      it(`${name}: the same seed gives identical data, another seed different data`, function () {
        assert.ok(same(make(7), make(7)));
        assert.ok(same(make(), make()), 'the default seed is fixed');
        assert.ok(same(make(), make(0)), 'the default seed is 0');
        assert.ok(!same(make(7), make(8)));
      });
    }

    it('the classic 4-point xor does not depend on the seed', function () {
      assert.ok(same(data.xor({ seed: 1 }), data.xor({ seed: 2 })));
    });
  });

  describe('shapes, dtypes and tasks', function () {
    it('binary sets (moons, circles, xor, 2-class spirals, 2 blobs) have [n, 1] float labels of 0/1', function () {
      const sets = [data.moons({ n: 30 }), data.circles({ n: 30 }), data.xor({ n: 30 }), data.spirals({ n: 30 }), data.blobs({ n: 30, centers: 2 })];
      for (const ds of sets) {
        assert.equal(ds.task, 'binary', ds.name);
        assert.equal(ds.numClasses, 2, ds.name);
        assert.deepEqual(ds.x.shape, [30, 2], ds.name);
        assert.deepEqual(ds.y.shape, [30, 1], ds.name);
        assert.equal(ds.x.dtype, 'float32', ds.name);
        assert.equal(ds.y.dtype, 'float32', ds.name);
        assert.equal(ds.size, 30);
        assert.equal(ds.features, 2);
        assert.ok(labels(ds).every((v) => v === 0 || v === 1), ds.name);
        assert.deepEqual([...counts(labels(ds)).keys()].sort(), [0, 1], `${ds.name}: both classes present`);
      }
    });

    it('multiclass sets (spirals with 3 classes, blobs) have [n] int32 class indices', function () {
      const spirals = data.spirals({ classes: 3 });
      assert.equal(spirals.task, 'multiclass');
      assert.equal(spirals.numClasses, 3);
      assert.deepEqual(spirals.x.shape, [300, 2], 'default n is 100 per class');
      assert.deepEqual(spirals.y.shape, [300]);
      assert.equal(spirals.y.dtype, 'int32');
      const blobs = data.blobs({ n: 50, centers: 5, features: 3 });
      assert.equal(blobs.task, 'multiclass');
      assert.equal(blobs.numClasses, 5);
      assert.deepEqual(blobs.x.shape, [50, 3]);
      assert.deepEqual(blobs.y.shape, [50]);
      assert.equal(blobs.y.dtype, 'int32');
      assert.deepEqual([...counts(labels(blobs)).keys()].sort(), [0, 1, 2, 3, 4]);
    });

    it('linear is regression with [n, 1] targets', function () {
      const ds = data.linear({ n: 20, features: 3 });
      assert.equal(ds.task, 'regression');
      assert.equal(ds.numClasses, null);
      assert.deepEqual(ds.x.shape, [20, 3]);
      assert.deepEqual(ds.y.shape, [20, 1]);
      assert.equal(data.linear().size, 100, 'default n');
      assert.equal(data.linear({ weights: [1, 2, 3, 4] }).features, 4, 'features follow the weights');
    });

    it('dtype float64 gives float64 inputs (and float targets), class indices stay int32', function () {
      const m = data.moons({ dtype: 'float64' });
      assert.equal(m.x.dtype, 'float64');
      assert.equal(m.y.dtype, 'float64');
      const b = data.blobs({ dtype: 'float64' });
      assert.equal(b.x.dtype, 'float64');
      assert.equal(b.y.dtype, 'int32');
      assert.equal(data.linear({ dtype: 'float64' }).y.dtype, 'float64');
    });
  });

  describe('geometry', function () {
    it('xor: the default is the 4 corners of the unit square, labelled a xor b', function () {
      const ds = data.xor();
      assert.equal(ds.size, 4);
      const pts = rows(ds.x);
      assert.deepEqual(pts.map((p) => p.join(',')).sort(), ['0,0', '0,1', '1,0', '1,1']);
      pts.forEach(([a, b], i) => assert.equal(labels(ds)[i], a !== b ? 1 : 0, `row ${i} (${a}, ${b})`));
    });

    it('xor with n = 400 and noise 0.1: noisy corners, each labelled by the xor of its corner, balanced', function () {
      const ds = data.xor({ n: 400, noise: 0.1 });
      const pts = rows(ds.x);
      const corner = pts.map(([a, b]) => [Math.round(a), Math.round(b)]);
      corner.forEach(([a, b], i) => assert.equal(labels(ds)[i], a ^ b, `row ${i}`));
      const perCorner = counts(corner.map(([a, b]) => 2 * a + b));
      assert.deepEqual([...perCorner.entries()].sort(), [[0, 100], [1, 100], [2, 100], [3, 100]]);
      // the noise is there, centred, with std 0.1 on each coordinate (estimates from 400 draws: ±0.005 for the mean, ±0.0035 for the std)
      for (const j of [0, 1]) {
        const dev = pts.map((p, i) => p[j] - corner[i][j]);
        const mean = dev.reduce((s, d) => s + d, 0) / dev.length;
        const std = Math.sqrt(dev.reduce((s, d) => s + (d - mean) ** 2, 0) / dev.length);
        assert.ok(Math.abs(mean) < 0.02, `coordinate ${j}: noise mean ${mean}`);
        assert.ok(std > 0.085 && std < 0.115, `coordinate ${j}: noise std ${std}`);
      }
    });

    it('moons without noise: label 0 on the upper unit half circle, label 1 on the lower one centred at (1, 0.5)', function () {
      const ds = data.moons({ n: 101 });
      const pts = rows(ds.x), ys = labels(ds);
      const top = pts.filter((_, i) => ys[i] === 0), bottom = pts.filter((_, i) => ys[i] === 1);
      assert.equal(top.length, 50);
      assert.equal(bottom.length, 51);
      for (const [x, y] of top) {
        assert.ok(Math.abs(Math.hypot(x, y) - 1) < F32, `(${x}, ${y}) is not on the unit circle`);
        assert.ok(y >= -F32, `(${x}, ${y}) is below the centre`);
      }
      for (const [x, y] of bottom) {
        assert.ok(Math.abs(Math.hypot(x - 1, y - 0.5) - 1) < F32, `(${x}, ${y}) is not on the circle around (1, 0.5)`);
        assert.ok(y <= 0.5 + F32, `(${x}, ${y}) is above the centre`);
      }
      // each arc is a full half circle, evenly spaced: ends at angle 0 and π (resp. π…2π), gaps π/(m − 1)
      const has = (pts2: number[][], px: number, py: number) => pts2.some(([x, y]) => Math.abs(x - px) < F32 && Math.abs(y - py) < F32);
      assert.ok(has(top, 1, 0) && has(top, -1, 0), 'the upper arc runs from (1, 0) to (−1, 0)');
      assert.ok(has(bottom, 0, 0.5) && has(bottom, 2, 0.5), 'the lower arc runs from (0, 0.5) to (2, 0.5)');
      for (const g of angleGaps(top)) assert.ok(Math.abs(g - Math.PI / 49) < 1e-5, `upper gap ${g}`);
      for (const g of angleGaps(bottom.map(([x, y]) => [x, -y]), 1, -0.5)) assert.ok(Math.abs(g - Math.PI / 50) < 1e-5, `lower gap ${g}`);
    });

    it('moons are shuffled: the labels are not in two blocks', function () {
      const ys = labels(data.moons({ n: 100 }));
      let changes = 0;
      for (let i = 1; i < ys.length; i++) if (ys[i] !== ys[i - 1]) changes++;
      assert.ok(changes > 20, `only ${changes} label changes along the rows`);
    });

    it('circles without noise: label 0 at radius 1, label 1 at radius factor, evenly spaced', function () {
      for (const factor of [0.5, 0.3]) {
        const ds = data.circles({ n: 81, factor: factor === 0.5 ? undefined : factor });
        const pts = rows(ds.x), ys = labels(ds);
        const outer = pts.filter((_, i) => ys[i] === 0), inner = pts.filter((_, i) => ys[i] === 1);
        assert.equal(outer.length, 40);
        assert.equal(inner.length, 41);
        for (const [x, y] of outer) assert.ok(Math.abs(Math.hypot(x, y) - 1) < F32, `outer radius ${Math.hypot(x, y)}`);
        for (const [x, y] of inner) assert.ok(Math.abs(Math.hypot(x, y) - factor) < F32, `inner radius ${Math.hypot(x, y)} ≠ ${factor}`);
        for (const g of angleGaps(outer)) assert.ok(Math.abs(g - (2 * Math.PI) / 40) < 1e-5, `outer gap ${g}`);
        for (const g of angleGaps(inner)) assert.ok(Math.abs(g - (2 * Math.PI) / 41) < 1e-5, `inner gap ${g}`);
      }
    });

    it('circles with noise: radii scatter around 1 and factor', function () {
      const ds = data.circles({ n: 2000, noise: 0.05, factor: 0.4 });
      const pts = rows(ds.x), ys = labels(ds);
      const meanRadius = (label: number) => {
        const r = pts.filter((_, i) => ys[i] === label).map(([x, y]) => Math.hypot(x, y));
        return r.reduce((a, b) => a + b, 0) / r.length;
      };
      assert.ok(Math.abs(meanRadius(0) - 1) < 0.01, `outer ${meanRadius(0)}`);
      assert.ok(Math.abs(meanRadius(1) - 0.4) < 0.01, `inner ${meanRadius(1)}`);
      assert.ok(pts.some(([x, y]) => Math.abs(Math.hypot(x, y) - 1) > 0.02), 'no noise was added');
    });

    it('spirals without noise: class c at radius r lies at angle 4c + 4r; radii span 0…1; classes balanced', function () {
      const ds = data.spirals({ classes: 3, n: 301, noise: 0 });
      const pts = rows(ds.x), ys = labels(ds);
      assert.deepEqual([...counts(ys).entries()].sort(), [[0, 101], [1, 100], [2, 100]]);
      pts.forEach(([x, y], i) => {
        const r = Math.hypot(x, y);
        assert.ok(r <= 1 + F32, `radius ${r}`);
        if (r < 1e-3) return; // the angle of the centre point is undefined
        const expected = 4 * ys[i] + 4 * r;
        const angle = Math.atan2(x, y); // x = r·sin θ, y = r·cos θ
        let d = (angle - expected) % (2 * Math.PI);
        if (d > Math.PI) d -= 2 * Math.PI;
        if (d < -Math.PI) d += 2 * Math.PI;
        assert.ok(Math.abs(d) < 1e-4 / r, `point ${i} of class ${ys[i]}: angle ${angle}, expected ${expected} mod 2π`);
      });
      for (let c = 0; c < 3; c++) {
        const radii = pts.filter((_, i) => ys[i] === c).map(([x, y]) => Math.hypot(x, y));
        assert.ok(Math.min(...radii) < F32 && Math.abs(Math.max(...radii) - 1) < F32, `class ${c} radii ${Math.min(...radii)}…${Math.max(...radii)}`);
      }
    });

    it('blobs around explicit centres: N(centre, std²) per class, balanced', function () {
      const centers = [[0, 0, 0], [10, 0, -5], [0, 10, 5], [10, 10, 0]];
      const ds = data.blobs({ n: 400, centers, std: 0.5 });
      assert.equal(ds.features, 3);
      assert.equal(ds.numClasses, 4);
      const pts = rows(ds.x), ys = labels(ds);
      assert.deepEqual([...counts(ys).values()], [100, 100, 100, 100]);
      for (let c = 0; c < 4; c++) {
        const mine = pts.filter((_, i) => ys[i] === c);
        for (let j = 0; j < 3; j++) {
          const v = mine.map((p) => p[j]);
          const mean = v.reduce((a, b) => a + b, 0) / v.length;
          const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
          assert.ok(Math.abs(mean - centers[c][j]) < 0.2, `class ${c} feature ${j}: mean ${mean} vs centre ${centers[c][j]} (4σ/√100 = 0.2)`);
          assert.ok(Math.abs(std - 0.5) < 0.15, `class ${c} feature ${j}: std ${std} (the estimate's own spread is 0.035)`);
        }
        for (const p of mine) assert.ok(Math.hypot(...p.map((v, j) => v - centers[c][j])) < 3.5, `a class-${c} point is far from its centre`);
      }
    });

    it('blobs with a count draws the centres inside the box', function () {
      const ds = data.blobs({ n: 300, centers: 3, std: 0.1, box: [2, 4] });
      const pts = rows(ds.x);
      for (const p of pts) for (const v of p) assert.ok(v > 1.5 && v < 4.5, `coordinate ${v} outside the box ± 5σ`);
    });

    it('linear without noise: y = x·w + b exactly, x in [−1, 1)', function () {
      const ds = data.linear({ n: 50, weights: [2, -3], bias: 0.25, noise: 0 });
      const xs = rows(ds.x), ys = labels(ds);
      xs.forEach(([a, b], i) => {
        assert.ok(a >= -1 && a < 1 && b >= -1 && b < 1);
        assert.ok(Math.abs(ys[i] - (2 * a - 3 * b + 0.25)) < 1e-5, `row ${i}`);
      });
    });

    it('linear with drawn weights is still exactly linear (least squares leaves no residual) with bias 0.5', function () {
      const ds = data.linear({ n: 200, features: 2, noise: 0, dtype: 'float64', seed: 3 });
      const xs = rows(ds.x), ys = labels(ds);
      // normal equations for y ≈ w1·x1 + w2·x2 + b
      const A = [[0, 0, 0], [0, 0, 0], [0, 0, 0]], rhs = [0, 0, 0];
      xs.forEach(([a, b], i) => {
        const r = [a, b, 1];
        for (let p = 0; p < 3; p++) {
          rhs[p] += r[p] * ys[i];
          for (let q = 0; q < 3; q++) A[p][q] += r[p] * r[q];
        }
      });
      const [w1, w2, b] = solve3(A, rhs);
      assert.ok(Math.abs(b - 0.5) < 1e-9, `bias ${b}`);
      xs.forEach(([x1, x2], i) => assert.ok(Math.abs(ys[i] - (w1 * x1 + w2 * x2 + b)) < 1e-9, `row ${i} is off the plane`));
      assert.ok(Math.abs(w1) > 1e-3 || Math.abs(w2) > 1e-3, 'the weights are not all zero');
    });

    it('linear noise has the requested standard deviation', function () {
      const ds = data.linear({ n: 4000, weights: [1], bias: 0, noise: 0.3, dtype: 'float64' });
      const res = rows(ds.x).map(([x], i) => labels(ds)[i] - x);
      const mean = res.reduce((a, b) => a + b, 0) / res.length;
      const std = Math.sqrt(res.reduce((a, b) => a + (b - mean) ** 2, 0) / res.length);
      assert.ok(Math.abs(std - 0.3) < 0.015, `noise std ${std}`);
      assert.ok(Math.abs(mean) < 0.02, `noise mean ${mean}`);
    });
  });

  describe('fromArrays and subset', function () {
    it('infers binary, multiclass and regression from the targets', function () {
      const x = [[1, 2], [3, 4], [5, 6]];
      const bin = data.fromArrays(x, [0, 1, 1]);
      assert.equal(bin.task, 'binary');
      assert.deepEqual(bin.y.shape, [3, 1]);
      const multi = data.fromArrays(x, [0, 2, 1]);
      assert.equal(multi.task, 'multiclass');
      assert.equal(multi.numClasses, 3);
      assert.equal(multi.y.dtype, 'int32');
      assert.deepEqual(Array.from(multi.y.data), [0, 2, 1]);
      const reg = data.fromArrays(x, [0.5, -1.25, 2]);
      assert.equal(reg.task, 'regression');
      assert.deepEqual(reg.y.shape, [3, 1]);
      const reg2 = data.fromArrays(x, [[1, 2], [3, 4], [5, 6]]);
      assert.equal(reg2.task, 'regression');
      assert.deepEqual(reg2.y.shape, [3, 2]);
      assert.deepEqual(Array.from(reg2.y.data), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(Array.from(bin.x.data), [1, 2, 3, 4, 5, 6], 'rows keep their order');
      assert.equal(data.fromArrays(x, [0, 1, 1], { task: 'regression' }).task, 'regression');
    });

    it('subset copies the chosen rows with their labels', function () {
      const ds = data.fromArrays([[10], [11], [12], [13]], [0, 2, 1, 2]);
      const s = data.subset(ds, [3, 0, 3]);
      assert.deepEqual(Array.from(s.x.data), [13, 10, 13]);
      assert.deepEqual(Array.from(s.y.data), [2, 0, 2]);
      assert.equal(s.size, 3);
      assert.equal(s.task, 'multiclass');
      assert.equal(s.numClasses, 3);
    });
  });

  describe('digits', function () {
    it('are the 1,797 UCI 8×8 digits: pixels scaled to [0, 1], ten classes, images of [1, 8, 8]', function () {
      const all = data.digits();
      assert.equal(all.size, 1797);
      assert.deepEqual(all.x.shape, [1797, 64]);
      assert.equal(all.task, 'multiclass');
      assert.equal(all.numClasses, 10);
      assert.deepEqual(all.imageShape, [1, 8, 8]);
      assert.equal(all.y.dtype, 'int32');
      // the file's first image, a 0 (its first row of pixels 0 0 5 13 9 1 0 0, in sixteenths)
      assert.deepEqual(Array.from(all.x.data.slice(0, 8), (v) => v * 16), [0, 0, 5, 13, 9, 1, 0, 0]);
      assert.equal(all.y.data[0], 0);
      let lo = Infinity, hi = -Infinity;
      for (const v of all.x.data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      assert.deepEqual([lo, hi], [0, 1]);
      const counts = new Array(10).fill(0);
      for (const v of all.y.data) counts[v]++;
      assert.deepEqual(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    });

    it('split into fixed, stratified, disjoint train (60%), validation (20%) and test (20%) parts that cover every image', function () {
      const key = (ds: data.Dataset, i: number) => `${Array.from(ds.x.data.slice(i * 64, i * 64 + 64)).join(',')}|${ds.y.data[i]}`;
      const parts = (['train', 'validation', 'test'] as const).map((s) => data.digits({ split: s }));
      assert.deepEqual(parts.map((p) => p.size), [1078, 360, 359]);
      for (const p of parts) {
        assert.deepEqual(p.imageShape, [1, 8, 8]);
        const counts = new Array(10).fill(0);
        for (const v of p.y.data) counts[v]++;
        assert.ok(counts.every((n) => Math.abs(n / p.size - 0.1) < 0.01), `every class near a tenth: ${counts}`);
      }
      const seen = new Map<string, number>();
      const all = data.digits();
      for (let i = 0; i < all.size; i++) seen.set(key(all, i), (seen.get(key(all, i)) ?? 0) + 1);
      for (const p of parts) for (let i = 0; i < p.size; i++) {
        const k = key(p, i);
        assert.ok((seen.get(k) ?? 0) > 0, 'every part row is an image of the set, used once');
        seen.set(k, seen.get(k)! - 1);
      }
      assert.ok([...seen.values()].every((n) => n === 0), 'the parts cover every image');
      assert.deepEqual(Array.from(data.digits({ split: 'test' }).y.data), Array.from(parts[2].y.data), 'the same split every time');
      assert.throws(() => data.digits({ split: 'dev' as 'test' }), /split must be 'train', 'validation', 'test' or 'all'/);
    });
  });

  describe('split', function () {
    // row i has input i and target 2i, so rows can be traced through the split
    const indexed = (n: number) => data.fromArrays(Array.from({ length: n }, (_, i) => [i]), Array.from({ length: n }, (_, i) => 2 * i + 0.5), { dtype: 'float64' });

    it('holds out the requested fraction or count; the parts are disjoint, cover every row and keep labels with rows', function () {
      const ds = indexed(50);
      // a fraction is rounded to the nearest row count (0.33·50 = 16.5 → 17, as sklearn's ceil would give too)
      for (const [validation, held] of [[0.2, 10], [0.3, 15], [0.33, 17], [7, 7], [undefined, 10]] as [number | undefined, number][]) {
        const { train, validation: val } = data.split(ds, { validation, seed: 1 });
        assert.equal(val.size, held, `validation ${validation}`);
        assert.equal(train.size, 50 - held);
        const ids = [...Array.from(train.x.data), ...Array.from(val.x.data)];
        assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i), 'every row exactly once');
        for (const part of [train, val]) part.x.data.forEach((id, i) => assert.equal(part.y.data[i], 2 * id + 0.5, `row ${id} lost its label`));
      }
    });

    it('is random but seeded', function () {
      const ds = indexed(40);
      const ids = (seed: number) => Array.from(data.split(ds, { seed }).validation.x.data);
      assert.deepEqual(ids(3), ids(3));
      assert.notDeepEqual(ids(3), ids(4));
      const v = ids(3);
      assert.notDeepEqual([...v].sort((a, b) => a - b), Array.from({ length: 8 }, (_, i) => i), 'the held-out rows are not simply the first ones');
    });

    it('rejects a validation size that leaves a part empty', function () {
      const ds = indexed(10);
      for (const v of [0, -0.2, 0.01, 1.5, 10, 12]) {
        assert.throws(() => data.split(ds, { validation: v }), /data\.split: validation must be a fraction in \(0, 1\) or a row count that leaves both parts non-empty \(dataset of 10\)/, `validation ${v}`);
      }
    });
  });

  describe('standardize and featureStats', function () {
    function momentsOf(ds: Dataset): { mean: number[]; std: number[] } {
      const pts = rows(ds.x), f = ds.features;
      const mean = Array.from({ length: f }, (_, j) => pts.reduce((a, p) => a + p[j], 0) / pts.length);
      const std = Array.from({ length: f }, (_, j) => Math.sqrt(pts.reduce((a, p) => a + (p[j] - mean[j]) ** 2, 0) / pts.length));
      return { mean, std };
    }

    it('featureStats are the per-feature mean and population std', function () {
      const ds = data.fromArrays([[1, 10], [2, 10], [3, 40]], [0, 1, 0]);
      const s = data.featureStats(ds);
      assert.deepEqual(s.mean, [2, 20]);
      assert.ok(Math.abs(s.std[0] - Math.sqrt(2 / 3)) < 1e-12);
      assert.ok(Math.abs(s.std[1] - Math.sqrt(200)) < 1e-12);
    });

    it('gives mean 0 and std 1 per feature and records the statistics it used', function () {
      const ds = data.blobs({ n: 300, centers: [[5, -20], [8, -10]], std: 2, dtype: 'float64' });
      const before = momentsOf(ds);
      const z = data.standardize(ds);
      const after = momentsOf(z);
      after.mean.forEach((m) => assert.ok(Math.abs(m) < 1e-12, `mean ${m}`));
      after.std.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-12, `std ${s}`));
      before.mean.forEach((m, j) => assert.ok(Math.abs(z.standardization!.mean[j] - m) < 1e-9));
      before.std.forEach((s, j) => assert.ok(Math.abs(z.standardization!.std[j] - s) < 1e-9));
      assert.deepEqual(Array.from(z.y.data), Array.from(ds.y.data), 'labels unchanged');
      assert.equal(ds.standardization, undefined, 'the input dataset is not modified');
    });

    it('float32 inputs: mean ≈ 0 and std ≈ 1 to float32 precision', function () {
      const z = data.standardize(data.moons({ n: 500, noise: 0.1 }));
      const m = momentsOf(z);
      m.mean.forEach((v) => assert.ok(Math.abs(v) < 1e-6, `mean ${v}`));
      m.std.forEach((v) => assert.ok(Math.abs(v - 1) < 1e-5, `std ${v}`));
    });

    it('applies the training statistics to the validation set', function () {
      const ds = data.blobs({ n: 200, centers: [[3, 7], [-1, 2]], std: 1.5, dtype: 'float64', seed: 4 });
      const { train, validation } = data.split(ds, { validation: 0.25 });
      const zTrain = data.standardize(train);
      const stats = zTrain.standardization!;
      const zVal = data.standardize(validation, stats);
      const trainMoments = momentsOf(train);
      const raw = rows(validation.x), out = rows(zVal.x);
      raw.forEach((p, i) => p.forEach((v, j) => {
        const want = (v - trainMoments.mean[j]) / trainMoments.std[j];
        assert.ok(Math.abs(out[i][j] - want) < 1e-9, `row ${i} feature ${j}`);
      }));
      assert.deepEqual(zVal.standardization, stats);
      // the validation set's own mean is not forced to 0
      assert.ok(momentsOf(zVal).mean.some((m) => Math.abs(m) > 1e-3));
    });

    it('a constant feature stays put instead of dividing by zero', function () {
      const z = data.standardize(data.fromArrays([[1, 5], [2, 5], [3, 5]], [0, 1, 0]));
      assert.deepEqual(rows(z.x).map((p) => p[1]), [0, 0, 0]);
      assert.equal(z.standardization!.std[1], 1, 'its recorded std is 1, so new inputs are treated the same way');
      assert.ok(Math.abs(z.standardization!.std[0] - Math.sqrt(2 / 3)) < 1e-12);
      assert.ok(rows(z.x).every((p) => Number.isFinite(p[0])));
    });

    it('rejects statistics for another number of features', function () {
      const ds = data.moons({ n: 10 });
      assert.throws(() => data.standardize(ds, { mean: [0, 0, 0], std: [1, 1, 1] }), /data\.standardize: statistics for 3 features, the dataset has 2/);
    });
  });

  describe('DataLoader and batches', function () {
    // row i has input i, so batches can be traced back to rows
    const indexed = (n: number) => data.fromArrays(Array.from({ length: n }, (_, i) => [i]), Array.from({ length: n }, (_, i) => i % 2));

    it('each epoch visits every row once; the last batch is smaller; inputs and targets are the listed rows', function () {
      const ds = indexed(10);
      const loader = new data.DataLoader(ds, 3, { seed: 5 });
      assert.equal(loader.batchesPerEpoch, 4);
      for (let epoch = 0; epoch < 3; epoch++) {
        const batchRows: number[][] = [];
        for (let b = 0; b < 4; b++) {
          const batch = loader.next();
          assert.deepEqual(Array.from(batch.x.data), batch.rows, 'x holds the rows listed');
          assert.deepEqual(Array.from(batch.y.data), batch.rows.map((r) => r % 2), 'y holds their targets');
          assert.deepEqual(batch.x.shape, [batch.rows.length, 1]);
          batchRows.push(batch.rows);
        }
        assert.deepEqual(batchRows.map((r) => r.length), [3, 3, 3, 1], `epoch ${epoch} batch sizes`);
        assert.deepEqual(batchRows.flat().sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i), `epoch ${epoch} covers every row once`);
      }
    });

    it('reshuffles between epochs, reproducibly for a seed', function () {
      const ds = indexed(20);
      const epochs = (seed: number, count: number) => {
        const loader = new data.DataLoader(ds, 5, { seed });
        return Array.from({ length: count }, () => Array.from({ length: 4 }, () => loader.next().rows).flat());
      };
      const [e1, e2, e3] = epochs(1, 3);
      assert.notDeepEqual(e1, e2);
      assert.notDeepEqual(e2, e3);
      assert.notDeepEqual(e1, Array.from({ length: 20 }, (_, i) => i), 'the first epoch is shuffled too');
      assert.deepEqual(epochs(1, 3), [e1, e2, e3], 'the same seed gives the same orders');
      assert.notDeepEqual(epochs(2, 1)[0], e1, 'another seed another order');
    });

    it('counts epochs as they start', function () {
      const loader = new data.DataLoader(indexed(6), 4);
      loader.next();
      loader.next();
      assert.equal(loader.epoch, 0);
      loader.next();
      assert.equal(loader.epoch, 1);
    });

    it('peek and skip: peek is the batch next() returns (across epochs), skip(n) lands where n next() calls do', function () {
      const a = new data.DataLoader(indexed(10), 4, { seed: 5 });
      const b = new data.DataLoader(indexed(10), 4, { seed: 5 });
      for (let i = 0; i < 9; i++) {
        const peeked = a.peek().rows;
        assert.deepEqual(a.peek().rows, peeked, 'peek does not move on');
        assert.deepEqual(a.next().rows, peeked, `batch ${i}`);
        assert.deepEqual(b.next().rows, peeked, 'peeking does not change the sequence');
      }
      const c = new data.DataLoader(indexed(10), 4, { seed: 5 });
      c.skip(7);
      const d = new data.DataLoader(indexed(10), 4, { seed: 5 });
      for (let i = 0; i < 7; i++) d.next();
      assert.deepEqual(c.next().rows, d.next().rows);
    });

    it('shuffle: false keeps the dataset order', function () {
      const loader = new data.DataLoader(indexed(7), 3, { shuffle: false });
      const got = Array.from({ length: 6 }, () => loader.next().rows);
      assert.deepEqual(got, [[0, 1, 2], [3, 4, 5], [6], [0, 1, 2], [3, 4, 5], [6]]);
    });

    it('a batch size ≥ the dataset size gives the whole dataset every step', function () {
      const ds = indexed(8);
      for (const size of [8, 100]) {
        const loader = new data.DataLoader(ds, size);
        assert.equal(loader.batchSize, 8);
        assert.equal(loader.batchesPerEpoch, 1);
        for (let i = 0; i < 3; i++) {
          const b = loader.next();
          assert.deepEqual(b.rows, [0, 1, 2, 3, 4, 5, 6, 7]);
          assert.deepEqual(Array.from(b.x.data), Array.from(ds.x.data));
          assert.deepEqual(Array.from(b.y.data), Array.from(ds.y.data));
        }
      }
    });

    it('batches() yields one epoch', function () {
      const ds = indexed(10);
      const all = [...data.batches(ds, 4, { seed: 9 })];
      assert.deepEqual(all.map((b) => b.rows.length), [4, 4, 2]);
      assert.deepEqual(all.flatMap((b) => b.rows).sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i));
      assert.equal([...data.batches(ds, 64)].length, 1);
    });

    it('multiclass batches keep [b] int32 targets', function () {
      const ds = data.spirals({ classes: 3, n: 30 });
      const b = new data.DataLoader(ds, 7).next();
      assert.deepEqual(b.y.shape, [7]);
      assert.equal(b.y.dtype, 'int32');
      b.rows.forEach((r, i) => assert.equal(b.y.data[i], ds.y.data[r]));
    });

    it('rejects a batch size that is not a positive integer', function () {
      const ds = indexed(5);
      for (const size of [0, -1, 1.5, NaN]) {
        assert.throws(() => new data.DataLoader(ds, size), /data: batchSize must be a positive integer, got/, `batch size ${size}`);
      }
      assert.throws(() => [...data.batches(ds, 0)], /batchSize must be a positive integer, got 0/);
    });
  });

  describe('bad input gives an Error that says what was wrong', function () {
    const cases: [string, () => unknown, RegExp][] = [
      ['moons with one point', () => data.moons({ n: 1 }), /data\.moons: n must be an integer between 2 and 10,000,000, got 1/],
      ['a fractional n', () => data.linear({ n: 2.5 }), /data\.linear: n must be an integer between 1 and 10,000,000, got 2\.5/],
      ['negative noise', () => data.circles({ noise: -0.1 }), /data\.circles: noise must be a number ≥ 0, got -0\.1/],
      ['circles factor ≥ 1', () => data.circles({ factor: 1.5 }), /data\.circles: factor \(inner radius\) must be in \(0, 1\), got 1\.5/],
      ['spirals with one class', () => data.spirals({ classes: 1 }), /data\.spirals: classes must be an integer from 2 to 100, got 1/],
      ['spirals with fewer points than classes', () => data.spirals({ classes: 3, n: 2 }), /data\.spirals: n must be an integer between 3/],
      ['blobs with one centre', () => data.blobs({ centers: 1 }), /data\.blobs: centers must be an integer ≥ 2 or a list of points, got 1/],
      ['blobs with ragged centres', () => data.blobs({ centers: [[0, 0], [1]] }), /data\.blobs: centers must be a non-empty list of points with the same number of finite coordinates/],
      ['blobs with negative std', () => data.blobs({ std: -1 }), /data\.blobs: std must be a number ≥ 0, got -1/],
      ['linear with too few weights', () => data.linear({ features: 3, weights: [1, 2] }), /data\.linear: 2 weights for 3 features/],
      ['linear with 0 features', () => data.linear({ features: 0 }), /data\.linear: features must be a positive integer, got 0/],
      ['an int32 dtype', () => data.moons({ dtype: 'int32' }), /data\.moons: dtype must be float32 or float64, got int32/],
      ['fromArrays with fewer targets than rows', () => data.fromArrays([[1], [2]], [0]), /data\.fromArrays: 2 input rows but 1 targets/],
      ['fromArrays with a flat input list', () => data.fromArrays([1, 2] as never, [0, 1]), /data\.fromArrays: inputs must be rows of numbers \(\[n\]\[features\]\), got rank 1/],
      ['subset with a row out of range', () => data.subset(data.xor(), [0, 4]), /data\.subset: row 4 is not an integer in 0…3/],
      ['subset with a fractional row', () => data.subset(data.xor(), [0.5]), /data\.subset: row 0\.5 is not an integer in 0…3/],
      ['standardize with a zero std', () => data.standardize(data.xor(), { mean: [0, 0], std: [1, 0] }), /data\.standardize: every std must be a finite number > 0/],
      ['fromArrays with a negative class label', () => data.fromArrays([[1], [2], [3]], [0, 2, -1]), /data\.fromArrays: class labels must be integers ≥ 0/],
      ['blobs with an empty box', () => data.blobs({ box: [1, 1] }), /data\.blobs: box must be \[lo, hi\] with lo < hi/],
    ];
    for (const [what, fn, message] of cases) {
      it(what, () => assert.throws(fn, (e: unknown) => e instanceof Error && message.test(e.message)));
    }
  });
});
