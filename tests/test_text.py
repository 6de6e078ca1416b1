"""ganbook_utils.text: tokenizer, InfoNCE, the dual encoder's training, evaluation, bad input."""

import json

import numpy as np
import pytest

from ganbook_utils import cli, shapes, text


@pytest.fixture(scope="module")
def splits():
    return shapes.caption_splits(512, 200, seed=0)


@pytest.fixture(scope="module")
def tokenizer(splits):
    return text.Tokenizer(text.caption_vocabulary(splits.train.captions))


@pytest.fixture(scope="module")
def untrained(splits):
    return text.build_dual_encoder(text.caption_vocabulary(splits.train.captions))


# --- InfoNCE -------------------------------------------------------------------------------------


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _info_nce_by_definition(images, texts, log_scale):
    logits = np.exp(log_scale) * images @ texts.T
    rows = -np.mean(np.diag(logits) - np.log(np.exp(logits).sum(axis=1)))
    columns = -np.mean(np.diag(logits) - np.log(np.exp(logits).sum(axis=0)))
    return (rows + columns) / 2


def test_info_nce_equals_its_definition_and_is_symmetric():
    rng = np.random.default_rng(0)
    images = _unit(rng.normal(size=(5, 8))).astype(np.float32)
    texts = _unit(rng.normal(size=(5, 8))).astype(np.float32)
    for log_scale in (0.0, np.log(1 / 0.07), np.log(100.0)):
        expected = _info_nce_by_definition(images.astype(np.float64), texts, log_scale)
        loss = float(text.info_nce_loss(images, texts, log_scale))
        assert loss == pytest.approx(expected, rel=1e-5)
        assert float(text.info_nce_loss(texts, images, log_scale)) == pytest.approx(loss, rel=1e-6)


def test_info_nce_of_perfect_pairs_falls_with_the_scale():
    pairs = np.eye(4, dtype=np.float32)
    low, high = (float(text.info_nce_loss(pairs, pairs, s)) for s in (0.0, np.log(100.0)))
    assert low == pytest.approx(np.log(np.e + 3) - 1, rel=1e-5)  # logits = identity
    assert high < 1e-6 < low


# --- Tokenizer ----------------------------------------------------------------------------------


def test_vocabulary_is_the_words_of_the_training_captions(splits, tokenizer):
    words = {w for c in splits.train.captions for w in text.standardize(c)}
    assert tokenizer.vocabulary == sorted(words)
    assert tokenizer.vocabulary_size == len(words) + 2


def test_tokenizer_round_trips_the_caption_grammar(tokenizer):
    captions = [
        caption
        for shape in shapes.SHAPES
        for colour in shapes.COLOUR_NAMES
        for size in shapes.SIZES
        for position in shapes.POSITIONS
        for templates in (shapes.CAPTION_TEMPLATES, shapes.HELD_OUT_CAPTION_TEMPLATES)
        for caption in shapes.caption_variants(shape, colour, size, position, templates=templates)
    ]
    tokens = tokenizer(captions)
    assert tokens.shape == (len(captions), text.MAX_TOKENS) and tokens.dtype == np.int32
    assert not (tokens == text.OOV_ID).any()  # held-out phrasings use only known words too
    assert tokenizer.decode(tokens) == [" ".join(text.standardize(c)) for c in captions]
    lengths = (tokens != text.PADDING_ID).sum(axis=1)
    assert (tokens[np.arange(len(tokens)), lengths - 1] != text.PADDING_ID).all()
    assert all((row[n:] == text.PADDING_ID).all() for row, n in zip(tokens, lengths, strict=True))


def test_unknown_words_map_to_the_oov_id(tokenizer):
    tokens = tokenizer(["a crimson circle"])[0]
    assert tokens[1] == text.OOV_ID
    assert tokens[0] == tokenizer.vocabulary.index("a") + 2
    assert tokens[2] == tokenizer.vocabulary.index("circle") + 2
    assert (tokens[3:] == text.PADDING_ID).all()
    assert tokenizer.decode([tokens]) == ["a [UNK] circle"]


# --- Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt, message",
    [
        ("", "is empty"),
        ("  , ", "is empty"),
        (
            "xyzzy frobnicate",
            r"only unknown words \(frobnicate, xyzzy\).*prompts.rewrite.*--rewrite",
        ),
        (" ".join(["red"] * (text.MAX_TOKENS + 1)), f"more than .* MAX_TOKENS = {text.MAX_TOKENS}"),
    ],
)
def test_bad_prompts_raise_one_clear_message(untrained, prompt, message):
    with pytest.raises(ValueError, match=message):
        untrained.encode_text([prompt])


def test_a_prompt_must_come_in_a_list(untrained):
    with pytest.raises(TypeError, match="list of prompts"):
        untrained.encode_text("a red circle")
    with pytest.raises(ValueError, match="no prompts"):
        untrained.encode_text([])


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 28, 28, 3), np.uint8), r"\(N, 32, 32, 3\)"),
        (np.zeros((2, 32, 32, 1), np.uint8), r"\(N, 32, 32, 3\)"),
        (np.zeros((32, 32, 3), np.uint8), "one image"),
        (np.full((2, 32, 32, 3), 255.0, np.float32), r"in \[-1, 1\]"),
        (np.zeros((2, 32, 32, 3), np.int32), "uint8"),
    ],
)
def test_bad_images_raise_one_clear_message(untrained, images, message):
    with pytest.raises(ValueError, match=message):
        untrained.encode_images(images)


def test_clip_score_needs_one_prompt_per_image(untrained, splits):
    with pytest.raises(ValueError, match="3 images but 2 prompts"):
        text.clip_score(untrained, splits.seen.images[:3], splits.seen.captions[:2])


