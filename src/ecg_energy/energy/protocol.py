"""The measurement protocol: warm-up, idle baselines, interleaved repeated trials, intervals.

After MLPerf Tiny/Power and good practice (ANCHORS §4): every variant is warmed up; the number of
inferences per trial is chosen so a trial lasts at least ``min_seconds`` (≥ 10× a sensor's update
period); an idle window before and after gives the machine's idle power; trials run interleaved
(A B C A B C …) so drift hits every variant alike; per-inference energy and latency are medians
with a 95% bootstrap interval over trials, gross and net of idle power. The meter's own cost is
measured against the same work run unmetered right after each trial (paired, median over rounds).

``--protocol seed`` reproduces the evaluated report instead: one CodeCarbon window around 1000
single-sample inferences per model, nothing else.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .meters import EnergyReading, Meter
from .stats import bootstrap_ci, net_joules, spread


@dataclass(frozen=True)
class ProtocolConfig:
    trials: int = 5
    min_seconds: float = 2.0
    warmup_seconds: float = 0.5
    idle_seconds: float = 2.0
    n_boot: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.trials < 1 or self.min_seconds <= 0 or self.idle_seconds < 0:
            raise ValueError("trials must be >= 1, min_seconds > 0 and idle_seconds >= 0")


@dataclass(frozen=True)
class Workload:
    """One variant at one batch size: ``call()`` runs ``batch`` inferences."""

    name: str
    batch: int
    call: Callable[[], object]


@dataclass
class Trial:
    joules: float
    seconds: float
    inferences: int
    method: str = ""
    measured: bool = False
    unmetered_seconds: float | None = None  # the same work run right after without the meter


@dataclass
class VariantMeasurement:
    name: str
    batch: int
    calls_per_trial: int = 0
    trials: list[Trial] = field(default_factory=list)
    error: str | None = None


def calibrate_calls(call: Callable[[], object], min_seconds: float, clock=time.perf_counter) -> int:
    """Calls needed for a trial of at least ``min_seconds``: time calls for ~5% of it, scale up."""
    n, t0 = 0, clock()
    while True:
        call()
        n += 1
        elapsed = clock() - t0
        if elapsed >= 0.05 * min_seconds or n >= 10_000:
            break
    per_call = elapsed / n
    return max(1, math.ceil(min_seconds / max(per_call, 1e-9)))


def _run(call: Callable[[], object], n: int) -> None:
    for _ in range(n):
        call()


def idle_window(meter: Meter, seconds: float, sleep=time.sleep) -> EnergyReading:
    meter.start()
    sleep(seconds)
    return meter.stop()


def run_protocol(
    workloads: list[Workload],
    meter: Meter,
    cfg: ProtocolConfig,
    echo: Callable[[str], None] | None = None,
    sleep=time.sleep,
    clock=time.perf_counter,
    checkpoint: Callable[[dict], None] | None = None,
    resume: dict | None = None,
) -> dict:
    """Measure every workload; a workload that fails is reported as failed and the others go on;
    Ctrl-C ends the trials early and keeps the ones already finished (``interrupted``).

    ``checkpoint`` receives the summary so far (``interrupted`` true, ``rounds_done``) after every
    round, so a killed process loses at most the round it was in. ``resume``, such a summary from an
    earlier process with the same workloads, continues from its next round with its trials, trial
    lengths and idle-before window.
    """
    say = echo or (lambda _m: None)
    results = {f"{w.name}@{w.batch}": VariantMeasurement(w.name, w.batch) for w in workloads}
    done_rounds, idle_before = _restore(results, resume) if resume else (0, None)
    active = []
    for w in workloads:
        key = f"{w.name}@{w.batch}"
        if results[key].error:
            continue
        try:
            t_end = clock() + cfg.warmup_seconds
            while clock() < t_end:
                w.call()
            if not results[key].calls_per_trial:
                results[key].calls_per_trial = calibrate_calls(w.call, cfg.min_seconds, clock)
            active.append(w)
        except Exception as exc:  # a broken model must not stop the others
            results[key].error = f"{type(exc).__name__}: {exc}"
            say(f"  {key}: failed during warm-up ({results[key].error})")
    if idle_before is None and cfg.idle_seconds:
        idle_before = idle_window(meter, cfg.idle_seconds, sleep)
    if done_rounds:
        say(f"  resuming after round {done_rounds} of {cfg.trials} (earlier trials kept)")
    interrupted = False
    try:
        for k in range(done_rounds, cfg.trials):
            for w in list(active):
                key = f"{w.name}@{w.batch}"
                n = results[key].calls_per_trial
                try:
                    meter.start()
                    _run(w.call, n)
                    r = meter.stop()
                    # the meter's own cost: the same work right after, unmetered (paired per round)
                    t0 = clock()
                    _run(w.call, n)
                    unmetered = clock() - t0
                except KeyboardInterrupt:
                    raise
                except Exception as exc:
                    results[key].error = f"{type(exc).__name__}: {exc}"
                    active.remove(w)
                    say(f"  {key}: failed in trial {k + 1} ({results[key].error})")
                    continue
                results[key].trials.append(
                    Trial(r.joules, r.seconds, n * w.batch, r.method, r.measured, unmetered)
                )
                say(f"  trial {k + 1}/{cfg.trials} {key}: {n * w.batch} inferences, "
                    f"{r.joules:.3g} J in {r.seconds:.2f} s")  # fmt: skip
            done_rounds = k + 1
            if checkpoint is not None:
                partial = summarize(results, idle_before, None, meter, cfg, interrupted=True)
                checkpoint({**partial, "rounds_done": done_rounds})
    except KeyboardInterrupt:
        interrupted = True
        say("  interrupted: keeping the trials already finished")
    idle_after = (idle_window(meter, cfg.idle_seconds, sleep)
                  if cfg.idle_seconds and not interrupted else None)  # fmt: skip
    out = summarize(results, idle_before, idle_after, meter, cfg, interrupted)
    if interrupted:
        out["rounds_done"] = done_rounds  # whole rounds only: a resumed run starts the next one
    return out


def _restore(
    results: dict[str, VariantMeasurement], resume: dict
) -> tuple[int, EnergyReading | None]:
    """Put an earlier process's finished rounds back: (rounds done, its idle-before window)."""
    rounds = int(resume.get("rounds_done", 0))
    for key, entry in resume.get("variants", {}).items():
        if key in results:
            v = results[key]
            v.calls_per_trial = int(entry.get("calls_per_trial") or 0)
            v.trials = [Trial(**t) for t in entry.get("trials", [])][:rounds]
            v.error = entry.get("error")
    windows = resume.get("idle_windows") or []
    before = (EnergyReading(windows[0]["joules"], windows[0]["seconds"], windows[0]["method"],
                            bool(windows[0].get("measured", False))) if windows else None)  # fmt: skip
    return rounds, before


