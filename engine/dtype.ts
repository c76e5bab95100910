/** Element types a tensor can hold. Floats for values and gradients, int32 for labels and indices. */
export type DType = 'float32' | 'float64' | 'int32';
export type TypedArray = Float32Array | Float64Array | Int32Array;

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

export function checkDType(dtype: unknown, where: string): DType {
  if (typeof dtype === 'string' && (DTYPES as readonly string[]).includes(dtype)) return dtype as DType;
  throw new Error(`${where}: unknown dtype ${JSON.stringify(dtype)}; use one of ${DTYPES.join(', ')}`);
}

let maxTensorBytes = Number.POSITIVE_INFINITY;

/**
 * Refuses single tensors larger than `bytes` (the runner sets its memory limit here: typed-array
 * storage lives outside the JS heap, so a heap limit alone does not stop a huge tensor).
 */
export function setMaxTensorBytes(bytes: number): void {
  maxTensorBytes = bytes > 0 ? bytes : Number.POSITIVE_INFINITY;
}

export class TensorTooLargeError extends RangeError {
  constructor(readonly elements: number, readonly bytes: number) {
    super(`a tensor of ${elements} elements (${(bytes / 2 ** 20).toFixed(0)} MB) is larger than the memory limit (${(maxTensorBytes / 2 ** 20).toFixed(0)} MB)`);
    this.name = 'TensorTooLargeError';
  }
}

export function allocate(dtype: DType, size: number): TypedArray {
  const bytes = size * (dtype === 'float64' ? 8 : 4);
  if (bytes > maxTensorBytes) throw new TensorTooLargeError(size, bytes);
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
  }
}

/** Type promotion for mixed inputs: float64 wins over float32, any float wins over int32. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  return 'float32';
}

/**
 * The dtype of an elementwise op on mixed inputs, by PyTorch's rule: a 0-d tensor, like a plain
 * number, does not widen tensors that have dimensions and are of its kind (float32 [3] with a
 * float64 0-d scalar is float32); it does when it is of a higher kind (a float 0-d with int32).
 */
export function resultDType(inputs: readonly { readonly dtype: DType; readonly shape: readonly number[] }[]): DType {
  const widest = (ts: readonly { readonly dtype: DType }[]) => ts.map((t) => t.dtype).reduce(promote);
  const dims = inputs.filter((t) => t.shape.length > 0);
  if (dims.length === 0) return widest(inputs);
  const d = widest(dims);
  if (d !== 'int32') return d;
  const floats = inputs.filter((t) => t.shape.length === 0 && t.dtype !== 'int32');
  return floats.length ? widest(floats) : d;
}

/** The floating type an op that always produces real numbers (exp, mean, …) returns for this input. */
export function floatOf(d: DType): DType {
  return d === 'int32' ? 'float32' : d;
}
