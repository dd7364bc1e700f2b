"""What the Python API returns: result objects over the same dicts the commands write as JSON.

Each one keeps its JSON-shaped ``data`` (``to_dict()``), gives its table as rows (``rows()``),
as a pandas DataFrame (``to_pandas()``), as an HTML table in a notebook (``_repr_html_``) and as
the commands' text (``str()``). Nothing here computes a figure: these are views.
"""

from __future__ import annotations

import html
from typing import Any


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def html_table(rows: list[dict], caption: str = "") -> str:
    """An HTML table of ``rows`` (the keys of the first row are the columns), escaped."""
    cols = list(rows[0]) if rows else []
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in cols) + "</tr>"
        for r in rows
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Result:
    """A result: ``data`` (as JSON), ``rows()``, ``to_pandas()``, ``_repr_html_()``, ``str()``."""

    caption = ""

    def __init__(self, data: dict):
        self.data = data

    def rows(self) -> list[dict]:
        raise NotImplementedError

    def to_dict(self) -> dict:
        return self.data

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame(self.rows())

    def _repr_html_(self) -> str:
        return html_table(self.rows(), self.caption)

    def __str__(self) -> str:
        rows = self.rows()
        if not rows:
            return f"{type(self).__name__}: nothing"
        cols = list(rows[0])
        widths = [max(len(str(c)), *(len(_cell(r.get(c))) for r in rows)) for c in cols]
        line = lambda vals: "  ".join(f"{v:>{w}}" for v, w in zip(vals, widths))  # noqa: E731
        out = [line(cols), line("-" * w for w in widths)]
        out += [line(_cell(r.get(c)) for c in cols) for r in rows]
        return "\n".join(out + ([self.caption] if self.caption else []))

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self.rows())} rows>"


class Counts(Result):
    """Exact per-operation counts of one model file (``ecg-energy count``)."""

    def __init__(self, file_counts):
        self.file_counts = file_counts
        super().__init__(file_counts.as_dict())
        t = self.data
        at_least = "at least " if t.get("lower_bound") else ""  # a loop of unknown trip count
        self.caption = (f"{t['file']}: {at_least}{t['macs']:,} MACs ({t['source']}), weights "
                        f"{t['weight_bytes']:,} B, peak activations "
                        f"{t['peak_activation_bytes']:,} B"
                        + (f"; not counted: {', '.join(t['uncounted'])}" if t["uncounted"]
                           else "")
                        + (f"; lower bound: {', '.join(t['lower_bound'])}"
                           if t.get("lower_bound") else ""))  # fmt: skip

    @property
    def macs(self) -> int:
        return int(self.data["macs"])

    @property
    def flops(self) -> int:
        """2 × MACs (the plain convention; ``profiler_flops`` is the report's)."""
        return int(self.data["flops_2x_macs"])

    @property
    def profiler_flops(self) -> int | None:
        return self.data.get("profiler_flops")

    @property
    def macs_by_precision(self) -> dict[str, int]:
        return dict(self.data["macs_by_precision"])

    @property
    def uncounted(self) -> list[str]:
        return list(self.data["uncounted"])

    def rows(self) -> list[dict]:
        return [{"op": o["name"], "kind": o["op"], "precision": o["precision"], "macs": o["macs"],
                 "other_ops": sum(o["other"].values()), "requant": o["requant"],
                 "weight_bytes": o["weight_bytes"] + o["bias_bytes"],
                 "output_bytes": o["output_bytes"], "counted": o["counted"]}
                for o in self.data["layers"]]  # fmt: skip

    def __repr__(self) -> str:
        return f"<Counts {self.data['file']}: {self.macs:,} MACs>"


class Estimate(Result):
    """Estimated datapath energy per inference of one model, one row per energy table."""

    caption = ("J per inference estimated from operation counts (datapath: arithmetic and data "
               "movement; not device energy, not measured); seed-flat is the report's 0.45 pJ "
               "per FLOP")  # fmt: skip

    def rows(self) -> list[dict]:
        out = []
        for name, e in self.data.items():
            for table, est in e["estimates"].items():
                out.append({"model": name, "table": table, "low_j": est["low_j"],
                            "high_j": est["high_j"], "compute_j": est.get("compute_j"),
                            "memory_low_j": est.get("memory_low_j"),
                            "memory_high_j": est.get("memory_high_j"),
                            "measured": bool(est.get("measured"))})  # fmt: skip
        return out

    def __str__(self) -> str:
        from .report.text import format_energy

        return format_energy(self.data)


