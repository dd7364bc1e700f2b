"""Real on-device measurements: an EEMBC EnergyRunner (MLPerf Tiny) energy log, or a plain CSV
trace of time and current or power with inference start/stop marks.

EnergyRunner's ``results.txt`` (energy mode), as in every MLPerf Tiny round v0.5-v1.2::

    00514.965 ulp-ml: Energy data for window 2 at time 9.08 for 0.10 sec.:
    00514.965 ulp-ml:   Energy       :     4173.840 uJ
    00514.965 ulp-ml:   Power        :    40133.077 uW
    00514.965 ulp-ml:   Energy/Inf.  :      417.384 uJ/inf.
    ...
    00514.974 ulp-ml: Median energy cost is 416.312 uJ/inf.
    ... Performance results for window 2: / # Inferences / Runtime / Throughput ...
    00514.975 ulp-ml: Median throughput is 96.154 inf./sec.

The figure recorded is the median energy per inference (method ``external:energyrunner``),
the median of the windows' power, and the latency 1 / median throughput of the energy run; a log
without its median line, or with a window missing a value, is truncated and refused.

The CSV trace: a header with ``time_s`` and ``power_w`` (or ``current_a``, with ``voltage_v`` as a
column or given), and a ``mark`` column that is ``start`` where an inference (or a burst of
``inferences`` of them) starts and ``stop`` where it ends. Energy of each burst is the trapezoid
integral of power from its start to its stop; the figure is the median over bursts per inference
(method ``external:csv``).
"""

from __future__ import annotations

import csv
import io
import math
import re
import statistics

from ..errors import DataError

_LINE = re.compile(r"^\s*\d+\.\d+ (?:ulp-ml|ulp-mlperf):\s?(?P<msg>.*)$")
_E_HDR = re.compile(r"^Energy data for window (\d+) at time ([\d.]+) for ([\d.]+) sec\.:$")
_E_VAL = re.compile(r"^\s*(Energy|Power|Energy/Inf\.)\s*:\s*([\d.eE+-]+) (uJ|uW|uJ/inf\.)\s*$")
_P_HDR = re.compile(r"^Performance results for window (\d+):$")
_P_VAL = re.compile(r"^\s*(# Inferences|Runtime|Throughput)\s*:\s*([\d.eE+-]+)")
_MED_E = re.compile(r"^Median energy cost is\s+([\d.eE+-]+) uJ/inf\.")
_MED_T = re.compile(r"^Median throughput is\s+([\d.eE+-]+) inf\./sec\.")
_E_KEYS = {"Energy": "energy_uj", "Power": "power_uw", "Energy/Inf.": "uj_per_inf"}
_P_KEYS = {"# Inferences": "inferences", "Runtime": "runtime_s", "Throughput": "inf_per_s"}


def parse_energyrunner(text: str, origin: str) -> dict:
    """The energy figure of an EnergyRunner energy-mode log; DataError names what is wrong."""
    windows: dict[int, dict] = {}
    perf: dict[int, dict] = {}
    median_e = median_t = None
    current = None
    previous = None
    lines = 0
    for raw in text.splitlines():
        m = _LINE.match(raw)
        if not m:
            continue
        msg = m["msg"]
        if msg == previous:  # some runners print every line several times
            continue
        previous = msg
        lines += 1
        try:
            if h := _E_HDR.match(msg):
                current = ("e", int(h[1]))
                windows[current[1]] = {"at_s": float(h[2]), "seconds": float(h[3])}
            elif h := _P_HDR.match(msg):
                current = ("p", int(h[1]))
                perf[current[1]] = {}
            elif (v := _E_VAL.match(msg)) and current and current[0] == "e":
                windows[current[1]][_E_KEYS[v[1]]] = float(v[2])
            elif (v := _P_VAL.match(msg)) and current and current[0] == "p":
                perf[current[1]][_P_KEYS[v[1]]] = float(v[2])
            elif v := _MED_E.match(msg):
                median_e = float(v[1])
            elif v := _MED_T.match(msg):
                median_t = float(v[1])
        except (ValueError, KeyError) as exc:
            raise DataError(f"{origin}: {raw.strip()[:80]!r} is not an EnergyRunner line this "
                            f"reader knows ({exc}); give the energy mode's results.txt") from exc  # fmt: skip
    if not lines:
        raise DataError(f"{origin}: not an EnergyRunner log (no 'ulp-ml:' lines); give the "
                        "energy mode's results.txt")  # fmt: skip
    if not windows:
        raise DataError(f"{origin}: no 'Energy data for window' lines: a performance-mode log? "
                        "give the energy mode's results.txt")  # fmt: skip
    incomplete = [
        n for n, w in windows.items() if not {"energy_uj", "power_uw", "uj_per_inf"} <= set(w)
    ]
    if incomplete or median_e is None:
        what = (f"window {incomplete[0]} lacks its Energy/Power/Energy-per-inference lines"
                if incomplete else "no 'Median energy cost' line")  # fmt: skip
        raise DataError(f"{origin}: truncated EnergyRunner log ({what}); copy the whole "
                        "results.txt again")  # fmt: skip
    per_inf = [w["uj_per_inf"] for w in windows.values()]
    if not all(math.isfinite(x) and x > 0 for x in per_inf + [median_e]):
        raise DataError(f"{origin}: an energy per inference is not a positive number")
    inferences = [p.get("inferences") for p in perf.values() if p.get("inferences")]
    return {"method": "external:energyrunner", "measured": True, "energy_j": median_e * 1e-6,
            "energy_j_low": min(per_inf) * 1e-6, "energy_j_high": max(per_inf) * 1e-6,
            "power_w": statistics.median(w["power_uw"] for w in windows.values()) * 1e-6,
            "latency_s": 1.0 / median_t if median_t else None, "windows": len(windows),
            "inferences_per_window": statistics.median(inferences) if inferences else None}  # fmt: skip


