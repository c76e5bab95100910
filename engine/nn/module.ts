/**
 * nn.Module: a container of parameters and submodules with PyTorch's naming. Fields that hold
 * parameters, modules, or arrays of them are discovered automatically, so
 * `this.layers = [new Linear(2, 4)]` yields the parameter `layers.0.weight`. Every op run inside
 * `forward` is tagged with the module's scope path (e.g. `mlp.layers.0`) for the graph view.
 */
import { Tensor } from '../tensor';
import { getScope, withScope } from '../ops/context';
import { IndexError, ShapeError } from '../errors';
import type { Rng } from '../random';

type Child = Module | Tensor;

/** Called with every module call's output (the layer summaries of training and diagnosis use it). */
export type ModuleHook = (module: Module, output: unknown) => void;
let moduleHook: ModuleHook | null = null;

/** @internal Installs a hook for module outputs; returns a function that restores the previous one. */
export function setModuleHook(hook: ModuleHook | null): () => void {
  const previous = moduleHook;
  moduleHook = hook;
  return () => {
    moduleHook = previous;
  };
}

export abstract class Module {
  /** Training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  /** Name of this module when it is the root of a call (defaults to its class name in lowerCamelCase). */
  name: string | null = null;
  private scopePath: string | null = null;

  constructor() {
    // Wrap the subclass's forward (already on the prototype chain) so its ops carry this scope.
    const forward = this.forward as (...args: unknown[]) => Tensor;
    Object.defineProperty(this, 'forward', {
      enumerable: false, configurable: true, writable: true,
      value: (...args: unknown[]) => {
        if (getScope() === null) this.assignPaths(this.name ?? defaultName(this));
        let out: Tensor;
        try {
          out = withScope(this.scopePath, () => forward.apply(this, args));
        } catch (err) {
          // the innermost layer with parameters names itself on a shape error (see ErrorLayer)
          if ((err instanceof ShapeError || err instanceof IndexError) && err.layer === undefined) {
            const source = this.entries().map(([, c]) => (c instanceof Tensor ? c.source : null)).find((loc) => loc !== null) ?? null;
            if (source) err.layer = { path: this.scopePath, source: { file: source.file, line: source.line, column: source.column } };
          }
          throw err;
        }
        if (moduleHook !== null) moduleHook(this, out);
        return out;
      },
    });
    Object.defineProperty(this, 'scopePath', { enumerable: false, writable: true, value: null });
  }

  /** The computation of this module. */
  abstract forward(...inputs: unknown[]): Tensor;

  /** Dotted path of this module in the model (`mlp.layers.0`), set on the first forward call. */
  get path(): string | null {
    return this.scopePath;
  }

  /** Whether this module contains other modules (a container) or only parameters (a layer). */
  get isContainer(): boolean {
    return this.entries().some(([, c]) => c instanceof Module);
  }

  /** Names this module for the graph view (the root of `mlp.layers.0.weight`). */
  named(name: string): this {
    this.name = name;
    return this;
  }

  /** Direct children: [field name, module or parameter], arrays expanded as `field.i`. */
  protected entries(): [string, Child][] {
    const out: [string, Child][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (key === 'training' || key === 'name') continue;
      if (value instanceof Module || (value instanceof Tensor && value.isParam)) out.push([key, value]);
      else if (Array.isArray(value)) {
        value.forEach((v, i) => {
          if (v instanceof Module || (v instanceof Tensor && v.isParam)) out.push([`${key}.${i}`, v]);
        });
      }
    }
    return out;
  }

  /** Parameters with their dotted paths relative to this module, e.g. `layers.0.weight`. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const walk = (m: Module, p: string) => {
      for (const [key, child] of m.entries()) {
        const path = p ? `${p}.${key}` : key;
        if (child instanceof Module) walk(child, path);
        else if (!seen.has(child)) {
          seen.add(child);
          out.push([path, child]);
        }
      }
    };
    walk(this, prefix);
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Submodules with their dotted paths (this module first, with path ''). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [key, child] of this.entries()) {
      if (child instanceof Module) out.push(...child.namedModules(prefix ? `${prefix}.${key}` : key));
    }
    return out;
  }

  /**
   * Tensors this module keeps that are not trained, such as batch norm's running statistics, with
   * their dotted paths (PyTorch's `named_buffers()`).
   */
  namedBuffers(prefix = ''): [string, Tensor][] {
    return this.namedModules(prefix).flatMap(([path, m]) => ownBuffers(m).map(([key, t]): [string, Tensor] => [path ? `${path}.${key}` : key, t]));
  }

  /** @internal The random generators this module draws from while training (dropout's masks). */
  generators(): Rng[] {
    return [];
  }

  /** Total number of trainable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Switches training mode on (default) or off, recursively. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: dropout off, batch norm uses running statistics. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of all parameters. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Sets scope paths below `path` and names unnamed parameters after their field. */
  private assignPaths(path: string): void {
    this.scopePath = path;
    for (const [key, child] of this.entries()) {
      if (child instanceof Module) child.assignPaths(`${path}.${key}`);
      else {
        child.scope = path;
        if (child.name === null) child.name = key;
      }
    }
  }
}

/**
 * What running a module can change besides its parameters: each module's mode, its buffers (the
 * tensor each field holds, and its values) and its random generators. Returns a function that puts
 * all of it back, as often as it is called.
 */
export function saveModuleState(root: Module): () => void {
  const modules = root.namedModules().map(([, m]) => m);
  const modes = modules.map((m) => m.training);
  const buffers = modules.flatMap((m) => ownBuffers(m).map(([key, t]) => [m, key, t, Float64Array.from(t.data as ArrayLike<number>)] as const));
  const rngs = modules.flatMap((m) => m.generators().map((r) => [r, r.getState()] as const));
  return () => {
    modules.forEach((m, i) => (m.training = modes[i]));
    for (const [m, key, t, values] of buffers) {
      (m as unknown as Record<string, Tensor>)[key] = t;
      t.data.set(values);
    }
    for (const [r, state] of rngs) r.setState(state);
  };
}

/** A module's own fields that hold a tensor that is not a parameter. */
function ownBuffers(m: Module): [string, Tensor][] {
  return Object.entries(m).filter((e): e is [string, Tensor] => e[1] instanceof Tensor && !e[1].isParam);
}

function defaultName(m: Module): string {
  const cls = m.constructor.name || 'model';
  // MLP → mlp, MyNet → myNet, RNNCell → rnnCell
  const caps = /^[A-Z]+/.exec(cls)?.[0] ?? '';
  if (caps.length <= 1 || caps.length === cls.length) return cls.length === caps.length ? cls.toLowerCase() : cls.charAt(0).toLowerCase() + cls.slice(1);
  return cls.slice(0, caps.length - 1).toLowerCase() + cls.slice(caps.length - 1);
}
