/**
 * Training controls: Run/Pause, Step, Reset, the optimizer, learning rate, schedule, steps and batch size
 * (sent as overrides with every action; the host applies them to the next run after a reset), and
 * the status line with a progress bar.
 */
import { OPTIMIZER_NAMES, SCHEDULE_PRESETS, SCHEDULE_PRESET_NOTES, type OptimizerName, type SchedulePreset, type TrainAction, type TrainOverrides, type TrainingInfo } from '../../extension/protocol';
import { button, el, setDisabled } from '../dom';
import { formatNumber } from '../format';
import type { Run } from './runs';

export interface ControlsEvents {
  action(action: TrainAction, overrides: TrainOverrides): void;
}

interface Field {
  input: HTMLInputElement;
  /** The value, or an explanation of why it is not valid. */
  parse(): number | string | null;
}

function numberField(testId: string, label: string, attrs: Record<string, string>, parse: (v: number) => string | null, onInput: () => void): { wrap: HTMLElement; field: Field } {
  const wrap = el('label', { class: 'tr-field' });
  const input = el('input', { type: 'number', class: 'tr-input', 'data-testid': testId, 'aria-label': label, ...attrs });
  input.addEventListener('input', onInput);
  wrap.append(el('span', { class: 'tr-field-label' }, label), input);
  return {
    wrap,
    field: {
      input,
      parse: () => {
        const text = input.value.trim();
        if (!text) return null;
        const v = Number(text);
        return Number.isFinite(v) ? parse(v) ?? v : `${label} must be a number`;
      },
    },
  };
}

const MAX_STEPS = 10_000_000;

export class TrainControls {
  readonly root: HTMLElement;
  private readonly run: HTMLElement;
  private readonly step: HTMLElement;
  private readonly reset: HTMLElement;
  private readonly optimizer: HTMLSelectElement;
  /** 'file' keeps the file's schedule; a preset replaces it (sized to the run's steps). */
  private readonly schedule: HTMLSelectElement;
  private readonly fileSchedule: HTMLOptionElement;
  private readonly fields: Record<'lr' | 'steps' | 'batchSize', Field>;
  private readonly batchWrap: HTMLElement;
  private readonly pending: HTMLElement;
  private readonly statusText: HTMLElement;
  private readonly backend: HTMLElement;
  private readonly progress: HTMLElement & { value?: number; max: number };
  private readonly settings: HTMLElement;
  private readonly buttons: HTMLElement;
  /** A PyTorch script that trains itself (TrainingInfo.watched): no settings to override. */
  private watched = false;
  private readonly reportNote: HTMLElement;
  private running = false;
  private error: string | null = null;

