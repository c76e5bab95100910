/** Restoring a panel after a reload reruns only a model file inside the workspace (the saved state is webview data). */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { isInside, restorableModelFile } from '../../extension/restore';

const ws = path.resolve('/work/project');
const inWs = (...p: string[]) => path.join(ws, ...p);

describe('restoring a graph panel', () => {
  it('reruns a model file inside a workspace folder', () => {
    assert.deepEqual(restorableModelFile({ file: inWs('model.ts'), mode: 'backward', step: 2 }, [ws]), { file: inWs('model.ts') });
    assert.deepEqual(restorableModelFile({ file: inWs('deep', 'er', 'net.mjs') }, [path.resolve('/elsewhere'), ws]), { file: inWs('deep', 'er', 'net.mjs') });
    assert.deepEqual(restorableModelFile({ file: inWs('..odd.ts') }, [ws]), { file: inWs('..odd.ts') }, 'a name that starts with two dots is still inside');
  });

  it('refuses files outside every workspace folder, or with no workspace open', () => {
    for (const file of [path.resolve('/etc/evil.ts'), path.resolve('/work/project-other/model.ts'), `${ws}${path.sep}..${path.sep}outside.ts`, path.resolve('/work/model.ts')]) {
      const r = restorableModelFile({ file }, [ws]);
      assert.ok('refused' in r && /outside the workspace/.test(r.refused), `${file}: ${JSON.stringify(r)}`);
    }
    assert.ok('refused' in restorableModelFile({ file: inWs('model.ts') }, []), 'no workspace folder: nothing is restored');
  });

  it('refuses states that name no model file', () => {
    const bad: unknown[] = [
      undefined, null, 'model.ts', {}, { file: null }, { file: 42 }, { file: '' }, { file: 'model.ts' }, { file: inWs('notes.txt') },
      { file: inWs('model.ts\0.txt') }, { file: inWs(`${'a'.repeat(5000)}.ts`) }, Object.create({ file: inWs('model.ts') }),
      Object.defineProperty({}, 'file', { get: () => { throw new Error('getter ran'); } }),
      new Proxy({}, { getOwnPropertyDescriptor: () => { throw new Error('trap ran'); } }),
    ];
    for (const state of bad) assert.ok('refused' in restorableModelFile(state, [ws]), String(state));
  });

  it('compares without case where the file system ignores it', () => {
    assert.equal(isInside('/Work/Project', '/work/project/model.ts', true), true);
    assert.equal(isInside('/Work/Project', '/work/project/model.ts', false), false);
    assert.equal(isInside(ws, ws), false, 'the folder itself is not a file inside it');
  });
});
