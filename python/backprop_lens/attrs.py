"""The non-tensor arguments of a torch call that set its gradient, by name.

Python functions (torch.nn.functional) are bound to their signatures, defaults included; builtins
(torch.sum, Tensor.add…) have no signature to read, so a table names their positional parameters.
Names are PyTorch's, except where the engine's op has its own (engine/ops): a reduction's `dim`
and `keepdim` are `axes` (a list, non-negative, every axis when absent) and `keepdims`; softmax's,
cat's and friends' `dim` is `axis`; leaky_relu's `negative_slope` is `alpha`; std/var's `unbiased`
is `correction`.
"""
import inspect
import math

import torch

Tensor = torch.Tensor

# positional parameter names of builtins, `self`/`input` first; '*name' collects the rest
_POSITIONAL = {
    **{k: ['input', 'dim', 'keepdim', 'dtype'] for k in ('sum', 'mean', 'nansum', 'nanmean', 'prod')},
    **{k: ['input', 'dim', 'keepdim'] for k in ('amax', 'amin', 'logsumexp', 'argmax', 'argmin', 'all', 'any', 'median', 'nanmedian', 'mode')},
    'max': ['input', 'dim', 'keepdim'], 'min': ['input', 'dim', 'keepdim'],
    'std': ['input', 'dim', 'unbiased', 'keepdim'], 'var': ['input', 'dim', 'unbiased', 'keepdim'],
    'std_mean': ['input', 'dim', 'unbiased', 'keepdim'], 'var_mean': ['input', 'dim', 'unbiased', 'keepdim'],
    'norm': ['input', 'p', 'dim', 'keepdim'], 'count_nonzero': ['input', 'dim'],
    **{k: ['input', 'dim', 'dtype'] for k in ('softmax', 'log_softmax', 'cumsum', 'cumprod')},
    **{k: ['input', 'other', 'alpha'] for k in ('add', 'add_', 'sub', 'sub_', 'subtract', 'rsub', '__rsub__')},
    **{k: ['input', 'other'] for k in (
        'mul', 'mul_', 'multiply', 'div', 'div_', 'divide', 'true_divide', 'floor_divide', 'remainder', 'fmod',
        'maximum', 'minimum', 'fmax', 'fmin', 'atan2', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'greater', 'less',
        '__radd__', '__rmul__', '__rdiv__', '__rtruediv__', '__rfloordiv__', '__rmod__', '__and__', '__or__', '__xor__',
        'logical_and', 'logical_or', 'hypot', 'xlogy')},
    'pow': ['input', 'exponent'], 'pow_': ['input', 'exponent'], 'float_power': ['input', 'exponent'], '__rpow__': ['input', 'base'],
    'clamp': ['input', 'min', 'max'], 'clip': ['input', 'min', 'max'], 'clamp_': ['input', 'min', 'max'],
    'clamp_min': ['input', 'min'], 'clamp_max': ['input', 'max'],
    'reshape': ['input', '*shape'], 'view': ['input', '*shape'], 'expand': ['input', '*size'], 'repeat': ['input', '*repeats'],
    'permute': ['input', '*dims'], 'tile': ['input', 'dims'], 'broadcast_to': ['input', 'size'],
    'transpose': ['input', 'dim0', 'dim1'], 'swapaxes': ['input', 'axis0', 'axis1'], 'swapdims': ['input', 'dim0', 'dim1'],
    'movedim': ['input', 'source', 'destination'],
    'unsqueeze': ['input', 'dim'], 'squeeze': ['input', 'dim'], 'flatten': ['input', 'start_dim', 'end_dim'],
    'unflatten': ['input', 'dim', 'sizes'], 'narrow': ['input', 'dim', 'start', 'length'], 'select': ['input', 'dim', 'index'],
    'index_select': ['input', 'dim', 'index'], 'gather': ['input', 'dim', 'index'], 'take_along_dim': ['input', 'indices', 'dim'],
    'cat': ['tensors', 'dim'], 'concat': ['tensors', 'dim'], 'stack': ['tensors', 'dim'],
    'split': ['input', 'split_size_or_sections', 'dim'], 'chunk': ['input', 'chunks', 'dim'], 'unbind': ['input', 'dim'],
    'roll': ['input', 'shifts', 'dims'], 'flip': ['input', 'dims'], 'tril': ['input', 'diagonal'], 'triu': ['input', 'diagonal'],
    'masked_fill': ['input', 'mask', 'value'], 'masked_fill_': ['input', 'mask', 'value'], 'fill_': ['input', 'value'],
    'where': ['condition', 'input', 'other'], 'addmm': ['input', 'mat1', 'mat2'], 'lerp': ['input', 'end', 'weight'],
    'topk': ['input', 'k', 'dim', 'largest', 'sorted'], 'sort': ['input', 'dim', 'descending'], 'argsort': ['input', 'dim', 'descending'],
    'kthvalue': ['input', 'k', 'dim', 'keepdim'], 'diagonal': ['input', 'offset', 'dim1', 'dim2'], 'trace': ['input'],
    'conv1d': ['input', 'weight', 'bias', 'stride', 'padding', 'dilation', 'groups'],
    'conv2d': ['input', 'weight', 'bias', 'stride', 'padding', 'dilation', 'groups'],
    'conv3d': ['input', 'weight', 'bias', 'stride', 'padding', 'dilation', 'groups'],
    'avg_pool1d': ['input', 'kernel_size', 'stride', 'padding', 'ceil_mode', 'count_include_pad'],
    'adaptive_avg_pool1d': ['input', 'output_size'],
    'hardtanh': ['input', 'min_val', 'max_val'], 'threshold': ['input', 'threshold', 'value'],
    'dropout': ['input', 'p', 'train'], 'to': ['input', 'dtype'], 'type': ['input', 'dtype'],
    'renorm': ['input', 'p', 'dim', 'maxnorm'], 'cdist': ['x1', 'x2', 'p'], 'dist': ['input', 'other', 'p'],
    'logit': ['input', 'eps'], 'nan_to_num': ['input', 'nan', 'posinf', 'neginf'], 'round': ['input'],
    'diff': ['input', 'n', 'dim'], 'cross': ['input', 'other', 'dim'],
}