  constructor(private readonly events: ControlsEvents) {
    this.root = el('div', { class: 'tr-controls', role: 'toolbar', 'aria-label': 'Training controls' });
    this.run = button('play', 'Run', () => this.send(this.running ? 'pause' : 'run'), 'train-run', false);
    this.step = button('debug-step-over', 'Step', () => this.send('step'), 'train-step');
    this.reset = button('debug-restart', 'Reset', () => this.send('reset'), 'train-reset');
    this.step.title = 'Take one training step';
    this.reset.title = 'Back to the initial weights; the settings apply from here';
    this.optimizer = el('select', { class: 'tr-select', 'data-testid': 'train-optimizer', 'aria-label': 'Optimizer' });
    for (const name of OPTIMIZER_NAMES) this.optimizer.append(el('option', { value: name }, name));
    const opt = el('label', { class: 'tr-field' });
    opt.append(el('span', { class: 'tr-field-label' }, 'optimizer'), this.optimizer);
    this.schedule = el('select', { class: 'tr-select', 'data-testid': 'train-schedule', 'aria-label': 'Learning-rate schedule' });
    this.fileSchedule = el('option', { value: 'file' }, 'as in the file');
    this.schedule.append(this.fileSchedule);
    for (const name of SCHEDULE_PRESETS) this.schedule.append(el('option', { value: name }, name));
    this.schedule.title = SCHEDULE_PRESETS.filter((name) => name !== 'constant').map((name) => `${name}: ${SCHEDULE_PRESET_NOTES[name]}`).join(' · ');
    const sched = el('label', { class: 'tr-field' });
    sched.append(el('span', { class: 'tr-field-label' }, 'schedule'), this.schedule);
    const changed = () => this.validate();
    this.optimizer.addEventListener('change', changed);
    this.schedule.addEventListener('change', changed);
    const lr = numberField('train-lr', 'learning rate', { min: '0', step: 'any' }, (v) => (v < 0 || v > 1e6 ? 'learning rate must be between 0 and 1e6' : null), changed);
    const int = (name: string) => (v: number) => (!Number.isInteger(v) || v < 1 || v > MAX_STEPS ? `${name} must be a whole number from 1 to 10,000,000` : null);
    const steps = numberField('train-steps', 'steps', { min: '1', step: '1' }, int('steps'), changed);
    const batch = numberField('train-batch', 'batch size', { min: '1', step: '1' }, int('batch size'), changed);
    this.fields = { lr: lr.field, steps: steps.field, batchSize: batch.field };
    this.batchWrap = batch.wrap;
    this.pending = el('span', { class: 'tr-pending', 'data-testid': 'train-pending' }, 'changed: applies after Reset');
    this.pending.hidden = true;
    const buttons = (this.buttons = el('div', { class: 'tb-group' }));
    buttons.append(this.run, this.step, this.reset);
    const settings = (this.settings = el('div', { class: 'tr-settings' }));
    settings.append(opt, lr.wrap, sched, steps.wrap, batch.wrap, this.pending);
    const status = el('div', { class: 'tr-status' });
    this.statusText = el('span', { 'data-testid': 'train-status', role: 'status' });
    this.progress = document.createElement('vscode-progress-bar') as HTMLElement & { value?: number; max: number };
    this.progress.setAttribute('aria-label', 'Training progress');
    this.progress.classList.add('tr-progress');
    this.backend = el('span', { class: 'tr-backend', 'data-testid': 'train-backend' });
    status.append(this.statusText, this.progress, this.backend);
    this.reportNote = el('div', { class: 'tr-report-note', 'data-testid': 'train-report-note' },
      'A report: this run and the tools below were computed by backprop-lens report with these settings, after the last step. Open the file in VS Code to train it again.');
    this.reportNote.hidden = true;
    this.root.append(buttons, settings, status, this.reportNote);
  }

  /** The file's settings (a new trace): fill the inputs. A watched PyTorch script has none to override: the inputs are hidden. */
  setInfo(info: TrainingInfo): void {
    this.watched = !!info.watched;
    this.settings.hidden = this.watched;
    // a training log and a standalone report are finished runs to look at: nothing to run
    this.buttons.hidden = !!info.log || !!info.report;
    this.settings.inert = !!info.report;
    this.reportNote.hidden = !info.report;
    this.settings.classList.toggle('readonly', !!info.report);
    if (this.watched) {
      this.validate();
      return;
    }
    const name = String(info.optimizer.optimizer ?? 'sgd');
    this.optimizer.value = (OPTIMIZER_NAMES as readonly string[]).includes(name) ? name : 'sgd';
    const lr = info.optimizer.lr;
    this.fields.lr.input.value = typeof lr === 'number' ? String(lr) : '';
    this.schedule.value = 'file';
    this.fileSchedule.textContent = `as in the file (${info.schedule})`;
    this.fields.steps.input.value = String(info.steps);
    this.fields.batchSize.input.value = info.batchSize === null ? '' : String(info.batchSize);
    // without a dataset there are no batches
    this.batchWrap.hidden = info.batchSize === null;
    this.validate();
  }

  /** The settings in the inputs, as the host's overrides (null when one is invalid). */
  overrides(): TrainOverrides | null {
    if (this.watched) return {};
    const o: TrainOverrides = { optimizer: this.optimizer.value as OptimizerName };
    if (this.schedule.value !== 'file') o.schedule = this.schedule.value as SchedulePreset;
    for (const k of ['lr', 'steps', 'batchSize'] as const) {
      if (k === 'batchSize' && this.batchWrap.hidden) continue;
      const v = this.fields[k].parse();
      if (typeof v === 'string') return null;
      if (v !== null) o[k] = v;
    }
    return o;
  }

