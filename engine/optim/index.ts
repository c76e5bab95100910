/**
 * Optimizers and learning-rate schedules, PyTorch-style. Each factory has two forms:
 *   optim.adam({ lr: 0.01 })          a spec for defineTraining (bound to the parameters later)
 *   optim.adam(model.parameters(), { lr: 0.01 })   an optimizer for a hand-written training loop
 */
import { Tensor } from '../tensor';
import { Optimizer, OPTIMIZER_NAMES, type BaseOptions, type OptimizerName } from './optimizer';
import {
  Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam, RMSprop, SGD,
  type AdadeltaOptions, type AdagradOptions, type AdamOptions, type NAdamOptions, type RMSpropOptions, type SGDOptions,
} from './optimizers';
import * as schedules from './schedules';

export { Optimizer, OPTIMIZER_NAMES, clipGradNorm, clipGradValue, globalNorm, type BaseOptions, type OptimizerName } from './optimizer';
export { SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW, Adamax, NAdam };
export type { SGDOptions, AdagradOptions, RMSpropOptions, AdadeltaOptions, AdamOptions, NAdamOptions };
export { schedules };
export type { Schedule, ScheduleKind } from './schedules';

interface OptionsOf {
  sgd: SGDOptions; adagrad: AdagradOptions; rmsprop: RMSpropOptions; adadelta: AdadeltaOptions;
  adam: AdamOptions; adamw: AdamOptions; adamax: AdamOptions; nadam: NAdamOptions;
}

const CLASSES: { [K in OptimizerName]: new (params: Iterable<Tensor>, opts?: OptionsOf[K]) => Optimizer } = {
  sgd: SGD, adagrad: Adagrad, rmsprop: RMSprop, adadelta: Adadelta, adam: Adam, adamw: AdamW, adamax: Adamax, nadam: NAdam,
};

/** An optimizer not yet bound to parameters: what defineTraining takes. */
export interface OptimizerSpec<K extends OptimizerName = OptimizerName> {
  readonly kind: 'optimizer-spec';
  readonly name: K;
  readonly options: Readonly<OptionsOf[K]>;
  create(params: Iterable<Tensor>): Optimizer;
}

/** Builds an optimizer spec by name (the CLI's --optimizer and the panel use this). */
export function spec<K extends OptimizerName>(name: K, options: OptionsOf[K] = {} as OptionsOf[K]): OptimizerSpec<K> {
  if (!OPTIMIZER_NAMES.includes(name)) throw new Error(`optim: unknown optimizer ${JSON.stringify(name)}; use one of ${OPTIMIZER_NAMES.join(', ')}`);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new Error(`optim.${name}: options must be an object such as { lr: 0.01 }`);
  const Cls = CLASSES[name];
  new Cls([], options); // validate now, where the user wrote it
  return Object.freeze({ kind: 'optimizer-spec' as const, name, options: Object.freeze({ ...options }), create: (params: Iterable<Tensor>) => new Cls(params, options) });
}

export function isOptimizerSpec(x: unknown): x is OptimizerSpec {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'optimizer-spec';
}

function isParamList(x: unknown): x is Iterable<Tensor> {
  if (Array.isArray(x)) return true; // the optimizer then says which element is not a parameter
  return typeof x === 'object' && x !== null && Symbol.iterator in x;
}

function factory<K extends OptimizerName>(name: K) {
  function make(options?: OptionsOf[K]): OptimizerSpec<K>;
  function make(params: Iterable<Tensor>, options?: OptionsOf[K]): Optimizer;
  function make(a?: Iterable<Tensor> | OptionsOf[K], b?: OptionsOf[K]): OptimizerSpec<K> | Optimizer {
    if (isParamList(a)) return new CLASSES[name](a, b);
    return spec(name, (a ?? {}) as OptionsOf[K]);
  }
  return make;
}

/** SGD: w ← w − lr·g; options momentum, dampening, nesterov, weightDecay (lr 0.01). */
export const sgd = factory('sgd');
/** Adagrad: lr/√(Σg²) per element; options lrDecay, initialAccumulatorValue, eps (lr 0.01). */
export const adagrad = factory('adagrad');
/** RMSprop: lr·g/√(mean g²); options alpha (0.99), eps, momentum, centered (lr 0.01). */
export const rmsprop = factory('rmsprop');
/** Adadelta: unit-correct steps from running RMS of updates and gradients; options rho, eps (lr 1). */
export const adadelta = factory('adadelta');
/** Adam with bias correction; options beta1 (0.9), beta2 (0.999), eps (1e-8), amsgrad (lr 0.001). */
export const adam = factory('adam');
/** AdamW: Adam with decoupled weight decay (weightDecay 0.01, lr 0.001). */
export const adamw = factory('adamw');
/** Adamax: Adam with the infinity norm (lr 0.002). */
export const adamax = factory('adamax');
/** NAdam: Adam with Nesterov momentum (lr 0.002, momentumDecay 0.004). */
export const nadam = factory('nadam');
