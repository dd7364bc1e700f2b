"""Model commands: train, evaluate."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..errors import ConfigError
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
    _echo,
    _models_config,
    _read_options,
    app,
)


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
    folds: Annotated[
        int, typer.Option(help="Cross-validate by record with K folds first (0: no).")
    ] = 0,
) -> None:
    """Train the original, distil the student (and its plain control), quantize with LiteRT."""
    from dataclasses import replace

    from ..data.dataset import split_by_record
    from ..data.sources import load_source, parse_source
    from ..models.variants import build_variants
    from ..pipeline import check_run_dir, data_key, mark_run_dir

    check_run_dir(out)
    cfg = _models_config(epochs, quantize, seed)
    try:
        cfg = replace(cfg, train=replace(cfg.train, temperature=temperature,
                                         student_loss_weight=hard_weight))  # fmt: skip
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    opts = _read_options(task, lead, window_s, stride_s, annotator, split)
    ds, _ = load_source(parse_source(data_src), opts, os.path.join(out, "data"))
    if folds:
        from ..fsio import atomic_write_json
        from ..models.crossval import cross_validate
        from ..pipeline import DEPLOY_FRACTIONS

        cv = cross_validate(ds, folds, seed, cfg, os.path.join(out, "folds"), _echo)
        atomic_write_json(os.path.join(out, "crossval.json"), cv)
        _print_pooled(cv)
        sp = split_by_record(ds, DEPLOY_FRACTIONS, seed=seed)  # deployed: every record
    else:
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
    models: Annotated[
        list[str], typer.Argument(help="Model files (.keras, .h5, .tflite), or folders of them.")
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
) -> None:
    """Evaluate model files on held-out records: per-class metrics and the AHA goals."""
    from ..data.dataset import split_by_record
    from ..data.sources import load_sources
    from ..models.assess import evaluate_files
    from ..models.preprocess import PREPROCESSORS
    from ..report.text import format_evaluation

    if on not in ("auto", "test", "all"):
        raise ConfigError(f"--on must be auto, test or all, not {on!r}")
    if preprocess is not None and preprocess not in PREPROCESSORS:
        raise ConfigError(f"--preprocess must be one of {', '.join(PREPROCESSORS)}")
    models = _model_files(models)
    opts = _read_options(task, lead, window_s, stride_s, annotator, split)
    sources = list(data_src or ["synth"])
    ds, _ = load_sources(sources, opts, cache)
    data_text = " + ".join(sources)
    if on == "auto":
        on, why = _auto_on(list(models), ds)
        _echo(f"evaluating on {on} records: {why}")
    if on == "test":
        ds = ds.subset(split_by_record(ds, seed=seed).test)
    preds: dict = {}
    results = evaluate_files(list(models), ds, unsafe=unsafe_load, preprocessing=preprocess,
                             predictions=preds)  # fmt: skip
    if folds:
        from ..models.crossval import fold_of_windows

        fold, _ = fold_of_windows(ds, folds, seed)
        for name in results:
            results[name]["folds"] = _fold_scores(preds[name], ds, fold, folds)
    if as_json:
        from ..fsio import to_json

        typer.echo(to_json({"data": data_text, "on": on, "examples": len(ds), "variants": results}))
    else:
        typer.echo(f"{len(ds)} examples ({on}) from {data_text}")
        typer.echo(format_evaluation(results))
        for name, r in results.items():
            if r.get("folds"):
                bal = [f["balanced_accuracy"] for f in r["folds"]]
                typer.echo(f"{name}: balanced accuracy over {len(bal)} record folds "
                           f"{100 * min(bal):.1f}%-{100 * max(bal):.1f}%")  # fmt: skip


MODEL_SUFFIXES = (".keras", ".h5", ".tflite")


def _model_files(paths: list[str]) -> list[str]:
    """The paths, with every folder replaced by the model files in it (sorted by name)."""
    out = []
    for p in paths:
        if not os.path.isdir(p):
            out.append(p)
            continue
        found = sorted(os.path.join(p, f) for f in os.listdir(p) if f.endswith(MODEL_SUFFIXES))
        if not found:
            raise ConfigError(f"{p}: no model files (.keras, .h5, .tflite) in this folder; give "
                              "model files or a run's models/ folder")  # fmt: skip
        out += found
    return out


def _auto_on(paths: list[str], ds) -> tuple[str, str]:
    """("test" | "all", why): a model's held-out records when some model was trained on records
    of this very data, else every record (data the models never saw)."""
    from ..models.io import read_sidecar

    prov = ds.provenance or {}
    several = "sources" in prov
    records = set(ds.groups.tolist())
    for part in prov.get("sources", [prov]):
        source, folder = part.get("source"), part.get("folder")
        # this data's records of that source, bare and as "<source>/<record>" (the names a
        # model trained on several sources gives them)
        if several:
            bare = {r.split("/")[-1] for r in records if r.startswith(f"{source}/")}
        else:
            bare = records
        mine = bare | {f"{source}/{r}" for r in bare}
        for p in paths:
            seen = read_sidecar(p).get("trained_on") or {}
            same = source in (seen.get("sources") or []) or folder in (seen.get("folders") or [])
            if same and mine & set(seen.get("records") or []):
                return "test", (f"{os.path.basename(p)} was trained on records of {source}; "
                                "scoring its held-out test records (--on all to score every "
                                "record)")  # fmt: skip
    return "all", "the models were not trained on this data (--on test for a held-out split)"


def _fold_scores(pred, ds, fold, k) -> list[dict]:
    """A fixed model's figures on each of K record folds of ``ds`` (their spread)."""
    from ..models.evaluate import evaluate_predictions

    out = []
    for f in range(k):
        m = fold == f
        e = evaluate_predictions(pred[m], ds.y[m], ds.class_names, ds.rhythm[m],
                                 ds.amplitude_uv[m], ds.task)  # fmt: skip
        out.append({"fold": f + 1, "records": sorted(set(ds.groups[m].tolist())),
                    "balanced_accuracy": e["balanced_accuracy"],
                    "shock_decision": e.get("shock_decision")})  # fmt: skip
    return out


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
