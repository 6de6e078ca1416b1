"""Feature extractors for FID, IS, KID and precision/recall, behind one interface.

A :class:`FeatureExtractor` maps a batch of images to

* ``features(images)``: (N, d) float64 vectors, the input of FID, KID and precision/recall;
* ``logits(images)``: (N, K) float64 class logits, the input of the Inception Score
  (``metrics.inception_score(logits, from_logits=True)``).

Two extractors are provided:

* :func:`mnist_classifier` -- the **domain classifier**: a small CNN trained by this module
  (:func:`train_domain_classifier`) on MNIST; its 64-unit penultimate layer gives the
  features and its 10 logits give an MNIST-style Inception Score (at most 10). Its weights
  ship in ``ganbook_utils/weights/classifier_mnist.weights.h5`` with a provenance JSON.
* :func:`inception_v3` -- InceptionV3 from ``keras.applications`` with ImageNet weights:
  2048-d average-pool features and 1000 ImageNet logits. The weights (~92 MB) are
  downloaded once by Keras; offline, without a cached copy, :class:`ExtractorUnavailable`
  is raised within seconds (never a hang). **These are not the TF-Hub/TTUR "FID Inception"
  graph** (its weights and resizing differ), so FIDs computed with it are not comparable to
  numbers published in papers -- only to each other.

Input contract, checked on every call: a batch shaped (N, H, W, C) with C = 1 or 3 of either
uint8 pixels in [0, 255] or floats in [-1, 1] (the book's normalisation, a generator's tanh
output). Images are mapped to [-1, 1] (what both networks expect), converted between
grayscale and RGB (channel repeat / BT.601 luma), and resized to the extractor's input size
(area averaging to shrink, bilinear to enlarge); float images outside [-1, 1] raise
``ValueError``, since a wrong range silently changes every feature.

``python -m ganbook_utils.features --profile cpu`` retrains and exports the MNIST classifier.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ganbook_utils import checks, data
from ganbook_utils.profiles import get_profile

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MNIST_CLASSIFIER_STEM = "classifier_mnist"
CLASSIFIER_FEATURE_DIM = 64
# Float images may exceed [-1, 1] by this much (round-off of a tanh or a resize) and are clipped.
RANGE_TOLERANCE = 1e-3
INCEPTION_WEIGHTS_HOST = "storage.googleapis.com"
INCEPTION_DOWNLOAD_TIMEOUT_S = 20.0


class ExtractorUnavailable(RuntimeError):
    """A feature extractor's weights cannot be had (offline, not cached, not shipped)."""


# ---------------------------------------------------------------------------------------------
# Input handling
# ---------------------------------------------------------------------------------------------


def prepare_images(images: Any, *, image_size: int, channels: int) -> np.ndarray:
    """Check a batch and bring it to float32 in [-1, 1], ``channels`` channels, square size.

    Args:
        images: (N, H, W, C), C in {1, 3}; uint8 in [0, 255] or floats in [-1, 1].
        image_size: output height and width.
        channels: 1 (grayscale; RGB is converted with BT.601 luma) or 3 (RGB; grayscale
            is repeated).

    Raises:
        TypeError: for a non-numeric, integer-but-not-uint8 or boolean array.
        ValueError: for a wrong shape, NaN/inf, or floats outside [-1, 1] (with the likely fix).
    """
    if hasattr(images, "numpy") and not isinstance(images, np.ndarray):
        images = images.numpy()
    array = np.asarray(images)
    if array.ndim != 4 or array.shape[0] == 0 or array.shape[-1] not in (1, 3):
        raise ValueError(
            f"Expected a non-empty batch of images shaped (N, H, W, C) with C = 1 or 3; got "
            f"shape {array.shape}. Give (N, H, W) grayscale a channel axis: images[..., None]."
        )
    if array.dtype == np.uint8:
        array = data.normalize_images(array)
    elif np.issubdtype(array.dtype, np.floating):
        low, high = data.check_unit_range(
            array,
            "Feature extraction",
            tolerance=RANGE_TOLERANCE,
            pixels_fix="pass them as uint8, or map floats with x / 127.5 - 1",
        )
        if low >= 0.0 and array.size > 1000:
            warnings.warn(
                f"Float images lie in [{low:.3g}, {high:.3g}], never below 0: if they are in "
                "[0, 1], map them to [-1, 1] with 2 * x - 1, or every feature will be off.",
                stacklevel=3,
            )
        array = np.clip(array, -1.0, 1.0).astype(np.float32)
    else:
        raise TypeError(
            f"Images must be uint8 pixels in [0, 255] or floats in [-1, 1]; got dtype "
            f"{array.dtype}. Convert integer pixels with .astype(np.uint8)."
        )
    if channels == 3 and array.shape[-1] == 1:
        array = data.grayscale_to_rgb(array)
    elif channels == 1 and array.shape[-1] == 3:
        array = data.rgb_to_grayscale(array)
    if array.shape[1:3] != (image_size, image_size):
        array = data.resize(array, image_size)
    return array


