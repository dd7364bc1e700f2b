"""Energy tables and the datapath estimate against hand-computed values."""

from __future__ import annotations

import pytest

from ecg_energy.energy.estimate import estimate, flat_energy_j
from ecg_energy.energy.tables import load_table, parse_table
from ecg_energy.errors import ConfigError
from ecg_energy.ops.counts import ModelCounts, OpCount


def test_seed_flat_reproduces_the_report():
    # the report: 23,038,511 FLOPs × 0.45 pJ = 1.0367e-5 J per inference
    assert flat_energy_j(23_038_511, load_table("seed-flat").flat_pj_per_flop) == pytest.approx(
        1.0367e-5, rel=1e-4
    )
    counts = ModelCounts("keras", (OpCount("d", "Dense", macs=1000),), 0)
    e = estimate(counts, load_table("seed-flat"))
    assert e.low_j == e.high_j == pytest.approx(2000 * 0.45e-12)  # 2 FLOPs per MAC
    assert e.method == "table:seed-flat" and e.measured is False


def _dense(precision: str, elem: int) -> ModelCounts:
    """Dense 10 -> 5 with bias, batch 1, stored at ``elem`` bytes per weight/activation."""
    op = OpCount("dense", "Dense", macs=50, other={"add": 5}, precision=precision,
                 requant=5 if precision == "int8" else 0, weight_bytes=50 * elem,
                 bias_bytes=5 * 4, input_bytes=10 * elem, output_bytes=5 * elem)  # fmt: skip
    return ModelCounts("keras", (op,), 15 * elem)


def test_int8_to_fp32_mac_energy_is_the_tables_ratio():
    table = load_table("horowitz-45nm")
    fp32, int8 = estimate(_dense("fp32", 4), table), estimate(_dense("int8", 1), table)
    assert int8.mac_j / fp32.mac_j == pytest.approx(0.3 / 4.6)
    assert fp32.mac_j == pytest.approx(50 * 4.6e-12)


def test_range_by_hand_on_chip():
    # 8 KiB buffer: SRAM 1.25 pJ/B (10 pJ per 64-bit read). fp32 dense 10 -> 5 with bias:
    # compute 50·4.6 + 5·0.9 = 234.5 pJ
    # low memory: weights 200 + bias 20 + input 40 + output 20 = 280 B -> 350 pJ
    # high memory: 50 MACs × (4 + 4) B + output 20 B + bias 20 B = 440 B -> 550 pJ
    e = estimate(_dense("fp32", 4), load_table("horowitz-45nm"), buffer_bytes=8192)
    assert e.weights_on_chip and e.activations_on_chip
    assert e.compute_j == pytest.approx(234.5e-12)
    assert e.memory_low_j == pytest.approx(350e-12) and e.memory_high_j == pytest.approx(550e-12)
    assert e.low_j == pytest.approx(584.5e-12) and e.high_j == pytest.approx(784.5e-12)
    assert "not device energy" in e.kind


def test_weights_that_do_not_fit_go_off_chip():
    # 100 B buffer: 220 B of weights go to DRAM (1.3-2.6 nJ per 64 bits = 162.5-325 pJ/B)
    e = estimate(_dense("fp32", 4), load_table("horowitz-45nm"), buffer_bytes=100)
    assert e.weights_on_chip is False
    assert e.memory_low_j >= 220 * 162.5e-12


def test_int8_pays_requantization():
    e = estimate(_dense("int8", 1), load_table("horowitz-45nm"))
    assert e.requant_j == pytest.approx(5 * 3.2e-12)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nflat_pj_per_flop = 0.4\n', "say where the figures come from"),
        ('source = "me"\nflat_pj_per_flop = -1\n', "must be a non-negative number"),
        ('source = "me"\n[mac_pj]\nfp32 = 1\n', "missing section"),
        ("source = [", "not valid TOML"),
    ],
)
def test_bad_user_tables(tmp_path, text, message):
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_table(str(path))


def test_user_table_round_trip(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('source = "datasheet"\nflat_pj_per_flop = 0.2\n')
    assert load_table(str(path)).flat_pj_per_flop == 0.2 and load_table(str(path)).name == "mine"
    with pytest.raises(ConfigError, match="not a built-in table"):
        load_table(str(tmp_path / "none.toml"))


def test_builtin_tables_cite_sources():
    for name in ("seed-flat", "horowitz-45nm", "jouppi-7nm"):
        t = load_table(name)
        assert t.source and t.name == name
    assert load_table("jouppi-7nm").mac("int8") == 0.10
    assert parse_table({"source": "s", "flat_pj_per_flop": 1}, "x").flat
