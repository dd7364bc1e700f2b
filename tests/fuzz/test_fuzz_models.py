"""Property-based tests of the model-file readers (``load_model_file`` and ``count_file``):
bytes of a tiny .keras, .h5, .tflite and .onnx model mutated, and the .keras file's config.json
mutated inside a sound archive. Each gives a result or one ModelError line, within the bound."""

from __future__ import annotations

import pytest
from hypothesis import given

from .harness import exercise, fuzz_settings, inputs
from .models import MODEL_READERS

pytest.importorskip("keras")

# fewer inputs than the text readers: a Keras load costs ~0.1 s, an .h5 one a child process
EXAMPLES = {"model-keras": 15, "model-keras-config": 25, "model-h5": 8, "model-tflite": 40,
            "model-onnx": 40}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_model_reader_gives_a_result_or_one_line(name):
    seed, install, run, text = MODEL_READERS[name]

    @fuzz_settings(EXAMPLES[name])
    @given(data=inputs(seed(), text=text))
    def check(data):
        exercise(name, install, run, data)

    check()


def test_the_model_seeds_are_read():
    from .harness import OUTCOMES

    for name in EXAMPLES:
        seed, install, run, _ = MODEL_READERS[name]
        before = OUTCOMES[(name, "result")]
        exercise(name, install, run, seed())
        assert OUTCOMES[(name, "result")] == before + 1, name
