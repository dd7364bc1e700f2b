"""Benchmark: the emulated method (the model's own instructions on the emulated Cortex-M core,
TFLM + CMSIS-NN on QEMU) against the per-MAC method, leave-one-model-out on MLPerf Tiny.

For each core built (Cortex-M4, M33, M7), the four reference models are emulated (two windows of
seeded random inputs; their outputs compared with TFLM on the host). Every MLPerf Tiny group (a
board and round with at least three of the four benchmarks) on such a core then predicts each
benchmark from its others: the emulated method as instructions x the geometric mean of the others'
cycles (or joules) per instruction, the per-MAC method as MACs x their cycles (joules) per MAC.
Reported per group and overall: the median absolute error of each. Then each device profile's
board gets its fit (cycles per instruction, energy per instruction and cycle, pooled 90% bands),
written to ``src/ecg_energy/devices/emulate/calibration.json``; and, with --models, the given
model files are priced by both methods on --device boards.

    .venv/bin/python benchmarks/device_emulated.py --source ../shared/vendor
        [--reference-models ../shared/data/mlperf-tiny/models] [--models a.tflite ...]
        [--out benchmarks/results/device_emulated.json]
Targets: median latency error <= 10%, energy <= 12% (the per-MAC model: 18.5%, 17.4%).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

from calibrate_devices import MODEL_FILES, RESULTS, reference_macs  # noqa: E402

from ecg_energy.devices import calibrate as cal  # noqa: E402
from ecg_energy.devices.emulate import fit  # noqa: E402
from ecg_energy.devices.emulate.assess import compare, default_inputs  # noqa: E402
from ecg_energy.devices.emulate.build import build_runner  # noqa: E402
from ecg_energy.devices.emulate.run import emulate, outputs_array  # noqa: E402
from ecg_energy.devices.emulate.targets import target_for_core  # noqa: E402
from ecg_energy.devices.profile import builtin_names, load_profile  # noqa: E402
from ecg_energy.fsio import atomic_write_json  # noqa: E402

CALIBRATION = os.path.join(ROOT, "src", "ecg_energy", "devices", "emulate", "calibration.json")
SHARED_MODELS = os.path.join(os.path.dirname(ROOT), "shared", "data", "mlperf-tiny", "models")


def core_of_systems(path: str) -> dict[str, str]:
    """{round|system: core} from results.csv."""
    out = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out[f"{r['round']}|{r['system']}"] = r.get("core", "")
    return out


def emulate_references(targets: list[str], models_dir: str, source: str | None) -> dict:
    """{target: {benchmark: record}} with build and emulation times."""
    from ecg_energy.devices import tflm

    out: dict = {}
    for t in targets:
        b = build_runner(t, source)
        out[t] = {"build_s": b["build_s"], "recipe": b["recipe"], "benchmarks": {}}
        for bench, name in MODEL_FILES.items():
            path = os.path.join(models_dir, name)
            x = default_inputs(path, n=2)
            t0 = time.perf_counter()
            rec = emulate(path, x, t, source)
            host = tflm.check(path, x)
            agree = (compare(outputs_array(rec, str(host["outputs"].dtype)), host["outputs"])
                     if host.get("outputs") is not None else None)  # fmt: skip
            out[t]["benchmarks"][bench] = {
                "instructions": rec["instructions"]["invoke"],
                "interpreter": rec["instructions"]["interpreter"],
                "setup": rec["instructions"]["setup"], "arena_bytes": rec["arena_bytes"],
                "ops": len(rec["ops"]), "emulation_s": rec["emulation_s"],
                "wall_s": round(time.perf_counter() - t0, 2), "cached": rec["cached"],
                "agreement_host_tflm": agree}  # fmt: skip
            print(f"{t} {bench}: {rec['instructions']['invoke']:,.0f} instructions, emulated in "
                  f"{rec['emulation_s']:.1f} s, outputs identical to host TFLM: "
                  f"{agree and agree['identical']}", flush=True)  # fmt: skip
    return out


def validate(
    rows: list[cal.Row], cores: dict[str, str], insns: dict[str, dict[str, float]]
) -> dict:
    """Leave-one-model-out of both methods on every group whose core was emulated."""
    table, errs = [], {"emulated": {"energy": [], "latency": []},
                       "per_mac": {"energy": [], "latency": []}}  # fmt: skip
    tflm_errs = {
        "emulated": {"energy": [], "latency": []},
        "per_mac": {"energy": [], "latency": []},
    }
    for kind in ("energy", "latency"):
        for key, group in sorted(cal.groups(rows, kind).items()):
            target = target_for_core(cores.get(key, ""))
            if target is None or target.name not in insns:
                continue
            ins = insns[target.name]
            group = [r for r in group if r.benchmark in ins]
            if len({r.benchmark for r in group}) < 3:
                continue
            e = fit.abs_errors(fit.loo(group, ins, kind))
            m = fit.abs_errors(fit.loo_per_mac(group, kind))
            fw = group[0].framework
            is_tflm = any(s in fw for s in ("TensorFlow Lite", "CMSIS_NN", "CMSIS-NN"))
            for name, v in (("emulated", e), ("per_mac", m)):
                errs[name][kind] += v
                if is_tflm:
                    tflm_errs[name][kind] += v
            table.append({"group": key, "kind": kind, "target": target.name,
                          "framework": fw[:60], "tflm_or_cmsis_nn": is_tflm,
                          "benchmarks": [r.benchmark for r in group],
                          "emulated_median_error": round(fit.median(e), 4),
                          "per_mac_median_error": round(fit.median(m), 4)})  # fmt: skip

    def summary(d):
        return {meth: {kind: {"median_abs_error": round(fit.median(v), 4) if v else None,
                              "n": len(v)} for kind, v in kinds.items()}
                for meth, kinds in d.items()}  # fmt: skip

    return {"groups": table, "overall": summary(errs), "tflm_cmsis_nn_rows": summary(tflm_errs)}


def board_fits(rows: list[cal.Row], cores: dict[str, str], insns: dict) -> dict:
    """Each profile's fit, with bands pooled over every emulated group."""
    all_groups = {}
    insns_of = {}
    for kind in ("energy", "latency"):
        for key in cal.groups(rows, kind):
            target = target_for_core(cores.get(key, ""))
            if target is not None and target.name in insns:
                all_groups[key] = [
                    r for r in rows if r.key == key and r.benchmark in insns[target.name]
                ]
                insns_of[key] = insns[target.name]
    bands = fit.pooled_bands(all_groups, insns_of)
    out = {}
    for name in builtin_names():
        p = load_profile(name)
        target = target_for_core(p.core)
        if target is None or target.name not in insns:
            continue
        mine = [r for r in rows if r.round == p.select.get("round")
                and r.system == p.select.get("system") and r.benchmark in insns[target.name]]  # fmt: skip
        if not mine:
            continue
        f = fit.fit_board(mine, insns[target.name], bands)
        f.update(round=p.select["round"], system=p.select["system"], target=target.name,
                 clock_mhz=p.clock_hz / 1e6,
                 instructions_by_benchmark={b: insns[target.name][b] for b in f["benchmarks"]})  # fmt: skip
        out[name] = f
    return {"bands": {k: [round(v, 5) for v in b] for k, b in bands.items()}, "boards": out}


