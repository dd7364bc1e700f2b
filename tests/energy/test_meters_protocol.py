"""Meters on fakes (a fake powercap tree, a fake NVML, replayed readings), statistics by hand,
the protocol's bookkeeping, and one real CodeCarbon window."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from ecg_energy.energy.meters import EnergyReading, Meter, MeterUnavailable, make_meter
from ecg_energy.energy.meters.nvml import NvmlMeter, integrate_power
from ecg_energy.energy.meters.rapl import RaplMeter, counter_delta_uj
from ecg_energy.energy.protocol import (
    ProtocolConfig,
    Trial,
    Workload,
    idle_powers,
    majority,
    run_protocol,
)
from ecg_energy.energy.stats import bootstrap_ci, net_joules, spread


def _tick(step: float = 1.0):
    """A fake clock: every call advances by ``step`` seconds."""
    counter = itertools.count()
    return lambda: next(counter) * step


# --- RAPL ------------------------------------------------------------------------------------


def _domain(root, name, label, energy, max_uj=1000):
    d = root / name
    d.mkdir(parents=True)
    (d / "name").write_text(label + "\n")
    (d / "energy_uj").write_text(f"{energy}\n")
    (d / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return d


def test_counter_wraparound_by_hand():
    assert counter_delta_uj(100, 350, 1000) == 250
    assert counter_delta_uj(990, 5, 1000) == 15  # wrapped once


def test_rapl_on_a_fake_sysfs_tree_with_a_wrap(tmp_path):
    pkg = _domain(tmp_path, "intel-rapl:0", "package-0", 900_000, max_uj=1_000_000)
    dram = _domain(tmp_path, "intel-rapl:0/intel-rapl:0:0", "dram", 10_000, max_uj=1_000_000)
    _domain(tmp_path, "intel-rapl:0/intel-rapl:0:1", "core", 0)  # inside the package: not added
    meter = RaplMeter(root=str(tmp_path), clock=_tick(2.0))
    assert [d.name for d in meter.domains] == ["package-0", "dram-0"]
    meter.start()
    (pkg / "energy_uj").write_text("100000\n")  # wrapped: 100,000 + 100,000 µJ = 0.2 J
    (dram / "energy_uj").write_text("60000\n")  # 0.05 J
    r = meter.stop()
    assert r.components == {"package-0": pytest.approx(0.2), "dram-0": pytest.approx(0.05)}
    assert r.joules == pytest.approx(0.25) and r.seconds == 2.0 and r.watts == pytest.approx(0.125)
    assert r.method == "rapl" and r.measured is True


def test_rapl_missing_or_unreadable(tmp_path):
    with pytest.raises(MeterUnavailable, match="RAPL is not exposed"):
        RaplMeter(root=str(tmp_path / "none"))
    with pytest.raises(MeterUnavailable, match="no readable RAPL package domain"):
        RaplMeter(root=str(tmp_path))


# --- NVML ------------------------------------------------------------------------------------


class FakeNvml:
    """Replays an energy counter (mJ) or power readings (mW)."""

    def __init__(self, energy_mj=None, power_mw=None):
        self.energy = iter(energy_mj or [])
        self.power = iter(power_mw or [])
        self.has_counter = energy_mj is not None

    def nvmlInit(self):
        pass

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        if not self.has_counter:
            raise RuntimeError("not supported")
        return next(self.energy)

    def nvmlDeviceGetPowerUsage(self, h):
        return next(self.power)


def test_nvml_energy_counter():
    # probe 0, start 1,000 mJ, stop 31,000 mJ -> 30 J
    meter = NvmlMeter(nvml=FakeNvml(energy_mj=[0, 1_000, 31_000]), clock=_tick(3.0))
    meter.start()
    r = meter.stop()
    assert (r.joules, r.seconds, r.method, r.measured) == (30.0, 3.0, "nvml", True)


def test_power_polling_integral_by_hand():
    assert integrate_power([(0.0, 10.0), (2.0, 20.0)]) == 30.0  # trapezoid
    assert integrate_power([(0, 50.0), (1, 50.0), (3, 50.0)]) == 150.0


def test_nvml_unavailable_says_why():
    class NoDriver(FakeNvml):
        def nvmlInit(self):
            raise OSError("NVML Shared Library Not Found")

    with pytest.raises(MeterUnavailable, match="no NVIDIA GPU or driver"):
        NvmlMeter(nvml=NoDriver())


# --- statistics --------------------------------------------------------------------------------


def test_net_energy_and_idle_power_by_hand():
    assert net_joules(50.0, 8.0, 5.0) == 10.0
    idles = [Trial(20, 2, 0, round=0), Trial(24, 2, 0, round=1),
             Trial(90, 2, 0, round=2, contaminated=True)]  # fmt: skip
    assert idle_powers(idles) == {0: 10.0, 1: 12.0}  # the contaminated window is left out
    assert idle_powers([]) == {}
    assert [majority(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]


def test_bootstrap_and_spread():
    assert bootstrap_ci([3.0]) == (3.0, 3.0, 3.0)
    med, lo, hi = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 100.0], n_boot=500, seed=1)
    assert med == 3.0 and 1.0 <= lo <= med <= hi <= 100.0  # the bounds are resampled values
    # two trials, 0 and 10 J: a resample's median is 0 (p 1/4), 5 (1/2) or 10 (1/4), so the
    # 2.5% and 97.5% quantiles are 0 and 10
    assert bootstrap_ci([0.0, 10.0]) == (5.0, 0.0, 10.0)
    same = bootstrap_ci([2.0] * 6)
    assert same == (2.0, 2.0, 2.0)
    assert spread([9.0, 10.0, 12.0]) == pytest.approx(0.3)  # (12 - 9) / 10


# --- the protocol on a replaying meter -----------------------------------------------------------


class ReplayMeter(Meter):
    """Returns recorded readings in order (no sleeping, no hardware)."""

    name = "replay"

    def __init__(self, readings):
        self.readings = iter(readings)

    def start(self):
        pass

    def stop(self):
        return next(self.readings)


class FakeProbe:
    """Replays other processes' share of the machine, one value per window (then 0)."""

    def __init__(self, shares=()):
        self.shares = iter(shares)

    def start(self):
        pass

    def stop(self):
        return next(self.shares, 0.0)


