"""The figures of report.html: pure functions from ``results.json`` to PNG images.

Each figure is drawn on its own ``matplotlib.figure.Figure`` with the Agg canvas: no pyplot, no
change to matplotlib's global state, no display. A variant without the data a figure needs (no
measurement, a failed one, no accuracy) is left out of that figure, and its caption says so.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator, PercentFormatter

from .figures import figure_of
from .fmt import fmt_j
from .recommend import RecommendConfig, balanced_accuracy, ranked_config

DPI = 110
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
FLAT = "seed-flat"


@dataclass(frozen=True)
class Plot:
    """One figure: the PNG, a text alternative and a caption (which names what was left out);
    ``figure``, the matplotlib Figure it was drawn on (to restyle or save it in other formats).
    In a notebook it shows as its image."""

    png: bytes = field(repr=False)
    alt: str
    caption: str
    figure: Figure | None = field(default=None, compare=False, repr=False)

    def _repr_png_(self) -> bytes:
        return self.png


def _figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _settings(res: dict) -> RecommendConfig:
    """The recommendation's settings, with the kind of energy it actually ranked."""
    return ranked_config(res["recommendation"])


def _left_out(skipped: dict[str, str]) -> str:
    if not skipped:
        return ""
    return " Not shown: " + "; ".join(f"{n} ({why})" for n, why in skipped.items()) + "."


def _joule_axis(ax, which: str, values: list[float]) -> None:
    """A log axis in joules spanning whole decades, so every tick label is a round figure."""
    pos = [x for x in values if x and x > 0 and math.isfinite(x)]
    lo, hi = (min(pos), max(pos)) if pos else (1e-9, 1e-3)
    lo, hi = 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
    getattr(ax, f"set_{which}scale")("log")
    getattr(ax, f"set_{which}lim")(lo, hi if hi > lo else lo * 10)
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(LogLocator(base=10, numticks=12))
    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt_j(v)))
    axis.set_minor_locator(NullLocator())


