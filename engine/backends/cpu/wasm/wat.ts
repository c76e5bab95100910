/**
 * The WebAssembly text of the CPU kernels. The build (scripts/wasm.mjs) assembles it with wabt into
 * the bytes the engine loads (kernels.generated.ts); nothing here runs in the engine itself.
 *
 * One matrix product, C[m×n] = op(A)·op(B) with each operand stored as it is or transposed, in the
 * shape of the best GEMM kernels (GotoBLAS, BLIS, XNNPACK): the product is cut into blocks of KC along k and NC along n so
 * that a packed panel of B stays in L2 while a packed block of A (MC rows) streams past it, and the
 * innermost work is a micro-kernel that keeps an MR×NR tile of C in 128-bit registers for all of
 * KC. Packing copies each panel into exactly the order the micro-kernel reads it (B: NR values of
 * one k after another; A: MR values of one k after another), zero-padded to whole tiles, so the
 * micro-kernel has no edge cases and reads both operands with unit stride; packing reads either
 * layout, so no caller transposes a matrix first. Tiles that hang over
 * the edge of C are computed into a scratch tile and only their valid part is copied out.
 *
 * The text is generated because the micro-kernel is MR×NR unrolled multiply-adds and the same
 * algorithm serves float32 (f32x4) and float64 (f64x2); with relaxed SIMD the multiply-add is one
 * fused instruction (`relaxed_madd`), otherwise a multiply and an add.
 */

/** One element type's kernel: its WebAssembly name, bytes per element, lanes per 128-bit vector. */
interface ElementType {
  name: 'f32' | 'f64';
  bytes: 4 | 8;
  lanes: 4 | 2;
}

const F32: ElementType = { name: 'f32', bytes: 4, lanes: 4 };
const F64: ElementType = { name: 'f64', bytes: 8, lanes: 2 };

/** Rows of C per micro-kernel tile. */
export const MR = 4;
/** 128-bit vectors per row of a tile: NR = VECTORS·lanes columns. */
const VECTORS = 2;
/** Depth of one block along k (the micro-kernel's loop). */
export const KC = 256;
/** Rows of A packed at once; with KC, an MC×KC block of A stays in L2. */
export const MC = 64;
/** Columns of C (rows of B) packed at once. */
export const NC = 256;

/** Columns of a tile for an element type. */
export const nr = (lanes: number): number => VECTORS * lanes;

/**
 * Bytes of working memory a product needs after its operands: the packed B panel (KC × NC rounded
 * up to whole tiles), the packed A block (MC × KC) and one scratch tile. Both element types use the
 * float64 figure, so one layout serves both.
 */
export const WORK_BYTES = (KC * NC + MC * KC + MR * nr(2) * 2) * 8;

export interface KernelOptions {
  /** Use relaxed SIMD's fused multiply-add. */
  relaxed: boolean;
}

export function kernelsWat({ relaxed }: KernelOptions): string {
  return `(module
  (memory (export "memory") 1)
${[F32, F64].map((t) => [...tiles(t).flatMap((tile) => [packRows(t, tile), packColumns(t, tile)]), microKernel(t, relaxed), gemm(t, GEMM), unfold(t), fold(t), pad(t), packWindows(t), microKernel(t, relaxed, true), gemm(t, CONV_GEMM),
    ...Object.keys(SIMD_UNARY).map((name) => elementwiseUnary(t, name)), ...Object.keys(SIMD_BINARY).map((name) => elementwiseBinary(t, name))].join('\n')).join('\n')}
${vm()}
)
`;
}

/** `v128` type name of an element type's lanes: f32x4 or f64x2. */
const vec = (t: ElementType) => `${t.name}x${t.lanes}`;

/** Tiles a matrix is packed in: A in panels of MR rows, B in panels of NR (its rows are the columns of C). */
const tiles = (t: ElementType) => [...new Set([MR, nr(t.lanes)])];

/**
 * Packs rows r0 … r0+rc of a matrix stored rows × k (each row contiguous along k), k-range
 * p0 … p0+kc, into panels of `tile` rows: in a panel the `tile` values of one k are adjacent. Rows
 * past `rows` are zeros.
 */
function packRows(t: ElementType, tile: number): string {
  const s = t.bytes;
  return `
  ;; packRows${tile}_${t.name}(x, k, rows, r0, rc, p0, kc, dst)
  (func $packRows${tile}_${t.name} (param $x i32) (param $k i32) (param $rows i32) (param $r0 i32) (param $rc i32) (param $p0 i32) (param $kc i32) (param $dst i32)
    (local $r i32) (local $rr i32) (local $src i32) (local $out i32) (local $p i32) (local $rEnd i32)
    (local.set $rEnd (i32.add (local.get $r0) (i32.and (i32.add (local.get $rc) (i32.const ${tile - 1})) (i32.const ${-tile}))))
    (local.set $r (local.get $r0))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $r) (local.get $rEnd)))
      ;; row r goes to panel (r − r0)/tile, lane (r − r0) mod tile, one value every tile
      (local.set $rr (i32.sub (local.get $r) (local.get $r0)))
      (local.set $out (i32.add (local.get $dst) (i32.mul
        (i32.add (i32.mul (i32.and (local.get $rr) (i32.const ${-tile})) (local.get $kc)) (i32.and (local.get $rr) (i32.const ${tile - 1})))
        (i32.const ${s}))))
      (local.set $p (i32.const 0))
      (if (i32.lt_u (local.get $r) (local.get $rows))
        (then
          (local.set $src (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $r) (local.get $k)) (local.get $p0)) (i32.const ${s}))))
          (loop $copy
            (${t.name}.store (local.get $out) (${t.name}.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (i32.const ${s})))
            (local.set $out (i32.add (local.get $out) (i32.const ${tile * s})))
            (br_if $copy (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))
        (else
          (loop $zero
            (${t.name}.store (local.get $out) (${t.name}.const 0))
            (local.set $out (i32.add (local.get $out) (i32.const ${tile * s})))
            (br_if $zero (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc))))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $each)))
  )`;
}

/**
 * The same panels from a matrix stored k × rows (the transposed layout: the `tile` values of one k
 * already adjacent), copied a vector at a time; a panel that runs past `rows` is zero-filled.
 */
function packColumns(t: ElementType, tile: number): string {
  const s = t.bytes;
  const copies: string[] = [];
  for (let q = 0; q < (tile * s) / 16; q++) copies.push(`(v128.store offset=${q * 16} (local.get $out) (v128.load offset=${q * 16} (local.get $src)))`);
  return `
  ;; packColumns${tile}_${t.name}(x, k, rows, r0, rc, p0, kc, dst)
  (func $packColumns${tile}_${t.name} (param $x i32) (param $k i32) (param $rows i32) (param $r0 i32) (param $rc i32) (param $p0 i32) (param $kc i32) (param $dst i32)
    (local $r i32) (local $rEnd i32) (local $src i32) (local $out i32) (local $p i32) (local $q i32) (local $ld i32)
    (local.set $ld (i32.mul (local.get $rows) (i32.const ${s})))
    (local.set $rEnd (i32.add (local.get $r0) (local.get $rc)))
    (local.set $r (local.get $r0))
    (local.set $out (local.get $dst))
    (block $done (loop $panels
      (br_if $done (i32.ge_u (local.get $r) (local.get $rEnd)))
      (local.set $src (i32.add (local.get $x) (i32.mul (i32.add (i32.mul (local.get $p0) (local.get $rows)) (local.get $r)) (i32.const ${s}))))
      (local.set $p (i32.const 0))
      (if (i32.le_u (i32.add (local.get $r) (i32.const ${tile})) (local.get $rows))
        (then
          (loop $whole
            ${copies.join('\n            ')}
            (local.set $src (i32.add (local.get $src) (local.get $ld)))
            (local.set $out (i32.add (local.get $out) (i32.const ${tile * s})))
            (br_if $whole (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))
        (else
          (loop $part
            (local.set $q (i32.const 0))
            (loop $lanes
              (${t.name}.store (i32.add (local.get $out) (i32.mul (local.get $q) (i32.const ${s})))
                (if (result ${t.name}) (i32.lt_u (i32.add (local.get $r) (local.get $q)) (local.get $rows))
                  (then (${t.name}.load (i32.add (local.get $src) (i32.mul (local.get $q) (i32.const ${s})))))
                  (else (${t.name}.const 0))))
              (br_if $lanes (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (i32.const ${tile}))))
            (local.set $src (i32.add (local.get $src) (local.get $ld)))
            (local.set $out (i32.add (local.get $out) (i32.const ${tile * s})))
            (br_if $part (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc))))))
      (local.set $r (i32.add (local.get $r) (i32.const ${tile})))
      (br $panels)))
  )`;
}

