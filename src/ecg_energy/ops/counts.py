"""Per-operation counts from shapes: pure functions, one per op kind (fvcore-style).

Conventions (stated because tools disagree by up to 2×, ANCHORS §2):
- A MAC is one multiply and one accumulate. The report this project generalises counted "FLOPs"
  with the TF1 profiler (~2 × MACs plus bias, BN, pooling and softmax work); ``flops_from_macs``
  is the plain 2 × MACs.
- Other arithmetic is counted by kind: ``add``, ``mul``, ``cmp`` (max/ReLU/clamp), ``div``, ``exp``.
- ``requant``: outputs of an INT8 op rescaled from the int32 accumulator (a fixed-point multiply,
  shift and zero-point add each).
- Bytes are for batch 1: weights and biases as stored, activations read and written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

PRECISIONS = ("fp32", "fp16", "int8", "hybrid")


@dataclass(frozen=True)
class OpCount:
    """The counts of one operation (a Keras layer, a LiteRT operator or an ONNX node)."""

    name: str
    op: str  # the layer class, LiteRT builtin or ONNX operator it came from
    macs: int = 0
    other: dict[str, int] = field(default_factory=dict)  # add, mul, cmp, div, exp
    precision: str = "fp32"  # fp32, fp16, int8 (int8 × int8 -> int32), hybrid (int8 weights)
    requant: int = 0
    weight_bytes: int = 0
    bias_bytes: int = 0
    input_bytes: int = 0
    output_bytes: int = 0
    output_shape: tuple[int, ...] = ()
    counted: bool = True  # False: an op this counter does not know (listed, never silently 0)
    lower_bound: bool = False  # True: a loop whose trip count is unknown, its body counted once

    @property
    def weight_element_bytes(self) -> float:
        return {"fp32": 4, "fp16": 2, "int8": 1, "hybrid": 1}.get(self.precision, 4)

    @property
    def activation_element_bytes(self) -> float:
        return {"fp32": 4, "fp16": 2, "int8": 1, "hybrid": 4}.get(self.precision, 4)

    def as_dict(self) -> dict:
        return {**self.__dict__, "other": dict(self.other), "output_shape": list(self.output_shape)}


@dataclass(frozen=True)
class ModelCounts:
    """Every operation of a model, and the model's totals."""

    source: str  # "keras", "tflite" or "onnx"
    ops: tuple[OpCount, ...]
    peak_activation_bytes: int

    @property
    def macs(self) -> int:
        return sum(o.macs for o in self.ops)

    def macs_by_precision(self) -> dict[str, int]:
        out: Counter = Counter()
        for o in self.ops:
            if o.macs:
                out[o.precision] += o.macs
        return dict(out)

    def other_ops(self) -> dict[str, int]:
        out: Counter = Counter()
        for o in self.ops:
            out.update(o.other)
        return dict(out)

    @property
    def requant(self) -> int:
        return sum(o.requant for o in self.ops)

    @property
    def weight_bytes(self) -> int:
        return sum(o.weight_bytes + o.bias_bytes for o in self.ops)

    @property
    def uncounted(self) -> list[str]:
        return [f"{o.name} ({o.op})" for o in self.ops if not o.counted]

    @property
    def lower_bound(self) -> list[str]:
        """Operations whose counts are lower bounds (a loop of unknown trip count): when any,
        every total of the model is a lower bound too."""
        return [f"{o.name} ({o.op}: trip count unknown, body counted once)"
                for o in self.ops if o.lower_bound]  # fmt: skip

    def totals(self) -> dict:
        return {
            "macs": self.macs,
            "flops_2x_macs": flops_from_macs(self.macs),
            "macs_by_precision": self.macs_by_precision(),
            "other_ops": self.other_ops(),
            "requant": self.requant,
            "weight_bytes": self.weight_bytes,
            "activation_bytes_moved": sum(o.input_bytes + o.output_bytes for o in self.ops),
            "peak_activation_bytes": self.peak_activation_bytes,
            "uncounted": self.uncounted,
            "lower_bound": self.lower_bound,
        }


# --- pure count functions ----------------------------------------------------------------------


