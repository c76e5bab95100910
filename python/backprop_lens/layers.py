"""Per-layer health as the engine's LayerStats (engine/stats/layers.ts): of the traced pass (the
tracer, exactly the engine's numbers, from its recorded values) and of a watched training step
(watch.py, the same fields computed on the tensors' device).

The leaf modules with parameters, in the order they ran, each with the activation module that ran
right after it; weights and their gradients, mean and max |dL/dW| over the layer's parameters, the
output after the activation and its gradient, the fraction of dead units (ReLU) and of saturated
outputs (sigmoid, tanh), and where the layer's weight was made.
"""
import math

import torch
import torch.nn as nn

from .stats import as_float64, clean_stats, fetch, summarize, summarize_device

Parameter = nn.Parameter

SUMMARY_BINS = 24

_ACTIVATIONS = [
    (nn.ReLU, 'relu'), (nn.LeakyReLU, 'leakyRelu'), (nn.ELU, 'elu'), (nn.Sigmoid, 'sigmoid'), (nn.Tanh, 'tanh'),
    (nn.Softplus, 'softplus'), (nn.GELU, 'gelu'), (nn.SiLU, 'silu'), (nn.ReLU6, 'relu6'), (nn.Identity, 'identity'),
]
_TYPES = [
    (nn.Linear, 'linear'), (nn.BatchNorm1d, 'batchNorm1d'), (nn.BatchNorm2d, 'batchNorm2d'), (nn.Conv1d, 'conv1d'),
    (nn.Conv2d, 'conv2d'), (nn.Conv3d, 'conv3d'), (nn.LayerNorm, 'layerNorm'), (nn.Embedding, 'embedding'),
    (nn.LSTM, 'lstm'), (nn.GRU, 'gru'), (nn.RNN, 'rnn'),
]
_DROPOUT = (nn.Dropout, nn.Dropout2d, nn.Dropout1d if hasattr(nn, 'Dropout1d') else nn.Dropout, nn.AlphaDropout)


def _activation(m):
    for cls, kind in _ACTIVATIONS:
        if type(m) is cls:
            return kind
    return None


def _type(m):
    for cls, kind in _TYPES:
        if isinstance(m, cls):
            return kind
    return 'module'


def _stats(t, fast=False):
    if fast:
        try:
            return clean_stats(summarize_device(t, SUMMARY_BINS, SUMMARY_BINS))
        except (RuntimeError, TypeError):  # a device without float64 (MPS): the exact way, on the CPU
            pass
    return clean_stats(summarize(as_float64(t), SUMMARY_BINS, SUMMARY_BINS))


def _abs_stats(grads, fast=False):
    """mean and max |g| over the finite elements of all the gradients, summed in order as the engine does
    (`fast`: on their device, sums in float64; with a NaN or Inf among them, the exact way)."""
    grads = [g for g in grads if g is not None]
    if fast and grads:
        n = sum(g.numel() for g in grads)
        try:
            got = fetch([g.detach().abs().sum(dtype=torch.float64) for g in grads] + [g.detach().abs().amax() for g in grads if g.numel()])
        except (RuntimeError, TypeError):  # a device without float64: the exact way
            got = None
        if got is not None and n and all(math.isfinite(v) for v in got):
            return sum(got[:len(grads)]) / n, max(0.0, *got[len(grads):])
    parts = []
    for g in grads:
        a = as_float64(g).abs()
        parts.append(a[torch.isfinite(a)])
    a = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)
    if a.numel() == 0:
        return None, None
    return torch.cumsum(a, 0)[-1].item() / a.numel(), max(0.0, a.max().item())


def dead_fraction(x, fast=False):
    """Fraction of units that are 0 for every example: the last axis, or the channel axis of an N, C, … output."""
    x = x.detach() if fast else (as_float64(x) if x.dim() <= 1 else x.detach().to('cpu', torch.float64))
    if x.dim() == 0:
        return 1.0 if x.item() == 0 else 0.0
    if x.dim() >= 3:
        x = x.transpose(0, 1).reshape(x.shape[1], -1).t()
    else:
        x = x.reshape(-1, x.shape[-1])
    units = x.shape[-1]
    if units == 0:
        return 0
    alive = (x != 0).any(dim=0)
    return (units - int(alive.sum().item())) / units


def saturated_fraction(x, kind, fast=False):
    y = x.detach().reshape(-1) if fast else as_float64(x)
    if y.numel() == 0:
        return 0
    if kind == 'sigmoid':
        sat = y * (1 - y) < 0.025
    else:
        sat = 1 - y * y < 0.1
    return int(sat.sum().item()) / y.numel()


