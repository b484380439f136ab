"""The book's formula reader (_ext/question_static/formulas.js) against the Python one
(chapters/formulas.py) in Chromium: the same value or the same sentence for every formula
of a corpus and for random strings of formula pieces; and a formula question's form,
answered by keyboard and by mouse, says what FormulaQuestion.check says. The pages'
own formula questions are tested in the built book by tests/test_questions_browser.py."""

import html
import json
import re
import shutil

import pytest
import torch
from formula_corpus import CORPUS, LETTERS, random_formulas, values
from formula_questions import ask_formula
from formulas import FormulaError, evaluate

from conftest import ROOT, open_visit, served
from sliders import _formula_values, _number, explore

SCRIPT = ROOT / "_ext" / "question_static" / "formulas.js"
STYLE = ROOT / "_ext" / "question_static" / "questions.css"
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True}


def questions():
    generator = torch.Generator().manual_seed(5)
    x, w, g = (torch.randn(*shape, generator=generator) for shape in ((2, 1), (1, 1), (2, 1)))
    names = {"G": ("N", "K"), "W": ("D", "K"), "X": ("N", "D")}
    on = {"G": g, "W": w, "X": x}
    return [
        ask_formula(
            "test-browser-dx",
            "With G = ∂L/∂Z, what is ∂L/∂X?",
            names,
            "G @ W.T",
            on,
            g @ w.T,
            slips={"That is ∂L/∂W.": "X.T @ G"},
            advice="Match the shapes.",
        ),
        ask_formula(
            "test-browser-db",
            "With G = ∂L/∂S, what is ∂L/∂b?",
            {"G": ("N", "K")},
            "G.sum(0, keepdim=True)",
            {"G": g},
            g.sum(0, keepdim=True),
            advice="b is added to every row.",
        ),
    ]


QUESTIONS = questions()


def sliders():
    """Sliders like chapter 1's: w, x and y, the loss and ∂L/∂w by hand; and a matrix
    readout with a step and constants."""

    def readout(w, x, y):
        return {"loss L": (y - w * x) ** 2, "∂L/∂w by hand": -2 * x * (y - w * x)}

    one = explore(
        readout,
        formulas={"loss L": "(y - w x)^2", "∂L/∂w by hand": "-2 x (y - w x)"},
        w=(-5.0, 5.0, 3.0),
        x=(-5.0, 5.0, 2.0),
        y=(-5.0, 5.0, 2.0),
    )
    data = torch.tensor([[2.0], [1.0]], dtype=torch.float64)
    target = torch.tensor([[5.0, 2.0], [2.5, 2.0]], dtype=torch.float64)

    def matrix_readout(w1):
        w = torch.tensor([[w1, 1.0]], dtype=torch.float64)
        return {"loss L": float(((target - data @ w) ** 2).sum())}

    two = explore(
        matrix_readout,
        formulas={"loss L": "((Y - X @ W) ** 2).sum()"},
        steps={"W": "w1 * e1 + e2"},
        constants={"X": data, "Y": target, "e1": [[1.0, 0.0]], "e2": [[0.0, 1.0]]},
        w1=(-2.0, 4.0, 3.0),
    )
    return [one, two]


EXPLORERS = sliders()
TYPED = [
    "G @ W.T", "(W @ G.T).T", "G Wᵀ", "-G @ W.T", "2 G @ W.T", "W @ G.T", "X.T @ G", "G @ W",
    "G", "G.sum(0)", "G.sum(0, keepdim=True)", "G.sum(1, keepdim=True)", "G.mean(0, keepdim=True)",
    "Q", "G @", "", "(G @ W.T", "G.sum(keepdim=True)", "__import__('os')", "constructor",
    "toString", "G" + " + G" * 60,
    "(" * 25 + "G" + ")" * 25, "G ** 1e9", "G / 0",
]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A page with the two questions, the script and the style, served on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("formulas")
    shutil.copy(SCRIPT, folder)
    shutil.copy(STYLE, folder)
    forms = "".join(question.html() for question in QUESTIONS)
    forms += "".join(explorer.initial_html for explorer in EXPLORERS)
    (folder / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Formulas</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="stylesheet" href="questions.css"><script defer src="formulas.js"></script>'
        f"</head><body><main>{forms}</main></body></html>",
        encoding="utf-8",
    )
    with served(folder) as url:
        yield url


@pytest.fixture
def tab(browser, site):
    with open_visit(browser, site) as visit:
        visit.goto("index.html")
        visit.page.wait_for_function("() => window.formulas !== undefined")
        yield visit


def python_reading(text, named):
    try:
        result = evaluate(text, named, LETTERS)
    except FormulaError as error:
        return {"error": str(error)}
    return {"shape": list(result.shape), "data": result.flatten().tolist()}