_REDUCTIONS = {
    'sum', 'mean', 'nansum', 'nanmean', 'prod', 'amax', 'amin', 'max', 'min', 'std', 'var', 'std_mean', 'var_mean',
    'logsumexp', 'norm', 'argmax', 'argmin', 'all', 'any', 'count_nonzero', 'median', 'nanmedian', 'mode',
}
_AXIS = {
    'softmax', 'log_softmax', 'softmin', 'cumsum', 'cumprod', 'cat', 'concat', 'stack', 'unbind', 'split', 'chunk',
    'gather', 'index_select', 'sort', 'argsort', 'topk', 'kthvalue', 'glu', 'normalize', 'cosine_similarity', 'diff', 'cross',
}
_DROP = {'input', 'self', 'inplace', 'out', 'size_average', 'reduce', '_stacklevel', 'memory_format', 'layout', 'pin_memory', 'generator', 'non_blocking', 'copy'}

_signatures = {}


def _signature(func):
    try:
        sig = _signatures.get(func, 0)
    except TypeError:
        return None
    if sig == 0:
        sig = None
        try:
            if inspect.isfunction(func):
                sig = inspect.signature(func)
                kinds = {p.kind for p in sig.parameters.values()}
                if kinds <= {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}:
                    # torch's boolean_dispatch (F.max_pool2d…): the functions it chooses between
                    inner = [c.cell_contents for c in (func.__closure__ or ()) if inspect.isfunction(getattr(c, 'cell_contents', None))]
                    sig = inspect.signature(inner[0]) if inner else None
        except (TypeError, ValueError):
            sig = None
        _signatures[func] = sig
    return sig


