"""`watch(model, every=50, log_dir=None)`: per-layer health of the user's own PyTorch training loop.

What it records is engine/train/watch-records.ts: `watch-start`; one `watch-step` per optimizer step
with the loss, the learning rate and the global L2 norm of the model's gradients; on the first step
and every `every`-th the step's `layers` (the engine's LayerStats, with the update/weight ratio);
`watch-end`. Records go to the runner (BPL_FD: `python -m backprop_lens train`, VS Code, the CLI)
and, with `log_dir`, to `<log_dir>/backprop-lens.jsonl`. With neither, under the tracer (Show Graph)
and on a torch.distributed rank other than 0, watch() does nothing.

How, in PyTorch 1.13 (no optimizer hooks, no post-accumulate-grad hooks):
- A step is an optimizer step. `step` is wrapped on the torch.optim.Optimizer classes (a class
  defined later when its first instance is made) and on the optimizers whose `step` was replaced
  per instance (an lr_scheduler made before watch() does that); only optimizers that
  hold the model's parameters count. Optimizers made before watch() are looked for where its caller
  holds them, and in the whole heap (gc) only if none holds the model at the first backward(). A
  loop with no such optimizer (a hand-written update) counts each backward() as a step.
- torch.autograd.backward (which Tensor.backward calls) is wrapped: the scalar it is called on is
  the step's loss, unless `.log(loss)` gave one.
- A step that is not recorded costs a counter check, a detach of the loss and the gradients' norm,
  both kept on the device and read in batches (at most every FLUSH_S seconds).
- For a recorded step a global module forward hook, from the step before until the step's first
  backward(), notes the outputs of the model's leaf modules, with a hook on the autograd node of
  each for its gradient (not register_full_backward_hook, which fails with ReLU(inplace=True) in
  1.13, nor a tensor hook, which stays with the node before an in-place activation). The
  summaries are taken right before the update, on the tensors' device; the layers' weights are
  copied then, for ‖Δw‖/‖w‖ after it.
- A step's record is completed when the next step starts (its backward() or optimizer step) or the
  run ends, so a `.log(loss)` after `optimizer.step()` still belongs to it. That is also where the
  runner's pause, single steps and stop take effect.
"""
import atexit
import functools
import gc
import inspect
import math
import os
import platform
import re
import select
import sys
import threading
import time
import weakref

import torch

from . import layers as L
from .protocol import Channel, encode, runner_fd
from .stats import fetch
from .patching import patch

WATCH_VERSION = 1
LOG_NAME = 'backprop-lens.jsonl'
# the longest a finished step's record waits before it is sent (steps in between go together)
FLUSH_S = 0.1

_active = None    # the Watcher that records now
_session = None   # set by `python -m backprop_lens train`: the runner's channel and controls
_started = False  # whether this process started a watcher


class StopTraining(BaseException):
    """The runner's stop, raised at the next step from the script's own backward() or step() (a
    BaseException, so the script's `except Exception:` does not catch it)."""


class Controls:
    """Pause, resume, single steps and stop from the runner, applied at step boundaries."""

    def __init__(self):
        self.cond = threading.Condition()
        self.paused = False
        self.allow = 0   # steps still to run while paused
        self.stop = False

    def handle(self, msg):
        t = msg.get('type') if isinstance(msg, dict) else None
        with self.cond:
            if t == 'pause':
                self.paused = True
                self.allow = 0
            elif t == 'resume':
                self.paused = False
                self.allow = 0
            elif t == 'step':
                n = msg.get('count', 1)
                if self.paused and isinstance(n, int) and not isinstance(n, bool) and n > 0:
                    self.allow += n
            elif t == 'stop':
                self.stop = True
            self.cond.notify_all()

    def eof(self):
        """The runner is gone: a paused script goes on rather than wait forever."""
        with self.cond:
            self.paused = False
            self.cond.notify_all()

    def checkpoint(self, before_wait):
        """Between two steps: raises StopTraining when asked to stop; while paused, lets the next
        step run if single steps were asked for (each step that starts uses one, whenever the
        request came), else waits (after `before_wait()`, which sends what is pending) until
        resumed, stopped or given steps."""
        if not (self.paused or self.stop):
            return
        with self.cond:
            if self.stop:
                raise StopTraining()
            if not self.paused:
                return
            if self.allow == 0:
                before_wait()
                while self.paused and self.allow == 0 and not self.stop:
                    self.cond.wait()
                if self.stop:
                    raise StopTraining()
            if self.paused and self.allow > 0:
                self.allow -= 1  # the step about to start is one of those asked for