def _count(n: float, _pos=None) -> str:
    """1e6 -> '1M' (plain text: mathtext tick labels are slow to lay out)."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= scale:
            return f"{n / scale:g}{unit}"
    return f"{n:g}"


def _err(mid: float, ci) -> list[list[float]] | None:
    """Asymmetric error bar lengths for ``ci`` around ``mid`` (clipped at zero for a log axis)."""
    if not ci or ci[0] is None or ci[1] is None:
        return None
    lo = ci[0] if ci[0] > 0 else mid / 1e3
    return [[max(mid - lo, 0.0)], [max(ci[1] - mid, 0.0)]]


def _label_once(seen: set, label: str) -> str:
    if label in seen:
        return "_nolegend_"
    seen.add(label)
    return label


def energy_accuracy(res: dict) -> Plot:
    """Energy (the figure the recommendation ranks) against balanced accuracy, with the Pareto
    front and the recommended variant."""
    rc, rec = _settings(res), res["recommendation"]
    points, skipped = {}, {}
    for name, v in res["variants"].items():
        (e, why), bal = figure_of(v, rc), balanced_accuracy(v)
        if e is None:
            skipped[name] = why
        elif bal is None:
            skipped[name] = "not evaluated"
        elif e["j"] <= 0:
            skipped[name] = f"energy {fmt_j(e['j'])} is not above zero"
        else:
            points[name] = (e, bal)
    fig = _figure(8.5, 5.2)
    ax = fig.add_subplot()
    estimate = rc.energy == "estimate"
    bar_words = "range low..high" if estimate else "95% interval"
    seen: set = set()
    last_y: dict[float, int] = {}
    for i, (name, (e, bal)) in enumerate(sorted(points.items(), key=lambda kv: kv[1][0]["j"])):
        colour = COLOURS[i % len(COLOURS)]
        ax.errorbar(e["j"], bal, xerr=_err(e["j"], e.get("ci95")), fmt="o", ms=7, color=colour,
                    capsize=4, zorder=3, label=_label_once(seen, f"variant (bars: {bar_words})"))  # fmt: skip
        n = last_y[round(bal, 4)] = last_y.get(round(bal, 4), -1) + 1  # stagger equal accuracies
        ax.annotate(name, (e["j"], bal), xytext=(7, 6 - 13 * n), textcoords="offset points",
                    fontsize=9, color=colour)  # fmt: skip
    front = sorted((points[n] for n in rec.get("pareto", []) if n in points),
                   key=lambda p: p[0]["j"])  # fmt: skip
    if front:
        ax.plot([p[0]["j"] for p in front], [p[1] for p in front], "o", ms=13, mfc="none",
                mec="#555", ls="none", zorder=2, label="Pareto set")  # fmt: skip
    if len(front) > 1:
        ax.step([p[0]["j"] for p in front], [p[1] for p in front], where="post", color="#555",
                lw=1.5, ls="--", zorder=2, label="Pareto front")  # fmt: skip
    chosen = rec.get("variant")
    if chosen in points:
        e, bal = points[chosen]
        ax.plot(e["j"], bal, marker="*", ms=22, mfc="none", mec="#d62728", mew=2, ls="none",
                zorder=4, label=f"recommended: {chosen}")  # fmt: skip
    xs = [e["j"] for e, _ in points.values()]
    xs += [c for e, _ in points.values() for c in (e.get("ci95") or []) if c]
    _joule_axis(ax, "x", xs)
    ys = [b for _, b in points.values()] or [0.5]
    ax.set_ylim(max(0.0, min(ys) - 0.08), min(1.0, max(ys) + 0.08) + 0.02)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    any_e = next(iter(points.values()))[0] if points else None
    if any_e:
        methods = sorted({m for e, _ in points.values() for m in e["method"].split(", ")})
        flags = {e["measured"] for e, _ in points.values()}
        kind = {frozenset([True]): "measured", frozenset([False]): "modelled"}.get(
            frozenset(flags), "partly measured")  # fmt: skip
        ax.set_xlabel(f"{any_e['label']} ({', '.join(methods)}, {kind}), log scale")
    else:
        ax.set_xlabel("J per inference (no variant has the figure ranked)")
    ax.set_ylabel("balanced accuracy (held-out records)")
    ax.grid(True, which="major", alpha=0.3)
    if points:
        ax.legend(loc="best", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no variant has both an energy figure and an accuracy",
                ha="center", va="center", transform=ax.transAxes)  # fmt: skip
    alt = ("Scatter plot of energy per inference against balanced accuracy: "
           + "; ".join(f"{n} {fmt_j(e['j'])}, {100 * b:.2f}%" for n, (e, b) in points.items()))  # fmt: skip
    caption = (f"Energy per inference (the figure the recommendation ranks, log scale) against "
               f"balanced accuracy; bars: {bar_words}. Ringed, joined by the dashed step: the Pareto "
               f"set ({', '.join(rec.get('pareto', [])) or 'empty'}); "
               + (f"the star marks the recommended variant, {chosen}." if chosen
                  else "no variant is recommended.") + _tie_words(rec) + _left_out(skipped))  # fmt: skip
    return Plot(_png(fig), alt, caption, fig)


def _tie_words(rec: dict) -> str:
    """Why the star may not sit on the lowest point: a tie the measurement could not break."""
    tie = rec.get("tie") or {}
    if not tie.get("broken_by") or len(tie.get("variants", [])) < 2:
        return ""
    return (f" The measured figures of {', '.join(tie['variants'])} cannot be told apart (within "
            f"{100 * tie['margin']:.0f}% or overlapping intervals); of these the recommendation "
            f"takes the lowest {tie['broken_by']}.")  # fmt: skip


def _non_flat_tables(res: dict) -> list[str]:
    tables = [t for t in res["config"].get("tables", []) if t != FLAT]
    for v in res["variants"].values():
        tables += [t for t in v.get("estimates", {}) if t != FLAT and t not in tables]
    return tables


def estimates_measured(res: dict) -> Plot:
    """Per variant: each table's estimate range, the flat figure, and the measured net and gross
    medians (with 95% intervals) at the recommendation's batch size."""
    rc = _settings(res)
    batch = str(rc.batch)
    tables = _non_flat_tables(res)
    slots = [*tables, FLAT, "net", "gross"]
    width = 0.8 / len(slots)
    names = list(res["variants"])
    fig = _figure(max(7.0, 1.5 * len(names) + 3), 5.2)
    ax = fig.add_subplot()
    seen: set = set()
    values, skipped = [], {}
    for i, name in enumerate(names):
        v = res["variants"][name]
        x = {s: i - 0.4 + width * (k + 0.5) for k, s in enumerate(slots)}
        for k, t in enumerate(tables):
            e = v.get("estimates", {}).get(t)
            if not e or e["high_j"] <= 0:
                continue
            lo = e["low_j"] if e["low_j"] > 0 else e["high_j"]
            ax.vlines(x[t], lo, e["high_j"], lw=7, color=COLOURS[k % len(COLOURS)], alpha=0.75,
                      label=_label_once(seen, f"estimate {t} (low..high)"))  # fmt: skip
            ax.plot([x[t]] * 2, [lo, e["high_j"]], "_", ms=10, color=COLOURS[k % len(COLOURS)])
            values += [lo, e["high_j"]]
        flat = v.get("estimates", {}).get(FLAT)
        if flat and flat["low_j"] > 0:
            ax.plot(x[FLAT], flat["low_j"], "D", color="#444", ms=6,
                    label=_label_once(seen, "flat 0.45 pJ/FLOP (the report's method)"))  # fmt: skip
            values.append(flat["low_j"])
        m = v.get("measurements", {}).get(batch)
        if not m or m.get("error") or m.get("invalid"):
            skipped[name] = ("measurement failed" if m and m.get("error") else "measurement "
                             "invalid (contaminated windows)" if m else f"not measured at batch "
                             f"{batch}")  # fmt: skip
            continue
        for kind, marker, colour in (("net", "o", "#d62728"), ("gross", "s", "#9467bd")):
            stat = m.get(f"energy_j_per_inference_{kind}") or {}
            med = stat.get("median")
            if med is None or med <= 0:
                skipped[f"{name} {kind}"] = ("unresolved" if stat.get("resolved") is False
                                             else "no figure")  # fmt: skip
                continue
            ax.errorbar(x[kind], med, yerr=_err(med, stat.get("ci95")), fmt=marker, ms=6,
                        color=colour, capsize=3,
                        label=_label_once(seen, f"measured {kind}, batch {batch} (95% interval)"))  # fmt: skip
            values += [med, *(c for c in stat.get("ci95") or [] if c)]
    methods = sorted({t.get("method") for v in res["variants"].values()
                      for t in (v.get("measurements", {}).get(batch) or {}).get("trials", [])
                      if t.get("method")})  # fmt: skip
    _joule_axis(ax, "y", values)
    ax.set_xticks(range(len(names)), names, rotation=15, ha="right")
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel("J per inference, log scale")
    ax.grid(True, axis="y", which="major", alpha=0.3)
    if seen:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    measured = "measured" if res["measurement"].get("measured") else "modelled"
    caption = (f"Estimated against measured energy per inference, by variant (log scale). Bars: "
               f"each table's estimate range ({', '.join(tables) or 'none'}), from perfect reuse "
               f"to no reuse of on-chip memory; diamond: the flat 0.45 pJ per FLOP; circles and "
               f"squares: measured net and gross medians at batch {batch} "
               f"({', '.join(methods) or 'no method'}, {measured}) with 95% intervals."
               + _left_out(skipped))  # fmt: skip
    alt = "Estimated energy ranges and measured energy per inference for " + ", ".join(names)
    return Plot(_png(fig), alt, caption, fig)


