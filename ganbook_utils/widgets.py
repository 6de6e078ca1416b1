"""Interactive explorers (ipywidgets), each with a static figure of the same sweep.

The latent-space explorers move a code and show the decoded image; the prompt explorer takes a
caption and shows samples of text-to-image generators. A *decoder* here is any callable mapping
latents (N, D) float32 to images (N, H, W, C) in [-1, 1]: ``VAE.decode``, or a GAN generator
(a Keras model called on the latents). Widgets need a running kernel (Jupyter, Colab); the HTML
book has none and its widget JavaScript would come from a CDN, so every explorer also draws its
sweep as an ordinary matplotlib figure, which chapters always show.
"""

from __future__ import annotations

import dataclasses
import html
import io
import textwrap
from collections.abc import Callable, Mapping, Sequence

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from ganbook_utils import checks
from ganbook_utils.data import check_unit_range
from ganbook_utils.plotting import image_grid

Decoder = Callable[[np.ndarray], object]
# (prompt, n, seed) -> n images (n, H, W, C) in [-1, 1]; raises ValueError for a bad prompt.
PromptGenerator = Callable[[str, int, int], object]


@dataclasses.dataclass
class Explorer:
    """An interactive explorer: ``widget`` to display in a kernel, ``static_figure()`` for print.

    ``controls`` names the sliders (and pickers) the widget is made of; ``image`` is the
    ``ipywidgets.Image`` they redraw. An explorer of several generators has one image per
    generator in ``images`` (``image`` is the first) and says what went wrong (a bad prompt)
    in ``message``.
    """

    widget: ipywidgets.Widget
    static_figure: Callable[..., plt.Figure]
    controls: dict[str, ipywidgets.Widget]
    image: ipywidgets.Image
    images: dict[str, ipywidgets.Image] = dataclasses.field(default_factory=dict)
    message: ipywidgets.HTML | None = None


def decode_images(decoder: Decoder, latents: np.ndarray) -> np.ndarray:
    """Run ``decoder`` on latents (N, D) and return numpy images (N, H, W, C) in [-1, 1].

    Raises ValueError when the decoder returns integer pixels (uint8), NaN/inf, values outside
    [-1, 1] (beyond float round-off) or the wrong number of images: drawing them would show
    nonsense without a word.
    """
    latents = np.asarray(latents, dtype=np.float32)
    images = decoder(latents)
    if hasattr(images, "numpy"):
        images = images.numpy()
    images = np.asarray(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"The decoder returned {images.dtype} images; the explorers expect floats in "
            "[-1, 1] (VAE.decode, a generator's tanh output). Wrap a pixel decoder: "
            "`lambda z: data.normalize_images(decoder(z))`."
        )
    images = images.astype(np.float32)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or len(images) != len(latents):
        raise ValueError(
            f"The decoder must map {len(latents)} latents to {len(latents)} images shaped "
            f"(H, W, C); it returned shape {images.shape}."
        )
    check_unit_range(images, "The decoder's output", pixels_fix="wrap it in data.normalize_images")
    return np.clip(images, -1.0, 1.0)


def image_to_png(image: np.ndarray, scale: int = 4) -> bytes:
    """PNG bytes of one image (H, W, C) in [-1, 1], enlarged ``scale`` times with sharp pixels."""
    scale = checks.integer(scale, "scale", who="image_to_png")
    unit = image_grid(image[None], columns=1, padding=0)
    pixels = np.round(unit * 255).astype(np.uint8)
    pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    picture = Image.fromarray(pixels)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _draw_grid(images: np.ndarray, columns: int, title: str, size: float):
    """A grid figure whose rows and columns get tick labels; returns (figure, axis, cell sizes)."""
    padding = 1
    grid = image_grid(images, columns=columns, padding=padding)
    height, width = images.shape[1] + padding, images.shape[2] + padding
    figure, axis = plt.subplots(figsize=(size, size * grid.shape[0] / grid.shape[1] + 0.6))
    axis.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
    axis.set_title(title)
    return figure, axis, (height, width)


