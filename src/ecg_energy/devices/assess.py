"""Every model on every board: counts, the TFLM check (arena, missing operators, agreement with
LiteRT on the given windows), then ``predict.price`` per board. The glue between files and the
pure parts; the ``device`` command and the run's ``device`` stage both call :func:`assess`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from .battery import PRESETS, Battery, DutyCycle, parse_battery
from .predict import price
from .profile import DeviceProfile, load_profiles

DEFAULT_WINDOWS = 256  # test windows TFLM and LiteRT are compared on (per model)
METHODS = ("per-mac", "emulated")


@dataclass(frozen=True)
class DeviceConfig:
    """The ``[device]`` table of a run: which boards, the duty cycle and the battery."""

    names: tuple[str, ...] = ()
    stride_s: float = 2.0  # one window every stride (4-s windows every 2 s)
    battery: str = "cr2032"  # a preset (cr2032, lipo-150) or MAH@VOLTS
    rest_w: float = 0.0  # constant power of the rest of the device (ECG front end, radio)
    windows: int = DEFAULT_WINDOWS  # test windows for the TFLM / LiteRT agreement (0: none)
    method: str = "per-mac"  # per-mac, or emulated (TFLM + CMSIS-NN on the emulated core)
    tflm_source: str = ""  # the emulated build's TFLM source (else $ECG_ENERGY_TFLM_SOURCE)

    def __post_init__(self) -> None:
        DutyCycle(self.stride_s, self.rest_w)
        parse_battery(self.battery)
        if self.windows < 0:
            raise ValueError("device.windows must be >= 0")
        if self.method not in METHODS:
            raise ValueError(f"device.method is one of {', '.join(METHODS)}, not {self.method!r}")


def _model_facts(name: str, path: str, counts, windows: np.ndarray | None, preprocessing,
                 echo) -> dict:  # fmt: skip
    from ..models.io import model_format
    from . import tflm

    fmt = model_format(path)
    facts = {"name": name, "file": path, "format": fmt, "macs": counts.macs,
             "macs_by_precision": counts.macs_by_precision(),
             "file_bytes": os.path.getsize(path)}  # fmt: skip
    if fmt != "tflite":
        return facts
    inputs = litert_out = None
    if windows is not None and len(windows):
        from ..models import preprocess
        from ..models.io import load_model_file

        mf = load_model_file(path)
        x = preprocess.apply(preprocessing or mf.preprocessing, windows).astype(np.float32)
        if tuple(x.shape[1:]) == tuple(mf.runner.input_shape):
            runner = mf.runner
            inputs = runner.quantize_input(x)
            # native() hands an INT8 model's output as its bytes (uint8): view them as int8
            litert_out = np.stack([np.array(runner.native(inputs[i : i + 1])).reshape(-1)
                                   .view(runner.output_dtype) for i in range(len(inputs))])  # fmt: skip
    echo(f"  device: TFLM on {name}" + (f" ({len(inputs)} windows)" if inputs is not None else ""))
    check = tflm.check(path, inputs)
    outputs = check.pop("outputs", None)
    if inputs is not None:
        facts["_inputs"] = inputs  # for the emulated method; dropped before the results
    if outputs is not None and litert_out is not None:
        check["agreement"] = tflm.agreement(outputs, litert_out)
    facts["tflm"] = check
    return facts


def assess(paths: dict[str, str], profiles: list[DeviceProfile], cfg: DeviceConfig,
           windows: np.ndarray | None = None, counted: dict | None = None,
           echo: Callable[[str], None] = lambda m: None, preprocessing: str | None = None,
           unsafe: bool = False) -> dict:  # fmt: skip
    """{"settings", "profiles", "models", "by_device": {device: {model: row}}}.

    ``paths``: {model name: file}; ``counted``: {name: FileCounts} already made (else counted
    here); ``windows``: raw test windows for the TFLM / LiteRT comparison (at most
    ``cfg.windows`` used)."""
    from ..ops.files import count_file
    from . import tflm

    battery: Battery = parse_battery(cfg.battery)
    cycle = DutyCycle(cfg.stride_s, cfg.rest_w)
    sample = windows[: cfg.windows] if windows is not None and cfg.windows else None
    models = {}
    for name, path in paths.items():
        fc = (counted or {}).get(name) or count_file(path, unsafe)
        models[name] = _model_facts(name, path, fc.counts, sample, preprocessing, echo)
    by_device = {p.name: {name: price(p, m, cycle, battery) for name, m in models.items()}
                 for p in profiles}  # fmt: skip
    if cfg.method == "emulated":
        from .emulate.assess import emulate_rows

        emulate_rows(by_device, models, profiles, cfg, cycle, battery, echo)
    for m in models.values():
        m.pop("_inputs", None)
    return {"settings": {**asdict(cfg), "names": [p.name for p in profiles],
                         "battery": battery.as_dict(), "tflm_version": tflm.available(),
                         "battery_presets": sorted(PRESETS)},
            "profiles": {p.name: {**p.summary(), "power": p.power, "runtime": p.runtime,
                                  "calibration": {k: v for k, v in p.calibration.items()
                                                  if k != "rows"}}
                         for p in profiles},
            "models": models, "by_device": by_device}  # fmt: skip


def assess_files(files: list[str], names: list[str], cfg: DeviceConfig,
                 windows: np.ndarray | None = None, echo=lambda m: None,
                 unsafe: bool = False) -> dict:  # fmt: skip
    """The ``device`` command: model files (named by sidecar or stem) on the named boards."""
    from ..models.io import variant_names

    return assess(variant_names(files), load_profiles(names), cfg, windows, echo=echo,
                  unsafe=unsafe)  # fmt: skip
