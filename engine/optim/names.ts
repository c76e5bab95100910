/** The optimizer names (no other imports: the webview's protocol module reads these). */
export type OptimizerName = 'sgd' | 'adagrad' | 'rmsprop' | 'adadelta' | 'adam' | 'adamw' | 'adamax' | 'nadam';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adagrad', 'rmsprop', 'adadelta', 'adam', 'adamw', 'adamax', 'nadam'];
