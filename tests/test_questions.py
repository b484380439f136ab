"""Unit tests for chapters/questions.py ("Check yourself" questions) and the extension that
adds their script to a page (_ext/question_assets.py): the checking rules, the HTML the
book shows, the JupyterLab widget, and what the module says to bad input."""

import html.parser
import importlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from types import SimpleNamespace

import pytest
import questions
import torch
from questions import ask, choose

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
question_assets = importlib.import_module("question_assets")

VNU_JAR = ROOT / "tests" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
JAVA = os.environ.get("JAVA", shutil.which("java") or "java")
SCRIPT = ROOT / "_ext" / "question_static" / "questions.js"
STYLE = ROOT / "_ext" / "question_static" / "questions.css"

SIGN = "The sign is flipped: ∂L/∂ŷ = −2(y − ŷ)."
HALF = "The factor 2 of the square is missing."
ADVICE = "Recheck each factor of the chain rule: ∂L/∂ŷ, then ∂ŷ/∂w."


def gradient_question(**changes):
    """The example of the module's API: ∂L/∂w = 16 for w = 3, x = 2, y = 2."""
    w = torch.tensor([3.0], requires_grad=True)
    x, y = torch.tensor([2.0]), torch.tensor([2.0])
    ((y - w * x) ** 2).sum().backward()
    dL_dw = w.grad
    arguments = dict(
        id="test-dl-dw",
        prompt="With w = 3, x = 2 and y = 2, what is ∂L/∂w?",
        answer=dL_dw,
        slips={SIGN: -dL_dw, HALF: dL_dw / 2},
        advice=ADVICE,
        decimals=2,
    )
    return ask(**{**arguments, **changes})


def transpose_question(**changes):
    arguments = dict(
        id="test-transpose",
        prompt="Which factor is transposed in ∂L/∂W = Xᵀ ∂L/∂Z?",
        options=["X", "∂L/∂Z", "W"],
        answer=0,
        slips={2: "W is what the gradient is taken with respect to, not a factor."},
        advice="Match the shapes: ∂L/∂W is D × K.",
    )
    return choose(**{**arguments, **changes})


def data(question):
    """The form's data- attributes, as the page's script reads them."""
    found = re.search(r"<form ([^>]*)>", question.html()).group(1)
    return {key: html.unescape(value) for key, value in re.findall(r'data-(\w+)="([^"]*)"', found)}


# -- Checking a number ----------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["16", "16.0", "+16", " 16 ", "1.6e1", "1.6E+1", "16.004"])
def test_the_right_number_in_any_usual_spelling_is_correct(typed):
    assert gradient_question().check(typed) == ("correct", "Correct.")


@pytest.mark.parametrize("typed", ["-16", "−16", "–16", "-16.00", "-1.6e1", "-15.996"])
def test_the_sign_slip_is_named_with_an_ascii_or_unicode_minus(typed):
    assert gradient_question().check(typed) == ("slip", f"Not quite. {SIGN}")


def test_a_number_given_as_a_number_is_checked_as_typed():
    question = gradient_question()
    assert question.check(16) == question.check(16.0) == ("correct", "Correct.")
    assert question.check(-16.0) == ("slip", f"Not quite. {SIGN}")


def test_each_slip_value_gets_its_own_message_and_anything_else_the_advice():
    question = gradient_question()
    assert question.check("8") == ("slip", f"Not quite. {HALF}")
    for typed in ("3", "32", "16.006", "15.99", "0", "-8"):
        assert question.check(typed) == ("advice", f"Not quite. {ADVICE}"), typed


def test_a_number_exactly_half_a_unit_away_is_right_whatever_the_floats_rounding():
    whole = ask("test-half-unit-whole", "How many?", answer=16, advice="Count.")
    assert whole.check("16.5")[0] == whole.check("15.5")[0] == "correct"
    tenths = ask("test-half-unit-tenths", "y?", answer=0.7, advice="Recheck.", decimals=1)
    assert 0.75 - 0.7 > tenths.tolerance, "the floats put 0.75 just outside half a unit"
    assert tenths.check("0.75")[0] == tenths.check("0.65")[0] == "correct"
    # The allowance for rounding, one part in a billion of half a unit, is itself inside.
    zero = ask("test-half-unit-zero", "b?", answer=0, advice="Recheck.")
    assert zero.check(repr(zero.tolerance * (1 + 1e-9)))[0] == "correct"
    assert zero.check(repr(zero.tolerance * (1 + 3e-9)))[0] == "advice"


