"""Unit tests for chapters/formula_questions.py: a question answered with a formula, its
verdicts, what goes into the page, and what it says to a page that asks it wrongly."""

import html
import json
import re

import pytest
import questions
import torch
from formula_questions import (
    BATCH_SUM,
    DROPDIM,
    KEEPDIM,
    USUAL,
    WRONG_AXIS,
    WRONG_SHAPE,
    _draw,
    ask_formula,
)
from formulas import FormulaError

NOT_QUITE = questions.NOT_QUITE


def page_values(n=2, d=1, k=1):
    """A page's own example, with its coincidences (here D = K = 1)."""
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(n, d, generator=generator)
    w = torch.randn(d, k, generator=generator)
    g = torch.randn(n, k, generator=generator)
    return x, w, g


def input_question(**changes):
    x, w, g = page_values()
    arguments = dict(
        id="test-formula-dx",
        prompt="With G = ∂L/∂Z, what is ∂L/∂X?",
        names={"G": ("N", "K"), "W": ("D", "K"), "X": ("N", "D")},
        answer="G @ W.T",
        on={"G": g, "W": w, "X": x},
        equals=g @ w.T,
        slips={"That is ∂L/∂W, the weight's gradient.": "X.T @ G"},
        advice="Match the shapes: ∂L/∂X is N×D.",
    )
    return ask_formula(**{**arguments, **changes})


def bias_question(**changes):
    _, _, g = page_values()
    arguments = dict(
        id="test-formula-db",
        prompt="With G = ∂L/∂S, what is ∂L/∂b?",
        names={"G": ("N", "K")},
        answer="G.sum(0, keepdim=True)",
        on={"G": g},
        equals=g.sum(0, keepdim=True),
        advice="b is added to every row.",
    )
    return ask_formula(**{**arguments, **changes})


@pytest.mark.parametrize("typed", ["G @ W.T", "(W @ G.T).T", "G Wᵀ", "G · W^T", " G@W.T "])
def test_the_right_formula_in_any_spelling_is_correct(typed):
    assert input_question().check(typed) == ("correct", questions.CORRECT)


@pytest.mark.parametrize(
    "typed, message",
    [
        ("-G @ W.T", USUAL["sign"]),
        ("2 * G @ W.T", USUAL["twice"]),
        ("G @ W.T / 2", USUAL["half"]),
        ("G @ W.T / N", USUAL["divided by N"]),
        ("N G @ W.T", USUAL["times N"]),
        ("W @ G.T", USUAL["transpose"]),
        ("X.T @ G", "That is ∂L/∂W, the weight's gradient."),
    ],
)
def test_each_mistake_is_named(typed, message):
    assert input_question().check(typed) == ("slip", f"{NOT_QUITE} {message}")


def test_shapes_that_do_not_fit_are_said_with_their_letters():
    assert input_question().check("G @ W") == (
        "invalid",
        "G is N×K and W is D×K, so G @ W needs K = D: which one is transposed?",
    )
    assert input_question().check("X") == (
        "advice",
        f"{NOT_QUITE} Match the shapes: ∂L/∂X is N×D.",
    )
    assert input_question().check("G") == (
        "advice",
        f"{NOT_QUITE} " + WRONG_SHAPE.format(got="N×K", want="N×D"),
    )
    assert input_question().check("Q @ W") == (
        "invalid",
        "Unknown name “Q” at position 1: the names here are D, G, K, N, W, X.",
    )
    assert input_question().check("G @") == (
        "invalid",
        "Expected a name, a number or “(” at position 4, found the end.",
    )


def test_a_bias_gradient_names_the_lost_dimension_the_missing_sum_and_the_wrong_axis():
    question = bias_question()
    assert question.check("G.sum(0, keepdim=True)")[0] == "correct"
    assert question.check("G.sum(0)") == (
        "slip",
        f"{NOT_QUITE} " + KEEPDIM.format(got="a vector of K (one axis)", want="1×K"),
    )
    assert question.check("G") == ("slip", f"{NOT_QUITE} {BATCH_SUM}")
    assert question.check("G.sum(1, keepdim=True)") == (
        "advice",
        f"{NOT_QUITE} " + WRONG_AXIS.format(got="N×1", want="1×K"),
    )
    assert question.check("G.mean(0, keepdim=True)") == (
        "slip",
        f"{NOT_QUITE} {USUAL['divided by N']}",
    )


