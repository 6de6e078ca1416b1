"""Prompt rewriting: free-form prompts into the caption grammar the models were trained on.

DALL-E 3's lesson (Betker et al. 2023): a text-to-image model follows prompts best when they
read like its training captions, so a language model rewrites what the user types into that
style first. Here a small rule-based rewriter stands in for the language model:

* :func:`parse_attributes` reads shape, colour, size and position from a prompt with a synonym
  table ("ruby", "crimson" -> red; "disk", "ball" -> circle; "huge" -> large; "up in the left
  corner" -> top left), longest phrase first;
* :func:`rewrite` fills what the prompt leaves open (seeded, see there) and writes the caption
  in the training grammar, ``shapes.CAPTION_TEMPLATES[0]``
  ("a large red circle in the top left corner");
* :func:`rewrite_with_language_model` is the one place a real language model plugs in: it
  builds the instruction, calls ``complete`` (any ``str -> str`` function, e.g. a call to an
  LLM API) and checks that the answer is a caption of the grammar. Nothing is downloaded.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import numpy as np

from ganbook_utils import checks, shapes

ATTRIBUTES = ("shape", "colour", "size", "position")

# Words and phrases -> the canonical value (the first word of each value's caption words).
SHAPE_SYNONYMS = {
    "circle": (
        "circle", "circles", "disc", "discs", "disk", "disks", "ball", "balls", "dot", "dots",
        "round dot", "round", "ring", "orb", "sphere", "spot", "blob",
    ),
    "square": ("square", "squares", "box", "boxes", "block", "blocks", "cube", "tile"),
    "triangle": ("triangle", "triangles", "wedge", "wedges", "pyramid", "cone", "arrowhead"),
    "diamond": ("diamond", "diamonds", "rhombus", "rhombi", "lozenge", "kite", "gem"),
}  # fmt: skip
COLOUR_SYNONYMS = {
    "red": ("red", "ruby", "crimson", "scarlet", "cherry", "vermilion", "maroon"),
    "orange": ("orange", "amber", "tangerine", "apricot", "pumpkin"),
    "yellow": ("yellow", "gold", "golden", "lemon", "mustard", "canary"),
    "green": ("green", "emerald", "lime", "jade", "olive", "leafy"),
    "cyan": ("cyan", "turquoise", "teal", "aqua", "aquamarine", "sky blue", "light blue"),
    "blue": ("blue", "navy", "azure", "cobalt", "sapphire", "indigo", "dark blue"),
    "purple": ("purple", "violet", "magenta", "lilac", "lavender", "plum", "mauve"),
    "white": ("white", "ivory", "snow", "snowy", "milky", "pearl"),
}
SIZE_SYNONYMS = {
    "small": ("small", "little", "tiny", "mini", "miniature", "wee", "smallish", "petite"),
    "medium": (
        "medium", "medium sized", "mid sized", "middle sized", "average sized", "average",
        "moderate", "normal sized", "regular",
    ),
    "large": ("large", "big", "huge", "giant", "enormous", "massive", "gigantic", "bigger"),
}  # fmt: skip
# Position words name an axis: the vertical side, the horizontal side, or the middle.
VERTICAL_SYNONYMS = {
    "top": ("top", "upper", "up", "above", "high", "north"),
    "bottom": ("bottom", "lower", "down", "below", "low", "south"),
}
HORIZONTAL_SYNONYMS = {
    "left": ("left", "leftmost", "west"),
    "right": ("right", "rightmost", "east"),
}
CENTRE_WORDS = ("center", "centre", "middle", "central", "centered", "centred")

_MEANINGS: dict[tuple[str, ...], tuple[str, str]] = {}
for _attribute, _table in (
    ("shape", SHAPE_SYNONYMS),
    ("colour", COLOUR_SYNONYMS),
    ("size", SIZE_SYNONYMS),
    ("vertical", VERTICAL_SYNONYMS),
    ("horizontal", HORIZONTAL_SYNONYMS),
    ("centre", {"center": CENTRE_WORDS}),
):
    for _value, _phrases in _table.items():
        for _phrase in _phrases:
            _MEANINGS[tuple(_phrase.split())] = (_attribute, _value)
_LONGEST_PHRASE = max(len(phrase) for phrase in _MEANINGS)

EXAMPLE_PROMPT = "a small red circle in the top left"


# The words of a prompt as the text encoder splits them (``text.standardize``; a test checks
# they agree), without importing TensorFlow for a rule-based rewriter.
_WORD = re.compile(r"[a-z0-9]+")


def _words(prompt: object, who: str) -> list[str]:
    if not isinstance(prompt, str):
        raise TypeError(f"{who}: the prompt must be a string; got {type(prompt).__name__}.")
    words = _WORD.findall(prompt.lower())
    if not words:
        raise ValueError(f"{who}: the prompt is empty; describe a shape, e.g. {EXAMPLE_PROMPT!r}.")
    return words


def parse_attributes(prompt: str) -> dict[str, str | None]:
    """Shape, colour, size and position named in ``prompt``: each the canonical value
    (``shapes.SHAPES``, ``COLOUR_NAMES``, ``SIZES``, ``POSITIONS``) or None if not named.

    Phrases of the synonym tables are matched longest first; the first mention of an attribute
    wins. A position combines a vertical word (top/upper/up..., bottom/lower/down...) and a
    horizontal one (left, right); a middle word alone ("center", "middle") means center, and
    "middle of the left side" means left.

    Raises:
        TypeError: for a non-string; ValueError: for a prompt with no words.
    """
    return _parse(_words(prompt, "parse_attributes"))


def _parse(words: list[str]) -> dict[str, str | None]:
    found: dict[str, str] = {}
    index = 0
    while index < len(words):
        for length in range(min(_LONGEST_PHRASE, len(words) - index), 0, -1):
            meaning = _MEANINGS.get(tuple(words[index : index + length]))
            if meaning is not None:
                found.setdefault(*meaning)
                index += length
                break
        else:
            index += 1
    vertical, horizontal = found.get("vertical"), found.get("horizontal")
    if vertical or horizontal:
        position = " ".join(side for side in (vertical, horizontal) if side)
    else:
        position = "center" if "centre" in found else None
    return {
        "shape": found.get("shape"),
        "colour": found.get("colour"),
        "size": found.get("size"),
        "position": position,
    }


def _cannot_read(prompt: str, who: str) -> ValueError:
    return ValueError(
        f"{who}: cannot read a shape, colour, size or position in {prompt!r}; name at least "
        f"one, e.g. {EXAMPLE_PROMPT!r} (shapes: {', '.join(shapes.SHAPES)}; colours: "
        f"{', '.join(shapes.COLOUR_NAMES)})."
    )


def caption(shape: str, colour: str, size: str, position: str) -> str:
    """The training-grammar caption (``shapes.CAPTION_TEMPLATES[0]``) of four attributes."""
    return shapes.caption_variants(shape, colour, size, position)[0]


def rewrite(prompt: str, *, seed: int = 0) -> str:
    """``prompt`` rewritten as a caption of the training grammar, e.g.
    ``rewrite("draw me a big ruby disk up in the left corner")`` ->
    ``"a large red circle in the top left corner"``.

    What the prompt names is kept (via :func:`parse_attributes`); what it leaves open is
    filled, as a language-model rewriter adds detail. The choice: a random draw
    (``numpy.random.default_rng(seed)``, in the order shape, colour, size, position) among the
    values that keep the (shape, colour) pair a *seen* composition (``shapes.seen_compositions``)
    -- a rewriter should write prompts the model was trained to follow; a pair the user names
    explicitly is kept even if held out. The same prompt and seed give the same caption.

    Raises:
        TypeError: for a non-string; ValueError: for an empty prompt, or one in which no
            shape, colour, size or position can be read.
    """
    seed = checks.seed(seed, who="rewrite")
    attributes = _parse(_words(prompt, "rewrite"))
    if all(value is None for value in attributes.values()):
        raise _cannot_read(prompt, "rewrite")
    return caption(**_filled(attributes, np.random.default_rng(seed)))


def _filled(attributes: dict[str, str | None], rng: np.random.Generator) -> dict[str, str]:
    seen = shapes.seen_compositions()
    shape, colour = attributes["shape"], attributes["colour"]
    if shape is None:
        options = sorted({s for s, c in seen if colour is None or c == colour})
        shape = options[rng.integers(len(options))] if options else shapes.SHAPES[0]
    if colour is None:
        options = [c for c in shapes.COLOUR_NAMES if (shape, c) in seen]
        colour = options[rng.integers(len(options))]
    size = attributes["size"] or shapes.SIZES[rng.integers(len(shapes.SIZES))]
    position = attributes["position"] or shapes.POSITIONS[rng.integers(len(shapes.POSITIONS))]
    return {"shape": shape, "colour": colour, "size": size, "position": position}


REWRITE_EXAMPLES = (
    ("draw me a big ruby disk up in the left corner", "a large red circle in the top left corner"),
    ("tiny emerald box, lower right", "a small green square in the bottom right corner"),
    ("a violet rhombus in the middle, average size", "a medium-sized purple diamond in the center"),
)


def language_model_instruction(prompt: str) -> str:
    """The instruction :func:`rewrite_with_language_model` sends: the task, the grammar, the
    allowed words, worked examples and the user's prompt."""
    places = "; ".join(
        f"{position} -> '{caption('circle', 'red', 'small', position).split(' in the ', 1)[1]}'"
        for position in shapes.POSITIONS
    )
    examples = "\n".join(
        f"Prompt: {given}\nCaption: {wanted}" for given, wanted in REWRITE_EXAMPLES
    )
    return (
        "Rewrite the user's image prompt as one caption in exactly this grammar:\n"
        "  a <size> <colour> <shape> in the <place>\n"
        f"size: small, medium-sized or large; colour: {', '.join(shapes.COLOUR_NAMES)}; "
        f"shape: {', '.join(shapes.SHAPES)}; place: {places}.\n"
        "Keep every attribute the prompt gives (map synonyms to these words); choose the "
        "missing ones yourself. Answer with the caption only, on one line.\n\n"
        f"{examples}\nPrompt: {prompt}\nCaption:"
    )


