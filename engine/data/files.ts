/**
 * The user's own data from files: `data.fromCsv` and `data.fromNpy`, paths relative to the model
 * file. The engine itself reads no files (it also runs in the panel); the model process gives it
 * read access (`setFileAccess`) when it loads a model file, and every error names the file and says
 * what is wrong where (the row and column of a CSV cell, the field of a .npy header).
 */
import type { DType } from '../dtype';
import { fromValues, type Dataset, type Task } from './values';

// in Node and in browsers alike (the engine's type build has neither's library)
declare const TextDecoder: new (label?: string) => { decode(bytes: Uint8Array): string };

export interface FileAccess {
  /** The absolute path of `p` (relative paths are relative to the model file). */
  resolve(p: string): string;
  /** The file's bytes; throws (ENOENT…) when it cannot be read. */
  read(absolute: string): Uint8Array;
}

let access: FileAccess | null = null;

/** Gives the engine read access to the user's files (the model process does, for the model file's folder). */
export function setFileAccess(a: FileAccess | null): void {
  access = a;
}

class DataFileError extends Error {
  override name = 'DataFileError';
}

function readUserFile(op: string, p: unknown): { bytes: Uint8Array; shown: string } {
  if (typeof p !== 'string' || !p) throw new DataFileError(`data.${op}: give the path of the file (relative to the model file), got ${JSON.stringify(p)}`);
  if (!access) throw new DataFileError(`data.${op}: files are read where model files run (Show Graph, Train, the CLI), not here`);
  const abs = access.resolve(p);
  try {
    return { bytes: access.read(abs), shown: p };
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'it cannot be read (permission denied)' : String((err as Error).message);
    throw new DataFileError(`data.${op}: cannot read ${p} (${abs}): ${why}`);
  }
}

export interface CsvOptions {
  /** The target column: its header name or its index (negative counts from the end; default the last column). */
  target?: string | number;
  /** Whether the first row names the columns (default: when it has a cell that is not a number). */
  header?: boolean;
  /** Cell separator (default: ',' — or ';' or a tab when the first line has those and no comma). */
  delimiter?: string;
  task?: Task;
  dtype?: DType;
}

/**
 * A dataset from a CSV file of numbers, one example per row: every column is an input feature but
 * the target (the last, or the one `target` names). The task is inferred from the targets as in
 * `fromArrays` (0/1: binary; other integers: multi-class; else regression) unless `task` says.
 */
export function fromCsv(file: string, opts: CsvOptions = {}): Dataset {
  const { bytes, shown } = readUserFile('fromCsv', file);
  let text = new TextDecoder('utf-8').decode(bytes);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r\n|\n|\r/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (!lines.length) throw new DataFileError(`data.fromCsv: ${shown} is empty`);
  const first = lines[0];
  const delimiter = opts.delimiter ?? (!first.includes(',') && first.includes(';') ? ';' : !first.includes(',') && first.includes('\t') ? '\t' : ',');
  const split = (l: string) => l.split(delimiter).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const isNumber = (c: string) => c !== '' && Number.isFinite(Number(c));
  const head = split(first);
  const header = opts.header ?? head.some((c) => !isNumber(c));
  const names = header ? head : head.map((_, i) => `column ${i + 1}`);
  const cols = names.length;
  if (cols < 2) throw new DataFileError(`data.fromCsv: ${shown} has one column; it needs input columns and a target column (separator ${JSON.stringify(delimiter)})`);
  let t: number;
  if (typeof opts.target === 'string') {
    t = names.indexOf(opts.target);
    if (t < 0) throw new DataFileError(`data.fromCsv: ${shown} has no column ${JSON.stringify(opts.target)}; its columns are ${names.map((n) => JSON.stringify(n)).join(', ')}`);
  } else {
    const i = opts.target ?? -1;
    t = i < 0 ? cols + i : i;
    if (!Number.isInteger(i) || t < 0 || t >= cols) throw new DataFileError(`data.fromCsv: target ${String(opts.target)} is not a column of ${shown} (it has ${cols})`);
  }
  const rows = lines.length - (header ? 1 : 0);
  if (rows < 1) throw new DataFileError(`data.fromCsv: ${shown} has a header but no rows`);
  const xs = new Float64Array(rows * (cols - 1));
  const ys = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const lineNo = r + (header ? 2 : 1);
    const cells = split(lines[r + (header ? 1 : 0)]);
    if (cells.length !== cols) throw new DataFileError(`data.fromCsv: ${shown} line ${lineNo} has ${cells.length} value${cells.length === 1 ? '' : 's'}, line 1 has ${cols}`);
    let k = 0;
    for (let c = 0; c < cols; c++) {
      const cell = cells[c];
      if (!isNumber(cell)) throw new DataFileError(`data.fromCsv: ${shown} line ${lineNo}, column ${JSON.stringify(names[c])}: ${cell === '' ? 'the cell is empty' : `${JSON.stringify(cell.slice(0, 40))} is not a number`}`);
      if (c === t) ys[r] = Number(cell);
      else xs[r * (cols - 1) + k++] = Number(cell);
    }
  }
  return fromValues(`data.fromCsv(${shown})`, shown.split(/[\\/]/).pop()!, xs, cols - 1, ys, 1, opts);
}

