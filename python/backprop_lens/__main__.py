"""`python -X utf8 -m backprop_lens trace FILE [--max-elements N] [--max-nodes N]`

Runs FILE as `__main__` (as `python FILE` would, from its own folder) with the tracer on, and sends
the runner its messages (protocol.py): `started` right before the user's code runs, `recording`
when it is done, then `result` with the TorchTrace or `error`; on SIGUSR1, `where` the user's code
is. Exits 0 whenever it could say what happened.
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


def trace(args, channel):
    import runpy

    from . import errors, export, locate
    from .errors import ExportError, TooLarge
    from .recorder import Tracer

    _install_where(channel, locate)
    path = os.path.abspath(args.file)
    try:
        with open(path, 'rb') as f:
            source = f.read()
    except OSError as e:
        channel.send({'type': 'error', 'error': errors.error_message('runtime', 'Cannot read %s: %s' % (path, e.strerror), path)})
        return 0
    try:
        compile(source, path, 'exec', dont_inherit=True)
    except SyntaxError as e:
        channel.send({'type': 'error', 'error': errors.describe(e)})
        return 0
    except ValueError as e:  # null bytes
        channel.send({'type': 'error', 'error': errors.error_message('syntax', 'SyntaxError: %s' % e, path, None, None, '')})
        return 0

    folder = os.path.dirname(path)
    sys.path.insert(0, folder)
    sys.argv = [path]
    os.chdir(folder)
    tracer = Tracer(path, max_nodes=args.max_nodes, max_elements=args.max_elements)
    user_globals = None
    channel.send({'type': 'started'})
    tracer.top_frame = sys._getframe()
    try:
        with tracer:
            user_globals = runpy.run_path(path, run_name='__main__')
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


def main(argv=None):
    args = _parse(sys.argv[1:] if argv is None else argv)
    from .protocol import Channel
    channel = Channel()
    return trace(args, channel)


if __name__ == '__main__':
    code = main()
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except Exception:
            pass
    sys.exit(code)
