"""The messages to the runner: JSON lines on file descriptor BPL_FD (a pipe the Node runner opens),
else on stdout for a run by hand. The user's own output keeps stdout and stderr."""
import json
import os
import sys
import threading


class Channel:
    def __init__(self):
        fd = os.environ.get('BPL_FD')
        self.fd = None
        if fd:
            try:
                self.fd = int(fd)
                os.fstat(self.fd)
                os.set_inheritable(self.fd, False)  # the user's child processes do not hold the pipe open
            except (ValueError, OSError):
                self.fd = None
        self.lock = threading.Lock()

    def send(self, message):
        data = (json.dumps(message, separators=(',', ':'), allow_nan=False, ensure_ascii=False) + '\n').encode('utf-8')
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
