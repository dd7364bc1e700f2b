"""The sweep command: search student size, distillation and quantization on Ray Tune."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import _echo, app


@app.command()
def sweep(
    config: Annotated[str, typer.Option(help="The sweep file (TOML), e.g. examples/sweep.toml.")],
    out: Annotated[str, typer.Option(help="Sweep folder (resumed when it holds this sweep).")] = (
        "runs/sweep"
    ),
    address: Annotated[
        str | None,
        typer.Option(
            help="An existing Ray cluster, HOST:PORT (default: a local Ray on this "
            "machine's cores)."
        ),
    ] = None,
    budget: Annotated[int | None, typer.Option(help="Trials at most (overrides the file).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Trials at a time (overrides the file; 0: as CPUs allow).")
    ] = None,
) -> int:
    """Train, distil, quantize, score and price every student configuration of a search space
    on Ray Tune; write the trial table, the Pareto front and a recommendation."""
    from ..api import sweep as run_sweep
    from ..report.fmt import fmt_j

    res = run_sweep(config, out, address=address, budget=budget, workers=workers, echo=_echo)
    key = res["energy_ranked"]["key"]
    rec = res["recommendation"]
    typer.echo(f"recommendation: {rec['trial'] or 'none'}")
    typer.echo(f"  {rec['reason']}")
    typer.echo(f"Pareto front ({res['energy_ranked']['words']}):")
    by_name = {r["trial"]: r for r in res["trials"]}
    if not res["pareto"]["front"]:
        typer.echo("  (empty: no trial meets every AHA goal with an energy figure)")
    for name in res["pareto"]["front"]:
        r = by_name[name]
        typer.echo(f"  {name:<34} {r['macs']:>9,} MACs  {fmt_j(r[key]):>9}  balanced accuracy "
                   f"{100 * r['balanced_accuracy']:.2f}%")  # fmt: skip
    s = res["summary"]
    typer.echo(f"trials: {s['finished']} finished, {s['failed']} failed, {s['not_finished']} "
               f"not finished, of {s['planned']}; {s['aha_passing']} meet every AHA goal")  # fmt: skip
    typer.echo(f"results: {out}/sweep.json, sweep.csv, report.md, report.html; models: "
               f"{out}/pareto/")  # fmt: skip
    if s["not_finished"]:
        _echo("interrupted: finished trials were kept; run the same command again to finish")
        return 130
    return 0
