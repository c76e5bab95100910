/**
 * The decision boundary of a classifier with two input features: the model evaluated (eval mode, no
 * gradient) on a grid over the training data's extent, the class it predicts and how sure it is,
 * with the training points on top — the picture of what a small network has learned on moons or XOR.
 */
import { noGrad } from '../ops/context';
import * as F from '../ops/functional';
import { tensor } from '../tensor';
import * as losses from '../losses';
import type { Trainer } from '../train/trainer';
import type { BoundaryReport } from './analysis';

/** Grid cells per axis, and the most training points drawn. */
export const BOUNDARY_GRID = 60;
export const BOUNDARY_POINTS = 600;

export function boundaryReport(trainer: Trainer): BoundaryReport {
  return trainer.analyze(() => boundaryAt(trainer));
}

function boundaryAt(trainer: Trainer): BoundaryReport {
  const data = trainer.train;
  const model = trainer.spec.model;
  if (!data || !model) throw new Error('The decision boundary needs a model (an nn module) and training data.');
  if (data.features !== 2) throw new Error(`The decision boundary is drawn for two input features; this data has ${data.features}.`);
  if (data.task !== 'binary' && data.task !== 'multiclass') throw new Error('The decision boundary is for classification; this data is regression.');
  const x = data.x.data, y = data.y.data, n = data.size;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, x[2 * i]); x1 = Math.max(x1, x[2 * i]);
    y0 = Math.min(y0, x[2 * i + 1]); y1 = Math.max(y1, x[2 * i + 1]);
  }
  const padX = (x1 - x0) * 0.1 || 1, padY = (y1 - y0) * 0.1 || 1;
  const axis = (lo: number, hi: number) => Array.from({ length: BOUNDARY_GRID }, (_, k) => lo + ((k + 0.5) * (hi - lo)) / BOUNDARY_GRID);
  const xs = axis(x0 - padX, x1 + padX), ys = axis(y0 - padY, y1 + padY);
  const grid = new Float64Array(2 * BOUNDARY_GRID * BOUNDARY_GRID);
  for (let j = 0; j < BOUNDARY_GRID; j++) for (let i = 0; i < BOUNDARY_GRID; i++) {
    grid[2 * (j * BOUNDARY_GRID + i)] = xs[i];
    grid[2 * (j * BOUNDARY_GRID + i) + 1] = ys[j];
  }
  const cells = BOUNDARY_GRID * BOUNDARY_GRID;
  // the model's outputs as probabilities: one output per example is binary (bce takes probabilities
  // already, the with-logits losses take logits); several are class logits (softmax)
  let binary = false;
  const probs = noGrad(() => {
    const out = model.forward(tensor(grid, { shape: [cells, 2], dtype: data.x.dtype }));
    binary = out.size === cells;
    if (binary) return trainer.spec.loss === losses.bce ? out : F.sigmoid(out);
    return F.softmax(F.reshape(out, [cells, -1]), -1);
  }).data;
  const classes = binary ? 2 : probs.length / cells;
  const cls: number[] = [], confidence: number[] = [];
  for (let c = 0; c < cells; c++) {
    if (binary) {
      const p = Number(probs[c]);
      cls.push(p > 0.5 ? 1 : 0);
      confidence.push(p > 0.5 ? p : 1 - p);
    } else {
      let best = 0;
      for (let k = 1; k < classes; k++) if (probs[c * classes + k] > probs[c * classes + best]) best = k;
      cls.push(best);
      confidence.push(Number(probs[c * classes + best]));
    }
  }
  const stride = Math.max(1, Math.ceil(n / BOUNDARY_POINTS));
  const points: [number, number, number][] = [];
  for (let i = 0; i < n; i += stride) points.push([x[2 * i], x[2 * i + 1], data.task === 'binary' ? (y[i] > 0.5 ? 1 : 0) : y[i]]);
  return { step: trainer.stepsTaken, task: data.task, classes, xs, ys, cls, confidence, points, standardized: !!trainer.spec.standardize };
}
