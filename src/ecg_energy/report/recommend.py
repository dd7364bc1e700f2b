"""Which variant to deploy: the lowest energy per inference among those meeting the constraint.

Pure functions over the ``variants`` of ``results.json``. The constraint is the AHA goals for
shockable-rhythm detection by default (every goal met on the held-out records, lower 90% bounds
included), or a minimum balanced accuracy, or none. The energy ranked is the measured net (or
gross) J per inference at one batch size, or a table's estimate; a variant without that figure is
excluded, and the reason says so. The Pareto set is every variant that no other beats on both
energy (lower) and balanced accuracy (higher).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

CONSTRAINTS = ("aha", "balanced-accuracy", "none")
ENERGY_BASES = ("measured-net", "measured-gross", "estimate")


@dataclass(frozen=True)
class RecommendConfig:
    """Which variant to recommend: the lowest energy per inference among those meeting a constraint.

    ``constraint``: ``aha`` (every AHA goal for shockable-rhythm detection met, Kerber 1997),
    ``balanced-accuracy`` (at least ``min_balanced_accuracy``) or ``none``. ``max_drop_pts``
    optionally also bounds the loss of balanced accuracy against the original, in points.
    ``energy``: the figure ranked: measured net or gross J per inference at ``batch``, or the
    ``estimate`` of ``table`` (its range's geometric middle).
    """

    constraint: str = "aha"
    min_balanced_accuracy: float = 0.9
    max_drop_pts: float | None = None
    energy: str = "measured-net"
    batch: int = 1
    table: str = "horowitz-45nm"

    def __post_init__(self) -> None:
        if self.constraint not in CONSTRAINTS:
            raise ValueError(f"recommend.constraint must be one of {', '.join(CONSTRAINTS)}, "
                             f"not {self.constraint!r}")  # fmt: skip
        if self.energy not in ENERGY_BASES:
            raise ValueError(f"recommend.energy must be one of {', '.join(ENERGY_BASES)}, "
                             f"not {self.energy!r}")  # fmt: skip
        if not 0.0 <= self.min_balanced_accuracy <= 1.0:
            raise ValueError("recommend.min_balanced_accuracy is a fraction between 0 and 1")
        if self.batch < 1:
            raise ValueError("recommend.batch must be at least 1")


def energy_of(v: dict, rc) -> dict | None:
    """The ranked energy figure of variant ``v``: {j, ci95, label, method, measured}, or None."""
    if rc.energy == "estimate":
        e = v.get("estimates", {}).get(rc.table)
        if not e:
            return None
        lo, hi = e["low_j"], e["high_j"]
        mid = math.sqrt(lo * hi) if lo > 0 and hi > 0 else (lo + hi) / 2
        return {"j": mid, "ci95": [lo, hi], "label": f"estimated J per inference ({rc.table})",
                "phrase": f"per inference, estimated with {rc.table}",
                "method": f"table:{rc.table}", "measured": False}  # fmt: skip
    m = v.get("measurements", {}).get(str(rc.batch))
    kind = "net" if rc.energy == "measured-net" else "gross"
    if not m or m.get("error") or not m.get(f"energy_j_per_inference_{kind}"):
        return None
    e = m[f"energy_j_per_inference_{kind}"]
    methods, measured = trial_methods(m)
    return {"j": e["median"], "ci95": e.get("ci95"),
            "label": f"{kind} J per inference at batch {rc.batch}",
            "phrase": f"{kind} per inference at batch {rc.batch}",
            "method": ", ".join(methods) or "unknown", "measured": measured}  # fmt: skip


def trial_methods(m: dict) -> tuple[list[str], bool]:
    """The methods of a measurement's trials, and whether every trial was measured (a hardware
    counter) rather than modelled."""
    trials = m.get("trials", [])
    methods = sorted({t["method"] for t in trials if t.get("method")})
    return methods, bool(trials) and all(t.get("measured") for t in trials)


def balanced_accuracy(v: dict) -> float | None:
    acc = v.get("accuracy") or {}
    return acc.get("balanced_accuracy")


def failures(v: dict, rc, original_bal: float | None) -> list[str]:
    """Why ``v`` does not meet the constraint (empty: it does)."""
    acc = v.get("accuracy")
    if not acc or acc.get("error"):
        return ["not evaluated" + (f" ({acc['error']})" if acc and acc.get("error") else "")]
    out = []
    if rc.constraint == "aha":
        aha = acc.get("aha") or {}
        if not aha:
            out.append("no AHA assessment (the AHA goals apply to the rhythm task)")
        for name, row in aha.items():
            if row.get("goal") is None:  # reported (fine VF) but not an AHA goal
                continue
            if not row.get("n"):
                out.append(f"{name}: no held-out windows to assess it")
            elif row.get("passed") is False:
                out.append(f"{name} {row['measure']} {_pct(row.get('estimate'))} "
                           f"(lower 90% bound {_pct(row.get('lower90'))}; goal "
                           f"{_pct(row.get('goal'))}, bound {_pct(row.get('lower_goal'))})")  # fmt: skip
    elif rc.constraint == "balanced-accuracy":
        bal = acc.get("balanced_accuracy")
        if bal is None or bal < rc.min_balanced_accuracy:
            out.append(f"balanced accuracy {_pct(bal)} < {_pct(rc.min_balanced_accuracy)}")
    if rc.max_drop_pts is not None and original_bal is not None:
        bal = acc.get("balanced_accuracy")
        if bal is not None and (original_bal - bal) * 100 > rc.max_drop_pts:
            out.append(f"balanced accuracy {(original_bal - bal) * 100:.2f} points below the "
                       f"original (allowed {rc.max_drop_pts:g})")  # fmt: skip
    return out


def pareto_set(points: dict[str, tuple[float, float]]) -> list[str]:
    """Names not dominated on (energy lower, accuracy higher), in order of energy.

    >>> pareto_set({"a": (1.0, 0.9), "b": (2.0, 0.95), "c": (3.0, 0.94)})
    ['a', 'b']
    """
    front = []
    for name, (e, a) in points.items():
        dominated = any(e2 <= e and a2 >= a and (e2 < e or a2 > a)
                        for other, (e2, a2) in points.items() if other != name)  # fmt: skip
        if not dominated:
            front.append(name)
    return sorted(front, key=lambda n: points[n][0])


def constraint_text(rc) -> str:
    text = {"aha": "the AHA goals for shockable-rhythm detection",
            "balanced-accuracy": f"balanced accuracy >= {_pct(rc.min_balanced_accuracy)}",
            "none": "no accuracy constraint"}[rc.constraint]  # fmt: skip
    if rc.max_drop_pts is not None:
        text += f" and at most {rc.max_drop_pts:g} points of balanced accuracy below the original"
    return text


def recommend(variants: dict, rc) -> dict:
    """The recommendation: ``variant`` (None when none qualifies), ``reason`` (one sentence),
    ``pareto`` set, the ranked ``candidates``, ``excluded`` with reasons, and the settings used."""
    original = variants.get("original")
    original_bal = balanced_accuracy(original) if original else None
    table, excluded, points = [], {}, {}
    for name, v in variants.items():
        e = energy_of(v, rc)
        bal = balanced_accuracy(v)
        if e is not None and bal is not None:
            points[name] = (e["j"], bal)
        why = failures(v, rc, original_bal)
        if e is None:
            why = [f"no {rc.energy} figure at batch {rc.batch}" if rc.energy != "estimate"
                   else f"no estimate from table {rc.table}", *why]  # fmt: skip
        if why:
            excluded[name] = why
        else:
            table.append({"variant": name, "energy_j": e["j"], "ci95": e["ci95"],
                          "balanced_accuracy": bal, "method": e["method"],
                          "measured": e["measured"]})  # fmt: skip
    table.sort(key=lambda r: r["energy_j"])
    out = {"settings": asdict(rc), "constraint": constraint_text(rc), "pareto": pareto_set(points),
           "candidates": table, "excluded": excluded, "variant": None, "caveats": []}  # fmt: skip
    if not table:
        out["reason"] = (f"No variant meets the constraint ({constraint_text(rc)}), so none is "
                         "recommended; see why each was excluded.")  # fmt: skip
        return out
    best = table[0]
    v = variants[best["variant"]]
    e = energy_of(v, rc)
    kind = "measured" if e["measured"] else "modelled"
    sentence = (f"{best['variant']} is the lowest-energy variant that meets "
                f"{constraint_text(rc)}: {fmt_j(best['energy_j'])} {e['phrase']} "
                f"({e['method']}, {kind}) with balanced accuracy {_pct(best['balanced_accuracy'])}")  # fmt: skip
    if original and best["variant"] != "original" and "original" in points:
        ratio = points["original"][0] / best["energy_j"] if best["energy_j"] > 0 else math.inf
        sentence += (f", {ratio:.0f}x less energy than the original "
                     f"(balanced accuracy {_pct(original_bal)})") if ratio >= 2 else (
            f", {ratio:.2f}x less energy than the original (balanced accuracy "
            f"{_pct(original_bal)})")  # fmt: skip
    out["variant"] = best["variant"]
    out["reason"] = sentence + "."
    if len(table) > 1 and _overlap(best["ci95"], table[1]["ci95"]):
        out["caveats"].append(
            f"Its 95% interval overlaps that of {table[1]['variant']} "
            f"({fmt_j(table[1]['energy_j'])}): on this evidence the two are not distinguishable "
            "by energy."
        )
    if best["energy_j"] <= 0:
        out["caveats"].append("Its net energy is not above the idle baseline's noise: the machine "
                              "could not resolve it; rank by gross energy or measure longer.")  # fmt: skip
    if not e["measured"]:
        out["caveats"].append(f"The energy ranked ({e['method']}) was modelled, not read from a "
                              "hardware counter.")  # fmt: skip
    return out


def _overlap(a, b) -> bool:
    return bool(a and b and a[0] is not None and b[0] is not None and a[1] >= b[0] and b[1] >= a[0])


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def fmt_j(j: float | None) -> str:
    """Joules with an SI prefix: 1.45e-05 -> '14.5 µJ'."""
    if j is None:
        return "n/a"
    if j == 0:
        return "0 J"
    for scale, unit in ((1, "J"), (1e-3, "mJ"), (1e-6, "µJ"), (1e-9, "nJ"), (1e-12, "pJ")):
        if abs(j) >= scale:
            return f"{j / scale:.3g} {unit}"
    return f"{j / 1e-15:.3g} fJ"
