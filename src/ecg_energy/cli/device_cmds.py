"""Device commands: devices (the board profiles), device (models on boards), import-energy (a
real on-device measurement)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..errors import ConfigError, DataError, OutputError
from ..fsio import read_json
from .common import _echo, app

Opt = typer.Option
IMPORTS_FILE = "device_imports.json"


@app.command()
def devices(
    show: Annotated[str | None, Opt(help="Print one profile's TOML (a name or a file).")] = None,
    as_json: Annotated[bool, Opt("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """List the device profiles: board, clock, memory, runtime, what each was calibrated on."""
    from ..devices.profile import builtin_names, builtin_text, load_profile
    from ..fsio import to_json

    if show:
        p = load_profile(show)
        if show in builtin_names():
            typer.echo(builtin_text(show), nl=False)
        else:
            with open(show, encoding="utf-8") as fh:
                typer.echo(fh.read(), nl=False)
        _echo(f"{p.name}: energy {p.energy_basis}")
        return
    profiles = [load_profile(n) for n in builtin_names()]
    if as_json:
        typer.echo(to_json([p.summary() for p in profiles]))
        return
    head = f"{'name':<16}{'core':<12}{'MHz':>5}{'SRAM KiB':>10}{'flash KiB':>10}  {'pJ/MAC':>7}{'cyc/MAC':>8}  {'energy from':<22} calibrated on"
    typer.echo(head)
    typer.echo("-" * len(head))
    for p in profiles:
        s = p.summary()
        core = p.core.replace("Arm ", "").split(" with")[0]
        pj = f"{s['energy_pj_per_mac']:.0f}" if s["energy_pj_per_mac"] else "-"
        cyc = f"{s['cycles_per_mac']:.2f}" if s["cycles_per_mac"] else "-"
        typer.echo(f"{p.name:<16}{core:<12}{s['clock_mhz']:>5.0f}{p.sram_bytes / 1024:>10.0f}"
                   f"{p.flash_bytes / 1024:>10.0f}  {pj:>7}{cyc:>8}  {'modelled: ' + p.confidence:<22} "
                   f"{s['calibrated_on']}, {p.runtime.get('name')}")  # fmt: skip
    typer.echo("energy from: every figure is modelled from measurements of other models: "
               "board-energy = the board's MLPerf Tiny energy results x MACs; datasheet = its "
               "cited active power x calibrated latency (lower confidence). Only a board log "
               "imported with `ecg-energy import-energy` is measured. Your own board: "
               "`ecg-energy devices --show stm32u575 > myboard.toml`, edit, pass --device "
               "myboard.toml.")  # fmt: skip


@app.command()
def device(
    models: Annotated[
        list[str], typer.Argument(help="Model files (.tflite; others are listed as skipped).")
    ],
    device_name: Annotated[
        list[str] | None,
        Opt("--device", help="Board profile name or TOML file (repeat); default all."),
    ] = None,
    stride_s: Annotated[float, Opt(help="One window every STRIDE seconds.")] = 2.0,
    battery: Annotated[str, Opt(help="cr2032, lipo-150 or MAH@VOLTS.")] = "cr2032",
    rest_mw: Annotated[
        float, Opt(help="Constant power of the rest of the device (ECG front end, radio), mW.")
    ] = 0.0,
    data_src: Annotated[
        str | None,
        Opt(
            "--data",
            help="Data source whose held-out windows TFLM and LiteRT are compared on (e.g. synth).",
        ),
    ] = None,
    windows: Annotated[int, Opt(help="Windows compared (with --data).")] = 256,
    cache: Annotated[str, Opt(help="Where synth: databases are kept.")] = "runs/cache",
    method: Annotated[
        str,
        Opt(
            help="per-mac (the board's J/MAC x MACs) or emulated (the model's own instructions: "
            "TFLM + CMSIS-NN on the emulated Cortex-M core)."
        ),
    ] = "per-mac",
    tflm_source: Annotated[
        str | None,
        Opt(
            help="TFLM source for the emulated build: a folder of archives (else "
            "$ECG_ENERGY_TFLM_SOURCE, else upstream)."
        ),
    ] = None,
    as_json: Annotated[bool, Opt("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Energy, latency, memory fit, real time and days of battery of each model on each board."""
    from ..devices.assess import DeviceConfig, assess_files
    from ..devices.profile import builtin_names
    from ..fsio import to_json
    from ..report.device import device_notes, device_table

    for m in models:
        if not os.path.isfile(m):
            raise DataError(f"{m}: model file not found; check the path")
    try:
        cfg = DeviceConfig(tuple(device_name or builtin_names()), stride_s, battery,
                           rest_mw * 1e-3, windows, method, tflm_source or "")  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    x = None
    if data_src:
        from ..data.dataset import split_by_record
        from ..data.sources import load_source, parse_source
        from .common import _read_options

        ds, _ = load_source(parse_source(data_src), _read_options("rhythm", None, 4.0, 2.0,
                                                                  "atr", "auto"), cache)  # fmt: skip
        x = ds.subset(split_by_record(ds).test).X
    result = assess_files(list(models), list(cfg.names), cfg, x, echo=_echo)
    rows = [r for by_model in result["by_device"].values() for r in by_model.values()]
    if rows and all(r.get("skipped") for r in rows):
        raise ConfigError(f"nothing to price: {rows[0]['model']} is {rows[0]['skipped']}")
    if as_json:
        typer.echo(to_json(result))
        return
    head, rows = device_table(result)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)]
    for line in [head, ["-" * w for w in widths], *rows]:
        typer.echo("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
    for note in device_notes(result):
        typer.echo(f"- {note}")
    if method == "emulated":
        from ..report.device_emulated import emulated_lines

        for line in emulated_lines(result):
            typer.echo(line)


@app.command("import-energy")
def import_energy(
    file: Annotated[
        str,
        typer.Argument(
            help="EnergyRunner results.txt (energy mode) or a CSV "
            "trace (time_s, power_w or current_a, mark)."
        ),
    ],
    device_name: Annotated[str, Opt("--device", help="The board it was measured on.")],
    model: Annotated[str, Opt(help="The variant it measured (a name, or a model file).")],
    run_dir: Annotated[
        str | None, Opt("--run", help="Run folder to record it in (its report is redone).")
    ] = None,
    voltage: Annotated[
        float | None, Opt(help="Supply voltage for a current-only trace, V.")
    ] = None,
    inferences: Annotated[int, Opt(help="Inferences between a start and a stop mark.")] = 1,
    as_json: Annotated[bool, Opt("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Record a real on-device energy measurement beside the device model's prediction."""
    from ..devices.imports import read_measurement
    from ..devices.profile import load_profile
    from ..fsio import atomic_write_json, to_json

    prof = load_profile(device_name)
    name = model
    if os.path.isfile(model):
        from ..models.io import variant_names

        name = next(iter(variant_names([model])))
    rec = {"device": prof.name, "model": name, **read_measurement(file, voltage, inferences)}
    if run_dir:
        if not os.path.isfile(os.path.join(run_dir, "run.json")):
            raise DataError(f"{run_dir}: not a run folder (no run.json); give --run the folder "
                            "of an `ecg-energy run`")  # fmt: skip
        path = os.path.join(run_dir, IMPORTS_FILE)
        records = []
        if os.path.isfile(path):
            records = read_json(path, "remove it and import each measurement again")
            if not isinstance(records, list) or not all(isinstance(r, dict) and "device" in r
                                                         and "model" in r for r in records):  # fmt: skip
                raise OutputError(f"{path}: not a list of imported measurements; remove it and "
                                  "import each measurement again")  # fmt: skip
        records = [r for r in records if (r["device"], r["model"]) != (prof.name, name)] + [rec]
        atomic_write_json(path, records)
        res_path = os.path.join(run_dir, "results.json")
        if os.path.isfile(res_path):
            from ..report.render import render_all
            from ..results import with_imports

            res = read_json(res_path, "run `ecg-energy run` on the folder again")
            if not res.get("device"):
                _echo(f"recorded in {path}; the run has no device section yet: run it again "
                      f"with --device {prof.name} to see the figure in its report")  # fmt: skip
            else:
                res = with_imports(res, records)
                atomic_write_json(res_path, res)
                render_all(res, run_dir)
                _echo(f"recorded in {path}; report redone")
        else:
            _echo(f"recorded in {path}")
    if as_json:
        typer.echo(to_json(rec))
        return
    lat = f", latency {rec['latency_s'] * 1e3:.3g} ms" if rec.get("latency_s") else ""
    typer.echo(f"{prof.name} / {name}: {rec['energy_j'] * 1e6:.4g} µJ per inference "
               f"[{rec['energy_j_low'] * 1e6:.4g}, {rec['energy_j_high'] * 1e6:.4g}] over "
               f"{rec['windows']} windows{lat} ({rec['method']}, measured)")  # fmt: skip
