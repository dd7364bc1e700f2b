"""The `ecg-energy` command line. Commands parse options, call one library function, write files.

Every known error becomes one line on stderr naming the thing and the fix, with exit code 2;
anything unexpected is one line too (exit 1); ``--verbose`` shows the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated

import typer

from . import __version__
from .errors import ConfigError, DataError, EcgEnergyError, OutputError

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
                  split: str):  # fmt: skip
    from .data.wfdb_source import ReadOptions

    try:
        return ReadOptions(task=task, lead=lead, window_s=window_s, stride_s=stride_s,
                           annotator=annotator, split=split)  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _synth_config(records: int, minutes: float, seed: int, fs: int):
    from .data.synth import SynthConfig

    try:
        return SynthConfig(records=records, minutes=minutes, seed=seed, fs_hz=fs)
    except ValueError as exc:
        raise ConfigError(f"synth: {exc}") from exc


def _models_config(epochs: int, quantize: str, seed: int):
    from dataclasses import replace

    from .models.train import TrainConfig
    from .models.variants import ModelsConfig

    try:
        train = replace(TrainConfig(), epochs=epochs, student_epochs=2 * epochs, seed=seed)
        modes = tuple(m.strip() for m in quantize.split(",") if m.strip())
        return ModelsConfig(train=train, quantize=modes)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _protocol_config(trials: int, min_seconds: float, idle_seconds: float):
    from .energy.protocol import ProtocolConfig

    try:
        return ProtocolConfig(trials=trials, min_seconds=min_seconds, idle_seconds=idle_seconds)
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


EpochsOpt = Annotated[int, typer.Option(help="Maximum epochs for the original (students: twice).")]
QuantOpt = Annotated[str, typer.Option(help="LiteRT versions to make: int8[,fp16,dynamic].")]
UnsafeOpt = Annotated[
    bool, typer.Option("--unsafe-load", help="Allow Lambda layers in Keras files you trust.")
]
TaskOpt = Annotated[
    str, typer.Option(help="rhythm (shockable-rhythm windows) or beats (AAMI beats).")
]
LeadOpt = Annotated[str | None, typer.Option(help="Lead name or index (default MLII, II or ECG).")]
WindowOpt = Annotated[float, typer.Option("--window-s", help="Rhythm window length, seconds.")]
StrideOpt = Annotated[float, typer.Option("--stride-s", help="Rhythm window stride, seconds.")]
AnnOpt = Annotated[str, typer.Option(help="WFDB annotation file extension.")]
SplitOpt = Annotated[str, typer.Option(help="auto, ds1ds2 (mitdb inter-patient) or records.")]


@app.command()
def synth(
    out: Annotated[str, typer.Option(help="Folder to create (must be new or empty).")],
    records: Annotated[int, typer.Option(help="Number of records (patients).")] = 24,
    minutes: Annotated[float, typer.Option(help="Minutes per record.")] = 5.0,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives identical files.")] = 0,
    fs: Annotated[int, typer.Option(help="Sampling rate, Hz.")] = 250,
) -> None:
    """Write the synthetic ECG database as WFDB records (.hea/.dat/.atr)."""
    import time

    from .data.synth import generate
    from .fsio import atomic_dir, is_empty_or_missing

    cfg = _synth_config(records, minutes, seed, fs)
    if not is_empty_or_missing(out):
        raise OutputError(f"{out}: exists and is not empty; choose a new --out folder")
    t0 = time.perf_counter()
    with atomic_dir(out) as tmp:
        summary = generate(cfg, tmp, progress=lambda d, t: _echo(f"record {d}/{t}"))
    n_eps = sum(len(r["episodes"]) for r in summary["records"])
    _echo(f"wrote {cfg.records} records × {cfg.minutes:g} min ({n_eps} rhythm episodes) to {out} "
          f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip


@app.command()
def data(
    source: Annotated[
        str, typer.Argument(help="synth[:SEED], wfdb:DIR or kaggle:FILE.csv[,TEST.csv]")
    ],
    task: TaskOpt = "rhythm",
    lead: LeadOpt = None,
    window_s: WindowOpt = 4.0,
    stride_s: StrideOpt = 2.0,
    annotator: AnnOpt = "atr",
    split: SplitOpt = "auto",
    split_seed: Annotated[int, typer.Option(help="Seed of the record-wise split.")] = 0,
    cache: Annotated[str, typer.Option(help="Where synth: databases are kept.")] = "runs/cache",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Read a data source and show its examples per class and per split."""
    from .data.dataset import split_by_record
    from .data.sources import load_source, parse_source
    from .data.summary import format_summary, summarize

    src = parse_source(source)
    opts = _read_options(task, lead, window_s, stride_s, annotator, split)
    ds, log = load_source(src, opts, cache, progress=lambda d, t: _echo(f"synth: record {d}/{t}"))
    try:
        summary = summarize(ds, split_by_record(ds, seed=split_seed))
    except DataError as exc:  # too few records to split: still show what the source holds
        summary = summarize(ds)
        _echo(f"note: no split shown: {exc}")
    for w in log.warnings() if log else []:
        _echo(f"warning: {w}")
    if as_json:
        from .fsio import to_json

        typer.echo(to_json(summary))
    else:
        typer.echo(format_summary(summary))


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
    from .data.summary import format_summary
    from .pipeline import RunConfig
    from .pipeline import run as run_pipeline
    from .report.text import format_energy, format_evaluation, format_measurements

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


