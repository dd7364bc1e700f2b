"""Meters on fakes (a fake powercap tree, a fake NVML, replayed readings), statistics by hand,
the protocol's bookkeeping, and one real CodeCarbon window."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ecg_energy.energy.meters import EnergyReading, Meter, MeterUnavailable, make_meter
from ecg_energy.energy.meters.nvml import NvmlMeter, integrate_power
from ecg_energy.energy.meters.rapl import RaplMeter, counter_delta_uj
from ecg_energy.energy.protocol import ProtocolConfig, Workload, idle_power_w, run_protocol
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
    before, after = EnergyReading(20, 2, "x", True), EnergyReading(24, 2, "x", True)
    assert idle_power_w(before, after) == 11.0
    assert idle_power_w(None, None) is None


def test_bootstrap_and_spread():
    assert bootstrap_ci([3.0]) == (3.0, 3.0, 3.0)
    med, lo, hi = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 100.0], n_boot=500, seed=1)
    assert med == 3.0 and 1.0 <= lo <= med <= hi <= 100.0
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


def test_protocol_interleaves_and_computes_per_inference_figures():
    # idle before (10 W), 2 trials × 2 workloads interleaved (A B A B), idle after (10 W)
    r = lambda j, s: EnergyReading(j, s, "replay", True)  # noqa: E731
    meter = ReplayMeter([r(20, 2), r(30, 2), r(12, 1), r(34, 2), r(14, 1), r(20, 2)])
    order = []
    a = Workload("A", 1, lambda: order.append("A"))
    b = Workload("B", 2, lambda: order.append("B"))
    cfg = ProtocolConfig(trials=2, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=2.0)
    res = run_protocol([a, b], meter, cfg, sleep=lambda s: None, clock=_tick(0.01))
    va, vb = res["variants"]["A@1"], res["variants"]["B@2"]
    n_a, n_b = va["calls_per_trial"], vb["calls_per_trial"]
    assert [t["joules"] for t in va["trials"]] == [30, 34]
    assert [t["joules"] for t in vb["trials"]] == [12, 14]
    assert res["idle_power_w"] == 10.0
    # A: gross per inference = 30/n and 34/n -> median 32/n; net = (30 - 10·2)/n, (34 - 20)/n
    assert va["energy_j_per_inference_gross"]["median"] == pytest.approx(32 / n_a)
    assert va["energy_j_per_inference_net"]["median"] == pytest.approx(12 / n_a)
    # B runs batches of 2: inferences = 2 × calls; net = (12 - 10)/(2n), (14 - 10)/(2n)
    assert vb["energy_j_per_inference_net"]["median"] == pytest.approx(3 / (2 * n_b))
    assert res["method"] == "replay" and res["measured"] is True and not res["interrupted"]
    # readings were taken A, B, A, B (interleaved): A got 30 and 34 J, B got 12 and 14 J (above)
    assert va["meter_overhead_fraction"] is not None


def test_a_failing_model_is_reported_and_the_others_kept():
    r = EnergyReading(5, 1, "replay", False)
    calls = itertools.count()

    def flaky():
        if next(calls) > 40:
            raise RuntimeError("interpreter crashed")

    good = Workload("good", 1, lambda: None)
    bad = Workload("bad", 1, flaky)
    cfg = ProtocolConfig(trials=3, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=0.0)
    res = run_protocol([good, bad], ReplayMeter([r] * 20), cfg, clock=_tick(0.1))
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
    res = run_protocol([Workload("A", 1, lambda: None)], Interrupting(), cfg, clock=_tick(0.1))
    assert res["interrupted"] is True
    assert len(res["variants"]["A@1"]["trials"]) == 2


def test_checkpoints_after_each_round_and_a_killed_run_resumes_from_them():
    # idle 10 W (20 J / 2 s); then rounds A B, A B, A B; the process "dies" after round 2
    r = lambda j, s: EnergyReading(j, s, "replay", True)  # noqa: E731
    cfg = ProtocolConfig(trials=3, min_seconds=1.0, warmup_seconds=0.0, idle_seconds=2.0)
    a, b = Workload("A", 1, lambda: None), Workload("B", 1, lambda: None)
    saved = []

    class Dies(ReplayMeter):
        def start(self):
            if len(saved) == 2 and self.n_started == 5:  # the idle window + two rounds started
                raise SystemExit("killed")
            self.n_started += 1

    meter = Dies([r(20, 2), r(30, 2), r(12, 1), r(34, 2), r(14, 1)])
    meter.n_started = 0
    with pytest.raises(SystemExit):
        run_protocol([a, b], meter, cfg, sleep=lambda s: None, clock=_tick(0.01),
                     checkpoint=saved.append)  # fmt: skip
    last = saved[-1]
    assert [p["rounds_done"] for p in saved] == [1, 2] and last["interrupted"] is True
    assert [t["joules"] for t in last["variants"]["A@1"]["trials"]] == [30, 34]
    # a new process: round 3 only (A 38 J, B 16 J), then the idle window after (10 W)
    meter = ReplayMeter([r(38, 2), r(16, 1), r(20, 2)])
    res = run_protocol([a, b], meter, cfg, sleep=lambda s: None, clock=_tick(0.01), resume=last)
    va = res["variants"]["A@1"]
    assert [t["joules"] for t in va["trials"]] == [30, 34, 38]
    assert [t["joules"] for t in res["variants"]["B@1"]["trials"]] == [12, 14, 16]
    assert va["calls_per_trial"] == last["variants"]["A@1"]["calls_per_trial"]
    assert res["idle_power_w"] == 10.0 and res["interrupted"] is False
    n = va["calls_per_trial"]
    assert va["energy_j_per_inference_net"]["median"] == pytest.approx((34 - 20) / n)


# --- the real CodeCarbon meter ----------------------------------------------------------------


def test_codecarbon_really_runs_a_short_window(tmp_path):
    meter = make_meter("codecarbon", country="USA", output_dir=str(tmp_path))
    meter.start()
    x = 0
    for i in range(200_000):
        x += i
    r = meter.stop()
    assert r.method.startswith("codecarbon:") and r.seconds > 0 and r.joules > 0
    # on a machine without RAPL it models power (cpu_load); only RAPL/NVML count as measured
    assert r.measured is (r.method in ("codecarbon:intel_rapl", "codecarbon:rapl"))
    assert (tmp_path / "emissions.csv").is_file()


def test_cputime_model_is_labelled_modelled():
    meter = make_meter("cputime", watts_per_core=10.0)
    meter.start()
    np.linalg.svd(np.random.default_rng(0).standard_normal((200, 200)))
    r = meter.stop()
    assert r.method == "cputime-model" and r.measured is False
    assert r.joules == pytest.approx(10.0 * r.components["cpu_seconds"])


def test_co2e_by_hand():
    from ecg_energy.energy.carbon import carbon_intensity_g_per_kwh, co2e_kg

    assert co2e_kg(3.6e6, 369.47) == pytest.approx(0.36947)
    g, source = carbon_intensity_g_per_kwh("USA")
    assert g == pytest.approx(369.473) and "CodeCarbon" in source
    assert carbon_intensity_g_per_kwh(None, 100.0) == (100.0, "user override")
