"""WHILE loops in LiteRT models: the trip count read from the graph (a constant limit, a loop
variable, a tensor's shape), checked on real TensorFlow conversions and on graphs written by hand;
a loop whose trip count the graph does not fix is counted once and marked a lower bound."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ecg_energy.ops.tflite_loops import loop_trips
from ecg_energy.ops.tflite_ops import Graph, Operator, Tensor, count_tflite, read_graphs


def _t(i: int, shape=(), value=None, signature=()) -> Tensor:
    return Tensor(i, f"t{i}", tuple(shape), "int32", 4, value is not None, value, tuple(signature))


def _op(name: str, inputs, outputs, **options) -> Operator:
    return Operator(name, tuple(inputs), tuple(outputs), options, tuple(inputs))


def _loop(cond_ops, cond_tensors, parent_tensors, parent_ops=(), step=1):
    """A parent graph whose op 0.. feed a WHILE over loop variables (counter, limit, sequence);
    the body adds ``step`` to the counter and passes the rest on."""
    body = Graph([_t(0), _t(1), _t(2, (13, 1, 8)), _t(3), _t(4, (1,), (step,))],
                 [_op("ADD", (0, 4), (3,))], (0, 1, 2), (3, 1, 2))  # fmt: skip
    cond = Graph(cond_tensors, list(cond_ops), (0, 1, 2), (cond_tensors[-1].index,))
    loop = Operator("WHILE", (0, 1, 2), (10, 11, 12),
                    {"condSubgraphIndex": 1, "bodySubgraphIndex": 2}, (0, 1, 2))  # fmt: skip
    parent = Graph(parent_tensors, [*parent_ops, loop], (), (10,))
    return [parent, cond, body], parent, loop


SEQ = (13, 1, 8)  # 13 time steps, batch 1, 8 features
BASE = [_t(0, (), (0,)), _t(1, (), (13,)), _t(2, SEQ)]  # counter from 0, limit 13, the sequence


def test_less_than_a_constant_and_its_mirror():
    cond = [_t(0), _t(1), _t(2, SEQ), _t(3, (), (13,)), _t(4)]
    assert loop_trips(*_loop([_op("LESS", (0, 3), (4,))], cond, BASE)) == 13
    assert loop_trips(*_loop([_op("GREATER", (3, 0), (4,))], cond, BASE)) == 13
    assert loop_trips(*_loop([_op("LESS_EQUAL", (0, 3), (4,))], cond, BASE)) == 14
    # step 2 from 0 below 13: 0, 2, ..., 12 = 7 trips
    assert loop_trips(*_loop([_op("LESS", (0, 3), (4,))], cond, BASE, step=2)) == 7


def test_limit_in_a_loop_variable_computed_in_the_parent():
    # the parent reads the limit from its sequence's shape: SHAPE -> STRIDED_SLICE [0]
    parent = [_t(0, (), (0,)), _t(1), _t(2, SEQ), _t(3, (3,)), _t(4, (1,), (0,)),
              _t(5, (1,), (1,)), _t(6, (1,), (1,))]  # fmt: skip
    ops = [_op("SHAPE", (2,), (3,)), _op("STRIDED_SLICE", (3, 4, 5, 6), (1,), shrinkAxisMask=1)]
    cond = [_t(0), _t(1), _t(2, SEQ), _t(4)]
    assert loop_trips(*_loop([_op("LESS", (0, 1), (4,))], cond, parent, ops)) == 13


def test_limit_from_the_loop_shape_and_the_smallest_of_two_tests():
    # time < shape(sequence)[0] and counter < min(20, 16): 13 trips
    cond = [_t(0), _t(1), _t(2, SEQ), _t(3, (3,)), _t(4, (1,), (0,)), _t(5), _t(6), _t(7, (), (20,)),
            _t(8, (), (16,)), _t(9), _t(10), _t(11)]  # fmt: skip
    ops = [_op("SHAPE", (2,), (3,)), _op("GATHER", (3, 4), (5,)), _op("LESS", (0, 5), (6,)),
           _op("MINIMUM", (7, 8), (9,)), _op("LESS", (0, 9), (10,)),
           _op("LOGICAL_AND", (6, 10), (11,))]  # fmt: skip
    assert loop_trips(*_loop(ops, cond, BASE)) == 13
    cond[7] = _t(7, (), (9,))  # the counter's limit now 9: the loop stops first there
    assert loop_trips(*_loop(ops, cond, BASE)) == 9


def test_a_dynamic_dimension_is_unknown_not_one():
    seq = _t(2, (1, 1, 8), signature=(-1, 1, 8))  # the 1 a test run gave a dynamic dimension
    cond = [_t(0), _t(1), seq, _t(3, (3,)), _t(4, (1,), (0,)), _t(5), _t(6)]
    ops = [_op("SHAPE", (2,), (3,)), _op("GATHER", (3, 4), (5,)), _op("LESS", (0, 5), (6,))]
    assert loop_trips(*_loop(ops, cond, BASE)) is None


def _convert(fn, *specs) -> bytes:
    import tensorflow as tf

    concrete = tf.function(fn).get_concrete_function(*specs)
    return tf.lite.TFLiteConverter.from_concrete_functions([concrete]).convert()


def _lstm_model():
    """The shape of a published ECG model, smaller: strided Conv2Ds over a (T, 1, 1) input,
    two LSTMs, a Dense."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    x = keras.Input((100, 1, 1))
    y = layers.Conv2D(4, (5, 1), strides=(2, 1), padding="same")(x)
    y = layers.Conv2D(4, (5, 1), strides=(2, 1), padding="same")(y)
    y = layers.Reshape((25, 4))(y)
    y = layers.LSTM(8, return_sequences=True)(y)
    y = layers.LSTM(4)(y)
    return keras.Model(x, layers.Dense(3)(y))