def layer_table(res: dict) -> str | None:
    """The table priced in the per-layer figure: the recommendation's, else the first non-flat."""
    tables = _non_flat_tables(res)
    rc_table = res["recommendation"]["settings"].get("table")
    return rc_table if rc_table in tables else (tables[0] if tables else None)


def _layer_rows(v: dict, table: str) -> list[tuple[str, int, float, float, float]]:
    rows = []
    for ly in v.get("layers", []):
        e = (ly.get("energy_j") or {}).get(table) or {}
        c, lo, hi = e.get("compute", 0.0), e.get("memory_low", 0.0), e.get("memory_high", 0.0)
        if ly.get("macs", 0) or c or hi:
            rows.append((f"{ly['name']} ({ly.get('precision', '?')})", ly.get("macs", 0), c,
                         c + lo, c + hi))  # fmt: skip
    return rows


def layers(res: dict) -> Plot:
    """Per layer and variant: MACs, and the estimated energy (compute; compute + memory traffic
    from perfect reuse to none) from one non-flat table."""
    table = layer_table(res)
    per, skipped = {}, {}
    for name, v in res["variants"].items():
        rows = _layer_rows(v, table) if table else []
        if rows:
            per[name] = rows
        else:
            skipped[name] = "no per-layer counts" if not v.get("layers") else f"no {table} figures"
    if not per:
        fig = _figure(6, 1.5)
        fig.text(0.5, 0.5, "no variant has per-layer figures", ha="center", va="center")
        return Plot(
            _png(fig), "No per-layer figures", "No per-layer figures." + _left_out(skipped), fig
        )
    # Fixed margins (in inches) rather than a layout engine: ten axes of long labels lay out slowly.
    rows_in, gap_in, head_in, foot_in = 0.19 * sum(len(r) for r in per.values()), 0.75, 0.6, 0.45
    height = rows_in + gap_in * (len(per) - 1) + head_in + foot_in
    fig = _figure(11, height, layout=None)
    grid = fig.add_gridspec(len(per), 2, height_ratios=[len(r) for r in per.values()],
                            left=2.4 / 11, right=0.98, top=1 - head_in / height,
                            bottom=foot_in / height, wspace=0.1,
                            hspace=gap_in / (rows_in / len(per)))  # fmt: skip
    macs_ax = energy_ax = None
    all_macs = [m for rows in per.values() for _, m, *_ in rows]
    all_j = [j for rows in per.values() for *_, c, lo, hi in rows for j in (c, lo, hi)]
    seen: set = set()
    for i, (name, rows) in enumerate(per.items()):
        macs_ax = fig.add_subplot(grid[i, 0], sharex=macs_ax)
        energy_ax = fig.add_subplot(grid[i, 1], sharex=energy_ax)
        y = list(range(len(rows)))
        macs = [m for _, m, *_ in rows]
        macs_ax.barh([k for k in y if macs[k] > 0], [m for m in macs if m > 0], color="#1f77b4")
        for k in (k for k in y if macs[k] == 0):
            macs_ax.text(0.01, k, "0", va="center", fontsize=7, color="#777",
                         transform=macs_ax.get_yaxis_transform())  # fmt: skip
        macs_ax.set_xscale("log")
        macs_ax.xaxis.set_major_formatter(FuncFormatter(_count))
        macs_ax.xaxis.set_minor_locator(NullLocator())
        macs_ax.set_yticks(y, [r[0] for r in rows], fontsize=7)
        macs_ax.invert_yaxis()
        macs_ax.set_title(f"{name}: MACs per inference", fontsize=9, loc="left")
        spans = [(k, lo if lo > 0 else hi, hi) for k, (*_, lo, hi) in enumerate(rows) if hi > 0]
        dots = [(k, c) for k, (_, _, c, _, _) in enumerate(rows) if c > 0]
        if spans:
            ks, los, his = zip(*spans)
            energy_ax.hlines(ks, los, his, lw=5, color="#ff7f0e", alpha=0.6,
                             label=_label_once(seen, "compute + memory, low..high"))  # fmt: skip
            energy_ax.plot(los + his, ks + ks, "|", ms=7, color="#ff7f0e")
        if dots:
            energy_ax.plot([c for _, c in dots], [k for k, _ in dots], "o", ms=3.5, color="#7f3b08",
                           label=_label_once(seen, "compute only"))  # fmt: skip
        energy_ax.set_yticks(y, [""] * len(y))
        energy_ax.invert_yaxis()
        energy_ax.set_title(f"{name}: estimated energy ({table})", fontsize=9, loc="left")
        for ax in (macs_ax, energy_ax):
            ax.grid(True, axis="x", which="major", alpha=0.3)
            ax.tick_params(axis="x", labelsize=7)
    fig.legend(loc="upper right", bbox_to_anchor=(0.98, 1.0), ncols=2, fontsize=8, frameon=False)
    positive = [m for m in all_macs if m > 0] or [1]
    macs_ax.set_xlim(max(min(positive) / 3, 0.5), max(positive + [10]) * 3)
    _joule_axis(energy_ax, "x", all_j)
    caption = (f"Multiply-accumulates (left, log scale) and estimated energy from {table} (right, "
               f"log scale) per layer: the dot is the arithmetic alone, the bar adds the memory "
               f"traffic from perfect reuse to none. Layers with no MACs and no estimated energy "
               f"are left out; '0' marks a layer that costs energy but no MACs."
               + _left_out(skipped))  # fmt: skip
    alt = f"Per-layer MACs and {table} energy for " + ", ".join(per)
    return Plot(_png(fig), alt, caption, fig)


