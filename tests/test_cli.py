"""The command line: outputs, and one clear line with a non-zero exit for every bad input."""

from __future__ import annotations

import json

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


def test_run_says_which_stages_ran(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "--out", str(out), "--records", "4", "--minutes", "0.5"]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert "stages run: synth, data" in stdout
    assert "not available in this version: train, distil, quantize, count, estimate, measure, " \
           "evaluate, report" in stdout  # fmt: skip
    marker = json.loads((out / "run.json").read_text())
    assert marker["stages"] == {"synth": "done", "data": "done"}
    assert "train" in marker["not_available"]
    summary = json.loads((out / "dataset.json").read_text())
    assert summary["records"] == 4
    assert sum(summary["split"][s]["examples"] for s in ("train", "val", "test")) == \
        summary["examples"]  # fmt: skip
    assert not (out / "results.json").exists()  # no stage that would write it has run
    # a second run reuses the finished database
    assert main(argv) == 0
    assert "reusing" in capsys.readouterr().err


def test_run_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    _fails_with_one_line(capsys, ["run", "--out", str(tmp_path)], "not an ecg-energy run folder")
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]


def test_failed_run_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "run"
    _fails_with_one_line(capsys, ["run", "--out", str(out), "--data", "wfdb:/no/such/db"],
                         "folder not found")  # fmt: skip
    assert not out.exists()