def test_a_number_is_right_within_half_a_unit_of_the_last_decimal():
    question = ask("test-half-unit", "σ′(0.5)?", answer=0.2350037, advice="Recheck.", decimals=3)
    assert question.check("0.235")[0] == "correct"
    assert question.check("0.2355")[0] == "correct"  # 0.2350037 + 0.0004963
    assert question.check("0.2346")[0] == "correct"  # 0.2350037 - 0.0004037
    assert question.check("0.2345")[0] == "advice"  # 0.0005037 below
    assert question.check("0.2356")[0] == "advice"  # 0.0005963 above
    whole = ask("test-whole", "How many entries?", answer=6, advice="Count them.", decimals=0)
    assert [whole.check(t)[0] for t in ("6", "6.4", "5.6", "7", "5.4")] == [
        "correct",
        "correct",
        "correct",
        "advice",
        "advice",
    ]


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "sixteen", "16,0", "1 6", "nan", "inf", "-inf", "1e999", "0x10", "--16", "١٦"],
)
def test_what_is_not_a_number_gets_a_plain_message(typed):
    assert gradient_question().check(typed) == ("invalid", questions.NOT_A_NUMBER)


def test_a_slip_equal_to_the_answer_refuses_the_question_in_words():
    question = gradient_question(slips={SIGN: torch.tensor([16.0]), HALF: 8.0})
    assert question.refused == questions.REFUSED.format(slips=f"“{SIGN}”")
    page = question.html()
    assert "<form" not in page and "<input" not in page, "a refused question has no form"
    assert 'class="question question-refused"' in page
    assert html.escape(question.refused) in page and html.escape(question.prompt) in page
    widget = question.widget()
    assert html.escape(question.refused) in widget.value, "JupyterLab says the same"


def test_two_slips_equal_to_the_answer_are_both_named_and_the_others_still_checked():
    other = "The mean is taken instead of the sum."
    question = gradient_question(slips={SIGN: 16.0, HALF: 16.001, other: 8.0})
    assert question.refused == questions.REFUSED.format(slips=f"“{SIGN}” and “{HALF}”")
    assert question.check("8") == ("slip", f"Not quite. {other}")


def test_a_slip_exactly_as_far_apart_as_two_answers_can_be_is_named_not_refused():
    # 2 × half a unit, less the allowance for rounding: the nearest two told-apart values.
    apart = 2 * 0.5 * (1 - 1e-9)
    question = ask("test-apart", "b?", answer=0, slips={SIGN: apart, HALF: 2 * apart}, advice="A.")
    assert question.refused is None
    assert question.slips == [(apart, SIGN), (2 * apart, HALF)]


def test_a_slip_within_the_answers_precision_is_refused_one_just_outside_kept():
    # Two values are told apart when the ranges they accept (± half a unit) do not overlap.
    assert gradient_question(slips={SIGN: 16.009}).refused
    question = gradient_question(slips={HALF: 16.0101})
    assert question.refused is None
    assert question.slips == [(16.0101, HALF)]
    assert question.check("16.004") == ("correct", "Correct.")
    assert question.check("16.01") == ("slip", f"Not quite. {HALF}")
    assert question.check("16.02") == ("advice", f"Not quite. {ADVICE}")


def test_whole_numbers_one_apart_are_two_answers():
    question = ask("test-one-apart", "∂L/∂W₁₁?", answer=5, slips={HALF: 4, SIGN: -5}, advice="A.")
    assert question.refused is None and question.decimals == 0
    assert question.check("4") == ("slip", f"Not quite. {HALF}")
    assert question.check("5") == ("correct", "Correct.")