def evaluated(res: dict) -> list[str]:
    """The variants with a confusion matrix, in results order."""
    return [n for n, v in res["variants"].items()
            if (v.get("accuracy") or {}).get("confusion", {}).get("matrix")]  # fmt: skip


def confusion(res: dict, name: str) -> Plot:
    """The confusion matrix of variant ``name`` on the held-out records, counts annotated."""
    acc = res["variants"][name]["accuracy"]
    classes, cm = acc["confusion"]["classes"], acc["confusion"]["matrix"]
    n = len(classes)
    fig = _figure(1.0 + 0.75 * n, 0.8 + 0.7 * n)
    ax = fig.add_subplot()
    peak = max((c for row in cm for c in row), default=0) or 1
    ax.imshow(cm, cmap="Blues", vmin=0, vmax=peak)
    for i, row in enumerate(cm):
        for j, c in enumerate(row):
            ax.text(j, i, f"{c}", ha="center", va="center", fontsize=11,
                    color="white" if c > peak / 2 else "#222")  # fmt: skip
    ax.set_xticks(range(n), classes, rotation=45 if n > 6 else 0, fontsize=10)
    ax.set_yticks(range(n), classes, fontsize=10)
    ax.set_xlabel("predicted class", fontsize=11)
    ax.set_ylabel("true class", fontsize=11)
    ax.set_title(f"{name}: balanced accuracy {100 * acc['balanced_accuracy']:.2f}%"
                 if acc.get("balanced_accuracy") is not None else name, fontsize=11)  # fmt: skip
    total = sum(sum(r) for r in cm)
    caption = (f"{name}: confusion matrix on the held-out records ({total} windows; rows true "
               f"class, columns predicted).")  # fmt: skip
    alt = f"Confusion matrix of {name}: " + "; ".join(
        f"true {classes[i]}: " + ", ".join(f"{c} as {classes[j]}" for j, c in enumerate(row) if c)
        for i, row in enumerate(cm) if any(row))  # fmt: skip
    return Plot(_png(fig), alt, caption, fig)