/**
 * The MR×NR tile: for each of kc steps, NR/lanes vectors of B, each of MR values of A broadcast
 * across a vector, MR·NR/lanes multiply-adds into accumulators that live in registers. Then the tile
 * is stored at c (row stride ldc bytes), added to what is there when `accumulate` (k blocks after
 * the first).
 */
function microKernel(t: ElementType, relaxed: boolean, windows = false): string {
  const s = t.bytes;
  const v = vec(t);
  const acc = (r: number, q: number) => `$c${r}_${q}`;
  const locals: string[] = [];
  for (let r = 0; r < MR; r++) for (let q = 0; q < VECTORS; q++) locals.push(`(local ${acc(r, q)} v128)`);
  for (let q = 0; q < VECTORS; q++) locals.push(`(local $b${q} v128)`);
  const madd = (x: string, y: string, z: string) => (relaxed ? `(${v}.relaxed_madd ${x} ${y} ${z})` : `(${v}.add ${z} (${v}.mul ${x} ${y}))`);
  const step: string[] = [];
  if (windows) {
    // B read where it lies: vector q of step p at $base_q + koff[p] (the panel's windows, the kernel position's offset)
    step.push('(local.set $ko (i32.load (local.get $bp)))');
    for (let q = 0; q < VECTORS; q++) step.push(`(local.set $b${q} (v128.load (i32.add (local.get $base${q}) (local.get $ko))))`);
  } else {
    for (let q = 0; q < VECTORS; q++) step.push(`(local.set $b${q} (v128.load offset=${q * 16} (local.get $bp)))`);
  }
  for (let r = 0; r < MR; r++) {
    step.push(`(local.set $a (v128.load${s * 8}_splat offset=${r * s} (local.get $ap)))`);
    for (let q = 0; q < VECTORS; q++) step.push(`(local.set ${acc(r, q)} ${madd('(local.get $a)', `(local.get $b${q})`, `(local.get ${acc(r, q)})`)})`);
  }
  const store = (accumulate: boolean) => {
    const out: string[] = [];
    for (let r = 0; r < MR; r++) {
      for (let q = 0; q < VECTORS; q++) {
        const at = `offset=${q * 16} (local.get $row)`;
        out.push(accumulate ? `(v128.store ${at} (${v}.add (v128.load ${at}) (local.get ${acc(r, q)})))` : `(v128.store ${at} (local.get ${acc(r, q)}))`);
      }
      if (r + 1 < MR) out.push('(local.set $row (i32.add (local.get $row) (local.get $ldc)))');
    }
    return out.join('\n        ');
  };
  return `
  ;; ${windows ? `tileWindows_${t.name}(ap, bp = koff, kc, c, ldc, accumulate, base0, base1)` : `tile_${t.name}(ap, bp, kc, c, ldc, accumulate)`}
  (func $${windows ? 'tileWindows' : 'tile'}_${t.name} (param $ap i32) (param $bp i32) (param $kc i32) (param $c i32) (param $ldc i32) (param $accumulate i32)${windows ? Array.from({ length: VECTORS }, (_, q) => ` (param $base${q} i32)`).join('') : ''}
    (local $a v128) (local $row i32)${windows ? ' (local $ko i32)' : ''}
    ${locals.join(' ')}
    (loop $k
      ${step.join('\n      ')}
      (local.set $ap (i32.add (local.get $ap) (i32.const ${MR * s})))
      (local.set $bp (i32.add (local.get $bp) (i32.const ${windows ? 4 : VECTORS * 16})))
      (br_if $k (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
    (local.set $row (local.get $c))
    (if (local.get $accumulate)
      (then
        ${store(true)})
      (else
        ${store(false)}))
  )`;
}

/** A product's B operand: how its panels are packed, and the name of the product that packs them so. */
interface GemmVariant {
  name: string;
  /** Calls the micro-kernel for B panel $jr into C at `c` (row stride `ldc` bytes). */
  tile?: (t: ElementType, c: string, ldc: string, accumulate: string) => string;
  /** Packs B's columns j0 … j0+nc, k-range p0 … p0+kc, into panels of NR at $work (locals of gemm). */
  packB: (t: ElementType) => string;
}

/** B a stored matrix, k×n or (transB) n×k. */
const GEMM: GemmVariant = {
  name: 'gemm',
  packB: (t) => `(if (local.get $transB)
          (then (call $packRows${nr(t.lanes)}_${t.name} (local.get $b) (local.get $k) (local.get $n) (local.get $j0) (local.get $nc) (local.get $p0) (local.get $kc) (local.get $work)))
          (else (call $packColumns${nr(t.lanes)}_${t.name} (local.get $b) (local.get $k) (local.get $n) (local.get $j0) (local.get $nc) (local.get $p0) (local.get $kc) (local.get $work))))`,
};

/**
 * B the columns of a convolution (im2col) that are never stored: `b` is the address of a window
 * descriptor (CONV_DESC) and each panel is gathered from the zero-padded input (packWindows).
 */
const CONV_GEMM: GemmVariant = {
  name: 'convGemm',
  packB: (t) => `(call $packWindows_${t.name} (local.get $b) (local.get $j0) (local.get $nc) (local.get $p0) (local.get $kc) (local.get $work))`,
  // a panel whose windows packWindows left where they lie is read there (its entry in the panel table)
  tile: (t, c, ldc, accumulate) => {
    const entry = `(i32.add (local.get $b) (i32.add (i32.const ${CONV_DESC.panels}) (i32.mul (i32.div_u (local.get $jr) (i32.const ${nr(t.lanes)})) (i32.const ${4 * (VECTORS + 1)}))))`;
    const bases = Array.from({ length: VECTORS }, (_, q) => `(i32.load offset=${4 * (q + 1)} ${entry})`).join(' ');
    return `(if (i32.load ${entry})
                    (then (call $tileWindows_${t.name} (local.get $tileA) (i32.add (i32.load offset=${CONV_DESC.koff} (local.get $b)) (i32.shl (local.get $p0) (i32.const 2))) (local.get $kc) ${c} ${ldc} ${accumulate} ${bases}))
                    (else (call $tile_${t.name} (local.get $tileA) (local.get $tileB) (local.get $kc) ${c} ${ldc} ${accumulate})))`;
  },
};

/**
 * gemm(a, b, c, m, k, n, transA, transB, work): C = op(A)·op(B), C m×n, all row-major at the given
 * byte addresses, with WORK_BYTES of working memory at `work`; A is stored m×k (k×m when transA),
 * B k×n (n×k when transB). k ≥ 1. convGemm: the same with B a convolution's columns gathered from
 * its input (`b` a window descriptor; transB unused).
 */
