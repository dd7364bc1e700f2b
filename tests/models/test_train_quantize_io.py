"""Training, distillation, INT8 conversion and safe loading on small, fixed toy problems."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.errors import ModelError
from ecg_energy.models.architectures import build
from ecg_energy.models.io import check_fits, load_model_file
from ecg_energy.models.quantize import convert, representative_sample
from ecg_energy.models.runners import KerasRunner, LiteRTRunner
from ecg_energy.models.train import (
    TrainConfig,
    balanced_batches,
    balanced_draw,
    distill,
    selection_score,
    train_classifier,
)

L = 187


def _toy(n: int, seed: int):
    """Class 0: a 2 Hz sine; class 1: a 9 Hz sine; random phase, amplitude and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(L) / 125.0
    y = np.arange(n) % 2
    f = np.where(y == 0, 2.0, 9.0)[:, None]
    x = rng.uniform(0.5, 1.0, (n, 1)) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3, (n, 1)))
    x = x + 0.05 * rng.standard_normal((n, L))
    return x.astype(np.float32)[:, :, None], y


CFG = TrainConfig(epochs=8, student_epochs=8, batch_size=32, patience=8, student_patience=8)


@pytest.fixture(scope="module")
def trained():
    xt, yt = _toy(256, 0)
    xv, yv = _toy(64, 1)
    teacher = train_classifier(build("student", L, 2, seed=0), (xt, yt), (xv, yv), CFG, "toy")
    return teacher, (xt, yt), (xv, yv)


def test_balanced_draw_by_hand():
    rng = np.random.default_rng(0)
    # four draws of two classes: two distinct 0s (of six) and the single 1 twice
    idx = balanced_draw(np.array([0, 0, 0, 0, 0, 0, 1]), 4, rng)
    assert len(idx) == 4 and idx.tolist().count(6) == 2
    assert len(set(i for i in idx.tolist() if i != 6)) == 2
    # seven draws of three classes: shares 3, 2, 2; class 2 has one window, drawn twice
    y = np.array([0, 0, 0, 0, 1, 1, 2])
    idx = balanced_draw(y, 7, rng)
    assert np.bincount(y[idx]).tolist() == [3, 2, 2]
    assert sorted(idx[y[idx] == 1].tolist()) == [4, 5]


def test_balanced_draw_splits_a_class_among_its_records():
    rng = np.random.default_rng(0)
    # ten draws of one class held by record a (8 windows) and b (2): five each, so b's two
    # windows are drawn twice and one of them a third time; a's five are distinct
    y = np.zeros(10, dtype=int)
    groups = np.array(["a"] * 8 + ["b"] * 2)
    idx = balanced_draw(y, 10, rng, groups)
    assert (groups[idx] == "a").sum() == 5 and len(set(idx[groups[idx] == "a"].tolist())) == 5
    assert sorted(np.bincount(idx[groups[idx] == "b"] - 8).tolist()) == [2, 3]
    # two classes, 12 draws: six per class; class 1 is in records a and b: three from each
    y = np.array([0] * 6 + [1] * 6)
    groups = np.array(["a"] * 6 + ["a"] * 5 + ["b"])
    idx = balanced_draw(y, 12, rng, groups)
    assert np.bincount(y[idx]).tolist() == [6, 6]
    assert idx.tolist().count(11) == 3  # record b's single window of class 1


def test_epoch_windows_caps_an_epoch_and_keeps_it_balanced():
    # 100 windows, 90 of class 0 and 10 of class 1; batches of 8
    y = np.array([0] * 90 + [1] * 10)
    x = np.arange(100, dtype=np.float32)[:, None, None]
    whole = balanced_batches(x, y, 8, seed=0)
    assert len(whole) == 13  # 100 windows: 12 full batches and one of 4
    capped = balanced_batches(x, y, 8, seed=0, windows=40)
    assert len(capped) == 5  # 40 windows, 20 of each class
    labels = np.concatenate([capped[i][1] for i in range(len(capped))])
    assert np.bincount(labels).tolist() == [20, 20]
    # a cap above the training set's size leaves the epoch as it was
    assert len(balanced_batches(x, y, 8, seed=0, windows=1000)) == 13
    with pytest.raises(ValueError, match="epoch_windows"):
        TrainConfig(epoch_windows=-1)