def idle_power_w(before: EnergyReading | None, after: EnergyReading | None) -> float | None:
    """Mean idle power of the windows taken (W): (20 J / 2 s + 24 J / 2 s) / 2 = 11 W."""
    watts = [r.watts for r in (before, after) if r is not None and r.seconds > 0]
    return float(np.mean(watts)) if watts else None


def summarize(results: dict[str, VariantMeasurement], idle_before, idle_after, meter: Meter,
              cfg: ProtocolConfig, interrupted: bool = False) -> dict:  # fmt: skip
    """Per-inference medians and bootstrap intervals (gross, net, latency) for every workload."""
    idle_w = idle_power_w(idle_before, idle_after)
    sample = next((t for v in results.values() for t in v.trials), None)
    out: dict = {
        "meter": getattr(meter, "name", "meter"),
        "protocol": {**cfg.__dict__},
        "idle_power_w": idle_w,
        "idle_windows": [
            {"joules": r.joules, "seconds": r.seconds, "method": r.method, "measured": r.measured}
            for r in (idle_before, idle_after)
            if r is not None
        ],  # fmt: skip
        "interrupted": interrupted,
        "variants": {},
    }
    trials = [t for v in results.values() for t in v.trials]
    for key, v in results.items():
        entry: dict = {"name": v.name, "batch": v.batch, "calls_per_trial": v.calls_per_trial,
                       "trials": [t.__dict__ for t in v.trials], "error": v.error}  # fmt: skip
        if v.trials:
            gross = [t.joules / t.inferences for t in v.trials]
            lat = [t.seconds / t.inferences for t in v.trials]
            ci = dict(n_boot=cfg.n_boot, seed=cfg.seed)
            entry["energy_j_per_inference_gross"] = _ci(gross, **ci)
            if idle_w is not None:
                net = [net_joules(t.joules, idle_w, t.seconds) / t.inferences for t in v.trials]
                entry["energy_j_per_inference_net"] = _ci(net, **ci)
            entry["latency_s_per_inference"] = _ci(lat, **ci)
            entry["throughput_per_s"] = 1.0 / float(np.median(lat))
            paired = [(t.seconds - t.unmetered_seconds) / t.unmetered_seconds
                      for t in v.trials if t.unmetered_seconds]  # fmt: skip
            if paired:  # median over rounds of (metered - unmetered) / unmetered, with its CI
                med, lo, hi = bootstrap_ci(paired, n_boot=cfg.n_boot, seed=cfg.seed)
                entry["meter_overhead_fraction"] = med
                entry["meter_overhead_ci95"] = [lo, hi]
        out["variants"][key] = entry
    methods = sorted({t.method for t in trials})
    out["method"] = methods[0] if len(methods) == 1 else ", ".join(methods) or None
    out["measured"] = bool(trials) and all(t.measured for t in trials)
    if sample is None:
        out["note"] = "no trial finished"
    return out


def _ci(values, n_boot: int, seed: int) -> dict:
    med, lo, hi = bootstrap_ci(values, n_boot=n_boot, seed=seed)
    return {"median": med, "ci95": [lo, hi], "spread": spread(values), "trials": len(values)}
