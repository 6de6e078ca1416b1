"""Package-wide reliability conventions, checked by reading the code (issue #15).

``value or default`` turns an explicit 0 into the default without a word (a width of 0, a
learning rate of 0, zero steps per epoch...). Numeric arguments use ``default if value is
None else value`` and a check instead. The test below finds the pattern with the ``ast``
module, so docstrings, comments and ``or`` between booleans or strings are not flagged.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from ganbook_utils import profiles

PACKAGE = Path(__file__).resolve().parents[1] / "ganbook_utils"
PROFILE_FIELDS = {field.name for field in dataclasses.fields(profiles.Profile)} - {"name"}
NUMERIC_CALLS = {"max", "min", "int", "float", "len", "round", "abs", "sum"}


def _numeric_constants(tree: ast.Module) -> set[str]:
    """Module-level names bound to a number (``DEFAULT_SIZE = 10_000``)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if _is_number(node.value):
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _numeric_default(node: ast.AST, constants: set[str]) -> bool:
    """Does ``node`` (the right operand of ``or``) look like a numeric default?

    A zero literal is exempt: ``x or 0`` maps 0 to 0, so it swallows nothing.
    """
    if _is_number(node):
        value = node.operand.value if isinstance(node, ast.UnaryOp) else node.value
        return value != 0
    if isinstance(node, ast.Name):
        return node.id in constants
    if isinstance(node, ast.Attribute):
        # profile.batch_size, math.pi, self.recipe_width ...
        return node.attr in PROFILE_FIELDS or (
            isinstance(node.value, ast.Name) and node.value.id == "math"
        )
    if isinstance(node, ast.Subscript):
        # recipe["width"], DEFAULTS["latent_dim"]: a lookup of a number by a name
        return isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
    if isinstance(node, ast.Call):
        function = node.func
        if isinstance(function, ast.Name):
            return function.id in NUMERIC_CALLS
        return isinstance(function, ast.Attribute) and (
            isinstance(function.value, ast.Name) and function.value.id in ("math", "np")
        )
    if isinstance(node, ast.BinOp):
        return _numeric_default(node.left, constants) or _numeric_default(node.right, constants)
    if isinstance(node, ast.IfExp):
        return _numeric_default(node.body, constants) or _numeric_default(node.orelse, constants)
    return False


def numeric_or_defaults(source: str) -> list[str]:
    """``line: code`` of every ``value or <numeric default>`` in ``source``."""
    tree = ast.parse(source)
    constants = _numeric_constants(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            first, last = node.values[0], node.values[-1]
            operand_is_a_value = isinstance(first, (ast.Name, ast.Attribute, ast.Subscript))
            if operand_is_a_value and _numeric_default(last, constants):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize(
    ("code", "flagged"),
    [
        ("width = width or 64", True),
        ("rate = learning_rate or recipe['learning_rate']", True),
        ("steps = args.steps or profile.dcgan_steps", True),
        ("columns = columns or math.ceil(math.sqrt(count))", True),
        ("n = n or max(1, steps // 20)", True),
        ("SIZE = 10\nsize = size or SIZE", True),
        ("std = std or -0.5", True),
        ("x = args.x or (profile.dcgan64_steps if big else profile.dcgan_steps)", True),
        # Not numeric defaults: booleans, strings, containers, a harmless zero, a size check.
        ("seed = seed or 0", False),
        ("name = name or 'mnist'", False),
        ("logs = logs or {}", False),
        ("ok = verbose or False", False),
        ("bad = a.ndim != 4 or len(a) == 0", False),
        ("kind = likelihood or ('bernoulli' if c == 1 else 'gaussian')", False),
        ('"""Return width or 64."""', False),
    ],
)
def test_the_detector_finds_the_pattern_and_nothing_else(code, flagged):
    assert bool(numeric_or_defaults(code)) == flagged, code


@pytest.mark.parametrize(
    "module", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_numeric_argument_falls_back_with_or(module):
    found = numeric_or_defaults(module.read_text())
    assert not found, (
        f"{module.name}: `value or default` swallows an explicit 0; write "
        f"`default if value is None else value` and check the value: {found}"
    )
