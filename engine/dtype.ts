/** Element types a tensor can hold. Floats for values and gradients, int32 for labels and indices. */
export type DType = 'float32' | 'float64' | 'int32';
export type TypedArray = Float32Array | Float64Array | Int32Array;

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

export function checkDType(dtype: unknown, where: string): DType {
  if (typeof dtype === 'string' && (DTYPES as readonly string[]).includes(dtype)) return dtype as DType;
  throw new Error(`${where}: unknown dtype ${JSON.stringify(dtype)}; use one of ${DTYPES.join(', ')}`);
}

/**
 * Tensors of up to SMALL elements are views into shared slabs. Every ArrayBuffer costs the garbage
 * collector a tracked extension; scalar-mode graphs (micrograd style) create hundreds of thousands
 * of one-element tensors, and giving each its own buffer made collection dominate the run time.
 */
const SMALL = 16;
const SLAB_BYTES = 1 << 16;
const slabs: Record<DType, { buffer: ArrayBuffer; offset: number }> = {
  float32: { buffer: new ArrayBuffer(SLAB_BYTES), offset: 0 },
  float64: { buffer: new ArrayBuffer(SLAB_BYTES), offset: 0 },
  int32: { buffer: new ArrayBuffer(SLAB_BYTES), offset: 0 },
};
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

export function allocate(dtype: DType, size: number): TypedArray {
  if (size <= SMALL) {
    const slab = slabs[dtype];
    const bytes = size * BYTES[dtype];
    if (slab.offset + bytes > SLAB_BYTES) {
      slab.buffer = new ArrayBuffer(SLAB_BYTES);
      slab.offset = 0;
    }
    const at = slab.offset;
    slab.offset += bytes;
    switch (dtype) {
      case 'float32': return new Float32Array(slab.buffer, at, size);
      case 'float64': return new Float64Array(slab.buffer, at, size);
      case 'int32': return new Int32Array(slab.buffer, at, size);
    }
  }
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
  }
}

export function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'float32';
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