interface NpyArray {
  shape: number[];
  values: Float64Array;
}

const NPY_TYPES: Record<string, { bytes: number; read: (v: DataView, o: number) => number }> = {
  '<f4': { bytes: 4, read: (v, o) => v.getFloat32(o, true) },
  '<f8': { bytes: 8, read: (v, o) => v.getFloat64(o, true) },
  '|i1': { bytes: 1, read: (v, o) => v.getInt8(o) },
  '|u1': { bytes: 1, read: (v, o) => v.getUint8(o) },
  '|b1': { bytes: 1, read: (v, o) => v.getUint8(o) },
  '<i2': { bytes: 2, read: (v, o) => v.getInt16(o, true) },
  '<u2': { bytes: 2, read: (v, o) => v.getUint16(o, true) },
  '<i4': { bytes: 4, read: (v, o) => v.getInt32(o, true) },
  '<u4': { bytes: 4, read: (v, o) => v.getUint32(o, true) },
  '<i8': { bytes: 8, read: (v, o) => Number(v.getBigInt64(o, true)) },
  '<u8': { bytes: 8, read: (v, o) => Number(v.getBigUint64(o, true)) },
};

/** Parses a NumPy .npy file (format 1.0–3.0, little-endian numbers, C order). */
export function parseNpy(bytes: Uint8Array, shown: string): NpyArray {
  const bad = (why: string) => new DataFileError(`data.fromNpy: ${shown} ${why}`);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw bad('is not a .npy file (np.save writes one)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) throw bad(`has format version ${major}, which this reader does not know`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw bad(`has a header without descr, fortran_order or shape: ${header.trim().slice(0, 120)}`);
  const type = NPY_TYPES[descr.replace(/^=/, '<')];
  if (!type) throw bad(`holds ${descr} values; save numbers as float32, float64 or integers, little-endian (arr.astype('<f4'))`);
  if (fortran === 'True') throw bad("is in Fortran order; save it with np.save(path, np.ascontiguousarray(arr))");
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`has a shape that is not a list of sizes: (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (bytes.length - dataStart < n * type.bytes) throw bad(`is cut short: its header promises ${n} values of ${type.bytes} bytes, the file has ${bytes.length - dataStart} bytes of data`);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = type.read(view, dataStart + i * type.bytes);
  return { shape, values };
}

/**
 * A dataset from two NumPy files: inputs [n, …] (an image set [n, h, w] or [n, c, h, w] keeps its
 * `imageShape`) and targets [n] or [n, k]; the task is inferred as in `fromArrays` unless `task` says.
 */
export function fromNpy(inputs: string, targets: string, opts: { task?: Task; dtype?: DType } = {}): Dataset {
  const xf = readUserFile('fromNpy', inputs);
  const yf = readUserFile('fromNpy', targets);
  const x = parseNpy(xf.bytes, xf.shown);
  const y = parseNpy(yf.bytes, yf.shown);
  if (x.shape.length < 2) throw new DataFileError(`data.fromNpy: the inputs ${xf.shown} have shape (${x.shape.join(', ')}); they need one row per example: [n, features] or images [n, h, w]`);
  const n = x.shape[0];
  if (y.shape.length < 1 || y.shape.length > 2 || y.shape[0] !== n) {
    throw new DataFileError(`data.fromNpy: the targets ${yf.shown} have shape (${y.shape.join(', ')}); the inputs ${xf.shown} have ${n} examples, so the targets need shape (${n},) or (${n}, k)`);
  }
  const features = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const ds = fromValues(`data.fromNpy(${xf.shown})`, xf.shown.split(/[\\/]/).pop()!, x.values, features, y.values, y.shape.length === 2 ? y.shape[1] : 1, opts, y.shape.length === 2);
  const img = x.shape.length === 3 ? [1, x.shape[1], x.shape[2]] : x.shape.length === 4 ? x.shape.slice(1) : null;
  return img ? { ...ds, imageShape: img } : ds;
}
