"""Unit tests for chapters/exercises/catalogue.py."""

import pytest
import torch

from exercises import Exercise, catalogue, check_gradient
from exercises_examples import MATMUL, MEAN, mean_loss, real_pairs, right_matmul, right_mean


@pytest.fixture(scope="module")
def real():
    return real_pairs()


BIAS = Exercise(
    name="Bias",
    loss=lambda x, b, y: ((y - (x + b)) ** 2).sum(),
    wrt="b",
    batched=("x", "y"),
    cases=[
        {"x": [[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]], "b": [[0.5, -0.5]], "y": torch.ones(3, 2)},
        {"x": [[1.5, -2.0]], "b": [[0.25, 1.0]], "y": [[0.0, 3.0]]},
    ],
)


SUM = Exercise(
    name="Sum of squared errors",
    loss=lambda w, x, y: ((y - w * x) ** 2).sum(),
    wrt="w",
    batched=("x", "y"),
    cases=[
        {"w": [3.0], "x": [1.5, -1.0], "y": [0.5, 2.0]},
        {"w": [-0.5], "x": [0.3, 3.0, 4.0], "y": [1.0, -1.0, 2.0]},
    ],
)


def right_bias(x, b, y):
    return (-2 * (y - (x + b))).sum(dim=0, keepdim=True)


@pytest.mark.parametrize(
    "relative, passes", [(1e-4, False), (1e-5, False), (1e-8, True), (1e-10, True)]
)
def test_the_tolerance_is_tight_enough_and_no_tighter(relative, passes):
    verdict = check_gradient(MATMUL, lambda x, w, y: right_matmul(x, w, y) * (1 + relative))
    assert bool(verdict) is passes, repr(verdict)


def test_the_tolerance_is_stated_for_float64():
    assert (catalogue.RTOL, catalogue.ATOL) == (1e-6, 1e-8)


WRONG_ANSWERS = {
    "sign flipped": (MEAN, lambda w, x, y: -right_mean(w, x, y), "sign"),
    "factor 2 dropped": (MEAN, lambda w, x, y: right_mean(w, x, y) / 2, "half"),
    "factor 2 twice": (MEAN, lambda w, x, y: right_mean(w, x, y) * 2, "twice"),
    "sum, not mean": (MEAN, lambda w, x, y: right_mean(w, x, y) * x.numel(), "times N"),
    "mean, not sum": (MATMUL, lambda x, w, y: right_matmul(x, w, y) / x.shape[0], "divided by N"),
    "transposed": (MATMUL, lambda x, w, y: right_matmul(x, w, y).T, "transpose"),
    "bias not summed": (BIAS, lambda x, b, y: -2 * (y - (x + b)), "batch sum"),
    "sum without keepdim": (BIAS, lambda x, b, y: right_bias(x, b, y)[0], "keepdim"),
    "mean without keepdim": (MEAN, lambda w, x, y: (-2 * (y - w * x) * x).mean(), "keepdim"),
    "(N,) against (1,)": (MEAN, lambda w, x, y: -2 * (y - w * x) * x / x.numel(), "batch sum"),
    "input factor x dropped": (
        MEAN,
        lambda w, x, y: (-2 * (y - w * x)).mean(dim=0, keepdim=True),
        "input factor",
    ),
    "input factor x dropped from a sum": (
        SUM,
        lambda w, x, y: (-2 * (y - w * x)).sum().reshape(1),
        "input factor",
    ),
}


@pytest.mark.parametrize("exercise, answer, slip", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_a_wrong_answer_gets_the_one_slip_that_explains_every_case(exercise, answer, slip):
    verdict = check_gradient(exercise, answer)
    assert not verdict
    assert verdict.slips == (slip,), repr(verdict)
    assert "Diagnosis: " in repr(verdict) and "Hint" not in repr(verdict)


def test_the_diagnosis_reads_as_words():
    twice = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y) * 2)
    assert "twice autograd's on every case: is a factor 2 counted twice?" in repr(twice)
    keepdim = check_gradient(BIAS, lambda x, b, y: right_bias(x, b, y)[0])
    assert "`.sum(dim=0, keepdim=True)`" in repr(keepdim)
    assert "expected a gradient of shape (1, 2) for b, got (2,)" in repr(keepdim)


def test_slips_that_cannot_be_told_apart_are_both_named():
    only_two = Exercise(
        name="Two samples",
        loss=lambda w, x, y: ((y - w * x) ** 2).sum(),
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [3.0], "x": [1.5, -1.0], "y": [0.5, 2.0]}],
    )
    verdict = check_gradient(only_two, lambda w, x, y: (-2 * (y - w * x) * x).mean().reshape(1))
    assert verdict.slips == ("half", "divided by N")
    assert repr(verdict).endswith(
        "It is wrong on 1 of the 1 cases.\n"
        "These slips fit every case alike: your gradient is half of autograd's on every case: "
        "a factor 2 is missing. In a squared error it is the 2 of the square's derivative, "
        "d(r²)/dr = 2r. Or: your gradient is autograd's divided by N, the number of samples, "
        "on every case: a sum does not divide by N (only a mean does)."
    )


def test_a_slip_is_named_only_within_the_tolerance_of_the_grade():
    verdict = check_gradient(MEAN, lambda w, x, y: -right_mean(w, x, y) * (1 + 1e-5))
    assert not verdict and verdict.slips == (), repr(verdict)


def test_rows_not_summed_are_named_only_when_their_sum_is_right():
    verdict = check_gradient(BIAS, lambda x, b, y: -(y - (x + b)))  # not summed, and half
    assert not verdict and verdict.slips == (), repr(verdict)