def _r(j, s):
    return EnergyReading(j, s, "replay", True)


def test_protocol_interleaves_and_computes_per_inference_figures():
    # each round: its idle window, then A and B (interleaved): idle 10 W, A, B; idle 10 W, A, B
    meter = ReplayMeter([_r(20, 2), _r(30, 2), _r(12, 1), _r(20, 2), _r(34, 2), _r(14, 1)])
    order = []
    a = Workload("A", 1, lambda: order.append("A"))
    b = Workload("B", 2, lambda: order.append("B"))
    cfg = ProtocolConfig(trials=2, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=2.0)
    res = run_protocol([a, b], meter, cfg, sleep=lambda s: None, clock=_tick(0.01),
                       probe=FakeProbe())  # fmt: skip
    va, vb = res["variants"]["A@1"], res["variants"]["B@2"]
    n_a, n_b = va["calls_per_trial"], vb["calls_per_trial"]
    assert [t["joules"] for t in va["trials"]] == [30, 34]
    assert [t["joules"] for t in vb["trials"]] == [12, 14]
    assert [t["round"] for t in va["trials"]] == [0, 1]
    assert res["idle_power_w"] == 10.0 and len(res["idle_windows"]) == 2
    # A: gross per inference = 30/n and 34/n -> median 32/n; net = (30 - 10·2)/n, (34 - 20)/n
    assert va["energy_j_per_inference_gross"]["median"] == pytest.approx(32 / n_a)
    assert va["energy_j_per_inference_net"]["median"] == pytest.approx(12 / n_a)
    assert va["energy_j_per_inference_net"]["resolved"] is True
    # B runs batches of 2: inferences = 2 × calls; net = (12 - 10)/(2n), (14 - 10)/(2n)
    assert vb["energy_j_per_inference_net"]["median"] == pytest.approx(3 / (2 * n_b))
    assert res["method"] == "replay" and res["measured"] is True and not res["interrupted"]
    assert va["meter_overhead_fraction"] is not None
    assert res["contamination"]["windows"] == 6 and res["contamination"]["repeated"] == 0


