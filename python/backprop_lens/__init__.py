"""Backprop Lens for PyTorch: records what a PyTorch file computes (every op's value, gradient and
place in the code, and the backward pass as autograd ran it) for the Backprop Lens panel.

Run by the extension as `python -X utf8 -m backprop_lens trace FILE`; in a model file,
`from backprop_lens import show` picks the tensor to show (`show(loss)`).
"""

__all__ = ['show']


def show(t):
    """Shows `t`: the graph is the one `t` depends on, and the backward pass starts from it.
    Returns `t`. Without Backprop Lens tracing (a plain `python file.py`) it does nothing."""
    from . import recorder
    tr = recorder.current()
    if tr is not None:
        tr.show(t)
    return t
