"""The pages' formula questions (chapters/formula_questions.py) in the built book, in
Chromium: into every one, by keyboard, on a 360 px phone, in light and dark mode, the
right formula, a rewriting of it, each mistake, a shape error, a syntax error and an
unknown name are typed, and each gets what FormulaQuestion.check says. The formulas to
type are read from the notebook's own ask_formula(...) call; the page never holds them.
Every page's sliders, moved by keyboard, show what the Python evaluator gives there.
Run `make book` first (`make test` does)."""

import ast
import json
import re

import pytest
import questions
import torch
from axe_playwright_python.sync_playwright import Axe
from formula_questions import FormulaQuestion, ask_formula
from test_questions_browser import (
    BLOCKING_IMPACTS,
    CHAPTER_PAGES,
    CONTRAST,
    FOCUS_RING,
    PAGES,
    PHONE,
    built,
    feedback,
    load,
    params,
)

from conftest import ROOT
from sliders import _formula_values, _number

READ = "() => [...document.querySelectorAll('form.question')].map(f => ({id: f.id, ...f.dataset}))"


def calls(notebook):
    """{question id: the literal arguments of its ask_formula(...) call} in a notebook."""
    found = {}
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code" or "ask_formula" not in "".join(cell["source"]):
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "ask_formula":
                names = ["id", "prompt", "names", "answer"]
                given = dict(zip(names, node.args, strict=False))
                given.update({k.arg: k.value for k in node.keywords})
                found[ast.literal_eval(given["id"])] = {
                    key: ast.literal_eval(given[key])
                    for key in ("names", "answer", "slips")
                    if key in given
                }
    return found


def formula_pages():
    pages = []
    for page in CHAPTER_PAGES:
        if 'data-kind="formula"' in built(page):
            pages.append(page)
    return pages


on_formula_pages = pytest.mark.parametrize(
    "path", params(formula_pages(), "no page of this build has a formula question")
)


def question_of(form):
    """The module's FormulaQuestion for a form, from the data its script reads."""
    names = json.loads(form["names"])
    draws = [
        {name: torch.tensor(values[k], dtype=torch.float64) for name, values in names.items()}
        for k in range(len(json.loads(form["answer"])))
    ]
    answers = [torch.tensor(a, dtype=torch.float64) for a in json.loads(form["answer"])]
    slips = [
        (message, [torch.tensor(v, dtype=torch.float64) for v in values])
        for message, values in json.loads(form["slips"])
    ]
    letters = {int(size): letter for size, letter in json.loads(form["letters"]).items()}
    return FormulaQuestion(form["id"], "", {}, letters, draws, answers, slips, form["advice"])


def typed_cases(form, call):
    """(text, the verdict wanted) for each kind of answer the issue lists."""
    answer = call["answer"]
    # a shape error: a matrix times itself (N×D @ N×D), or @ on a number or a vector
    matrix = next(
        (name for name, shape in call["names"].items() if len(shape) == 2),
        next(iter(call["names"])),
    )
    wanted = [
        (answer, "correct"),
        (f"-(-({answer}))", "correct"),
        (f"(({answer}).T).T", "correct"),
    ]
    wanted += [(slip, "slip") for slip in call.get("slips", {}).values()]
    wanted += [(f"-({answer})", "slip"), (f"2 * ({answer})", "slip"), (f"({answer}) / 2", "slip")]
    wanted += [(f"{matrix} @ {matrix}", "invalid"), (f"({answer}", "invalid")]
    wanted += [(f"nosuchname + {answer}", "invalid"), ("__import__('os')", "invalid")]
    return wanted


def forms_and_calls(visit, path, scheme="light"):
    notebook = (ROOT / path).with_suffix(".ipynb")
    own = calls(notebook)
    forms = load(visit, path, scheme, kinds=("formula",))
    assert forms, f"{path}: no formula question"
    for form in forms:
        assert form["id"].removeprefix("question-") in own, f"{form['id']}: no literal call"
    return [(form, own[form["id"].removeprefix("question-")]) for form in forms]


FORMULAS_SCRIPT = re.compile(r'<script\b[^>]*\bsrc="[^"]*_static/formulas\.js(?:\?[^"]*)?"[^>]*>')


@pytest.mark.parametrize("path", params(PAGES, "no pages"))
def test_the_formula_script_is_only_on_pages_that_use_it_once_and_deferred(html_dir, path):
    source = built(path)
    uses = 'data-kind="formula"' in source or 'data-kind="explore"' in source
    scripts = FORMULAS_SCRIPT.findall(source)
    assert len(scripts) == (1 if uses else 0), (path, scripts)
    assert all(re.search(r"\bdefer\b", script) for script in scripts), scripts


@pytest.mark.parametrize("path", params(CHAPTER_PAGES, "no chapter pages"))
def test_every_chapter_page_asks_for_one_to_three_formulas(html_dir, path):
    count = built(path).count('data-kind="formula"')
    assert 1 <= count <= 3, f"{path}: {count} formula questions, not 1 to 3"


