/** Numbers for people: 3–4 significant digits, scientific notation for tiny or huge magnitudes. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2).replace('e+', 'e');
  return Number(v.toPrecision(4)).toString();
}