# ---------------------------------------------------------------------------------------------
# The interface
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class FeatureExtractor:
    """A Keras model with two outputs, (features, logits), plus what its input must look like.

    Attributes:
        name: short name, e.g. ``"mnist_classifier"``.
        model: ``keras.Model`` mapping (N, image_size, image_size, channels) floats in
            [-1, 1] to [features (N, feature_dim), logits (N, num_classes)].
        image_size, channels: the input the model expects (images are converted to it).
        description: one line for the reader: what the features are and their caveats.
    """

    name: str
    model: Any
    image_size: int
    channels: int
    description: str

    @property
    def feature_dim(self) -> int:
        return int(self.model.outputs[0].shape[-1])

    @property
    def num_classes(self) -> int:
        return int(self.model.outputs[1].shape[-1])

    def features_and_logits(
        self, images: Any, *, batch_size: int = 256
    ) -> tuple[np.ndarray, np.ndarray]:
        """(features (N, d), logits (N, K)) as float64, computed in batches of ``batch_size``."""
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        prepared = prepare_images(images, image_size=self.image_size, channels=self.channels)
        features, logits = [], []
        for start in range(0, len(prepared), batch_size):
            batch_features, batch_logits = self.model(
                prepared[start : start + batch_size], training=False
            )
            features.append(np.asarray(batch_features, dtype=np.float64))
            logits.append(np.asarray(batch_logits, dtype=np.float64))
        return np.concatenate(features), np.concatenate(logits)

    def features(self, images: Any, *, batch_size: int = 256) -> np.ndarray:
        """(N, feature_dim) float64 features of ``images`` (see :func:`prepare_images`)."""
        return self.features_and_logits(images, batch_size=batch_size)[0]

    def logits(self, images: Any, *, batch_size: int = 256) -> np.ndarray:
        """(N, num_classes) float64 logits, for ``inception_score(..., from_logits=True)``."""
        return self.features_and_logits(images, batch_size=batch_size)[1]


# ---------------------------------------------------------------------------------------------
# The domain classifier (MNIST)
# ---------------------------------------------------------------------------------------------


