"""The ONNX counter against hand counts, on graphs built node by node with ``onnx.helper``."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto as TP
from onnx import helper as oh
from onnx import numpy_helper as nh

from ecg_energy.errors import ModelError
from ecg_energy.ops.counts import layernorm_ops, recurrent_cell_ops
from ecg_energy.ops.onnx_ops import count_onnx

F = TP.FLOAT


def _model(nodes, inputs, outputs, weights=(), opset=17):
    """A model from nodes, (name, type, shape) inputs/outputs and {name: array} weights."""
    graph = oh.make_graph(
        nodes,
        "g",
        [oh.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [oh.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        [nh.from_array(np.asarray(a), n) for n, a in dict(weights).items()],
    )
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _w(*shape, dtype=np.float32):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


def _ops(counts):
    return {o.op: o for o in counts.ops}


def test_conv1d_as_conv_on_1x1x100_by_hand():
    # Conv 1 -> 4 channels, kernel 5, valid: 100 - 5 + 1 = 96 positions; 96·5·1·4 = 1,920 MACs
    # (+ 96·4 = 384 bias adds); ReLU: 384 comparisons; MaxPool 2/2: 4·48 = 192 outputs, one
    # comparison each; weights 4·1·5·4 B = 80, bias 16 B
    nodes = [oh.make_node("Conv", ["x", "W", "b"], ["c"], kernel_shape=[5]),
             oh.make_node("Relu", ["c"], ["r"]),
             oh.make_node("MaxPool", ["r"], ["y"], kernel_shape=[2], strides=[2])]  # fmt: skip
    m = _model(nodes, [("x", F, [1, 1, 100])], [("y", F, [1, 4, 48])],
               {"W": _w(4, 1, 5), "b": _w(4)})  # fmt: skip
    c = count_onnx(m)
    conv, relu, pool = c.ops
    assert (conv.macs, conv.other) == (1920, {"add": 384})
    assert (conv.weight_bytes, conv.bias_bytes) == (80, 16)
    assert conv.output_shape == (1, 4, 96) and conv.precision == "fp32"
    assert conv.input_bytes == 400 and conv.output_bytes == 96 * 4 * 4
    assert relu.other == {"cmp": 384} and pool.other == {"cmp": 192}
    assert c.macs == 1920 and c.uncounted == [] and c.source == "onnx"
    # peak: ReLU's input and output (1,536 B each) alive together = 3,072 B
    assert c.peak_activation_bytes == 1536 + 1536


def test_grouped_depthwise_and_transposed_conv_by_hand():
    # on (1, 4, 96): groups 2, 4 -> 8, kernel 3, valid: 94 positions · 3 · (4 / 2) · 8 = 4,512
    # depthwise (group 4), kernel 3, pads 1: 96 · 3 · 4 = 1,152
    # transposed, 4 -> 2, kernel 3, on 10 positions (a Slice of the first 10): 10·3·4·2 = 240
    nodes = [oh.make_node("Conv", ["x", "Wg"], ["g"], group=2, kernel_shape=[3]),
             oh.make_node("Conv", ["x", "Wd"], ["d"], group=4, kernel_shape=[3], pads=[1, 1]),
             oh.make_node("Slice", ["d", "s0", "s1", "ax"], ["ds"]),
             oh.make_node("ConvTranspose", ["ds", "Wt"], ["t"], kernel_shape=[3]),
             oh.make_node("Concat", ["g", "g"], ["y"], axis=1)]  # fmt: skip
    m = _model(nodes, [("x", F, [1, 4, 96])], [("y", F, [1, 16, 94]), ("t", F, [1, 2, 12])],
               {"Wg": _w(8, 2, 3), "Wd": _w(4, 1, 3), "Wt": _w(4, 2, 3),
                "s0": np.array([0]), "s1": np.array([10]), "ax": np.array([2])})  # fmt: skip
    c = count_onnx(m)
    macs = [o.macs for o in c.ops]
    assert macs == [4512, 1152, 0, 240, 0]
    assert c.ops[3].output_shape == (1, 2, 12)  # (10 - 1) + 3


def test_gemm_and_matmul_by_hand():
    # Gemm (1, 20) × (20, 5) + bias: 20·5 = 100 MACs, 5 adds; transB with W (5, 20): the same
    # batched MatMul (1, 4, 6, 8) × (8, 3): 4·6 rows · 8 · 3 = 576 MACs, weight 96 B
    # MatMul of two activations, (1, 5, 8) × its transpose (1, 8, 5): 5·5·8 = 200 MACs, no weight
    nodes = [oh.make_node("Gemm", ["a", "W", "b"], ["y1"]),
             oh.make_node("Gemm", ["a", "Wt"], ["y2"], transB=1),
             oh.make_node("MatMul", ["m", "B"], ["y3"]),
             oh.make_node("Transpose", ["q"], ["qt"], perm=[0, 2, 1]),
             oh.make_node("MatMul", ["q", "qt"], ["y4"]),
             oh.make_node("Concat", ["y1", "y2"], ["y"], axis=1)]  # fmt: skip
    m = _model(nodes, [("a", F, [1, 20]), ("m", F, [1, 4, 6, 8]), ("q", F, [1, 5, 8])],
               [("y", F, [1, 10]), ("y3", F, [1, 4, 6, 3]), ("y4", F, [1, 5, 5])],
               {"W": _w(20, 5), "b": _w(5), "Wt": _w(5, 20), "B": _w(8, 3)})  # fmt: skip
    ops = count_onnx(m).ops
    g1, g2, mm, _, att, _ = ops
    assert (g1.macs, g1.other, g1.weight_bytes, g1.bias_bytes) == (100, {"add": 5}, 400, 20)
    assert (g2.macs, g2.other) == (100, {})
    assert (mm.macs, mm.weight_bytes) == (576, 96)
    assert (att.macs, att.weight_bytes, att.output_shape) == (200, 0, (1, 5, 5))


def _recurrent_model(op: str, gates: int, direction: str = "forward"):
    """x (batch, 10 steps, 8 features) -> Transpose to (steps, batch, features) -> op, 16 units."""
    dirs = 2 if direction == "bidirectional" else 1
    nodes = [oh.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             oh.make_node(op, ["xt", "W", "R", "B"], ["Y", "Y_h"], hidden_size=16,
                          direction=direction)]  # fmt: skip
    return _model(nodes, [("x", F, ["N", 10, 8])], [("Y_h", F, [dirs, "N", 16])],
                  {"W": _w(dirs, gates * 16, 8), "R": _w(dirs, gates * 16, 16),
                   "B": _w(dirs, 2 * gates * 16)})  # fmt: skip


def test_lstm_gru_rnn_by_hand():
    # LSTM, 10 steps, 8 inputs, 16 units: 10 · 4 · 16 · (8 + 16) = 15,360 MACs
    lstm = _ops(count_onnx(_recurrent_model("LSTM", 4)))["LSTM"]
    assert lstm.macs == 15_360
    assert lstm.other == recurrent_cell_ops(10, 16, "lstm")
    # weights W 64·8 + R 64·16 floats = 6,144 B; bias 128 floats = 512 B
    assert (lstm.weight_bytes, lstm.bias_bytes) == (6144, 512)
    # bidirectional: both directions run the whole sequence, 2 × 15,360
    bi = _ops(count_onnx(_recurrent_model("LSTM", 4, "bidirectional")))["LSTM"]
    assert bi.macs == 30_720 and bi.other == recurrent_cell_ops(20, 16, "lstm")
    # GRU: 10 · 3 · 16 · 24 = 11,520; simple RNN: 10 · 1 · 16 · 24 = 3,840
    assert _ops(count_onnx(_recurrent_model("GRU", 3)))["GRU"].macs == 11_520
    assert _ops(count_onnx(_recurrent_model("RNN", 1)))["RNN"].macs == 3_840


def test_norms_pools_activations_and_elementwise_by_hand():
    # on (1, 4, 96) = 384 elements
    nodes = [oh.make_node("BatchNormalization", ["x", "s", "b", "mu", "var"], ["bn"]),
             oh.make_node("Add", ["bn", "x"], ["add"]),
             oh.make_node("Clip", ["add", "lo", "hi"], ["clip"]),
             oh.make_node("Sigmoid", ["clip"], ["sig"]),
             oh.make_node("LeakyRelu", ["sig"], ["lr"], alpha=0.1),
             oh.make_node("InstanceNormalization", ["lr", "s", "b"], ["inorm"]),
             oh.make_node("GlobalAveragePool", ["inorm"], ["gap"]),
             oh.make_node("AveragePool", ["inorm"], ["ap"], kernel_shape=[4], strides=[4]),
             oh.make_node("Transpose", ["ap"], ["apt"], perm=[0, 2, 1]),
             oh.make_node("LayerNormalization", ["apt", "ls", "lb"], ["ln"], axis=-1),
             oh.make_node("Softmax", ["ln"], ["sm"]),
             oh.make_node("Flatten", ["gap"], ["y"])]  # fmt: skip
    ch = [np.ones(4, np.float32)] * 4
    m = _model(nodes, [("x", F, [1, 4, 96])], [("y", F, [1, 4]), ("sm", F, [1, 24, 4])],
               {"s": ch[0], "b": ch[1], "mu": ch[2], "var": ch[3], "lo": np.float32(0),
                "hi": np.float32(6), "ls": np.ones(4, np.float32), "lb": np.zeros(4, np.float32)})  # fmt: skip
    ops = _ops(count_onnx(m))
    assert ops["BatchNormalization"].other == {"mul": 384, "add": 384}
    assert ops["BatchNormalization"].weight_bytes + ops["BatchNormalization"].bias_bytes == 32
    assert ops["Add"].other == {"add": 384}
    assert ops["Clip"].other == {"cmp": 768}  # two bounds
    assert ops["Sigmoid"].other == {"exp": 384, "add": 384, "div": 384}
    assert ops["LeakyRelu"].other == {"cmp": 384, "mul": 384}
    # instance norm: 4 rows (one a channel) of 96 positions; layer norm on (1, 24, 4) over its
    # last axis: 24 rows of 4 features
    assert ops["InstanceNormalization"].other == layernorm_ops(4, 96)
    assert ops["LayerNormalization"].other == layernorm_ops(24, 4)
    # global average: 95 adds and a multiply per channel; average pool 4/4: 4·24 outputs
    assert ops["GlobalAveragePool"].other == {"add": 4 * 95, "mul": 4}
    assert ops["AveragePool"].other == {"add": 96 * 3, "mul": 96}
    assert ops["Softmax"].other == {"exp": 96, "add": 96, "div": 96, "cmp": 96}
    assert ops["Transpose"].other == {} and ops["Transpose"].counted
    assert ops["Flatten"].input_bytes == ops["Flatten"].output_bytes == 0


def test_a_symbolic_batch_resolves_to_1():
    nodes = [oh.make_node("Conv", ["x", "W"], ["y"], kernel_shape=[5])]
    w = {"W": _w(4, 1, 5)}

    def counted(batch):
        return count_onnx(_model(nodes, [("x", F, [batch, 1, 100])], [("y", F, [batch, 4, 96])], w))

    dynamic, unknown, static = counted("batch"), counted(None), counted(1)
    assert dynamic.macs == unknown.macs == static.macs == 1920
    assert dynamic.ops[0].output_shape == (1, 4, 96)


def test_a_dynamic_length_is_refused_in_one_line():
    nodes = [oh.make_node("Conv", ["x", "W"], ["y"], kernel_shape=[5])]
    m = _model(nodes, [("x", F, ["N", 1, "L"])], [("y", F, ["N", 4, "L2"])], {"W": _w(4, 1, 5)})
    with pytest.raises(ModelError) as err:
        count_onnx(m, "net.onnx")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("net.onnx: input 'x' dimension 2 is dynamic (L)")
    assert "fixed window length" in msg


def test_an_unknown_operator_is_listed_uncounted():
    # CumSum does work (adds) that this counter does not know: listed, never counted as zero
    nodes = [oh.make_node("Conv", ["x", "W"], ["c"], kernel_shape=[5]),
             oh.make_node("CumSum", ["c", "axis"], ["y"])]  # fmt: skip
    m = _model(nodes, [("x", F, [1, 1, 100])], [("y", F, [1, 4, 96])],
               {"W": _w(4, 1, 5), "axis": np.array(2)})  # fmt: skip
    with pytest.warns(UserWarning, match="CumSum"):
        c = count_onnx(m)
    assert c.uncounted == ["1:cumsum (CumSum)"]
    cum = c.ops[1]
    assert not cum.counted and cum.output_shape == (1, 4, 96) and cum.input_bytes == 1536
    assert c.macs == 1920


def test_reshape_to_a_computed_shape_resolves():
    # Flatten the way exporters write it: Reshape(x, Concat(Shape(x)[0], -1)); the shape
    # arithmetic works on constants once the batch is 1 (load time: not listed)
    nodes = [oh.make_node("Shape", ["x"], ["s"]),
             oh.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             oh.make_node("Unsqueeze", ["n", "zero1"], ["n1"]),
             oh.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             oh.make_node("Reshape", ["x", "shape"], ["f"]),
             oh.make_node("Gemm", ["f", "W"], ["y"])]  # fmt: skip
    m = _model(nodes, [("x", F, ["N", 4, 6])], [("y", F, ["N", 3])],
               {"zero": np.array(0), "zero1": np.array([0]), "minus1": np.array([-1]),
                "W": _w(24, 3)})  # fmt: skip
    c = count_onnx(m)
    assert [o.op for o in c.ops] == ["Reshape", "Gemm"]
    assert c.ops[0].output_shape == (1, 24) and c.macs == 24 * 3


def _qdq_conv():
    """x (1, 1, 100) float -> Q -> DQ -> Conv (int8 weights via DQ, int32 bias via DQ) -> Q -> DQ
    -> y: onnxruntime fuses DQ -> Conv -> Q into one int8 convolution."""
    s, z = np.float32(0.05), np.int8(0)
    nodes = [oh.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             oh.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"]),
             oh.make_node("DequantizeLinear", ["Wq", "ws", "wz"], ["W"], axis=0),
             oh.make_node("DequantizeLinear", ["bq", "bs", "bz"], ["b"], axis=0),
             oh.make_node("Conv", ["xd", "W", "b"], ["c"], kernel_shape=[5]),
             oh.make_node("QuantizeLinear", ["c", "s", "z"], ["cq"]),
             oh.make_node("DequantizeLinear", ["cq", "s", "z"], ["y"])]  # fmt: skip
    weights = {"s": s, "z": z, "Wq": np.ones((4, 1, 5), np.int8),
               "ws": np.full(4, 0.01, np.float32), "wz": np.zeros(4, np.int8),
               "bq": np.zeros(4, np.int32), "bs": np.full(4, 0.0005, np.float32),
               "bz": np.zeros(4, np.int32)}  # fmt: skip
    return _model(nodes, [("x", F, ["N", 1, 100])], [("y", F, ["N", 4, 96])], weights, opset=13)


def test_qdq_conv_is_int8_with_weights_as_stored():
    c = count_onnx(_qdq_conv())
    # left: the input's QuantizeLinear (100 elements: a multiply and an add each), the int8 Conv,
    # the output's DequantizeLinear (384); the weights' DequantizeLinear run once, at load
    assert [o.op for o in c.ops] == ["QuantizeLinear", "Conv", "DequantizeLinear"]
    q, conv, dq = c.ops
    assert q.other == {"mul": 100, "add": 100} and dq.other == {"mul": 384, "add": 384}
    # 96 · 5 · 1 · 4 = 1,920 int8 MACs; each of the 384 outputs rescaled from int32
    assert (conv.macs, conv.precision, conv.requant) == (1920, "int8", 384)
    assert (conv.weight_bytes, conv.bias_bytes) == (20, 16)  # int8 kernel, int32 bias
    assert (conv.input_bytes, conv.output_bytes) == (100, 384)  # int8 tensors
    assert c.macs_by_precision() == {"int8": 1920}


def test_weight_only_dequantized_conv_is_hybrid():
    nodes = [oh.make_node("DequantizeLinear", ["Wq", "ws", "wz"], ["W"], axis=0),
             oh.make_node("Conv", ["x", "W"], ["y"], kernel_shape=[5])]  # fmt: skip
    m = _model(nodes, [("x", F, [1, 1, 100])], [("y", F, [1, 4, 96])],
               {"Wq": np.ones((4, 1, 5), np.int8), "ws": np.full(4, 0.01, np.float32),
                "wz": np.zeros(4, np.int8)}, opset=13)  # fmt: skip
    (conv,) = count_onnx(m).ops
    assert (conv.precision, conv.weight_bytes, conv.requant) == ("hybrid", 20, 0)


def test_integer_operators_are_int8():
    # QLinearConv: the QOperator form of the convolution above; 1,920 MACs, 384 requantized
    nodes = [oh.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"]),
             oh.make_node("QLinearConv", ["xq", "s", "z", "Wq", "ws", "wz", "s", "z", "bq"],
                          ["cq"], kernel_shape=[5]),
             oh.make_node("DequantizeLinear", ["cq", "s", "z"], ["y"])]  # fmt: skip
    m = _model(nodes, [("x", F, [1, 1, 100])], [("y", F, [1, 4, 96])],
               {"s": np.float32(0.05), "z": np.int8(0), "Wq": np.ones((4, 1, 5), np.int8),
                "ws": np.full(4, 0.01, np.float32), "wz": np.zeros(4, np.int8),
                "bq": np.zeros(4, np.int32)}, opset=13)  # fmt: skip
    qc = _ops(count_onnx(m))["QLinearConv"]
    assert (qc.macs, qc.precision, qc.requant, qc.weight_bytes, qc.bias_bytes) == (
        1920, "int8", 384, 20, 16)  # fmt: skip
    # dynamic quantization: DynamicQuantizeLinear (2 comparisons, a multiply and an add per
    # element) -> MatMulInteger (1, 20) × (20, 5) int8: 100 MACs, int32 out (no requant)
    nodes = [oh.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
             oh.make_node("MatMulInteger", ["xq", "Wq", "xz"], ["acc"]),
             oh.make_node("Cast", ["acc"], ["y"], to=F)]  # fmt: skip
    m = _model(nodes, [("x", F, [1, 20])], [("y", F, [1, 5])],
               {"Wq": np.ones((20, 5), np.int8)}, opset=13)  # fmt: skip
    ops = _ops(count_onnx(m))
    assert ops["DynamicQuantizeLinear"].other == {"cmp": 40, "mul": 20, "add": 20}
    mi = ops["MatMulInteger"]
    assert (mi.macs, mi.precision, mi.requant, mi.weight_bytes) == (100, "int8", 0, 100)


def test_shapes_inference_leaves_open_are_resolved_by_one_run():
    # onnxruntime's own Gelu has no ONNX shape function: its output, and so the Gemm's input,
    # are resolved by one run on zeros. Gelu (erf form) on 20 elements: 60 multiplies, 20 adds,
    # 20 erf; Gemm (1, 20) × (20, 5): 100 MACs
    nodes = [oh.make_node("Gelu", ["x"], ["g"], domain="com.microsoft"),
             oh.make_node("Gemm", ["g", "W"], ["y"])]  # fmt: skip
    m = _model(nodes, [("x", F, ["N", 20])], [("y", F, ["N", 5])], {"W": _w(20, 5)})
    m.opset_import.append(oh.make_opsetid("com.microsoft", 1))
    gelu, gemm = count_onnx(m).ops
    assert gelu.op == "com.microsoft.Gelu" and gelu.output_shape == (1, 20)
    assert gelu.other == {"mul": 60, "add": 20, "exp": 20}
    assert gemm.macs == 100


def test_local_functions_are_expanded_and_an_omitted_output_is_skipped():
    from onnx import helper

    # MyRelu, a function of the model itself, holds one Relu: 12 comparisons; the LSTM leaves
    # out its first output (Y) and gives only Y_h: 4 steps · 4 · 2 units · (3 + 2) = 160 MACs
    fn = helper.make_function("local", "MyRelu", ["a"], ["b"], [oh.make_node("Relu", ["a"], ["b"])],
                              [oh.make_opsetid("", 17)])  # fmt: skip
    nodes = [oh.make_node("MyRelu", ["x"], ["r"], domain="local"),
             oh.make_node("Reshape", ["r", "shape"], ["seq"]),
             oh.make_node("LSTM", ["seq", "W", "R"], ["", "y"], hidden_size=2)]  # fmt: skip
    m = _model(nodes, [("x", F, [1, 12])], [("y", F, [1, 1, 2])],
               {"shape": np.array([4, 1, 3]), "W": _w(1, 8, 3), "R": _w(1, 8, 2)})  # fmt: skip
    m.functions.append(fn)
    m.opset_import.append(oh.make_opsetid("local", 1))
    c = count_onnx(m)
    assert [(o.op, o.macs, o.other) for o in c.ops][0] == ("Relu", 0, {"cmp": 12})
    assert _ops(c)["LSTM"].macs == 160 and _ops(c)["LSTM"].output_shape == (1, 1, 2)
