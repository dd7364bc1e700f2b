"""A sweep on Ray Tune: on this machine (a local Ray started for it, loopback only) or on an
existing cluster (``address``), resumable, a failing trial recorded while the others go on.

Order: the address is checked (an unreachable one is one line, and nothing is started); Ray is
started or joined; the data and the shared teacher are prepared on the driver (``shared``); the
trials run as Tune trials, each declaring ``cpus_per_trial`` CPUs, with Tune's
``BasicVariantGenerator`` over the planned points of a grid or random search, or ``OptunaSearch``
(TPE, two objectives: the ranked energy and the AHA-penalised balanced accuracy) for a model-based
search; then the results are written (``results``). Ray is stopped if this call started it.

Resuming: the Tune experiment lives in ``<out>/ray/<name>``, named by the sweep's configuration.
The same configuration again restores it (``tune.Tuner.restore``): finished and failed trials are
kept, only the unfinished ones run. Restoring unpickles ``<out>/ray``, so it happens only in a
folder this user created (``owner``: a signed marker written with the folder, checked before Ray
is started); any other folder is refused in one line. Each trial also keeps its result in its own folder the moment
it finishes, so one that finished after Tune's last save of the experiment is not trained again.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict

from ray import tune

from ..errors import ConfigError, OutputError
from ..fsio import atomic_write_json
from .meter import NAMESPACE
from .pareto import energy_key, objectives
from .shared import TrialContext, digest
from .space import PARAMS, Range, SweepConfig, normalise, planned_points
from .trial import label, run_trial

STATE_FILE = "sweep-run.json"  # marks a sweep folder and lists its sessions


def parse_address(address: str) -> tuple[str, int]:
    """(host, port) of a Ray address: ``HOST:PORT`` (a GCS) or ``ray://HOST:PORT`` (a client).

    >>> parse_address("ray://10.0.0.5:10001"), parse_address("127.0.0.1:6379")
    (('10.0.0.5', 10001), ('127.0.0.1', 6379))"""
    rest = address.split("://", 1)[1] if "://" in address else address
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(
            f"--address {address!r}: give HOST:PORT of the head node (e.g. "
            "127.0.0.1:6379, or ray://HOST:10001 for a Ray client server)"
        )
    return host.strip("[]"), int(port)


def check_address(address: str | None, timeout_s: float = 3.0) -> None:
    """An address that nothing answers on is one ConfigError, before anything is started."""
    if address is None:
        return
    host, port = parse_address(address)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"--address {address}: no Ray cluster answers there ({reason}); start "
            f"one with 'ray start --head --port {port}' on that machine, or leave "
            "out --address to run on this one"
        ) from exc


def loopback_only(on: bool) -> None:
    """Whether a Ray started here binds to 127.0.0.1 only. Ray 2.60 on Linux binds its processes
    to every interface and turns a node address of 127.0.0.1 into the machine's own address,
    unless multi-node clusters are switched off (its switch for Windows and macOS,
    ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``): then one node binds to loopback only. On for a
    local Ray (its child processes read the variable, this process the constant), off to join a
    cluster, whose nodes must reach each other."""
    from ray._private import ray_constants

    os.environ[ray_constants.ENABLE_RAY_CLUSTERS_ENV_VAR] = "0" if on else "1"
    ray_constants.ENABLE_RAY_CLUSTER = not on


def start_ray(address: str | None, cpus: int | None = None) -> bool:
    """Join ``address``, or start a local Ray on loopback with this machine's cores (``cpus``
    to use fewer); no dashboard. True when this call started (or joined) it, so the caller
    shuts it down; False when the process was already connected."""
    import logging

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Tune's tables off: one line per trial
    import ray

    if ray.is_initialized():
        return False
    common = {"namespace": NAMESPACE, "log_to_driver": False, "logging_level": logging.WARNING}
    loopback_only(address is None)
    if address is not None:
        ray.init(address=address, **common)
    else:
        # "local": a new Ray of its own, never a cluster that `ray start` left on the machine
        ray.init(
            address="local",
            num_cpus=cpus or os.cpu_count() or 1,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            **common,
        )
    return True


def tune_space(space: dict) -> dict:
    """The search space as Tune's distributions (Optuna reads them): a list is a choice, a
    range uniform (log-uniform with ``log``; integers inclusive; stepped with ``step``)."""
    out = {}
    for name, spec in space.items():
        if not isinstance(spec, Range):
            out[name] = tune.choice(list(spec))
        elif spec.integer:
            out[name] = tune.randint(int(spec.low), int(spec.high) + 1)
        elif spec.step is not None:
            out[name] = tune.quniform(spec.low, spec.high, spec.step)
        else:
            out[name] = (tune.loguniform if spec.log else tune.uniform)(spec.low, spec.high)
    return out


def search_setup(cfg: SweepConfig) -> tuple[object, dict, int, str]:
    """(search algorithm, param_space, trials, note) for Tune."""
    from ray.tune.search.basic_variant import BasicVariantGenerator

    points, note = planned_points(cfg)
    if cfg.search != "optuna":
        # every planned point is one Tune trial (a grid over the points themselves, in order);
        # the generator keeps its place for a restore
        space = {"point": tune.grid_search(points)}
        # the generator limits its own concurrency (Tune ignores max_concurrent_trials for it)
        return BasicVariantGenerator(max_concurrent=cfg.workers), space, 1, note
    from ray.tune.search.optuna import OptunaSearch

    alg = OptunaSearch(
        metric=["objective_energy_j", "objective_accuracy"], mode=["min", "max"], seed=cfg.seed
    )
    return alg, tune_space(cfg.space), cfg.budget, note


def point_of(config: dict) -> dict:
    """A trial's settings from its Tune config: a planned point (grid, random) or the settings
    the model-based searcher sampled."""
    return config.get("point", config)


def trainable(config: dict, ctx: TrialContext) -> None:
    """One Tune trial (runs in a Ray worker): the trial, and its row reported to Tune."""
    import ray

    from .meter import measure_here

    node = ray.get_runtime_context().get_node_id()
    row = run_trial(
        point_of(config),
        ctx,
        threads=ctx.sweep.cpus_per_trial,
        measure=measure_here if ctx.sweep.measure else None,
        node=node[:12],
    )
    tune.report({**row, **objectives(row, energy_key(ctx.sweep))})


class Progress(tune.Callback):
    """A bar of the trials with the time left on a terminal, else one line per finished or failed
    trial (module-level, so the experiment state that Tune pickles holds it by reference; the bar
    is not pickled)."""

    def __init__(self, echo: Callable[[str], None], total: int, key: str, done: int = 0):
        self.echo, self.total, self.key, self.done = echo, total, key, done

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_bar"}

    def _live_bar(self):
        from ..progress import Bar

        if getattr(self, "_bar", None) is None:
            self._bar = Bar(self.total, "  sweep", unit="trial")
            self._bar.update(self.done)
        return self._bar

    def on_trial_result(self, iteration, trials, trial, result, **info):
        from ..report.fmt import fmt_j

        self.done += 1
        bar = self._live_bar()
        if bar.live:
            bar.update(1, last=result.get("trial"))
            return
        aha = "AHA pass" if result.get("aha_pass") else "AHA miss"
        kept = " (kept from before)" if result.get("reused") else ""
        self.echo(
            f"  trial {self.done}/{self.total} {result.get('trial')}: balanced accuracy "
            f"{100 * result.get('balanced_accuracy', 0):.1f}%, {aha}, "
            f"{fmt_j(result.get(self.key))}, {result.get('seconds', 0):.0f} s{kept}"
        )

    def on_trial_error(self, iteration, trials, trial, **info):
        self.done += 1
        self._live_bar().update(1)
        self.echo(
            f"  trial {self.done}/{self.total} {label(point_of(trial.config))}: failed (recorded; "
            "the sweep goes on)"
        )

    def on_experiment_end(self, trials, **info):
        if getattr(self, "_bar", None) is not None:
            self._bar.close()


def tune_run(
    cfg: SweepConfig,
    ctx: TrialContext,
    storage: str,
    name: str,
    echo: Callable[[str], None],
    fn: Callable = trainable,
) -> tuple[list[dict], dict]:
    """Run (or restore and finish) the Tune experiment ``storage/name``; (rows, facts)."""
    alg, space, samples, note = search_setup(cfg)
    n = cfg.budget if cfg.search == "optuna" else len(space["point"]["grid_search"])
    wrapped = tune.with_resources(tune.with_parameters(fn, ctx=ctx), {"cpu": cfg.cpus_per_trial})
    path = os.path.join(storage, name)
    if os.path.isdir(path):
        from .owner import check_owned

        check_owned(os.path.dirname(storage))  # again, right before Tune reads it
    restored = tune.Tuner.can_restore(path)
    progress = Progress(echo, n, energy_key(cfg))
    if restored:
        tuner = tune.Tuner.restore(
            path,
            trainable=wrapped,
            resume_unfinished=True,
            resume_errored=False,
            restart_errored=False,
        )
        try:
            progress.done = sum(1 for r in tuner.get_results() if r.error or "trial" in r.metrics)
        except Exception:  # no trial had reported before the sweep was stopped
            progress.done = 0
        echo(f"  resuming the sweep in {path}: {progress.done} finished trial(s) kept")
        # the restored run would report through the callback it pickled; this session's echo
        # and count replace it (Tuner.restore takes no run configuration)
        tuner._local_tuner.get_run_config().callbacks = [progress]
    else:
        tuner = tune.Tuner(
            wrapped,
            param_space=space,
            tune_config=tune.TuneConfig(
                search_alg=alg,
                num_samples=samples,
                max_concurrent_trials=(cfg.workers or None) if cfg.search == "optuna" else None,
                trial_name_creator=lambda t: label(point_of(t.config)),
                trial_dirname_creator=lambda t: f"{label(point_of(t.config))}-{t.trial_id}",
            ),
            run_config=tune.RunConfig(
                name=name,
                storage_path=storage,
                verbose=0,
                callbacks=[progress],
                failure_config=tune.FailureConfig(max_failures=cfg.max_failures),
            ),
        )
    grid = tuner.fit()
    rows = [result_row(r) for r in grid]
    return rows, {"planned": n, "plan": note, "restored": restored, "experiment": path}


def result_row(result) -> dict:
    """A Tune result as a trial row: its metrics, or its configuration and error."""
    m = dict(result.metrics or {})
    point = normalise(point_of(result.config))
    if result.error is not None:
        text = str(result.error).strip().splitlines()
        return {
            "trial": label(point),
            **point,
            "status": "error",
            "error": (text[-1] if text else type(result.error).__name__)[:300],
        }
    if "trial" not in m:
        return {"trial": label(point), **point, "status": "not finished"}
    keep = {k: v for k, v in m.items() if k in PARAMS or not _tune_key(k)}
    return {**keep, "status": "ok"}


def _tune_key(k: str) -> bool:
    """Tune's own bookkeeping in a result (timestamps, ids, host), left out of the rows."""
    return k in (
        "timestamp",
        "checkpoint_dir_name",
        "done",
        "training_iteration",
        "trial_id",
        "date",
        "time_this_iter_s",
        "time_total_s",
        "pid",
        "hostname",
        "node_ip",
        "config",
        "time_since_restore",
        "iterations_since_restore",
        "experiment_tag",
        "should_checkpoint",
    )


