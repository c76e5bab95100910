"""The variable names the user wrote, from the file's syntax tree and the frames that ran it.

Each file of the user's is parsed once: every simple statement (and the header of every compound
one) gets an entry, and assignments (`h = ...`, `self.h = ...`, `a, b = ...`, `h += ...`,
`h: T = ...`, `for xb, yb in loader:`) list their targets. While the program runs, the recorder tells the namer, for every
recorded tensor, which user frames were on the stack and at which statement each was; a statement's
execution ends when its frame moves on to another statement (or comes back to the same one after
the assignment happened, as in a loop). Then each target of the statement is looked up in the frame
(its locals, or an attribute of `self`): a target bound to a tensor recorded during that execution
names that tensor. The innermost statement wins (`x = relu(...)` inside forward over `out = model(x)`
outside, for the same tensor), as the TypeScript tracer does.
"""
import ast
import bisect

_MISSING = object()


class Statement:
    __slots__ = ('targets', 'key')

    def __init__(self, targets, key):
        self.targets = targets  # list of tuples: ('name',) or ('self', 'h')
        self.key = key


def _target_paths(node, out):
    if isinstance(node, ast.Name):
        out.append((node.id,))
    elif isinstance(node, ast.Attribute):
        parts = []
        cur = node
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            cur = cur.value
        if isinstance(cur, ast.Name):
            parts.append(cur.id)
            out.append(tuple(reversed(parts)))
    elif isinstance(node, (ast.Tuple, ast.List)):
        for e in node.elts:
            _target_paths(e, out)
    elif isinstance(node, ast.Starred):
        _target_paths(node.value, out)


class FileIndex:
    """Statement lookup by (line, column) for one file."""

    def __init__(self, source, filename):
        self.by_line = {}  # line -> sorted list of (col, Statement)
        try:
            tree = ast.parse(source, filename)
        except (SyntaxError, ValueError):
            return
        self._visit_body(tree.body)
        for entries in self.by_line.values():
            entries.sort(key=lambda e: e[0])

    def _add(self, stmt, first, last, targets):
        s = Statement(targets, (first, stmt.col_offset))
        for line in range(first, last + 1):
            col = stmt.col_offset + 1 if line == first else 0
            self.by_line.setdefault(line, []).append((col, s))

    def _visit_body(self, body):
        for stmt in body:
            self._visit(stmt)

    def _visit(self, stmt):
        bodies = [getattr(stmt, f, None) for f in ('body', 'orelse', 'finalbody', 'handlers', 'cases')]
        bodies = [b for b in bodies if isinstance(b, list) and b and isinstance(b[0], ast.AST)]
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = []
            for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]):
                _target_paths(t, targets)
            self._add(stmt, stmt.lineno, stmt.end_lineno or stmt.lineno, targets)
        elif not bodies:
            self._add(stmt, stmt.lineno, stmt.end_lineno or stmt.lineno, [])
        else:
            # a compound statement: its header (up to its first body) is one statement of its own
            first_body = min(b[0].lineno for b in bodies if hasattr(b[0], 'lineno'))
            header_end = max(stmt.lineno, first_body - 1)
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                header_end = stmt.lineno  # decorators and defaults: no names to give
            targets = []
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                _target_paths(stmt.target, targets)  # for xb, yb in loader:
            self._add(stmt, stmt.lineno, header_end, targets)
            for b in bodies:
                for s in b:
                    if isinstance(s, ast.excepthandler) or type(s).__name__ == 'match_case':
                        self._visit_body(s.body)
                    else:
                        self._visit(s)

    def statement(self, line, col):
        entries = self.by_line.get(line)
        if not entries:
            return None
        if len(entries) == 1:
            return entries[0][1]
        i = bisect.bisect_right([c for c, _ in entries], col) - 1
        return entries[max(i, 0)][1]