def _check_range(value_range: tuple[float, float]) -> None:
    if len(value_range) != 2 or not value_range[0] < value_range[1]:
        raise ValueError(f"value_range must be (low, high) with low < high; got {value_range}.")


def latent_explorer(
    decoder: Decoder,
    latent_dim: int,
    dimensions: Sequence[int] | None = None,
    base_latent: np.ndarray | None = None,
    value_range: tuple[float, float] = (-3.0, 3.0),
    scale: int = 6,
) -> Explorer:
    """Sliders over latent ``dimensions`` that redraw the decoded image.

    Args:
        decoder: latents (N, ``latent_dim``) -> images (N, H, W, C) in [-1, 1].
        dimensions: which coordinates get a slider (default: the first min(D, 6)).
        base_latent: (D,) the code the sliders start from (default: zeros, the prior's mean).
        value_range: slider range; (-3, 3) covers 99.7% of a standard normal prior.
        scale: enlargement of the displayed image.

    ``static_figure(steps=7)`` draws each chosen dimension swept over ``value_range`` (one row per
    dimension, the others fixed at ``base_latent``). Raises ValueError on bad dimensions or shapes.
    """
    latent_dim = checks.integer(latent_dim, "latent_dim", who="latent_explorer")
    scale = checks.integer(scale, "scale", who="latent_explorer")
    _check_range(value_range)
    dimensions = list(range(min(latent_dim, 6))) if dimensions is None else list(dimensions)
    if not dimensions or any(not 0 <= d < latent_dim for d in dimensions):
        raise ValueError(
            f"dimensions must be a non-empty list of indices in [0, {latent_dim}); "
            f"got {dimensions}."
        )
    base = np.zeros(latent_dim, np.float32) if base_latent is None else np.asarray(base_latent)
    if base.shape != (latent_dim,):
        raise ValueError(f"base_latent must have shape ({latent_dim},); got {base.shape}.")
    base = base.astype(np.float32)

    sliders = {
        f"z[{d}]": ipywidgets.FloatSlider(
            value=float(np.clip(base[d], *value_range)),
            min=value_range[0],
            max=value_range[1],
            step=(value_range[1] - value_range[0]) / 60,
            description=f"z[{d}]",
            continuous_update=True,
        )
        for d in dimensions
    }
    image = ipywidgets.Image(format="png")

    def current_latent() -> np.ndarray:
        latent = base.copy()
        for d, slider in zip(dimensions, sliders.values(), strict=True):
            latent[d] = slider.value
        return latent

    def redraw(_change=None) -> None:
        image.value = image_to_png(decode_images(decoder, current_latent()[None])[0], scale)

    for slider in sliders.values():
        slider.observe(redraw, names="value")
    redraw()
    widget = ipywidgets.HBox([ipywidgets.VBox(list(sliders.values())), image])

    def static_figure(steps: int = 7, size: float = 7.0, title: str | None = None):
        """Each chosen dimension (a row) swept over ``value_range`` in ``steps`` columns."""
        if steps < 2:
            raise ValueError(f"steps must be at least 2; got {steps}.")
        values = np.linspace(*value_range, steps, dtype=np.float32)
        latents = np.repeat(base[None], len(dimensions) * steps, axis=0)
        for row, d in enumerate(dimensions):
            latents[row * steps : (row + 1) * steps, d] = values
        images = decode_images(decoder, latents)
        figure, axis, (height, width) = _draw_grid(
            images, steps, title or "Latent sweep: one dimension per row, others fixed", size
        )
        axis.set_xticks([1 + width * (i + 0.5) for i in range(steps)], [f"{v:.1f}" for v in values])
        axis.set_yticks([1 + height * (i + 0.5) for i in range(len(dimensions))])
        axis.set_yticklabels([f"z[{d}]" for d in dimensions])
        axis.set_xlabel("value of the swept coordinate")
        axis.set_ylabel("swept coordinate")
        figure.tight_layout()
        return figure

    return Explorer(widget, static_figure, sliders, image)


