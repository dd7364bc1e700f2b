"""The WFDB reader on the real mitdb excerpt and on hand-made records with hand-counted results."""

from __future__ import annotations

import numpy as np
import pytest

from ecg_energy.data.dataset import split_by_record
from ecg_energy.data.wfdb_source import ReadLog, ReadOptions, list_records, load_wfdb, read_record
from ecg_energy.errors import DataError

FS = 360


def _beats(first_s: float, last_s: float, every_s: float, symbol: str, fs: float = FS):
    return [(int(round(t * fs)), symbol, "") for t in np.arange(first_s, last_s, every_s)]


# --- the real record -------------------------------------------------------------------------


def test_mitdb_excerpt_beats_are_73_n_and_1_s(mitdb_dir):
    ds, log = load_wfdb(str(mitdb_dir), ReadOptions(task="beats"))
    assert ds.X.shape == (74, 187, 1)
    assert ds.class_counts() == {"N": 73, "S": 1, "V": 0, "F": 0, "Q": 0}
    assert ds.rhythm_counts() == {"N": 73, "A": 1}
    assert ds.provenance["leads"] == ["MLII"]
    assert log.unknown_symbols == {}


def test_mitdb_excerpt_rhythm_windows(mitdb_dir):
    # 60 s -> 15,000 samples at 250 Hz; 4 s windows every 2 s start at 0, 2, …, 56 s: 29 windows.
    # The first rhythm note '(N' is at sample 18 (0.05 s), so the first window is skipped: 28 NSR.
    ds, log = load_wfdb(str(mitdb_dir))
    assert ds.X.shape == (28, 1000, 1)
    assert ds.class_counts()["NSR"] == 28
    assert sum(log.skipped_windows.values()) == 1
    assert log.resampled == {"100s": 360.0}
    assert not ds.shockable.any()
    assert np.allclose(ds.rate_bpm, ds.rate_bpm.mean(), rtol=0.2)  # about 74 beats per minute
    assert 60 < float(np.mean(ds.rate_bpm)) < 90


# --- hand-made records ------------------------------------------------------------------------


def _sinus_then_vt(vt_every_s: float) -> list[tuple[int, str, str]]:
    return ([(0, "+", "(N")] + _beats(0.4, 10.0, 0.8, "N") + [(10 * FS, "+", "(VT")]
            + _beats(10.15, 20.0, vt_every_s, "V"))  # fmt: skip


def test_windows_labelled_by_rhythm_and_changes_skipped(tmp_path, make_record):
    # 20 s at 360 Hz -> 5000 samples at 250 Hz; window starts 0, 500, …, 4000 (9 windows).
    # The change at 10 s = sample 2500: starts 0-1500 are NSR, 2000 crosses it, 2500-4000 are VT.
    make_record(tmp_path, "r1", np.sin(np.arange(20 * FS) / 20), FS, _sinus_then_vt(0.3))
    ds, log = load_wfdb(str(tmp_path))
    assert ds.X.shape == (8, 1000, 1)
    assert ds.rhythm.tolist() == ["NSR"] * 4 + ["VT"] * 4
    assert ds.shockable.tolist() == [False] * 4 + [True] * 4
    assert ds.start_s.tolist() == [0, 2, 4, 6, 10, 12, 14, 16]
    assert log.skipped_windows == {"rhythm change inside window": 1}
    assert np.allclose(ds.rate_bpm[4:], 200, atol=2)  # V beats every 0.3 s


def test_slow_vt_is_other_non_shockable(tmp_path, make_record):
    make_record(tmp_path, "r1", np.zeros(20 * FS), FS, _sinus_then_vt(0.5))  # 120 bpm
    ds, _ = load_wfdb(str(tmp_path))
    vt = ds.start_s >= 10
    assert set(ds.rhythm[vt]) == {"VTSLOW"}
    assert set(np.array(ds.class_names)[ds.y[vt]]) == {"ONS"}
    assert not ds.shockable.any()


def test_cudb_style_vf_episode_markers(tmp_path, make_record):
    # 20 s at 250 Hz, '[' at 8 s (sample 2000), ']' at 14 s (3500), no rhythm notes:
    # windows 0, 500, 1000 and 3500, 4000 are "not VF"; 2000 and 2500 are VF; 1500, 3000 cross.
    make_record(tmp_path, "cu01", np.zeros(5000), 250, [(2000, "[", ""), (3500, "]", "")])
    ds, log = load_wfdb(str(tmp_path))
    assert ds.rhythm.tolist() == ["NONVF"] * 3 + ["VF"] * 2 + ["NONVF"] * 2
    assert ds.class_counts() == {"NSR": 0, "ONS": 5, "ASYS": 0, "VT": 0, "VF": 2}
    assert log.skipped_windows == {"rhythm change inside window": 2}


