"""The run's errors as the runner reports them: kind, message, the user's file and line, traceback."""
import os
import re
import traceback

from . import locate


class TooLarge(BaseException):
    """Past --max-nodes. A BaseException, so a user's `except Exception:` does not swallow it."""

    def __init__(self, limit):
        super().__init__(
            'The model created more than %d graph nodes (ops and leaves). Backprop Lens shows graphs up to that size: '
            'use a smaller example (fewer steps, a smaller batch or model), or raise the "backpropLens.maxNodes" setting.' % limit)
        self.limit = limit


class EndOfTrace(BaseException):
    """Show Graph on a training loop: the file's second backward() ends it (the graph is the first
    pass; the rest of the training need not run). A BaseException, past the user's `except Exception:`."""


class ExportError(Exception):
    """Nothing to show, or an output that cannot be shown (kind `export`); `source` is (file, line, column) or None."""

    def __init__(self, message, source=None):
        super().__init__(message)
        self.source = source


# PyTorch's messages for tensors whose shapes do not fit together (one place to recognise them)
_SHAPE_PATTERNS = [re.compile(p) for p in (
    r'shapes cannot be multiplied',
    r'The size of tensor a \(\d+\) must match the size of tensor b',
    r'size mismatch',
    r"shape '\[[^\]]*\]' is invalid for input of size",
    r'Expected input batch_size \(\d+\) to match target batch_size',
    r'expected input\[[^\]]*\] to have \d+ channels',
    r'Sizes of tensors must match except in dimension',
    r'The expanded size of the tensor',
    r'must match the size of tensor',
    r'Using a target size \(.*\) that is different to the input size',
    r'Target size \(.*\) must be the same as input size',
    r'both arguments to matmul need to be at least 1D',
    r'Expected \d+D \(unbatched\) or \d+D \(batched\) input',
    r'Expected \d+-dimensional input for \d+-dimensional weight',
    r'inconsistent tensor size',
    r'mat1 dim \d+ must match mat2 dim \d+',
    r'(self|mat2|vec) must be a (matrix|vector)',
    r'Dimension out of range',
    r'expected (input|target) .*(shape|size)',
    r'Input and output sizes should be greater than 0',
    r'Calculated (padded )?input size per channel: .* Kernel size: .* Kernel size can\'t be greater',
    r'only batches of spatial targets supported',
    r'input and target shapes do not match',
    r'number of dims don\'t match',
    r'Expected tensor to have size',
    r'stack expects each tensor to be equal size',
    r'cannot reshape tensor of \d+ elements',
    r'view size is not compatible with input tensor',
)]


def is_shape_error(exc):
    if not isinstance(exc, (RuntimeError, ValueError, IndexError)):
        return False
    msg = str(exc)
    return any(p.search(msg) for p in _SHAPE_PATTERNS)


def _user_tb(tb):
    """The first traceback entry in the user's code (dropping the runner's own frames), and the deepest one."""
    first = deepest = None
    while tb is not None:
        if locate.is_user_code(tb.tb_frame.f_code):
            if first is None:
                first = tb
            deepest = tb
        tb = tb.tb_next
    return first, deepest


_OWN = os.path.dirname(os.path.abspath(__file__)) + os.sep


def format_traceback(exc, tb):
    """The traceback from `tb` on, without this package's own frames (the tracer's handler sits
    between the user's call and torch's)."""
    try:
        te = traceback.TracebackException(type(exc), exc, tb)
        kept = [f for f in te.stack if not os.path.abspath(f.filename).startswith(_OWN)
                and not (f.filename.endswith(os.sep + 'overrides.py') and f.name in ('__torch_function__', 'handle_torch_function'))]
        te.stack = traceback.StackSummary.from_list(kept)
        return ''.join(te.format())
    except Exception:  # pragma: no cover
        return ''.join(traceback.format_exception(type(exc), exc, tb))


def error_message(kind, message, file=None, line=None, column=None, tb_text=''):
    return {'kind': kind, 'message': message, 'file': file, 'line': line, 'column': column, 'traceback': tb_text}


def describe(exc):
    """The error message for an exception the user's program raised."""
    if isinstance(exc, SyntaxError):
        file = os.path.abspath(exc.filename) if exc.filename and not exc.filename.startswith('<') else None
        text = ''.join(traceback.format_exception_only(type(exc), exc))
        return error_message('syntax', '%s: %s' % (type(exc).__name__, exc.msg), file, exc.lineno, exc.offset or 0, text)
    first, deepest = _user_tb(exc.__traceback__)
    text = format_traceback(exc, first if first is not None else exc.__traceback__)
    file = line = column = None
    if deepest is not None:
        file = os.path.abspath(deepest.tb_frame.f_code.co_filename)
        line, column = locate.tb_position(deepest)
    if isinstance(exc, TooLarge):
        kind = 'too-large'
        message = str(exc)
    else:
        kind = 'shape' if is_shape_error(exc) else 'runtime'
        message = '%s: %s' % (type(exc).__name__, exc) if str(exc) else type(exc).__name__
    return error_message(kind, message, file, line, column, text)