class Evaluation(Result):
    """Accuracy of model files on a dataset: per variant the five-class metrics, the shock
    decision and the AHA goals (``ecg-energy evaluate``)."""

    def __init__(self, data: dict):
        super().__init__(data)
        self.caption = f"{data.get('examples', 0):,} examples ({data.get('on')}) from " \
                       f"{data.get('data')}"  # fmt: skip

    @property
    def variants(self) -> dict[str, dict]:
        return self.data["variants"]

    def rows(self) -> list[dict]:
        out = []
        for name, r in self.variants.items():
            sd = r.get("shock_decision") or {}
            row = {"variant": name, "precision": r.get("precision"),
                   "balanced_accuracy": r.get("balanced_accuracy"),
                   "accuracy": r.get("accuracy"), "macro_f1": r.get("macro_f1"),
                   "shock_sensitivity": sd.get("sensitivity"),
                   "shock_specificity": sd.get("specificity"),
                   "aha_all_pass": r.get("aha_all_pass"),
                   "agreement_with_parent": r.get("agreement_with_parent")}  # fmt: skip
            if r.get("decision"):  # decided over windows: each window alone beside it
                alone = r.get("per_window") or {}
                one = alone.get("shock_decision") or {}
                row.update({"decide_over": r["decision"]["windows"],
                            "per_window_shock_sensitivity": one.get("sensitivity"),
                            "per_window_shock_specificity": one.get("specificity"),
                            "per_window_aha_all_pass": alone.get("aha_all_pass")})  # fmt: skip
            out.append(row)
        return out

    def per_class(self, variant: str) -> list[dict]:
        """One row per class: sensitivity, precision (PPV), F1, support."""
        r = self.variants[variant]
        return [{"class": c, **m} for c, m in (r.get("per_class") or {}).items()]

    def confusion(self, variant: str):
        """The confusion matrix (rows: true class, columns: predicted) as a DataFrame."""
        import pandas as pd

        cm = self.variants[variant]["confusion"]
        return pd.DataFrame(cm["matrix"], index=cm["classes"], columns=cm["classes"])

    def __str__(self) -> str:
        from .report.text import format_evaluation

        return f"{self.caption}\n{format_evaluation(self.variants)}"


class Measurement(Result):
    """Measured energy and latency per inference (``ecg-energy measure``, or a function of
    yours): the protocol's medians and 95% intervals, and where every figure came from."""

    def __init__(self, data: dict):
        super().__init__(data)
        kind = "measured" if data.get("measured") else "MODELLED, not measured"
        parts = data.get("parts") or {}
        if not data.get("measured") and parts.get("measured"):
            kind = (f"PARTLY measured ({', '.join(parts['measured'])} from a counter, "
                    f"{', '.join(parts.get('modelled') or [])} modelled)")  # fmt: skip
        self.caption = f"method {data.get('method')}: {kind}"

    @property
    def parts(self) -> dict[str, list[str]]:
        """The parts of the totals read from a counter and those modelled:
        e.g. {"measured": ["cpu"], "modelled": ["ram"]}."""
        return self.data.get("parts") or {"measured": [], "modelled": []}

    @property
    def measured(self) -> bool:
        return bool(self.data.get("measured"))

    @property
    def method(self) -> str | None:
        return self.data.get("method")

    def rows(self) -> list[dict]:
        out = []
        for key, v in self.data["variants"].items():
            g = v.get("energy_j_per_inference_gross") or {}
            n = v.get("energy_j_per_inference_net") or {}
            lat = v.get("latency_s_per_inference") or {}
            out.append({"workload": key, "runtime": v.get("runtime"),
                        "gross_j": g.get("median"), "gross_ci95": g.get("ci95"),
                        "net_j": n.get("median"), "net_ci95": n.get("ci95"),
                        "latency_s": lat.get("median"), "latency_ci95": lat.get("ci95"),
                        "method": self.method, "measured": self.measured,
                        "modelled_parts": ", ".join(self.parts.get("modelled") or []),
                        "error": v.get("error")})  # fmt: skip
        return out

    def __str__(self) -> str:
        from .report.text import format_measurements

        return format_measurements(self.data)


class Run(Result):
    """A finished run folder (``results.json``): the table of every variant, the recommendation
    with its reason, and the report's plots as matplotlib figures."""

    def __init__(self, data: dict, folder: str | None = None, outcome=None):
        super().__init__(data)
        self.folder = folder
        self.outcome = outcome  # for a run just made: the stages run and skipped, warnings
        rec = data.get("recommendation") or {}
        self.caption = f"recommended: {rec.get('variant') or 'none'}" + (
            f" ({rec['reason']})" if rec.get("reason") else "")  # fmt: skip

    @property
    def recommendation(self) -> dict:
        return self.data.get("recommendation") or {}

    @property
    def variants(self) -> dict[str, dict]:
        return self.data["variants"]

    def rows(self) -> list[dict]:
        from .report.render import csv_rows

        return csv_rows(self.data)

    def plots(self) -> dict:
        """Every figure of the report by name, each a ``report.plots.Plot`` (``.figure`` is the
        matplotlib Figure; in a notebook a Plot shows as its image)."""
        from .report import plots

        out = {"energy_accuracy": plots.energy_accuracy(self.data),
               "estimates_measured": plots.estimates_measured(self.data),
               "layers": plots.layers(self.data)}  # fmt: skip
        for name in plots.evaluated(self.data):
            out[f"confusion:{name}"] = plots.confusion(self.data, name)
        if (self.data.get("device") or {}).get("by_device"):
            out["battery_accuracy"] = plots.battery_accuracy(self.data)
        return out

    def plot(self, name: str = "energy_accuracy"):
        """One of the report's figures as a matplotlib Figure (see ``plots()`` for the names)."""
        return self.plots()[name].figure

    def __str__(self) -> str:
        from .report.render import summary_lines

        return "\n".join(summary_lines(self.data))
