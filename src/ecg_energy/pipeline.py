"""`ecg-energy run`: the evaluation's stages over one run folder, resumable.

Stages, in order: synth -> data -> crossval (only with folds) -> train -> distil -> quantize ->
count -> estimate -> measure -> evaluate -> device (only with boards to price on) -> report. Each
stage's key hashes its configuration and the content of its inputs (see ``ledger``); a re-run
skips a stage whose key and outputs are unchanged, and ``force`` redoes named stages. Every output is written atomically and ``run.json`` is rewritten after each stage, so an
interrupted run keeps what it finished and the next run resumes from there.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from ._version import __version__
from .config import RunConfig, to_dict
from .data.dataset import Dataset, Split, split_by_record
from .data.fingerprint import data_key, dataset_digest, source_fingerprint
from .data.sources import ensure_synth, load_sources, parse_source, synth_folder
from .data.summary import summarize
from .energy.estimate import estimate_variants
from .energy.load import machine_facts
from .errors import ConfigError
from .fsio import atomic_write_json, read_json
from .ledger import Ledger, file_digest, key_of
from .models.io import variant_names
from .ops.files import count_variants
from .preflight import preflight
from .rundir import STAGES, check_force, check_run_dir
from .runlock import run_lock

MODEL_STAGES = ("train", "distil", "quantize")
STAGE_OUTPUTS = {"data": "dataset.json", "count": "counts.json", "estimate": "estimates.json",
                 "measure": "measurements.json", "evaluate": "evaluation.json",
                 "device": "device.json", "crossval": "crossval.json"}  # fmt: skip
REPORT_FILES = ("results.json", "results.csv", "report.md", "report.html")
SEED_SKIP = ("student-plain",)  # not in the report's table
DEPLOY_FRACTIONS = (0.8, 0.2, 0.0)  # with folds: the deployed models' train / validation records

__all__ = ["RunConfig", "RunOutcome", "run"]


@dataclass(frozen=True)
class RunOutcome:
    out_dir: str
    stages_run: tuple[str, ...]
    stages_skipped: tuple[str, ...]
    results: dict
    warnings: tuple[str, ...]
    seconds: dict[str, float]


def _rel(out: str, path: str) -> str:
    return os.path.relpath(path, out)


def run(cfg: RunConfig, out: str, echo: Callable[[str], None] = print,
        force=frozenset()) -> RunOutcome:  # fmt: skip
    """Run (or resume) the evaluation in ``out``; returns what ran, what was skipped, the results.

    A new run folder that fails before any stage finished is removed, so no half-written folder
    is left behind; otherwise every finished stage stays finished.
    """
    force = check_force(force)
    check_run_dir(out)
    preflight(cfg)
    created = not os.path.exists(out)
    os.makedirs(out, exist_ok=True)
    # a second run in the same folder is refused here, before it changes anything
    with run_lock(out) as stale:
        check_run_dir(out)  # again, now that no other run can be changing it
        if stale:
            echo(f"  removed what an interrupted run left half-written: {', '.join(stale)}")
        return _locked_run(cfg, out, echo, force, created)


def _locked_run(cfg: RunConfig, out: str, echo, force, created: bool) -> RunOutcome:
    header = {"tool": "ecg-energy", "version": __version__, "config": to_dict(cfg),
              "machine": machine_facts()}  # fmt: skip
    ledger = Ledger(out, header, force)
    ledger.write()

    def stage(name: str, key: str, work: Callable[[], tuple[list[str], dict]]) -> dict:
        """Skip ``name`` when fresh, else run ``work`` -> (outputs, info) and record it."""
        tag = f"[{STAGES.index(name) + 1}/{len(STAGES)}] {name}"
        if ledger.fresh(name, key):
            echo(f"{tag}: unchanged, skipped")
            ledger.skip(name)
            return ledger.info(name)
        echo(f"{tag}: running")
        ledger.forget(name)
        t0 = time.perf_counter()
        outputs, info = work()
        ledger.done(name, key, time.perf_counter() - t0, outputs, info)
        return info

    try:
        return _run_stages(cfg, out, echo, ledger, stage)
    except BaseException:
        if created and not ledger.ran:
            shutil.rmtree(out, ignore_errors=True)
        raise


def _run_stages(cfg: RunConfig, out: str, echo, ledger: Ledger, stage) -> RunOutcome:
    cache = os.path.join(out, "data")
    warnings: list[str] = []

    # synth: the embedded database, generated once per configuration
    synth_cfgs = [replace(cfg.synth, seed=parse_source(s).seed) for s in cfg.data
                  if parse_source(s).kind == "synth"]  # fmt: skip
    synth_key = key_of("synth", [asdict(s) for s in synth_cfgs])
    if synth_cfgs:

        def make_synth():
            folders = []
            for syn in synth_cfgs:
                folder, made = ensure_synth(syn, synth_folder(cache, syn),
                                            lambda d, t: echo(f"  synth: record {d}/{t}"))  # fmt: skip
                echo(f"  synth: {'made' if made else 'reusing'} {folder}")
                folders.append(_rel(out, folder))
            return folders, {}

        stage("synth", synth_key, make_synth)

    # data: windows and labels, split by record; loaded only when a stage needs the arrays
    loaded: dict = {}

    def dataset() -> tuple[Dataset, Split]:
        if "ds" not in loaded:
            ds, warns = load_sources(list(cfg.data), cfg.read, cache, cfg.synth)
            # with folds, the deployed models learn from every record (validation records for
            # model selection only); the accuracy is the cross-validation's
            fractions = DEPLOY_FRACTIONS if cfg.folds else cfg.split_fractions
            loaded.update(ds=ds, split=split_by_record(ds, fractions, cfg.split_seed))
            warnings.extend(warns)
        return loaded["ds"], loaded["split"]

    def held_out() -> Dataset:
        """The windows measured and run on TFLM: the test records, or with folds (no test
        records) the validation records."""
        ds, split = dataset()
        return ds.subset(split.test if len(split.test) else split.val)

    fractions = DEPLOY_FRACTIONS if cfg.folds else cfg.split_fractions
    dkey = key_of("data", list(cfg.data), asdict(cfg.read), synth_key, list(fractions),
                  cfg.split_seed, [source_fingerprint(s) for s in cfg.data])  # fmt: skip

    def make_data():
        ds, split = dataset()
        atomic_write_json(os.path.join(out, "dataset.json"),
                          {**summarize(ds, split), "warnings": list(warnings)})  # fmt: skip
        return ["dataset.json"], {"digest": dataset_digest(ds, split), "key": data_key(ds, split)}

    data_info = stage("data", dkey, make_data)
    data_digest = data_info["digest"]

    def hard_negatives():
        """(windows, labels, what) of cfg.hard_negatives for training, or None; read once."""
        if not cfg.hard_negatives:
            return None
        if "negatives" not in loaded:
            import numpy as np

            from .data.alarms import false_alarm_windows

            ds, _ = dataset()
            hn = false_alarm_windows(cfg.hard_negatives, window_s=cfg.read.window_s,
                                     stride_s=cfg.read.stride_s, fs_hz=ds.fs_hz)  # fmt: skip
            if "ONS" not in ds.class_names:
                raise ConfigError(f"hard_negatives {cfg.hard_negatives}: false alarms train "
                                  "rhythm models (class ONS); this data has classes "
                                  f"{', '.join(ds.class_names)}")  # fmt: skip
            echo(f"  hard negatives: {len(hn.X)} windows before {hn.alarms} false VT and VF/VFL "
                 f"alarms of {cfg.hard_negatives}, trained on as other non-shockable")  # fmt: skip
            what = f"false VT/VF alarms of {os.path.abspath(cfg.hard_negatives)}"
            ons = ds.class_names.index("ONS")
            loaded["negatives"] = (hn.X, np.full(len(hn.X), ons, dtype=ds.y.dtype), what)
        return loaded["negatives"]

    # what the hard negatives add to every model's key: their folder's content
    hn_key = [source_fingerprint(f"wfdb:{cfg.hard_negatives}")] if cfg.hard_negatives else []

    # crossval: every record tested once by models built without it (folds/<k>/)
    if cfg.folds:

        def make_crossval():
            from .models.crossval import cross_validate

            ds, _ = dataset()
            result = cross_validate(ds, cfg.folds, cfg.split_seed, cfg.models,
                                    os.path.join(out, "folds"), echo,
                                    redo=MODEL_STAGES if "crossval" in ledger.force
                                    else frozenset(), unsafe=cfg.unsafe_load,
                                    decide_over=cfg.decision_windows,
                                    extra_train=hard_negatives())  # fmt: skip
            atomic_write_json(os.path.join(out, "crossval.json"), result)
            return ["crossval.json"], {}

        # earlier runs' keys hold
        decision = [cfg.decision_windows] if cfg.decision_windows != 1 else []
        from .models.variants import train_settings

        models_key = {**asdict(cfg.models), "train": train_settings(cfg.models.train)}
        stage("crossval", key_of("crossval", data_digest, models_key, cfg.folds,
                                 cfg.split_seed, user_files(cfg.models), *decision,
                                 *hn_key),
              make_crossval)  # fmt: skip

    # train, distil, quantize: the built-in variants (model files reused by their build keys)
    paths, variants = _model_stages(cfg, out, echo, ledger, stage, dataset, data_info,
                                    hard_negatives, hn_key)  # fmt: skip
    built_names = {v["name"] for v in variants}
    paths = paths + list(cfg.user_models)
    models = [[name, _rel(out, p) if p.startswith(out) else p, file_digest(p)]
              for name, p in variant_names(paths).items()]  # fmt: skip

    # count -> estimate
    def make_counts():
        counted = count_variants(paths, cfg.unsafe_load)
        atomic_write_json(os.path.join(out, "counts.json"),
                          {name: c.as_dict() for name, c in counted.items()})  # fmt: skip
        loaded["counted"] = counted
        return ["counts.json"], {}

    stage("count", key_of("count", models, cfg.unsafe_load), make_counts)

    def make_estimates():
        from .ops.files import counts_from_dict

        counted = loaded.get("counted") or {
            name: counts_from_dict(d) for name, d in _read(out, "counts.json").items()
        }
        atomic_write_json(os.path.join(out, "estimates.json"),
                          estimate_variants(counted, cfg.tables, cfg.buffer_bytes))  # fmt: skip
        return ["estimates.json"], {}

    stage("estimate", key_of("estimate", file_digest(os.path.join(out, "counts.json")),
                             list(cfg.tables), cfg.buffer_bytes), make_estimates)  # fmt: skip

    # measure: energy and latency on held-out windows (CodeCarbon's rows go to emissions.csv);
    # measurements.json is rewritten after every round, and a killed measurement resumes there
    mkey = key_of("measure", models, data_digest, asdict(cfg.protocol), cfg.meter,
                  cfg.tracking_mode, cfg.float_runtime, cfg.compare_runtimes,
                  list(cfg.batches), cfg.country, cfg.carbon_intensity, cfg.threads,
                  cfg.seed_protocol, cfg.seed_inferences, cfg.settle_rounds)  # fmt: skip
    target = os.path.join(out, "measurements.json")

    def make_measurements():
        from .energy.measure import choose_meter, measure_files
        from .energy.settle import Settle

        ds, split = dataset()
        previous = _read(out, "measurements.json") if os.path.isfile(target) else {}
        resume = (previous if previous.get("inputs_key") == mkey and previous.get("interrupted")
                  and previous.get("rounds_done") and "measure" not in ledger.force else None)  # fmt: skip
        meter = choose_meter(cfg.meter, cfg.country, out, None, echo, cfg.tracking_mode)
        test = held_out()
        result = measure_files(paths, test, meter, cfg.protocol, cfg.batches,
                               cfg.threads, cfg.country, cfg.carbon_intensity, cfg.unsafe_load,
                               echo, checkpoint=lambda partial: atomic_write_json(
                                   target, {**partial, "inputs_key": mkey}),
                               resume=resume, float_runtime=cfg.float_runtime,
                               compare_runtimes=cfg.compare_runtimes,
                               stop=Settle(cfg.settle_rounds) if cfg.settle_rounds else None)  # fmt: skip
        result["inputs_key"] = mkey
        if cfg.seed_protocol and not result.get("interrupted"):
            from .energy.measure import measure_seed

            # the report's models (and ours), run as the report ran them; the plain student is
            # our control, not the report's, and Keras predict costs ~40 ms a call
            seeded = [p for n, p in variant_names(paths).items()
                      if n in built_names and n not in SEED_SKIP]  # fmt: skip
            echo(f"  measure: the report's method (one CodeCarbon window, {cfg.seed_inferences} "
                 "inferences each, Keras predict per sample)")  # fmt: skip
            result["seed"] = measure_seed(seeded, test, cfg.country, out, cfg.threads,
                                          cfg.unsafe_load, echo, cfg.seed_inferences,
                                          cfg.tracking_mode, cfg.carbon_intensity)  # fmt: skip
        atomic_write_json(os.path.join(out, "measurements.json"), result)
        if result.get("interrupted"):  # the finished trials are kept; the stage is not done
            raise KeyboardInterrupt
        return ["measurements.json"], {}

    stage("measure", mkey, make_measurements)

    # evaluate: accuracy, per-class metrics and the AHA goals on the held-out records
    def make_evaluation():
        from .models.assess import evaluate_files

        ds, split = dataset()
        if cfg.folds:  # the deployed models saw every record: their accuracy is the pooled CV's
            cv = _read(out, "crossval.json")
            evaluation = {"split": "cross-validation", "records": sorted(set(ds.groups.tolist())),
                          "folds": cfg.folds, "records_by_fold": cv["records_by_fold"],
                          "spread": cv["spread"], "per_fold": cv["folds"],
                          "variants": cv["variants"]}  # fmt: skip
            if cfg.user_models:  # a user's own models were not built per fold: every record
                evaluation["variants"].update(evaluate_files(list(cfg.user_models), ds,
                                                             unsafe=cfg.unsafe_load, echo=echo,
                                                             decide_over=cfg.decision_windows))  # fmt: skip
        else:
            evaluation = {"split": "test", "records": list(split.records["test"]),
                          "variants": evaluate_files(paths, ds.subset(split.test),
                                                     unsafe=cfg.unsafe_load, echo=echo,
                                                     decide_over=cfg.decision_windows)}  # fmt: skip
        if cfg.alarms:  # the deployed models at the ICU alarms of cfg.alarms
            from .models.alarm_score import evaluate_alarm_folder

            evaluation["alarms"] = evaluate_alarm_folder(paths, cfg.alarms,
                                                         window_s=cfg.read.window_s,
                                                         stride_s=cfg.read.stride_s,
                                                         unsafe=cfg.unsafe_load, echo=echo)  # fmt: skip
        atomic_write_json(os.path.join(out, "evaluation.json"), evaluation)
        return ["evaluation.json"], {}

    ekey = [file_digest(os.path.join(out, "crossval.json"))] if cfg.folds else []
    ekey += [cfg.decision_windows] if cfg.decision_windows != 1 else []
    ekey += [os.path.abspath(cfg.alarms)] if cfg.alarms else []
    stage("evaluate", key_of("evaluate", models, data_digest, *ekey), make_evaluation)

    # device: every variant on the chosen boards (TFLM's arena and agreement on test windows)
    if cfg.device.names:
        from .devices.profile import load_profiles
        from .devices.tflm import available as tflm_version

        profiles = load_profiles(cfg.device.names)

        def make_device():
            from .devices.assess import assess
            from .ops.files import counts_from_dict

            counted = loaded.get("counted") or {
                name: counts_from_dict(d) for name, d in _read(out, "counts.json").items()
            }
            result = assess(variant_names(paths), profiles, cfg.device, held_out().X,
                            counted, echo, unsafe=cfg.unsafe_load)  # fmt: skip
            atomic_write_json(os.path.join(out, "device.json"), result)
            return ["device.json"], {}

        stage("device", key_of("device", models, data_digest, asdict(cfg.device),
                               [p.__dict__ for p in profiles], tflm_version()), make_device)  # fmt: skip
    elif os.path.exists(os.path.join(out, "device.json")):
        os.remove(os.path.join(out, "device.json"))  # boards no longer asked for

    # report: results.json from the stage outputs, then results.csv, report.md and report.html
    from .report.render import render_all
    from .results import build_results

    inputs = [
        *STAGE_OUTPUTS.values(),
        os.path.join("models", "variants.json"),
        "device_imports.json",
    ]
    rkey = key_of("report", [file_digest(os.path.join(out, p)) for p in inputs
                             if os.path.exists(os.path.join(out, p))],
                  to_dict(cfg), ledger.header["machine"])  # fmt: skip

    def make_report():
        results = build_results(out, cfg, ledger.header["machine"], variants)
        atomic_write_json(os.path.join(out, "results.json"), results)
        render_all(results, out)
        return list(REPORT_FILES), {}

    stage("report", rkey, make_report)
    results = _read(out, "results.json")
    seconds = {s: ledger.records[s]["seconds"] for s in ledger.ran}
    return RunOutcome(out, tuple(ledger.ran), tuple(ledger.skipped), results, tuple(warnings),
                      seconds)  # fmt: skip


def _read(out: str, name: str):
    stage = next((s for s, f in STAGE_OUTPUTS.items() if f == name), "report")
    return read_json(os.path.join(out, name), f"run again with --force {stage}")


def user_files(models) -> dict[str, str | None]:
    """The content digests of the user's original and student files (None: not given)."""
    return {k: file_digest(p) if p and os.path.isfile(p) else None
            for k, p in (("original", models.original), ("student", models.student))}  # fmt: skip


