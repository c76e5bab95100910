"""The recorded program as one TorchTrace document (engine/trace/torch-trace.ts).

Chooses the output, runs the backward pass when the file did not, keeps the nodes the output
depends on, and writes each node's value, gradient and statistics, the step records of the backward
pass (from autograd's own nodes) and the per-layer health.
"""
import platform
import sys

import torch

from . import layers as layer_stats
from .errors import ExportError, TooLarge
from .recorder import Parameter, _is_accumulate
from .stats import as_float64, clean_stats, payload, summarize

TORCH_TRACE_VERSION = 1


def _leaf_kind(n):
    t = n.tensor
    if isinstance(t, Parameter):
        return 'param'
    return 'input' if t.requires_grad else 'constant'


def _requires_grad(n):
    return n.tensor.requires_grad if n.leaf is not None else n.requires_grad


def choose_output(tr):
    """The output node: show(t), else the first backward()'s tensor, else the last scalar that requires grad."""
    if tr.shown is not None:
        return tr.shown
    if tr.root is not None:
        return tr.root
    if tr.last_scalar is not None:
        return tr.last_scalar
    raise ExportError(
        'Nothing to show: the file never called .backward(), made no scalar that requires grad, and did not call '
        'backprop_lens.show(t). Call loss.backward() on your loss, or pass the tensor to show '
        '(from backprop_lens import show; show(loss)).')


def _shape(n):
    return '[' + ', '.join(str(d) for d in n.shape) + ']'


def ensure_backward(tr, out):
    """Runs autograd from `out` unless the captured pass already started there."""
    if tr.captured_root is out:
        return
    if not _requires_grad(out):
        if tr.captured_root is not None:
            tr.note('The output shown does not depend on anything that requires grad; the backward() the file ran is not shown.')
        tr.fired.clear()
        tr.fns.clear()
        tr.acc_by_var.clear()
        tr.captured_root = None
        return
    where = tr.shown_at if out is tr.shown and tr.shown_at else out.source
    if out.tensor.numel() != 1:
        bound = tr.namer.names.get(out.id)
        raise ExportError(
            'The output %s has shape %s: Backprop Lens starts the backward pass from a scalar. Reduce it '
            '(for example .sum() or .mean(), or a loss) and show that.' % (
                "'%s'" % bound[1] if bound else '(the tensor passed to show())' if out is tr.shown else 'tensor', _shape(out)), where)
    if out.tensor.grad_fn is not out.grad_fn or out.tensor._version != out.version:
        raise ExportError('The output was changed in place after it was made; show() a tensor that is not modified afterwards.', where)
    try:
        tr.run_backward(out)
    except RuntimeError as e:
        if tr.root is not None:
            raise ExportError(
                'show() picked a tensor other than the one backward() was called on, and backward() freed the graph it needs (%s). '
                'Call show() on the tensor you call backward() on, or call backward(retain_graph=True).' % str(e).split('\n')[0], where)
        raise


def _closure(nodes, out):
    keep = set()
    stack = [out.id]
    while stack:
        i = stack.pop()
        if i in keep:
            continue
        keep.add(i)
        stack.extend(nodes[i].inputs)
    return sorted(keep)


class _Grads:
    """What autograd computed, per recorded node: its gradient, and the step records."""

    def __init__(self, tr, out):
        self.tr = tr
        self.out = out
        self.fired = tr.fired

    def grad_of(self, n):
        fired = self.fired
        if not fired:
            if n is self.out and n.leaf is not None and n.tensor.grad is not None:
                return n.tensor.grad
            return None
        if n.leaf is not None:
            acc = self.tr.acc_by_var.get(id(n.tensor))
            if acc is None:
                if n is self.out and n.tensor.grad is not None:
                    return n.tensor.grad
                return None
            data = fired.get(id(acc))
            return data[2][0] if data and data[2] else None
        if n.grad_fn is None:
            return None
        data = fired.get(id(n.grad_fn))
        if data is None:
            return None
        go = data[2]
        return go[n.output_nr] if n.output_nr < len(go) else None


