/**
 * The panel's own numbers against the CLI's snapshot of the same graph, in real VS Code: every
 * example's node faces (value and gradient of each drawn node), the chain-rule box at the first and
 * the last backward step, and the inspector's value and gradient tables of a selected tensor; then a
 * training file's graph at training steps 0, 1 and 5 against `trace --at-step N`. A payload lost on
 * the way to the webview shows up here as an empty or wrong number.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GraphSnapshot, SnapshotNode } from '../../extension/protocol';
import { backwardChain } from '../../webview/chainRule';
import { normalizeSnapshot } from '../../webview/snapshot';
import { parseNumbers, scrollIntoView, type Workbench } from './workbench';

const ROOT = path.resolve(__dirname, '..', '..');

/** The CLI's snapshot (`backprop-lens trace FILE --json [--at-step N]`), as the webview reads it. */
function cliSnapshot(file: string, atStep?: number): GraphSnapshot {
  const args = [path.join(ROOT, 'bin', 'backprop-lens.js'), 'trace', file, '--json', ...(atStep === undefined ? [] : ['--at-step', String(atStep)])];
  const json = execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 2 ** 20, stdio: ['ignore', 'pipe', 'pipe'] });
  return normalizeSnapshot(JSON.parse(json) as GraphSnapshot);
}

/** A shown number agrees with the snapshot's when it is that number to the 3–4 digits shown. */
const close = (shown: number, want: number) => (want === 0 ? shown === 0 : Math.abs(shown - want) <= 5e-3 * Math.abs(want));

/** What a node face shows for a tensor: the number, up to four numbers, or the mean and spread. */
function faceNumbers(payload: Float64Array | null, stats: SnapshotNode['stats'] | null, size: number): number[] | null {
  if (payload && payload.length <= 4) return Array.from(payload);
  if (!stats || stats.mean === null) return null;
  return size === 1 ? [stats.mean] : [stats.mean, stats.std ?? 0];
}

function agrees(what: string, text: string, want: number[] | null, problems: string[]): void {
  if (/\[\]/.test(text)) problems.push(`${what}: shows "${text}"`);
  if (want === null) return;
  const got = parseNumbers(text.replace(/∂\w*/g, ''));
  if (got.length !== want.length || got.some((g, i) => !close(g, want[i]))) problems.push(`${what}: shows "${text.trim()}", the CLI has ${want.map((w) => w.toPrecision(5)).join(', ')}`);
}

interface Face { id: number; value: string; grad: string; collapsed: boolean }

/** Every drawn node's face texts, read in the webview in one go. */
async function faces(wb: Workbench): Promise<Face[]> {
  return (await wb.view().locator('#app').evaluate((app: any) => [...app.querySelectorAll('g.node[data-id]')].map((g: any) => ({
    id: Number(g.getAttribute('data-id')),
    value: g.querySelector('text.value')?.textContent ?? '',
    grad: g.querySelector('text.grad')?.textContent ?? '',
    collapsed: g.classList.contains('collapsed'),
  })))) as Face[];
}

/** Clicks a toolbar button unless it is disabled (Last at the last step already). */
async function press(wb: Workbench, id: string): Promise<void> {
  const b = wb.testId(id);
  if ((await b.getAttribute('aria-disabled')) !== 'true') await b.click();
}

/** Node faces against the snapshot: the drawn nodes' values and (all steps taken) gradients. */
async function checkFaces(wb: Workbench, s: GraphSnapshot, label: string, problems: string[]): Promise<number> {
  await press(wb, 'step-last');
  const shown = (await faces(wb)).filter((f) => !f.collapsed);
  assert.ok(shown.length > 0, `${label}: no nodes drawn`);
  for (const f of shown) {
    const n = s.nodes[f.id];
    if (!n) {
      problems.push(`${label}: a drawn node #${f.id} the CLI snapshot does not have`);
      continue;
    }
    const who = `${label} ${n.name ?? n.op}#${n.id}`;
    agrees(`${who} value`, f.value, faceNumbers(n.value, n.stats, n.size), problems);
    if (n.gradStats) agrees(`${who} gradient`, f.grad, faceNumbers(n.grad, n.gradStats, n.size), problems);
  }
  return shown.length;
}