def test_slips_that_coincide_with_each_other_are_named_together():
    other = "The mean is taken instead of the sum."
    question = gradient_question(slips={SIGN: -16.0, HALF: 8.0, other: 8.001})
    assert question.refused is None
    assert question.slips == [(-16.0, SIGN), (8.0, f"{HALF}{questions.OR}{other}")]
    assert question.check("8") == ("slip", f"Not quite. {HALF} Or: {other}")
    assert question.check("8.001") == question.check("8")


def test_a_slip_whose_value_is_not_finite_is_dropped():
    question = gradient_question(slips={SIGN: math.inf, HALF: torch.tensor(float("nan"))})
    assert question.slips == []
    assert question.check("8")[0] == "advice"


def test_answers_come_as_floats_ints_numpy_scalars_or_one_element_tensors():
    for answer in (16, 16.0, torch.tensor(16.0), torch.tensor([[16.0]], dtype=torch.float64)):
        question = ask("test-kinds", "∂L/∂w?", answer=answer, advice="Recheck.")
        assert question.answer == 16.0 and isinstance(question.answer, float)
    numpy = pytest.importorskip("numpy")
    assert ask("test-kinds", "∂L/∂w?", answer=numpy.float32(16), advice="Recheck.").answer == 16
    assert ask("test-kinds", "∂L/∂w?", answer=numpy.array([16.0]), advice="A.").answer == 16
    with pytest.raises(
        ValueError, match=r"^answer must be one number, got an array of shape \(2,\)$"
    ):
        ask("test-kinds", "∂L/∂w?", answer=numpy.array([16.0, 8.0]), advice="Recheck.")


# -- Checking a choice ------------------------------------------------------------------------


def test_a_choice_is_correct_a_slip_or_advice_by_the_option_picked():
    question = transpose_question()
    shown = question.options.index  # an option's position on the page
    assert question.check(shown("X")) == ("correct", "Correct.")
    assert question.check(shown("W")) == (
        "slip",
        "Not quite. W is what the gradient is taken with respect to, not a factor.",
    )
    assert question.check(shown("∂L/∂Z")) == (
        "advice",
        "Not quite. Match the shapes: ∂L/∂W is D × K.",
    )
    assert question.check(None) == ("invalid", questions.NO_CHOICE)


def test_a_choices_options_are_shown_in_an_order_of_their_own_the_same_on_every_run():
    options = ["X", "∂L/∂Z", "W", "Wᵀ", "Xᵀ"]
    orders = set()
    for n in range(12):
        question = transpose_question(id=f"test-order-{n}", options=options, slips={})
        assert sorted(question.options) == sorted(options)
        assert question.options[question.answer] == "X"
        assert transpose_question(id=f"test-order-{n}", options=options, slips={}).options == (
            question.options
        ), "the same id gives the same order"
        orders.add(tuple(question.options))
    assert len(orders) > 3, "the order depends on the id"
    answers = {transpose_question(id=f"test-order-{n}", slips={}).answer for n in range(12)}
    assert answers == {0, 1, 2}, "the right option is not always at one place"


@pytest.mark.parametrize(
    "typed, value",
    [("1/4", 0.25), (" -1 / 4 ", -0.25), ("−3/4", -0.75), ("1.5/0.5", 3.0), ("2e1/5", 4.0)],
)
def test_a_fraction_is_a_number(typed, value):
    assert questions.parse_number(typed) == value
    question = ask("test-fraction", "What is 1/4?", answer=value, advice="Recheck.")
    assert question.check(typed) == ("correct", "Correct.")


@pytest.mark.parametrize("typed", ["1/0", "1/2/3", "/4", "1/", "a/2", "1e400/1e300"])
def test_what_is_not_a_fraction_gets_the_plain_message(typed):
    assert gradient_question().check(typed) == ("invalid", questions.NOT_A_NUMBER)


def test_a_whole_number_answer_asks_for_a_whole_number_by_default():
    assert ask("test-whole-default", "How many?", answer=16, advice="Count.").decimals == 0
    assert ask("test-whole-default", "How many?", answer=16.0004, advice="Count.").decimals == 2
    assert ask("test-whole-default", "How many?", answer=-3.0, advice="Count.").decimals == 0
    # Within one part in a billion of a whole number (at least 1e-9 near 0): a whole number
    # computed in floats.
    for whole in (1e-9, 1e6 + 1e-4, 16 * (1 + 5e-10)):
        assert ask("test-whole-default", "How many?", answer=whole, advice="C.").decimals == 0
    for not_whole in (1 + 1.5e-9, 1e6 + 1e-2):
        assert ask("test-not-whole", "How much?", answer=not_whole, advice="C.").decimals == 2


