"""A damaged HDF5 file can send the HDF5 library into an endless loop (found by fuzzing: a corrupt
global heap under a string attribute), in C code that no signal interrupts. So an ``.h5`` model
is first read whole in a child process with a time limit: every attribute and every dataset.
Only a file the child read to the end in time is loaded here; one it hung or crashed on is one
ModelError. (Errors the child meets are left to the loader, which reports them in one line.)"""

from __future__ import annotations

import os
import subprocess
import sys

from ..errors import ModelError

TIMEOUT_S = 60.0  # a sound model file reads in well under a second

_CHILD = """
import sys
import h5py

def visit(name, obj):
    for key in obj.attrs:
        obj.attrs[key]
    if isinstance(obj, h5py.Dataset):
        obj[()]

with h5py.File(sys.argv[1], "r") as f:
    for key in f.attrs:
        f.attrs[key]
    f.visititems(visit)
"""


def probe_h5(path: str, timeout_s: float | None = None) -> None:
    """Refuse ``path`` (one ModelError) if reading its HDF5 structures hangs or crashes."""
    limit = TIMEOUT_S if timeout_s is None else timeout_s
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, path], env=env, timeout=limit,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise ModelError(f"{path}: its HDF5 structures could not be read within {limit:g} s (a "
                         "damaged .h5 file sends the HDF5 library into a loop); re-save the "
                         "model as .keras, or check the file") from exc  # fmt: skip
    if done.returncode < 0:
        raise ModelError(f"{path}: reading its HDF5 structures crashed the HDF5 library (signal "
                         f"{-done.returncode}); the .h5 file is damaged: re-save the model as "
                         ".keras") from None  # fmt: skip
