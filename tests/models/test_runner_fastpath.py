"""LiteRTRunner's fast path (scratch buffer, the interpreter's own buffers, an output table) gives
bit for bit the logits of a plain set_tensor/invoke/get_tensor run with the same arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.models.architectures import build
from ecg_energy.models.quantize import convert
from ecg_energy.models.runners import LiteRTRunner

L = 187


def _windows(n: int, seed: int, offset: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(L) / 125.0
    x = np.sin(2 * np.pi * rng.uniform(1, 10, (n, 1)) * t + rng.uniform(0, 6.3, (n, 1)))
    return (x + offset + 0.05 * rng.standard_normal((n, L))).astype(np.float32)[:, :, None]


@pytest.fixture(scope="module")
def models() -> dict[str, bytes]:
    """An untrained student, as INT8 calibrated on centred windows and on shifted ones (a nonzero
    input zero point), and as float32."""
    model = build("student", L, 3, seed=0)
    return {
        "int8": convert(model, "int8", _windows(32, 0)),
        "int8-shifted": convert(model, "int8", _windows(32, 0, offset=2.0)),
        "fp32": convert(model, "fp32"),
    }


def reference(content: bytes, x: np.ndarray) -> np.ndarray:
    """set_tensor, invoke, get_tensor on a fresh interpreter: round half to even of x / scale, plus
    the zero point, clipped to int8; (y - zero) * scale in float32 on the way out."""
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=content)
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    interp.resize_tensor_input(inp["index"], list(x.shape))
    interp.allocate_tensors()
    if inp["dtype"] == np.int8:
        scale, zero = inp["quantization"]
        x = np.clip(np.round(x / scale) + zero, -128, 127).astype(np.int8)
    interp.set_tensor(inp["index"], np.asarray(x, dtype=inp["dtype"]))
    interp.invoke()
    y = interp.get_tensor(out["index"])
    if out["dtype"] == np.int8:
        scale, zero = out["quantization"]
        return ((y.astype(np.float32) - zero) * scale).astype(np.float32)
    return y.astype(np.float32)


def _inputs(scale: float) -> np.ndarray:
    """Windows with values far outside the int8 range (clipping), exactly halfway between two
    steps (ties), and -0.0, beside ordinary ones."""
    x = _windows(6, 1, offset=0.3)
    x[0, :40, 0] = (np.arange(40) - 20 + 0.5) * np.float32(scale)  # ties
    x[1, :20, 0] = np.linspace(-5e3, 5e3, 20) * np.float32(scale)  # way past -128 and 127
    x[2, :5, 0] = -0.0
    return np.ascontiguousarray(x)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
    assert np.array_equal(a.view(np.uint32), b.view(np.uint32))  # bit for bit, -0.0 included


@pytest.mark.parametrize("name", ["int8", "int8-shifted", "fp32"])
def test_fast_path_matches_the_reference_bit_for_bit(models, name):
    content = models[name]
    runner = LiteRTRunner(content)
    scale = runner._in_q[0] if runner.precision == "int8" else 0.01
    if name == "int8-shifted":
        assert runner._in_q[1] != 0  # the zero point is added on this model
    x = _inputs(scale)
    for b in (1, 6, 1, 4, 6):  # resizing back and forth: no buffer view outlives a call
        got = runner(x[:b])
        _same(got, reference(content, x[:b]))
        _same(got, runner.reference_call(x[:b]))
    batched = runner.predict(x, batch_size=4)
    _same(batched, np.concatenate([reference(content, x[:4]), reference(content, x[4:])]))


def test_each_call_returns_its_own_array(models):
    runner = LiteRTRunner(models["int8"])
    x = _inputs(runner._in_q[0])
    first = runner(x[:1])
    kept = first.copy()
    second = runner(x[1:2])
    assert not np.shares_memory(first, second)
    _same(first, kept)  # a later call leaves an earlier result alone


def test_other_inputs_give_the_same_results(models):
    content = models["int8"]
    runner = LiteRTRunner(content)
    x = _inputs(runner._in_q[0])[:2]
    x64 = x.astype(np.float64)  # divided in float64 on the plain path, as before
    _same(runner(x64), reference(content, x64))
    strided = x[:, ::-1]  # not contiguous: the fast path reads it as it is
    _same(runner(strided), reference(content, np.ascontiguousarray(strided)))
    with pytest.raises(ValueError):
        runner(np.zeros((1, L + 1, 1), np.float32))  # a wrong shape still fails loudly
    _same(runner(x), reference(content, x))  # and leaves the runner usable


def test_buffers_that_move_during_invoke_end_the_held_views(models, monkeypatch):
    import ecg_energy.models.runners as runners

    content = models["int8"]
    runner = LiteRTRunner(content)
    x = _inputs(runner._in_q[0])[:1]
    moved = iter(range(10**6))
    monkeypatch.setattr(runners, "_address", lambda a: next(moved))  # every address differs
    _same(runner(x), reference(content, x))
    assert runner._bound is None  # given up: set_tensor/invoke/get_tensor from now on
    monkeypatch.undo()
    for b in (1, 3):
        _same(runner(x[[0] * b]), reference(content, x[[0] * b]))
