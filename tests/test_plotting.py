"""Tests of ganbook_utils.plotting: the pixel range is decided, never guessed; bad input refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ganbook_utils.plotting import image_grid, show_images  # noqa: E402


def test_a_float_batch_is_read_as_minus_one_to_one_even_when_its_minimum_is_positive():
    bright = np.full((2, 3, 3, 1), 0.5, np.float32)  # in [-1, 1], minimum >= 0
    np.testing.assert_allclose(image_grid(bright, padding=0), 0.75)
    np.testing.assert_allclose(image_grid(bright, padding=0, pixel_range=(0, 1)), 0.5)
    pixels = np.full((2, 3, 3, 1), 51, np.uint8)
    np.testing.assert_allclose(image_grid(pixels, padding=0), 0.2)
    grid = image_grid(np.stack([np.full((2, 2, 3), -1.0), np.full((2, 2, 3), 1.0)]))
    assert grid.shape == (4, 7, 3) and grid[1, 1, 0] == 0 and grid[1, 4, 0] == 1


@pytest.mark.parametrize(
    ("images", "kwargs", "message"),
    [
        (np.zeros((2, 4, 4, 2)), {}, "1 \\(grayscale\\) or 3 \\(RGB\\) channels"),
        (np.zeros((2, 4, 4, 5)), {}, "got shape \\(2, 4, 4, 5\\)"),
        (np.zeros((2, 3, 8, 8)), {}, "Channels-first\\? Use np.moveaxis\\(images, 1, -1\\)"),
        (np.full((2, 4, 4, 1), np.nan), {}, "32 values are NaN or infinite \\(all of them\\)"),
        (np.full((2, 4, 4, 1), 200.0), {}, "pass them as uint8"),
        (np.full((2, 4, 4, 1), 2.0), {"pixel_range": (0, 1)}, "outside pixel_range=\\(0, 1\\)"),
        (np.zeros((2, 4, 4, 1)), {"pixel_range": (1, 0)}, "low < high"),
        (np.zeros((2, 4, 4, 1), np.int32), {}, "expected uint8 pixels or float images"),
        (np.zeros((0, 4, 4, 1)), {}, "non-empty batch"),
        (np.zeros((2, 4, 4, 1)), {"columns": 0}, "columns must be a positive integer"),
        (np.zeros((2, 4, 4, 1)), {"columns": 1.5}, "columns must be a positive integer"),
    ],
)
def test_image_grid_refuses_what_it_cannot_draw_in_one_line(images, kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        image_grid(images, **kwargs)
    assert "\n" not in str(error.value)


def test_show_images_takes_the_range_and_numpy_columns():
    figure = show_images(np.zeros((4, 4, 4, 1)), "t", columns=np.int64(2), pixel_range=(0, 1))
    plt.close(figure)
    figure = show_images(np.zeros((2, 4, 4, 3)), "t", labels=["a", "b"])
    plt.close(figure)
    with pytest.raises(ValueError, match="NaN"):
        show_images(np.full((2, 4, 4, 1), np.nan), "t", labels=["a", "b"])
