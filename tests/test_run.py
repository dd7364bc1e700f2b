"""`ecg-energy run` end to end on the tiny run: results, reports, resume, force, kill, user models."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import time

from ecg_energy.cli import main

VARIANTS = ["original", "distilled", "student-plain", "original-int8", "distilled-int8"]


def _row(md: str, name: str) -> list[str]:
    """The cells of the first markdown table row for variant ``name`` after ``heading``."""
    for line in md.splitlines():
        if line.startswith(f"| `{name}` |"):
            return [c.strip() for c in line.strip("|").split("|")]
    raise AssertionError(f"no row for {name}")


def _section(md: str, heading: str) -> str:
    return md.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]


def test_results_json_holds_every_part(tiny_run):
    out = tiny_run[0]
    res = json.loads((out / "results.json").read_text())
    assert res["schema_version"] == 1 and res["tool"]["name"] == "ecg-energy"
    assert res["libraries"]["keras"] == "3.15.1" and res["libraries"]["codecarbon"] == "3.3.2"
    assert res["config"]["synth"]["records"] == 4 and res["config"]["batches"] == [1, 4]
    assert res["machine"]["cpus"] == os.cpu_count()
    assert list(res["variants"]) == VARIANTS
    m = res["measurement"]
    assert m["methods"] == ["cputime-model"] and m["measured"] is False
    assert m["attribution"] == "process" and m["float_runtime"] == "litert"
    # 2 rounds x (an idle window + 5 variants x 2 batch sizes + the original on TensorFlow at b1)
    assert m["contamination"]["windows"] == 24 and len(m["idle_windows"]) == 2
    assert m["contamination"]["max_other_share"] == 1.0  # the fixture's --max-other-share
    assert m["idle_power"]["trials"] == 2 - m["contamination"]["idle_contaminated"]
    tf = res["variants"]["original"]["runtime_comparison"]
    assert tf["runtime"] == "tensorflow" and set(tf["measurements"]) == {"1"}
    for name, v in res["variants"].items():
        assert v["source"] == "built-in"
        assert set(v["measurements"]) == {"1", "4"}
        assert set(v["estimates"]) == {"seed-flat", "horowitz-45nm", "jouppi-7nm"}
        assert v["accuracy"]["confusion"]["classes"] == res["dataset"]["classes"]
        if name == "student-plain":  # our control is not in the report's table: not seeded
            assert v["seed_window"] is None
        else:  # the report's method, with the tiny run's 20 inferences (default 200)
            assert v["seed_window"]["inferences"] == 20
        # the per-layer MACs add up to the model's total
        assert sum(ly["macs"] for ly in v["layers"]) == v["counts"]["macs"], name
    assert res["variants"]["original-int8"]["counts"]["macs_by_precision"] == {"int8": 10_460_224}
    assert v["seed_window"]["runtime"] == "litert-invoke"
    assert res["variants"]["original"]["seed_window"]["runtime"] == "keras-predict"
    # CodeCarbon's own file, as it wrote it: one row per seed window (the cputime meter writes none)
    with open(out / "emissions.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and "energy_consumed" in rows[0]


UNITS = {"fJ": 1e-15, "pJ": 1e-12, "nJ": 1e-9, "µJ": 1e-6, "mJ": 1e-3, "J": 1.0, "ns": 1e-9,
         "µs": 1e-6, "ms": 1e-3, "s": 1.0}  # fmt: skip


def _numbers(text: str) -> list[float]:
    """The quantities a cell shows, read back: '5.63 mJ [5.6 mJ, 5.65 mJ]' -> [5.63e-3, ...]."""
    found = re.findall(r"(\d+(?:\.\d+)?(?:e[-+]\d+)?)(?: (fJ|pJ|nJ|µJ|mJ|J|ns|µs|ms|s)\b)?", text)
    return [float(n) * UNITS.get(u, 1.0) for n, u in found]


def _shown(shown: float, exact: float, digits: int = 3) -> bool:
    """``shown`` is ``exact`` to ``digits`` significant digits (half a unit in the last one)."""
    return abs(shown - exact) <= 0.5 * 10 ** (math.floor(math.log10(abs(exact))) - digits + 1)


def _cell_is(cell: str, stat: dict) -> bool:
    """An energy cell is its figure: the median and interval, or 'unresolved (≤ upper)'."""
    if stat.get("median") is None:
        up = stat.get("upper_j", stat.get("upper"))
        return cell.startswith("unresolved") and (up is None or _shown(_numbers(cell)[0], up))
    want = [stat["median"], *stat["ci95"]]
    got = _numbers(cell)
    return len(got) == 3 and all(_shown(g, w) for g, w in zip(got, want))


def test_report_md_numbers_equal_results_json(tiny_run):
    """Every figure report.md shows, read back as a number, is results.json's to the digits
    shown (the formats themselves are checked against literal strings in report/test_fmt)."""
    out = tiny_run[0]
    res = json.loads((out / "results.json").read_text())
    md = (out / "report.md").read_text()
    energy, accuracy = _section(md, "Energy, by variant"), _section(md, "Detection accuracy")
    reproduced = _section(md, "The report's table").split("this run's models", 1)[1]
    for name, v in res["variants"].items():
        cells = _row(energy, name)
        m1, m4 = v["measurements"]["1"], v["measurements"]["4"]
        h = v["estimates"]["horowitz-45nm"]
        assert cells[2] == "LiteRT" + (" fp32 (from Keras)" if v["format"] == "keras" else "")
        low, high = _numbers(cells[5])
        assert _shown(low, h["low_j"]) and _shown(high, h["high_j"]), cells[5]
        assert _cell_is(cells[7], m1["energy_j_per_inference_net"]), cells[7]
        assert _cell_is(cells[8], m1["energy_j_per_inference_gross"]), cells[8]
        assert _shown(_numbers(cells[9])[0], m1["latency_s_per_inference"]["median"]), cells[9]
        assert _cell_is(cells[10], m4["energy_j_per_inference_net"]), cells[10]
        assert cells[-1] == "cputime-model (modelled)"
        co2 = _row([r for r in energy.splitlines() if r.startswith(f"| `{name}` |")][1], name)
        net = m1["co2e_kg_per_inference_net"]
        assert any(len(_numbers(c)) == 3 and all(_shown(g, w) for g, w in zip(
            _numbers(c), [net["median"], *net["ci95"]])) for c in co2), co2  # fmt: skip
        a = v["accuracy"]
        acc = _row(accuracy, name)[1:3]
        for shown, exact in zip(acc, (a["accuracy"], a["balanced_accuracy"])):
            assert shown.endswith("%") and abs(float(shown[:-1]) - 100 * exact) <= 0.005, shown
        seed, flat = v["seed_window"], v["estimates"]["seed-flat"]
        row = _row(reproduced, name)[2:]
        assert _shown(float(row[0]), flat["low_j"]), row
        if seed is None:
            assert row[1:] == ["n/a", "n/a", "n/a"]
        elif seed["too_short"]:  # shorter than CodeCarbon's 1 s sampling: no figure given
            assert row[1].startswith("too short to read (") and row[2] == "too short to read"
            assert _shown(_numbers(row[3])[0], seed["seconds"] * 1000 / 20), row
        else:
            assert _shown(float(row[2]), seed["co2e_kg"] * 1000 / 20) and _shown(
                _numbers(row[3])[0], seed["seconds"] * 1000 / 20), row  # fmt: skip
    # the report's own table as published
    assert "| Original CNN (.h5) | 23,038,511 | 1.04e-05 | 0.000238 | 6.80e-05 | 10.48 s |" in md
    assert "cputime-model): a model" in md  # what was modelled, in words


def _recommended_by_hand(res, names=None):
    """The rule, worked out from results.json: the lowest net J per inference at batch 1; of the
    variants within 10% of it or whose 95% interval overlaps its interval, the one with the lowest
    horowitz-45nm estimate (the geometric middle of its range)."""
    import math

    net = {n: res["variants"][n]["measurements"]["1"]["energy_j_per_inference_net"]
           for n in names or VARIANTS}  # fmt: skip
    low = min(net, key=lambda n: net[n]["median"])
    lo, hi = net[low]["ci95"]
    tied = [n for n in net if net[n]["median"] <= 1.1 * net[low]["median"]
            or (net[n]["ci95"][0] <= hi and lo <= net[n]["ci95"][1])]  # fmt: skip

    def est(n):
        e = res["variants"][n]["estimates"]["horowitz-45nm"]
        return math.sqrt(e["low_j"] * e["high_j"])

    return min(tied, key=lambda n: (est(n), net[n]["median"]))


def test_tiny_run_recommends_nothing_and_says_why(tiny_run):
    """One held-out record of NSR and other rhythms: no VF, VT or asystole windows, so the AHA goals
    cannot be shown to be met by any variant."""
    out, _, stdout, _ = tiny_run
    res = json.loads((out / "results.json").read_text())
    rec = res["recommendation"]
    assert rec["variant"] is None and rec["candidates"] == []
    assert "recommendation: none" in stdout
    for name in VARIANTS:
        assert "coarse VF: no held-out windows to assess it" in rec["excluded"][name]
    md = (out / "report.md").read_text()
    assert "**No variant is recommended.** No variant meets the constraint" in md
    with open(out / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["variant"] for r in rows] == VARIANTS
    assert [r["recommended"] for r in rows] == ["False"] * 5
    orig = rows[0]
    v = res["variants"]["original"]
    assert float(orig["b1_net_j"]) == v["measurements"]["1"]["energy_j_per_inference_net"]["median"]
    assert int(orig["macs"]) == 10_460_224
    assert float(orig["balanced_accuracy"]) == v["accuracy"]["balanced_accuracy"]


def test_changing_the_constraint_reruns_only_the_report(copy_run, capsys):
    out, argv = copy_run
    assert main([*argv, "--constraint", "none"]) == 0
    printed = capsys.readouterr().out
    assert "stages run: report" in printed
    res = json.loads((out / "results.json").read_text())
    rec = res["recommendation"]
    chosen = _recommended_by_hand(res)
    assert rec["variant"] == chosen and f"recommendation: {chosen}" in printed


def test_force_redoes_one_stage(copy_run, capsys):
    out, argv = copy_run
    before = (out / "estimates.json").read_bytes()
    assert main([*argv, "--force", "estimate"]) == 0
    printed = capsys.readouterr().out
    # the same estimates again: nothing downstream of them changed, so the report is not redone
    assert "stages run: estimate (" in printed
    assert (out / "estimates.json").read_bytes() == before
    assert main([*argv, "--force", "nonsense"]) == 2
    assert "--force nonsense: no such stage" in capsys.readouterr().err


def test_report_command_renders_from_results_json_alone(copy_run, capsys):
    out, _ = copy_run
    md = (out / "report.md").read_text()
    for name in ("report.md", "report.html", "results.csv"):
        (out / name).unlink()
    for folder in ("models", "data"):
        import shutil

        shutil.rmtree(out / folder)
    assert main(["report", str(out)]) == 0
    assert (out / "report.md").read_text().split("created")[0] == md.split("created")[0]
    assert (out / "report.html").is_file() and (out / "results.csv").is_file()
    capsys.readouterr()
    assert main(["report", str(out), "--constraint", "none"]) == 0
    res = json.loads((out / "results.json").read_text())
    lowest = _recommended_by_hand(res)
    assert res["recommendation"]["variant"] == lowest
    assert res["config"]["recommend"]["constraint"] == "none"
    assert f"recommendation: {lowest}" in capsys.readouterr().out
    assert f"**Deploy `{lowest}`.**" in (out / "report.md").read_text()
    assert main(["report", str(out / "nowhere")]) == 2
    assert "results.json: not found" in capsys.readouterr().err
    (out / "results.json").write_text("{")
    assert main(["report", str(out)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_a_killed_run_resumes_where_it_stopped(copy_run, capsys):
    """Kill the process (SIGKILL: no clean-up at all) in a forced measurement, after its first
    round of trials was saved; the next run skips every finished stage and measures only the
    rounds that were missing."""
    out, argv = copy_run
    target = out / "measurements.json"
    code = f"import sys; from ecg_energy.cli import main; sys.exit(main({[*argv, '--force', 'measure']!r}))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 180
    saved: dict = {}
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            saved = json.loads(target.read_text())
        except (OSError, ValueError):
            saved = {}
        if saved.get("rounds_done") == 1:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert saved.get("rounds_done") == 1, "the first round was never saved"
    stages = json.loads((out / "run.json").read_text())["stages"]
    assert "measure" not in stages and stages["evaluate"]["status"] == "done"
    kept = json.loads(target.read_text())
    assert kept["interrupted"] is True and kept["rounds_done"] >= 1
    first = {k: v["trials"][0] for k, v in kept["variants"].items()}
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert f"resuming after round {kept['rounds_done']} of 2" in captured.err
    assert "stages run: measure, report" in captured.out
    assert "stages skipped (unchanged): synth, data, train, distil, quantize, count, estimate, " \
        "evaluate" in captured.out  # fmt: skip
    final = json.loads(target.read_text())
    assert final["interrupted"] is False
    for key, v in final["variants"].items():
        assert len(v["trials"]) == 2 and v["trials"][0] == first[key]  # the killed run's trial kept
    assert json.loads((out / "run.json").read_text())["stages"]["measure"]["status"] == "done"


def test_users_models_on_users_data(copy_run, capsys):
    """`--model my.tflite --model my.keras --data wfdb:PATH`: the same report, with user rows."""
    import shutil

    out, argv = copy_run
    mine = out.parent / "mine"
    mine.mkdir()
    shutil.copy(out / "models" / "distilled-int8.tflite", mine / "wearable.tflite")
    shutil.copy(out / "models" / "student-plain.keras", mine / "plain.keras")
    db = next((out / "data").iterdir())
    argv = [*argv, "--data", f"wfdb:{db}", "--model", str(mine / "wearable.tflite"),
            "--model", str(mine / "plain.keras"), "--constraint", "none"]  # fmt: skip
    assert main(argv) == 0
    res = json.loads((out / "results.json").read_text())
    assert list(res["variants"]) == [*VARIANTS, "wearable", "plain"]
    for name in ("wearable", "plain"):
        v = res["variants"][name]
        assert v["source"] == "user" and v["counts"]["macs"] == 52_720
        assert v["accuracy"]["n"] == res["variants"]["original"]["accuracy"]["n"]
        assert set(v["measurements"]) == {"1", "4"}
    assert res["config"]["data"] == [f"wfdb:{db}"]
    md = (out / "report.md").read_text()
    assert "| `wearable` | int8 | LiteRT | 52,720 int8 |" in md
    # the user's Keras model is measured like the built-in ones: on LiteRT float32, converted
    assert "| `plain` | fp32 | LiteRT fp32 (from Keras) | 52,720 fp32 |" in md
    capsys.readouterr()


def test_cross_validation_tests_every_record_once(tmp_path, capsys):
    out = tmp_path / "cv"
    argv = ["run", "--out", str(out), "--records", "4", "--minutes", "0.5", "--epochs", "1",
            "--meter", "cputime", "--trials", "2", "--min-seconds", "0.05", "--idle-seconds",
            "0.05", "--batch", "1", "--seed-inferences", "5", "--folds", "2"]  # fmt: skip
    assert main(argv) == 0
    assert "stages run: synth, data, crossval, train" in capsys.readouterr().out
    res = json.loads((out / "results.json").read_text())
    ev = res["evaluation"]
    ds = json.loads((out / "dataset.json").read_text())
    records = [r for f in ev["records_by_fold"].values() for r in f]
    assert sorted(records) == sorted(ev["records"]) and len(set(records)) == len(records) == 4
    assert ev["split"] == "cross-validation" and ev["folds"] == 2
    for name, v in res["variants"].items():
        # the pooled confusion matrix holds every window exactly once
        assert sum(map(sum, v["accuracy"]["confusion"]["matrix"])) == ds["examples"], name
    for f in ev["per_fold"]:  # a fold's models never saw its test records
        assert not set(f["records"]["test"]) & (
            set(f["records"]["train"]) | set(f["records"]["val"])
        )
    # the fold models were built apart from the deployed ones, which saw every record
    assert (out / "folds" / "0" / "original.keras").is_file()
    assert (out / "folds" / "1" / "distilled-int8.tflite").is_file()
    assert "Cross-validated by record: 2 folds" in (out / "report.md").read_text()
