"""Shared pieces of the command line: the Typer app, option types, option parsing."""

from __future__ import annotations

from typing import Annotated

import typer

from .._version import __version__
from ..errors import ConfigError

app = typer.Typer(
    name="ecg-energy",
    help="Which version of an ECG model to deploy: energy and CO2 per inference against accuracy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"verbose": False}


def _echo(msg: str) -> None:
    typer.echo(msg, err=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ecg-energy {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    _state["verbose"] = verbose


def _read_options(task: str, lead: str | None, window_s: float, stride_s: float, annotator: str,
                  split: str, edge_guard_s: float = 0.0):  # fmt: skip
    from ..data.wfdb_source import ReadOptions

    try:
        return ReadOptions(task=task, lead=lead, window_s=window_s, stride_s=stride_s,
                           annotator=annotator, split=split,
                           edge_guard_s=edge_guard_s)  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _synth_config(records: int, minutes: float, seed: int, fs: int):
    from ..data.synth import SynthConfig

    try:
        return SynthConfig(records=records, minutes=minutes, seed=seed, fs_hz=fs)
    except ValueError as exc:
        raise ConfigError(f"synth: {exc}") from exc


def _models_config(epochs: int | None, quantize: str, seed: int):
    """The models' configuration of ``train``: the defaults, ``epochs`` for the original (the
    students twice as many) when given."""
    from dataclasses import replace

    from ..models.train import TrainConfig
    from ..models.variants import ModelsConfig

    try:
        train = replace(TrainConfig(), seed=seed)
        if epochs is not None:
            train = replace(train, epochs=epochs, student_epochs=2 * epochs)
        modes = tuple(m.strip() for m in quantize.split(",") if m.strip())
        return ModelsConfig(train=train, quantize=modes)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _batches(text: str) -> tuple[int, ...]:
    try:
        batches = tuple(int(b) for b in text.split(",") if b.strip())
    except ValueError:
        batches = ()
    if not batches or min(batches) < 1:
        raise ConfigError(f"--batch needs positive batch sizes such as 1,256, not {text!r}")
    return batches


EpochsOpt = Annotated[
    int | None,
    typer.Option(help="Maximum epochs for the original (students: twice); default: the run's."),
]
QuantOpt = Annotated[str, typer.Option(help="LiteRT versions to make: int8[,fp16,dynamic,fp32].")]
UnsafeOpt = Annotated[
    bool, typer.Option("--unsafe-load", help="Allow Lambda layers in Keras files you trust.")
]
TaskOpt = Annotated[
    str, typer.Option(help="rhythm (shockable-rhythm windows) or beats (AAMI beats).")
]
LeadOpt = Annotated[str | None, typer.Option(help="Lead name or index (default MLII, II or ECG).")]
WindowOpt = Annotated[float, typer.Option("--window-s", help="Rhythm window length, seconds.")]
StrideOpt = Annotated[float, typer.Option("--stride-s", help="Rhythm window stride, seconds.")]
EdgeGuardOpt = Annotated[
    float,
    typer.Option(
        "--edge-guard",
        help="Leave out rhythm windows within S seconds of a rhythm "
        "change (uncertain labels; cudb's edges are ±5 s); 0: keep all.",
    ),
]
AnnOpt = Annotated[str, typer.Option(help="WFDB annotation file extension.")]
DecideOpt = Annotated[
    int,
    typer.Option(
        help="Decide each window's rhythm on the mean of it and the N-1 windows before it "
        "(1: each window alone)."
    ),
]
OriginalOpt = Annotated[
    str | None,
    typer.Option(
        help="Your trained Keras model (.keras, .h5) as the original: it teaches the "
        "students and gets LiteRT versions; it is never retrained."
    ),
]
StudentOpt = Annotated[
    str | None,
    typer.Option(help="Your untrained student architecture (.keras) instead of the built-in."),
]
PreprocessOpt = Annotated[
    str | None,
    typer.Option(
        "--preprocess",
        help="Input preprocessing of every variant: none, mulaw or "
        "bandpass-mulaw (default: the original's own; none for yours without one).",
    ),
]
SplitOpt = Annotated[str, typer.Option(help="auto, ds1ds2 (mitdb inter-patient) or records.")]
