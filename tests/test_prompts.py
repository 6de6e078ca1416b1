"""ganbook_utils.prompts: the synonym table, the rewriter, the language-model plug-in."""

import itertools

import pytest

from ganbook_utils import prompts, shapes

ALL = list(itertools.product(shapes.SHAPES, shapes.COLOUR_NAMES, shapes.SIZES, shapes.POSITIONS))


@pytest.mark.parametrize(
    "attribute, table",
    [
        ("shape", prompts.SHAPE_SYNONYMS),
        ("colour", prompts.COLOUR_SYNONYMS),
        ("size", prompts.SIZE_SYNONYMS),
    ],
)
def test_every_synonym_maps_to_its_canonical_word(attribute, table):
    for canonical, synonyms in table.items():
        for synonym in synonyms:
            assert prompts.parse_attributes(f"a {synonym} thing")[attribute] == canonical, synonym


def test_every_position_phrase_maps_to_its_position():
    sides = {**prompts.VERTICAL_SYNONYMS, **prompts.HORIZONTAL_SYNONYMS}
    for side, words in sides.items():
        for word in words:
            assert prompts.parse_attributes(f"in the {word}")["position"] == side, word
    for word in prompts.CENTRE_WORDS:
        assert prompts.parse_attributes(f"in the {word}")["position"] == "center", word
    for vertical, horizontal in itertools.product(
        prompts.VERTICAL_SYNONYMS["top"] + prompts.VERTICAL_SYNONYMS["bottom"],
        prompts.HORIZONTAL_SYNONYMS["left"] + prompts.HORIZONTAL_SYNONYMS["right"],
    ):
        expected = (
            ("top" if vertical in prompts.VERTICAL_SYNONYMS["top"] else "bottom")
            + " "
            + ("left" if horizontal in prompts.HORIZONTAL_SYNONYMS["left"] else "right")
        )
        got = prompts.parse_attributes(f"{vertical} in the {horizontal} corner")["position"]
        assert got == expected


def test_every_canonical_value_is_in_its_table():
    assert set(prompts.SHAPE_SYNONYMS) == set(shapes.SHAPES)
    assert set(prompts.COLOUR_SYNONYMS) == set(shapes.COLOUR_NAMES)
    assert set(prompts.SIZE_SYNONYMS) == set(shapes.SIZES)


def test_every_training_and_held_out_caption_parses_to_its_attributes():
    for shape, colour, size, position in ALL:
        expected = {"shape": shape, "colour": colour, "size": size, "position": position}
        for templates in (shapes.CAPTION_TEMPLATES, shapes.HELD_OUT_CAPTION_TEMPLATES):
            for caption in shapes.caption_variants(
                shape, colour, size, position, templates=templates
            ):
                assert prompts.parse_attributes(caption) == expected, caption


def test_the_chapter_example_and_free_form_prompts():
    assert (
        prompts.rewrite("draw me a big ruby disk up in the left corner")
        == "a large red circle in the top left corner"
    )
    assert prompts.parse_attributes("Tiny EMERALD box, lower-right!") == {
        "shape": "square",
        "colour": "green",
        "size": "small",
        "position": "bottom right",
    }
    assert prompts.parse_attributes("a sky blue ball")["colour"] == "cyan"  # longest phrase first
    assert prompts.parse_attributes("a red and blue circle")["colour"] == "red"  # first mention


def test_rewrite_emits_the_training_grammar_and_parses_back():
    for prompt in ("a circle", "crimson", "big", "upper left", "a huge wedge near the right"):
        for seed in range(5):
            rewritten = prompts.rewrite(prompt, seed=seed)
            attributes = prompts.parse_attributes(rewritten)
            assert None not in attributes.values()
            assert rewritten == shapes.caption_variants(**attributes)[0]  # CAPTION_TEMPLATES[0]
            asked = prompts.parse_attributes(prompt)
            assert all(asked[k] in (None, attributes[k]) for k in asked)


def test_rewrite_of_a_full_caption_is_that_caption_in_the_first_template():
    for shape, colour, size, position in ALL[::7]:
        for caption in shapes.caption_variants(shape, colour, size, position):
            assert (
                prompts.rewrite(caption)
                == shapes.caption_variants(shape, colour, size, position)[0]
            )


def test_filled_attributes_are_seeded_and_keep_compositions_seen():
    assert prompts.rewrite("a circle", seed=3) == prompts.rewrite("a circle", seed=3)
    fills = {prompts.rewrite("a circle", seed=seed) for seed in range(40)}
    assert len(fills) > 10
    seen = set(shapes.seen_compositions())
    for prompt in ("a circle", "a square", "something red", "a green thing", "large"):
        for seed in range(20):
            a = prompts.parse_attributes(prompts.rewrite(prompt, seed=seed))
            assert (a["shape"], a["colour"]) in seen
    # A held-out pair the user asks for is kept.
    assert prompts.parse_attributes(prompts.rewrite("a green circle"))["colour"] == "green"


@pytest.mark.parametrize("prompt", ["", "   ", "?!"])
def test_empty_prompts_raise(prompt):
    for function in (prompts.rewrite, prompts.parse_attributes):
        with pytest.raises(ValueError, match="is empty"):
            function(prompt)
    with pytest.raises(ValueError, match="is empty"):
        prompts.rewrite_with_language_model(prompt, lambda text: "a red circle")


def test_an_unreadable_prompt_raises_a_clear_message():
    with pytest.raises(ValueError, match="cannot read a shape, colour, size or position"):
        prompts.rewrite("hello world, how are you")
    assert set(prompts.parse_attributes("hello world").values()) == {None}
    with pytest.raises(TypeError, match="string"):
        prompts.rewrite(42)


def test_language_model_plug_in_builds_the_instruction_and_validates():
    seen_instructions = []

    def fake_model(instruction):
        seen_instructions.append(instruction)
        return ' Caption: "a large red circle in the top left corner"\nmore text'

    prompt = "draw me a big ruby disk up in the left corner"
    result = prompts.rewrite_with_language_model(prompt, fake_model)
    assert result == "a large red circle in the top left corner"
    (instruction,) = seen_instructions
    assert instruction.rstrip().endswith(f"Prompt: {prompt}\nCaption:")
    assert all(colour in instruction for colour in shapes.COLOUR_NAMES)
    for given, wanted in prompts.REWRITE_EXAMPLES:
        assert prompts.rewrite(given) == wanted  # the examples obey the grammar


def test_language_model_answers_that_break_the_grammar_fall_back_or_raise():
    prompt = "a big ruby disk"
    bad_answers = {
        "a circle": "names no colour, size, position",
        "a small red circle in the center": "changes what the prompt asked",
        "": "is empty",
    }
    for answer, problem in bad_answers.items():
        with pytest.warns(UserWarning, match=problem):
            assert prompts.rewrite_with_language_model(prompt, lambda t, a=answer: a) == (
                prompts.rewrite(prompt)
            )
        with pytest.raises(ValueError, match=problem):
            prompts.rewrite_with_language_model(prompt, lambda t, a=answer: a, fallback=False)
    with pytest.raises(TypeError, match="returned a NoneType"):
        prompts.rewrite_with_language_model(prompt, lambda t: None)


def test_the_rewriter_splits_words_as_the_text_encoder_does():
    from ganbook_utils import text

    for prompt in ("Top-left: a MID-SIZED red disc!", "near the lower right, a cyan rhombus"):
        assert prompts._words(prompt, "test") == text.standardize(prompt)