  private validate(): void {
    this.error = null;
    for (const f of Object.values(this.fields)) {
      const v = f.parse();
      const bad = typeof v === 'string';
      f.input.classList.toggle('invalid', bad);
      f.input.setAttribute('aria-invalid', String(bad));
      f.input.title = bad ? v : '';
      if (bad && !this.error) this.error = v;
    }
    this.onChange?.();
  }

  /** Called when an input changes (the view redraws the status). */
  onChange: (() => void) | null = null;

  private send(action: TrainAction): void {
    const o = this.overrides();
    if (!o && action !== 'pause') return;
    this.events.action(action, o ?? {});
  }

  render(run: Run | null, info: TrainingInfo | null): void {
    const status = run?.status ?? 'idle';
    this.running = status === 'running';
    this.run.setAttribute('icon', this.running ? 'debug-pause' : 'play');
    const finished = status === 'done' || status === 'stopped' || status === 'error';
    this.run.textContent = this.running ? 'Pause' : finished ? 'Run again' : status === 'paused' || (run?.step ?? 0) > 0 ? 'Resume' : 'Run';
    this.run.title = this.running ? 'Pause the training' : finished ? 'Train again from the initial weights' : this.watched ? 'Run the script and watch it train' : 'Run the training';
    const blocked = this.error !== null;
    setDisabled(this.run, blocked && !this.running);
    setDisabled(this.step, blocked || this.running || finished);
    setDisabled(this.reset, blocked);
    const step = run?.step ?? 0;
    const total = run?.total || run?.overrides.steps || info?.steps || 0;
    // a watched script's length is its own: the step count alone
    const parts = [this.watched ? `step ${step}` : `step ${step} / ${total}`];
    if (this.running && run) parts.push(`${run.stepsPerSecond >= 10 ? Math.round(run.stepsPerSecond).toLocaleString('en-US') : formatNumber(run.stepsPerSecond)} steps/s`);
    parts.push(status);
    const message = this.error ?? run?.message ?? null;
    this.statusText.textContent = message ? `${parts.join(' · ')} — ${message}` : parts.join(' · ');
    this.statusText.classList.toggle('error', !!this.error || status === 'error');
    this.progress.hidden = this.watched;
    this.progress.max = Math.max(1, total);
    this.progress.value = Math.min(step, total);
    this.pending.hidden = this.watched || !(run && step > 0 && this.differs(run, info));
    // a finished run's Run again starts over with the inputs; a run under way keeps its settings until Reset
    this.pending.textContent = finished ? 'changed: Run again uses it' : 'changed: applies after Reset';
    const b = run?.backend ?? null;
    this.backend.hidden = !b;
    this.backend.dataset.kind = b?.kind ?? '';
    const where = !b ? '' : b.kind === 'webgpu' ? `WebGPU · ${b.adapter ?? 'GPU'}` : b.kind === 'pytorch' ? `PyTorch${b.adapter ? ` ${b.adapter}` : ''}` : 'CPU';
    this.backend.textContent = !b ? '' : `${where}${b.note ? ` — ${b.note}` : ''}`;
    this.backend.title = b?.kind === 'webgpu' ? 'Training runs on the panel\'s GPU (the backpropLens.backend setting)' : b?.kind === 'pytorch' ? 'The script runs in Python; PyTorch computes, watch(model) reports' : 'Training runs on the CPU, in the model worker';
  }

  /** The inputs say something else than the run uses. */
  private differs(run: Run, info: TrainingInfo | null): boolean {
    const o = this.overrides();
    if (!o || !info) return false;
    const file: Record<string, unknown> = { optimizer: info.optimizer.optimizer, lr: info.optimizer.lr, steps: info.steps, batchSize: info.batchSize ?? undefined, schedule: undefined };
    const used: Record<string, unknown> = { ...file, ...run.overrides };
    return (Object.keys(o) as (keyof TrainOverrides)[]).some((k) => used[k] !== o[k]);
  }
}