def jsonable(v):
    """A value as an attribute: numbers, booleans, strings, lists of numbers; else None (dropped)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if math.isfinite(v):
            return v
        return 'NaN' if v != v else ('Infinity' if v > 0 else '-Infinity')
    if isinstance(v, (torch.dtype, torch.device)):
        return str(v).replace('torch.', '')
    if isinstance(v, slice):
        return describe_index(v)
    if isinstance(v, (list, tuple, torch.Size)):
        out = []
        for e in v:
            if isinstance(e, bool) or not isinstance(e, (int, float)):
                return None
            out.append(e if isinstance(e, int) or math.isfinite(e) else jsonable(e))
        return out
    return None


def _bind(opname, func, args, kwargs):
    """(name, value) pairs of the call's arguments, in order."""
    sig = _signature(func)
    if sig is not None:
        try:
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            return list(bound.arguments.items())
        except TypeError:
            pass
    names = _POSITIONAL.get(opname)
    pairs = []
    for i, a in enumerate(args):
        if names is not None and i < len(names):
            n = names[i]
            if n.startswith('*'):
                rest = args[i:]
                if len(rest) == 1 and isinstance(rest[0], (list, tuple, torch.Size)):
                    rest = rest[0]
                pairs.append((n[1:], list(rest)))
                break
            pairs.append((n, a))
        else:
            pairs.append(('input' if i == 0 else 'arg%d' % i, a))
    pairs.extend(kwargs.items())
    return pairs


def _axes(dim, rank):
    if dim is None:
        return list(range(rank))
    dims = list(dim) if isinstance(dim, (list, tuple, torch.Size)) else [dim]
    if not all(isinstance(d, int) for d in dims):
        return None
    return [d + rank if d < 0 and rank else d for d in dims]


def attrs_of(opname, func, args, kwargs, rank):
    """The call's attributes; `rank` is the first tensor argument's rank (for negative dims)."""
    base = opname[:-1] if opname.endswith('_') and not opname.endswith('__') else opname
    out = {}
    for name, value in _bind(base if base in _POSITIONAL else opname, func, args, kwargs):
        if name in _DROP or isinstance(value, Tensor):
            continue
        if isinstance(value, (list, tuple)) and any(isinstance(e, Tensor) for e in value):
            continue
        if value is None and name not in ('dim',):
            continue
        if base in _REDUCTIONS and name == 'dim':
            out['axes'] = _axes(value, rank)
            continue
        if base in _REDUCTIONS and name == 'keepdim':
            out['keepdims'] = bool(value)
            continue
        if base in _AXIS and name == 'dim':
            v = jsonable(value)
            out['axis'] = v + rank if isinstance(v, int) and v < 0 and base not in ('stack',) and rank else v
            continue
        if name == 'negative_slope':
            out['alpha'] = jsonable(value)
            continue
        if name == 'unbiased' and base in ('std', 'var', 'std_mean', 'var_mean'):
            out['correction'] = 1 if value else 0
            continue
        v = jsonable(value)
        if v is not None or value is None:
            out[name] = v
    if base in _REDUCTIONS and base not in ('max', 'min', 'median', 'nanmedian', 'mode', 'argmax', 'argmin') and 'axes' not in out:
        out['axes'] = list(range(rank))
    if base in _REDUCTIONS and 'axes' in out and 'keepdims' not in out:
        out['keepdims'] = False
    if base in ('std', 'var') and 'correction' not in out:
        out['correction'] = 1
    if base == 'leaky_relu' and 'alpha' not in out:
        out['alpha'] = 0.01
    return out


def _index_part(k):
    if k is None:
        return 'None'
    if k is Ellipsis:
        return '...'
    if isinstance(k, slice):
        s = '' if k.start is None else str(k.start)
        e = '' if k.stop is None else str(k.stop)
        return s + ':' + e + ('' if k.step is None else ':' + str(k.step))
    if isinstance(k, Tensor):
        if k.dtype == torch.bool:
            return 'mask'
        return str(k.item()) if k.dim() == 0 else 'tensor'
    if isinstance(k, (list, tuple)):
        return '[' + ', '.join(_index_part(e) for e in k) + ']'
    return repr(k)


def describe_index(key):
    """`x[key]`'s key as written: '[:, 1:3]', '[0]', '[mask]', '[tensor]'."""
    if isinstance(key, tuple):
        return '[' + ', '.join(_index_part(k) for k in key) + ']'
    return '[' + _index_part(key) + ']'
