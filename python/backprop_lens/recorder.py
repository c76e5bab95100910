"""Records what a PyTorch program does: every torch call that makes a tensor, as a node.

How, in PyTorch 1.13:
- a TorchFunctionMode sees torch functions, Tensor methods, operators and tensor properties. While
  its handler runs, the mode is popped, so the calls a torch function makes inside (cross_entropy's
  log_softmax and nll_loss) are not seen: a call the user wrote is one node.
- 1.13's mode misses `x[i]` for an index that is not a tuple and `x[i] = v` for a tensor value, so
  Tensor.__getitem__ and __setitem__ are wrapped while tracing.
- anything else the mode missed is filled in from autograd: a tensor with a grad_fn that no
  recorded call made becomes a node named after its grad_fn, its inputs the recorded tensors
  autograd's graph leads back to.
- global module forward pre/post hooks keep the stack of module paths (`model.layers.0`) for scopes
  and note each leaf module's output for the per-layer health.
- torch.autograd.backward (which Tensor.backward calls) is wrapped: its first call names the output
  and runs with a hook on every autograd node reachable from it, which records what autograd hands
  each node (grad_outputs) and what it sends along each edge (grad_inputs). Recording stops after
  that backward pass: nothing made later can be part of its graph; the next backward() (a training
  loop's second step) ends the file (EndOfTrace), so Show Graph on a training script is quick.
"""
import os
import sys
import threading

import torch
from torch.overrides import TorchFunctionMode

from . import locate
from .attrs import attrs_of, describe_index
from .errors import EndOfTrace, TooLarge
from .names import Namer
from .patching import patch

Tensor = torch.Tensor
Parameter = torch.nn.Parameter

_current = None
_DTYPES = {}
_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_OVERRIDES = os.sep + os.path.join('torch', 'overrides.py')


def current():
    return _current


class Node:
    __slots__ = ('id', 'op', 'leaf', 'inputs', 'attrs', 'tensor', 'version', 'grad_fn', 'output_nr', 'value',
                 'shape', 'dtype', 'device', 'scope', 'source', 'requires_grad', 'prev', 'used')

    def key(self):
        if self.grad_fn is not None:
            return ('f', id(self.grad_fn), self.output_nr)
        return ('a', id(self.tensor))


# what a call is
SKIP, OP, INPLACE, LIKE, ITER = range(5)

_SKIP_NAMES = {
    '__getitem__', '__setitem__', 'backward', 'register_hook', 'retain_grad', 'requires_grad_', '__repr__', '__str__',
    '__format__', 'numpy', 'tolist', 'item', '__array__', '__array_wrap__', '__len__', '__bool__', '__float__',
    '__int__', '__index__', '__complex__', '__hash__', '__reduce_ex__', '__deepcopy__', '__dir__', '__setstate__',
    'dim', 'ndimension', 'size', 'numel', 'nelement', 'stride', 'storage_offset', 'data_ptr', 'element_size',
    'is_contiguous', 'is_floating_point', 'is_complex', 'is_signed', 'get_device', 'storage', 'untyped_storage',
    '_storage', 'equal', 'allclose', 'is_nonzero', 'is_set_to', 'is_same_size', '__contains__', 'share_memory_',
    'record_stream', '_is_view', 'is_pinned', 'is_shared', 'has_names', '_typed_storage', '__reversed__',
}
_PROPERTIES = {'T', 'mT', 'H', 'mH', 'real', 'imag'}


def _classify(func):
    name = getattr(func, '__name__', None) or type(func).__name__
    if name == '__get__':
        prop = getattr(getattr(func, '__self__', None), '__name__', None)
        return (prop, OP) if prop in _PROPERTIES else (None, SKIP)
    if name in _SKIP_NAMES:
        return (name, SKIP)
    if name == '__iter__':
        return ('unbind', ITER)
    if name.endswith('_like') or name.startswith('new_'):
        return (name, LIKE)
    if name.endswith('_') and not name.endswith('__'):
        return (name, INPLACE)
    if name.startswith('__i') and name.endswith('__') and name not in ('__index__', '__init__', '__iter__', '__int__', '__invert__'):
        return (name, INPLACE)  # __iadd__ and friends
    return (name, OP)


