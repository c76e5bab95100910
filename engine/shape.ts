/** Shapes, strides, broadcasting and axis handling shared by every op. */
import { ShapeError } from './errors';

export type Shape = readonly number[];

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** The shape of every 0-d tensor. Shapes are never mutated in place, so this one is shared. */
export const SCALAR_SHAPE: number[] = Object.freeze([]) as unknown as number[];

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkShape(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape)) throw new ShapeError(`${where}: shape must be an array of sizes, got ${JSON.stringify(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${where}: shape ${JSON.stringify(shape)} has an invalid size ${d}; sizes must be integers ≥ 0`);
    }
  }
  return shape.slice();
}

/** NumPy broadcasting of two shapes; the error names both shapes and the clashing dimensions. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  if (sameShape(a, b)) return a.length === 0 ? SCALAR_SHAPE : a.slice();
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw new ShapeError(
        `${op}: shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast: ` +
          `dimension ${i - (rank - a.length)} of the first has size ${da}, dimension ${i - (rank - b.length)} of the second has size ${db}` +
          ' (sizes must be equal or one of them 1)',
      );
    }
  }
  return out;
}

/** Normalizes a possibly negative axis; the error says which axis and rank were involved. */
export function normalizeAxis(axis: number, rank: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank} (valid: ${-rank} … ${Math.max(rank - 1, 0)})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Sorted unique axes; undefined/null means all axes. */
export function normalizeAxes(axis: number | readonly number[] | undefined | null, rank: number, op: string): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  const out = [...new Set(list.map((a) => normalizeAxis(a, rank, op)))];
  return out.sort((x, y) => x - y);
}

/** The shape after reducing `axes`, with or without keeping them as size-1 dimensions. */
export function reducedShape(shape: Shape, axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepdims) out.push(1);
    } else out.push(shape[i]);
  }
  return out;
}

/** Axes of `outShape` along which `shape` was broadcast. */
export function broadcastAxes(shape: readonly number[], outShape: readonly number[]): number[] {
  const axes: number[] = [];
  const lead = outShape.length - shape.length;
  for (let i = 0; i < outShape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && outShape[i] !== 1)) axes.push(i);
  }
  return axes;
}