def test_the_page_example_cannot_pass_a_wrong_formula_the_draws_can():
    # On the page's example D = K = 1, so G @ W and G @ W.T agree there; not on the draws.
    x, w, g = page_values()
    torch.testing.assert_close(g @ w, g @ w.T)
    assert input_question().check("G @ W")[0] == "invalid"
    sizes = {name: tuple(v.shape) for name, v in input_question().draws[0].items()}
    assert sizes["G"] == (5, 4) and sizes["W"] == (3, 4) and sizes["X"] == (5, 3)


def test_the_right_formula_must_give_the_pages_own_result():
    x, w, g = page_values(3, 2, 4)
    with pytest.raises(AssertionError, match="the formula G @ W does not give the page's own"):
        input_question(
            names={"G": ("N", "K"), "W": ("K", "D")},
            answer="G @ W",
            on={"G": g, "W": w.T},
            equals=-(g @ w.T),
            slips={},
        )


def test_mistakes_that_give_the_answer_are_dropped_and_twins_named_together():
    question = input_question(
        slips={"Same as the answer.": "(G @ W.T) * 1", "Also the sign.": "0 - G @ W.T"}
    )
    messages = [message for message, _ in question.slips]
    assert "Same as the answer." not in " ".join(messages)
    assert f"{USUAL['sign']}" in " ".join(messages)
    sign = next(m for m in messages if "Also the sign." in m)
    assert sign == f"Also the sign.{questions.OR}{USUAL['sign']}"


def test_the_form_holds_draws_and_values_not_the_formula():
    question = input_question()
    page = question.html()
    assert "G @ W.T" not in page and "W.T" not in page, "the answer stays hidden"
    found = dict(re.findall(r'data-([\w-]+)="([^"]*)"', page))
    names = json.loads(html.unescape(found["names"]))
    assert set(names) == {"G", "W", "X", "N", "D", "K"}
    assert len(names["G"]) == 2 and len(names["G"][0]) == 5 and len(names["G"][0][0]) == 4
    assert json.loads(html.unescape(found["letters"])) == {"5": "N", "3": "D", "4": "K"}
    assert len(json.loads(html.unescape(found["answer"]))) == 2
    assert 'autocapitalize="off"' in page and 'autocorrect="off"' in page
    assert 'spellcheck="false"' in page and 'autocomplete="off"' in page
    assert "G (N×K), W (D×K), X (N×D)" in page
    assert question.html() == input_question().html(), "the same on every run"


def test_jupyterlab_checks_in_python_with_the_same_words():
    question = input_question()
    widget = question.widget()
    field, button, feedback = widget.children[1], widget.children[2], widget.children[3]
    field.value = "W @ G.T"
    assert html.unescape(feedback.value) == f"<b>{NOT_QUITE} {USUAL['transpose']}</b>"
    field.value = "G @ W.T"
    button.click()
    assert feedback.value == f"<b>{questions.CORRECT}</b>"


@pytest.mark.parametrize(
    "changes, error, words",
    [
        ({"names": {}}, TypeError, "names must map"),
        ({"names": {"G": ("N", "Q")}}, ValueError, "size letters"),
        (
            {"on": {"G": torch.ones(2, 2), "W": torch.ones(3, 4), "X": torch.ones(2, 3)}},
            ValueError,
            "has shape",
        ),
        ({"slips": {"Broken.": "G @ W"}}, ValueError, "slip formula 'G @ W' cannot be"),
        ({"advice": ""}, ValueError, "advice must be a sentence"),
        ({"id": "Bad id"}, ValueError, "question id must be"),
    ],
)
def test_a_question_asked_wrongly_is_refused_with_a_reason(changes, error, words):
    with pytest.raises(error, match=words):
        input_question(**changes)


