"""Text: a tokenizer, a small Transformer text encoder and a CLIP-style dual encoder.

* :class:`Tokenizer` -- words -> integer ids with ``keras.layers.TextVectorization``
  (0 = padding, 1 = out-of-vocabulary), the vocabulary being the words of the training
  captions; ``MAX_TOKENS`` is the encoder's context.
* :func:`build_text_encoder` -- token + learned positional embedding, pre-LN Transformer
  blocks of ``MultiHeadAttention`` and a feed-forward layer, masked mean pooling and a
  projection to ``EMBEDDING_DIM``, L2-normalised; :func:`build_image_encoder` -- a small CNN
  from 32x32x3 images to the same space.
* :class:`DualEncoder` -- both encoders and a learned temperature, trained by ``fit`` with the
  symmetric InfoNCE loss of CLIP (Radford et al. 2021), :func:`info_nce_loss`.
* Evaluation: :func:`retrieval_accuracy` (caption <-> image among 100 candidates),
  :func:`zero_shot_accuracy` (attribute classification by scoring class prompts) and
  :func:`clip_score` (CLIPScore, Hessel et al. 2021).
* :func:`load_pretrained` -- the shipped ``clip_shapes32`` (frozen), made by
  ``python -m ganbook_utils train --model clip`` (:func:`train_cli`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ganbook_utils import checks

EMBEDDING_DIM = 64
# The text encoder's context: longer prompts are refused (the longest caption has 12 words).
MAX_TOKENS = 16
PADDING_ID = 0
OOV_ID = 1
OOV_TOKEN = "[UNK]"
IMAGE_SHAPE = (32, 32, 3)
# CLIP's temperature: logits are exp(log_scale) * cosine; log_scale starts at log(1 / 0.07)
# and is clipped so that the scale never exceeds 100 (Radford et al. 2021, section 2.5).
INITIAL_LOG_SCALE = math.log(1 / 0.07)
MAX_LOG_SCALE = math.log(100.0)
# Text encoder: width of the token vectors, attention heads, feed-forward width, blocks.
TEXT_WIDTH = 64
TEXT_HEADS = 4
TEXT_FFN_WIDTH = 128
TEXT_BLOCKS = 2
# Image encoder: channels of the strided convolutions, then a hidden dense layer.
IMAGE_FILTERS = (32, 64, 128)
IMAGE_HIDDEN = 128
# The recipe of the shipped encoder (the CLI's defaults).
CLIP_DEFAULTS = {"learning_rate": 1e-3, "beta_1": 0.9, "batch_size": 128}
# A CLIPScore's weight w in w * max(cos, 0) (Hessel et al. 2021).
CLIP_SCORE_WEIGHT = 2.5

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
PRETRAINED_TEXT = {"clip_shapes32": "dual encoder of captioned 32x32 shapes (InfoNCE)"}


# --- Tokenizer -----------------------------------------------------------------------------------


def standardize(prompt: str) -> list[str]:
    """Lower-case words of ``prompt``: punctuation and hyphens split words ("mid-sized" ->
    "mid", "sized"), as the tokenizer sees them."""
    return re.findall(r"[a-z0-9]+", prompt.lower())


def caption_vocabulary(captions: Sequence[str]) -> list[str]:
    """The sorted distinct words of ``captions`` (the training captions make the vocabulary)."""
    return sorted({word for caption in captions for word in standardize(caption)})


class Tokenizer:
    """Prompts -> int32 token ids (N, ``MAX_TOKENS``): 0 pads, 1 (``[UNK]``) is an unknown word.

    Words are found by :func:`standardize` (so an error can name them exactly); mapping them to
    ids, the out-of-vocabulary id and the padding are done by ``keras.layers.TextVectorization``
    -- a library already does it, and does it in the TensorFlow graph.

    Args:
        vocabulary: the known words (no duplicates, no padding or ``[UNK]`` entry); word ``i``
            gets id ``i + 2``.
    """

    def __init__(self, vocabulary: Sequence[str]):
        vocabulary = [str(word) for word in vocabulary]
        if not vocabulary or len(set(vocabulary)) != len(vocabulary):
            raise ValueError("Tokenizer: vocabulary must be a non-empty list of distinct words.")
        self.vocabulary = vocabulary
        self._known = set(vocabulary)
        self.layer = keras.layers.TextVectorization(
            standardize=None,
            split="whitespace",
            output_mode="int",
            output_sequence_length=MAX_TOKENS,
            vocabulary=vocabulary,
        )

    @property
    def vocabulary_size(self) -> int:
        """Ids in use: padding, ``[UNK]`` and the words."""
        return len(self.vocabulary) + 2

    def words(self, prompt: str) -> list[str]:
        return standardize(prompt)

    def unknown_words(self, prompt: str) -> list[str]:
        return [word for word in standardize(prompt) if word not in self._known]

    def check(self, prompts: Any, who: str = "encode_text") -> list[str]:
        """``prompts`` as a list of strings, each with 1..``MAX_TOKENS`` words and one known.

        Raises:
            TypeError: for a single string or a non-string entry.
            ValueError: for an empty list, an empty prompt, one longer than ``MAX_TOKENS`` words
                or one made only of unknown words (named, with the rewriter suggested).
        """
        if isinstance(prompts, str):
            raise TypeError(f"{who}: pass a list of prompts, e.g. [{prompts!r}].")
        prompts = list(prompts)
        if not prompts:
            raise ValueError(f"{who}: no prompts given; pass a non-empty list of strings.")
        for index, prompt in enumerate(prompts):
            if not isinstance(prompt, str):
                raise TypeError(
                    f"{who}: prompt {index} is a {type(prompt).__name__}, not a string."
                )
            words = standardize(prompt)
            if not words:
                raise ValueError(
                    f"{who}: prompt {index} ({prompt!r}) is empty; describe a shape, e.g. "
                    "'a small red circle in the top left'."
                )
            if len(words) > MAX_TOKENS:
                raise ValueError(
                    f"{who}: prompt {index} has {len(words)} words, more than the text "
                    f"encoder's context of MAX_TOKENS = {MAX_TOKENS}; shorten it (or rewrite it "
                    "with prompts.rewrite / the CLI's --rewrite)."
                )
            unknown = [word for word in words if word not in self._known]
            if len(unknown) == len(words):
                raise ValueError(
                    f"{who}: prompt {index} ({prompt!r}) has only unknown words "
                    f"({', '.join(sorted(set(unknown)))}); the encoder knows the words of its "
                    "training captions. Rewrite it with prompts.rewrite(prompt) (the CLI's "
                    "--rewrite), e.g. 'a small red circle in the top left'."
                )
        return prompts

    def __call__(self, prompts: Any, who: str = "tokenize") -> np.ndarray:
        """Token ids int32 (N, ``MAX_TOKENS``) of checked prompts (see :meth:`check`)."""
        prompts = self.check(prompts, who)
        text = np.array([" ".join(standardize(prompt)) for prompt in prompts])
        return np.asarray(self.layer(text)).astype(np.int32)

    def decode(self, tokens: Any) -> list[str]:
        """Token ids back to text (padding dropped, unknown words as ``[UNK]``)."""
        table = ["", OOV_TOKEN, *self.vocabulary]
        return [
            " ".join(table[int(i)] for i in row if int(i) != PADDING_ID)
            for row in np.asarray(tokens)
        ]


# --- Encoders ------------------------------------------------------------------------------------


class PositionalEmbedding(keras.layers.Layer):
    """Adds a learned vector per position (0..length-1) to a sequence of token vectors."""

    def __init__(self, length: int, width: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.length, self.width = length, width

    def build(self, input_shape: Any) -> None:
        self.positions = self.add_weight(
            shape=(self.length, self.width),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="positions",
        )

    def call(self, x: Any) -> Any:
        return x + self.positions[None, : keras.ops.shape(x)[1]]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "length": self.length, "width": self.width}


def _l2_normalize(x: Any) -> Any:
    return x / keras.ops.sqrt(keras.ops.sum(x * x, axis=-1, keepdims=True) + 1e-12)


def build_text_encoder(vocabulary_size: int, seed: int = 0) -> keras.Model:
    """Tokens int32 (N, ``MAX_TOKENS``) -> L2-normalised embeddings (N, ``EMBEDDING_DIM``).

    Token + learned positional embedding, ``TEXT_BLOCKS`` pre-LN Transformer blocks (attention
    over the non-padding tokens, then a feed-forward layer, each added back to its input), a
    final layer norm, the mean over the non-padding tokens and a linear projection.
    """
    vocabulary_size = checks.integer(vocabulary_size, "vocabulary_size", minimum=3)
    tokens = keras.Input((MAX_TOKENS,), dtype="int32", name="tokens")
    mask = keras.ops.cast(keras.ops.not_equal(tokens, PADDING_ID), "float32")  # (N, L)
    x = keras.layers.Embedding(vocabulary_size, TEXT_WIDTH, name="token_embedding")(tokens)
    x = PositionalEmbedding(MAX_TOKENS, TEXT_WIDTH, name="position_embedding")(x)
    attention_mask = keras.ops.cast(mask[:, None, :], "bool")  # every query sees the words
    for block in range(TEXT_BLOCKS):
        h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"block{block}_ln1")(x)
        h = keras.layers.MultiHeadAttention(
            TEXT_HEADS,
            TEXT_WIDTH // TEXT_HEADS,
            kernel_initializer=keras.initializers.GlorotUniform(seed + block),
            name=f"block{block}_attention",
        )(h, h, attention_mask=attention_mask)
        x = x + h
        h = keras.layers.LayerNormalization(epsilon=1e-5, name=f"block{block}_ln2")(x)
        h = keras.layers.Dense(TEXT_FFN_WIDTH, activation="gelu", name=f"block{block}_ffn1")(h)
        x = x + keras.layers.Dense(TEXT_WIDTH, name=f"block{block}_ffn2")(h)
    x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_ln")(x)
    pooled = keras.ops.sum(x * mask[:, :, None], axis=1) / keras.ops.maximum(
        keras.ops.sum(mask, axis=1, keepdims=True), 1.0
    )
    embedding = keras.layers.Dense(EMBEDDING_DIM, name="text_projection")(pooled)
    return keras.Model(tokens, _l2_normalize(embedding), name="text_encoder")


def build_image_encoder() -> keras.Model:
    """Images float32 (N, 32, 32, 3) in [-1, 1] -> L2-normalised embeddings (N, ``EMBEDDING_DIM``).

    A 3x3 convolution at full resolution, strided 3x3 convolutions (32 -> 16 -> 8 -> 4), then a
    dense layer over the flattened map: flattening, not average pooling, keeps *where* the
    shape is (its position is half of a caption).
    """
    images = keras.Input(IMAGE_SHAPE, name="images")
    x = keras.layers.Conv2D(IMAGE_FILTERS[0], 3, padding="same", activation="relu")(images)
    for filters in IMAGE_FILTERS:
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(IMAGE_HIDDEN, activation="relu")(x)
    embedding = keras.layers.Dense(EMBEDDING_DIM, name="image_projection")(x)
    return keras.Model(images, _l2_normalize(embedding), name="image_encoder")


# --- The contrastive loss and the dual encoder ---------------------------------------------------


def info_nce_loss(image_embeddings: Any, text_embeddings: Any, log_scale: Any) -> Any:
    """The symmetric InfoNCE loss of CLIP on a batch of N matching (image, text) pairs.

    With unit vectors ``I`` (N, d) and ``T`` (N, d) and logits ``exp(log_scale) * I @ T.T``,
    the mean of the cross-entropy of each image's row (its text is the right class among the
    N) and of each text's column (its image among the N)::

        loss = (CE(logits, arange(N)) + CE(logits.T, arange(N))) / 2

    Swapping the roles of images and texts leaves it unchanged. Returns a scalar tensor.
    """
    image_embeddings = keras.ops.convert_to_tensor(image_embeddings, "float32")
    text_embeddings = keras.ops.convert_to_tensor(text_embeddings, "float32")
    scale = keras.ops.exp(keras.ops.convert_to_tensor(log_scale, "float32"))
    logits = scale * keras.ops.matmul(image_embeddings, keras.ops.transpose(text_embeddings))
    targets = keras.ops.arange(keras.ops.shape(logits)[0])
    image_to_text = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    text_to_image = keras.losses.sparse_categorical_crossentropy(
        targets, keras.ops.transpose(logits), from_logits=True
    )
    return (keras.ops.mean(image_to_text) + keras.ops.mean(text_to_image)) / 2


class DualEncoder(keras.Model):
    """A CLIP-style pair of encoders into one space, and a learned temperature.

    Args:
        tokenizer: the :class:`Tokenizer` (its vocabulary sizes the text encoder).
        seed: initialisation of the attention layers.

    ``fit`` takes batches ``(images in [-1, 1] (N, 32, 32, 3), tokens int32 (N, MAX_TOKENS))``
    of matching pairs and reports ``loss`` (:func:`info_nce_loss`) and ``scale`` (the logit
    scale exp(log_scale), i.e. 1 / temperature, clipped at 100 as CLIP does).
    """

    def __init__(self, tokenizer: Tokenizer, seed: int = 0, name: str = "dual_encoder", **kw):
        super().__init__(name=name, **kw)
        if not isinstance(tokenizer, Tokenizer):
            raise TypeError(f"tokenizer must be a Tokenizer; got {type(tokenizer).__name__}.")
        self.tokenizer = tokenizer
        self.text_encoder = build_text_encoder(tokenizer.vocabulary_size, seed=seed)
        self.image_encoder = build_image_encoder()
        self.log_scale = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(INITIAL_LOG_SCALE),
            name="log_scale",
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker]

    def compile(self, optimizer: Any = None, **kwargs: Any) -> None:
        """Set the optimizer (default: the recipe's Adam) and build it, so that a checkpoint
        can be restored before training resumes (``training.fit_resumable``)."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(CLIP_DEFAULTS["learning_rate"])
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.trainable_variables)

    def call(self, inputs: Any, training: bool = False) -> tuple[Any, Any]:
        images, tokens = inputs
        return (
            self.image_encoder(images, training=training),
            self.text_encoder(tokens, training=training),
        )

    def train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        images, tokens = data[0], data[1]
        with tf.GradientTape() as tape:
            image_embeddings, text_embeddings = self((images, tokens), training=True)
            loss = info_nce_loss(image_embeddings, text_embeddings, self.log_scale)
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        self.log_scale.assign(keras.ops.clip(self.log_scale, 0.0, MAX_LOG_SCALE))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result(), "scale": keras.ops.exp(self.log_scale)}

    @property
    def scale(self) -> float:
        """The logit scale exp(log_scale) (the inverse temperature)."""
        return float(np.exp(np.asarray(self.log_scale)))

    # -- encoding --

    def tokenize(self, prompts: Sequence[str]) -> np.ndarray:
        """Token ids int32 (N, ``MAX_TOKENS``); raises ValueError for a bad prompt."""
        return self.tokenizer(prompts, who="tokenize")

    def encode_text(self, prompts: Sequence[str], batch_size: int = 512) -> np.ndarray:
        """L2-normalised embeddings float32 (N, ``EMBEDDING_DIM``) of a list of prompts.

        Raises:
            ValueError: for an empty prompt, a prompt of only unknown words (they are named)
                or one longer than ``MAX_TOKENS`` words.
        """
        tokens = self.tokenizer(prompts, who="encode_text")
        return self._batched(self.text_encoder, tokens, batch_size)

    def encode_images(self, images: Any, batch_size: int = 512) -> np.ndarray:
        """L2-normalised embeddings float32 (N, ``EMBEDDING_DIM``) of images (N, 32, 32, 3),
        uint8 in [0, 255] or float in [-1, 1].

        Raises:
            ValueError: for another image size, a float outside [-1, 1] or a non-numeric dtype.
        """
        return self._batched(self.image_encoder, check_images(images, "encode_images"), batch_size)

    @staticmethod
    def _batched(network: keras.Model, inputs: np.ndarray, batch_size: int) -> np.ndarray:
        parts = [
            np.asarray(network(inputs[start : start + batch_size], training=False))
            for start in range(0, len(inputs), batch_size)
        ]
        return np.concatenate(parts).astype(np.float32)

    def similarity(self, images: Any, prompts: Sequence[str]) -> np.ndarray:
        """Cosine similarities (N images, M prompts)."""
        return self.encode_images(images) @ self.encode_text(prompts).T