def _model_stages(cfg: RunConfig, out: str, echo, ledger: Ledger, stage, dataset, data_info,
                  hard_negatives, hn_key):  # fmt: skip
    """Train, distil and quantize. Each stage's key covers the data, the training settings and
    the content of the parent models; when all three are fresh no model is loaded at all."""
    from .models.quantize import MODES
    from .models.variants import train_settings

    models_dir = os.path.join(out, "models")
    listing = os.path.join(models_dir, "variants.json")
    # what shapes the models besides the data: the training settings, the preprocessing and the
    # content of the user's original and student files (--original, --student)
    train = [train_settings(cfg.models.train), cfg.models.preprocessing, user_files(cfg.models),
             *hn_key]  # fmt: skip

    def digest(name: str, ext: str = ".keras") -> str | None:
        p = os.path.join(models_dir, name + ext)
        return file_digest(p) if os.path.isfile(p) else None

    def keys() -> dict[str, str]:
        return {
            "train": key_of("train", data_info["digest"], train),
            "distil": key_of("distil", data_info["digest"], train, digest("original")),
            "quantize": key_of(
                "quantize",
                data_info["digest"],
                list(cfg.models.quantize),
                cfg.models.representative_windows,
                digest("original"),
                digest("distilled"),
            ),  # fmt: skip
        }

    before = keys()
    if os.path.isfile(listing) and all(ledger.fresh(s, before[s]) for s in MODEL_STAGES):
        for s in MODEL_STAGES:
            echo(f"[{STAGES.index(s) + 1}/{len(STAGES)}] {s}: unchanged, skipped")
            ledger.skip(s)
        with open(listing) as fh:
            variants = json.load(fh)
        return [os.path.join(out, v["path"]) for v in variants], variants

    from .models.variants import build_variants

    ds, split = dataset()
    tr, va = ds.subset(split.train), ds.subset(split.val)
    redo = frozenset(s for s in MODEL_STAGES if s in ledger.force)
    echo(f"[{STAGES.index('train') + 1}/{len(STAGES)}] train, distil, quantize: running")
    for s in MODEL_STAGES:
        ledger.forget(s)
    t0 = time.perf_counter()
    built = build_variants(tr.X, tr.y, va.X, va.y, ds.class_names, ds.task, data_info["key"],
                           cfg.models, models_dir, echo, redo=redo,
                           unsafe=cfg.unsafe_load, extra_train=hard_negatives())  # fmt: skip
    total = time.perf_counter() - t0
    variants = [{**v.as_dict(), "path": _rel(out, v.path)} for v in built]
    atomic_write_json(listing, variants)
    after = keys()
    members = {"train": ("original", "student-plain"), "distil": ("distilled",),
               "quantize": tuple(f"{p}-{m}" for p in ("original", "distilled") for m in MODES)}  # fmt: skip
    for s in MODEL_STAGES:
        mine = [v for v in built if v.name in members[s]]
        files = [_rel(out, v.path) for v in mine] + [_rel(out, listing)]
        reused = all(v.reused for v in mine)
        if reused:
            spent = 0.0
        elif s == "quantize":  # what building took beyond the training of new models
            spent = max(0.0, total - sum(v.train_seconds for v in built if not v.reused))
        else:
            spent = sum(v.train_seconds for v in mine)
        ledger.done(s, after[s], spent, files, {}, ran=not reused)
    return [v.path for v in built], variants
