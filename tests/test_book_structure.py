"""The book's structure: table of contents, chapter anatomy, notebook hygiene.

nbval (run on chapters/) proves that each notebook executes and reproduces its
stored outputs; these tests check what nbval cannot see.
"""

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
# Pages beside the chapters, listed after them under their own caption, never numbered.
REFERENCE_PAGES = ["rules", "glossary"]
NOTEBOOKS = [*CHAPTERS, ROOT / "rules.ipynb"]
MAX_NOTEBOOK_BYTES = 1_000_000


def toc_entries(entries):
    """The files of a list of _toc.yml entries, each followed by its sections'."""
    for entry in entries:
        yield entry["file"]
        yield from toc_entries(entry.get("sections", []))


def toc_parts():
    """_toc.yml's parts as {caption: (numbered, [file, ...])}, sections after their chapter."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["format"] == "jb-book", "_toc.yml must use the jb-book format"
    assert "chapters" not in toc, "_toc.yml lists its pages in parts, each with a caption"
    return {
        part["caption"]: (part.get("numbered", False), list(toc_entries(part["chapters"])))
        for part in toc["parts"]
    }


def code_cells(path):
    notebook = json.loads(path.read_text())
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def code_of(path):
    """All code of a notebook as one parsed module (IPython magics are not used)."""
    return ast.parse("\n".join("".join(cell["source"]) for cell in code_cells(path)))


def chapter_number(stem):
    """ "03_1_sigmoid_neuron" -> "03": the chapter a page belongs to."""
    return stem[:2]


def test_there_are_three_chapters_each_an_overview_with_its_pages():
    """Each chapter is an overview page (markdown, NN_name.md) whose sections are its pages,
    notebooks named NN_M_name.ipynb."""
    numbers = sorted({chapter_number(p.stem) for p in CHAPTERS})
    assert numbers == ["01", "02", "03"], f"chapters/ holds the chapters {numbers}"
    assert [p.name for p in CHAPTERS if not re.match(r"\d\d_\d_", p.name)] == []
    overviews = sorted(p.name for p in (ROOT / "chapters").glob("[0-9][0-9]_*.md"))
    assert overviews == ["01_single_value.md", "02_matrix.md", "03_activation.md"], overviews


def test_toc_lists_every_chapter_and_nothing_else():
    parts = toc_parts()
    assert list(parts) == ["Chapters", "Reference"], f"_toc.yml's parts are {list(parts)}"
    numbered, listed = parts["Chapters"]
    overviews = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))
    on_disk = {f"chapters/{p.stem}" for p in [*CHAPTERS, *overviews]}
    assert sorted(listed) == sorted(on_disk), f"_toc.yml lists {listed}, chapters/ holds {on_disk}"
    # in reading order: by chapter number, the overview first, then its pages in order
    order = [chapter_number(f.split("/")[1]) for f in listed]
    assert order == sorted(order), f"the chapters are out of order: {listed}"
    sections = [f for f in listed if re.match(r"chapters/\d\d_\d_", f)]
    assert sections == sorted(sections), f"the pages of a chapter are out of order: {sections}"
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    for entry in toc["parts"][0]["chapters"]:
        for section in entry.get("sections", []):
            assert chapter_number(section["file"].split("/")[1]) == chapter_number(
                entry["file"].split("/")[1]
            ), f"{section['file']} is listed under {entry['file']}"
    assert numbered, "the chapters are numbered"
    numbered, reference = parts["Reference"]
    assert reference == REFERENCE_PAGES, f"the reference part lists {reference}"
    assert not numbered, "the reference pages are not chapters: no numbers"
    for page in REFERENCE_PAGES:
        assert list(ROOT.glob(f"{page}.*")), f"{page} is in _toc.yml but not on disk"
    assert (ROOT / "intro.md").exists(), "the landing page intro.md is missing"


def test_an_overview_page_opens_with_what_you_learn_and_need():
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), f"{path.name}: the first line must be the title"
        # A rubric, not a heading: a heading would be numbered 3.1 and push the pages to 3.2.
        for heading in ("What you'll learn", "What you'll need"):
            assert f"```{{rubric}} {heading}\n```" in text, f"{path.name} lacks {heading!r}"
            assert f"## {heading}" not in text, f"{path.name}: {heading!r} as a numbered heading"


def test_chapter_names_follow_the_house_pattern():
    for path in CHAPTERS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_what_you_learn_and_need(path):
    notebook = json.loads(path.read_text())
    first = "".join(notebook["cells"][0]["source"])
    assert first.startswith("# "), f"{path.name}: the first cell must be the title"
    for heading in ("## What you'll learn", "## What you'll need"):
        assert heading in first, f"{path.name}: the first cell lacks {heading!r}"


def _mentions(node, predicate):
    return any(predicate(sub) for sub in ast.walk(node))


def _is_autograd(node):
    """`something.grad` or `torch.autograd.grad(...)`."""
    return isinstance(node, ast.Attribute) and node.attr == "grad"


def _is_hand(node):
    """A hand-derived value: a `dL_...` name or a call to a `d_...` function."""
    if isinstance(node, ast.Name):
        return node.id.startswith(("dL_", "d_"))
    return isinstance(node, ast.Call) and _is_hand(node.func)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_asserts_hand_gradient_equals_autograd(path):
    """Some `assert_close(hand, autograd)` compares a `dL_`/`d_` value with a `.grad`."""
    comparisons = [
        call
        for call in ast.walk(code_of(path))
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "assert_close"
        and len(call.args) >= 2
    ]
    hand_vs_autograd = [
        call
        for call in comparisons
        if any(_mentions(arg, _is_hand) for arg in call.args[:2])
        and any(_mentions(arg, _is_autograd) for arg in call.args[:2])
    ]
    assert hand_vs_autograd, (
        f"{path.name}: no torch.testing.assert_close(...) compares a hand gradient "
        "(a dL_... name or a d_...() call) with an autograd one (a .grad)"
    )


# Autograd in code: `.backward(...)`, `.grad`, `torch.autograd...`, `requires_grad(_)`, a
# helper named for autograd (`autograd_grads`), or finite differences standing in for the
# derivation, as attributes, names or keyword arguments (docstrings and comments do not count).
AUTOGRAD_NAMES = {"backward", "grad", "requires_grad", "requires_grad_", "numerical_gradient"}


def hand_functions(tree):
    """The hand-derived functions: `d_<name>` and the exercises' `solution_<name>`."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith(("d_", "solution_"))
    ]


