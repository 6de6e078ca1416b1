"""Training: the ``GAN`` model with its ``train_step``, and callbacks any generative model uses.

* :class:`GAN` -- a ``keras.Model`` holding a generator and a discriminator, trained by
  ``fit`` with two optimizers (``compile(d_optimizer=..., g_optimizer=...)``), a loss by name
  from :data:`ganbook_utils.losses.GAN_LOSSES`, metric trackers and a fixed-seed :meth:`GAN.sample`.
* Callbacks that only need a model with ``sample(n, seed=...)`` (the GAN here, the VAE of
  :mod:`ganbook_utils.vae`): :class:`SampleGrid` (a PNG per epoch and a GIF at the end),
  :class:`Checkpoint` (atomic write, resume), :class:`DivergenceGuard` (stop on NaN/inf),
  :class:`ProgressBar` (one tqdm bar) and :class:`LossHistory`.
* :func:`fit_resumable` wires them together: train for a number of steps into a directory, and
  pick up where the last run stopped when called again.
* :func:`configure_mixed_precision` turns on float16 compute on GPUs that support it.

The GAN runs under a ``tf.distribute`` strategy: create the models, the ``GAN`` and call
``compile`` inside ``strategy.scope()``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ganbook_utils import losses, models

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
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive integer; got {latent_dim!r}.")
        self.latent_dim = latent_dim
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
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(f"d_steps must be a positive integer; got {d_steps!r}.")
        self.d_loss_fn, self.g_loss_fn = _resolve_loss(loss)
        if gradient_penalty_weight is None:
            wasserstein = loss == "wasserstein"
            gradient_penalty_weight = losses.GRADIENT_PENALTY_WEIGHT if wasserstein else 0.0
        if gradient_penalty_weight < 0:
            raise ValueError(
                f"gradient_penalty_weight must be >= 0; got {gradient_penalty_weight}."
            )
        self.gradient_penalty_weight = float(gradient_penalty_weight)
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
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer; got {n!r}.")
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")

    @contextlib.contextmanager
    def averaged_generator(self) -> Iterator[keras.Model]:
        """The generator with its weights' moving average swapped in, for the ``with`` block.

        If ``g_optimizer`` was made with ``use_ema=True`` (as :func:`build_gan` does), it keeps
        an exponential moving average of the generator's weights; samples from the average are
        smoother than from the last step's weights. Without one, the generator as it is.
        """
        optimizer = getattr(self, "g_optimizer", None)
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        averages = getattr(optimizer, "_model_variables_moving_average", None)
        if not (optimizer is not None and optimizer.use_ema and averages):
            yield self.generator
            return
        weights = self.generator.trainable_variables
        current = [np.asarray(v) for v in weights]
        for variable, average in zip(weights, averages, strict=True):
            variable.assign(np.asarray(average))
        try:
            yield self.generator
        finally:
            for variable, value in zip(weights, current, strict=True):
                variable.assign(value)

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


# Defaults that train each DCGAN size well. Adam with beta_1 = 0.5 and lr 2e-4 are DCGAN's
# settings; measured for dcgan28 on 2 CPU cores: legible digits after ~3,000 steps of batch 64.
# For dcgan64 on shapes64 (width 16, batch 64) lr 2e-4 still drew uniform grey noise after 600
# steps (Adam moves a weight by at most ~lr per step), while 5e-4 drew dark backgrounds with
# coloured blobs after 300. The moving average of the generator's weights (see
# GENERATOR_EMA_MOMENTUM) smooths dcgan28's digits; on that fast-changing dcgan64 run it lagged
# behind and averaged the blobs away after 600 steps, so it is off there.
_DCGAN_DEFAULTS = {"latent_dim": 100, "beta_1": 0.5, "generator_ema": True}
DCGAN_RECIPES: dict[str, dict[str, Any]] = {
    "dcgan28": {**_DCGAN_DEFAULTS, "width": 32, "learning_rate": 2e-4},
    "dcgan32": {**_DCGAN_DEFAULTS, "width": 64, "learning_rate": 2e-4},
    "dcgan64": {**_DCGAN_DEFAULTS, "width": 64, "learning_rate": 5e-4, "generator_ema": False},
}
# Momentum of the moving average of the generator's weights that `sample` uses: it averages
# over the last ~1 / (1 - 0.995) = 200 steps, long enough to smooth the step-to-step jitter of
# the adversarial game, short enough to follow a run of a few thousand steps.
GENERATOR_EMA_MOMENTUM = 0.995


def build_gan(
    model: str = "dcgan28",
    loss: str = "non_saturating",
    width: int | None = None,
    latent_dim: int | None = None,
    learning_rate: float | None = None,
    beta_1: float | None = None,
    generator_ema: bool | None = None,
    **compile_kwargs: Any,
) -> GAN:
    """A compiled DCGAN (:data:`DCGAN_RECIPES` defaults for what is not given).

    For ``loss="wasserstein"`` the discriminator uses layer normalization (the gradient
    penalty is per image) and trains 5 critic steps per generator step. With
    ``generator_ema`` (default: the recipe's) the generator optimizer keeps a moving average of
    the weights (momentum :data:`GENERATOR_EMA_MOMENTUM`) that :meth:`GAN.sample` uses. Call inside
    ``strategy.scope()`` to distribute. Raises ValueError for an unknown model or loss.
    """
    if model not in DCGAN_RECIPES:
        raise ValueError(f"Unknown model {model!r}; choose one of {', '.join(DCGAN_RECIPES)}.")
    recipe = DCGAN_RECIPES[model]
    losses.get_gan_loss(loss)  # validates the name before building anything
    wasserstein = loss == "wasserstein"
    generator, discriminator = models.build_dcgan(
        model,
        latent_dim=latent_dim or recipe["latent_dim"],
        width=width or recipe["width"],
        normalization="layer" if wasserstein else "batch",
    )
    gan = GAN(generator, discriminator)
    rate = learning_rate or recipe["learning_rate"]
    beta = recipe["beta_1"] if beta_1 is None else beta_1
    beta_2 = 0.9 if wasserstein else 0.999
    compile_kwargs.setdefault("d_steps", 5 if wasserstein else 1)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(rate, beta_1=beta, beta_2=beta_2),
        g_optimizer=keras.optimizers.Adam(
            rate,
            beta_1=beta,
            beta_2=beta_2,
            use_ema=recipe["generator_ema"] if generator_ema is None else generator_ema,
            ema_momentum=GENERATOR_EMA_MOMENTUM,
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
    """Tile (N, H, W, C) images in [-1, 1] into one uint8 grid (rows*H, columns*W, C)."""
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4 or len(images) == 0:
        raise ValueError(f"Expected images shaped (N, H, W, C); got shape {images.shape}.")
    count, height, width, channels = images.shape
    columns = columns or math.ceil(math.sqrt(count))
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


class SampleGrid(keras.callbacks.Callback):
    """Save a grid of ``model.sample(n, seed)`` as ``samples_epoch_XXXX.png`` after each epoch.

    The same seed every epoch shows the same latent vectors evolving. At the end of training
    (or with :meth:`write_gif`) the PNGs in ``directory`` are assembled into ``samples.gif``.
    ``scale`` enlarges the grid (nearest neighbour); None picks 2 below 48 pixels, else 1.
    Works with any model that has ``sample(n, seed=...)`` returning images in [-1, 1].
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        n: int = 36,
        seed: int = 0,
        scale: int | None = None,
        gif_name: str = "samples.gif",
        frame_ms: int = 300,
    ):
        super().__init__()
        if n < 1 or (scale is not None and scale < 1):
            raise ValueError(f"n and scale must be positive; got n={n}, scale={scale}.")
        self.directory = Path(directory)
        self.n, self.seed, self.scale = n, seed, scale
        self.gif_path = self.directory / gif_name
        self.frame_ms = frame_ms

    def frame_paths(self) -> list[Path]:
        """The saved PNG frames, in epoch order."""
        return sorted(self.directory.glob("samples_epoch_*.png"))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        images = np.asarray(self.model.sample(self.n, seed=self.seed))
        if not np.all(np.isfinite(images)):
            return  # a diverged model: the DivergenceGuard reports it; keep the frames clean
        self.directory.mkdir(parents=True, exist_ok=True)
        # Small images (MNIST's 28 pixels) are enlarged 2x so that the GIF is legible.
        scale = self.scale or (2 if images.shape[1] < 48 else 1)
        image = _to_pil(tile_images(images), scale)
        image.save(self.directory / f"samples_epoch_{epoch + 1:04d}.png")

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.write_gif()

    def write_gif(self) -> Path | None:
        """Assemble the PNG frames into the GIF (looping; the last frame held longer)."""
        from PIL import Image

        paths = self.frame_paths()
        if not paths:
            return None
        frames = [Image.open(path).convert("P", palette=Image.ADAPTIVE) for path in paths]
        durations = [self.frame_ms] * (len(frames) - 1) + [self.frame_ms * 5]
        temporary = self.gif_path.with_suffix(".gif.tmp")
        frames[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=0,
        )
        os.replace(temporary, self.gif_path)
        return self.gif_path


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


