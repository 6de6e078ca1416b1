"""Tests of the text-conditioned GAN: shapes, the projection term, mismatched captions, training."""

from __future__ import annotations

import json
import zlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from ganbook_utils import cli, shapes, text_gan, training

TINY = {"latent_dim": 8, "width": 4, "condition_dim": 8, "feature_dim": 16}


def tiny_gan(
    loss: str = "hinge", spectral_norm: bool = True, **kwargs
) -> text_gan.TextConditionalGAN:
    keras.utils.set_random_seed(0)
    return text_gan.build_text_gan(loss=loss, spectral_norm=spectral_norm, **TINY, **kwargs)


@pytest.fixture(scope="module")
def gan() -> text_gan.TextConditionalGAN:
    # No moving average: before its first step the optimizer's average is all zeros.
    return tiny_gan(generator_ema=False)


def embeddings(n: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((n, text_gan.EMBEDDING_DIM))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def real_images(n: int, seed: int = 0) -> np.ndarray:
    return shapes.make_shapes(n, seed=seed, compositions=shapes.seen_compositions()).images


def test_generator_output_shape_and_range():
    generator = text_gan.build_text_generator(latent_dim=8, width=4, condition_dim=8)
    z = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32) * 10
    images = np.asarray(generator([z, embeddings(5) * 10], training=False))
    assert images.shape == (5, 32, 32, 3)
    assert np.all(np.isfinite(images)) and images.min() >= -1.0 and images.max() <= 1.0
    assert [tuple(i.shape) for i in generator.inputs] == [(None, 8), (None, 64)]


def test_discriminator_output_shape():
    discriminator = text_gan.build_projection_discriminator(width=4, feature_dim=16)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    logits = discriminator([images, embeddings(3)], training=False)
    assert tuple(logits.shape) == (3, 1)


@pytest.mark.parametrize("spectral_norm", [True, False])
def test_projection_term_equals_its_definition(spectral_norm):
    discriminator = text_gan.build_projection_discriminator(
        width=4, feature_dim=16, spectral_norm=spectral_norm
    )
    images = np.random.default_rng(1).uniform(-1, 1, (4, 32, 32, 3)).astype(np.float32)
    e = embeddings(4, seed=2)
    parts = text_gan.projection_parts(discriminator, images, e)
    phi, psi, v = parts["features"], parts["unconditional"], parts["projection_matrix"]
    assert phi.shape == (4, 16) and psi.shape == (4, 1) and v.shape == (64, 16)
    # D(x, y) = psi(phi(x)) + <V e(y), phi(x)>, row by row.
    by_hand = psi[:, 0] + np.array([np.dot(v.T @ e[i], phi[i]) for i in range(4)])
    np.testing.assert_allclose(parts["logits"][:, 0], by_hand, rtol=1e-4, atol=1e-5)
    # Changing only the caption changes only the projection term.
    other = text_gan.projection_parts(discriminator, images, embeddings(4, seed=3))
    np.testing.assert_allclose(other["unconditional"], psi, rtol=1e-6)
    assert not np.allclose(other["logits"], parts["logits"])


def test_shared_feature_scores_equal_the_discriminator():
    model = tiny_gan(spectral_norm=False)
    real = np.random.default_rng(0).uniform(-1, 1, (6, 32, 32, 3)).astype(np.float32)
    fake = np.random.default_rng(1).uniform(-1, 1, (6, 32, 32, 3)).astype(np.float32)
    e = embeddings(6)
    scores = [np.asarray(s) for s in model._scores(real, fake, e, 2)]
    wrong = np.roll(e, 2, axis=0)
    for got, (images, captions) in zip(scores, [(real, e), (real, wrong), (fake, e)], strict=True):
        expected = np.asarray(model.discriminator([images, captions], training=True))
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_mismatched_captions_are_really_mismatched():
    batch = 7
    e = embeddings(batch)  # distinct captions
    for shift in range(1, batch):
        wrong = np.asarray(text_gan.mismatched(tf.constant(e), shift))
        own = np.all(np.isclose(wrong, e), axis=1)
        assert not own.any(), f"shift {shift}: an image kept its own caption"
        # A permutation: every caption is still used once, just by another image.
        assert sorted(map(tuple, wrong.round(6))) == sorted(map(tuple, e.round(6)))
    shifts = {int(text_gan.mismatch_shift(batch)) for _ in range(200)}
    assert shifts == set(range(1, batch)), shifts
    assert int(text_gan.mismatch_shift(1)) == 0  # nothing to pair with: no derangement exists


@pytest.mark.usefixtures("run_eagerly")
@pytest.mark.parametrize("loss", ["hinge", "non_saturating"])
def test_a_short_run_trains_finitely_and_resumes(tmp_path, loss):
    model = tiny_gan(loss, preview_labels=embeddings(3))
    pipeline = text_gan.make_caption_pipeline(real_images(64), embeddings(64), batch_size=16)
    before = [np.asarray(w).copy() for w in model.generator.trainable_weights]
    result = training.fit_resumable(model, pipeline, 4, tmp_path, steps_per_epoch=2, progress=False)
    history = result["history"]
    assert result["diverged"] is None and result["step"] == 4
    for key in ("d_loss", "g_loss", "d_real", "d_mismatched", "d_fake"):
        assert len(history[key]) == 2 and np.all(np.isfinite(history[key])), key
    after = [np.asarray(w) for w in model.generator.trainable_weights]
    assert any(not np.allclose(b, a) for b, a in zip(before, after, strict=True))
    assert (tmp_path / "samples_epoch_0002.png").exists()
    again = training.fit_resumable(
        tiny_gan(loss, preview_labels=embeddings(3)),
        pipeline,
        6,
        tmp_path,
        steps_per_epoch=2,
        progress=False,
    )
    assert again["step"] == 6 and len(again["history"]["d_loss"]) == 3


