"""Which variant to deploy: the lowest energy per inference among those meeting the constraint.

Pure functions over the ``variants`` of ``results.json``. The constraint is the AHA goals for
shockable-rhythm detection by default (every goal met on the held-out records, lower 90% bounds
included), or a minimum balanced accuracy, or none. The energy ranked is, by default (``auto``),
the J per inference on the first board the run priced (the wearable's question: among the
variants that fit it and keep real time), with the host's measurement beside it as evidence; on a
run without boards, the measured net J per inference at one batch size. It can also be asked for:
measured net or gross, a table's estimate, or ``device:NAME``.

Never ranked on a figure that cannot be trusted: a net figure whose 95% interval reaches zero is
unresolved, and a measurement whose windows stayed contaminated is invalid. When a variant that
meets the constraint lacks a usable figure of the kind asked for, the ranking falls back, in the
declared order (``fallback``: gross, then the estimate), to the first kind every such variant has,
and says in one sentence which figure it ranked and why (``ranked``). The Pareto set is every
variant that no other beats on both that figure (lower) and balanced accuracy (higher).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from .figures import basis_label, choose_basis, device_figure, energy_of, figure_of, host_figure
from .fmt import fmt_j, pct

CONSTRAINTS = ("aha", "balanced-accuracy", "none")
ENERGY_BASES = ("measured-net", "measured-gross", "estimate")


@dataclass(frozen=True)
class RecommendConfig:
    """Which variant to recommend: the lowest energy per inference among those meeting a constraint.

    ``constraint``: ``aha`` (every AHA goal for shockable-rhythm detection met, Kerber 1997),
    ``balanced-accuracy`` (at least ``min_balanced_accuracy``) or ``none``. ``max_drop_pts``
    optionally also bounds the loss of balanced accuracy against the original, in points.
    ``energy``: the figure ranked: ``auto`` (``device:`` the first board priced, else
    ``measured-net``), measured net or gross J per inference at ``batch``, the ``estimate`` of
    ``table`` (its range's geometric middle), or ``device:NAME``. ``fallback``: the kinds to fall back
    to, in order, when a variant meeting the constraint has no usable figure of that kind.
    """

    constraint: str = "aha"
    min_balanced_accuracy: float = 0.9
    max_drop_pts: float | None = None
    energy: str = "auto"
    batch: int = 1
    table: str = "horowitz-45nm"
    fallback: tuple[str, ...] = ("measured-gross", "estimate")
    # measured figures within tie_margin of the lowest (or whose 95% intervals overlap it) are not
    # told apart: a practical-equivalence margin. A host CPU stands in for the wearable, and gaps
    # this small between networks of equal work come from the runtime's per-call cost (LiteRT's
    # invoke of the 52,720-MAC student on a 2-vCPU VM: 4.67 µs INT8, 4.36 µs float32), not from
    # the model; among them tie_break "estimate" takes the lowest estimate of `table` (the work
    # at its precision), "none" keeps the measured order
    tie_margin: float = 0.10
    tie_break: str = "estimate"

    def __post_init__(self) -> None:
        if self.constraint not in CONSTRAINTS:
            raise ValueError(
                f"recommend.constraint must be one of {', '.join(CONSTRAINTS)}, "
                f"not {self.constraint!r}"
            )
        if self.energy not in (*ENERGY_BASES, "auto") and not (
            self.energy.startswith("device:") and len(self.energy) > len("device:")
        ):
            raise ValueError(
                f"recommend.energy must be auto, {', '.join(ENERGY_BASES)} or "
                f"device:NAME, not {self.energy!r}"
            )
        if not 0.0 <= self.min_balanced_accuracy <= 1.0:
            raise ValueError("recommend.min_balanced_accuracy is a fraction between 0 and 1")
        if self.batch < 1:
            raise ValueError("recommend.batch must be at least 1")
        if self.tie_break not in ("estimate", "none"):
            raise ValueError(
                f"recommend.tie_break must be estimate or none, not {self.tie_break!r}"
            )
        if not 0.0 <= self.tie_margin < 1.0:
            raise ValueError("recommend.tie_margin is a fraction between 0 and 1")
        bad = [b for b in self.fallback if b not in ENERGY_BASES]
        if bad:
            raise ValueError(
                f"recommend.fallback: {bad[0]!r} is not one of {', '.join(ENERGY_BASES)}"
            )

    @property
    def order(self) -> list[str]:
        """The kinds of figure to rank on, in order: the one asked for, then the fallbacks (none
        for a device: a variant that cannot run on the board is excluded, not ranked otherwise)."""
        if self.device:
            return [self.energy]
        return [self.energy, *(b for b in self.fallback if b != self.energy)]

    @property
    def device(self) -> str | None:
        """The board ranked on (``energy = "device:NAME"``), else None."""
        return self.energy.split(":", 1)[1] if self.energy.startswith("device:") else None


def resolve(rc: RecommendConfig, boards=()) -> RecommendConfig:
    """``rc`` with ``energy = "auto"`` made concrete: the first of ``boards`` (the boards the run
    priced, in the order named), else the measured net figure."""
    if rc.energy != "auto":
        return rc
    return replace(rc, energy=f"device:{boards[0]}" if boards else "measured-net")


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
                out.append(
                    f"{name} {row['measure']} {pct(row.get('estimate'), 1)} "
                    f"(lower 90% bound {pct(row.get('lower90'), 1)}; goal "
                    f"{pct(row.get('goal'), 1)}, bound {pct(row.get('lower_goal'), 1)})"
                )
    elif rc.constraint == "balanced-accuracy":
        bal = acc.get("balanced_accuracy")
        if bal is None or bal < rc.min_balanced_accuracy:
            out.append(f"balanced accuracy {pct(bal, 1)} < {pct(rc.min_balanced_accuracy, 1)}")
    if rc.max_drop_pts is not None and original_bal is not None:
        bal = acc.get("balanced_accuracy")
        if bal is not None and (original_bal - bal) * 100 > rc.max_drop_pts:
            out.append(
                f"balanced accuracy {(original_bal - bal) * 100:.2f} points below the "
                f"original (allowed {rc.max_drop_pts:g})"
            )
    return out


def pareto_set(points: dict[str, tuple[float, float]]) -> list[str]:
    """Names not dominated on (energy lower, accuracy higher), in order of energy.

    >>> pareto_set({"a": (1.0, 0.9), "b": (2.0, 0.95), "c": (3.0, 0.94)})
    ['a', 'b']
    """
    front = []
    for name, (e, a) in points.items():
        dominated = any(
            e2 <= e and a2 >= a and (e2 < e or a2 > a)
            for other, (e2, a2) in points.items()
            if other != name
        )
        if not dominated:
            front.append(name)
    return sorted(front, key=lambda n: points[n][0])


def constraint_text(rc) -> str:
    text = {
        "aha": "the AHA goals for shockable-rhythm detection",
        "balanced-accuracy": f"balanced accuracy >= {pct(rc.min_balanced_accuracy, 1)}",
        "none": "no accuracy constraint",
    }[rc.constraint]
    if rc.max_drop_pts is not None:
        text += f" and at most {rc.max_drop_pts:g} points of balanced accuracy below the original"
    return text


def settings_config(rec: dict) -> RecommendConfig:
    """The RecommendConfig a recommendation was made under (its stored ``settings``)."""
    settings = dict(rec["settings"])
    settings["fallback"] = tuple(settings.get("fallback") or ())
    return RecommendConfig(**settings)


def ranked_config(rec: dict):
    """The RecommendConfig of a recommendation with ``energy`` set to the kind actually ranked."""
    from dataclasses import replace

    rc = settings_config(rec)
    basis = (rec.get("ranked") or {}).get("basis")
    return replace(rc, energy=basis) if basis else rc


def recommend(variants: dict, rc, boards=()) -> dict:
    """The recommendation: ``variant`` (None when none qualifies), ``reason`` (one sentence),
    ``ranked`` (the kind of figure ranked and why), the ``pareto`` set, the ranked
    ``candidates`` (each with the host's measurement beside a board's figure), ``excluded`` with
    reasons, and the settings used. ``boards``: the boards the run priced, in the order named
    (``energy = "auto"`` ranks on the first)."""
    asked, rc = rc, resolve(rc, boards)
    original = variants.get("original")
    original_bal = balanced_accuracy(original) if original else None
    why_not = {name: failures(v, rc, original_bal) for name, v in variants.items()}
    if rc.device:  # a variant that cannot run on the board is out, whatever its accuracy
        for name, v in variants.items():
            why = device_figure(v, rc.device)[1]
            if why:
                why_not[name] = [f"cannot be ranked on {rc.device}: {why}", *why_not[name]]
    # a variant whose measurement failed is excluded for that; it does not move the others' basis
    failed = {
        n
        for n, v in variants.items()
        if ((v.get("measurements") or {}).get(str(rc.batch)) or {}).get("error")
    }
    qualifying = [n for n in variants if not why_not[n] and n not in failed]
    basis, ranked_text = choose_basis(variants, qualifying or list(variants), rc)
    table, excluded, points = [], {}, {}
    for name, v in variants.items():
        e, missing = figure_of(v, rc, basis)
        bal = balanced_accuracy(v)
        if e is not None and bal is not None:
            points[name] = (e["j"], bal)
        why = why_not[name]
        if e is None:
            why = [f"no usable {basis_label(basis, rc)}: {missing}", *why]
        if why:
            excluded[name] = why
        else:
            row = {
                "variant": name,
                "energy_j": e["j"],
                "ci95": e["ci95"],
                "balanced_accuracy": bal,
                "method": e["method"],
                "measured": e["measured"],
            }
            if rc.device:
                host = host_figure(v, rc)[0]
                row["host"] = host and {
                    k: host[k] for k in ("j", "ci95", "label", "method", "measured")
                }
            table.append(row)
    # equal energy (one network at one precision on a board): the more accurate first
    table.sort(key=lambda r: (r["energy_j"], -(r["balanced_accuracy"] or 0.0)))
    out = {
        "settings": asdict(asked),
        "constraint": constraint_text(rc),
        "pareto": pareto_set(points),
        "ranked": {"basis": basis, "requested": rc.energy, "order": rc.order, "text": ranked_text},
        "candidates": table,
        "excluded": excluded,
        "variant": None,
        "caveats": [],
    }
    if not table:
        out["reason"] = (
            f"No variant meets the constraint ({constraint_text(rc)}) with a usable "
            "energy figure, so none is recommended; see why each was excluded."
        )
        return out
    lowest = table[0]
    tied, best, est = tie_group(table, variants, rc, basis)
    e = energy_of(variants[best["variant"]], rc, basis)
    kind = "measured" if e["measured"] else "modelled"
    if rc.device:
        sentence = board_sentence(best, table, e, rc, original_bal, points, variants)
    elif best is lowest:
        sentence = (
            f"{best['variant']} is the lowest-energy variant that meets "
            f"{constraint_text(rc)}: {fmt_j(best['energy_j'])} {e['phrase']} "
            f"({e['method']}, {kind})"
        )
    else:
        sentence = (
            f"{best['variant']} is recommended among the variants that meet "
            f"{constraint_text(rc)}: its {fmt_j(best['energy_j'])} {e['phrase']} "
            f"({e['method']}, {kind}) cannot be told apart on this machine from the "
            f"lowest, {lowest['variant']} at {fmt_j(lowest['energy_j'])} (within "
            f"{100 * rc.tie_margin:.0f}% or overlapping 95% intervals), and of those it "
            f"has the lowest estimated energy ({rc.table}: {fmt_j(est[best['variant']])} "
            f"against {fmt_j(est[lowest['variant']])}),"
        )
    if not rc.device:
        sentence += f" with balanced accuracy {pct(best['balanced_accuracy'], 1)}"
        sentence += against_original(best, points, original_bal)
    out["variant"] = best["variant"]
    out["reason"] = sentence + "."
    out["tie"] = {
        "variants": [r["variant"] for r in tied],
        "margin": rc.tie_margin,
        "broken_by": rc.tie_break if best is not lowest else None,
    }
    if len(tied) > 1 and best is lowest:
        others = ", ".join(f"{r['variant']} ({fmt_j(r['energy_j'])})" for r in tied[1:])
        out["caveats"].append(
            f"Not distinguishable by energy on this evidence from {others} (within "
            f"{100 * rc.tie_margin:.0f}% or overlapping 95% intervals)."
        )
    if basis != rc.energy:
        out["caveats"].append(ranked_text)
    if not e["measured"]:
        out["caveats"].append(
            f"The energy ranked ({e['method']}) was modelled, not read from a hardware counter."
        )
    return out


def against_original(best: dict, points: dict, original_bal: float | None) -> str:
    """', 12x less energy than the original (balanced accuracy 97.1%)', or nothing."""
    if best["variant"] == "original" or "original" not in points:
        return ""
    ratio = points["original"][0] / best["energy_j"] if best["energy_j"] > 0 else math.inf
    times = f"{ratio:.0f}x" if ratio >= 2 else f"{ratio:.2f}x"
    return f", {times} less energy than the original (balanced accuracy {pct(original_bal, 1)})"


def board_sentence(
    best: dict,
    table: list[dict],
    e: dict,
    rc,
    original_bal: float | None,
    points: dict,
    variants: dict,
) -> str:
    """The reason when ranked on a board: the board's figure, its battery days, the variants of
    equal energy it was chosen over (more accurate), and the host's measurement as evidence."""
    kind = "measured on the device" if e["measured"] else "modelled"
    same = [r["variant"] for r in table[1:] if r["energy_j"] == best["energy_j"]]
    sentence = (
        f"{best['variant']} is the lowest-energy variant on {rc.device} that fits, keeps "
        f"real time and meets {constraint_text(rc)}: {fmt_j(best['energy_j'])} per "
        f"inference there ({kind}), with balanced accuracy "
        f"{pct(best['balanced_accuracy'], 1)}"
    )
    if same:
        sentence += (
            f" (the same energy as {', '.join(same)}, which "
            f"{'is' if len(same) == 1 else 'are'} less accurate)"
        )
    row = e.get("row") or {}
    if row.get("battery_days") is not None:
        sentence += (
            f", {row['battery_days']:.0f} days of battery "
            f"({row['battery_days_low']:.0f}-{row['battery_days_high']:.0f})"
        )
    sentence += against_original(best, points, original_bal)
    host, why = host_figure(variants[best["variant"]], rc)
    if host:
        how = "measured" if host["measured"] else "modelled"
        sentence += (
            f"; on this host it measured {fmt_j(host['j'])} {host['phrase']} "
            f"({host['method']}, {how})"
        )
    else:
        sentence += f"; on this host it has no measured figure ({why})"
    return sentence


def tie_group(table: list[dict], variants: dict, rc, basis: str) -> tuple[list, dict, dict]:
    """(the candidates not told apart from the lowest, the one chosen among them, their
    estimates in J). Tied: within ``rc.tie_margin`` of the lowest figure, or a 95% interval
    overlapping its interval. With ``tie_break`` "estimate" the tied variant with the lowest
    estimate of ``rc.table`` is chosen (ties of that again by the measured figure); otherwise, or
    when the figure ranked is itself an estimate, the lowest."""
    lowest = table[0]
    if basis.startswith("device:"):  # one model and one band for every variant: ranked as is
        return [lowest], lowest, {}
    tied = [
        r
        for r in table
        if r is lowest
        or _overlap(r["ci95"], lowest["ci95"])
        or r["energy_j"] <= lowest["energy_j"] * (1 + rc.tie_margin)
    ]
    est = {}
    for r in tied:
        f = figure_of(variants[r["variant"]], rc, "estimate")[0]
        if f:
            est[r["variant"]] = f["j"]
    if basis == "estimate" or rc.tie_break != "estimate" or len(tied) < 2 or not est:
        return tied, lowest, est
    best = min(
        (r for r in tied if r["variant"] in est), key=lambda r: (est[r["variant"]], r["energy_j"])
    )
    return tied, best, est


def _overlap(a, b) -> bool:
    return bool(a and b and a[0] is not None and b[0] is not None and a[1] >= b[0] and b[1] >= a[0])


def device_lines(variants: dict, name: str | None, devices: list[str]) -> list[str]:
    """For the recommended variant, one sentence per assessed board: what it costs there, whether
    it fits and keeps real time, and its days of battery (all modelled)."""
    if not name or name not in variants:
        return []
    out = []
    for dev in devices:
        row = (variants[name].get("device") or {}).get(dev)
        if not row:
            continue
        if row.get("skipped"):
            out.append(f"On {dev}: {name} is not priced ({row['skipped']}).")
            continue
        parts = []
        imp = row.get("imported") or {}
        if imp.get("energy_j"):
            parts.append(
                f"{fmt_j(imp['energy_j'])} per inference measured on the device "
                f"({imp['method']}; the model predicted {fmt_j(row.get('energy_j'))})"
            )
        elif row.get("energy_j") is not None:
            parts.append(
                f"{fmt_j(row['energy_j'])} per inference "
                f"({fmt_j(row['energy_j_low'])}-{fmt_j(row['energy_j_high'])})"
            )
        if row.get("latency_s") is not None:
            parts.append(f"{row['latency_s'] * 1e3:.3g} ms per window")
        if row.get("sram_bytes") is not None:
            parts.append(
                ("fits" if row.get("fits") else "does NOT fit")
                + f" ({row['sram_bytes'] / 1024:.1f} KiB SRAM, "
                f"{row['flash_bytes'] / 1024:.1f} KiB flash)"
            )
        if row.get("realtime") is not None:
            parts.append("keeps real time" if row["realtime"] else "does NOT keep real time")
        if row.get("battery_days") is not None:
            parts.append(
                f"{row['battery_days']:.0f} days of battery "
                f"({row['battery_days_low']:.0f}-{row['battery_days_high']:.0f})"
            )
        basis = (
            "datasheet power x its MLPerf Tiny latency, lower confidence"
            if row.get("confidence") == "datasheet"
            else "its MLPerf Tiny results"
        )
        out.append(
            f"On {dev}, {name} would take "
            + ", ".join(parts)
            + f" (modelled from {basis}"
            + ("; energy measured" if imp.get("energy_j") else "")
            + ")."
        )
    return out
