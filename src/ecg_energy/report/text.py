"""Plain-text tables for the terminal."""

from __future__ import annotations

AHA_SHORT = (("coarse VF", "cVF Se"), ("rapid VT", "VT Se"), ("NSR", "NSR Sp"),
             ("asystole", "ASY Sp"), ("other non-shockable", "ONS Sp"))  # fmt: skip


def _pct(v: float | None) -> str:
    return "   -" if v is None or v != v else f"{100 * v:5.1f}"


def format_evaluation(results: dict[str, dict]) -> str:
    """One row per variant: accuracy figures, AHA shock-decision figures and INT8 agreement."""
    has_aha = any("aha" in r for r in results.values())
    head = f"{'variant':<20}{'prec':>8}{'bal.acc':>9}{'acc':>7}{'mF1':>7}"
    if has_aha:
        head += "".join(f"{short:>8}" for _, short in AHA_SHORT) + f"{'AHA':>6}"
    head += f"{'agree':>8}"
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        row = (f"{name:<20}{r['precision']:>8}{_pct(r['balanced_accuracy']):>9}"
               f"{_pct(r['accuracy']):>7}{_pct(r['macro_f1']):>7}")  # fmt: skip
        if has_aha:
            aha = r.get("aha", {})
            for group, _ in AHA_SHORT:
                cell = aha.get(group, {})
                mark = "" if cell.get("passed") is None else ("" if cell["passed"] else "!")
                row += f"{_pct(cell.get('estimate')) + mark:>8}"
            row += f"{('pass' if r.get('aha_all_pass') else 'FAIL'):>6}"
        agree = r.get("agreement_with_parent")
        row += f"{_pct(agree):>8}" if agree is not None else f"{'':>8}"
        lines.append(row)
    lines.append("percent on held-out records; Se/Sp = sensitivity/specificity of the shock decision; "
                 "'!' misses the AHA goal; agree = same class as the float parent")  # fmt: skip
    return "\n".join(lines)


def _j(v: float) -> str:
    return f"{v:.2e}"


def format_energy(energy: dict) -> str:
    """One row per variant: MACs by precision, weights, profiler FLOPs, the report's flat figure
    and our estimated ranges per table (J per inference, datapath only)."""
    tables = [t for t in next(iter(energy.values()))["estimates"]] if energy else []
    head = f"{'variant':<20}{'MACs':>12}{'prec':>7}{'weights KiB':>12}{'prof. FLOPs':>13}"
    head += "".join(f"{t:>24}" for t in tables)
    lines = [head, "-" * len(head)]
    for name, e in energy.items():
        c = e["counts"]
        prec = "+".join(sorted(c["macs_by_precision"])) or "-"
        pf = f"{c['profiler_flops']:,}" if c.get("profiler_flops") else "-"
        row = f"{name:<20}{c['macs']:>12,}{prec:>7}{c['weight_bytes'] / 1024:>12.1f}{pf:>13}"
        for t in tables:
            est = e["estimates"][t]
            cell = _j(est["low_j"]) if est["low_j"] == est["high_j"] else \
                f"{_j(est['low_j'])}-{_j(est['high_j'])}"  # fmt: skip
            row += f"{cell:>24}"
        lines.append(row)
    lines.append("J per inference, estimated from operation counts (datapath: arithmetic + data "
                 "movement; not device energy, not measured). seed-flat = the report's 0.45 pJ "
                 "per FLOP.")  # fmt: skip
    return "\n".join(lines)