def save_checkpoint(
    model: keras.Model, path: str | os.PathLike, state: dict[str, Any] | None = None
) -> Path:
    """Write weights, optimizer states and a JSON-able ``state`` dict to one ``.npz`` file.

    The file is written next to its destination and then renamed over it (``os.replace`` is
    atomic), so a run killed mid-write leaves the previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    named = checkpoint_variables(model)
    arrays = {f"v{i}": np.asarray(variable) for i, (_, variable) in enumerate(named)}
    arrays["names"] = np.array([name for name, _ in named])
    arrays["state"] = np.array(json.dumps(state or {}))
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path


def load_checkpoint(model: keras.Model, path: str | os.PathLike) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` wrote into ``model``; returns the saved ``state``.

    The model must be built and compiled like the one saved (same layers, same optimizers).
    Raises FileNotFoundError if there is no file, ValueError if it does not fit the model.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No checkpoint at {path}; train first, or check the directory.")
    named = checkpoint_variables(model)
    with np.load(path) as stored:
        names = [str(name) for name in stored["names"]]
        if len(names) != len(named):
            raise ValueError(
                f"Checkpoint {path} holds {len(names)} variables but the model has {len(named)}; "
                "build and compile the model exactly as for the run that saved it."
            )
        values = [stored[f"v{i}"] for i in range(len(names))]
        state = json.loads(str(stored["state"]))
    for (name, variable), value in zip(named, values, strict=True):
        if tuple(variable.shape) != value.shape:
            raise ValueError(
                f"Checkpoint {path}: variable {name} has shape {value.shape}, the model's has "
                f"{tuple(variable.shape)}; build the model with the same architecture."
            )
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

    It also writes ``history.json`` (the :class:`LossHistory` records). A checkpoint is only
    written when the epoch's losses and all weights are finite, so after a divergence the file
    on disk is the last good state.
    """

    def __init__(self, directory: str | os.PathLike, history: LossHistory, every_epochs: int = 1):
        super().__init__()
        if every_epochs < 1:
            raise ValueError(f"every_epochs must be positive; got {every_epochs}.")
        self.directory = Path(directory)
        self.path = self.directory / CHECKPOINT_FILE
        self.history = history
        self.every_epochs = every_epochs
        self.saved_step: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if (epoch + 1) % self.every_epochs:
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
        save_checkpoint(self.model, self.path, state)
        temporary = self.directory / (HISTORY_FILE + ".tmp")
        temporary.write_text(json.dumps(self.history.history))
        os.replace(temporary, self.directory / HISTORY_FILE)
        self.saved_step = state["step"]


