"""The search space of a sweep, read from TOML: parsed, checked, and expanded into trials.

A sweep file names the search (``grid``, ``random`` or ``optuna``), a trial ``budget``, the
devices to price on, the data and the training settings, and ``[space]``: for each searched
setting either a list of values or a range ``{low, high}`` (``step`` to make it a grid's list,
``log = true`` to sample it on a log scale). The settings searched:

- the student: ``width`` (filter multiplier), ``depth`` (separable blocks), ``stride`` and
  ``kernel`` of its first convolution (``models.architectures.student``);
- distillation: ``distill`` (true: taught by the shared original; false: labels alone),
  ``temperature`` and ``hard_weight`` (the label loss' weight; 1 - it goes to the teacher);
- ``quantize``: the LiteRT version deployed (int8, fp16, dynamic, fp32).

Every mistake (an unknown key, an empty list or range, an unknown device, a budget of zero) is
one ConfigError naming the key and the fix. Pure functions: dicts in, dataclasses and lists out.
"""

from __future__ import annotations

import difflib
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError

SEARCHES = ("grid", "random", "optuna")
PARAMS = ("width", "depth", "stride", "kernel", "distill", "temperature", "hard_weight", "quantize")
INTEGER_PARAMS = ("depth", "stride", "kernel")
DEFAULT_POINT = {
    "width": 1.0,
    "depth": 3,
    "stride": 5,
    "kernel": 7,
    "distill": True,
    "temperature": 4.0,
    "hard_weight": 0.5,
    "quantize": "int8",
}
RANGE_KEYS = ("low", "high", "step", "log")


@dataclass(frozen=True)
class Range:
    """A continuous (or integer) interval to sample; ``step`` makes it a list for a grid."""

    low: float
    high: float
    step: float | None = None
    log: bool = False
    integer: bool = False

    def values(self) -> list:
        """The grid's values: low, low + step, ... up to high (inclusive, to rounding).

        >>> Range(0.5, 2.0, step=0.5).values()
        [0.5, 1.0, 1.5, 2.0]"""
        n = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
        vals = [self.low + i * self.step for i in range(n)]
        return [int(round(v)) for v in vals] if self.integer else [round(v, 12) for v in vals]


@dataclass(frozen=True)
class DataSpec:
    """The data every trial learns from and is scored on (split by record)."""

    source: str = "synth"
    records: int = 24  # the synthetic database's size (patients x minutes each)
    minutes: float = 5.0
    split_seed: int = 0


@dataclass(frozen=True)
class TrainSpec:
    """Training of the shared teacher (once per sweep) and of each trial's student."""

    teacher_epochs: int = 40
    teacher_patience: int = 8
    epochs: int = 40  # each student's maximum epochs
    patience: int = 10
    batch_size: int = 64
    learning_rate: float = 3e-3  # the students'
    representative_windows: int = 1000  # calibration windows for int8
    seed: int = 0