def _autograd_name(node):
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.keyword):
        return node.arg
    return None


def autograd_in_hand_code(tree):
    """Each (function, name) where a hand-derived function uses autograd."""
    return [
        (function.name, _autograd_name(node))
        for function in hand_functions(tree)
        for node in ast.walk(function)
        if _autograd_name(node) in AUTOGRAD_NAMES or "autograd" in (_autograd_name(node) or "")
    ]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_hand_derivatives_never_call_autograd(path):
    names = [function.name for function in hand_functions(code_of(path))]
    assert any(n.startswith("d_") for n in names), f"{path.name}: defines no d_<name> function"
    solutions = [n for n in names if n.startswith("solution_")]
    assert len(solutions) >= 3, f"{path.name}: fewer than 3 solution_<name> functions"
    found = autograd_in_hand_code(code_of(path))
    assert not found, f"{path.name}: hand-derived code uses autograd: {found}"


@pytest.mark.parametrize(
    "source",
    [
        "def solution_d_bias(x, w, b, y):\n    b = b.requires_grad_()\n    return b",
        "def solution_d_a(x, a, w, y):\n    loss(x, a, w, y).backward()\n    return a.grad",
        "def solution_d_w(w):\n    return torch.autograd.grad(f(w), w)[0]",
        "def d_mse(y, y_hat):\n    return y_hat.grad",
        "def solution_d_x_with_bias(x, w, b, y):\n    return autograd_grads(x, w, y)[1]",
        "def solution_d_abs_loss(w, x, y):\n    return numerical_gradient(f, w)",
    ],
)
def test_a_hand_derivation_or_solution_that_calls_autograd_is_caught(source):
    assert autograd_in_hand_code(ast.parse(source))


