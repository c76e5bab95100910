/**
 * Errors about the engine's API in the user's terms. The bundler renames `import { nn } from
 * 'backprop-lens'` to `import_backprop_lens.nn`, so V8 says `import_backprop_lens.nn.conv3d is not a
 * function`; the user wrote `nn.conv3d`, which the API does not have. This says so, with what the
 * namespace has and the nearest name.
 */

/** The engine's namespaces (nn, optim, data, init, losses) and top-level names, as the model sees them. */
export type Api = Record<string, unknown>;

const BUNDLER_NAME = /\bimport_backprop_lens\d*\./g;

/** Edit distance. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** What `scope` offers to call: its functions and classes, sorted. */
function callables(scope: Record<string, unknown>): string[] {
  return Object.keys(scope).filter((k) => typeof scope[k] === 'function').sort((a, b) => a.localeCompare(b, 'en'));
}

function nearest(name: string, options: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const o of options) {
    // case-insensitive first (nn.Conv2d → conv2d), the same case breaking ties (Linaer → Linear, not linear)
    const d = distance(name.toLowerCase(), o.toLowerCase()) + distance(name, o) / 100;
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best !== null && Math.floor(bestD) <= Math.max(1, Math.floor(name.length / 3)) ? best : null;
}

/**
 * The message of an error thrown by model code, in the user's terms: the bundler's import names
 * taken out, and a call of a name the API does not have (`nn.conv3d(…)`, `new nn.Conv2d(…)`, a
 * named import that does not exist) said as `backprop-lens has no nn.conv3d; nn has: …`.
 */
export function apiMessage(message: string, api: Api): string {
  const fromApi = BUNDLER_NAME.test(message);
  BUNDLER_NAME.lastIndex = 0;
  const clean = message.replace(BUNDLER_NAME, '').replace(/\(0\s*,\s*([\w$.]+)\)/g, '$1');
  if (!fromApi) return clean;
  const m = /^([\w$]+)(?:\.([\w$]+))? is not a (function|constructor)\b/.exec(clean);
  if (!m) return clean;
  const [ns, member] = m[2] === undefined ? [null, m[1]] : [m[1], m[2]];
  const scope = ns === null ? api : api[ns];
  if (!scope || typeof scope !== 'object' || member in scope) return clean;
  const offered = callables(scope as Record<string, unknown>);
  const where = ns === null ? 'backprop-lens' : ns;
  const near = nearest(member, offered);
  const what = ns === null ? member : `${ns}.${member}`;
  const hint = near ? ` Did you mean ${ns === null ? near : `${ns}.${near}`}?` : '';
  const list = offered.length > 40 ? `${offered.slice(0, 40).join(', ')}, … (${offered.length} in all)` : offered.join(', ');
  return `backprop-lens has no ${what}; ${where} has: ${list}.${hint}`;
}
