"""The graph of a Keras 2 functional config in Keras 3's terms: a nested model's calls numbered
as Keras 3 numbers them, and a call whose keyword arguments hold tensors in Keras 3's node form
(pure functions over the JSON dict)."""

from __future__ import annotations


def fix_model(obj: dict) -> None:
    cfg = obj["config"]
    layers = cfg["layers"]
    if "input_layers" not in cfg:  # a Sequential
        first = layers[0] if layers else None
        if (
            isinstance(first, dict)
            and first.get("class_name") != "InputLayer"
            and isinstance(first.get("config"), dict)
            and "batch_input_shape" in first["config"]
        ):
            # Keras 2.2-2.3 kept the input shape on the first layer, without an InputLayer
            fcfg = first["config"]
            dtype = fcfg.get("dtype") if isinstance(fcfg.get("dtype"), str) else "float32"
            inp = {
                "class_name": "InputLayer",
                "config": {
                    "batch_input_shape": fcfg["batch_input_shape"],
                    "dtype": dtype,
                    "sparse": False,
                    "name": f"{fcfg.get('name', 'layer')}_input",
                },
            }
            if "module" in first:
                inp.update(module="keras.layers", registered_name=None)
            layers.insert(0, inp)
        return
    # Keras 2 counted a nested model's own graph as its call 0 (tf.keras when the nested model
    # starts with an InputLayer, Keras 2.2 always), so its calls in the outer graph are 1, 2...;
    # Keras 3 counts them from 0, except in the model's input/output lists, where it still skips
    # one for a nested Functional (not for a nested Sequential). Every call a config keeps is
    # used, so the smallest call number the config gives a nested model tells the numbering.
    used: dict[str, list[int]] = {}
    for ref in _iter_refs([ly.get("inbound_nodes") for ly in layers if isinstance(ly, dict)]):
        used.setdefault(ref[0], []).append(ref[1])
    for ref in _iter_refs(cfg.get("output_layers")):
        used.setdefault(ref[0], []).append(ref[1])
    inner, outer = {}, {}
    for ly in layers:
        if not (isinstance(ly, dict) and _is_model(ly) and used.get(ly.get("name"))):
            continue
        skipped = 1 if min(used[ly["name"]]) >= 1 else 0
        functional = ly.get("class_name") in ("Functional", "Model")
        inner[ly["name"]] = -skipped
        outer[ly["name"]] = (1 if functional else 0) - skipped
    for ly in layers:
        if isinstance(ly, dict) and isinstance(ly.get("inbound_nodes"), list):
            ly["inbound_nodes"] = [_node(n, inner) for n in ly["inbound_nodes"]]
    for key in ("input_layers", "output_layers"):
        if key in cfg:
            cfg[key] = _shift_refs(cfg[key], outer)


def _is_model(layer: dict) -> bool:
    """A nested Functional or Sequential (Keras 2.0-2.2.2 wrote a Sequential as a list)."""
    cfg = layer.get("config")
    return isinstance(cfg, list) or (isinstance(cfg, dict) and isinstance(cfg.get("layers"), list))


def _iter_refs(x):
    """Every tensor reference in a structure; an inbound node's carry their call's keyword
    arguments as a fourth item: ``[name, node_index, tensor_index, {kwargs}]``."""
    if _is_ref(x):
        yield x
    elif isinstance(x, list) and len(x) == 4 and _is_ref(x[:3]) and isinstance(x[3], dict):
        yield x[:3]
        yield from _iter_refs(x[3])
    elif isinstance(x, list):
        for v in x:
            yield from _iter_refs(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from _iter_refs(v)


def _is_ref(x) -> bool:
    """``[layer_name, node_index, tensor_index]``: a tensor as Keras 2 wrote it."""
    return (
        isinstance(x, list)
        and len(x) == 3
        and isinstance(x[0], str)
        and isinstance(x[1], int)
        and isinstance(x[2], int)
    )


def _shift_refs(x, shift: dict):
    """Tensor references with the call numbers of the named layers moved by ``shift[name]``."""
    if _is_ref(x):
        return [x[0], x[1] + shift.get(x[0], 0), x[2]]
    if isinstance(x, list):
        return [_shift_refs(v, shift) for v in x]
    if isinstance(x, dict) and "class_name" not in x:
        return {k: _shift_refs(v, shift) for k, v in x.items()}
    return x


def _has_ref(x) -> bool:
    if _is_ref(x):
        return True
    if isinstance(x, list):
        return any(_has_ref(v) for v in x)
    if isinstance(x, dict):
        return any(_has_ref(v) for v in x.values())
    return False


def _node(node, shift: dict):
    """One call of a layer: the call numbers of nested models shifted; a call whose keyword
    arguments hold tensors (MultiHeadAttention's ``value``) in Keras 3's own form."""
    if not isinstance(node, list):
        return node  # already Keras 3's form
    if node and isinstance(node[0], str):
        node = [node]  # one input written flat
    refs = [_shift_refs(list(r[:3]), shift) + list(r[3:]) for r in node if isinstance(r, list)]
    kwargs = refs[-1][3] if refs and len(refs[-1]) > 3 else {}
    if not (isinstance(kwargs, dict) and _has_ref(kwargs)):
        return refs
    kwargs = _shift_refs(kwargs, shift)
    tensors = [_keras_tensor(r[:3]) for r in refs]
    return {
        "args": [tensors[0] if len(tensors) == 1 else tensors],
        "kwargs": _tensors_in(kwargs),
    }


def _keras_tensor(ref: list) -> dict:
    # the shape is a placeholder: Keras 3 takes the real tensor from the named layer's call
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [], "dtype": "float32", "keras_history": list(ref)}}  # fmt: skip


def _tensors_in(x):
    if _is_ref(x):
        return _keras_tensor(x)
    if isinstance(x, list):
        return [_tensors_in(v) for v in x]
    if isinstance(x, dict):
        return {k: _tensors_in(v) for k, v in x.items()}
    return x
