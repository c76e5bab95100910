/**
 * Names on the graph (issue 14): a node face shows at most FACE_CHARS of a name and a cluster's box
 * CLUSTER_CHARS, the inspector and tooltips the whole name up to NAME_MAX, and every one of them
 * shows controls and bidirectional controls escaped. A long name cannot widen its node.
 */
import assert from 'node:assert/strict';
import { scalar } from '../../engine/index';
import { buildSnapshot } from '../../engine/trace/snapshot';
import { trace } from '../../engine/trace/tracer';
import type { GraphSnapshot } from '../../extension/protocol';
import { CLUSTER_CHARS, FACE_CHARS, NAME_MAX, clusterText, faceText, fullName, nodeRef } from '../../webview/format';
import { buildViewModel } from '../../webview/viewModel';

/** Every raw character that a page would act on as a control or that reorders text. */
const RAW = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u2028\u2029]/;

/** `x` named `name`, times 3: the named node is a leaf of the traced graph. */
function named(name: string): GraphSnapshot {
  const { result } = trace(() => scalar(2).named(name).mul(3));
  return buildSnapshot(result, { file: '/m.ts' });
}

/** A measurer that charges each character the same, so widths follow the text drawn. */
const measure = (_cls: string, text: string) => text.length * 7;

describe('view: long and hostile names', () => {
  it('a node face cuts a long name to FACE_CHARS with an ellipsis; a short one is shown as it is', () => {
    const long = 'layer'.repeat(200);
    const face = faceText(long);
    assert.equal(face.length, FACE_CHARS);
    assert.equal(face, `${long.slice(0, FACE_CHARS - 1)}…`);
    assert.equal(faceText('q'), 'q');
    assert.equal(faceText('x'.repeat(FACE_CHARS)), 'x'.repeat(FACE_CHARS), 'exactly FACE_CHARS: not cut');
  });

  it('a cluster label is cut to CLUSTER_CHARS; the inspector and tooltips show up to NAME_MAX', () => {
    const path = 'encoder.block.'.repeat(100);
    assert.equal(clusterText(path).length, CLUSTER_CHARS);
    assert.ok(clusterText(path).endsWith('…'));
    assert.ok(FACE_CHARS < CLUSTER_CHARS && CLUSTER_CHARS < NAME_MAX);
    const whole = 'n'.repeat(NAME_MAX - 10);
    assert.equal(fullName(whole), whole, 'a name under NAME_MAX is shown whole');
    const over = fullName('n'.repeat(NAME_MAX * 5));
    assert.equal(over.length, NAME_MAX);
    assert.ok(over.endsWith('…'));
  });

  it('bidi controls, escape sequences and line breaks in a name are shown escaped, on one line', () => {
    const name = '\x1b[2Jadmin\u202Etxt.exe\nnext\u2066';
    for (const shown of [faceText(name), clusterText(name), fullName(name)]) {
      assert.ok(!RAW.test(shown), JSON.stringify(shown));
      assert.ok(shown.startsWith('\\u001B[2Jadmin\\u202E'), shown);
    }
    assert.equal(fullName(name), '\\u001B[2Jadmin\\u202Etxt.exe\\u000Anext\\u2066');
  });

  it('formulas and chain-rule text name a node by its escaped, capped name', () => {
    const s = named(`w\u202E${'x'.repeat(NAME_MAX * 2)}`);
    const ref = nodeRef(s.nodes.find((n) => n.name?.startsWith('w\u202E'))!);
    assert.ok(ref.startsWith('w\\u202Exxx'), ref);
    assert.equal(ref.length, NAME_MAX);
    assert.ok(!RAW.test(ref));
  });

  it('a long name does not widen its node: it is sized for the cut face text, and keeps the whole name for the tooltip', () => {
    const long = 'w'.repeat(5000);
    const cut = faceText(long);
    const vmLong = buildViewModel(named(long), measure);
    const vmCut = buildViewModel(named(cut), measure);
    const a = vmLong.nodes.find((v) => v.node.name === long)!;
    const b = vmCut.nodes.find((v) => v.node.name === cut)!;
    assert.ok(a && b);
    assert.equal(a.width, b.width, 'the same width as a node named with the face text itself');
    assert.ok(a.width < measure('label', long) / 10, `width ${a.width}`);
    assert.equal(a.title, long, 'the title (drawn cut, with the whole name as its tooltip) is the whole name');
  });
});