@app.command()
def train(
    data_src: Annotated[
        str, typer.Option("--data", help="Data source; default synth:0.")
    ] = "synth",
    out: Annotated[
        str, typer.Option(help="Folder for the models (its models/ subfolder).")
    ] = "runs/default",
    task: TaskOpt = "rhythm",
    lead: LeadOpt = None,
    window_s: WindowOpt = 4.0,
    stride_s: StrideOpt = 2.0,
    annotator: AnnOpt = "atr",
    split: SplitOpt = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the split and of training.")] = 0,
    epochs: EpochsOpt = 40,
    quantize: QuantOpt = "int8",
    temperature: Annotated[float, typer.Option(help="Distillation temperature.")] = 4.0,
    hard_weight: Annotated[
        float, typer.Option(help="Weight of the label loss in distillation (rest: teacher).")
    ] = 0.5,
) -> None:
    """Train the original, distil the student (and its plain control), quantize with LiteRT."""
    from dataclasses import replace

    from .data.dataset import split_by_record
    from .data.sources import load_source, parse_source
    from .models.variants import build_variants
    from .pipeline import check_run_dir, data_key, mark_run_dir

    check_run_dir(out)
    cfg = _models_config(epochs, quantize, seed)
    try:
        cfg = replace(cfg, train=replace(cfg.train, temperature=temperature,
                                         student_loss_weight=hard_weight))  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    opts = _read_options(task, lead, window_s, stride_s, annotator, split)
    ds, _ = load_source(parse_source(data_src), opts, os.path.join(out, "data"))
    sp = split_by_record(ds, seed=seed)
    tr, va = ds.subset(sp.train), ds.subset(sp.val)
    variants = build_variants(tr.X, tr.y, va.X, va.y, ds.class_names, ds.task, data_key(ds, sp), cfg,
                              os.path.join(out, "models"), _echo)  # fmt: skip
    typer.echo(
        f"{'variant':<22}{'format':>8}{'precision':>10}{'KiB':>9}{'train s':>9}{'epochs':>8}"
    )
    for v in variants:
        kib = os.path.getsize(v.path) / 1024
        typer.echo(f"{v.name:<22}{v.format:>8}{v.precision:>10}{kib:>9.1f}{v.train_seconds:>9.1f}"
                   f"{v.epochs:>8}")  # fmt: skip
    mark_run_dir(out, {"made_by": "ecg-energy train", "stages": {}})
    typer.echo(f"models in {os.path.join(os.path.abspath(out), 'models')}")


