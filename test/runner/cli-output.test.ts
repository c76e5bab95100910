/**
 * What the CLI prints cannot drive the reader's terminal (issue 14): node names, the model's console
 * output and its errors may hold escape sequences (clear screen, OSC 8 hyperlinks, colours), `\r`
 * and bidirectional controls. The CLI is run as a user runs it (`node bin/backprop-lens.js …`).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ROOT, ensureBuilt, useTempDir, writeFile } from './helpers';

const BIN = path.join(ROOT, 'bin', 'backprop-lens.js');

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Raw characters a terminal acts on, or that reorder text: C0 (but \n and \t), DEL, C1, bidi controls. */
const RAW = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u;

function assertInert(text: string, what: string): void {
  const m = RAW.exec(text);
  assert.equal(m, null, m ? `${what} holds U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at ${m.index}: ${JSON.stringify(text.slice(Math.max(0, m.index - 20), m.index + 20))}` : '');
}

// In the model's source these are JavaScript escapes; the strings the model makes hold the raw characters.
const CLEAR = '\\x1b[2J';
const LINK = (url: string, text: string) => `\\x1b]8;;${url}\\x07${text}\\x1b]8;;\\x07`;
const RLO = '\\u202E';

const MODEL = `import { scalar } from 'backprop-lens';
const a = scalar(2).named('${CLEAR}wiped${RLO}gnp.exe');
const b = scalar(3).named('${LINK('https://evil.example/', 'click')}');
const c = scalar(4).named('line1\\nline2\\rover');
console.log('${CLEAR}cleared\\rhidden ${LINK('https://evil.example/', 'link')} ${RLO}desrever \\x9b31mred\\x1b[0m');
console.error('err\\x1b[1A\\x1b[Kup');
process.stdout.write('raw\\x1b]0;title\\x07write\\x1b[2J\\n');
const y = a.mul(b).add(c);
export default y;
`;

describe('CLI: output from the model cannot attack the terminal', function () {
  const tmp = useTempDir('bpl-cli-safe-');
  let file: string;
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
    file = writeFile(tmp(), 'evil.ts', MODEL);
  });

  it('trace (table): names and console output without raw controls; bidi controls shown escaped', () => {
    const r = cli('trace', file);
    assert.equal(r.code, 0, r.stderr);
    assertInert(r.stdout, 'stdout');
    assertInert(r.stderr, 'stderr');
    // the console line: the sequences are gone, the text stays, \r no longer hides what came before it
    assert.match(r.stdout, /cleared\s*hidden link \\u202Edesrever red/);
    assert.match(r.stderr, /errup/);
    // what the model writes to process.stdout itself (not through console) is cleaned the same way
    assert.match(r.stdout, /rawwrite/);
    // the names: every control shown escaped, on one row each
    assert.ok(r.stdout.includes('\\u001B[2Jwiped\\u202Egnp.exe'), r.stdout);
    assert.ok(r.stdout.includes('\\u001B]8;;https://evil.example/\\u0007click\\u001B]8;;\\u0007'), r.stdout);
    const row = r.stdout.split('\n').find((l) => l.includes('line1'));
    assert.ok(row?.includes('line1\\u000Aline2\\u000Dover'), `the name with \\n and \\r stays on its row: ${row}`);
  });

  it('trace --json: the JSON holds the names exactly, with C1 and bidi controls as \\u escapes; the console (stderr) is clean', () => {
    const r = cli('trace', file, '--json');
    assert.equal(r.code, 0, r.stderr);
    assertInert(r.stdout, 'stdout');
    assertInert(r.stderr, 'stderr');
    assert.equal(r.stdout.trim().split('\n').length, 1);
    const doc = JSON.parse(r.stdout);
    const names = doc.nodes.map((n: { name: string | null }) => n.name);
    assert.ok(names.includes('\x1b[2Jwiped\u202Egnp.exe'), `the data is unchanged: ${JSON.stringify(names)}`);
    assert.ok(names.includes('\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07'));
    assert.ok(names.includes('line1\nline2\rover'));
    assert.ok(r.stdout.includes('\\u202E'), 'the bidi control as a JSON escape');
    assert.match(r.stderr, /cleared\s*hidden link \\u202Edesrever red/);
  });

  it('an error the model throws is printed without its controls', () => {
    const f = writeFile(tmp(), 'throws.ts', `import { scalar } from 'backprop-lens';\nconst x = scalar(1);\nthrow new Error('${CLEAR}boom\\r${LINK('https://evil.example/', 'here')} ${RLO}txet');\nexport default x;\n`);
    const r = cli('trace', f);
    assert.equal(r.code, 1);
    assertInert(r.stderr, 'stderr');
    assert.match(r.stderr, /boomhere \\u202Etxet/);
  });

  it('train: the model console during training is cleaned too', () => {
    const f = writeFile(tmp(), 'train.ts', `import { param, optim, defineTraining } from 'backprop-lens';
const x = param(2).named('w${RLO}x');
let calls = 0;
export default defineTraining({
  params: [x], optimizer: optim.sgd({ lr: 0.1 }), steps: 3, logEvery: 1,
  loss: () => {
    console.log('step ' + (++calls) + '${CLEAR}\\r${RLO}');
    return x.pow(2);
  },
});
`);
    for (const json of [false, true]) {
      const r = cli('train', f, ...(json ? ['--json'] : []));
      assert.equal(r.code, 0, r.stderr);
      assertInert(r.stdout, `stdout${json ? ' (--json)' : ''}`);
      assertInert(r.stderr, `stderr${json ? ' (--json)' : ''}`);
      assert.match(json ? r.stderr : r.stdout, /step 1\\u202E/);
      if (json) assert.ok(JSON.parse(r.stdout).history.length > 0);
    }
  });
});
