/** Small DOM helpers: text goes in as text, never as markup. */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== '') e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A text button with a codicon (`@vscode-elements` button). */
export function button(icon: string, label: string, onClick: () => void, testId?: string, secondary = true): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('icon', icon);
  if (secondary) b.setAttribute('secondary', '');
  if (testId) b.setAttribute('data-testid', testId);
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

/** An icon-only toolbar button (`@vscode-elements` toolbar button). */
export function toolButton(icon: string, label: string, testId: string, onClick: () => void): HTMLElement {
  const b = document.createElement('vscode-toolbar-button');
  b.setAttribute('icon', icon);
  b.setAttribute('label', label);
  b.setAttribute('title', label);
  b.setAttribute('data-testid', testId);
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

/** Disables a `vscode-button` (or an input) for pointer and keyboard, and says so to screen readers. */
export function setDisabled(e: HTMLElement, off: boolean): void {
  e.toggleAttribute('disabled', off);
  e.setAttribute('aria-disabled', String(off));
}
