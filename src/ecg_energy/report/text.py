"""Plain-text tables for the terminal."""

from __future__ import annotations

from .fmt import pct

AHA_SHORT = (
    ("coarse VF", "cVF Se"),
    ("rapid VT", "VT Se"),
    ("NSR", "NSR Sp"),
    ("asystole", "ASY Sp"),
    ("other non-shockable", "ONS Sp"),
)


def _pct(v: float | None) -> str:
    return pct(v, 1, sign="", missing="-")


def format_evaluation(results: dict[str, dict]) -> str:
    """One row per variant: accuracy figures, AHA shock-decision figures and INT8 agreement."""
    has_aha = any("aha" in r for r in results.values())
    head = f"{'variant':<20}{'prec':>8}{'bal.acc':>9}{'acc':>7}{'mF1':>7}"
    if has_aha:
        head += "".join(f"{short:>8}" for _, short in AHA_SHORT) + f"{'AHA':>6}"
    head += f"{'agree':>8}"
    lines = [head, "-" * len(head)]
    for name, r in results.items():
        row = (
            f"{name:<20}{r['precision']:>8}{_pct(r['balanced_accuracy']):>9}"
            f"{_pct(r['accuracy']):>7}{_pct(r['macro_f1']):>7}"
        )
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
    lines.append(
        "percent on held-out records; Se/Sp = sensitivity/specificity of the shock decision; "
        "'!' misses the AHA goal; agree = same class as the float parent"
    )
    how = next((r["decision"] for r in results.values() if r.get("decision")), None)
    if how:
        alone = "; ".join(
            f"{name} {_pct(sd['sensitivity']).strip()}/{_pct(sd['specificity']).strip()}"
            for name, r in results.items()
            if (sd := (r.get("per_window") or {}).get("shock_decision"))
            and sd.get("sensitivity") is not None
            and sd.get("specificity") is not None
        )
        lines.append(
            f"each window decided on the mean of it and the {how['windows'] - 1} before "
            f"it in its record" + (f"; each window alone, shock Se/Sp: {alone}" if alone else "")
        )
    missing = next(
        (r.get("not_computable") for r in results.values() if r.get("not_computable")), None
    )
    if missing:
        lines.append(
            f"cannot be computed on these examples: {'; '.join(missing)}; the AHA "
            "verdict covers only the rows with windows"
        )
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
        at_least = "≥" if c.get("lower_bound") else ""  # a loop of unknown trip count
        macs = f"{at_least}{c['macs']:,}"
        row = f"{name:<20}{macs:>12}{prec:>7}{c['weight_bytes'] / 1024:>12.1f}{pf:>13}"
        for t in tables:
            est = e["estimates"][t]
            cell = (
                _j(est["low_j"])
                if est["low_j"] == est["high_j"]
                else f"{_j(est['low_j'])}-{_j(est['high_j'])}"
            )
            row += f"{at_least + cell:>24}"
        lines.append(row)
    if any(e["counts"].get("lower_bound") for e in energy.values()):
        lines.append(
            "≥: a lower bound (a loop whose trip count the graph does not fix, its body "
            "counted once)."
        )
    lines.append(
        "J per inference, estimated from operation counts (datapath: arithmetic + data "
        "movement; not device energy, not measured). seed-flat = the report's 0.45 pJ "
        "per FLOP."
    )
    return "\n".join(lines)


