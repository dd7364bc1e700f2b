"""Benchmark: how well a QRS detector's ventricular rate agrees with beat annotations.

vfdb has rhythm notes but no beat labels, so whether a ``(VT`` window is rapid (shockable,
>= 150 bpm) or slow must come from a QRS detector. This checks the candidates on mitdb, where
the reference beat annotations give the true rate: for every 4-s window (2-s stride) of every
record with at least three annotated beats, the rate from the detected R peaks against the rate
from the annotated beats; overall, for windows at >= 100 bpm, for windows holding ventricular
beats, and for the rapid/slow decision at 150 bpm.

    .venv/bin/python benchmarks/qrs_rate.py [--data ../shared/data/physionet/mitdb] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from ecg_energy.data.dsp import resample
from ecg_energy.data.labels import AAMI_MAP, RAPID_VT_BPM
from ecg_energy.data.wfdb_examples import QRS_DETECTORS, detect_qrs, window_rate
from ecg_energy.data.wfdb_read import list_records, read_record
from ecg_energy.fsio import atomic_write_json

FS = 250.0
WIN, STRIDE = int(4 * FS), int(2 * FS)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join("..", "shared", "data", "physionet", "mitdb"))
    ap.add_argument("--out", default=os.path.join("benchmarks", "results", "qrs_rate.json"))
    args = ap.parse_args(argv)
    rows = {d: [] for d in QRS_DETECTORS}
    seconds = {d: 0.0 for d in QRS_DETECTORS}
    for name in list_records(args.data):
        rec = read_record(args.data, name, None, "atr")
        x = resample(rec.signal_mv, rec.fs_hz, FS)
        scale = FS / rec.fs_hz
        ann = [(int(round(s * scale)), sym) for s, sym in zip(rec.ann_sample, rec.ann_symbol)
               if sym in AAMI_MAP]  # fmt: skip
        beats = np.array([a for a, _ in ann])
        ventricular = np.array([AAMI_MAP[s] == "V" for _, s in ann])
        for det in QRS_DETECTORS:
            t = time.perf_counter()
            peaks = detect_qrs(x, FS, det)
            seconds[det] += time.perf_counter() - t
            for start in range(0, len(x) - WIN + 1, STRIDE):
                inside = (beats >= start) & (beats < start + WIN)
                truth = window_rate(beats[inside], FS)
                if truth != truth:
                    continue
                est = window_rate(peaks[(peaks >= start) & (peaks < start + WIN)], FS)
                rows[det].append((name, truth, est, bool(ventricular[inside].any())))
    doc = {"data": args.data, "windows": len(rows[QRS_DETECTORS[0]]), "detectors": {}}
    for det, rs in rows.items():
        truth = np.array([r[1] for r in rs])
        est = np.array([r[2] for r in rs])
        vent = np.array([r[3] for r in rs])
        err = np.abs(est - truth)
        ok = np.isfinite(est)

        def stats(mask, err=err, ok=ok):
            e = err[mask & ok]
            return {"windows": int(mask.sum()), "no_rate": int((mask & ~ok).sum()),
                    "median_abs_error_bpm": float(np.median(e)) if len(e) else None,
                    "within_10_bpm": float(np.mean(e <= 10)) if len(e) else None}  # fmt: skip

        fast = truth >= RAPID_VT_BPM
        decided = ok & (est >= RAPID_VT_BPM)
        doc["detectors"][det] = {
            "seconds": seconds[det], "all": stats(np.ones_like(ok)), "rate_100_plus": stats(truth >= 100),
            "with_ventricular_beats": stats(vent),
            "rapid_decision_agreement": float(np.mean((decided == fast)[ok])),
            "rapid_windows": int(fast.sum()),
            "rapid_recall": float(np.mean(decided[fast])) if fast.any() else None,
        }  # fmt: skip
    atomic_write_json(args.out, doc)
    for det, d in doc["detectors"].items():
        print(
            f"{det}: median |error| {d['all']['median_abs_error_bpm']:.1f} bpm, within 10 bpm "
            f"{100 * d['all']['within_10_bpm']:.1f}%; >=100 bpm {d['rate_100_plus']}; with V "
            f"beats {d['with_ventricular_beats']}; 150-bpm decision agrees "
            f"{100 * d['rapid_decision_agreement']:.1f}% (rapid recall {d['rapid_recall']}); "
            f"{d['seconds']:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
