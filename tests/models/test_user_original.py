"""Bring your original: the user's trained model becomes the teacher and the parent of the
LiteRT versions, as it is; its students and INT8 versions are built from it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecg_energy.cli import main
from ecg_energy.ledger import file_digest


def _user_model(path, n_classes=5, length=1000, channel_axis=True, softmax=True, seed=1):
    """A small trained-looking model of a user's own (random weights), saved to ``path``."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((length, 1) if channel_axis else (length,))
    x = inp if channel_axis else keras.layers.Reshape((length, 1))(inp)
    x = keras.layers.Conv1D(4, 9, strides=4, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    out = keras.layers.Dense(n_classes, activation="softmax" if softmax else None)(x)
    model = keras.Model(inp, out)
    model.save(path)
    return model


def test_teacher_logits_of_a_softmax_model_give_back_its_probabilities(tmp_path):
    import keras

    from ecg_energy.models.adapt import teacher_logits

    model = _user_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).normal(size=(8, 1000, 1)).astype("float32")
    p = np.asarray(model(x))
    logits = np.asarray(teacher_logits(model, x)(x))
    assert np.allclose(logits, np.log(p), atol=1e-5)  # log p: softmax(log p) is p again
    assert np.allclose(np.asarray(keras.ops.softmax(logits)), p, atol=1e-5)
    raw = _user_model(tmp_path / "r.keras", softmax=False)
    assert teacher_logits(raw, x) is raw  # logits already: used as they are


def test_train_with_your_original_builds_its_students_and_int8_versions(tmp_path, synth_db, capsys):
    import keras

    user = tmp_path / "mine.keras"
    mine = _user_model(user, channel_axis=False)  # takes (1000,): put behind a Reshape
    out = tmp_path / "run"
    rc = main(["train", "--data", f"wfdb:{synth_db}", "--out", str(out), "--original", str(user),
               "--epochs", "1"])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    models = out / "models"
    names = {p.stem for p in models.glob("*.keras")} | {p.stem for p in models.glob("*.tflite")}
    assert names == {"original", "distilled", "student-plain", "original-int8", "distilled-int8"}
    meta = json.loads((models / "original.json").read_text())
    assert meta["user_digest"] == file_digest(str(user))  # a changed file rebuilds them all
    assert meta["epochs"] == 0 and meta["preprocessing"] == "none"  # not retrained, fed as it is
    # the copy in the run folder is the user's model, outputs for outputs
    copy = keras.saving.load_model(models / "original.keras")
    x = np.random.default_rng(1).normal(size=(4, 1000, 1)).astype("float32")
    assert np.allclose(np.asarray(copy(x)), np.asarray(mine(x[..., 0])), atol=1e-6)
    for name in ("distilled", "student-plain", "original-int8", "distilled-int8"):
        assert json.loads((models / f"{name}.json").read_text())["preprocessing"] == "none"
    printed = capsys.readouterr().out
    assert "original" in printed and "(yours)" in printed and "(from yours)" in printed


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda p: _user_model(p, n_classes=3), "has 3 outputs, the data has 5 classes"),
        (
            lambda p: _user_model(p, length=360),
            "expects input (360, 1), the data gives windows of (1000, 1)",
        ),  # fmt: skip
    ],
)
def test_an_original_that_does_not_fit_the_data_is_one_line(tmp_path, synth_db, capsys, make,
                                                            fragment):  # fmt: skip
    user = tmp_path / "mine.keras"
    make(user)
    rc = main(["train", "--data", f"wfdb:{synth_db}", "--out", str(tmp_path / "run"),
               "--original", str(user), "--epochs", "1"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and fragment in err[0], err


def test_an_original_in_another_format_is_refused_before_any_work(tmp_path, capsys):
    f = tmp_path / "m.tflite"
    f.write_bytes(b"\0\0\0\0TFL3" + b"\0" * 64)
    rc = main(["run", "--out", str(tmp_path / "run"), "--original", str(f)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "--original takes a Keras model" in err[0]
    assert not (tmp_path / "run").exists()


def test_the_report_says_which_models_are_yours():
    from ecg_energy.report.tables import yours_facts

    res = {"config": {"models": {"original": "/data/mine.keras", "student": None}},
           "variants": {"original": {"source": "user-original"},
                        "distilled": {"source": "from-user-original"},
                        "original-int8": {"source": "from-user-original"},
                        "student-plain": {"source": "built-in"},
                        "other": {"source": "user"}}}  # fmt: skip
    assert yours_facts(res) == [
        "Your models: `original` is your model (mine.keras), used as it is and never retrained.",
        "Built from your original: `distilled`, `original-int8`.",
        "Your models evaluated beside them: `other`.",
    ]
    assert yours_facts({"variants": {"original": {"source": "built-in"}}}) == []