def battery_accuracy(res: dict) -> Plot:
    """Days of battery against balanced accuracy, one colour per board (bars: the range from the
    calibration's band)."""
    dev = res.get("device") or {}
    fig = _figure(8.5, 5.0)
    ax = fig.add_subplot()
    shown, skipped = [], {}
    xs, ys = [], []
    for i, (board, models) in enumerate(dev.get("by_device", {}).items()):
        colour = COLOURS[i % len(COLOURS)]
        first = True
        for name, row in models.items():
            bal = balanced_accuracy(res["variants"].get(name, {}))
            days = row.get("battery_days")
            if days is None or bal is None:
                why = row.get("skipped") or ("not evaluated" if bal is None else next(
                    (n for n in row.get("notes", []) if "battery" in n or "real time" in n),
                    "no battery figure"))  # fmt: skip
                why = why.split(":")[0] if row.get("skipped") else why.split(" (add")[0]
                skipped.setdefault(why, [])
                if name not in skipped[why]:
                    skipped[why].append(name if row.get("skipped") else f"{name} on {board}")
                continue
            err = [[days - row["battery_days_low"]], [row["battery_days_high"] - days]]
            ax.errorbar(days, bal, xerr=err, fmt="o", ms=7, color=colour, capsize=4,
                        label=board if first else "_nolegend_")  # fmt: skip
            first = False
            ax.annotate(name, (days, bal), xytext=(6, 5), textcoords="offset points", fontsize=8,
                        color=colour)  # fmt: skip
            xs += [row["battery_days_low"], row["battery_days_high"]]
            ys.append(bal)
            shown.append(f"{name} on {board} {days:.0f} days, {100 * bal:.1f}%")
    if xs:
        ax.set_xscale("log")
        ax.set_xlim(min(xs) / 1.5, max(xs) * 1.5)
        ax.xaxis.set_major_formatter(
            FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}")
        )
        ax.set_ylim(max(0.0, min(ys) - 0.05), min(1.0, max(ys) + 0.05) + 0.01)
        ax.legend(loc="best", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no variant has days of battery on these boards", ha="center",
                va="center", transform=ax.transAxes)  # fmt: skip
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel("days of battery (modelled; log scale)")
    ax.set_ylabel("balanced accuracy (held-out records)")
    ax.grid(True, which="major", alpha=0.3)
    s = dev.get("settings", {})
    bat = s.get("battery") or {}
    caption = (f"Days of battery against balanced accuracy on each board: one window every "
               f"{s.get('stride_s', 2.0):g} s, {bat.get('name')} battery, sleeping between "
               "inferences; bars: the range from the calibration's 90% band. Modelled from "
               "MLPerf Tiny measurements of other models on each board."
               + (" Not shown: " + "; ".join(f"{', '.join(n)} ({why})" for why, n in skipped.items())
                  + "." if skipped else ""))  # fmt: skip
    alt = "Days of battery against balanced accuracy: " + ("; ".join(shown) or "none")
    return Plot(_png(fig), alt, caption, fig)