function gemm(t: ElementType, variant: GemmVariant): string {
  const s = t.bytes;
  const NR = nr(t.lanes);
  const packAAt = KC * NC * 8;
  const scratchAt = packAAt + MC * KC * 8;
  const tile = (c: string, ldc: string, accumulate: string) => variant.tile?.(t, c, ldc, accumulate)
    ?? `(call $tile_${t.name} (local.get $tileA) (local.get $tileB) (local.get $kc) ${c} ${ldc} ${accumulate})`;
  return `
  (func (export "${variant.name}_${t.name}") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32) (param $transA i32) (param $transB i32) (param $work i32)
    (local $p0 i32) (local $kc i32) (local $j0 i32) (local $nc i32) (local $i0 i32) (local $mc i32) (local $jr i32) (local $ir i32)
    (local $packA i32) (local $scratch i32) (local $accumulate i32) (local $tileA i32) (local $tileB i32) (local $cTile i32)
    (local $rows i32) (local $cols i32) (local $r i32) (local $q i32) (local $to i32) (local $from i32)
    (local.set $packA (i32.add (local.get $work) (i32.const ${packAAt})))
    (local.set $scratch (i32.add (local.get $work) (i32.const ${scratchAt})))
    (block $kDone (loop $kBlocks
      (br_if $kDone (i32.ge_u (local.get $p0) (local.get $k)))
      (local.set $kc (select (i32.const ${KC}) (i32.sub (local.get $k) (local.get $p0)) (i32.lt_u (i32.const ${KC}) (i32.sub (local.get $k) (local.get $p0)))))
      (local.set $accumulate (i32.ne (local.get $p0) (i32.const 0)))
      (local.set $j0 (i32.const 0))
      (block $nDone (loop $nBlocks
        (br_if $nDone (i32.ge_u (local.get $j0) (local.get $n)))
        (local.set $nc (select (i32.const ${NC}) (i32.sub (local.get $n) (local.get $j0)) (i32.lt_u (i32.const ${NC}) (i32.sub (local.get $n) (local.get $j0)))))
        ${variant.packB(t)}
        (local.set $i0 (i32.const 0))
        (block $mDone (loop $mBlocks
          (br_if $mDone (i32.ge_u (local.get $i0) (local.get $m)))
          (local.set $mc (select (i32.const ${MC}) (i32.sub (local.get $m) (local.get $i0)) (i32.lt_u (i32.const ${MC}) (i32.sub (local.get $m) (local.get $i0)))))
          (if (local.get $transA)
            (then (call $packColumns${MR}_${t.name} (local.get $a) (local.get $k) (local.get $m) (local.get $i0) (local.get $mc) (local.get $p0) (local.get $kc) (local.get $packA)))
            (else (call $packRows${MR}_${t.name} (local.get $a) (local.get $k) (local.get $m) (local.get $i0) (local.get $mc) (local.get $p0) (local.get $kc) (local.get $packA))))
          ;; each panel of B (jr) against each panel of A (ir): the B panel stays in L1 across the A block
          (local.set $jr (i32.const 0))
          (block $jDone (loop $jPanels
            (br_if $jDone (i32.ge_u (local.get $jr) (local.get $nc)))
            (local.set $tileB (i32.add (local.get $work) (i32.mul (i32.mul (local.get $jr) (local.get $kc)) (i32.const ${s}))))
            (local.set $cols (select (i32.const ${NR}) (i32.sub (local.get $nc) (local.get $jr)) (i32.lt_u (i32.const ${NR}) (i32.sub (local.get $nc) (local.get $jr)))))
            (local.set $ir (i32.const 0))
            (block $iDone (loop $iPanels
              (br_if $iDone (i32.ge_u (local.get $ir) (local.get $mc)))
              (local.set $tileA (i32.add (local.get $packA) (i32.mul (i32.mul (local.get $ir) (local.get $kc)) (i32.const ${s}))))
              (local.set $rows (select (i32.const ${MR}) (i32.sub (local.get $mc) (local.get $ir)) (i32.lt_u (i32.const ${MR}) (i32.sub (local.get $mc) (local.get $ir)))))
              (local.set $cTile (i32.add (local.get $c) (i32.mul (i32.add
                (i32.mul (i32.add (local.get $i0) (local.get $ir)) (local.get $n))
                (i32.add (local.get $j0) (local.get $jr))) (i32.const ${s}))))
              (if (i32.and (i32.eq (local.get $rows) (i32.const ${MR})) (i32.eq (local.get $cols) (i32.const ${NR})))
                (then
                  ${tile('(local.get $cTile)', `(i32.mul (local.get $n) (i32.const ${s}))`, '(local.get $accumulate)')})
                (else
                  ;; a tile over the edge of C: computed whole into the scratch tile, its valid part copied
                  ${tile('(local.get $scratch)', `(i32.const ${NR * s})`, '(i32.const 0)')}
                  (local.set $r (i32.const 0))
                  (loop $copyRows
                    (local.set $q (i32.const 0))
                    (loop $copyCols
                      (local.set $to (i32.add (local.get $cTile) (i32.mul (i32.add (i32.mul (local.get $r) (local.get $n)) (local.get $q)) (i32.const ${s}))))
                      (local.set $from (i32.add (local.get $scratch) (i32.mul (i32.add (i32.mul (local.get $r) (i32.const ${NR})) (local.get $q)) (i32.const ${s}))))
                      (${t.name}.store (local.get $to) (select
                        (${t.name}.add (${t.name}.load (local.get $to)) (${t.name}.load (local.get $from)))
                        (${t.name}.load (local.get $from))
                        (local.get $accumulate)))
                      (br_if $copyCols (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (local.get $cols))))
                    (br_if $copyRows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $rows))))))
              (local.set $ir (i32.add (local.get $ir) (i32.const ${MR})))
              (br $iPanels)))
            (local.set $jr (i32.add (local.get $jr) (i32.const ${NR})))
            (br $jPanels)))
          (local.set $i0 (i32.add (local.get $i0) (i32.const ${MC})))
          (br $mBlocks)))
        (local.set $j0 (i32.add (local.get $j0) (i32.const ${NC})))
        (br $nBlocks)))
      (local.set $p0 (i32.add (local.get $p0) (i32.const ${KC})))
      (br $kBlocks)))
  )`;
}

/** Parameters and locals of the loops unfold and fold share (windowLoops). */
const WINDOW_PARAMS = '(param $planes i32) (param $h i32) (param $w i32) (param $kh i32) (param $kw i32) (param $sh i32) (param $sw i32) (param $ph i32) (param $dh i32) (param $oh i32) (param $ow i32) (param $runs i32)';
const WINDOW_LOCALS = '(local $plane i32) (local $a i32) (local $b i32) (local $r i32) (local $u i32) (local $from i32) (local $to i32) (local $shift i32) (local $q i32)';

/**
 * The loops unfold and fold share, in unfold's order: for each plane, kernel row a and column b
 * (with $from, $to and $shift of column b read from `runs`: per b three i32, the first and one past
 * the last window q inside a row, and b·dw − pw, as the JavaScript kernel computes them), and each
 * window row r, the input row $u = r·sh − ph + a·dh. `inRow` runs where $u is inside the plane;
 * `$rows` (a local of the caller) is the address of row r of the columns and moves on by OW values
 * of `s` bytes a row. `planeStart` and `planeEnd` run around each plane.
 */