def check_images(images: Any, who: str) -> np.ndarray:
    """``images`` as float32 (N, 32, 32, 3) in [-1, 1] (uint8 pixels are mapped there)."""
    array = np.asarray(images)
    if array.ndim == 3 and array.shape == IMAGE_SHAPE:
        raise ValueError(f"{who}: got one image {array.shape}; pass a batch, e.g. images[None].")
    if array.ndim != 4 or array.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"{who}: images must be a batch shaped (N, 32, 32, 3); got shape {array.shape}."
        )
    if len(array) == 0:
        raise ValueError(f"{who}: the batch is empty.")
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 127.5 - 1.0
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"{who}: images must be uint8 in [0, 255] or float in [-1, 1]; got dtype {array.dtype}."
        )
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)) or array.min() < -1.001 or array.max() > 1.001:
        raise ValueError(
            f"{who}: float images must be finite and in [-1, 1]; got values in "
            f"[{np.nanmin(array):.3g}, {np.nanmax(array):.3g}] (uint8 pixels? pass them as uint8)."
        )
    return np.clip(array, -1.0, 1.0)


def build_dual_encoder(
    vocabulary: Sequence[str], learning_rate: float | None = None, seed: int = 0
) -> DualEncoder:
    """A :class:`DualEncoder` over ``vocabulary``, compiled with Adam (None: uncompiled)."""
    model = DualEncoder(Tokenizer(vocabulary), seed=seed)
    if learning_rate is not None:
        model.compile(keras.optimizers.Adam(learning_rate))
    return model


