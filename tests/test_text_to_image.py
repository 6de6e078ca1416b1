"""Tests of the text-to-image pipeline, its adherence evaluation and the diffusion trainer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganbook_utils import cli, data, judge, shapes, text, text_to_image

ATTRIBUTES = text_to_image.ATTRIBUTES
PROMPT = "a small red circle in the top left corner"


@pytest.fixture(scope="module")
def encoder():
    """An untrained dual encoder over the training captions' words (its tokenizer is real)."""
    captions = shapes.caption_splits(400, 10, seed=0).train.captions
    return text.build_dual_encoder(text.caption_vocabulary(captions))


@pytest.fixture(scope="module")
def tiny_model():
    return text_to_image.build_text_diffusion((8, 16), sampling_steps=2, guidance=None, seed=0)


# --- Stand-ins with exact answers: a generator that draws the real image of each caption and a
# --- judge that reads a real image's attributes exactly (by looking it up).


class AttributeEncoder:
    """Captions -> one-hot blocks of their attributes (shape, colour, size, position)."""

    def __init__(self, image_set):
        self.attributes = {}
        for index, caption in enumerate(image_set.captions):
            self.attributes[caption] = [int(image_set.attributes[a][index]) for a in ATTRIBUTES]

    def encode_text(self, prompts):
        rows = np.zeros((len(prompts), 64), np.float32)
        offsets = np.cumsum([0, 4, 8, 3])
        for row, prompt in enumerate(prompts):
            for offset, value in zip(offsets, self.attributes[prompt], strict=True):
                rows[row, offset + value] = 1.0
        return rows / 2.0  # four ones: unit length


class RenderingGenerator:
    """Embeddings -> the real image of those attributes (a perfect generator)."""

    def __init__(self, image_set):
        keys = np.stack([image_set.attributes[a] for a in ATTRIBUTES], axis=1)
        self.bank = {tuple(key): image for key, image in zip(keys, image_set.images, strict=True)}

    def sample(self, n, seed=0, labels=None):
        offsets = np.cumsum([0, 4, 8, 3])
        sizes = (4, 8, 3, 9)
        images = []
        for row in np.asarray(labels):
            key = tuple(int(row[o : o + k].argmax()) for o, k in zip(offsets, sizes, strict=True))
            images.append(self.bank[key])
        return data.normalize_images(np.stack(images))


class LookupJudge:
    """Reads the attributes of a real render exactly, by finding its pixels."""

    def __init__(self, image_set):
        self.table = {
            image.tobytes(): [int(image_set.attributes[a][i]) for a in ATTRIBUTES]
            for i, image in enumerate(image_set.images)
        }

    def read(self, images):
        images = np.asarray(images)
        pixels = images if images.dtype == np.uint8 else data.denormalize_images(images)
        rows = np.array([self.table[image.tobytes()] for image in pixels])
        return {a: rows[:, k] for k, a in enumerate(ATTRIBUTES)}


@pytest.fixture(scope="module")
def perfect():
    evaluation = shapes.make_shapes(600, seed=3, compositions=shapes.seen_compositions())
    pipeline = text_to_image.TextToImage(
        RenderingGenerator(evaluation), AttributeEncoder(evaluation)
    )
    return pipeline, evaluation, LookupJudge(evaluation)


def test_a_perfect_generator_adheres_fully_and_the_shuffled_control_is_near_chance(perfect):
    pipeline, evaluation, reader = perfect
    right = text_to_image.evaluate_adherence(pipeline, evaluation, reader)
    assert right["count"] == 600
    for key in (*ATTRIBUTES, "all_four"):
        assert right[key] == 1.0
    control = text_to_image.evaluate_adherence(pipeline, evaluation, reader, shuffle=True)
    for attribute in ATTRIBUTES:
        assert abs(control[attribute] - judge.CHANCE[attribute]) < 0.08, (attribute, control)
    assert control["all_four"] < 0.02
    assert control["shuffled"] and not right["shuffled"]


def test_adherence_table_has_the_chapters_rows(perfect):
    pipeline, evaluation, reader = perfect
    sets = {"seen": evaluation, "held-out phrasing": evaluation.subset(slice(0, 50))}
    rows = text_to_image.adherence_table(pipeline, sets, reader, samples=300)
    assert [row["set"] for row in rows] == [
        "real images (judge)",
        "seen",
        "held-out phrasing",
        "shuffled control",
    ]
    assert rows[0]["all_four"] == rows[1]["all_four"] == 1.0
    assert rows[1]["count"] == 300 and rows[2]["count"] == 50
    assert rows[-1]["all_four"] < 0.05
    table = text_to_image.format_table(rows)
    assert "shuffled control" in table and "100.0 %" in table


def test_shuffled_order_is_a_permutation_without_fixed_points():
    for seed in range(5):
        order = text_to_image.shuffled_order(50, seed)
        assert sorted(order) == list(range(50))
        assert np.all(order != np.arange(50))


