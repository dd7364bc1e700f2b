"""The run command: the whole evaluation into a run folder."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from .common import (
    AnnOpt,
    EpochsOpt,
    LeadOpt,
    QuantOpt,
    SplitOpt,
    StrideOpt,
    TaskOpt,
    UnsafeOpt,
    WindowOpt,
    _batches,
    _echo,
    _models_config,
    _protocol_config,
    _read_options,
    _synth_config,
    app,
)


@app.command()
def run(
    data_src: Annotated[
        list[str] | None, typer.Option("--data", help="Data source(s); default synth:0.")
    ] = None,
    out: Annotated[str, typer.Option(help="Run folder.")] = "runs/default",
    task: TaskOpt = "rhythm",
    lead: LeadOpt = None,
    window_s: WindowOpt = 4.0,
    stride_s: StrideOpt = 2.0,
    annotator: AnnOpt = "atr",
    split: SplitOpt = "auto",
    records: Annotated[int, typer.Option(help="Synthetic records.")] = 24,
    minutes: Annotated[float, typer.Option(help="Minutes per synthetic record.")] = 5.0,
    seed: Annotated[int, typer.Option(help="Seed of the split and of training.")] = 0,
    epochs: EpochsOpt = 40,
    quantize: QuantOpt = "int8",
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Your own .keras/.h5/.tflite to evaluate too."),
    ] = None,
    unsafe_load: UnsafeOpt = False,
    meter: Annotated[str, typer.Option(help="auto, rapl, nvml, codecarbon or cputime.")] = "auto",
    trials: Annotated[int, typer.Option(help="Interleaved measurement trials per variant.")] = 5,
    min_seconds: Annotated[float, typer.Option(help="Minimum length of one trial, s.")] = 2.0,
    idle_seconds: Annotated[float, typer.Option(help="Idle baseline before and after, s.")] = 2.0,
    batch: Annotated[str, typer.Option(help="Batch sizes to measure, e.g. 1,256.")] = "1,256",
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-3 code for CO2e.")] = "USA",
) -> None:
    """Run the whole evaluation (the stages available in this version) into a run folder."""
    from ..data.summary import format_summary
    from ..pipeline import RunConfig
    from ..pipeline import run as run_pipeline
    from ..report.text import format_energy, format_evaluation, format_measurements

    cfg = RunConfig(
        data=tuple(data_src or ["synth"]),
        read=_read_options(task, lead, window_s, stride_s, annotator, split),
        synth=_synth_config(records, minutes, 0, 250),
        split_seed=seed,
        models=_models_config(epochs, quantize, seed),
        user_models=tuple(model or ()),
        unsafe_load=unsafe_load,
        meter=meter,
        protocol=_protocol_config(trials, min_seconds, idle_seconds),
        batches=_batches(batch),
        country=country,
    )
    outcome = run_pipeline(cfg, out, echo=_echo)
    for w in outcome.warnings:
        _echo(f"warning: {w}")
    typer.echo(format_summary(outcome.summary))
    typer.echo("")
    typer.echo(format_evaluation(outcome.evaluation))
    typer.echo("")
    typer.echo(format_energy(outcome.energy))
    typer.echo("")
    typer.echo(format_measurements(outcome.measurements))
    typer.echo("")
    took = ", ".join(f"{k} {v:.1f} s" for k, v in outcome.seconds.items())
    typer.echo(f"stages run: {', '.join(outcome.stages_run)} ({took})")
    typer.echo(f"not available in this version: {', '.join(outcome.stages_missing)} — "
               "no report files were produced")  # fmt: skip
    typer.echo(f"run folder: {os.path.abspath(out)}")
