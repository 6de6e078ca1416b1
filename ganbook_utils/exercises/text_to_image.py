"""Checks for the exercises of "Text to image: where language models come in".

Each check calls the student's function on fixed inputs and compares it with a reference
written here in NumPy (the symmetric InfoNCE loss, classifier-free guidance with the zero
vector as the null text embedding, a synonym table applied longest phrase first), naming
the usual mistake when it sees one.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from ganbook_utils.exercises import answer_of, exercise_check


def _as_array(result: object) -> np.ndarray:
    if hasattr(result, "numpy"):
        result = result.numpy()
    return np.asarray(result, dtype=np.float64)


def _call(function: Callable, *args: object) -> np.ndarray:
    assert callable(function), (
        f"Pass your function itself (not its result); got {type(function).__name__}."
    )
    return _as_array(answer_of(function, *args))


def _cross_entropy_of_the_diagonal(logits: np.ndarray) -> float:
    """Mean over rows of -log softmax(row)[i] for row i: the right partner is the diagonal."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(np.diag(log_softmax)))


def reference_info_nce(
    image_embeddings: np.ndarray, text_embeddings: np.ndarray, temperature: float
) -> float:
    """The symmetric InfoNCE loss of L2-normalised embeddings (N, d) at ``temperature``."""
    logits = np.asarray(image_embeddings) @ np.asarray(text_embeddings).T / temperature
    return 0.5 * (_cross_entropy_of_the_diagonal(logits) + _cross_entropy_of_the_diagonal(logits.T))


def _unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    rows = rng.standard_normal((n, d))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@exercise_check(
    "average the cross-entropy of logits = images @ texts.T / temperature over rows "
    "(image -> caption) and over columns (caption -> image)."
)
def check_info_nce(info_nce: Callable) -> str:
    """Check ``info_nce(image_embeddings, text_embeddings, temperature)`` -> a scalar loss."""
    rng = np.random.default_rng(0)
    images = _unit_rows(rng, 6, 5)
    # Captions near their images but not symmetric in the two directions: each direction's
    # cross-entropy differs, so a one-sided loss is told apart from the symmetric one.
    texts = images + 0.6 * rng.standard_normal(images.shape)
    texts[:, 0] += np.linspace(0.0, 2.0, len(texts))
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    temperature = 0.2
    answer = _call(info_nce, images, texts, temperature)
    assert answer.size == 1, (
        f"Return one number, the loss averaged over the batch; got shape {answer.shape}."
    )
    answer = float(answer.reshape(()))
    expected = reference_info_nce(images, texts, temperature)
    logits = images @ texts.T / temperature
    image_to_text = _cross_entropy_of_the_diagonal(logits)
    text_to_image = _cross_entropy_of_the_diagonal(logits.T)
    assert not (np.isclose(answer, image_to_text) or np.isclose(answer, text_to_image)), (
        "That is one direction only. CLIP's loss is symmetric: average the cross-entropy "
        "over rows (each image picks its caption) and over columns (each caption its image)."
    )
    assert not np.isclose(answer, reference_info_nce(images, texts, 1 / temperature)), (
        "Divide the similarities by the temperature (a small temperature sharpens the "
        "softmax); you multiplied."
    )
    assert not np.isclose(answer, reference_info_nce(images, texts, 1.0)), (
        "The temperature is missing: the logits are similarities / temperature."
    )
    assert not np.isclose(answer, len(images) * expected), (
        "Average over the batch instead of summing, so the loss does not grow with N."
    )
    assert np.isclose(answer, expected, rtol=1e-5), (
        f"Expected {expected:.4f}, got {answer:.4f}: the loss is the mean of -log softmax of "
        "the right partner, over rows and over columns, then the average of the two."
    )
    swapped = float(_call(info_nce, texts, images, temperature).reshape(()))
    assert np.isclose(swapped, answer, rtol=1e-5), (
        "Swapping images and captions must give the same loss (the loss is symmetric)."
    )
    matched = float(_call(info_nce, images, images, 0.01).reshape(()))
    assert matched < 0.05, (
        "Captions equal to their images at a low temperature must give a loss near 0; "
        f"yours gives {matched:.3f}."
    )
    return (
        "the symmetric InfoNCE: each image picks its caption among N, each caption its "
        "image, and the temperature sets how sharply."
    )


class _RecordingPredictor:
    """A stand-in network ``predict(x, t, condition)`` that remembers the conditions it got."""

    def __init__(self, weights: np.ndarray):
        self.weights = weights
        self.conditions: list[np.ndarray] = []

    def __call__(self, x, t, condition):
        condition = _as_array(condition)
        assert condition.ndim == 2 and condition.shape[1] == len(self.weights), (
            f"The network takes one condition vector of {len(self.weights)} numbers per "
            f"example, shape (n, {len(self.weights)}); it got shape {condition.shape}. The "
            "null condition is np.zeros_like(text_embedding)."
        )
        self.conditions.append(condition)
        return np.asarray(x) * (1.0 + np.asarray(t)[:, None]) + condition @ self.weights