def test_meter_overhead_is_checked_in_the_first_overhead_rounds_only():
    # 3 rounds of idle + A; overhead_rounds 1: only round 1's trial is repeated unmetered
    meter = ReplayMeter([_r(20, 2), _r(30, 2)] * 3)
    calls = []
    a = Workload("A", 1, lambda: calls.append(1))
    cfg = ProtocolConfig(trials=3, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=2.0,
                         overhead_rounds=1)  # fmt: skip
    res = run_protocol([a], meter, cfg, sleep=lambda s: None, clock=_tick(0.01),
                       probe=FakeProbe())  # fmt: skip
    va = res["variants"]["A@1"]
    n = va["calls_per_trial"]
    assert [t["unmetered_seconds"] is not None for t in va["trials"]] == [True, False, False]
    assert va["meter_overhead_rounds"] == 1 and va["meter_overhead_ci95"] is None
    # warm-up 0 s; calibration aside, 3 metered trials of n calls + 1 unmetered repeat of n
    calibration = len(calls) - 4 * n
    meter = ReplayMeter([_r(20, 2), _r(30, 2)] * 3)
    calls.clear()
    run_protocol([a], meter, replace(cfg, overhead_rounds=3), sleep=lambda s: None,
                 clock=_tick(0.01), probe=FakeProbe())  # fmt: skip
    assert len(calls) - calibration == 6 * n


def _two_variants(idle_watts: list[float], rounds: int = 5):
    """Readings for ``rounds`` rounds of: idle window (2 s at ``idle_watts[k]``), light variant L
    (2 s at 21 W: 2 J above a 20 W idle) and heavy variant H (2 s at 30 W: 20 J above it)."""
    readings = []
    for k in range(rounds):
        readings += [_r(idle_watts[k] * 2, 2), _r(42, 2), _r(60, 2)]
    return readings


def _measure_two(readings, probe=None, trials=5):
    light = Workload("L", 1, lambda: None)
    heavy = Workload("H", 1, lambda: None)
    cfg = ProtocolConfig(trials=trials, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=2.0)
    return run_protocol([light, heavy], ReplayMeter(readings), cfg, sleep=lambda s: None,
                        clock=_tick(0.01), probe=probe or FakeProbe())  # fmt: skip


def _as_results(res) -> dict:
    """The two measured variants as results.json variants, both passing the constraint."""
    out = {}
    for v in res["variants"].values():
        out[v["name"]] = {"measurements": {"1": v}, "accuracy": {"balanced_accuracy": 0.95},
                          "estimates": {"horowitz-45nm": {"low_j": 1e-6, "high_j": 1e-6}
                                        if v["name"] == "L" else {"low_j": 1e-4, "high_j": 1e-4}}}  # fmt: skip
    return out


