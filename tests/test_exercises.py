"""Unit tests for chapters/exercises.py: right answers, wrong answers, bad input."""

import re

import pytest
import torch

from exercises import Exercise, check_gradient

MEAN = Exercise(
    name="Mean squared error",
    loss=lambda w, x, y: ((y - w * x) ** 2).mean(),
    wrt="w",
    cases=[
        {"w": [3.0], "x": [2.0, 1.0, -1.0], "y": [2.0, 0.5, 1.0]},
        {"w": [-0.5], "x": [0.3, 2.0, 4.0], "y": [1.0, -1.0, 2.0]},
    ],
)
MATMUL = Exercise(
    name="Matrix product",
    loss=lambda x, w, y: ((y - x @ w) ** 2).sum(),
    wrt="w",
    cases=[{"x": [[2.0], [1.0]], "w": [[3.0, 1.0]], "y": [[5.0, 2.0], [2.5, 2.0]]}],
    hint="dL/dW = X^T dL/dZ",
)
BIAS = Exercise(
    name="Bias",
    loss=lambda x, b, y: ((y - (x + b)) ** 2).sum(),
    wrt="b",
    cases=[{"x": [[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]], "b": [[0.5, -0.5]], "y": torch.ones(3, 2)}],
)


def right_mean(w, x, y):
    return (-2 * (y - w * x) * x).mean(dim=0, keepdim=True)


def test_a_correct_answer_passes():
    verdict = check_gradient(MEAN, right_mean)
    assert verdict
    assert repr(verdict).startswith("Mean squared error: correct.")
    assert "on all 2 cases" in repr(verdict)


def test_must_pass_turns_a_wrong_answer_into_an_assertion_error():
    assert check_gradient(MEAN, right_mean, must_pass=True)
    with pytest.raises(AssertionError, match="wrong sign"):
        check_gradient(MEAN, lambda w, x, y: -right_mean(w, x, y), must_pass=True)


def raises_not_implemented(w, x, y):
    raise NotImplementedError


def raises_value_error(w, x, y):
    raise ValueError("math domain error")


WRONG_ANSWERS = {
    "sign flipped": (MEAN, lambda w, x, y: -right_mean(w, x, y), "every entry has the wrong sign"),
    "factor 2 dropped": (MEAN, lambda w, x, y: right_mean(w, x, y) / 2, "half the answer"),
    "sum, not mean": (MEAN, lambda w, x, y: 3 * right_mean(w, x, y), "a mean divides by"),
    "other value": (
        MATMUL,
        lambda x, w, y: torch.zeros_like(w),
        r"largest error is 5 at index \(0, 0\): expected 5, got 0.\nHint: dL/dW = X\^T dL/dZ",
    ),
    "transpose dropped": (
        MATMUL,
        lambda x, w, y: (-2 * (y - x @ w)).T @ x,
        r"shape \(1, 2\) for w, got \(2, 1\): did you forget a transpose, or sum over",
    ),
    "mean where a sum belongs, batch of 2": (
        MATMUL,
        lambda x, w, y: x.T @ (-2 * (y - x @ w)) / 2,
        "1/2 of the answer: a sum does not divide by the batch size",
    ),
    "one-row weight, wrong shape": (
        MATMUL,
        lambda x, w, y: torch.zeros(1, 3, dtype=torch.float64),
        r"shape \(1, 2\) for w, got \(1, 3\): a gradient has the shape of what it is taken",
    ),
    "bias not summed": (
        BIAS,
        lambda x, b, y: -2 * (y - (x + b)),
        r"shape \(1, 2\) for b, got \(3, 2\): did you forget to sum over the batch",
    ),
}


@pytest.mark.parametrize("exercise, answer, message", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_a_wrong_answer_says_what_is_wrong(exercise, answer, message):
    verdict = check_gradient(exercise, answer)
    assert not verdict
    assert re.search(message, repr(verdict)), f"{message!r} not in {verdict!r}"


BAD_INPUTS = {
    "None": (None, "not attempted yet. Write your function"),
    "unfilled stub": (raises_not_implemented, "not attempted yet. Replace `raise"),
    "a tensor, not a function": (torch.ones(1), "expected a function of (w, x, y)"),
    "function raises": (raises_value_error, "raised ValueError: math domain error"),
    "returns None": (lambda w, x, y: None, "returned None: did you forget `return`"),
    "returns a number": (lambda w, x, y: 16.0, "got a number (16.0)"),
    "returns a list": (lambda w, x, y: [16.0], "got a list"),
    "integer dtype": (lambda w, x, y: right_mean(w, x, y).long(), "dtype torch.int64"),
    "float32": (lambda w, x, y: right_mean(w, x, y).float(), "dtype torch.float32"),
    "NaN": (lambda w, x, y: right_mean(w, x, y) * float("nan"), "holds nan at index (0,)"),
    "inf": (lambda w, x, y: right_mean(w, x, y) / 0, "holds inf at index (0,)"),
    "wrong arguments": (lambda weight: weight, "unexpected keyword argument 'w'"),
}


@pytest.mark.parametrize("answer, message", BAD_INPUTS.values(), ids=BAD_INPUTS)
def test_bad_input_gets_a_clear_message_not_a_traceback(answer, message):
    verdict = check_gradient(MEAN, answer)
    assert not verdict
    assert message in repr(verdict), repr(verdict)
    assert "Traceback" not in repr(verdict)


def test_messages_name_the_case_that_failed():
    verdict = check_gradient(MEAN, lambda w, x, y: -right_mean(w, x, y))
    assert "case 1 of 2 (w=[3.0], x=[2.0, 1.0, -1.0], y=[2.0, 0.5, 1.0])" in repr(verdict)


def test_messages_round_the_inputs_they_show():
    exercise = Exercise(
        name="Rounded",
        loss=lambda w, x: (w * x).sum(),
        wrt="w",
        cases=[{"w": [0.123456789], "x": [-1.6052762948770103]}],
    )
    assert "(w=[0.1235], x=[-1.605])" in repr(check_gradient(exercise, lambda w, x: w))


def test_an_exercise_without_its_input_is_refused():
    with pytest.raises(ValueError, match="has no input 'w'"):
        Exercise(name="broken", loss=lambda x: x.sum(), wrt="w", cases=[{"x": [1.0]}])
