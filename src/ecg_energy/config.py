"""The run's configuration: one frozen dataclass tree, read from TOML and printed back as TOML.

Every option of ``ecg-energy run`` has a key here, named as in the dataclasses; nested settings are
TOML tables (``[read]``, ``[synth]``, ``[models]``, ``[models.train]``, ``[protocol]``,
``[recommend]``, ``[device]``). Precedence: built-in defaults < the ``--config`` file < command-line options.
``ecg-energy run --print-config`` prints the resolved result in this same format.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

from .data.synth import SynthConfig
from .data.wfdb_source import ReadOptions
from .devices.assess import DeviceConfig
from .energy.measure import FLOAT_RUNTIMES
from .energy.meters.codecarbon import TRACKING_MODES
from .energy.protocol import ProtocolConfig
from .errors import ConfigError
from .models.variants import ModelsConfig
from .report.recommend import RecommendConfig
from .tomlio import value as _toml_value

AUTO_DECIDE_OVER = 4  # rhythm windows: 4 s every 2 s -> 10 s of ECG per decision


@dataclass(frozen=True)
class RunConfig:
    """Everything a run depends on (resolved; saved in ``run.json`` and ``results.json``)."""

    data: tuple[str, ...] = ("synth",)
    read: ReadOptions = field(default_factory=ReadOptions)
    synth: SynthConfig = field(default_factory=SynthConfig)
    split_fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
    split_seed: int = 0
    # cross-validation by record: every record tested once by models trained without it (K >= 2);
    # 0: one held-out split of split_fractions
    folds: int = 0
    # the shock decision over consecutive windows: each window decided on the mean class
    # probabilities of it and the decide_over - 1 before it in its record (one inference per
    # stride still); 1: every window on its own, as the report decided. 0 (auto): 4 for rhythm
    # windows (4 s every 2 s: 10 s of ECG, an AED's analysis), 1 for beats. The 4 was chosen on
    # the validation records of every fold of the 64 shared records (benchmarks/cv_decide_over.py)
    decide_over: int = 0
    # a folder of ICU alarm records (records + an ALARMS file, the Challenge 2015 layout): every
    # deployed model is also scored at its alarms (``api.evaluate_alarms``); "": none
    alarms: str = ""
    # a folder of ICU alarm records (the same layout): the windows of the 16 s before each false
    # VT and VF/VFL alarm (rhythms that fooled a bedside detector) join every model's training
    # windows as other non-shockable, never its validation or test windows; "": none
    hard_negatives: str = ""
    models: ModelsConfig = field(default_factory=ModelsConfig)
    tables: tuple[str, ...] = ("seed-flat", "horowitz-45nm", "jouppi-7nm")
    buffer_bytes: int = 256 * 1024
    user_models: tuple[str, ...] = ()
    unsafe_load: bool = False
    meter: str = "auto"
    # CodeCarbon's attribution: "process" (this process's CPU share; the default, measured to
    # hold under other processes' load) or "machine" (the whole machine's load)
    tracking_mode: str = "process"
    # the runtime Keras models are measured on: "litert" (LiteRT float32 from the same weights, as
    # the INT8 versions run) or "tensorflow" (tf.function); compare_runtimes also measures the
    # original on the other one at the smallest batch, so the report can say what the runtime costs
    float_runtime: str = "litert"
    compare_runtimes: bool = True
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    # the rounds stop early, after at least this many, once every net figure is resolved and
    # their order is the same as one round before (energy.settle); 0: always protocol.trials
    settle_rounds: int = 3
    batches: tuple[int, ...] = (1, 256)
    country: str = "USA"
    carbon_intensity: float | None = None  # g CO2e per kWh; overrides the country's figure
    threads: int | None = None  # inference threads while measuring; None: the runtime's default
    seed_protocol: bool = True  # also the report's method: one CodeCarbon window per model
    # calls per model in that window: the report ran 1000; its figures are per inference (kWh,
    # CO2e and time shown per 1000, scaled), so 200 stay comparable, and each Keras predict call
    # costs ~40 ms here (1000 would add ~32 s per Keras model); the report says which count ran
    seed_inferences: int = 200
    recommend: RecommendConfig = field(default_factory=RecommendConfig)  # report.recommend
    # the boards to price every variant on (device profiles), the duty cycle and the battery
    device: DeviceConfig = field(default_factory=DeviceConfig)

    @property
    def decision_windows(self) -> int:
        """The windows each decision averages: ``decide_over``, or with 0 the task's default."""
        if self.decide_over:
            return self.decide_over
        return AUTO_DECIDE_OVER if self.read.task == "rhythm" else 1

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("data needs at least one source, such as synth")
        if len(self.split_fractions) != 3 or abs(sum(self.split_fractions) - 1.0) > 1e-6:
            raise ValueError(
                "split_fractions needs three fractions (train, val, test) summing to 1"
            )
        if self.folds == 1 or self.folds < 0:
            raise ValueError("folds must be 0 (one held-out split) or at least 2")
        if (
            self.hard_negatives
            and self.alarms
            and (os.path.abspath(self.hard_negatives) == os.path.abspath(self.alarms))
        ):
            raise ValueError("hard_negatives and alarms name the same folder: the models would "
                             "be scored at alarms they were trained on; score them at other "
                             "alarms, or train on another folder's")  # fmt: skip
        if self.decide_over < 0:
            raise ValueError("decide_over must be at least 1 window (1: each window alone), or "
                             "0 for the task's default")  # fmt: skip
        if self.buffer_bytes < 0:
            raise ValueError("buffer_bytes must be >= 0")
        if not self.batches or min(self.batches) < 1:
            raise ValueError("batches needs positive batch sizes such as [1, 256]")
        if self.settle_rounds != 0 and not self.settle_rounds >= 2:
            raise ValueError("settle_rounds must be 0 (every round) or at least 2")
        if self.seed_inferences < 1:
            raise ValueError("seed_inferences must be at least 1")
        board = self.recommend.device
        if (
            board
            and board not in self.device.names
            and not any(n.endswith(f"{board}.toml") for n in self.device.names)
        ):
            raise ValueError(
                f"recommend.energy = device:{board} needs that board assessed: add "
                f"--device {board} (device.names)"
            )
        for key, allowed in (("tracking_mode", TRACKING_MODES), ("float_runtime", FLOAT_RUNTIMES)):
            if getattr(self, key) not in allowed:
                raise ValueError(
                    f"{key} must be {' or '.join(allowed)}, not {getattr(self, key)!r}"
                )
        # checked before any stage runs: the models run on the CPU (every runtime here declares it)
        from .energy.meters import METERS, covering

        cpu_meters = covering("cpu")
        if self.meter != "auto" and self.meter in METERS and self.meter not in cpu_meters:
            raise ValueError(f"meter {self.meter} does not read the CPU the models run on: "
                             f"choose {', '.join(cpu_meters)} or auto")  # fmt: skip
        if self.tracking_mode != "process" and self.meter not in ("auto", "codecarbon"):
            raise ValueError(f"tracking_mode {self.tracking_mode} is CodeCarbon's, and meter is "
                             f"{self.meter}: use meter codecarbon, or drop tracking_mode")  # fmt: skip