def test_keras_lstms_converted_to_while_loops_count_as_in_keras():
    import tensorflow as tf

    from ecg_energy.ops.keras_ops import count_keras

    model = _lstm_model()
    content = _convert(lambda t: model(t), tf.TensorSpec([1, 100, 1, 1], tf.float32))
    assert [op.name for op in read_graphs(content)[0].ops].count("WHILE") == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counts = count_tflite(content)
    # Conv2D 50 positions x 4 filters x 5 taps x 1 channel = 1,000
    # Conv2D 25 positions x 4 filters x 5 taps x 4 channels = 2,000
    # LSTM(8) over 25 steps: 4 gates x 8 units x (4 inputs + 8 units) = 384 a step -> 9,600
    # LSTM(4) over 25 steps: 4 gates x 4 units x (8 inputs + 4 units) = 192 a step -> 4,800
    # Dense 4 x 3 = 12
    assert counts.macs == 1000 + 2000 + 9600 + 4800 + 12 == count_keras(model).macs
    assert counts.lower_bound == []


@pytest.fixture(scope="module")
def weights():
    return np.linspace(-1, 1, 24).reshape(4, 6).astype(np.float32)


def _walk(weights):
    """A tf.while_loop over the time axis of x, one (4 x 6) product a step."""
    import tensorflow as tf

    def fn(x):
        n = tf.shape(x)[1]

        def body(i, acc):
            return i + 1, acc + tf.matmul(tf.gather(x, i, axis=1), weights)

        zeros = tf.zeros([tf.shape(x)[0], 6])
        return tf.while_loop(lambda i, acc: i < n, body, [tf.constant(0), zeros])[1]

    return fn


def test_while_loop_over_a_known_number_of_steps(weights):
    import tensorflow as tf

    content = _convert(_walk(weights), tf.TensorSpec([None, 7, 4], tf.float32))
    counts = count_tflite(content)
    assert "WHILE" in [op.name for op in read_graphs(content)[0].ops]
    assert counts.macs == 7 * 4 * 6 and counts.lower_bound == []  # 7 steps x 24 = 168


def test_while_loop_over_an_unknown_number_of_steps_is_a_marked_lower_bound(weights, tmp_path):
    import tensorflow as tf
    from typer.testing import CliRunner

    from ecg_energy.cli import app

    content = _convert(_walk(weights), tf.TensorSpec([1, None, 4], tf.float32))
    with pytest.warns(UserWarning, match="trip count is not fixed by the graph"):
        counts = count_tflite(content)
    assert counts.macs == 4 * 6  # the body once: a lower bound, and said to be one
    assert counts.totals()["lower_bound"] == [
        "2:while (WHILE: trip count unknown, body counted once)"
    ]
    path = tmp_path / "walk.tflite"
    path.write_bytes(content)
    out = CliRunner().invoke(app, ["count", str(path)]).output
    assert "total MACs at least 24 " in out
    assert "warning: a lower bound: 2:while (WHILE: trip count unknown, body counted once)" in out
    estimate = CliRunner().invoke(app, ["estimate", str(path)]).output
    assert "walk                         ≥24" in estimate and "≥: a lower bound" in estimate
