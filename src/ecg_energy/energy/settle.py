"""When the interleaved rounds may stop before the last one: every figure resolved and their order
settled. A pure rule over the protocol's summaries after two successive rounds.

Resolved: every workload has a net energy figure resolved above its idle baseline (a 95% interval
clear of zero), is not invalid and did not fail. Settled: no two workloads whose intervals are
apart now were in the other order by their medians one round before (workloads whose intervals
overlap are not told apart, by the recommendation either, so their order may still change).
"""

from __future__ import annotations

from dataclasses import dataclass

FIGURE = "energy_j_per_inference_net"


def _figures(summary: dict) -> dict[str, dict] | None:
    """{workload: net figure}, or None while any workload has no resolved net figure."""
    out = {}
    for key, v in (summary.get("variants") or {}).items():
        f = v.get(FIGURE)
        if v.get("error") or v.get("invalid") or not f or f.get("median") is None:
            return None
        if not f.get("resolved", True):
            return None
        out[key] = f
    return out or None


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
    _before: dict | None = None

    def __post_init__(self) -> None:
        if self.min_rounds < 2:
            raise ValueError("the rounds may stop early only after at least 2 rounds")

    def __call__(self, summary: dict, rounds_done: int) -> str | None:
        now = _figures(summary)
        before, self._before = self._before, now
        if rounds_done < self.min_rounds or now is None or before is None:
            return None
        if set(before) != set(now) or reordered(before, now):
            return None
        return (f"every net figure resolved and their order unchanged from round "
                f"{rounds_done - 1} to {rounds_done}")  # fmt: skip