function windowLoops(s: number, o: { planeStart: string; inRow: string; planeEnd: string }): string {
  const run = (offset: number) => `(i32.load offset=${offset} (i32.add (local.get $runs) (i32.mul (local.get $b) (i32.const 12))))`;
  return `
    (block $planesDone (loop $planesLoop
      (br_if $planesDone (i32.ge_u (local.get $plane) (local.get $planes)))
      ${o.planeStart}
      (local.set $a (i32.const 0))
      (block $aDone (loop $aLoop
        (br_if $aDone (i32.ge_u (local.get $a) (local.get $kh)))
        (local.set $b (i32.const 0))
        (block $bDone (loop $bLoop
          (br_if $bDone (i32.ge_u (local.get $b) (local.get $kw)))
          (local.set $from ${run(0)})
          (local.set $to ${run(4)})
          (local.set $shift ${run(8)})
          (local.set $r (i32.const 0))
          (block $rDone (loop $rLoop
            (br_if $rDone (i32.ge_u (local.get $r) (local.get $oh)))
            (local.set $u (i32.add (i32.sub (i32.mul (local.get $r) (local.get $sh)) (local.get $ph)) (i32.mul (local.get $a) (local.get $dh))))
            (if (i32.and (i32.ge_s (local.get $u) (i32.const 0)) (i32.lt_s (local.get $u) (local.get $h)))
              (then ${o.inRow}))
            (local.set $rows (i32.add (local.get $rows) (i32.mul (local.get $ow) (i32.const ${s}))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rLoop)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br $bLoop)))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $aLoop)))
      ${o.planeEnd}
      (local.set $plane (i32.add (local.get $plane) (i32.const 1)))
      (br $planesLoop)))`;
}

/**
 * PyTorch's unfold (im2col) of planes [P = N·C, H, W] into rows of windows (windowLoops): row r of
 * kernel position (a, b) holds x[u, q·sw + shift(b)] for the windows q inside the row and 0
 * elsewhere (the padding). The output is zeroed once; each run is then copied 16 bytes at a time
 * (stride 1) or value by value. Rows are short (OW values), so a bulk memory instruction per row
 * would cost more than the copy.
 */
function unfold(t: ElementType): string {
  const s = t.bytes;
  return `
  (func (export "unfold_${t.name}") (param $x i32) ${WINDOW_PARAMS} (param $dst i32)
    ${WINDOW_LOCALS} (local $rows i32) (local $base i32) (local $src i32) (local $out i32) (local $end i32) (local $step i32)
    (local.set $rows (local.get $dst))
    (memory.fill (local.get $dst) (i32.const 0)
      (i32.mul (i32.mul (i32.mul (local.get $planes) (i32.mul (local.get $kh) (local.get $kw))) (local.get $oh)) (i32.mul (local.get $ow) (i32.const ${s}))))
    (local.set $step (i32.mul (local.get $sw) (i32.const ${s})))
    ${windowLoops(s, {
    planeStart: `(local.set $base (i32.add (local.get $x) (i32.mul (local.get $plane) (i32.mul (i32.mul (local.get $h) (local.get $w)) (i32.const ${s})))))`,
    inRow: `
                ;; the run of row u: out[q] = x[u·w + q·sw + shift] for from ≤ q < to
                (local.set $out (i32.add (local.get $rows) (i32.mul (local.get $from) (i32.const ${s}))))
                (local.set $src (i32.add (local.get $base) (i32.mul (i32.add (i32.mul (local.get $u) (local.get $w))
                  (i32.add (i32.mul (local.get $from) (local.get $sw)) (local.get $shift))) (i32.const ${s}))))
                (local.set $end (i32.add (local.get $rows) (i32.mul (local.get $to) (i32.const ${s}))))
                (if (i32.eq (local.get $sw) (i32.const 1))
                  (then
                    (block $vDone (loop $vLoop
                      (br_if $vDone (i32.gt_s (i32.add (local.get $out) (i32.const 16)) (local.get $end)))
                      (v128.store (local.get $out) (v128.load (local.get $src)))
                      (local.set $out (i32.add (local.get $out) (i32.const 16)))
                      (local.set $src (i32.add (local.get $src) (i32.const 16)))
                      (br $vLoop)))))
                (block $qDone (loop $qLoop
                  (br_if $qDone (i32.ge_u (local.get $out) (local.get $end)))
                  (${t.name}.store (local.get $out) (${t.name}.load (local.get $src)))
                  (local.set $out (i32.add (local.get $out) (i32.const ${s})))
                  (local.set $src (i32.add (local.get $src) (local.get $step)))
                  (br $qLoop)))`,
    planeEnd: '',
  })}
  )`;
}

/**
 * PyTorch's fold (col2im), the adjoint of unfold: each column value is added to the pixel unfold
 * took it from, visiting the columns in unfold's order (windowLoops), so every pixel sums its values
 * in kernel order, as the JavaScript kernel and the WGSL twin do. The sums of a plane are kept in
 * float64 (`sums`, H·W values) and rounded once to the output's type.
 */
function fold(t: ElementType): string {
  const s = t.bytes;
  const load = t.name === 'f32' ? (p: string) => `(f64.promote_f32 (f32.load ${p}))` : (p: string) => `(f64.load ${p})`;
  const store = t.name === 'f32' ? (p: string, v: string) => `(f32.store ${p} (f32.demote_f64 ${v}))` : (p: string, v: string) => `(f64.store ${p} ${v})`;
  return `
  (func (export "fold_${t.name}") (param $cols i32) ${WINDOW_PARAMS} (param $sums i32) (param $dst i32)
    ${WINDOW_LOCALS} (local $rows i32) (local $col i32) (local $sum i32) (local $step i32) (local $i i32) (local $hw i32)
    (local.set $rows (local.get $cols))
    (local.set $hw (i32.mul (local.get $h) (local.get $w)))
    (local.set $step (i32.mul (local.get $sw) (i32.const 8)))
    ${windowLoops(s, {
    planeStart: '(memory.fill (local.get $sums) (i32.const 0) (i32.mul (local.get $hw) (i32.const 8)))',
    inRow: `
                ;; sums[u·w + q·sw + shift] += cols[row r, q] for from ≤ q < to
                (local.set $q (local.get $from))
                (local.set $col (i32.add (local.get $rows) (i32.mul (local.get $from) (i32.const ${s}))))
                (local.set $sum (i32.add (local.get $sums) (i32.mul (i32.add (i32.mul (local.get $u) (local.get $w))
                  (i32.add (i32.mul (local.get $from) (local.get $sw)) (local.get $shift))) (i32.const 8))))
                (block $qDone (loop $qLoop
                  (br_if $qDone (i32.ge_s (local.get $q) (local.get $to)))
                  (f64.store (local.get $sum) (f64.add (f64.load (local.get $sum)) ${load('(local.get $col)')}))
                  (local.set $col (i32.add (local.get $col) (i32.const ${s})))
                  (local.set $sum (i32.add (local.get $sum) (local.get $step)))
                  (local.set $q (i32.add (local.get $q) (i32.const 1)))
                  (br $qLoop)))`,
    planeEnd: `
      ;; the plane's sums, rounded once
      (local.set $i (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $hw)))
        ${store('(local.get $dst)', '(f64.load (i32.add (local.get $sums) (i32.mul (local.get $i) (i32.const 8))))')}
        (local.set $dst (i32.add (local.get $dst) (i32.const ${s})))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iLoop)))`,
  })}
  )`;
}

/**
 * The window descriptor convGemm's `b` points at: i32 fields at these byte offsets, then NR i32 of
 * scratch (a panel's lane offsets). Byte figures are of the padded input (packWindows).
 */