def test_selection_score_by_hand():
    y, pred = np.array([0, 0, 3, 4]), np.array([0, 3, 4, 4])
    # shock decision (3, 4 shockable): sensitivity 2/2, specificity 1/2 -> 0.75; five-class
    # balanced accuracy over the classes present (0, 3, 4): (1/2 + 0 + 1) / 3 = 0.5
    assert selection_score(y, pred, (3, 4)) == (0.75, 0.5)
    assert selection_score(y, pred) == (0.5,)
    # validation records without shockable windows: the shock decision cannot rank epochs
    assert selection_score(np.array([0, 1]), np.array([0, 0]), (3, 4)) == (0.5,)


def test_a_tiny_run_learns_a_separable_toy(trained):
    result, _, (xv, yv) = trained
    pred = np.argmax(KerasRunner(result.model).predict(xv), axis=1)
    assert (pred == yv).mean() >= 0.95
    assert result.history["val_balanced_accuracy"][result.best_epoch - 1] >= 0.95


def test_distillation_loss_falls(trained):
    teacher, train, val = trained
    result = distill(teacher.model, build("student", L, 2, seed=1), train, val, CFG)
    dl = result.history["distillation_loss"]
    assert dl[-1] < dl[0]


def test_int8_model_has_int8_io_and_agrees_with_its_parent(trained):
    result, (xt, yt), (xv, _) = trained
    content = convert(result.model, "int8", representative_sample(xt, yt, 64, seed=0))
    runner = LiteRTRunner(content)
    assert runner.input_dtype == np.int8 and runner.output_dtype == np.int8
    int8 = np.argmax(runner.predict(xv), axis=1)
    fp32 = np.argmax(KerasRunner(result.model).predict(xv), axis=1)
    assert (int8 == fp32).mean() >= 0.99


def test_keras_runner_batches_match_one_call(trained):
    result, _, (xv, _) = trained
    runner = KerasRunner(result.model)
    np.testing.assert_allclose(runner.predict(xv, batch_size=7), runner(xv), rtol=1e-5, atol=1e-5)


def test_representative_sample_is_class_balanced():
    x = np.arange(10, dtype=np.float32)[:, None, None]
    y = np.array([0] * 8 + [1] * 2)
    rep = representative_sample(x, y, 4, seed=0)
    assert len(rep) == 4 and sorted(rep[-2:, 0, 0].tolist()) == [8.0, 9.0]


# --- safe loading --------------------------------------------------------------------------------


def _lambda_model(path):
    import keras

    inp = keras.Input((L, 1))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inp)
    out = keras.layers.Dense(5)(keras.layers.GlobalAveragePooling1D()(x))
    keras.Model(inp, out).save(path)


@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_lambda_layer_is_refused_unless_unsafe(tmp_path, ext):
    path = str(tmp_path / f"m{ext}")
    _lambda_model(path)
    with pytest.raises(ModelError, match="Lambda layer.*pass --unsafe-load"):
        load_model_file(path)
    assert load_model_file(path, unsafe=True).input_shape == (L, 1)


