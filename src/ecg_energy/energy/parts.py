"""A measurement's parts: which parts of the meter's totals were read from a counter and which
were modelled, per inference part by part, and what was read on devices the work did not run on
(kept apart from every figure). Pure functions over the protocol's trials."""

from __future__ import annotations

import numpy as np

from .meters import MEASURED, MODELLED


def part_sources(trials: list) -> dict[str, list[str]]:
    """Which parts of the totals were read from a counter and which were modelled:
    e.g. CodeCarbon with RAPL -> {"measured": ["cpu"], "modelled": ["ram"]}."""
    seen: dict[str, set[str]] = {MEASURED: set(), MODELLED: set()}
    for t in trials:
        for part, kind in t.sources.items():
            seen[kind if kind in seen else MODELLED].add(part)
    return {k: sorted(v) for k, v in seen.items()}


def per_part(trials: list) -> dict:
    """Gross energy per inference part by part (median over trials), each with its source, and
    what was read on devices the work did not run on, kept apart from every figure."""
    out: dict = {}
    parts = {p: kind for t in trials for p, kind in t.sources.items()}
    if parts:
        out["energy_parts_j_per_inference"] = {
            p: {"median": float(np.median([t.components.get(p, 0.0) / t.inferences
                                           for t in trials])), "source": kind}
            for p, kind in sorted(parts.items())}  # fmt: skip
    apart = sorted({p for t in trials for p in t.apart})
    if apart:
        out["apart_j_per_inference"] = {
            p: {"median": float(np.median([t.apart.get(p, 0.0) / t.inferences for t in trials])),
                "note": f"read on the {p.upper()}, which did not run the models: not in any "
                        "figure"} for p in apart}  # fmt: skip
    return out
