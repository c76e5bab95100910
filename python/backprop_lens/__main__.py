"""`python -X utf8 -m backprop_lens trace FILE [--max-elements N] [--max-nodes N]`
`python -X utf8 -m backprop_lens train FILE`

Runs FILE as `__main__` (as `python FILE` would, from its own folder) and sends the runner its
messages (protocol.py): `started` right before the user's code runs; on SIGUSR1, `where` the user's
code is. Exits 0 whenever it could say what happened.

trace: with the tracer on; `recording` when the user's code is done (or at its second backward(),
which ends a training loop), then `result` with the TorchTrace or `error`.

train: the script trains itself; its watch(model) sends the watch records (watch.py), and the
runner's controls (pause, resume, step, stop) arrive as JSON lines on stdin. At the end `watch-end`
(when the script called watch), or `error` after it when the script raised.
"""
import argparse
import os
import signal
import sys
import threading


def _parse(argv):
    p = argparse.ArgumentParser(prog='python -m backprop_lens', description='Trace a PyTorch file for Backprop Lens.')
    sub = p.add_subparsers(dest='command', required=True)
    t = sub.add_parser('trace', help='run FILE and print its graph, values, gradients and backward pass as JSON')
    t.add_argument('file')
    t.add_argument('--max-elements', type=int, default=4096, help='largest tensor whose elements are sent (default 4096)')
    t.add_argument('--max-nodes', type=int, default=20000, help='stop past this many recorded nodes (default 20000)')
    r = sub.add_parser('train', help='run the training script FILE; its watch(model) reports each step as JSON lines')
    r.add_argument('file')
    r.add_argument('--paused', action='store_true', help='start paused: the first step runs, then the script waits for the runner (resume, step, stop)')
    for q in (t, r):
        q.add_argument('--source-stdin', action='store_true', help="run the text on stdin's first line (a JSON string: the editor's unsaved buffer) as FILE")
    return p.parse_args(argv)


