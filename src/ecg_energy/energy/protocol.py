"""The measurement protocol: warm-up, interleaved rounds with their own idle window, repeated
contaminated windows, paired net energy, intervals.

After MLPerf Tiny/Power and good practice (ANCHORS §4): every variant is warmed up; the number of
inferences per trial is chosen so a trial lasts at least ``min_seconds`` (≥ 10× a sensor's update
period). Every round starts with an idle window as long as a trial, then runs one trial of every
variant (A B C …), so the idle baseline sees the same conditions as the trials around it. Net
energy per inference is computed per round against *that round's* idle power (paired), then the
median and a 95% bootstrap interval over rounds; a burst of other work in one idle window moves one
round, not every net figure.

Every window (idle or trial) records the share of the machine other processes used during it
(``load.LoadProbe``). A window above ``max_other_share`` is repeated, at most ``max_repeats``
times, and marked ``contaminated`` when it stays above it; contaminated windows are kept in the
record and left out of the figures. Like MLPerf's submission checker, a variant whose trials stay
contaminated in more than half of its rounds is ``invalid``, with the reason, and gets no energy
figure. A net figure whose 95% interval reaches zero or below is ``unresolved``: only its upper
bound is given (``stats.net_figure``), never a negative energy.

The meter's own cost is measured against the same work run unmetered right after each trial of
the first ``overhead_rounds`` rounds (paired, median over those rounds): a check of the meter,
not a figure the ranking uses, so it does not double every round's length.

``--protocol seed`` reproduces the evaluated report instead (``measure.measure_seed``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from ..progress import Bar
from .load import DEFAULT_MAX_OTHER_SHARE, LoadProbe
from .meters import MEASURED, MODELLED, Meter
from .parts import part_sources, per_part
from .stats import bootstrap_ci, net_figure, net_joules, spread


@dataclass(frozen=True)
class ProtocolConfig:
    """``idle_seconds``: each round's idle window (None: as long as a trial, ``min_seconds``).
    ``max_other_share``: the share of the machine other processes may use during a window before
    it is repeated (None: by the meter's attribution, ``load.DEFAULT_MAX_OTHER_SHARE``);
    ``max_repeats``: how often one window is repeated at most."""

    trials: int = 5
    min_seconds: float = 2.0
    warmup_seconds: float = 0.5
    idle_seconds: float | None = None
    max_other_share: float | None = None
    max_repeats: int = 2
    # the first this many rounds repeat each trial unmetered right after it (the meter's own cost);
    # 0: none, a number >= trials: every round
    overhead_rounds: int = 1
    n_boot: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.trials < 1 or self.min_seconds <= 0:
            raise ValueError("trials must be >= 1 and min_seconds > 0")
        if self.idle_seconds is not None and (
            isinstance(self.idle_seconds, bool) or not isinstance(self.idle_seconds, int | float)
            or self.idle_seconds < 0
        ):  # fmt: skip
            raise ValueError("idle_seconds must be >= 0 seconds (or unset: as long as a trial)")
        if self.max_other_share is not None and (
            isinstance(self.max_other_share, bool)
            or not isinstance(self.max_other_share, int | float)
            or not 0 < self.max_other_share <= 1
        ):  # fmt: skip
            raise ValueError("max_other_share is a share of the machine, above 0 and at most 1")
        if self.max_repeats < 0:
            raise ValueError("max_repeats must be >= 0")
        if self.overhead_rounds < 0:
            raise ValueError("overhead_rounds must be >= 0 (0: the meter's overhead not checked)")

    @property
    def idle_s(self) -> float:
        return self.min_seconds if self.idle_seconds is None else float(self.idle_seconds)


@dataclass(frozen=True)
class Workload:
    """One variant at one batch size: ``call()`` runs ``batch`` inferences. ``runtime`` names what
    runs it; ``key`` names the measurement (``name@batch``, or with the runtime for a comparison)."""

    name: str
    batch: int
    call: Callable[[], object]
    runtime: str = ""
    key: str = ""
    decode: Callable[[object], object] | None = None  # what ``call`` returns -> float logits
    device: str = "cpu"  # where ``call`` runs: the meter must cover it

    @property
    def id(self) -> str:
        return self.key or f"{self.name}@{self.batch}"


@dataclass
class Trial:
    """One metered window (an idle window has ``inferences`` 0)."""

    joules: float
    seconds: float
    inferences: int
    method: str = ""
    measured: bool = False
    unmetered_seconds: float | None = None  # the same work run right after without the meter
    round: int = -1
    other_share: float | None = None  # other processes' share of the machine in the window
    attempts: int = 1  # > 1: repeated because other processes were too busy
    contaminated: bool = False  # still too busy after the last repeat: left out of the figures
    components: dict = field(default_factory=dict)  # the meter's parts (J): cpu, ram, gpu, ...
    sources: dict = field(default_factory=dict)  # part -> measured | modelled (see meters)
    apart: dict = field(default_factory=dict)  # J read on a device the work did not run on


@dataclass
class VariantMeasurement:
    name: str
    batch: int
    runtime: str = ""
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


def max_other_share(cfg: ProtocolConfig, meter: Meter) -> float:
    """The limit in force: the configured one, else the default for the meter's attribution."""
    if cfg.max_other_share is not None:
        return float(cfg.max_other_share)
    return DEFAULT_MAX_OTHER_SHARE.get(getattr(meter, "attribution", "machine"), 0.10)


def metered_window(meter: Meter, probe, work: Callable[[], None], limit: float,
                   max_repeats: int) -> tuple:  # fmt: skip
    """(reading, other share, attempts, contaminated): ``work`` under the meter, repeated while
    other processes used more than ``limit`` of the machine, at most ``max_repeats`` times."""
    attempt = 0
    while True:
        attempt += 1
        probe.start()
        meter.start()
        work()
        reading = meter.stop()
        share = probe.stop()
        busy = share is not None and share > limit
        if not busy or attempt > max_repeats:
            return reading, share, attempt, busy


def run_protocol(
    workloads: list[Workload],
    meter: Meter,
    cfg: ProtocolConfig,
    echo: Callable[[str], None] | None = None,
    sleep=time.sleep,
    clock=time.perf_counter,
    checkpoint: Callable[[dict], None] | None = None,
    resume: dict | None = None,
    probe=None,
    stop: Callable[[dict, int], str | None] | None = None,
) -> dict:
    """Measure every workload; a workload that fails is reported as failed and the others go on;
    Ctrl-C ends the trials early and keeps the ones already finished (``interrupted``).

    ``checkpoint`` receives the summary so far (``interrupted`` true, ``rounds_done``) after every
    round, so a killed process loses at most the round it was in. ``resume``, such a summary from an
    earlier process with the same workloads, continues from its next round with its trials, trial
    lengths and idle windows. ``probe`` (``start()``, ``stop() -> share``) watches other processes;
    by default ``load.LoadProbe``. ``stop(summary so far, rounds done)``, asked after each round,
    ends the rounds early when it gives a reason (see ``settle``): the result says how many ran
    (``rounds_done``) and why it stopped (``stopped_early``).
    """
    say = echo or (lambda _m: None)
    covers = getattr(meter, "covers", ("cpu",))
    for w in workloads:  # never a figure from a device the work does not run on
        if w.device not in covers:
            raise ConfigError(f"{w.id} runs on the {w.device.upper()}, and the meter "
                              f"{getattr(meter, 'name', 'meter')} reads the "
                              f"{' and '.join(c.upper() for c in covers)} only: choose a meter "
                              f"that covers the {w.device.upper()} (or auto)")  # fmt: skip
    probe = probe if probe is not None else LoadProbe()
    limit = max_other_share(cfg, meter)
    results = {w.id: VariantMeasurement(w.name, w.batch, w.runtime) for w in workloads}
    done_rounds, idles = _restore(results, resume) if resume else (0, [])
    active = []
    for w in workloads:
        if results[w.id].error:
            continue
        try:
            t_end = clock() + cfg.warmup_seconds
            while clock() < t_end:
                w.call()
            if not results[w.id].calls_per_trial:
                results[w.id].calls_per_trial = calibrate_calls(w.call, cfg.min_seconds, clock)
            active.append(w)
        except Exception as exc:  # a broken model must not stop the others
            results[w.id].error = f"{type(exc).__name__}: {exc}"
            say(f"  {w.id}: failed during warm-up ({results[w.id].error})")
    if done_rounds:
        say(f"  resuming after round {done_rounds} of {cfg.trials} (earlier trials kept)")

    def window(work, inferences: int, k: int, label: str) -> Trial:
        r, share, attempts, busy = metered_window(meter, probe, work, limit, cfg.max_repeats)
        if attempts > 1 or busy:
            say(f"  {label}: other processes used {100 * (share or 0):.0f}% of the machine (limit "
                f"{100 * limit:.0f}%); " + (f"still above after {attempts - 1} repeats, left out"
                                            if busy else f"repeated {attempts - 1}x"))  # fmt: skip
        return Trial(r.joules, r.seconds, inferences, r.method, r.measured, None, k, share,
                     attempts, busy, dict(r.components), dict(r.sources), dict(r.apart))  # fmt: skip

    interrupted = False
    stopped = None
    per_round = len(active) + (cfg.idle_s > 0)
    bar = Bar((cfg.trials - done_rounds) * per_round, "  measure", unit="window")
    try:
        for k in range(done_rounds, cfg.trials):
            if cfg.idle_s > 0:
                idles.append(window(lambda: sleep(cfg.idle_s), 0, k, f"idle window {k + 1}"))
                bar.update(1, round=f"{k + 1}/{cfg.trials}")
                if not bar.live:
                    say(f"  round {k + 1}/{cfg.trials} idle: {idles[-1].joules:.3g} J in "
                        f"{idles[-1].seconds:.2f} s")  # fmt: skip
            for w in list(active):
                n = results[w.id].calls_per_trial
                try:
                    trial = window(lambda w=w, n=n: _run(w.call, n), n * w.batch, k,
                                   f"trial {k + 1} {w.id}")  # fmt: skip
                    if k < cfg.overhead_rounds:
                        # the meter's own cost: the same work right after, unmetered (paired)
                        t0 = clock()
                        _run(w.call, n)
                        trial.unmetered_seconds = clock() - t0
                except KeyboardInterrupt:
                    raise
                except Exception as exc:
                    results[w.id].error = f"{type(exc).__name__}: {exc}"
                    active.remove(w)
                    say(f"  {w.id}: failed in trial {k + 1} ({results[w.id].error})")
                    continue
                results[w.id].trials.append(trial)
                bar.update(1, round=f"{k + 1}/{cfg.trials}")
                if not bar.live:
                    say(f"  trial {k + 1}/{cfg.trials} {w.id}: {trial.inferences} inferences, "
                        f"{trial.joules:.3g} J in {trial.seconds:.2f} s")  # fmt: skip
            done_rounds = k + 1
            if checkpoint is not None or stop is not None:
                partial = summarize(results, idles, meter, cfg, limit, interrupted=True)
                if checkpoint is not None:
                    checkpoint({**partial, "rounds_done": done_rounds})
                stopped = stop(partial, done_rounds) if stop is not None else None
                if stopped:
                    say(f"  stopped after round {done_rounds} of {cfg.trials}: {stopped}")
                    break
    except KeyboardInterrupt:
        interrupted = True
        say("  interrupted: keeping the trials already finished")
    finally:
        bar.close()
    out = summarize(results, idles, meter, cfg, limit, interrupted)
    if stopped:
        out["rounds_done"] = done_rounds
        out["stopped_early"] = stopped
    if interrupted:
        out["rounds_done"] = done_rounds  # whole rounds only: a resumed run starts the next one
    return out


def _restore(results: dict[str, VariantMeasurement], resume: dict) -> tuple[int, list[Trial]]:
    """Put an earlier process's finished rounds back: (rounds done, its idle windows)."""
    rounds = int(resume.get("rounds_done", 0))
    for key, entry in resume.get("variants", {}).items():
        if key in results:
            v = results[key]
            v.calls_per_trial = int(entry.get("calls_per_trial") or 0)
            v.trials = [Trial(**t) for t in entry.get("trials", []) if t.get("round", 0) < rounds]
            v.error = entry.get("error")
    idles = [Trial(**t) for t in resume.get("idle_windows") or [] if t.get("round", 0) < rounds]
    return rounds, idles


def idle_powers(idles: list[Trial]) -> dict[int, float]:
    """Idle power (W) of each round whose idle window was clean: 20 J over 2 s -> 10 W."""
    return {t.round: t.joules / t.seconds for t in idles
            if not t.contaminated and t.seconds > 0}  # fmt: skip


def majority(n: int) -> int:
    """Clean trials a measurement needs: more than half of those run (5 -> 3, 4 -> 3, 1 -> 1)."""
    return n // 2 + 1


def summarize(results: dict[str, VariantMeasurement], idles: list[Trial], meter: Meter,
              cfg: ProtocolConfig, limit: float, interrupted: bool = False) -> dict:  # fmt: skip
    """Per-inference medians and bootstrap intervals (gross, paired net, latency) per workload."""
    ci = dict(n_boot=cfg.n_boot, seed=cfg.seed)
    idle_w = idle_powers(idles)
    trials = [t for v in results.values() for t in v.trials]
    windows = trials + list(idles)
    out: dict = {
        "meter": getattr(meter, "name", "meter"),
        "attribution": getattr(meter, "attribution", "machine"),
        "protocol": {**cfg.__dict__, "idle_seconds": cfg.idle_s},
        "idle_power_w": float(np.median(list(idle_w.values()))) if idle_w else None,
        "idle_power": _ci(list(idle_w.values()), **ci) if idle_w else None,
        "idle_windows": [t.__dict__ for t in idles],
        "contamination": {
            "max_other_share": limit,
            "max_repeats": cfg.max_repeats,
            "windows": len(windows),
            "repeated": sum(t.attempts > 1 for t in windows),
            "contaminated": sum(t.contaminated for t in windows),
            "idle_contaminated": sum(t.contaminated for t in idles),
            "max_seen": max(
                (t.other_share for t in windows if t.other_share is not None), default=None
            ),
        },  # fmt: skip
        "interrupted": interrupted,
        "variants": {},
    }
    for key, v in results.items():
        entry: dict = {"name": v.name, "batch": v.batch, "runtime": v.runtime,
                       "calls_per_trial": v.calls_per_trial,
                       "trials": [t.__dict__ for t in v.trials], "error": v.error}  # fmt: skip
        if v.trials:
            entry.update(_figures(v.trials, idle_w, limit, cfg, ci))
        out["variants"][key] = entry
    methods = sorted({t.method for t in trials})
    out["method"] = methods[0] if len(methods) == 1 else ", ".join(methods) or None
    out["measured"] = bool(trials) and all(t.measured for t in trials)
    out["parts"] = part_sources(trials)
    if trials and not out["measured"] and out["parts"][MEASURED]:
        out["measured_note"] = (f"partly measured: {', '.join(out['parts'][MEASURED])} read from "
                                f"a counter, {', '.join(out['parts'][MODELLED])} modelled; the "
                                "total is not a measurement")  # fmt: skip
    if not trials:
        out["note"] = "no trial finished"
    return out


def _figures(trials: list[Trial], idle_w: dict[int, float], limit: float, cfg: ProtocolConfig,
             ci: dict) -> dict:  # fmt: skip
    """One workload's figures from its trials: clean ones only; invalid when too few are clean."""
    clean = [t for t in trials if not t.contaminated]
    entry: dict = {"clean_trials": len(clean),
                   "repeated_windows": sum(t.attempts > 1 for t in trials)}  # fmt: skip
    valid = len(clean) >= majority(len(trials))
    use = clean if valid else trials
    lat = [t.seconds / t.inferences for t in use]
    entry["latency_s_per_inference"] = _ci(lat, **ci)
    entry["throughput_per_s"] = 1.0 / float(np.median(lat))
    paired = [(t.seconds - t.unmetered_seconds) / t.unmetered_seconds
              for t in use if t.unmetered_seconds]  # fmt: skip
    if paired:  # median over rounds of (metered - unmetered) / unmetered, with its CI
        med, lo, hi = bootstrap_ci(paired, **ci)
        entry["meter_overhead_fraction"] = med
        entry["meter_overhead_ci95"] = [lo, hi] if len(paired) > 1 else None
        entry["meter_overhead_rounds"] = len(paired)
    if not valid:
        worst = max((t.other_share or 0.0) for t in trials)
        entry["invalid"] = (f"{len(trials) - len(clean)} of {len(trials)} trials stayed "
                            f"contaminated after {cfg.max_repeats} repeats (other processes used "
                            f"up to {100 * worst:.0f}% of the machine; limit {100 * limit:.0f}%)")  # fmt: skip
        return entry
    entry["energy_j_per_inference_gross"] = _ci([t.joules / t.inferences for t in clean], **ci)
    entry.update(per_part(clean))
    net = [net_joules(t.joules, idle_w[t.round], t.seconds) / t.inferences for t in clean
           if t.round in idle_w]  # fmt: skip
    why = None if net else ("no idle window" if not cfg.idle_s
                            else "no round with a clean idle window")  # fmt: skip
    entry["energy_j_per_inference_net"] = net_figure(net, why=why, **ci)
    return entry


def _ci(values, n_boot: int, seed: int) -> dict:
    med, lo, hi = bootstrap_ci(values, n_boot=n_boot, seed=seed)
    return {"median": med, "ci95": [lo, hi], "spread": spread(values), "trials": len(values)}
