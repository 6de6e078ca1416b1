"""The text-to-image chapter's exercise checks: the reference solutions pass (strict), stubs
are "not yet", and the usual wrong answers are "wrong" with a hint that names the mistake."""

from __future__ import annotations

import re

import numpy as np
import pytest

from ganbook_utils import text
from ganbook_utils.exercises.text_to_image import (
    _CANONICAL_CASES,
    EXERCISE_SYNONYMS,
    check_canonical_words,
    check_info_nce,
    check_text_guidance,
    reference_canonical_words,
    reference_info_nce,
)

# --- The reference solutions: the code of the chapter's solution dropdowns. -----------------


def info_nce(image_embeddings, text_embeddings, temperature):
    logits = image_embeddings @ text_embeddings.T / temperature
    n = len(logits)

    def cross_entropy(rows):
        rows = rows - rows.max(axis=1, keepdims=True)
        log_softmax = rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))
        return -log_softmax[np.arange(n), np.arange(n)].mean()

    return (cross_entropy(logits) + cross_entropy(logits.T)) / 2


def guided_prediction(predict, x, t, text_embedding, w):
    cond = predict(x, t, text_embedding)
    uncond = predict(x, t, np.zeros_like(text_embedding))
    return cond + w * (cond - uncond)


def canonical_words(prompt, synonyms):
    words = re.sub(r"[^a-z]+", " ", prompt.lower()).split()
    phrases = sorted(synonyms, key=lambda phrase: len(phrase.split()), reverse=True)
    result, i = [], 0
    while i < len(words):
        match = next((p for p in phrases if words[i : i + len(p.split())] == p.split()), None)
        result.append(synonyms[match] if match else words[i])
        i += len(match.split()) if match else 1
    return " ".join(result)


def canonical_words_by_regex(prompt, synonyms):
    """A second correct answer: one regular expression, longest alternatives first."""
    text = " ".join(re.sub(r"[^a-z]+", " ", prompt.lower()).split())
    phrases = sorted(synonyms, key=len, reverse=True)
    pattern = r"\b(" + "|".join(map(re.escape, phrases)) + r")\b"
    return re.sub(pattern, lambda match: synonyms[match.group(1)], text)


def guided_prediction_in_one_batch(predict, x, t, text_embedding, w):
    """A second correct answer: both predictions from one call on a doubled batch."""
    both = predict(
        np.concatenate([x, x]),
        np.concatenate([t, t]),
        np.concatenate([text_embedding, np.zeros_like(text_embedding)]),
    )
    cond, uncond = both[: len(x)], both[len(x) :]
    return cond + w * (cond - uncond)


def package_info_nce(image_embeddings, text_embeddings, temperature):
    """The package's loss, which takes log(1 / temperature) (the parameter CLIP learns)."""
    return float(text.info_nce_loss(image_embeddings, text_embeddings, np.log(1 / temperature)))


def stub(*arguments): ...  # what the exercise cell holds before the student writes anything


def not_implemented(*arguments):
    raise NotImplementedError


CHECKS = [check_info_nce, check_text_guidance, check_canonical_words]


@pytest.mark.parametrize(
    ("check", "solution"),
    [
        (check_info_nce, info_nce),
        (check_info_nce, reference_info_nce),
        (check_info_nce, package_info_nce),
        (check_text_guidance, guided_prediction),
        (check_text_guidance, guided_prediction_in_one_batch),
        (check_canonical_words, canonical_words),
        (check_canonical_words, canonical_words_by_regex),
        (check_canonical_words, reference_canonical_words),
    ],
)
def test_the_reference_solutions_pass(check, solution, capsys):
    assert check(solution, strict=True).status == "right"
    assert capsys.readouterr().out.startswith("Right:")


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("answer", [stub, not_implemented, ...])
def test_a_stub_is_not_yet(check, answer, capsys):
    assert check(answer).status == "not yet"
    assert capsys.readouterr().out.startswith("Not yet:")


def _wrong(check, answer, hint):
    verdict = check(answer)
    assert verdict.status == "wrong", verdict
    assert hint in verdict.message


