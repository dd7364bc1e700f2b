"""Recurrent, attention, normalisation, transposed-convolution, shape and nested-model layers:
hand counts, and the Keras walker against the LiteRT counter on the converted float model.

Models here get random weights before conversion: the converter drops an all-zero bias (a fresh
layer's), which a trained model never has. Recurrent models take a batch-1 input: the converter
cannot lower a Keras recurrent layer with a dynamic batch (TensorListReserve needs a static
element shape).
"""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.ops.counts import (
    attention_macs,
    layernorm_ops,
    recurrent_cell_ops,
    recurrent_macs,
    transpose_conv_macs,
    while_trips,
)
from ecg_energy.ops.keras_ops import count_keras
from ecg_energy.ops.tflite_ops import count_tflite


def _randomised(model, seed: int = 0):
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(0.3 * rng.standard_normal(tuple(w.shape)).astype(np.float32))
    return model


def _litert(model):
    from ecg_energy.models.quantize import convert

    return count_tflite(convert(_randomised(model), "fp32", unroll=False))  # the WHILE form


def _by_name(counts) -> dict:
    return {o.name: o for o in counts.ops}


# --- the two published shapes: CNN + LSTM, and a small transformer block ----------------------


def test_cnn_lstm_keras_and_litert_agree_with_hand_count():
    import keras
    from keras import layers

    inp = keras.Input((40, 1), batch_size=1)
    x = layers.Conv1D(8, 5, padding="same", activation="relu", name="conv")(inp)
    x = layers.MaxPooling1D(4, name="pool")(x)
    x = layers.LSTM(16, name="lstm")(x)
    model = keras.Model(inp, layers.Dense(3, name="head")(x))
    k, t = count_keras(model), _litert(model)
    # conv: 40 positions × 5 taps × 1 × 8 channels             =  1,600
    # LSTM: 10 steps × 4 gates × 16 units × (8 + 16)           = 15,360
    # head: 16 × 3                                             =     48
    assert recurrent_macs(10, 8, 16, "lstm") == 15_360
    assert _by_name(k)["lstm"].macs == 15_360
    assert k.macs == t.macs == 1_600 + 15_360 + 48 == 17_008
    assert k.uncounted == t.uncounted == []
    # the loop body's two FULLY_CONNECTED products run 10 times: (16·64 + 8·64) × 10
    body = [o for o in t.ops if "/body/" in o.name and o.macs]
    assert sorted(o.macs for o in body) == [8 * 64 * 10, 16 * 64 * 10]
    # element-wise work is the same but for the loop's own bookkeeping in LiteRT: two counter
    # adds per step, and the condition (two LESS and a LOGICAL_AND) checked 11 times
    cell = recurrent_cell_ops(10, 16, "lstm")
    assert _by_name(k)["lstm"].other == cell
    expected = dict(k.other_ops())
    expected["add"] += 2 * 10
    expected["cmp"] += 3 * 11
    assert t.other_ops() == expected
    # weights: kernels 8·64 + 16·64, bias 64; LiteRT also stores the loop's four int32 bounds
    assert _by_name(k)["lstm"].weight_bytes == (8 * 64 + 16 * 64) * 4
    assert _by_name(k)["lstm"].bias_bytes == 64 * 4
    assert t.weight_bytes == k.weight_bytes + 4 * 4


