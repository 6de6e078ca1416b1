"""A procedural, captioned dataset: one coloured shape on a black background per image.

Every image comes with its exact attributes (shape, colour, size, position, and the pixel
centre and radius), an integer label (the shape) and a caption, drawn from several
phrasings ("a small red circle in the top left", "top left: a little red disc"). Because
the attributes are exact, a generated image can be scored by reading them back
(:func:`estimate_attributes`). Rendering is vectorised numpy: thousands of images a second.

Shapes have hard edges (no anti-aliasing), so every foreground pixel has exactly the RGB
value of the named colour and the background is exactly black.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ganbook_utils.images import ImageSet, check_uint8_images

SHAPES = ("circle", "square", "triangle", "diamond")
COLOURS = {
    "red": (220, 40, 40),
    "orange": (245, 140, 20),
    "yellow": (240, 220, 40),
    "green": (40, 180, 70),
    "cyan": (40, 200, 220),
    "blue": (50, 80, 230),
    "purple": (150, 60, 210),
    "white": (235, 235, 235),
}
COLOUR_NAMES = tuple(COLOURS)
PALETTE = np.array(list(COLOURS.values()), dtype=np.uint8)  # (colours, 3)
SIZES = ("small", "medium", "large")
POSITIONS = (
    "top left",
    "top",
    "top right",
    "left",
    "center",
    "right",
    "bottom left",
    "bottom",
    "bottom right",
)
IMAGE_SIZES = (32, 64)

# Radius (half the shape's extent) as a fraction of the image side, per size class, and the
# relative jitter around it; centres sit at 1/4, 1/2, 3/4 of the side plus a small jitter.
# Chosen so that even a large shape in a corner stays inside the image.
SIZE_RADIUS = (0.10, 0.15, 0.21)
RADIUS_JITTER = 0.05
CENTRE_FRACTIONS = (0.25, 0.5, 0.75)
CENTRE_JITTER = 0.03

# Words for the captions: the first of each tuple is the canonical name.
_SHAPE_WORDS = {
    "circle": ("circle", "disc", "round dot"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle", "triangle", "wedge"),
    "diamond": ("diamond", "rhombus", "diamond"),
}
_SIZE_WORDS = {
    "small": ("small", "little", "tiny"),
    "medium": ("medium-sized", "mid-sized", "medium"),
    "large": ("large", "big", "huge"),
}
_PLACE_WORDS = {  # (after "in/at the ...", short label, "towards the ...")
    "top left": ("top left corner", "top left", "upper left"),
    "top": ("top middle", "top", "top edge"),
    "top right": ("top right corner", "top right", "upper right"),
    "left": ("middle of the left side", "left", "left edge"),
    "center": ("center", "center", "middle"),
    "right": ("middle of the right side", "right", "right edge"),
    "bottom left": ("bottom left corner", "bottom left", "lower left"),
    "bottom": ("bottom middle", "bottom", "bottom edge"),
    "bottom right": ("bottom right corner", "bottom right", "lower right"),
}
CAPTION_TEMPLATES = (
    "a {size} {colour} {shape} in the {place0}",
    "{place1}: a {size1} {colour} {shape1}",
    "there is a {colour} {shape} of {size2} size near the {place2}",
    "a {colour} {shape2}, {size1}, {place1}",
)


# Phrasings kept out of every training set (text-to-image chapter): new word orders made only
# of words the training phrasings use, so a held-out caption has no unknown word.
HELD_OUT_CAPTION_TEMPLATES = (
    "{place1}: there is a {size} {colour} {shape}",
    "near the {place2}, a {colour} {shape1} of {size2} size",
)
# (shape, colour) pairs that no training image has (text-to-image chapter): each shape and each
# colour is still seen, with the other partners, so only the combination is new.
HELD_OUT_COMPOSITIONS = (
    ("triangle", "blue"),
    ("square", "red"),
    ("circle", "green"),
    ("diamond", "yellow"),
)


def _article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def caption_variants(
    shape: str,
    colour: str,
    size: str,
    position: str,
    *,
    templates: tuple[str, ...] = CAPTION_TEMPLATES,
) -> list[str]:
    """Every phrasing of the caption for one attribute set (one per template, by default
    ``CAPTION_TEMPLATES``; ``HELD_OUT_CAPTION_TEMPLATES`` gives the held-out phrasings).

    Raises:
        ValueError: for an attribute value not in ``SHAPES``/``COLOURS``/``SIZES``/``POSITIONS``.
    """
    for value, known, what in (
        (shape, SHAPES, "shape"),
        (colour, COLOUR_NAMES, "colour"),
        (size, SIZES, "size"),
        (position, POSITIONS, "position"),
    ):
        if value not in known:
            raise ValueError(f"Unknown {what} {value!r}; choose one of {', '.join(known)}.")
    shape_words, size_words, place_words = (
        _SHAPE_WORDS[shape],
        _SIZE_WORDS[size],
        _PLACE_WORDS[position],
    )
    size2 = {"small": "small", "medium": "medium", "large": "large"}[size]
    captions = []
    for template in templates:
        text = template.format(
            size=size_words[0],
            size1=size_words[1],
            size2=size2,
            colour=colour,
            shape=shape_words[0],
            shape1=shape_words[1],
            shape2=shape_words[2],
            place0=place_words[0],
            place1=place_words[1],
            place2=place_words[2],
        )
        # Fix "a" -> "an" before a vowel (e.g. "an orange circle").
        words = text.split(" ")
        for i in range(len(words) - 1):
            if words[i] == "a":
                words[i] = _article(words[i + 1]).split(" ")[0]
        captions.append(" ".join(words))
    return captions


def _check_count_and_size(n: object, image_size: object) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"make_shapes: n must be a positive int; got {n!r}.")
    if image_size not in IMAGE_SIZES:
        raise ValueError(
            f"make_shapes: image_size must be one of {IMAGE_SIZES} (the two architectures "
            f"that use it); got {image_size!r}."
        )


def render_shapes(
    shape: np.ndarray,
    colour: np.ndarray,
    center_x: np.ndarray,
    center_y: np.ndarray,
    radius: np.ndarray,
    image_size: int,
) -> np.ndarray:
    """Draw one shape per image from attribute arrays (indices into ``SHAPES``/``COLOURS``;
    centre and radius in pixels); returns uint8 (N, image_size, image_size, 3)."""
    count = len(shape)
    # Pixel centres: pixel (row, column) covers [column, column + 1) x [row, row + 1).
    coords = np.arange(image_size, dtype=np.float32) + 0.5
    dx = coords[None, None, :] - center_x[:, None, None].astype(np.float32)  # (N, 1, W)
    dy = coords[None, :, None] - center_y[:, None, None].astype(np.float32)  # (N, H, 1)
    r = radius[:, None, None].astype(np.float32)
    masks = np.zeros((count, image_size, image_size), dtype=bool)
    for index, name in enumerate(SHAPES):
        chosen = np.flatnonzero(shape == index)
        if chosen.size == 0:
            continue
        x, y, rr = dx[chosen], dy[chosen], r[chosen]
        if name == "circle":
            mask = x * x + y * y <= rr * rr
        elif name == "square":
            half = 0.85 * rr  # about the same area as the circle of radius rr
            mask = (np.abs(x) <= half) & (np.abs(y) <= half)
        elif name == "triangle":
            # Apex at the top (y = -r), base at y = +0.7 r, half-width at the base 0.95 r.
            depth = (y + rr) / (1.7 * rr)  # 0 at the apex, 1 at the base
            mask = (depth >= 0) & (depth <= 1) & (np.abs(x) <= 0.95 * rr * depth)
        else:  # diamond
            mask = np.abs(x) + np.abs(y) <= rr
        masks[chosen] = mask
    images = np.zeros((count, image_size, image_size, 3), dtype=np.uint8)
    colours = PALETTE[colour]  # (N, 3)
    images[masks] = np.repeat(colours, masks.reshape(count, -1).sum(axis=1), axis=0)
    return images


def _composition_indices(compositions: object) -> np.ndarray:
    """(shape, colour) name pairs -> int array (K, 2) of indices; refuses unknown names."""
    try:
        pairs = [(str(shape), str(colour)) for shape, colour in compositions]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(
            "make_shapes: compositions must be (shape, colour) name pairs, e.g. "
            f"[('circle', 'red')]; got {compositions!r}."
        ) from None
    if not pairs:
        raise ValueError("make_shapes: compositions is empty; give at least one (shape, colour).")
    for shape, colour in pairs:
        if shape not in SHAPES or colour not in COLOUR_NAMES:
            raise ValueError(
                f"make_shapes: unknown composition ({shape!r}, {colour!r}); shapes are "
                f"{', '.join(SHAPES)} and colours {', '.join(COLOUR_NAMES)}."
            )
    return np.array([(SHAPES.index(s), COLOUR_NAMES.index(c)) for s, c in pairs], dtype=np.int64)


def all_compositions() -> tuple[tuple[str, str], ...]:
    """Every (shape, colour) pair, in index order."""
    return tuple((shape, colour) for shape in SHAPES for colour in COLOUR_NAMES)


def seen_compositions() -> tuple[tuple[str, str], ...]:
    """The (shape, colour) pairs of the training sets: all but ``HELD_OUT_COMPOSITIONS``."""
    return tuple(pair for pair in all_compositions() if pair not in HELD_OUT_COMPOSITIONS)


def _jittered_geometry(
    size: np.ndarray, position: np.ndarray, image_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres (x, y) and radii in pixels of shapes of these size and position indices, each
    jittered (CENTRE_JITTER, RADIUS_JITTER) by three draws of ``rng``, in this order."""
    n = len(size)
    row, column = np.divmod(position, 3)
    fractions = np.array(CENTRE_FRACTIONS)
    center_x = (fractions[column] + rng.uniform(-CENTRE_JITTER, CENTRE_JITTER, n)) * image_size
    center_y = (fractions[row] + rng.uniform(-CENTRE_JITTER, CENTRE_JITTER, n)) * image_size
    radius = (
        np.array(SIZE_RADIUS)[size]
        * (1.0 + rng.uniform(-RADIUS_JITTER, RADIUS_JITTER, n))
        * image_size
    )
    return center_x, center_y, radius


