"""The fuzzers' input counts at the end of the session; a shorter bound on .h5 reads."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _short_h5_bound(monkeypatch):
    """A hung HDF5 read is refused after 10 s here (60 s in use), inside the harness's bound."""
    monkeypatch.setattr("ecg_energy.models.h5probe.TIMEOUT_S", 10.0)


def pytest_terminal_summary(terminalreporter):
    from .harness import COUNTS, OUTCOMES

    if not COUNTS:
        return
    terminalreporter.section("fuzzed readers: inputs tried (result / refused in one line)")
    for reader in sorted(COUNTS):
        terminalreporter.write_line(
            f"{reader:20s} {COUNTS[reader]:5d}  ({OUTCOMES[(reader, 'result')]}"
            f" / {OUTCOMES[(reader, 'refused')]})"
        )
