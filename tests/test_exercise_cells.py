"""Every chapter's exercises are for solving, not reading (issue #12).

For each chapter notebook (book/NN-*.ipynb):

* every code cell that calls a ``check_*`` is tagged ``exercise``;
* every code cell tagged ``exercise`` is followed by a Markdown cell holding a folded
  solution: a ``:::{admonition} Solution`` block with ``:class: dropdown``;
* no exercise cell contains its solution's code: the non-trivial lines of the dropdown's
  ```python blocks (not signatures, imports, comments, brackets or stubs) must not appear in
  the exercise cell;
* after *Run all* (an executed copy), every exercise cell reports "Not yet" and nothing else.

The last check reads executed notebooks: :func:`executed_exercise_problems` takes the folder
that jupyter-book writes during the smoke build (``_build/smoke/_build/jupyter_execute/book``)
so the book-build test can call it after building; run standalone, this file's test uses that
folder when it exists and skips (saying so) when it does not.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]-*.ipynb"))
EXECUTED = ROOT / "_build" / "smoke" / "_build" / "jupyter_execute" / "book"
EXERCISE_TAG = "exercise"

_DROPDOWN = re.compile(
    r"^:::+\s*\{admonition\}\s*Solution\b[^\n]*\n(?:\s*:[\w-]+:[^\n]*\n)*?\s*:class:\s*dropdown\b",
    re.MULTILINE,
)
_PYTHON_BLOCK = re.compile(
    r"^\s*```+\s*(?:\{code-cell\}\s*)?(?:python|ipython3?)\s*\n(.*?)^\s*```", re.M | re.S
)
_ONLY_PUNCTUATION = re.compile(r"^[\s()\[\]{},:;.]*$")
_TRIVIAL_STARTS = ("#", "def ", "async def ", "class ", "import ", "from ", "@", "return ...")
# Lines a stub and its solution share: a check called on names only, or a literal's opening.
_SHARED_LINE = re.compile(r"^(check_\w+\([\w.,\s]*\)?|[\w.]+\s*=)\s*[(\[{]*$")
_STUBS = {"...", "pass", "return", "raise NotImplementedError", "raise NotImplementedError()"}


def exercise_cells(notebook) -> list[tuple[int, nbformat.NotebookNode]]:
    """(index, cell) of every code cell tagged ``exercise``."""
    return [
        (index, cell)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and EXERCISE_TAG in cell.get("metadata", {}).get("tags", [])
    ]


def _strip_comment(line: str) -> str:
    """The line without a trailing comment (a ``#`` outside string quotes)."""
    quote = None
    for position, character in enumerate(line):
        if quote:
            if character == quote:
                quote = None
        elif character in "'\"":
            quote = character
        elif character == "#":
            return line[:position]
    return line


def _normalise(line: str) -> str:
    return " ".join(_strip_comment(line).split()).rstrip(",;")


def _signature_lines(code: str) -> set[int]:
    """1-based numbers of the lines holding a def's signature (shared by stub and solution)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines.update(range(first, node.body[0].lineno))
            if node.body[0].lineno == node.lineno:  # one-line def: the signature is the line
                lines.add(node.lineno)
    return lines


def solution_lines(markdown: str) -> list[str]:
    """The non-trivial, normalised code lines of the ```python blocks of a solution cell."""
    result = []
    for block in _PYTHON_BLOCK.findall(markdown):
        signature = _signature_lines(block)
        for number, line in enumerate(block.splitlines(), start=1):
            text = _normalise(line)
            if (
                number in signature
                or not text
                or text.startswith(_TRIVIAL_STARTS)
                or text in _STUBS
                or _ONLY_PUNCTUATION.match(text)
                or _SHARED_LINE.match(text)
            ):
                continue
            result.append(text)
    return result


_CHECK_CALL = re.compile(r"^\s*(?:\w+\s*=\s*)?check_\w+\(", re.MULTILINE)


def cell_problems(notebook, name: str) -> list[str]:
    """What is wrong with the exercise cells of one notebook (empty when all is well)."""
    problems = [
        f"{name}, cell {index}: calls a check_* but is not tagged {EXERCISE_TAG!r}"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and _CHECK_CALL.search(cell.source)
        and EXERCISE_TAG not in cell.get("metadata", {}).get("tags", [])
    ]
    for index, cell in exercise_cells(notebook):
        where = f"{name}, cell {index} (exercise)"
        following = notebook.cells[index + 1] if index + 1 < len(notebook.cells) else None
        if following is None or following.cell_type != "markdown":
            problems.append(f"{where}: no Markdown solution cell follows it")
            continue
        if not _DROPDOWN.search(following.source):
            problems.append(
                f"{where}: the next cell has no ':::{{admonition}} Solution' block with "
                "':class: dropdown'"
            )
            continue
        answers = solution_lines(following.source)
        if not answers:
            problems.append(f"{where}: its solution dropdown has no ```python block")
            continue
        exercise = {_normalise(line) for line in cell.source.splitlines()}
        leaked = [line for line in answers if line in exercise]
        if leaked:
            problems.append(f"{where}: holds its solution's code, e.g. {leaked[0]!r}")
    return problems


def _printed(cell) -> str:
    text = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            text.append(output.get("data", {}).get("text/plain", ""))
        elif output.get("output_type") == "error":
            text.append(f"{output.get('ename')}: {output.get('evalue')}")
    return "".join(text)


def executed_exercise_problems(folder: Path | str = EXECUTED) -> list[str]:
    """Exercise cells of executed chapters whose output is not a "Not yet" verdict.

    ``folder`` holds executed copies of the chapters (``NN-*.ipynb``), e.g. the
    ``jupyter_execute/book`` folder of a jupyter-book build. Every exercise cell's output must
    start with "Not yet" and hold no other verdict ("Right:" or "Not quite:"). Raises
    FileNotFoundError when the folder has no executed chapter.
    """
    folder = Path(folder)
    executed = sorted(folder.glob("[0-9][0-9]-*.ipynb"))
    if not executed:
        raise FileNotFoundError(f"no executed chapters in {folder}")
    problems = []
    for path in executed:
        notebook = nbformat.read(path, as_version=4)
        if not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"):
            problems.append(f"{path.name}: not executed (no code cell has an output)")
            continue
        for index, cell in exercise_cells(notebook):
            printed = _printed(cell).strip()
            where = f"{path.name}, cell {index} (exercise)"
            if not printed.startswith("Not yet"):
                problems.append(f"{where}: output does not start with 'Not yet': {printed[:120]!r}")
            elif re.search(r"^(Right|Not quite):", printed, re.MULTILINE):
                problems.append(f"{where}: a check reports more than 'not yet': {printed[:120]!r}")
    return problems


# --- the chapters --------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda path: path.stem)
def test_exercise_cells_hold_stubs_and_fold_their_solutions(chapter):
    notebook = nbformat.read(chapter, as_version=4)
    problems = cell_problems(notebook, chapter.name)
    assert not problems, "\n".join(problems)


def test_every_exercise_reports_not_yet_after_run_all(executed_notebooks):
    """Run all (the smoke build, via the fixture: built first, in the book's xdist group)."""
    problems = executed_exercise_problems(executed_notebooks)
    assert not problems, "\n".join(problems)


# --- the checks themselves, on tiny synthetic notebooks ------------------------------------

SOLUTION = """\
:::{admonition} Solution
:class: dropdown

```python
def my_denormalize(x):
    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)
```
:::
"""
STUB = """\
from ganbook_utils.exercises.data import check_denormalize


def my_denormalize(x):
    ...  # your code: scale [-1, 1] back to [0, 255], round, clip, convert to uint8


check_denormalize(my_denormalize)
"""
SOLVED = STUB.replace(
    "    ...  # your code: scale [-1, 1] back to [0, 255], round, clip, convert to uint8",
    "    return np.clip(np.round((x + 1.0) * 127.5), 0, 255).astype(np.uint8)  # done",
)


def _notebook(exercise: str, solution: str | None):
    cell = nbformat.v4.new_code_cell(exercise, metadata={"tags": [EXERCISE_TAG]})
    cells = [nbformat.v4.new_markdown_cell("# A chapter"), cell]
    if solution is not None:
        cells.append(nbformat.v4.new_markdown_cell(solution))
    return nbformat.v4.new_notebook(cells=cells)


def test_a_stub_with_a_folded_solution_passes():
    assert cell_problems(_notebook(STUB, SOLUTION), "x.ipynb") == []


def test_a_solved_exercise_cell_fails():
    (problem,) = cell_problems(_notebook(SOLVED, SOLUTION), "x.ipynb")
    assert "holds its solution's code" in problem and "np.clip" in problem


def test_a_solved_dictionary_exercise_fails_and_its_stub_passes():
    solution = SOLUTION.replace(
        SOLUTION[SOLUTION.index("def") : SOLUTION.index("```\n:::")],
        'check_roles({\n    "DALL·E": "image tokens",\n    "Imagen": "text encoder",\n})\n',
    )
    stub = 'check_roles({\n    "DALL·E": ...,\n    "Imagen": ...,\n})\n'
    solved = 'check_roles({\n    "DALL·E": "image tokens",  # I think\n    "Imagen": ...,\n})\n'
    assert cell_problems(_notebook(stub, solution), "x.ipynb") == []
    assert "image tokens" in cell_problems(_notebook(solved, solution), "x.ipynb")[0]


def test_an_untagged_check_call_fails():
    notebook = _notebook(STUB, SOLUTION)
    notebook.cells[1].metadata["tags"] = []
    (problem,) = cell_problems(notebook, "x.ipynb")
    assert "not tagged 'exercise'" in problem


def test_a_missing_or_unfolded_solution_fails():
    assert "no Markdown solution cell" in cell_problems(_notebook(STUB, None), "x.ipynb")[0]
    unfolded = SOLUTION.replace(":class: dropdown\n", "")
    assert ":class: dropdown" in cell_problems(_notebook(STUB, unfolded), "x.ipynb")[0]


def test_executed_outputs_must_all_be_not_yet(tmp_path):
    def executed(name, text):
        notebook = _notebook(STUB, SOLUTION)
        notebook.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        nbformat.write(notebook, tmp_path / name)

    executed("01-fine.ipynb", "Not yet: write my_denormalize(x).\n")
    assert executed_exercise_problems(tmp_path) == []
    executed("02-solved.ipynb", "Right: your answer passes every check.\n")
    executed("03-mixed.ipynb", "Not yet: the first one.\nNot quite: the second one.\n")
    nbformat.write(_notebook(STUB, SOLUTION), tmp_path / "04-unexecuted.ipynb")
    problems = executed_exercise_problems(tmp_path)
    assert [problem.split(",")[0] for problem in problems] == [
        "02-solved.ipynb",
        "03-mixed.ipynb",
        "04-unexecuted.ipynb: not executed (no code cell has an output)",
    ]
    with pytest.raises(FileNotFoundError):
        executed_exercise_problems(tmp_path / "empty")
