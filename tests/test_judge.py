"""Tests of ganbook_utils.judge: the shipped judge reads real renders, adherence counts right,
bad input is refused in one line, the CLI trains and exports a judge."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ganbook_utils import cli, judge, shapes
from ganbook_utils.judge import ATTRIBUTES, CHANCE, adherence


@pytest.fixture(scope="module")
def shipped():
    loaded = judge.load_judge()
    assert loaded is not None, (
        "the judge's weights are not shipped: python -m ganbook_utils train --model judge "
        "--profile cpu --out DIR --export ganbook_utils/weights/judge_shapes32"
    )
    return loaded


@pytest.fixture(scope="module")
def renders():
    # Seed 5: a draw neither the judge's training (11,000) nor its held-out check used.
    return shapes.make_shapes(400, seed=5)


# ---------------------------------------------------------------- the shipped judge


def test_shipped_judge_reads_every_attribute_of_fresh_renders(shipped, renders):
    scores = adherence(shipped.read(renders.images), renders)
    for attribute in ATTRIBUTES:
        assert scores[attribute] >= 0.98, (attribute, scores[attribute])
    assert scores["all_four"] >= 0.95


def test_shipped_judge_reads_held_out_compositions_too(shipped):
    # The pairs no text-to-image model sees: the judge trained on all of them.
    held_out = shapes.make_shapes(200, seed=6, compositions=shapes.HELD_OUT_COMPOSITIONS)
    scores = adherence(shipped.read(held_out.images), held_out)
    assert min(scores[a] for a in ATTRIBUTES) >= 0.97


def test_uint8_and_unit_float_images_read_the_same(shipped, renders):
    pixels = renders.images[:64]
    floats = pixels.astype(np.float32) / 127.5 - 1.0
    as_uint8, as_float = shipped.read(pixels), shipped.read(floats)
    for attribute in ATTRIBUTES:
        np.testing.assert_array_equal(as_uint8[attribute], as_float[attribute])
        assert as_uint8[attribute].dtype == np.int64 and as_uint8[attribute].shape == (64,)
    np.testing.assert_allclose(shipped.features(pixels), shipped.features(floats), atol=1e-5)


def test_features_are_penultimate_vectors_for_fid(shipped, renders):
    features = shipped.features(renders.images[:50], batch_size=16)
    assert features.shape == (50, judge.FEATURE_DIM) == (50, shipped.feature_dim)
    assert features.dtype == np.float64 and np.all(features >= 0)  # a ReLU layer
    np.testing.assert_allclose(features, shipped.features(renders.images[:50]), atol=1e-5)
    # Scaled at training to entries of order 1 on real renders (what KID's kernel assumes).
    assert shipped.feature_scale == shipped.provenance["architecture"]["feature_scale"] < 1
    assert 0.7 < np.sqrt(np.mean(shipped.features(renders.images) ** 2)) < 1.4


def test_shipped_judge_is_frozen_and_small(shipped):
    assert not shipped.network.trainable and not shipped.network.trainable_weights
    weights = judge.WEIGHTS_DIR / f"{judge.JUDGE_NAME}.weights.h5"
    assert weights.stat().st_size <= 1_500_000


def test_shipped_provenance_records_how_it_was_made_and_what_it_reaches(shipped):
    record = shipped.provenance
    assert record["command"].startswith("python -m ganbook_utils train --model judge")
    assert "--export" in record["command"] and record["model"] == "judge"
    assert record["steps"] >= 1 and record["wall_time_s"] > 0
    assert record["data"]["seeds"]["train"] == judge.TRAIN_SEED
    accuracy = record["held_out"]["accuracy"]
    assert min(accuracy[a] for a in ATTRIBUTES) >= 0.98
    # Also on the held-out draws that repeat no training render pixel for pixel.
    assert record["held_out"]["novel_images"] >= 0.5 * record["held_out"]["images"]
    assert min(record["held_out"]["novel_accuracy"][a] for a in ATTRIBUTES) >= 0.98
    rows = {row["corruption"]: row for row in record["corruption_table"]}
    assert len(rows) == len(judge.CORRUPTION_TABLE_ROWS) and "none" in rows
    assert rows["none"]["judge"]["shape"] >= 0.98
    assert math.isfinite(record["real_vs_real"]["fid"]) and record["real_vs_real"]["fid"] >= 0
    assert (
        record["weights_bytes"]
        == (judge.WEIGHTS_DIR / f"{judge.JUDGE_NAME}.weights.h5").stat().st_size
    )


def test_judge_seeds_are_disjoint_from_the_other_splits():
    ours = {
        judge.TRAIN_SEED,
        judge.HELD_OUT_SEED,
        judge.AUGMENT_SEED,
        judge.CORRUPTION_SEED,
        judge.BASELINE_SEED,
        judge.BASELINE_SEED + 1,
    }
    caption_seeds = set(range(4))  # shapes.caption_splits(seed=0): seed .. seed + 3
    load_dataset_seeds = set(range(200))  # 2 s, 2 s + 1 for any seed s < 100
    assert len(ours) == 6 and not ours & (caption_seeds | load_dataset_seeds)


def test_real_vs_real_baseline_is_small_next_to_a_collapsed_set(shipped):
    baseline = judge.real_vs_real_baseline(shipped, 300, kid_subsets=10)
    assert baseline["n"] == 300 and 0 <= baseline["fid"]
    clean = shapes.make_shapes(300, seed=8)
    # A generator that only ever draws red circles (mode collapse), blurred.
    collapsed = shapes.make_shapes(300, seed=9, compositions=[("circle", "red")])
    blurry = judge.corrupt(collapsed.images, "blur", 1.0, seed=0)
    worse = judge.feature_distances(shipped, clean.images, blurry, kid_subsets=10)
    assert worse["fid"] > 3 * baseline["fid"]
    # KID is unbiased: about 0 for two real sets, far from it for a collapsed one.
    assert abs(baseline["kid"]) < 0.1 * worse["kid"]


# ---------------------------------------------------------------- adherence, by hand


def test_adherence_equals_the_hand_count():
    read = {
        "shape": np.array([0, 1, 2, 3]),
        "colour": np.array([5, 5, 5, 5]),
        "size": np.array([0, 1, 2, 0]),
        "position": np.array([4, 4, 8, 0]),
    }
    requested = {
        "shape": np.array([0, 1, 2, 0]),  # 3 right
        "colour": np.array([5, 4, 5, 5]),  # 3 right
        "size": np.array([0, 1, 2, 2]),  # 3 right
        "position": np.array([4, 4, 8, 0]),  # 4 right
    }
    scores = adherence(read, requested)
    assert scores["count"] == 4
    assert scores["shape"] == scores["colour"] == scores["size"] == 0.75
    assert scores["position"] == 1.0
    # Image 0 and 2 have all four right; 1 has the wrong colour, 3 the wrong shape and size.
    assert scores["all_four"] == 0.5 and scores["correct"]["all_four"] == 2
    assert scores["correct"] == {"shape": 3, "colour": 3, "size": 3, "position": 4, "all_four": 2}


def test_chance_levels():
    assert CHANCE["shape"] == 1 / 4 and CHANCE["colour"] == 1 / 8
    assert CHANCE["size"] == 1 / 3 and CHANCE["position"] == 1 / 9
    assert CHANCE["all_four"] == pytest.approx(1 / 864)
    every = {a: np.zeros(3, np.int64) for a in ATTRIBUTES}
    assert adherence(every, every)["chance"] == pytest.approx(CHANCE)


def test_a_uniform_random_reader_scores_chance():
    rng = np.random.default_rng(0)
    count = 200_000
    requested = {a: rng.integers(0, judge.CLASS_COUNTS[a], count) for a in ATTRIBUTES}
    guessed = {a: rng.integers(0, judge.CLASS_COUNTS[a], count) for a in ATTRIBUTES}
    scores = adherence(guessed, requested)
    for attribute in ATTRIBUTES:
        assert scores[attribute] == pytest.approx(CHANCE[attribute], abs=0.005)


def test_names_unasked_attributes_and_an_image_set_are_requests():
    renders = shapes.make_shapes(3, seed=1)
    names = [shapes.attribute_names(renders, i) for i in range(3)]
    read = {a: renders.attributes[a] for a in ATTRIBUTES}
    by_name = {a: np.array([n[a] for n in names]) for a in ATTRIBUTES}
    assert adherence(read, by_name)["all_four"] == 1.0
    assert adherence(read, renders)["all_four"] == 1.0
    # "a circle": only the shape asked for (-1 elsewhere, or the key left out).
    asked = {"shape": read["shape"], "colour": np.array([-1, -1, (read["colour"][2] + 1) % 8])}
    scores = adherence(read, asked)
    assert scores["shape"] == 1.0 and scores["colour"] == 0.0
    assert scores["all_four"] == pytest.approx(2 / 3)
    assert scores["chance"]["all_four"] == pytest.approx((1 / 4 + 1 / 4 + 1 / 32) / 3)
    assert set(scores["chance"]) == {"shape", "colour", "all_four"}


def test_rule_based_reads_score_and_an_empty_image_is_never_right():
    renders = shapes.make_shapes(10, seed=2)
    images = renders.images.copy()
    images[0] = 0
    read = shapes.estimate_attributes(images)
    scores = adherence(read, {a: renders.attributes[a] for a in ("colour", "size", "position")})
    assert read["colour"][0] == read["size"][0] == read["position"][0] == -1
    right = read["colour"] == renders.attributes["colour"]
    assert not right[0] and scores["correct"]["colour"] == int(right.sum()) <= 9
    assert scores["colour"] == pytest.approx(right.mean())


@pytest.mark.parametrize(
    ("read", "requested", "message"),
    [
        ({"shape": [0, 1]}, {"shape": [0]}, "one entry per image"),
        ({"shape": [0]}, {"hue": [0]}, "must have some of the keys"),
        ({"shape": [0]}, {"colour": [0]}, "read has no colour"),
        ({"shape": [0]}, {"shape": [4]}, r"indices must lie in \[0, 3\]"),
        ({"shape": [0]}, {"shape": ["hexagon"]}, "unknown shape 'hexagon'"),
        ({"shape": [[0]]}, {"shape": [[0]]}, "1-D array of ints"),
        ({"shape": []}, {"shape": []}, "no images to score"),
        ([0], {"shape": [0]}, "dicts of attribute arrays"),
    ],
)
def test_adherence_rejects_bad_input_in_one_line(read, requested, message):
    with pytest.raises(ValueError, match=message) as error:
        adherence(read, requested)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------- bad images, corruptions


@pytest.mark.parametrize(
    ("images", "error", "message"),
    [
        (np.zeros((2, 28, 28, 1), np.uint8), ValueError, r"32x32 RGB.*grayscale_to_rgb"),
        (np.zeros((2, 64, 64, 3), np.uint8), ValueError, r"data.resize\(images, 32\)"),
        (np.full((2, 32, 32, 3), 200.0, np.float32), ValueError, "look like pixels in"),
        (np.full((2, 32, 32, 3), np.nan, np.float32), ValueError, "NaN or infinite"),
        (np.zeros((2, 32, 32, 3), np.int32), TypeError, "uint8 pixels in"),
        (np.zeros((32, 32, 3), np.uint8), ValueError, "add a batch axis"),
        (np.zeros((0, 32, 32, 3), np.uint8), ValueError, "the batch is empty"),
    ],
)
def test_read_rejects_bad_images_in_one_line(images, error, message):
    untrained = judge.AttributeJudge(judge.build_judge_network())
    for call in (untrained.read, untrained.features):
        with pytest.raises(error, match=message) as raised:
            call(images)
        assert "\n" not in str(raised.value)


def test_corruptions_are_seeded_and_stay_in_range():
    renders = shapes.make_shapes(20, seed=3).images
    clean = judge.corrupt(renders, "none", 0.0)
    np.testing.assert_allclose(clean, renders / 127.5 - 1.0, atol=1e-6)
    for kind in judge.CORRUPTION_KINDS:
        first = judge.corrupt(renders, kind, 1.0, seed=4)
        assert first.shape == renders.shape and first.dtype == np.float32
        assert first.min() >= -1.0 and first.max() <= 1.0 and not np.allclose(first, clean)
        np.testing.assert_array_equal(first, judge.corrupt(renders, kind, 1.0, seed=4))
    # Blur keeps the background black far from the shape and spreads the shape's edge.
    blurred = judge.corrupt(renders, "blur", 1.0)
    assert np.abs(blurred.mean() - clean.mean()) < 0.02
    with pytest.raises(ValueError, match="unknown kind 'rotate'"):
        judge.corrupt(renders, "rotate", 1.0)
    with pytest.raises(ValueError, match="level must be a number"):
        judge.corrupt(renders, "noise", -0.1)


def test_load_judge_returns_none_without_files_and_refuses_foreign_weights(tmp_path):
    assert judge.load_judge(weights_dir=tmp_path) is None
    (tmp_path / "judge_shapes32.weights.h5").write_bytes(b"not an h5 file")
    (tmp_path / "judge_shapes32.json").write_text("{}")
    with pytest.raises(ValueError, match="not a weights file of the attribute judge"):
        judge.load_judge(weights_dir=tmp_path)


# ---------------------------------------------------------------- the CLI trainer


@pytest.mark.usefixtures("run_eagerly")
def test_cli_trains_resumes_and_exports_a_judge(tmp_path, capsys):
    out, prefix = tmp_path / "run", tmp_path / "export" / "judge_test"
    common = ["train", "--model", "judge", "--profile", "smoke", "--out", str(out), "--quiet"]
    small = ["--train-size", "64", "--batch-size", "32", "--steps-per-epoch", "2"]
    assert cli.main([*common, *small, "--steps", "2"]) == 0
    assert cli.main([*common, *small, "--steps", "4", "--export", str(prefix)]) == 0
    record = json.loads((out / cli.PROVENANCE_FILE).read_text())
    assert record["steps"] == 4 and record["data"]["train_images"] == 64
    assert record["held_out"]["images"] == 200  # the smoke profile's judge_eval_size
    assert set(record["held_out"]["accuracy"]) == {*ATTRIBUTES, "all_four"}
    assert record["corruption_table"][0]["corruption"] == "none"
    loaded = judge.load_judge("judge_test", weights_dir=prefix.parent)
    assert loaded is not None and loaded.provenance == record
    assert "judge:" in capsys.readouterr().out  # the corruption table was printed