def config_key(cfg: SweepConfig) -> str:
    """What names the Tune experiment: the whole configuration (another is another experiment;
    its trials still reuse any student already trained with the same settings)."""
    return digest("sweep", asdict(cfg))[:10]


def open_state(out: str, cfg: SweepConfig) -> dict:
    """The sweep folder's state, with a new session appended; a non-empty folder that is not a
    sweep folder is refused."""
    import json

    path = os.path.join(out, STATE_FILE)
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            state = json.load(fh)
    elif os.path.isdir(out) and os.listdir(out):
        raise OutputError(
            f"{out}: folder is not empty and is not a sweep folder; choose a new --out"
        )
    elif os.path.exists(out) and not os.path.isdir(out):
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    else:
        state = {"tool": "ecg-energy", "kind": "sweep", "sessions": []}
    key = config_key(cfg)
    state["sessions"].append(
        {
            "session": len(state["sessions"]) + 1,
            "config_key": key,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    state["experiment"] = f"sweep-{key}"
    return state


def cluster_facts() -> dict:
    import ray

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return {
        "nodes": len(nodes),
        "cpus": int(ray.cluster_resources().get("CPU", 0)),
        "node_ips": sorted({n.get("NodeManagerAddress") for n in nodes}),
    }


def run_sweep(
    cfg: SweepConfig,
    out: str,
    address: str | None = None,
    echo: Callable[[str], None] = lambda m: None,
    cpus: int | None = None,
    fn: Callable = trainable,
) -> dict:
    """Run or resume the sweep ``cfg`` into ``out``; the results (as written to sweep.json)."""
    from .owner import check_owned, is_marked, mark
    from .results import write_results
    from .shared import prepare

    check_address(address)
    state = open_state(out, cfg)
    check_owned(out)  # before Ray is started or touches <out>/ray
    session = state["sessions"][-1]["session"]
    os.makedirs(out, exist_ok=True)
    if not is_marked(out):  # new, or nothing in it that Ray would restore
        mark(out)
    atomic_write_json(os.path.join(out, STATE_FILE), state)
    t0 = time.perf_counter()
    started = start_ray(address, cpus)
    try:
        import ray

        meters = []
        if cfg.measure:
            from .meter import start_meters

            meters = start_meters()
        ctx, facts = prepare(cfg, out, session, echo)
        cluster = {
            **cluster_facts(),
            "address": address or "local",
            "cpus_per_trial": cfg.cpus_per_trial,
            "workers": cfg.workers or None,
        }
        echo(
            f"  Ray: {cluster['nodes']} node(s), {cluster['cpus']} CPUs; "
            f"{cfg.cpus_per_trial} CPU(s) per trial"
        )
        rows, run = tune_run(
            cfg, ctx, os.path.abspath(os.path.join(out, "ray")), state["experiment"], echo, fn
        )
        for m in meters:
            ray.kill(m)
    finally:
        if started:
            import ray

            ray.shutdown()
    wall = time.perf_counter() - t0
    state["sessions"][-1].update(
        finished=time.strftime("%Y-%m-%dT%H:%M:%S"),
        wall_seconds=round(wall, 1),
        trials_run=sum(
            1
            for r in rows
            if r.get("status") == "ok" and r.get("session") == session and not r.get("reused")
        ),
    )
    atomic_write_json(os.path.join(out, STATE_FILE), state)
    return write_results(out, cfg, rows, facts, {**run, **cluster}, state)