def make_shapes(
    n: int,
    *,
    image_size: int = 32,
    seed: int = 0,
    compositions: object = None,
    templates: tuple[str, ...] = CAPTION_TEMPLATES,
) -> ImageSet:
    """``n`` seeded images of one coloured shape each, with exact attributes and captions.

    Args:
        n: number of images (>= 1).
        image_size: 32 or 64 (square RGB images).
        seed: the same seed gives the same images, attributes and captions.
        compositions: (shape, colour) name pairs to draw from, uniformly (default: every
            pair, i.e. shape and colour independent and uniform).
        templates: the caption phrasings to draw from (default ``CAPTION_TEMPLATES``).

    Returns:
        :class:`~ganbook_utils.images.ImageSet` with ``images`` uint8 (n, S, S, 3),
        ``labels`` = the shape index (into ``SHAPES``), one ``caption`` per image (a phrasing
        chosen at random from :func:`caption_variants`), and ``attributes``: ``shape``,
        ``colour``, ``size``, ``position`` (int indices into ``SHAPES``, ``COLOUR_NAMES``,
        ``SIZES``, ``POSITIONS``), ``center_x``, ``center_y``, ``radius`` (float pixels) and
        ``caption_template`` (which of ``templates`` was used).

    Raises:
        ValueError: for a non-positive ``n``, an unsupported ``image_size``, an unknown
            composition or an empty template list.
    """
    _check_count_and_size(n, image_size)
    templates = tuple(templates)
    if not templates:
        raise ValueError("make_shapes: templates is empty; give at least one caption template.")
    rng = np.random.default_rng(seed)
    if compositions is None:
        shape = rng.integers(0, len(SHAPES), n)
        colour = rng.integers(0, len(COLOURS), n)
    else:
        pairs = _composition_indices(compositions)
        shape, colour = pairs[rng.integers(0, len(pairs), n)].T
    size = rng.integers(0, len(SIZES), n)
    position = rng.integers(0, len(POSITIONS), n)
    center_x, center_y, radius = _jittered_geometry(size, position, image_size, rng)
    template = rng.integers(0, len(templates), n)
    images = render_shapes(shape, colour, center_x, center_y, radius, image_size)
    # Captions depend only on the attribute combination: build each combination's once.
    variants: dict[tuple[int, int, int, int], list[str]] = {}
    captions = []
    for key in zip(shape.tolist(), colour.tolist(), size.tolist(), position.tolist(), strict=True):
        if key not in variants:
            variants[key] = caption_variants(
                SHAPES[key[0]],
                COLOUR_NAMES[key[1]],
                SIZES[key[2]],
                POSITIONS[key[3]],
                templates=templates,
            )
        captions.append(variants[key][template[len(captions)]])
    return ImageSet(
        images=images,
        labels=shape.astype(np.int64),
        captions=captions,
        attributes={
            "shape": shape.astype(np.int64),
            "colour": colour.astype(np.int64),
            "size": size.astype(np.int64),
            "position": position.astype(np.int64),
            "center_x": center_x.astype(np.float32),
            "center_y": center_y.astype(np.float32),
            "radius": radius.astype(np.float32),
            "caption_template": template.astype(np.int64),
        },
    )


