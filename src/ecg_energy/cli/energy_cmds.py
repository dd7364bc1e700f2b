"""Energy commands: count, estimate, measure."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from .common import (
    TaskOpt,
    UnsafeOpt,
    _batches,
    _echo,
    app,
)


@app.command()
def count(
    model: Annotated[str, typer.Argument(help="A .keras, .h5, .tflite or .onnx file.")],
    unsafe_load: UnsafeOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Exact per-operation counts: MACs and other arithmetic by precision, bytes, peak memory."""
    from ..api import count as count_model
    from ..fsio import to_json

    fc = count_model(model, unsafe_load=unsafe_load).file_counts
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
    at_least = "at least " if t["lower_bound"] else ""  # a loop of unknown trip count
    typer.echo(f"total MACs {at_least}{t['macs']:,} ({', '.join(f'{k} {v:,}' for k, v in t['macs_by_precision'].items())}); "
               f"other ops {sum(t['other_ops'].values()):,}; requantizations {t['requant']:,}; "
               f"weights {t['weight_bytes']:,} B; peak activations {t['peak_activation_bytes']:,} B")  # fmt: skip
    if fc.profiler_flops is not None:
        typer.echo(f"TensorFlow profiler FLOPs (the report's convention): {fc.profiler_flops:,}")
    for u in t["uncounted"]:
        _echo(f"warning: not counted: {u}")
    for u in t["lower_bound"]:
        _echo(f"warning: a lower bound: {u}")


@app.command()
def estimate(
    model: Annotated[str, typer.Argument(help="A .keras, .h5, .tflite or .onnx file.")],
    table: Annotated[
        list[str] | None,
        typer.Option(help="Energy table: seed-flat, horowitz-45nm, jouppi-7nm or a TOML path."),
    ] = None,
    buffer_kib: Annotated[int, typer.Option(help="On-chip buffer size, KiB.")] = 256,
    unsafe_load: UnsafeOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Estimated datapath energy per inference (a range), with the report's flat figure beside it."""
    from ..api import DEFAULT_TABLES
    from ..api import estimate as estimate_model
    from ..fsio import to_json
    from ..report.text import format_energy

    tables = tuple(table or DEFAULT_TABLES)
    name = os.path.splitext(os.path.basename(model))[0]
    energy = estimate_model(
        model, tables=tables, buffer_kib=buffer_kib, unsafe_load=unsafe_load
    ).data
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
    models: Annotated[list[str], typer.Argument(help="Model files (.keras, .h5, .tflite, .onnx).")],
    data_src: Annotated[
        str, typer.Option("--data", help="Windows to run on; default synth:0.")
    ] = "synth",
    task: TaskOpt = "rhythm",
    meter: Annotated[
        str | None,
        typer.Option(
            help="auto (default: the first meter available that reads the device the models run "
            "on), rapl, nvml (GPU only), codecarbon or cputime."
        ),
    ] = None,
    protocol: Annotated[
        str, typer.Option(help="standard, or seed (the report's method).")
    ] = "standard",
    trials: Annotated[
        int | None, typer.Option(help="Interleaved trials per variant (default 5).")
    ] = None,
    min_seconds: Annotated[
        float | None, typer.Option(help="Minimum length of one trial, s (default 2).")
    ] = None,
    idle_seconds: Annotated[
        float | None,
        typer.Option(help="Idle window in every round, s (default: a trial's length)."),
    ] = None,
    max_other_share: Annotated[
        float | None,
        typer.Option(
            help="Repeat a window when other processes use more than this share of the "
            "machine (default 0.1 machine-wide, 0.5 per process)."
        ),
    ] = None,
    tracking_mode: Annotated[
        str | None,
        typer.Option(help="CodeCarbon attribution: process (default) or machine."),
    ] = None,
    float_runtime: Annotated[
        str | None,
        typer.Option(
            help="Runtime of Keras models: litert (default; float32, same weights) or tensorflow."
        ),
    ] = None,
    batch: Annotated[str | None, typer.Option(help="Batch sizes (default 1,256).")] = None,
    threads: Annotated[int | None, typer.Option(help="LiteRT threads (default: LiteRT's).")] = None,
    country: Annotated[
        str | None,
        typer.Option(help="ISO 3166 alpha-3 code for CodeCarbon and CO2e (default USA)."),
    ] = None,
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
    """Measure energy and latency per inference: interleaved trials, idle baselines, intervals.

    An option the chosen protocol or meter would not use is refused, never ignored."""
    from ..api import measure as measure_models
    from ..report.text import format_measurements

    batches = _batches(batch) if batch is not None else None
    result = measure_models(
        list(models), data_src, meter=meter, protocol=protocol, trials=trials,
        min_seconds=min_seconds, idle_seconds=idle_seconds, max_other_share=max_other_share,
        tracking_mode=tracking_mode, float_runtime=float_runtime, batches=batches,
        threads=threads, country=country, carbon_intensity=carbon_intensity,
        watts_per_core=watts_per_core, out=out, unsafe_load=unsafe_load, task=task, cache=cache,
        echo=_echo,
    ).data  # fmt: skip
    if as_json:
        from ..fsio import to_json

        typer.echo(to_json(result))
    else:
        typer.echo(format_measurements(result))