@exercise_check(
    "predict with the text embedding and with the null condition (zeros shaped like it), "
    "then return cond + w * (cond - uncond)."
)
def check_text_guidance(guided_prediction: Callable) -> str:
    """Check ``guided_prediction(predict, x, t, text_embedding, w)`` -> the guided prediction.

    ``predict(x, t, condition)`` is the network; the null condition is the zero vector.
    """
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4))
    t = np.array([0.2, 0.5, 0.9])
    text_embedding = _unit_rows(rng, 3, 5)
    predictor = _RecordingPredictor(rng.standard_normal((5, 4)))
    cond = predictor(x, t, text_embedding)
    uncond = predictor(x, t, np.zeros_like(text_embedding))
    answers = {}
    for w in (0.0, 2.0):
        predictor.conditions = []
        answers[w] = _call(guided_prediction, predictor, x, t, text_embedding, w)
        assert answers[w].shape == cond.shape, (
            f"Return one prediction per example: shape {cond.shape}, not {answers[w].shape}."
        )
        seen = predictor.conditions
        if w > 0:
            null_rows = sum(int(np.sum(np.all(c == 0.0, axis=1))) for c in seen)
            assert null_rows >= len(text_embedding), (
                "Call the network with the null condition too: zeros shaped like the text "
                "embeddings, np.zeros_like(text_embedding) (what the model saw for dropped "
                "captions)."
            )
    assert np.allclose(answers[0.0], cond), (
        "With w = 0 the guided prediction must be the conditional one (the book's "
        "convention: uncond + s (cond - uncond) is the library form, s = 1 + w)."
    )
    assert not np.allclose(answers[2.0], cond + 2.0 * (uncond - cond)), (
        "The sign is flipped: guidance pushes away from the unconditional prediction."
    )
    assert np.allclose(answers[2.0], cond + 2.0 * (cond - uncond)), (
        "At w = 2 expected cond + w (cond - uncond) with uncond = predict(x, t, zeros)."
    )
    return (
        "two predictions, with the caption's embedding and with the zero vector, and the "
        "step moves w times further from the uncaptioned one."
    )


def reference_canonical_words(prompt: str, synonyms: dict[str, str]) -> str:
    """Lower-case ``prompt``, keep letters only, and replace every phrase of ``synonyms``
    (longest first, whole words only) by its canonical word; other words stay."""
    words = re.sub(r"[^a-z]+", " ", prompt.lower()).split()
    phrases = sorted(synonyms, key=lambda phrase: -len(phrase.split()))
    result, i = [], 0
    while i < len(words):
        for phrase in phrases:
            length = len(phrase.split())
            if words[i : i + length] == phrase.split():
                result.append(synonyms[phrase])
                i += length
                break
        else:
            result.append(words[i])
            i += 1
    return " ".join(result)


EXERCISE_SYNONYMS = {
    "big": "large",
    "tiny": "small",
    "ruby": "red",
    "crimson": "red",
    "disk": "circle",
    "round": "circle",
    "round dot": "circle",
    "box": "square",
    "up in the left corner": "top left",
    "upper left": "top left",
}
# (prompt, what the rewriter rule must make of it, what the case tests)
_CANONICAL_CASES = (
    ("a big ruby disk", "a large red circle", "one word at a time"),
    ("A Tiny Crimson Box", "a small red square", "upper-case letters"),
    ("a tiny round dot", "a small circle", "a longer phrase before its first word"),
    ("a big disk, up in the left corner!", "a large circle top left", "punctuation"),
    ("a bigger boxy disk", "a bigger boxy circle", "whole words only"),
    ("a violet diamond", "a violet diamond", "unknown words kept"),
)


@exercise_check(
    "lower-case the prompt, keep letters only, and replace each phrase of the table by its "
    "canonical word, longest phrase first and whole words only."
)
def check_canonical_words(canonical_words: Callable) -> str:
    """Check ``canonical_words(prompt, synonyms)`` -> the prompt in canonical words."""
    assert callable(canonical_words), (
        f"Pass your function itself (not its result); got {type(canonical_words).__name__}."
    )
    for prompt, expected, what in _CANONICAL_CASES:
        answer = answer_of(canonical_words, prompt, dict(EXERCISE_SYNONYMS))
        assert isinstance(answer, str), f"Return a string; got {type(answer).__name__}."
        answer = " ".join(answer.split())
        if answer == expected:
            continue
        hints = {
            "upper-case letters": "Lower-case the prompt first: 'Tiny' is the table's 'tiny'.",
            "a longer phrase before its first word": (
                "Try the longest phrases first: 'round dot' must become one 'circle', not "
                "'circle' for 'round' and then 'dot' left over."
            ),
            "punctuation": "Drop punctuation before matching: 'disk,' is the word 'disk'.",
            "whole words only": (
                "Match whole words only: 'bigger' is not 'big' + 'ger', and 'boxy' is not a 'box'."
            ),
            "unknown words kept": "Keep the words the table does not know, unchanged.",
        }
        raise AssertionError(
            f"{prompt!r} should give {expected!r}, not {answer!r}. "
            + hints.get(what, "Replace each table phrase by its canonical word.")
        )
    return (
        "every synonym becomes its canonical word, the longest phrase wins, and the rest "
        "of the prompt is left alone."
    )
