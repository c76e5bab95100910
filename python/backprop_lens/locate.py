"""Where the user's code is: which files are the user's, and the innermost user frame of a stack.

A file is the user's unless it is torch's, an installed package's (site-packages, dist-packages),
the standard library's, this package's, or not a file at all (`<string>`, frozen modules). The
answer is cached per code object, so walking a stack costs a dict lookup per frame.
"""
import os
import sys
import sysconfig

import torch

_HERE = os.path.dirname(os.path.abspath(__file__))


def _roots():
    roots = {_HERE, os.path.dirname(os.path.abspath(torch.__file__))}
    for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):
        try:
            p = sysconfig.get_paths().get(key)
        except Exception:  # pragma: no cover - broken sysconfig
            p = None
        if p:
            roots.add(os.path.abspath(p))
    return tuple(sorted(r.rstrip(os.sep) + os.sep for r in roots))


_NOT_USER = _roots()
_user_files = {}
_user_codes = {}


def is_user_file(filename):
    known = _user_files.get(filename)
    if known is None:
        if not filename or filename.startswith('<'):
            known = False
        else:
            path = os.path.abspath(filename)
            known = not (
                path.startswith(_NOT_USER)
                or (os.sep + 'site-packages' + os.sep) in path
                or (os.sep + 'dist-packages' + os.sep) in path
            )
        _user_files[filename] = known
    return known


def is_user_code(code):
    known = _user_codes.get(code)
    if known is None:
        known = is_user_file(code.co_filename)
        _user_codes[code] = known
    return known


_positions = {}


def _at(code, lasti, lineno, exact_line):
    """(line, column) of instruction `lasti` of `code`; column 1-based, 0 when unknown. With
    `exact_line`, a position on another line than `lineno` is not trusted."""
    pos = _positions.get(code)
    if pos is None:
        try:
            pos = list(code.co_positions())  # Python 3.11+
        except AttributeError:
            pos = ()
        _positions[code] = pos
    i = lasti // 2
    if 0 <= i < len(pos):
        line, _end, col, _ecol = pos[i]
        if line is not None and (not exact_line or line == lineno):
            return line, (col + 1 if col is not None else 0)
    return lineno, 0


def position(frame):
    """(line, column) of the instruction a frame is at; column 1-based, 0 when unknown."""
    return _at(frame.f_code, frame.f_lasti, frame.f_lineno, False)


def tb_position(tb):
    """(line, column) of a traceback entry."""
    return _at(tb.tb_frame.f_code, tb.tb_lasti, tb.tb_lineno, True)


def user_frame(frame):
    """The innermost frame at or above `frame` that runs the user's code, or None."""
    while frame is not None:
        if is_user_code(frame.f_code):
            return frame
        frame = frame.f_back
    return None


def where(frame=None):
    """{'file', 'line'} of the innermost user frame (of the caller when frame is None)."""
    f = user_frame(frame if frame is not None else sys._getframe(1))
    if f is None:
        return {'file': None, 'line': None}
    return {'file': os.path.abspath(f.f_code.co_filename), 'line': f.f_lineno}
