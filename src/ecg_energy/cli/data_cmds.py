"""Data commands: synth, data."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import DataError, OutputError
from .common import (
    AnnOpt,
    LeadOpt,
    SplitOpt,
    StrideOpt,
    TaskOpt,
    WindowOpt,
    _echo,
    _read_options,
    _synth_config,
    app,
)


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

    from ..data.synth import generate
    from ..fsio import atomic_dir, is_empty_or_missing

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
    from ..data.dataset import split_by_record
    from ..data.sources import load_source, parse_source
    from ..data.summary import format_summary, summarize

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
        from ..fsio import to_json

        typer.echo(to_json(summary))
    else:
        typer.echo(format_summary(summary))


@app.command()
def download(
    databases: Annotated[
        list[str], typer.Argument(help="PhysioNet databases, e.g. vfdb cudb mitdb.")
    ],
    to: Annotated[
        str, typer.Option(help="Folder; each database goes to TO/<db>.")
    ] = "data/physionet",
    version: Annotated[
        list[str] | None, typer.Option(help="A database's version, DB=X.Y.Z (default: known ones).")
    ] = None,
    url: Annotated[
        str, typer.Option(help="PhysioNet's file index, or a mirror in its layout.")
    ] = "https://physionet.org/files/",
) -> None:
    """Download PhysioNet databases with wfdb (resuming a partial download; checksums verified
    against SHA256SUMS.txt where PhysioNet publishes it)."""
    from ..data.download import download_databases

    versions = {}
    for v in version or []:
        db, sep, ver = v.partition("=")
        if not sep or not ver:
            raise DataError(f"--version {v!r}: give DB=X.Y.Z, e.g. vfdb=1.0.0")
        versions[db] = ver
    summary = download_databases(list(databases), to, url, versions, _echo)
    for db, s in summary.items():
        typer.echo(f"{db} {s['version']}: {s['files']} files in {to}/{db} ({s['fetched']} fetched, "
                   f"{s['completed']} completed, {s['kept']} already there; {s['checked']} "
                   f"checked against {s['checksums']})")  # fmt: skip