export const CONV_DESC = {
  /** Address of the image's padded planes [C, Hp, Wp]. */
  xp: 0,
  /** Bytes of a padded plane, Hp·Wp·size. */
  plane: 4,
  kh: 8,
  kw: 12,
  /** Bytes from one output row's windows to the next's: sh·Wp·size. */
  rowStep: 16,
  /** Bytes from one output column's window to the next's: sw·size. */
  colStep: 20,
  /** Bytes between kernel rows: dh·Wp·size. */
  kernelRow: 24,
  /** Bytes between kernel columns: dw·size. */
  kernelCol: 28,
  ow: 32,
  /** Windows per image, OH·OW. */
  windows: 36,
  /** Address of the kernel positions' offsets: K i32, koff[c·kh·kw + i·kw + j] = c·plane + i·kernelRow + j·kernelCol. */
  koff: 40,
  /** NR i32: a panel's lane offsets (packWindows' scratch). */
  lanes: 44,
  /** Per panel of the n block: whether it is read where it lies (i32), then each vector's base address. */
  panels: 44 + 8 * 4,
  bytes: 44 + 8 * 4 + (NC / 4) * 4 * (VECTORS + 1),
} as const;

/**
 * pad(x, planes, h, w, ph, pw, dst): the planes [P, H, W] at x copied into [P, H + 2·ph, W + 2·pw]
 * at dst with zeros around, so that every window of a convolution reads inside its plane.
 */
function pad(t: ElementType): string {
  const s = t.bytes;
  return `
  (func (export "pad_${t.name}") (param $x i32) (param $planes i32) (param $h i32) (param $w i32) (param $ph i32) (param $pw i32) (param $dst i32)
    (local $wp i32) (local $rows i32) (local $row i32) (local $src i32) (local $out i32) (local $end i32) (local $r i32)
    (local.set $wp (i32.add (local.get $w) (i32.shl (local.get $pw) (i32.const 1))))
    (memory.fill (local.get $dst) (i32.const 0) (i32.mul (i32.mul (local.get $planes)
      (i32.mul (i32.add (local.get $h) (i32.shl (local.get $ph) (i32.const 1))) (local.get $wp))) (i32.const ${s})))
    (local.set $src (local.get $x))
    ;; row r of a plane lands ph rows down and pw columns in; a plane ends 2·ph padded rows further
    (local.set $out (i32.add (local.get $dst) (i32.mul (i32.add (i32.mul (local.get $ph) (local.get $wp)) (local.get $pw)) (i32.const ${s}))))
    (block $planesDone (loop $planesLoop
      (br_if $planesDone (i32.eqz (local.get $planes)))
      (local.set $r (i32.const 0))
      (block $rowsDone (loop $rowsLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $h)))
        (local.set $row (local.get $out))
        (local.set $end (i32.add (local.get $src) (i32.mul (local.get $w) (i32.const ${s}))))
        (block $vDone (loop $vLoop
          (br_if $vDone (i32.gt_u (i32.add (local.get $src) (i32.const 16)) (local.get $end)))
          (v128.store (local.get $row) (v128.load (local.get $src)))
          (local.set $row (i32.add (local.get $row) (i32.const 16)))
          (local.set $src (i32.add (local.get $src) (i32.const 16)))
          (br $vLoop)))
        (block $qDone (loop $qLoop
          (br_if $qDone (i32.ge_u (local.get $src) (local.get $end)))
          (${t.name}.store (local.get $row) (${t.name}.load (local.get $src)))
          (local.set $row (i32.add (local.get $row) (i32.const ${s})))
          (local.set $src (i32.add (local.get $src) (i32.const ${s})))
          (br $qLoop)))
        (local.set $out (i32.add (local.get $out) (i32.mul (local.get $wp) (i32.const ${s}))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowsLoop)))
      (local.set $out (i32.add (local.get $out) (i32.mul (i32.mul (i32.shl (local.get $ph) (i32.const 1)) (local.get $wp)) (i32.const ${s}))))
      (local.set $planes (i32.sub (local.get $planes) (i32.const 1)))
      (br $planesLoop)))
  )`;
}

/**
 * packWindows(desc, j0, nc, p0, kc, dst): convGemm's B panels, the columns j0 … j0+nc of im2col
 * (window l = oy·OW + ox) for the rows p0 … p0+kc (kernel position (c, i, j), c·kh·kw + i·kw + j),
 * gathered from the padded input: B[(c, i, j), l] = xp[c, oy·sh + i·dh, ox·sw + j·dw]. Per panel
 * each lane's window offset is computed once; a vector of lanes whose windows lie at consecutive
 * addresses (stride 1 inside one output row) is then one 16-byte load per kernel position, the
 * others a load per lane. Lanes past the last window are zeros (gemm's panels are whole).
 */
function packWindows(t: ElementType): string {
  const s = t.bytes;
  const NR = nr(t.lanes);
  const V = NR / t.lanes;
  const D = CONV_DESC;
  const field = (f: number) => `(i32.load offset=${f} (local.get $desc))`;
  const laneAt = (q: number) => `(i32.load offset=${D.lanes + 4 * q} (local.get $desc))`;
  const locals: string[] = [];
  for (let v = 0; v < V; v++) locals.push(`(local $fast${v} i32) (local $off${v} i32)`);
  const flags: string[] = [];
  for (let v = 0; v < V; v++) {
    const first = v * t.lanes, last = first + t.lanes - 1;
    flags.push(`(local.set $off${v} ${laneAt(first)})`);
    flags.push(`(local.set $fast${v} (i32.and (i32.ge_s ${laneAt(last)} (i32.const 0))
        (i32.eq (i32.sub ${laneAt(last)} (local.get $off${v})) (i32.const ${(t.lanes - 1) * s}))))`);
  }
  const gather: string[] = [];
  for (let v = 0; v < V; v++) {
    const lanes: string[] = [];
    for (let q = 0; q < t.lanes; q++) {
      const lane = v * t.lanes + q;
      lanes.push(`(local.set $lo ${laneAt(lane)})
              (${t.name}.store offset=${lane * s} (local.get $out) (if (result ${t.name}) (i32.lt_s (local.get $lo) (i32.const 0))
                (then (${t.name}.const 0)) (else (${t.name}.load (i32.add (local.get $base) (local.get $lo))))))`);
    }
    gather.push(`(if (local.get $fast${v})
            (then (v128.store offset=${v * 16} (local.get $out) (v128.load (i32.add (local.get $base) (local.get $off${v})))))
            (else
              ${lanes.join('\n              ')}))`);
  }
  return `
  (func $packWindows_${t.name} (param $desc i32) (param $j0 i32) (param $nc i32) (param $p0 i32) (param $kc i32) (param $dst i32)
    (local $jr i32) (local $l i32) (local $oy i32) (local $ox i32) (local $q i32) (local $ow i32) (local $out i32) (local $p i32)
    (local $khw i32) (local $r i32) (local $i i32) (local $j i32) (local $koff i32) (local $base i32) (local $lo i32)
    (local $kh i32) (local $kw i32) (local $kernelRow i32) (local $kernelCol i32) (local $plane i32) (local $xp i32) (local $entry i32)
    ${locals.join(' ')}
    (local.set $xp ${field(D.xp)})
    (local.set $ow ${field(D.ow)})
    (local.set $kh ${field(D.kh)})
    (local.set $kw ${field(D.kw)})
    (local.set $kernelRow ${field(D.kernelRow)})
    (local.set $kernelCol ${field(D.kernelCol)})
    (local.set $plane ${field(D.plane)})
    (local.set $khw (i32.mul (local.get $kh) (local.get $kw)))
    (block $panelsDone (loop $panels
      (br_if $panelsDone (i32.ge_u (local.get $jr) (local.get $nc)))
      ;; each lane's window: its offset in a plane, or −1 past the last window
      (local.set $l (i32.add (local.get $j0) (local.get $jr)))
      (local.set $oy (i32.div_u (local.get $l) (local.get $ow)))
      (local.set $ox (i32.rem_u (local.get $l) (local.get $ow)))
      (local.set $q (i32.const 0))
      (loop $lanes
        (i32.store offset=${D.lanes} (i32.add (local.get $desc) (i32.shl (local.get $q) (i32.const 2)))
          (select
            (i32.add (i32.mul (local.get $oy) ${field(D.rowStep)}) (i32.mul (local.get $ox) ${field(D.colStep)}))
            (i32.const -1)
            (i32.lt_u (i32.add (local.get $l) (local.get $q)) ${field(D.windows)})))
        (if (i32.eq (local.tee $ox (i32.add (local.get $ox) (i32.const 1))) (local.get $ow))
          (then (local.set $ox (i32.const 0)) (local.set $oy (i32.add (local.get $oy) (i32.const 1)))))
        (br_if $lanes (i32.lt_u (local.tee $q (i32.add (local.get $q) (i32.const 1))) (i32.const ${NR}))))
      ${flags.join('\n      ')}
      ;; a panel whose every vector lies at consecutive addresses is read there by the micro-kernel
      (local.set $entry (i32.add (local.get $desc) (i32.add (i32.const ${D.panels}) (i32.mul (i32.div_u (local.get $jr) (i32.const ${NR})) (i32.const ${4 * (V + 1)})))))
      (i32.store (local.get $entry) (i32.and ${Array.from({ length: V }, (_, v) => `(local.get $fast${v})`).reduce((a, b) => `(i32.and ${a} ${b})`)} (i32.const 1)))
      ${Array.from({ length: V }, (_, v) => `(i32.store offset=${4 * (v + 1)} (local.get $entry) (i32.add (local.get $xp) (local.get $off${v})))`).join('\n      ')}
      (if (i32.eqz (i32.load (local.get $entry))) (then
      ;; kernel position p0: channel p0 / (kh·kw), row i, column j
      (local.set $r (i32.rem_u (local.get $p0) (local.get $khw)))
      (local.set $i (i32.div_u (local.get $r) (local.get $kw)))
      (local.set $j (i32.rem_u (local.get $r) (local.get $kw)))
      (local.set $koff (i32.add (i32.mul (i32.div_u (local.get $p0) (local.get $khw)) (local.get $plane))
        (i32.add (i32.mul (local.get $i) (local.get $kernelRow)) (i32.mul (local.get $j) (local.get $kernelCol)))))
      (local.set $out (i32.add (local.get $dst) (i32.mul (i32.mul (local.get $jr) (local.get $kc)) (i32.const ${s}))))
      (local.set $p (i32.const 0))
      (loop $positions
        (local.set $base (i32.add (local.get $xp) (local.get $koff)))
        ${gather.join('\n        ')}
        (local.set $out (i32.add (local.get $out) (i32.const ${NR * s})))
        ;; the next kernel position: j, then i, then the channel
        (local.set $koff (i32.add (local.get $koff) (local.get $kernelCol)))
        (if (i32.eq (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $kw))
          (then
            (local.set $j (i32.const 0))
            (local.set $koff (i32.add (local.get $koff) (i32.sub (local.get $kernelRow) (i32.mul (local.get $kw) (local.get $kernelCol)))))
            (if (i32.eq (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $kh))
              (then
                (local.set $i (i32.const 0))
                (local.set $koff (i32.add (local.get $koff) (i32.sub (local.get $plane) (i32.mul (local.get $kh) (local.get $kernelRow)))))))))
        (br_if $positions (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc))))))
      (local.set $jr (i32.add (local.get $jr) (i32.const ${NR})))
      (br $panels)))
  )`;
}

