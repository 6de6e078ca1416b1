"""Tests of ganbook_utils.widgets: explorers build and redraw with no display and no kernel."""

from __future__ import annotations

import io

import keras
import matplotlib
import numpy as np
import pytest
from PIL import Image

matplotlib.use("Agg")

from ganbook_utils.widgets import (  # noqa: E402
    decode_images,
    image_to_png,
    interpolate_latents,
    interpolation_explorer,
    latent_explorer,
)

LATENT_DIM = 3
rng = np.random.default_rng(0)
PROJECTION = rng.normal(size=(LATENT_DIM, 6 * 5)).astype(np.float32)


def linear_decoder(latents: np.ndarray) -> np.ndarray:
    """Latents (N, 3) -> (N, 6, 5, 1) images in [-1, 1]: a fixed projection through tanh."""
    return np.tanh(np.asarray(latents) @ PROJECTION).reshape(-1, 6, 5, 1)


def png_pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def test_image_to_png_enlarges_with_sharp_pixels():
    image = np.array([[[-1.0], [1.0]]], np.float32)  # 1 x 2, black then white
    pixels = png_pixels(image_to_png(image, scale=3))
    assert pixels.shape == (3, 6)
    assert (pixels[:, :3] == 0).all() and (pixels[:, 3:] == 255).all()


def test_latent_explorer_redraws_the_decoded_image_when_a_slider_moves():
    explorer = latent_explorer(linear_decoder, LATENT_DIM, scale=2)
    assert set(explorer.controls) == {"z[0]", "z[1]", "z[2]"}
    at_zero = png_pixels(explorer.image.value)
    np.testing.assert_array_equal(
        at_zero, png_pixels(image_to_png(linear_decoder(np.zeros((1, 3)))[0], 2))
    )
    explorer.controls["z[1]"].value = 2.0
    moved = png_pixels(explorer.image.value)
    expected = png_pixels(image_to_png(linear_decoder(np.array([[0.0, 2.0, 0.0]]))[0], 2))
    np.testing.assert_array_equal(moved, expected)
    assert not np.array_equal(moved, at_zero)


def test_latent_explorer_static_figure_sweeps_each_dimension():
    explorer = latent_explorer(linear_decoder, LATENT_DIM, dimensions=[0, 2])
    figure = explorer.static_figure(steps=5)
    axis = figure.axes[0]
    assert [label.get_text() for label in axis.get_yticklabels()] == ["z[0]", "z[2]"]
    assert len(axis.get_xticks()) == 5
    assert axis.get_title() and axis.get_xlabel()
    # 2 rows x 5 columns of 6 x 5 images with 1-pixel padding.
    assert axis.images[0].get_array().shape[:2] == (2 * 7 + 1, 5 * 6 + 1)
    matplotlib.pyplot.close(figure)


def test_latent_explorer_works_with_a_keras_generator():
    keras.utils.set_random_seed(0)
    generator = keras.Sequential(
        [
            keras.Input((LATENT_DIM,)),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Reshape((4, 4, 1)),
        ]
    )
    explorer = latent_explorer(generator, LATENT_DIM, dimensions=[0])
    before = explorer.image.value
    explorer.controls["z[0]"].value = -2.5
    assert explorer.image.value != before
    assert decode_images(generator, np.zeros((2, LATENT_DIM))).shape == (2, 4, 4, 1)


def test_interpolation_explorer_endpoints_are_the_decoded_codes():
    codes = rng.normal(size=(4, LATENT_DIM)).astype(np.float32)
    explorer = interpolation_explorer(linear_decoder, codes, start=0, end=3, scale=1)
    explorer.controls["fraction"].value = 1.0
    np.testing.assert_array_equal(
        png_pixels(explorer.image.value), png_pixels(image_to_png(linear_decoder(codes[3:])[0], 1))
    )
    explorer.controls["end"].value = 2
    np.testing.assert_array_equal(
        png_pixels(explorer.image.value), png_pixels(image_to_png(linear_decoder(codes[2:3])[0], 1))
    )
    figure = explorer.static_figure(pairs=[(0, 1), (2, 3)], steps=4)
    assert len(figure.axes[0].get_yticklabels()) == 2
    matplotlib.pyplot.close(figure)