const chainText = async (wb: Workbench) => (await wb.testId('chain-rule').innerText()).replace(/\s+/g, ' ').trim();
const expectedChain = (s: GraphSnapshot, step: number) => {
  const c = backwardChain(s, step)!;
  return [c.title, ...c.lines].join(' ').replace(/\s+/g, ' ').trim();
};

/** The chain-rule box at backward step 1 (the output's) and at the last step, as the CLI snapshot writes them. */
async function checkChain(wb: Workbench, s: GraphSnapshot, label: string, problems: string[]): Promise<void> {
  if (s.backward.length === 0) return;
  if (await wb.testId('mode-backward').count()) await press(wb, 'mode-backward');
  await press(wb, 'step-first');
  for (const step of [1, s.backward.length]) {
    if (step === s.backward.length) await press(wb, 'step-last');
    else {
      // the first position is 0/N (nothing sent back yet) or the output's own step 1/N
      const at = await wb.until('a step label', async () => (await wb.testId('step-label').textContent())?.match(/(\d+)\s*\/\s*\d+/)?.[1]);
      if (at === '0') await press(wb, 'step-next');
    }
    const want = expectedChain(s, step);
    const got = await wb.until(`${label}: the chain rule of backward step ${step}`, async () => {
      const t = await chainText(wb);
      return t.startsWith(`Backward ${step}/`) ? t : null;
    });
    if (got !== want) problems.push(`${label} chain rule at step ${step}:\n        panel: ${got}\n        CLI:   ${want}`);
    if (/\[\]/.test(got)) problems.push(`${label} chain rule at step ${step} shows an empty tensor: ${got}`);
  }
}

/** The inspector's value and gradient tables of one tensor node (up to 64 elements) against the CLI's payloads. */
async function checkInspector(wb: Workbench, s: GraphSnapshot, drawn: Set<number>, label: string, problems: string[]): Promise<void> {
  const n = s.nodes.find((x) => drawn.has(x.id) && x.op !== 'leaf' && x.size >= 2 && x.size <= 64 && x.grad) ?? s.nodes.find((x) => drawn.has(x.id) && x.size >= 2 && x.size <= 64);
  if (!n) return;
  // selected from the keyboard (a node may be outside the panel's viewport for a pointer)
  const node = wb.view().locator(`g.node[data-id="${n.id}"]`).first();
  await node.focus();
  await node.press('Enter');
  const table = (which: string) => wb.view().locator(`table.values-${which} td`);
  await wb.until(`${label}: the inspector's table for ${n.name ?? n.op}#${n.id}`, async () => (await table('value').count()) === n.size);
  for (const [which, payload] of [['value', n.value], ['grad', n.grad]] as const) {
    if (!payload) continue;
    const cells = await table(which).allTextContents();
    const bad = cells.map((c, i) => (parseNumbers(c).length === 1 && close(parseNumbers(c)[0], payload[i]) ? null : `[${i}] "${c}" vs ${payload[i]}`)).filter(Boolean);
    if (cells.length !== payload.length || bad.length) problems.push(`${label} inspector ${which} of ${n.name ?? n.op}#${n.id}: ${cells.length} cells for ${payload.length} values; ${bad.slice(0, 4).join(', ')}`);
  }
  // one element's chain rule (TypeScript files: their ops can be applied again in the panel): the
  // terms through each op that uses the tensor add up to the element's gradient in the CLI snapshot
  if (!label.endsWith('.py') && n.grad && n.id !== s.output) {
    const e = n.size - 1;
    await wb.view().locator(`table.values-grad td[data-index="${e}"]`).click();
    await wb.view().locator(`[data-testid="element-chain"][data-element="${e}"]`).waitFor({ timeout: 10_000 });
    const totals = await wb.view().locator('[data-testid="element-terms"]').evaluateAll((els) => els.map((x) => Number(x.getAttribute('data-total'))));
    const sum = totals.reduce((a, b) => a + b, 0);
    if (!totals.length || !close(sum, n.grad[e])) problems.push(`${label} element ${e} of ${n.name ?? n.op}#${n.id}: its chain rule's terms add up to ${sum} (${totals.join(' + ')}), the CLI's gradient is ${n.grad[e]}`);
  }
}