def test_generate_gives_one_image_per_prompt_in_range_and_fixed_by_the_seed(tiny_model, encoder):
    pipeline = text_to_image.TextToImage(tiny_model, encoder)
    prompts = [PROMPT, "a large blue square in the center", PROMPT]
    images = pipeline.generate(prompts, seed=0)
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1
    np.testing.assert_array_equal(images, pipeline.generate(prompts, seed=0))
    assert not np.allclose(images, pipeline.generate(prompts, seed=1))
    assert pipeline.generate(PROMPT).shape == (1, 32, 32, 3)  # one string is one prompt


def test_generate_equals_the_generator_fed_the_encoders_embeddings(tiny_model, encoder):
    pipeline = text_to_image.TextToImage(tiny_model, encoder)
    prompts = [PROMPT, "a large blue square in the center"]
    embeddings = encoder.encode_text(prompts)
    np.testing.assert_allclose(
        pipeline.generate(prompts, seed=4),
        tiny_model.sample(2, seed=4, labels=embeddings),
        atol=1e-6,
    )


def test_large_generations_go_in_blocks_with_the_first_block_unchanged(
    tiny_model, encoder, monkeypatch
):
    pipeline = text_to_image.TextToImage(tiny_model, encoder)
    prompts = [PROMPT] * 5
    whole = pipeline.generate(prompts, seed=2)
    monkeypatch.setattr(text_to_image, "GENERATION_CHUNK", 2)
    blocks = pipeline.generate(prompts, seed=2)
    np.testing.assert_allclose(blocks[:2], whole[:2], atol=1e-6)
    assert not np.allclose(blocks[2:4], blocks[:2])  # another block, other noise


def test_guidance_zero_equals_the_conditional_model(tiny_model, encoder):
    embeddings = encoder.encode_text([PROMPT, "a large blue square in the center"])
    conditional = tiny_model.sample(2, seed=0, labels=embeddings)
    guided = tiny_model.sample(2, seed=0, labels=embeddings, guidance=0.0)
    np.testing.assert_allclose(conditional, guided, atol=1e-5)
    pipeline = text_to_image.TextToImage(tiny_model, encoder)
    np.testing.assert_allclose(
        pipeline.generate([PROMPT], guidance=0.0), conditional[:1], atol=1e-5
    )
    # A trained-looking net (random output layer) makes w visible. (At width 8 every GroupNorm
    # group holds one channel, which removes the condition's per-channel shift: hence 8, 16.)
    out = tiny_model.denoiser.get_layer("out")
    saved = [w.copy() for w in out.get_weights()]
    rng = np.random.default_rng(0)
    out.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32) for w in saved])
    try:
        plain = pipeline.generate([PROMPT], guidance=0.0)
        strong = pipeline.generate([PROMPT], guidance=3.0)
        assert not np.allclose(plain, strong, atol=1e-3)
    finally:
        out.set_weights(saved)


def test_stages_show_each_step_of_the_pipeline(tiny_model, encoder):
    pipeline = text_to_image.TextToImage(tiny_model, encoder)
    with pytest.warns(text_to_image.UnknownWordsWarning, match="'please'"):
        stages = pipeline.stages("a small red circle in the top left corner, please")
    assert stages["tokens"][-1] == "please"
    assert stages["ids"].shape == (text.MAX_TOKENS,)
    assert stages["ids"][len(stages["tokens"]) - 1] == text.OOV_ID  # "please" is unknown
    assert stages["decoded"].endswith("[UNK]")
    assert stages["embedding"].shape == (64,)
    assert abs(np.linalg.norm(stages["embedding"]) - 1) < 1e-4
    assert stages["image"].shape == (32, 32, 3)