def _install_where(channel, locate):
    """On SIGUSR1, say where the user's code is. A thread reads the signal from the wakeup fd, so the
    answer comes even while the main thread is inside a long torch call (which releases the GIL)."""
    main_id = threading.main_thread().ident

    def send_where(frame=None):
        if frame is None:
            frame = sys._current_frames().get(main_id)
        try:
            channel.send(dict(type='where', **locate.where(frame)))
        except Exception:
            pass

    def handler(signum, frame):
        send_where(frame)

    signal.signal(signal.SIGUSR1, handler)
    try:
        r, w = os.pipe()
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except (ValueError, OSError):  # pragma: no cover
        return

    def watch():
        while True:
            try:
                data = os.read(r, 64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGUSR1 in data:
                send_where()

    threading.Thread(target=watch, name='backprop-lens-where', daemon=True).start()


def _load(path, channel, errors):
    """Checks that FILE (or the buffer provided for it) reads and compiles; else sends the error and returns False."""
    from . import source as sources
    source = sources.override(path)
    try:
        if source is None:
            with open(path, 'rb') as f:
                source = f.read()
    except OSError as e:
        channel.send({'type': 'error', 'error': errors.error_message('runtime', 'Cannot read %s: %s' % (path, e.strerror), path)})
        return False
    try:
        compile(source, path, 'exec', dont_inherit=True)
    except SyntaxError as e:
        channel.send({'type': 'error', 'error': errors.describe(e)})
        return False
    except ValueError as e:  # null bytes
        channel.send({'type': 'error', 'error': errors.error_message('syntax', 'SyntaxError: %s' % e, path, None, None, '')})
        return False
    return True


def _enter(path):
    """As `python FILE` runs it: from its folder, which is first on sys.path, with sys.argv = [FILE]."""
    folder = os.path.dirname(path)
    sys.path.insert(0, folder)
    sys.argv = [path]
    os.chdir(folder)


def _run(path):
    """Runs FILE as `__main__` (runpy.run_path), or the buffer provided for it as if it were FILE.
    Returns the script's globals."""
    import runpy

    from . import source as sources
    text = sources.override(path)
    if text is None:
        return runpy.run_path(path, run_name='__main__')
    import builtins
    import types
    code = compile(text, path, 'exec', dont_inherit=True)
    module = types.ModuleType('__main__')
    module.__dict__.update(__file__=path, __builtins__=builtins, __loader__=None, __spec__=None, __package__=None, __cached__=None)
    saved = sys.modules.get('__main__')
    sys.modules['__main__'] = module
    try:
        exec(code, module.__dict__)
    finally:
        sys.modules['__main__'] = saved
    return dict(module.__dict__)


def _script_globals(exc, path):
    """The globals of the script's module, from the traceback of what ended it."""
    g = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == '<module>' and code.co_filename == path:
            g = tb.tb_frame.f_globals
        tb = tb.tb_next
    return dict(g) if g is not None else None


def trace(args, channel):
    from . import errors, export, locate
    from . import source as sources
    from .errors import EndOfTrace, ExportError, TooLarge
    from .recorder import Tracer

    _install_where(channel, locate)
    path = os.path.abspath(args.file)
    if args.source_stdin:
        sources.read_stdin(path)
    if not _load(path, channel, errors):
        return 0
    _enter(path)
    tracer = Tracer(path, max_nodes=args.max_nodes, max_elements=args.max_elements)
    user_globals = None
    channel.send({'type': 'started'})
    tracer.top_frame = sys._getframe()
    try:
        with tracer:
            user_globals = _run(path)
    except EndOfTrace as e:
        user_globals = _script_globals(e, path)
        tracer.note('Show Graph ran the file up to its second backward() (the next training step) and ended it there: the graph is the first pass.')
    except SystemExit as e:
        if e.code not in (None, 0):
            msg = 'The program exited with status %s (sys.exit) before its graph could be recorded.' % (e.code,)
            info = errors.describe(e)
            channel.send({'type': 'error', 'error': errors.error_message('runtime', msg, info['file'], info['line'], info['column'], info['traceback'])})
            return 0
    except BaseException as e:  # the user's error, a shape mismatch, too many nodes, Ctrl-C
        channel.send({'type': 'error', 'error': errors.describe(e)})
        return 0
    channel.send({'type': 'recording'})
    try:
        trace_doc = export.build(tracer, user_globals)
    except ExportError as e:
        src = e.source or (path, None, None)
        channel.send({'type': 'error', 'error': errors.error_message('export', str(e), src[0], src[1], src[2])})
        return 0
    except TooLarge as e:
        channel.send({'type': 'error', 'error': errors.error_message('too-large', str(e), path)})
        return 0
    except Exception as e:
        import traceback
        channel.send({'type': 'error', 'error': errors.error_message(
            'runtime', 'Backprop Lens could not record the graph: %s: %s' % (type(e).__name__, e), path, None, None, traceback.format_exc())})
        return 0
    channel.send({'type': 'result', 'trace': trace_doc})
    return 0


def train(args, channel):
    from . import errors, locate
    from . import source as sources
    from .watch import Controls, StopTraining, active, begin_session, read_controls

    _install_where(channel, locate)
    path = os.path.abspath(args.file)
    first = sources.read_stdin(path) if args.source_stdin else b''
    controls = Controls()
    controls.paused = args.paused  # from the start, not from a control that may come late
    read_controls(controls, initial=first)
    begin_session(channel, controls)
    if not _load(path, channel, errors):
        return 0
    _enter(path)
    error = None
    reason = 'finished'
    channel.send({'type': 'started'})
    try:
        _run(path)
    except StopTraining:
        reason = 'stopped'
    except SystemExit as e:
        if e.code not in (None, 0):
            info = errors.describe(e)
            error = errors.error_message('runtime', 'The script exited with status %s (sys.exit).' % (e.code,), info['file'], info['line'], info['column'], info['traceback'])
    except BaseException as e:  # the script's own error, Ctrl-C
        error = errors.describe(e)
    if error is not None:
        reason = 'error: %s' % error['message']
    w = active()
    if w is not None:
        try:
            w.close(reason)
        except Exception:  # pragma: no cover - the script's outcome still gets out
            pass
    if error is not None:
        channel.send({'type': 'error', 'error': error})
    return 0


def main(argv=None):
    args = _parse(sys.argv[1:] if argv is None else argv)
    from .protocol import Channel
    channel = Channel()
    if args.command == 'train':
        return train(args, channel)
    return trace(args, channel)


if __name__ == '__main__':
    code = main()
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:
            pass
    sys.exit(code)
