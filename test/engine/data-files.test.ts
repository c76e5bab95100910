/**
 * data.fromCsv and data.fromNpy: the user's own data, read through the access the model process
 * gives (here, a temporary folder); .npy files written by NumPy itself; every bad file named with
 * what is wrong where.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { data } from '../../engine/index';
import { setFileAccess } from '../../engine/data/files';
import { findTorchPython } from '../oracle/torch';

describe('data from files: fromCsv, fromNpy', () => {
  let dir = '';
  const write = (name: string, text: string | Uint8Array) => fs.writeFileSync(path.join(dir, name), text);
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpl-data-'));
    setFileAccess({ resolve: (p) => path.resolve(dir, p), read: (p) => fs.readFileSync(p) });
  });
  after(() => {
    setFileAccess(null);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fromCsv: a header, the target by name or index (default the last), the task from the targets', () => {
    write('houses.csv', 'rooms,area,price\n3,70.5,200\n4,90,260.5\n2,40,150\n');
    const reg = data.fromCsv('houses.csv');
    assert.equal(reg.task, 'regression');
    assert.deepEqual(reg.x.shape, [3, 2]);
    assert.deepEqual(Array.from(reg.x.data), [3, 70.5, 4, 90, 2, 40]);
    assert.deepEqual(Array.from(reg.y.data), [200, 260.5, 150]);
    const byName = data.fromCsv('houses.csv', { target: 'rooms' });
    assert.equal(byName.task, 'multiclass');
    assert.deepEqual(Array.from(byName.y.data), [3, 4, 2]);
    assert.equal(byName.numClasses, 5);
    assert.deepEqual(Array.from(byName.x.data), [70.5, 200, 90, 260.5, 40, 150]);
    write('flags.csv', '0.5;1.5;1\r\n-1;2;0\r\n'); // no header, ';' separated, CRLF
    const bin = data.fromCsv('flags.csv', { target: 2 });
    assert.equal(bin.task, 'binary');
    assert.deepEqual(bin.y.shape, [2, 1]);
    assert.deepEqual(Array.from(bin.x.data), [0.5, 1.5, -1, 2]);
    assert.equal(data.fromCsv('flags.csv', { target: -1, task: 'regression', dtype: 'float64' }).x.dtype, 'float64');
  });

  it('fromCsv: every bad file says which file and what is wrong where', () => {
    write('ragged.csv', 'a,b,c\n1,2,3\n4,5\n');
    write('words.csv', 'a,b\n1,2\n3,three\n');
    write('hole.csv', 'a,b\n1,\n');
    write('one.csv', '1\n2\n');
    assert.throws(() => data.fromCsv('missing.csv'), /data\.fromCsv: cannot read missing\.csv \(.*missing\.csv\): there is no such file/);
    assert.throws(() => data.fromCsv('ragged.csv'), /ragged\.csv line 3 has 2 values, line 1 has 3/);
    assert.throws(() => data.fromCsv('words.csv'), /words\.csv line 3, column "b": "three" is not a number/);
    assert.throws(() => data.fromCsv('hole.csv'), /hole\.csv line 2, column "b": the cell is empty/);
    assert.throws(() => data.fromCsv('words.csv', { target: 'price' }), /words\.csv has no column "price"; its columns are "a", "b"/);
    assert.throws(() => data.fromCsv('one.csv'), /one\.csv has one column/);
    assert.throws(() => data.fromCsv('words.csv', { target: 5 }), /target 5 is not a column of words\.csv \(it has 2\)/);
    assert.throws(() => data.fromCsv('.'), /cannot read \. .*: it is a folder/);
    setFileAccess(null);
    try {
      assert.throws(() => data.fromCsv('houses.csv'), /files are read where model files run/);
    } finally {
      setFileAccess({ resolve: (p) => path.resolve(dir, p), read: (p) => fs.readFileSync(p) });
    }
  });

  it('fromNpy: arrays NumPy wrote (float32 images, int64 labels, float64 features): values, shapes, imageShape, task', () => {
    const py = findTorchPython().executable;
    execFileSync(py, ['-c', `
import numpy as np
np.save('images.npy', (np.arange(5 * 3 * 4, dtype=np.float32) / 7).reshape(5, 3, 4))
np.save('labels.npy', np.array([0, 2, 1, 2, 0], dtype=np.int64))
np.save('features.npy', np.array([[1.5, -2.0], [0.25, 3.0], [4.0, 5.0]], dtype=np.float64))
np.save('targets.npy', np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], dtype=np.float32))
np.save('fortran.npy', np.asfortranarray(np.ones((2, 3), dtype=np.float32)))
np.save('big.npy', np.ones((2, 2), dtype='>f4'))
np.save('text.npy', np.array(['a', 'b']))
`], { cwd: dir });
    const img = data.fromNpy('images.npy', 'labels.npy');
    assert.deepEqual(img.x.shape, [5, 12]);
    assert.deepEqual(img.imageShape, [1, 3, 4]);
    assert.deepEqual(Array.from(img.x.data), Array.from({ length: 60 }, (_, i) => Math.fround(Math.fround(i) / 7)));
    assert.equal(img.task, 'multiclass');
    assert.deepEqual(Array.from(img.y.data), [0, 2, 1, 2, 0]);
    const reg = data.fromNpy('features.npy', 'targets.npy', { dtype: 'float64' });
    assert.equal(reg.task, 'regression');
    assert.deepEqual(reg.y.shape, [3, 2]);
    assert.deepEqual(Array.from(reg.x.data), [1.5, -2, 0.25, 3, 4, 5]);
    assert.deepEqual(Array.from(reg.y.data), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6].map(Math.fround));
    assert.throws(() => data.fromNpy('images.npy', 'targets.npy'), /the targets targets\.npy have shape \(3, 2\); the inputs images\.npy have 5 examples/);
    assert.throws(() => data.fromNpy('fortran.npy', 'labels.npy'), /fortran\.npy is in Fortran order/);
    assert.throws(() => data.fromNpy('big.npy', 'labels.npy'), /big\.npy holds >f4 values/);
    assert.throws(() => data.fromNpy('text.npy', 'labels.npy'), /text\.npy holds <U1 values/);
    write('fake.npy', 'not numpy at all');
    assert.throws(() => data.fromNpy('fake.npy', 'labels.npy'), /fake\.npy is not a \.npy file/);
    assert.throws(() => data.fromNpy('labels.npy', 'labels.npy'), /the inputs labels\.npy have shape \(5\); they need one row per example/);
  });
});