@dataclass(frozen=True)
class SweepConfig:
    """A whole sweep: how to search, what to search over, and what each trial does."""

    search: str = "grid"
    budget: int = 12
    seed: int = 0
    devices: tuple[str, ...] = ()
    rank: str = "estimate"  # the energy of the front: "estimate" (tables[0]) or "device:NAME"
    tables: tuple[str, ...] = ("horowitz-45nm",)
    min_balanced_accuracy: float = 0.0  # besides every AHA goal, for the recommendation
    measure: bool = False  # host energy per inference, through one measurement actor per node
    cpus_per_trial: int = 1
    workers: int = 0  # trials at a time; 0: as many as the cluster's CPUs allow
    max_failures: int = 0  # retries of a failed trial (a lost node), before it is recorded
    data: DataSpec = field(default_factory=DataSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    space: dict = field(default_factory=dict)  # {param: tuple of values | Range}

    @property
    def rank_device(self) -> str | None:
        return self.rank.split(":", 1)[1] if self.rank.startswith("device:") else None


def _unknown(key: str, where: str, known) -> ConfigError:
    near = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    hint = f"did you mean {near[0]!r}? " if near else ""
    return ConfigError(f"unknown key {key!r} in {where}; {hint}known: {', '.join(known)}")


def _table(obj, where: str) -> dict:
    if not isinstance(obj, dict):
        raise ConfigError(f"{where} must be a table ([{where.strip('[]')}]), not {obj!r}")
    return obj


def _scalars(cls, table: dict, where: str):
    """A dataclass of scalars from a TOML table; unknown keys and wrong types are one line."""
    defaults = cls()
    known = list(cls.__dataclass_fields__)
    out = {}
    for key, v in table.items():
        if key not in known:
            raise _unknown(key, where, known)
        want = type(getattr(defaults, key))
        ok = isinstance(v, want) and not (want is int and isinstance(v, bool))
        if want is float and isinstance(v, int) and not isinstance(v, bool):
            v, ok = float(v), True
        if not ok:
            raise ConfigError(f"{where} {key} must be {want.__name__}, not {v!r}")
        out[key] = v
    return cls(**out)


def check_value(name: str, v) -> object:
    """One value of a searched setting, checked (and ints of float settings made float)."""
    bad = ConfigError(f"[space] {name}: {v!r} is not a valid {name} ({_RULES[name]})")
    if name == "distill":
        if not isinstance(v, bool):
            raise bad
        return v
    if name == "quantize":
        from ..models.quantize import MODES

        if v == "int16x8":  # LiteRT converts and runs it, but nothing here prices int16 yet
            raise ConfigError(
                "[space] quantize: int16x8 converts and runs with LiteRT here, but "
                "its int16 x int8 MACs are not yet counted and priced as such; "
                f"choose from {', '.join(MODES)}"
            )
        if v not in MODES:
            raise ConfigError(
                f"[space] quantize: unknown LiteRT version {v!r}; choose from {', '.join(MODES)}"
            )
        return v
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise bad
    if name in INTEGER_PARAMS and (not float(v).is_integer()):
        raise bad
    v = int(v) if name in INTEGER_PARAMS else float(v)
    lo, hi = _BOUNDS[name]
    if not (lo <= v <= hi) or (name in ("width", "temperature") and v <= 0):
        raise bad
    return v


_RULES = {
    "width": "a positive multiplier, e.g. 0.5",
    "depth": "1 to 6 separable blocks",
    "stride": "an integer of at least 1",
    "kernel": "an integer of at least 1",
    "distill": "true or false",
    "temperature": "a positive number",
    "hard_weight": "between 0 and 1",
    "quantize": "a LiteRT version",
}
_BOUNDS = {
    "width": (0.0, 16.0),
    "depth": (1, 6),
    "stride": (1, 64),
    "kernel": (1, 255),
    "temperature": (0.0, 1e3),
    "hard_weight": (0.0, 1.0),
}


def parse_param(name: str, spec) -> tuple | Range:
    """A list of values (a tuple, checked, duplicates dropped) or a Range."""
    if isinstance(spec, list):
        if not spec:
            raise ConfigError(
                f"[space] {name} is empty; give at least one value (e.g. "
                f"{name} = [{_example(name)}]) or leave it out for the default"
            )
        return tuple(dict.fromkeys(check_value(name, v) for v in spec))
    if isinstance(spec, dict):
        if name in ("distill", "quantize"):
            raise ConfigError(f"[space] {name} takes a list of values, not a range")
        for key in spec:
            if key not in RANGE_KEYS:
                raise _unknown(key, f"[space] {name}", RANGE_KEYS)
        if "low" not in spec or "high" not in spec:
            raise ConfigError(
                f"[space] {name}: a range needs low and high, e.g. {{low = 0.5, high = 2.0}}"
            )
        lo, hi = check_value(name, spec["low"]), check_value(name, spec["high"])
        if lo > hi:
            raise ConfigError(
                f"[space] {name}: empty range (low {lo} > high {hi}); give low <= high"
            )
        step = spec.get("step")
        if step is not None and (
            isinstance(step, bool) or not isinstance(step, int | float) or step <= 0
        ):
            raise ConfigError(f"[space] {name}: step must be a positive number, not {step!r}")
        log = spec.get("log", False)
        if not isinstance(log, bool) or (log and lo <= 0):
            raise ConfigError(f"[space] {name}: log must be true or false (and needs low > 0)")
        return Range(lo, hi, step, log, integer=name in INTEGER_PARAMS)
    return (check_value(name, spec),)  # a single value


def _example(name: str) -> str:
    v = DEFAULT_POINT[name]
    return ("true" if v else "false") if isinstance(v, bool) else repr(v).replace("'", '"')


def load_sweep(path: str) -> SweepConfig:
    """Read and check a sweep file."""
    import os

    from ..tomlio import loads

    if not os.path.isfile(path):
        raise ConfigError(f"{path}: no such sweep file; check --config")
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it "
                          "as UTF-8") from exc  # fmt: skip
    return parse_sweep(loads(text, path), path)


