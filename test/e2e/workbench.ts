/**
 * Driving the VS Code workbench (code-server in Chromium) the way a user does: Quick Open, the command
 * palette, the status bar, the Problems panel, and the graph webview (an iframe inside an iframe).
 * Every wait is for a condition with a timeout; nothing sleeps for a fixed time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';

export const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', 'test-results', 'e2e');

/** Minus signs in the UI may be U+2212; numbers are compared as numbers. */
export function parseNumbers(text: string | null | undefined): number[] {
  const t = (text ?? '').replace(/\u2212/g, '-');
  return [...t.matchAll(/-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?/gi)].map((m) => Number(m[0]));
}

export function approx(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-3 * Math.max(1, Math.abs(b));
}

/**
 * Scrolls `target` into view. Monaco and the inspector may draw an element again while it settles
 * (a CodeLens or inline values arriving replace the editor's line elements): Playwright then finds
 * the element detached mid-scroll (seen in CI for the export line and the tangent card), so the
 * element that is there by then is scrolled, up to twice more.
 */
export async function scrollIntoView(target: Locator, timeout = 10_000): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await target.scrollIntoViewIfNeeded({ timeout });
      return;
    } catch (err) {
      if (tries >= 2 || !/not attached/.test(String(err))) throw err;
    }
  }
}

export class Workbench {
  constructor(readonly page: Page) {}