def test_unknown_symbols_and_rhythms_are_counted_not_fatal(tmp_path, make_record):
    ann = ([(0, "+", "(N")] + _beats(0.4, 10, 0.8, "N") + _beats(0.8, 10, 0.8, "r")
           + [(10 * FS, "+", "(XYZ")])  # fmt: skip
    make_record(tmp_path, "r1", np.zeros(20 * FS), FS, ann)
    ds, log = load_wfdb(str(tmp_path))
    assert log.unknown_symbols == {"r": 12}  # 'r' (R-on-T) is not in the AAMI map used here
    assert log.unknown_rhythms == {"XYZ": 4}
    assert ds.class_counts()["NSR"] == 4
    assert any("'r'×12" in w for w in log.warnings())


def test_noise_segments_are_dropped(tmp_path, make_record):
    make_record(tmp_path, "r1", np.zeros(20 * FS), FS, [(0, "+", "(N"), (10 * FS, "+", "(NOISE")])
    ds, log = load_wfdb(str(tmp_path))
    assert len(ds) == 4 and log.skipped_windows["noise segment"] == 4


def test_amplitude_is_band_passed_peak_to_peak(tmp_path, make_record):
    t = np.arange(20 * 250) / 250
    x = 0.05 * np.sin(2 * np.pi * 5 * t) + 0.5 * np.sin(2 * np.pi * 0.1 * t)  # 100 µV + wander
    make_record(tmp_path, "r1", x, 250, [(0, "+", "(VF")])
    ds, _ = load_wfdb(str(tmp_path))
    assert np.allclose(ds.amplitude_uv, 100, rtol=0.06)


def test_records_at_other_rates_are_resampled(tmp_path, make_record):
    make_record(tmp_path, "a", np.zeros(10 * 360), 360, [(0, "+", "(N")])
    make_record(tmp_path, "b", np.zeros(10 * 500), 500, [(0, "+", "(N")])
    ds, log = load_wfdb(str(tmp_path))
    assert ds.X.shape == (8, 1000, 1)  # 10 s: windows at 0, 2, 4, 6 s in each record
    assert log.resampled == {"a": 360.0, "b": 500.0}


def test_short_records_are_skipped_and_reported(tmp_path, make_record):
    make_record(tmp_path, "long", np.zeros(10 * 250), 250, [(0, "+", "(N")])
    make_record(tmp_path, "short", np.zeros(3 * 250), 250, [(0, "+", "(N")])
    ds, log = load_wfdb(str(tmp_path))
    assert len(ds) == 4 and log.short_records == ["short"]
    (tmp_path / "long.hea").unlink()
    (tmp_path / "long.dat").unlink()
    (tmp_path / "long.atr").unlink()
    with pytest.raises(DataError, match="no examples for the rhythm task.*shorter than one window"):
        load_wfdb(str(tmp_path))


def test_lead_choice(tmp_path, make_record):
    sig = np.stack([np.zeros(10 * 250), np.ones(10 * 250)], axis=1)
    make_record(tmp_path, "r1", sig, 250, [(0, "+", "(N")], sig_names=["V5", "MLII"])
    ds, _ = load_wfdb(str(tmp_path))
    assert ds.provenance["leads"] == ["MLII"] and float(ds.X.mean()) == pytest.approx(1.0)
    ds, _ = load_wfdb(str(tmp_path), ReadOptions(lead="V5"))
    assert float(np.abs(ds.X).max()) == 0.0
    with pytest.raises(DataError, match="no lead 'V1'; this record has V5, MLII"):
        load_wfdb(str(tmp_path), ReadOptions(lead="V1"))


def test_invalid_samples_are_interpolated_and_counted(tmp_path, make_record):
    make_record(tmp_path, "r1", np.zeros(10 * 250), 250, [(0, "+", "(N")])
    raw = np.fromfile(tmp_path / "r1.dat", dtype="<i2")
    raw[100:110] = -32768  # WFDB's "no sample" value for format 16
    raw.tofile(tmp_path / "r1.dat")
    ds, log = load_wfdb(str(tmp_path))
    assert log.nan_samples == {"r1": 10} and np.isfinite(ds.X).all()


def test_beat_segments_cut_like_kaggle(tmp_path, make_record):
    # One 10 s frame at 125 Hz: minimum 0 at sample 0, level 0.5, R peaks of 1.0 every second.
    # RR = 125 samples, so each segment spans 1.2 × 125 = 150 samples, then zeros to 187.
    x = np.full(1250, 0.5)
    x[0] = 0.0
    r = 62 + 125 * np.arange(10)
    x[r] = 1.0
    make_record(tmp_path, "r1", x, 125, [(int(s), "N", "") for s in r])
    ds, _ = load_wfdb(str(tmp_path), ReadOptions(task="beats"))
    X = ds.X[:, :, 0]
    assert X.shape == (10, 187)
    assert (X[:, 0] == 1.0).all()
    assert (X[:9, 1:125] == 0.5).all() and (X[:9, 125] == 1.0).all()  # next R at +125
    assert (X[:9, 150:] == 0).all()
    assert (X[9, 1:63] == 0.5).all() and (X[9, 63:] == 0).all()  # record ends 63 samples on


