"""Host energy per inference of a trial's model, measured by one measurement actor per node.

Trials train side by side, but a measurement must not share its node with another measurement:
each node gets one actor (named after the node, created by the sweep's driver), and an actor runs
one call at a time (Ray's default for a synchronous actor), so measurements on a node queue up
behind each other. The actor reserves no CPU: the trial that asked waits for it, idle, on its own
core. The trials still training on the node are not stopped, so every measurement says how busy
the node was (``node_busy_share``: other processes' share of the node's CPUs over the
measurement, from ``energy.load.LoadProbe``): a figure taken on a busy node is labelled, not
hidden. The measurement is the project's protocol (``energy.function``, as ``api.measure_function``: warm-up, trials
interleaved with idle windows, gross and net per inference with 95% intervals) on the LiteRT model
at batch 1.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

NAMESPACE = "ecg-energy-sweep"
PROTOCOL = {"trials": 3, "min_seconds": 0.5, "idle_seconds": 0.5}  # short: one per trial


def actor_name(node_id: str) -> str:
    return f"meter-{node_id}"


class Meter:
    """The measurement actor's body (made a Ray actor by :func:`start_meters`)."""

    def __init__(self, meter: str = "auto"):
        self.meter = meter

    def measure(self, content: bytes, window: np.ndarray, name: str) -> dict:
        """One model (the bytes of its .tflite) on one preprocessed window, batch 1."""
        from ..energy.function import measure_callable
        from ..energy.load import LoadProbe
        from ..models.io import load_tflite

        fd, path = tempfile.mkstemp(suffix=".tflite")
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        try:
            runner = load_tflite(path, num_threads=1)
            runner.prepare(1)
            x = np.asarray(window[:1], dtype=np.float32)
            probe = LoadProbe()
            probe.start()
            data = measure_callable(lambda: runner(x), name=name, meter=self.meter, **PROTOCOL)
            busy = probe.stop()
        finally:
            os.unlink(path)
        return host_row(data, busy)


def host_row(data: dict, busy: float | None) -> dict:
    """The measurement's figures as flat ``host_*`` columns (the row of sweep.csv)."""
    v = next(iter(data.get("variants", {}).values()), {})
    net = v.get("energy_j_per_inference_net") or {}
    gross = v.get("energy_j_per_inference_gross") or {}
    lat = v.get("latency_s_per_inference") or {}
    ci = net.get("ci95") or [None, None]
    return {
        "host_net_j": net.get("median"),
        "host_net_j_low": ci[0],
        "host_net_j_high": ci[1],
        "host_gross_j": gross.get("median"),
        "host_latency_s": lat.get("median"),
        "host_method": data.get("method"),
        "host_measured": bool(data.get("measured")),
        "host_error": v.get("error"),
        "node_busy_share": busy,
        "node_busy_max_window_share": (data.get("contamination") or {}).get("max_seen"),
    }


def start_meters(meter: str = "auto") -> list:
    """One measurement actor on every alive node (pinned to it); the handles, to keep them
    alive for the sweep."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    actor = ray.remote(num_cpus=0, max_concurrency=1)(Meter)
    handles = []
    for node in ray.nodes():
        if not node.get("Alive"):
            continue
        node_id = node["NodeID"]
        handles.append(
            actor.options(
                name=actor_name(node_id),
                namespace=NAMESPACE,
                get_if_exists=True,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
            ).remote(meter)
        )
    return handles


def measure_here(path: str, windows: np.ndarray, name: str) -> dict:
    """From inside a trial: the measurement of ``path`` by this node's actor (queued behind any
    other measurement on the node)."""
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    try:
        actor = ray.get_actor(actor_name(node_id), namespace=NAMESPACE)
    except ValueError:
        return {
            "host_error": f"no measurement actor on node {node_id} (it joined after the "
            "sweep started)"
        }
    with open(path, "rb") as fh:
        content = fh.read()
    return ray.get(actor.measure.remote(content, windows, name))