def test_unknown_words_are_named_in_a_warning_and_known_prompts_pass_quietly(tiny_model, encoder):
    import warnings

    pipeline = text_to_image.TextToImage(tiny_model, encoder)
    with pytest.warns(text_to_image.UnknownWordsWarning, match="'please'.*rewrite=True"):
        pipeline.embed(["a small red circle in the top left corner, please"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", text_to_image.UnknownWordsWarning)
        pipeline.embed(["a small red circle in the top left corner"])


def test_rewrite_passes_the_prompt_through_the_rewriter(tiny_model, encoder):
    calls = []

    def rewriter(prompt):
        calls.append(prompt)
        return PROMPT

    pipeline = text_to_image.TextToImage(tiny_model, encoder, rewriter=rewriter)
    stages = pipeline.stages("a ruby disk", rewrite=True)
    assert calls == ["a ruby disk"] and stages["caption"] == PROMPT
    np.testing.assert_allclose(
        pipeline.generate(["zzz"], rewrite=True), pipeline.generate([PROMPT]), atol=1e-6
    )


@pytest.mark.parametrize(
    ("prompt", "message"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("zebra xylophone", "only unknown words (xylophone, zebra)"),
        (" ".join(["red"] * (text.MAX_TOKENS + 1)), f"MAX_TOKENS = {text.MAX_TOKENS}"),
    ],
)
def test_bad_prompts_raise_one_clear_message(tiny_model, encoder, prompt, message):
    pipeline = text_to_image.TextToImage(tiny_model, encoder)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        pipeline.generate([prompt])
    assert "\n" not in str(info.value)
    if "unknown" in message:
        assert "rewrite" in str(info.value)


def test_no_prompts_and_non_strings_are_refused(tiny_model, encoder):
    pipeline = text_to_image.TextToImage(tiny_model, encoder)
    with pytest.raises(ValueError, match="no prompts"):
        pipeline.generate([])
    with pytest.raises(TypeError, match="not a string"):
        pipeline.generate([PROMPT, 3])


def test_a_gan_takes_no_guidance(encoder):
    class GAN:
        def sample(self, n, seed=0, labels=None):
            return np.zeros((n, 32, 32, 3), np.float32)

    pipeline = text_to_image.TextToImage(GAN(), encoder)
    assert pipeline.generate([PROMPT]).shape == (1, 32, 32, 3)
    with pytest.raises(ValueError, match="guidance is for the diffusion model"):
        pipeline.generate([PROMPT], guidance=1.0)


def test_images_of_the_wrong_size_are_refused(encoder, perfect):
    class WrongSize:
        def sample(self, n, seed=0, labels=None):
            return np.zeros((n, 28, 28, 1), np.float32)

    with pytest.raises(ValueError, match=r"\(28, 28, 1\).*\(32, 32, 3\)"):
        text_to_image.TextToImage(WrongSize(), encoder).generate([PROMPT])
    pipeline, _, reader = perfect
    big = shapes.make_shapes(4, image_size=64, seed=0)
    with pytest.raises(ValueError, match=r"\(64, 64, 3\).*image_size=32"):
        text_to_image.evaluate_adherence(pipeline, big, reader)
    uncaptioned = data.ImageSet(images=big.images[:, :32, :32])
    with pytest.raises(ValueError, match="captioned set"):
        text_to_image.evaluate_adherence(pipeline, uncaptioned, reader)


# --- Saving, loading and the CLI trainer --------------------------------------------------------


def export_encoder(encoder, folder, name="clip_shapes32"):
    """Write ``encoder`` as a shipped text encoder would be (weights + provenance)."""
    folder.mkdir(parents=True, exist_ok=True)
    encoder.save_weights(folder / f"{name}.weights.h5")
    record = {"architecture": text.architecture_record(encoder), "command": "test", "steps": 0}
    (folder / f"{name}.json").write_text(json.dumps(record))
    return folder / name


@pytest.mark.usefixtures("run_eagerly")
def test_train_cli_exports_a_model_that_loads_and_resumes(tmp_path, encoder, capsys):
    prefix = export_encoder(encoder, tmp_path / "encoder")
    out, export = tmp_path / "run", tmp_path / "export" / "diffusion_text_tiny"
    arguments = [
        "train",
        "--model",
        "diffusion_text",
        "--profile",
        "smoke",
        "--out",
        str(out),
        "--steps",
        "2",
        "--steps-per-epoch",
        "1",
        "--train-size",
        "64",
        "--batch-size",
        "16",
        "--width",
        "4",
        "--sampling-steps",
        "2",
        "--guidance",
        "1.5",
        "--text-encoder",
        str(prefix),
        "--export",
        str(export),
        "--quiet",
    ]
    assert cli.main(arguments) == 0
    provenance = json.loads((export.parent / "diffusion_text_tiny.json").read_text())
    assert provenance["steps"] == 2 and provenance["model"] == "diffusion_text"
    assert provenance["architecture"]["guidance"] == 1.5
    assert provenance["architecture"]["widths"] == [4, 8, 16]
    assert provenance["text_encoder"]["name"] == str(prefix)
    assert provenance["data"]["train_images"] == 64
    assert "loss" in provenance["final_losses"] and provenance["wall_time_s"] > 0
    assert "adherence_seen" in provenance
    model, loaded = text_to_image.load_pretrained("diffusion_text_tiny", weights_dir=export.parent)
    assert loaded == provenance and model.guidance == 1.5
    images = text_to_image.TextToImage(model, encoder).generate([PROMPT], seed=0)
    assert images.shape == (1, 32, 32, 3)
    assert (out / "samples.gif").exists()
    capsys.readouterr()
    # Run again: the checkpoint is complete, so nothing more is trained.
    assert cli.main(arguments) == 0
    assert json.loads((out / "provenance.json").read_text())["steps"] == 2


def test_train_cli_names_a_missing_text_encoder(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(
            [
                "train",
                "--model",
                "diffusion_text",
                "--profile",
                "smoke",
                "--out",
                str(tmp_path / "run"),
                "--text-encoder",
                str(tmp_path / "nothing"),
            ]
        )
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--text-encoder" in error and "not found" in error


def test_load_pretrained_refuses_unknown_names():
    with pytest.raises(ValueError, match="diffusion_text_shapes32"):
        text_to_image.load_pretrained("nope")