/**
 * Elementwise ops with a SIMD kernel, by the name of their op (engine/ops): each the op's scalar
 * `fn` on 128-bit vectors, to the bit (NaN in gives NaN out, signed zeros as `fn` gives them;
 * test/engine/elementwise-kernel.test.ts holds every one to its op). `v` is f32x4 or f64x2, the
 * operands are local.get expressions.
 */
const ZERO = '(v128.const i64x2 0 0)';
export const SIMD_UNARY: Readonly<Record<string, (v: string, t: string, x: string) => string>> = {
  neg: (v, _t, x) => `(${v}.neg ${x})`,
  abs: (v, _t, x) => `(${v}.abs ${x})`,
  sqrt: (v, _t, x) => `(${v}.sqrt ${x})`,
  square: (v, _t, x) => `(${v}.mul ${x} ${x})`,
  // x > 0 ? x : x !== x ? x : 0 is max(x, +0): max gives NaN for NaN, and +0 for −0
  relu: (v, _t, x) => `(${v}.max ${x} ${ZERO})`,
  // x > 0 ? 1 : x !== x ? x : 0
  step: (v, t, x) => `(v128.bitselect ${x} (v128.and (${v}.splat (${t}.const 1)) (${v}.gt ${x} ${ZERO})) (${v}.ne ${x} ${x}))`,
};
export const SIMD_BINARY: Readonly<Record<string, (v: string, a: string, b: string) => string>> = {
  add: (v, a, b) => `(${v}.add ${a} ${b})`,
  sub: (v, a, b) => `(${v}.sub ${a} ${b})`,
  mul: (v, a, b) => `(${v}.mul ${a} ${b})`,
  div: (v, a, b) => `(${v}.div ${a} ${b})`,
  // a > b || a !== a ? a : b, and a < b || a !== a ? a : b
  maximum: (v, a, b) => `(v128.bitselect ${a} ${b} (v128.or (${v}.gt ${a} ${b}) (${v}.ne ${a} ${a})))`,
  minimum: (v, a, b) => `(v128.bitselect ${a} ${b} (v128.or (${v}.lt ${a} ${b}) (${v}.ne ${a} ${a})))`,
};

/** How a binary kernel's operands line up (elementwise.ts picks it): whole both, one a single value, one a row repeated along the other. */
export const BINARY_LAYOUT = { same: 0, scalarB: 1, scalarA: 2, rowB: 3, rowA: 4 } as const;

/**
 * A loop over `bytes` (at least 16) of vectors at offset $i: the last vector overlaps the one
 * before it where the length is not a whole number of vectors (every kernel here writes out of
 * place, so a value computed twice is the same value).
 */
function vectorLoop(i: string, last: string, bytes: string, label: string, body: string): string {
  return `(local.set ${i} (i32.const 0))
      (local.set ${last} (i32.sub ${bytes} (i32.const 16)))
      (block $${label}Done (loop $${label}
        ${body}
        (br_if $${label}Done (i32.ge_s (local.get ${i}) (local.get ${last})))
        (local.set ${i} (i32.add (local.get ${i}) (i32.const 16)))
        (if (i32.gt_s (local.get ${i}) (local.get ${last})) (then (local.set ${i} (local.get ${last}))))
        (br $${label})))`;
}

/** unary_<op>_<t>(x, out, n): out = op(x) over n ≥ lanes values. */
function elementwiseUnary(t: ElementType, name: string): string {
  const v = vec(t);
  const at = (p: string) => `(i32.add (local.get ${p}) (local.get $i))`;
  return `
  (func (export "unary_${name}_${t.name}") (param $x i32) (param $out i32) (param $n i32)
    (local $i i32) (local $last i32) (local $a v128)
    ${vectorLoop('$i', '$last', `(i32.mul (local.get $n) (i32.const ${t.bytes}))`, 'v', `(local.set $a (v128.load ${at('$x')}))
        (v128.store ${at('$out')} ${SIMD_UNARY[name](v, t.name, '(local.get $a)')})`)}
  )`;
}

/**
 * binary_<op>_<t>(a, b, out, n, layout, m): out = op(a, b) over n values, the operands lined up
 * as BINARY_LAYOUT says (m: the repeated row's length); every run of whole values is ≥ lanes long.
 */