def test_transformer_block_keras_and_litert_agree_with_hand_count():
    import keras
    from keras import layers

    inp = keras.Input((6, 8), batch_size=1)
    att = layers.MultiHeadAttention(2, 4, value_dim=3, name="mha")(inp, inp)
    x = layers.LayerNormalization(name="ln1")(layers.Add()([inp, att]))
    f = layers.Dense(16, activation="relu", name="ff1")(x)
    f = layers.Dense(8, name="ff2")(f)
    x = layers.LayerNormalization(name="ln2")(layers.Add()([x, f]))
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inp, layers.Dense(2, name="head")(x))
    k, t = count_keras(model), _litert(model)
    # MHA, 6 steps of 8 features, 2 heads, keys of 4, values of 3, output 8:
    #   Q 6·8·2·4 = 384, K 384, V 6·8·2·3 = 288, output 6·2·3·8 = 288      = 1,344
    #   scores 2 heads · 6 · 6 · 4 = 288, context 2 · 6 · 6 · 3 = 216      =   504
    # feed-forward: 6·8·16 = 768 and 6·16·8 = 768; head 8·2 = 16
    assert sum(attention_macs(6, 6, 8, 2, 4, 3, 8).values()) == 1_848
    assert _by_name(k)["mha"].macs == 1_848
    assert k.macs == t.macs == 1_848 + 768 + 768 + 16 == 3_400
    assert k.uncounted == t.uncounted == []
    # the two attention products are LiteRT's BATCH_MATMULs
    assert sorted(o.macs for o in t.ops if o.op == "BATCH_MATMUL") == [216, 288]
    # element-wise work differs by format, so only MACs are compared: LiteRT scales the scores
    # (2·6·6 multiplies) where Keras scales the queries (6·2·4), and lowers layer normalisation
    # to MEAN, SQUARED_DIFFERENCE, RSQRT, MUL and ADD with γ folded into the scale
    mha = _by_name(k)["mha"].other
    assert mha["mul"] == 6 * 2 * 4 and mha["exp"] == 2 * 6 * 6
    assert mha["add"] == 6 * 8 + 6 * 8 + 6 * 6 + 6 * 8 + 2 * 6 * 6  # 4 biases + softmax sum
    assert {o.op for o in t.ops} >= {"MEAN", "SQUARED_DIFFERENCE", "RSQRT"}


# --- each layer by hand (Keras), then Keras against LiteRT ------------------------------------


def test_recurrent_layers_by_hand():
    import keras
    from keras import layers

    def count(layer):
        inp = keras.Input((10, 8))
        return count_keras(keras.Model(inp, layer(inp))).ops[1]

    lstm, lstm_seq = count(layers.LSTM(16)), count(layers.LSTM(16, return_sequences=True))
    assert lstm.macs == lstm_seq.macs == 10 * 4 * 16 * (8 + 16) == 15_360
    assert lstm.other == lstm_seq.other  # returning the sequence does no extra arithmetic
    gru, gru_v1 = count(layers.GRU(16)), count(layers.GRU(16, reset_after=False))
    assert gru.macs == gru_v1.macs == 10 * 3 * 16 * (8 + 16) == 11_520
    assert gru.weight_bytes == (8 * 48 + 16 * 48) * 4
    assert gru.bias_bytes == 2 * 48 * 4 and gru_v1.bias_bytes == 48 * 4  # reset_after: 2 biases
    rnn = count(layers.SimpleRNN(16))
    assert rnn.macs == 10 * 16 * (8 + 16) == 3_840
    assert rnn.other == {"add": 3 * 160, "exp": 160, "div": 160}  # 2 adds and a tanh per unit
    bi_cat = count(layers.Bidirectional(layers.LSTM(16)))
    bi_sum = count(layers.Bidirectional(layers.LSTM(16), merge_mode="sum"))
    assert bi_cat.macs == bi_sum.macs == 2 * 15_360
    assert bi_cat.other == {k: 2 * v for k, v in lstm.other.items()}  # concatenation is free
    assert bi_sum.other["add"] == bi_cat.other["add"] + 16  # one add per merged unit
    assert bi_cat.weight_bytes == 2 * lstm.weight_bytes


def test_recurrent_layers_keras_and_litert_agree():
    import keras
    from keras import layers

    inp = keras.Input((10, 8), batch_size=1)
    branches = [
        layers.GRU(16)(inp),
        layers.GRU(16, reset_after=False)(inp),
        layers.SimpleRNN(16)(inp),
        layers.Bidirectional(layers.LSTM(16), merge_mode="sum")(inp),
    ]
    model = keras.Model(inp, layers.Dense(2)(layers.Concatenate()(branches)))
    k, t = count_keras(model), _litert(model)
    # GRU 11,520 twice (either reset variant), SimpleRNN 3,840, Bidirectional LSTM 2 × 15,360,
    # dense (4 × 16) · 2 = 128
    assert k.macs == t.macs == 2 * 11_520 + 3_840 + 2 * 15_360 + 128 == 57_728
    assert k.uncounted == t.uncounted == []
    assert sum(o.op == "WHILE" for o in t.ops) == 5  # one loop per direction and layer


