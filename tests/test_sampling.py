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


@pytest.mark.usefixtures("run_eagerly")
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


# --- Text-to-image models: --prompt and --rewrite ------------------------------------------------

TEXT_PROMPT = "a small red circle in the top left corner"


@pytest.fixture
def tiny_text_model(tmp_path, monkeypatch):
    """A tiny text diffusion model and an untrained text encoder "shipped" in a temporary folder."""
    from ganbook_utils import shapes, text, text_to_image

    for name in ("dcgan28_mnist",):
        for suffix in (".weights.h5", ".json"):
            (tmp_path / f"{name}{suffix}").symlink_to(sampling.WEIGHTS_DIR / f"{name}{suffix}")
    captions = shapes.caption_splits(400, 10, seed=0).train.captions
    encoder = text.build_dual_encoder(text.caption_vocabulary(captions))
    encoder.save_weights(tmp_path / "clip_shapes32.weights.h5")
    record = {"architecture": text.architecture_record(encoder), "steps": 0}
    (tmp_path / "clip_shapes32.json").write_text(json.dumps(record))
    model = text_to_image.build_text_diffusion((8, 16), sampling_steps=2, guidance=1.0)
    diffusion.save_weights(model, tmp_path / "diffusion_text_shapes32.weights.h5")
    record = {"architecture": text_to_image.architecture_record(model, (8, 16), 1), "steps": 0}
    (tmp_path / "diffusion_text_shapes32.json").write_text(json.dumps(record))
    for module in (sampling, text, text_to_image):
        monkeypatch.setattr(module, "WEIGHTS_DIR", tmp_path)
    return tmp_path


@pytest.mark.usefixtures("run_eagerly")
def test_a_prompt_to_png(tiny_text_model, tmp_path):
    out = tmp_path / "circles.png"
    arguments = ["sample", "--weights", "diffusion_text_shapes32", "--prompt", TEXT_PROMPT]
    assert cli.main([*arguments, "--n", "3", "--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.size[0] > 64
    images = sampling.draw("diffusion_text_shapes32", 3, seed=0, prompt=TEXT_PROMPT)
    assert images.shape == (3, 32, 32, 3) and images.min() >= -1 and images.max() <= 1
    guided = sampling.draw("diffusion_text_shapes32", 3, seed=0, prompt=TEXT_PROMPT, guidance=1.0)
    np.testing.assert_allclose(images, guided, atol=1e-6)  # the model's default w is 1


@pytest.mark.usefixtures("run_eagerly")
def test_the_cli_names_unknown_words_in_one_line(tiny_text_model, tmp_path, capsys):
    out = tmp_path / "x.npy"
    prompt = f"{TEXT_PROMPT}, please"
    arguments = ["sample", "--weights", "diffusion_text_shapes32", "--prompt", prompt]
    assert cli.main([*arguments, "--n", "1", "--out", str(out)]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "'please'" in notes[0] and "--rewrite" in notes[0]


@pytest.mark.usefixtures("run_eagerly")
def test_rewrite_reads_a_free_form_prompt(tiny_text_model, tmp_path):
    from ganbook_utils import prompts

    free = "draw me a big ruby disk up in the left corner"
    rewritten = sampling.draw("diffusion_text_shapes32", 2, prompt=free, rewrite=True)
    direct = sampling.draw("diffusion_text_shapes32", 2, prompt=prompts.rewrite(free))
    np.testing.assert_allclose(rewritten, direct, atol=1e-6)
    out = tmp_path / "x.npy"
    arguments = ["sample", "--weights", "diffusion_text_shapes32", "--prompt", free, "--rewrite"]
    assert cli.main([*arguments, "--n", "2", "--out", str(out)]) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--weights", "dcgan28_mnist", "--prompt", TEXT_PROMPT], "takes no text"),
        (["--weights", "dcgan28_mnist", "--rewrite"], "--rewrite is for the text-to-image"),
        (["--weights", "diffusion_text_shapes32"], "give --prompt"),
        (["--weights", "diffusion_text_shapes32", "--label", "1"], "takes --prompt"),
        (["--weights", "diffusion_text_shapes32", "--prompt", ""], "the prompt ('') is empty"),
        (
            ["--weights", "diffusion_text_shapes32", "--prompt", "zebra xylophone"],
            "only unknown words (xylophone, zebra)",
        ),
        (["--weights", "diffusion_text_shapes32", "--prompt", "red " * 17], "MAX_TOKENS"),
        (
            ["--weights", "diffusion_text_shapes32", "--prompt", "a red box", "--guidance", "-1"],
            "guidance",
        ),
    ],
)
def test_text_user_errors_print_one_line(tiny_text_model, capsys, tmp_path, arguments, message):
    error = one_line_error(
        capsys, ["sample", "--n", "2", *arguments, "--out", str(tmp_path / "x.npy")]
    )
    assert message in error
    if "unknown" in message:
        assert "--rewrite" in error