def parse_sweep(table: dict, origin: str = "sweep.toml") -> SweepConfig:
    """A SweepConfig from a TOML-shaped dict; every mistake is one ConfigError naming ``origin``."""
    try:
        return _parse(table)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from exc


def _parse(table: dict) -> SweepConfig:
    top = {k: v for k, v in table.items() if k not in ("data", "train", "space")}
    known = [k for k in SweepConfig.__dataclass_fields__]
    for key in top:
        if key not in known:
            raise _unknown(key, "the sweep file", known)
    for key in ("devices", "tables"):
        if key in top:
            if not isinstance(top[key], list) or not all(isinstance(x, str) for x in top[key]):
                raise ConfigError(f"{key} must be a list of names, not {top[key]!r}")
            top[key] = tuple(top[key])
    for key in ("search", "rank"):
        if key in top and not isinstance(top[key], str):
            raise ConfigError(f"{key} must be a string, not {top[key]!r}")
    for key in ("budget", "seed", "cpus_per_trial", "workers", "max_failures"):
        if key in top and (isinstance(top[key], bool) or not isinstance(top[key], int)):
            raise ConfigError(f"{key} must be an integer, not {top[key]!r}")
    if "measure" in top and not isinstance(top["measure"], bool):
        raise ConfigError(f"measure must be true or false, not {top['measure']!r}")
    if "min_balanced_accuracy" in top:
        v = top["min_balanced_accuracy"]
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
            raise ConfigError("min_balanced_accuracy is a fraction between 0 and 1")
        top["min_balanced_accuracy"] = float(v)
    data = _scalars(DataSpec, _table(table.get("data", {}), "[data]"), "[data]")
    train = _scalars(TrainSpec, _table(table.get("train", {}), "[train]"), "[train]")
    space_table = _table(table.get("space", {}), "[space]")
    for key in space_table:
        if key not in PARAMS:
            raise _unknown(key, "[space]", PARAMS)
    space = {name: parse_param(name, space_table[name]) for name in PARAMS if name in space_table}
    cfg = SweepConfig(**top, data=data, train=train, space=space)
    check_sweep(cfg)
    return cfg