def test_a_burst_of_other_work_in_one_idle_window_does_not_change_the_recommendation():
    from ecg_energy.report.recommend import RecommendConfig, recommend

    rc = RecommendConfig(constraint="none")
    quiet = _measure_two(_two_variants([20.0] * 5))
    n_l = quiet["variants"]["L@1"]["calls_per_trial"]
    assert quiet["variants"]["L@1"]["energy_j_per_inference_net"]["median"] == pytest.approx(
        2 / n_l
    )
    # round 1's idle window saw another process: 31 W (the burst that made every net negative
    # when one window served as the baseline of every trial). Seen by the load probe (40% of the
    # machine), the window is repeated (20 W) and every figure is the quiet one:
    seen = _two_variants([20.0] * 5)
    seen.insert(0, _r(62, 2))
    detected = _measure_two(seen, FakeProbe([0.4]))
    assert detected["contamination"]["repeated"] == 1
    # unseen (the probe reports nothing), it moves round 1 only: paired per round, the other
    # rounds keep their own baseline
    unseen = _measure_two(_two_variants([31.0, 20.0, 20.0, 20.0, 20.0]))
    assert unseen["idle_power"]["median"] == 20.0 and unseen["idle_power"]["ci95"][1] == 31.0
    recs = [recommend(_as_results(r), rc) for r in (quiet, detected, unseen)]
    assert all([c["variant"] for c in r["candidates"]] == ["L", "H"] for r in recs)
    assert [r["variant"] for r in recs] == ["L", "L", "L"]
    assert recs[0]["reason"] == recs[1]["reason"]  # the same figures, to the digit
    # the unseen burst leaves L's net interval reaching below zero (-20 J in one of five rounds):
    # unresolved, so the ranking falls back to gross, and says so; no negative figure anywhere
    net = unseen["variants"]["L@1"]["energy_j_per_inference_net"]
    assert net["median"] is None and net["upper_j"] == pytest.approx(2 / n_l)
    assert recs[2]["ranked"]["basis"] == "measured-gross"
    assert "L (its net figure is unresolved" in recs[2]["ranked"]["text"]


def test_a_busy_window_is_repeated_and_a_window_that_stays_busy_is_left_out():
    # other processes' share per window, in order: round 1 idle 40% (> 10%, repeated, then 2%),
    # L ok, H ok; round 2 idle 0, L 60% three times (stays contaminated), H ok; rounds 3-5 clean
    shares = [0.40, 0.02, 0.0, 0.0, 0.0, 0.6, 0.6, 0.6, 0.0]
    readings = _two_variants([20.0] * 5)
    readings.insert(0, _r(62, 2))  # the repeated idle window's first attempt (31 W)
    readings[6:6] = [_r(80, 2), _r(80, 2)]  # L's two extra attempts in round 2
    res = _measure_two(readings, FakeProbe(shares))
    c = res["contamination"]
    assert c["max_other_share"] == 0.10  # a machine-wide meter (ReplayMeter's attribution)
    assert (c["repeated"], c["contaminated"], c["windows"]) == (2, 1, 15)
    assert res["idle_windows"][0]["attempts"] == 2 and res["idle_windows"][0]["joules"] == 40
    light = res["variants"]["L@1"]
    assert light["clean_trials"] == 4 and light["trials"][1]["contaminated"] is True
    assert light["trials"][1]["attempts"] == 3 and light["trials"][1]["joules"] == 80
    assert light["energy_j_per_inference_gross"]["trials"] == 4  # the busy trial is left out


def test_a_measurement_whose_windows_stay_contaminated_is_invalid_not_a_figure():
    # every window of L stays at 50% of the machine: 3 attempts each round, never clean
    shares = []
    for _ in range(3):
        shares += [0.0] + [0.5, 0.5, 0.5] + [0.0]
    readings = []
    for _ in range(3):
        readings += [_r(40, 2), _r(60, 2), _r(60, 2), _r(60, 2), _r(60, 2)]
    res = _measure_two(readings, FakeProbe(shares), trials=3)
    light, heavy = res["variants"]["L@1"], res["variants"]["H@1"]
    assert "stayed contaminated" in light["invalid"] and "3 of 3" in light["invalid"]
    assert "energy_j_per_inference_net" not in light and "energy_j_per_inference_gross" not in light
    assert "invalid" not in heavy and heavy["energy_j_per_inference_net"]["resolved"] is True


