/**
 * TypeScript server plugin: resolves `'backprop-lens'` to the type declarations shipped inside the
 * extension, so a model file gets IntelliSense in any folder without `npm install`. A project that
 * installed backprop-lens itself keeps its own copy (we only fill in what TypeScript could not resolve).
 *
 * tsserver loads this from <extension>/node_modules/backprop-lens-ts-plugin (see scripts/build.mjs).
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import type * as ts from 'typescript/lib/tsserverlibrary';

const MODULE = 'backprop-lens';

function init(modules: { typescript: typeof ts }) {
  const tsm = modules.typescript;
  // <extension>/node_modules/backprop-lens-ts-plugin/index.js → <extension>/dist/types/index.d.ts
  const types = path.resolve(__dirname, '..', '..', 'dist', 'types', 'index.d.ts');

  function create(info: ts.server.PluginCreateInfo): ts.LanguageService {
    const host = info.languageServiceHost;
    const log = (m: string) => info.project.projectService.logger.info(`[backprop-lens] ${m}`);
    if (!fs.existsSync(types)) {
      log(`types not found at ${types}`);
      return info.languageService;
    }
    const resolved: ts.ResolvedModuleFull = { resolvedFileName: types, extension: tsm.Extension.Dts, isExternalLibraryImport: false };
    const original = host.resolveModuleNameLiterals?.bind(host);
    if (original) {
      host.resolveModuleNameLiterals = (literals, containingFile, redirected, options, sourceFile, reused) => {
        const out = original(literals, containingFile, redirected, options, sourceFile, reused);
        return out.map((r, i) => (literals[i].text === MODULE && !r.resolvedModule ? { resolvedModule: resolved } : r));
      };
    } else {
      const compilerHost = {
        fileExists: (f: string) => tsm.sys.fileExists(f),
        readFile: (f: string) => tsm.sys.readFile(f),
      };
      host.resolveModuleNames = (names, containingFile, _reused, _redirected, options) =>
        names.map((n) => {
          const r = tsm.resolveModuleName(n, containingFile, options, compilerHost).resolvedModule;
          return r ?? (n === MODULE ? resolved : undefined);
        });
    }
    log(`resolving '${MODULE}' to ${types}`);
    return info.languageService;
  }

  return { create };
}

export = init;
