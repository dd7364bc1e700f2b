"""What a run folder has finished: one record per stage in ``run.json``, rewritten atomically.

A stage is skipped on a re-run when its record says ``done`` with the same key and every output it
listed still exists. A key is a hash of everything the stage reads: its part of the configuration
and the content digests of its inputs, so a changed input (a retrained model, new measurements)
re-runs exactly the stages downstream of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from typing import Any

from ._version import __version__
from .fsio import atomic_write_json

RUN_MARKER = "run.json"


def key_of(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (the tool's version included)."""
    blob = json.dumps([__version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def file_digest(path: str) -> str:
    """Content digest of a file or folder. A ``.keras`` archive is digested without its
    ``metadata.json`` (which carries the save time), so re-saving the same model keeps its digest."""
    h = hashlib.sha256()
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                full = os.path.join(root, name)
                h.update(os.path.relpath(full, path).encode())
                h.update(file_digest(full).encode())
        return h.hexdigest()[:20]
    if path.endswith(".keras") and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for info in sorted(z.infolist(), key=lambda i: i.filename):
                if info.filename == "metadata.json":
                    continue
                h.update(info.filename.encode())
                data = z.read(info.filename)
                h.update(_canonical_config(data) if info.filename == "config.json" else data)
        return h.hexdigest()[:20]
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:20]


def _canonical_config(data: bytes) -> bytes:
    """A .keras config.json with its ``shared_object_id`` values (Python object addresses, new in
    every process) numbered in order of appearance, so the same model saved by another process
    has the same digest."""
    try:
        config = json.loads(data)
    except ValueError:
        return data
    ids: dict = {}

    def walk(obj):
        if isinstance(obj, dict):
            return {k: (ids.setdefault(v, len(ids)) if k == "shared_object_id" else walk(v))
                    for k, v in obj.items()}  # fmt: skip
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    return json.dumps(walk(config), sort_keys=True).encode()


class Ledger:
    """The stage records of one run folder (``run.json``'s ``stages``)."""

    def __init__(self, out: str, header: dict, force: frozenset[str] = frozenset()):
        self.out = out
        self.header = header
        self.force = force
        self.path = os.path.join(out, RUN_MARKER)
        self.records: dict[str, dict] = {}
        if os.path.isfile(self.path):
            try:
                with open(self.path) as fh:
                    stages = json.load(fh).get("stages", {})
                self.records = {k: v for k, v in stages.items() if isinstance(v, dict)}
            except (OSError, ValueError):
                self.records = {}
        self.ran: list[str] = []
        self.skipped: list[str] = []

    def fresh(self, stage: str, key: str) -> bool:
        """Done before with this key, its outputs all present, and not forced."""
        rec = self.records.get(stage)
        if stage in self.force or not rec or rec.get("status") != "done" or rec.get("key") != key:
            return False
        return all(os.path.exists(os.path.join(self.out, p)) for p in rec.get("outputs", []))

    def info(self, stage: str) -> dict:
        return self.records.get(stage, {}).get("info", {})

    def skip(self, stage: str) -> None:
        self.skipped.append(stage)

    def done(self, stage: str, key: str, seconds: float, outputs: list[str],
             info: dict | None = None, ran: bool = True) -> None:  # fmt: skip
        """Record a finished stage and rewrite ``run.json`` at once (atomically). ``ran=False``:
        its outputs were all found already made (reused), so it counts as skipped."""
        self.records[stage] = {"status": "done", "key": key, "seconds": round(seconds, 3),
                               "outputs": outputs, "info": info or {}}  # fmt: skip
        (self.ran if ran else self.skipped).append(stage)
        self.write()

    def forget(self, stage: str) -> None:
        """A stage whose outputs are being replaced is not done until it finishes again."""
        if self.records.pop(stage, None) is not None:
            self.write()

    def write(self) -> None:
        atomic_write_json(self.path, {**self.header, "stages": self.records})