def test_trial_power_below_idle_is_unresolved_never_negative_and_ranking_falls_back():
    from ecg_energy.report.recommend import RecommendConfig, recommend

    # idle 22 W, both variants' trials at 21 W and 21.5 W: below idle, net "negative"
    readings = []
    for _ in range(5):
        readings += [_r(44, 2), _r(42, 2), _r(43, 2)]
    res = _measure_two(readings)
    for key in ("L@1", "H@1"):
        net = res["variants"][key]["energy_j_per_inference_net"]
        assert net["resolved"] is False and net["median"] is None and net["upper_j"] is None
        assert "zero" in net["why"]
    rec = recommend(_as_results(res), RecommendConfig(constraint="none"))
    # net is unresolved for every candidate: the declared order falls back to gross
    assert rec["ranked"]["basis"] == "measured-gross"
    assert "not net J per inference at batch 1" in rec["ranked"]["text"]
    assert [c["variant"] for c in rec["candidates"]] == ["L", "H"]  # 21 W < 21.5 W, same time
    assert rec["variant"] == "L" and all(c["energy_j"] > 0 for c in rec["candidates"])


def test_a_failing_model_is_reported_and_the_others_kept():
    r = EnergyReading(5, 1, "replay", False)
    calls = itertools.count()

    def flaky():
        if next(calls) > 40:
            raise RuntimeError("interpreter crashed")

    good = Workload("good", 1, lambda: None)
    bad = Workload("bad", 1, flaky)
    cfg = ProtocolConfig(trials=3, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=0.0)
    res = run_protocol([good, bad], ReplayMeter([r] * 20), cfg, clock=_tick(0.1),
                       probe=FakeProbe())  # fmt: skip
    assert res["variants"]["bad@1"]["error"] == "RuntimeError: interpreter crashed"
    assert len(res["variants"]["good@1"]["trials"]) == 3
    assert res["measured"] is False


def test_ctrl_c_keeps_finished_trials():
    r = EnergyReading(5, 1, "replay", True)

    class Interrupting(ReplayMeter):
        def __init__(self):
            super().__init__([r] * 10)
            self.n = 0

        def start(self):
            self.n += 1
            if self.n == 3:
                raise KeyboardInterrupt

    cfg = ProtocolConfig(trials=5, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=0.0)
    res = run_protocol([Workload("A", 1, lambda: None)], Interrupting(), cfg, clock=_tick(0.1),
                       probe=FakeProbe())  # fmt: skip
    assert res["interrupted"] is True
    assert len(res["variants"]["A@1"]["trials"]) == 2


def test_checkpoints_after_each_round_and_a_killed_run_resumes_from_them():
    # rounds of (idle 10 W, A, B); the process "dies" after round 2
    cfg = ProtocolConfig(trials=3, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=2.0)
    a, b = Workload("A", 1, lambda: None), Workload("B", 1, lambda: None)
    saved = []

    class Dies(ReplayMeter):
        def start(self):
            if len(saved) == 2 and self.n_started == 6:  # two rounds of three windows started
                raise SystemExit("killed")
            self.n_started += 1

    meter = Dies([_r(20, 2), _r(30, 2), _r(12, 1), _r(20, 2), _r(34, 2), _r(14, 1)])
    meter.n_started = 0
    with pytest.raises(SystemExit):
        run_protocol([a, b], meter, cfg, sleep=lambda s: None, clock=_tick(0.01),
                     checkpoint=saved.append, probe=FakeProbe())  # fmt: skip
    last = saved[-1]
    assert [p["rounds_done"] for p in saved] == [1, 2] and last["interrupted"] is True
    assert [t["joules"] for t in last["variants"]["A@1"]["trials"]] == [30, 34]
    assert len(last["idle_windows"]) == 2
    # a new process: round 3 only (idle 12 W, A 38 J, B 16 J)
    meter = ReplayMeter([_r(24, 2), _r(38, 2), _r(16, 1)])
    res = run_protocol([a, b], meter, cfg, sleep=lambda s: None, clock=_tick(0.01), resume=last,
                       probe=FakeProbe())  # fmt: skip
    va = res["variants"]["A@1"]
    assert [t["joules"] for t in va["trials"]] == [30, 34, 38]
    assert [t["joules"] for t in res["variants"]["B@1"]["trials"]] == [12, 14, 16]
    assert va["calls_per_trial"] == last["variants"]["A@1"]["calls_per_trial"]
    assert [w["joules"] for w in res["idle_windows"]] == [20, 20, 24]
    assert res["idle_power_w"] == 10.0 and res["interrupted"] is False
    n = va["calls_per_trial"]
    # paired nets: (30 - 20)/n, (34 - 20)/n, (38 - 24)/n -> median 14/n
    assert va["energy_j_per_inference_net"]["median"] == pytest.approx(14 / n)


