/**
 * Global state every op consults: whether gradients are tracked, which composite op and module
 * scope we are inside, and the hooks a tracer installs. Kept in one place so it is easy to audit.
 */
import type { Tensor } from '../tensor';

/** A composite op invocation (softmax, mse, linear…): the nodes created inside it point to it. */
export interface GroupFrame {
  readonly id: number;
  readonly name: string;
  readonly parent: GroupFrame | null;
}

export interface OpHooks {
  /** Called for every node an op creates while gradients or tracing are on (not inside backward). */
  onNode?(node: Tensor): void;
  /** Called for every leaf a factory creates (tensor, scalar, param, full, randn…): the tracer locates and names it. */
  onLeaf?(leaf: Tensor): void;
}

let gradEnabled = true;
let currentGroup: GroupFrame | null = null;
let currentScope: string | null = null;
let nextGroupId = 1;
let hooks: OpHooks = {};
let hooksSuspended = 0;
let substitutes: ReadonlyMap<Tensor, Tensor> | null = null;
/** See `isPlainRecording`; recomputed by `refresh` whenever the state above changes. */
let plain = true;

function refresh(): void {
  plain = gradEnabled && currentGroup === null && currentScope === null && substitutes === null && (hooksSuspended > 0 || hooks.onNode === undefined);
}

/**
 * Whether an op recorded now is recorded plainly: gradients on, outside every composite and module
 * scope, no tracer watching nodes, no substitution. The scalar tape's fast path (tape.ts) needs
 * nothing more than this one read.
 */
export function isPlainRecording(): boolean {
  return plain;
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording gradients (like `torch.no_grad()`); returns what `fn` returns. */
export function noGrad<T>(fn: () => T): T {
  return setGradEnabled(false, fn);
}

/** Runs `fn` with gradient tracking forced on or off. */
export function setGradEnabled<T>(enabled: boolean, fn: () => T): T {
  const saved = gradEnabled;
  gradEnabled = enabled;
  refresh();
  try {
    return fn();
  } finally {
    gradEnabled = saved;
    refresh();
  }
}

/** Runs `fn` as the named composite op: every node it creates is tagged with this group. */
export function composite<T>(name: string, fn: () => T): T {
  const saved = currentGroup;
  currentGroup = { id: nextGroupId++, name, parent: saved };
  refresh();
  try {
    return fn();
  } finally {
    currentGroup = saved;
    refresh();
  }
}

export function getGroup(): GroupFrame | null {
  return currentGroup;
}

/** Runs `fn` inside a module scope path such as `mlp.layers.0`. */
export function withScope<T>(scope: string | null, fn: () => T): T {
  const saved = currentScope;
  currentScope = scope;
  refresh();
  try {
    return fn();
  } finally {
    currentScope = saved;
    refresh();
  }
}

export function getScope(): string | null {
  return currentScope;
}

/** Installs hooks (the tracer does); returns a function that restores the previous ones. */
export function setHooks(next: OpHooks): () => void {
  const saved = hooks;
  hooks = next;
  refresh();
  return () => {
    hooks = saved;
    refresh();
  };
}

/** The hooks installed now (to install more beside them). */
export function currentHooks(): OpHooks {
  return hooks;
}

/** Tells the tracer (if any) that a factory created a leaf. */
export function announceLeaf(leaf: Tensor): Tensor {
  if (hooksSuspended === 0 && hooks.onLeaf) hooks.onLeaf(leaf);
  return leaf;
}

/**
 * Runs `fn` with some tensors standing in for others (PyTorch's functional_call, at the level of
 * tensors): every op given a tensor of the map computes with its substitute instead, and reading
 * the tensor's values (`.data`, `.item()`, `.detach()`) gives the substitute's. The tensors
 * themselves are untouched. The gradient check runs the user's loss on float64 copies this way.
 */
export function withSubstitutes<T>(map: ReadonlyMap<Tensor, Tensor>, fn: () => T): T {
  const saved = substitutes;
  substitutes = map;
  refresh();
  try {
    return fn();
  } finally {
    substitutes = saved;
    refresh();
  }
}

/** The tensor that stands in for `t` (see withSubstitutes), or `t`. */
export function substituteOf(t: Tensor): Tensor {
  return substitutes === null ? t : substitutes.get(t) ?? t;
}

export function isSubstituting(): boolean {
  return substitutes !== null;
}

/**
 * Whether the nodes an op creates now go unseen: no gradients recorded, no tracer, no substitution.
 * A composite may then compute its result with one fused kernel instead of its ops (conv2d does).
 */
export function isUnobserved(): boolean {
  return !gradEnabled && substitutes === null && (hooksSuspended > 0 || hooks.onNode === undefined);
}

export function getHooks(): OpHooks | null {
  return hooksSuspended > 0 ? null : hooks;
}

/**
 * Enters backward-pass mode without a closure (hot path): grad mode as given, hooks suspended.
 * Returns the previous grad mode for `exitBackwardMode`.
 */
export function enterBackwardMode(createGraph: boolean): boolean {
  const saved = gradEnabled;
  gradEnabled = createGraph;
  hooksSuspended++;
  refresh();
  return saved;
}

export function exitBackwardMode(savedGradEnabled: boolean): void {
  gradEnabled = savedGradEnabled;
  hooksSuspended--;
  refresh();
}
