"""What in a run was modelled rather than measured, said in plain words for the report."""

from __future__ import annotations

# the methods a reading can carry: ours, and CodeCarbon 3.3.2's CPU modes (``CPU._mode``) after
# "codecarbon:"; CodeCarbon's RAM figure is a model in every mode
_CC_RAM = (
    "; its RAM figure is a model (CodeCarbon has no RAM counter), so the total is partly modelled"
)
METHOD_WORDS = {
    "rapl": "read from the CPU's RAPL energy counters (package and DRAM): measured",
    "nvml:power-polling": "the GPU's power readings polled through NVML and integrated over "
    "time (no energy counter on this GPU): measured, coarser, for the GPU only",
    "nvml": "read from the GPU's NVML energy counter: measured, for the GPU only",
    "codecarbon:intel_rapl": "CodeCarbon reading the CPU package's RAPL counter: the CPU part "
    "measured" + _CC_RAM,
    "codecarbon:intel_power_gadget": "CodeCarbon reading the CPU through Intel Power Gadget: the "
    "CPU part measured" + _CC_RAM,
    "codecarbon:windows_emi": "CodeCarbon reading the CPU's RAPL counters through Windows' Energy "
    "Meter Interface: the CPU part measured" + _CC_RAM,
    "codecarbon:cpu_load": "CodeCarbon's model, not a reading: with no power counter on this "
    "machine it multiplies its table TDP by a function of CPU load and adds a modelled RAM power, "
    "so the energy grows with time, not with the work the model does",
    "codecarbon:constant": "CodeCarbon's model, not a reading: a constant CPU power (its TDP "
    "table, or a global default) and a modelled RAM power, times the time",
    "cputime-model": "a model: this process's CPU seconds x a fixed number of watts per core",
}


def method_words(method: str) -> str:
    return METHOD_WORDS.get(method, "a method this report does not describe")


def modelled_notes(res: dict) -> list[str]:
    meas = res["measurement"]
    notes = []
    methods = meas.get("methods") or []
    if methods:
        for m in methods:
            notes.append(f"Energy per inference ({m}): {method_words(m)}.")
        parts = meas.get("parts") or {}
        if not meas.get("measured") and parts.get("measured"):
            notes.append(f"Partly measured: {', '.join(parts['measured'])} read from a counter, "
                         f"{', '.join(parts.get('modelled') or [])} modelled; the figures are "
                         "totals of both, so none of them is a measurement (each part is kept "
                         "under energy_parts_j_per_inference in measurements.json).")  # fmt: skip
        elif not meas.get("measured"):
            notes.append("No energy figure in this report was read from a hardware energy counter; "
                         "every measured-column energy is modelled from time and load. Ratios "
                         "between variants then mostly reflect their latencies.")  # fmt: skip
    else:
        notes.append("No energy was measured in this run.")
    choice = meas.get("meter_choice") or {}
    if choice.get("chosen"):
        skipped = "; ".join(choice.get("skipped") or [])
        notes.append(f"Meter {choice['chosen']} ({choice.get('why', 'requested')}), for the models "
                     f"on the {', '.join(d.upper() for d in meas.get('devices') or ['cpu'])}"
                     + (f"; skipped: {skipped}." if skipped else "."))  # fmt: skip
    if meas.get("idle_power_w") is not None:
        notes.append(f"Net energy subtracts an idle baseline (median {meas['idle_power_w']:.1f} W) "
                     "x the trial's time: the idle window of the trial's own round, as long as a "
                     "trial, so the baseline sees the same conditions as the trials; it comes from "
                     "the same meter, so it is modelled or measured with it.")  # fmt: skip
    if meas.get("attribution") == "process":
        notes.append("The energy is attributed to this process (CodeCarbon's process mode: the "
                     "CPU model charges this process's share of the CPUs), so other processes' "
                     "work is not in it; a hardware counter could not do that, it sees the whole "
                     "machine.")  # fmt: skip
    elif meas.get("attribution") == "machine":
        notes.append("The energy is machine-wide: other processes' work during a window is in "
                     "it, which is why windows where other processes were busy are repeated or "
                     "left out.")  # fmt: skip
    tables = [t for t in res["config"]["tables"] if t != "seed-flat"]
    notes.append(f"Estimated energies ({', '.join(tables)}) are arithmetic: operation counts "
                 "(exact, from the model files) priced per operation and per byte moved from "
                 "published tables. They describe a chip's datapath, not this machine, and were "
                 "never measured.")  # fmt: skip
    notes.append("The report's column (FLOPs x 0.45 pJ) is a flat price per FLOP, modelled.")
    ci = meas.get("carbon_intensity_g_per_kwh")
    if ci is not None:
        notes.append(f"CO2e = energy x {ci:.2f} g CO2e per kWh ({meas.get('carbon_intensity_source')}"
                     "): a conversion of the energy above, as modelled or measured as it is.")  # fmt: skip
    seed = {v["seed_window"]["method"]: v["seed_window"]["measured"]
            for v in res["variants"].values() if v.get("seed_window")}  # fmt: skip
    if seed:
        said = ", ".join(f"{m} ({'measured' if ok else 'modelled'})" for m, ok in seed.items())
        notes.append(f"The report's method (one CodeCarbon window around 1000 inferences) ran on "
                     f"CodeCarbon's {said} here.")  # fmt: skip
    ds = res.get("dataset", {})
    prov = ds.get("provenance") or {}
    synthetic = "synth" in str(prov) and all(s.startswith("synth") for s in res["config"]["data"])
    notes.append("Accuracy was measured on held-out records" +
                 (" of the embedded synthetic database: it shows what each variant gives up "
                  "relative to the others, not how it performs on patients." if synthetic
                  else "."))  # fmt: skip
    return notes