def test_layer_normalization_by_hand():
    import keras
    from keras import layers

    inp = keras.Input((4, 8))
    op = count_keras(keras.Model(inp, layers.LayerNormalization()(inp))).ops[1]
    # 4 rows of 8 (32 elements): mean 7 adds + 1 scale per row; variance a subtract and a square
    # per element, 7 adds + 1 scale per row; eps add and rsqrt per row; subtract and multiply
    # per element; γ multiply and β add per element
    assert op.macs == 0
    by_hand = {"add": 4 * 7 + 32 + 4 * 7 + 4 + 32 + 32, "mul": 4 + 32 + 4 + 32 + 32, "div": 4}
    assert op.other == layernorm_ops(4, 8) == by_hand == {"add": 156, "mul": 104, "div": 4}
    assert op.weight_bytes == 8 * 4 and op.bias_bytes == 8 * 4


def test_attention_with_a_separate_key_by_hand():
    import keras
    from keras import layers

    q, v, key = keras.Input((4, 8)), keras.Input((6, 5)), keras.Input((6, 7))
    out = layers.MultiHeadAttention(2, 3, value_dim=2, name="mha")(q, v, key=key)
    op = _by_name(count_keras(keras.Model([q, v, key], out)))["mha"]
    # Q 4·8·2·3 = 192, K 6·7·2·3 = 252, V 6·5·2·2 = 120, output 4·2·2·8 = 128,
    # scores 2·4·6·3 = 144, context 2·4·6·2 = 96
    assert op.macs == 192 + 252 + 120 + 128 + 144 + 96 == 932


def test_shape_layers_and_transposed_conv_1d():
    import keras
    from keras import layers

    inp = keras.Input((10, 4))
    outs = [
        layers.Conv1D(3, 3)(layers.ZeroPadding1D(2)(inp)),  # (14, 4) -> 12 · 3 · 4 · 3 = 432
        layers.Conv1D(2, 1)(layers.Cropping1D((1, 2))(inp)),  # (7, 4) -> 7 · 1 · 4 · 2 = 56
        layers.Dense(5)(layers.Permute((2, 1))(inp)),  # (4, 10) -> 4 · 10 · 5 = 200
        layers.Conv1D(2, 1)(layers.UpSampling1D(2)(inp)),  # (20, 4) -> 20 · 4 · 2 = 160
        layers.Conv1DTranspose(2, 3, activation="relu", name="up_conv")(inp),  # below
        layers.TimeDistributed(layers.Dense(3), name="td")(inp),  # 10 steps · 4 · 3 = 120
    ]
    model = keras.Model(inp, outs)
    k = count_keras(model)
    ops = {o.op: o for o in k.ops}
    for free in ("ZeroPadding1D", "Cropping1D", "Permute", "UpSampling1D"):
        assert ops[free].counted and ops[free].macs == 0 and ops[free].other == {}
    # transposed: 10 input positions × 3 taps × 4 in × 2 out = 240; output (12, 2)
    up = _by_name(k)["up_conv"]
    assert up.macs == transpose_conv_macs(10, 3, 4, 2) == 240 and up.output_shape == (12, 2)
    assert up.other == {"add": 24, "cmp": 24}  # bias and ReLU per output
    assert up.weight_bytes == 3 * 4 * 2 * 4 and up.bias_bytes == 2 * 4
    td = _by_name(k)["td"]
    assert td.macs == 120 and td.other == {"add": 30} and td.weight_bytes == 4 * 3 * 4
    t = _litert(model)
    assert k.macs == t.macs == 432 + 56 + 200 + 160 + 240 + 120 == 1_208
    assert k.uncounted == t.uncounted == []
    assert [o.macs for o in t.ops if o.op == "TRANSPOSE_CONV"] == [240]


def test_shape_layers_and_transposed_conv_2d():
    import keras
    from keras import layers

    inp = keras.Input((5, 5, 4))
    up = layers.UpSampling2D(2)(inp)  # (10, 10, 4)
    x = layers.ZeroPadding2D(1)(layers.Cropping2D(((1, 1), (2, 2)))(up))  # (8, 6, 4) -> (10, 8, 4)
    outs = [
        layers.Conv2DTranspose(2, 3, strides=2, padding="same")(inp),  # 25 · 9 · 4 · 2 = 1,800
        layers.Conv2D(3, 1)(x),  # 10 · 8 · 4 · 3 = 960
        layers.UpSampling2D(2, interpolation="bilinear", name="smooth")(inp),  # no MACs
    ]
    model = keras.Model(inp, outs)
    k, t = count_keras(model), _litert(model)
    assert k.macs == t.macs == 1_800 + 960 == 2_760
    assert k.uncounted == t.uncounted == []
    # bilinear: 3 interpolations (a multiply and 2 adds each) per output, 10 · 10 · 4 outputs
    smooth = {"mul": 3 * 400, "add": 6 * 400}
    assert _by_name(k)["smooth"].other == smooth
    assert [o.other for o in t.ops if o.op == "RESIZE_BILINEAR"] == [smooth]