class Session:
    """`python -m backprop_lens train`: the runner's channel and its controls."""

    def __init__(self, channel, controls):
        self.channel = channel
        self.controls = controls


def read_controls(controls, fd=0, initial=b''):
    """Reads the runner's control lines (JSON) from `fd`: `initial` (read from it already) and what
    is there, before the script starts (a run started paused is paused from its first step), then
    the rest on a thread."""
    import json
    state = {'buf': b''}

    def feed(data):
        buf = state['buf'] + data
        *lines, state['buf'] = buf.split(b'\n')
        for line in lines:
            if line.strip():
                try:
                    controls.handle(json.loads(line))
                except ValueError:
                    pass

    feed(initial)
    try:
        while select.select([fd], [], [], 0)[0]:
            data = os.read(fd, 65536)
            if not data:
                controls.eof()
                return
            feed(data)
    except (OSError, ValueError):
        return

    def loop():
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b''
            if not data:
                controls.eof()
                return
            feed(data)

    threading.Thread(target=loop, name='backprop-lens-controls', daemon=True).start()


def begin_session(channel, controls):
    """`python -m backprop_lens train`: watch() sends to the runner's channel and obeys its controls."""
    global _session
    _session = Session(channel, controls)


def active():
    """The Watcher recording now, or None."""
    return _active


class _NoWatch:
    """What watch() returns when nothing records (plain python, Show Graph, a rank other than 0)."""

    def log(self, loss):
        return None

    def close(self):
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NOOP = _NoWatch()


def watch(model, every=50, log_dir=None):
    """Records the training of `model`: every optimizer step's loss, learning rate and gradient norm,
    and every `every` steps (and at the first) each layer's weights, gradients, activations and
    their gradients and the update/weight ratio. Run by Backprop Lens (Train, or `backprop-lens train
    script.py`) the records go to the training view; with `log_dir` they are appended to
    `<log_dir>/backprop-lens.jsonl` (Backprop Lens: Open Training Log). Otherwise it does nothing.
    Returns a handle: `.log(loss)` gives the step's loss (else the scalar `.backward()` was called
    on is taken), `.close()` ends the recording (else the end of the script does)."""
    global _active, _started
    if not isinstance(model, torch.nn.Module):
        raise TypeError('watch() takes the torch.nn.Module that trains, got %s' % type(model).__name__)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError('watch(every=...) takes a whole number of steps of at least 1, got %r' % (every,))
    from . import recorder
    if recorder.current() is not None:
        return _NOOP  # Show Graph traces one pass; training is watched by Train
    rank, world = _distributed()
    if rank != 0:
        return _NOOP
    if _active is not None:
        if _active.model is model:
            return _active
        raise RuntimeError('watch() is already watching a %s: call .close() on the handle it returned before watching another model.'
                           % type(_active.model).__name__)
    channel = _session.channel if _session is not None else (Channel() if runner_fd() is not None else None)
    log = None
    if log_dir is not None:
        os.makedirs(os.fspath(log_dir), exist_ok=True)
        log = open(os.path.join(os.fspath(log_dir), LOG_NAME), 'ab')
    if channel is None and log is None:
        return _NOOP
    caller = sys._getframe(1)
    w = Watcher(model, every, channel, log, _session.controls if _session is not None else None,
                _variable_name(model, caller), rank, world)
    w.caller = caller
    _active = w
    _started = True
    try:
        w.start()
    finally:
        w.caller = caller = None
    return w


def _distributed():
    try:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
    except Exception:
        pass
    return 0, 1


def _variable_name(obj, frame):
    """The name the calling code binds `obj` to (`model`), else 'model'."""
    if frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            for k, v in list(scope.items()):
                if v is obj and not k.startswith('_'):
                    return k
    return 'model'


_ASSIGN = {}


