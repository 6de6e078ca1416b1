"""The judge of prompt adherence: read shape, colour, size and position back from an image.

GenEval's idea (Ghosh et al. 2023), done offline on the captioned shapes: to score whether a
generated image obeys its prompt, read the prompt's attributes back from the picture and count
how often they match. The reader here is a small CNN (:func:`build_judge_network`) with four
softmax heads -- shape (4 classes), colour (8), size (3), position (9) -- trained on fresh
renders of *every* (shape, colour, size, position) combination, including the (shape, colour)
pairs the text-to-image models never see (``shapes.HELD_OUT_COMPOSITIONS``): a judge must be
able to recognise a blue triangle even though no generator was shown one.

* :func:`load_judge` -- the shipped, frozen judge (weights ``judge_shapes32``, made by
  ``python -m ganbook_utils train --model judge --out DIR --export ...``), or None.
* :meth:`AttributeJudge.read` -- ``{"shape", "colour", "size", "position"}`` int arrays.
* :meth:`AttributeJudge.features` -- the penultimate layer (N, 128), for FID/KID with
  :mod:`ganbook_utils.metrics` (:func:`feature_distances`, :func:`real_vs_real_baseline`).
* :func:`adherence` -- per-attribute accuracy, ``all_four`` and the chance levels.
* :func:`corrupt` / :func:`corruption_table` -- how the judge (and the rule-based
  ``shapes.estimate_attributes``) fare on real renders blurred, noised or colour-shifted like
  poor samples.

Seeds. The judge's renders use ``make_shapes`` seeds of their own, disjoint from every other
split in the book: training ``TRAIN_SEED`` (11,000), the held-out check ``HELD_OUT_SEED``
(11,001), the training augmentation ``AUGMENT_SEED`` (11,002), the corruption table
``CORRUPTION_SEED`` (11,003), the real-vs-real baseline ``BASELINE_SEED`` + 2 s, + 2 s + 1
(11,100 + ...). The other splits use small seeds: ``shapes.caption_splits`` seed .. seed + 3
(0-3 in the chapter), ``data.load_dataset("shapes32")`` 2 s and 2 s + 1, the tests single
digits. (Distinct seeds give independent draws; on a 32x32 grid two draws of the same
attributes can still render to the same pixels -- the provenance counts how often.)
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from ganbook_utils import checks, shapes
from ganbook_utils.images import ImageSet, check_batch_shape, check_unit_range

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
JUDGE_NAME = "judge_shapes32"
IMAGE_SHAPE = (32, 32, 3)
FEATURE_DIM = 128
ATTRIBUTES = ("shape", "colour", "size", "position")
CLASS_NAMES = {
    "shape": shapes.SHAPES,
    "colour": shapes.COLOUR_NAMES,
    "size": shapes.SIZES,
    "position": shapes.POSITIONS,
}
CLASS_COUNTS = {name: len(values) for name, values in CLASS_NAMES.items()}
# A reader that guesses uniformly at random is right this often (all four: the product).
CHANCE = {
    **{name: 1.0 / count for name, count in CLASS_COUNTS.items()},
    "all_four": 1.0 / math.prod(CLASS_COUNTS.values()),
}
# make_shapes seeds of the judge's renders (see the module docstring): disjoint from the rest.
TRAIN_SEED = 11_000
HELD_OUT_SEED = 11_001
AUGMENT_SEED = 11_002
CORRUPTION_SEED = 11_003
BASELINE_SEED = 11_100
# Float images may exceed [-1, 1] by this much (a tanh's round-off) and are clipped.
RANGE_TOLERANCE = 1e-3
JUDGE_DEFAULTS = {"learning_rate": 2e-3, "beta_1": 0.9}
FEATURE_SCALE_IMAGES = 2000  # clean training renders that fix the features' scale


# ---------------------------------------------------------------------------------------------
# Corruptions: what a poor sample looks like next to a clean render
# ---------------------------------------------------------------------------------------------

CORRUPTION_KINDS = ("blur", "noise", "colour_jitter", "poor_sample")
# (kind, level) rows of the corruption table. Levels: blur = Gaussian sigma in pixels; noise =
# Gaussian sigma on the [-1, 1] scale (0.1 is about 13 grey levels); colour_jitter = the largest
# per-image, per-channel shift on the [-1, 1] scale; poor_sample = the three at once, at the
# level's fraction of (blur 1.5 px, noise 0.2, jitter 0.2).
CORRUPTION_TABLE_ROWS = (
    ("none", 0.0),
    ("blur", 0.7),
    ("blur", 1.2),
    ("blur", 2.0),
    ("noise", 0.1),
    ("noise", 0.2),
    ("noise", 0.4),
    ("colour_jitter", 0.1),
    ("colour_jitter", 0.2),
    ("colour_jitter", 0.3),
    ("poor_sample", 0.5),
    ("poor_sample", 1.0),
)
POOR_SAMPLE = {"blur": 1.5, "noise": 0.2, "colour_jitter": 0.2}
# The training augmentation draws each corruption's level uniformly up to these (so the table's
# higher rows -- blur 2 px, noise 0.4, jitter 0.3 -- are beyond what the judge was shown).
AUGMENT_MAX = {"blur": 1.2, "noise": 0.2, "colour_jitter": 0.2}
AUGMENT_FRACTION = 0.5  # of the training images are corrupted (each kind with probability 1/2)


def corrupt(images: Any, kind: str, level: float, *, seed: int = 0) -> np.ndarray:
    """A corrupted copy of ``images``: float32 in [-1, 1] (N, H, W, C).

    Args:
        images: uint8 pixels or floats in [-1, 1], (N, H, W, C).
        kind: ``"none"``, ``"blur"`` (Gaussian, ``level`` = sigma in pixels), ``"noise"``
            (additive Gaussian, ``level`` = sigma on the [-1, 1] scale), ``"colour_jitter"``
            (each image's channels shifted by uniform amounts in [-level, level]) or
            ``"poor_sample"`` (all three, at ``level`` times ``POOR_SAMPLE``'s levels).
        level: >= 0.
        seed: the noise and the shifts (the same seed gives the same corruption).

    Raises:
        ValueError: for an unknown kind, a negative level or bad images.
    """
    array = _prepare(images, "corrupt", check_size=False)
    if kind not in ("none", *CORRUPTION_KINDS):
        raise ValueError(
            f"corrupt: unknown kind {kind!r}; choose one of none, {', '.join(CORRUPTION_KINDS)}."
        )
    level = checks.number(level, "level", low=0, who="corrupt")
    rng = np.random.default_rng(checks.seed(seed, who="corrupt"))
    if kind == "poor_sample":
        for part in ("blur", "colour_jitter", "noise"):
            array = _corrupt_once(array, part, level * POOR_SAMPLE[part], rng)
        return array
    return _corrupt_once(array, kind, level, rng)


def _corrupt_once(array: np.ndarray, kind: str, level: float, rng: np.random.Generator):
    if kind == "none" or level == 0:
        return array.copy()
    if kind == "blur":
        from scipy.ndimage import gaussian_filter

        # Blurred towards the black background, as a blurry sample's edges fade into it.
        return gaussian_filter(array + 1.0, sigma=(0, level, level, 0), mode="constant") - 1.0
    if kind == "noise":
        noisy = array + rng.normal(0.0, level, array.shape).astype(np.float32)
        return np.clip(noisy, -1.0, 1.0)
    shift = rng.uniform(-level, level, (len(array), 1, 1, array.shape[-1])).astype(np.float32)
    return np.clip(array + shift, -1.0, 1.0)


def _augment(images: np.ndarray, seed: int) -> np.ndarray:
    """The training augmentation: ``AUGMENT_FRACTION`` of the images get random corruptions."""
    rng = np.random.default_rng(seed)
    out = images.copy()
    chosen = np.flatnonzero(rng.random(len(images)) < AUGMENT_FRACTION)
    for kind in ("blur", "colour_jitter", "noise"):
        picked = chosen[rng.random(len(chosen)) < 0.5]
        # One level per group of images keeps blur vectorised; 16 groups cover the range.
        for group in np.array_split(picked, 16):
            if len(group):
                level = rng.uniform(0.0, AUGMENT_MAX[kind])
                out[group] = _corrupt_once(out[group], kind, level, rng)
    return out


# ---------------------------------------------------------------------------------------------
# The network and the judge
# ---------------------------------------------------------------------------------------------


def _prepare(images: Any, who: str, *, check_size: bool = True) -> np.ndarray:
    """uint8 pixels or floats in [-1, 1], (N, 32, 32, 3) -> float32 in [-1, 1]."""
    if isinstance(images, ImageSet):
        images = images.images
    if hasattr(images, "numpy") and not isinstance(images, np.ndarray):
        images = images.numpy()
    array = np.asarray(images)
    if array.dtype == object or not (
        array.dtype == np.uint8 or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(
            f"{who}: images must be uint8 pixels in [0, 255] or floats in [-1, 1]; got dtype "
            f"{array.dtype}. Convert integer pixels with .astype(np.uint8)."
        )
    check_batch_shape(array, who)
    if check_size and array.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"{who}: the judge reads 32x32 RGB images shaped (N, 32, 32, 3); got shape "
            f"{array.shape}. Resize with ganbook_utils.data.resize(images, 32)"
            + (" and make them RGB with data.grayscale_to_rgb." if array.shape[-1] == 1 else ".")
        )
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    check_unit_range(
        array,
        who,
        tolerance=RANGE_TOLERANCE,
        pixels_fix="pass them as uint8, or map floats with x / 127.5 - 1",
    )
    return np.clip(array, -1.0, 1.0).astype(np.float32)


def build_judge_network(feature_dim: int = FEATURE_DIM) -> Any:
    """The judge's CNN (about 160k parameters): [features, shape, colour, size, position].

    Three blocks of a 3x3 convolution (16, 32, 64 channels, ReLU) and 2x2 max-pooling keep a
    4x4 map (position is spatial, so no global pooling), then a ``feature_dim``-unit ReLU layer
    (the features) and four linear heads of logits. Inputs are floats in [-1, 1], 32x32x3.
    """
    import keras

    inputs = keras.Input(IMAGE_SHAPE, name="images")
    x = inputs
    for index, channels in enumerate((16, 32, 64)):
        x = keras.layers.Conv2D(
            channels, 3, padding="same", activation="relu", name=f"conv{index}"
        )(x)
        x = keras.layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    features = keras.layers.Dense(feature_dim, activation="relu", name="features")(x)
    heads = [keras.layers.Dense(CLASS_COUNTS[a], name=a)(features) for a in ATTRIBUTES]
    return keras.Model(inputs, [features, *heads], name="attribute_judge")


@dataclasses.dataclass
class AttributeJudge:
    """A frozen attribute reader: :meth:`read` the attributes, :meth:`features` for FID/KID.

    Attributes:
        network: the ``keras.Model`` of :func:`build_judge_network`.
        provenance: how it was trained (the shipped JSON), or {} for an untrained network.
        feature_scale: :meth:`features` are the penultimate activations times this, fixed at
            training (:func:`feature_scale`) so that real renders' features have a root mean
            square of 1: KID's cubic kernel (x . y / d + 1)^3 assumes entries of order 1.
    """

    network: Any
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)
    feature_scale: float = 1.0

    @property
    def feature_dim(self) -> int:
        return int(self.network.outputs[0].shape[-1])

    def _outputs(self, images: Any, batch_size: int, who: str) -> list[np.ndarray]:
        batch_size = checks.integer(batch_size, "batch_size", who=who)
        prepared = _prepare(images, who)
        parts: list[list[np.ndarray]] = [[] for _ in range(1 + len(ATTRIBUTES))]
        for start in range(0, len(prepared), batch_size):
            outputs = self.network(prepared[start : start + batch_size], training=False)
            for part, output in zip(parts, outputs, strict=True):
                part.append(np.asarray(output, dtype=np.float64))
        return [np.concatenate(part) for part in parts]

    def logits(self, images: Any, *, batch_size: int = 500) -> dict[str, np.ndarray]:
        """``{attribute: (N, classes) float64 logits}``; images as for :meth:`read`."""
        outputs = self._outputs(images, batch_size, "AttributeJudge.logits")
        return dict(zip(ATTRIBUTES, outputs[1:], strict=True))

    def read(self, images: Any, *, batch_size: int = 500) -> dict[str, np.ndarray]:
        """The attributes the judge reads: ``{"shape", "colour", "size", "position"}`` -> (N,)
        int64 indices into ``shapes.SHAPES``, ``COLOUR_NAMES``, ``SIZES``, ``POSITIONS``.

        Args:
            images: (N, 32, 32, 3) uint8 pixels or floats in [-1, 1] (a generator's output),
                or an :class:`~ganbook_utils.images.ImageSet`.

        Raises:
            TypeError: for a dtype other than uint8 or float.
            ValueError: for another shape (32x32 RGB only), NaN/inf, or floats outside [-1, 1].
        """
        logits = self.logits(images, batch_size=batch_size)
        return {name: values.argmax(axis=1).astype(np.int64) for name, values in logits.items()}

    def features(self, images: Any, *, batch_size: int = 500) -> np.ndarray:
        """(N, 128) float64 penultimate-layer features times ``feature_scale``, the input of
        FID/KID (``metrics.frechet_distance_from_features``); images as for :meth:`read`."""
        outputs = self._outputs(images, batch_size, "AttributeJudge.features")
        return outputs[0] * self.feature_scale


def feature_scale(network: Any, images: Any) -> float:
    """1 / the root mean square of ``network``'s penultimate activations on ``images`` (real
    renders): the factor that brings the judge's features to entries of order 1."""
    raw = AttributeJudge(network=network).features(images)
    return float(1.0 / np.sqrt(np.mean(raw**2)))


def load_judge(name: str = JUDGE_NAME, *, weights_dir: str | Path | None = None):
    """The shipped judge, frozen (``AttributeJudge``), or None when its files are not there.

    Args:
        name: the weights' stem (``judge_shapes32``: ``<name>.weights.h5`` and ``<name>.json``).
        weights_dir: where they are (default ``ganbook_utils/weights``; a CLI ``--export``).

    Raises:
        ValueError: if the weights file is not this network's (damaged, another model's).
    """
    folder = WEIGHTS_DIR if weights_dir is None else Path(weights_dir)
    weights, record = folder / f"{name}.weights.h5", folder / f"{name}.json"
    if not (weights.exists() and record.exists()):
        return None
    provenance = json.loads(record.read_text())
    network = build_judge_network(
        provenance.get("architecture", {}).get("feature_dim", FEATURE_DIM)
    )
    try:
        network.load_weights(weights)
    except Exception as error:  # h5py, Keras and the OS each raise their own kinds
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        raise ValueError(
            f"load_judge: {weights} is not a weights file of the attribute judge ({reason}); "
            "make one with `python -m ganbook_utils train --model judge --out DIR --export "
            f"{folder / name}`."
        ) from None
    network.trainable = False
    scale = provenance.get("architecture", {}).get("feature_scale", 1.0)
    return AttributeJudge(network=network, provenance=provenance, feature_scale=scale)


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


def _attribute_indices(values: Any, attribute: str, who: str) -> np.ndarray:
    """Ints in [0, K) (or -1: "not asked for"), or names (``"circle"``) mapped to them."""
    array = np.asarray(values)
    names = CLASS_NAMES[attribute]
    if array.ndim == 1 and array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind in "US" or array.dtype == object:
        unknown = sorted({str(v) for v in array.ravel() if str(v) not in names})
        if unknown:
            raise ValueError(
                f"{who}: unknown {attribute} {', '.join(map(repr, unknown))}; choose from "
                f"{', '.join(names)}."
            )
        array = np.array([names.index(str(v)) for v in array.ravel()], dtype=np.int64)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"{who}: {attribute} must be a 1-D array of ints (class indices) or names; got dtype "
            f"{array.dtype}, shape {array.shape}."
        )
    if array.size and (array.min() < -1 or array.max() >= len(names)):
        raise ValueError(
            f"{who}: {attribute} indices must lie in [0, {len(names) - 1}] (or -1 for 'not "
            f"asked for'); got values in [{array.min()}, {array.max()}]."
        )
    return array.astype(np.int64)


def adherence(read: dict[str, Any], requested: Any) -> dict[str, Any]:
    """How often the attributes read back equal the ones requested.

    Args:
        read: ``{"shape": (N,), ...}`` as :meth:`AttributeJudge.read` returns (or
            ``shapes.estimate_attributes``, whose -1 for an empty image is never right).
        requested: the same keys (any subset of the four, with N entries each: class
            indices, -1 for "not asked for", or names such as ``"circle"``), or an
            :class:`~ganbook_utils.images.ImageSet` made by ``shapes.make_shapes`` (its
            attributes are the requested ones).

    Returns:
        ``{"count": N, "shape": accuracy, ..., "all_four": fraction with every requested
        attribute right, "correct": {attribute: count, "all_four": count}, "chance": {...}}``,
        accuracies over the images that ask for the attribute (NaN when none does). Chance:
        1/4, 1/8, 1/3, 1/9 per attribute, and for ``all_four`` the mean over images of the
        product of 1/K over the attributes each asks for (1/864 when all four are asked).

    Raises:
        ValueError: for missing or unknown attributes, lengths that differ, bad indices.
    """
    who = "adherence"
    if isinstance(requested, ImageSet):
        if requested.attributes is None or "shape" not in requested.attributes:
            raise ValueError(f"{who}: requested is an ImageSet without make_shapes' attributes.")
        requested = {a: requested.attributes[a] for a in ATTRIBUTES}
    if not isinstance(read, dict) or not isinstance(requested, dict):
        raise ValueError(
            f"{who}: read and requested must be dicts of attribute arrays (e.g. judge.read("
            f"images)); got {type(read).__name__} and {type(requested).__name__}."
        )
    asked = [a for a in ATTRIBUTES if a in requested]
    unknown = sorted(set(requested) - set(ATTRIBUTES))
    if unknown or not asked:
        raise ValueError(
            f"{who}: requested must have some of the keys {', '.join(ATTRIBUTES)}; got "
            f"{sorted(requested)}."
        )
    missing = [a for a in asked if a not in read]
    if missing:
        raise ValueError(
            f"{who}: read has no {', '.join(missing)}, which requested asks for (read has "
            f"{sorted(read)}); a reader that cannot see an attribute cannot score it."
        )
    wanted = {a: _attribute_indices(requested[a], a, who) for a in asked}
    got = {a: _attribute_indices(read[a], a, who) for a in asked}
    counts = {len(v) for v in (*wanted.values(), *got.values())}
    if len(counts) != 1:
        raise ValueError(
            f"{who}: every array must have one entry per image; got lengths "
            f"{ {a: len(wanted[a]) for a in asked} } requested and "
            f"{ {a: len(got[a]) for a in asked} } read."
        )
    count = counts.pop()
    if count == 0:
        raise ValueError(f"{who}: no images to score (the arrays are empty).")
    result: dict[str, Any] = {"count": count}
    correct: dict[str, int] = {}
    all_right = np.ones(count, dtype=bool)
    chance_all = np.ones(count)
    for attribute in asked:
        specified = wanted[attribute] >= 0
        right = (got[attribute] == wanted[attribute]) & specified
        all_right &= right | ~specified
        chance_all *= np.where(specified, CHANCE[attribute], 1.0)
        correct[attribute] = int(right.sum())
        result[attribute] = (
            float(right.sum() / specified.sum()) if specified.any() else float("nan")
        )
    correct["all_four"] = int(all_right.sum())
    result["all_four"] = float(all_right.mean())
    result["correct"] = correct
    result["chance"] = {
        **{a: CHANCE[a] for a in asked},
        "all_four": float(chance_all.mean()),
    }
    return result


def feature_distances(
    judge: AttributeJudge,
    real_images: Any,
    other_images: Any,
    *,
    kid_subsets: int = 50,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """FID and KID between two image sets on the judge's features (``metrics``' estimators).

    Images as for :meth:`AttributeJudge.read`; each set needs at least 2 images.
    """
    from ganbook_utils import metrics

    real, other = judge.features(real_images), judge.features(other_images)
    subset_size = min(kid_subset_size, len(real), len(other))
    kid, kid_std = metrics.kernel_inception_distance(
        real, other, subsets=kid_subsets, subset_size=subset_size, seed=seed
    )
    return {
        "fid": float(metrics.frechet_distance_from_features(real, other)),
        "kid": float(kid),
        "kid_std": float(kid_std),
    }


def real_vs_real_baseline(
    judge: AttributeJudge,
    n: int = 1000,
    *,
    compositions: Any = None,
    seed: int = 0,
    kid_subsets: int = 50,
) -> dict[str, Any]:
    """FID/KID between two independent sets of ``n`` fresh real renders: the floor a perfect
    generator would reach with ``n`` samples (FID's bias at this sample size).

    ``compositions`` as in ``shapes.make_shapes`` (e.g. ``shapes.seen_compositions()``);
    the renders use seeds ``BASELINE_SEED + 2 seed`` and ``+ 1``.
    """
    n = checks.integer(n, "n", minimum=2, who="real_vs_real_baseline")
    seed = checks.integer(seed, "seed", minimum=0, who="real_vs_real_baseline")
    first, second = (
        shapes.make_shapes(n, seed=BASELINE_SEED + 2 * seed + k, compositions=compositions)
        for k in (0, 1)
    )
    scores = feature_distances(
        judge, first.images, second.images, kid_subsets=kid_subsets, seed=seed
    )
    return {"n": n, **scores}


def held_out_accuracy(judge: AttributeJudge, n: int = 2000) -> dict[str, Any]:
    """:func:`adherence` of the judge on ``n`` fresh real renders (seed ``HELD_OUT_SEED``, every
    combination): the judge's ceiling on real images."""
    held_out = shapes.make_shapes(n, seed=HELD_OUT_SEED)
    return adherence(judge.read(held_out.images), held_out)


def _rule_based_scores(images: np.ndarray, attributes: dict[str, np.ndarray]) -> dict[str, float]:
    """``shapes.estimate_attributes`` (colour, size, position: it reads no shape) on the images."""
    from ganbook_utils import data

    read = shapes.estimate_attributes(data.denormalize_images(images))
    scores = adherence(read, {a: attributes[a] for a in ("colour", "size", "position")})
    return {a: scores[a] for a in ("colour", "size", "position")} | {
        "all_three": scores["all_four"]
    }


def corruption_table(
    judge: AttributeJudge, n: int = 1000, *, rows: tuple = CORRUPTION_TABLE_ROWS
) -> list[dict[str, Any]]:
    """Accuracy of the judge and of ``shapes.estimate_attributes`` on corrupted real renders.

    ``n`` fresh renders (seed ``CORRUPTION_SEED``, every combination), each row's corruption
    (:func:`corrupt`, seeded) applied to all of them. Returns one dict per row:
    ``{"corruption": "blur 1.2", "kind", "level", "judge": {shape, colour, size, position,
    all_four}, "rule_based": {colour, size, position, all_three}}``.
    """
    n = checks.integer(n, "n", who="corruption_table")
    clean = shapes.make_shapes(n, seed=CORRUPTION_SEED)
    table = []
    for index, (kind, level) in enumerate(rows):
        images = corrupt(clean.images, kind, level, seed=CORRUPTION_SEED + index)
        scores = adherence(judge.read(images), clean)
        table.append(
            {
                "corruption": "none" if kind == "none" else f"{kind.replace('_', ' ')} {level:g}",
                "kind": kind,
                "level": level,
                "judge": {a: round(scores[a], 4) for a in (*ATTRIBUTES, "all_four")},
                "rule_based": {
                    k: round(v, 4) for k, v in _rule_based_scores(images, clean.attributes).items()
                },
            }
        )
    return table


def format_corruption_table(table: list[dict[str, Any]]) -> str:
    """The table as text: one row per corruption, judge then rule-based accuracies (%)."""
    header = (
        f"{'corruption':<18} | {'judge: shape':>12} {'colour':>6} {'size':>5} {'pos.':>5} "
        f"{'all 4':>6} | {'rules: colour':>13} {'size':>5} {'pos.':>5} {'all 3':>6}"
    )
    lines = [header, "-" * len(header)]
    for row in table:
        j, r = row["judge"], row["rule_based"]
        lines.append(
            f"{row['corruption']:<18} | {100 * j['shape']:>12.1f} {100 * j['colour']:>6.1f} "
            f"{100 * j['size']:>5.1f} {100 * j['position']:>5.1f} {100 * j['all_four']:>6.1f} | "
            f"{100 * r['colour']:>13.1f} {100 * r['size']:>5.1f} {100 * r['position']:>5.1f} "
            f"{100 * r['all_three']:>6.1f}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Training (the CLI's `train --model judge`)
# ---------------------------------------------------------------------------------------------


def training_set(train_size: int, *, seed: int = TRAIN_SEED) -> tuple[ImageSet, np.ndarray]:
    """(the clean renders, the augmented float images in [-1, 1]) the judge trains on:
    ``train_size`` fresh renders of every combination, ``AUGMENT_FRACTION`` of them corrupted."""
    renders = shapes.make_shapes(train_size, seed=seed)
    return renders, _augment(_prepare(renders.images, "training_set"), AUGMENT_SEED)


def compile_for_training(network: Any, learning_rate: float, beta_1: float) -> Any:
    """The network's heads as a ``keras.Model`` with one cross-entropy per head (summed)."""
    import keras

    trainable = keras.Model(
        network.input,
        {a: output for a, output in zip(ATTRIBUTES, network.outputs[1:], strict=True)},
        name="attribute_judge_heads",
    )
    trainable.compile(
        optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
        loss={a: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for a in ATTRIBUTES},
        metrics={a: ["accuracy"] for a in ATTRIBUTES},
    )
    # Built now, not at the first step, so that a resumed run can restore its moments.
    trainable.optimizer.build(trainable.trainable_variables)
    return trainable


def _pipeline(images: np.ndarray, attributes: dict[str, np.ndarray], batch_size: int, seed: int):
    import tensorflow as tf

    labels = {a: attributes[a].astype(np.int64) for a in ATTRIBUTES}
    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size, drop_remainder=True)
        .prefetch(tf.data.AUTOTUNE)
    )


def _in_training_set(held_out: np.ndarray, train: np.ndarray) -> np.ndarray:
    """(N,) bool: is each ``held_out`` image identical, pixel for pixel, to a training image?"""
    seen = {image.tobytes() for image in train}
    return np.array([image.tobytes() in seen for image in held_out])


def train_cli(args: Any) -> int:
    """``python -m ganbook_utils train --model judge --out DIR [--export PREFIX]``.

    Trains :func:`build_judge_network` on ``--train-size`` (default: the profile's
    ``judge_train_size``) fresh renders for ``--steps`` (``judge_steps``) with Adam, resumably
    (``training.fit_resumable``: run the same command again to continue), then writes
    ``judge.weights.h5`` and ``provenance.json`` into DIR (each file whole or absent) and, with
    ``--export``, the shipped pair. Provenance: the command, data and seeds, steps, wall time,
    accuracy per attribute on ``judge_eval_size`` held-out renders, the corruption table, the
    real-vs-real FID/KID on the judge's features.
    """
    import shlex

    import keras

    from ganbook_utils import cli, training

    out = cli._run_directory(args)
    profile = cli._train_profile(args)
    steps = cli._default(args.steps, profile.judge_steps)
    train_size = cli._default(args.train_size, profile.judge_train_size)
    batch_size = cli._default(args.batch_size, profile.batch_size)
    eval_size = profile.judge_eval_size
    if batch_size > train_size:
        raise cli.UsageError(
            f"--batch-size {batch_size} is larger than --train-size {train_size}; use a smaller "
            "batch or more images."
        )
    settings = cli._resumed_settings(
        args, cli._saved_run(out), {**JUDGE_DEFAULTS, "steps_per_epoch": max(1, steps // 10)}
    )
    keras.utils.set_random_seed(args.seed)
    renders, train_images = training_set(train_size)
    network = build_judge_network()
    trainable = compile_for_training(network, settings["learning_rate"], settings["beta_1"])
    pipeline = _pipeline(train_images, renders.attributes, batch_size, args.seed)
    cli._record_command(training, out, args)
    try:
        result = training.fit_resumable(
            trainable,
            pipeline,
            steps,
            out,
            steps_per_epoch=settings["steps_per_epoch"],
            sample_grid=False,
            progress=not args.quiet,
        )
    except training.ResumeMismatch as error:
        flag = cli.RESUMED_FLAGS.get(error.setting, error.setting)
        raise cli.UsageError(
            f"{flag} {error.requested!r} differs from {error.saved!r}, the value the checkpoint "
            f"in {out} was trained with; resume with the same settings or choose a new --out."
        ) from None
    except training.CheckpointError as error:
        raise cli.UsageError(
            f"--out {out}: {error} (a judge run's directory, or a new --out)"
        ) from None
    if result["diverged"]:
        return 1  # the DivergenceGuard has printed why
    weights = out / "judge.weights.h5"
    cli._save_weights_atomic(network.save_weights, weights)
    network.trainable = False
    started = time.perf_counter()
    scale = feature_scale(network, renders.images[:FEATURE_SCALE_IMAGES])
    judge = AttributeJudge(network=network, feature_scale=scale)
    held_out = shapes.make_shapes(eval_size, seed=HELD_OUT_SEED)
    accuracy = adherence(judge.read(held_out.images), held_out)
    # On a 32x32 grid a fresh draw can repeat a training render pixel for pixel: the accuracy
    # on the draws that do not is the judge's on images it has never seen.
    novel = ~_in_training_set(held_out.images, renders.images)
    novel_accuracy = adherence(judge.read(held_out.images[novel]), held_out.subset(novel))
    table = corruption_table(judge, eval_size)
    baseline = real_vs_real_baseline(judge, eval_size, kid_subsets=profile.kid_subsets)
    ran = training.optimizer_settings(trainable)["optimizer"]
    history = result["history"]
    provenance = {
        "command": "python -m ganbook_utils " + shlex.join(args.argv),
        "profile": profile.name,
        "model": "judge",
        "architecture": {
            "builder": "ganbook_utils.judge.build_judge_network",
            "image_shape": list(IMAGE_SHAPE),
            "feature_dim": FEATURE_DIM,
            "feature_scale": round(scale, 8),
            "feature_scale_from": f"the first {FEATURE_SCALE_IMAGES} training renders (clean)",
            "heads": dict(CLASS_COUNTS),
            "parameters": int(network.count_params()),
        },
        "data": {
            "name": "shapes32 renders, every (shape, colour, size, position) combination",
            "source": "procedural",
            "description": (
                f"shapes.make_shapes({train_size}, seed={TRAIN_SEED}, compositions=None); "
                f"{AUGMENT_FRACTION:.0%} corrupted (augment seed {AUGMENT_SEED}): blur sigma, "
                "noise sigma, colour shift each with probability 1/2, levels uniform up to "
                + ", ".join(f"{k} {v:g}" for k, v in AUGMENT_MAX.items())
            ),
            "train_images": train_size,
            "seeds": {
                "train": TRAIN_SEED,
                "augment": AUGMENT_SEED,
                "held_out": HELD_OUT_SEED,
                "corruption_table": CORRUPTION_SEED,
                "baseline": [BASELINE_SEED, BASELINE_SEED + 1],
            },
        },
        "learning_rate": ran["learning_rate"],
        "beta_1": ran["beta_1"],
        "batch_size": batch_size,
        "steps_per_epoch": settings["steps_per_epoch"],
        "steps": result["step"],
        "seed": args.seed,
        "wall_time_s": round(result["wall_time_s"], 1),
        "final_losses": {k: v[-1] for k, v in history.items() if k != "step" and v},
        "held_out": {
            "images": eval_size,
            "seed": HELD_OUT_SEED,
            "accuracy": {a: round(accuracy[a], 4) for a in (*ATTRIBUTES, "all_four")},
            "identical_to_a_training_render": round(1.0 - float(novel.mean()), 4),
            "novel_images": int(novel.sum()),
            "novel_accuracy": {a: round(novel_accuracy[a], 4) for a in (*ATTRIBUTES, "all_four")},
        },
        "chance": {k: round(v, 6) for k, v in CHANCE.items()},
        "corruption_table": table,
        "real_vs_real": {
            "images_per_set": eval_size,
            "fid": round(baseline["fid"], 4),
            "kid": round(baseline["kid"], 6),
            "kid_std": round(baseline["kid_std"], 6),
        },
        "evaluation_wall_time_s": round(time.perf_counter() - started, 1),
        "weights_bytes": weights.stat().st_size,
    }
    summary = ", ".join(f"{a} {100 * accuracy[a]:.1f}%" for a in (*ATTRIBUTES, "all_four"))
    print(f"Trained {result['step']} steps in {result['wall_time_s']:.0f} s; held-out {summary}")
    print(format_corruption_table(table))
    cli._write_outputs(out, provenance, weights, args.export)
    return 0
