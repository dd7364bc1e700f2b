"""The TOML configuration: every option, read back as written, errors in one line."""

import pytest

from ecg_energy.cli import main
from ecg_energy.config import RunConfig, from_dict, load_config, to_toml
from ecg_energy.errors import ConfigError


def test_printed_config_reads_back_to_the_same_value(tmp_path):
    cfg = from_dict({"data": ["synth:3", "wfdb:/db"], "read": {"lead": "MLII", "window_s": 8},
                     "models": {"quantize": ["int8", "fp16"], "train": {"epochs": 3}},
                     "carbon_intensity": 250, "recommend": {"constraint": "none"}})  # fmt: skip
    path = tmp_path / "run.toml"
    path.write_text(to_toml(cfg))
    assert load_config(str(path)) == cfg
    assert cfg.read.window_s == 8.0 and isinstance(cfg.read.window_s, float)
    assert cfg.models.quantize == ("int8", "fp16") and cfg.carbon_intensity == 250
    # untouched settings keep their defaults
    assert cfg.models.train.student_epochs == RunConfig().models.train.student_epochs
    assert "# threads = (unset)" in to_toml(cfg)  # TOML has no null: unset is a comment


def test_every_dataclass_field_has_a_key_in_the_printed_config():
    text = to_toml(RunConfig())
    for key in ("data", "split_fractions", "tables", "buffer_bytes", "user_models", "meter",
                "batches", "country", "seed_protocol", "[read]", "[synth]", "[models]",
                "[models.train]", "temperature", "[protocol]", "n_boot", "[recommend]",
                "max_drop_pts", "carbon_intensity", "threads"):  # fmt: skip
        assert key in text, key


@pytest.mark.parametrize(
    "table, fragment",
    [
        ({"epochs": 3}, "unknown setting epochs"),
        ({"models": {"train": {"epoch": 3}}}, "unknown setting models.train.epoch"),
        ({"protocol": {"trials": "five"}}, "protocol.trials must be a int"),
        ({"unsafe_load": 1}, "unsafe_load must be true or false"),
        ({"read": 3}, "read must be a table"),
        ({"recommend": {"constraint": "best"}}, "recommend.constraint must be one of"),
        ({"split_fractions": [0.5, 0.5, 0.5]}, "summing to 1"),
    ],
)
def test_bad_settings_are_named(table, fragment):
    with pytest.raises(ConfigError, match=fragment.replace(".", r"\.")):
        from_dict(table)


def test_bad_files_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("data = [synth")
    assert main(["run", "--config", str(bad), "--print-config"]) == 2
    assert "bad.toml: not valid TOML" in capsys.readouterr().err
    assert main(["run", "--config", str(tmp_path / "none.toml"), "--print-config"]) == 2
    assert "no such configuration file" in capsys.readouterr().err


def test_command_line_overrides_the_file(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text('country = "FRA"\n[models.train]\nepochs = 3\n[protocol]\ntrials = 7\n')
    assert main(["run", "--config", str(path), "--epochs", "2", "--print-config"]) == 0
    printed = capsys.readouterr().out
    (tmp_path / "printed.toml").write_text(printed)
    cfg = load_config(str(tmp_path / "printed.toml"))
    assert cfg.country == "FRA" and cfg.protocol.trials == 7  # from the file
    assert cfg.models.train.epochs == 2 and cfg.models.train.student_epochs == 4  # from the line
