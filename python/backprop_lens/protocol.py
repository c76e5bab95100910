"""The messages to the runner: JSON lines on file descriptor BPL_FD (a pipe the Node runner opens),
else on stdout for a run by hand. The user's own output keeps stdout and stderr."""
import json
import os
import sys
import threading


def encode(message):
    """One message as a JSON line (strict JSON: non-finite numbers must have been replaced)."""
    return (json.dumps(message, separators=(',', ':'), allow_nan=False, ensure_ascii=False) + '\n').encode('utf-8')


def runner_fd():
    """The runner's message pipe (BPL_FD), or None when there is none."""
    fd = os.environ.get('BPL_FD')
    if not fd:
        return None
    try:
        fd = int(fd)
        os.fstat(fd)
        os.set_inheritable(fd, False)  # the user's child processes do not hold the pipe open
        return fd
    except (ValueError, OSError):
        return None


class Channel:
    def __init__(self):
        self.fd = runner_fd()
        self.lock = threading.Lock()

    def send(self, message):
        self.send_many((message,))

    def send_many(self, messages):
        """Several messages in one write."""
        self.write(b''.join(encode(m) for m in messages))

    def write(self, data):
        """Encoded messages (JSON lines), in one write."""
        if not data:
            return
        with self.lock:
            if self.fd is None:
                for s in (sys.stdout, sys.__stdout__):
                    try:
                        s.flush()
                    except Exception:
                        pass
                fd = 1
            else:
                fd = self.fd
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
