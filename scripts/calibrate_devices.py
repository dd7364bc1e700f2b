"""Generate the [calibration] section of every device profile from MLPerf Tiny results.

    python scripts/calibrate_devices.py                 # rewrite the profiles' generated part
    python scripts/calibrate_devices.py --check         # exit 1 if a profile is out of date
    python scripts/calibrate_devices.py --models DIR    # recount the reference models first

Inputs: ``data/mlperf-tiny/results.csv`` (322 official MLPerf Tiny results, v0.5-v1.2, with the
source file of every value) and ``data/mlperf-tiny/reference_models.toml`` (the exact MACs of the
four reference models, counted by ``ecg_energy.ops`` from their ``.tflite`` files; ``--models``
recounts them). Each profile names the round and system it is calibrated on in ``[select]``;
everything below its marker line is written here, never by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from ecg_energy.devices import calibrate as cal  # noqa: E402
from ecg_energy.devices.profile import calibration_toml, split_generated  # noqa: E402
from ecg_energy.tomlio import loads as _toml_loads  # noqa: E402

RESULTS = os.path.join(ROOT, "data", "mlperf-tiny", "results.csv")
REFERENCE = os.path.join(ROOT, "data", "mlperf-tiny", "reference_models.toml")
PROFILES = os.path.join(ROOT, "src", "ecg_energy", "devices", "profiles")
MODEL_FILES = {"ad": "ad01_int8.tflite", "ic": "pretrainedResnet_quant.tflite",
               "kws": "kws_ref_model.tflite", "vww": "vww_96_int8.tflite"}  # fmt: skip


def count_models(folder: str) -> str:
    """reference_models.toml from the four .tflite files in ``folder``."""
    from ecg_energy.ops.tflite_ops import count_tflite

    lines = ["# The MLPerf Tiny reference models' exact MACs, counted by ecg_energy.ops from the",
             "# closed-division .tflite files of mlcommons/tiny (benchmark/training/*/trained_models,",
             "# commit 1afd2c9820f795965a6134facd0b4dfae41ef23f). Written by",
             "# scripts/calibrate_devices.py --models DIR; do not edit."]  # fmt: skip
    for bench, name in MODEL_FILES.items():
        path = os.path.join(folder, name)
        with open(path, "rb") as fh:
            content = fh.read()
        counts = count_tflite(content)
        digest = hashlib.sha256(content).hexdigest()[:16]
        lines += ["", f"[{bench}]", f'file = "{name}"', f'sha256_16 = "{digest}"',
                  f"macs = {counts.macs}", f"operators = {len(counts.ops)}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def reference_macs(path: str = REFERENCE) -> dict[str, int]:
    with open(path, encoding="utf-8") as fh:
        table = _toml_loads(fh.read(), path)
    return {b: int(t["macs"]) for b, t in table.items()}


def regenerate(results: str = RESULTS, reference: str = REFERENCE,
               profiles: str = PROFILES) -> dict[str, str]:  # fmt: skip
    """{profile path: its new text}."""
    rows = cal.read_results(results, reference_macs(reference))
    with open(results, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()[:16]
    out = {}
    for name in sorted(os.listdir(profiles)):
        if not name.endswith(".toml"):
            continue
        path = os.path.join(profiles, name)
        with open(path, encoding="utf-8") as fh:
            hand, _ = split_generated(fh.read())
        select = _toml_loads(hand, path).get("select")
        if not select:
            raise SystemExit(f"{path}: no [select] round and system to calibrate on")
        figures = cal.calibrate(rows, select)
        out[path] = (
            hand.rstrip("\n")
            + "\n\n"
            + calibration_toml(figures, f"from data/mlperf-tiny/results.csv sha256 {sha}")
        )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check the profiles are current")
    ap.add_argument("--models", help="folder of the four reference .tflite files to recount")
    ap.add_argument("--results", default=RESULTS)
    args = ap.parse_args(argv)
    if args.models:
        text = count_models(args.models)
        with open(REFERENCE, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {os.path.relpath(REFERENCE, ROOT)}")
    stale = []
    for path, text in regenerate(args.results).items():
        with open(path, encoding="utf-8") as fh:
            current = fh.read()
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
            print(f"wrote {os.path.relpath(path, ROOT)}")
    if args.check and stale:
        print("out of date: " + ", ".join(os.path.relpath(p, ROOT) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
