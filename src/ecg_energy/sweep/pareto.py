"""The sweep's answer: the Pareto set of energy against balanced accuracy among the trials that
meet every AHA goal, and the configuration recommended from it. Pure functions over the trial
rows (``trial.run_trial``'s dicts); the front itself is ``report.recommend.pareto_set``.

The energy is the one the sweep ranks on (``rank``): the energy per inference on a device
(``energy_j[NAME]``, modelled from the board's MLPerf Tiny results), or a table's estimate
(``estimate_j[TABLE]``, the geometric middle of its range). A device's range is its calibration's
band, the same factor for every model on that board, so it widens every figure alike and does not
change their order; the ranking uses the middle figure.

The recommendation is the front's lowest-energy point that also reaches ``min_balanced_accuracy``
(0 by default: the AHA goals alone), the answer to "the least energy that still meets the goals".
"""

from __future__ import annotations

from ..report.fmt import fmt_j
from ..report.recommend import pareto_set
from .space import SweepConfig

OBJECTIVE_MISSING_J = 1.0  # what a trial without an energy figure reports to the searcher (1 J)


def energy_key(cfg: SweepConfig) -> str:
    """The row column ranked: ``energy_j[stm32u575]`` or ``estimate_j[horowitz-45nm]``."""
    device = cfg.rank_device
    return f"energy_j[{device}]" if device else f"estimate_j[{cfg.tables[0]}]"


def energy_words(key: str) -> str:
    """How the ranked energy is named in the report."""
    name = key[key.index("[") + 1 : -1]
    if key.startswith("energy_j["):
        return f"energy per inference on {name} (modelled from its MLPerf Tiny results)"
    return f"estimated datapath energy per inference ({name})"


def finished(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r.get("status") == "ok"]


def why_not_on_front(row: dict, key: str) -> str | None:
    """Why a finished trial cannot be on the front (None: it can)."""
    if not row.get("aha_pass"):
        return f"misses AHA goals ({row.get('aha_failed') or 'not assessable on these records'})"
    if row.get(key) is None:
        note = row.get(f"device_note[{key[key.index('[') + 1 : -1]}]")
        return f"no {key} figure" + (f" ({note})" if note else "")
    if row.get(key.replace("energy_j[", "fits[")) is False:
        return "does not fit the device's memory"
    return None


def front(rows: list[dict], key: str) -> list[str]:
    """The trials (by name) on the Pareto front, in order of energy: finished, every AHA goal
    met, with an energy figure, and no other such trial at most as costly and at least as
    accurate (one of the two strictly).

    >>> rows = [{"trial": "a", "status": "ok", "aha_pass": True, "e": 1.0, "balanced_accuracy": 0.90},
    ...         {"trial": "b", "status": "ok", "aha_pass": True, "e": 2.0, "balanced_accuracy": 0.95},
    ...         {"trial": "c", "status": "ok", "aha_pass": True, "e": 3.0, "balanced_accuracy": 0.94}]
    >>> front(rows, "e")
    ['a', 'b']"""
    points = {
        r["trial"]: (float(r[key]), float(r["balanced_accuracy"]))
        for r in finished(rows)
        if why_not_on_front(r, key) is None
    }
    return pareto_set(points)


def excluded(rows: list[dict], key: str) -> dict[str, str]:
    """{trial: why it is not on the front} for every trial that is not."""
    on = set(front(rows, key))
    out = {}
    for r in rows:
        if r["trial"] in on:
            continue
        if r.get("status") != "ok":
            out[r["trial"]] = r.get("error") or r.get("status", "not finished")
        else:
            out[r["trial"]] = (
                why_not_on_front(r, key)
                or "dominated: another trial costs no more energy and is at least as accurate"
            )
    return out


def recommend(rows: list[dict], key: str, min_balanced_accuracy: float = 0.0) -> dict:
    """{"trial", "reason", "front", "next"}: the front's lowest-energy point with balanced
    accuracy >= ``min_balanced_accuracy``; ``trial`` None (and the reason why) when none is."""
    on = front(rows, key)
    by_name = {r["trial"]: r for r in rows}
    ok = [n for n in on if by_name[n]["balanced_accuracy"] >= min_balanced_accuracy]
    passing = sum(1 for r in finished(rows) if r.get("aha_pass"))
    if not ok:
        why = (
            f"none of the {len(finished(rows))} finished trials meets every AHA goal with an "
            f"energy figure"
            if not on
            else f"no trial on the front reaches balanced accuracy {min_balanced_accuracy:.1%}"
        )
        return {"trial": None, "reason": why, "front": on, "next": None}
    best = by_name[ok[0]]
    after = on[on.index(ok[0]) + 1] if on.index(ok[0]) + 1 < len(on) else None
    reason = (
        f"{best['trial']} is recommended: of the {passing} trials that meet every AHA goal "
        f"on the held-out records, it needs the least {energy_words(key)}, "
        f"{fmt_j(best[key])}, with balanced accuracy {best['balanced_accuracy']:.1%}"
    )
    nxt = None
    if after is not None:
        a = by_name[after]
        gain = (a["balanced_accuracy"] - best["balanced_accuracy"]) * 100
        ratio = a[key] / best[key] if best[key] else float("inf")
        reason += (
            f"; the next point on the front, {after}, gains {gain:+.2f} points of "
            f"balanced accuracy for {ratio:.2f}x the energy"
        )
        nxt = {"trial": after, "gain_pts": gain, "energy_ratio": ratio}
    return {"trial": best["trial"], "reason": reason + ".", "front": on, "next": nxt}


def objectives(row: dict, key: str) -> dict:
    """What a trial reports to a model-based searcher: the energy to lower (1 J where it has
    none) and the balanced accuracy to raise, less 1 where an AHA goal is missed, so that the
    search is steered towards the deployable part of the space."""
    energy = row.get(key)
    acc = float(row.get("balanced_accuracy") or 0.0)
    return {
        "objective_energy_j": float(energy) if energy is not None else OBJECTIVE_MISSING_J,
        "objective_accuracy": acc if row.get("aha_pass") else acc - 1.0,
    }
