"""One writer per run folder: an advisory lock (``fcntl.flock``) on a lock file holding the pid.

The operating system drops a ``flock`` when its process ends, however it ends, so a lock left by
a killed run never blocks the next one; a second run while the first is alive is refused in one
line naming the process that holds the folder. On taking the lock, what a killed writer left
behind (temporary files and folders of the atomic writes, ``.tmp-*``) is removed: nothing else
can be writing them while the lock is held.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator

from .errors import OutputError

LOCK_FILE = ".ecg-energy.lock"
# the temporary names of fsio's atomic writes and of the model writers: ".tmp-*" files and
# ".<name>.tmp-*" folders
_STALE = re.compile(r"^\.(tmp-.+|[^/]+\.tmp-[A-Za-z0-9_]+)$")


def holder(out: str) -> int | None:
    """The pid written in ``out``'s lock file, if any (informational: the lock is the flock)."""
    try:
        with open(os.path.join(out, LOCK_FILE), encoding="ascii") as fh:
            text = fh.read(32).strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def run_lock(out: str) -> Iterator[list[str]]:
    """Hold ``out``'s lock for the block; yields the stale temporary paths it removed."""
    import fcntl

    path = os.path.join(out, LOCK_FILE)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(f"{out}: cannot create its lock file ({exc.strerror}); check the "
                              "folder's permissions or choose another --out") from exc  # fmt: skip
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = holder(out)
            who = f"process {pid}" if pid else "another process"
            raise OutputError(f"{out}: {who} is running in this folder; wait for it to finish "
                              "(or stop it), or choose another --out") from None  # fmt: skip
        try:  # the file may have been removed and re-made by a holder that just finished
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        removed = clear_stale(out)
        yield removed
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # still holding the lock: no one else is between open and flock
        os.close(fd)


def clear_stale(out: str) -> list[str]:
    """Remove the temporary files and folders a killed writer left under ``out``."""
    removed = []
    for root, dirs, files in os.walk(out):
        for name in list(dirs):
            if _STALE.match(name):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
                dirs.remove(name)
                removed.append(os.path.relpath(os.path.join(root, name), out))
        for name in files:
            if _STALE.match(name):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(root, name))
                    removed.append(os.path.relpath(os.path.join(root, name), out))
    return sorted(removed)
