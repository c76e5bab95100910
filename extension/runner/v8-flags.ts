/**
 * V8 options a model process sets on itself when it starts, before any model code runs.
 *
 * The cumulative inlining budget. V8 inlines callees into an optimized function until their
 * bytecode adds up to 920 bytes. An op on the scalar tape (engine/tape.ts: the operand checks, the
 * row, the handle's constructor, the op's own function) is about 600 of them, and micrograd-style
 * code calls two or three ops on one line (`act = add(act, mul(w, x))`), all inlined into the
 * user's function: at 920 V8 left the handle's constructor out (every handle then goes through the
 * generic construct stub) or the op's function, and the scalar MLP step's forward pass took 2.8 ms
 * instead of 2.1 (`npm run bench`, case c). The tensor cases (a, b, d) run the same with it.
 *
 * Set with v8.setFlagsFromString, not on the command line: a flag this V8 does not know is
 * reported there and ignored, where on the command line it would stop the process.
 */
import * as v8 from 'node:v8';

export const MODEL_V8_FLAGS: readonly string[] = ['--max-inlined-bytecode-size-cumulative=2000'];

/** Sets MODEL_V8_FLAGS on this process, and says so in BACKPROP_LENS_V8_FLAGS (a worker started after it inherits that). */
export function applyModelV8Flags(): void {
  for (const flag of MODEL_V8_FLAGS) v8.setFlagsFromString(flag);
  process.env.BACKPROP_LENS_V8_FLAGS = MODEL_V8_FLAGS.join(' ');
}
