/** The banner above the graph: why the model did not run (each error linked to its line), or Restricted Mode. */
import type { RunError, WebviewMessage } from '../extension/protocol';
import { button, el } from './dom';
import { basename } from './format';
import type { PanelState } from './state';

export class Banner {
  readonly root = el('div', { class: 'banner' });
  /** What the banner shows now (it is rebuilt only when that changes: a link in it keeps its focus). */
  private shown: unknown[] = [];

  constructor(private readonly post: (m: WebviewMessage) => void) {}

  render(st: Pick<PanelState, 'phase' | 'errors' | 'fileName' | 'graph'>): void {
    const what = [st.phase, st.errors, st.fileName, !!st.graph];
    if (what.every((x, i) => x === this.shown[i])) return;
    this.shown = what;
    this.root.replaceChildren();
    if (st.phase === 'errors') this.root.append(this.errors(st.errors, st.fileName, !!st.graph));
    else if (st.phase === 'untrusted') {
      const box = el('div', { class: 'untrusted', 'data-testid': 'untrusted', role: 'alert' });
      box.append(
        el('i', { class: 'codicon codicon-shield' }),
        el('span', {}, `Model code does not run in Restricted Mode. Trust this workspace to trace ${st.fileName || 'the model'}.`),
        button('workspace-trusted', 'Manage Workspace Trust', () => this.post({ type: 'manageTrust' }), 'manage-trust', false),
      );
      this.root.append(box);
    }
  }

  private errors(errors: readonly RunError[], fileName: string, showingOld: boolean): HTMLElement {
    const box = el('div', { class: 'errors', 'data-testid': 'errors', role: 'alert' });
    box.append(el('div', { class: 'banner-title' }, `The model did not run${showingOld ? ' (showing the previous graph)' : ''}`));
    const list = el('ul');
    for (const e of errors) {
      const where = `${basename(String(e.file ?? fileName))}${e.line ? `:${e.line}` : ''}`;
      const li = el('li');
      const loc = el('a', { href: '#', class: 'mono' }, where);
      loc.addEventListener('click', (ev) => {
        ev.preventDefault();
        if (e.file && e.line) this.post({ type: 'revealSource', file: e.file, line: e.line, column: Math.max(0, e.column ?? 0) });
      });
      li.append(loc, ` — ${String(e.message ?? '')}`);
      list.append(li);
    }
    box.append(list);
    return box;
  }
}
