/**
 * One training run's lifecycle, as a pure reducer shared by every side that drives or follows a
 * run: the worker loop (model process), the runner (host, its watchdog), the GPU run on the host
 * (`GpuRun`) and in the panel (`PanelGpuRun`), and the panel's `TrainingSession`. Each holds one
 * `RunState` and changes it only through `reduce`, so "where the run is" means the same everywhere.
 *
 * Two kinds of holder use it. A driver takes the steps itself (worker loop, panel GPU run): `pause`
 * takes effect between steps, and it reports `halted` when it stands still. A follower forwards
 * controls to a driver and learns from its reports (runner, GpuRun, session): its `paused` state
 * stays unsettled (the driver may still be inside a step) until the driver's report says `halted`.
 *
 * No imports: it loads in the webview bundle, the worker and the extension host alike.
 */

export type RunState =
  | { readonly kind: 'idle' }
  /** Loading (the file, the plan, the device); what the user asked meanwhile is applied on `started`. */
  | { readonly kind: 'starting'; readonly paused: boolean; readonly steps: number }
  | { readonly kind: 'running' }
  /** `settled`: the driver confirmed it stands still (no step is in progress). */
  | { readonly kind: 'paused'; readonly settled: boolean }
  /** Paused, taking `remaining` single steps asked for (then paused again). */
  | { readonly kind: 'stepping'; readonly remaining: number }
  /** The last step was taken, or the run was stopped with its result; `stoppedEarly`: the spec's reason. */
  | { readonly kind: 'done'; readonly stoppedEarly?: string }
  | { readonly kind: 'failed'; readonly error: string }
  | { readonly kind: 'cancelled' };

export type RunStateKind = RunState['kind'];

export type RunEvent =
  /** The run is asked to start, running or paused. */
  | { readonly type: 'start'; readonly paused: boolean }
  /** Loading ended: the run can take steps. */
  | { readonly type: 'started' }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  /** Take `count` single steps (while paused; a running run ignores it, as it steps anyway). */
  | { readonly type: 'step'; readonly count: number }
  /** A driver took one of the single steps asked for. */
  | { readonly type: 'stepped' }
  /** The driver stands still: paused, every step asked for taken. */
  | { readonly type: 'halted' }
  | { readonly type: 'finished'; readonly stoppedEarly?: string }
  | { readonly type: 'failed'; readonly error: string }
  | { readonly type: 'cancel' };

export type RunEventType = RunEvent['type'];

export const RUN_STATE_KINDS = ['idle', 'starting', 'running', 'paused', 'stepping', 'done', 'failed', 'cancelled'] as const satisfies readonly RunStateKind[];
export const RUN_EVENT_TYPES = ['start', 'started', 'pause', 'resume', 'step', 'stepped', 'halted', 'finished', 'failed', 'cancel'] as const satisfies readonly RunEventType[];

/** A run that has not started. */
export const IDLE: RunState = { kind: 'idle' };

const RUNNING: RunState = { kind: 'running' };
const PAUSED_UNSETTLED: RunState = { kind: 'paused', settled: false };
const PAUSED_SETTLED: RunState = { kind: 'paused', settled: true };
const CANCELLED: RunState = { kind: 'cancelled' };

/** A step count as asked: a whole number ≥ 1 (anything else asks for one step). */
function stepCount(count: number): number {
  return Number.isFinite(count) && count >= 1 ? Math.floor(count) : 1;
}

/**
 * The state after `event`. Pure and total: an event that does not apply in `state` (a `resume` of
 * a running run, anything after the end, a `start` of a run that started) returns `state` itself,
 * the same object, so a holder can tell "nothing changed" with `===`. Terminal states never change.
 */
export function reduce(state: RunState, event: RunEvent): RunState {
  switch (state.kind) {
    case 'idle':
      switch (event.type) {
        case 'start': return { kind: 'starting', paused: event.paused, steps: 0 };
        // a run refused, or closed, before it started
        case 'failed': return { kind: 'failed', error: event.error };
        case 'cancel': return CANCELLED;
        default: return state;
      }
    case 'starting':
      switch (event.type) {
        case 'started':
          return !state.paused ? RUNNING : state.steps > 0 ? { kind: 'stepping', remaining: state.steps } : PAUSED_UNSETTLED;
        case 'pause': return state.paused ? state : { kind: 'starting', paused: true, steps: state.steps };
        case 'resume': return state.paused ? { kind: 'starting', paused: false, steps: 0 } : state;
        case 'step': return state.paused ? { kind: 'starting', paused: true, steps: state.steps + stepCount(event.count) } : state;
        default: return ended(state, event);
      }
    case 'running':
      switch (event.type) {
        case 'pause': return PAUSED_UNSETTLED;
        default: return ended(state, event);
      }
    case 'paused':
      switch (event.type) {
        case 'resume': return RUNNING;
        case 'step': return { kind: 'stepping', remaining: stepCount(event.count) };
        case 'halted': return state.settled ? state : PAUSED_SETTLED;
        default: return ended(state, event);
      }
    case 'stepping':
      switch (event.type) {
        case 'resume': return RUNNING;
        case 'step': return { kind: 'stepping', remaining: state.remaining + stepCount(event.count) };
        case 'stepped': return state.remaining > 1 ? { kind: 'stepping', remaining: state.remaining - 1 } : PAUSED_UNSETTLED;
        case 'halted': return PAUSED_SETTLED;
        // pause: the steps asked for are still taken
        default: return ended(state, event);
      }
    case 'done':
    case 'failed':
    case 'cancelled':
      return state;
    default: {
      const never: never = state;
      return never;
    }
  }
}

/** The end events of a live run; anything else leaves it as it is. */
function ended(state: RunState, event: RunEvent): RunState {
  switch (event.type) {
    case 'finished': return event.stoppedEarly === undefined ? { kind: 'done' } : { kind: 'done', stoppedEarly: event.stoppedEarly };
    case 'failed': return { kind: 'failed', error: event.error };
    case 'cancel': return CANCELLED;
    default: return state;
  }
}

/** Started (or starting) and not ended: controls apply, resources are held. */
export function isLive(s: RunState): boolean {
  return s.kind === 'starting' || s.kind === 'running' || s.kind === 'paused' || s.kind === 'stepping';
}

/** Ended for good: done, failed or cancelled. */
export function isTerminal(s: RunState): boolean {
  return s.kind === 'done' || s.kind === 'failed' || s.kind === 'cancelled';
}

/** The run's code may be running now, so the watchdog times it: loading, running, stepping, a pause not yet confirmed. */
export function isTimed(s: RunState): boolean {
  return s.kind === 'starting' || s.kind === 'running' || s.kind === 'stepping' || (s.kind === 'paused' && !s.settled);
}

/** A driver in this state takes steps (running, or the single steps asked for). */
export function takesSteps(s: RunState): boolean {
  return s.kind === 'running' || s.kind === 'stepping';
}

/** Paused, or to start paused: what a progress report's `paused` says (a run taking single steps is not paused). */
export function isPaused(s: RunState): boolean {
  return s.kind === 'paused' || (s.kind === 'starting' && s.paused);
}