def test_both_readers_say_the_same_of_every_formula(tab):
    named = values()
    corpus = CORPUS + random_formulas(600, seed=1)
    letters = {str(size): letter for size, letter in LETTERS.items()}
    browser_readings = tab.page.evaluate(
        "([corpus, named, letters]) =>"
        " corpus.map(t => window.formulas.evaluate(t, named, letters))",
        [corpus, {k: v.tolist() for k, v in named.items()}, letters],
    )
    kinds = {"error": 0, "value": 0}
    for text, got in zip(corpus, browser_readings, strict=True):
        want = python_reading(text, named)
        if "error" in want:
            kinds["error"] += 1
            assert got == want, text
        else:
            kinds["value"] += 1
            assert got.get("shape") == want["shape"], (text, got, want)
            torch.testing.assert_close(
                torch.tensor(got["data"], dtype=torch.float64),
                torch.tensor(want["data"], dtype=torch.float64),
                rtol=1e-12,
                atol=1e-12,
                msg=lambda m, text=text: f"{text!r}: {m}",
            )
    assert kinds["error"] > 100 and kinds["value"] > 80, kinds
    tab.assert_clean()


def feedback(page, question):
    return page.locator(f"#question-{question.id}-feedback").inner_text()


def test_every_answer_gets_the_modules_verdict_by_keyboard(tab):
    page = tab.page
    for question in QUESTIONS:
        field = page.locator(f"#question-{question.id}-answer")
        for typed in TYPED:
            field.fill("")
            field.focus()
            page.keyboard.insert_text(typed)
            page.keyboard.press("Enter")
            verdict, message = question.check(typed)
            assert feedback(page, question) == message, (question.id, typed)
            form = page.locator(f"#question-{question.id}")
            assert form.get_attribute("data-verdict") == verdict, (question.id, typed)
    tab.assert_clean()


def test_a_formula_question_works_by_touch_on_a_360_px_phone(browser, site):
    with open_visit(browser, site, PHONE) as visit:
        visit.goto("index.html")
        page = visit.page
        for question in QUESTIONS:
            page.locator(f"#question-{question.id}-answer").fill("G.sum(0)")
            page.locator(f"#question-{question.id} button").tap()
            assert feedback(page, question) == question.check("G.sum(0)")[1]
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"the page is {width} px wide on a 360 px phone"
        field = page.locator("input.question-formula").first
        assert field.evaluate("e => getComputedStyle(e).fontFamily").endswith("monospace")
        visit.assert_clean()


def readout_now(page, index):
    """(settings, {label: shown number}) of the page's explorer number ``index``."""
    return (
        page.locator("div.explore")
        .nth(index)
        .evaluate(
            """(box) => [
            Object.fromEntries([...box.querySelectorAll("input")].map(i => [i.name, i.value])),
            Object.fromEntries([...box.querySelectorAll("tr")].map(
                r => [r.querySelector("th").textContent, r.querySelector("td").textContent])),
            box.querySelector("caption").textContent,
        ]"""
        )
    )


def python_readout(explorer_html, settings):
    data = dict(re.findall(r'data-([\w-]+)="([^"]*)"', explorer_html))
    steps = dict(json.loads(html.unescape(data["steps"])))
    formulas = dict(json.loads(html.unescape(data["formulas"])))
    constants = json.loads(html.unescape(data["constants"]))
    values = _formula_values(steps, formulas, constants, settings)
    return {label: float(value.reshape(())) for label, value in values.items()}


def test_sliders_move_the_readout_by_keyboard_as_python_computes_it(tab):
    page = tab.page
    for index, explorer in enumerate(EXPLORERS):
        box = page.locator("div.explore").nth(index)
        for slider in range(box.locator("input").count()):
            box.locator("input").nth(slider).focus()
            for key in ["ArrowRight"] * 3 + ["ArrowLeft"] * 7 + ["End", "Home", "PageUp"]:
                page.keyboard.press(key)
                settings, shown, caption = readout_now(page, index)
                numbers = {k: float(v) for k, v in settings.items()}
                want = python_readout(explorer.initial_html, numbers)
                for label, value in want.items():
                    # written alike, or across a rounding boundary that 1e-9 straddles
                    nudged = {_number(value * (1 + e) + e) for e in (-1e-9, 0.0, 1e-9)}
                    assert shown[label] in nudged, (label, settings, shown[label], value)
                assert caption == ", ".join(f"{k} = {v:g}" for k, v in numbers.items())
    tab.assert_clean()


def test_sliders_start_where_the_stored_readout_is_and_fit_a_phone(browser, site):
    with open_visit(browser, site, PHONE) as visit:
        visit.goto("index.html")
        page = visit.page
        for index, explorer in enumerate(EXPLORERS):
            settings, shown, _ = readout_now(page, index)
            for label, value in shown.items():
                assert f"<th scope='row'>{label}</th><td>{value}</td>" in explorer.initial_html
            box = page.locator("div.explore").nth(index)
            box.locator("input").first.fill("1")
            box.locator("input").first.dispatch_event("input")
            assert readout_now(page, index)[1] != shown, "the readout follows a touch too"
            for handle in box.locator("input").all():
                size = handle.bounding_box()
                assert size["height"] >= 24 and size["x"] + size["width"] <= 360, size
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 360, f"the page is {width} px wide on a 360 px phone"
        visit.assert_clean()
