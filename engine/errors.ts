/**
 * The errors the engine throws on purpose, by kind, so callers (the runner, the CLI) classify them
 * with `instanceof` and not by reading their English text. Each message still names the op, the
 * shapes or values involved and what to do.
 */

/**
 * The layer an error came from: the innermost module with parameters whose forward was running, and
 * where its first parameter was created in the model file (the `nn.linear(…)` line), when known.
 * The runner places the error there when no frame of the user's code is on the stack (a training
 * step runs the model from inside the engine).
 */
export interface ErrorLayer {
  path: string | null;
  source: { file: string; line: number; column: number } | null;
}

/** Shapes that do not fit: broadcasting, matmul's inner dimensions, reshape sizes, axes out of range. */
export class ShapeError extends Error {
  layer?: ErrorLayer;
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** An index out of range for the axis it indexes (gather, oneHot labels). */
export class IndexError extends RangeError {
  layer?: ErrorLayer;
  constructor(message: string) {
    super(message);
    this.name = 'IndexError';
  }
}

/** The output a graph is drawn from cannot start a backward pass (not a scalar, say): the user's export is at fault. */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}