def conv_macs(
    out_positions: int, kernel_elems: int, in_ch: int, out_ch: int, groups: int = 1
) -> int:
    """out positions × kernel elements × (in_ch / groups) × out_ch.
    E.g. Conv1D 1000 samples, 1 -> 32 channels, kernel 7, same padding: 1000·7·1·32 = 224,000."""
    return out_positions * kernel_elems * (in_ch // groups) * out_ch


def conv1d_macs(out_len: int, kernel: int, in_ch: int, out_ch: int, groups: int = 1) -> int:
    return conv_macs(out_len, kernel, in_ch, out_ch, groups)


def depthwise_macs(out_positions: int, kernel_elems: int, out_ch: int) -> int:
    """out positions × kernel elements × output channels (channels × depth multiplier)."""
    return out_positions * kernel_elems * out_ch


def dense_macs(in_features: int, out_features: int, rows: int = 1) -> int:
    """rows × in × out."""
    return rows * in_features * out_features


def transpose_conv_macs(in_positions: int, kernel_elems: int, in_ch: int, out_ch: int) -> int:
    """Transposed convolution: every input position scatters its ``in_ch`` values through the
    whole kernel into ``out_ch`` channels: in positions × kernel elements × in_ch × out_ch.
    E.g. Conv1DTranspose, 10 samples, 4 -> 2 channels, kernel 3: 10·3·4·2 = 240."""
    return in_positions * kernel_elems * in_ch * out_ch


# gates of the recurrent cells: each gate has an input and a recurrent matrix
RNN_GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}


def recurrent_macs(steps: int, input_size: int, units: int, cell: str) -> int:
    """steps × gates × units × (input_size + units): per time step, every gate's input matmul
    (input_size × units) and recurrent matmul (units × units). LSTM has 4 gates, GRU 3 (with
    ``reset_after`` or not: the same products), a simple RNN 1.
    E.g. LSTM, 10 steps, 8 inputs, 16 units: 10·4·16·(8 + 16) = 15,360."""
    return steps * RNN_GATES[cell] * units * (input_size + units)


def recurrent_cell_ops(steps: int, units: int, cell: str) -> dict[str, int]:
    """The element-wise work of a recurrent cell per time step, beyond its matmuls.

    - LSTM: the 4 gate pre-activations summed (input + recurrent + bias: 2 adds each), three
      sigmoids and two tanh (exp, add, div each), c = f·c + i·g (2 mul, 1 add), h = o·tanh(c)
      (1 mul).
    - GRU: 3 gate pre-activations (2 adds each), two sigmoids and one tanh, the reset product
      (1 mul), h = z·h + (1 - z)·h~ (2 mul, 2 add).
    - simple RNN: 2 adds and one tanh.
    """
    u = steps * units
    if cell == "lstm":
        return {"add": 4 * 2 * u + 5 * u + u, "exp": 5 * u, "div": 5 * u, "mul": 3 * u}
    if cell == "gru":
        return {"add": 3 * 2 * u + 3 * u + 2 * u, "exp": 3 * u, "div": 3 * u, "mul": 3 * u}
    if cell == "simple_rnn":
        return {"add": 2 * u + u, "exp": u, "div": u}
    raise KeyError(cell)


def attention_macs(
    q_len: int,
    kv_len: int,
    model_dim: int,
    heads: int,
    key_dim: int,
    value_dim: int,
    out_dim: int,
    kv_dim: int | None = None,
    key_in_dim: int | None = None,
) -> dict[str, int]:
    """Multi-head attention (Vaswani et al. 2017), by part:

    - ``projections``: Q = q_len·model_dim·heads·key_dim, K = kv_len·key_in_dim·heads·key_dim,
      V = kv_len·kv_dim·heads·value_dim, output = q_len·heads·value_dim·out_dim (``kv_dim``, the
      value's features, defaults to ``model_dim``; ``key_in_dim``, the key's, to ``kv_dim``: the
      key is the value unless given apart);
    - ``scores`` (Q·Kᵀ): heads·q_len·kv_len·key_dim;
    - ``context`` (softmax(scores)·V): heads·q_len·kv_len·value_dim.
    E.g. self-attention over 4 steps of 8 features, 2 heads of 4: projections 4·8·8·3 + 4·8·8 =
    1,024, scores 2·4·4·4 = 128, context 128."""
    kv_dim = model_dim if kv_dim is None else kv_dim
    key_in_dim = kv_dim if key_in_dim is None else key_in_dim
    proj = (
        q_len * model_dim * heads * key_dim
        + kv_len * key_in_dim * heads * key_dim
        + kv_len * kv_dim * heads * value_dim
        + q_len * heads * value_dim * out_dim
    )
    return {"projections": proj, "scores": heads * q_len * kv_len * key_dim,
            "context": heads * q_len * kv_len * value_dim}  # fmt: skip