def interpolate_latents(
    start: np.ndarray, end: np.ndarray, fractions: np.ndarray, method: str = "linear"
) -> np.ndarray:
    """Latents between ``start`` and ``end`` (D,) at ``fractions`` (T,) in [0, 1] -> (T, D).

    ``"linear"`` is a straight line; ``"slerp"`` follows the great circle, which keeps the norm
    typical of a high-dimensional Gaussian prior (a straight line's midpoint is too short).
    """
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    fractions = np.asarray(fractions, np.float64)[:, None]
    if start.shape != end.shape or start.ndim != 1:
        raise ValueError(f"start and end must both be (D,); got {start.shape} and {end.shape}.")
    if method == "linear":
        return ((1 - fractions) * start + fractions * end).astype(np.float32)
    if method != "slerp":
        raise ValueError(f"Unknown method {method!r}; choose 'linear' or 'slerp'.")
    norms = np.linalg.norm(start) * np.linalg.norm(end)
    angle = np.arccos(np.clip(start @ end / max(norms, 1e-12), -1.0, 1.0))
    if angle < 1e-6:
        return ((1 - fractions) * start + fractions * end).astype(np.float32)
    weights_start = np.sin((1 - fractions) * angle) / np.sin(angle)
    weights_end = np.sin(fractions * angle) / np.sin(angle)
    return (weights_start * start + weights_end * end).astype(np.float32)


def interpolation_explorer(
    decoder: Decoder,
    latents: np.ndarray,
    labels: Sequence[str] | None = None,
    start: int = 0,
    end: int = 1,
    method: str = "linear",
    scale: int = 6,
) -> Explorer:
    """Pick two codes among ``latents`` (K, D) and slide from one decoded image to the other.

    For a VAE, ``latents`` are the encoded means of K chosen images (so the endpoints are their
    reconstructions); for a GAN, K random codes. ``labels`` name the K codes in the pickers.
    ``static_figure(pairs=None, steps=8)`` draws one row per (start, end) pair.
    """
    latents = np.asarray(latents, np.float32)
    if latents.ndim != 2 or len(latents) < 2:
        raise ValueError(f"latents must be (K, D) with K >= 2 codes; got shape {latents.shape}.")
    labels = [f"code {k}" for k in range(len(latents))] if labels is None else list(labels)
    if len(labels) != len(latents):
        raise ValueError(f"Got {len(labels)} labels for {len(latents)} latents; give one each.")
    for name, index in (("start", start), ("end", end)):
        if not 0 <= index < len(latents):
            raise ValueError(f"{name}={index} is not an index of the {len(latents)} latents.")
    interpolate_latents(latents[0], latents[1], np.zeros(1), method)  # validates ``method`` early

    options = [(label, k) for k, label in enumerate(labels)]
    controls = {
        "start": ipywidgets.Dropdown(options=options, value=start, description="from"),
        "end": ipywidgets.Dropdown(options=options, value=end, description="to"),
        "fraction": ipywidgets.FloatSlider(
            value=0.5, min=0.0, max=1.0, step=0.02, description="fraction"
        ),
    }
    image = ipywidgets.Image(format="png")

    def redraw(_change=None) -> None:
        latent = interpolate_latents(
            latents[controls["start"].value],
            latents[controls["end"].value],
            np.array([controls["fraction"].value]),
            method,
        )
        image.value = image_to_png(decode_images(decoder, latent)[0], scale)

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    widget = ipywidgets.HBox([ipywidgets.VBox(list(controls.values())), image])

    def static_figure(
        pairs: Sequence[tuple[int, int]] | None = None,
        steps: int = 8,
        size: float = 8.0,
        title: str | None = None,
    ):
        """One row per (start, end) index pair, ``steps`` evenly spaced fractions from 0 to 1."""
        pairs = [(start, end)] if pairs is None else list(pairs)
        if steps < 2:
            raise ValueError(f"steps must be at least 2; got {steps}.")
        for pair in pairs:
            if len(pair) != 2 or not all(0 <= k < len(latents) for k in pair):
                raise ValueError(f"Each pair must be two indices of the latents; got {pair}.")
        fractions = np.linspace(0.0, 1.0, steps)
        path = np.concatenate(
            [interpolate_latents(latents[a], latents[b], fractions, method) for a, b in pairs]
        )
        images = decode_images(decoder, path)
        figure, axis, (height, width) = _draw_grid(
            images, steps, title or f"{method.capitalize()} interpolation between codes", size
        )
        axis.set_xticks(
            [1 + width * (i + 0.5) for i in range(steps)], [f"{f:.2f}" for f in fractions]
        )
        axis.set_yticks([1 + height * (i + 0.5) for i in range(len(pairs))])
        axis.set_yticklabels([f"{labels[a]} → {labels[b]}" for a, b in pairs])
        axis.set_xlabel("fraction of the way from the first code to the second")
        figure.tight_layout()
        return figure

    return Explorer(widget, static_figure, controls, image)


