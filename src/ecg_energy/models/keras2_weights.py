"""Keras 2 weights in Keras 3's layout: the ``.keras`` weights file of Keras 2.13-2.15, and the
cuDNN-only recurrent layers (CuDNNLSTM, CuDNNGRU) as the standard LSTM and GRU.

Keras 2.13-2.15 wrote a ``.keras`` model's weights under ``_layer_checkpoint_dependencies``, a
dict that lists every layer *with weights* twice (``layer_with_weights-k`` and ``layer-i``, the
same object): each entry takes a name from its class (``conv1d``, ``conv1d_1``, ...) and only the
first is written, so the second Conv1D of a model lands at ``conv1d_2``. Keras 3 names each layer
once (``layers/conv1d_1``) and so misses every repeated class with weights.
:func:`keras3_weights` rewrites the file's groups to the names Keras 3 reads (pure over h5py
groups; nothing is executed).
"""

from __future__ import annotations

import io

import numpy as np

KERAS2_LAYERS = "_layer_checkpoint_dependencies"


def keras2_layout(h5file) -> bool:
    """True for a weights file written by Keras 2.13-2.15 (layers under
    ``_layer_checkpoint_dependencies``)."""
    return KERAS2_LAYERS in h5file


def _snake(name: str) -> str:
    from keras.src.utils.naming import to_snake_case

    return to_snake_case(name)


def _unique(name: str, used: dict[str, int]) -> str:
    """The saving libraries' own rule: ``conv1d``, then ``conv1d_1``, ``conv1d_2``..."""
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def layer_paths(layers) -> list[tuple[str, str]]:
    """``(keras2_name, keras3_name)`` for each ``(keras2_class, has_weights)`` of a model's
    layers, in order: Keras 2 spends a second name on every layer with weights."""
    used2: dict[str, int] = {}
    used3: dict[str, int] = {}
    out = []
    for cls, has_weights in layers:
        snake = _snake(cls)
        keras2 = _unique(snake, used2)
        if has_weights:
            _unique(snake, used2)  # its second entry, never written
        out.append((keras2, _unique(snake, used3)))
    return out


def keras3_weights(model, keras2_classes: dict[str, str], src) -> bytes:
    """The bytes of a Keras 3 ``model.weights.h5`` holding the Keras 2.13-2.15 weights file
    ``src`` (an open h5py File) for ``model`` (the Keras 3 model built from the translated
    config). ``keras2_classes`` maps a layer's name to its class name in the Keras 2 config
    (where Keras 3 renamed it, the path keeps Keras 2's name)."""
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as dst:
        if "vars" in src:
            src.copy(src["vars"], dst, "vars")
        _copy_model(model, keras2_classes, src, "", dst, "")
    return buf.getvalue()


def _copy_model(model, classes, src, path2, dst, path3) -> None:
    import keras

    layers = list(model.layers)
    names = layer_paths(
        [(classes.get(ly.name, type(ly).__name__), bool(ly.weights)) for ly in layers]
    )
    if not _all_present(src, path2, layers, [n2 for n2, _ in names]):
        # a file that named each layer once (as Keras 3 does) under Keras 2's group
        single = [(n3, n3) for _, n3 in names]
        if _all_present(src, path2, layers, [n2 for n2, _ in single]):
            names = single
    for layer, (name2, name3) in zip(layers, names):
        old = f"{path2}/{KERAS2_LAYERS}/{name2}".lstrip("/")
        new = f"{path3}/layers/{name3}".lstrip("/")
        if old not in src:
            continue
        if isinstance(layer, keras.Model):
            group = src[old]
            if "vars" in group:
                dst.require_group(new)
                src.copy(group["vars"], dst[new], "vars")
            _copy_model(layer, classes, src, old, dst, new)
        else:
            parent = new.rsplit("/", 1)[0]
            dst.require_group(parent)
            src.copy(src[old], dst[parent], name3)


def _all_present(src, path2: str, layers, names2: list[str]) -> bool:
    """Every layer with weights has a group of that name in the file."""
    return all(
        f"{path2}/{KERAS2_LAYERS}/{n}".lstrip("/") in src
        for ly, n in zip(layers, names2)
        if ly.weights
    )


# --- cuDNN recurrent layers -----------------------------------------------------------------


def _gates(kernel: np.ndarray, transform, n_gates: int) -> np.ndarray:
    return np.hstack([transform(k) for k in np.hsplit(kernel, n_gates)])


def _from_cudnn_input(kernel: np.ndarray) -> np.ndarray:
    # Keras 2's transpose_input(from_cudnn=True): the gate's block read in cuDNN's
    # (Fortran) order
    return kernel.T.reshape(kernel.shape, order="F")


def cudnn_lstm_weights(kernel, recurrent, bias) -> list[np.ndarray]:
    """CuDNNLSTM's three weights as LSTM's: each gate's input and recurrent blocks re-laid, and
    cuDNN's two biases (input and recurrent, 8·units) summed to LSTM's one (4·units), as Keras
    2's ``_convert_rnn_weights`` did when it loaded a CuDNNLSTM file into an LSTM."""
    kernel, recurrent, bias = (np.asarray(w) for w in (kernel, recurrent, bias))
    return [
        _gates(kernel, _from_cudnn_input, 4),
        _gates(recurrent, lambda k: k.T, 4),
        np.sum(np.split(bias, 2, axis=0), axis=0),
    ]


def cudnn_gru_weights(kernel, recurrent, bias) -> list[np.ndarray]:
    """CuDNNGRU's weights as GRU's with ``reset_after=True`` (Keras 2's conversion): blocks
    re-laid as for the LSTM, the 6·units bias as GRU's (2, 3·units) input and recurrent biases."""
    kernel, recurrent, bias = (np.asarray(w) for w in (kernel, recurrent, bias))
    return [
        _gates(kernel, _from_cudnn_input, 3),
        _gates(recurrent, lambda k: k.T, 3),
        bias.reshape((2, -1)),
    ]


def convert_cudnn_h5(weights_group, layers: dict[str, str]) -> None:
    """Rewrite, in place, the weights of the cuDNN layers ``layers`` (name -> CuDNNLSTM or
    CuDNNGRU) in a Keras 2 ``.h5`` file's ``model_weights`` group (opened writable): each triple
    ``<name>/kernel:0``, ``recurrent_kernel:0``, ``bias:0`` (also a Bidirectional's
    ``forward_<name>`` / ``backward_<name>``) in the standard layer's layout."""
    convert = {"CuDNNLSTM": cudnn_lstm_weights, "CuDNNGRU": cudnn_gru_weights}
    owners = {}
    for name, cls in layers.items():
        for prefix in ("", "forward_", "backward_"):
            owners[prefix + name] = convert[cls]

    def visit(group) -> None:
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in group.attrs.get("weight_names", [])]  # fmt: skip
        by_owner: dict[str, list[str]] = {}
        for n in names:
            parts = n.split("/")
            if len(parts) >= 2 and parts[-2] in owners:
                by_owner.setdefault("/".join(parts[:-1]), []).append(n)
        for prefix, members in by_owner.items():
            order = [next((m for m in members if m.endswith(f"/{w}:0")), None)
                     for w in ("kernel", "recurrent_kernel", "bias")]  # fmt: skip
            if None in order:
                continue
            new = owners[prefix.split("/")[-1]](*(group[m][()] for m in order))
            for m, array in zip(order, new):
                del group[m]
                group[m] = array
        for key in group:
            if hasattr(group[key], "keys") and key != "vars":
                visit(group[key])

    visit(weights_group)
