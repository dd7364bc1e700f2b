"""The run command (the whole evaluation into a run folder) and the report command (its reports
again, from results.json alone)."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from ..errors import ConfigError, DataError
from .common import (
    AnnOpt,
    LeadOpt,
    OriginalOpt,
    PreprocessOpt,
    SplitOpt,
    StrideOpt,
    StudentOpt,
    TaskOpt,
    WindowOpt,
    _batches,
    _echo,
    app,
)

Opt = typer.Option


@app.command()
def run(
    config: Annotated[str | None, Opt(help="TOML configuration file (see --print-config).")] = None,
    data_src: Annotated[
        list[str] | None, Opt("--data", help="Data source(s); default synth.")
    ] = None,
    model: Annotated[
        list[str] | None,
        Opt("--model", help="Your own .keras/.h5/.tflite/.onnx to evaluate too."),
    ] = None,
    original: OriginalOpt = None,
    student: StudentOpt = None,
    preprocess: PreprocessOpt = None,
    out: Annotated[str, Opt(help="Run folder.")] = "runs/default",
    force: Annotated[list[str] | None, Opt(help="Redo this stage even if unchanged.")] = None,
    print_config: Annotated[
        bool, Opt("--print-config", help="Print the resolved configuration and exit.")
    ] = False,
    task: TaskOpt = None,
    lead: LeadOpt = None,
    window_s: WindowOpt = None,
    stride_s: StrideOpt = None,
    annotator: AnnOpt = None,
    split: SplitOpt = None,
    alarms: Annotated[
        str | None,
        Opt(
            help="Also score the deployed models at the ICU alarms of this folder (records "
            "and an ALARMS file; the Challenge 2015 layout)."
        ),
    ] = None,
    hard_negatives: Annotated[
        str | None,
        Opt(
            help="Also train on the windows before the false VT and VF/VFL alarms of this alarm "
            "folder, as other non-shockable (never tested on)."
        ),
    ] = None,
    edge_guard: Annotated[
        float | None,
        Opt(
            "--edge-guard",
            help="Leave out rhythm windows within S seconds of a rhythm change "
            "(uncertain labels; cudb's edges are ±5 s); 0: keep all.",
        ),
    ] = None,
    folds: Annotated[
        int | None,
        Opt(
            help="Cross-validate by record with K folds (every record tested once); the "
            "deployed models then learn from every record."
        ),
    ] = None,
    decide_over: Annotated[
        int | None,
        Opt(
            help="Decide each window's rhythm on the mean of it and the N-1 windows before it "
            "(1: each window alone; default 0: 4 for rhythm windows, 10 s of ECG, 1 for beats)."
        ),
    ] = None,
    records: Annotated[int | None, Opt(help="Synthetic records.")] = None,
    minutes: Annotated[float | None, Opt(help="Minutes per synthetic record.")] = None,
    seed: Annotated[int | None, Opt(help="Seed of the split and of training.")] = None,
    epochs: Annotated[
        int | None, Opt(help="Maximum epochs of the original (students: 2x).")
    ] = None,
    quantize: Annotated[str | None, Opt(help="LiteRT versions: int8[,fp16,dynamic,fp32].")] = None,
    unsafe_load: Annotated[
        bool | None, Opt("--unsafe-load", help="Allow Lambda layers in Keras files you trust.")
    ] = None,
    meter: Annotated[str | None, Opt(help="auto, rapl, nvml, codecarbon or cputime.")] = None,
    trials: Annotated[int | None, Opt(help="Interleaved measurement trials per variant.")] = None,
    min_seconds: Annotated[float | None, Opt(help="Minimum length of one trial, s.")] = None,
    idle_seconds: Annotated[
        float | None, Opt(help="Idle window in every round, s (default: as long as a trial).")
    ] = None,
    max_other_share: Annotated[
        float | None,
        Opt(
            help="Repeat a window when other processes use more than this share of the machine "
            "(default 0.1 machine-wide, 0.5 per process)."
        ),
    ] = None,
    tracking_mode: Annotated[
        str | None, Opt(help="CodeCarbon attribution: process (default) or machine.")
    ] = None,
    float_runtime: Annotated[
        str | None,
        Opt(help="Runtime of Keras models while measured: litert (default) or tensorflow."),
    ] = None,
    batch: Annotated[str | None, Opt(help="Batch sizes to measure, e.g. 1,256.")] = None,
    seed_inferences: Annotated[
        int | None,
        Opt(help="Calls in the report's one-window method (default 200; the report ran 1000)."),
    ] = None,
    settle_rounds: Annotated[
        int | None,
        Opt(
            help="Stop the measurement rounds after at least this many once every figure is "
            "resolved and their order settled (default 3; 0: run every --trials round)."
        ),
    ] = None,
    threads: Annotated[int | None, Opt(help="Inference threads while measuring.")] = None,
    country: Annotated[str | None, Opt(help="ISO 3166 alpha-3 code for CO2e.")] = None,
    carbon_intensity: Annotated[
        float | None, Opt(help="g CO2e per kWh (overrides country).")
    ] = None,
    constraint: Annotated[
        str | None, Opt(help="Recommendation constraint: aha, balanced-accuracy or none.")
    ] = None,
    rank_by: Annotated[
        str | None,
        Opt(
            help="Energy ranked: auto (the first --device, else measured-net), measured-net, "
            "measured-gross, estimate or device:NAME."
        ),
    ] = None,
    device: Annotated[
        list[str] | None,
        Opt(help="Board to price every variant on (repeat; see `ecg-energy devices`)."),
    ] = None,
    battery: Annotated[str | None, Opt(help="Battery: cr2032, lipo-150 or MAH@VOLTS.")] = None,
    device_stride_s: Annotated[
        float | None, Opt(help="On the device, one window every this many s (default 2).")
    ] = None,
    rest_mw: Annotated[
        float | None, Opt(help="Constant power of the rest of the device (front end, radio), mW.")
    ] = None,
) -> None:
    """Run the whole evaluation into a run folder (resuming a finished part), then write
    results.json, results.csv, report.md and report.html."""
    from ..api import run as run_api
    from ..api import run_config
    from ..config import to_toml
    from ..report.render import summary_lines

    given = dict(
        data=data_src,
        model=model,
        original=original,
        student=student,
        preprocess=preprocess,
        task=task,
        lead=lead,
        window_s=window_s,
        stride_s=stride_s,
        annotator=annotator,
        split=split,
        edge_guard=edge_guard,
        alarms=alarms,
        hard_negatives=hard_negatives,
        folds=folds,
        decide_over=decide_over,
        records=records,
        minutes=minutes,
        seed=seed,
        epochs=epochs,
        quantize=quantize,
        unsafe_load=unsafe_load,
        meter=meter,
        trials=trials,
        min_seconds=min_seconds,
        idle_seconds=idle_seconds,
        max_other_share=max_other_share,
        tracking_mode=tracking_mode,
        float_runtime=float_runtime,
        seed_inferences=seed_inferences,
        settle_rounds=settle_rounds,
        batch=list(_batches(batch)) if batch else None,
        threads=threads,
        country=country,
        carbon_intensity=carbon_intensity,
        constraint=constraint,
        rank_by=rank_by,
        device=device,
        battery=battery,
        device_stride_s=device_stride_s,
        rest_mw=rest_mw,
    )  # the options given (None: not given), as the API takes them
    cfg = run_config(config, **given)
    if print_config:
        typer.echo(to_toml(cfg), nl=False)
        return
    outcome = run_api(out, config=config, force=force or (), echo=_echo, **given).outcome
    for w in outcome.warnings:
        _echo(f"warning: {w}")
    for line in summary_lines(outcome.results):
        typer.echo(line)
    took = ", ".join(f"{k} {v:.1f} s" for k, v in outcome.seconds.items())
    typer.echo(f"stages run: {', '.join(outcome.stages_run) or 'none'}"
               + (f" ({took})" if took else ""))  # fmt: skip
    if outcome.stages_skipped:
        typer.echo(f"stages skipped (unchanged): {', '.join(outcome.stages_skipped)}")
    folder = os.path.abspath(out)
    typer.echo(f"report: {os.path.join(folder, 'report.md')} and report.html; "
               f"results: results.json, results.csv")  # fmt: skip


@app.command()
def report(
    run_dir: Annotated[str, typer.Argument(help="A run folder (holding results.json).")],
    constraint: Annotated[
        str | None, Opt(help="Recommend under another constraint: aha, balanced-accuracy or none.")
    ] = None,
    rank_by: Annotated[
        str | None,
        Opt(help="auto, measured-net, measured-gross, estimate or device:NAME."),
    ] = None,
    batch: Annotated[int | None, Opt(help="Batch size whose energy is ranked.")] = None,
    min_balanced_accuracy: Annotated[
        float | None, Opt(help="For --constraint balanced-accuracy.")
    ] = None,
) -> None:
    """Render results.csv, report.md and report.html again from a run's results.json alone."""
    from dataclasses import replace

    from ..fsio import atomic_write_json
    from ..report.recommend import RecommendConfig
    from ..report.render import render_all, summary_lines
    from ..results import check_results, rerecommend

    path = os.path.join(run_dir, "results.json")
    if not os.path.isfile(path):
        raise DataError(f"{path}: not found; pass a run folder that `ecg-energy run` finished")
    try:
        with open(path) as fh:
            res = json.load(fh)
    except ValueError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}); re-run `ecg-energy run`") from exc
    check_results(res, path)
    changes = {k: v for k, v in {"constraint": constraint, "energy": rank_by, "batch": batch,
               "min_balanced_accuracy": min_balanced_accuracy}.items() if v is not None}  # fmt: skip
    if changes:
        try:
            rc = replace(RecommendConfig(**res["config"].get("recommend", {})), **changes)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        if rc.device and rc.device not in (res.get("device") or {}).get("by_device", {}):
            raise ConfigError(f"--rank-by device:{rc.device}: the run has no figures on that "
                              f"board; run it with --device {rc.device}")  # fmt: skip
        res = rerecommend(res, rc)
        atomic_write_json(path, res)
    written = render_all(res, run_dir)
    for line in summary_lines(res):
        typer.echo(line)
    typer.echo(f"wrote {', '.join(written)} in {os.path.abspath(run_dir)}")
