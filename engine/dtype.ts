/** Element types a tensor can hold. Floats for values and gradients, int32 for labels and indices. */
export type DType = 'float32' | 'float64' | 'int32';
export type TypedArray = Float32Array | Float64Array | Int32Array;

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

export function checkDType(dtype: unknown, where: string): DType {
  if (typeof dtype === 'string' && (DTYPES as readonly string[]).includes(dtype)) return dtype as DType;
  throw new Error(`${where}: unknown dtype ${JSON.stringify(dtype)}; use one of ${DTYPES.join(', ')}`);
}

export function allocate(dtype: DType, size: number): TypedArray {
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

/** The floating type an op that always produces real numbers (exp, mean, …) returns for this input. */
export function floatOf(d: DType): DType {
  return d === 'int32' ? 'float32' : d;
}