def generated_images(generate: PromptGenerator, prompt: str, n: int, seed: int) -> np.ndarray:
    """``generate(prompt, n, seed)`` as numpy float32 images (n, H, W, C) in [-1, 1].

    Raises ValueError when the generator returns integer pixels, NaN/inf, values outside
    [-1, 1] or the wrong number of images (and passes on the generator's own ValueError for a
    prompt it cannot read).
    """
    images = generate(prompt, n, seed)
    if hasattr(images, "numpy"):
        images = images.numpy()
    images = np.asarray(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"The generator returned {images.dtype} images for {prompt!r}; the prompt explorer "
            "expects floats in [-1, 1] (wrap it in data.normalize_images)."
        )
    if images.ndim != 4 or len(images) != n:
        raise ValueError(
            f"The generator must return {n} images shaped (H, W, C) for {prompt!r}; it "
            f"returned shape {images.shape}."
        )
    check_unit_range(
        images, "The generator's output", pixels_fix="wrap it in data.normalize_images"
    )
    return np.clip(images.astype(np.float32), -1.0, 1.0)


def images_to_png(images: np.ndarray, scale: int = 4) -> bytes:
    """PNG bytes of images (N, H, W, C) in [-1, 1] side by side, enlarged ``scale`` times."""
    scale = checks.integer(scale, "scale", who="images_to_png")
    grid = image_grid(images, columns=len(images), padding=1)
    pixels = np.round(grid * 255).astype(np.uint8)
    pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    picture = Image.fromarray(pixels)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _check_prompts(prompts: Sequence[str], who: str) -> list[str]:
    prompts = [prompts] if isinstance(prompts, str) else list(prompts)
    if not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
        raise ValueError(f"{who}: prompts must be a non-empty list of non-empty strings.")
    return prompts