def make_pipeline(model: DualEncoder, image_set: Any, batch_size: int, seed: int = 0):
    """A repeated, shuffled ``tf.data`` pipeline of (images in [-1, 1], tokens) batches."""
    import tensorflow as tf

    images = check_images(image_set.images, "make_pipeline")
    tokens = model.tokenizer(image_set.captions, who="make_pipeline")
    dataset = tf.data.Dataset.from_tensor_slices((images, tokens))
    dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=True).repeat().prefetch(tf.data.AUTOTUNE)


# --- Evaluation ----------------------------------------------------------------------------------


def _attribute_keys(image_set: Any) -> np.ndarray:
    attributes = image_set.attributes
    return np.stack([attributes[k] for k in ("shape", "colour", "size", "position")], axis=1)


def _hits(similarity: np.ndarray, correct: np.ndarray, k: int) -> np.ndarray:
    """Per query (row): is a correct candidate among the k most similar? ``correct`` (Q, C)."""
    top = np.argsort(-similarity, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(correct, top, axis=1).any(axis=1)


def retrieval_accuracy(
    model: DualEncoder,
    image_set: Any,
    candidates: int = 100,
    top_k: Sequence[int] = (1, 5),
    seed: int = 0,
) -> dict[str, float]:
    """Caption -> image and image -> caption retrieval among ``candidates`` pairs at a time.

    The set's pairs are shuffled (``seed``) and cut into groups of ``candidates``; within a
    group each caption ranks the group's images (and each image the captions) by cosine
    similarity. How ties of identical attributes count:

    * caption -> image ``caption_to_image_top{k}``: strict -- only the caption's own image is
      right, even if another image of the group has the same four attributes (the caption
      cannot tell them apart, so this is a little below what a perfect encoder reaches);
      ``caption_to_image_attributes_top1`` counts the top image right when it has the
      caption's shape, colour, size and position.
    * image -> caption ``image_to_caption_top{k}``: a caption equal (as a string) to the
      image's own counts as right, identical strings being indistinguishable;
      ``image_to_caption_attributes_top1`` counts any caption of the same attributes.
    * ``caption_to_image_ceiling_top1`` / ``image_to_caption_ceiling_top1``: the expected
      strict top-1 of an encoder that reads every attribute right and breaks ties between
      same-attribute candidates at random -- the most a caption can reach here.

    Returns the accuracies (fractions), ``chance_top{k}`` = k / candidates, ``candidates``
    and ``queries`` (pairs scored; a remainder smaller than a group is left out).

    Raises:
        ValueError: for fewer pairs than ``candidates`` or a ``top_k`` above ``candidates``.
    """
    candidates = checks.integer(candidates, "candidates", minimum=2, who="retrieval_accuracy")
    top_k = [checks.integer(k, "top_k", who="retrieval_accuracy") for k in top_k]
    count = len(image_set.images)
    if count < candidates:
        raise ValueError(
            f"retrieval_accuracy: the set has {count} pairs, fewer than candidates={candidates}."
        )
    if max(top_k) > candidates:
        raise ValueError(f"retrieval_accuracy: top_k {max(top_k)} exceeds candidates={candidates}.")
    image_embeddings = model.encode_images(image_set.images)
    text_embeddings = model.encode_text(image_set.captions)
    captions = np.array(image_set.captions)
    keys = _attribute_keys(image_set)
    order = np.random.default_rng(seed).permutation(count)
    groups = order[: count // candidates * candidates].reshape(-1, candidates)
    hits: dict[str, list[np.ndarray]] = {}
    for group in groups:
        similarity = text_embeddings[group] @ image_embeddings[group].T  # (captions, images)
        own = np.eye(candidates, dtype=bool)
        same_caption = captions[group][:, None] == captions[group][None, :]
        same_attributes = (keys[group][:, None, :] == keys[group][None, :, :]).all(-1)
        for k in top_k:
            hits.setdefault(f"caption_to_image_top{k}", []).append(_hits(similarity, own, k))
            hits.setdefault(f"image_to_caption_top{k}", []).append(
                _hits(similarity.T, same_caption, k)
            )
        hits.setdefault("caption_to_image_attributes_top1", []).append(
            _hits(similarity, same_attributes, 1)
        )
        hits.setdefault("image_to_caption_attributes_top1", []).append(
            _hits(similarity.T, same_attributes, 1)
        )
        hits.setdefault("caption_to_image_ceiling_top1", []).append(1 / same_attributes.sum(1))
        hits.setdefault("image_to_caption_ceiling_top1", []).append(
            same_caption.sum(1) / same_attributes.sum(1)
        )
    result = {name: float(np.concatenate(values).mean()) for name, values in hits.items()}
    result.update({f"chance_top{k}": k / candidates for k in top_k})
    result["candidates"] = candidates
    result["queries"] = int(groups.size)
    return result


ATTRIBUTES = ("shape", "colour", "size", "position")


def class_prompts(attribute: str) -> dict[str, list[str]]:
    """For each value of ``attribute``, every training-grammar caption with that value (all
    phrasings of ``shapes.CAPTION_TEMPLATES`` and all values of the other attributes)."""
    from ganbook_utils import shapes

    values = {
        "shape": shapes.SHAPES,
        "colour": shapes.COLOUR_NAMES,
        "size": shapes.SIZES,
        "position": shapes.POSITIONS,
    }
    if attribute not in values:
        raise ValueError(f"Unknown attribute {attribute!r}; choose one of {', '.join(ATTRIBUTES)}.")
    prompts: dict[str, list[str]] = {value: [] for value in values[attribute]}
    for shape in shapes.SHAPES:
        for colour in shapes.COLOUR_NAMES:
            for size in shapes.SIZES:
                for position in shapes.POSITIONS:
                    chosen = {"shape": shape, "colour": colour, "size": size, "position": position}
                    prompts[chosen[attribute]] += shapes.caption_variants(
                        shape, colour, size, position
                    )
    return prompts


def class_embeddings(model: DualEncoder, attribute: str) -> np.ndarray:
    """One unit vector per value of ``attribute``: the renormalised mean embedding of its
    :func:`class_prompts` (CLIP's prompt ensembling)."""
    rows = []
    for prompts in class_prompts(attribute).values():
        mean = model.encode_text(prompts).mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
    return np.stack(rows).astype(np.float32)


def zero_shot_accuracy(model: DualEncoder, image_set: Any, attribute: str) -> dict[str, float]:
    """Classify ``attribute`` (shape, colour, size or position) of each image with no
    classifier: the class whose prompt embedding is nearest wins.

    Each class is represented by the mean embedding of every training-grammar caption with that
    value, averaged over the phrasings and over all values of the other attributes -- CLIP's
    prompt ensembling (Radford et al. 2021, section 3.1.4), here with the captions' own grammar
    instead of "a photo of a {}".

    Returns ``{"accuracy": ..., "chance": 1 / classes, "classes": ...}``.
    """
    targets = image_set.attributes[attribute] if attribute in ATTRIBUTES else None
    classes = class_embeddings(model, attribute)
    predicted = (model.encode_images(image_set.images) @ classes.T).argmax(axis=1)
    return {
        "accuracy": float((predicted == np.asarray(targets)).mean()),
        "chance": 1.0 / len(classes),
        "classes": len(classes),
    }


def clip_score(model: DualEncoder, images: Any, prompts: Sequence[str]) -> np.ndarray:
    """CLIPScore of each (image, prompt) pair: ``2.5 * max(cos(image, prompt), 0)`` (Hessel et
    al. 2021), float32 (N,); its mean is the usual summary. Images as in
    :meth:`DualEncoder.encode_images`.

    Raises:
        ValueError: when the number of images differs from the number of prompts, or for a bad
            image batch or prompt.
    """
    if isinstance(prompts, str):
        raise TypeError(f"clip_score: pass a list of prompts, e.g. [{prompts!r}].")
    prompts = list(prompts)
    count = len(np.asarray(images)) if np.ndim(images) >= 1 else 0
    if count != len(prompts):
        raise ValueError(
            f"clip_score: {count} images but {len(prompts)} prompts; pass one prompt per image."
        )
    image_embeddings = model.encode_images(images)
    text_embeddings = model.encode_text(prompts)
    cosine = (image_embeddings * text_embeddings).sum(axis=1)
    return (CLIP_SCORE_WEIGHT * np.maximum(cosine, 0.0)).astype(np.float32)


def evaluation_record(model: DualEncoder, splits: Any, candidates: int = 100) -> dict[str, Any]:
    """Retrieval on each evaluation set and zero-shot accuracy per attribute on the seen set,
    rounded for a provenance record."""
    record: dict[str, Any] = {"retrieval": {}, "zero_shot": {}}
    for name, image_set in splits.evaluation_sets().items():
        scores = retrieval_accuracy(model, image_set, candidates=candidates)
        record["retrieval"][name] = {
            k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items()
        }
    for attribute in ATTRIBUTES:
        scores = zero_shot_accuracy(model, splits.seen, attribute)
        record["zero_shot"][attribute] = {k: round(v, 4) for k, v in scores.items()}
    return record


# --- Saving and the shipped model ----------------------------------------------------------------


def architecture_record(model: DualEncoder) -> dict[str, Any]:
    """What :func:`build_from_record` needs to rebuild ``model``, its vocabulary included."""
    return {
        "embedding_dim": EMBEDDING_DIM,
        "max_tokens": MAX_TOKENS,
        "text_width": TEXT_WIDTH,
        "text_heads": TEXT_HEADS,
        "text_ffn_width": TEXT_FFN_WIDTH,
        "text_blocks": TEXT_BLOCKS,
        "image_shape": list(IMAGE_SHAPE),
        "image_filters": list(IMAGE_FILTERS),
        "image_hidden": IMAGE_HIDDEN,
        "padding_id": PADDING_ID,
        "oov_id": OOV_ID,
        "vocabulary": list(model.tokenizer.vocabulary),
    }


def build_from_record(architecture: dict[str, Any]) -> DualEncoder:
    """An uncompiled :class:`DualEncoder` from an :func:`architecture_record`.

    Raises ValueError if the record describes another architecture than this module builds.
    """
    mine = architecture_record(build_dual_encoder(["a"]))
    for key, value in mine.items():
        if key != "vocabulary" and architecture.get(key) != value:
            raise ValueError(
                f"The record's {key} is {architecture.get(key)!r}, this version builds {value!r}."
            )
    return build_dual_encoder(architecture["vocabulary"])


def save_weights(model: DualEncoder, path: str | Path) -> None:
    """Write the encoders' weights and the temperature to ``path`` (.weights.h5), without the
    optimizer's state (a compiled model's ``save_weights`` would add Adam's two moments)."""
    bare = build_from_record(architecture_record(model))
    bare.set_weights(model.get_weights())
    bare.save_weights(path)


def load_pretrained(name: str = "clip_shapes32") -> tuple[DualEncoder, dict[str, Any]] | None:
    """(the shipped dual encoder, frozen (``trainable = False``), its provenance), or None
    when the files are not shipped.

    Raises ValueError for a name not in :data:`PRETRAINED_TEXT`.
    """
    if name not in PRETRAINED_TEXT:
        raise ValueError(
            f"Unknown pretrained text model {name!r}; choose one of {', '.join(PRETRAINED_TEXT)}."
        )
    record, weights = WEIGHTS_DIR / f"{name}.json", WEIGHTS_DIR / f"{name}.weights.h5"
    if not (record.exists() and weights.exists()):
        return None
    provenance = json.loads(record.read_text())
    model = build_from_record(provenance["architecture"])
    model.load_weights(weights)
    model.trainable = False
    return model, provenance


# --- The CLI's trainer ---------------------------------------------------------------------------


def train_cli(args: Any) -> int:
    """``python -m ganbook_utils train --model clip --out DIR [--export PREFIX]``.

    Trains the dual encoder on ``shapes.caption_splits(train_size, ...).train`` (seed 0: no
    held-out composition or phrasing), resumable from DIR's checkpoint; the provenance records
    the command, profile, data, steps, wall time, final loss, temperature, retrieval among 100
    on the three evaluation sets and zero-shot accuracies. Returns the exit status.
    """
    import shlex

    from ganbook_utils import cli, shapes, training

    profile = cli._train_profile(args)
    out = cli._run_directory(args)
    steps = cli._default(args.steps, profile.text_encoder_steps)
    batch_size = cli._default(args.batch_size, CLIP_DEFAULTS["batch_size"])
    train_size = cli._default(args.train_size, profile.text_encoder_train_size)
    eval_size = profile.text_encoder_eval_size
    settings = cli._resumed_settings(
        args, cli._saved_run(out), {**CLIP_DEFAULTS, "steps_per_epoch": max(1, steps // 20)}
    )
    keras.utils.set_random_seed(args.seed)
    splits = shapes.caption_splits(train_size, eval_size, seed=0)
    model = build_dual_encoder(caption_vocabulary(splits.train.captions), seed=args.seed)
    model.compile(keras.optimizers.Adam(settings["learning_rate"], beta_1=settings["beta_1"]))
    if batch_size > train_size:
        raise cli.UsageError(f"--batch-size {batch_size} exceeds --train-size {train_size}.")
    pipeline = make_pipeline(model, splits.train, batch_size, seed=args.seed)
    cli._record_command(training, out, args)
    result = training.fit_resumable(
        model,
        pipeline,
        steps,
        out,
        steps_per_epoch=settings["steps_per_epoch"],
        sample_grid=False,
        progress=not args.quiet,
    )
    if result["diverged"]:
        return 1  # the DivergenceGuard has printed why
    weights = out / "clip.weights.h5"
    cli._save_weights_atomic(lambda path: save_weights(model, path), weights)
    history = result["history"]
    ran = training.optimizer_settings(model)["optimizer"]
    evaluation = evaluation_record(model, splits)
    provenance = {
        "command": "python -m ganbook_utils " + shlex.join(args.argv),
        "profile": profile.name,
        "model": "clip",
        "architecture": architecture_record(model),
        "learning_rate": ran["learning_rate"],
        "beta_1": ran["beta_1"],
        "batch_size": batch_size,
        "steps_per_epoch": settings["steps_per_epoch"],
        "data": {
            "name": "shapes32 captions",
            "source": "ganbook_utils.shapes.caption_splits (procedural, seed 0)",
            "description": (
                "caption_splits(...).train: seen (shape, colour) pairs and training phrasings; "
                "evaluated on fresh seen / held-out-phrasing / held-out-composition sets"
            ),
            "train_images": train_size,
            "eval_images_per_set": eval_size,
            "held_out_compositions": [list(pair) for pair in shapes.HELD_OUT_COMPOSITIONS],
            "held_out_caption_templates": list(shapes.HELD_OUT_CAPTION_TEMPLATES),
        },
        "steps": result["step"],
        "seed": args.seed,
        "wall_time_s": round(result["wall_time_s"], 1),
        "final_losses": {k: v[-1] for k, v in history.items() if k != "step" and v},
        # The training curve: loss and logit scale at the end of each epoch, by global step.
        "history": {
            k: [int(x) if k == "step" else round(float(x), 5) for x in v]
            for k, v in history.items()
        },
        "temperature": round(1.0 / model.scale, 5),
        "logit_scale": round(model.scale, 4),
        **evaluation,
        "parameters": {
            "text_encoder": int(model.text_encoder.count_params()),
            "image_encoder": int(model.image_encoder.count_params()),
        },
    }
    seen = evaluation["retrieval"]["seen"]
    print(
        f"Trained {result['step']} steps in {result['wall_time_s']:.0f} s; caption->image "
        f"top-1 {seen['caption_to_image_top1']:.1%} / top-5 {seen['caption_to_image_top5']:.1%} "
        f"among {seen['candidates']} (seen); outputs in {out}/"
    )
    cli._write_outputs(out, provenance, weights, args.export)
    return 0