def group_calls(calls):
    """The layers of a pass from its leaf-module calls [(module, output)] in the order they ran: each
    leaf module with parameters (its first call), with the activation module that ran right after it
    (whose output becomes the layer's); dropout is skipped. [{'module', 'output', 'activation', 'params'}]."""
    layers = []
    seen = set()
    for module, out in calls:
        if isinstance(module, _DROPOUT):
            continue
        act = _activation(module)
        if act is not None:
            if layers and layers[-1]['activation'] is None and act != 'identity':
                layers[-1]['activation'] = act
                layers[-1]['output'] = out
            continue
        params = list(module.parameters())
        if id(module) in seen or not params:
            continue
        seen.add(id(module))
        layers.append({'module': module, 'output': out, 'activation': None, 'params': params})
    return layers


def layer_entry(name, type_, depth, activation, weight, grads, output, output_grad, source, fast=False):
    """One LayerStats: `weight` the value of the layer's first parameter, `grads` the gradients of all
    its parameters (the weight's first), `output` the layer's output after its activation and
    `output_grad` the gradient there (each None when unknown), `source` (file, line, column) or None.
    `fast`: summaries on the tensors' device (watch); else exactly the engine's (the tracer)."""
    mean_abs, max_abs = _abs_stats(grads, fast)
    dead = saturated = None
    if output is not None and activation in ('relu', 'leakyRelu'):
        dead = dead_fraction(output, fast)
    if output is not None and activation in ('sigmoid', 'tanh'):
        saturated = saturated_fraction(output, activation, fast)
    return {
        'name': name,
        'type': type_,
        'depth': depth,
        'activation': activation,
        'weight': _stats(weight, fast) if weight is not None else None,
        'weightGrad': _stats(grads[0], fast) if grads and grads[0] is not None else None,
        'gradMeanAbs': mean_abs,
        'gradMaxAbs': max_abs,
        'output': _stats(output, fast) if output is not None else None,
        'outputGrad': _stats(output_grad, fast) if output_grad is not None else None,
        'dead': dead,
        'saturated': saturated,
        'source': {'file': source[0], 'line': source[1], 'column': source[2]} if source else None,
    }


def summarize_layers(tr, grads, kept, names):
    """The traced pass's LayerStats, from the tracer's nodes (their recorded values and gradients)."""
    nodes = tr.nodes
    # the value and gradient of each parameter in this pass: its leaf node's
    param_node = {}
    for n in kept:
        if n.leaf is not None and isinstance(n.tensor, Parameter):
            param_node[id(n.tensor)] = n
    layers = group_calls(tr.layer_calls)
    covered = set()
    result = []
    for depth, l in enumerate(layers):
        module = l['module']
        entry = tr.modules.get(id(module))
        name = entry[1] if entry else _type(module)
        result.append(_layer(tr, grads, name, _type(module), depth, l['params'], l['output'], l['activation'], param_node, nodes))
        covered.update(id(p) for p in l['params'])
    for n in kept:
        if n.leaf is not None and isinstance(n.tensor, Parameter) and id(n.tensor) not in covered:
            covered.add(id(n.tensor))
            name = names.get(n.id, (None, None))[0] or 'param %d' % len(result)
            result.append(_layer(tr, grads, name, 'param', len(result), [n.tensor], None, None, param_node, nodes))
    return result


def _layer(tr, grads, name, type_, depth, params, out_id, activation, param_node, nodes):
    weight = params[0] if params else None
    wnode = param_node.get(id(weight)) if weight is not None else None
    pgrads = []
    for p in params:
        pn = param_node.get(id(p))
        pgrads.append(grads.grad_of(pn) if pn is not None else None)
    out_node = nodes[out_id] if out_id is not None else None
    out_value = None
    out_grad = None
    if out_node is not None:
        out_value = out_node.value if out_node.value is not None else out_node.tensor.detach()
        out_grad = grads.grad_of(out_node) if out_node.requires_grad else None
    if wnode is not None:
        src = wnode.source
    elif weight is not None and id(weight) in tr.param_sources:
        src = tr.param_sources[id(weight)][1]
    else:
        src = None
    wvalue = wnode.value if wnode is not None and wnode.value is not None else (weight.detach() if weight is not None else None)
    return layer_entry(name, type_, depth, activation, wvalue, pgrads, out_value, out_grad, src)
