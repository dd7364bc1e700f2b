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
EXAMPLES = {"wfdb-header": 150, "wfdb-annotations": 150, "wfdb-records": 60, "kaggle-csv": 150,
            "run-config": 200, "device-profile": 200, "sweep-space": 200,
            "energyrunner-log": 200, "power-trace": 200}  # fmt: skip


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
