"""Tests of ``python -m ganbook_utils sample`` (``ganbook_utils.sampling``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ganbook_utils import cli, diffusion, sampling


def one_line_error(capsys, arguments: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(arguments)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def tiny_conditional(tmp_path, monkeypatch):
    """A tiny class-conditional diffusion model "shipped" in a temporary weights folder."""
    for name in ("dcgan28_mnist", "diffusion_mnist"):
        for suffix in (".weights.h5", ".json"):
            (tmp_path / f"{name}{suffix}").symlink_to(sampling.WEIGHTS_DIR / f"{name}{suffix}")
    model = diffusion.build_diffusion(
        (8, 8, 1), "ddpm", widths=(4, 8), num_classes=3, sampling_steps=2, learning_rate=None
    )
    diffusion.save_weights(model, tmp_path / "diffusion_mnist_cond.weights.h5")
    record = {"architecture": diffusion.architecture_record(model, (4, 8), 1), "steps": 0}
    (tmp_path / "diffusion_mnist_cond.json").write_text(json.dumps(record))
    monkeypatch.setattr(sampling, "WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(diffusion, "WEIGHTS_DIR", tmp_path)
    return tmp_path


def test_help_lists_the_shipped_generators(capsys):
    with pytest.raises(SystemExit):
        cli.main(["sample", "--help"])
    text = capsys.readouterr().out
    for name in sampling.shipped_generators():
        assert name in text
    assert "dcgan28_mnist" in text


def test_dcgan_to_npy_is_in_range_and_fixed_by_the_seed(tmp_path):
    out = tmp_path / "d.npy"
    assert cli.main(["sample", "--weights", "dcgan28_mnist", "--n", "5", "--out", str(out)]) == 0
    images = np.load(out)
    assert images.shape == (5, 28, 28, 1) and images.min() >= -1 and images.max() <= 1
    np.testing.assert_array_equal(images, sampling.draw("dcgan28_mnist", 5, seed=0))
    assert not np.allclose(images, sampling.draw("dcgan28_mnist", 5, seed=1))


def test_diffusion_to_png(tmp_path):
    out = tmp_path / "grid.png"
    arguments = ["sample", "--weights", "diffusion_mnist", "--n", "4", "--steps", "2"]
    assert cli.main([*arguments, "--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.size[0] > 56


def test_label_steps_and_guidance_reach_a_conditional_model(tiny_conditional):
    plain = sampling.draw("diffusion_mnist_cond", 4, seed=0, label=2, steps=3)
    guided = sampling.draw("diffusion_mnist_cond", 4, seed=0, label=2, steps=3, guidance=0.0)
    np.testing.assert_allclose(plain, guided, atol=1e-5)
    assert plain.shape == (4, 8, 8, 1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--weights", "nope"], "not a shipped generator"),
        (["--weights", "dcgan28_mnist", "--steps", "3"], "--steps is for diffusion models"),
        (["--weights", "diffusion_mnist", "--label", "1"], "needs a class-conditional model"),
        (["--weights", "diffusion_mnist", "--guidance", "1"], "guidance needs a conditional"),
        (["--weights", "diffusion_mnist_cond", "--label", "3"], "label out of range"),
        (["--weights", "dcgan28_mnist", "--out", "x.jpg"], "must end in .npy or .png"),
        (["--weights", "diffusion_mnist", "--steps", "0"], "positive integer"),
    ],
)
def test_user_errors_print_one_line(tiny_conditional, capsys, tmp_path, arguments, message):
    if "--out" not in arguments:
        arguments = [*arguments, "--out", str(tmp_path / "x.npy")]
    assert message in one_line_error(capsys, ["sample", "--n", "2", *arguments])
