"""Operation scale of the built-in architectures, counted analytically and checked by hand."""

from __future__ import annotations

import pytest

from ecg_energy.models.architectures import build
from ecg_energy.ops.counts import flops_from_macs
from ecg_energy.ops.keras_ops import count_keras, total_macs

# original, 1000 samples (pools halve: 1000 -> 500 -> 250 -> 125 -> 62):
#   conv 1000·7·1·32 + 500·7·32·32 + 250·5·32·64 + 125·5·64·64 + 62·3·64·128
#   + dense 128·64 + 64·5                                   = 10,460,224 MACs
ORIGINAL_1000 = 224_000 + 3_584_000 + 2_560_000 + 2_560_000 + 1_523_712 + 8_192 + 320
# student, 1000 samples (strides 5, 2, 2, 2: 200, 100, 50, 25 positions):
#   conv 200·7·1·8; depthwise 100·7·8, 50·7·12, 25·7·16; pointwise 100·8·12, 50·12·16, 25·16·24;
#   dense 24·5                                                = 52,720 MACs
STUDENT_1000 = 11_200 + 5_600 + 4_200 + 2_800 + 9_600 + 9_600 + 9_600 + 120


def test_original_is_at_the_reports_scale():
    macs = total_macs(build("original", 1000, 5))
    assert macs == ORIGINAL_1000 == 10_460_224
    assert 15e6 <= flops_from_macs(macs) <= 30e6


def test_student_is_microcontroller_class():
    macs = total_macs(build("student", 1000, 5))
    assert macs == STUDENT_1000 == 52_720
    assert flops_from_macs(macs) <= 120_000
    assert ORIGINAL_1000 / macs >= 150


def test_first_conv_layer_by_hand():
    first = next(c for c in count_keras(build("original", 1000, 5)).ops if c.op == "Conv1D")
    assert first.macs == 1000 * 7 * 1 * 32 == 224_000  # same padding, stride 1
    assert first.output_shape == (1000, 32)


@pytest.mark.parametrize("name", ["original", "student"])
def test_beat_task_input(name):
    model = build(name, 187, 5)
    assert model.input_shape == (None, 187, 1) and model.output_shape == (None, 5)


def test_unknown_architecture():
    with pytest.raises(KeyError, match="unknown architecture 'resnet'"):
        build("resnet", 1000, 5)
