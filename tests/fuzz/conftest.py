"""The fuzzers' input counts at the end of the session (``-rA`` not needed)."""

from __future__ import annotations


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
