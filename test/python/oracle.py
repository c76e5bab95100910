"""The oracle for test/python/trace.test.ts: runs model files with plain PyTorch (no tracer) and
prints, for each, the value and gradient of the tensors the test names.

Input (stdin, JSON): a list of jobs {file, values: {name: expression}, grads: {name: expression}
(when the gradient is not the value's .grad), retain: [variable], backward: expression or null}. Each model file runs as __main__ in its own folder; a line ending in the marker
`# @v` for a variable v in `retain` is followed by `v.retain_grad()`, so intermediate tensors keep
their gradients; `backward`, when given, is called at the end (for files that do not call it).
Output (stdout, JSON): a list, per job, of {name: {shape, dtype, value, grad, gradKnown}} or {error}.
"""
import contextlib
import io
import json
import math
import os
import re
import sys

import torch


def flat(t):
    if t is None:
        return None
    vals = t.detach().to('cpu', torch.float64).reshape(-1).tolist()
    return [v if math.isfinite(v) else ('NaN' if v != v else ('Infinity' if v > 0 else '-Infinity')) for v in vals]


def run(job):
    path = job['file']
    with open(path) as f:
        lines = f.read().split('\n')
    out = []
    retain = set(job.get('retain') or [])
    for line in lines:
        out.append(line)
        m = re.search(r'#\s*@(\w+)\s*$', line)
        if m and m.group(1) in retain:
            v = m.group(1)
            indent = re.match(r'\s*', line).group(0)
            out.append('%sif %s.requires_grad and %s.grad_fn is not None: %s.retain_grad()' % (indent, v, v, v))
    if job.get('backward'):
        out.append('%s.backward()' % job['backward'])
    code = compile('\n'.join(out), path, 'exec')
    scope = {'__name__': '__main__', '__file__': path, '__builtins__': __builtins__}
    cwd = os.getcwd()
    os.chdir(os.path.dirname(path))
    sys.path.insert(0, os.path.dirname(path))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, scope)
    finally:
        sys.path.pop(0)
        os.chdir(cwd)
    result = {}
    grads = job.get('grads') or {}
    for name, expr in job['values'].items():
        t = eval(expr, scope)
        known = True
        if name in grads:
            g = eval(grads[name], scope)
        elif not t.requires_grad:
            g = None
        elif t.is_leaf or t.retains_grad:
            g = t.grad
        else:
            g, known = None, False  # an intermediate the oracle could not keep the gradient of
        result[name] = {
            'shape': list(t.shape), 'dtype': str(t.dtype).replace('torch.', ''),
            'value': flat(t), 'grad': flat(g), 'gradKnown': known,
        }
    return result


def main():
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        try:
            results.append(run(job))
        except Exception as e:  # reported per job, so one broken model does not hide the others
            results.append({'error': '%s: %s' % (type(e).__name__, e)})
    json.dump(results, sys.stdout)


if __name__ == '__main__':
    main()
