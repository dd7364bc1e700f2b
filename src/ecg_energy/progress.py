"""Progress you can see: on a terminal a bar with the time left (tqdm, on standard error); in a log
or in CI (no terminal, or ``CI`` set) no bar, and the callers print their plain lines as before.

    with Bar(40, "original", unit="epoch") as bar:
        for epoch in ...:
            if bar.live:
                bar.update(loss=0.12)       # the bar shows the figures beside the time left
            else:
                echo("  original epoch 3/40 loss 0.12")
"""

from __future__ import annotations

import os
import sys


def on_terminal(stream=None) -> bool:
    """True when a bar can be drawn: ``stream`` (standard error) is a terminal, not CI, not a dumb
    terminal, and ``ECG_ENERGY_PROGRESS`` is not ``0``."""
    stream = stream if stream is not None else sys.stderr
    if os.environ.get("ECG_ENERGY_PROGRESS") == "0" or os.environ.get("CI"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Bar:
    """A progress bar of ``total`` steps on a terminal; elsewhere nothing (``live`` is False)."""

    def __init__(self, total: int | None, desc: str, unit: str = "it", stream=None):
        stream = stream if stream is not None else sys.stderr
        self._bar = None
        if on_terminal(stream):
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=desc, unit=unit, file=stream, leave=False, dynamic_ncols=True
            )

    @property
    def live(self) -> bool:
        return self._bar is not None

    def update(self, n: int = 1, **figures) -> None:
        if self._bar is None:
            return
        self._bar.update(n)
        # steps here are seconds apart (an epoch, a measured window): draw each one
        self._bar.set_postfix(figures, refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