def _steps(tr, kept_ops, nodes, grads):
    """One step per op node whose grad_fn ran, in the order autograd ran them."""
    fired = tr.fired
    all_keys = set(tr.keymap.keys())
    leaf_keys = {id(n.tensor) for n in nodes if n.leaf is not None}
    order = []
    for n in kept_ops:
        if n.grad_fn is None:
            continue
        data = fired.get(id(n.grad_fn))
        if data is None:
            continue
        g = data[2][n.output_nr] if n.output_nr < len(data[2]) else None
        if g is None:
            continue
        order.append((data[0], n.id, n))
    order.sort(key=lambda e: (e[0], e[1]))
    given = set()  # grad_fns whose contributions a step already took (several outputs of one call)
    steps = []
    for _pos, _id, n in order:
        slots = {}
        for idx, iid in enumerate(n.inputs):
            inp = nodes[iid]
            if not _requires_grad(inp):
                continue
            slots.setdefault(_edge_key(inp), []).append((idx, inp))
        edges = {}
        if id(n.grad_fn) not in given:
            given.add(id(n.grad_fn))
            seen = {id(n.grad_fn)}
            stack = [n.grad_fn]
            while stack:
                fn = stack.pop()
                data = fired.get(id(fn))
                gi = data[1] if data else None
                for k, (nf, nr) in enumerate(fn.next_functions):
                    if nf is None:
                        continue
                    if _is_accumulate(nf):
                        key = ('a', id(nf.variable))
                    else:
                        key = ('f', id(nf), nr)
                    if key in slots:
                        edges.setdefault(key, []).append(gi[k] if gi is not None and k < len(gi) else None)
                        continue
                    if key[0] == 'f' and (id(nf), nr) in all_keys:
                        continue
                    if key[0] == 'a' and key[1] in leaf_keys:
                        continue
                    if id(nf) not in seen and id(nf) in fired:
                        seen.add(id(nf))
                        stack.append(nf)
        elif slots:
            tr.note('A call with several outputs (split, unbind, max with indices) sends its gradient back in one autograd '
                    'node: the step of its first output carries the whole contribution, the others show zero.')
        entries = []
        for key, members in slots.items():
            gs = edges.get(key, [])
            if len(gs) == len(members):
                parts = gs
            else:
                total = None
                for g in gs:
                    if g is not None:
                        total = g if total is None else total + g
                parts = [total] + [None] * (len(members) - 1)
            for (idx, inp), g in zip(members, parts):
                if g is None:
                    g = torch.zeros(inp.shape, dtype=inp.value.dtype if inp.value is not None else torch.float32)
                entries.append((idx, inp.id, g))
        entries.sort(key=lambda e: e[0])
        steps.append((n, fired[id(n.grad_fn)][2][n.output_nr], entries))
    return steps


def _edge_key(n):
    if n.leaf is not None:
        return ('a', id(n.tensor))
    return ('f', id(n.grad_fn), n.output_nr)


class _Payloads:
    """Payloads and stats of tensors, each tensor converted once (a node's gradient is also its
    step's upstream gradient)."""

    def __init__(self, max_elements):
        self.max = max_elements
        self._values = {}
        self._keep = []

    def of(self, t):
        x = as_float64(t)
        st = summarize(x)
        p = payload(x, st, self.max)
        self._values[id(t)] = p
        self._keep.append(t)
        return p, clean_stats(st)

    def values(self, t):
        p = self._values.get(id(t), _MISSING)
        if p is _MISSING:
            p = payload(as_float64(t), None, self.max)
            self._values[id(t)] = p
            self._keep.append(t)
        return p


_MISSING = object()


def build(tr, user_globals=None):
    """The TorchTrace of what `tr` recorded (call after the user's code has finished)."""
    tr.quiet += 1
    try:
        return _build(tr, user_globals)
    finally:
        tr.quiet -= 1


