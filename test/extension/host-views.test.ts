/** Host-side helpers that need no vscode API: model-file detection, inline values, hovers, trimming, CSP. */
import * as assert from 'node:assert/strict';
import { buildSnapshot } from '../../engine/trace/snapshot';
import { trace } from '../../engine/trace/tracer';
import { scalar, tensor } from '../../engine';
import { defaultExportLine, isModelSource } from '../../extension/modelFiles';
import { hoverMarkdown, inlineValues, limitSnapshot, nodeForWord } from '../../extension/snapshotView';
import { contentSecurityPolicy, webviewHtml } from '../../extension/webviewHtml';

/** (x + y)·z with names and lines set as the tracer would. */
function addMul() {
  const file = '/w/model.ts';
  let line = 0;
  const { result } = trace(() => {
    const x = scalar(-2).named('x');
    const y = scalar(5).named('y');
    const z = scalar(-4).named('z');
    const q = x.add(y).named('q');
    return q.mul(z).named('f');
  }, { locate: () => ({ file, line: ++line, column: 1 }) });
  return { file, snapshot: buildSnapshot(result, { file }) };
}

describe('model files', () => {
  it('recognises imports of backprop-lens in ts/js files only', () => {
    assert.equal(isModelSource('a.ts', "import { scalar } from 'backprop-lens';"), true);
    assert.equal(isModelSource('a.mjs', 'import * as bl from "backprop-lens"'), true);
    assert.equal(isModelSource('a.js', "const bl = require('backprop-lens')"), true);
    assert.equal(isModelSource('a.ts', "import { x } from 'backprop-lens-extra';"), false);
    assert.equal(isModelSource('a.py', "from 'backprop-lens'"), false);
    assert.equal(isModelSource('a.d.ts', "from 'backprop-lens'"), false);
  });
  it('finds the default export line', () => {
    assert.equal(defaultExportLine("import x from 'y';\n\nexport default f;\n"), 2);
    assert.equal(defaultExportLine('const a = 1;\n'), null);
  });
});

describe('inline values and hovers', () => {
  it('writes value and gradient after each line that created a named node', () => {
    const { file, snapshot } = addMul();
    const lines = inlineValues(snapshot, file);
    const q = snapshot.nodes.find((n) => n.name === 'q')!;
    assert.equal(lines.get(q.source!.line), 'q = 3 · ∂ -4');
    const x = snapshot.nodes.find((n) => n.name === 'x')!;
    assert.equal(lines.get(x.source!.line), 'x = -2 · ∂ -4');
    assert.equal(inlineValues(snapshot, '/elsewhere.ts').size, 0);
  });
  it('a larger tensor: its shape, mean and spread, in the panel node face\'s words', () => {
    const file = '/w/t.ts';
    const { result } = trace(() => tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true, dtype: 'float64' }).named('w').mul(2).sum().named('f'), { locate: () => ({ file, line: 1, column: 1 }) });
    const s = buildSnapshot(result, { file });
    assert.match(inlineValues(s, file).get(1)!, /^w = \[2×3\] μ 3\.5 σ 1\.708 · ∂ μ 2 σ 0 {3}f = 42 · ∂ 1 {3}\+1 more$/);
    assert.match(hoverMarkdown(s.nodes.find((n) => n.name === 'w')!), /shape 2×3 · float64\n\nvalue: `μ 3\.5 σ 1\.708`/);
  });
  it('hover finds the node by name and escapes markdown', () => {
    const { file, snapshot } = addMul();
    const z = nodeForWord(snapshot, file, 'z', 999)!;
    assert.equal(z.name, 'z');
    const md = hoverMarkdown(z);
    assert.match(md, /value: `-4`/);
    assert.match(md, /gradient ∂L\/∂z: `3`/);
    assert.equal(nodeForWord(snapshot, file, 'nothing', 1), null);
  });
});

describe('limitSnapshot', () => {
  it('drops payloads above the limit and keeps summaries', () => {
    const { result } = trace(() => tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true }).mul(2).sum());
    const s = buildSnapshot(result, { file: '/w/m.ts' });
    const small = limitSnapshot(s, 4);
    const big = small.nodes.find((n) => n.size === 6)!;
    assert.equal(big.value, null);
    assert.equal(big.stats.count, 6);
    assert.ok(small.nodes.find((n) => n.size === 1)!.value instanceof Float64Array);
    assert.equal(small.maxElements, 4);
    assert.ok(s.nodes.find((n) => n.size === 6)!.value instanceof Float64Array, 'the original keeps its payloads');
  });
});

describe('webview HTML', () => {
  it('has a strict CSP with a nonce and no inline script without it', () => {
    const html = webviewHtml({ cspSource: 'https://x.vscode-cdn.net', scriptUri: 'https://x/webview.js', styleUri: 'https://x/webview.css', codiconsUri: 'https://x/c.css', nonce: 'abc123' });
    assert.match(html, /default-src 'none'/);
    assert.match(html, /script-src 'nonce-abc123'/);
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0], /nonce="abc123"/);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
    assert.doesNotMatch(contentSecurityPolicy('s', 'n'), /unsafe-(inline|eval)/);
  });
  it('escapes the title and URIs', () => {
    const html = webviewHtml({ cspSource: 's', scriptUri: 'a"b', styleUri: 's', codiconsUri: 'c', title: '<img src=x onerror=alert(1)>' });
    assert.doesNotMatch(html, /<img/);
    assert.doesNotMatch(html, /src="a"b"/);
  });
});
