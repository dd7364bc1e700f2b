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
