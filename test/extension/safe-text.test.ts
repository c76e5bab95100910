/**
 * The sanitiser for text from the user's code (extension/safe-text.ts): what a terminal would act
 * on is removed, what would reorder text is shown escaped, names stay on one line and are cut.
 */
import assert from 'node:assert/strict';
import { MARKS_MAX, NAME_MAX, escapeBidi, terminalJson, terminalText, visibleName } from '../../extension/safe-text';

const ESC = '\x1b';
const BEL = '\x07';
/** Every raw character a terminal acts on or that reorders text. */
const RAW = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;
const BIDI = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C'];
const esc = (c: string) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

describe('safe text: terminalText', () => {
  it('removes CSI sequences whole (clear screen, cursor moves, colours), 7-bit and C1', () => {
    assert.equal(terminalText(`a${ESC}[2Jb${ESC}[1;31mc${ESC}[0m${ESC}[?25ld${ESC}[1A${ESC}[K`), 'abcd');
    assert.equal(terminalText('x\u009b31my\u009b0m'), 'xy');
  });

  it('removes OSC strings up to BEL or ST, keeping a hyperlink\'s text', () => {
    assert.equal(terminalText(`see ${ESC}]8;;https://evil.example/${BEL}docs${ESC}]8;;${BEL}.`), 'see docs.');
    assert.equal(terminalText(`${ESC}]0;window title${ESC}\\after`), 'after');
    assert.equal(terminalText('\u009d0;t\u009cafter'), 'after');
  });

  it('removes DCS, SOS, PM and APC strings, and short ESC sequences (reset, charset, save cursor)', () => {
    for (const intro of ['P', 'X', '^', '_']) assert.equal(terminalText(`a${ESC}${intro}payload${ESC}\\b`), 'ab', `ESC ${intro}`);
    assert.equal(terminalText(`a${ESC}cb${ESC}(Bc${ESC}7d${ESC}8`), 'abcd');
  });

  it('an unterminated string loses only its introducer: the rest shows, nothing after it is swallowed', () => {
    assert.equal(terminalText(`a${ESC}]0;no end\nnext line`), 'a0;no end\nnext line');
  });

  it('removes a lone ESC, other C0 controls, DEL and C1; keeps \\n and \\t', () => {
    assert.equal(terminalText(`a${ESC}`), 'a');
    assert.equal(terminalText(`${ESC}${ESC}[2Jx`), 'x');
    assert.equal(terminalText('a\x00b\x07c\x08d\x0be\x0cf\x7fg\x85h\x9fi'), 'abcdefghi');
    assert.equal(terminalText('one\ttwo\nthree'), 'one\ttwo\nthree');
  });

  it('\\r\\n becomes \\n; a lone \\r (which would let text overwrite the line) is removed', () => {
    assert.equal(terminalText('a\r\nb'), 'a\nb');
    assert.equal(terminalText('secret\rpublic'), 'secretpublic');
  });

  it('shows every bidi control escaped', () => {
    for (const c of BIDI) assert.equal(terminalText(`a${c}b`), `a${esc(c)}b`);
  });

  it('leaves nothing raw for any single character after an ESC (or a C1 introducer)', () => {
    for (let code = 0; code < 0x100; code++) {
      const ch = String.fromCharCode(code);
      for (const text of [`${ESC}${ch}tail`, `\u009b${ch}tail`, `${ESC}[${ch}tail`, `${ESC}]${ch}`, `\u009d${ch}`]) {
        const out = terminalText(text);
        assert.ok(!RAW.test(out), `${JSON.stringify(text)} → ${JSON.stringify(out)}`);
      }
    }
  });

  it('leaves ordinary text (Unicode, emoji, combining marks) unchanged', () => {
    const text = 'loss = 0.25 ∂L/∂w → naïve 日本語 😀 é\tok\n';
    assert.equal(terminalText(text), text);
  });
});

describe('safe text: visibleName', () => {
  it('shows every control, bidi control and line separator escaped, on one line', () => {
    assert.equal(visibleName(`${ESC}[2Jx`), '\\u001B[2Jx');
    assert.equal(visibleName('a\nb\tc\rd'), 'a\\u000Ab\\u0009c\\u000Dd');
    assert.equal(visibleName('a\u2028b\u2029c\u0085d'), 'a\\u2028b\\u2029c\\u0085d');
    for (const c of BIDI) assert.equal(visibleName(`x${c}y`), `x${esc(c)}y`);
  });

  it('keeps a short, ordinary name as it is', () => {
    for (const name of ['q', 'layer1.weight', 'naïve', 'x₁', '日本語', 'e\u0301']) assert.equal(visibleName(name), name);
  });

  it('cuts a long name to max characters with an ellipsis', () => {
    const name = 'w'.repeat(NAME_MAX * 3);
    const out = visibleName(name);
    assert.equal(out.length, NAME_MAX);
    assert.ok(out.endsWith('…'));
    assert.equal(out.slice(0, -1), name.slice(0, NAME_MAX - 1));
    assert.equal(visibleName('abcdefghij', 10), 'abcdefghij', 'exactly max: not cut');
    assert.equal(visibleName('abcdefghijk', 10), 'abcdefghi…');
  });

  it('never cuts an escape or a surrogate pair in two', () => {
    const out = visibleName(`abcd${'\u202E'.repeat(10)}`, 12);
    assert.ok(out.length <= 12, out);
    assert.match(out, /^abcd(\\u202E)*…$/);
    const emoji = visibleName('😀'.repeat(20), 9);
    assert.ok(emoji.length <= 9);
    assert.match(emoji, /^(😀)+…$/u);
  });

  it('keeps at most a few combining marks after a character', () => {
    const out = visibleName(`z${'\u0336'.repeat(50)}a`);
    assert.equal(out, `z${'\u0336'.repeat(MARKS_MAX)}a`);
  });

  it('escapeBidi leaves everything but the bidi controls as it is', () => {
    assert.equal(escapeBidi('a\u202Eb\nc'), 'a\\u202Eb\nc');
  });
});

describe('safe text: terminalJson', () => {
  it('escapes what JSON.stringify leaves raw (C1, DEL, bidi, separators) and parses to the same value', () => {
    const value = { name: `a${ESC}[2J\u202E\u0085\u007f\u2028b`, list: ['\u2066x\u2069'] };
    const text = terminalJson(JSON.stringify(value));
    assert.ok(!RAW.test(text), text);
    assert.deepEqual(JSON.parse(text), value);
  });
});
