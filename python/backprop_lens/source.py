"""The text of the user's file: the file on disk or, under `--source-stdin`, the editor's unsaved
buffer, which the runner sends as the first line of stdin (one JSON string). The loader, the
tracer's variable names, watch's module sources and tracebacks all read it from here."""
import json
import linecache
import os

_texts = {}  # absolute path -> the buffer's text


def provide(path, text):
    """From now on `path` reads as `text` (and tracebacks quote its lines)."""
    path = os.path.abspath(path)
    _texts[path] = text
    linecache.cache[path] = (len(text), None, text.splitlines(True), path)  # mtime None: never reread


def override(path):
    """The buffer's text for `path`, or None when it reads from disk."""
    return _texts.get(os.path.abspath(path))


def read(path):
    """The text of `path` (the buffer when one was provided), or None when it cannot be read."""
    text = override(path)
    if text is not None:
        return text
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', errors='replace')
    except OSError:
        return None


def read_stdin(path, fd=0):
    """Reads the first line of `fd` (a JSON string: the buffer) and provides it for `path`.
    Returns what came after that line (the first controls of a training run), as bytes."""
    buf = b''
    while b'\n' not in buf:
        data = os.read(fd, 1 << 20)
        if not data:
            break
        buf += data
    line, _, rest = buf.partition(b'\n')
    text = json.loads(line.decode('utf-8', errors='surrogatepass'))
    if not isinstance(text, str):
        raise ValueError('--source-stdin expects a JSON string on the first line of stdin')
    provide(path, text)
    return rest
