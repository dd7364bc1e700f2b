"""Model commands: train, evaluate."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..errors import ConfigError
from .common import (
    AnnOpt,
    DecideOpt,
    EdgeGuardOpt,
    EpochsOpt,
    LeadOpt,
    OriginalOpt,
    PreprocessOpt,
    QuantOpt,
    SplitOpt,
    StrideOpt,
    StudentOpt,
    TaskOpt,
    UnsafeOpt,
    WindowOpt,
    _echo,
    _models_config,
    _read_options,
    app,
)


@app.command()
def train(
    data_src: Annotated[
        list[str] | None,
        typer.Option("--data", help="Data source, repeatable (one dataset); default synth:0."),
    ] = None,
    out: Annotated[
        str, typer.Option(help="Folder for the models (its models/ subfolder).")
    ] = "runs/default",
    task: TaskOpt = "rhythm",
    lead: LeadOpt = None,
    window_s: WindowOpt = 4.0,
    stride_s: StrideOpt = 2.0,
    annotator: AnnOpt = "atr",
    split: SplitOpt = "auto",
    edge_guard: EdgeGuardOpt = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the split and of training.")] = 0,
    epochs: EpochsOpt = None,
    quantize: QuantOpt = "int8",
    temperature: Annotated[float, typer.Option(help="Distillation temperature.")] = 4.0,
    hard_weight: Annotated[
        float, typer.Option(help="Weight of the label loss in distillation (rest: teacher).")
    ] = 0.5,
    folds: Annotated[
        int, typer.Option(help="Cross-validate by record with K folds first (0: no).")
    ] = 0,
    decide_over: DecideOpt = 1,
    original: OriginalOpt = None,
    student: StudentOpt = None,
    preprocess: PreprocessOpt = None,
    unsafe_load: UnsafeOpt = False,
) -> None:
    """Train the original (or take yours), distil the student (and its plain control), quantize
    with LiteRT."""
    from dataclasses import replace

    from ..data.dataset import split_by_record
    from ..data.fingerprint import data_key
    from ..data.sources import load_sources
    from ..models.variants import build_variants
    from ..rundir import check_run_dir, mark_run_dir

    check_run_dir(out)
    cfg = _models_config(epochs, quantize, seed)
    try:
        cfg = replace(cfg, train=replace(cfg.train, temperature=temperature,
                                         student_loss_weight=hard_weight),
                      original=original, student=student, preprocessing=preprocess)  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    from ..config import RunConfig
    from ..preflight import preflight

    sources = tuple(data_src or ["synth"])
    preflight(replace(RunConfig(), data=sources, models=cfg))  # the files, before any work
    opts = _read_options(task, lead, window_s, stride_s, annotator, split, edge_guard)
    ds, warnings = load_sources(list(sources), opts, os.path.join(out, "data"))
    for w in warnings:
        _echo(f"warning: {w}")
    if folds:
        from ..fsio import atomic_write_json
        from ..models.crossval import cross_validate
        from ..pipeline import DEPLOY_FRACTIONS

        if decide_over < 1:
            raise ConfigError("--decide-over must be at least 1 window (1: each window alone)")
        cv = cross_validate(ds, folds, seed, cfg, os.path.join(out, "folds"), _echo,
                            unsafe=unsafe_load, decide_over=decide_over)  # fmt: skip
        atomic_write_json(os.path.join(out, "crossval.json"), cv)
        _print_pooled(cv)
        sp = split_by_record(ds, DEPLOY_FRACTIONS, seed=seed)  # deployed: every record
    else:
        sp = split_by_record(ds, seed=seed)
    tr, va = ds.subset(sp.train), ds.subset(sp.val)
    variants = build_variants(tr.X, tr.y, va.X, va.y, ds.class_names, ds.task, data_key(ds, sp), cfg,
                              os.path.join(out, "models"), _echo, unsafe=unsafe_load)  # fmt: skip
    typer.echo(
        f"{'variant':<22}{'format':>8}{'precision':>10}{'KiB':>9}{'train s':>9}{'epochs':>8}"
    )
    for v in variants:
        kib = os.path.getsize(v.path) / 1024
        yours = {"user-original": "  (yours)", "from-user-original": "  (from yours)"}
        typer.echo(f"{v.name:<22}{v.format:>8}{v.precision:>10}{kib:>9.1f}{v.train_seconds:>9.1f}"
                   f"{v.epochs:>8}{yours.get(v.source, '')}")  # fmt: skip
    mark_run_dir(out, {"made_by": "ecg-energy train", "stages": {}})
    typer.echo(f"models in {os.path.join(os.path.abspath(out), 'models')}")


@app.command()
def evaluate(
    models: Annotated[
        list[str],
        typer.Argument(help="Model files (.keras, .h5, .tflite, .onnx), or folders of them."),
    ],
    data_src: Annotated[
        list[str] | None,
        typer.Option("--data", help="Data source, repeatable (one dataset); default synth:0."),
    ] = None,
    task: TaskOpt = "rhythm",
    lead: LeadOpt = None,
    window_s: WindowOpt = 4.0,
    stride_s: StrideOpt = 2.0,
    annotator: AnnOpt = "atr",
    split: SplitOpt = "auto",
    edge_guard: EdgeGuardOpt = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the record-wise split.")] = 0,
    on: Annotated[
        str,
        typer.Option(
            help="auto (all, unless the models were trained on this data: then its "
            "held-out test records), test or all."
        ),
    ] = "auto",
    preprocess: Annotated[
        str | None,
        typer.Option(help="Override the input preprocessing: none, mulaw or bandpass-mulaw."),
    ] = None,
    unsafe_load: UnsafeOpt = False,
    cache: Annotated[str, typer.Option(help="Where synth: databases are kept.")] = "runs/cache",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metrics as JSON on stdout.")
    ] = False,
    folds: Annotated[
        int, typer.Option(help="Also score K record folds of the data, for the spread (0: no).")
    ] = 0,
    decide_over: DecideOpt = 1,
    alarms: Annotated[
        str | None,
        typer.Option(
            help="Also score the models at the ICU alarms of this folder (records and "
            "an ALARMS file of record,alarm type,1|0 lines; the Challenge 2015 "
            "layout). Without --data, only the alarms."
        ),
    ] = None,
    alarm_at: Annotated[
        float | None,
        typer.Option(
            help="The alarm's time in each alarm record, seconds (default: the "
            "header's 'alarm is at N s', else 300 as in the Challenge)."
        ),
    ] = None,
    alarm_windows: Annotated[
        int,
        typer.Option(
            help="Windows of the 16 s before an alarm that must be called "
            "shockable (asystole) to call the alarm true."
        ),
    ] = 1,
) -> None:
    """Evaluate model files on held-out records: per-class metrics and the AHA goals; with
    --alarms, also their Challenge 2015 score at ICU alarms."""
    from ..api import check_evaluate_options, load_data
    from ..api import evaluate as evaluate_models
    from ..report.text import format_evaluation

    check_evaluate_options(on, preprocess, decide_over)
    if alarms is not None and not data_src:  # options of --data windows only: none may be lost
        given = [flag for flag, value, default in (
            ("--task", task, "rhythm"), ("--lead", lead, None), ("--annotator", annotator, "atr"),
            ("--split", split, "auto"), ("--edge-guard", edge_guard, 0.0), ("--on", on, "auto"),
            ("--folds", folds, 0), ("--decide-over", decide_over, 1)) if value != default]  # fmt: skip
        if given:
            raise ConfigError(f"{', '.join(given)} apply to --data records; at --alarms each "
                              "alarm is decided over the 16 s before it (--alarm-windows); add "
                              "--data or leave them out")  # fmt: skip
    if alarms is not None:
        from ..api import evaluate_alarms
        from ..report.alarms import format_alarms

        scored = evaluate_alarms(models, alarms, window_s=window_s, stride_s=stride_s,
                                 alarm_at_s=alarm_at, min_windows=alarm_windows,
                                 preprocess=preprocess, unsafe_load=unsafe_load,
                                 echo=_echo)  # fmt: skip
        if not data_src:
            if as_json:
                from ..fsio import to_json

                typer.echo(to_json(scored))
            else:
                typer.echo(format_alarms(scored))
            return
    sources = list(data_src or ["synth"])
    ds = load_data(*sources, task=task, lead=lead, window_s=window_s, stride_s=stride_s,
                   annotator=annotator, split=split, cache=cache,
                   edge_guard_s=edge_guard)  # fmt: skip
    ev = evaluate_models(models, ds, on=on, seed=seed, preprocess=preprocess, folds=folds,
                         unsafe_load=unsafe_load, echo=_echo, decide_over=decide_over)  # fmt: skip
    data_text = " + ".join(sources)
    results = ev.variants
    if as_json:
        from ..fsio import to_json

        extra = {"alarms": scored} if alarms is not None else {}
        typer.echo(to_json({**ev.data, "data": data_text, **extra}))
    else:
        typer.echo(f"{ev.data['examples']} examples ({ev.data['on']}) from {data_text}")
        typer.echo(format_evaluation(results))
        from ..report.alarms import format_breakdown

        for line in format_breakdown(results):
            typer.echo(line)
        for name, r in results.items():
            if r.get("folds"):
                bal = [f["balanced_accuracy"] for f in r["folds"]]
                typer.echo(f"{name}: balanced accuracy over {len(bal)} record folds "
                           f"{100 * min(bal):.1f}%-{100 * max(bal):.1f}%")  # fmt: skip
        if alarms is not None:
            typer.echo(format_alarms(scored))


@app.command()
def quantize(
    model: Annotated[str, typer.Argument(help="A .keras, .h5 or .onnx model file.")],
    data_src: Annotated[
        list[str] | None,
        typer.Option("--data", help="Data whose training records calibrate it; default synth."),
    ] = None,
    mode: Annotated[
        str,
        typer.Option(
            help="LiteRT versions of a Keras model: int8[,fp16,dynamic,fp32]; "
            "an ONNX model: int8 (QDQ)."
        ),
    ] = "int8",
    out: Annotated[
        str | None, typer.Option(help="Folder for the files (default: beside the model).")
    ] = None,
    preprocess: PreprocessOpt = None,
    windows: Annotated[int, typer.Option(help="Calibration windows (class-balanced).")] = 1000,
    task: TaskOpt = "rhythm",
    seed: Annotated[int, typer.Option(help="Seed of the record-wise split.")] = 0,
    unsafe_load: UnsafeOpt = False,
    cache: Annotated[str, typer.Option(help="Where synth: databases are kept.")] = "runs/cache",
) -> None:
    """Quantize a model of yours, calibrated on training records of the data: LiteRT versions of
    a Keras model, an INT8 (QDQ) version of an ONNX model."""
    from ..api import load_data
    from ..api import quantize as quantize_model

    if windows < 1:
        raise ConfigError("--windows must be at least 1")
    ds = load_data(*(data_src or ["synth"]), task=task, cache=cache)
    for path in quantize_model(model, ds, modes=mode, out=out, preprocess=preprocess,
                               windows=windows, seed=seed, unsafe_load=unsafe_load,
                               echo=_echo):  # fmt: skip
        typer.echo(path)


def _print_pooled(cv: dict) -> None:
    """The cross-validation's pooled shock decision and AHA verdict per variant."""
    typer.echo(f"cross-validation by record, {cv['k']} folds (every record tested once):")
    for name, m in cv["variants"].items():
        sd = m.get("shock_decision") or {}
        sens, spec = sd.get("sensitivity"), sd.get("specificity")
        words = "n/a" if sens is None or spec is None else f"{100 * sens:.1f}% / {100 * spec:.1f}%"
        typer.echo(f"  {name:<16} balanced accuracy {m['balanced_accuracy']:.4f}  shock "
                   f"sensitivity / specificity {words}  AHA "
                   f"{'pass' if m.get('aha_all_pass') else 'FAIL'}")  # fmt: skip
