"""Tests of ganbook_utils.shapes: determinism, exact labels, captions, attribute read-back."""

from __future__ import annotations

import numpy as np
import pytest

from ganbook_utils import shapes as shapes_module
from ganbook_utils.shapes import (
    COLOUR_NAMES,
    PALETTE,
    POSITIONS,
    SHAPES,
    SIZES,
    attribute_names,
    caption_variants,
    estimate_attributes,
    make_shapes,
)


@pytest.fixture(scope="module", params=[32, 64])
def shapes(request):
    return make_shapes(400, image_size=request.param, seed=7)


def test_shapes_and_ranges(shapes):
    size = shapes.images.shape[1]
    assert shapes.images.shape == (400, size, size, 3) and shapes.images.dtype == np.uint8
    assert shapes.labels.shape == (400,) and len(shapes.captions) == 400
    np.testing.assert_array_equal(shapes.labels, shapes.attributes["shape"])
    for key, vocabulary in (
        ("shape", SHAPES),
        ("colour", COLOUR_NAMES),
        ("size", SIZES),
        ("position", POSITIONS),
    ):
        values = shapes.attributes[key]
        assert values.min() >= 0 and values.max() < len(vocabulary)
        assert len(np.unique(values)) == len(vocabulary)  # 400 draws cover every value


def test_same_seed_same_data_other_seed_other_data():
    first, again = make_shapes(50, seed=3), make_shapes(50, seed=3)
    np.testing.assert_array_equal(first.images, again.images)
    assert first.captions == again.captions
    for key in first.attributes:
        np.testing.assert_array_equal(first.attributes[key], again.attributes[key])
    assert not np.array_equal(first.images, make_shapes(50, seed=4).images)


def test_shape_pixels_have_exactly_the_named_colour(shapes):
    for image, colour in zip(shapes.images, shapes.attributes["colour"], strict=True):
        pixels = image.reshape(-1, 3)
        foreground = pixels[pixels.any(axis=1)]
        assert len(foreground) > 0
        np.testing.assert_array_equal(np.unique(foreground, axis=0), PALETTE[colour][None])


def test_shapes_sit_where_their_attributes_say(shapes):
    size = shapes.images.shape[1]
    for index in range(0, 400, 7):
        mask = shapes.images[index].any(axis=-1)
        rows, columns = np.nonzero(mask)
        center_x = shapes.attributes["center_x"][index]
        center_y = shapes.attributes["center_y"][index]
        radius = shapes.attributes["radius"][index]
        # Every foreground pixel lies within the shape's radius of its centre (+1 pixel)...
        assert np.all(np.abs(columns + 0.5 - center_x) <= radius + 1)
        assert np.all(np.abs(rows + 0.5 - center_y) <= radius + 1)
        # ... and the shape is whole: nothing touches the border.
        assert not mask[0].any() and not mask[-1].any()
        assert not mask[:, 0].any() and not mask[:, -1].any()
        row, column = divmod(int(shapes.attributes["position"][index]), 3)
        assert int(center_y / size * 3) == row and int(center_x / size * 3) == column


def test_a_circle_fills_about_pi_r_squared():
    circles = make_shapes(300, image_size=64, seed=1)
    chosen = circles.attributes["shape"] == SHAPES.index("circle")
    areas = circles.images[chosen].any(axis=-1).sum(axis=(1, 2))
    expected = np.pi * circles.attributes["radius"][chosen] ** 2
    np.testing.assert_allclose(areas, expected, rtol=0.15)


def test_estimated_attributes_agree_with_the_labels(shapes):
    estimated = estimate_attributes(shapes.images)
    for key in ("colour", "position"):
        np.testing.assert_array_equal(estimated[key], shapes.attributes[key])
    assert np.mean(estimated["size"] == shapes.attributes["size"]) >= 0.97


def test_estimate_attributes_marks_blank_images():
    estimated = estimate_attributes(np.zeros((2, 32, 32, 3), np.uint8))
    assert estimated["colour"].tolist() == [-1, -1] and estimated["area"].tolist() == [0, 0]


