/** What counts as a model file, and where its CodeLens goes. */

/** TypeScript and JavaScript model files (run by the engine) and PyTorch files (run by python/backprop_lens). */
export const MODEL_EXTENSIONS = /\.(ts|mts|js|mjs|py)$/i;
const IMPORTS_ENGINE = /(?:from\s*|require\s*\(\s*|import\s*\(\s*)['"]backprop-lens['"]/;
/** `import torch`, `import torch.nn as nn`, `from torch import nn` at the start of a line. */
const IMPORTS_TORCH = /^[ \t]*(?:import[ \t]+torch\b|from[ \t]+torch\b)/m;

/** A `.ts`, `.mts`, `.js` or `.mjs` file that imports from 'backprop-lens', or a `.py` file that imports torch. */
export function isModelSource(fileName: string, text: string): boolean {
  if (/\.py$/i.test(fileName)) return IMPORTS_TORCH.test(text);
  return MODEL_EXTENSIONS.test(fileName) && !/\.d\.ts$/i.test(fileName) && IMPORTS_ENGINE.test(text);
}

/**
 * 0-based line the Show Graph CodeLens sits above: the first `export default` of a TypeScript
 * model; in a PyTorch file the last `.backward(` or `show(` call (where its graph ends), else the
 * torch import. Null when there is none.
 */
export function defaultExportLine(text: string, fileName = ''): number | null {
  const lines = text.split(/\r?\n/);
  if (/\.py$/i.test(fileName)) {
    for (let i = lines.length - 1; i >= 0; i--) if (/\.backward\s*\(|\bshow\s*\(/.test(lines[i]) && !/^\s*#/.test(lines[i])) return i;
    const t = lines.findIndex((l) => /^[ \t]*(?:import[ \t]+torch\b|from[ \t]+torch\b)/.test(l));
    return t >= 0 ? t : null;
  }
  const i = lines.findIndex((l) => /^\s*export\s+default\b/.test(l));
  return i >= 0 ? i : null;
}

/** A training log written by watch(model, log_dir=…): shown in the training view, not run. */
export const isTrainingLog = (file: string) => /\.jsonl$/i.test(file);
