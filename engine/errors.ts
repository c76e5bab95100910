/**
 * The errors the engine throws on purpose, by kind, so callers (the runner, the CLI) classify them
 * with `instanceof` and not by reading their English text. Each message still names the op, the
 * shapes or values involved and what to do.
 */

/** Shapes that do not fit: broadcasting, matmul's inner dimensions, reshape sizes, axes out of range. */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** An index out of range for the axis it indexes (gather, oneHot labels). */
export class IndexError extends RangeError {
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