def prompt_explorer(
    generators: Mapping[str, PromptGenerator],
    prompts: Sequence[str],
    samples: int = 4,
    seed: int = 0,
    scale: int = 3,
    rewriter: Callable[[str], str] | None = None,
) -> Explorer:
    """Type a caption (or pick one of ``prompts``) and see ``samples`` images of each generator.

    Args:
        generators: name -> ``generate(prompt, n, seed)`` returning n images (n, H, W, C) in
            [-1, 1], e.g. a text-to-image pipeline of each model; it raises ValueError for a
            prompt it cannot read (the explorer shows that message instead of images).
        prompts: example captions for the picker; the first is drawn at the start.
        samples: images per generator and prompt; seed: the noise seed (a control too).
        scale: enlargement of the displayed images.
        rewriter: optional ``prompt -> caption`` (e.g. ``prompts.rewrite``); with it a
            "rewrite first" checkbox (control ``"rewrite"``) passes the typed prompt through
            it before the generators see it, and the message shows the rewritten caption.

    ``static_figure(prompts_shown=None)`` draws one row per prompt (the examples by default), one
    panel of ``samples`` images per generator, the same seed: what the HTML book shows.
    Raises ValueError on an empty ``generators`` or ``prompts`` or a bad count.
    """
    generators = dict(generators)
    if not generators or not all(callable(g) for g in generators.values()):
        raise ValueError(
            "prompt_explorer: generators must map names to generate(prompt, n, seed) callables."
        )
    prompts = _check_prompts(prompts, "prompt_explorer")
    samples = checks.integer(samples, "samples", who="prompt_explorer")
    seed = checks.integer(seed, "seed", minimum=0, who="prompt_explorer")
    scale = checks.integer(scale, "scale", who="prompt_explorer")
    if rewriter is not None and not callable(rewriter):
        raise ValueError(f"prompt_explorer: rewriter must be a function; got {rewriter!r}.")

    controls = {
        "prompt": ipywidgets.Text(
            value=prompts[0],
            description="caption",
            continuous_update=False,  # redraw on Enter or leaving the box, not per keystroke
            layout=ipywidgets.Layout(width="32em"),
        ),
        "examples": ipywidgets.Dropdown(options=prompts, value=prompts[0], description="examples"),
        "seed": ipywidgets.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed"),
    }
    if rewriter is not None:
        controls["rewrite"] = ipywidgets.Checkbox(value=False, description="rewrite first")
    images = {name: ipywidgets.Image(format="png") for name in generators}
    message = ipywidgets.HTML()

    def redraw(_change=None) -> None:
        prompt = controls["prompt"].value
        drawn = {}
        try:
            if rewriter is not None and controls["rewrite"].value:
                prompt = rewriter(prompt)
            for name, generate in generators.items():
                drawn[name] = generated_images(generate, prompt, samples, controls["seed"].value)
        except ValueError as error:  # a prompt the encoder cannot read: say why, keep the old
            message.value = f"<b>Not drawn:</b> {html.escape(str(error))}"
            return
        for name, batch in drawn.items():
            images[name].value = images_to_png(batch, scale)
        rewritten = " (rewritten)" if prompt != controls["prompt"].value else ""
        message.value = (
            f"Drawn for <i>{html.escape(prompt)}</i>{rewritten}, seed {controls['seed'].value}."
        )

    def pick_example(change) -> None:
        controls["prompt"].value = change["new"]  # redraws through the prompt's observer

    controls["prompt"].observe(redraw, names="value")
    controls["seed"].observe(redraw, names="value")
    if rewriter is not None:
        controls["rewrite"].observe(redraw, names="value")
    controls["examples"].observe(pick_example, names="value")
    redraw()
    panels = [ipywidgets.VBox([ipywidgets.Label(name), image]) for name, image in images.items()]
    widget = ipywidgets.VBox(
        [
            ipywidgets.HBox(
                [controls[key] for key in ("examples", "seed", "rewrite") if key in controls]
            ),
            controls["prompt"],
            message,
            ipywidgets.HBox(panels),
        ]
    )

    def static_figure(
        prompts_shown: Sequence[str] | None = None,
        size: float = 8.0,
        title: str | None = None,
    ):
        """One row per prompt, one panel of ``samples`` images per generator (same seed)."""
        shown = prompts if prompts_shown is None else _check_prompts(prompts_shown, "static_figure")
        rows, columns = len(shown), len(generators)
        panel_width = size / columns
        figure = plt.figure(figsize=(size, rows * (panel_width / samples + 0.55) + 0.4))
        subfigures = np.atleast_1d(figure.subfigures(rows, 1))
        for subfigure, prompt in zip(subfigures, shown, strict=True):
            subfigure.suptitle("\n".join(textwrap.wrap(f"“{prompt}”", 90)), fontsize=10, y=0.97)
            axes = np.atleast_1d(subfigure.subplots(1, columns))
            for axis, (name, generate) in zip(axes, generators.items(), strict=True):
                batch = generated_images(generate, prompt, samples, seed)
                grid = image_grid(batch, columns=samples, padding=1)
                axis.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray")
                axis.set_xticks([])
                axis.set_yticks([])
                axis.set_xlabel(name, fontsize=9)
        figure.suptitle(
            title or f"{samples} samples per generator and caption (seed {seed})",
            fontsize=11,
            y=1.0 + 0.25 / figure.get_figheight(),
        )
        return figure

    return Explorer(widget, static_figure, controls, next(iter(images.values())), images, message)