def check_sweep(cfg: SweepConfig) -> None:
    """What a sweep needs besides well-formed keys (devices are checked against the profiles)."""
    from ..data.sources import parse_source
    from ..devices.profile import load_profiles
    from ..energy.tables import load_table

    if cfg.search not in SEARCHES:
        raise ConfigError(f"search {cfg.search!r}: choose {', '.join(SEARCHES)}")
    if cfg.budget < 1:
        raise ConfigError(
            f"budget {cfg.budget}: a sweep needs at least one trial; give budget >= 1"
        )
    if cfg.cpus_per_trial < 1 or cfg.workers < 0 or cfg.max_failures < 0:
        raise ConfigError("cpus_per_trial must be >= 1, workers and max_failures >= 0")
    parse_source(cfg.data.source)
    t = cfg.train
    if min(t.teacher_epochs, t.epochs, t.batch_size, t.representative_windows) < 1:
        raise ConfigError("[train] epochs, batch_size and representative_windows must be >= 1")
    if not cfg.tables:
        raise ConfigError("tables is empty; name at least one energy table (e.g. horowitz-45nm)")
    for name in cfg.tables:
        load_table(name)
    load_profiles(cfg.devices)  # an unknown name is one line listing the known ones
    device = cfg.rank_device
    if cfg.rank != "estimate" and device is None:
        raise ConfigError(f'rank {cfg.rank!r}: choose "estimate" or "device:NAME"')
    if device is not None and device not in cfg.devices:
        raise ConfigError(
            f"rank {cfg.rank!r}: {device} is not in devices; add it to devices or "
            'rank on "estimate"'
        )
    if cfg.search == "grid":
        for name, spec in cfg.space.items():
            if isinstance(spec, Range) and spec.step is None:
                raise ConfigError(
                    f"[space] {name}: a grid needs a list, or a range with a step "
                    "(e.g. {low = 0.5, high = 2.0, step = 0.5})"
                )


def normalise(point: dict) -> dict:
    """A trial's settings in full (defaults for what the space leaves out); without distillation
    the temperature and hard-label weight do not apply and are None, so grid points that differ
    only there are one trial."""
    out = {**DEFAULT_POINT, **point}
    out = {k: out[k] for k in PARAMS}
    if not out["distill"]:
        out["temperature"] = out["hard_weight"] = None
    return out


def grid_points(space: dict) -> list[dict]:
    """Every combination of the listed values (ranges by their steps), in the file's order of
    settings and values; duplicates (after ``normalise``) kept once.

    >>> [(p["width"], p["depth"]) for p in grid_points({"width": (0.5, 1.0), "depth": (2, 3)})]
    [(0.5, 2), (0.5, 3), (1.0, 2), (1.0, 3)]"""
    names = list(space)
    lists = [space[n].values() if isinstance(space[n], Range) else list(space[n]) for n in names]
    seen, out = set(), []
    for combo in itertools.product(*lists):
        point = normalise(dict(zip(names, combo)))
        key = tuple(point.items())
        if key not in seen:
            seen.add(key)
            out.append(point)
    return out


def sample_value(spec, rng: np.random.Generator):
    """One draw: a list's value uniformly, a range uniformly (or log-uniformly), ints inclusive."""
    if not isinstance(spec, Range):
        return spec[int(rng.integers(len(spec)))]
    if spec.integer:
        return int(rng.integers(int(spec.low), int(spec.high) + 1))
    if spec.log:
        return float(math.exp(rng.uniform(math.log(spec.low), math.log(spec.high))))
    return float(rng.uniform(spec.low, spec.high))


def random_points(space: dict, n: int, seed: int) -> list[dict]:
    """``n`` points drawn independently (seeded): the same seed gives the same trials."""
    rng = np.random.default_rng(seed)
    return [
        normalise({name: sample_value(spec, rng) for name, spec in space.items()}) for _ in range(n)
    ]


def planned_points(cfg: SweepConfig) -> tuple[list[dict], str]:
    """(the trials a grid or random search runs, a note): a grid larger than the budget runs its
    first ``budget`` points, and the note says so. Model-based search plans none in advance."""
    if cfg.search == "optuna":
        return [], f"model-based (Optuna TPE) search, {cfg.budget} trials"
    if cfg.search == "random":
        return random_points(cfg.space, cfg.budget, cfg.seed), f"{cfg.budget} random points"
    grid = grid_points(cfg.space)
    if len(grid) > cfg.budget:
        return grid[: cfg.budget], (
            f"the grid has {len(grid)} points; the budget runs the first {cfg.budget}"
        )
    return grid, f"a grid of {len(grid)} points"