def rewrite_with_language_model(
    prompt: str, complete: Callable[[str], str], *, fallback: bool = True, seed: int = 0
) -> str:
    """:func:`rewrite`, with a language model doing the rewriting: the same contract.

    Args:
        prompt: what the user typed.
        complete: a function from an instruction to the model's answer (text completion), e.g.
            ``lambda text: client.complete(text)``; this module calls nothing else.
        fallback: if the answer is not a caption of the grammar, or changes an attribute the
            prompt named, return the rule-based :func:`rewrite` (with a warning) instead of
            raising.
        seed: the seed of that fallback.

    Returns the caption in the training grammar (``shapes.CAPTION_TEMPLATES[0]``), re-emitted
    from the attributes read back from the answer.

    Raises:
        TypeError: for a non-string prompt or answer; ValueError: for an empty prompt, or (with
            ``fallback=False``) an answer that does not parse into the grammar.
    """
    _words(prompt, "rewrite_with_language_model")
    answer = complete(language_model_instruction(prompt))
    if not isinstance(answer, str):
        raise TypeError(
            f"rewrite_with_language_model: complete() returned a {type(answer).__name__}, "
            "not a string."
        )
    lines = [line.strip().strip("\"'").strip() for line in answer.strip().splitlines()]
    line = lines[0] if lines else ""
    if line.lower().startswith("caption:"):
        line = line[len("caption:") :].strip()
    problem = _answer_problem(prompt, line)
    if problem is None:
        return caption(**parse_attributes(line))  # type: ignore[arg-type]
    message = f"rewrite_with_language_model: the model's answer {line!r} {problem}"
    if not fallback:
        raise ValueError(message + "; pass fallback=True to use the rule-based rewrite.")
    warnings.warn(message + "; using the rule-based rewrite instead.", stacklevel=2)
    return rewrite(prompt, seed=seed)


def _answer_problem(prompt: str, line: str) -> str | None:
    """Why ``line`` is not an acceptable rewrite of ``prompt`` (None if it is)."""
    if not any(character.isalpha() for character in line):
        return "is empty"
    attributes = parse_attributes(line)
    missing = [name for name, value in attributes.items() if value is None]
    if missing:
        return f"names no {', '.join(missing)} (the grammar needs all four)"
    asked = parse_attributes(prompt)
    changed = [
        f"{name} {asked[name]!r} -> {attributes[name]!r}"
        for name in ATTRIBUTES
        if asked[name] is not None and asked[name] != attributes[name]
    ]
    if changed:
        return f"changes what the prompt asked ({'; '.join(changed)})"
    return None
