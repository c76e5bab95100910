/**
 * Text from the user's code made safe to show: names (variables, `.named()`, module paths), model
 * console output, messages and errors. Shared by the CLI (terminal) and the webview (node faces,
 * inspector); no Node or DOM imports.
 *
 * - `terminalText`: free text for a terminal. Escape sequences (CSI, OSC, DCS, SOS, PM, APC and
 *   the short ESC forms, in their 7-bit and C1 spellings) are removed whole, as are the remaining
 *   C0 controls (but `\n` and `\t`), DEL and C1 controls; `\r\n` becomes `\n` and any other `\r`
 *   (which would let later text overwrite a line) is removed. Bidirectional controls are shown
 *   escaped (`\u202E`) so text cannot reorder what the reader sees.
 * - `visibleName`: one line for a name. Every control, bidirectional control and line separator is
 *   shown escaped (`\u001B`, `\n` as `\u000A`), runs of combining marks are cut to a few, and the
 *   result is cut to `max` characters with an ellipsis.
 * - `terminalJson`: JSON text with the characters above written as `\uXXXX` escapes (the parsed
 *   value is the same).
 */

/** The longest a name is shown in full (the inspector, the CLI's table); longer ones end in `…`. */
export const NAME_MAX = 200;
/** The most combining marks kept after one character (enough for real scripts, not for "zalgo" text that spills over its neighbours). */
export const MARKS_MAX = 4;

/** Bidirectional formatting characters: embeddings and overrides, isolates, LRM/RLM, ALM. */
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
/** What a single-line name never shows raw: C0 (all), DEL, C1, bidi controls, line and paragraph separators. */
const NAME_UNSAFE = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u2028\u2029]/;
/** JSON.stringify already escapes C0; these it leaves raw. */
const JSON_UNSAFE = /[\u007F-\u009F\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u2028\u2029]/g;

/**
 * Escape sequences, 7-bit (ESC …) and 8-bit (C1 introducer):
 * - strings (OSC `ESC ]`/U+009D, DCS `ESC P`/U+0090, SOS `ESC X`/U+0098, PM `ESC ^`/U+009E, APC
 *   `ESC _`/U+009F) up to their terminator (BEL, `ESC \` or U+009C) on the same line; without one
 *   only the introducer goes (the rest then shows as plain text, and nothing after it is lost);
 * - CSI (`ESC [`/U+009B) parameters, intermediates and a final byte;
 * - other ESC sequences: intermediates and a final byte (`ESC c`, `ESC ( B`, `ESC 7`);
 * - a lone ESC.
 */
const SEQUENCE = new RegExp([
  '(?:\\u001B[\\]PX^_]|[\\u009D\\u0090\\u0098\\u009E\\u009F])[^\\n]*?(?:\\u0007|\\u001B\\\\|\\u009C)',
  '(?:\\u001B\\[|\\u009B)[\\u0030-\\u003F]*[\\u0020-\\u002F]*[\\u0040-\\u007E]?',
  '\\u001B[\\u0020-\\u002F]*[\\u0030-\\u007E]?',
].join('|'), 'g');
/** Controls left after the sequences are gone (a lone `\r` included; `\n` and `\t` stay). */
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

const hex4 = (c: string) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Free text for a terminal (see the module comment). */
export function terminalText(text: string): string {
  return String(text).replace(SEQUENCE, '').replace(/\r\n/g, '\n').replace(CONTROL, '').replace(BIDI, hex4);
}

/** Bidirectional controls shown escaped, everything else unchanged (text for the page, where other controls are inert). */
export function escapeBidi(text: string): string {
  return String(text).replace(BIDI, hex4);
}

const MARK = /\p{M}/u;

/**
 * A name on one line, safe to show (see the module comment), at most `max` characters (a UTF-16
 * count; an escape is never cut in two, nor a surrogate pair): longer names end in `…`.
 */
export function visibleName(name: string, max = NAME_MAX): string {
  const limit = Math.max(1, Math.floor(max));
  const out: string[] = [];
  let length = 0;
  let marks = 0;
  let cut = false;
  for (const ch of String(name)) {
    if (MARK.test(ch)) {
      if (++marks > MARKS_MAX) continue;
    } else marks = 0;
    const piece = NAME_UNSAFE.test(ch) ? hex4(ch) : ch;
    if (length + piece.length > limit) {
      cut = true;
      break;
    }
    out.push(piece);
    length += piece.length;
  }
  if (!cut) return out.join('');
  // room for the ellipsis: drop whole pieces from the end until it fits
  while (out.length && length + 1 > limit) length -= out.pop()!.length;
  return `${out.join('')}…`;
}

/** JSON text (from JSON.stringify) with C1, DEL, bidi controls and line separators as `\uXXXX` escapes; it parses to the same value. */
export function terminalJson(json: string): string {
  return json.replace(JSON_UNSAFE, hex4);
}