def test_nested_and_shared_models_are_walked_into():
    import keras
    from keras import layers

    x_in = keras.Input((10, 4))
    y = layers.Dense(2, name="proj")(layers.Conv1D(8, 3, padding="same", name="conv")(x_in))
    inner = keras.Model(x_in, y, name="inner")  # conv 10·3·4·8 = 960, proj 10·8·2 = 160
    seq = keras.Sequential([keras.Input((10, 2)), layers.Dense(3, name="seq_dense")], name="seq")
    inp = keras.Input((10, 4))
    a = inner(inp)
    b = inner(layers.ReLU()(inp))  # the same sub-model again: its work is done twice
    z = seq(layers.Add()([a, b]))  # 10 · 2 · 3 = 60
    model = keras.Model(inp, layers.Dense(1, name="out")(layers.Flatten()(z)))  # 30 · 1
    k = count_keras(model)
    names = _by_name(k)
    assert names["inner/conv"].macs == names["inner#2/conv"].macs == 960
    assert names["inner/proj"].macs == names["inner#2/proj"].macs == 160
    assert names["seq/seq_dense"].macs == 60
    assert "inner" not in names and "seq" not in names  # the sub-models are their layers
    assert k.macs == 2 * (960 + 160) + 60 + 30 == 2_330
    assert k.uncounted == []
    assert _litert(model).macs == 2_330


def test_a_shared_layer_counts_every_call():
    import keras
    from keras import layers

    inp = keras.Input((5,))
    dense = layers.Dense(5, name="shared")
    k = count_keras(keras.Model(inp, dense(dense(inp))))
    names = _by_name(k)
    assert names["shared"].macs == names["shared#2"].macs == 25 and k.macs == 50


def test_keras_operations_embedding_and_masking():
    import keras
    from keras import layers

    tokens = keras.Input((10,), dtype="int32")
    emb = layers.Embedding(20, 4, name="emb")(tokens)
    signal = keras.Input((10, 4))
    masked = layers.Masking(name="mask")(signal)
    model = keras.Model([tokens, signal], emb + masked)  # `+` on symbolic tensors: a node too
    k = count_keras(model)
    names = _by_name(k)
    assert names["emb"].weight_bytes == 20 * 4 * 4 and names["emb"].other == {}
    assert names["mask"].other == {"cmp": 40, "mul": 40}
    assert [o.other for o in k.ops if o.op == "Add"] == [{"add": 40}]
    assert k.uncounted == []


# --- what stays uncounted, and loops -----------------------------------------------------------


def test_a_layer_without_formula_is_still_listed():
    import keras
    from keras import layers

    inp = keras.Input((6, 4))
    x = layers.Lambda(lambda t: keras.ops.cumsum(t, axis=1), name="cumsum")(inp)
    model = keras.Model(inp, layers.Dense(2)(x))
    with pytest.warns(UserWarning, match="not counted"):
        k = count_keras(model)
    assert k.uncounted == ["cumsum (Lambda)"] and k.macs == 6 * 4 * 2
    with pytest.warns(UserWarning, match="CUMSUM"):
        t = _litert(model)
    assert len(t.uncounted) == 1 and "(CUMSUM)" in t.uncounted[0] and t.macs == 6 * 4 * 2


def test_while_trips():
    assert while_trips(0, 10, 1) == 10
    assert while_trips(0, 10, 3) == 4  # 0, 3, 6, 9
    assert while_trips(5, 3, 1) == 0
    with pytest.raises(ValueError):
        while_trips(0, 10, 0)