# --- the real CodeCarbon meter ----------------------------------------------------------------


def test_codecarbon_really_runs_a_short_window(tmp_path):
    """The real tracker (its hardware list and emissions data as this meter reads them): the total
    is exactly its CPU and RAM parts, each labelled by the mode CodeCarbon found here."""
    from ecg_energy.energy.meters import MEASURED, MODELLED
    from ecg_energy.energy.meters.codecarbon import COUNTER_CPU_MODES, MODELLED_CPU_MODES

    meter = make_meter("codecarbon", country="USA", output_dir=str(tmp_path))
    meter.start()
    sum(range(200_000))
    r = meter.stop()
    mode = r.method.removeprefix("codecarbon:")
    assert mode in COUNTER_CPU_MODES + MODELLED_CPU_MODES
    assert set(r.components) == {"cpu", "ram"}
    assert r.joules == r.components["cpu"] + r.components["ram"]
    cpu = MEASURED if mode in COUNTER_CPU_MODES else MODELLED
    assert r.sources == {"cpu": cpu, "ram": MODELLED} and r.measured is False
    assert (tmp_path / "emissions.csv").is_file()


def test_cputime_model_on_fake_clocks_by_hand():
    # 2 s of wall time, 1.5 s of CPU time at 10 W per busy core: 15 J, 0.75 cores busy
    meter = make_meter("cputime", watts_per_core=10.0, clock=_tick(2.0), cpu_clock=_tick(1.5))
    meter.start()
    r = meter.stop()
    assert (r.joules, r.seconds, r.method, r.measured) == (15.0, 2.0, "cputime-model", False)
    assert r.components["cpu"] == 15.0 and r.components["cores_busy"] == 0.75
    assert r.sources == {"cpu": "modelled"}


def test_co2e_by_hand():
    from ecg_energy.energy.carbon import carbon_intensity_g_per_kwh, co2e_kg

    assert co2e_kg(3.6e6, 369.47) == pytest.approx(0.36947)
    g, source = carbon_intensity_g_per_kwh("USA")
    assert g == pytest.approx(369.473) and "CodeCarbon" in source
    assert carbon_intensity_g_per_kwh(None, 100.0) == (100.0, "user override")


def test_the_busy_limit_by_attribution_unless_set():
    from ecg_energy.energy.protocol import ProtocolConfig, max_other_share

    class Machine:
        attribution = "machine"

    class Process:
        attribution = "process"

    # defaults: a tenth of the machine for machine-wide meters, half for process-attributed ones
    assert max_other_share(ProtocolConfig(), Machine()) == 0.10
    assert max_other_share(ProtocolConfig(), Process()) == 0.50
    assert max_other_share(ProtocolConfig(max_other_share=1), Process()) == 1.0
    # a share of the machine is at most 1: 30 ms of ticks over a 10 ms window on 2 CPUs
    # (1.5 machines) reads 1, so --max-other-share 1 never repeats a window
    from ecg_energy.energy.load import other_share

    assert other_share(0.03, 0.0, 0.01, 2) == 1.0
    assert other_share(1.5, 1.0, 1.0, 2) == 0.25