def test_truncated_tflite(tmp_path, trained):
    content = convert(trained[0].model, "fp32")
    path = tmp_path / "m.tflite"
    path.write_bytes(content[: len(content) // 3])
    with pytest.raises(ModelError, match=r"m\.tflite: not a valid \.tflite model"):
        load_model_file(str(path))
    path.write_bytes(b"garbage")
    with pytest.raises(ModelError, match="no TFL3 identifier"):
        load_model_file(str(path))


def test_truncated_keras(tmp_path, trained):
    path = tmp_path / "m.keras"
    trained[0].model.save(path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ModelError, match=r"m\.keras: not a valid \.keras file"):
        load_model_file(str(path))


def test_wrong_format_and_missing_file(tmp_path):
    with pytest.raises(ModelError, match="unsupported model format .pt"):
        load_model_file(str(tmp_path / "m.pt"))
    with pytest.raises(ModelError, match="file not found"):
        load_model_file(str(tmp_path / "m.keras"))


def test_input_shape_is_checked(tmp_path, trained):
    path = tmp_path / "m.keras"
    trained[0].model.save(path)
    mf = load_model_file(str(path))
    with pytest.raises(ModelError, match=r"expects input \(187, 1\), the data gives \(1000, 1\)"):
        check_fits(mf, (1000, 1), ("a", "b"))
    with pytest.raises(ModelError, match="has 2 outputs, the data has 5 classes"):
        check_fits(mf, (187, 1), ("N", "S", "V", "F", "Q"))


def test_soft_target_loss_is_kl_of_softened_distributions():
    from ecg_energy.models.train import logits_distillation

    teacher, student, t = np.array([[2.0, 0.0, -1.0]]), np.array([[0.5, 0.2, 0.1]]), 4.0
    pt = np.exp(teacher / t) / np.exp(teacher / t).sum()
    ps = np.exp(student / t) / np.exp(student / t).sum()
    by_hand = t * t * float((pt * np.log(pt / ps)).sum())  # = 0.60259
    got = float(logits_distillation(t).compute_loss(teacher, student))
    assert got == pytest.approx(by_hand, rel=1e-4) and by_hand == pytest.approx(0.60259, abs=1e-5)


def test_same_seed_same_weights():
    xt, yt = _toy(64, 0)
    xv, yv = _toy(32, 1)
    cfg = TrainConfig(epochs=2, batch_size=16, seed=5)
    a = train_classifier(build("student", L, 2, seed=5), (xt, yt), (xv, yv), cfg, "a").model
    b = train_classifier(build("student", L, 2, seed=5), (xt, yt), (xv, yv), cfg, "b").model
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_cross_entropy_of_logits_by_hand():
    from ecg_energy.models.train import cross_entropy

    # equal logits: log 2 for either label; [log 3, 0] with label 0: p = 3/4, -log(3/4)
    assert cross_entropy(np.zeros((2, 2)), np.array([0, 1])) == pytest.approx(np.log(2))
    assert cross_entropy(np.array([[np.log(3), 0.0]]), np.array([0])) == pytest.approx(
        np.log(4 / 3)
    )
    # a large shift of all logits changes nothing (computed stably)
    assert cross_entropy(np.array([[1000.0 + np.log(3), 1000.0]]), np.array([0])) == pytest.approx(
        np.log(4 / 3)
    )


def test_weight_average_by_hand():
    from ecg_energy.models.train import average_decay, average_step

    # the first update is the weights; then decay 0.75: 0.75 * 2 + 0.25 * 4 = 2.5
    mean = average_step(None, [np.array([2.0])], 0.75)
    assert average_step(mean, [np.array([4.0])], 0.75)[0].tolist() == [2.5]
    # a mean age of one epoch of 200 batches: 1 - 1/200; of half an epoch of 200: 1 - 1/100
    assert average_decay(1.0, 200) == pytest.approx(0.995)
    assert average_decay(0.5, 200) == pytest.approx(0.99)
    with pytest.raises(ValueError, match="average_epochs"):
        TrainConfig(average_epochs=-1)


def test_selection_scores_and_keeps_the_averaged_weights():
    import keras

    from ecg_energy.models.train import _selection_callback

    net = keras.Sequential([keras.Input((1,)), keras.layers.Dense(2)])
    w1 = [np.ones_like(w) for w in net.get_weights()]
    w2 = [3 * np.ones_like(w) for w in net.get_weights()]
    cb = _selection_callback(net, np.ones((4, 1), np.float32), np.array([0, 1, 0, 1]), 5,
                             decay=0.5)  # fmt: skip
    cb.set_model(net)
    net.set_weights(w1)
    cb.on_train_batch_end(0)
    net.set_weights(w2)
    cb.on_train_batch_end(1)
    cb.on_epoch_end(0)
    # the epoch's kept weights are the mean of the two batches' (0.5 · 1 + 0.5 · 3 = 2), scored
    # as such (weights and bias 2: both logits equal, cross-entropy log 2), and training goes
    # on from the trained weights
    assert all(np.allclose(w, 2.0) for w in cb.best_weights)
    assert cb.losses[0] == pytest.approx(np.log(2), abs=1e-6)
    assert all(np.allclose(w, 3.0) for w in net.get_weights())


def test_weight_average_enters_build_keys_only_when_set():
    from ecg_energy.models.variants import train_settings

    # models built before the setting existed keep their keys; a run that sets it rebuilds
    assert "average_epochs" not in train_settings(TrainConfig())
    assert train_settings(TrainConfig(average_epochs=1.0))["average_epochs"] == 1.0
