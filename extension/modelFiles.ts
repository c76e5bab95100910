/** What counts as a model file, and where its default export is (for the CodeLens). */

export const MODEL_EXTENSIONS = /\.(ts|mts|js|mjs)$/i;
const IMPORTS_ENGINE = /(?:from\s*|require\s*\(\s*|import\s*\(\s*)['"]backprop-lens['"]/;

/** A `.ts`, `.mts`, `.js` or `.mjs` file that imports from 'backprop-lens'. */
export function isModelSource(fileName: string, text: string): boolean {
  return MODEL_EXTENSIONS.test(fileName) && !/\.d\.ts$/i.test(fileName) && IMPORTS_ENGINE.test(text);
}

/** 0-based line of the first `export default`, or null. */
export function defaultExportLine(text: string): number | null {
  const lines = text.split(/\r?\n/);
  const i = lines.findIndex((l) => /^\s*export\s+default\b/.test(l));
  return i >= 0 ? i : null;
}
