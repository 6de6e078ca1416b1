"""Draw samples from the shipped generators: ``python -m ganbook_utils sample ...``.

Every shipped generator (the DCGAN, the VAEs, the diffusion models, the text-to-image
models) is loaded by name and offers the same ``sample(n, seed)``; :func:`draw` adds the
diffusion options (``label``, ``steps``, ``guidance``) and, for the text-to-image models
(family ``text``), the ``prompt`` (passed through ``prompts.rewrite`` first with ``rewrite``),
and :func:`save` writes a ``.npy`` array in [-1, 1] (N, H, W, C) or a ``.png`` grid. The
command line::

    python -m ganbook_utils sample --weights diffusion_mnist_cond --label 3 --guidance 2 \\
        --n 16 --seed 0 --out threes.png
    python -m ganbook_utils sample --weights diffusion_text_shapes32 \\
        --prompt "a small red circle in the top left" --n 8 --out circles.png
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
# name -> (family, description). Only those whose files are present are offered.
GENERATORS = {
    "dcgan28_mnist": ("dcgan", "DCGAN generator, MNIST 28x28x1"),
    "vae_mnist": ("vae", "VAE decoder (16-d latent), MNIST 28x28x1"),
    "vae_mnist2d": ("vae", "VAE decoder (2-d latent), MNIST 28x28x1"),
    "vae_shapes32": ("vae", "VAE decoder, shapes 32x32x3"),
    "diffusion_mnist": ("diffusion", "unconditional flow-matching U-Net, MNIST (Euler sampler)"),
    "diffusion_mnist_cond": (
        "diffusion",
        "class-conditional DDPM U-Net, MNIST (DDIM sampler, --label, --guidance)",
    ),
    "diffusion_mnist_cond_flow": (
        "diffusion",
        "class-conditional flow-matching U-Net, MNIST (Euler sampler, --label, --guidance)",
    ),
    # Text to image: the frozen text encoder clip_shapes32 turns --prompt into the condition.
    "diffusion_text_shapes32": (
        "text",
        "text-conditioned flow-matching U-Net, shapes 32x32x3 (--prompt, --guidance, --steps)",
    ),
    "gan_text_shapes32": ("text", "text-conditioned GAN, shapes 32x32x3 (--prompt)"),
}


def shipped_generators() -> dict[str, str]:
    """``{name: description}`` of the generators whose weights and provenance are shipped."""
    return {
        name: description
        for name, (_, description) in GENERATORS.items()
        if (WEIGHTS_DIR / f"{name}.weights.h5").exists() and (WEIGHTS_DIR / f"{name}.json").exists()
    }


class _DCGANSampler:
    """The shipped DCGAN generator behind the common ``sample(n, seed)``."""

    def __init__(self, generator: Any, latent_dim: int):
        self.generator, self.latent_dim = generator, latent_dim

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        latents = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        return np.asarray(self.generator(latents.astype(np.float32), training=False))


def load_generator(name: str) -> Any:
    """The shipped generator ``name`` as an object with ``sample(n, seed, ...)``.

    Raises ValueError naming the shipped generators for an unknown or missing name.
    """
    shipped = shipped_generators()
    if name not in shipped:
        raise ValueError(
            f"--weights {name!r} is not a shipped generator; choose one of "
            f"{', '.join(shipped) or '(none shipped)'}."
        )
    family = GENERATORS[name][0]
    if family == "text":
        from ganbook_utils import text_to_image

        pipeline = text_to_image.load_pipeline(name)
        if pipeline is None:
            raise ValueError(
                f"--weights {name} needs the text encoder {text_to_image.TEXT_ENCODER}, which is "
                "not shipped."
            )
        return pipeline
    if family == "dcgan":
        from ganbook_utils import models

        generator, provenance = models.load_pretrained_generator(name)
        return _DCGANSampler(generator, provenance["architecture"]["latent_dim"])
    if family == "vae":
        from ganbook_utils import vae

        return vae.load_pretrained(name)[0]
    from ganbook_utils import diffusion

    return diffusion.load_pretrained(name)[0]


def draw(
    name: str,
    n: int,
    seed: int = 0,
    label: int | None = None,
    steps: int | None = None,
    guidance: float | None = None,
    prompt: str | None = None,
    rewrite: bool = False,
) -> np.ndarray:
    """``n`` samples (n, H, W, C) float32 in [-1, 1] from the shipped generator ``name``.

    ``label`` (a class-conditional model only), ``steps`` and ``guidance`` (diffusion models
    only) are passed to its sampler; a text-to-image model needs ``prompt`` (``rewrite``: pass
    it through ``prompts.rewrite`` first) and draws ``n`` images of it. Raises ValueError for an
    option the model does not take, n < 1, a label out of range, steps < 1, guidance on an
    unconditional model, a prompt for a model without text or a bad prompt (empty, only
    unknown words, longer than the text encoder's context).
    """
    from ganbook_utils import checks

    n = checks.integer(n, "--n", who="sample")
    seed = checks.seed(seed, "--seed", who="sample")
    if name in GENERATORS:
        family = GENERATORS[name][0]
        if family == "text":
            return _draw_text(name, n, seed, label, steps, guidance, prompt, rewrite)
        if prompt is not None or rewrite:
            flag = "--prompt" if prompt is not None else "--rewrite"
            text_models = [k for k in shipped_generators() if GENERATORS[k][0] == "text"]
            raise ValueError(
                f"{flag} is for the text-to-image models ({', '.join(text_models) or 'none '}"
                f"{'' if text_models else 'shipped'}); {name} is a {family}, which takes no text."
            )
    model = load_generator(name)
    family = GENERATORS[name][0]
    options: dict[str, Any] = {}
    if family != "diffusion":
        for flag, value in (("--label", label), ("--steps", steps), ("--guidance", guidance)):
            if value is not None:
                raise ValueError(f"{flag} is for diffusion models; {name} is a {family}.")
    else:
        if label is not None:
            if model.num_classes is None:
                raise ValueError(f"--label needs a class-conditional model; {name} is not one.")
            options["labels"] = np.full((n,), int(label))
        if steps is not None:
            options["steps"] = steps
        if guidance is not None:
            options["guidance"] = guidance
    images = np.asarray(model.sample(n, seed=seed, **options), dtype=np.float32)
    return np.clip(images, -1.0, 1.0)


def _draw_text(name, n, seed, label, steps, guidance, prompt, rewrite) -> np.ndarray:
    """:func:`draw` for a text-to-image model: ``n`` images of ``prompt``."""
    from ganbook_utils.text_to_image import UnknownWordsWarning

    if label is not None:
        raise ValueError(f"--label is for class-conditional models; {name} takes --prompt.")
    if prompt is None:
        raise ValueError(
            f"{name} is a text-to-image model: give --prompt, e.g. --prompt "
            "'a small red circle in the top left'."
        )
    pipeline = load_generator(name)
    options: dict[str, Any] = {}
    if steps is not None:
        if not pipeline.takes_guidance:
            raise ValueError(f"--steps is for diffusion models; {name} is a GAN.")
        options["steps"] = steps
    if guidance is not None and not pipeline.takes_guidance:
        raise ValueError(f"--guidance is for diffusion models; {name} is a GAN.")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnknownWordsWarning)
            images = pipeline.generate(
                [prompt] * n, seed=seed, guidance=guidance, rewrite=rewrite, **options
            )
    except ValueError as error:
        # The text encoder names the prompt "prompt 0" of a list; here there is only one.
        raise ValueError(str(error).replace("prompt 0 ", "the prompt ", 1)) from None
    for warning in caught:
        if issubclass(warning.category, UnknownWordsWarning):  # one plain line on stderr
            print(f"note: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return images


def save(images: np.ndarray, path: str | Path) -> Path:
    """Write samples to ``path``: ``.npy`` (the array itself) or ``.png`` (a tiled grid)."""
    from ganbook_utils import training

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".png"):
        raise ValueError(f"--out must end in .npy or .png; got {str(path)!r}.")
    if path.exists() and path.is_dir():
        raise ValueError(f"--out {path} is a directory; pass a file name ending in .npy or .png.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".npy":
        buffer = path.with_name(path.name + ".tmp.npy")
        np.save(buffer, images)
        buffer.replace(path)
    else:
        from PIL import Image

        grid = training.tile_images(images)
        image = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
        if grid.shape[0] < 200:  # MNIST-sized grids are enlarged to be legible
            image = image.resize((image.width * 2, image.height * 2), Image.NEAREST)
        buffer = path.with_name(path.name + ".tmp.png")
        image.save(buffer, format="PNG")
        buffer.replace(path)
    return path


def add_parser(commands: Any, positive_int: Any, non_negative_int: Any, number: Any) -> None:
    """Register the ``sample`` subcommand on ``commands`` (an argparse subparsers object)."""
    shipped = shipped_generators()
    listing = "\n".join(f"  {name:22s} {description}" for name, description in shipped.items())
    sample = commands.add_parser(
        "sample",
        help="draw samples from a shipped generator into a .npy or .png file",
        description="Draw samples from a shipped generator.\n\nshipped generators:\n"
        + (listing or "  (none)"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sample.add_argument(
        "--weights", required=True, help="a shipped generator: " + ", ".join(shipped)
    )
    sample.add_argument("--n", type=positive_int, default=16, help="number of samples")
    sample.add_argument("--seed", type=non_negative_int, default=0)
    sample.add_argument("--out", required=True, help="FILE.npy (array in [-1, 1]) or FILE.png")
    sample.add_argument(
        "--label", type=non_negative_int, default=None, help="class-conditional models: the class"
    )
    sample.add_argument(
        "--steps", type=positive_int, default=None, help="diffusion: sampling steps"
    )
    sample.add_argument(
        "--guidance",
        type=number,
        default=None,
        help="diffusion: classifier-free guidance weight w >= 0 (0 = conditional, no guidance)",
    )
    sample.add_argument(
        "--prompt", default=None, help="text-to-image models: what to draw, in words"
    )
    sample.add_argument(
        "--rewrite",
        action="store_true",
        help="text-to-image models: rewrite the prompt into the caption grammar first",
    )
    sample.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """``sample``: draw and save; user mistakes become one-line usage errors (exit 2)."""
    from ganbook_utils.cli import UsageError

    try:
        if Path(args.out).suffix.lower() not in (".npy", ".png"):
            raise ValueError(f"--out must end in .npy or .png; got {args.out!r}.")
        images = draw(
            args.weights,
            args.n,
            args.seed,
            args.label,
            args.steps,
            args.guidance,
            prompt=args.prompt,
            rewrite=args.rewrite,
        )
        path = save(images, args.out)
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    print(f"Wrote {len(images)} samples from {args.weights} to {path}")
    return 0