class DivergenceGuard(_StepCounting):
    """Stop training when a logged loss is NaN/inf or its magnitude exceeds ``max_abs_loss``.

    Sets ``model.stop_training``, stores the reason in :attr:`message` and prints it. Pair it
    with :class:`Checkpoint`, which refuses to save a diverged state.
    """

    def __init__(self, max_abs_loss: float = 1e6, checkpoint_path: str | os.PathLike | None = None):
        super().__init__()
        self.max_abs_loss = max_abs_loss
        self.checkpoint_path = checkpoint_path
        self.message: str | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.message = None

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        super().on_train_batch_end(batch, logs)
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
        self.total_steps, self.initial_step = total_steps, initial_step
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
            ncols=100,
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
    one a checkpoint, ``history.json`` and a sample grid are saved; at the end ``samples.gif``.
    Called again with the same directory it restores the checkpoint (weights and optimizer
    states) and trains only the remaining epochs. ``steps`` is rounded up to whole epochs.

    Returns ``{"history": {...}, "step": int, "diverged": message or None,
    "gif": path or None, "directory": Path}``.
    Raises ValueError for a non-positive step count or a checkpoint saved with another
    ``steps_per_epoch``, TypeError for a non-``tf.data`` dataset.
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}.")
    steps_per_epoch = steps_per_epoch or max(1, steps // 20)
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be positive; got {steps_per_epoch}.")
    epochs = math.ceil(steps / steps_per_epoch)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    checkpoint_path = directory / CHECKPOINT_FILE
    state, history = {"step": 0, "epoch": 0}, {}
    if resume and checkpoint_path.exists():
        state = load_checkpoint(model, checkpoint_path)
        saved_steps_per_epoch = state.get("steps_per_epoch", steps_per_epoch)
        if saved_steps_per_epoch != steps_per_epoch:
            raise ValueError(
                f"The checkpoint in {directory} was saved with {saved_steps_per_epoch} steps per "
                f"epoch, this call uses {steps_per_epoch}; pass "
                f"steps_per_epoch={saved_steps_per_epoch} to resume it, or a new directory."
            )
        if (directory / HISTORY_FILE).exists():
            history = json.loads((directory / HISTORY_FILE).read_text())
    loss_history = LossHistory(history)
    guard = DivergenceGuard(checkpoint_path=checkpoint_path)
    all_callbacks = [loss_history, guard, Checkpoint(directory, loss_history)]
    grid = SampleGrid(directory, n=samples, seed=sample_seed) if sample_grid else None
    if grid is not None:
        all_callbacks.append(grid)
    if progress:
        all_callbacks.append(ProgressBar(epochs * steps_per_epoch, state["step"]))
    all_callbacks += list(callbacks)
    if state["epoch"] < epochs:
        model.fit(
            _repeat_forever(dataset),
            epochs=epochs,
            initial_epoch=state["epoch"],
            steps_per_epoch=steps_per_epoch,
            callbacks=all_callbacks,
            shuffle=False,  # a tf.data pipeline shuffles itself
            verbose=0,
        )
    return {
        "history": loss_history.history,
        "step": loss_history.step,
        "diverged": guard.message,
        "gif": grid.gif_path if grid is not None and grid.gif_path.exists() else None,
        "directory": directory,
    }