def rerender(image_set: ImageSet, *, seed: int = 0) -> ImageSet:
    """The same captions drawn again: each image's shape, colour, size and position (and its
    caption) kept, its centre and radius jittered afresh. Two such draws are the real-vs-real
    baseline of a generator conditioned on those captions (both follow the same captions).

    Raises:
        ValueError: if ``image_set`` has no ``shape``/``colour``/``size``/``position``
            attributes (it does not come from :func:`make_shapes`).
    """
    attributes = getattr(image_set, "attributes", None) or {}
    missing = [k for k in ("shape", "colour", "size", "position") if k not in attributes]
    if missing:
        raise ValueError(
            f"rerender: the image set has no {', '.join(missing)} attributes; give it a set "
            "made by shapes.make_shapes (or caption_splits)."
        )
    image_size = image_set.images.shape[1]
    rng = np.random.default_rng(seed)
    center_x, center_y, radius = _jittered_geometry(
        np.asarray(attributes["size"]), np.asarray(attributes["position"]), image_size, rng
    )
    shape, colour = np.asarray(attributes["shape"]), np.asarray(attributes["colour"])
    return ImageSet(
        images=render_shapes(shape, colour, center_x, center_y, radius, image_size),
        labels=np.asarray(image_set.labels),
        captions=list(image_set.captions),
        attributes={
            **attributes,
            "center_x": center_x.astype(np.float32),
            "center_y": center_y.astype(np.float32),
            "radius": radius.astype(np.float32),
        },
    )


