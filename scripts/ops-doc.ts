/**
 * Writes docs/ops.md, the list of every op and composite with its formula, from the registry.
 *   npx tsx scripts/ops-doc.ts          (npm run docs)
 * test/engine/docs.test.ts fails when the file is not what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMPOSITES, OPS } from '../engine/index';
import * as F from '../engine/ops/functional';

type Entry = ((...args: never[]) => unknown) & { method?: boolean; def?: { name: string }; compositeName?: string };
const CATALOG = F as unknown as Record<string, Entry | object>;

/** The functions (and Tensor methods) that run each op or composite. */
function callers(name: string): { fn: string | null; method: boolean } {
  for (const [key, f] of Object.entries(CATALOG)) {
    if (typeof f !== 'function') continue;
    const e = f as Entry;
    if (e.def?.name === name || e.compositeName === name) return { fn: key, method: e.method === true };
  }
  return { fn: null, method: false };
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function opsDoc(): string {
  const lines = [
    '# Ops',
    '',
    'Generated from the op registry by `npm run docs` (scripts/ops-doc.ts); do not edit by hand.',
    '',
    'Every primitive op: how to call it (a function exported by `backprop-lens`, and a Tensor method',
    'where it has one), its symbol in the graph, its local gradient as the inspector shows it, and',
    "PyTorch's function where it is one call.",
    '',
    '| op | call | symbol | local gradient | PyTorch |',
    '|---|---|---|---|---|',
  ];
  for (const def of [...OPS.values()].sort((a, b) => a.category.localeCompare(b.category) || a.name.localeCompare(b.name))) {
    const { fn, method } = callers(def.name);
    const call = fn === null ? '(gradients only)' : `\`${fn}()\`${method ? `, \`x.${fn}()\`` : ''}`;
    lines.push(`| ${def.name} (${def.category}) | ${call} | ${cell(def.symbol)} | ${cell(def.formula)} | ${def.torch ? `\`${def.torch}\`` : ''} |`);
  }
  lines.push('', '## Composites', '', 'Built from the ops above (their gradients come from them); the graph shows each as one collapsible group.', '');
  lines.push(COMPOSITES.names().map((n) => `\`${n}\``).join(', '), '');
  return lines.join('\n');
}

if (require.main === module) {
  const file = join(__dirname, '..', 'docs', 'ops.md');
  writeFileSync(file, opsDoc());
  console.log(`wrote ${file}`);
}