def test_sample_is_deterministic_per_seed(gan):
    e = embeddings(4)
    first, again = gan.sample(4, seed=3, labels=e), gan.sample(4, seed=3, labels=e)
    assert first.dtype == np.float32 and first.shape == (4, 32, 32, 3)
    assert first.min() >= -1 and first.max() <= 1
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, gan.sample(4, seed=4, labels=e))
    z = gan.latent_vectors(4, seed=3)
    np.testing.assert_array_equal(gan.generate(z, e), first)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (None, "This GAN is text-conditioned: pass labels=<(n, 64) text embeddings>"),
        (np.zeros((3, 32), np.float32), "labels must be text embeddings shaped (3, 64); got"),
        (np.zeros(64, np.float32), "shaped (3, 64); got shape (64,)"),
        (np.zeros((2, 64), np.float32), "one per image; got 2 rows for n=3"),
        (np.full((3, 64), np.nan, np.float32), "NaN or infinite"),
        (["a red circle"] * 3, "float array of text embeddings"),
    ],
)
def test_bad_labels_raise_clear_messages(gan, labels, message):
    with pytest.raises(ValueError) as error:
        gan.sample(3, seed=0, labels=labels)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_bad_inputs_raise_clear_messages(gan):
    with pytest.raises(ValueError, match=r"z must have shape \(n, 8\)"):
        gan.generate(np.zeros((2, 5)), embeddings(2))
    with pytest.raises(ValueError, match="Unknown loss 'wasserstein'"):
        text_gan.build_text_gan(loss="wasserstein")
    with pytest.raises(TypeError, match="two inputs"):
        text_gan.TextConditionalGAN(gan.generator, keras.Sequential([keras.Input((4,))]))
    with pytest.raises(ValueError, match="embeddings must be shaped \\(4, d\\)"):
        text_gan.make_caption_pipeline(real_images(4), embeddings(3), batch_size=2)
    with pytest.raises(ValueError, match="needs \\(images, embeddings\\) batches"):
        gan.train_step(tf.zeros((2, 32, 32, 3)))
    with pytest.raises(ValueError, match="Unknown pretrained text GAN 'nope'"):
        text_gan.load_pretrained("nope")


def test_preview_labels_fill_in_for_the_sample_grid():
    model = tiny_gan(preview_labels=embeddings(2))
    cycled = embeddings(2)[[0, 1, 0, 1, 0]]
    np.testing.assert_array_equal(model.sample(5, seed=1), model.sample(5, seed=1, labels=cycled))


def test_load_pretrained_samples_when_shipped():
    loaded = text_gan.load_pretrained()
    if loaded is None:
        pytest.skip("gan_text_shapes32 is not shipped yet")
    model, provenance = loaded
    images = model.sample(3, seed=0, labels=embeddings(3))
    assert images.shape == (3, 32, 32, 3) and images.min() >= -1 and images.max() <= 1
    assert provenance["command"].startswith("python -m ganbook_utils train --model gan_text")
    assert provenance["text_encoder"]["name"] == "clip_shapes32"


class StandInEncoder:
    """Deterministic 64-d vectors from the caption's attribute words (no training needed)."""

    def encode_text(self, prompts):
        rng = np.random.default_rng([zlib.crc32(p.encode()) for p in prompts] or [0])
        vectors = rng.standard_normal((len(prompts), text_gan.EMBEDDING_DIM))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.usefixtures("run_eagerly")
def test_cli_trains_resumes_and_exports(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        text_gan,
        "load_text_encoder",
        lambda: (StandInEncoder(), {"command": "stand-in", "steps": 0}, "0" * 64),
    )
    monkeypatch.setattr(text_gan, "_load_judge", lambda: None)
    out, prefix = tmp_path / "run", tmp_path / "export" / "gan_text_test"
    arguments = [
        "train",
        "--model",
        "gan_text",
        "--profile",
        "smoke",
        "--out",
        str(out),
        "--steps",
        "2",
        "--steps-per-epoch",
        "1",
        "--batch-size",
        "8",
        "--train-size",
        "32",
        "--width",
        "4",
        "--latent-dim",
        "8",
        "--quiet",
        "--export",
        str(prefix),
    ]
    assert cli.main(arguments) == 0
    record = json.loads((out / cli.PROVENANCE_FILE).read_text())
    assert record["steps"] == 2 and record["loss"] == "non_saturating"
    assert record["text_encoder"]["weights_sha256"] == "0" * 64
    assert record["data"]["train_images"] == 32
    assert "not shipped" in record["evaluation"]
    assert set(record["final_losses"]) >= {"d_loss", "g_loss", "d_mismatched"}
    assert (prefix.parent / "gan_text_test.weights.h5").exists()
    assert json.loads((prefix.parent / "gan_text_test.json").read_text()) == record
    # Resumed with another learning rate: one line, exit 2.
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*arguments[:-2], "--steps", "3", "--learning-rate", "1e-3"])
    assert exit_info.value.code == 2
    assert "--learning-rate 0.001 differs from 0.0005" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([*arguments, "--loss", "wasserstein"])
    assert "--loss wasserstein does not fit the text GAN" in capsys.readouterr().err
