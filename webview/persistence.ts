/**
 * Persistence: the part of the panel state that survives a reload, kept through the host's
 * setState/getState (VS Code hands it to the panel serializer; a standalone report keeps it in
 * memory). What comes back from storage is checked before it is used.
 */
import { PLAY_SPEEDS, type UiState } from '../extension/protocol';
import { isPanelView, type PanelView } from './views';
import type { PanelState } from './state';

/**
 * The state the webview saves: the protocol's UiState plus the collapsed clusters (cluster keys such
 * as `group:3` or `scope:mlp.layers.0`; null until the first snapshot decided them) and the view
 * shown. The host only reads the UiState fields.
 */
export type SavedState = UiState & { collapsed: string[] | null; view?: PanelView };

/** The saved state, if it has the right shape (it comes from storage, so it is checked). */
export function readState(v: unknown): SavedState | null {
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Partial<SavedState>;
  if (s.mode !== 'forward' && s.mode !== 'backward') return null;
  if (typeof s.step !== 'number' || !(s.step >= 0)) return null;
  const t = s.transform;
  const transform = t && [t.x, t.y, t.k].every((n) => typeof n === 'number' && Number.isFinite(n)) && t.k > 0 ? { x: t.x, y: t.y, k: t.k } : null;
  return {
    file: typeof s.file === 'string' ? s.file : null,
    mode: s.mode,
    step: Math.floor(s.step),
    selected: typeof s.selected === 'number' && Number.isInteger(s.selected) && s.selected >= 0 ? s.selected : null,
    direction: s.direction === 'LR' ? 'LR' : 'TB',
    transform,
    collapsed: Array.isArray(s.collapsed) && s.collapsed.length <= 100_000 ? s.collapsed.filter((k): k is string => typeof k === 'string' && k.length <= 4096) : null,
    speed: (PLAY_SPEEDS as readonly unknown[]).includes(s.speed) ? s.speed : 1,
    view: isPanelView(s.view) ? s.view : 'graph',
  };
}

/** What to save of a panel state. Before the first snapshot the collapsed set is still the restored one's. */
export function savedState(s: PanelState): SavedState {
  return {
    file: s.file, mode: s.mode, step: s.step, selected: s.selected, direction: s.direction,
    transform: s.transform ? { ...s.transform } : null,
    collapsed: s.graph ? [...s.collapsed] : s.restored?.collapsed ?? null,
    speed: s.speed, view: s.view,
  };
}

/** Saves the panel state through the host whenever its saved part changes. */
export class Persistence {
  private last = '';

  /** `host`: the webview host's storage (host.ts). */
  constructor(private readonly host: { getState(): unknown; setState(s: UiState): void }) {}

  /** The state saved before a reload, checked; null when there is none (or it is not usable). */
  load(): SavedState | null {
    return readState(this.host.getState());
  }

  save(s: PanelState): void {
    const saved = savedState(s);
    const text = JSON.stringify(saved);
    if (text === this.last) return;
    this.last = text;
    this.host.setState(saved);
  }
}