def test_captions_name_the_attributes():
    shapes = make_shapes(200, seed=2)
    templates_used = set(shapes.attributes["caption_template"].tolist())
    assert len(templates_used) > 1
    for index in range(200):
        names = attribute_names(shapes, index)
        caption = shapes.captions[index]
        assert names["colour"] in caption
        variants = caption_variants(**names)
        assert caption == variants[shapes.attributes["caption_template"][index]]


def test_caption_variants_are_distinct_and_grammatical():
    variants = caption_variants("circle", "orange", "small", "top left")
    assert len(set(variants)) == len(variants) >= 3
    assert "a small orange circle in the top left corner" in variants
    assert any(v.startswith("an orange") for v in variants)
    assert not any(" a orange" in f" {v}" for v in variants)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_shapes(0), "positive int"),
        (lambda: make_shapes(10, image_size=48), "image_size"),
        (lambda: caption_variants("star", "red", "small", "top"), "Unknown shape"),
        (lambda: caption_variants("circle", "mauve", "small", "top"), "Unknown colour"),
        (lambda: estimate_attributes(np.zeros((2, 8, 8, 1), np.uint8)), "RGB"),
        (lambda: estimate_attributes(np.zeros((2, 8, 8, 3), np.float32)), "uint8"),
    ],
)
def test_bad_input_raises_clearly(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_caption_splits_keep_held_out_pairs_and_phrasings_out_of_training():
    from ganbook_utils import shapes

    splits = shapes.caption_splits(3000, 200, seed=5)
    train = splits.train.attributes
    pairs = {
        (shapes.SHAPES[s], shapes.COLOUR_NAMES[c])
        for s, c in zip(train["shape"], train["colour"], strict=True)
    }
    assert pairs == set(shapes.seen_compositions())  # every seen pair occurs, no held-out one
    assert not pairs & set(shapes.HELD_OUT_COMPOSITIONS)
    held = splits.held_out_composition.attributes
    held_pairs = {
        (shapes.SHAPES[s], shapes.COLOUR_NAMES[c])
        for s, c in zip(held["shape"], held["colour"], strict=True)
    }
    assert held_pairs == set(shapes.HELD_OUT_COMPOSITIONS)
    # Held-out phrasings: never a training caption's phrasing, but no word the training lacks.
    training_words = {
        word
        for caption in splits.train.captions
        for word in caption.replace(",", " ").replace(":", " ").split()
    }
    for caption in splits.held_out_phrasing.captions:
        assert caption not in set(splits.train.captions)
        assert set(caption.replace(",", " ").replace(":", " ").split()) <= training_words, caption
    assert train["caption_template"].max() < len(shapes.CAPTION_TEMPLATES)


def test_make_shapes_refuses_unknown_compositions_and_empty_templates():
    from ganbook_utils import shapes

    with pytest.raises(ValueError, match="unknown composition"):
        shapes.make_shapes(4, compositions=[("star", "red")])
    with pytest.raises(ValueError, match="compositions is empty"):
        shapes.make_shapes(4, compositions=[])
    with pytest.raises(ValueError, match="templates is empty"):
        shapes.make_shapes(4, templates=())


def test_rerender_keeps_each_caption_and_its_attributes_but_not_the_pixels():
    original = make_shapes(64, seed=3)
    again = shapes_module.rerender(original, seed=11)
    assert again.captions == original.captions
    for key in ("shape", "colour", "size", "position"):
        np.testing.assert_array_equal(again.attributes[key], original.attributes[key])
    assert not np.array_equal(again.images, original.images)  # fresh jitter
    read = shapes_module.estimate_attributes(again.images)
    np.testing.assert_array_equal(read["colour"], original.attributes["colour"])
    with pytest.raises(ValueError, match="make_shapes"):
        shapes_module.rerender(shapes_module.ImageSet(images=original.images))