def format_measurements(result: dict) -> str:
    """Per variant and batch: energy per inference (gross, net) with 95% intervals, latency,
    throughput, spread, meter overhead; or the seed protocol's one-window figures."""
    if str(result.get("protocol", "")).startswith("seed"):
        lines = [
            f"{'variant':<20}{'J (1000 inf.)':>14}{'s':>8}{'W':>8}{'kWh/1000':>12}{'kg CO2e':>11}  method"
        ]
        for name, v in result["variants"].items():
            if v.get("too_short"):
                lines.append(
                    f"{name:<20}{'too short to read':>14}{v['seconds']:>8.2f}"
                    f"{'':>8}{'':>12}{'':>11}  {v['method']} (window shorter than the "
                    f"{result.get('sampling_period_s', 1):g} s sampling period)"
                )
                continue
            lines.append(
                f"{name:<20}{v['joules']:>14.3g}{v['seconds']:>8.2f}{v['implied_watts']:>8.1f}"
                f"{v['kwh_per_1000']:>12.3g}{v['co2e_kg']:>11.3g}  {v['method']}"
                f"{'' if v['measured'] else ' (modelled)'}"
            )
        lines.append(
            "the report's method: one window, no baseline, no repeats — compare with the "
            "standard protocol before trusting a ranking"
        )
        return "\n".join(lines)

    def ci(e: dict | None, scale: float = 1.0, fmt: str = ".3g") -> str:
        if not e:
            return "-"
        if e.get("median") is None:  # unresolved: never a negative figure
            up = e.get("upper_j")
            return f"unresolved (<= {up * scale:{fmt}})" if up else "unresolved (not above idle)"
        lo, hi = e["ci95"]
        return f"{e['median'] * scale:{fmt}} [{lo * scale:{fmt}}, {hi * scale:{fmt}}]"

    head = (
        f"{'variant@batch':<26}{'runtime':>12}{'gross µJ/inf [95% CI]':>32}"
        f"{'net µJ/inf [95% CI]':>32}{'latency µs [95% CI]':>32}{'spread':>8}"
        f"{'overhead':>10}{'repeats':>9}"
    )
    lines = [head, "-" * len(head)]
    for key, v in result["variants"].items():
        if v.get("error") and not v.get("trials"):
            lines.append(f"{key:<26}FAILED: {v['error']}")
            continue
        g, n = v.get("energy_j_per_inference_gross"), v.get("energy_j_per_inference_net")
        lat = v.get("latency_s_per_inference")
        ov = v.get("meter_overhead_fraction")
        energy = (
            f"{ci(g, 1e6):>32}{ci(n, 1e6):>32}"
            if not v.get("invalid")
            else f"{'invalid (contaminated)':>32}{'invalid (contaminated)':>32}"
        )
        lines.append(
            f"{key:<26}{v.get('runtime', ''):>12}{energy}{ci(lat, 1e6):>32}"
            f"{(g or {}).get('spread', float('nan')):>8.2f}"
            f"{(f'{100 * ov:.1f}%' if ov is not None else '-'):>10}"
            f"{v.get('repeated_windows', 0):>9}"
        )
        if v.get("invalid"):
            lines.append(f"  {key}: invalid: {v['invalid']}")
    kind = "measured (hardware counter)" if result.get("measured") else "MODELLED, not measured"
    parts = result.get("parts") or {}
    if not result.get("measured") and parts.get("measured"):
        kind = (f"PARTLY measured: {', '.join(parts['measured'])} read from a counter, "
                f"{', '.join(parts.get('modelled') or [])} modelled")  # fmt: skip
    idle = result.get("idle_power") or {}
    att = result.get("attribution")
    line = f"method {result.get('method')}: {kind}"
    if att:
        line += f"; attribution {att}"
    if idle.get("median") is not None:
        lo, hi = idle["ci95"]
        line += (
            f"; idle power {idle['median']:.2f} W [{lo:.2f}, {hi:.2f}] over "
            f"{idle['trials']} rounds, subtracted per round for net"
        )
    lines.append(line)
    choice = result.get("meter_choice") or {}
    if choice.get("skipped"):
        lines.append(f"meter {choice['chosen']}: {choice['why']}; skipped "
                     + "; ".join(choice["skipped"]))  # fmt: skip
    c = result.get("contamination")
    if c:
        lines.append(
            f"other processes: {c['repeated']} of {c['windows']} windows repeated (limit "
            f"{100 * c['max_other_share']:.0f}% of the machine), {c['contaminated']} "
            "left out"
        )
    if result.get("stopped_early"):
        lines.append(
            f"rounds: {result['rounds_done']} of at most "
            f"{(result.get('protocol') or {}).get('trials')} ({result['stopped_early']})"
        )
    if result.get("interrupted"):
        lines.append("interrupted: only the trials that finished are shown")
    return "\n".join(lines)
