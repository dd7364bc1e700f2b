"""When the interleaved rounds may stop before the last one: every figure resolved and their order
settled. A pure rule over the protocol's summaries after two successive rounds.

Resolved: every workload has a net energy figure resolved above its idle baseline (a 95% interval
clear of zero), is not invalid and did not fail; where some net figure is not resolved (on a busy
machine every idle window can be left out), every gross figure, as the recommendation then falls
back to gross. Settled: the same kind of figure as one round before, and no two workloads whose
intervals are apart now were in the other order by their medians then (workloads whose intervals
overlap are not told apart, by the recommendation either, so their order may still change).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("net", "gross")


def _of_kind(summary: dict, kind: str) -> dict[str, dict] | None:
    """{workload: its figure of ``kind``}, or None while any workload has none resolved."""
    out = {}
    for key, v in (summary.get("variants") or {}).items():
        f = v.get(f"energy_j_per_inference_{kind}")
        if v.get("error") or v.get("invalid") or not f or f.get("median") is None:
            return None
        if not f.get("resolved", True):
            return None
        out[key] = f
    return out or None


def _figures(summary: dict) -> tuple[str, dict[str, dict]] | None:
    """(kind, {workload: figure}): the net figures where all are resolved, else the gross."""
    for kind in KINDS:
        figures = _of_kind(summary, kind)
        if figures:
            return kind, figures
    return None


def _apart(a: dict, b: dict) -> bool:
    (alo, ahi), (blo, bhi) = a["ci95"], b["ci95"]
    return ahi < blo or bhi < alo


def reordered(before: dict, now: dict) -> list[tuple[str, str]]:
    """The pairs (a, b) apart now with a below b, whose medians one round before had b below a."""
    out = []
    keys = sorted(now)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if a not in before or b not in before or not _apart(now[a], now[b]):
                continue
            lo, hi = (a, b) if now[a]["median"] < now[b]["median"] else (b, a)
            if before[lo]["median"] > before[hi]["median"]:
                out.append((lo, hi))
    return out


@dataclass
class Settle:
    """``stop(summary, rounds_done)``: why the rounds may stop now (one phrase), or None. Never
    before ``min_rounds`` rounds; compares each round's summary with the one before it."""

    min_rounds: int = 3
    _before: tuple[str, dict] | None = None

    def __post_init__(self) -> None:
        if self.min_rounds < 2:
            raise ValueError("the rounds may stop early only after at least 2 rounds")

    def __call__(self, summary: dict, rounds_done: int) -> str | None:
        now = _figures(summary)
        before, self._before = self._before, now
        if rounds_done < self.min_rounds or now is None or before is None:
            return None
        (kind, figures), (kind_before, figures_before) = now, before
        if kind != kind_before or set(figures) != set(figures_before):
            return None
        if reordered(figures_before, figures):
            return None
        return (
            f"every {kind} figure resolved and their order unchanged from round "
            f"{rounds_done - 1} to {rounds_done}"
        )