def _num(value: str, what: str, origin: str, line: int) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not math.isfinite(x):
        raise DataError(f"{origin}: line {line}: {what} {value!r} is not a number; fix the trace")
    return x


def parse_trace_csv(text: str, origin: str, voltage_v: float | None = None,
                    inferences: int = 1) -> dict:  # fmt: skip
    """The energy per inference of a power or current trace with start/stop marks."""
    if inferences < 1:
        raise DataError("--inferences must be at least 1 (inferences between a start and a stop)")
    reader = csv.DictReader(io.StringIO(text))
    cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
    if "time_s" not in cols or "mark" not in cols or not ("power_w" in cols or "current_a" in cols):
        raise DataError(f"{origin}: a trace needs the columns time_s, mark and power_w (or "
                        f"current_a with voltage_v or --voltage); found {list(cols) or 'none'}")  # fmt: skip
    if "power_w" not in cols and "voltage_v" not in cols and voltage_v is None:
        raise DataError(f"{origin}: current_a without a voltage: add a voltage_v column or give "
                        "--voltage")  # fmt: skip
    t, p, marks = [], [], []
    for i, r in enumerate(reader, start=2):
        ti = _num(r[cols["time_s"]], "time_s", origin, i)
        if "power_w" in cols:
            pi = _num(r[cols["power_w"]], "power_w", origin, i)
        else:
            v = (_num(r[cols["voltage_v"]], "voltage_v", origin, i) if "voltage_v" in cols
                 else voltage_v)  # fmt: skip
            pi = _num(r[cols["current_a"]], "current_a", origin, i) * v
        if t and ti <= t[-1]:
            raise DataError(f"{origin}: line {i}: time_s does not increase; sort the trace")
        t.append(ti)
        p.append(pi)
        marks.append((r[cols["mark"]] or "").strip().lower())
    bursts, start = [], None
    for i, mk in enumerate(marks):
        if mk == "start":
            if start is not None:
                raise DataError(f"{origin}: two 'start' marks without a 'stop' (rows "
                                f"{start + 2} and {i + 2}); mark each inference's end")  # fmt: skip
            start = i
        elif mk == "stop":
            if start is None:
                raise DataError(f"{origin}: a 'stop' mark (row {i + 2}) without a 'start'")
            e = sum((t[j + 1] - t[j]) * (p[j] + p[j + 1]) / 2 for j in range(start, i))
            bursts.append((e / inferences, (t[i] - t[start]) / inferences))
            start = None
        elif mk:
            raise DataError(f"{origin}: row {i + 2}: mark {mk!r} is neither start nor stop")
    if start is not None:
        raise DataError(f"{origin}: the trace ends inside an inference (a 'start' at row "
                        f"{start + 2} without a 'stop'); truncated?")  # fmt: skip
    if not bursts:
        raise DataError(f"{origin}: no start/stop marks; mark each inference in the mark column")
    energies = [b[0] for b in bursts]
    return {"method": "external:csv", "measured": True, "energy_j": statistics.median(energies),
            "energy_j_low": min(energies), "energy_j_high": max(energies),
            "latency_s": statistics.median(b[1] for b in bursts), "windows": len(bursts),
            "inferences_per_window": inferences}  # fmt: skip


def read_measurement(path: str, voltage_v: float | None = None, inferences: int = 1) -> dict:
    """An EnergyRunner log (any text with ``ulp-ml:`` lines) or a CSV trace, by content."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; give the EnergyRunner results.txt or a CSV "
                        "trace") from None  # fmt: skip
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from exc
    if "ulp-ml" in text:
        out = parse_energyrunner(text, path)
    else:
        out = parse_trace_csv(text, path, voltage_v, inferences)
    out["file"] = path
    return out
