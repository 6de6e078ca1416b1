"""Feature extractors: input checks, the shipped MNIST classifier, InceptionV3 offline."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganbook_utils import data, features, metrics
from ganbook_utils.features import ExtractorUnavailable, prepare_images


@pytest.fixture(scope="module")
def mnist_val():
    """Held-out validation digits: the classifier was trained on the rest of the pool."""
    splits = data.load_dataset("mnist", source="offline", val_size=400, verbose=False)
    return splits.val


@pytest.fixture(scope="module")
def classifier():
    return features.mnist_classifier()


# ------------------------------------------------------------------ prepare_images


def test_prepare_images_maps_uint8_to_minus_one_one():
    images = np.array([0, 255], dtype=np.uint8).reshape(2, 1, 1, 1).repeat(4, 1).repeat(4, 2)
    prepared = prepare_images(images, image_size=4, channels=1)
    assert prepared.dtype == np.float32 and prepared.shape == (2, 4, 4, 1)
    np.testing.assert_allclose(prepared[:, 0, 0, 0], [-1.0, 1.0])


def test_prepare_images_converts_channels_and_resizes():
    gray = np.linspace(-1, 1, 2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28, 1)
    rgb = prepare_images(gray, image_size=56, channels=3)
    assert rgb.shape == (2, 56, 56, 3)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    assert rgb.min() >= -1.0 and rgb.max() <= 1.0
    back = prepare_images(rgb, image_size=28, channels=1)
    assert back.shape == (2, 28, 28, 1)
    # Luma of a gray RGB image is the gray value; area-shrinking 2x undoes bilinear 2x closely.
    np.testing.assert_allclose(back, gray, atol=0.02)


def test_prepare_images_clips_round_off_but_rejects_wrong_ranges():
    slightly_out = np.full((1, 4, 4, 1), 1.0005, dtype=np.float32)
    assert prepare_images(slightly_out, image_size=4, channels=1).max() == 1.0
    with pytest.raises(ValueError, match=r"pixels in \[0, 255\]"):
        prepare_images(np.full((1, 4, 4, 1), 200.0), image_size=4, channels=1)
    with pytest.raises(ValueError, match=r"Rescale them to \[-1, 1\]"):
        prepare_images(np.full((1, 4, 4, 1), -3.0), image_size=4, channels=1)


def test_prepare_images_warns_about_images_in_zero_one():
    with pytest.warns(UserWarning, match=r"2 \* x - 1"):
        prepare_images(np.full((4, 28, 28, 1), 0.5, np.float32), image_size=28, channels=1)


@pytest.mark.parametrize(
    "images, error, message",
    [
        (np.zeros((2, 28, 28)), ValueError, "channel axis"),
        (np.zeros((2, 28, 28, 2)), ValueError, "C = 1 or 3"),
        (np.zeros((0, 28, 28, 1)), ValueError, "non-empty"),
        (np.full((1, 4, 4, 1), np.nan), ValueError, "NaN"),
        (np.zeros((1, 4, 4, 1), dtype=np.int32), TypeError, "uint8"),
    ],
)
def test_prepare_images_rejects_bad_input(images, error, message):
    with pytest.raises(error, match=message):
        prepare_images(images, image_size=4, channels=1)


# ------------------------------------------------------------------ domain classifier


def test_domain_classifier_outputs_features_and_logits():
    model = features.build_domain_classifier()
    batch_features, logits = model(np.zeros((3, 28, 28, 1), np.float32))
    assert tuple(batch_features.shape) == (3, features.CLASSIFIER_FEATURE_DIM)
    assert tuple(logits.shape) == (3, 10)


def test_train_domain_classifier_learns_a_separable_toy_problem():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 256)
    # Class 0: bright top half; class 1: bright bottom half (plus noise).
    images = rng.uniform(-1, -0.6, (256, 12, 12, 1)).astype(np.float32)
    images[labels == 0, :6] += 1.5
    images[labels == 1, 6:] += 1.5
    _, summary = features.train_domain_classifier(
        images[:192],
        labels[:192],
        steps=40,
        batch_size=32,
        val_images=images[192:],
        val_labels=labels[192:],
        verbose=0,
    )
    assert summary["val_accuracy"] >= 0.9


def test_train_domain_classifier_rejects_bad_labels():
    with pytest.raises(ValueError, match="train_labels"):
        features.train_domain_classifier(np.zeros((4, 8, 8, 1), np.uint8), [0, 1], steps=1)


def test_shipped_classifier_weights_are_small_and_documented():
    weights = features.WEIGHTS_DIR / "classifier_mnist.weights.h5"
    assert weights.stat().st_size < 1_000_000
    provenance = features.mnist_classifier_provenance()
    for key in ("command", "profile", "data", "steps", "wall_time_s", "val_accuracy"):
        assert key in provenance
    assert provenance["val_accuracy"] > 0.95
    assert json.loads((features.WEIGHTS_DIR / "classifier_mnist.json").read_text()) == provenance


def test_shipped_classifier_is_accurate_on_held_out_digits(classifier, mnist_val):
    accuracy = features.classification_accuracy(classifier, mnist_val.images, mnist_val.labels)
    assert accuracy > 0.95
    assert classifier.feature_dim == 64 and classifier.num_classes == 10


def test_shipped_classifier_metrics_separate_real_from_noise(classifier, mnist_val):
    real = classifier.features(mnist_val.images[:200])
    other_real = classifier.features(mnist_val.images[200:])
    noise = classifier.features(np.random.default_rng(0).uniform(-1, 1, (200, 28, 28, 1)))
    assert real.shape == (200, 64) and real.dtype == np.float64
    real_vs_real = metrics.frechet_distance_from_features(real, other_real)
    real_vs_noise = metrics.frechet_distance_from_features(real, noise)
    assert real_vs_noise > 10 * real_vs_real
    # Real digits are classified confidently and evenly: an MNIST-style IS close to 10.
    score, _ = metrics.inception_score(classifier.logits(mnist_val.images), from_logits=True)
    assert 8.0 < score <= 10.0


def test_classifier_gives_same_features_for_uint8_and_normalized_input(classifier, mnist_val):
    pixels = mnist_val.images[:16]
    from_pixels = classifier.features(pixels, batch_size=5)
    from_floats = classifier.features(data.normalize_images(pixels))
    np.testing.assert_allclose(from_pixels, from_floats, rtol=1e-5, atol=1e-5)


def test_missing_classifier_weights_raise_with_the_command(tmp_path):
    with pytest.raises(ExtractorUnavailable, match="python -m ganbook_utils.features"):
        features.mnist_classifier(tmp_path / "missing.weights.h5")


# ------------------------------------------------------------------ InceptionV3


def test_inception_offline_fails_fast_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(features, "_keras_cached_weights", lambda filename: None)
    monkeypatch.setattr(features.data, "network_reachable", lambda host: False)
    with pytest.raises(ExtractorUnavailable, match="domain classifier"):
        features.inception_v3()


@pytest.mark.slow
def test_inception_with_random_weights_has_the_documented_shapes():
    extractor = features.load_feature_extractor("inception_v3", weights=None)
    batch_features, logits = extractor.features_and_logits(np.zeros((2, 28, 28, 1), np.uint8))
    assert batch_features.shape == (2, 2048) and logits.shape == (2, 1000)
    assert "NOT the TF-Hub FID graph" in extractor.description


def test_unknown_extractor_name():
    with pytest.raises(ValueError, match="mnist_classifier"):
        features.load_feature_extractor("vgg")


def test_pretrained_generator_fid_on_the_smoke_budget():
    record = features.pretrained_generator_fid("dcgan28_mnist", "smoke", write=False)
    assert record["draws"] == 3 and record["generated_samples"] == 256
    assert 0.0 < record["fid"]["mean"] < 1000.0 and np.isfinite(record["fid"]["std"])
    assert 1.0 <= record["inception_score"]["mean"] <= 10.0


def test_shipped_dcgan_provenance_records_its_fid():
    provenance = json.loads((features.WEIGHTS_DIR / "dcgan28_mnist.json").read_text())
    assert provenance["fid"] == provenance["evaluation"]["fid"]["mean"] > 0.0
    assert "--fid-of dcgan28_mnist" in provenance["evaluation"]["command"]


@pytest.mark.parametrize(
    "content",
    [b"", b"not an h5 file", b"\x89HDF\r\n\x1a\n truncated"],
    ids=["empty", "text", "cut"],
)
def test_a_bad_classifier_weights_file_is_one_clear_line(tmp_path, content):
    path = tmp_path / "bad.weights.h5"
    path.write_bytes(content)
    with pytest.raises(
        ValueError, match="is not a weights file of the book's MNIST classifier"
    ) as error:
        features.mnist_classifier(path)
    assert "\n" not in str(error.value)