def bound_value(frame, path):
    """What `path` (('h',) or ('self', 'h')) holds in the frame now, or _MISSING."""
    try:
        scope = frame.f_locals
    except Exception:
        return _MISSING
    v = scope.get(path[0], _MISSING)
    if v is _MISSING and frame.f_globals is not scope:
        v = frame.f_globals.get(path[0], _MISSING)
    for attr in path[1:]:
        if v is _MISSING:
            return _MISSING
        d = getattr(v, '__dict__', None)
        nxt = d.get(attr, _MISSING) if isinstance(d, dict) else _MISSING
        if nxt is _MISSING:
            # nn.Module keeps parameters, buffers and submodules outside __dict__
            import torch
            if isinstance(v, torch.nn.Module):
                try:
                    nxt = getattr(v, attr)
                except Exception:
                    nxt = _MISSING
        v = nxt
    return v


class Namer:
    """Finds which recorded tensors the user's assignments bound, while the program runs."""

    def __init__(self, read_source):
        self._read_source = read_source
        self._files = {}
        self._open = {}  # frame -> [statement, first node id, last node id, last f_lasti, depth]
        self.names = {}  # node id -> (depth, name)

    def index(self, filename):
        idx = self._files.get(filename)
        if idx is None:
            src = self._read_source(filename)
            idx = FileIndex(src, filename) if src is not None else FileIndex('', filename)
            self._files[filename] = idx
        return idx

    def begin(self, frames, next_id, lookup):
        """Before a call records its nodes (ids from next_id): ends the statement executions that are
        over in these frames (`frames`: the user frames on the stack, innermost first, as
        (frame, line, col)) and opens the current ones. Bindings are checked before the call, so a
        tensor changed in place by it (`h.add_(1)` after `h = ...`) still counts as what `h` was."""
        opened = self._open
        for depth, (frame, line, col) in enumerate(frames):
            stmt = self.index(frame.f_code.co_filename).statement(line, col)
            run = opened.get(frame)
            lasti = frame.f_lasti
            if run is not None:
                if run[0] is stmt and not (
                        stmt is not None and stmt.targets and lasti <= run[3] and run[2] >= run[1] and self._bound_in(frame, run, lookup)):
                    run[3] = lasti
                    if depth < run[4]:
                        run[4] = depth
                    continue
                # another statement, or the same one again after its assignment (a loop)
                self._finish(frame, run, lookup)
            opened[frame] = [stmt, next_id, next_id - 1, lasti, depth]

    def end(self, frames, last_id):
        """After the call: its nodes (up to last_id) belong to the open executions of these frames."""
        opened = self._open
        for frame, _line, _col in frames:
            run = opened.get(frame)
            if run is not None:
                run[2] = last_id

    def _bound_in(self, frame, run, lookup):
        for path in run[0].targets:
            v = bound_value(frame, path)
            if v is _MISSING:
                continue
            nid = lookup(v)
            if nid is not None and run[1] <= nid <= run[2]:
                return True
        return False

    def _finish(self, frame, run, lookup):
        stmt = run[0]
        if stmt is None or not stmt.targets:
            return
        for path in stmt.targets:
            v = bound_value(frame, path)
            if v is _MISSING:
                continue
            nid = lookup(v)
            if nid is None or not (run[1] <= nid <= run[2]):
                continue
            name = '.'.join(path)
            have = self.names.get(nid)
            if have is None or run[4] <= have[0]:
                self.names[nid] = (run[4], name)

    def settle(self, frames, lookup):
        """Ends the executions that are over in the given frames (the program reached `frames`
        outside any recorded op: a backward() or show() call), or in every frame when None."""
        if frames is None:
            for frame, run in list(self._open.items()):
                self._finish(frame, run, lookup)
            self._open.clear()
            return
        for frame, line, col in frames:
            run = self._open.get(frame)
            if run is None:
                continue
            stmt = self.index(frame.f_code.co_filename).statement(line, col)
            if stmt is not run[0]:
                self._finish(frame, run, lookup)
                del self._open[frame]