@app.command()
def evaluate(
    models: Annotated[list[str], typer.Argument(help="Model files (.keras, .h5, .tflite).")],
    data_src: Annotated[
        str, typer.Option("--data", help="Data source; default synth:0.")
    ] = "synth",
    task: TaskOpt = "rhythm",
    lead: LeadOpt = None,
    window_s: WindowOpt = 4.0,
    stride_s: StrideOpt = 2.0,
    annotator: AnnOpt = "atr",
    split: SplitOpt = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the record-wise split.")] = 0,
    on: Annotated[
        str, typer.Option(help="test (held-out records of the split) or all (every record).")
    ] = "test",
    preprocess: Annotated[
        str | None, typer.Option(help="Override the input preprocessing: none or mulaw.")
    ] = None,
    unsafe_load: UnsafeOpt = False,
    cache: Annotated[str, typer.Option(help="Where synth: databases are kept.")] = "runs/cache",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metrics as JSON on stdout.")
    ] = False,
) -> None:
    """Evaluate model files on held-out records: per-class metrics and the AHA goals."""
    from .data.dataset import split_by_record
    from .data.sources import load_source, parse_source
    from .models.assess import evaluate_files
    from .models.preprocess import PREPROCESSORS
    from .report.text import format_evaluation

    if on not in ("test", "all"):
        raise ConfigError(f"--on must be test or all, not {on!r}")
    if preprocess is not None and preprocess not in PREPROCESSORS:
        raise ConfigError(f"--preprocess must be one of {', '.join(PREPROCESSORS)}")
    opts = _read_options(task, lead, window_s, stride_s, annotator, split)
    ds, _ = load_source(parse_source(data_src), opts, cache)
    if on == "test":
        ds = ds.subset(split_by_record(ds, seed=seed).test)
    results = evaluate_files(list(models), ds, unsafe=unsafe_load, preprocessing=preprocess)
    if as_json:
        from .fsio import to_json

        typer.echo(to_json({"data": data_src, "on": on, "examples": len(ds), "variants": results}))
    else:
        typer.echo(f"{len(ds)} examples ({on}) from {data_src}")
        typer.echo(format_evaluation(results))