def test_encodings_are_unit_vectors_and_uint8_equals_float(untrained, splits):
    images = splits.seen.images[:6]
    by_uint8 = untrained.encode_images(images)
    by_float = untrained.encode_images(images.astype(np.float32) / 127.5 - 1)
    assert by_uint8.shape == (6, text.EMBEDDING_DIM) and by_uint8.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(by_uint8, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(by_uint8, by_float, atol=1e-5)
    prompts = untrained.encode_text(splits.seen.captions[:6])
    np.testing.assert_allclose(np.linalg.norm(prompts, axis=1), 1.0, atol=1e-5)


def test_class_prompts_ensemble_every_phrasing_and_other_attribute():
    prompts = text.class_prompts("colour")
    assert list(prompts) == list(shapes.COLOUR_NAMES)
    per_class = len(shapes.SHAPES) * len(shapes.SIZES) * len(shapes.POSITIONS)
    assert all(len(p) == per_class * len(shapes.CAPTION_TEMPLATES) for p in prompts.values())
    with pytest.raises(ValueError, match="Unknown attribute"):
        text.class_prompts("texture")


# --- A short training run (the CLI), retrieval above chance ------------------------------------


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("clip")
    argv = ["train", "--model", "clip", "--profile", "smoke", "--out", str(out / "run")]
    argv += ["--steps", "150", "--steps-per-epoch", "50", "--train-size", "2048"]
    argv += ["--batch-size", "64", "--quiet"]
    argv += ["--export", str(out / "export" / "clip_test")]
    assert cli.main(argv) == 0
    return out


def test_a_short_run_raises_retrieval_above_chance(short_run):
    provenance = json.loads((short_run / "run" / cli.PROVENANCE_FILE).read_text())
    seen = provenance["retrieval"]["seen"]
    assert seen["candidates"] == 100 and seen["chance_top1"] == 0.01
    assert seen["caption_to_image_top1"] >= 0.2  # 20 times chance (the run measured 0.56)
    assert seen["caption_to_image_top5"] >= 0.5
    assert seen["image_to_caption_top1"] >= 0.2
    assert set(provenance["zero_shot"]) == set(text.ATTRIBUTES)
    assert provenance["steps"] == 150
    assert set(provenance["retrieval"]) == {"seen", "held-out phrasing", "held-out composition"}
    assert 0 < provenance["logit_scale"] <= 100
    for key in ("command", "profile", "data", "wall_time_s", "final_losses", "temperature"):
        assert key in provenance
    assert (short_run / "export" / "clip_test.weights.h5").exists()


def test_the_export_reloads_to_the_same_numbers(short_run, splits):
    record = json.loads((short_run / "export" / "clip_test.json").read_text())
    model = text.build_from_record(record["architecture"])
    model.load_weights(short_run / "export" / "clip_test.weights.h5")
    scores = text.retrieval_accuracy(model, splits.seen)  # the same seen set (200 images)
    assert scores["caption_to_image_top1"] == pytest.approx(
        record["retrieval"]["seen"]["caption_to_image_top1"], abs=1e-3
    )


def test_a_resumed_run_continues_from_its_checkpoint(short_run):
    argv = ["train", "--model", "clip", "--profile", "smoke", "--out", str(short_run / "run")]
    argv += ["--steps", "150", "--steps-per-epoch", "50", "--train-size", "2048"]
    argv += ["--batch-size", "64", "--quiet"]
    assert cli.main(argv) == 0  # nothing left to train: the checkpoint is at step 150
    provenance = json.loads((short_run / "run" / cli.PROVENANCE_FILE).read_text())
    assert provenance["steps"] == 150


# --- The shipped encoder ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pretrained():
    loaded = text.load_pretrained()
    if loaded is None:
        pytest.skip("clip_shapes32 is not shipped in ganbook_utils/weights/")
    return loaded


def test_load_pretrained_gives_the_recorded_retrieval(pretrained):
    model, provenance = pretrained
    assert not model.trainable and not model.trainable_weights
    eval_size = provenance["data"]["eval_images_per_set"]
    evaluation = shapes.caption_splits(1, eval_size, seed=0).evaluation_sets()
    for name in ("seen", "held-out composition"):
        scores = text.retrieval_accuracy(model, evaluation[name])
        for key in ("caption_to_image_top1", "image_to_caption_top5"):
            assert scores[key] == pytest.approx(provenance["retrieval"][name][key], abs=0.005)
    assert provenance["retrieval"]["seen"]["caption_to_image_top1"] >= 0.8
    ceiling = text.retrieval_accuracy(model, evaluation["seen"])["caption_to_image_ceiling_top1"]
    assert 0.9 < ceiling < 1  # same-attribute images in a group of 100 cap the strict top-1


def test_clip_score_prefers_the_matching_caption(pretrained, splits):
    model, _ = pretrained
    images, captions = splits.seen.images[:50], splits.seen.captions[:50]
    matching = text.clip_score(model, images, captions)
    shuffled = text.clip_score(model, images, captions[1:] + captions[:1])
    assert matching.shape == (50,) and (0 <= matching).all() and (matching <= 2.5).all()
    assert matching.mean() > shuffled.mean() + 0.3


def test_zero_shot_beats_chance_on_every_attribute(pretrained, splits):
    model, provenance = pretrained
    for attribute in text.ATTRIBUTES:
        scores = text.zero_shot_accuracy(model, splits.seen, attribute)
        assert scores["accuracy"] > 2 * scores["chance"]
        assert provenance["zero_shot"][attribute]["chance"] == pytest.approx(
            scores["chance"], abs=1e-3
        )


def test_load_pretrained_refuses_an_unknown_name():
    with pytest.raises(ValueError, match="clip_shapes32"):
        text.load_pretrained("clip_mnist")
