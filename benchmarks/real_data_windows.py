"""Benchmark: the windows the three shared PhysioNet databases give, per database and class.

Reads ``vfdb``, ``mitdb`` and ``cudb`` as one run reads them (``--data wfdb:DIR`` three times: the
default lead, 4 s windows every 2 s, labels from the rhythm notes or cudb's ``[``/``]`` VF episodes,
"not VF" outside them), and counts per database the records read, the windows of each class, the
shockable ones and every reason a window was left out. With ``--edge-guard S`` (repeatable) it also
counts what leaving out windows within S seconds of a rhythm change removes.

    PYTHONPATH=src .venv/bin/python benchmarks/real_data_windows.py \\
        --root ../shared/data/physionet --edge-guard 5 --out benchmarks/results/real_data_windows.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from ecg_energy.data.wfdb_source import ReadOptions, list_records, load_wfdb
from ecg_energy.fsio import atomic_write_json

DATABASES = ("vfdb", "mitdb", "cudb")


def count(folder: str, guard: float) -> dict:
    t0 = time.process_time()
    ds, log = load_wfdb(folder, ReadOptions(edge_guard_s=guard))
    by_record: dict[str, dict[str, int]] = {}
    for g, y in zip(ds.groups.tolist(), ds.y.tolist()):
        row = by_record.setdefault(g, {})
        name = ds.class_names[y]
        row[name] = row.get(name, 0) + 1
    return {
        "records": len(list_records(folder)),
        "records_with_windows": len(by_record),
        "windows": len(ds),
        "classes": ds.class_counts(),
        "shockable": int(ds.shockable.sum()),
        "rhythms": ds.rhythm_counts(),
        "skipped_windows": dict(log.skipped_windows),
        "label_decisions": dict(log.label_decisions),
        "records_left_out": dict(log.left_out),
        "other_lead_read": dict(log.other_lead),
        "leads": ds.provenance["leads"],
        "by_record": by_record,
        "cpu_seconds": round(time.process_time() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="../shared/data/physionet")
    ap.add_argument("--edge-guard", type=float, action="append", default=[])
    ap.add_argument("--out", default="benchmarks/results/real_data_windows.json")
    args = ap.parse_args(argv)
    out: dict = {"source": "the shared PhysioNet records (../shared/data/README.md), read by "
                           "ecg_energy.data.wfdb_source.load_wfdb with ReadOptions defaults",
                 "guards": {}}  # fmt: skip
    for guard in [0.0, *args.edge_guard]:
        per_db = {}
        for db in DATABASES:
            folder = os.path.join(args.root, db)
            per_db[db] = count(folder, guard)
            c = per_db[db]
            print(f"guard {guard:g} s  {db:<6} {c['records']} records  {c['windows']} windows  "
                  f"{c['classes']}  shockable {c['shockable']}", flush=True)  # fmt: skip
        total: dict[str, int] = {}
        for c in per_db.values():
            for k, v in c["classes"].items():
                total[k] = total.get(k, 0) + v
        out["guards"][f"{guard:g}"] = {"databases": per_db, "classes": total,
                                       "windows": sum(total.values()),
                                       "shockable": sum(c["shockable"] for c in per_db.values())}  # fmt: skip
    atomic_write_json(args.out, out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