@dataclasses.dataclass
class CaptionSplits:
    """The text-to-image chapter's captioned sets (all disjoint seeds).

    Attributes:
        train: what every text-to-image model trains on: seen compositions, training phrasings.
        seen: fresh images of seen compositions with training phrasings (evaluation).
        held_out_phrasing: seen compositions, captions in ``HELD_OUT_CAPTION_TEMPLATES``.
        held_out_composition: only ``HELD_OUT_COMPOSITIONS``, training phrasings.
    """

    train: ImageSet
    seen: ImageSet
    held_out_phrasing: ImageSet
    held_out_composition: ImageSet

    def evaluation_sets(self) -> dict[str, ImageSet]:
        """``{"seen": ..., "held-out phrasing": ..., "held-out composition": ...}``."""
        return {
            "seen": self.seen,
            "held-out phrasing": self.held_out_phrasing,
            "held-out composition": self.held_out_composition,
        }


def caption_splits(
    train_size: int, eval_size: int, *, image_size: int = 32, seed: int = 0
) -> CaptionSplits:
    """The training set and the three evaluation sets of the text-to-image chapter.

    The training set never contains a held-out composition or a held-out phrasing, so a
    model trained on it (text encoder and generators alike) has seen neither.
    """
    seen = seen_compositions()
    return CaptionSplits(
        train=make_shapes(train_size, image_size=image_size, seed=seed, compositions=seen),
        seen=make_shapes(eval_size, image_size=image_size, seed=seed + 1, compositions=seen),
        held_out_phrasing=make_shapes(
            eval_size,
            image_size=image_size,
            seed=seed + 2,
            compositions=seen,
            templates=HELD_OUT_CAPTION_TEMPLATES,
        ),
        held_out_composition=make_shapes(
            eval_size, image_size=image_size, seed=seed + 3, compositions=HELD_OUT_COMPOSITIONS
        ),
    )


