"""The energy figure of a variant on one basis, or why it has none: measured net or gross at a
batch size (never an unresolved or contaminated one), a table's estimate, or a board's figure
(an imported on-device measurement first, else the calibrated model). Pure functions over the
``variants`` of ``results.json``; ``recommend`` ranks them.
"""

from __future__ import annotations

from ..energy.stats import log_middle
from .fmt import unresolved_text


def host_figure(v: dict, rc) -> tuple[dict | None, str | None]:
    """The host's measurement of ``v`` at ``rc.batch`` (net, else gross): the evidence beside a
    figure ranked on a board."""
    e, why = figure_of(v, rc, "measured-net")
    if e:
        return e, None
    gross = figure_of(v, rc, "measured-gross")[0]
    return (gross, None) if gross else (None, why)


def energy_of(v: dict, rc, basis: str | None = None) -> dict | None:
    """The usable energy figure of variant ``v`` on ``basis`` (default ``rc.energy``): {j, ci95,
    label, method, measured}, or None (see ``figure_of`` for why)."""
    return figure_of(v, rc, basis)[0]


def figure_of(v: dict, rc, basis: str | None = None) -> tuple[dict | None, str | None]:
    """(figure, None), or (None, why there is no usable figure): not measured, failed, invalid
    (contaminated windows), or a net figure not resolved above the idle baseline."""
    basis = basis or rc.energy
    if basis.startswith("device:"):
        return device_figure(v, basis.split(":", 1)[1])
    if basis == "estimate":
        e = v.get("estimates", {}).get(rc.table)
        if not e:
            return None, f"no estimate from table {rc.table}"
        lo, hi = e["low_j"], e["high_j"]
        mid = log_middle(lo, hi)
        return {
            "j": mid,
            "ci95": [lo, hi],
            "label": f"estimated J per inference ({rc.table})",
            "phrase": f"per inference, estimated with {rc.table}",
            "method": f"table:{rc.table}",
            "measured": False,
        }, None
    m = v.get("measurements", {}).get(str(rc.batch))
    kind = "net" if basis == "measured-net" else "gross"
    if not m:
        return None, f"not measured at batch {rc.batch}"
    if m.get("error"):
        return None, f"its measurement failed ({m['error']})"
    if m.get("invalid"):
        return None, f"its measurement is invalid: {m['invalid']}"
    e = m.get(f"energy_j_per_inference_{kind}")
    if not e:
        return None, f"no {kind} figure at batch {rc.batch}"
    if not is_resolved(e):
        return None, f"its {kind} figure is {unresolved_text(e)}"
    methods, measured = trial_methods(m)
    return {
        "j": e["median"],
        "ci95": e.get("ci95"),
        "label": f"{kind} J per inference at batch {rc.batch}",
        "phrase": f"{kind} per inference at batch {rc.batch}",
        "method": ", ".join(methods) or "unknown",
        "measured": measured,
    }, None


def device_figure(v: dict, device: str) -> tuple[dict | None, str | None]:
    """Variant ``v``'s energy per inference on ``device`` (the run's device section): an imported
    on-device measurement where there is one, else the calibrated model's figure; None where it
    cannot run there (skipped, does not fit, not real time) or has no energy figure."""
    row = (v.get("device") or {}).get(device)
    if not row:
        return None, f"not assessed on {device} (add --device {device})"
    if row.get("skipped"):
        return None, row["skipped"]
    if row.get("fits") is False:
        return None, f"does not fit {device}"
    if row.get("realtime") is False:
        return None, f"does not keep real time on {device}"
    if row.get("fits") is None:
        return None, f"its memory fit on {device} is unknown (TFLM could not load it)"
    imp = row.get("imported")
    if imp and imp.get("energy_j"):
        return {
            "j": imp["energy_j"],
            "ci95": [imp.get("energy_j_low"), imp.get("energy_j_high")],
            "label": f"J per inference on {device} (measured on the device)",
            "phrase": f"per inference measured on {device}",
            "method": imp["method"],
            "measured": True,
            "row": row,
        }, None
    if row.get("energy_j") is None:
        return None, f"no energy figure on {device}"
    return {
        "j": row["energy_j"],
        "ci95": [row["energy_j_low"], row["energy_j_high"]],
        "label": f"J per inference on {device} (modelled from its MLPerf Tiny results)",
        "phrase": f"per inference on {device}",
        "method": row["method"],
        "measured": False,
        "row": row,
    }, None


def is_resolved(stat: dict | None) -> bool:
    """A figure to rank on: present, with a median (a net figure also marked resolved)."""
    return bool(stat) and stat.get("median") is not None and stat.get("resolved", True)


def basis_label(basis: str, rc) -> str:
    if basis.startswith("device:"):
        return f"J per inference on {basis.split(':', 1)[1]}"
    return {
        "measured-net": f"net J per inference at batch {rc.batch}",
        "measured-gross": f"gross J per inference at batch {rc.batch}",
        "estimate": f"the {rc.table} estimate",
    }[basis]


def choose_basis(variants: dict, pool: list[str], rc) -> tuple[str, str]:
    """(kind of figure ranked, one sentence saying which and why): the first kind in ``rc.order``
    that every variant of ``pool`` has usable; else the one most of them have."""
    order = rc.order
    missing = {b: {n: figure_of(variants[n], rc, b)[1] for n in pool} for b in order}
    missing = {b: {n: why for n, why in m.items() if why} for b, m in missing.items()}
    full = [b for b in order if not missing[b]]
    basis = full[0] if full else min(order, key=lambda b: (len(missing[b]), order.index(b)))
    label = basis_label(basis, rc)
    if basis == rc.energy:
        return basis, f"Ranked by {label}, as asked: every variant ranked has a usable figure."
    skipped = [b for b in order[: order.index(basis)]]
    because = "; ".join(
        f"{basis_label(b, rc)}: " + ", ".join(f"{n} ({why})" for n, why in missing[b].items())
        for b in skipped
    )
    return basis, (
        f"Ranked by {label}, not {basis_label(rc.energy, rc)}, because a variant "
        f"ranked has no usable figure there ({because})."
    )


def trial_methods(m: dict) -> tuple[list[str], bool]:
    """The methods of a measurement's trials, and whether every trial was measured (a hardware
    counter) rather than modelled."""
    trials = m.get("trials", [])
    methods = sorted({t["method"] for t in trials if t.get("method")})
    return methods, bool(trials) and all(t.get("measured") for t in trials)
