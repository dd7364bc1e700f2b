"""Property-based tests of the text and record readers: WFDB headers, annotations and RECORDS,
the Kaggle CSV, the TOML run configuration, device profiles, sweep files, EnergyRunner logs and
power traces. Random and mutated inputs give a result or one EcgEnergyError line."""

from __future__ import annotations

import pytest
from hypothesis import given

from .harness import exercise, fuzz_settings, inputs
from .readers import READERS

# inputs per reader in `make test` (about 90 s for every fuzz test together on a loaded 2-core
# machine; ECG_FUZZ_SCALE multiplies them)
EXAMPLES = {"wfdb-header": 100, "wfdb-annotations": 100, "wfdb-records": 40, "kaggle-csv": 100,
            "run-config": 120, "device-profile": 120, "sweep-space": 120,
            "energyrunner-log": 120, "power-trace": 120}  # fmt: skip


def _fuzz(name: str):
    seed, install, run, text = READERS[name]

    @fuzz_settings(EXAMPLES[name])
    @given(data=inputs(seed(), text=text))
    def check(data):
        exercise(name, install, run, data)

    check()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_reader_gives_a_result_or_one_line(name):
    _fuzz(name)


def test_the_seeds_themselves_are_read():
    """Each seed is a valid input: the mutations start from something the reader accepts."""
    from .harness import OUTCOMES

    for name, (seed, install, run, _) in READERS.items():
        before = OUTCOMES[(name, "result")]
        exercise(name, install, run, seed())
        assert OUTCOMES[(name, "result")] == before + 1, name
