"""Text of the emulated method's extra figures: per board and model, the per-operator table (which
layer costs what on the board), the fixed cost per inference, and the per-MAC figure beside it."""

from __future__ import annotations

from .fmt import seconds_text
from .recommend import fmt_j


def _range(mid, lo, hi, fmt) -> str:
    if mid is None:
        return "n/a"
    return f"{fmt(mid)} [{fmt(lo)}, {fmt(hi)}]"


def emulated_lines(dev: dict, top: int = 0) -> list[str]:
    """Lines for every emulated row of ``dev`` (the ``assess`` result); ``top``: operators shown
    (0: all)."""
    out = []
    for device, models in dev.get("by_device", {}).items():
        for model, r in models.items():
            if not r.get("operators"):
                continue
            pm = r.get("per_mac_row") or {}
            emu = r.get("emulation") or {}
            agree = emu.get("agreement_host_tflm") or {}
            out.append("")
            out.append(f"{device} / {model}: {r['instructions']:,.0f} instructions per inference "
                       f"on the emulated {emu.get('target')} ({emu.get('machine')})")  # fmt: skip
            out.append(f"  emulated: {_range(r['energy_j'], r['energy_j_low'], r['energy_j_high'], fmt_j)}"
                       f", {_range(r['latency_s'], r['latency_s_low'], r['latency_s_high'], seconds_text)}"
                       f"  ({r['method']})")  # fmt: skip
            out.append(f"  per MAC:  {_range(pm.get('energy_j'), pm.get('energy_j_low'), pm.get('energy_j_high'), fmt_j)}"
                       f", {_range(pm.get('latency_s'), pm.get('latency_s_low'), pm.get('latency_s_high'), seconds_text)}"
                       f"  ({pm.get('method') or 'n/a'})")  # fmt: skip
            fx = r.get("fixed") or {}
            share = fx.get("share")
            out.append(f"  fixed cost per inference (the interpreter's own work, outside every "
                       f"operator): {fx.get('instructions', 0):,.0f} instructions"
                       f"{f' ({100 * share:.1f}%)' if share is not None else ''}, "
                       f"{fmt_j(fx.get('energy_j'))}, {seconds_text(fx.get('latency_s'))}; set-up "
                       f"(AllocateTensors, once): {fx.get('setup_instructions', 0):,} "
                       "instructions")  # fmt: skip
            if agree.get("windows"):
                same = agree.get("identical")
                out.append(f"  outputs vs TFLM on the host: {100 * same:.0f}% of "
                           f"{agree['windows']} windows identical bit for bit"
                           + ("" if same == 1.0 else f" (largest difference "
                              f"{agree.get('max_abs_diff'):g} steps)"))  # fmt: skip
            out.append(f"  {'#':>3}  {'operator':<22}{'instructions':>14}{'share':>8}"
                       f"{'energy':>12}{'latency':>12}")  # fmt: skip
            ops = r["operators"] if not top else sorted(r["operators"],
                                                        key=lambda o: -o["instructions"])[:top]  # fmt: skip
            for o in ops:
                out.append(f"  {o['index']:>3}  {o['op']:<22}{o['instructions']:>14,.0f}"
                           f"{100 * (o['share'] or 0):>7.1f}%{fmt_j(o['energy_j']):>12}"
                           f"{seconds_text(o['latency_s']):>12}")  # fmt: skip
    return out