def _build(tr, user_globals):
    if tr.too_large:
        raise TooLarge(tr.max_nodes)
    tr.namer.settle(None, tr.lookup)
    out = choose_output(tr)
    ensure_backward(tr, out)
    nodes = tr.nodes
    keep = _closure(nodes, out)
    new_id = {old: i for i, old in enumerate(keep)}
    kept = [nodes[i] for i in keep]
    grads = _Grads(tr, out)
    names = _names(tr, kept, user_globals)
    pay = _Payloads(tr.max_elements)

    out_nodes = []
    for n in kept:
        if n.value is None:
            n.value = n.tensor.detach().clone()
        value, st = pay.of(n.value)
        g = grads.grad_of(n) if _requires_grad(n) else None
        if g is not None:
            gvalue, gst = pay.of(g)
        else:
            gvalue, gst = None, None
        leaf = _leaf_kind(n) if n.leaf is not None else None
        name, scope = names.get(n.id, (None, n.scope))
        src = n.source
        out_nodes.append({
            'id': new_id[n.id],
            'op': n.op,
            'leaf': leaf,
            'name': name,
            'inputs': [new_id[i] for i in n.inputs],
            'attrs': n.attrs,
            'shape': n.shape,
            'dtype': n.dtype,
            'device': n.device,
            'scope': scope,
            'source': {'file': src[0], 'line': src[1], 'column': src[2]} if src else None,
            'requiresGrad': bool(_requires_grad(n)),
            'value': value,
            'grad': gvalue,
            'stats': st,
            'gradStats': gst,
        })

    steps = []
    if tr.fired:
        kept_ops = [n for n in kept if n.leaf is None]
        for n, upstream, entries in _steps(tr, kept_ops, nodes, grads):
            steps.append({
                'node': new_id[n.id],
                'upstreamGrad': pay.values(upstream),
                'inputs': [{'index': idx, 'input': new_id[iid], 'contribution': pay.values(g)} for idx, iid, g in entries],
            })

    try:
        layer_list = layer_stats.summarize_layers(tr, grads, kept, names)
    except Exception as e:  # pragma: no cover - layer health is extra: never lose the graph over it
        layer_list = []
        tr.note('Per-layer health could not be computed: %s: %s' % (type(e).__name__, e))

    unused = len(nodes) - len(kept) + tr.after_stop
    if tr.stopped and tr.after_stop:
        tr.note('Recording stopped after the first backward(): the %d torch call%s the file made after it %s not in the graph.' % (
            tr.after_stop, '' if tr.after_stop == 1 else 's', 'is' if tr.after_stop == 1 else 'are'))
    return {
        'version': TORCH_TRACE_VERSION,
        'file': tr.main_file,
        'torch': torch.__version__,
        'python': {'executable': sys.executable, 'version': platform.python_version()},
        'output': new_id[out.id],
        'nodes': out_nodes,
        'steps': steps,
        'maxElements': tr.max_elements,
        'unusedNodes': unused,
        'layers': layer_list,
        'notes': list(tr.notes),
    }


def _param_names(tr, user_globals):
    """id(parameter or buffer) -> (name, owning module path), from the modules that ran and the file's globals."""
    out = {}
    trees = list(tr.roots)
    if user_globals:
        for k, v in user_globals.items():
            if isinstance(v, torch.nn.Module) and not k.startswith('__'):
                trees.append((v, k))
    for root, rname in trees:
        try:
            for mpath, mod in root.named_modules(prefix=rname):
                for pname, p in list(mod.named_parameters(recurse=False)) + list(mod.named_buffers(recurse=False)):
                    if p is not None and id(p) not in out:
                        out[id(p)] = ('%s.%s' % (mpath, pname) if mpath else pname, mpath or None)
        except Exception:  # pragma: no cover
            continue
    return out


def _names(tr, kept, user_globals):
    """node id -> (name, scope): statement bindings, parameter names, then the file's globals."""
    pnames = _param_names(tr, user_globals)
    bound = tr.namer.names
    by_global = {}
    if user_globals:
        for k, v in user_globals.items():
            if isinstance(v, torch.Tensor) and not k.startswith('__'):
                by_global.setdefault(id(v), k)
    out = {}
    for n in kept:
        name = None
        scope = n.scope
        if n.leaf is not None and id(n.tensor) in pnames:
            name, scope = pnames[id(n.tensor)]  # a parameter or buffer of a module: its path
        if name is None:
            p = n
            while p is not None and name is None:
                b = bound.get(p.id)
                name = b[1] if b else None
                p = p.prev
        if name is None and n.leaf is not None:
            name = by_global.get(id(n.tensor))
        out[n.id] = (name, scope)
    return out