def _fused_lstm(steps: int, features: int, units: int) -> bytes:
    """A LiteRT model of one UNIDIRECTIONAL_SEQUENCE_LSTM operator (as other converters fuse a
    Keras 2 LSTM), written with LiteRT's own schema."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    rng = np.random.default_rng(0)
    buffers, tensors = [s.BufferT()], []

    def tensor(shape, data=False, variable=False) -> int:
        t = s.TensorT()
        t.shape, t.type, t.name = np.array(shape, np.int32), 0, f"t{len(tensors)}".encode()
        t.isVariable, t.buffer = variable, 0
        if data:
            b = s.BufferT()
            b.data = np.frombuffer(
                rng.standard_normal(shape).astype(np.float32).tobytes(), np.uint8
            )
            buffers.append(b)
            t.buffer = len(buffers) - 1
        tensors.append(t)
        return len(tensors) - 1

    x = tensor([1, steps, features])
    gates_in = [tensor([units, features], True) for _ in range(4)]
    gates_rec = [tensor([units, units], True) for _ in range(4)]
    biases = [tensor([units], True) for _ in range(4)]
    h, c = tensor([1, units], variable=True), tensor([1, units], variable=True)
    y = tensor([1, steps, units])
    op = s.OperatorT()
    op.opcodeIndex = 0
    op.inputs = np.array([x, *gates_in, *gates_rec, -1, -1, -1, *biases, -1, -1, h, c,
                          -1, -1, -1, -1], np.int32)  # fmt: skip
    op.outputs = np.array([y], np.int32)
    op.builtinOptionsType = s.BuiltinOptions.UnidirectionalSequenceLSTMOptions
    op.builtinOptions = s.UnidirectionalSequenceLSTMOptionsT()
    op.builtinOptions.fusedActivationFunction, op.builtinOptions.timeMajor = 4, False  # tanh
    graph = s.SubGraphT()
    graph.tensors, graph.operators = tensors, [op]
    graph.inputs, graph.outputs = np.array([x], np.int32), np.array([y], np.int32)
    code = s.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    code.version = 1
    model = s.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, [code], [graph], buffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def test_fused_sequence_lstm_counts_like_the_keras_layer():
    import keras
    from keras import layers

    content = _fused_lstm(10, 8, 16)
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_content=content)  # a model LiteRT itself runs
    runner.allocate_tensors()
    runner.invoke()
    t = count_tflite(content)
    inp = keras.Input((10, 8))
    k = count_keras(keras.Model(inp, layers.LSTM(16, return_sequences=True)(inp)))
    # 10 steps × (4 gates × 16 × 8 input weights + 4 × 16 × 16 recurrent weights) = 15,360
    assert t.macs == k.macs == 15_360 and t.uncounted == []
    assert t.other_ops() == k.other_ops() == recurrent_cell_ops(10, 16, "lstm")
    assert t.weight_bytes == k.weight_bytes == (4 * 16 * 8 + 4 * 16 * 16 + 4 * 16) * 4


def test_recurrence_over_unknown_steps_is_listed_in_both():
    import keras
    from keras import layers

    from ecg_energy.models.quantize import convert

    inp = keras.Input((None, 8), batch_size=1)  # any number of time steps
    model = keras.Model(inp, layers.Dense(2, name="head")(layers.LSTM(16, name="lstm")(inp)))
    with pytest.warns(UserWarning, match="dimensions unknown"):
        k = count_keras(model)
    assert k.uncounted == ["lstm (LSTM)"] and k.macs == 16 * 2
    content = convert(model, "fp32")
    with pytest.warns(UserWarning, match="trip count"):
        t = count_tflite(content)  # the loop's limit is the input's length, known only at run time
    # the loop's body counted once, and the figure marked a lower bound: one LSTM step is
    # 4 gates x 16 units x (8 inputs + 16 units) = 1,536 MACs, the head 16 x 2
    assert [u.split(" ")[1] for u in t.lower_bound] == ["(WHILE:"] and t.uncounted == []
    assert t.macs == 1536 + 16 * 2


def test_unrolled_lstm_converts_to_int8_and_counts_the_same():
    import keras
    from keras import layers

    from ecg_energy.models.quantize import convert

    # unrolled, the recurrence is plain operators (a FULLY_CONNECTED pair per step): it converts
    # with a dynamic batch and to full-integer INT8, where the WHILE form does not
    inp = keras.Input((40, 1))
    x = layers.MaxPooling1D(4)(layers.Conv1D(8, 5, padding="same", activation="relu")(inp))
    model = _randomised(keras.Model(inp, layers.Dense(3)(layers.LSTM(16, unroll=True)(x))))
    rep = np.random.default_rng(1).standard_normal((8, 40, 1)).astype(np.float32)
    t = count_tflite(convert(model, "int8", rep))
    assert count_keras(model).macs == t.macs == 1_600 + 15_360 + 48  # as the looped CNN + LSTM
    assert t.macs_by_precision() == {"int8": 17_008} and t.uncounted == []
