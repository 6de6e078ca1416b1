"""Training: the ``GAN`` model with its ``train_step``, and callbacks any generative model uses.

* :class:`GAN` -- a ``keras.Model`` holding a generator and a discriminator, trained by
  ``fit`` with two optimizers (``compile(d_optimizer=..., g_optimizer=...)``), a loss by name
  from :data:`ganbook_utils.losses.GAN_LOSSES`, metric trackers and a fixed-seed :meth:`GAN.sample`.
* Callbacks that only need a model with ``sample(n, seed=...)`` (the GAN here, the VAE of
  :mod:`ganbook_utils.vae`): :class:`SampleGrid` (a PNG per epoch and a GIF at the end),
  :class:`Checkpoint` (atomic write, resume), :class:`DivergenceGuard` (stop on NaN/inf),
  :class:`ProgressBar` (one tqdm bar) and :class:`LossHistory`.
* :func:`fit_resumable` wires them together: train for a number of steps into a directory, and
  pick up where the last run stopped when called again. A resumed run keeps its optimizer
  settings (a model compiled with others is refused: :class:`ResumeMismatch`), takes its history,
  step count and training time from the checkpoint, and repairs what a killed run left. Every
  file of a run is written whole (:func:`write_bytes_atomic`).
* :func:`configure_mixed_precision` turns on float16 compute on GPUs that support it.

The GAN runs under a ``tf.distribute`` strategy: create the models, the ``GAN`` and call
``compile`` inside ``strategy.scope()``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ganbook_utils import checks, data, losses, models

CHECKPOINT_FILE = "checkpoint.npz"
HISTORY_FILE = "history.json"


def configure_mixed_precision(enable: bool | str = "auto") -> str:
    """Set Keras' global dtype policy; returns its name (``mixed_float16`` or ``float32``).

    ``"auto"`` enables mixed precision only when TensorFlow sees a GPU of compute capability
    >= 7.0 (tensor cores); on a CPU float16 is slower, so it stays off. Call it *before*
    building models: layers read the policy when they are created.
    """
    if enable == "auto":
        import tensorflow as tf

        enable = False
        for gpu in tf.config.list_physical_devices("GPU"):
            capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
            if capability and capability >= (7, 0):
                enable = True
    elif not isinstance(enable, bool):
        raise ValueError(f"enable must be True, False or 'auto'; got {enable!r}.")
    policy = "mixed_float16" if enable else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def _resolve_loss(loss: str | tuple[Callable, Callable]) -> tuple[Callable, Callable]:
    if isinstance(loss, str):
        return losses.get_gan_loss(loss)
    if isinstance(loss, tuple) and len(loss) == 2 and all(callable(f) for f in loss):
        return loss
    raise TypeError(
        "loss must be a name from ganbook_utils.losses.GAN_LOSSES "
        f"({', '.join(losses.GAN_LOSSES)}) or a pair (d_loss(real_logits, fake_logits), "
        f"g_loss(fake_logits)); got {loss!r}."
    )


@contextlib.contextmanager
def moving_average_swapped_in(optimizer: Any, network: keras.Model) -> Iterator[None]:
    """Within the block, ``network`` holds the moving average ``optimizer`` keeps of it.

    For an optimizer made with ``use_ema=True`` (unwrapped from a loss-scale optimizer); with
    any other optimizer, or none, the network is left as it is, and so it is before the first
    step (Keras starts the averages at zero and sets them to the weights at step 1). The weights
    are restored after.
    """
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    averages = getattr(optimizer, "_model_variables_moving_average", None)
    if not (optimizer is not None and optimizer.use_ema and averages):
        yield
        return
    if int(np.asarray(optimizer.iterations)) == 0:
        yield  # no step yet: the averages are Keras's zeros, not an average of anything
        return
    weights = network.trainable_variables
    current = [np.asarray(v) for v in weights]
    for variable, average in zip(weights, averages, strict=True):
        variable.assign(np.asarray(average))
    try:
        yield
    finally:
        for variable, value in zip(weights, current, strict=True):
            variable.assign(value)


class GAN(keras.Model):
    """A generator and a discriminator trained against each other by ``fit``.

    Args:
        generator: maps (batch, latent_dim) normal noise to images (batch, H, W, C) in [-1, 1].
        discriminator: maps images to one logit (or critic score) per image, (batch, 1).
        latent_dim: length of z; read from ``generator.input_shape`` when omitted.

    ``fit`` takes batches of real images (or ``(images, labels)`` pairs; labels are ignored).
    Each step updates the discriminator ``d_steps`` times and the generator once; in the last
    discriminator step both players' gradients come from one forward pass (the TensorFlow
    tutorial's simultaneous update), which saves a generator and a discriminator pass.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int | None = None,
        name: str = "gan",
        **kwargs: Any,
    ):
        super().__init__(name=name, **kwargs)
        for role, model in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(model, keras.Model):
                raise TypeError(f"{role} must be a keras.Model; got {type(model).__name__}.")
        self.generator = generator
        self.discriminator = discriminator
        if latent_dim is None:
            latent_dim = generator.input_shape[-1]
        self.latent_dim = checks.integer(latent_dim, "latent_dim", who="GAN")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        # Both sub-models are built; without this Keras would try to trace `call` to build it.
        self.built = True

    def compile(
        self,
        d_optimizer: keras.optimizers.Optimizer,
        g_optimizer: keras.optimizers.Optimizer,
        loss: str | tuple[Callable, Callable] = "non_saturating",
        gradient_penalty_weight: float | None = None,
        d_steps: int = 1,
        **kwargs: Any,
    ) -> None:
        """Set the optimizers and the loss. Call inside ``strategy.scope()`` when distributing.

        Args:
            d_optimizer, g_optimizer: two distinct Keras optimizers.
            loss: a name of ``losses.GAN_LOSSES`` or a ``(d_loss, g_loss)`` pair on logits.
            gradient_penalty_weight: lambda of WGAN-GP; defaults to
                ``losses.GRADIENT_PENALTY_WEIGHT`` for ``"wasserstein"``, else 0 (no penalty).
            d_steps: discriminator updates per generator update (5 is usual for WGAN-GP).
            kwargs: passed to ``keras.Model.compile`` (e.g. ``jit_compile``,
                ``steps_per_execution``).

        Raises TypeError/ValueError for a missing or shared optimizer, an unknown loss or a
        non-positive ``d_steps``.
        """
        for role, optimizer in (("d_optimizer", d_optimizer), ("g_optimizer", g_optimizer)):
            if not isinstance(optimizer, keras.optimizers.Optimizer):
                raise TypeError(
                    f"{role} must be a keras optimizer, e.g. keras.optimizers.Adam(2e-4, 0.5); "
                    f"got {optimizer!r}."
                )
        if d_optimizer is g_optimizer:
            raise ValueError(
                "d_optimizer and g_optimizer are the same object; give each player its own "
                "optimizer (their moment estimates must not mix)."
            )
        d_steps = checks.integer(d_steps, "d_steps", who="GAN.compile")
        self.d_loss_fn, self.g_loss_fn = _resolve_loss(loss)
        if gradient_penalty_weight is None:
            wasserstein = loss == "wasserstein"
            gradient_penalty_weight = losses.GRADIENT_PENALTY_WEIGHT if wasserstein else 0.0
        self.gradient_penalty_weight = checks.number(
            gradient_penalty_weight, "gradient_penalty_weight", low=0, who="GAN.compile"
        )
        self.d_steps = d_steps
        if self.generator.dtype_policy.name == "mixed_float16":
            # float16 gradients underflow; a loss-scale optimizer scales the loss up and the
            # gradients back down (its `scale_loss` is a no-op for a plain optimizer).
            if not isinstance(d_optimizer, keras.optimizers.LossScaleOptimizer):
                d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
            if not isinstance(g_optimizer, keras.optimizers.LossScaleOptimizer):
                g_optimizer = keras.optimizers.LossScaleOptimizer(g_optimizer)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Build both optimizers now, inside the caller's strategy scope, so that their slot
        # variables are mirrored like the weights they update (and exist for checkpoints).
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)
        super().compile(optimizer=None, **kwargs)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        # Listed here so that Keras resets them at the start of each epoch.
        return [self.d_loss_tracker, self.g_loss_tracker]

    def call(self, z: Any, training: bool = False) -> Any:
        """Generate images from latent vectors z of shape (batch, latent_dim)."""
        return self.generator(z, training=training)

    def _discriminator_loss(self, real_images: Any, fake_images: Any) -> Any:
        real_logits = self.discriminator(real_images, training=True)
        fake_logits = self.discriminator(fake_images, training=True)
        d_loss = self.d_loss_fn(real_logits, fake_logits)
        if self.gradient_penalty_weight:
            penalty = losses.gradient_penalty(self.discriminator, real_images, fake_images)
            d_loss = d_loss + self.gradient_penalty_weight * penalty
        return d_loss, fake_logits

    def train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        real_images = data[0] if isinstance(data, (tuple, list)) else data
        real_images = tf.cast(real_images, "float32")
        batch_size = tf.shape(real_images)[0]
        # Each replica sees its share of the global batch; scaling its mean loss by
        # 1/replicas makes the summed gradients those of the mean over the global batch.
        replica_scale = 1.0 / tf.distribute.get_strategy().num_replicas_in_sync

        for _ in range(self.d_steps - 1):
            z = tf.random.normal((batch_size, self.latent_dim))
            with tf.GradientTape() as d_tape:
                fake_images = self.generator(z, training=True)
                d_loss, _ = self._discriminator_loss(real_images, fake_images)
                scaled = self.d_optimizer.scale_loss(d_loss * replica_scale)
            d_grads = d_tape.gradient(scaled, self.discriminator.trainable_variables)
            self.d_optimizer.apply_gradients(
                zip(d_grads, self.discriminator.trainable_variables, strict=True)
            )

        z = tf.random.normal((batch_size, self.latent_dim))
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake_images = self.generator(z, training=True)
            d_loss, fake_logits = self._discriminator_loss(real_images, fake_images)
            g_loss = self.g_loss_fn(fake_logits)
            d_scaled = self.d_optimizer.scale_loss(d_loss * replica_scale)
            g_scaled = self.g_optimizer.scale_loss(g_loss * replica_scale)
        d_grads = d_tape.gradient(d_scaled, self.discriminator.trainable_variables)
        g_grads = g_tape.gradient(g_scaled, self.generator.trainable_variables)
        self.d_optimizer.apply_gradients(
            zip(d_grads, self.discriminator.trainable_variables, strict=True)
        )
        self.g_optimizer.apply_gradients(
            zip(g_grads, self.generator.trainable_variables, strict=True)
        )

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    def latent_vectors(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` standard normal latent vectors (n, latent_dim), float32, fixed by ``seed``."""
        n = checks.integer(n, "n", who="latent_vectors")
        seed = checks.seed(seed, who="latent_vectors")
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")

    @contextlib.contextmanager
    def averaged_generator(self) -> Iterator[keras.Model]:
        """The generator with its weights' moving average swapped in, for the ``with`` block.

        If ``g_optimizer`` was made with ``use_ema=True`` (as :func:`build_gan` does), it keeps
        an exponential moving average of the generator's weights; samples from the average are
        smoother than from the last step's weights. Without one, the generator as it is.
        """
        with moving_average_swapped_in(getattr(self, "g_optimizer", None), self.generator):
            yield self.generator

    def generate(self, z: Any, batch_size: int = 256) -> np.ndarray:
        """Images (n, H, W, C) in [-1, 1], float32, for latent vectors z (n, latent_dim).

        Uses the moving average of the generator's weights when there is one
        (see :meth:`averaged_generator`).
        """
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (n, {self.latent_dim}); got {z.shape}.")
        with self.averaged_generator() as generator:
            chunks = [
                np.asarray(generator(z[i : i + batch_size], training=False), dtype="float32")
                for i in range(0, len(z), batch_size)
            ]
        return np.concatenate(chunks)

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` generated images (n, H, W, C) in [-1, 1]; the same ``seed`` gives the same z."""
        return self.generate(self.latent_vectors(n, seed))


# Defaults of each DCGAN size. Adam with beta_1 = 0.5 is DCGAN's setting. dcgan28's width,
# learning rate, batch and weight averaging were chosen by benchmarks/bench_quality.py --arms
# (recorded in ganbook_utils/recorded/dcgan28_recipe.json, shown in the DCGAN chapter): at
# equal CPU time lr 5e-4 reached a lower FID than DCGAN's 2e-4, and the moving average of the
# generator's weights did not help (off). dcgan64 keeps DCGAN's 2e-4: on 64x64 shapes (width
# 16, batch 64) 5e-4 and 1e-4 collapsed within 600-900 steps (every tile the same noise), 2e-4
# trained the shipped dcgan64_shapes (12,000 steps; README weights table). No averaging: not
# measured.
_DCGAN_DEFAULTS = {
    "latent_dim": 100,
    "beta_1": 0.5,
    "generator_ema": True,
    "upsampling": "transposed",
}
DCGAN_RECIPES: dict[str, dict[str, Any]] = {
    "dcgan28": {**_DCGAN_DEFAULTS, "width": 32, "learning_rate": 5e-4, "generator_ema": False},
    "dcgan32": {**_DCGAN_DEFAULTS, "width": 64, "learning_rate": 2e-4},
    "dcgan64": {**_DCGAN_DEFAULTS, "width": 64, "learning_rate": 2e-4, "generator_ema": False},
}
# Momentum of the moving average of the generator's weights that `sample` uses: it averages
# over the last ~1 / (1 - 0.995) = 200 steps, long enough to smooth the step-to-step jitter of
# the adversarial game, short enough to follow a run of a few thousand steps.
GENERATOR_EMA_MOMENTUM = 0.995


def resolve_gan_settings(
    model: str = "dcgan28",
    width: int | None = None,
    latent_dim: int | None = None,
    learning_rate: float | None = None,
    beta_1: float | None = None,
) -> dict[str, Any]:
    """The recipe's values for the settings given as None, the others checked.

    ``width`` and ``latent_dim`` are positive integers (NumPy ones too), ``learning_rate`` > 0,
    ``beta_1`` in [0, 1). An explicit 0 is refused, never replaced by the default.
    """
    recipe = DCGAN_RECIPES[model]
    chosen = {
        "width": width,
        "latent_dim": latent_dim,
        "learning_rate": learning_rate,
        "beta_1": beta_1,
    }
    chosen = {key: recipe[key] if value is None else value for key, value in chosen.items()}
    return {
        "width": checks.integer(chosen["width"], "width", who="build_gan"),
        "latent_dim": checks.integer(chosen["latent_dim"], "latent_dim", who="build_gan"),
        "learning_rate": checks.number(
            chosen["learning_rate"], "learning_rate", low=0, low_open=True, who="build_gan"
        ),
        "beta_1": checks.number(
            chosen["beta_1"], "beta_1", low=0, high=1, high_open=True, who="build_gan"
        ),
    }


def build_gan(
    model: str = "dcgan28",
    loss: str = "non_saturating",
    width: int | None = None,
    latent_dim: int | None = None,
    learning_rate: float | None = None,
    beta_1: float | None = None,
    generator_ema: bool | None = None,
    ema_momentum: float | None = None,
    upsampling: str | None = None,
    **compile_kwargs: Any,
) -> GAN:
    """A compiled DCGAN (:data:`DCGAN_RECIPES` defaults for what is not given).

    For ``loss="wasserstein"`` the discriminator uses layer normalization (the gradient
    penalty is per image) and trains 5 critic steps per generator step. With
    ``generator_ema`` (default: the recipe's) the generator optimizer keeps a moving average of
    the weights (momentum ``ema_momentum``, default :data:`GENERATOR_EMA_MOMENTUM`) that
    :meth:`GAN.sample` uses. ``upsampling`` (default: the recipe's) is ``"transposed"`` or
    ``"resize"`` (see ``models.build_dcgan_generator``). Call inside ``strategy.scope()`` to
    distribute. Raises ValueError for an unknown model, loss or upsampling, a non-positive size
    or learning rate, ``beta_1`` outside [0, 1) or ``ema_momentum`` outside (0, 1).
    """
    if model not in DCGAN_RECIPES:
        raise ValueError(f"Unknown model {model!r}; choose one of {', '.join(DCGAN_RECIPES)}.")
    recipe = DCGAN_RECIPES[model]
    losses.get_gan_loss(loss)  # validates the name before building anything
    settings = resolve_gan_settings(model, width, latent_dim, learning_rate, beta_1)
    momentum = checks.number(
        GENERATOR_EMA_MOMENTUM if ema_momentum is None else ema_momentum,
        "ema_momentum",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
        who="build_gan",
    )
    wasserstein = loss == "wasserstein"
    generator, discriminator = models.build_dcgan(
        model,
        latent_dim=settings["latent_dim"],
        width=settings["width"],
        normalization="layer" if wasserstein else "batch",
        upsampling=recipe["upsampling"] if upsampling is None else upsampling,
    )
    gan = GAN(generator, discriminator)
    rate, beta = settings["learning_rate"], settings["beta_1"]
    beta_2 = 0.9 if wasserstein else 0.999
    compile_kwargs.setdefault("d_steps", 5 if wasserstein else 1)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(rate, beta_1=beta, beta_2=beta_2),
        g_optimizer=keras.optimizers.Adam(
            rate,
            beta_1=beta,
            beta_2=beta_2,
            use_ema=recipe["generator_ema"] if generator_ema is None else generator_ema,
            ema_momentum=momentum,
        ),
        loss=loss,
        **compile_kwargs,
    )
    return gan


# --- Callbacks: they need only `model.sample(n, seed=...)` and `model.weights`. ----------------


def _finite_logs(logs: dict[str, Any] | None) -> dict[str, float]:
    return {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}


class _StepCounting(keras.callbacks.Callback):
    """Knows the global step: ``epoch * steps_per_epoch + batch + 1`` (also across resumes).

    Keras calls ``on_train_batch_end`` once per ``steps_per_execution`` steps with the index of
    the last batch, so counting calls would undercount; the index does not.
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0
        self.step = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.step = self._epoch * self.params["steps"] + batch + 1


def tile_images(images: np.ndarray, columns: int | None = None, padding: int = 1) -> np.ndarray:
    """Tile (N, H, W, C) float images in [-1, 1] into one uint8 grid (rows*H, columns*W, C).

    Raises ValueError for uint8 or integer input (pixels already: normalize them with
    ``data.normalize_images`` first), NaN/inf, values outside [-1, 1], or a bad shape.
    """
    array = np.asarray(images)
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"tile_images expects float images in [-1, 1]; got dtype {array.dtype}. For uint8 "
            "pixels use data.normalize_images(images) first (or plotting.image_grid)."
        )
    if array.ndim != 4 or len(array) == 0 or array.shape[-1] not in (1, 3):
        raise ValueError(
            "tile_images expects a non-empty batch shaped (N, H, W, C), channels last with "
            f"C = 1 or 3; got shape {array.shape}."
        )
    images = array.astype("float32")
    data.check_unit_range(
        images, "tile_images", pixels_fix="normalize them with data.normalize_images"
    )
    count, height, width, channels = images.shape
    columns = math.ceil(math.sqrt(count)) if columns is None else columns
    columns = checks.integer(columns, "columns", who="tile_images")
    padding = checks.integer(padding, "padding", minimum=0, who="tile_images")
    rows = math.ceil(count / columns)
    grid = np.full(
        (rows * (height + padding) + padding, columns * (width + padding) + padding, channels),
        255,
        dtype=np.uint8,
    )
    pixels = np.round((np.clip(images, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    for index, image in enumerate(pixels):
        row, column = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + column * (width + padding)
        grid[top : top + height, left : left + width] = image
    return grid


def _to_pil(grid: np.ndarray, scale: int):
    from PIL import Image

    image = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    return image


# --- Files of a run: each written whole (temporary file + os.replace) or not at all. ----------

TEMPORARY_SUFFIX = ".tmp"


def _temporary_path(path: Path) -> Path:
    return path.with_name(path.name + TEMPORARY_SUFFIX)


def write_bytes_atomic(path: str | os.PathLike, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` whole: a temporary file next to it, then ``os.replace``.

    A process killed mid-write leaves the previous file (or none) and a stale ``.tmp``, which
    :func:`fit_resumable` removes, never a truncated ``path``.
    """
    path = Path(path)
    temporary = _temporary_path(path)
    with open(temporary, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """:func:`write_bytes_atomic` for UTF-8 text (``history.json``, ``provenance.json``, ...)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def _save_image_atomic(image: Any, path: Path, **save_kwargs: Any) -> None:
    buffer = io.BytesIO()
    image.save(buffer, **save_kwargs)
    write_bytes_atomic(path, buffer.getvalue())


def remove_stale_temporaries(directory: str | os.PathLike) -> list[Path]:
    """Delete the ``*.tmp`` files a killed run left in ``directory``; returns what was removed."""
    removed = []
    for path in sorted(Path(directory).glob(f"*{TEMPORARY_SUFFIX}")):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def _readable_image(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


class SampleGrid(keras.callbacks.Callback):
    """Save a grid of ``model.sample(n, seed)`` as ``samples_epoch_XXXX.png`` after each epoch.

    The same seed every epoch shows the same latent vectors evolving. At the end of training
    (or with :meth:`write_gif`) the PNGs in ``directory`` are assembled into ``samples.gif``.
    ``scale`` enlarges the grid (nearest neighbour); None picks 2 below 48 pixels, else 1.
    Works with any model that has ``sample(n, seed=...)`` returning images in [-1, 1]. Every
    file is written whole (temporary file + rename). With a ``guard`` (a
    :class:`DivergenceGuard`) nothing is drawn once it has seen the run diverge.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        n: int = 36,
        seed: int = 0,
        scale: int | None = None,
        gif_name: str = "samples.gif",
        frame_ms: int = 300,
        guard: DivergenceGuard | None = None,
    ):
        super().__init__()
        n = checks.integer(n, "n", who="SampleGrid")
        scale = checks.optional_integer(scale, "scale", who="SampleGrid")
        self.directory = Path(directory)
        self.n, self.seed, self.scale = n, checks.seed(seed, who="SampleGrid"), scale
        self.gif_path = self.directory / gif_name
        self.frame_ms = checks.integer(frame_ms, "frame_ms", who="SampleGrid")
        self.guard = guard
        self.write_gif_at_end = True

    def frame_path(self, epoch: int) -> Path:
        """The PNG of ``epoch`` (1-based: the state after that many epochs)."""
        return self.directory / f"samples_epoch_{epoch:04d}.png"

    def frame_paths(self) -> list[Path]:
        """The saved PNG frames, in epoch order."""
        return sorted(self.directory.glob("samples_epoch_*.png"))

    def _diverged(self) -> bool:
        return self.guard is not None and self.guard.message is not None

    def draw(self, epoch: int) -> Path | None:
        """Write the frame of ``epoch`` from the model as it is now; None if it is not finite."""
        images = np.asarray(self.model.sample(self.n, seed=self.seed))
        if not np.all(np.isfinite(images)):
            return None  # a diverged model: the DivergenceGuard reports it; keep the frames clean
        self.directory.mkdir(parents=True, exist_ok=True)
        # Small images (MNIST's 28 pixels) are enlarged 2x so that the GIF is legible.
        scale = self.scale if self.scale is not None else (2 if images.shape[1] < 48 else 1)
        path = self.frame_path(epoch)
        _save_image_atomic(_to_pil(tile_images(images), scale), path, format="PNG")
        return path

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._diverged():
            self.draw(epoch + 1)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.write_gif_at_end and not self._diverged():
            self.write_gif()

    def repair(self, epoch: int) -> list[str]:
        """Make the frames on disk those of a run restored at ``epoch``; returns notes.

        Frames after ``epoch`` (drawn after the last checkpoint, by a run that was then
        killed) are removed: training redraws them. The frame of ``epoch`` itself, if missing
        or unreadable, is redrawn from the restored model. An unreadable earlier frame (a
        kill mid-write by an older version) cannot be redrawn; it is removed and a note says
        the GIF skips it.
        """
        notes = []
        for path in self.frame_paths():
            number = int(path.stem.rsplit("_", 1)[-1]) if path.stem[-4:].isdigit() else 0
            if number > epoch:
                path.unlink()
            elif number < epoch and not _readable_image(path):
                path.unlink()
                notes.append(
                    f"{path.name} was unreadable (a run killed while writing it?); "
                    "the GIF skips that epoch."
                )
        current = self.frame_path(epoch)
        if epoch > 0 and (not current.exists() or not _readable_image(current)):
            self.draw(epoch)
        return notes

    def write_gif(self) -> Path | None:
        """Assemble the readable PNG frames into the GIF (looping; the last frame held longer).

        Unreadable frames are skipped with a printed note, so a damaged frame never costs the
        rest of a run (weights, provenance).
        """
        from PIL import Image

        frames = []
        for path in self.frame_paths():
            if _readable_image(path):
                with Image.open(path) as frame:
                    frames.append(frame.convert("P", palette=Image.ADAPTIVE))
            else:
                print(f"Note: {path.name} is unreadable; the GIF skips it.", flush=True)
        if not frames:
            return None
        durations = [self.frame_ms] * (len(frames) - 1) + [self.frame_ms * 5]
        _save_image_atomic(
            frames[0],
            self.gif_path,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=0,
        )
        return self.gif_path


# --- Checkpoints: weights, optimizer states and settings, and the run's record, in one file. --


def _optimizers_of(model: keras.Model) -> list[tuple[str, keras.optimizers.Optimizer]]:
    """Every optimizer held by the model as an attribute (``optimizer``, ``d_optimizer``, ...)."""
    found, seen = [], set()
    for attribute in sorted(vars(model)):
        value = getattr(model, attribute, None)
        if isinstance(value, keras.optimizers.Optimizer) and id(value) not in seen:
            seen.add(id(value))
            found.append((attribute, value))
    return found


def checkpoint_variables(model: keras.Model) -> list[tuple[str, Any]]:
    """(name, variable) of everything a resumed run needs: weights and optimizer states."""
    named = [(f"weights/{i}/{v.path}", v) for i, v in enumerate(model.weights)]
    for attribute, optimizer in _optimizers_of(model):
        named += [(f"{attribute}/{i}/{v.path}", v) for i, v in enumerate(optimizer.variables)]
    return named


# Settings of an optimizer that decide how a resumed run trains. The learning rate would be
# restored from the checkpoint (it is one of the optimizer's variables) while the others come
# from the new optimizer: a silent mix. They are saved and compared instead.
OPTIMIZER_SETTINGS = (
    "learning_rate",
    "beta_1",
    "beta_2",
    "epsilon",
    "amsgrad",
    "weight_decay",
    "clipnorm",
    "global_clipnorm",
    "clipvalue",
    "use_ema",
    "ema_momentum",
)


def _json_value(value: Any) -> Any:
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        # 7 significant digits: what a float32 variable holds (2e-4, not 0.00019999999494757).
        return float(f"{float(value):.7g}")
    return json.loads(json.dumps(value, default=str))  # e.g. a learning-rate schedule's config


def optimizer_settings(model: keras.Model) -> dict[str, dict[str, Any]]:
    """``{attribute: {"class": ..., "learning_rate": ..., "beta_1": ..., ...}}`` of each optimizer.

    A loss-scale wrapper (mixed precision) is looked through: its inner optimizer's settings.
    """
    settings = {}
    for attribute, optimizer in _optimizers_of(model):
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        config = inner.get_config()
        record = {"class": type(inner).__name__}
        record.update({k: _json_value(config[k]) for k in OPTIMIZER_SETTINGS if k in config})
        settings[attribute] = record
    return settings


def _same_setting(saved: Any, requested: Any) -> bool:
    if isinstance(saved, float) and isinstance(requested, float):
        # float32 variables round both sides alike; 1e-6 relative covers the round-off only.
        return math.isclose(saved, requested, rel_tol=1e-6, abs_tol=0.0)
    return saved == requested


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read, or that does not fit the model given."""


class ResumeMismatch(CheckpointError):
    """The model's optimizer settings differ from those the checkpoint was trained with.

    ``setting`` (e.g. ``"learning_rate"``), ``saved`` and ``requested`` say which and how;
    ``optimizer`` is the model attribute holding it (``d_optimizer``, ``optimizer``, ...).
    """

    def __init__(self, message: str, setting: str, saved: Any, requested: Any, optimizer: str):
        super().__init__(message)
        self.setting, self.saved, self.requested, self.optimizer = (
            setting,
            saved,
            requested,
            optimizer,
        )


def compare_optimizer_settings(
    saved: dict[str, dict[str, Any]], model: keras.Model, where: str = "The checkpoint"
) -> None:
    """Raise :class:`ResumeMismatch` at the first setting where ``model`` differs from ``saved``."""
    current = optimizer_settings(model)
    for attribute, record in saved.items():
        mine = current.get(attribute)
        if mine is None:
            continue  # a different set of optimizers shows up as a variable-count mismatch
        for setting, value in record.items():
            if setting in mine and not _same_setting(value, mine[setting]):
                raise ResumeMismatch(
                    f"{where} was trained with {setting}={value!r} ({attribute}); the model "
                    f"given has {setting}={mine[setting]!r}. A resumed run keeps its optimizer "
                    f"settings: compile with {setting}={value!r} to resume, or train into a new "
                    "directory.",
                    setting=setting,
                    saved=value,
                    requested=mine[setting],
                    optimizer=attribute,
                )


def save_checkpoint(
    model: keras.Model,
    path: str | os.PathLike,
    state: dict[str, Any] | None = None,
    run: dict[str, Any] | None = None,
) -> Path:
    """Write weights, optimizer states and settings and JSON-able dicts to one ``.npz`` file.

    ``state`` is what :func:`load_checkpoint` returns (e.g. the step); ``run`` is the run's
    record (history, wall time) that :func:`read_checkpoint` returns. The file is written next
    to its destination and then renamed over it (``os.replace`` is atomic), so a run killed
    mid-write leaves the previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    named = checkpoint_variables(model)
    arrays = {f"v{i}": np.asarray(variable) for i, (_, variable) in enumerate(named)}
    arrays["names"] = np.array([name for name, _ in named])
    arrays["state"] = np.array(json.dumps(state or {}))
    arrays["optimizers"] = np.array(json.dumps(optimizer_settings(model)))
    arrays["run"] = np.array(json.dumps(run or {}))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_bytes_atomic(path, buffer.getvalue())
    return path


def _open_checkpoint(path: Path) -> Any:
    """``np.load`` of a checkpoint, with every way it can fail turned into one clear line."""
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}; train first, or check the directory.")
    if path.is_dir():
        hint = (
            f" Pass the file inside it: {path / CHECKPOINT_FILE}."
            if (path / CHECKPOINT_FILE).exists()
            else ""
        )
        raise CheckpointError(f"Checkpoint path {path} is a directory, not a .npz file.{hint}")
    if path.stat().st_size == 0:
        raise CheckpointError(
            f"Checkpoint {path} is empty (0 bytes); delete it and train again, or pass another "
            "file."
        )
    not_ours = f"{path} is not a ganbook checkpoint (one written by training.save_checkpoint)"
    try:
        stored = np.load(path, allow_pickle=False)
    except ValueError:
        # numpy refuses pickled data unless asked; such a file is not ours and is never unpickled.
        raise CheckpointError(f"{not_ours}: it holds pickled Python objects.") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(
            f"Checkpoint {path} is truncated or damaged ({type(error).__name__}); delete it and "
            "train again."
        ) from None
    if not isinstance(stored, np.lib.npyio.NpzFile):
        raise CheckpointError(f"{not_ours}: it is a single .npy array.")
    if "names" not in stored.files or "state" not in stored.files:
        stored.close()
        raise CheckpointError(f"{not_ours}: it has no 'names'/'state' entries.")
    return stored


def _entry(stored: Any, key: str, path: Path) -> np.ndarray:
    """One array of an open checkpoint; a damaged or pickled entry is a CheckpointError."""
    try:
        return stored[key]
    except ValueError as error:
        if "pickle" in str(error):
            raise CheckpointError(
                f"{path} is not a ganbook checkpoint (one written by training.save_checkpoint): "
                f"entry {key!r} holds pickled Python objects."
            ) from None
        raise CheckpointError(
            f"Checkpoint {path} is truncated or damaged (entry {key!r}); delete it and train again."
        ) from None
    except (KeyError, OSError, EOFError, zipfile.BadZipFile):
        raise CheckpointError(
            f"Checkpoint {path} is truncated or damaged (entry {key!r}); delete it and train again."
        ) from None


def _read_json_entry(stored: Any, key: str, path: Path) -> dict[str, Any]:
    if key not in stored.files:
        return {}  # written by an older version
    try:
        return json.loads(str(_entry(stored, key, path)))
    except ValueError as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(
            f"Checkpoint {path} is truncated or damaged (entry {key!r}); delete it and train again."
        ) from None


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The records of a checkpoint, without a model: ``{"state", "optimizers", "run"}``.

    ``optimizers`` maps each optimizer attribute to its settings (see
    :func:`optimizer_settings`); ``run`` holds ``history`` and ``wall_time_s`` for checkpoints
    written by :func:`fit_resumable`. Raises FileNotFoundError / CheckpointError like
    :func:`load_checkpoint`.
    """
    path = Path(path)
    with _open_checkpoint(path) as stored:
        return {key: _read_json_entry(stored, key, path) for key in ("state", "optimizers", "run")}


def load_checkpoint(model: keras.Model, path: str | os.PathLike) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` wrote into ``model``; returns the saved ``state``.

    The model must be built and compiled like the one saved: same layers, same optimizers with
    the same settings (learning rate, betas, ...). Raises FileNotFoundError if there is no
    file; :class:`ResumeMismatch` (a ValueError) naming the first optimizer setting that
    differs; :class:`CheckpointError` (a ValueError) for a file that is empty, truncated, a
    directory, not a checkpoint, or of another architecture. Nothing is assigned unless all
    checks pass.
    """
    path = Path(path)
    named = checkpoint_variables(model)
    with _open_checkpoint(path) as stored:
        names = [str(name) for name in _entry(stored, "names", path)]
        count = len(names) if len(names) == len(named) else 0
        values = [_entry(stored, f"v{i}", path) for i in range(count)]
        state = _read_json_entry(stored, "state", path)
        saved_settings = _read_json_entry(stored, "optimizers", path)
    if len(names) != len(named):
        raise CheckpointError(
            f"Checkpoint {path} holds {len(names)} variables but the model has {len(named)}; "
            "build and compile the model exactly as for the run that saved it."
        )
    for (name, variable), value in zip(named, values, strict=True):
        if tuple(variable.shape) != value.shape:
            raise CheckpointError(
                f"Checkpoint {path}: variable {name} has shape {value.shape}, the model's has "
                f"{tuple(variable.shape)}; build the model with the same architecture."
            )
    compare_optimizer_settings(saved_settings, model, where=f"Checkpoint {path}")
    for (_, variable), value in zip(named, values, strict=True):
        variable.assign(value)
    return state


def _all_finite(model: keras.Model) -> bool:
    return all(np.all(np.isfinite(np.asarray(v))) for v in model.trainable_weights)


class LossHistory(_StepCounting):
    """Epoch-end logs with the global step: ``history["step"]``, ``history["d_loss"]``, ...

    Unlike Keras' ``History`` it keeps the records of earlier (resumed) runs.
    """

    def __init__(self, history: dict[str, list[float]] | None = None):
        super().__init__()
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (history or {}).items()}
        self.step = int(self.history["step"][-1]) if self.history.get("step") else 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        values = _finite_logs(logs)
        if not all(math.isfinite(v) for v in values.values()):
            return
        self.step = (epoch + 1) * self.params["steps"]
        self.history.setdefault("step", []).append(self.step)
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)


class Checkpoint(keras.callbacks.Callback):
    """Save a resumable checkpoint (``directory/checkpoint.npz``) every ``every_epochs`` epochs.

    The checkpoint holds the :class:`LossHistory` records and the training time so far
    (``earlier_wall_time_s`` plus this ``fit``'s), so a resumed run derives both from it;
    ``history.json`` is a readable copy, written after it. A checkpoint is only written when the
    epoch's losses and all weights are finite (and the ``guard``, if any, saw no divergence), so
    after a divergence the file on disk is the last good state.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        history: LossHistory,
        every_epochs: int = 1,
        earlier_wall_time_s: float = 0.0,
        guard: DivergenceGuard | None = None,
    ):
        super().__init__()
        self.every_epochs = checks.integer(every_epochs, "every_epochs", who="Checkpoint")
        self.directory = Path(directory)
        self.path = self.directory / CHECKPOINT_FILE
        self.history = history
        self.earlier_wall_time_s = float(earlier_wall_time_s)
        self.wall_time_s = self.earlier_wall_time_s
        self.guard = guard
        self.saved_step: int | None = None
        self._start = time.perf_counter()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if (epoch + 1) % self.every_epochs:
            return
        if self.guard is not None and self.guard.message is not None:
            return
        values = _finite_logs(logs)
        if not all(math.isfinite(v) for v in values.values()) or not _all_finite(self.model):
            return
        self.save(epoch + 1)

    def save(self, epoch: int) -> None:
        steps_per_epoch = self.params["steps"]
        state = {
            "step": epoch * steps_per_epoch,
            "epoch": epoch,
            "steps_per_epoch": steps_per_epoch,
        }
        wall_time_s = self.earlier_wall_time_s + time.perf_counter() - self._start
        run = {"history": self.history.history, "wall_time_s": wall_time_s}
        save_checkpoint(self.model, self.path, state, run)
        self.wall_time_s = wall_time_s
        write_text_atomic(self.directory / HISTORY_FILE, json.dumps(self.history.history))
        self.saved_step = state["step"]


class DivergenceGuard(_StepCounting):
    """Stop training when a logged loss is NaN/inf or its magnitude exceeds ``max_abs_loss``.

    Sets ``model.stop_training``, stores the reason in :attr:`message` and prints it (once).
    Pair it with :class:`Checkpoint`, which refuses to save a diverged state.
    """

    def __init__(self, max_abs_loss: float = 1e6, checkpoint_path: str | os.PathLike | None = None):
        super().__init__()
        self.max_abs_loss = checks.number(
            max_abs_loss, "max_abs_loss", low=0, low_open=True, who="DivergenceGuard"
        )
        self.checkpoint_path = checkpoint_path
        self.message: str | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.message = None

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        super().on_train_batch_end(batch, logs)
        if self.message is not None:
            return
        for key, value in _finite_logs(logs).items():
            if not math.isfinite(value) or abs(value) > self.max_abs_loss:
                self._stop(f"{key} = {value} (limit |loss| <= {self.max_abs_loss:g})")
                return

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        # A NaN can hide from the losses (e.g. a ReLU that maps NaN to 0), not from the weights.
        if self.message is None and not _all_finite(self.model):
            self._stop("a weight is NaN or infinite")

    def _stop(self, reason: str) -> None:
        where = (
            f"The last good checkpoint is kept at {self.checkpoint_path}."
            if self.checkpoint_path and Path(self.checkpoint_path).exists()
            else "No checkpoint was saved before it."
        )
        self.message = (
            f"Training diverged at step {self.step}: {reason}. Training stopped. {where} "
            "Try a lower learning rate, another loss, or check the data for NaNs."
        )
        print(self.message, file=sys.stdout, flush=True)
        self.model.stop_training = True


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where one output can be updated in place)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


class _DisplayLine:
    """A file for tqdm that keeps only its latest line, in one notebook output updated in place.

    Writing carriage-return updates to stdout would leave one line per update in the saved
    notebook (and on the book's page); a display handle is replaced instead.
    """

    def __init__(self):
        from IPython.display import display

        self.handle = display({"text/plain": ""}, raw=True, display_id=True)

    def write(self, text: str) -> None:
        lines = text.replace("\r", "\n").strip().splitlines()
        if lines:
            self.handle.update({"text/plain": lines[-1]}, raw=True)

    def flush(self) -> None:
        pass


class ProgressBar(_StepCounting):
    """One tqdm bar over all steps (with the latest losses), instead of Keras' per-epoch bars."""

    def __init__(self, total_steps: int, initial_step: int = 0, description: str = "training"):
        super().__init__()
        self.total_steps = checks.integer(total_steps, "total_steps", who="ProgressBar")
        self.initial_step = checks.integer(
            initial_step, "initial_step", minimum=0, who="ProgressBar"
        )
        self.description = description
        self.bar = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        from tqdm import tqdm

        # In a notebook one output updated in place; elsewhere stdout, not stderr (the book
        # removes stderr, TensorFlow's noise, from its pages).
        notebook = _in_notebook()
        self.bar = tqdm(
            total=self.total_steps,
            initial=self.initial_step,
            desc=self.description,
            file=_DisplayLine() if notebook else sys.stdout,
            mininterval=0.5 if notebook else 2.0,
            ascii=True,
            dynamic_ncols=False,
            # 79 columns: the width of a book page's output box.
            ncols=79,
        )

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        super().on_train_batch_end(batch, logs)
        self.bar.update(self.step - self.bar.n)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.bar.set_postfix({k: f"{v:.3f}" for k, v in _finite_logs(logs).items()}, refresh=False)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.bar.close()


def _repeat_forever(dataset: Any) -> Any:
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            f"dataset must be a tf.data.Dataset of image batches; got {type(dataset).__name__}. "
            "Use ganbook_utils.data.make_pipeline(images, batch_size)."
        )
    if dataset.cardinality() != tf.data.INFINITE_CARDINALITY:
        dataset = dataset.repeat()
    return dataset


def _history_from_file(directory: Path, step: int) -> dict[str, list[float]]:
    """history.json cut at ``step`` (for checkpoints of older versions, which hold no history)."""
    try:
        history = json.loads((directory / HISTORY_FILE).read_text())
        keep = sum(1 for s in history.get("step", []) if s <= step)
        return {key: list(values)[:keep] for key, values in history.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def fit_resumable(
    model: keras.Model,
    dataset: Any,
    steps: int,
    directory: str | os.PathLike,
    steps_per_epoch: int | None = None,
    sample_grid: bool = True,
    samples: int = 36,
    sample_seed: int = 0,
    callbacks: Iterable[keras.callbacks.Callback] = (),
    progress: bool = True,
    resume: bool = True,
) -> dict[str, Any]:
    """Train a compiled model for ``steps`` steps, saving into ``directory``; resume if possible.

    An epoch is ``steps_per_epoch`` steps (default: ``steps // 20``, so 20 epochs). After each
    one a checkpoint, ``history.json`` and a sample grid are saved, each file written whole; at
    the end ``samples.gif`` (not after a divergence). Called again with the same directory it
    restores the checkpoint (weights, optimizer states, history, training time) and trains only
    the remaining epochs; what a killed run left is repaired first (stale ``.tmp`` files
    removed, frames after the checkpoint dropped, a missing last frame redrawn, history.json
    rewritten from the checkpoint). ``steps`` is rounded up to whole epochs.

    The first batch of ``dataset`` must be float images in [-1, 1] (``data.make_pipeline``
    makes such a dataset).

    Returns ``{"history": {...}, "step": int, "diverged": message or None,
    "gif": path or None, "directory": Path, "wall_time_s": float, "notes": [str]}``, where
    ``wall_time_s`` is the training time summed over every run that reached a checkpoint.
    Raises ValueError for a non-positive step count, a first batch outside [-1, 1] or a
    checkpoint saved with another ``steps_per_epoch``; :class:`ResumeMismatch` when the
    model's optimizer settings differ from the checkpoint's (a resumed run keeps them);
    TypeError for a non-``tf.data`` dataset or integer pixels.
    """
    steps = checks.integer(steps, "steps", who="fit_resumable")
    if steps_per_epoch is None:
        steps_per_epoch = max(1, steps // 20)
    steps_per_epoch = checks.integer(steps_per_epoch, "steps_per_epoch", who="fit_resumable")
    samples = checks.integer(samples, "samples", who="fit_resumable")
    sample_seed = checks.seed(sample_seed, "sample_seed", who="fit_resumable")
    repeated = _repeat_forever(dataset)
    data.check_first_batch(dataset, who="fit_resumable")
    epochs = math.ceil(steps / steps_per_epoch)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(
            f"fit_resumable: directory {directory} is a file; pass a directory for the run."
        )
    directory.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(directory)
    checkpoint_path = directory / CHECKPOINT_FILE
    state, history, wall_time_s = {"step": 0, "epoch": 0}, {}, 0.0
    if resume and checkpoint_path.exists():
        saved = read_checkpoint(checkpoint_path)
        saved_steps_per_epoch = saved["state"].get("steps_per_epoch", steps_per_epoch)
        if saved_steps_per_epoch != steps_per_epoch:
            raise ValueError(
                f"The checkpoint in {directory} was saved with {saved_steps_per_epoch} steps per "
                f"epoch, this call uses {steps_per_epoch}; pass "
                f"steps_per_epoch={saved_steps_per_epoch} to resume it, or a new directory."
            )
        state = load_checkpoint(model, checkpoint_path)
        run = saved["run"]
        history = (
            run["history"] if "history" in run else _history_from_file(directory, state["step"])
        )
        wall_time_s = float(run.get("wall_time_s", 0.0))
    loss_history = LossHistory(history)
    loss_history.step = max(loss_history.step, int(state["step"]))
    guard = DivergenceGuard(checkpoint_path=checkpoint_path)
    checkpoint = Checkpoint(directory, loss_history, earlier_wall_time_s=wall_time_s, guard=guard)
    all_callbacks = [loss_history, guard, checkpoint]
    notes: list[str] = []
    grid = None
    if sample_grid:
        grid = SampleGrid(directory, n=samples, seed=sample_seed, guard=guard)
        grid.write_gif_at_end = False  # written below, once, and only if the run did not diverge
        grid.set_model(model)
        notes += grid.repair(state["epoch"])
        all_callbacks.append(grid)
    for note in notes:
        print(f"Note: {note}", flush=True)
    if progress:
        all_callbacks.append(ProgressBar(epochs * steps_per_epoch, state["step"]))
    all_callbacks += list(callbacks)
    if state["epoch"] < epochs:
        model.fit(
            repeated,
            epochs=epochs,
            initial_epoch=state["epoch"],
            steps_per_epoch=steps_per_epoch,
            callbacks=all_callbacks,
            shuffle=False,  # a tf.data pipeline shuffles itself
            verbose=0,
        )
    if guard.message is None:
        # Also repairs a missing or truncated history.json of a run killed after its checkpoint.
        write_text_atomic(directory / HISTORY_FILE, json.dumps(loss_history.history))
    gif = grid.write_gif() if grid is not None and guard.message is None else None
    return {
        "history": loss_history.history,
        "step": loss_history.step,
        "diverged": guard.message,
        "gif": gif,
        "directory": directory,
        "wall_time_s": checkpoint.wall_time_s,
        "notes": notes,
    }
