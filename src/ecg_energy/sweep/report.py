"""The sweep's report: ``report.md`` and ``report.html`` (one self-contained page, the front
plotted inline), views of ``sweep.json`` alone. The figure is drawn on its own matplotlib
``Figure`` with the Agg canvas: no pyplot, no global state.
"""

from __future__ import annotations

import base64
import io
from html import escape

from ..report.fmt import fmt_j, pct, range_text
from ..report.html import CSP, CSS

TITLE = "Sweep: student size, distillation and quantization against energy and accuracy"


def _range(r: dict, mid: str, lo: str, hi: str) -> str:
    return range_text(r.get(mid), r.get(lo), r.get(hi))


def _kd(r: dict) -> str:
    return f"T {r['temperature']:g}, hard {r['hard_weight']:g}" if r.get("distill") else "none"


def trial_table(res: dict) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the trial table, the same in both pages."""
    cfg = res["config"]
    table = cfg["tables"][0]
    devices = cfg["devices"]
    head = [
        "trial",
        "width",
        "depth",
        "stride",
        "kernel",
        "distillation",
        "quantize",
        "MACs",
        "size",
        f"estimate ({table})",
        *[f"on {d}" for d in devices],
        "balanced accuracy",
        "AHA",
        "front",
        "seconds",
    ]
    body = []
    for r in res["trials"]:
        if r.get("status") != "ok":
            body.append(
                [
                    r["trial"],
                    *(str(r.get(k, "")) for k in ("width", "depth", "stride", "kernel")),
                    _kd(r),
                    str(r.get("quantize")),
                    "",
                    "",
                    "",
                    *["" for _ in devices],
                    "",
                    r.get("status", ""),
                    "",
                    (r.get("error") or "")[:80],
                ]
            )
            continue
        est = _range(
            r, f"estimate_j[{table}]", f"estimate_j_low[{table}]", f"estimate_j_high[{table}]"
        )
        dev = [
            _range(r, f"energy_j[{d}]", f"energy_j_low[{d}]", f"energy_j_high[{d}]")
            for d in devices
        ]
        aha = "pass" if r.get("aha_pass") else f"miss: {r.get('aha_failed') or 'n/a'}"
        body.append(
            [
                r["trial"],
                f"{r['width']:g}",
                str(r["depth"]),
                str(r["stride"]),
                str(r["kernel"]),
                _kd(r),
                r["quantize"],
                f"{r['macs']:,}",
                f"{r['file_bytes'] / 1024:.1f} KiB",
                est,
                *dev,
                pct(r.get("balanced_accuracy")),
                aha,
                "yes" if r.get("on_front") else "",
                f"{r.get('seconds', 0):.0f}",
            ]
        )
    return head, body


def front_png(res: dict) -> bytes | None:
    """Energy (log) against balanced accuracy: every finished trial, the front joined, the
    recommended one marked; the energy's range as error bars. None when nothing finished."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    key = res["energy_ranked"]["key"]
    lo_key, hi_key = key.replace("_j[", "_j_low["), key.replace("_j[", "_j_high[")
    rows = [r for r in res["trials"] if r.get("status") == "ok" and r.get(key) is not None]
    if not rows:
        return None
    fig = Figure(figsize=(7.5, 4.8), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for passing, style in (
        (True, {"color": "#1f77b4", "marker": "o", "label": "meets AHA goals"}),
        (False, {"color": "#999999", "marker": "x", "label": "misses an AHA goal"}),
    ):
        pts = [r for r in rows if bool(r.get("aha_pass")) == passing]
        if not pts:
            continue
        x = [r[key] for r in pts]
        err = [
            [r[key] - (r.get(lo_key) or r[key]) for r in pts],
            [(r.get(hi_key) or r[key]) - r[key] for r in pts],
        ]
        ax.errorbar(
            x,
            [100 * r["balanced_accuracy"] for r in pts],
            xerr=err,
            linestyle="none",
            elinewidth=0.7,
            capsize=2,
            **style,
        )
    on = [r for r in rows if r.get("on_front")]
    on.sort(key=lambda r: r[key])
    if on:
        ax.step(
            [r[key] for r in on],
            [100 * r["balanced_accuracy"] for r in on],
            where="post",
            color="#2c7a2c",
            linewidth=1.2,
            label="Pareto front",
        )
        for r in on:
            ax.annotate(
                r["trial"],
                (r[key], 100 * r["balanced_accuracy"]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    rec = (res.get("recommendation") or {}).get("trial")
    for r in rows:
        if r["trial"] == rec:
            ax.plot(
                [r[key]],
                [100 * r["balanced_accuracy"]],
                marker="*",
                markersize=16,
                color="#d62728",
                linestyle="none",
                label="recommended",
            )
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_j(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(res["energy_ranked"]["words"])
    ax.set_ylabel("balanced accuracy, held-out records (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _summary_lines(res: dict) -> list[str]:
    s, d, ray = res["summary"], res["data"], res["ray"]
    t = d.get("teacher", {})
    return [
        f"{s['finished']} of {s['planned']} trials finished ({s['failed']} failed, "
        f"{s['not_finished']} not finished); {s['aha_passing']} meet every AHA goal. "
        f"Search: {res['config']['search']} ({ray.get('plan')}).",
        f"Data: {d['source']}, records split by record ({d['split']}): "
        f"{d['windows']['train']} training, {d['windows']['val']} validation and "
        f"{d['windows']['test']} test windows; every trial is scored on the test records.",
        f"Teacher (the original CNN, trained once and shared): {t.get('macs', 0):,} MACs, "
        f"balanced accuracy {pct(t.get('balanced_accuracy'))}, AHA "
        f"{'pass' if t.get('aha_all_pass') else 'miss'}.",
        f"Ray: {ray.get('nodes')} node(s), {ray.get('cpus')} CPUs, {ray.get('cpus_per_trial')} "
        f"CPU(s) per trial ({ray.get('address')}).",
    ]


def device_notes(res: dict) -> list[str]:
    """The devices' caveats for the trials on the front (e.g. a model smaller than the board's
    calibration); every trial's are in sweep.csv."""
    return [
        f"{k[len('device_note[') : -1]}, `{r['trial']}`: {v}"
        for r in res["trials"]
        if r.get("on_front")
        for k, v in r.items()
        if k.startswith("device_note[") and v
    ]


def render_markdown(res: dict) -> str:
    rec = res["recommendation"]
    head, body = trial_table(res)
    lines = [
        f"# {TITLE}",
        "",
        "## Recommendation",
        "",
        rec["reason"] if rec["trial"] else f"No recommendation: {rec['reason']}.",
        "",
        f"Energy ranked: {res['energy_ranked']['words']}.",
        "",
    ]
    lines += [f"- {x}" for x in _summary_lines(res)] + ["", "## Pareto front", ""]
    if res["pareto"]["front"]:
        lines.append("![energy against balanced accuracy](front.png)")
        lines.append("")
        lines += [f"{i + 1}. `{n}`" for i, n in enumerate(res["pareto"]["front"])]
        lines.append("")
        lines.append("Models of every point on the front: `pareto/` (`.keras` and `.tflite`).")
    else:
        lines.append("No trial meets every AHA goal with an energy figure.")
    lines += ["", "## Trials", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in body]
    lines += ["", "## Not on the front, and why", ""]
    lines += [f"- `{n}`: {why}" for n, why in res["pareto"]["excluded"].items()]
    notes = device_notes(res)
    if notes:
        lines += ["", "## Device notes (the front)", ""]
        lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def render_html(res: dict) -> str:
    rec = res["recommendation"]
    head, body = trial_table(res)
    png = front_png(res)
    fig = (
        f'<figure><img alt="energy against balanced accuracy, the Pareto front" '
        f'src="data:image/png;base64,{base64.b64encode(png).decode()}"></figure>'
        if png
        else ""
    )
    rec_html = (
        f'<p class="rec">{escape(rec["reason"])}</p>'
        if rec["trial"]
        else f'<p class="rec none">No recommendation: {escape(rec["reason"])}.</p>'
    )
    table = (
        '<div class="scroll"><table><thead><tr>'
        + "".join(f"<th>{escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>"
        + "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in body)
        + "</tbody></table></div>"
    )
    excluded = "".join(
        f"<li><code>{escape(n)}</code>: {escape(w)}</li>"
        for n, w in res["pareto"]["excluded"].items()
    )
    summary = "".join(f"<li>{escape(x)}</li>" for x in _summary_lines(res))
    front = "".join(f"<li><code>{escape(n)}</code></li>" for n in res["pareto"]["front"])
    notes = "".join(f"<li>{escape(n)}</li>" for n in device_notes(res))
    notes = f"<h2>Device notes (the front)</h2><ul>{notes}</ul>" if notes else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{escape(TITLE)}</title><style>{CSS}</style></head>\n<body>"
        f"<h1>{escape(TITLE)}</h1><h2>Recommendation</h2>{rec_html}"
        f"<p>Energy ranked: {escape(res['energy_ranked']['words'])}.</p><ul>{summary}</ul>"
        f"<h2>Pareto front</h2>{fig}<ol>{front}</ol><h2>Trials</h2>{table}"
        f"<h2>Not on the front, and why</h2><ul>{excluded}</ul>{notes}</body></html>\n"
    )