function elementwiseBinary(t: ElementType, name: string): string {
  const v = vec(t);
  const s = t.bytes;
  const op = SIMD_BINARY[name](v, '(local.get $va)', '(local.get $vb)');
  const load = (p: string, off: string) => `(v128.load (i32.add (local.get ${p}) ${off}))`;
  const splat = (p: string) => `(${v}.splat (${t.name}.load (local.get ${p})))`;
  const store = (off: string) => `(v128.store (i32.add (local.get $out) ${off}) ${op})`;
  const whole = (va: string, vb: string) => vectorLoop('$i', '$last', '(local.get $bytes)', 'v', `${va}${vb}
        ${store('(local.get $i)')}`);
  const rows = (row: 'a' | 'b') => {
    const full = row === 'a' ? '$b' : '$a';
    const at = '(i32.add (local.get $base) (local.get $j))';
    const va = row === 'a' ? `(local.set $va ${load('$a', '(local.get $j)')})` : `(local.set $va ${load(full, at)})`;
    const vb = row === 'b' ? `(local.set $vb ${load('$b', '(local.get $j)')})` : `(local.set $vb ${load(full, at)})`;
    return `(local.set $base (i32.const 0))
      (block $rowsDone (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $base) (local.get $bytes)))
        ${vectorLoop('$j', '$lastJ', `(i32.mul (local.get $m) (i32.const ${s}))`, 'r', `${va}${vb}
          ${store(at)}`)}
        (local.set $base (i32.add (local.get $base) (i32.mul (local.get $m) (i32.const ${s}))))
        (br $rows)))`;
  };
  const L = BINARY_LAYOUT;
  return `
  (func (export "binary_${name}_${t.name}") (param $a i32) (param $b i32) (param $out i32) (param $n i32) (param $layout i32) (param $m i32)
    (local $i i32) (local $last i32) (local $j i32) (local $lastJ i32) (local $base i32) (local $bytes i32) (local $va v128) (local $vb v128)
    (local.set $bytes (i32.mul (local.get $n) (i32.const ${s})))
    (if (i32.eq (local.get $layout) (i32.const ${L.same})) (then
      ${whole(`(local.set $va ${load('$a', '(local.get $i)')})`, `(local.set $vb ${load('$b', '(local.get $i)')})`)}
      (return)))
    (if (i32.eq (local.get $layout) (i32.const ${L.scalarB})) (then
      (local.set $vb ${splat('$b')})
      ${whole(`(local.set $va ${load('$a', '(local.get $i)')})`, '')}
      (return)))
    (if (i32.eq (local.get $layout) (i32.const ${L.scalarA})) (then
      (local.set $va ${splat('$a')})
      ${whole('', `(local.set $vb ${load('$b', '(local.get $i)')})`)}
      (return)))
    (if (i32.eq (local.get $layout) (i32.const ${L.rowB})) (then
      ${rows('b')}
      (return)))
    ${rows('a')}
  )`;
}

/**
 * The optimizers' update rules (engine/optim/evaluate.ts) on f64x2: the same compiled instructions,
 * the same float64 operations in the same order, so the same bits as the JavaScript evaluator. The
 * JavaScript side writes the instructions as i32 words (VM_OP, VM_FN, VM_CMP), a frame table (per
 * frame slot, the address of its chunk of float64 values or of its one value) and a table of the
 * named arrays (address, element type, written); `vm_run` then goes chunk by chunk: each named
 * float32 array's chunk is read into its float64 slot, the instructions run over it, and the
 * written ones are stored back (a float64 array is used where it lies: its frame entry is moved to
 * each chunk, and the spare lane of an odd last chunk falls in the 16-byte padding after it). A
 * float32 array's slot is marked in the frame table (its
 * address's low bit) and rounded to float32 after each instruction that assigns it, as the
 * JavaScript evaluator's store into the Float32Array rounds it (a later statement reads it rounded).
 *
 * Instructions, after the opcode: binary [fn, d, A, B], ternary [fn, d, A, B, C], unary [fn, d, A],
 * select [cmp, d, A, B, then, else], branch [cmp, cellA, cellB, elseAt] (to elseAt when the
 * comparison fails), jump [to]; an operand is [x, scale, add, subtract]: scale·x[i] ± add.
 */
export const VM_OP = { binary: 1, ternary: 2, unary: 3, select: 4, branch: 5, jump: 6 } as const;
export const VM_FN = {
  binary: { '+': 0, '-': 1, '*': 2, '/': 3, max: 4 },
  ternary: { '+*': 0, '+/': 1, '-*': 2, '-/': 3 },
  unary: { id: 0, neg: 1, sqrt: 2, abs: 3 },
} as const;
export const VM_CMP = { '>': 0, '<': 1, '==': 2 } as const;
/** Named-array table entries: i32 words each. */
export const VM_NAMED_WORDS = 5;