def markdown(val: dict) -> str:
    """The leave-one-out table of both methods, as markdown (for docs/howto/emulated-device.md)."""
    lines = ["| group (round, system) | core | runtime | kind | benchmarks | emulated | per MAC |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for g in val["groups"]:
        lines.append(f"| {g['group'].replace('|', ' ')} | {g['target']} | {g['framework'][:28]} | "
                     f"{g['kind']} | {','.join(g['benchmarks'])} | "
                     f"{100 * g['emulated_median_error']:.1f}% | "
                     f"{100 * g['per_mac_median_error']:.1f}% |")  # fmt: skip
    for label, key in (("all groups", "overall"), ("TFLM / CMSIS-NN groups", "tflm_cmsis_nn_rows")):
        for kind in ("latency", "energy"):
            e = val[key]["emulated"][kind]
            m = val[key]["per_mac"][kind]
            if e["n"]:
                lines.append(f"| **{label}** | | | {kind} | {e['n']} results | "
                             f"**{100 * e['median_abs_error']:.1f}%** | "
                             f"**{100 * m['median_abs_error']:.1f}%** |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--source", default=None, help="TFLM source folder (else $ECG_ENERGY_TFLM_SOURCE)"
    )
    ap.add_argument("--targets", default="cortex-m4,cortex-m33")
    ap.add_argument("--reference-models", default=SHARED_MODELS)
    ap.add_argument("--results", default=RESULTS)
    ap.add_argument(
        "--out", default=os.path.join(ROOT, "benchmarks", "results", "device_emulated.json")
    )
    ap.add_argument("--calibration", default=CALIBRATION)
    args = ap.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    refs = emulate_references(targets, args.reference_models, args.source)
    insns = {t: {b: v["instructions"] for b, v in r["benchmarks"].items()} for t, r in refs.items()}
    rows = cal.read_results(args.results, reference_macs())
    cores = core_of_systems(args.results)
    val = validate(rows, cores, insns)
    fits = board_fits(rows, cores, insns)
    calibration = {"method": "emulated: TFLM + CMSIS-NN instructions on QEMU's MPS2 board",
                   "model": fit.__doc__.split("\n\n")[1].strip(),
                   "instructions": insns, **fits}  # fmt: skip
    atomic_write_json(args.calibration, calibration)
    result = {"references": refs, "validation": val, "calibration": calibration}
    atomic_write_json(args.out, result)
    print(markdown(val))
    return 0


if __name__ == "__main__":
    sys.exit(main())
