"""The synthetic database: real WFDB files, every rhythm, rhythm properties in range, reproducible."""

from __future__ import annotations

import filecmp
import json
from collections import Counter

import numpy as np
import pytest
import wfdb

from ecg_energy.data.dsp import peak_to_peak_uv
from ecg_energy.data.synth import SynthConfig, generate

ALL_RHYTHMS = {"(N", "(SBR", "(STACH", "(AFIB", "(SVTA", "(B", "(VTSLOW", "(VT", "(VF", "(VFINE",
               "(ASYS"}  # fmt: skip


def _episodes(db):
    """(record, rhythm aux, start sample, end sample) for every rhythm episode, read with wfdb."""
    out = []
    for name in (db / "RECORDS").read_text().split():
        rec = wfdb.rdrecord(str(db / name))
        ann = wfdb.rdann(str(db / name), "atr")
        starts = [(s, a) for s, sym, a in zip(ann.sample, ann.symbol, ann.aux_note) if sym == "+"]
        ends = [s for s, _ in starts[1:]] + [rec.sig_len]
        out += [(name, a, s, e) for (s, a), e in zip(starts, ends)]
    return out


def test_records_read_back_with_wfdb(synth_db):
    names = (synth_db / "RECORDS").read_text().split()
    assert names == [f"s{i:03d}" for i in range(1, 13)]
    for name in names:
        rec = wfdb.rdrecord(str(synth_db / name))
        ann = wfdb.rdann(str(synth_db / name), "atr")
        assert rec.fs == 250 and rec.units == ["mV"] and rec.n_sig == 1
        assert rec.sig_len == 1.5 * 60 * 250  # episodes add up to the record length
        assert ann.symbol[0] == "+" and ann.sample[0] == 0  # every record starts with a rhythm
        assert set(ann.symbol) <= {"+", "N", "A", "V"}
        assert np.all(np.diff(ann.sample) >= 0)


def test_every_listed_rhythm_is_present(synth_db):
    found = {a for _, a, _, _ in _episodes(synth_db)}
    assert found == ALL_RHYTHMS


def test_records_move_between_rhythms(synth_db):
    per_record = Counter(name for name, *_ in _episodes(synth_db))
    assert all(n >= 2 for n in per_record.values())


def _rates_bpm(db, aux):
    """Mean rate of each episode with this aux note, from its beat annotations."""
    rates = []
    for name, a, s, e in _episodes(db):
        if a != aux:
            continue
        ann = wfdb.rdann(str(db / name), "atr")
        beats = ann.sample[(ann.sample >= s) & (ann.sample < e) & (np.array(ann.symbol) != "+")]
        rates.append(60 * 250 / np.mean(np.diff(beats)))
    return np.array(rates)


@pytest.mark.parametrize(
    ("aux", "lo", "hi"),
    [("(VT", 150, 250), ("(VTSLOW", 100, 150), ("(SVTA", 150, 220), ("(SBR", 35, 60)],
)
def test_rates_in_stated_ranges(synth_db, aux, lo, hi):
    rates = _rates_bpm(synth_db, aux)
    assert len(rates) > 0
    assert rates.min() >= lo and rates.max() <= hi, rates


def _amplitudes(db, aux):
    """Peak-to-peak (µV, 1–30 Hz band) of each episode's interior (0.5 s trimmed at both ends)."""
    out = []
    for name, a, s, e in _episodes(db):
        if a == aux and e - s > 250:
            x = wfdb.rdrecord(str(db / name)).p_signal[s + 125 : e - 125, 0]
            out.append(peak_to_peak_uv(x, 250))
    return np.array(out)


def test_fine_vf_below_200_uv_and_coarse_above(synth_db):
    fine, coarse = _amplitudes(synth_db, "(VFINE"), _amplitudes(synth_db, "(VF")
    assert len(fine) and len(coarse)
    assert fine.max() < 200 and coarse.min() > 200


def test_asystole_below_100_uv(synth_db):
    asys = _amplitudes(synth_db, "(ASYS")
    assert len(asys) and asys.max() < 100


def test_vf_dominant_frequency_3_to_7_hz(synth_db):
    from scipy.signal import welch

    for name, a, s, e in _episodes(synth_db):
        if a == "(VF" and e - s > 10 * 250:
            x = wfdb.rdrecord(str(synth_db / name)).p_signal[s:e, 0]
            f, p = welch(x - x.mean(), fs=250, nperseg=1024)
            band = f > 1.0  # above baseline wander
            assert 3.0 <= f[band][np.argmax(p[band])] <= 7.0


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    cfg = SynthConfig(records=2, minutes=0.5, seed=11)
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    generate(cfg, str(tmp_path / "a"), workers=1)
    generate(cfg, str(tmp_path / "b"), workers=2)  # worker count does not change the bytes
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir())
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", files, shallow=False)
    assert mismatch == [] and errors == []
    (tmp_path / "c").mkdir()
    generate(SynthConfig(records=2, minutes=0.5, seed=12), str(tmp_path / "c"), workers=1)
    assert (tmp_path / "a" / "s001.dat").read_bytes() != (tmp_path / "c" / "s001.dat").read_bytes()


def test_summary_file_lists_episodes(synth_db):
    summary = json.loads((synth_db / "synth.json").read_text())
    assert summary["config"] == {"records": 12, "minutes": 1.5, "seed": 3, "fs_hz": 250}
    for rec in summary["records"]:
        assert rec["seconds"] == 90.0
        assert rec["episodes"][0][1] == 0.0 and rec["episodes"][-1][2] == 90.0


def test_window_amplitudes_through_the_reader(synth_db):
    from ecg_energy.data.wfdb_source import load_wfdb

    ds, _ = load_wfdb(str(synth_db))
    assert ds.amplitude_uv[ds.rhythm == "ASYS"].max() < 100
    assert ds.amplitude_uv[ds.rhythm == "VFINE"].max() < 200
    assert ds.amplitude_uv[ds.rhythm == "VF"].min() > 200  # coarse VF