def test_interpolate_latents_linear_and_slerp():
    start, end = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    fractions = np.linspace(0, 1, 5)
    linear = interpolate_latents(start, end, fractions)
    np.testing.assert_allclose(linear[2], [0.5, 0.5])
    slerp = interpolate_latents(start, end, fractions, method="slerp")
    np.testing.assert_allclose(np.linalg.norm(slerp, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(slerp[[0, -1]], [start, end], atol=1e-7)
    with pytest.raises(ValueError, match="slerp"):
        interpolate_latents(start, end, fractions, method="cubic")


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="dimensions"):
        latent_explorer(linear_decoder, LATENT_DIM, dimensions=[5])
    with pytest.raises(ValueError, match="base_latent"):
        latent_explorer(linear_decoder, LATENT_DIM, base_latent=np.zeros(2))
    with pytest.raises(ValueError, match="value_range"):
        latent_explorer(linear_decoder, LATENT_DIM, value_range=(1.0, -1.0))
    with pytest.raises(ValueError, match="K >= 2"):
        interpolation_explorer(linear_decoder, np.zeros((1, LATENT_DIM)))
    with pytest.raises(ValueError, match="decoder must map"):
        latent_explorer(lambda z: np.zeros((1, 2, 2, 1, 1)), LATENT_DIM)


def test_latent_map_and_scatter_figures():
    from ganbook_utils.plotting import plot_latent_map, plot_latent_scatter

    values = np.linspace(-2, 2, 3)
    latents = np.array([[x, y, 0.0] for y in values[::-1] for x in values], np.float32)
    figure = plot_latent_map(linear_decoder(latents), values, "map")
    axis = figure.axes[0]
    assert axis.images[0].get_extent() == [-3.0, 3.0, -3.0, 3.0]
    assert axis.get_xlabel() == "$z_1$" and axis.get_title() == "map"
    with pytest.raises(ValueError, match="3x3"):
        plot_latent_map(linear_decoder(latents[:4]), values, "map")
    scatter = plot_latent_scatter(latents[:, :2], np.arange(9) % 2, "codes", ["even", "odd"])
    assert [t.get_text() for t in scatter.axes[0].get_legend().get_texts()] == ["even", "odd"]
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_latent_scatter(latents, np.arange(9), "codes")
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize(
    ("decoder", "message"),
    [
        (lambda z: np.zeros((len(z), 6, 5, 1), np.uint8), "returned uint8 images"),
        (lambda z: np.full((len(z), 6, 5, 1), np.nan, np.float32), "NaN or infinite"),
        (lambda z: np.full((len(z), 6, 5, 1), 255.0, np.float32), "wrap it in data.normalize"),
        (lambda z: np.zeros((1, 6, 5, 1), np.float32), "must map 2 latents to 2 images"),
    ],
)
def test_decoders_that_would_draw_nonsense_are_refused(decoder, message):
    with pytest.raises(ValueError, match=message) as error:
        decode_images(decoder, np.zeros((2, LATENT_DIM)))
    assert "\n" not in str(error.value)


def test_sizes_are_checked_and_numpy_integers_accepted():
    explorer = latent_explorer(linear_decoder, np.int64(LATENT_DIM), scale=np.int64(2))
    assert len(explorer.controls) == LATENT_DIM
    with pytest.raises(ValueError, match="latent_dim must be a positive integer; got 0"):
        latent_explorer(linear_decoder, 0)
    with pytest.raises(ValueError, match="scale must be a positive integer"):
        image_to_png(np.zeros((6, 5, 1)), scale=0)


# --- The prompt explorer: a caption in, samples of each generator out. ---------------------


def prompt_generator(offset: float):
    """(prompt, n, seed) -> n images 4 x 3 whose brightness encodes the prompt and seed."""

    def generate(prompt: str, n: int, seed: int) -> np.ndarray:
        if not prompt.strip() or "zzz" in prompt:
            raise ValueError(f"The prompt {prompt!r} has only unknown words: 'zzz'.")
        level = np.tanh(0.01 * len(prompt) + 0.1 * seed + offset)
        rng = np.random.default_rng(seed)
        noise = 0.05 * rng.standard_normal((n, 4, 3, 3))
        return np.clip(np.full((n, 4, 3, 3), level) + noise, -1, 1).astype(np.float32)

    return generate


GENERATORS = {"GAN": prompt_generator(-0.5), "diffusion": prompt_generator(0.5)}
PROMPTS = ["a red circle", "a large blue square in the top left corner"]


def test_prompt_explorer_draws_each_generator_for_the_typed_caption():
    from ganbook_utils.widgets import generated_images, images_to_png, prompt_explorer

    explorer = prompt_explorer(GENERATORS, PROMPTS, samples=3, seed=1, scale=2)
    assert set(explorer.images) == {"GAN", "diffusion"}
    assert explorer.image is explorer.images["GAN"]
    for name, generate in GENERATORS.items():
        expected = images_to_png(generated_images(generate, PROMPTS[0], 3, 1), 2)
        np.testing.assert_array_equal(png_pixels(explorer.images[name].value), png_pixels(expected))
    # Three images side by side with 1-pixel padding, enlarged twice.
    assert png_pixels(explorer.image.value).shape[:2] == (2 * (4 + 2), 2 * (3 * 4 + 1))
    before = explorer.images["diffusion"].value
    explorer.controls["prompt"].value = "a small green triangle"
    assert explorer.images["diffusion"].value != before
    assert "a small green triangle" in explorer.message.value
    explorer.controls["examples"].value = PROMPTS[1]
    assert explorer.controls["prompt"].value == PROMPTS[1]
    expected = images_to_png(generated_images(GENERATORS["GAN"], PROMPTS[1], 3, 1), 2)
    assert explorer.images["GAN"].value == expected
    explorer.controls["seed"].value = 5
    assert explorer.images["GAN"].value == images_to_png(
        generated_images(GENERATORS["GAN"], PROMPTS[1], 3, 5), 2
    )


def test_prompt_explorer_shows_why_a_prompt_cannot_be_drawn_and_keeps_the_images():
    from ganbook_utils.widgets import prompt_explorer

    explorer = prompt_explorer(GENERATORS, PROMPTS, samples=2)
    before = {name: image.value for name, image in explorer.images.items()}
    explorer.controls["prompt"].value = "zzz <b>"
    assert explorer.message.value.startswith("<b>Not drawn:</b>")
    assert "only unknown words" in explorer.message.value
    assert "&lt;b&gt;" in explorer.message.value  # the caption is escaped, not HTML
    assert {name: image.value for name, image in explorer.images.items()} == before


def test_prompt_explorer_static_figure_has_a_row_per_prompt_and_a_panel_per_generator():
    from ganbook_utils.widgets import prompt_explorer

    explorer = prompt_explorer(GENERATORS, PROMPTS, samples=4)
    figure = explorer.static_figure()
    assert len(figure.axes) == 2 * 2
    assert [axis.get_xlabel() for axis in figure.axes] == ["GAN", "diffusion"] * 2
    # Four 4 x 3 images side by side with 1-pixel padding.
    assert figure.axes[0].images[0].get_array().shape[:2] == (4 + 2, 4 * 4 + 1)
    titles = [subfigure._suptitle.get_text() for subfigure in figure.subfigs]
    assert titles == [f"“{prompt}”" for prompt in PROMPTS]
    assert figure._suptitle.get_text()
    one = explorer.static_figure(["a white diamond"])
    assert len(one.axes) == 2
    matplotlib.pyplot.close("all")


def test_prompt_explorer_refuses_bad_arguments_and_bad_generators():
    from ganbook_utils.widgets import generated_images, prompt_explorer

    with pytest.raises(ValueError, match="generators must map names"):
        prompt_explorer({}, PROMPTS)
    with pytest.raises(ValueError, match="non-empty list of non-empty strings"):
        prompt_explorer(GENERATORS, [])
    with pytest.raises(ValueError, match="non-empty list of non-empty strings"):
        prompt_explorer(GENERATORS, ["a red circle", "  "])
    with pytest.raises(ValueError, match="samples must be a positive integer"):
        prompt_explorer(GENERATORS, PROMPTS, samples=0)
    explorer = prompt_explorer(GENERATORS, PROMPTS, samples=2)
    with pytest.raises(ValueError, match="only unknown words"):
        explorer.static_figure(["zzz"])
    for generate, message in [
        (lambda p, n, s: np.zeros((n, 4, 3, 3), np.uint8), "returned uint8 images"),
        (lambda p, n, s: np.zeros((n + 1, 4, 3, 3), np.float32), "must return 2 images"),
        (lambda p, n, s: np.full((n, 4, 3, 3), 255.0), "wrap it in data.normalize"),
    ]:
        with pytest.raises(ValueError, match=message) as error:
            generated_images(generate, "a red circle", 2, 0)
        assert "\n" not in str(error.value)


def test_prompt_explorer_rewrites_first_when_asked():
    from ganbook_utils.widgets import generated_images, images_to_png, prompt_explorer

    def rewriter(prompt):
        return prompt.replace("ruby disk", "red circle")

    explorer = prompt_explorer(GENERATORS, ["a ruby disk"], samples=2, rewriter=rewriter)
    assert "rewrite" in explorer.controls and explorer.controls["rewrite"].value is False
    raw = explorer.images["GAN"].value
    assert raw == images_to_png(generated_images(GENERATORS["GAN"], "a ruby disk", 2, 0), 3)
    explorer.controls["rewrite"].value = True
    expected = generated_images(GENERATORS["GAN"], "a red circle", 2, 0)
    assert explorer.images["GAN"].value == images_to_png(expected, 3)
    assert "a red circle</i> (rewritten)" in explorer.message.value
    assert "rewrite" not in prompt_explorer(GENERATORS, PROMPTS).controls
    with pytest.raises(ValueError, match="rewriter must be a function"):
        prompt_explorer(GENERATORS, PROMPTS, rewriter="yes")
