"""Runs the oracle's random programs in PyTorch: for each program, every named value and its
gradient d(output)/d(value) from torch.autograd.grad. JSON in (stdin), JSON out (stdout)."""
import json
import math
import sys

import torch
import torch.nn.functional as F


def _promoted(a, b):
    return torch.result_type(a, b)


# comparisons as Backprop Lens has them: 0/1 in the operands' float dtype
def gt(a, b):
    return (a > b).to(_promoted(a, b))


def lt(a, b):
    return (a < b).to(_promoted(a, b))


def eq(a, b):
    return (a == b).to(_promoted(a, b))


# PyTorch 1.13's float32 GELU backward returns zeros (or garbage) when the gradient reaching it is
# not contiguous (gelu(x).transpose(-2, -1).mean() gives x.grad = 0; float64 is right): the hook
# hands GeluBackward a contiguous copy, which is the same gradient.
def gelu(x):
    y = F.gelu(x)
    if y.requires_grad:
        y.register_hook(lambda g: g.contiguous())
    return y


def flat(t):
    out = []
    for v in t.detach().to(torch.float64).reshape(-1).tolist():
        out.append(v if math.isfinite(v) else ('NaN' if v != v else ('Infinity' if v > 0 else '-Infinity')))
    return out


def run(source):
    ns = {'torch': torch, 'F': F, 'math': math, 'gt': gt, 'lt': lt, 'eq': eq, 'gelu': gelu}
    exec(source, ns)
    out, values = ns['program']()
    names = [n for n, t in values.items() if t.requires_grad]
    grads = torch.autograd.grad(out, [values[n] for n in names], allow_unused=True, retain_graph=True)
    nodes = {}
    for n, t in values.items():
        nodes[n] = {'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape), 'value': flat(t), 'grad': None}
    for n, g in zip(names, grads):
        nodes[n]['grad'] = None if g is None else flat(g)
    # After a gradient is taken (second order), PyTorch may keep in its graph a value that does not
    # depend on any leaf: convolution_backward is one node of (grad, input, weight), so a conv
    # bias's gradient requires grad although it is a constant. Such values are marked `constant`
    # (their derivative with respect to every leaf is zero); in our graph they are constants.
    leaves = [values[n] for n in names if n.startswith('p')]
    later = False
    for n in names:
        later = later or n.startswith('g')
        t = values[n]
        if not later or t is out or not leaves:
            continue
        ds = torch.autograd.grad(t.sum(), leaves, allow_unused=True, retain_graph=True)
        if all(d is None or not bool(d.ne(0).any()) for d in ds):
            nodes[n]['constant'] = True
    return nodes


def main():
    request = json.load(sys.stdin)
    torch.manual_seed(0)
    results = {}
    for p in request['programs']:
        try:
            results[p['id']] = {'nodes': run(p['source'])}
        except Exception as e:  # a program PyTorch refuses is reported, not fatal
            results[p['id']] = {'error': '%s: %s' % (type(e).__name__, e)}
    json.dump(results, sys.stdout)


if __name__ == '__main__':
    main()
