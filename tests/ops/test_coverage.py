"""The coverage page is generated from the counters' own tables and committed up to date."""

from __future__ import annotations

from pathlib import Path

from ecg_energy.ops.coverage import (
    COUNTED,
    FREE,
    UNCOUNTED,
    keras2_rows,
    keras_rows,
    markdown,
    onnx_rows,
    tflite_rows,
)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "concepts" / "coverage.md"


def _status(rows, name):
    return next(r.status for r in rows if r.name == name)


def test_entries_as_the_counters_have_them():
    keras = keras_rows()
    assert _status(keras, "Conv1D") == COUNTED and _status(keras, "Reshape") == FREE
    assert _status(keras, "Lambda") == "refused" and _status(keras, "ConvLSTM1D") == UNCOUNTED
    lite = tflite_rows()
    assert _status(lite, "CONV_2D") == COUNTED and _status(lite, "RESHAPE") == FREE
    assert _status(lite, "WHILE") == COUNTED and _status(lite, "CUMSUM") == UNCOUNTED
    onnx = onnx_rows()
    assert _status(onnx, "Conv") == COUNTED and _status(onnx, "Loop") == UNCOUNTED
    k2 = keras2_rows()
    assert _status(k2, "TFOpLambda tf.expand_dims") == FREE
    assert _status(k2, "TFOpLambda tf.math.reduce_mean") == COUNTED
    assert _status(k2, "CuDNNLSTM") == COUNTED and _status(k2, "LocallyConnected1D") == "refused"


def test_the_committed_page_is_what_the_code_gives():
    # regenerate with: python scripts/coverage_table.py
    assert PAGE.read_text(encoding="utf-8") == markdown()
