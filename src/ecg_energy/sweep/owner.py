"""Whether a sweep folder is ours, before Ray Tune restores it (and unpickles ``<out>/ray``).

A Tune experiment is restored from pickles: restoring a folder someone else made runs their code.
So a sweep folder is resumed only if it carries our marker (``sweep-owner.json``), written when
the folder was created: a random nonce and its HMAC-SHA256 under a key only this user can read
(``$XDG_CONFIG_HOME/ecg-energy/sweep.key``, default ``~/.config/ecg-energy/sweep.key``, made on
first use with mode 0600). A folder copied from another machine or user, one without the marker,
or one whose ``ray`` folder holds a link or a file another user owns or every user may write, is refused in
one line before Ray is started.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat

from ..errors import OutputError
from ..fsio import atomic_write_json

MARKER = "sweep-owner.json"


def key_path() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "ecg-energy", "sweep.key")


def _key(create: bool) -> bytes | None:
    path = key_path()
    try:
        with open(path, "rb") as fh:
            key = fh.read()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    if not create:
        return None
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def _mac(key: bytes, nonce: str) -> str:
    return hmac.new(key, f"ecg-energy sweep folder {nonce}".encode(), hashlib.sha256).hexdigest()


def mark(out: str) -> None:
    """Mark a new sweep folder as this user's."""
    nonce = secrets.token_hex(16)
    atomic_write_json(os.path.join(out, MARKER), {"tool": "ecg-energy", "kind": "sweep-owner",
                                                  "nonce": nonce, "hmac_sha256":
                                                  _mac(_key(True), nonce)})  # fmt: skip


def is_marked(out: str) -> bool:
    """Whether ``out`` carries a marker this user's key signed."""
    key = _key(False)
    try:
        with open(os.path.join(out, MARKER), encoding="utf-8") as fh:
            marker = json.load(fh)
        nonce, mac = str(marker["nonce"]), str(marker["hmac_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return key is not None and hmac.compare_digest(_mac(key, nonce), mac)


def check_owned(out: str) -> None:
    """Refuse (one OutputError) to let Ray restore ``out/ray`` unless ``out`` is ours."""
    ray_dir = os.path.join(out, "ray")
    if not os.path.lexists(ray_dir):
        return
    fix = (f"choose a new --out; if you made {out} yourself with an earlier version, delete "
           f"{ray_dir} (its trials run again; finished trials' results are kept)")  # fmt: skip
    if not is_marked(out):
        raise OutputError(f"{out}: not a sweep folder this user created here (no valid "
                          f"{MARKER}); resuming it would run code from its Ray Tune files "
                          f"(pickles), so it is refused; {fix}")  # fmt: skip
    uid = os.getuid()
    for root, dirs, files in os.walk(ray_dir):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            st = os.lstat(name)
            if stat.S_ISLNK(st.st_mode) or st.st_uid != uid or st.st_mode & 0o002:
                why = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else "owned by another user"
                       if st.st_uid != uid else "writable by every user")  # fmt: skip
                raise OutputError(f"{name}: {why}; resuming the sweep would run code from its "
                                  f"Ray Tune files, so it is refused; {fix}")  # fmt: skip