@on_formula_pages
def test_every_kind_of_answer_gets_its_verdict_by_keyboard(visit, path):
    page, keyboard = visit.page, visit.page.keyboard
    for form, call in forms_and_calls(visit, path):
        question = question_of(form)
        field = page.locator(f"#{form['id']}-answer")
        for text, wanted in typed_cases(form, call):
            verdict, message = question.check(text)
            assert verdict == wanted, f"{form['id']}: {text!r} is {verdict}, not {wanted}"
            field.focus()
            assert field.evaluate(FOCUS_RING), f"{form['id']}: no focus ring"
            keyboard.press("Control+A")
            keyboard.insert_text(text)
            keyboard.press("Enter")
            assert feedback(page, form["id"]) == (verdict, message), (form["id"], text)
    visit.assert_clean()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@on_formula_pages
def test_formula_questions_read_well_and_fit_a_phone(browser, base_url, path, scheme):
    from conftest import open_visit

    device = {"viewport": PHONE, "has_touch": True, "is_mobile": True}
    with open_visit(browser, base_url, device) as visit:
        page = visit.page
        for form, call in forms_and_calls(visit, path, scheme):
            locator = page.locator(f"#{form['id']}")
            field = locator.locator("input")
            for attribute, value in (
                ("autocapitalize", "off"),
                ("autocorrect", "off"),
                ("spellcheck", "false"),
                ("autocomplete", "off"),
            ):
                assert field.get_attribute(attribute) == value, (form["id"], attribute)
            assert "monospace" in field.evaluate("e => getComputedStyle(e).fontFamily")
            field.fill(f"-({call['answer']})")
            locator.locator("button").tap()
            assert feedback(page, form["id"])[0] == "slip"
            texts = locator.locator(
                ".question-title, .question-prompt, .question-names, "
                ".question-precision, .question-feedback, input, button"
            )
            for i in range(texts.count()):
                ratio = texts.nth(i).evaluate(CONTRAST)
                assert ratio >= 4.5, f"{form['id']} ({scheme}): contrast {ratio:.2f}"
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path}: {width} px wide on a {PHONE['width']} px phone"
        results = Axe().run(page, context="form.question")
        serious = [
            v["id"] for v in results.response["violations"] if v["impact"] in BLOCKING_IMPACTS
        ]
        assert not serious, f"{path} ({scheme}): axe-core: {serious}"
        visit.assert_clean()


def test_a_pages_call_is_read_with_its_literal_formulas(tmp_path):
    notebook = tmp_path / "page.ipynb"
    source = (
        'ask_formula("p-dx", "∂L/∂X?", {"G": ("N", "K")}, "G.sum(0)", on={}, equals=0,'
        ' slips={"Rows.": "G"}, advice="Sum.")'
    )
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [source]}]}))
    assert calls(notebook) == {
        "p-dx": {"names": {"G": ("N", "K")}, "answer": "G.sum(0)", "slips": {"Rows.": "G"}}
    }
    assert questions.CORRECT == "Correct." and callable(ask_formula)


def explore_pages():
    return [page for page in CHAPTER_PAGES if 'data-kind="explore"' in built(page)]


READ_EXPLORER = """(box) => [
    Object.fromEntries([...box.querySelectorAll("input")].map(i => [i.name, i.value])),
    Object.fromEntries([...box.querySelectorAll("tr")].map(
        r => [r.querySelector("th").textContent, r.querySelector("td").textContent])),
]"""


@pytest.mark.parametrize("path", params(explore_pages(), "no page of this build has sliders"))
def test_a_pages_sliders_move_its_hand_rows_by_keyboard_as_python_computes_them(visit, path):
    visit.goto(path)
    page = visit.page
    page.wait_for_function("() => window.formulas !== undefined")
    boxes = page.locator("div.explore")
    for index in range(boxes.count()):
        box = boxes.nth(index)
        data = box.evaluate("(box) => ({...box.dataset})")
        steps, formulas = dict(json.loads(data["steps"])), dict(json.loads(data["formulas"]))
        constants = json.loads(data["constants"])
        for slider in range(box.locator("input").count()):
            box.locator("input").nth(slider).focus()
            tables = set()
            for key in ["ArrowRight"] * 3 + ["ArrowLeft"] * 7 + ["End", "Home", "PageUp"]:
                page.keyboard.press(key)
                settings, shown = box.evaluate(READ_EXPLORER)
                tables.add(tuple(sorted(shown.items())))
                numbers = {name: float(value) for name, value in settings.items()}
                want = _formula_values(steps, formulas, constants, numbers)
                assert set(shown) == set(want), (path, shown)
                for label, value in want.items():
                    value = float(value.reshape(()))
                    # written alike, or across a rounding boundary that 1e-9 straddles
                    nudged = {_number(value * (1 + e) + e) for e in (-1e-9, 0.0, 1e-9)}
                    assert shown[label] in nudged, (path, label, numbers, shown[label], value)
            assert len(tables) > 1, f"{path}: slider {slider} moves nothing"
    visit.assert_clean()