def _cross_entropy(rows):
    rows = rows - rows.max(axis=1, keepdims=True)
    return -np.mean(np.diag(rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))))


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda i, t, tau: _cross_entropy(i @ t.T / tau), "one direction only"),
        (lambda i, t, tau: _cross_entropy(t @ i.T / tau), "one direction only"),
        (lambda i, t, tau: info_nce(i, t, 1 / tau), "you multiplied"),
        (lambda i, t, tau: info_nce(i, t, 1.0), "temperature is missing"),
        (lambda i, t, tau: len(i) * info_nce(i, t, tau), "instead of summing"),
        (lambda i, t, tau: np.full(len(i), info_nce(i, t, tau)), "Return one number"),
        (lambda i, t, tau: info_nce(i, t, tau) + 0.1, "Expected"),
        (np.float64(1.0), "function itself"),
    ],
)
def test_info_nce_wrong_answers(answer, hint):
    _wrong(check_info_nce, answer, hint)


def test_the_info_nce_reference_is_symmetric_and_its_definition():
    rng = np.random.default_rng(3)
    images, texts = rng.standard_normal((2, 4, 3))
    images /= np.linalg.norm(images, axis=1, keepdims=True)
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    loss = reference_info_nce(images, texts, 0.5)
    assert loss == pytest.approx(reference_info_nce(texts, images, 0.5))
    logits = images @ texts.T / 0.5
    by_hand = 0.0
    for i in range(4):
        by_hand -= np.log(np.exp(logits[i, i]) / np.exp(logits[i]).sum()) / 8
        by_hand -= np.log(np.exp(logits[i, i]) / np.exp(logits[:, i]).sum()) / 8
    assert loss == pytest.approx(by_hand)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (
            lambda p, x, t, e, w: (
                p(x, t, np.zeros_like(e)) + w * (p(x, t, e) - p(x, t, np.zeros_like(e)))
            ),
            "w = 0",
        ),
        (
            lambda p, x, t, e, w: p(x, t, e) + w * (p(x, t, np.zeros_like(e)) - p(x, t, e)),
            "sign is flipped",
        ),
        (lambda p, x, t, e, w: (1 + w) * p(x, t, e), "null condition too"),
        (lambda p, x, t, e, w: p(x, t, e) + w * (p(x, t, e) - p(x, t, -e)), "null condition"),
        (lambda p, x, t, e, w: p(x, t, e) - w * p(x, t, None), "one condition vector"),
        (lambda p, x, t, e, w: p(x, t, e)[0], "one prediction per example"),
    ],
)
def test_text_guidance_wrong_answers(answer, hint):
    _wrong(check_text_guidance, answer, hint)


def test_the_canonical_cases_are_what_the_reference_gives():
    for prompt, expected, _ in _CANONICAL_CASES:
        assert reference_canonical_words(prompt, EXERCISE_SYNONYMS) == expected


def _word_by_word(prompt, synonyms):
    words = re.sub(r"[^a-z]+", " ", prompt.lower()).split()
    return " ".join(synonyms.get(word, word) for word in words)


def _keeps_punctuation(prompt, synonyms):
    """Phrases longest first, but 'disk,' and 'corner!' are never matched."""
    words, result, i = prompt.lower().split(), [], 0
    phrases = sorted(synonyms, key=lambda phrase: len(phrase.split()), reverse=True)
    while i < len(words):
        match = next((f for f in phrases if words[i : i + len(f.split())] == f.split()), None)
        result.append(synonyms[match] if match else words[i])
        i += len(match.split()) if match else 1
    return " ".join(result)


def _string_replace(prompt, synonyms):
    text = re.sub(r"[^a-z]+", " ", prompt.lower())
    for phrase, word in sorted(synonyms.items(), key=lambda item: -len(item[0])):
        text = text.replace(phrase, word)
    return text


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda p, s: canonical_words(p.lower(), s).upper(), "should give"),
        (lambda p, s: canonical_words(p, s) if p.islower() else p, "Lower-case"),
        (_word_by_word, "longest phrases first"),
        (lambda p, s: " ".join(s.get(w, w) for w in p.lower().split()), "longest phrases"),
        (_keeps_punctuation, "punctuation"),
        (_string_replace, "whole words only"),
        (lambda p, s: canonical_words(p, s).replace("violet", "purple"), "unchanged"),
        (lambda p, s: 42, "Return a string"),
    ],
)
def test_canonical_words_wrong_answers(answer, hint):
    _wrong(check_canonical_words, answer, hint)


def test_strict_raises_on_a_wrong_answer():
    with pytest.raises(AssertionError, match="Not quite"):
        check_info_nce(lambda i, t, tau: 0.0, strict=True)