  async waitReady(timeout = 60_000): Promise<void> {
    await this.page.waitForSelector('.monaco-workbench', { timeout });
    // the status bar and the explorer appear once the workbench restored its layout
    await this.page.locator('.part.statusbar').waitFor({ timeout });
    await this.page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout });
  }

  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const file = path.join(SCREENSHOT_DIR, `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  private get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /**
   * Opens the quick input with `key` and types `text` once its input has the focus (a key pressed
   * while a webview has the focus reaches the workbench asynchronously), then waits until the input
   * holds exactly what was typed.
   */
  private async quickInputType(key: string, text: string, prefix = '', timeout = 15_000): Promise<void> {
    await this.page.keyboard.press(key);
    const input = this.quickInput.locator('input.input');
    await input.waitFor({ state: 'visible', timeout });
    await this.until('the quick input to take the focus', () => input.evaluate((el: any) => el.ownerDocument.activeElement === el), timeout);
    await this.page.keyboard.type(text);
    await this.until(`the quick input to read "${prefix}${text}"`, async () => (await input.inputValue()) === prefix + text, timeout);
  }

  /** Whether the keyboard focus is inside a webview (an iframe of the workbench page). */
  private async webviewHasFocus(): Promise<boolean> {
    return this.page.evaluate(() => (globalThis as any).document.activeElement?.tagName === 'IFRAME');
  }

  /**
   * Moves the focus from a webview to the first editor group (Ctrl+1). When a quick input closes it
   * gives the focus back to where it was, and if that was a webview its group would win over the
   * editor just opened.
   */
  async leaveWebview(): Promise<void> {
    if (!(await this.webviewHasFocus())) return;
    await this.page.keyboard.press('Control+1');
    await this.until('the focus to leave the webview', async () => !(await this.webviewHasFocus()));
  }

  /** Quick Open (Ctrl+P): type a file name, wait for it to be the focused entry, Enter; waits for its editor tab. */
  async openFile(name: string): Promise<void> {
    await this.leaveWebview();
    await this.quickInputType('Control+P', name);
    await this.quickInput.locator(`.monaco-list-row.focused[aria-label*="${name}"]`).first().waitFor({ state: 'visible' });
    await this.page.keyboard.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden' });
    await this.page.locator(`.editor-group-container.active .tab.active[data-resource-name="${name}"]`).waitFor();
    await this.editor().locator('.view-lines').waitFor();
  }

  /** F1, type the command's title, wait until the focused entry is exactly that command, Enter. */
  async runCommand(title: string, { timeout = 15_000 } = {}): Promise<void> {
    await this.quickInputType('F1', title, '>', timeout);
    const row = this.quickInput.locator('.monaco-list-row.focused').first();
    await this.page.waitForFunction(
      ([t]) => {
        const r = (globalThis as any).document.querySelector('.quick-input-widget .monaco-list-row.focused');
        const label = r?.querySelector('.label-name')?.textContent ?? r?.getAttribute('aria-label') ?? '';
        return label.replace(/\s+/g, ' ').trim().startsWith(t);
      },
      [title],
      { timeout },
    ).catch(async (e) => {
      const got = await row.getAttribute('aria-label').catch(() => null);
      throw new Error(`command palette: "${title}" not found (focused entry: ${got ?? 'none'}): ${(e as Error).message.split('\n')[0]}`);
    });
    await this.page.keyboard.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden', timeout });
  }

  /** The active text editor (Monaco) of the editor area. */
  editor(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor[data-uri], .editor-group-container.active .monaco-editor').first();
  }

  /** Focuses the text editor of `fileName` through Quick Open (keyboard only: no tab clicks that overlays could intercept). */
  async focusEditor(fileName: string): Promise<void> {
    await this.openFile(fileName);
    await this.page.locator('.editor-group-container.active .monaco-editor.focused').first().waitFor();
  }

  /** Go to line (Ctrl+G). */
  async goToLine(line: number, column?: number): Promise<void> {
    await this.quickInputType('Control+G', column ? `${line}:${column}` : String(line), ':');
    await this.page.keyboard.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden' });
    await this.waitCursor(line);
  }

  /** The status bar's cursor position, e.g. { line: 21, column: 7 }. */
  async cursor(): Promise<{ line: number; column: number } | null> {
    const t = await this.page.locator('#status\\.editor\\.selection').textContent({ timeout: 5000 }).catch(() => null);
    const m = /Ln\s+(\d+),\s*Col\s+(\d+)/.exec(t ?? '');
    return m ? { line: Number(m[1]), column: Number(m[2]) } : null;
  }

  async waitCursor(line: number, timeout = 15_000): Promise<void> {
    await this.page.locator('#status\\.editor\\.selection', { hasText: new RegExp(`Ln ${line},`) }).waitFor({ timeout });
  }

  /** Error/warning counts from the status bar's Problems item. */
  async problemCounts(): Promise<{ errors: number; warnings: number }> {
    const label = (await this.page.locator('#status\\.problems a, #status\\.problems').first().getAttribute('aria-label')) ?? '';
    const text = (await this.page.locator('#status\\.problems').first().textContent()) ?? '';
    const n = parseNumbers(label || text);
    return { errors: n[0] ?? 0, warnings: n[1] ?? 0 };
  }

  /** The Problems panel (opened with Ctrl+Shift+M). */
  async openProblems(): Promise<Locator> {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible().catch(() => false))) {
      await this.runCommand('View: Focus Problems');
    }
    await panel.waitFor({ state: 'visible' });
    return panel;
  }

  async closePanel(): Promise<void> {
    if (await this.page.locator('.part.panel').isVisible().catch(() => false)) await this.runCommand('View: Hide Panel');
  }

  /** The graph webview's document. */
  view(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  }

  /** The graph panel's editor tab. */
  graphTab(fileName: string): Locator {
    return this.page.locator(`.tabs-container .tab[aria-label*="Graph: ${fileName}"]`).first();
  }

  node(name: string): Locator {
    return this.view().locator(`g.node[data-name="${name}"]`).first();
  }

  testId(id: string): Locator {
    return this.view().locator(`[data-testid="${id}"]`).first();
  }

  /** Value and gradient texts of a named node (numbers parsed; null when the text is empty). */
  async nodeNumbers(name: string): Promise<{ value: number | null; grad: number | null; valueText: string; gradText: string }> {
    const n = this.node(name);
    const valueText = (await n.locator('text.value').first().textContent({ timeout: 2000 }).catch(() => '')) ?? '';
    const gradText = (await n.locator('text.grad').count()) ? ((await n.locator('text.grad').first().textContent()) ?? '') : '';
    const v = parseNumbers(valueText);
    const g = parseNumbers(gradText.replace(/∂\w*/g, ''));
    return { value: v.length ? v[v.length - 1] : null, grad: g.length ? g[g.length - 1] : null, valueText, gradText };
  }

  /**
   * Starts watching the panel's run phase (`#app[data-phase]`: running → ready | errors | untrusted);
   * `done()` resolves once a run that started after this call has finished.
   */
  async watchRun(): Promise<{ done: (timeout?: number) => Promise<string> }> {
    const app = this.view().locator('#app');
    await app.evaluate((el: any) => {
      el.__bplPhases = [];
      el.__bplObserver?.disconnect();
      el.__bplObserver = new (globalThis as any).MutationObserver(() => el.__bplPhases.push(el.dataset.phase));
      el.__bplObserver.observe(el, { attributes: true, attributeFilter: ['data-phase'] });
    });
    return {
      done: async (timeout = 60_000) => {
        const phases = await this.until('the panel to finish a run', async () => {
          const p = (await app.evaluate((el: any) => [...el.__bplPhases, el.dataset.phase])) as string[];
          const i = p.indexOf('running');
          return i >= 0 && p.slice(i + 1).some((x) => x !== 'running') && p[p.length - 1] !== 'running' ? p : null;
        }, timeout);
        return phases[phases.length - 1];
      },
    };
  }

  /**
   * What the workbench shows, in a few lines: the focused element, each editor group's tabs (the
   * active group and tab marked), the cursor item, open notifications and the quick input. Printed
   * when a case fails, so a failure on a machine whose screenshots are out of reach still says why.
   */
  async describe(): Promise<string> {
    // a string, not a function: tsx's keepNames would wrap named helpers in a __name the page lacks
    return this.page.evaluate(`(() => {
      const d = document;
      const text = (e) => (e?.textContent ?? '').replace(/\\s+/g, ' ').trim().slice(0, 160);
      const a = d.activeElement;
      const lines = ['focus: ' + (a?.tagName?.toLowerCase() ?? 'none') + (a?.className ? '.' + String(a.className).split(' ').slice(0, 3).join('.') : '') + (a?.getAttribute?.('aria-label') ? ' "' + a.getAttribute('aria-label').slice(0, 80) + '"' : '')];
      d.querySelectorAll('.editor-group-container').forEach((g, i) => {
        const tabs = [...g.querySelectorAll('.tab')].map((t) => (t.classList.contains('active') ? '*' : '') + (t.getAttribute('data-resource-name') ?? t.getAttribute('aria-label') ?? '?'));
        lines.push('group ' + (i + 1) + (g.classList.contains('active') ? ' (active)' : '') + ': ' + (tabs.join(', ') || 'empty'));
      });
      lines.push('cursor: ' + (text(d.querySelector('#status\\\\.editor\\\\.selection')) || 'not shown'));
      d.querySelectorAll('.notification-toast').forEach((n) => lines.push('notification: ' + text(n)));
      const q = d.querySelector('.quick-input-widget');
      if (q && q.style.display !== 'none' && q.offsetParent !== null) lines.push('quick input: ' + text(q));
      return lines.join('\\n');
    })()`);
  }

  /** Waits until `check` holds (polled), with a description for the failure message. */
  async until<T>(what: string | (() => string), check: () => Promise<T | null | undefined | false>, timeout = 20_000): Promise<T> {
    const deadline = Date.now() + timeout;
    let last: unknown = null;
    for (;;) {
      try {
        const v = await check();
        if (v) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${typeof what === 'function' ? what() : what}${last ? ` (${(last as Error).message?.split('\n')[0]})` : ''}`);
      await this.page.waitForTimeout(100); // polling interval
    }
  }
}

/**
 * Chromium flags for a page served through `webviewsOnOwnOrigin`: a page fulfilled by page.route has
 * no address, so Chromium would count it as public and refuse its WebSocket to 127.0.0.1.
 */
export const OWN_ORIGIN_CHROMIUM_ARGS = ['--disable-features=LocalNetworkAccessChecks'];

/**
 * Serves the webviews of the code-server at `port` as VS Code desktop and vscode.dev serve them: each
 * extension's webview type on an origin of its own. code-server puts every webview on the workbench's
 * origin; here its page is rewritten on the way to the browser so that its webview endpoint is
 * `http://{{uuid}}.localhost:PORT/...` (VS Code fills in `{{uuid}}` as vscode.dev fills in
 * `{{uuid}}.vscode-cdn.net`, with the 52-digit hash its webview page checks) and its frame-src allows it.
 */
export async function webviewsOnOwnOrigin(page: Page, port: string): Promise<void> {
  await page.route((u) => u.port === port && u.pathname === '/', async (route) => {
    const res = await route.fetch();
    const body = (await res.text()).replace(/(&quot;webviewEndpoint&quot;:&quot;)([^&]+)(&quot;)/, (_, a: string, rel: string, z: string) => `${a}http://{{uuid}}.localhost:${port}/${rel.replace(/^\.?\//, '')}${z}`);
    if (!body.includes(`{{uuid}}.localhost:${port}`)) throw new Error('the workbench page has no webviewEndpoint to rewrite');
    const headers = { ...res.headers() };
    delete headers['content-encoding']; // the body is decoded text now
    delete headers['content-length'];
    headers['content-security-policy'] = (headers['content-security-policy'] ?? '').replace('frame-src ', `frame-src http://*.localhost:${port} `);
    await route.fulfill({ response: res, body, headers });
  });
}
