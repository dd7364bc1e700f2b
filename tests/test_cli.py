"""The command line: outputs, and one clear line with a non-zero exit for every bad input."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

from ecg_energy.cli import main


def _fails_with_one_line(capsys, argv, *fragments, code=2):
    rc = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == code
    assert len(err) == 1 and err[0].startswith("error: "), err
    for f in fragments:
        assert f in err[0]
    return err[0]


def test_synth_writes_a_database(tmp_path, capsys):
    out = tmp_path / "db"
    assert main(["synth", "--out", str(out), "--records", "2", "--minutes", "0.5"]) == 0
    assert (out / "RECORDS").read_text() == "s001\ns002\n"
    assert sorted(p.suffix for p in out.iterdir() if p.stem == "s001") == [".atr", ".dat", ".hea"]
    assert "wrote 2 records" in capsys.readouterr().err


def test_synth_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    _fails_with_one_line(capsys, ["synth", "--out", str(tmp_path)], "not empty")
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_failed_synth_leaves_no_half_written_folder(tmp_path, capsys, monkeypatch):
    import ecg_energy.data.synth as synth

    def broken(cfg, out_dir, progress=None, workers=None):
        with open(f"{out_dir}/s001.hea", "w") as fh:  # a partial file in the temporary folder
            fh.write("partial")
        raise OSError("disk full")

    monkeypatch.setattr(synth, "generate", broken)
    _fails_with_one_line(capsys, ["synth", "--out", str(tmp_path / "db")], "disk full", code=1)
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its temporary twin


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["data", "foo:bar"], "unknown data source 'foo:bar'"),
        (["data", "synth:x"], "synth seed must be an integer"),
        (["data", "wfdb:"], "name a folder after 'wfdb:'"),
        (["data", "wfdb:/no/such/db"], "/no/such/db: folder not found"),
        (["data", "kaggle:/no/such.csv", "--task", "beats"], "/no/such.csv: file not found"),
        (["data", "synth", "--task", "waves"], "task must be 'rhythm' or 'beats'"),
        (["synth", "--out", "x", "--records", "0"], "records must be at least 1"),
        # checked before a run folder is made or any work starts
        (
            ["run", "--out", "/tmp/ecg-energy-never", "--model", "/no/such.tflite"],
            "/no/such.tflite: model file not found; check the path given to --model",
        ),
        (["run", "--out", "/tmp/ecg-energy-never", "--meter", "foo"], "unknown meter 'foo'"),
        (
            [
                "run",
                "--out",
                "/tmp/ecg-energy-never",
                "--data",
                "kaggle:/no/x.csv",
                "--task",
                "beats",
            ],
            "/no/x.csv: file not found",
        ),
        (
            ["run", "--out", "/tmp/ecg-energy-never", "--constraint", "best"],
            "recommend.constraint must be one of",
        ),
        (["report", "/no/such/run"], "results.json: not found"),
    ],
)
def test_bad_input_is_one_line(capsys, argv, fragment):
    _fails_with_one_line(capsys, argv, fragment)


def test_kaggle_with_rhythm_task(tmp_path, capsys):
    f = tmp_path / "k.csv"
    f.write_text(",".join(["0"] * 188) + "\n")
    _fails_with_one_line(capsys, ["data", f"kaggle:{f}"], "use --task beats")


def test_corrupt_record_in_a_folder(tmp_path, capsys, make_record):
    make_record(tmp_path, "r1", np.zeros(2500), 250, [(0, "+", "(N")])
    (tmp_path / "r1.hea").write_text("garbage\n")
    _fails_with_one_line(capsys, ["data", f"wfdb:{tmp_path}"], "r1.hea: not a valid WFDB header")


def test_verbose_shows_the_traceback(capsys):
    assert main(["--verbose", "data", "wfdb:/no/such/db"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("error: ")


def test_data_prints_counts_per_split(synth_db, capsys):
    assert main(["data", f"wfdb:{synth_db}", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["records"] == 12 and summary["input_shape"] == [1000, 1]
    assert sum(summary["class_counts"].values()) == summary["examples"]
    parts = [summary["split"][s]["examples"] for s in ("train", "val", "test")]
    assert sum(parts) == summary["examples"]


def test_data_on_the_mitdb_excerpt(mitdb_dir, capsys):
    assert main(["data", f"wfdb:{mitdb_dir}", "--task", "beats", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["class_counts"] == {"N": 73, "S": 1, "V": 0, "F": 0, "Q": 0}
    assert "need at least 3 records" in captured.err  # one record: shown without a split


def test_run_says_which_stages_ran(tiny_run):
    out, _, stdout, _ = tiny_run
    assert "stages run: synth, data, train, distil, quantize, count, estimate, measure, " \
        "evaluate, report" in stdout  # fmt: skip
    marker = json.loads((out / "run.json").read_text())
    assert list(marker["stages"]) == ["synth", "data", "train", "distil", "quantize", "count",
                                      "estimate", "measure", "evaluate", "report"]  # fmt: skip
    assert all(r["status"] == "done" for r in marker["stages"].values())
    measured = json.loads((out / "measurements.json").read_text())
    assert measured["method"] == "cputime-model" and measured["measured"] is False
    assert set(measured["variants"]) == {f"{v}@{b}" for v in ("original", "distilled",
                                         "student-plain", "original-int8", "distilled-int8")
                                         for b in (1, 4)} | {"original@1:tensorflow"}  # fmt: skip
    # every variant on LiteRT (the Keras ones converted, float32); the original also on
    # TensorFlow at batch 1, for the runtime's share of the saving
    assert {v["runtime"] for v in measured["variants"].values()} == {"litert", "tensorflow"}
    assert measured["variants"]["original@1:tensorflow"]["runtime"] == "tensorflow"
    assert measured["runtimes"]["distilled"]["converted"] is True
    for name in ("results.json", "results.csv", "report.md", "report.html", "emissions.csv"):
        assert (out / name).is_file(), name


def test_run_writes_data_models_and_evaluation(tiny_run):
    out = tiny_run[0]
    summary = json.loads((out / "dataset.json").read_text())
    assert summary["records"] == 4
    assert sum(summary["split"][s]["examples"] for s in ("train", "val", "test")) == \
        summary["examples"]  # fmt: skip
    models = sorted(p.name for p in (out / "models").iterdir())
    assert models == sorted([
        "original.keras", "original.json", "distilled.keras", "distilled.json",
        "student-plain.keras", "student-plain.json", "original-int8.tflite", "original-int8.json",
        "distilled-int8.tflite", "distilled-int8.json", "variants.json",
    ])  # fmt: skip
    evaluation = json.loads((out / "evaluation.json").read_text())
    variants = evaluation["variants"]
    assert list(variants) == ["original", "distilled", "student-plain", "original-int8",
                              "distilled-int8"]  # fmt: skip
    n_test = summary["split"]["test"]["examples"]
    for r in variants.values():
        assert sum(map(sum, r["confusion"]["matrix"])) == n_test
        assert set(r["aha"]) == {"coarse VF", "rapid VT", "NSR", "asystole",
                                 "other non-shockable", "fine VF", "slow VT"}  # fmt: skip
    assert variants["distilled-int8"]["parent"] == "distilled"
    # agreement with the parent: the share of test windows both give the same class, counted
    # here from the two models' own logits on the test records evaluation.json names
    from ecg_energy.data.wfdb_source import load_wfdb
    from ecg_energy.models.assess import logits_of
    from ecg_energy.models.io import load_model_file

    ds, _ = load_wfdb(str(out / "data" / "synth-seed0-4x0.5min-250hz"))
    test = ds.subset(np.flatnonzero(np.isin(ds.groups, evaluation["records"])))
    assert len(test) == n_test
    for child, parent in (("original-int8", "original"), ("distilled-int8", "distilled")):
        a, b = (logits_of(load_model_file(str(out / "models" / f)), test.X).argmax(1)
                for f in (f"{child}.tflite", f"{parent}.keras"))  # fmt: skip
        same = int((a == b).sum())
        assert variants[child]["agreement_with_parent"] == pytest.approx(same / n_test), child


def test_run_counts_and_estimates_every_variant(tiny_run):
    out = tiny_run[0]
    counts = json.loads((out / "counts.json").read_text())
    energy = json.loads((out / "estimates.json").read_text())
    assert set(counts) == set(energy) == {"original", "distilled", "student-plain",
                                          "original-int8", "distilled-int8"}  # fmt: skip
    # post-training quantization keeps the MACs (10,460,224 and 52,720 for 1000-sample windows)
    assert counts["original"]["macs"] == counts["original-int8"]["macs"] == 10_460_224
    assert counts["distilled"]["macs"] == counts["distilled-int8"]["macs"] == 52_720
    assert counts["original-int8"]["macs_by_precision"] == {"int8": 10_460_224}
    flat = energy["original"]["estimates"]["seed-flat"]
    assert flat["flops_source"] == "tf-profiler"
    assert flat["low_j"] == pytest.approx(counts["original"]["profiler_flops"] * 0.45e-12)
    h = energy["original-int8"]["estimates"]["horowitz-45nm"]
    assert (
        h["low_j"] <= h["high_j"]
        and h["measured"] is False
        and h["method"] == "table:horowitz-45nm"
    )


def test_count_command(tiny_run, capsys):
    out = tiny_run[0]
    assert main(["count", str(out / "models" / "distilled-int8.tflite"), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["macs"] == 52_720 and got["uncounted"] == []
    (out / "broken.tflite").write_bytes(b"1234TFL3" + b"\x00" * 10)
    _fails_with_one_line(capsys, ["count", str(out / "broken.tflite")], "broken.tflite")
    (out / "broken.tflite").unlink()


def test_evaluate_command_matches_the_run(tiny_run, capsys):
    out = tiny_run[0]
    data = f"wfdb:{out}/data/synth-seed0-4x0.5min-250hz"
    models = [str(out / "models" / "original.keras"), str(out / "models" / "original-int8.tflite")]
    assert main(["evaluate", *models, "--data", data, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["variants"]
    saved = json.loads((out / "evaluation.json").read_text())["variants"]
    for name in ("original", "original-int8"):
        assert got[name]["confusion"] == saved[name]["confusion"]
        assert got[name]["balanced_accuracy"] == saved[name]["balanced_accuracy"]


def test_a_second_run_skips_every_finished_stage(tiny_run, capsys):
    out, argv, _, _ = tiny_run
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "stages run: none" in captured.out
    assert "stages skipped (unchanged): synth, data, train, distil, quantize, count, estimate, " \
        "measure, evaluate, report" in captured.out  # fmt: skip
    assert "running" not in captured.err


def test_run_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    _fails_with_one_line(capsys, ["run", "--out", str(tmp_path)], "not an ecg-energy run folder")
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


def test_failed_run_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "run"
    _fails_with_one_line(capsys, ["run", "--out", str(out), "--data", "wfdb:/no/such/db"],
                         "folder not found")  # fmt: skip
    assert not out.exists()


def test_evaluate_refuses_unsafe_and_broken_models(tmp_path, capsys, synth_db):
    import keras

    inp = keras.Input((1000, 1))
    x = keras.layers.Lambda(lambda t: t + 1.0)(inp)
    keras.Model(inp, keras.layers.Dense(5)(keras.layers.GlobalAveragePooling1D()(x))).save(
        tmp_path / "lam.keras"
    )
    data = ["--data", f"wfdb:{synth_db}", "--on", "all"]
    _fails_with_one_line(capsys, ["evaluate", str(tmp_path / "lam.keras"), *data],
                         "Lambda layer", "--unsafe-load")  # fmt: skip
    (tmp_path / "bad.tflite").write_bytes(b"\x00" * 64)
    _fails_with_one_line(capsys, ["evaluate", str(tmp_path / "bad.tflite"), *data], "bad.tflite")
    small = keras.Model(inp := keras.Input((187, 1)),
                        keras.layers.Dense(5)(keras.layers.Flatten()(inp)))  # fmt: skip
    small.save(tmp_path / "beats.keras")
    _fails_with_one_line(capsys, ["evaluate", str(tmp_path / "beats.keras"), *data],
                         "expects input (187, 1), the data gives (1000, 1)")  # fmt: skip


def test_measured_logits_equal_evaluation_logits(tiny_run):
    from ecg_energy.data.wfdb_source import load_wfdb
    from ecg_energy.energy.measure import build_workloads
    from ecg_energy.models.assess import logits_of
    from ecg_energy.models.io import load_model_file

    out = tiny_run[0]
    ds, _ = load_wfdb(str(out / "data" / "synth-seed0-4x0.5min-250hz"))
    ds = ds.subset(np.arange(4))
    for name, runtime in (("original.keras", "tensorflow"), ("distilled-int8.tflite", "litert")):
        path = str(out / "models" / name)
        workloads, runtimes = build_workloads([path], ds, (4,), threads=None,
                                              float_runtime="tensorflow")  # fmt: skip
        w = workloads[0]
        assert w.runtime == runtime and runtimes[w.name]["runtime"] == runtime
        measured = np.asarray(w.decode(w.call()) if w.decode else w.call())
        evaluated = logits_of(load_model_file(path), ds.X)
        np.testing.assert_allclose(measured, evaluated, rtol=1e-5, atol=1e-6)
    # like with like (the default): the Keras original measured on LiteRT float32, the same
    # weights; its logits within the conversion check's tolerance and the same classes
    path = str(out / "models" / "original.keras")
    workloads, runtimes = build_workloads([path], ds, (4,), threads=None)
    w = workloads[0]
    assert w.runtime == "litert" and runtimes["original"]["converted"] is True
    measured, evaluated = w.decode(w.call()), logits_of(load_model_file(path), ds.X)
    assert np.max(np.abs(measured - evaluated)) <= 1e-3 * max(1.0, np.max(np.abs(evaluated)))
    assert (measured.argmax(1) == evaluated.argmax(1)).all()
    assert runtimes["original"]["check"]["argmax_agreement"] == 1.0


def test_measure_command_with_the_cputime_model(tiny_run, capsys):
    # --max-other-share 1: a burst of other work on a shared machine must not void the figures
    out = tiny_run[0]
    data = f"wfdb:{out}/data/synth-seed0-4x0.5min-250hz"
    argv = ["measure", str(out / "models" / "distilled-int8.tflite"), "--data", data, "--meter",
            "cputime", "--trials", "2", "--min-seconds", "0.2", "--idle-seconds", "0.1",
            "--batch", "1,8", "--max-other-share", "1", "--json", "--out",
            str(out / "measure")]  # fmt: skip
    assert main(argv) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["method"] == "cputime-model" and res["measured"] is False
    v = res["variants"]["distilled-int8@8"]
    assert len(v["trials"]) == 2 and all(t["inferences"] % 8 == 0 for t in v["trials"])
    lo, hi = v["energy_j_per_inference_gross"]["ci95"]
    assert lo <= v["energy_j_per_inference_gross"]["median"] <= hi
    assert v["co2e_kg_per_inference_gross"]["median"] == pytest.approx(
        v["energy_j_per_inference_gross"]["median"]
        / 3.6e6
        * res["carbon_intensity_g_per_kwh"]
        / 1000
    )
    assert (
        json.loads((out / "measure" / "measurements.json").read_text())["method"] == "cputime-model"
    )


def test_unavailable_meter_is_one_line(tiny_run, capsys):
    out = tiny_run[0]
    _fails_with_one_line(capsys, ["measure", str(out / "models" / "distilled-int8.tflite"),
                                  "--data", f"wfdb:{out}/data/synth-seed0-4x0.5min-250hz",
                                  "--meter", "rapl"], "RAPL")  # fmt: skip


def test_bad_quantization_is_one_line(capsys):
    _fails_with_one_line(capsys, ["run", "--quantize", "int4"], "unknown LiteRT version int4",
                         "int8, fp16, dynamic, fp32")  # fmt: skip


def test_a_decision_over_no_window_is_one_line(capsys):
    _fails_with_one_line(capsys, ["run", "--decide-over", "-1"], "decide_over", "at least 1")


def test_models_config_accepts_every_litert_version():
    from ecg_energy.models.variants import ModelsConfig

    assert ModelsConfig(quantize=("int8", "fp16", "dynamic", "fp32")).quantize[-1] == "fp32"


def test_train_command_makes_every_variant_in_a_run_folder(tiny_run, tmp_path, capsys):
    import shutil

    db = next((tiny_run[0] / "data").iterdir())
    # the tiny database's four records dealt into two databases: --data twice is one dataset
    names = (db / "RECORDS").read_text().split()
    dbs = [tmp_path / "a", tmp_path / "b"]
    for i, folder in enumerate(dbs):
        folder.mkdir()
        mine = names[i::2]
        for f in db.iterdir():
            if f.stem in mine:
                shutil.copy(f, folder / f.name)
        (folder / "RECORDS").write_text("".join(n + "\n" for n in mine))
    out = tmp_path / "t"
    assert main(["train", "--data", f"wfdb:{dbs[0]}", "--data", f"wfdb:{dbs[1]}", "--out",
                 str(out), "--epochs", "1"]) == 0  # fmt: skip
    trained_on = json.loads((out / "models" / "original.json").read_text())["trained_on"]
    assert trained_on["sources"] == [f"wfdb:{dbs[0]}", f"wfdb:{dbs[1]}"]
    assert sorted(p.name for p in (out / "models").iterdir()) == sorted(
        f"{v}.{ext}" for v, k in (("original", "keras"), ("distilled", "keras"),
                                  ("student-plain", "keras"), ("original-int8", "tflite"),
                                  ("distilled-int8", "tflite")) for ext in (k, "json"))  # fmt: skip
    assert json.loads((out / "run.json").read_text())["made_by"] == "ecg-energy train"
    assert "models in" in capsys.readouterr().out


def test_evaluate_scores_all_of_data_the_models_never_saw(tiny_run, tmp_path, make_record, capsys):
    import shutil

    import numpy as np

    # one record of a user's own (60 s of a 1 mV, 75 bpm pulse train at 250 Hz, labelled NSR):
    # 29 complete 4-s windows at a 2-s stride, all of them scored, no split asked for
    folder = tmp_path / "mine"
    folder.mkdir()
    sig = np.zeros(250 * 60)
    sig[::200] = 1.0
    make_record(
        folder, "r1", sig, 250, [(0, "+", "(N")] + [(i, "N", "") for i in range(0, 15000, 200)]
    )
    (folder / "RECORDS").write_text("r1\n")
    model = tiny_run[0] / "models" / "distilled-int8.tflite"
    assert main(["evaluate", str(model), "--data", f"wfdb:{folder}", "--json"]) == 0
    captured = capsys.readouterr()
    assert "evaluating on all records: the models were not trained on this data" in captured.err
    assert json.loads(captured.out)["examples"] == 29
    shutil.rmtree(folder)


def test_evaluate_with_folds_gives_each_folds_figures(tiny_run, synth_db, capsys):
    model = tiny_run[0] / "models" / "distilled-int8.tflite"
    argv = ["evaluate", str(model), "--data", f"wfdb:{synth_db}", "--folds", "3", "--json"]
    assert main(argv) == 0
    res = json.loads(capsys.readouterr().out)
    r = res["variants"]["distilled-int8"]
    recs = [x for f in r["folds"] for x in f["records"]]
    assert len(r["folds"]) == 3 and sorted(recs) == [f"s{i:03d}" for i in range(1, 13)]
    # the folds' shock decisions add up to the whole: every shockable window is in one fold
    assert (
        sum(f["shock_decision"]["shockable"] for f in r["folds"])
        == r["shock_decision"]["shockable"]
    )


def test_train_with_folds_cross_validates_then_trains_on_every_record(tmp_path, synth_db, capsys):
    out = tmp_path / "t"
    assert main(["train", "--data", f"wfdb:{synth_db}", "--out", str(out), "--epochs", "1",
                 "--folds", "2"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "cross-validation by record, 2 folds (every record tested once):" in printed
    cv = json.loads((out / "crossval.json").read_text())
    folds = cv["records_by_fold"]
    assert sorted(folds["1"] + folds["2"]) == [f"s{i:03d}" for i in range(1, 13)]
    side = json.loads((out / "models" / "original.json").read_text())
    # the deployed original learnt from every record (train + validation), none held out
    assert sorted(side["trained_on"]["records"]) == [f"s{i:03d}" for i in range(1, 13)]


@pytest.mark.parametrize(
    "argv, usage, hint",
    [
        (["cuont", "x.tflite"], "Usage: ecg-energy [OPTIONS] COMMAND", "Did you mean 'count'?"),
        (["count", "--modle", "x"], "Usage: ecg-energy count", "No such option: --modle"),
        (["zzzz"], "Usage: ecg-energy [OPTIONS] COMMAND", "No such command 'zzzz'."),
    ],
)
def test_a_usage_error_prints_the_usage_line_and_the_nearest_command(capsys, argv, usage, hint):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith(usage)
    assert err[1].startswith("error: ") and hint in err[1] and "unexpected" not in err[1]


def test_nearest_command():
    from ecg_energy.cli import nearest

    assert nearest("devics", ["device", "devices", "count"]) in ("devices", "device")
    assert nearest("mesure", ["measure", "estimate"]) == "measure"
    assert nearest("zzzz", ["measure", "estimate"]) is None


def test_evaluate_decides_over_windows_and_keeps_each_window_beside(tiny_run, synth_db, capsys):
    model = str(tiny_run[0] / "models" / "distilled-int8.tflite")
    data = ["--data", f"wfdb:{synth_db}", "--on", "all", "--json"]
    assert main(["evaluate", model, *data]) == 0
    alone = json.loads(capsys.readouterr().out)["variants"]["distilled-int8"]
    assert main(["evaluate", model, *data, "--decide-over", "3"]) == 0
    res = json.loads(capsys.readouterr().out)
    over = res["variants"]["distilled-int8"]
    # the per-window figures of the 3-window decision are the plain evaluation's
    assert over["per_window"]["shock_decision"] == alone["shock_decision"]
    assert over["per_window"]["balanced_accuracy"] == alone["balanced_accuracy"]
    # 4-s windows every 2 s: 3 windows are 8 s of ECG; each of the 12 records' first windows
    # (and a window after one left out at a rhythm change) has none before it
    assert over["decision"]["windows"] == 3 and over["decision"]["stride_s"] == 2.0
    assert over["decision"]["seconds_of_ecg"] == 8.0
    assert 0.5 < over["decision"]["with_predecessor"] <= 1 - 12 / res["examples"]
    assert sum(map(sum, over["confusion"]["matrix"])) == sum(map(sum, alone["confusion"]["matrix"]))
    _fails_with_one_line(capsys, ["evaluate", model, *data, "--decide-over", "0"],
                         "--decide-over", "at least 1")  # fmt: skip


# what the machine does to a command is one line the user can act on, never "unexpected"


def _fake_generate(exc):
    def generate(cfg, folder, progress=None):
        with open(f"{folder}/s001.dat", "wb") as fh:  # a half-written record
            fh.write(b"\x00" * 10)
        raise exc(folder)

    return generate


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (
            lambda d: OSError(errno.ENOSPC, "No space left on device", f"{d}/s001.dat"),
            "s001.dat: no space left on the device (ENOSPC); free some space (or choose another "
            "folder) and run the same command again; finished outputs are kept",
        ),
        (
            lambda d: OSError(errno.ENOSPC, "No space left on device"),
            "error: no space left on the device while reading or writing (ENOSPC); free some space",
        ),
        (
            lambda d: PermissionError(errno.EACCES, "Permission denied", f"{d}/s001.hea"),
            "s001.hea: permission denied (EACCES); check the permissions of the file and its "
            "folder, or choose another folder",
        ),
        (
            lambda d: OSError(errno.EROFS, "Read-only file system", f"{d}/s001.hea"),
            "s001.hea: the file system is read-only (EROFS); choose a folder on a writable disk",
        ),
    ],
)
def test_disk_full_and_permissions_are_one_line_and_leave_nothing(tmp_path, capsys, monkeypatch,
                                                                   make, words):  # fmt: skip
    monkeypatch.setattr("ecg_energy.data.synth.generate", _fake_generate(make))
    out = tmp_path / "db"
    line = _fails_with_one_line(capsys, ["synth", "--out", str(out), "--records", "2"], words)
    assert "unexpected" not in line
    assert list(tmp_path.iterdir()) == []  # the half-written folder is gone


def test_a_damaged_imports_or_results_file_is_named_with_its_fix(tmp_path, capsys):
    fixture = os.path.join(os.path.dirname(__file__), "devices", "fixtures",
                           "energyrunner_v0.5_L4R5ZI_ad.txt")  # fmt: skip
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text('{"tool": "ecg-energy", "stages": {}}')
    (run / "device_imports.json").write_text('[{"device": "stm32u575", "mod')
    argv = ["import-energy", fixture, "--device", "stm32u575", "--model", "x", "--run", str(run)]
    line = _fails_with_one_line(capsys, argv, f"{run}/device_imports.json: not valid JSON (",
                                "it was damaged or cut short: remove it and import each "
                                "measurement again")  # fmt: skip
    assert "unexpected" not in line
    (run / "device_imports.json").write_text('{"not": "a list"}')
    _fails_with_one_line(capsys, argv, f"{run}/device_imports.json: not a list of imported "
                         "measurements; remove it and import each measurement again")  # fmt: skip
    (run / "results.json").write_text('{"schema_version": 1, "var')
    _fails_with_one_line(capsys, ["report", str(run)], f"{run}/results.json: not valid JSON",
                         "re-run `ecg-energy run`")  # fmt: skip


def test_a_broken_install_names_the_library_and_the_fix(tmp_path, capsys, monkeypatch):
    import sys

    (tmp_path / "RECORDS").write_text("r1\n")
    (tmp_path / "r1.hea").write_text("r1 1 250 2500\nr1.dat 16 200 16 0 0 0 0 MLII\n")
    monkeypatch.setitem(sys.modules, "wfdb", None)  # as when wfdb's import fails
    monkeypatch.setitem(sys.modules, "wfdb.io", None)
    line = _fails_with_one_line(capsys, ["data", f"wfdb:{tmp_path}"],
                                "error: wfdb failed to import (", "the install is broken or "
                                "incomplete: reinstall it with 'pip install --force-reinstall "
                                "wfdb==4.3.1' in this environment")  # fmt: skip
    assert "unexpected" not in line


def test_a_real_bug_is_still_called_unexpected(capsys, monkeypatch):
    def broken(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("ecg_energy.data.synth.generate", broken)
    _fails_with_one_line(capsys, ["synth", "--out", "/nonexistent-ecg-energy/x"],
                         "error: unexpected ZeroDivisionError: division by zero (run with "
                         "--verbose for details)", code=1)  # fmt: skip
