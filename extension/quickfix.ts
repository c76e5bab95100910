/**
 * Quick Fixes for gradient-health findings: the fixes that are a small change to the model file,
 * as text edits (no vscode import, so they are tested as plain functions). Each works on the
 * one-line call it targets (`nn.linear(…)`, `optim.adam({ … })`, `defineTraining({`) and is
 * offered only when it finds one; anything structural (batch norm) stays a suggestion.
 */
export interface TextEdit {
  /** 0-based line and columns of the replaced range. */
  line: number;
  start: number;
  end: number;
  newText: string;
}

export interface QuickFix {
  title: string;
  edits: TextEdit[];
}

const LINEAR = /nn\.linear\(([^()]*(?:\([^()]*\)[^()]*)*)\)/g;

/** Sets `init: 'he' | 'xavier'` in every single-line nn.linear(…) call on `line`. */
function initFix(lines: string[], line: number, init: 'he' | 'xavier'): QuickFix | null {
  const text = lines[line] ?? '';
  const edits: TextEdit[] = [];
  for (const m of text.matchAll(LINEAR)) {
    const args = m[1];
    const start = m.index! + 'nn.linear('.length;
    let next: string;
    if (/init:\s*(['"])[^'"]*\1/.test(args)) next = args.replace(/init:\s*(['"])[^'"]*\1/, `init: '${init}'`);
    else if (/\binit\s*:/.test(args)) continue; // a function initializer: leave it to the user
    else if (/\{\s*\}\s*$/.test(args)) next = args.replace(/\{\s*\}\s*$/, `{ init: '${init}' }`);
    else if (/\{[^{}]*\}\s*$/.test(args)) next = args.replace(/\{\s*([^{}]*?)\s*\}\s*$/, `{ init: '${init}', $1 }`);
    else next = `${args.trimEnd()}, { init: '${init}' }`;
    if (next !== args) edits.push({ line, start, end: start + args.length, newText: next });
  }
  return edits.length ? { title: `Initialize with ${init === 'he' ? 'He' : 'Xavier'} init (init: '${init}')`, edits } : null;
}

/** Sets `init` in every single-line nn.linear(…) call of the file. */
function initEverywhere(lines: string[], init: 'he' | 'xavier'): TextEdit[] {
  return lines.flatMap((_, line) => initFix(lines, line, init)?.edits ?? []);
}

/** ReLU with He init, as one fix: the activations become nn.relu() and the linear layers get init: 'he'. */
function reluWithHe(lines: string[]): QuickFix | null {
  const relu = replaceCalls(lines, /nn\.(sigmoid|tanh)\(\)/g, 'nn.relu()', '');
  if (!relu) return null;
  return { title: "Use ReLU with He init (nn.relu(), init: 'he')", edits: [...relu.edits, ...initEverywhere(lines, 'he')] };
}

/** Replaces every `from` call in the file (e.g. nn.sigmoid() → nn.relu()). */
function replaceCalls(lines: string[], from: RegExp, to: string, title: string): QuickFix | null {
  const edits: TextEdit[] = [];
  lines.forEach((text, line) => {
    for (const m of text.matchAll(from)) edits.push({ line, start: m.index!, end: m.index! + m[0].length, newText: to });
  });
  return edits.length ? { title, edits } : null;
}

/** Multiplies the first `lr: <number>` of an optim.xxx({ … }) call by `factor` (÷10 or ×10). */
function scaleLr(lines: string[], factor: number): QuickFix | null {
  for (let line = 0; line < lines.length; line++) {
    const m = /(optim\.\w+\(\s*\{[^}]*?\blr:\s*)([0-9.eE+-]+)/.exec(lines[line]);
    if (!m) continue;
    const lr = Number(m[2]);
    if (!Number.isFinite(lr) || lr <= 0) return null;
    const next = Number((lr * factor).toPrecision(6));
    const start = m.index + m[1].length;
    const title = factor < 1 ? `Lower the learning rate to ${next} (÷${1 / factor})` : `Raise the learning rate to ${next} (×${factor})`;
    return { title, edits: [{ line, start, end: start + m[2].length, newText: String(next) }] };
  }
  return null;
}

/** Adds `clipNorm: 1` to the optimizer's options. */
function clip(lines: string[]): QuickFix | null {
  for (let line = 0; line < lines.length; line++) {
    const m = /optim\.\w+\(\s*\{([^{}]*)\}\s*\)/.exec(lines[line]);
    if (!m || /clipNorm/.test(m[1])) continue;
    const inner = m[1].trim();
    const open = lines[line].indexOf('{', m.index);
    const close = open + 1 + m[1].length;
    return { title: 'Clip gradients to norm 1 (clipNorm: 1)', edits: [{ line, start: open + 1, end: close, newText: inner ? ` ${inner.replace(/,\s*$/, '')}, clipNorm: 1 ` : ' clipNorm: 1 ' }] };
  }
  return null;
}

/** Adds `standardize: true,` as the first option of defineTraining({ (when it opens a line). */
function standardize(lines: string[]): QuickFix | null {
  if (lines.some((l) => /\bstandardize:\s*true/.test(l))) return null;
  const line = lines.findIndex((l) => /defineTraining\(\s*\{\s*$/.test(l));
  if (line < 0) return null;
  const indent = /^\s*/.exec(lines[line + 1] ?? '')?.[0] || '  ';
  const end = lines[line].length;
  return { title: 'Standardize the inputs (standardize: true)', edits: [{ line, start: end, end, newText: `\n${indent}standardize: true,` }] };
}

/** The Quick Fix for finding fix `id` at `line` (0-based) of a model file's text, if it is an edit. */
export function quickFix(id: string, text: string, line: number): QuickFix | null {
  const lines = text.split(/\r?\n/);
  switch (id) {
    case 'he-init': return initFix(lines, line, 'he');
    case 'xavier-init': return initFix(lines, line, 'xavier');
    case 'use-relu': return reluWithHe(lines);
    case 'leaky-relu': return replaceCalls(lines, /nn\.relu\(\)/g, 'nn.leakyRelu()', 'Use leakyRelu instead of relu (nn.leakyRelu())');
    case 'lower-lr': return scaleLr(lines, 0.1);
    case 'higher-lr': return scaleLr(lines, 10);
    case 'clip-gradients': return clip(lines);
    case 'normalize-inputs': return standardize(lines);
    default: return null;
  }
}

/**
 * The Quick Fixes of several findings, without repeats: findings on the same line (vanishing,
 * collapse and dead units of one layer, or every layer a loop creates) often suggest the same
 * edit, which is offered once (the first finding's).
 */
export function uniqueFixes<T extends { fix: QuickFix }>(fixes: readonly T[]): T[] {
  const seen = new Set<string>();
  return fixes.filter(({ fix }) => {
    const key = JSON.stringify([...fix.edits].sort((a, b) => a.line - b.line || a.start - b.start));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