def test_code_that_only_checks_against_autograd_is_not_hand_code():
    source = (
        "def readout(w):\n    L(w).backward()\n    return w.grad\n\ndef d_f(x):\n    return 2 * x"
    )
    assert autograd_in_hand_code(ast.parse(source)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_was_run_top_to_bottom_and_is_clean(path):
    cells = [cell for cell in code_cells(path) if "".join(cell["source"]).strip()]
    counts = [cell["execution_count"] for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name}: execution counts {counts} are not 1, 2, 3, ...: "
        "run `make execute` to re-run it top to bottom"
    )
    outputs = [output for cell in cells for output in cell["outputs"]]
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert not errors, f"{path.name}: stores an error output: {errors[0]['ename']}"
    text = json.dumps(outputs)
    # A repr like "<Figure at 0x7f...>" changes every run; base64 images hold no spaces.
    assert not re.search(r" at 0x[0-9a-fA-F]+", text), f"{path.name}: an output holds an address"
    assert "https://" not in text and "http://" not in text, (
        f"{path.name}: an output loads something from the network"
    )
    size = path.stat().st_size
    assert size < MAX_NOTEBOOK_BYTES, f"{path.name} is {size} bytes (limit 1 MB)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_metadata_holds_no_timing_or_widget_state(path):
    notebook = json.loads(path.read_text())
    assert "widgets" not in notebook["metadata"], f"{path.name}: stores widget state"
    for cell in notebook["cells"]:
        assert "execution" not in cell.get("metadata", {}), (
            f"{path.name}: a cell stores execution timestamps; run `make execute`"
        )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_keep_their_answers_behind_a_click(path):
    """In the book and in JupyterLab: the set-up cell (its hint), the reference solution
    (code and output, one toggle) and the discussion after it are all collapsed."""
    cells = json.loads(path.read_text())["cells"]
    sources = ["".join(cell["source"]) for cell in cells]
    solutions = [i for i, source in enumerate(sources) if "must_pass=True" in source]
    assert len(solutions) >= 3, f"{path.name}: fewer than 3 reference solutions"
    for i in solutions:
        metadata = cells[i]["metadata"]
        assert metadata.get("tags") == ["hide-cell"], f"{path.name} cell {i}: not hide-cell"
        assert metadata.get("jupyter") == {"source_hidden": True, "outputs_hidden": True}
        assert cells[i + 1]["cell_type"] == "markdown"
        assert sources[i + 1].startswith(":::{dropdown} After you have solved it\n"), (
            f"{path.name} cell {i + 1}: the discussion after a solution must be collapsed"
        )
    setups = [
        i for i, source in enumerate(sources) if re.search(r"= (Function)?Exercise\(", source)
    ]
    assert len(setups) == len(solutions), f"{path.name}: an exercise without a solution"
    for i in setups:
        assert cells[i]["metadata"].get("tags") == ["hide-input"], f"{path.name} cell {i}"
        assert cells[i]["metadata"].get("jupyter") == {"source_hidden": True}
    checks = [
        cell
        for cell, source in zip(cells, sources, strict=True)
        if source.startswith(("check_gradient(", "check_autograd_function("))
        and "must_pass" not in source
    ]
    assert len(checks) == len(solutions), f"{path.name}: an exercise without a learner's check"
    for cell in checks:
        said = "".join(cell["outputs"][0]["data"]["text/plain"])
        assert "not attempted yet. To try it, replace" in said, said
        # Where to run it is said in the book only: in an element the book's CSS reveals.
        shown = "".join(cell["outputs"][0]["data"]["text/html"])
        hint = "run this chapter in JupyterLab, </span>"
        assert f'<span class="book-only" style="display: none" hidden>{hint}' in shown
