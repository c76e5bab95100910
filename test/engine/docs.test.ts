/** docs/ops.md is generated from the registry: it must list what the registry has now. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { opsDoc } from '../../scripts/ops-doc';
import { COMPOSITES, OPS } from '../../engine/index';

describe('docs/ops.md', () => {
  it('is what `npm run docs` writes from the registry (every op and composite, with its formula)', () => {
    const file = readFileSync(join(__dirname, '..', '..', 'docs', 'ops.md'), 'utf8');
    const want = opsDoc();
    for (const name of [...OPS.keys(), ...COMPOSITES.names()]) assert.ok(want.includes(name), `the generator leaves out ${name}`);
    assert.ok(file === want, 'docs/ops.md is out of date with the op registry: run `npm run docs` and commit it');
  });
});
