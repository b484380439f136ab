"""Unit tests for chapters/exercises/gradient.py."""

import dataclasses
import re

import pytest
import torch

from exercises import Exercise, check_gradient
from exercises_examples import MEAN, right_mean


def made(exercise):
    """The exercise made again where the test runs, as a page's cell makes it: what an
    Exercise works out when it is made (each case's facts) is then the code under test's."""
    return dataclasses.replace(exercise)


def test_a_correct_answer_passes():
    verdict = check_gradient(made(MEAN), right_mean)
    assert verdict
    assert repr(verdict) == (
        "Mean squared error: correct. Your gradient matches autograd on all 3 cases."
    )
    assert verdict.slips == ()


def test_must_pass_turns_a_wrong_answer_into_an_assertion_error():
    verdict = check_gradient(made(MEAN), right_mean, must_pass=True)
    assert verdict and "the reference solution matches autograd on all 3 cases" in repr(verdict)
    assert "correct" not in repr(verdict), "a reference's output must not read as a grade"
    with pytest.raises(AssertionError, match="wrong sign"):
        check_gradient(made(MEAN), lambda w, x, y: -right_mean(w, x, y), must_pass=True)


def test_a_notebook_global_rebound_after_the_exercise_is_made_changes_nothing():
    namespace = {"torch": torch}
    exec("def square(r):\n    return r ** 2\n", namespace)
    exercise = Exercise(
        name="Globals",
        loss=lambda w, x, y: namespace["square"](y - w * x).sum(),
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [3.0], "x": [1.5, -1.0, 0.5], "y": [0.5, 2.0, 1.0]}],
    )
    namespace["square"] = lambda r: r  # a learner reuses the name
    assert check_gradient(exercise, lambda w, x, y: (-2 * (y - w * x) * x).sum().reshape(1))


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"cases": []}, "give at least one case"),
        ({"cases": [{"x": [1.0], "y": [1.0]}]}, "a case has no input 'w'"),
        ({"batched": "x"}, "batched must name the inputs that hold the batch"),
        ({"batched": ()}, "batched must name the inputs that hold the batch"),
        ({"batched": ("z",)}, "a case has no input 'z'"),
        ({"cases": [{"w": [1.0], "x": [1.0, 2.0], "y": [1.0]}]}, "must share their first"),
        ({"cases": [{"w": [1.0], "x": 1.0, "y": 1.0}]}, "must share their first"),
    ],
)
def test_a_badly_made_exercise_is_refused_with_a_reason(changes, message):
    arguments = {
        "name": "broken",
        "loss": mean_loss,
        "wrt": "w",
        "batched": ("x", "y"),
        "cases": MEAN.cases,
        **changes,
    }
    with pytest.raises(ValueError, match=re.escape(message)):
        Exercise(**arguments)


def mean_loss(w, x, y):
    """MEAN's loss, defined here: the loss helper found in the loss's own module."""
    return ((y - w * x) ** 2).mean()


def test_the_reference_is_computed_once_when_the_exercise_is_made():
    calls = []

    def counted_loss(w, x, y):
        calls.append(1)
        return mean_loss(w, x, y)

    exercise = Exercise(
        name="Counted",
        loss=counted_loss,
        wrt="w",
        batched=("x", "y"),
        cases=MEAN.cases,
    )
    # The cases, each sample of each on its own (for the slips), and once more to learn
    # that mean_loss, which counted_loss calls, carries the whole loss.
    made = len(calls)
    assert made == 3 + (1 + 3 + 5) + 1
    check_gradient(exercise, right_mean)
    check_gradient(exercise, lambda w, x, y: (-2 * (y - w * x)).mean(dim=0, keepdim=True))
    assert len(calls) == made, "checking an answer, right or wrong, must not call the loss"


def test_a_class_passed_as_the_answer_is_named_a_class():
    """Issue 26: a class in place of the answer was "got an Answer" (what calling it made)."""

    class Answer:
        def __init__(self, w, x, y):
            self.value = right_mean(w, x, y)

    verdict = check_gradient(made(MEAN), Answer)
    assert repr(verdict) == (
        "Mean squared error: expected a function of (w, x, y) that returns dL/dw, got the class "
        "`Answer`. Pass the function itself, without calling it."
    )
    assert verdict.slips == ("type",)


def test_an_nn_module_passed_as_the_answer_is_named_a_layer():
    module = torch.nn.Linear(1, 1)
    verdict = check_gradient(made(MEAN), module)
    assert "got an nn.Module (a layer), `Linear`" in repr(verdict), repr(verdict)
    assert verdict.slips == ("type",)
    verdict = check_gradient(made(MEAN), torch.nn.Linear)
    assert "got the class `Linear`, an nn.Module (a layer)" in repr(verdict), repr(verdict)


# --- Issue 26, mutation: what an Exercise works out when it is made ------------------------------


def randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def wide_bias_loss(x, b, y):
    return ((y - (x + b)) ** 2).sum()


def test_an_input_that_is_no_factor_of_the_gradient_is_not_named_one():
    """Only a batched input of one number per sample can be a factor the slip leaves out:
    dividing a bias's gradient by the rows of x, which no factor of it is, is no such slip."""
    exercise = Exercise(
        name="Wide bias",
        loss=wide_bias_loss,
        wrt="b",
        batched=("x", "y"),
        cases=[
            {"x": randn(3, 4, seed=1), "b": randn(1, 4, seed=2), "y": randn(3, 4, seed=3)},
            {"x": randn(2, 4, seed=4), "b": randn(1, 4, seed=5), "y": randn(2, 4, seed=6)},
        ],
    )

    def divided_by_x(x, b, y):
        return (-2 * (y - (x + b)) / x).sum(dim=0, keepdim=True)

    verdict = check_gradient(exercise, divided_by_x)
    assert not verdict and verdict.slips == (), repr(verdict)


def test_a_parameter_of_one_number_without_dimensions_is_made_and_checked():
    """A 0-d parameter: each sample's share has no first dimension to lay the rows along."""
    exercise = Exercise(
        name="A scalar weight",
        loss=lambda w, x, y: ((y - w * x) ** 2).sum(),
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": 3.0, "x": [1.5, -1.0, 2.0], "y": [0.5, 2.0, 1.0]}],
    )
    assert check_gradient(exercise, lambda w, x, y: (-2 * (y - w * x) * x).sum())
    verdict = check_gradient(exercise, lambda w, x, y: (2 * (y - w * x) * x).sum())
    assert verdict.slips == ("sign",), repr(verdict)


def wide_mean_loss(x, b, y):
    return ((y - (x + b)) ** 2).mean()


def test_a_sum_over_the_wrong_axis_is_named_for_a_mean_too():
    """Each sample's share of a mean is scaled by 1/N, as autograd's gradient is."""
    exercise = Exercise(
        name="Wide bias, mean",
        loss=wide_mean_loss,
        wrt="b",
        batched=("x", "y"),
        cases=[
            {"x": randn(3, 4, seed=7), "b": randn(1, 4, seed=8), "y": randn(3, 4, seed=9)},
            {"x": randn(2, 5, seed=10), "b": randn(1, 5, seed=11), "y": randn(2, 5, seed=12)},
        ],
    )

    def shares(x, b, y):
        return -2 * (y - (x + b)) / y.numel()

    assert check_gradient(exercise, lambda x, b, y: shares(x, b, y).sum(dim=0, keepdim=True))
    verdict = check_gradient(exercise, lambda x, b, y: shares(x, b, y).sum(dim=1, keepdim=True))
    assert verdict.slips == ("wrong axis",), repr(verdict)