def _module_sources(model, names):
    """Where each submodule was made, when the code says it plainly: the `self.<attr> = …` line in
    its parent's class (a class in the user's files). id(module) -> (file, line, column)."""
    from . import locate
    from . import source as sources
    out = {}
    for parent in model.modules():
        try:
            file = inspect.getsourcefile(type(parent))
        except (TypeError, OSError):
            continue
        if not file or not locate.is_user_file(file):
            continue
        file = os.path.abspath(file)
        lines = _ASSIGN.get(file)
        if lines is None:
            lines = _ASSIGN[file] = (sources.read(file) or '').split('\n')
        for attr, child in parent.named_children():
            if not attr.isidentifier() or id(child) in out:
                continue
            pattern = re.compile(r'\bself\.%s\s*(?::[^=]*)?=(?!=)' % re.escape(attr))
            for i, text in enumerate(lines):
                m = pattern.search(text)
                if m:
                    out[id(child)] = (file, i + 1, m.start() + 1)
                    break
    return out


def _optimizers_near(frame):
    """The optimizers the code that called watch() holds: its variables (local and global), and
    one level into them (attributes, items: `self.optimizer`, `optimizers[0]`)."""
    if frame is None:
        return []
    Optimizer = torch.optim.Optimizer
    found = {}
    values = list(frame.f_locals.values())
    if frame.f_globals is not frame.f_locals:
        values += list(frame.f_globals.values())
    for v in values:
        if isinstance(v, Optimizer):
            found[id(v)] = v
            continue
        if isinstance(v, (type, torch.Tensor)) or inspect.ismodule(v):
            continue
        if isinstance(v, dict):
            inner = list(v.values()) if len(v) <= 1000 else []
        elif isinstance(v, (list, tuple)):
            inner = list(v) if len(v) <= 1000 else []
        else:
            d = getattr(v, '__dict__', None)
            inner = list(d.values()) if isinstance(d, dict) and len(d) <= 1000 else []
        for u in inner:
            if isinstance(u, Optimizer):
                found[id(u)] = u
    return list(found.values())


def _all_subclasses(cls):
    out = []
    stack = [cls]
    while stack:
        c = stack.pop()
        out.append(c)
        try:
            stack.extend(c.__subclasses__())
        except TypeError:  # pragma: no cover - type.__subclasses__ needs an argument
            pass
    return out


class _GradSlot:
    """Keeps the gradient arriving at a module's output: a post-hook on the autograd node that made
    the output, reading the gradient of that output (a hook on the tensor itself would stay with the
    node the tensor had when first hooked: after ReLU(inplace=True) it would see the gradient
    before the activation)."""
    __slots__ = ('grads', 'i', 'nr')

    def __init__(self, grads, i, nr=None):
        self.grads = grads
        self.i = i
        self.nr = nr

    def __call__(self, *args):
        if self.nr is None:
            self.grads[self.i] = args[0]  # a tensor hook (an output with no autograd node)
        else:
            grad_outputs = args[1]
            if self.nr < len(grad_outputs):
                self.grads[self.i] = grad_outputs[self.nr]


def _number(v):
    return 'null' if v is None else repr(float(v))