def attention_ops(
    q_len: int,
    kv_len: int,
    heads: int,
    key_dim: int,
    value_dim: int,
    out_dim: int,
    use_bias: bool = True,
) -> dict[str, int]:
    """The element-wise work of multi-head attention beyond its products: the queries scaled by
    1/√key_dim (q_len·heads·key_dim multiplies), the softmax over every score
    (heads·q_len·kv_len elements, as ``activation_ops``), and with biases one add per projected
    element (Q and K: q_len·heads·key_dim and kv_len·heads·key_dim, V: kv_len·heads·value_dim,
    output: q_len·out_dim)."""
    biases = (q_len * heads * key_dim + kv_len * heads * key_dim + kv_len * heads * value_dim
              + q_len * out_dim) if use_bias else 0  # fmt: skip
    return merge_ops({"mul": q_len * heads * key_dim, "add": biases},
                     activation_ops(heads * q_len * kv_len, "softmax"))  # fmt: skip


def batch_matmul_macs(batch: int, rows: int, inner: int, cols: int) -> int:
    """A batch of (rows × inner) · (inner × cols) products: batch·rows·inner·cols. E.g. attention
    scores of 2 heads over 6 steps with keys of 4: 2·6·4·6 = 288."""
    return batch * rows * inner * cols


def layernorm_ops(rows: int, features: int, scale: bool = True, center: bool = True) -> dict:
    """Layer normalisation over ``features`` per row, reductions counted as ``pool_ops`` counts an
    average (features - 1 adds and one multiply by 1/features per row):

    - the mean: (features - 1) adds and one multiply per row;
    - the variance: a subtract and a square per element, then (features - 1) adds and one
      multiply per row;
    - rsqrt(var + eps): one add and one division per row;
    - (x - mean)·rsqrt: a subtract and a multiply per element;
    - γ and β, when present: a multiply and an add per element.
    E.g. 4 rows of 8: add 2·4·7 + 2·32 + 4 + 32 = 156, mul 2·4 + 2·32 + 32 = 104, div 4."""
    e = rows * features
    return {"add": 2 * rows * (features - 1) + 2 * e + rows + (e if center else 0),
            "mul": 2 * rows + 2 * e + (e if scale else 0), "div": rows}  # fmt: skip


def bidirectional_merge_ops(elems: int, mode: str | None) -> dict[str, int]:
    """Merging the two directions of a bidirectional layer, per output element (``elems``, the
    size of one direction's output): concatenation (or none) is free; sum one add, mul one
    multiply, ave one add and one multiply by ½."""
    if mode in ("concat", None):
        return {}
    if mode == "ave":
        return {"add": elems, "mul": elems}
    return elementwise_ops(elems, 2, {"sum": "add", "mul": "mul"}[mode])


def resize_ops(out_elems: int, kind: str) -> dict[str, int]:
    """Resampling: nearest-neighbour copies (free); bilinear is three linear interpolations per
    output, each a + t·(b - a): 3 multiplies and 6 adds."""
    if kind == "nearest":
        return {}
    if kind == "bilinear":
        return {"mul": 3 * out_elems, "add": 6 * out_elems}
    raise KeyError(kind)


# unary element-wise operators by the kind of arithmetic they cost
UNARY_KINDS = {"neg": "add", "abs": "cmp", "square": "mul", "sqrt": "div", "rsqrt": "div",
               "exp": "exp", "log": "exp"}  # fmt: skip


def unary_ops(elems: int, kind: str) -> dict[str, int]:
    """One operation per element, of the kind ``UNARY_KINDS`` gives: a negation is an add, an
    absolute value a comparison, a square a multiply, a square root (or its reciprocal) a
    division, an exponential or logarithm an exp."""
    return {UNARY_KINDS[kind]: elems}


def reduce_ops(out_elems: int, window: int, kind: str) -> dict[str, int]:
    """A reduction of ``window`` elements to each output: a sum is window - 1 adds, a product
    window - 1 multiplies, a max, min or logical any/all window - 1 comparisons, a mean as
    ``pool_ops`` ("avg")."""
    if kind == "sum":
        return {"add": out_elems * (window - 1)}
    if kind == "prod":
        return {"mul": out_elems * (window - 1)}
    if kind in ("max", "min", "any", "all"):
        return pool_ops(out_elems, window, "max")
    return pool_ops(out_elems, window, "avg")


def scale_ops(ops: dict[str, int], times: int) -> dict[str, int]:
    """Counts of work repeated ``times`` times (a layer applied at every time step, a loop body):
    scale_ops({"add": 3}, 10) == {"add": 30}."""
    return {k: v * times for k, v in ops.items() if v * times}


