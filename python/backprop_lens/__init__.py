"""Backprop Lens for PyTorch: records what a PyTorch file computes (every op's value, gradient and
place in the code, and the backward pass as autograd ran it) for the Backprop Lens panel, and
watches a training loop's layers step by step.

Run by the extension as `python -X utf8 -m backprop_lens trace FILE` (Show Graph) or
`python -X utf8 -m backprop_lens train FILE` (Train); in a model file, `from backprop_lens import show`
picks the tensor to show (`show(loss)`), and `from backprop_lens import watch` records a training
loop (`watch(model, every=50)`, `watch(model, log_dir='runs/x')`). Without Backprop Lens (a plain
`python file.py`, PYTHONPATH=<extension>/python) show() does nothing and watch() only writes its
log_dir.
"""

__all__ = ['show', 'watch']

# bound after the submodule is imported, so `backprop_lens.watch` is the function, not the module
from .watch import watch  # noqa: E402


def show(t):
    """Shows `t`: the graph is the one `t` depends on, and the backward pass starts from it.
    Returns `t`. Without Backprop Lens tracing (a plain `python file.py`) it does nothing."""
    from . import recorder
    tr = recorder.current()
    if tr is not None:
        tr.show(t)
    return t

