/** Command-line options shared by the benchmarks: `--json` and numeric `--name=N` options (node:util parseArgs). */
import { parseArgs } from 'node:util';

/** Parses `--json` and the given numeric options (`--min-ms=1500`); a bad or missing number gives the default. */
export function benchArgs<K extends string>(defaults: Record<K, number>): { json: boolean } & Record<K, number> {
  const options: Record<string, { type: 'string' } | { type: 'boolean' }> = { json: { type: 'boolean' } };
  for (const k of Object.keys(defaults)) options[k] = { type: 'string' };
  const { values } = parseArgs({ args: process.argv.slice(2), options, strict: false });
  const out = { json: values.json === true } as { json: boolean } & Record<K, number>;
  for (const k of Object.keys(defaults) as K[]) {
    const v = Number(values[k]);
    (out as Record<K, number>)[k] = typeof values[k] === 'string' && Number.isFinite(v) && v >= 0 ? v : defaults[k];
  }
  return out;
}