class _Mode(TorchFunctionMode):
    def __init__(self, tracer):
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func, types, args=(), kwargs=None):
        tr = self.tracer
        if kwargs is None:
            kwargs = {}
        if tr.quiet:
            return func(*args, **kwargs)
        info = tr.funcs.get(func)
        if info is None:
            info = _classify(func)
            try:
                tr.funcs[func] = info
            except TypeError:
                pass
        if info[1] == SKIP:
            return func(*args, **kwargs)
        if not tr.recording:
            r = func(*args, **kwargs)
            if tr.stopped and isinstance(r, Tensor):
                tr.after_stop += 1
            return r
        return tr.call(info, func, args, kwargs)


def _tensors_in(args, kwargs):
    """The tensor arguments of a call, one list or tuple deep (`out=` is not an input)."""
    out = []
    values = list(args) + [a for k, a in kwargs.items() if k != 'out'] if kwargs else args
    for a in values:
        if isinstance(a, Tensor):
            out.append(a)
        elif type(a) in (list, tuple):
            out.extend(b for b in a if isinstance(b, Tensor))
    return out


def _tensors_out(r):
    if isinstance(r, Tensor):
        return (r,)
    if isinstance(r, (tuple, list)):
        return tuple(o for o in r if isinstance(o, Tensor))
    return ()