def test_a_loss_that_is_no_sum_over_the_samples_is_not_diagnosed_as_an_input_factor():
    squared_total = Exercise(
        name="Squared total",
        loss=lambda w, x, y: (y - w * x).sum() ** 2,
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [3.0], "x": [1.5, -1.0, 2.0], "y": [0.5, 2.0, 1.0]}],
    )
    verdict = check_gradient(squared_total, lambda w, x, y: 2 * (y - w * x).sum().reshape(1))
    assert not verdict and verdict.slips == (), repr(verdict)


@pytest.mark.parametrize("batched", [("x", "y"), ("y", "x")])
def test_the_input_factor_is_found_whichever_input_holds_it(batched):
    exercise = Exercise(
        name="Targets with a zero",
        loss=mean_loss,
        wrt="w",
        batched=batched,
        cases=[
            {"w": [3.0], "x": [1.5, -1.0, 2.0], "y": [0.0, 2.0, 1.0]},
            {"w": [-0.5], "x": [1.0, 1.0], "y": [1.0, 0.0]},  # x all 1: x changes nothing here
        ],
    )
    verdict = check_gradient(exercise, lambda w, x, y: (-2 * (y - w * x)).mean().reshape(1))
    assert verdict.slips == ("input factor",), repr(verdict)


def test_a_wrong_answer_no_slip_explains_gets_the_exercise_hint():
    verdict = check_gradient(MATMUL, lambda x, w, y: right_matmul(x, w, y) + 1)
    assert verdict.slips == ()
    assert repr(verdict).endswith("\nHint: dL/dW = X^T dL/dZ")
    assert "Diagnosis" not in repr(verdict)


def test_a_wrong_answer_with_no_slip_and_no_hint_says_where_it_is_wrong():
    verdict = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y) + 0.25)
    assert not verdict and verdict.slips == ()
    assert repr(verdict) == (
        "Mean squared error: not yet. On case 1 of 3 (w=[3.0], x=[1.5], y=[0.5]), the "
        "largest error is 0.25 at index (0,): expected 12, got 12.25. "
        "It is wrong on 3 of the 3 cases. Recheck each factor of the chain rule on that case."
    )


def test_the_report_of_a_wrong_answer_names_the_first_case_it_fails():
    def right_on_one_sample(w, x, y):
        return right_mean(w, x, y) if x.numel() == 1 else torch.full_like(w, 0.5)

    verdict = check_gradient(MEAN, right_on_one_sample)
    message = repr(verdict)
    assert "On case 2 of 3 (w=[3.0], x=[2.5, 1.0, -1.0], y=[2.0, 0.5, 1.0])" in message
    assert "expected 13.5, got 0.5" in message
    assert "It is wrong on 2 of the 3 cases." in message


def test_a_wrong_shape_says_what_shape_a_gradient_has():
    verdict = check_gradient(MATMUL, lambda x, w, y: torch.zeros(1, 3, dtype=torch.float64))
    assert "expected a gradient of shape (1, 2) for w, got (1, 3)" in repr(verdict)
    assert "a gradient has the shape of what it is taken with respect to" in repr(verdict)


def test_a_right_answer_in_the_wrong_shape_is_told_the_shape_not_the_formula(real):
    verdict = check_gradient(MATMUL, lambda x, w, y: right_matmul(x, w, y).unsqueeze(0))
    assert verdict.slips == ("shape",) and "Hint" not in repr(verdict), repr(verdict)
    for exercise, solution in real:
        verdict = check_gradient(
            exercise, lambda solution=solution, **a: solution(**a).unsqueeze(0)
        )
        assert verdict.slips == ("shape",), f"{exercise.name}: {verdict!r}"
        assert "Hint" not in repr(verdict) and "numbers are right" in repr(verdict)


def test_a_right_answer_computed_in_float32_is_told_the_precision_not_the_formula(real):
    told = 0
    for exercise, solution in real:

        def in_float32(solution=solution, **arguments):
            return solution(**{k: v.float() for k, v in arguments.items()}).double()

        try:
            in_float32(**exercise.inputs[0])
        except RuntimeError:  # the solution mixes in a float64 tensor of its own
            continue
        verdict = check_gradient(exercise, in_float32)
        if verdict:  # float32 happened to be exact enough on every case
            continue
        assert verdict.slips == ("precision",), f"{exercise.name}: {verdict!r}"
        assert "Hint" not in repr(verdict) and "float32" in repr(verdict)
        told += 1
    assert told > 0
    verdict = check_gradient(MATMUL, lambda x, w, y: right_matmul(x, w, y) * (1 + 3e-6))
    assert verdict.slips == ("precision",) and "Hint" not in repr(verdict), repr(verdict)


def remade(exercise):
    return Exercise(
        name=exercise.name,
        loss=exercise.loss,
        wrt=exercise.wrt,
        cases=exercise.cases,
        batched=exercise.batched,
        hint=exercise.hint,
    )


@pytest.mark.parametrize("exercise, answer, slip", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_an_exercise_made_now_names_the_same_slip(exercise, answer, slip):
    verdict = check_gradient(remade(exercise), answer)
    assert verdict.slips == (slip,), repr(verdict)


def test_two_slips_and_an_input_factor_that_fit_alike_are_all_named():
    exercise = Exercise(
        name="x = 2",
        loss=mean_loss,
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [3.0], "x": [2.0, 2.0, 2.0], "y": [1.0, 0.5, -1.0]}],
    )
    verdict = check_gradient(exercise, lambda w, x, y: (-2 * (y - w * x)).mean().reshape(1))
    assert verdict.slips == ("half", "input factor"), repr(verdict)
