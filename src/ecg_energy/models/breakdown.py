"""Where a detector fails: the shock decision per database, and the records that cost the most.

A dataset read from several sources names every record ``<source>/<record>``; the database of a
window is that source (``wfdb:…/vfdb`` shown as ``vfdb``). Pure functions: arrays in, dicts out.
"""

from __future__ import annotations

import os

import numpy as np

from .evaluate import NON_SHOCKABLE_GROUPS, SHOCKABLE_GROUPS, shock_decision

TOP_RECORDS = 5


def database_of(groups: np.ndarray, single: str = "") -> np.ndarray:
    """The database of each window: the source before a record's last '/', shortened to its
    folder's name (``wfdb:/data/vfdb/418`` -> ``vfdb``); ``single`` where records have no source
    prefix (one source). E.g. ["wfdb:db/a/1", "synth/r2", "x"] -> ["a", "synth", single]."""
    out = []
    for g in np.asarray(groups).tolist():
        src = g.rsplit("/", 1)[0] if "/" in g else single
        kind, _, arg = src.partition(":")
        out.append(os.path.basename(os.path.normpath(arg)) if kind == "wfdb" and arg else src)
    return np.array(out, dtype=object)


def by_database(aha_groups: np.ndarray, shock: np.ndarray, databases: np.ndarray) -> dict:
    """The shock decision (sensitivity, specificity, window counts) of each database."""
    return {str(db): shock_decision(aha_groups[databases == db], shock[databases == db])
            for db in sorted(set(databases.tolist()))}  # fmt: skip


def costly_records(aha_groups: np.ndarray, shock: np.ndarray, records: np.ndarray,
                   top: int = TOP_RECORDS) -> dict:  # fmt: skip
    """The records with the most false shocks (non-shockable windows advised a shock) and the
    most missed shockable windows, most first: [{"record", "count", "of"}], ``top`` of each.
    E.g. groups [NSR, NSR, coarse VF], shock [1, 0, 0], records [a, a, b] -> false shocks
    [a 1 of 2], missed [b 1 of 1]."""
    neg, pos = np.isin(aha_groups, NON_SHOCKABLE_GROUPS), np.isin(aha_groups, SHOCKABLE_GROUPS)
    shock = np.asarray(shock, bool)

    def worst(sel: np.ndarray, bad: np.ndarray) -> list[dict]:
        rows = []
        for r in sorted(set(records[sel].tolist())):
            mine = sel & (records == r)
            n_bad = int((mine & bad).sum())
            if n_bad:
                rows.append({"record": r, "count": n_bad, "of": int(mine.sum())})
        rows.sort(key=lambda d: (-d["count"], d["record"]))
        return rows[:top]

    return {"false_shocks": worst(neg, shock), "missed": worst(pos, ~shock),
            "false_shocks_total": int((neg & shock).sum()),
            "missed_total": int((pos & ~shock).sum())}  # fmt: skip