def while_trips(start: int, limit: int, step: int) -> int:
    """Iterations of ``for (i = start; i < limit; i += step)``: ceil((limit - start) / step), at
    least 0. E.g. a recurrent layer's loop over 10 time steps: while_trips(0, 10, 1) == 10."""
    if step <= 0:
        raise ValueError(f"a loop step of {step} does not count up")
    return max(0, -(-(limit - start) // step))


def pool_ops(out_elems: int, window: int, kind: str) -> dict[str, int]:
    """Max: window - 1 comparisons per output. Average: window - 1 adds and one multiply (by
    1/window) per output."""
    if kind == "max":
        return {"cmp": out_elems * (window - 1)}
    return {"add": out_elems * (window - 1), "mul": out_elems}


def global_pool_ops(positions: int, channels: int, kind: str) -> dict[str, int]:
    return pool_ops(channels, positions, kind)


def batchnorm_ops(elems: int) -> dict[str, int]:
    """Inference batch norm folded to y = x·scale + shift: one multiply and one add per element."""
    return {"mul": elems, "add": elems}


def activation_ops(elems: int, kind: str) -> dict[str, int]:
    """ReLU/ReLU6/clamp: comparisons; sigmoid/tanh: exp, add, div; softmax: exp, add, div."""
    if kind in ("relu", "relu6", "clamp"):
        return {"cmp": elems * (2 if kind == "relu6" else 1)}
    if kind in ("sigmoid", "tanh", "logistic"):
        return {"exp": elems, "add": elems, "div": elems}
    if kind == "softmax":
        return {"exp": elems, "add": elems, "div": elems, "cmp": elems}  # max-subtraction too
    if kind in ("linear", "none"):
        return {}
    raise KeyError(kind)


def pointwise_ops(elems: int, kind: str) -> dict[str, int]:
    """Element-wise functions beyond ``activation_ops``, per element (a transcendental function,
    erf or exp, is one ``exp``):

    - ``leaky_relu`` / ``prelu``: a comparison and a multiply (max(x, a·x));
    - ``elu``: a comparison, an exp, an add and a multiply (a·(exp(x) - 1) below 0);
    - ``hard_sigmoid``: max(0, min(1, a·x + b)): a multiply, an add, two comparisons;
    - ``hard_swish``: x · hard_sigmoid(x): one more multiply;
    - ``erf``: one transcendental;
    - ``gelu`` (erf form, x·0.5·(1 + erf(x/√2))): three multiplies, an add, an erf;
    - ``gelu_tanh`` (x·0.5·(1 + tanh(√(2/π)·(x + 0.044715·x³)))): six multiplies, two adds and
      a tanh (exp, add, div).
    E.g. GELU over 10 elements: {"mul": 30, "add": 10, "exp": 10}."""
    table = {
        "leaky_relu": {"cmp": 1, "mul": 1},
        "prelu": {"cmp": 1, "mul": 1},
        "elu": {"cmp": 1, "exp": 1, "add": 1, "mul": 1},
        "hard_sigmoid": {"mul": 1, "add": 1, "cmp": 2},
        "hard_swish": {"mul": 2, "add": 1, "cmp": 2},
        "erf": {"exp": 1},
        "gelu": {"mul": 3, "add": 1, "exp": 1},
        "gelu_tanh": {"mul": 6, "add": 3, "exp": 1, "div": 1},
    }
    return {k: elems * v for k, v in table[kind].items()}


def elementwise_ops(elems: int, inputs: int, kind: str) -> dict[str, int]:
    """Add/multiply of ``inputs`` tensors: (inputs - 1) operations per element."""
    return {kind: elems * (inputs - 1)}


def merge_ops(*parts: dict[str, int]) -> dict[str, int]:
    """Sum operation counts by kind, dropping zeros: merge_ops({"add": 2}, {"add": 1, "cmp": 0})
    == {"add": 3}."""
    out: dict[str, int] = {}
    for p in parts:
        for k, v in p.items():
            if v:
                out[k] = out.get(k, 0) + v
    return out


def flops_from_macs(macs: int) -> int:
    return 2 * macs


def peak_live_bytes(steps: list[tuple[list[str], list[str]]], sizes: dict[str, int]) -> int:
    """Peak bytes of activations alive at once, running ops in order.

    ``steps``: (input tensor ids, output tensor ids) per op; ``sizes``: bytes per activation tensor
    (constants left out). A tensor lives from the op that makes it (or the start, for model
    inputs) to the last op that reads it.
    """
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for i, (ins, outs) in enumerate(steps):
        for t in ins:
            if t in sizes:
                first.setdefault(t, 0)  # not made by an earlier op: a model input
                last[t] = i
        for t in outs:
            if t in sizes:
                first.setdefault(t, i)
                last.setdefault(t, i)
    peak = 0
    for i in range(len(steps)):
        live = sum(sizes[t] for t in sizes if t in first and first[t] <= i <= last[t])
        peak = max(peak, live)
    return peak