def test_mitdb_ds1_ds2_split(tmp_path, make_record):
    for name in ("100", "101", "106", "102", "999"):  # DS2, DS1, DS1, paced, not mitdb
        make_record(tmp_path, name, np.zeros(10 * FS), FS, _beats(0.5, 10, 1.0, "N"))
    ds, _ = load_wfdb(str(tmp_path), ReadOptions(task="beats"))
    assert sorted(set(ds.groups)) == ["100", "101", "106"]
    split = split_by_record(ds, seed=0)
    assert split.records["test"] == ("100",)
    assert sorted(split.records["train"] + split.records["val"]) == ["101", "106"]


# --- bad input ----------------------------------------------------------------------------------


@pytest.fixture()
def one_record(tmp_path, make_record):
    make_record(tmp_path, "r1", np.zeros(10 * 250), 250, [(0, "+", "(N")])
    return tmp_path


def test_missing_folder():
    with pytest.raises(DataError, match="/no/such/db: folder not found"):
        list_records("/no/such/db")


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match="no WFDB records"):
        list_records(str(tmp_path))


def test_missing_header_listed_in_records(one_record):
    (one_record / "RECORDS").write_text("r1\nr2\n")
    with pytest.raises(DataError, match=r"r2\.hea: header file missing"):
        load_wfdb(str(one_record))


def test_corrupt_header(one_record):
    (one_record / "r1.hea").write_text("this is not a header\n")
    with pytest.raises(DataError, match=r"r1\.hea: not a valid WFDB header"):
        read_record(str(one_record), "r1")


def test_missing_signal_file(one_record):
    (one_record / "r1.dat").unlink()
    with pytest.raises(DataError, match=r"r1\.dat: signal file missing"):
        read_record(str(one_record), "r1")


def test_truncated_signal_file(one_record):
    data = (one_record / "r1.dat").read_bytes()
    (one_record / "r1.dat").write_bytes(data[:1000])
    with pytest.raises(DataError, match=r"r1\.dat: truncated, 500 of 2500 samples"):
        read_record(str(one_record), "r1")


def test_missing_annotation_file(one_record):
    (one_record / "r1.atr").unlink()
    with pytest.raises(DataError, match=r"r1\.atr: annotation file missing"):
        read_record(str(one_record), "r1")


def test_corrupt_annotation_file(one_record):
    (one_record / "r1.atr").write_bytes(b"\xff\xff\x00")
    with pytest.raises(DataError, match=r"r1\.atr: unreadable annotation file"):
        read_record(str(one_record), "r1")


def test_readlog_lists_nothing_when_clean():
    assert ReadLog().warnings() == []


def _pulses(bpm: float, seconds: float, fs: int = 250) -> np.ndarray:
    """1-mV Gaussian QRS-like pulses (20 ms wide) at a fixed rate."""
    t = np.arange(int(seconds * fs)) / fs
    x = np.zeros_like(t)
    for c in np.arange(0.2, seconds, 60.0 / bpm):
        x += np.exp(-0.5 * ((t - c) / 0.02) ** 2)
    return x


def test_vt_without_beat_labels_is_split_by_the_detected_rate(tmp_path, make_record):
    # vfdb-style: rhythm notes only. 60 s of VT at 180 bpm, then 60 s of VT at 120 bpm: the QRS
    # detector's rate keeps the first as rapid VT and demotes the second to slow VT (< 150 bpm)
    sig = np.concatenate([_pulses(180, 60), _pulses(120, 60)])
    make_record(tmp_path, "v1", sig, 250, [(0, "+", "(VT"), (15000, "+", "(VT")])
    (tmp_path / "RECORDS").write_text("v1\n")
    ds, log = load_wfdb(str(tmp_path))
    # 60 s at a 2-s stride, 4-s windows: 29 windows in each half
    assert dict(zip(*np.unique(ds.rhythm, return_counts=True))) == {"VT": 29, "VTSLOW": 29}
    assert log.as_dict()["label_decisions"] == {
        "VT kept as rapid VT: xqrs QRS detector rate >= 150 bpm": 29,
        "VT demoted to slow VT (ONS): xqrs QRS detector rate < 150 bpm": 29,
    }
    assert np.all(np.abs(ds.rate_bpm[ds.rhythm == "VT"] - 180) < 3)


def test_records_outside_the_folder_are_refused(tmp_path):
    from ecg_energy.data.wfdb_read import list_records
    from ecg_energy.errors import DataError

    (tmp_path / "RECORDS").write_text("100\n../other/101\n")
    with pytest.raises(DataError, match=r"record '../other/101' is not a name inside"):
        list_records(str(tmp_path))
    (tmp_path / "RECORDS").write_text("100\nsub/101\n")  # a sub-folder is the database's layout
    assert list_records(str(tmp_path)) == ["100", "sub/101"]
