"""Benchmark: `ecg-energy run` killed (SIGKILL) at random moments in every stage, resumed each time.

One uninterrupted run of a small configuration is the reference: it gives each stage's duration.
Then a second folder is run, killed and resumed: each kill is aimed at one stage (every stage in
turn, the startup before the first stage included, the longer stages more than once) and falls at
a moment drawn uniformly within the first 70% of that stage's reference duration after the
stage's start line (a run that ends first is started again with the stage forced).
After every kill the folder is checked: ``run.json`` and every JSON file parse, every ``.keras``
is a whole zip archive, every ``.tflite`` a whole FlatBuffer with the LiteRT identifier, every
stage recorded done has all its outputs. A final resume runs to the end, and its results.json is
compared with the reference's in every deterministic field: the data digests and counts, the
models' digests, sizes and operation counts, the estimates, the accuracies.

Writes JSON (default benchmarks/results/fault_injection.json): the kills (stage aimed at, stage
running when killed, seconds into it, what the check found), the fields compared and any that
differ.

    PYTHONPATH=src .venv/bin/python benchmarks/fault_injection.py [--kills 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

from ecg_energy.fsio import atomic_write_json

SMALL = ["--records", "4", "--minutes", "0.5", "--epochs", "2", "--meter", "cputime",
         "--trials", "2", "--min-seconds", "0.1", "--idle-seconds", "0.1", "--batch", "1,4",
         "--seed-inferences", "20", "--max-other-share", "1", "--device", "stm32u575"]  # fmt: skip
STAGE_LINE = re.compile(r"^\[\d+/\d+\] ([a-z, ]+): ")
# results.json's variant fields that do not depend on the clock or the machine's load (any key
# naming seconds is dropped inside them: a prediction's time is not a result)
DETERMINISTIC_VARIANT = ("file", "format", "precision", "parent", "size_bytes", "counts",
                         "layers", "estimates", "accuracy", "device")  # fmt: skip


class Child:
    """`ecg-energy run` in its own process group; its stage lines timed as they arrive."""

    def __init__(self, out: str, extra: tuple[str, ...] = ()):
        cmd = [sys.executable, "-m", "ecg_energy.cli", "run", "--out", out, *SMALL, *extra]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)  # fmt: skip
        self.lines: list[tuple[float, str]] = []
        self.stages: list[tuple[float, str]] = []  # (seconds since start, stage) per start line
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            t = time.monotonic() - self.t0
            with self.changed:
                self.lines.append((t, line.rstrip()))
                m = STAGE_LINE.match(line)
                if m and line.rstrip().endswith("running"):
                    self.stages.append((t, m.group(1).split(",")[0].strip()))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def current(self) -> str:
        return self.stages[-1][1] if self.stages else "startup"

    def wait_for(self, stage: str, order: list[str], timeout: float) -> float | None:
        """Seconds since start when ``stage`` (or a later one) started; None if the run ended."""
        end = time.monotonic() + timeout
        with self.changed:
            while True:
                for t, s in self.stages:
                    if order.index(s) >= order.index(stage):
                        return t
                if self.proc.poll() is not None and not self.reader.is_alive():
                    return None
                if time.monotonic() > end:
                    raise TimeoutError(f"stage {stage} never started")
                self.changed.wait(0.2)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.reader.join(timeout=10)


def check_folder(out: str) -> dict:
    """What a kill left: whole outputs only; the temporary files the next run will remove."""
    bad, stale = [], []
    for root, _, files in os.walk(out):
        for name in files:
            full = os.path.join(root, name)
            rel = os.path.relpath(full, out)
            if ".tmp-" in rel:
                stale.append(rel)
                continue
            problem = _whole(full)
            if problem:
                bad.append(f"{rel}: {problem}")
    missing = []
    path = os.path.join(out, "run.json")
    if os.path.isfile(path):
        with open(path) as fh:
            stages = json.load(fh).get("stages", {})
        for stage, rec in stages.items():
            if rec.get("status") == "done":
                missing += [f"{stage}: {p}" for p in rec.get("outputs", [])
                            if not os.path.exists(os.path.join(out, p))]  # fmt: skip
    done = []
    if os.path.isfile(path):
        with open(path) as fh:
            done = [s for s, r in json.load(fh).get("stages", {}).items()
                    if r.get("status") == "done"]  # fmt: skip
    return {"half_written": bad, "missing_outputs": missing, "temporary_left": len(stale),
            "stages_done": done}  # fmt: skip


def _whole(path: str) -> str | None:
    try:
        if path.endswith(".json"):
            with open(path, encoding="utf-8") as fh:
                json.load(fh)
        elif path.endswith(".keras"):
            with zipfile.ZipFile(path) as z:
                if z.testzip() is not None:
                    return "a damaged member"
        elif path.endswith(".tflite"):
            with open(path, "rb") as fh:
                head = fh.read(8)
            if len(head) < 8 or head[4:8] != b"TFL3" or os.path.getsize(path) < 64:
                return "not a whole LiteRT file"
    except (ValueError, zipfile.BadZipFile, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def deterministic(run_dir: str) -> dict:
    """The fields of a run a re-run must reproduce exactly: the data (its digest in run.json and
    its summary), each model's content digest, and per variant its size, operation counts,
    estimates, accuracy and device figures."""
    from ecg_energy.ledger import file_digest

    with open(os.path.join(run_dir, "results.json")) as fh:
        results = json.load(fh)
    with open(os.path.join(run_dir, "run.json")) as fh:
        data_info = json.load(fh)["stages"]["data"]["info"]
    dataset = dict(results.get("dataset") or {})
    dataset["provenance"] = {k: v for k, v in (dataset.get("provenance") or {}).items()
                             if k != "folder"}  # fmt: skip
    variants = {}
    for name, v in (results.get("variants") or {}).items():
        row = _timeless({k: v.get(k) for k in DETERMINISTIC_VARIANT})
        path = os.path.join(run_dir, v["file"]) if v.get("file") else None
        row["model_digest"] = file_digest(path) if path and os.path.exists(path) else None
        variants[name] = row
    return {"data_digest": data_info.get("digest"), "data_key": data_info.get("key"),
            "dataset": _timeless(dataset), "evaluation": _timeless(results.get("evaluation")),
            "variants": variants}  # fmt: skip


def _timeless(obj):
    if isinstance(obj, dict):
        return {k: _timeless(v) for k, v in obj.items() if "seconds" not in str(k)}
    if isinstance(obj, list):
        return [_timeless(v) for v in obj]
    return obj


def diff(a, b, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b), key=str):
            out += diff(a.get(k), b.get(k), f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in diff(x, y, f"{path}[{i}]")]  # fmt: skip
    return [] if a == b else [f"{path}: {str(a)[:80]} != {str(b)[:80]}"]


def _leaves(obj) -> int:
    if isinstance(obj, dict):
        return sum(_leaves(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(_leaves(v) for v in obj)
    return 1


def plan(kills: int, order: list[str], durations: dict[str, float]) -> list[str]:
    """Every stage once, then the longest ones again, in run order (a finished stage is gone);
    the last stage once (after it there is nothing left to kill)."""
    per = {s: 1 for s in order}
    for s in sorted(order[:-1], key=lambda s: -durations[s]):
        if sum(per.values()) >= kills:
            break
        per[s] += 1
    while sum(per.values()) < kills:  # more kills than twice the stages
        per[max(order[:-1], key=lambda s: durations[s])] += 1
    while sum(per.values()) > kills:  # fewer kills than stages: the longest stages
        per[min((s for s in order if per[s]), key=lambda s: durations[s])] -= 1
    return [s for s in order for _ in range(per[s])]


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(here, "results", "fault_injection.json"))
    ap.add_argument("--keep", help="work in this folder and keep it")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = args.keep or tempfile.mkdtemp(prefix="fault-")
    os.makedirs(work, exist_ok=True)
    t_start = time.monotonic()
    try:
        # both runs in the same folder (the data's key names its folder): the reference is
        # moved aside when it has finished
        out = os.path.join(work, "run")
        ref_dir = os.path.join(work, "reference")
        for d in (out, ref_dir):
            shutil.rmtree(d, ignore_errors=True)
        ref = Child(out)
        ref.proc.wait()
        ref.reader.join()
        if ref.proc.returncode != 0:
            sys.exit("the reference run failed:\n" + "\n".join(x for _, x in ref.lines[-20:]))
        os.rename(out, ref_dir)
        order = ["startup"] + [s for _, s in ref.stages]
        starts = [0.0] + [t for t, _ in ref.stages] + [ref.lines[-1][0]]
        durations = {s: starts[i + 1] - starts[i] for i, s in enumerate(order)}
        print("reference:", ", ".join(f"{s} {d:.1f} s" for s, d in durations.items()), flush=True)
        aims = plan(args.kills, order, durations)

        kills = []
        for i, aim in enumerate(aims, 1):
            extra: tuple[str, ...] = ()
            for attempt in range(5):  # a run that ended first: the stage forced, and again
                child = Child(out, extra)
                started = 0.0 if aim == "startup" else child.wait_for(aim, order, timeout=900)
                # within the first 70% of the stage's reference time (a resumed stage can be
                # quicker than the reference's), half that on a retry
                delay = rng.uniform(0, 0.7 * durations[aim] / (1 + attempt))
                if started is not None:
                    end = child.t0 + started + delay
                    while time.monotonic() < end and child.proc.poll() is None:
                        time.sleep(0.01)
                running = child.current()
                alive = child.proc.poll() is None
                child.kill()
                if alive:
                    break
                extra = ("--force", aim if aim in order[1:] else "report")
            found = check_folder(out)
            kills.append({"kill": i, "aimed_at": aim, "running": running,
                          "seconds_into_stage": round(delay, 2), "killed": alive,
                          "forced": list(extra), **found})  # fmt: skip
            print(f"kill {i:2d}: aimed at {aim}, {running} running, {delay:.1f} s in; "
                  f"half-written {len(found['half_written'])}, missing "
                  f"{len(found['missing_outputs'])}, temporary {found['temporary_left']}",
                  flush=True)  # fmt: skip

        final = Child(out)
        final.proc.wait()
        final.reader.join()
        ok = final.proc.returncode == 0
        want = deterministic(ref_dir)
        got = deterministic(out) if ok else {}
        differences = diff(want, got) if ok else ["the final resume failed"]
        fields = sorted({k for v in want["variants"].values() for k in v})
        result = {
            "benchmark": "fault_injection",
            "command": "ecg-energy run --out X " + " ".join(SMALL),
            "seed": args.seed,
            "kills_planned": len(aims),
            "kills_delivered": sum(1 for k in kills if k["killed"]),
            "reference_stage_seconds": {s: round(d, 1) for s, d in durations.items()},
            "kills": kills,
            "final_resume": {
                "exit": final.proc.returncode,
                "stages_run": [s for _, s in final.stages],
            },  # fmt: skip
            "compared": {
                "data": ["data_digest", "data_key", "dataset", "evaluation"],
                "variant_fields": fields,
                "variants": sorted(want["variants"]),
            },  # fmt: skip
            "half_written_seen": sum(len(k.get("half_written", [])) for k in kills),
            "missing_outputs_seen": sum(len(k.get("missing_outputs", [])) for k in kills),
            "values_compared": _leaves(want),
            "differences": differences,
            "equal": ok and not differences,
            "wall_seconds": round(time.monotonic() - t_start, 1),
            "note": "wall times taken on a shared, loaded 2-core machine",
        }
        atomic_write_json(args.out, result)
        print(f"{result['kills_delivered']} kills; half-written outputs seen: "
              f"{result['half_written_seen']}; final results equal: {result['equal']}"
              + ("" if result["equal"] else f" ({differences[:5]})"))  # fmt: skip
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
