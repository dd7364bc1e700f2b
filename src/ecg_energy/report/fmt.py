"""Number formats shared by every view of the results (report.md, report.html, the terminal), so
a figure reads the same everywhere and can be checked against results.json."""

from __future__ import annotations

__all__ = [
    "aha_cell",
    "aha_result",
    "bytes_text",
    "ci_text",
    "energy_text",
    "fmt_j",
    "kwh",
    "macs_text",
    "pct",
    "range_text",
    "sci",
    "sci_ci",
    "seconds_text",
    "unresolved_text",
]


def pct(x: float | None, digits: int = 2, sign: str = "%", missing: str = "n/a") -> str:
    """0.96418 -> '96.42%' (``digits=1``: '96.4%'; ``sign=""``: '96.42'); None or NaN -> ``missing``."""
    return missing if x is None or x != x else f"{100 * x:.{digits}f}{sign}"


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


def unresolved_text(stat: dict) -> str:
    """'unresolved (≤ 1.2 µJ)': an energy not resolved above zero, by the upper bound of its
    interval; 'unresolved (not above idle)' when even that is not above zero."""
    up = stat.get("upper_j", stat.get("upper"))
    return f"unresolved (≤ {fmt_j(up)})" if up else "unresolved (not above idle)"


def sci(x: float | None) -> str:
    """3 significant digits in scientific notation: 1.04e-05."""
    return "n/a" if x is None else f"{x:.2e}"


def sci_ci(stat: dict | None) -> str:
    """A median with its interval in scientific notation: '2.77e-10 [2.5e-10, 3.1e-10]'; an
    unresolved figure by its upper bound: 'unresolved (≤ 4.1e-10)'."""
    if stat and stat.get("median") is None and "resolved" in stat:
        up = stat.get("upper")
        return f"unresolved (≤ {sci(up)})" if up else "unresolved (not above idle)"
    if not stat or stat.get("median") is None:
        return "n/a"
    lo, hi = stat.get("ci95") or [None, None]
    return f"{sci(stat['median'])} [{sci(lo)}, {sci(hi)}]"


def kwh(x: float | None) -> str:
    """kWh as the report printed them (0.000238); below 1e-5, 3 significant digits."""
    if x is None:
        return "n/a"
    return f"{x:.6f}" if abs(x) >= 1e-5 else f"{x:.2e}"


def seconds_text(s: float | None) -> str:
    """Seconds with a readable unit: 8.56e-05 -> '85.6 µs'."""
    if s is None:
        return "n/a"
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(s) >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def ci_text(stat: dict | None) -> str:
    """A median with its 95% interval: '14.5 µJ [11.4 µJ, 18.6 µJ]'."""
    if not stat or stat.get("median") is None:
        return "n/a"
    ci = stat.get("ci95") or [None, None]
    return f"{fmt_j(stat['median'])} [{fmt_j(ci[0])}, {fmt_j(ci[1])}]"


def energy_text(stat: dict | None) -> str:
    """An energy figure as every view shows it: '14.5 µJ [11.4 µJ, 18.6 µJ]', or for a net figure
    not resolved above the idle baseline 'unresolved (≤ 1.2 µJ)' — never a negative energy."""
    if stat and stat.get("median") is None and "resolved" in stat:
        return unresolved_text(stat)
    return ci_text(stat)


def bytes_text(n: int | None) -> str:
    if n is None:
        return "n/a"
    if n >= 1 << 20:
        return f"{n / (1 << 20):.2f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.1f} KiB"
    return f"{n} B"


def macs_text(counts: dict) -> str:
    """MACs by precision: '10,460,224 int8'."""
    by = counts.get("macs_by_precision") or {}
    # a loop of unknown trip count makes every figure a lower bound: said where it is shown
    at_least = "≥ " if counts.get("lower_bound") else ""
    if not by:
        return f"{at_least}{counts.get('macs', 0):,}"
    return at_least + ", ".join(f"{n:,} {p}" for p, n in by.items())


def aha_cell(acc: dict) -> str:
    """The AHA verdict of one variant: every goal met on held-out windows, or what is not."""
    goals = {g: r for g, r in (acc.get("aha") or {}).items() if r.get("goal") is not None}
    if not goals:
        return "n/a (not a rhythm task)"
    failed = [g for g, r in goals.items() if r.get("n") and r.get("passed") is False]
    missing = [g for g, r in goals.items() if not r.get("n")]
    if failed:
        return f"FAIL: {', '.join(failed)}"
    if missing:
        return f"not shown: no windows of {', '.join(missing)}"
    return f"pass ({len(goals)}/{len(goals)})"


def aha_result(r: dict | None) -> str:
    """One AHA row of one variant: 'pass 100.00% (97.58%, n=94)'."""
    if not r or not r.get("n"):
        return "n/a (n=0)"
    verdict = {True: "pass", False: "FAIL"}.get(r.get("passed"), "reported")
    return f"{verdict} {pct(r['estimate'])} ({pct(r['lower90'])}, n={r['n']})"


def range_text(mid: float | None, lo: float | None, hi: float | None, fmt=None) -> str:
    """A figure with its range: '14.5 µJ [11.4 µJ, 18.6 µJ]' (``fmt`` formats each number,
    ``fmt_j`` by default)."""
    fmt = fmt or fmt_j
    return "n/a" if mid is None else f"{fmt(mid)} [{fmt(lo)}, {fmt(hi)}]"
