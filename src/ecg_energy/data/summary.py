"""A dataset and its split in numbers: the table `ecg-energy data` prints and `run` saves."""

from __future__ import annotations

from typing import Any

import numpy as np

from .dataset import SPLITS, Dataset, Split


def summarize(ds: Dataset, split: Split | None = None) -> dict[str, Any]:
    """Counts per class (and per rhythm) overall and per split, records per split, provenance."""
    out: dict[str, Any] = {
        "task": ds.task,
        "examples": len(ds),
        "input_shape": list(ds.input_shape),
        "fs_hz": ds.fs_hz,
        "records": int(len(np.unique(ds.groups))),
        "classes": list(ds.class_names),
        "class_counts": ds.class_counts(),
        "rhythm_counts": ds.rhythm_counts(),
        "shockable": int(ds.shockable.sum()),
        "provenance": dict(ds.provenance),
    }
    if split is not None:
        out["split"] = {
            "method": split.method,
            **{
                name: {
                    "examples": int(len(split.indices(name))),
                    "records": list(split.records[name]),
                    "class_counts": ds.subset(split.indices(name)).class_counts(),
                }
                for name in SPLITS
            },
        }
    return out


def format_summary(summary: dict[str, Any]) -> str:
    """A plain-text table: one row per class, columns all / train / val / test."""
    classes = summary["classes"]
    split = summary.get("split")
    cols = ["all"] + (list(SPLITS) if split else [])
    lines = [
        f"{summary['examples']} {('windows' if summary['task'] == 'rhythm' else 'beats')} of "
        f"{summary['input_shape'][0]} samples at {summary['fs_hz']:g} Hz from "
        f"{summary['records']} records ({summary['provenance'].get('source', '?')})",
    ]
    head = f"{'class':<8}" + "".join(f"{c:>9}" for c in cols)
    lines += [head, "-" * len(head)]
    for k in classes:
        row = [summary["class_counts"][k]]
        if split:
            row += [split[s]["class_counts"][k] for s in SPLITS]
        lines.append(f"{k:<8}" + "".join(f"{v:>9}" for v in row))
    total = [summary["examples"]] + ([split[s]["examples"] for s in SPLITS] if split else [])
    lines.append(f"{'total':<8}" + "".join(f"{v:>9}" for v in total))
    if split:
        recs = [len(split[s]["records"]) for s in SPLITS]
        lines.append(f"{'records':<8}{summary['records']:>9}" + "".join(f"{v:>9}" for v in recs))
        lines.append(f"split: {split['method']}")
    return "\n".join(lines)