# -- The HTML the book shows ------------------------------------------------------------------


class _Elements(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements(markup):
    parser = _Elements()
    parser.feed(markup)
    return parser.elements


def test_a_number_question_is_a_labelled_field_with_its_precision_and_a_live_region():
    markup = gradient_question().html()
    found = elements(markup)
    form = found[0]
    assert form == (
        "form",
        {
            "class": "question",
            "id": "question-test-dl-dw",
            "data-kind": "number",
            "data-answer": "16",
            "data-slips": json.dumps([["-16", SIGN], ["8", HALF]], ensure_ascii=False),
            "data-advice": ADVICE,
            "data-decimals": "2",
        },
    )
    label = next(attrs for tag, attrs in found if tag == "label")
    field = next(attrs for tag, attrs in found if tag == "input")
    assert label["for"] == field["id"] == "question-test-dl-dw-answer"
    assert field["aria-describedby"] == "question-test-dl-dw-precision"
    assert field["type"] == "text" and "inputmode" not in field  # a keyboard with a minus
    assert ">Answer to 2 decimal places.</p>" in markup
    assert 'data-decimals="2"' in markup  # as the page's script reads it, in lower case
    assert ">With w = 3, x = 2 and y = 2, what is ∂L/∂w?</label>" in markup
    assert '<button type="submit">Check</button>' in markup
    feedback = next(attrs for tag, attrs in found if attrs.get("class") == "question-feedback")
    assert feedback["aria-live"] == "polite" and feedback["role"] == "status"


def test_a_choice_is_a_radio_group_named_by_its_prompt():
    markup = transpose_question().html()
    radios = [attrs for tag, attrs in elements(markup) if tag == "input"]
    assert [r["type"] for r in radios] == ["radio"] * 3
    assert [r["value"] for r in radios] == ["0", "1", "2"]
    assert {r["name"] for r in radios} == {"question-test-transpose"}
    assert '<legend class="question-prompt">Which factor is transposed' in markup
    options = r'<label class="question-option"><input type="radio" [^>]*> [^<]*</label>'
    assert re.search(rf"</legend>({options}){{3}}</fieldset>", markup), "only the options"
    assert data(transpose_question()) == {
        "kind": "choice",
        "answer": "0",
        "slips": '[[2, "W is what the gradient is taken with respect to, not a factor."]]',
        "advice": "Match the shapes: ∂L/∂W is D × K.",
    }


@pytest.mark.parametrize(
    "decimals, words",
    [
        (0, "Answer with a whole number."),
        (1, "Answer to 1 decimal place."),
        (4, "Answer to 4 decimal places."),
    ],
)
def test_the_page_says_how_precise_the_answer_must_be(decimals, words):
    question = ask(
        f"test-precision-{decimals}",
        "∂L/∂b?",
        answer=-0.0199,
        advice="Recheck.",
        decimals=decimals,
    )
    assert f">{words}</p>" in question.html()


def test_the_html_is_the_same_on_every_run_with_no_address_or_random_id():
    first, second = gradient_question().html(), gradient_question().html()
    assert first == second
    assert not re.search(r"0x[0-9a-f]{6,}|[0-9a-f]{8}-[0-9a-f]{4}-", first)
    ids = re.findall(r'\bid="([^"]+)"', first + transpose_question().html())
    assert all(i.startswith(("question-test-dl-dw", "question-test-transpose")) for i in ids)
    assert len(ids) == len(set(ids))


def test_numbers_in_the_html_have_twelve_significant_digits_and_no_negative_zero():
    question = ask(
        "test-digits",
        "σ(0.5)?",
        answer=torch.sigmoid(torch.tensor(0.5, dtype=torch.float64)),
        slips={"Zero.": -0.0},
        advice="Recheck.",
        decimals=4,
    )
    assert data(question)["answer"] == "0.622459331202"
    assert json.loads(data(question)["slips"]) == [["0", "Zero."]]


def test_text_is_escaped_in_the_html():
    question = ask(
        "test-escape",
        'Is 1 < 2 & "x" > y?',
        answer=1,
        decimals=0,
        slips={"Not <b>bold</b>.": 3},
        advice="Look at 'both' sides & <again>.",
    )
    markup = question.html()
    assert "Is 1 &lt; 2 &amp; &quot;x&quot; &gt; y?" in markup
    assert "<b>" not in markup and "<again>" not in markup
    assert data(question)["advice"] == "Look at 'both' sides & <again>."


def test_the_html_is_valid_for_the_nu_checker(tmp_path):
    if not VNU_JAR.is_file() or shutil.which(JAVA) is None:
        pytest.fail(f"The Nu HTML checker needs {VNU_JAR} and Java: make vnu java", pytrace=False)
    page = tmp_path / "questions.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Questions</title>'
        f"</head><body><main>{gradient_question().html()}{transpose_question().html()}"
        f"{ask('test-valid', 'A whole number?', answer=3, advice='Count.', decimals=0).html()}"
        "</main></body></html>",
        encoding="utf-8",
    )
    result = subprocess.run(
        [JAVA, "-jar", str(VNU_JAR), "--errors-only", str(page)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_the_bundle_has_the_form_the_widget_view_and_plain_words():
    bundle = gradient_question()._repr_mimebundle_()
    assert bundle["text/html"] == gradient_question().html()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "Check yourself: With w = 3, x = 2 and y = 2, what is ∂L/∂w?"


# -- The widget in JupyterLab -----------------------------------------------------------------


def test_the_widget_checks_a_number_when_typed_and_on_the_button():
    prompt, field, button, feedback = gradient_question().widget().children
    assert "Answer to 2 decimal places." in prompt.value
    assert feedback.value == "", "nothing to say before the reader answers"
    field.placeholder = "a number"  # a change that is not the reader's answer
    assert feedback.value == ""
    assert field.continuous_update is False  # the value changes on Enter, not on each key
    field.value = "−16"
    assert feedback.value == f"<b>Not quite. {html.escape(SIGN)}</b>"
    field.value = "16.00"
    button.click()
    assert feedback.value == "<b>Correct.</b>"


def test_the_widget_checks_the_option_picked():
    prompt, options, button, feedback = transpose_question().widget().children
    assert (
        prompt.value == "<b>Check yourself</b><br>Which factor is transposed in ∂L/∂W = Xᵀ ∂L/∂Z?"
    )
    # ipywidgets draws radio buttons 300 px wide: a long option would be cut off.
    assert options.layout.width == "max-content"
    assert feedback.value == ""
    button.click()
    assert feedback.value == f"<b>{questions.NO_CHOICE}</b>"
    options.value = 1
    button.click()
    assert feedback.value == "<b>Not quite. Match the shapes: ∂L/∂W is D × K.</b>"
    options.value = 0
    button.click()
    assert feedback.value == "<b>Correct.</b>"


# -- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [math.inf, -math.inf, math.nan, torch.tensor([float("nan")])])
def test_a_non_finite_answer_is_refused(answer):
    with pytest.raises(ValueError, match="answer must be a finite number"):
        gradient_question(answer=answer)


@pytest.mark.parametrize("answer", ["16", True, None, [16.0]])
def test_an_answer_that_is_not_a_number_is_refused(answer):
    with pytest.raises(TypeError, match="answer must be a number"):
        gradient_question(answer=answer)


def test_an_answer_of_several_entries_is_refused():
    with pytest.raises(ValueError, match=r"one number, got a tensor of shape \(2,\)"):
        gradient_question(answer=torch.tensor([16.0, 8.0]))


@pytest.mark.parametrize("decimals", [-1, 7, 100])
def test_decimals_out_of_range_are_refused(decimals):
    with pytest.raises(ValueError, match="decimals must be from 0 to 6"):
        gradient_question(decimals=decimals)


def test_decimals_up_to_six_are_taken():
    assert gradient_question(decimals=questions.MAX_DECIMALS).decimals == 6


@pytest.mark.parametrize("decimals", [2.0, "2", True])
def test_decimals_that_are_not_a_whole_number_are_refused(decimals):
    with pytest.raises(TypeError, match="decimals must be a whole number"):
        gradient_question(decimals=decimals)


@pytest.mark.parametrize("id", ["", "Ch1", "ch1_dl", "ch1 dl", "-ch1", "ch1--dl", "ch1-", 7])
def test_an_id_outside_lowercase_letters_digits_and_hyphens_is_refused(id):
    with pytest.raises(ValueError, match="question id must be"):
        gradient_question(id=id)


def test_a_second_question_with_the_same_id_is_refused():
    ask("test-duplicate", "What is ∂L/∂w?", answer=16, advice="Recheck.")
    words = (
        r"^question id 'test-duplicate' is already used by another question "
        r"\('What is ∂L/∂w\?'\); each question needs its own id$"
    )
    with pytest.raises(ValueError, match=words):
        choose("test-duplicate", "Which is it?", options=["a", "b"], answer=0, advice="Look.")
    choose("test-duplicate-choice", "Which is it?", options=["a", "b"], answer=0, advice="Look.")
    with pytest.raises(ValueError, match="'test-duplicate-choice' is already used"):
        choose("test-duplicate-choice", "Which one?", options=["a", "b"], answer=1, advice="L.")


def test_two_questions_with_one_id_are_told_apart_through_a_librarys_wrapper():
    """A wrapper from an installed package between the cell and ask (a decorator, a
    tool's trampoline) is not taken for the place that asked."""
    wrapper = {}
    library = os.path.join(sysconfig.get_path("purelib"), "a_wrapping_package.py")
    exec(compile("def wrapped(f, *a, **k):\n    return f(*a, **k)\n", library, "exec"), wrapper)
    wrapped = wrapper["wrapped"]
    wrapped(ask, "test-wrapped", "What is ∂L/∂w?", answer=16, advice="Recheck.")
    with pytest.raises(ValueError, match="'test-wrapped' is already used by another question"):
        wrapped(ask, "test-wrapped", "What is ∂L/∂x?", answer=4, advice="Recheck.")


def test_running_the_same_cell_again_remakes_its_question_even_with_other_values():
    for w in (3, 4):  # a learner changes w and runs the page again: one line, one question
        ask("test-rerun", f"With w = {w}, what is ∂L/∂w?", answer=4 * w, advice="Recheck.")


@pytest.mark.parametrize("field", ["prompt", "advice"])
@pytest.mark.parametrize("value", [None, "", "   ", 3])
def test_a_missing_prompt_or_advice_is_refused(field, value):
    with pytest.raises(ValueError, match=f"{field} must be a sentence"):
        gradient_question(**{field: value})


def test_slips_must_map_a_message_to_a_value():
    with pytest.raises(TypeError, match="slips must be a dict"):
        gradient_question(slips=[-16.0])
    with pytest.raises(TypeError, match="the value of slip 'Sign.' must be a number"):
        gradient_question(slips={"Sign.": "-16"})
    with pytest.raises(ValueError, match="a slip's message must be a sentence"):
        gradient_question(slips={"": -16.0})


def test_a_choice_drops_a_slip_on_the_right_option():
    question = transpose_question(answer=2)  # its slip is on option 2
    assert question.slips == []
    assert question.check(2) == ("correct", "Correct.")
    assert "W is what" not in question.html()


def test_a_choice_refuses_bad_options_answers_and_slips():
    with pytest.raises(ValueError, match="at least two"):
        transpose_question(options=["X"])
    with pytest.raises(ValueError, match="options must differ"):
        transpose_question(options=["X", "X", "W"])
    with pytest.raises(ValueError, match="answer must be an option's index, 0 to 2, got 3"):
        transpose_question(answer=3)
    with pytest.raises(ValueError, match="answer must be an option's index"):
        transpose_question(answer=True)
    with pytest.raises(ValueError, match="a slip's key must be an option's index"):
        transpose_question(slips={5: "No such option."})
    with pytest.raises(ValueError, match="advice must be a sentence"):
        transpose_question(advice="")
    with pytest.raises(ValueError, match="^prompt must be a sentence of text, got ''$"):
        transpose_question(prompt="")
    with pytest.raises(ValueError, match="^an option must be a sentence of text, got ' '$"):
        transpose_question(options=["X", " ", "W"])
    with pytest.raises(ValueError, match="^a slip's message must be a sentence of text, got ''"):
        transpose_question(slips={2: ""})
    words = r"^slips must be a dict from option index to message, got \['W'\]$"
    with pytest.raises(TypeError, match=words):
        transpose_question(slips=["W"])


# -- The script and the extension -------------------------------------------------------------


def test_the_script_says_what_the_module_says():
    script = SCRIPT.read_text(encoding="utf-8")
    for words in (
        questions.CORRECT,
        questions.NOT_QUITE,
        questions.NOT_A_NUMBER,
        questions.NO_CHOICE,
    ):
        assert f'"{words}"' in script, words
    assert f"/^{questions.NUMBER.pattern}$/" in script
    assert all(f"\\u{ord(c):04x}" in script for c in questions.MINUSES)


def test_the_script_and_style_are_small_and_fetch_nothing():
    for path in (SCRIPT, STYLE):
        text = path.read_text(encoding="utf-8")
        assert len(text.encode()) < 4000, f"{path.name} has grown to {len(text)} bytes"
        assert not re.search(r"https?:|//[a-z]|@import|\bfetch\(|XMLHttpRequest", text), path


def test_the_extension_adds_the_files_only_to_a_page_with_questions():
    added = []
    app = SimpleNamespace(
        add_css_file=lambda name, **kw: added.append((name, kw)),
        add_js_file=lambda name, **kw: added.append((name, kw)),
    )
    question_assets.add_assets(
        app, "chapters/x", "page.html", {"body": "<p>No question</p>"}, None
    )
    assert added == []
    body = gradient_question().html() + transpose_question().html()
    question_assets.add_assets(app, "chapters/x", "page.html", {"body": body}, None)
    assert added == [("questions.css", {}), ("questions.js", {"loading_method": "defer"})]
    added.clear()
    formula = '<form class="question" id="question-f" data-kind="formula">'
    question_assets.add_assets(app, "chapters/x", "page.html", {"body": formula}, None)
    assert added == [
        ("questions.css", {}),
        ("questions.js", {"loading_method": "defer"}),
        ("formulas.js", {"loading_method": "defer"}),
    ]
    added.clear()
    sliders = '<div class="explore" data-kind="explore">'
    question_assets.add_assets(app, "chapters/x", "page.html", {"body": sliders}, None)
    assert added == [("questions.css", {}), ("formulas.js", {"loading_method": "defer"})]
    config = SimpleNamespace(html_static_path=["_static"])
    question_assets.add_static_path(app, config)
    assert config.html_static_path == ["_static", str(SCRIPT.parent)]


# -- The questions the pages store ----------------------------------------------------------


def stored_forms():
    """(notebook, data- attributes) of every question in the notebooks' stored outputs."""
    notebooks = [*sorted((ROOT / "chapters").glob("*.ipynb")), ROOT / "rules.ipynb"]
    found = []
    for notebook in notebooks:
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                page = "".join(output.get("data", {}).get("text/html", ""))
                assert "question-refused" not in page, (
                    f"{notebook.name} stores a refused question: a slip gives its answer"
                )
                for attributes in re.findall(r'<form class="question" ([^>]*)>', page):
                    pairs = re.findall(r'data-(\w+)="([^"]*)"', attributes)
                    found.append((notebook.name, {k: html.unescape(v) for k, v in pairs}))
    return found


def test_no_stored_question_asks_for_decimals_of_a_whole_number():
    for notebook, form in stored_forms():
        if form["kind"] == "number" and float(form["answer"]).is_integer():
            assert form["decimals"] == "0", (notebook, form["answer"], form["decimals"])


def test_the_right_option_is_not_first_in_every_stored_choice():
    answers = [form["answer"] for _, form in stored_forms() if form["kind"] == "choice"]
    assert len(answers) >= 2 and set(answers) != {"0"}, answers