function vm(): string {
  const v = 'f64x2';
  // the frame entry of the slot named by word w of the instruction at $pc
  const slot = (w: number) => `(i32.load (i32.add (local.get $frame) (i32.shl (i32.load offset=${4 * w} (local.get $pc)) (i32.const 2))))`;
  // operand q of the instruction at $pc, starting at word w: loads its scale and add into locals
  const operand = (q: string, w: number) => `
        (local.set $x${q} (i32.and ${slot(w)} (i32.const -2)))
        (local.set $s${q} (${v}.splat (f64.load ${slot(w + 1)})))
        (local.set $c${q} (${v}.splat (f64.load ${slot(w + 2)})))
        (if (i32.load offset=${4 * (w + 3)} (local.get $pc)) (then (local.set $c${q} (${v}.neg (local.get $c${q})))))`;
  const read = (q: string) => `(${v}.add (${v}.mul (local.get $s${q}) (v128.load (i32.add (local.get $x${q}) (local.get $i)))) (local.get $c${q}))`;
  // the destination's address; its low bit set: a float32 array, whose values are rounded to float32 as they are stored
  const dest = (w: number) => `(local.set $d ${slot(w)})
        (local.set $round (i32.and (local.get $d) (i32.const 1)))
        (local.set $d (i32.and (local.get $d) (i32.const -2)))`;
  const rounded = `
        (if (local.get $round) (then
          (local.set $i (i32.const 0))
          (block $rDone (loop $r
            (br_if $rDone (i32.ge_u (local.get $i) (local.get $bytes)))
            (v128.store (i32.add (local.get $d) (local.get $i)) (${v}.promote_low_f32x4 (f32x4.demote_f64x2_zero (v128.load (i32.add (local.get $d) (local.get $i))))))
            (local.set $i (i32.add (local.get $i) (i32.const 16)))
            (br $r)))))`;
  const loop = (body: string) => `
        (local.set $i (i32.const 0))
        (block $done (loop $each
          (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
          (v128.store (i32.add (local.get $d) (local.get $i)) ${body})
          (local.set $i (i32.add (local.get $i) (i32.const 16)))
          (br $each)))`;
  // one loop per function, picked once per instruction by its code (VM_FN, VM_CMP)
  const cases = <K extends string>(codes: Readonly<Record<K, number>>, bodies: Readonly<Record<K, string>>) => {
    const inOrder = (Object.keys(codes) as K[]).sort((p, q) => codes[p] - codes[q]).map((f) => bodies[f]);
    // nested blocks: the innermost holds the br_table; after block $fk ends comes code k's loop
    let text = `(br_table ${inOrder.map((_, k) => `$f${k}`).join(' ')} $f${inOrder.length - 1} (local.get $fn))`;
    inOrder.forEach((body, k) => (text = `(block $f${k} ${text})\n        ${loop(body)}\n        (br $tail)`));
    return `(block $tail ${text})`;
  };
  const A = read('A'), B = read('B'), C = read('C');
  const binary = { '+': `(${v}.add ${A} ${B})`, '-': `(${v}.sub ${A} ${B})`, '*': `(${v}.mul ${A} ${B})`, '/': `(${v}.div ${A} ${B})`, max: `(${v}.max ${A} ${B})` };
  const ternary = { '+*': `(${v}.add ${A} (${v}.mul ${B} ${C}))`, '+/': `(${v}.add ${A} (${v}.div ${B} ${C}))`, '-*': `(${v}.sub ${A} (${v}.mul ${B} ${C}))`, '-/': `(${v}.sub ${A} (${v}.div ${B} ${C}))` };
  const unary = { id: A, neg: `(${v}.neg ${A})`, sqrt: `(${v}.sqrt ${A})`, abs: `(${v}.abs ${A})` };
  const compareOp = { '>': 'gt', '<': 'lt', '==': 'eq' } as const;
  const select = Object.fromEntries(Object.entries(compareOp).map(([c, op]) => [c, `(v128.bitselect ${read('C')} ${read('D')} (${v}.${op} ${A} ${B}))`])) as Record<keyof typeof VM_CMP, string>;
  const cmp = (a: string, b: string) => `(if (result i32) (i32.eq (local.get $fn) (i32.const ${VM_CMP['>']})) (then (f64.${compareOp['>']} ${a} ${b}))
          (else (if (result i32) (i32.eq (local.get $fn) (i32.const ${VM_CMP['<']})) (then (f64.${compareOp['<']} ${a} ${b})) (else (f64.${compareOp['==']} ${a} ${b})))))`;
  const cell = (w: number) => `(f64.load ${slot(w)})`;
  const O = VM_OP;
  // named array $k's table entry: its element type and its float64 slot
  const entry = `(local.set $entry (i32.add (local.get $named) (i32.mul (local.get $k) (i32.const ${4 * VM_NAMED_WORDS}))))
        (local.set $type (i32.load offset=4 (local.get $entry)))
        (local.set $slot (i32.load offset=12 (local.get $entry)))
        (local.set $i (i32.const 0))`;
  return `
  ;; vm_chunk(code, codeEnd, frame, n): runs the instructions over n values (a chunk) of the frame's arrays
  (func $vm_chunk (param $pc i32) (param $end i32) (param $frame i32) (param $n i32)
    (local $op i32) (local $fn i32) (local $d i32) (local $i i32) (local $bytes i32) (local $round i32)
    (local $xA i32) (local $sA v128) (local $cA v128) (local $xB i32) (local $sB v128) (local $cB v128)
    (local $xC i32) (local $sC v128) (local $cC v128) (local $xD i32) (local $sD v128) (local $cD v128)
    ;; whole vectors: an odd chunk's last lane is computed on the slot's spare value and not stored back
    (local.set $bytes (i32.shl (i32.shr_u (i32.add (local.get $n) (i32.const 1)) (i32.const 1)) (i32.const 4)))
    (block $stop (loop $next
      (br_if $stop (i32.ge_u (local.get $pc) (local.get $end)))
      (local.set $op (i32.load (local.get $pc)))
      (local.set $fn (i32.load offset=4 (local.get $pc)))
      (if (i32.eq (local.get $op) (i32.const ${O.binary})) (then
        ${dest(2)}${operand('A', 3)}${operand('B', 7)}
        ${cases(VM_FN.binary, binary)}${rounded}
        (local.set $pc (i32.add (local.get $pc) (i32.const ${4 * 11})))
        (br $next)))
      (if (i32.eq (local.get $op) (i32.const ${O.ternary})) (then
        ${dest(2)}${operand('A', 3)}${operand('B', 7)}${operand('C', 11)}
        ${cases(VM_FN.ternary, ternary)}${rounded}
        (local.set $pc (i32.add (local.get $pc) (i32.const ${4 * 15})))
        (br $next)))
      (if (i32.eq (local.get $op) (i32.const ${O.unary})) (then
        ${dest(2)}${operand('A', 3)}
        ${cases(VM_FN.unary, unary)}${rounded}
        (local.set $pc (i32.add (local.get $pc) (i32.const ${4 * 7})))
        (br $next)))
      (if (i32.eq (local.get $op) (i32.const ${O.select})) (then
        ${dest(2)}${operand('A', 3)}${operand('B', 7)}${operand('C', 11)}${operand('D', 15)}
        ${cases(VM_CMP, select)}${rounded}
        (local.set $pc (i32.add (local.get $pc) (i32.const ${4 * 19})))
        (br $next)))
      (if (i32.eq (local.get $op) (i32.const ${O.branch})) (then
        (if ${cmp(cell(2), cell(3))}
          (then (local.set $pc (i32.add (local.get $pc) (i32.const ${4 * 5}))))
          (else (local.set $pc (i32.load offset=16 (local.get $pc)))))
        (br $next)))
      ;; jump
      (local.set $pc (i32.load offset=4 (local.get $pc)))
      (br $next)))
  )

  ;; vm_run(code, codeEnd, frame, named, count, n, chunk): the instructions over n values, chunk by chunk
  (func (export "vm_run") (param $code i32) (param $end i32) (param $frame i32) (param $named i32) (param $count i32) (param $n i32) (param $chunk i32)
    (local $start i32) (local $m i32) (local $k i32) (local $entry i32) (local $src i32) (local $slot i32) (local $i i32) (local $type i32)
    (block $chunksDone (loop $chunks
      (br_if $chunksDone (i32.ge_u (local.get $start) (local.get $n)))
      (local.set $m (select (local.get $chunk) (i32.sub (local.get $n) (local.get $start)) (i32.lt_u (local.get $chunk) (i32.sub (local.get $n) (local.get $start)))))
      ;; each named array's chunk into its float64 slot
      (local.set $k (i32.const 0))
      (block $inDone (loop $in
        (br_if $inDone (i32.ge_u (local.get $k) (local.get $count)))
        ${entry}
        (if (i32.eq (local.get $type) (i32.const 4)) (then
          (local.set $src (i32.add (i32.load (local.get $entry)) (i32.shl (local.get $start) (i32.const 2))))
          ;; two values at a time (an odd chunk reads one value past it into the slot's spare lane)
          (block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get $m)))
            (v128.store (i32.add (local.get $slot) (i32.shl (local.get $i) (i32.const 3)))
              (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))))
            (local.set $i (i32.add (local.get $i) (i32.const 2))) (br $l)))))
        ;; a float64 array is read and written where it lies: its frame entry points at this chunk
        (if (i32.eq (local.get $type) (i32.const 8)) (then
          (i32.store (i32.load offset=16 (local.get $entry)) (i32.add (i32.load (local.get $entry)) (i32.shl (local.get $start) (i32.const 3))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $in)))
      (call $vm_chunk (local.get $code) (local.get $end) (local.get $frame) (local.get $m))
      ;; the written ones back
      (local.set $k (i32.const 0))
      (block $outDone (loop $out
        (br_if $outDone (i32.ge_u (local.get $k) (local.get $count)))
        ${entry}
        (if (i32.load offset=8 (local.get $entry)) (then
          (if (i32.eq (local.get $type) (i32.const 4)) (then
            (local.set $src (i32.add (i32.load (local.get $entry)) (i32.shl (local.get $start) (i32.const 2))))
            ;; two values at a time, the odd last one alone (nothing past the chunk is written)
            (block $d (loop $l (br_if $d (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $m)))
              (v128.store64_lane 0 (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))
                (f32x4.demote_f64x2_zero (v128.load (i32.add (local.get $slot) (i32.shl (local.get $i) (i32.const 3))))))
              (local.set $i (i32.add (local.get $i) (i32.const 2))) (br $l)))
            (if (i32.lt_u (local.get $i) (local.get $m)) (then
              (f32.store (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))) (f32.demote_f64 (f64.load (i32.add (local.get $slot) (i32.shl (local.get $i) (i32.const 3))))))))))
))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $out)))
      (local.set $start (i32.add (local.get $start) (local.get $chunk)))
      (br $chunks)))
  )`;
}
