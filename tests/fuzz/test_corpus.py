"""Every input the fuzzers once found failing (``corpus/<reader>/``), replayed: each is now read
or refused in one line. Named after what was wrong with it."""

from __future__ import annotations

import pytest

from .harness import CORPUS, exercise
from .readers import reader_of

CASES = sorted((p.parent.name, p.name) for p in CORPUS.glob("*/*") if p.is_file())


@pytest.mark.parametrize(("reader", "name"), CASES)
def test_kept_input_is_read_or_refused_in_one_line(reader, name):
    _, install, run, _ = reader_of(reader)
    exercise(reader, install, run, (CORPUS / reader / name).read_bytes())