def test_a_questions_page_is_the_same_in_every_python_process():
    # The sizes' letters went into the page in the order of a set of strings, which
    # Python's hash randomisation changes from process to process: nbval then saw a
    # page that differs from the stored one.
    import os
    import subprocess
    import sys
    from pathlib import Path

    source = (
        "import torch\n"
        "from formula_questions import ask_formula\n"
        "x, g = torch.ones(2, 3), torch.ones(2, 4)\n"
        'q = ask_formula("test-formula-order", "∂L/∂W?", {"x": ("N", "D"), "g": ("N", "K")},'
        ' "x.T @ g", on={"x": x, "g": g}, equals=x.T @ g, advice="Shapes.")\n'
        "print(q.html())\n"
    )
    import formula_questions

    # where the module was imported from: chapters/, or the mutation run's own copy of it
    chapters = Path(formula_questions.__file__).resolve().parent
    processes = [  # side by side: each spends most of its time importing torch
        subprocess.Popen(
            [sys.executable, "-c", source],
            cwd=chapters,
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for hash_seed in (0, 1, 2)  # three orders of {"N", "D", "K"} in CPython 3.11
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-2000:]
    pages = {stdout for stdout, _ in outputs}
    assert len(pages) == 1, "the page differs between Python processes"


def total_question(question_id):
    """A question whose answer is a plain number: the sum of every entry of G."""
    _, _, g = page_values()
    return ask_formula(
        question_id,
        "What is the sum of every entry of G?",
        {"G": ("N", "K")},
        "G.sum()",
        {"G": g},
        g.sum(),
        advice="Add every entry.",
    )


def test_a_number_typed_as_a_kept_dimension_is_told_to_drop_it():
    question = total_question("test-formula-total")
    assert question.check("G.sum(keepdim=True)") == (
        "slip",
        f"{NOT_QUITE} " + DROPDIM.format(got="1×1", want="a number"),
    )


def test_a_question_with_no_size_n_has_no_n_mistakes_and_still_names_the_others():
    w = torch.randn(3, 4, generator=torch.Generator().manual_seed(5))
    question = ask_formula(
        "test-formula-no-n",
        "What is Wᵀ?",
        {"W": ("D", "K")},
        "W.T",
        {"W": w},
        w.T,
        advice="Transpose it.",
    )
    messages = " ".join(message for message, _ in question.slips)
    assert USUAL["sign"] in messages and USUAL["divided by N"] not in messages


def test_an_entry_that_rounds_to_0_is_drawn_as_0_01(monkeypatch):
    """No entry is 0, where a wrong formula (a product by it) would agree with a right one."""
    raw = torch.tensor([[0.004, -0.004, 0.0], [0.3, -0.3, 1.234]], dtype=torch.float64)
    monkeypatch.setattr(torch, "randn", lambda size, **options: raw)
    drawn = _draw({"G": ("N", "K")}, {"N": 2, "K": 3}, set(), torch.Generator())["G"]
    expected = [[0.01, 0.01, 0.01], [0.3, -0.3, 1.23]]
    assert torch.equal(drawn, torch.tensor(expected, dtype=torch.float64))


def test_names_between_0_and_1_are_drawn_there_the_others_around_0_with_two_decimals():
    s = torch.full((2, 3), 0.5)
    g = torch.randn(2, 3, generator=torch.Generator().manual_seed(6))

    def ask():
        return ask_formula(
            "test-formula-unit",
            "With s = σ(Z), what is ∂L/∂Z?",
            {"s": ("N", "K"), "g": ("N", "K")},
            "s * (1 - s) * g",
            {"s": s, "g": g},
            s * (1 - s) * g,
            advice="The sigmoid's derivative.",
            unit=("s",),
        )

    question = ask()
    first, second = question.draws
    for draw in question.draws:
        assert all(value.dtype == torch.float64 for value in draw.values())
        assert draw["s"].shape == (5, 4) and draw["g"].shape == (5, 4)
        assert bool(((draw["s"] >= 0.05) & (draw["s"] <= 0.95)).all())
        assert bool((draw["g"] < 0).any()) and bool((draw["g"].abs() > 1).any())
        for value in (draw["s"], draw["g"]):
            assert bool((value != 0).all()) and len(set(value.flatten().tolist())) > 10
            torch.testing.assert_close(torch.round(value * 100), value * 100, rtol=0, atol=1e-9)
        assert draw["N"].item() == 5 and draw["K"].item() == 4
    assert not torch.equal(first["s"], second["s"]) and not torch.equal(first["g"], second["g"])
    again = ask()
    assert question.html() == again.html(), "the same draws on every run"


def test_the_pages_own_result_is_checked_to_five_digits():
    x, w, g = page_values(3, 2, 4)
    with pytest.raises(AssertionError, match="does not give the page's own result"):
        input_question(on={"G": g, "W": w, "X": x}, equals=(g @ w.T) * 1.001, slips={})


def test_a_formula_that_fits_only_the_pages_coincidence_is_refused_in_the_sizes_letters():
    with pytest.raises(FormulaError, match="so G @ W needs K = D"):
        input_question(answer="G @ W", equals=page_values()[2] @ page_values()[1], slips={})
    with pytest.raises(ValueError, match="slip formula 'G @ W' cannot be evaluated: G is N×K"):
        input_question(slips={"Broken.": "G @ W"})


@pytest.mark.parametrize(
    "changes, words",
    [
        ({"prompt": " "}, "prompt must be a sentence"),
        ({"slips": {"": "X.T @ G"}}, "a slip's message must be a sentence"),
    ],
)
def test_a_missing_sentence_is_named(changes, words):
    with pytest.raises(ValueError, match=words):
        input_question(**changes)


def test_the_form_carries_its_kind_id_slips_and_advice():
    question = input_question()
    page = question.html()
    assert page.startswith('<form class="question" id="question-test-formula-dx" data-kind=')
    found = dict(re.findall(r' data-([\w-]+)="([^"]*)"', page))
    assert found["kind"] == "formula"
    assert "∂L/∂W" in found["slips"], "the messages written as they are, not as \\u escapes"
    slips = json.loads(html.unescape(found["slips"]))
    assert [message for message, _ in slips] == [message for message, _ in question.slips]
    assert len(slips[0][1]) == 2
    assert html.unescape(found["advice"]) == "Match the shapes: ∂L/∂X is N×D."


def test_the_widget_checks_when_asked_and_starts_empty():
    question = input_question()
    prompt, field, button, feedback = question.widget().children
    assert feedback.value == "" and field.placeholder == "G @ W.T"
    assert field.continuous_update is False
    assert question.prompt in html.unescape(prompt.value)
    assert "G (N×K), W (D×K), X (N×D)" in html.unescape(prompt.value)
    field.value = "W @ G.T"
    feedback.value = ""
    button.click()
    assert html.unescape(feedback.value) == f"<b>{NOT_QUITE} {USUAL['transpose']}</b>"


def test_two_values_agree_within_a_billionth_of_one_plus_the_answer():
    from formula_questions import _close

    zero, one = torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    assert _close(zero + 1e-9, zero) and not _close(zero + 1.5e-9, zero)
    assert _close(one + 1.5e-9, one) and not _close(one + 2.5e-9, one)
    assert not _close(torch.zeros(2, dtype=torch.float64), torch.zeros(1, dtype=torch.float64))


def test_a_sum_over_the_wrong_axis_or_a_shape_off_is_told_apart():
    question = bias_question()
    rows = bias_question(
        id="test-formula-rows",
        answer="G.sum(1, keepdim=True)",
        equals=page_values()[2].sum(1, keepdim=True),
    )
    assert rows.check("G.sum(0, keepdim=True)") == (
        "advice",
        f"{NOT_QUITE} " + WRONG_AXIS.format(got="1×K", want="N×1"),
    )
    for typed, got in [
        ("G.sum(1)", "a vector of N (one axis)"),
        ("G.T", "K×N"),
        ("G.sum(keepdim=True)", "1×1"),
    ]:
        assert question.check(typed) == (
            "advice",
            f"{NOT_QUITE} " + WRONG_SHAPE.format(got=got, want="1×K"),
        ), typed


def test_a_total_typed_as_one_sum_per_row_is_told_to_add_the_rows():
    question = total_question("test-formula-total-rows")
    assert question.check("G.sum(1, keepdim=True)") == ("slip", f"{NOT_QUITE} {BATCH_SUM}")


def test_the_widget_checks_only_what_is_typed():
    prompt, field, button, feedback = input_question().widget().children
    field.value = "G @ W.T"
    feedback.value = ""
    field.placeholder, field.disabled = "another", True
    assert feedback.value == ""


def test_an_id_another_question_has_is_refused():
    questions.ask("test-formula-shared-id", "What is 1 + 1?", 2, advice="Count.")
    with pytest.raises(ValueError, match="'test-formula-shared-id' is already used"):
        bias_question(id="test-formula-shared-id")