class Tracer:
    def __init__(self, main_file, max_nodes=20000, max_elements=4096):
        self.main_file = os.path.abspath(main_file)
        self.max_nodes = max_nodes
        self.max_elements = max_elements
        self.nodes = []
        self.tmap = {}     # id(tensor) -> latest node of that tensor
        self.keymap = {}   # (id(grad_fn), output_nr) -> node
        self.funcs = {}
        self.quiet = 0
        self.recording = False
        self.stopped = False
        self.after_stop = 0
        self.too_large = False  # past max_nodes (even if the program caught the error)
        self.notes = []
        self._noted = set()
        self.namer = Namer(self._read_source)
        self.mstack = []          # [(module, path)]
        self.modules = {}         # id(module) -> (module, path)
        self.roots = []           # [(module, name)]
        self.layer_calls = []     # [(module, node id or None)]
        self.param_sources = {}   # id(param) -> (param, source)
        self.last_scalar = None
        self.root = None          # node the first backward() started from
        self.shown = None
        self.shown_at = None
        self.backward_called = False
        # the file's second backward() ends it (Show Graph on a training loop need not train)
        self.end_at_next_backward = True
        # the captured backward pass
        self.capturing = False
        self.captured_root = None
        self.fired = {}           # id(fn) -> (order, grad_inputs, grad_outputs)
        self.fns = {}             # id(fn) -> fn (every autograd node reachable from the root)
        self.acc_by_var = {}      # id(leaf tensor) -> its AccumulateGrad node
        self._mode = _Mode(self)
        self._restore = []
        # the frame that runs the user's program (frames above it are never the user's)
        self.top_frame = None
        self._main = threading.main_thread().ident

    # -- notes ------------------------------------------------------------------------------
    def note(self, text):
        if text not in self._noted:
            self._noted.add(text)
            self.notes.append(text)

    def _read_source(self, filename):
        from . import source
        return source.read(filename)

    # -- installing -------------------------------------------------------------------------
    def __enter__(self):
        global _current
        _current = self
        self.recording = True
        self._install_patches()
        self._mode.__enter__()
        return self

    def __exit__(self, *exc):
        global _current
        try:
            self._mode.__exit__(*exc)
        finally:
            self.recording = False
            for undo in reversed(self._restore):
                undo()
            self._restore.clear()
            _current = None if _current is self else _current
        return False

    def _patch(self, owner, name, value):
        """Sets owner.name, to be put back exactly as it was (inherited or own) when tracing ends."""
        patch(owner, name, value, self._restore)

    def _install_patches(self):
        tracer = self
        main = threading.main_thread().ident
        get_ident = threading.get_ident
        orig_get = Tensor.__getitem__
        orig_set = Tensor.__setitem__
        orig_backward = torch.autograd.backward

        # only the main thread's calls are recorded (the mode itself is per thread)
        def __getitem__(t, key):
            if tracer.quiet or not tracer.recording or get_ident() != main:
                return orig_get(t, key)
            return tracer.call_index(orig_get, t, key)

        def __setitem__(t, key, value):
            if tracer.quiet or not tracer.recording or get_ident() != main:
                return orig_set(t, key, value)
            return tracer.call_setitem(orig_set, t, key, value)

        def backward(tensors, *args, **kwargs):
            if tracer.quiet or get_ident() != main:
                return orig_backward(tensors, *args, **kwargs)
            if tracer.backward_called:
                if tracer.end_at_next_backward:
                    raise EndOfTrace()  # a training loop's next step: the graph is the first pass
                return orig_backward(tensors, *args, **kwargs)
            return tracer.first_backward(orig_backward, tensors, args, kwargs)

        self._patch(Tensor, '__getitem__', __getitem__)
        self._patch(Tensor, '__setitem__', __setitem__)
        self._patch(torch.autograd, 'backward', backward)
        self._orig_backward = orig_backward

        # a DataLoader's batches are the model's inputs: leaves made where the loop takes them, not
        # the indexing and stacking of its collate function
        try:
            from torch.utils.data import dataloader
            it_cls = dataloader._BaseDataLoaderIter
            orig_next = it_cls.__next__

            def __next__(it):
                if tracer.quiet or not tracer.recording or get_ident() != main:
                    return orig_next(it)
                tracer.quiet += 1
                try:
                    batch = orig_next(it)
                finally:
                    tracer.quiet -= 1
                tracer.batch_leaves(batch)
                return batch
            self._patch(it_cls, '__next__', __next__)
        except (ImportError, AttributeError):  # pragma: no cover - another torch
            pass

        # custom autograd Functions: MyFn.apply(x) is one node named MyFn (1.13's mode does not see it)
        Function = torch.autograd.Function
        own_apply = Function.__dict__.get('apply')
        base = getattr(torch._C, '_FunctionBase', None)
        orig_apply = own_apply if own_apply is not None else (base.__dict__.get('apply') if base is not None else None)
        if orig_apply is not None and hasattr(orig_apply, '__get__'):
            def apply(cls, *args, **kwargs):
                bound = orig_apply.__get__(None, cls)
                if tracer.quiet or not tracer.recording or get_ident() != main:
                    return bound(*args, **kwargs)
                return tracer.call((cls.__name__, OP), bound, args, kwargs)
            self._patch(Function, 'apply', classmethod(apply))

        from torch.nn.modules import module as nn_module
        pre = nn_module.register_module_forward_pre_hook(self._pre_hook)
        post = nn_module.register_module_forward_hook(self._post_hook)
        self._restore.append(pre.remove)
        self._restore.append(post.remove)

    # -- where the user's code is -------------------------------------------------------------
    def _user_frames(self, depth=2):
        """The user frames on the stack, innermost first, as (frame, line, column). The walk stops
        at the frame that started the program (set by the runner), above which nothing is the user's."""
        frames = []
        f = sys._getframe(depth)
        codes = locate._user_codes
        is_user = locate.is_user_code
        position = locate.position
        top = self.top_frame
        while f is not None and f is not top:
            code = f.f_code
            u = codes.get(code)
            if u is None:
                u = is_user(code)
            if u:
                line, col = position(f)
                frames.append((f, line, col))
            f = f.f_back
        return frames

    @staticmethod
    def _called_by_user(func):
        """Whether the frame that called the torch function `func` is the user's (not torch's own code)."""
        own = getattr(func, '__code__', None)
        f = sys._getframe(2)
        while f is not None:
            code = f.f_code
            name = code.co_filename
            if code is own or name.startswith(_OWN_DIR) or name.endswith(_OVERRIDES):
                f = f.f_back
                continue
            return locate.is_user_code(code)
        return False

    @staticmethod
    def _source(frames):
        if not frames:
            return None
        f, line, col = frames[0]
        return (locate_abspath(f.f_code.co_filename), line, col)

    def lookup(self, t):
        """The node a tensor is now (no new node), or None."""
        if not isinstance(t, Tensor):
            return None
        n = self.tmap.get(id(t))
        if n is None or n.tensor is not t:
            return None
        return n.id

    # -- nodes --------------------------------------------------------------------------------
    def _new_node(self, t, op, leaf, inputs, attrs, source, clone=True):
        if len(self.nodes) >= self.max_nodes:
            self.recording = False
            self.too_large = True
            raise TooLarge(self.max_nodes)
        n = Node()
        n.id = len(self.nodes)
        n.op = op
        n.leaf = leaf
        n.inputs = inputs
        n.attrs = attrs
        n.tensor = t
        n.version = t._version
        gf = t.grad_fn
        n.grad_fn = gf
        n.output_nr = t.output_nr if gf is not None else 0
        n.value = t.detach().clone() if clone else None
        n.used = clone
        n.shape = list(t.shape)
        dt = t.dtype
        name = _DTYPES.get(dt)
        if name is None:
            name = _DTYPES[dt] = str(dt).replace('torch.', '')
        n.dtype = name
        n.device = 'cpu' if not t.is_cuda and t.device.type == 'cpu' else str(t.device)
        n.scope = self.mstack[-1][1] if self.mstack else None
        n.source = source
        n.requires_grad = t.requires_grad
        n.prev = None
        self.nodes.append(n)
        self.tmap[id(t)] = n
        if gf is not None:
            self.keymap[(id(gf), n.output_nr)] = n
        return n

    def resolve(self, t, frames=None):
        """The node for tensor `t` as it is now: the recorded one, else a leaf or a node filled in from autograd."""
        n = self.tmap.get(id(t))
        if n is not None and n.tensor is t:
            if n.version == t._version and n.grad_fn is t.grad_fn:
                if not n.used:  # a leaf's value is the one it has when first used
                    n.value = t.detach().clone()
                    n.used = True
                return n
            if n.leaf is not None and not n.used and t.grad_fn is None:
                n.version = t._version
                n.value = t.detach().clone()
                n.used = True
                return n
        if t.grad_fn is None:
            return self._leaf(t, n, frames)
        return self._fill(t, frames)

    def _leaf(self, t, previous, frames):
        if previous is not None and previous.leaf is not None:
            source = previous.source
        elif isinstance(t, Parameter) and id(t) in self.param_sources:
            source = self.param_sources[id(t)][1]
        else:
            source = self._source(frames if frames is not None else self._user_frames(3))
        n = self._new_node(t, 'leaf', 'pending', [], {}, source)
        n.prev = previous if previous is not None and previous.leaf is not None else None
        if n.prev is None:
            self._name_from_frame(n, t, frames)
        return n

    def _name_from_frame(self, n, t, frames):
        """A tensor first seen where it is used (made out of sight): the variable that holds it there names it."""
        if frames is None:
            frames = self._user_frames(3)
        if not frames:
            return
        try:
            for k, v in frames[0][0].f_locals.items():
                if v is t and not k.startswith('_'):
                    self.namer.names.setdefault(n.id, (0, k))
                    return
        except Exception:  # pragma: no cover
            pass

    def _fill(self, t, frames):
        """A tensor made by something the mode did not see: a node from its autograd history."""
        gf = t.grad_fn
        known = self.keymap.get((id(gf), t.output_nr))
        if known is not None:
            self.note('A tensor was changed in place where Backprop Lens could not see it (through .data or a view); its node shows the value it had when it was made.')
            return known
        inputs = []
        seen = {id(gf)}
        stack = [gf]
        while stack:
            fn = stack.pop()
            for nf, nr in fn.next_functions:
                if nf is None:
                    continue
                if _is_accumulate(nf):
                    v = nf.variable
                    inputs.append(self.resolve(v, frames).id)
                    continue
                k = self.keymap.get((id(nf), nr))
                if k is not None:
                    inputs.append(k.id)
                elif id(nf) not in seen:
                    seen.add(id(nf))
                    stack.append(nf)
        inputs = list(dict.fromkeys(inputs))
        cls = type(gf).__name__
        base = cls.rsplit('Backward', 1)[0] if 'Backward' in cls else cls
        op = (base[:1].lower() + base[1:]) if base else 'autograd'
        attrs = {'grad_fn': cls}
        for a in ('_saved_dim', '_saved_index', '_saved_start', '_saved_end', '_saved_step'):
            v = getattr(gf, a, None)
            if isinstance(v, int) and not isinstance(v, bool):
                attrs[a[7:]] = v
        self.note('Some tensors were made by calls PyTorch %s does not show to a TorchFunctionMode; they are shown as the autograd node that made them (%s).' % (torch.__version__, cls))
        if frames is None:
            frames = self._user_frames(3)
        n = self._new_node(t, op, None, inputs, attrs, self._source(frames))
        self._name_from_frame(n, t, frames)
        return n

    def batch_leaves(self, batch):
        """Leaves for the tensors of a batch a DataLoader just gave, at the line that asked for it."""
        self.quiet += 1
        try:
            tensors = []
            stack = [batch]
            while stack:
                b = stack.pop()
                if isinstance(b, Tensor):
                    tensors.append(b)
                elif isinstance(b, (list, tuple)):
                    stack.extend(reversed(b))
                elif isinstance(b, dict):
                    stack.extend(reversed(list(b.values())))
            if not tensors:
                return
            frames = self._user_frames(3)
            self.namer.begin(frames, len(self.nodes), self.lookup)
            source = self._source(frames)
            for t in tensors:
                if self.lookup(t) is None:
                    self._new_node(t, 'leaf', 'pending', [], {}, source, clone=False)
            self.namer.end(frames, len(self.nodes) - 1)
        finally:
            self.quiet -= 1

    # -- recording calls ----------------------------------------------------------------------
    def call(self, info, func, args, kwargs):
        opname, kind = info
        self.quiet += 1
        try:
            tins = _tensors_in(args, kwargs)
            inplace = kind == INPLACE or kwargs.get('inplace') is True or 'out' in kwargs
            if inplace and tins and tins[0].grad_fn is None:
                t = tins[0]
                if t.requires_grad:
                    # initialising or updating a parameter (under no_grad): not a graph op
                    if isinstance(t, Parameter) and id(t) not in self.param_sources:
                        self.param_sources[id(t)] = (t, self._source(self._user_frames(3)))
                    return func(*args, **kwargs)
                known = self.tmap.get(id(t))
                if known is not None and known.tensor is t and known.leaf is not None and not known.used and not self._called_by_user(func):
                    # a library filling a tensor it just made (a BatchNorm's running statistics in
                    # __init__): the leaf takes the value it has when first used
                    return func(*args, **kwargs)
            frames = self._user_frames(3)
            try:
                self.namer.begin(frames, len(self.nodes), self.lookup)
                pre = [self.resolve(t, frames) for t in tins] if kind != LIKE else []
            except TooLarge:
                raise
            except Exception as e:  # pragma: no cover - a tracer bug must not break the program
                self.note('Backprop Lens could not record a call to %s: %s' % (opname, e))
                return func(*args, **kwargs)
            r = func(*args, **kwargs)
            if kind == ITER:
                items = tuple(r)
                self._record(opname, func, args, kwargs, items, tins, pre, frames, False)
                r = iter(items)
            else:
                self._record(opname, func, args, kwargs, r, tins, pre, frames, inplace)
            self.namer.end(frames, len(self.nodes) - 1)
            return r
        finally:
            self.quiet -= 1

    def call_index(self, orig, t, key):
        self.quiet += 1
        try:
            frames = self._user_frames(3)
            self.namer.begin(frames, len(self.nodes), self.lookup)
            tins = [t] + _tensors_in(key if isinstance(key, tuple) else (key,), None)
            pre = [self.resolve(x, frames) for x in tins]
            r = orig(t, key)
            self._record('__getitem__', None, (t,), None, r, tins, pre, frames, False, {'index': describe_index(key)})
            self.namer.end(frames, len(self.nodes) - 1)
            return r
        finally:
            self.quiet -= 1

    def call_setitem(self, orig, t, key, value):
        self.quiet += 1
        try:
            if t.grad_fn is None and t.requires_grad:
                return orig(t, key, value)
            frames = self._user_frames(3)
            self.namer.begin(frames, len(self.nodes), self.lookup)
            tins = [t] + _tensors_in(key if isinstance(key, tuple) else (key,), None)
            if isinstance(value, Tensor):
                tins.append(value)
            pre = [self.resolve(x, frames) for x in tins]
            orig(t, key, value)
            attrs = {'index': describe_index(key)}
            if isinstance(value, (int, float, bool)):
                attrs['value'] = value
            self._record('__setitem__', None, (t,), None, t, tins, pre, frames, True, attrs)
            self.namer.end(frames, len(self.nodes) - 1)
            return None
        finally:
            self.quiet -= 1

    def _record(self, opname, func, args, kwargs, r, tins, pre, frames, inplace, attrs=None):
        outs = _tensors_out(r)
        if not outs:
            return
        try:
            source = self._source(frames)
            inputs = [n.id for n in pre]
            if attrs is None:
                rank = tins[0].dim() if tins else 0
                try:
                    attrs = attrs_of(opname, func, args, kwargs or {}, rank)
                except Exception:
                    attrs = {}
            if not tins or (not pre and opname.endswith('_like')) or opname.startswith('new_') and not pre:
                # a factory: a leaf
                for o in outs:
                    n = self._new_node(o, 'leaf', 'pending', [], {}, source, clone=False)
                    if isinstance(o, Parameter) and id(o) not in self.param_sources:
                        self.param_sources[id(o)] = (o, source)
            else:
                multi = len(outs) > 1
                for k, o in enumerate(outs):
                    op = opname
                    same = None
                    for i, t in enumerate(tins):
                        if t is o:
                            same = pre[i]
                            break
                    if same is not None:
                        if o._version == same.version and o.grad_fn is same.grad_fn:
                            continue  # returned its input unchanged (x.to(x.dtype), x.contiguous()): no new node
                        if o.grad_fn is None and o.requires_grad:
                            continue  # a leaf updated under no_grad: its next use makes a new leaf node
                        if not op.endswith('_') or op.endswith('__'):
                            op = op + '_' if not op.startswith('__') else op
                    a = dict(attrs, output=k) if multi else attrs
                    n = self._new_node(o, op, None, inputs, a, source)
                    if o.requires_grad and o.numel() == 1 and o.is_floating_point():
                        self.last_scalar = n
        except TooLarge:
            raise
        except Exception as e:  # pragma: no cover - a tracer bug must not break the program
            self.note('Backprop Lens could not record a call to %s: %s: %s' % (opname, type(e).__name__, e))

    # -- modules ------------------------------------------------------------------------------
    def _pre_hook(self, module, inputs):
        if not self.recording or self.quiet or threading.get_ident() != self._main:
            return None
        self.quiet += 1
        try:
            entry = self.modules.get(id(module))
            if entry is None or entry[0] is not module:
                path = self._name_module(module)
            else:
                path = entry[1]
            self.mstack.append((module, path))
        except Exception as e:  # pragma: no cover
            self.note('Backprop Lens could not name a module: %s' % e)
        finally:
            self.quiet -= 1
        return None

    def _post_hook(self, module, inputs, output):
        if self.quiet or threading.get_ident() != self._main:
            return None
        self.quiet += 1
        try:
            for i in range(len(self.mstack) - 1, -1, -1):
                if self.mstack[i][0] is module:
                    del self.mstack[i:]
                    break
            if self.recording and not module._modules:
                self.layer_calls.append((module, self.lookup(output) if isinstance(output, Tensor) else None))
        finally:
            self.quiet -= 1
        return None

    def _register_tree(self, module, path):
        for name, sub in module.named_modules(prefix=path):
            if id(sub) not in self.modules:
                self.modules[id(sub)] = (sub, name)

    def _name_module(self, module):
        if self.mstack:
            parent, ppath = self.mstack[-1]
            attr = None
            for k, v in vars(parent).items():
                if v is module:
                    attr = k
                    break
            path = '%s.%s' % (ppath, attr or type(module).__name__)
            self._register_tree(module, path)
            return path
        # a root: the variable the calling frame binds it to, or the module that contains it
        frames = self._user_frames(4)
        name = None
        for f, _line, _col in frames:
            scopes = [f.f_locals] if f.f_locals is f.f_globals else [f.f_locals, f.f_globals]
            for scope in scopes:
                for k, v in list(scope.items()):
                    if v is module and not k.startswith('__'):
                        name = k
                        break
                if name:
                    break
            if name:
                break
        if name is None:
            for f, _line, _col in frames:
                for k, v in list(f.f_globals.items()):
                    if isinstance(v, torch.nn.Module) and v is not module and not k.startswith('__'):
                        for sub_name, sub in v.named_modules(prefix=k):
                            if sub is module:
                                name = sub_name
                                break
                    if name:
                        break
                if name:
                    break
        if name is None:
            name = type(module).__name__
        self.roots.append((module, name))
        self._register_tree(module, name)
        return name

    # -- the output and the backward pass -------------------------------------------------------
    def show(self, t):
        if not isinstance(t, Tensor):
            raise TypeError('backprop_lens.show() takes a tensor, got %s' % type(t).__name__)
        self.quiet += 1
        try:
            frames = self._user_frames(3)
            self.namer.settle(frames, self.lookup)
            self.shown = self.resolve(t, frames)
            self.shown_at = self._source(frames)
        finally:
            self.quiet -= 1

    def first_backward(self, orig, tensors, args, kwargs):
        self.backward_called = True
        root = tensors if isinstance(tensors, Tensor) else (tensors[0] if tensors else None)
        if not isinstance(root, Tensor):
            return orig(tensors, *args, **kwargs)
        self.quiet += 1
        try:
            frames = self._user_frames(3)
            self.namer.settle(frames, self.lookup)
            self.root = self.resolve(root, frames)
            if not isinstance(tensors, Tensor) and len(tensors) > 1:
                self.note('backward() was called on %d tensors; the graph shows the first.' % len(tensors))
            self._prepare_capture(root)
        finally:
            self.quiet -= 1
        self.capturing = True
        self.quiet += 1
        try:
            return orig(tensors, *args, **kwargs)
        finally:
            self.quiet -= 1
            self.capturing = False
            self.captured_root = self.root
            self.recording = False
            self.stopped = True
            self.mstack.clear()

    def run_backward(self, node):
        """Our own backward pass from `node` (the file did not call backward on it)."""
        t = node.tensor
        self.fired.clear()
        self.fns.clear()
        self.acc_by_var.clear()
        self._prepare_capture(t)
        self.capturing = True
        self.quiet += 1
        try:
            self._orig_backward(t)
        finally:
            self.quiet -= 1
            self.capturing = False
        self.captured_root = node

    def _prepare_capture(self, root):
        gf = root.grad_fn
        if gf is None:
            return
        fns = self.fns
        stack = [gf]
        hook = self._hook
        while stack:
            fn = stack.pop()
            if id(fn) in fns:
                continue
            fns[id(fn)] = fn
            if _is_accumulate(fn):
                self.acc_by_var[id(fn.variable)] = fn
            fn.register_hook(_Hook(hook, fn))
            for nf, _ in fn.next_functions:
                if nf is not None and id(nf) not in fns:
                    stack.append(nf)

    def _hook(self, fn, grad_inputs, grad_outputs):
        if not self.capturing:
            return None
        self.fired[id(fn)] = (len(self.fired), _copy(grad_inputs), _copy(grad_outputs))
        return None


class _Hook:
    __slots__ = ('f', 'fn')

    def __init__(self, f, fn):
        self.f = f
        self.fn = fn

    def __call__(self, grad_inputs, grad_outputs):
        return self.f(self.fn, grad_inputs, grad_outputs)


def _copy(grads):
    return tuple(None if g is None else g.detach().clone() for g in grads)


_ACC_TYPE = []


def _is_accumulate(fn):
    if _ACC_TYPE:
        return type(fn) is _ACC_TYPE[0]
    if type(fn).__name__ == 'AccumulateGrad':
        _ACC_TYPE.append(type(fn))
        return True
    return False


_abspaths = {}


def locate_abspath(filename):
    p = _abspaths.get(filename)
    if p is None:
        p = _abspaths[filename] = os.path.abspath(filename)
    return p
