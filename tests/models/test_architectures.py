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


# width 0.5, depth 2 (filters 4 | 6, 8), 1000 samples (strides 5, 2, 2: 200, 100, 50 positions):
#   conv 200·7·1·4; depthwise 100·7·4, 50·7·6; pointwise 100·4·6, 50·6·8; dense 8·5 = 15,340 MACs
STUDENT_HALF_2 = 5_600 + 2_800 + 2_100 + 2_400 + 2_400 + 40
# width 2, depth 4 (filters 16 | 24, 32, 48, 64), first conv stride 4 and 9 taps (250, 125, 63,
# 32, 16 positions): conv 250·9·16; depthwise 125·7·16, 63·7·24, 32·7·32, 16·7·48;
#   pointwise 125·16·24, 63·24·32, 32·32·48, 16·48·64; dense 64·5            = 268,136 MACs
STUDENT_WIDE_4 = (36_000 + 14_000 + 10_584 + 7_168 + 5_376 + 48_000 + 48_384 + 49_152 + 49_152
                  + 320)  # fmt: skip


def test_student_defaults_are_the_student():
    model = build("student", 1000, 5, width=1.0, depth=3, stride=5, kernel=7)
    assert model.count_params() == 1_489
    assert total_macs(model) == STUDENT_1000 == 52_720


@pytest.mark.parametrize(("params", "macs"), [
    ({"width": 0.5, "depth": 2}, STUDENT_HALF_2),
    ({"width": 2.0, "depth": 4, "stride": 4, "kernel": 9}, STUDENT_WIDE_4),
])  # fmt: skip
def test_student_parametrised_by_hand(params, macs):
    assert total_macs(build("student", 1000, 5, **params)) == macs


def test_student_filters_round_half_up():
    from ecg_energy.models.architectures import student_filters

    assert student_filters() == (8, 12, 16, 24)
    assert student_filters(0.625, 1) == (5, 8)  # 8 x 0.625 = 5, 12 x 0.625 = 7.5 -> 8
    with pytest.raises(ValueError, match="depth must be 1 to 6"):
        student_filters(1.0, 7)
    with pytest.raises(ValueError, match="width must be positive"):
        student_filters(0.0, 3)