/** The lecture's f(x) = x·sin(x²) + 1: the output's inspector draws the tangent at x = −2, its slope the CLI's ∂f/∂x. */
async function checkTangent(wb: Workbench, s: GraphSnapshot, label: string, problems: string[]): Promise<void> {
  const x = s.nodes.find((n) => n.name === 'x');
  const node = wb.view().locator(`g.node[data-id="${s.output}"]`).first();
  await node.focus();
  await node.press('Enter');
  const tangent = wb.view().locator('[data-testid="tangent"]');
  await tangent.waitFor({ timeout: 10_000 });
  const slope = Number(await tangent.getAttribute('data-slope'));
  if (!x || x.scalarGrad === null || !close(slope, x.scalarGrad) || Math.abs(slope - -5.99) > 0.005) problems.push(`${label}: the tangent's slope is ${slope}, the CLI's ∂f/∂x is ${x?.scalarGrad}`);
  await scrollIntoView(tangent);
  await wb.screenshot('24-numbers-14-tangent');
}

/** Opens `file` alone and shows its graph; resolves once the panel has drawn it. */
async function showAlone(wb: Workbench, file: string): Promise<void> {
  await wb.runCommand('View: Close All Editors');
  await wb.openFile(file);
  await wb.runCommand('Backprop Lens: Show Graph');
  await wb.graphTab(file).waitFor({ state: 'visible', timeout: 30_000 });
  await wb.view().locator('#app[data-phase="ready"] g.node').first().waitFor({ timeout: 120_000 });
}

export async function caseNumbers(wb: Workbench, workspace: string): Promise<void> {
  // the TypeScript examples and the PyTorch ones (the CLI and the panel each find Python with torch)
  const examples = fs.readdirSync(workspace).filter((f) => /^\d\d-.*\.(ts|py)$/.test(f)).sort();
  const problems: string[] = [];
  let nodes = 0;
  for (const file of examples) {
    const s = cliSnapshot(path.join(workspace, file));
    await showAlone(wb, file);
    const drawn = await checkFaces(wb, s, file, problems);
    nodes += drawn;
    await checkChain(wb, s, file, problems);
    await checkInspector(wb, s, new Set((await faces(wb)).filter((f) => !f.collapsed).map((f) => f.id)), file, problems);
    if (file.startsWith('05-')) await wb.screenshot('19-numbers-05-deep-tanh');
    if (file.startsWith('14-')) await checkTangent(wb, s, file, problems);
    if (file.endsWith('.py')) assert.match((await wb.testId('status').textContent()) ?? '', /PyTorch \d/, `${file}: the status line names the PyTorch that ran`);
    if (file.startsWith('12-')) await wb.screenshot('21-numbers-12-pytorch-mlp');
  }
  console.log(`      ${examples.length} examples: ${nodes} drawn nodes, the chain rule at the first and last step, an inspector table each`);
  assert.deepEqual(problems, []);
}

/** A training file's graph in the panel at training steps 0, 1 and 5 against `trace --at-step N`. */
export async function caseNumbersAtSteps(wb: Workbench, workspace: string): Promise<void> {
  const file = '08-moons-mlp.ts';
  const problems: string[] = [];
  await showAlone(wb, file);
  for (const step of [0, 1, 5]) {
    const s = cliSnapshot(path.join(workspace, file), step);
    if (step > 0) {
      await wb.testId('view-training').click();
      await wb.testId('training-view').waitFor({ state: 'visible' });
      const taken = Number((await wb.view().locator('#app').getAttribute('data-train-step')) || 0);
      for (let k = taken; k < step; k++) {
        await wb.testId('train-step').click();
        await wb.view().locator(`#app[data-train-step="${k + 1}"]`).waitFor({ timeout: 30_000 });
      }
      await wb.testId('view-graph').click();
    }
    const label = `${file} at step ${step}`;
    await checkFaces(wb, s, label, problems);
    await checkChain(wb, s, label, problems);
    await checkInspector(wb, s, new Set((await faces(wb)).filter((f) => !f.collapsed).map((f) => f.id)), label, problems);
    if (step === 1) await wb.screenshot('20-numbers-08-step-1');
  }
  assert.deepEqual(problems, []);
}