def _coerce(value: Any, default: Any, where: str) -> Any:
    """``value`` (from TOML) as the type of ``default``; a dataclass default takes a table."""
    if is_dataclass(default):
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a table ([{where}])")
        return _build(type(default), value, where, default)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {value!r}")
        return value
    if isinstance(default, tuple):
        items = value if isinstance(value, list) else [value]
        kind = type(default[0]) if default else str
        return tuple(_coerce(v, kind(), f"{where}[{i}]") for i, v in enumerate(items))
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if default is None or isinstance(value, type(default)) and not isinstance(value, bool):
        return value
    raise ConfigError(f"{where} must be a {type(default).__name__}, not {value!r}")


def _build(cls, table: dict, where: str, base=None):
    base = base if base is not None else cls()
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(
            f"unknown setting {prefix}{unknown[0]}; known: {', '.join(sorted(known))}"
        )
    values = {}
    for key, value in table.items():
        name = f"{where}.{key}" if where else key
        values[key] = _coerce(value, getattr(base, key), name)
    try:
        return replace(base, **values)
    except ValueError as exc:
        raise ConfigError(f"{where or 'configuration'}: {exc}") from exc


def from_dict(table: dict, base: RunConfig | None = None) -> RunConfig:
    """A RunConfig from a (TOML-shaped) dict; unknown keys and wrong types are one-line errors."""
    return _build(RunConfig, table, "", base or RunConfig())


def load_config(path: str) -> RunConfig:
    """Read a TOML configuration file over the defaults."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such configuration file; check --config")
    try:
        with open(path, "rb") as fh:
            table = tomllib.load(fh)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file") from exc
    try:
        return from_dict(table)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def to_dict(cfg) -> dict:
    """Plain dict (tuples as lists) of a config dataclass tree."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def to_toml(cfg: RunConfig) -> str:
    """The configuration as TOML that :func:`load_config` reads back to the same value.

    TOML has no null: an unset optional setting is written as a comment.
    """
    lines: list[str] = ["# ecg-energy run configuration (resolved)"]

    def emit(table: dict, path: str) -> None:
        scalars = {k: v for k, v in table.items() if not isinstance(v, dict)}
        subtables = {k: v for k, v in table.items() if isinstance(v, dict)}
        if path:
            lines.append("")
            lines.append(f"[{path}]")
        for k, v in scalars.items():
            lines.append(f"# {k} = (unset)" if v is None else f"{k} = {_toml_value(v)}")
        for k, v in subtables.items():
            emit(v, f"{path}.{k}" if path else k)

    emit(to_dict(cfg), "")
    return "\n".join(lines) + "\n"