def attribute_names(image_set: ImageSet, index: int) -> dict[str, str]:
    """The categorical attributes of image ``index`` as words, e.g. {"shape": "circle", ...}."""
    if image_set.attributes is None or "shape" not in image_set.attributes:
        raise ValueError("attribute_names needs an ImageSet made by make_shapes.")
    attributes = image_set.attributes
    return {
        "shape": SHAPES[int(attributes["shape"][index])],
        "colour": COLOUR_NAMES[int(attributes["colour"][index])],
        "size": SIZES[int(attributes["size"][index])],
        "position": POSITIONS[int(attributes["position"][index])],
    }


def estimate_attributes(images: np.ndarray, *, threshold: int = 40) -> dict[str, np.ndarray]:
    """Read colour, position and size back from images of one shape on a dark background,
    e.g. to score generated images against the attributes they were asked for.

    A pixel is foreground when its brightest channel exceeds ``threshold``. Colour is the
    palette entry nearest to the mean foreground colour; position is the 3x3 cell of the
    foreground's centroid; ``area`` is the foreground's fraction of the image; size is the
    class whose typical area is nearest (as drawn by :func:`make_shapes`). Images with no
    foreground get -1 everywhere.

    Args:
        images: uint8 (N, S, S, 3).

    Returns:
        dict of arrays (N,): ``colour``, ``position``, ``size`` (int indices, -1 for empty
        images), ``area`` (float fraction of pixels).

    Raises:
        TypeError/ValueError: for images that are not uint8 RGB batches.
    """
    images = check_uint8_images(images, "estimate_attributes")
    if images.shape[-1] != 3:
        raise ValueError(f"estimate_attributes expects RGB images; got shape {images.shape}.")
    count, height, width, _ = images.shape
    foreground = images.max(axis=-1) > threshold  # (N, H, W)
    pixels = foreground.sum(axis=(1, 2))
    safe = np.maximum(pixels, 1)
    mean_colour = (images * foreground[..., None]).sum(axis=(1, 2)) / safe[:, None]
    distances = ((mean_colour[:, None, :] - PALETTE[None].astype(np.float64)) ** 2).sum(-1)
    colour = distances.argmin(axis=1)
    rows = (np.arange(height) + 0.5)[None, :, None]
    columns = (np.arange(width) + 0.5)[None, None, :]
    centroid_y = (foreground * rows).sum(axis=(1, 2)) / safe
    centroid_x = (foreground * columns).sum(axis=(1, 2)) / safe
    cell_row = np.clip((centroid_y / height * 3).astype(int), 0, 2)
    cell_column = np.clip((centroid_x / width * 3).astype(int), 0, 2)
    position = cell_row * 3 + cell_column
    area = pixels / (height * width)
    # Size from the bounding box: half its longer side is about the drawn radius for every
    # shape (circle and diamond 1.0 r, triangle 0.95 r, square 0.85 r).
    extent_x = _extent(foreground.any(axis=1))
    extent_y = _extent(foreground.any(axis=2))
    radius = np.maximum(extent_x, extent_y) / 2 / width
    typical = 0.95 * np.array(SIZE_RADIUS)
    # Compare on a log scale: the classes are spaced by ratios, not differences.
    size = np.abs(np.log(np.maximum(radius, 1e-9))[:, None] - np.log(typical)[None]).argmin(axis=1)
    empty = pixels == 0
    for values in (colour, position, size):
        values[empty] = -1
    return {"colour": colour, "position": position, "size": size, "area": area}


def _extent(occupied: np.ndarray) -> np.ndarray:
    """Length of the span from the first to the last True along the last axis, per row."""
    length = occupied.shape[-1]
    first = occupied.argmax(axis=-1)
    last = length - 1 - occupied[:, ::-1].argmax(axis=-1)
    return np.where(occupied.any(axis=-1), last - first + 1, 0).astype(np.float64)
