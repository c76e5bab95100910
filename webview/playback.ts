/**
 * The playback timer: while the state says `playing`, one `tick` every PLAY_MS / speed; the reducer
 * takes the step and stops at the last one.
 */
import type { Action, PanelState } from './state';

/** Time between played steps at speed 1×. */
export const PLAY_MS = 700;

export class Playback {
  private timer: ReturnType<typeof setInterval> | null = null;
  private speed = 0;

  constructor(private readonly dispatch: (a: Action) => void) {}

  /** Starts, restarts (a new speed) or stops the timer to match the state. */
  sync(s: Pick<PanelState, 'playing' | 'speed'>): void {
    if (s.playing && this.timer !== null && this.speed === s.speed) return;
    this.stop();
    if (!s.playing) return;
    this.speed = s.speed;
    this.timer = setInterval(() => this.dispatch({ type: 'tick' }), PLAY_MS / s.speed);
  }

  private stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}
