/**
 * What `watch(model)` in a user's own PyTorch training loop records (python/backprop_lens/watch.py):
 * the contract between it and the engine. Records are JSON lines, sent to the runner (file
 * descriptor 3 when run from VS Code or the CLI) or appended to `<log_dir>/backprop-lens.jsonl`.
 * The engine turns them into the same loss history, layer summaries and diagnosis a TypeScript
 * training run has (watch.ts): one diagnosis, whichever side trained.
 */
import type { LayerStats } from '../stats/layers';

export const WATCH_VERSION = 1;

/** The first record of a watched run. */
export interface WatchStart {
  type: 'watch-start';
  version: typeof WATCH_VERSION;
  /** The script that trains (absolute path), and the model's class name. */
  file: string;
  model: string;
  /** Layer summaries are taken every `every` optimizer steps. */
  every: number;
  /** Trainable parameters (elements). */
  params: number;
  torch: string;
  python: { executable: string; version: string };
  /** torch.distributed's rank and world size (only rank 0 records); 0 and 1 without it. */
  rank: number;
  world: number;
  /** Wall-clock time (seconds since the epoch). */
  time: number;
}

/** One watched step: every step's loss (when known), and the layer summaries every `every` steps. */
export interface WatchStep {
  type: 'watch-step';
  /** Optimizer steps taken so far (1 after the first update). */
  step: number;
  /** The loss of this step: `watch(...).log(loss)`, or the tensor `.backward()` was called on. */
  loss: number | null;
  /** The learning rate of the optimizer's first parameter group, when watch saw the optimizer. */
  lr: number | null;
  /** Global L2 norm of the parameters' gradients at this step, before the update. */
  gradNorm: number | null;
  /**
   * Per-layer health at this step (only on every `every`-th step), as the engine's LayerStats,
   * input side first, with `updateRatio` (‖Δw‖/‖w‖ of the layer's weight over this step's update).
   */
  layers?: LayerStats[];
  time: number;
}

/** The last record: how the run ended. */
export interface WatchEnd {
  type: 'watch-end';
  steps: number;
  /** finished, or why it stopped (the script raised, was interrupted). */
  reason: string;
  time: number;
}

export type WatchRecord = WatchStart | WatchStep | WatchEnd;