def _finite(v):
    """`v` with non-finite floats as None (strict JSON)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v


def _encode(r):
    """A record as a JSON line; a step without layers (most of them) formatted directly."""
    if r.get('type') != 'watch-step' or 'layers' in r:
        try:
            return encode(r)
        except ValueError:  # a non-finite number the summaries did not catch
            return encode(_finite(r))
    return ('{"type":"watch-step","step":%d,"loss":%s,"lr":%s,"gradNorm":%s,"time":%s}\n' % (
        r['step'], _number(r['loss']), _number(r['lr']), _number(r['gradNorm']), _number(r['time']))).encode()


def _scalar(v):
    """A loss as watch keeps it: a detached one-element tensor, or a float."""
    if isinstance(v, torch.Tensor):
        if v.numel() != 1:
            raise ValueError('log() takes the loss, one number; got a tensor of shape %s (reduce it with .mean() or .sum())' % list(v.shape))
        return v.detach()
    return float(v)


class Watcher:
    """The handle watch() returns while it records."""

    def __init__(self, model, every, channel, log, controls, name, rank, world):
        self.model = model
        self.every = every
        self.channel = channel
        self.log_file = log
        self.controls = controls
        self.name = name
        self.rank = rank
        self.world = world
        self.steps = 0
        self.closed = False
        self.buffer = []          # finished records not yet sent
        self.last_flush = time.monotonic()
        self.pending = None       # the last step's record, completed when the next step starts
        self.pending_logged = False
        self.pending_ratio = None  # a backward-counted step's (layers, weights): ‖Δw‖ after the hand-written update
        self.logged = None        # .log() for the step in progress
        self.bw_loss = None       # the scalar this step's backward() was called on (detached)
        self.bw_root = None       # weakref to it: `.log(loss)` of the step that just ended
        self.opened = False       # a backward() ran since the last step ended
        self.in_backward = False
        self.lr = None
        self.covers = weakref.WeakKeyDictionary()  # optimizer -> whether it holds the model's parameters
        self.uses_optimizer = False
        self.depth = 0            # inside a wrapped step (super().step(), instance and class wrappers)
        self.record_this = True   # the step in progress is recorded (layers): the first, then every `every`-th
        self.capturing = False
        self.calls = []
        self.outs = []
        self.out_grads = {}
        self.leaf_ids = set()
        self._hook = None
        self._undo = []
        self._crash = None
        self.sinks_failed = set()
        self.warned = set()
        self.searched = False     # the heap was searched for optimizers
        self.caller = None        # the frame that called watch() (until start())

    # -- the model ------------------------------------------------------------------------------
    def _index(self):
        m = self.model
        self.names = {id(mod): path for path, mod in m.named_modules(prefix=self.name)}
        self.named_params = [(n, p) for n, p in m.named_parameters(prefix=self.name) if p.requires_grad]
        self.params = [p for _, p in self.named_params]
        self.param_ids = {id(p) for p in m.parameters()}
        try:
            self.sources = _module_sources(m, self.names)
        except Exception:  # pragma: no cover - where a layer was made is extra
            self.sources = {}

    def start(self):
        self._index()
        self._install()
        main = sys.modules.get('__main__')
        file = getattr(main, '__file__', None) or (sys.argv[0] if sys.argv else '')
        self.buffer.append({
            'type': 'watch-start', 'version': WATCH_VERSION, 'file': os.path.abspath(file) if file else '',
            'model': type(self.model).__name__, 'every': self.every,
            'params': sum(p.numel() for p in self.params),
            'torch': torch.__version__, 'python': {'executable': sys.executable, 'version': platform.python_version()},
            'rank': self.rank, 'world': self.world, 'time': time.time(),
        })
        self.flush()
        self._arm()

    # -- patches --------------------------------------------------------------------------------
    def _patch(self, owner, name, value):
        patch(owner, name, value, self._undo, keep_if_replaced=True)

    def _install(self):
        w = self
        orig_backward = torch.autograd.backward

        @functools.wraps(orig_backward)
        def backward(tensors, *args, **kwargs):
            if _active is not w or w.in_backward:
                return orig_backward(tensors, *args, **kwargs)
            w._before_backward(tensors)
            w.in_backward = True
            try:
                r = orig_backward(tensors, *args, **kwargs)
            finally:
                w.in_backward = False
            w._after_backward()
            return r
        self._patch(torch.autograd, 'backward', backward)

        Optimizer = torch.optim.Optimizer
        for cls in _all_subclasses(Optimizer):
            self._wrap_class(cls)
        orig_init = Optimizer.__dict__['__init__']

        @functools.wraps(orig_init)
        def __init__(opt, *args, **kwargs):
            orig_init(opt, *args, **kwargs)
            if _active is w:
                for cls in type(opt).__mro__:
                    if issubclass(cls, Optimizer):
                        self._wrap_class(cls)
                w._covers(opt)
        self._patch(Optimizer, '__init__', __init__)

        # optimizers made before watch(): which hold the model, and those whose step an
        # lr_scheduler replaced per instance (its wrapper calls the class's step of that time).
        # Looked for where the code that called watch() holds them; the whole heap is searched
        # only if, at the first backward(), no optimizer holds the model (_find_optimizers).
        for o in _optimizers_near(self.caller):
            self._known(o)
        self.caller = None

        if self.controls is None:
            prev = sys.excepthook

            def excepthook(t, v, tb):
                w._crash = '%s: %s' % (t.__name__, v) if str(v) else t.__name__
                return prev(t, v, tb)
            self._patch(sys, 'excepthook', excepthook)
        atexit.register(self._at_exit)
        self._undo.append(lambda: atexit.unregister(self._at_exit))

    def _wrap_class(self, cls):
        f = cls.__dict__.get('step')
        if f is None or not callable(f) or getattr(f, '_bpl_watch', None) is self:
            return
        w = self

        @functools.wraps(f)
        def step(opt, *args, **kwargs):
            if w.depth or _active is not w:
                return f(opt, *args, **kwargs)
            return w._optimizer_step(f, opt, args, kwargs)
        step._bpl_watch = self
        self._patch(cls, 'step', step)

    def _wrap_instance(self, opt):
        f = opt.__dict__.get('step')
        if f is None or not callable(f) or getattr(f, '_bpl_watch', None) is self:
            return
        w = self
        ref = weakref.ref(opt)

        @functools.wraps(f)
        def step(*args, **kwargs):
            o = ref()
            if w.depth or _active is not w or o is None:
                return f(*args, **kwargs)
            return w._optimizer_step(lambda _o, *a, **k: f(*a, **k), o, args, kwargs)
        step._bpl_watch = self
        self._patch(opt, 'step', step)

    def _known(self, opt):
        self._covers(opt)
        self._wrap_instance(opt)

    def _find_optimizers(self):
        """Every optimizer in the process (gc; tens of milliseconds, once)."""
        self.searched = True
        Optimizer = torch.optim.Optimizer
        for o in gc.get_objects():
            if issubclass(type(o), Optimizer):
                self._known(o)

    def _covers(self, opt):
        c = self.covers.get(opt)
        if c is None:
            try:
                c = any(id(p) in self.param_ids for g in opt.param_groups for p in g['params'])
            except Exception:
                c = False
            try:
                self.covers[opt] = c
            except TypeError:  # pragma: no cover - not weakly referenceable
                pass
            if c:
                self.uses_optimizer = True
        return c

    # -- steps ----------------------------------------------------------------------------------
    def _optimizer_step(self, f, opt, args, kwargs):
        if not self._covers(opt):
            self.depth += 1
            try:
                return f(opt, *args, **kwargs)
            finally:
                self.depth -= 1
        self._boundary()  # a step with no backward() since the last one: the last one is complete
        try:
            self.lr = float(opt.param_groups[0]['lr'])
        except Exception:
            self.lr = None
        grad_norm = self._grad_norm()
        layers = self._safe_layers() if self.record_this else None
        self.depth += 1
        try:
            out = f(opt, *args, **kwargs)
        finally:
            self.depth -= 1
        if layers is not None:
            self._ratios(*layers)
        self._end_step(grad_norm, layers[0] if layers is not None else None)
        return out

    def _before_backward(self, tensors):
        self._boundary()
        root = tensors
        if not isinstance(root, torch.Tensor) and isinstance(root, (list, tuple)) and len(root) == 1:
            root = root[0]
        if isinstance(root, torch.Tensor) and root.numel() == 1:
            self.bw_loss = root.detach()
            self.bw_root = weakref.ref(root)
        self.opened = True
        if self.capturing:
            self._stop_capture()

    def _after_backward(self):
        if not self.uses_optimizer and not self.searched:
            self._find_optimizers()
        if self.uses_optimizer:
            return
        # no optimizer holds the model: this backward() is the step; its update comes after it
        grad_norm = self._grad_norm()
        layers = self._safe_layers() if self.record_this else None
        self._end_step(grad_norm, layers[0] if layers is not None else None)
        if layers is not None:
            self.pending_ratio = layers

    def _end_step(self, grad_norm, layers):
        self.steps += 1
        rec = {'type': 'watch-step', 'step': self.steps, 'loss': None, 'lr': self.lr, 'gradNorm': grad_norm, 'time': time.time()}
        if layers is not None:
            rec['layers'] = layers
        if self.logged is not None:
            rec['loss'] = self.logged
            self.pending_logged = True
        else:
            rec['loss'] = self.bw_loss
            self.pending_logged = False
        self.logged = None
        self.bw_loss = None
        self.opened = False
        self.pending = rec
        self.record_this = (self.steps + 1) % self.every == 0
        if self.record_this:
            self._arm()

    def _boundary(self, controls=True):
        """A new step starts (or the run ends): the last step's record is complete."""
        rec = self.pending
        if rec is None:
            return
        self.pending = None
        if self.pending_ratio is not None:
            layers = self.pending_ratio
            self.pending_ratio = None
            self._ratios(*layers)
        self.buffer.append(rec)
        if 'layers' in rec or time.monotonic() - self.last_flush >= FLUSH_S:
            self.flush()
        c = self.controls
        if controls and c is not None and (c.paused or c.stop):
            c.checkpoint(self.flush)

    def log(self, loss):
        """The loss of the step in progress (it wins over the scalar backward() was called on). Called
        after `optimizer.step()`, before the next step's backward(), it is the loss of the step that
        just ended, unless that step has one from log() already or `loss` is a new tensor of the
        next step's forward pass."""
        if self.closed:
            return None
        v = _scalar(loss)
        fresh = (isinstance(loss, torch.Tensor) and loss.grad_fn is not None
                 and (self.bw_root is None or self.bw_root() is not loss))
        if self.pending is not None and not self.opened and not self.pending_logged and not fresh:
            self.pending['loss'] = v
            self.pending_logged = True
        else:
            self.logged = v
        return None

    def _grad_norm(self):
        """The gradients' global L2 norm: a float, or the per-parameter norms (0-d tensors on the
        device, one call), summed when the record is sent."""
        grads = [p.grad for p in self.params if p.grad is not None]
        if not grads:
            return None
        try:
            return list(torch._foreach_norm(grads))
        except Exception:  # sparse gradients, no _foreach_norm
            try:
                vals = fetch([torch.linalg.vector_norm(g.detach().coalesce().values() if g.is_sparse else g.detach()).to(torch.float64) for g in grads])
                return math.sqrt(sum(v * v for v in vals))
            except Exception:
                return None

    # -- layers ---------------------------------------------------------------------------------
    def _arm(self):
        """Notes the next forward pass's leaf-module outputs (a recorded step)."""
        from torch.nn.modules import module as nn_module
        self._stop_capture()
        self.calls = []
        self.outs = []
        self.out_grads = {}
        self.leaf_ids = {id(m) for m in self.model.modules() if not m._modules}
        self._hook = nn_module.register_module_forward_hook(self._forward_hook)
        self.capturing = True

    def _stop_capture(self):
        self.capturing = False
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    def _forward_hook(self, module, inputs, output):
        if not self.capturing or id(module) not in self.leaf_ids or not torch.is_grad_enabled():
            return None
        i = len(self.outs)
        if isinstance(output, torch.Tensor):
            self.outs.append(output)
            fn = output.grad_fn
            if fn is not None:
                fn.register_hook(_GradSlot(self.out_grads, i, output.output_nr))
            elif output.requires_grad:
                output.register_hook(_GradSlot(self.out_grads, i))
        else:
            self.outs.append(None)
        self.calls.append((module, i))
        return None

    def _safe_layers(self):
        """_layers(), or None when they cannot be taken: watch must never break the training."""
        try:
            return self._layers()
        except Exception as e:
            self._stop_capture()
            self.calls, self.outs, self.out_grads = [], [], {}
            self._warn('layers', 'the layer summaries of step %d could not be taken (%s: %s); the steps go on without them' % (self.steps + 1, type(e).__name__, e))
            return None

    def _layers(self):
        """The step's LayerStats, before the update; returns (layers, [(weight, copy)])."""
        self._stop_capture()
        groups = L.group_calls(self.calls)
        layers = []
        weights = []
        covered = set()
        for depth, g in enumerate(groups):
            m = g['module']
            params = g['params']
            i = g['output']
            t = L._type(m)
            layers.append(L.layer_entry(
                self.names.get(id(m)) or t, t, depth, g['activation'], params[0].detach(), [p.grad for p in params],
                self.outs[i] if i is not None else None, self.out_grads.get(i), self.sources.get(id(m)), fast=True))
            weights.append(params[0])
            covered.update(id(p) for p in params)
        for name, p in self.named_params:
            if id(p) not in covered and p.grad is not None:
                layers.append(L.layer_entry(name, 'param', len(layers), None, p.detach(), [p.grad], None, None, None, fast=True))
                weights.append(p)
        self.calls = []
        self.outs = []
        self.out_grads = {}
        return layers, [(p, p.detach().clone()) for p in weights]

    def _ratios(self, layers, weights):
        """‖w_after − w_before‖ / ‖w_before‖ of each layer's weight over the update."""
        if not weights:
            return
        try:
            diffs = fetch([torch.linalg.vector_norm((p.detach() - before).reshape(-1).to(torch.float64)) for p, before in weights])
        except Exception:
            diffs = [None] * len(weights)
        for entry, d in zip(layers, diffs):
            w = entry.get('weight')
            n = w.get('norm') if w else None
            ok = isinstance(n, float) and n > 0 and d is not None and math.isfinite(d)
            entry['updateRatio'] = d / n if ok else None

    # -- sending --------------------------------------------------------------------------------
    def flush(self):
        buf = self.buffer
        self.last_flush = time.monotonic()
        if not buf:
            return
        self.buffer = []
        # the device values of all these records in one transfer: losses, and the per-parameter
        # gradient norms (of each record, summed here)
        tensors = []
        where = []
        for r in buf:
            v = r.get('loss')
            if isinstance(v, torch.Tensor):
                tensors.append(v)
                where.append((r, 'loss', 1))
            v = r.get('gradNorm')
            if isinstance(v, list):
                tensors.extend(v)
                where.append((r, 'gradNorm', len(v)))
        if tensors:
            try:
                vals = fetch(tensors)
            except Exception:
                vals = [None] * len(tensors)
            i = 0
            for r, k, n in where:
                part = vals[i:i + n]
                i += n
                if k == 'loss':
                    r[k] = part[0]
                else:
                    r[k] = None if any(v is None for v in part) else math.sqrt(sum(v * v for v in part))
        for r in buf:
            for k in ('loss', 'gradNorm', 'lr'):
                v = r.get(k)
                if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v)):
                    r[k] = None  # strict JSON: a NaN loss is sent as unknown (the layers' stats count NaN and Inf)
        self._write(buf)

    def _write(self, records):
        data = b''.join(_encode(r) for r in records)
        if self.channel is not None and 'channel' not in self.sinks_failed:
            try:
                self.channel.write(data)
            except OSError as e:
                self._sink_failed('channel', 'the Backprop Lens runner', e)
        if self.log_file is not None and 'log' not in self.sinks_failed:
            try:
                self.log_file.write(data)
                self.log_file.flush()
            except (OSError, ValueError) as e:
                self._sink_failed('log', self.log_file.name, e)

    def _sink_failed(self, which, what, e):
        self.sinks_failed.add(which)
        self._warn(which, 'cannot write to %s (%s); no more records go there' % (what, e))

    def _warn(self, key, text):
        """Says on stderr what watch could not do, once per kind of problem."""
        if key in self.warned:
            return
        self.warned.add(key)
        try:
            sys.stderr.write('backprop_lens.watch: %s.\n' % text)
        except Exception:  # pragma: no cover
            pass

    # -- the end --------------------------------------------------------------------------------
    def close(self, reason='finished'):
        """Ends the recording: the last step's record, then `watch-end`. Idempotent."""
        global _active
        if self.closed:
            return None
        self.closed = True
        try:
            self._stop_capture()
            self._boundary(controls=False)
            self.flush()
            self._write([{'type': 'watch-end', 'steps': self.steps, 'reason': reason, 'time': time.time()}])
        finally:
            for undo in reversed(self._undo):
                try:
                    undo()
                except Exception:  # pragma: no cover
                    pass
            self._undo.clear()
            if _active is self:
                _active = None
            if self.log_file is not None:
                try:
                    self.log_file.close()
                except OSError:  # pragma: no cover
                    pass
        return None

    def _at_exit(self):
        self.close('error: %s' % self._crash if self._crash else 'finished')

    def __enter__(self):
        return self

    def __exit__(self, t, v, tb):
        if t is None:
            self.close()
        elif issubclass(t, StopTraining):
            self.close('stopped')
        else:
            self.close('error: %s: %s' % (t.__name__, v) if str(v) else 'error: %s' % t.__name__)
        return False