@app.command()
def count(
    model: Annotated[str, typer.Argument(help="A .keras, .h5 or .tflite file.")],
    unsafe_load: UnsafeOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Exact per-operation counts: MACs and other arithmetic by precision, bytes, peak memory."""
    from .fsio import to_json
    from .ops.files import count_file

    fc = count_file(model, unsafe_load)
    if as_json:
        typer.echo(to_json(fc.as_dict()))
        return
    head = f"{'op':<28}{'kind':<22}{'prec':>7}{'MACs':>12}{'other':>10}{'requant':>9}{'weights B':>11}{'out B':>10}"
    typer.echo(head)
    typer.echo("-" * len(head))
    for o in fc.counts.ops:
        other = sum(o.other.values())
        mark = "" if o.counted else "  UNCOUNTED"
        typer.echo(f"{o.name[:27]:<28}{o.op[:21]:<22}{o.precision:>7}{o.macs:>12,}{other:>10,}"
                   f"{o.requant:>9,}{o.weight_bytes + o.bias_bytes:>11,}{o.output_bytes:>10,}{mark}")  # fmt: skip
    t = fc.counts.totals()
    typer.echo(f"total MACs {t['macs']:,} ({', '.join(f'{k} {v:,}' for k, v in t['macs_by_precision'].items())}); "
               f"other ops {sum(t['other_ops'].values()):,}; requantizations {t['requant']:,}; "
               f"weights {t['weight_bytes']:,} B; peak activations {t['peak_activation_bytes']:,} B")  # fmt: skip
    if fc.profiler_flops is not None:
        typer.echo(f"TensorFlow profiler FLOPs (the report's convention): {fc.profiler_flops:,}")
    for u in t["uncounted"]:
        _echo(f"warning: not counted: {u}")


@app.command()
def estimate(
    model: Annotated[str, typer.Argument(help="A .keras, .h5 or .tflite file.")],
    table: Annotated[
        list[str] | None,
        typer.Option(help="Energy table: seed-flat, horowitz-45nm, jouppi-7nm or a TOML path."),
    ] = None,
    buffer_kib: Annotated[int, typer.Option(help="On-chip buffer size, KiB.")] = 256,
    unsafe_load: UnsafeOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Estimated datapath energy per inference (a range), with the report's flat figure beside it."""
    from .fsio import to_json
    from .ops.files import count_file
    from .pipeline import estimate_variants
    from .report.text import format_energy

    tables = tuple(table or ["seed-flat", "horowitz-45nm", "jouppi-7nm"])
    fc = count_file(model, unsafe_load)
    name = os.path.splitext(os.path.basename(model))[0]
    energy = estimate_variants({name: fc}, tables, buffer_kib * 1024)
    if as_json:
        typer.echo(to_json(energy))
        return
    typer.echo(format_energy(energy))
    for tname, e in energy[name]["estimates"].items():
        if e["layers"]:
            share = e["memory_low_j"] / e["low_j"] if e["low_j"] else 0.0
            typer.echo(f"{tname}: compute {e['compute_j']:.2e} J (MACs {e['mac_j']:.2e}, other "
                       f"{e['other_j']:.2e}, requant {e['requant_j']:.2e}); memory {e['memory_low_j']:.2e}"
                       f"-{e['memory_high_j']:.2e} J ({100 * share:.0f}% of the low figure); weights "
                       f"{'on' if e['weights_on_chip'] else 'off'}-chip, activations "
                       f"{'on' if e['activations_on_chip'] else 'off'}-chip")  # fmt: skip


@app.command()
def measure(
    models: Annotated[list[str], typer.Argument(help="Model files (.keras, .h5, .tflite).")],
    data_src: Annotated[
        str, typer.Option("--data", help="Windows to run on; default synth:0.")
    ] = "synth",
    task: TaskOpt = "rhythm",
    meter: Annotated[str, typer.Option(help="auto, rapl, nvml, codecarbon or cputime.")] = "auto",
    protocol: Annotated[
        str, typer.Option(help="standard, or seed (the report's method).")
    ] = "standard",
    trials: Annotated[int, typer.Option(help="Interleaved trials per variant.")] = 5,
    min_seconds: Annotated[float, typer.Option(help="Minimum length of one trial, s.")] = 2.0,
    idle_seconds: Annotated[float, typer.Option(help="Idle baseline before and after, s.")] = 2.0,
    batch: Annotated[str, typer.Option(help="Batch sizes, e.g. 1,256.")] = "1,256",
    threads: Annotated[int | None, typer.Option(help="LiteRT threads (default: LiteRT's).")] = None,
    country: Annotated[
        str, typer.Option(help="ISO 3166 alpha-3 code for CodeCarbon and CO2e.")
    ] = "USA",
    carbon_intensity: Annotated[
        float | None, typer.Option(help="Override the carbon intensity, g CO2e per kWh.")
    ] = None,
    watts_per_core: Annotated[
        float | None, typer.Option(help="Power per busy core for the cputime model, W.")
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(help="Write measurements.json (and CodeCarbon's emissions.csv) here."),
    ] = None,
    unsafe_load: UnsafeOpt = False,
    cache: Annotated[str, typer.Option(help="Where synth: databases are kept.")] = "runs/cache",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Measure energy and latency per inference: interleaved trials, idle baselines, intervals."""
    from .data.dataset import split_by_record
    from .data.sources import load_source, parse_source
    from .energy.measure import choose_meter, measure_files, measure_seed
    from .fsio import atomic_write_json, to_json
    from .report.text import format_measurements

    batches = _batches(batch)
    cfg = _protocol_config(trials, min_seconds, idle_seconds)
    if protocol not in ("standard", "seed"):
        raise ConfigError(f"--protocol must be standard or seed, not {protocol!r}")
    opts = _read_options(task, None, 4.0, 2.0, "atr", "auto")
    ds, _ = load_source(parse_source(data_src), opts, cache)
    ds = ds.subset(split_by_record(ds).test)
    if out:
        os.makedirs(out, exist_ok=True)
    if protocol == "seed":
        result = measure_seed(list(models), ds, country, out, threads, unsafe_load, _echo)
    else:
        m = choose_meter(meter, country, out, watts_per_core, _echo)
        result = measure_files(list(models), ds, m, cfg, batches, threads, country,
                               carbon_intensity, unsafe_load, _echo)  # fmt: skip
    if out:
        atomic_write_json(os.path.join(out, "measurements.json"), result)
    if as_json:
        typer.echo(to_json(result))
    else:
        typer.echo(format_measurements(result))


NEEDS_TENSORFLOW = frozenset({"run", "train", "evaluate", "count", "estimate", "measure"})


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app and turn failures into one line and an exit code."""
    import click

    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    if not verbose:  # TensorFlow's C++ start-up chatter, before it is first imported
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        command = next((a for a in args if not a.startswith("-")), "")
        if command in NEEDS_TENSORFLOW and "keras" not in sys.modules:
            from .quiet import silenced

            with silenced():  # absl and oneDNN notices ignore TF_CPP_MIN_LOG_LEVEL
                import keras  # noqa: F401
    try:
        result = app(args=args, prog_name="ecg-energy", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        _echo("interrupted: finished outputs were kept")
        return 130
    except EcgEnergyError as exc:
        if verbose:
            traceback.print_exc()
        _echo(f"error: {exc}")
        return exc.exit_code
    except Exception as exc:  # a bug: still one line unless --verbose
        if verbose:
            traceback.print_exc()
        _echo(f"error: unexpected {type(exc).__name__}: {exc} (run with --verbose for details)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