def build_domain_classifier(
    image_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    feature_dim: int = CLASSIFIER_FEATURE_DIM,
) -> Any:
    """A small CNN (about 110k parameters) with two outputs: [features, logits].

    Two blocks of a 3x3 convolution (32 channels, ReLU) and 2x2 max-pooling, then dropout,
    a ``feature_dim``-unit ReLU layer (the features) and a linear layer to ``num_classes``
    logits. Inputs are floats in [-1, 1].
    """
    import keras

    inputs = keras.Input(image_shape, name="images")
    x = inputs
    for index in range(2):
        x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name=f"conv{index}")(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dropout(0.3, name="dropout")(x)
    features = keras.layers.Dense(feature_dim, activation="relu", name="features")(x)
    logits = keras.layers.Dense(num_classes, name="logits")(features)
    return keras.Model(inputs, [features, logits], name="domain_classifier")


def train_domain_classifier(
    train_images: Any,
    train_labels: Any,
    *,
    steps: int,
    batch_size: int = 64,
    val_images: Any = None,
    val_labels: Any = None,
    learning_rate: float = 1e-3,
    seed: int = 0,
    verbose: int = 1,
) -> tuple[Any, dict[str, float]]:
    """Train :func:`build_domain_classifier` with cross-entropy on labelled images.

    Args:
        train_images: (N, H, W, C) uint8 or floats in [-1, 1]; train_labels: (N,) ints.
        steps: optimisation steps (batches); batch_size: images per step.
        val_images, val_labels: optional held-out set for the reported accuracy.
        verbose: Keras verbosity (1 = one progress bar).

    Returns:
        (model, summary) where summary holds ``train_accuracy`` of the final weights and, with
        a validation set, ``val_accuracy``.
    """
    import keras
    import tensorflow as tf

    shape = np.shape(train_images)
    if len(shape) != 4:
        raise ValueError(f"train_images must be shaped (N, H, W, C); got shape {shape}.")
    images = prepare_images(train_images, image_size=shape[1], channels=shape[3])
    labels = np.asarray(train_labels, dtype=np.int64)
    if labels.shape != (len(images),):
        raise ValueError(f"train_labels must have shape ({len(images)},); got {labels.shape}.")
    steps = checks.integer(steps, "steps", who="train_domain_classifier")
    batch_size = checks.integer(batch_size, "batch_size", who="train_domain_classifier")
    learning_rate = checks.number(
        learning_rate, "learning_rate", low=0, low_open=True, who="train_domain_classifier"
    )
    num_classes = int(labels.max()) + 1
    keras.utils.set_random_seed(checks.seed(seed))
    classifier = build_domain_classifier(images.shape[1:], num_classes=num_classes)
    trainable = keras.Model(classifier.input, classifier.outputs[1])
    trainable.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    dataset = (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    trainable.fit(dataset, steps_per_epoch=steps, epochs=1, shuffle=False, verbose=verbose)
    # Accuracy of the final weights (in inference mode), not Keras's running mean over training.
    extractor = FeatureExtractor("training", classifier, images.shape[1], images.shape[3], "")
    summary = {"train_accuracy": classification_accuracy(extractor, images, labels)}
    if val_images is not None:
        summary["val_accuracy"] = classification_accuracy(extractor, val_images, val_labels)
    return classifier, summary


def classification_accuracy(extractor: FeatureExtractor, images: Any, labels: Any) -> float:
    """Fraction of ``images`` whose arg-max logit equals ``labels`` (N,)."""
    labels = np.asarray(labels)
    predicted = np.argmax(extractor.logits(images), axis=1)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels must have shape {predicted.shape}; got {labels.shape}.")
    return float(np.mean(predicted == labels))


def mnist_classifier(weights_path: str | Path | None = None) -> FeatureExtractor:
    """The shipped MNIST domain classifier as a :class:`FeatureExtractor` (64-d features).

    Raises:
        ExtractorUnavailable: if the weights file is missing (with the command that makes it).
        ValueError: if the file is not weights of this classifier (empty, truncated, another
            model's), in one line.
    """
    if weights_path is None:
        path = WEIGHTS_DIR / f"{MNIST_CLASSIFIER_STEM}.weights.h5"
    else:
        path = Path(weights_path)
    if not path.exists():
        raise ExtractorUnavailable(
            f"No classifier weights at {path}. Train them with "
            "`python -m ganbook_utils.features --profile cpu` (about a minute on a CPU)."
        )
    model = build_domain_classifier()
    try:
        model.load_weights(path)
    except Exception as error:  # h5py, Keras and the OS each raise their own kinds
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise ValueError(
            f"mnist_classifier: {path} is not a weights file of the book's MNIST classifier "
            f"({reason}). Pass the .weights.h5 written by train_and_export_mnist_classifier, or "
            "omit weights_path for the shipped one."
        ) from None
    return FeatureExtractor(
        name="mnist_classifier",
        model=model,
        image_size=28,
        channels=1,
        description=(
            f"MNIST domain classifier (this book's CNN, {CLASSIFIER_FEATURE_DIM}-d penultimate "
            "features, 10 digit logits); FIDs with it are comparable within this book only"
        ),
    )


def mnist_classifier_provenance() -> dict[str, Any]:
    """The provenance record of the shipped MNIST classifier (how it was trained, accuracy)."""
    return json.loads((WEIGHTS_DIR / f"{MNIST_CLASSIFIER_STEM}.json").read_text())


def train_and_export_mnist_classifier(
    profile_name: str = "cpu", output_dir: str | Path = WEIGHTS_DIR, seed: int = 0, verbose: int = 2
) -> dict[str, Any]:
    """Train the MNIST classifier on the profile's budget and write weights + provenance JSON.

    Training uses ``data.load_dataset("mnist", val_size=1000, seed=seed)``: the same seeded
    split as the chapters, so the validation digits the book evaluates on (any ``val_size``
    up to 1,000) are never seen in training.
    """
    profile = get_profile(profile_name)
    start = time.perf_counter()
    splits = data.load_dataset("mnist", val_size=1000, seed=seed)
    model, summary = train_domain_classifier(
        splits.train.images,
        splits.train.labels,
        steps=profile.classifier_steps,
        batch_size=profile.batch_size,
        val_images=splits.val.images,
        val_labels=splits.val.labels,
        seed=seed,
        verbose=verbose,
    )
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    weights_path = output / f"{MNIST_CLASSIFIER_STEM}.weights.h5"
    model.save_weights(weights_path)
    record = {
        "command": f"python -m ganbook_utils.features --profile {profile.name} --seed {seed}",
        "profile": profile.name,
        "architecture": {
            "builder": "ganbook_utils.features.build_domain_classifier",
            "feature_dim": CLASSIFIER_FEATURE_DIM,
            "num_classes": 10,
            "parameters": int(model.count_params()),
        },
        "data": {
            "name": "mnist",
            "source": splits.source,
            "description": splits.description,
            "train_images": len(splits.train.images),
            "val_images": len(splits.val.images),
            "split_seed": seed,
        },
        "steps": profile.classifier_steps,
        "batch_size": profile.batch_size,
        "optimizer": "Adam(1e-3)",
        "seed": seed,
        "wall_time_s": round(time.perf_counter() - start, 1),
        "train_accuracy": round(summary["train_accuracy"], 4),
        "val_accuracy": round(summary["val_accuracy"], 4),
        "weights_bytes": weights_path.stat().st_size,
    }
    (output / f"{MNIST_CLASSIFIER_STEM}.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


# ---------------------------------------------------------------------------------------------
# InceptionV3 (ImageNet), where its weights can be had
# ---------------------------------------------------------------------------------------------

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"


def _keras_cached_weights(filename: str) -> Path | None:
    """Keras's cached copy of a weights file, if any (then nothing is downloaded)."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    for candidate in (home / "models" / filename, Path("/tmp/.keras/models") / filename):
        if candidate.exists():
            return candidate
    return None


def inception_v3(weights: str | Path | None = "imagenet") -> FeatureExtractor:
    """InceptionV3 (keras.applications): 2048-d pool features and 1000 ImageNet logits.

    Images are resized to 299x299 RGB in [-1, 1] (InceptionV3's own preprocessing range).
    Not the TF-Hub "FID Inception" graph: numbers are not comparable with published FIDs.

    Args:
        weights: ``"imagenet"`` (Keras's cache, else a download with a timeout), a path to a
            local ``.h5`` file, or ``None`` for random weights (shapes only: for tests).

    Raises:
        ExtractorUnavailable: when the ImageNet weights are neither cached nor downloadable.
    """
    import keras

    if weights == "imagenet" and _keras_cached_weights(INCEPTION_WEIGHTS_FILE) is None:
        if not data.network_reachable(INCEPTION_WEIGHTS_HOST):
            raise ExtractorUnavailable(
                f"InceptionV3's ImageNet weights are not cached and {INCEPTION_WEIGHTS_HOST} is "
                f"unreachable (offline?). Copy {INCEPTION_WEIGHTS_FILE} into ~/.keras/models/, "
                "or use the domain classifier: features.mnist_classifier()."
            )
    try:
        with data.socket_timeout(INCEPTION_DOWNLOAD_TIMEOUT_S):
            base = keras.applications.InceptionV3(
                include_top=True,
                weights=None if weights is None else str(weights),
                classifier_activation=None,
            )
    except Exception as error:  # a failed or partial download
        if weights == "imagenet":
            raise ExtractorUnavailable(
                f"Could not get InceptionV3's ImageNet weights: {error}"
            ) from error
        raise
    model = keras.Model(base.input, [base.get_layer("avg_pool").output, base.output])
    state = "random weights (for tests only)" if weights is None else "ImageNet weights"
    return FeatureExtractor(
        name="inception_v3",
        model=model,
        image_size=299,
        channels=3,
        description=(
            f"keras.applications InceptionV3 with {state}: 2048-d pool features, 1000 ImageNet "
            "logits; NOT the TF-Hub FID graph, so FIDs are not comparable to published ones"
        ),
    )


def load_feature_extractor(name: str, **kwargs: Any) -> FeatureExtractor:
    """``"mnist_classifier"`` or ``"inception_v3"``, by name (keyword arguments passed on)."""
    builders = {"mnist_classifier": mnist_classifier, "inception_v3": inception_v3}
    if name not in builders:
        raise ValueError(
            f"Unknown feature extractor {name!r}; choose one of {', '.join(builders)}."
        )
    return builders[name](**kwargs)


def pretrained_generator_fid(
    name: str = "dcgan28_mnist", profile_name: str = "cpu", write: bool = False
) -> dict[str, Any]:
    """FID (and KID, IS, precision, recall) of a shipped MNIST generator, with the classifier.

    Real images: the classifier's held-out validation digits (``val_size`` capped at the
    classifier's 1,000); generated: ``profile.fid_samples`` images, ``profile.metric_repeats``
    independent draws (seeds 0, 1, ...); mean and standard deviation over the draws. With
    ``write=True`` the mean FID is added as ``"fid"`` and the whole record as ``"evaluation"``
    to the generator's provenance JSON (nothing else in it changes).
    """
    from ganbook_utils import metrics, models

    pretrained = models.load_pretrained_generator(name)
    if pretrained is None:
        raise ExtractorUnavailable(f"The generator {name!r} is not shipped in {WEIGHTS_DIR}.")
    generator, provenance = pretrained
    profile = get_profile(profile_name)
    extractor = mnist_classifier()
    held_out = mnist_classifier_provenance()["data"]["val_images"]
    splits = data.load_dataset(
        "mnist", val_size=min(profile.fid_samples, held_out), seed=0, verbose=False
    )
    real_features = extractor.features(splits.val.images)
    latent_dim = provenance["architecture"]["latent_dim"]
    draws = []
    for seed in range(profile.metric_repeats):
        latents = np.random.default_rng(seed).standard_normal((profile.fid_samples, latent_dim))
        images = np.asarray(generator(latents.astype(np.float32), training=False))
        fake_features, fake_logits = extractor.features_and_logits(images)
        draws.append(
            metrics.evaluate_features(
                real_features,
                fake_features,
                fake_logits,
                kid_subsets=profile.kid_subsets,
                seed=seed,
            )
        )
    record = {
        "command": f"python -m ganbook_utils.features --fid-of {name} --profile {profile.name}",
        "extractor": extractor.description,
        "real": f"{len(real_features)} held-out MNIST digits ({splits.description})",
        "generated_samples": profile.fid_samples,
        "draws": profile.metric_repeats,
    }
    for key in draws[0]:
        values = np.array([draw[key] for draw in draws])
        record[key] = {"mean": round(float(values.mean()), 4), "std": round(float(values.std()), 4)}
    if write:
        path = WEIGHTS_DIR / f"{name}.json"
        stored = json.loads(path.read_text())
        stored["fid"] = record["fid"]["mean"]
        stored["evaluation"] = record
        path.write_text(json.dumps(stored, indent=2) + "\n")
    return record


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m ganbook_utils.features",
        description="Train the MNIST domain classifier and export weights + provenance; or, "
        "with --fid-of NAME, write the FID of a shipped generator into its provenance.",
    )
    parser.add_argument("--profile", default="cpu", help="smoke, cpu or gpu (sets the budgets)")
    parser.add_argument("--output-dir", default=str(WEIGHTS_DIR))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fid-of", default=None, help="a shipped generator, e.g. dcgan28_mnist")
    arguments = parser.parse_args()
    if arguments.fid_of:
        record = pretrained_generator_fid(arguments.fid_of, arguments.profile, write=True)
    else:
        record = train_and_export_mnist_classifier(
            arguments.profile, arguments.output_dir, arguments.seed
        )
    print(json.dumps(record, indent=2))
