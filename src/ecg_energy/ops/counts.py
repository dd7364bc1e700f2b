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
    """The counts of one operation (a Keras layer or a LiteRT operator)."""

    name: str
    op: str  # the layer class or LiteRT builtin it came from
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

    source: str  # "keras" or "tflite"
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


def depthwise_conv1d_macs(out_len: int, kernel: int, channels: int, multiplier: int = 1) -> int:
    return depthwise_macs(out_len, kernel, channels * multiplier)


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


def attention_macs(q_len: int, kv_len: int, model_dim: int, heads: int, key_dim: int,
                   value_dim: int, out_dim: int, kv_dim: int | None = None) -> dict[str, int]:
    """Multi-head attention (Vaswani et al. 2017), by part:

    - ``projections``: Q = q_len·model_dim·heads·key_dim, K = kv_len·kv_dim·heads·key_dim,
      V = kv_len·kv_dim·heads·value_dim, output = q_len·heads·value_dim·out_dim;
    - ``scores`` (Q·Kᵀ): heads·q_len·kv_len·key_dim;
    - ``context`` (softmax(scores)·V): heads·q_len·kv_len·value_dim.
    E.g. self-attention over 4 steps of 8 features, 2 heads of 4: projections 4·8·8·3 + 4·8·8 =
    1,024, scores 2·4·4·4 = 128, context 128."""
    kv_dim = model_dim if kv_dim is None else kv_dim
    proj = (q_len * model_dim * heads * key_dim + kv_len * kv_dim * heads * key_dim
            + kv_len * kv_dim * heads * value_dim + q_len * heads * value_dim * out_dim)
    return {"projections": proj, "scores": heads * q_len * kv_len * key_dim,
            "context": heads * q_len * kv_len * value_dim}  # fmt: skip


def layernorm_ops(rows: int, features: int, scale: bool = True, center: bool = True) -> dict:
    """Layer normalisation over ``features`` per row: the mean (features adds), the variance
    (a subtract, a multiply and an add per element), then (x - mean)·rsqrt(var + eps) (a
    subtract and a multiply per element, one add and one division per row), then γ and β (a
    multiply and an add per element, when present)."""
    e = rows * features
    return {"add": e + 2 * e + e + rows + (e if center else 0),
            "mul": e + e + (e if scale else 0), "div": rows}  # fmt: skip


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
