"""Unit tests for chapters/exercises.py: right answers, wrong answers, bad input.

tests/test_exercise_slips.py checks the same checker on every exercise of the
chapters; this file pins its behaviour on small exercises made here.
"""

import functools
import re
import sys
import types

import numpy as np
import pytest
import torch

import exercises
from exercises import Exercise, FunctionExercise, check_autograd_function, check_gradient
from finite_differences import numerical_gradient

# The `real` tests read the chapters' shared runs (test_exercise_slips.chapter_namespace):
# this module goes with them, on one worker (tests/conftest.py).
pytestmark = pytest.mark.shares_notebook_runs


def mean_loss(w, x, y):
    return ((y - w * x) ** 2).mean()


MEAN = Exercise(
    name="Mean squared error",
    loss=mean_loss,
    wrt="w",
    batched=("x", "y"),
    cases=[
        {"w": [3.0], "x": [1.5], "y": [0.5]},
        {"w": [3.0], "x": [2.5, 1.0, -1.0], "y": [2.0, 0.5, 1.0]},
        {"w": [-0.5], "x": [0.3, 3.0, 4.0, -1.5, 0.7], "y": [1.0, -1.0, 2.0, 0.1, 0.2]},
    ],
)
MATMUL = Exercise(
    name="Matrix product",
    loss=lambda x, w, y: ((y - x @ w) ** 2).sum(),
    wrt="w",
    batched=("x", "y"),
    cases=[
        {"x": [[2.0], [1.0]], "w": [[3.0, 1.0]], "y": [[5.0, 2.0], [2.5, 2.0]]},
        {
            "x": [[1.0, -2.0, 0.5], [0.3, 1.0, 2.0], [-1.0, 0.7, 1.5]],
            "w": [[0.2, -1.0, 0.4], [1.5, 0.3, -0.7], [0.1, 0.9, 2.0]],
            "y": [[1.0, 0.0, 2.0], [-1.0, 0.5, 0.3], [0.2, 0.4, -0.6]],
        },
    ],
    hint="dL/dW = X^T dL/dZ",
)
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


def right_mean(w, x, y):
    return (-2 * (y - w * x) * x).mean(dim=0, keepdim=True)


def right_matmul(x, w, y):
    return x.T @ (-2 * (y - x @ w))


def right_bias(x, b, y):
    return (-2 * (y - (x + b))).sum(dim=0, keepdim=True)


def test_a_correct_answer_passes():
    verdict = check_gradient(MEAN, right_mean)
    assert verdict
    assert repr(verdict) == (
        "Mean squared error: correct. Your gradient matches autograd on all 3 cases."
    )
    assert verdict.slips == ()


def test_must_pass_turns_a_wrong_answer_into_an_assertion_error():
    verdict = check_gradient(MEAN, right_mean, must_pass=True)
    assert verdict and "the reference solution matches autograd on all 3 cases" in repr(verdict)
    assert "correct" not in repr(verdict), "a reference's output must not read as a grade"
    with pytest.raises(AssertionError, match="wrong sign"):
        check_gradient(MEAN, lambda w, x, y: -right_mean(w, x, y), must_pass=True)


# --- The tolerance ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "relative, passes", [(1e-4, False), (1e-5, False), (1e-8, True), (1e-10, True)]
)
def test_the_tolerance_is_tight_enough_and_no_tighter(relative, passes):
    verdict = check_gradient(MATMUL, lambda x, w, y: right_matmul(x, w, y) * (1 + relative))
    assert bool(verdict) is passes, repr(verdict)


def test_the_tolerance_is_stated_for_float64():
    assert (exercises.RTOL, exercises.ATOL) == (1e-6, 1e-8)


# --- Slips -------------------------------------------------------------------------------------

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


# --- The hand, not autograd --------------------------------------------------------------------


def uses_backward(w, x, y):
    w.requires_grad_()
    mean_loss(w, x, y).backward()
    return w.grad


def uses_autograd_grad(w, x, y):
    w.requires_grad_()
    return torch.autograd.grad(((y - w * x) ** 2).mean(), w)[0]


def uses_enable_grad_and_backward(w, x, y):
    with torch.enable_grad():
        w.requires_grad_()
        ((y - w * x) ** 2).mean().backward()
    return w.grad


def uses_the_exercise_loss(w, x, y):
    return numerical_gradient(lambda v: MEAN.loss(v, x, y), w)


def uses_the_exercise_loss_by_hand(w, x, y):
    h = 1e-6
    return (MEAN.loss(w + h, x, y) - MEAN.loss(w - h, x, y)).reshape(1) / (2 * h)


def uses_finite_differences(w, x, y):
    return numerical_gradient(lambda v: ((y - v * x) ** 2).mean(), w)


def uses_torch_func(w, x, y):
    return torch.func.grad(lambda v: mean_loss(v, x, y))(w)


@pytest.mark.parametrize(
    "answer",
    [
        uses_backward,
        uses_autograd_grad,
        uses_enable_grad_and_backward,
        uses_the_exercise_loss,
        uses_the_exercise_loss_by_hand,
        uses_torch_func,
    ],
)
def test_an_answer_that_lets_the_computer_differentiate_is_told_to_do_it_by_hand(answer):
    verdict = check_gradient(MEAN, answer)
    assert not verdict and verdict.slips == ("autograd",), repr(verdict)
    assert "Write the formula you derived by hand" in repr(verdict)
    assert torch.is_grad_enabled()


def test_an_answer_that_turns_autograd_off_cannot_break_the_next_check():
    def turns_autograd_off(w, x, y):
        torch.set_grad_enabled(False)
        torch.set_default_dtype(torch.float32)
        torch.manual_seed(123)
        return right_mean(w, x, y)

    state = torch.random.get_rng_state()
    assert check_gradient(MEAN, turns_autograd_off)
    assert torch.is_grad_enabled()
    assert torch.get_default_dtype() is torch.float32, "the default dtype is restored"
    assert torch.equal(torch.random.get_rng_state(), state)
    assert check_gradient(MEAN, right_mean, must_pass=True)


def test_a_profiler_that_was_running_still_runs_after_a_check():
    events = []

    def profiler(frame, event, arg):
        events.append(event)

    sys.setprofile(profiler)
    try:
        check_gradient(MEAN, right_mean)
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)


def test_an_answer_that_changes_its_inputs_in_place_changes_nothing_else():
    def spoils_its_inputs(w, x, y):
        answer = right_mean(w, x, y)
        for value in (w, x, y):
            value.zero_()
        return answer

    cases_before = [{k: v.clone() for k, v in case.items()} for case in MEAN.inputs]
    assert check_gradient(MEAN, spoils_its_inputs)
    for before, after in zip(cases_before, MEAN.inputs, strict=True):
        assert all(torch.equal(before[k], after[k]) for k in before)
    assert check_gradient(MEAN, right_mean)


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


# --- Bad input ---------------------------------------------------------------------------------


def raises_not_implemented(w, x, y):
    """A stub, with its docstring."""
    raise NotImplementedError  # replace with your formula


def raises_value_error(w, x, y):
    raise ValueError("math domain error")


def raises_not_implemented_for_batches(w, x, y):
    if x.numel() > 1:
        raise NotImplementedError
    return right_mean(w, x, y)


BAD_INPUTS = {
    "None": (None, "not attempted yet. To try it, run this chapter in JupyterLab"),
    "unfilled stub": (
        raises_not_implemented,
        "not attempted yet. To try it, run this chapter in JupyterLab, replace "
        "`raise NotImplementedError` in `raises_not_implemented` with your formula",
    ),
    "NotImplementedError of its own": (
        raises_not_implemented_for_batches,
        "`raises_not_implemented_for_batches` raised NotImplementedError, on case 2 of 3",
    ),
    "a tensor, not a function": (torch.ones(1), "expected a function of (w, x, y)"),
    "function raises": (
        raises_value_error,
        "`raises_value_error` raised ValueError (math domain error), on case 1 of 3",
    ),
    "returns None": (lambda w, x, y: None, "returned None: did you forget `return`"),
    "returns a number": (lambda w, x, y: 16.0, "got a number (16.0)"),
    "returns a list": (lambda w, x, y: [16.0], "got a list"),
    "returns a tuple": (lambda w, x, y: (16,), "got a tuple"),
    "returns a NumPy array": (
        lambda w, x, y: right_mean(w, x, y).numpy(),
        "got a NumPy array of shape (1,)",
    ),
    "returns an object": (lambda w, x, y: object(), "got an object"),
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


class NamelessAnswer:
    """A callable with no ``__name__``, as functools.partial or a class instance is."""

    def __call__(self, w, x, y):
        raise ValueError("math domain error")


def raises_type_error(w, x, y):
    raise TypeError


def raises_not_implemented_called(w, x, y):
    raise NotImplementedError()


CASE_1 = "on case 1 of 3 (w=[3.0], x=[1.5], y=[0.5])"
CALLED = (
    "It is called with w, x, y as float64 tensors: call it yourself on those inputs to see where."
)
MATMUL_CASE_1 = "on case 1 of 2 (x=[[2.0], [1.0]], w=[[3.0, 1.0]], y=[[5.0, 2.0], [2.5, 2.0]])"
HOW_TO_START = (
    "not attempted yet. To try it, run this chapter in JupyterLab, replace "
    "`raise NotImplementedError` in {} with your formula, then run that cell and this one."
)
WHOLE_MESSAGES = {
    "None": (MEAN, None, (), HOW_TO_START.format("your function")),
    "unfilled stub": (
        MEAN,
        raises_not_implemented,
        ("not attempted",),
        HOW_TO_START.format("`raises_not_implemented`"),
    ),
    "unfilled stub with ()": (
        MEAN,
        raises_not_implemented_called,
        ("not attempted",),
        HOW_TO_START.format("`raises_not_implemented_called`"),
    ),
    "a tensor, not a function": (
        MEAN,
        torch.ones(1),
        (),
        "expected a function of (w, x, y) that returns dL/dw, got a tensor of shape (1,). "
        "Pass the function itself, without calling it.",
    ),
    "a lambda raises": (
        MEAN,
        lambda w, x, y: 1 / 0,
        ("raised",),
        f"your lambda raised ZeroDivisionError (division by zero), {CASE_1}. {CALLED}",
    ),
    "a callable without a name raises": (
        MEAN,
        NamelessAnswer(),
        ("raised",),
        f"your function raised ValueError (math domain error), {CASE_1}. {CALLED}",
    ),
    "a one-line raise that is not the stub's": (
        MEAN,
        raises_type_error,
        ("raised",),
        f"`raises_type_error` raised TypeError, {CASE_1}. {CALLED}",
    ),
    "autograd": (
        MEAN,
        uses_backward,
        ("autograd",),
        "`uses_backward` switches autograd on for w (requires_grad), so the computer finds the "
        "derivative. Write the formula you derived by hand, computed from the inputs alone.",
    ),
    "returns None": (
        MEAN,
        lambda w, x, y: None,
        ("type",),
        f"your lambda returned None: did you forget `return`? ({CASE_1}).",
    ),
    "returns a list, said with the shape of this case's gradient": (
        MATMUL,
        lambda x, w, y: [1.0],
        ("type",),
        "expected a torch.Tensor of shape (1, 2), got a list. Build the gradient from the "
        f"input tensors so it stays a tensor ({MATMUL_CASE_1}).",
    ),
    "integer dtype": (
        MEAN,
        lambda w, x, y: right_mean(w, x, y).long(),
        ("type",),
        "expected a float64 tensor, got dtype torch.int64. Integer or boolean tensors cannot "
        f"hold a gradient: compute it from the float64 inputs ({CASE_1}).",
    ),
    "float32": (
        MEAN,
        lambda w, x, y: right_mean(w, x, y).float(),
        ("type",),
        "expected a float64 tensor (the inputs are float64), got dtype torch.float32. Compute "
        f"it from the inputs instead of writing torch.tensor(...) ({CASE_1}).",
    ),
}


@pytest.mark.parametrize(
    "exercise, answer, slips, message", WHOLE_MESSAGES.values(), ids=WHOLE_MESSAGES
)
def test_the_whole_message_and_the_slip_it_names(exercise, answer, slips, message):
    verdict = check_gradient(exercise, answer)
    assert not verdict and verdict.slips == slips
    assert repr(verdict) == f"{exercise.name}: {message}"


def test_a_function_without_a_name_is_checked_like_any_other():
    assert check_gradient(MEAN, functools.partial(right_mean))


def test_a_nan_beyond_the_first_entry_is_found_where_it_is():
    def nan_in_row_two(x, w, y):
        answer = right_matmul(x, w, y)
        answer[0, 1] = float("nan")
        return answer

    verdict = check_gradient(MATMUL, nan_in_row_two)
    assert repr(verdict) == (
        "Matrix product: your gradient holds nan at index (0, 1): look for a division by zero, "
        f"or a log or square root of a negative number ({MATMUL_CASE_1})."
    )


def test_a_numpy_array_is_not_called_a_ndarray():
    assert exercises._kind(np.zeros(3)) == "a NumPy array of shape (3,)"
    assert exercises._kind(object()) == "an object"
    assert exercises._kind(torch.zeros(2, 3)) == "a tensor of shape (2, 3)"

    class Table:  # has a shape, like a pandas DataFrame, but is no NumPy array
        shape = (2, 3)

    assert exercises._kind(Table()) == "a Table"


def test_messages_round_the_inputs_they_show():
    exercise = Exercise(
        name="Rounded",
        loss=lambda w, x: (w * x).sum(),
        wrt="w",
        batched=("x",),
        cases=[{"w": [0.123456789], "x": [-1.6052762948770103]}],
    )
    assert "(w=[0.1235], x=[-1.605])" in repr(check_gradient(exercise, lambda w, x: w))


def test_large_inputs_are_described_by_shape():
    def wrong_on_large_batches(w, x, y):
        return -right_mean(w, x, y) if x.numel() > 3 else right_mean(w, x, y)

    verdict = check_gradient(MEAN, wrong_on_large_batches)
    assert "On case 3 of 3 (w=[-0.5], x of shape (5,), y of shape (5,))" in repr(verdict)


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


# --- A learner's own torch.autograd.Function -----------------------------------------------------


def layer_case(n, d, k, seed):
    generator = torch.Generator().manual_seed(seed)
    return {
        "x": torch.randn(n, d, generator=generator, dtype=torch.float64),
        "w": torch.randn(d, k, generator=generator, dtype=torch.float64),
        "b": torch.randn(1, k, generator=generator, dtype=torch.float64),
    }


LAYER = FunctionExercise(
    "A tanh layer",
    reference=lambda x, w, b: torch.tanh(x @ w + b),
    cases=[layer_case(3, 2, 4, seed=1), layer_case(5, 3, 2, seed=2), layer_case(1, 4, 3, seed=3)],
    hint="tanh'(s) = 1 - tanh(s)**2.",
)


class TanhLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        h = torch.tanh(x @ w + b)
        ctx.save_for_backward(x, w, h)
        return h

    @staticmethod
    def backward(ctx, dL_dh):
        x, w, h = ctx.saved_tensors
        dL_ds = dL_dh * (1 - h**2)
        return dL_ds @ w.T, x.T @ dL_ds, dL_ds.sum(dim=0, keepdim=True)


def layer_with(backward=None, forward=None):
    """TanhLayer with its backward's gradients changed by ``backward(grads)``."""

    class Layer(TanhLayer):
        pass

    if forward is not None:
        Layer.forward = staticmethod(forward)
    if backward is not None:
        Layer.backward = staticmethod(lambda ctx, g: backward(TanhLayer.backward(ctx, g)))
    return Layer


def test_a_right_autograd_function_passes_and_gradcheck_agrees():
    verdict = check_autograd_function(LAYER, TanhLayer)
    assert verdict, repr(verdict)
    assert repr(verdict) == (
        "A tanh layer: correct. Your forward and backward match autograd on all 3 cases, "
        "and torch.autograd.gradcheck agrees."
    )
    reference = check_autograd_function(LAYER, TanhLayer, must_pass=True)
    assert reference
    assert "the reference solution matches autograd on all 3 cases and passes gradcheck" in (
        repr(reference)
    )


class StubLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, dL_dh):
        raise NotImplementedError


class HalfStubLayer(TanhLayer):
    @staticmethod
    def backward(ctx, dL_dh):
        """Still to write."""
        raise NotImplementedError()


class NoBackwardLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        return torch.tanh(x @ w + b)


@pytest.mark.parametrize("layer", [StubLayer, HalfStubLayer, NoBackwardLayer])
def test_an_untouched_autograd_function_is_not_attempted(layer):
    verdict = check_autograd_function(LAYER, layer)
    assert not verdict and verdict.slips == ("not attempted",), repr(verdict)
    assert f"in `{layer.__name__}.forward` and `{layer.__name__}.backward`" in repr(verdict)
    with pytest.raises(AssertionError, match="not attempted"):
        check_autograd_function(LAYER, layer, must_pass=True)


def test_a_wrong_forward_is_named_before_any_gradient():
    layer = layer_with(forward=lambda ctx, x, w, b: torch.tanh(x @ w))
    verdict = check_autograd_function(LAYER, layer)
    assert not verdict and verdict.slips == ("forward",), repr(verdict)
    assert "The forward is wrong. On case 1 of 3" in repr(verdict)


def negate(grads, which):
    return tuple(-g if i == which else g for i, g in enumerate(grads))


@pytest.mark.parametrize("which, name", [(0, "x"), (1, "w"), (2, "b")])
def test_the_input_whose_gradient_is_wrong_is_named_with_its_slip(which, name):
    verdict = check_autograd_function(LAYER, layer_with(lambda grads: negate(grads, which)))
    assert not verdict and verdict.slips == ("sign",), repr(verdict)
    assert f"The forward is right, but the gradient for {name} is wrong. On case 1" in repr(
        verdict
    )
    assert "Diagnosis: every entry has the wrong sign" in repr(verdict)


def test_every_wrong_input_is_named():
    layer = layer_with(lambda grads: (grads[0], grads[1] * 2, grads[2] + 1))
    verdict = check_autograd_function(LAYER, layer)
    assert "the gradient for w is wrong (and so is the gradient for b)" in repr(verdict)
    assert verdict.slips == ("twice",)
    every = check_autograd_function(LAYER, layer_with(lambda grads: tuple(-g for g in grads)))
    assert "the gradient for x is wrong (and so is the gradient for w, b)" in repr(every)


def test_a_backward_without_the_sum_over_the_batch_is_diagnosed():
    layer = layer_with(lambda grads: (grads[0], grads[1], None))

    class NotSummed(TanhLayer):
        @staticmethod
        def backward(ctx, dL_dh):
            x, w, h = ctx.saved_tensors
            dL_ds = dL_dh * (1 - h**2)
            return dL_ds @ w.T, x.T @ dL_ds, dL_ds

    assert check_autograd_function(LAYER, NotSummed).slips == ("batch sum",)
    none = check_autograd_function(LAYER, layer)
    assert not none and "the gradient for b: `Layer.backward` returned None" in repr(none)


@pytest.mark.parametrize(
    "backward, message, slips",
    [
        (lambda grads: grads[:2], "returns 2 gradients, for 3 inputs (x, w, b)", ("count",)),
        (lambda grads: grads[0], "returns 1 gradient, for 3 inputs (x, w, b)", ("count",)),
        (lambda grads: [*grads], "returns a list. Return the gradients as a tuple", ("type",)),
        (lambda grads: (*grads[:2], grads[2].float()), "got dtype torch.float32", ("type",)),
        (lambda grads: (*grads[:2], grads[2][0]), "expected a gradient of shape (1, 4) for b", ()),
    ],
)
def test_what_backward_returns_is_checked_before_autograd_sees_it(backward, message, slips):
    verdict = check_autograd_function(LAYER, layer_with(backward))
    assert message in repr(verdict), repr(verdict)
    assert verdict.slips == slips or (message == "expected a gradient of shape (1, 4) for b")


def test_a_backward_that_gradcheck_refuses_fails():
    class Unsaved(TanhLayer):
        calls = 0

        @staticmethod
        def backward(ctx, dL_dh):
            Unsaved.calls += 1  # right the first times, wrong once gradcheck calls it
            grads = TanhLayer.backward(ctx, dL_dh)
            return grads if Unsaved.calls <= 3 else tuple(2 * g for g in grads)

    verdict = check_autograd_function(LAYER, Unsaved)
    assert not verdict and verdict.slips == ("gradcheck",), repr(verdict)
    assert "torch.autograd.gradcheck refuses them on case 1 of 3" in repr(verdict)


def raising_forward(ctx, x, w, b):
    raise ValueError("shapes do not match " + "x" * 5000)


def raising_backward(grads):
    raise RuntimeError("bad")


@pytest.mark.parametrize(
    "layer, message",
    [
        (layer_with(forward=raising_forward), "`Layer.apply` raised ValueError (shapes do not"),
        (layer_with(raising_backward), "right, but `Layer.backward` raised RuntimeError (bad)"),
        (layer_with(forward=lambda ctx, x, w, b: (x, w)), "got a tuple"),
        (layer_with(forward=lambda ctx, x, w, b: None), "`Layer.forward` returned None"),
    ],
)
def test_whatever_the_class_does_the_learner_gets_a_sentence(layer, message):
    grad_mode, dtype = torch.is_grad_enabled(), torch.get_default_dtype()
    verdict = check_autograd_function(LAYER, layer)
    assert not verdict and message in repr(verdict), repr(verdict)
    assert len(repr(verdict)) < 1000 and "Traceback" not in repr(verdict)
    assert (torch.is_grad_enabled(), torch.get_default_dtype()) == (grad_mode, dtype)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((TanhLayer, LAYER), "takes the exercise first, then your class"),
        ((MEAN, TanhLayer), "expects an exercise that the chapter made with FunctionExercise"),
        ((LAYER, TanhLayer.apply), "expected a class that subclasses torch.autograd.Function"),
        ((LAYER, "TanhLayer"), "expected a class that subclasses torch.autograd.Function"),
    ],
)
def test_check_autograd_function_explains_wrong_arguments(arguments, message):
    verdict = check_autograd_function(*arguments)
    assert not verdict and message in repr(verdict), repr(verdict)


def test_a_function_exercise_copies_its_cases():
    case = layer_case(2, 2, 2, seed=4)
    exercise = FunctionExercise("Copied", reference=LAYER.reference, cases=[case])
    case["x"].zero_()
    exercise.inputs[0]["w"].zero_()
    assert check_autograd_function(exercise, TanhLayer)
    with pytest.raises(ValueError, match="give at least one case"):
        FunctionExercise("Empty", reference=LAYER.reference, cases=[])
    with pytest.raises(ValueError, match="same inputs, in the same order"):
        FunctionExercise(
            "Mixed", reference=LAYER.reference, cases=[case, {"w": 1, "x": 1, "b": 1}]
        )


# --- The chapters' own exercises -------------------------------------------------------------


def chapter_exercises():
    """(exercise, reference solution) of every chapter, found by type and by the
    `check_gradient(e, s, must_pass=True)` cells; none where the chapters are absent
    (the mutation run's workspace)."""
    try:
        import test_exercise_slips as slips
    except ImportError:  # no chapters beside these tests
        return []
    return [
        (slips.chapter_namespace(chapter)[e], slips.chapter_namespace(chapter)[s])
        for chapter, e, s in slips.EXERCISES
    ]


@pytest.fixture(scope="module")
def real():
    pairs = chapter_exercises()
    if not pairs:
        pytest.skip("the chapters are not beside these tests")
    for exercise, _ in pairs:
        assert isinstance(exercise, Exercise)
    return pairs


def loss_of(exercise, arguments):
    """The exercise's loss as a function of the input it is differentiated by."""
    return lambda value: exercise.loss(**{**arguments, exercise.wrt: value})


def forward_mode_jacobian(f, value):
    """∂f/∂value one entry at a time, with torch.autograd.forward_ad."""
    import torch.autograd.forward_ad as fwAD

    grad = torch.zeros_like(value)
    for i in range(value.numel()):
        tangent = torch.zeros_like(value)
        tangent.view(-1)[i] = 1.0
        with fwAD.dual_level():
            out = f(fwAD.make_dual(value, tangent))
            grad.view(-1)[i] = fwAD.unpack_dual(out).tangent.sum()
    return grad


def in_another_thread(f, value):
    import threading

    result = {}

    def work():
        leaf = value.clone().requires_grad_()
        f(leaf).backward()
        result["grad"] = leaf.grad

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return result["grad"]


def by_the_engine(f, value):
    with torch.enable_grad():
        leaf = value.clone().requires_grad_()
        out = f(leaf)
        (grad,) = torch.autograd.Variable._execution_engine.run_backward(
            (out,), (torch.ones_like(out),), False, False, (leaf,), False
        )
    return grad


def linearized(f, value):
    """The derivative along all ones: the gradient where ``value`` has one entry."""
    _, jvp = torch.func.linearize(f, value)
    return jvp(torch.ones_like(value)) * torch.ones_like(value)


# Every way the issue lists of letting the computer differentiate the loss.
ROUTES = {
    "jacfwd": lambda f, v: torch.func.jacfwd(f)(v).reshape(v.shape),
    "jvp": lambda f, v: torch.stack(
        [
            torch.func.jvp(f, (v,), (e.reshape(v.shape),))[1]
            for e in torch.eye(v.numel(), dtype=v.dtype)
        ]
    ).reshape(v.shape),
    "linearize": linearized,
    "forward_ad": forward_mode_jacobian,
    "functional.jacobian forward-mode": lambda f, v: torch.autograd.functional.jacobian(
        f, v, strategy="forward-mode", vectorize=True
    ).reshape(v.shape),
    "backward in another thread": in_another_thread,
    "the autograd engine": by_the_engine,
    "numerical_gradient": lambda f, v: numerical_gradient(f, v),
    "torch.func.grad": lambda f, v: torch.func.grad(f)(v),
}


@pytest.mark.parametrize("route", ROUTES)
def test_every_way_of_differentiating_the_loss_fails(route):
    def answer(w, x, y):
        return ROUTES[route](lambda v: mean_loss(v, x, y), w.clone())

    verdict = check_gradient(MEAN, answer)
    assert not verdict and verdict.slips == ("autograd",), repr(verdict)
    assert "returns another gradient when the loss is another function" in repr(verdict)


@pytest.mark.parametrize("route", ROUTES)
def test_every_way_of_differentiating_a_chapters_loss_fails(real, route):
    for exercise, _ in real:

        def answer(exercise=exercise, **arguments):
            return ROUTES[route](loss_of(exercise, arguments), arguments[exercise.wrt].clone())

        verdict = check_gradient(exercise, answer)
        assert not verdict and verdict.slips == ("autograd",), f"{exercise.name}: {verdict!r}"
        assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


def copy_of(loss):
    """The same function written again: not the exercise's loss, but calling its helpers."""
    return types.FunctionType(
        loss.__code__, loss.__globals__, "copy", loss.__defaults__, loss.__closure__
    )


def test_a_chapters_loss_written_again_and_differentiated_is_told_too(real):
    """The helper that carries the loss (the squared error, say) is replaced as well."""
    caught = 0
    for exercise, _ in real:
        if len(exercise._loss_objects) < 2:  # no helper of the chapter carries this loss
            continue
        again = copy_of(exercise.loss)

        def answer(exercise=exercise, again=again, **arguments):
            value = arguments[exercise.wrt]
            return numerical_gradient(lambda v: again(**{**arguments, exercise.wrt: v}), value)

        verdict = check_gradient(exercise, answer)
        assert not verdict and verdict.slips == ("autograd",), f"{exercise.name}: {verdict!r}"
        caught += 1
    assert caught > 0, "no chapter exercise's loss is carried by a helper of the chapter"


def test_a_helper_that_carries_the_loss_is_replaced_and_an_activation_is_not():
    namespace = {"torch": torch, "numerical_gradient": numerical_gradient}
    exec(
        "def mse(y, y_hat):\n    return (y - y_hat) ** 2\n\n"
        "def sigmoid(s):\n    return 1 / (1 + torch.exp(-s))\n\n"
        "def size(x):\n    return x.shape[0]\n\n"
        "def loss(w, x, y):\n    return mse(y, y_hat=sigmoid(w * x)).sum() * size(x) / size(x)\n\n"
        "def right(w, x, y):\n"
        "    y_hat = sigmoid(w * x)\n"
        "    return (-2 * (y - y_hat) * y_hat * (1 - y_hat) * x).sum().reshape(1)\n\n"
        "def differentiates_a_copy(w, x, y):\n"
        "    return numerical_gradient(lambda v: mse(y, sigmoid(v * x)).sum(), w)\n",
        namespace,
    )
    exercise = Exercise(
        name="Sigmoid",
        loss=namespace["loss"],
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [0.5], "x": [1.5, -1.0, 0.5], "y": [0.5, 0.2, 1.0]}],
    )
    assert exercise._loss_names == {"loss", "mse"}
    assert check_gradient(exercise, namespace["right"])
    verdict = check_gradient(exercise, namespace["differentiates_a_copy"])
    assert not verdict and verdict.slips == ("autograd",), repr(verdict)
    assert callable(namespace["mse"]) and namespace["mse"].__name__ == "mse", "put back"


def test_a_right_answer_that_prints_the_loss_or_checks_itself_passes(real, capsys):
    for exercise, solution in real:

        def prints_and_checks(exercise=exercise, solution=solution, **arguments):
            print("loss:", exercise.loss(**arguments))
            mine = solution(**arguments)
            numeric = numerical_gradient(loss_of(exercise, arguments), arguments[exercise.wrt])
            print("largest difference from finite differences:", (mine - numeric).abs().max())
            return mine

        assert check_gradient(exercise, prints_and_checks), exercise.name
    printed = capsys.readouterr().out
    assert printed.count("loss:") == sum(len(e._inputs) for e, _ in real), (
        "the learner's prints appear once per case: the second run is silent"
    )


def test_a_right_answer_passes_under_a_profiler_which_keeps_running():
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        verdict = check_gradient(MEAN, right_mean)
        still = sys.getprofile()
    finally:
        profiler.disable()
    assert verdict, repr(verdict)
    assert still is profiler


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


# --- Results and errors that used to crash the checker ---------------------------------------


class OnAnotherDevice(torch.Tensor):
    """A stand-in for a CUDA tensor (there is no GPU here): it says it is on cuda:0."""

    @property
    def device(self):
        return torch.device("cuda", 0)


class UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("no message")


def raises_unprintable(w, x, y):
    raise UnprintableError


def raises_a_long_message(w, x, y):
    raise ValueError("shape mismatch " * 2000)


CRASHES = {
    "meta device": (
        lambda w, x, y: torch.zeros(1, device="meta", dtype=torch.float64),
        "got one on the 'meta' device",
    ),
    "sparse": (lambda w, x, y: right_mean(w, x, y).to_sparse(), "got a sparse_coo one"),
    "another device": (
        lambda w, x, y: right_mean(w, x, y).as_subclass(OnAnotherDevice),
        "got one on the 'cuda' device",
    ),
    "an exception that cannot be printed": (raises_unprintable, "raised UnprintableError, on"),
}


@pytest.mark.parametrize("answer, message", CRASHES.values(), ids=CRASHES)
def test_what_used_to_crash_the_checker_gets_a_sentence(answer, message):
    verdict = check_gradient(MEAN, answer)
    assert not verdict and message in repr(verdict), repr(verdict)


def test_a_long_exception_message_is_cut_short():
    verdict = check_gradient(MEAN, raises_a_long_message)
    assert "raised ValueError (shape mismatch shape mismatch" in repr(verdict)
    assert len(repr(verdict)) < 600 and " …)" in repr(verdict)


def test_the_arguments_swapped_or_no_exercise_get_a_sentence():
    swapped = check_gradient(right_mean, MEAN)
    assert not swapped and swapped.slips == ("arguments",)
    assert "check_gradient takes the exercise first, then your function" in repr(swapped)
    other = check_gradient(right_mean, right_mean)
    assert (
        "expects an exercise that the chapter made with Exercise(...) first, got a function"
        in (repr(other))
    )
    with pytest.raises(AssertionError, match="takes the exercise first"):
        check_gradient(right_mean, MEAN, must_pass=True)


def test_a_loss_helper_rebound_after_the_exercise_is_made_changes_nothing():
    """A learner writes `mse = mse(y, w * x).mean()` in a scratch cell."""
    namespace = {"torch": torch}
    exec(
        "def mse(y, y_hat):\n    return (y - y_hat) ** 2\n\n"
        "def loss(w, x, y):\n    return mse(y, w * x).sum()\n",
        namespace,
    )
    exercise = Exercise(
        name="Rebound",
        loss=namespace["loss"],
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [3.0], "x": [1.5, -1.0, 0.5], "y": [0.5, 2.0, 1.0]}],
    )
    w, x, y = torch.tensor([3.0]), torch.tensor([2.0]), torch.tensor([2.0])
    exec("mse = mse(y, w * x).mean()", {**namespace, "w": w, "x": x, "y": y}, namespace)
    assert isinstance(namespace["mse"], torch.Tensor)
    wrong = check_gradient(exercise, lambda w, x, y: (2 * (y - w * x) * x).sum().reshape(1))
    assert not wrong and wrong.slips == ("sign",), repr(wrong)
    half = check_gradient(exercise, lambda w, x, y: (-(y - w * x) * x).sum().reshape(1))
    assert half.slips == ("half",), repr(half)


def test_a_chapters_loss_helper_rebound_changes_nothing(real):
    for exercise, solution in real:
        namespace = getattr(exercise.loss, "__globals__", {})
        saved = {name: namespace[name] for name in exercise._loss_names if name in namespace}
        try:
            for name in saved:
                namespace[name] = torch.tensor(16.0)  # `mse = mse(y, w * x).mean()`
            assert check_gradient(exercise, solution), exercise.name
            verdict = check_gradient(exercise, lambda s=solution, **a: -s(**a))
            assert verdict.slips == ("sign",), f"{exercise.name}: {verdict!r}"
            factor = check_gradient(exercise, lambda s=solution, **a: s(**a) * 1.5)
            assert not factor and factor.slips == (), f"{exercise.name}: {factor!r}"
        finally:
            namespace.update(saved)


# --- State a learner's answer could leave behind -------------------------------------------------


def sets_default_device(w, x, y):
    answer = right_mean(w, x, y)
    torch.set_default_device("meta")
    return answer


KEPT = []


def keeps_an_inference_mode_guard(w, x, y):
    guard = torch.inference_mode()
    guard.__enter__()
    KEPT.append(guard)
    return right_mean(w, x, y)


def changes_global_settings(w, x, y):
    import threading

    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_anomaly_enabled(True, check_nan=False)
    torch.set_num_threads(1)
    sys.settrace(lambda *a: None)
    sys.setprofile(lambda *a: None)
    threading.settrace(lambda *a: None)
    return right_mean(w, x, y)


@pytest.mark.parametrize(
    "answer", [sets_default_device, keeps_an_inference_mode_guard, changes_global_settings]
)
def test_settings_an_answer_changes_do_not_outlive_the_check(answer):
    import threading

    before = (
        torch.get_default_device(),
        torch.is_inference_mode_enabled(),
        torch.are_deterministic_algorithms_enabled(),
        torch.is_anomaly_enabled(),
        torch.get_num_threads(),
        sys.gettrace(),
        sys.getprofile(),
        threading.gettrace(),
    )
    try:
        assert check_gradient(MEAN, answer)
        after = (
            torch.get_default_device(),
            torch.is_inference_mode_enabled(),
            torch.are_deterministic_algorithms_enabled(),
            torch.is_anomaly_enabled(),
            torch.get_num_threads(),
            sys.gettrace(),
            sys.getprofile(),
            threading.gettrace(),
        )
        assert after == before
        assert (
            torch.zeros(1).device.type == "cpu"
            and torch.ones(1, requires_grad=True).grad_fn is None
        )
        assert check_gradient(MEAN, right_mean, must_pass=True)
    finally:
        # A guard restores, when it is dropped, the modes of the thread that made it (the
        # checker's, where autograd is off): drop it in a thread of its own too.
        dropping = threading.Thread(target=KEPT.clear)
        dropping.start()
        dropping.join()
    assert torch.is_grad_enabled()


def test_the_cases_cannot_be_changed_from_outside():
    shared = [
        {
            "x": torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64),
            "w": [[0.5], [-1.0]],
            "y": [[1.0], [0.0]],
        }
    ]
    first = Exercise("First", lambda x, w, y: ((y - x @ w) ** 2).sum(), "w", shared, ("x", "y"))
    second = Exercise(
        "Second", lambda x, w, y: ((y - x @ w) ** 2).sum(), "x", first.cases, ("x", "y")
    )
    shared[0]["x"] -= shared[0]["x"].mean()  # centred in place, as in chapter 2
    first.inputs[0]["x"].zero_()
    first.answers[0].zero_()
    assert check_gradient(first, lambda x, w, y: x.T @ (-2 * (y - x @ w)))
    assert check_gradient(second, lambda x, w, y: -2 * (y - x @ w) @ w.T)


def test_a_chapters_cases_cannot_be_changed_from_outside(real):
    for exercise, solution in real:
        for case in exercise.cases:
            for value in case.values():
                if isinstance(value, torch.Tensor) and value.is_floating_point():
                    value.add_(0.0)  # the same tensor: its version changes, not its values
        originals = [
            {k: v.clone() for k, v in case.items() if isinstance(v, torch.Tensor)}
            for case in exercise.cases
        ]
        try:
            for case in exercise.cases:
                for value in case.values():
                    if isinstance(value, torch.Tensor) and value.is_floating_point():
                        value.sub_(value.mean())  # centred in place
            for case in exercise.inputs:
                next(iter(case.values())).zero_()
            assert check_gradient(exercise, solution), exercise.name
        finally:
            for case, original in zip(exercise.cases, originals, strict=True):
                for k, v in original.items():
                    case[k].copy_(v)


# --- Messages ------------------------------------------------------------------------------------


async def async_answer(w, x, y):
    return right_mean(w, x, y)


MESSAGES = {
    "an empty exception message": (
        lambda w, x, y: (_ for _ in ()).throw(ValueError()),
        "your lambda raised ValueError, on case 1 of 3",
    ),
    "a complex result": (
        lambda w, x, y: right_mean(w, x, y) + 0j,
        "expected a real float64 tensor, got dtype torch.complex128",
    ),
    "a NumPy number": (lambda w, x, y: np.float64(2.0), "got a number (2.0)."),
    "a partial": (
        functools.partial(raises_value_error),
        "`raises_value_error` raised ValueError (math domain error)",
    ),
    "an async def": (async_answer, "`async_answer` is an `async def`: write it as a plain `def`"),
}


@pytest.mark.parametrize("answer, message", MESSAGES.values(), ids=MESSAGES)
def test_each_message_says_what_to_do(answer, message):
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        verdict = check_gradient(MEAN, answer)
        gc.collect()
    assert not verdict and message in repr(verdict), repr(verdict)
    assert "Traceback" not in repr(verdict) and ": \n" not in repr(verdict)
    assert not [w for w in caught if "never awaited" in str(w.message)]


# --- What the checker cannot tell (the README says so) ------------------------------------------


def test_an_answer_that_differentiates_its_own_copy_of_the_loss_is_not_told():
    def own_finite_differences(w, x, y):
        return numerical_gradient(lambda v: ((y - v * x) ** 2).mean(), w)

    def own_autograd_on_a_copy(w, x, y):
        with torch.enable_grad():
            v = w.clone().requires_grad_()
            return torch.autograd.grad(((y - v * x) ** 2).mean(), v)[0]

    assert check_gradient(MEAN, own_finite_differences)
    assert check_gradient(MEAN, own_autograd_on_a_copy)


# --- Whole messages about a torch.autograd.Function ----------------------------------------------


def layer_where(number=1):
    case = LAYER.inputs[number - 1]
    return f"on case {number} of 3 ({exercises._describe(case)})"


LAYER_CALLED = (
    "It is called as Layer.apply(x, w, b) with float64 tensors that require grad: call it "
    "yourself on those inputs to see where."
)


def whole_function_messages():
    where = layer_where()
    return {
        "not attempted": (
            StubLayer,
            ("not attempted",),
            "A tanh layer: not attempted yet. To try it, run this chapter in JupyterLab, replace "
            "`raise NotImplementedError` in `StubLayer.forward` and `StubLayer.backward` with "
            "your formula, then run that cell and this one.",
        ),
        "not a class": (
            TanhLayer.apply,
            (),
            "A tanh layer: expected a class that subclasses torch.autograd.Function, got a "
            "method. Pass the class itself, not `.apply` nor a call of it.",
        ),
        "forward raises": (
            layer_with(forward=raising_forward),
            ("raised",),
            f"A tanh layer: `Layer.apply` raised ValueError (shapes do not match "
            f"{'x' * (exercises.MAX_ERROR_TEXT - 20)} …), {where}. {LAYER_CALLED}",
        ),
        "backward raises": (
            layer_with(raising_backward),
            ("raised",),
            f"A tanh layer: the forward is right, but `Layer.backward` raised RuntimeError (bad), "
            f"{where}. {LAYER_CALLED}",
        ),
        "forward returns None": (
            layer_with(forward=lambda ctx, x, w, b: None),
            ("type",),
            f"A tanh layer: the forward: `Layer.forward` returned None: did you forget `return`? "
            f"({where}).",
        ),
        "a list": (
            layer_with(lambda grads: [*grads]),
            ("type",),
            "A tanh layer: `Layer.backward` returns a list. Return the gradients as a tuple, one "
            "per input of forward: `return dL_dx, dL_dw, dL_db`.",
        ),
        "one gradient": (
            layer_with(lambda grads: grads[0]),
            ("count",),
            "A tanh layer: `Layer.backward` returns 1 gradient, for 3 inputs (x, w, b). Return "
            "one gradient per input of forward, in that order.",
        ),
        "a gradient of the wrong type": (
            layer_with(lambda grads: (grads[0], grads[1].float(), grads[2])),
            ("type",),
            "A tanh layer: the gradient for w: expected a float64 tensor (the inputs are "
            "float64), got dtype torch.float32. Compute it from the inputs instead of writing "
            f"torch.tensor(...) ({where}).",
        ),
    }


@pytest.mark.parametrize("case", list(whole_function_messages()))
def test_the_whole_message_about_an_autograd_function(case):
    layer, slips, message = whole_function_messages()[case]
    verdict = check_autograd_function(LAYER, layer)
    assert not verdict and verdict.slips == slips
    assert repr(verdict) == message


def test_the_whole_message_for_a_wrong_forward_and_a_wrong_gradient():
    expected = LAYER._outputs[0]
    wrong_forward = layer_with(forward=lambda ctx, x, w, b: torch.tanh(x @ w + b) + 1)
    assert repr(check_autograd_function(LAYER, wrong_forward)) == (
        "A tanh layer: not yet. The forward is wrong. "
        f"On case 1 of 3 ({exercises._describe(LAYER.inputs[0])}), "
        f"the largest error is 1 at index (0, 0): expected {expected[0, 0].item():.6g}, "
        f"got {expected[0, 0].item() + 1:.6g}. Fix the forward "
        "first, then the backward."
    )
    shape = check_autograd_function(LAYER, layer_with(forward=lambda ctx, x, w, b: x))
    assert repr(shape) == (
        "A tanh layer: not yet. The forward returns shape (3, 2), where (3, 4) is expected, "
        f"{layer_where()}. Fix the forward first, then the backward."
    )
    assert not shape and shape.slips == ("forward",)

    def bumped(gradient):
        gradient = gradient.clone()
        gradient[0, 0] += 1
        return gradient

    wrong_b = layer_with(lambda grads: (grads[0], grads[1], bumped(grads[2])))
    verdict = check_autograd_function(LAYER, wrong_b)
    gradient = LAYER._gradients[0][2]
    assert verdict.slips == ()
    assert repr(verdict) == (
        "A tanh layer: not yet. The forward is right, but the gradient for b is wrong. "
        f"On case 1 of 3 ({exercises._describe(LAYER.inputs[0])}), the largest error is 1 at "
        f"index (0, 0): expected {gradient[0, 0].item():.6g}, got "
        f"{gradient[0, 0].item() + 1:.6g}. It is wrong on 3 of the 3 cases.\n"
        "Hint: tanh'(s) = 1 - tanh(s)**2."
    )


def test_the_whole_message_when_gradcheck_refuses():
    class Unsaved(TanhLayer):
        calls = 0

        @staticmethod
        def backward(ctx, dL_dh):
            Unsaved.calls += 1
            grads = TanhLayer.backward(ctx, dL_dh)
            return grads if Unsaved.calls <= 3 else tuple(2 * g for g in grads)

    message = repr(check_autograd_function(LAYER, Unsaved))
    start = (
        "A tanh layer: not yet. Forward and backward match autograd, but "
        f"torch.autograd.gradcheck refuses them {layer_where()}: GradcheckError (Jacobian "
        "mismatch for output 0 with respect to input 0,"
    )
    assert message.startswith(start), message
    assert message.endswith(
        " …). Check that backward uses only what forward saved, and changes nothing in place."
    )


def test_the_whole_messages_for_arguments_in_the_wrong_place():
    swapped = check_autograd_function(TanhLayer, LAYER)
    assert swapped.slips == ("arguments",) and repr(swapped) == (
        "check_autograd_function takes the exercise first, then your class: write "
        "check_autograd_function(exercise, answer) with the two swapped back."
    )
    other = check_autograd_function(MEAN, TanhLayer)
    assert other.slips == ("arguments",) and repr(other) == (
        "check_autograd_function expects an exercise that the chapter made with "
        "FunctionExercise(...) first, got an Exercise. Pass that exercise, then your class."
    )
    assert repr(check_gradient(right_mean, right_mean)) == (
        "check_gradient expects an exercise that the chapter made with Exercise(...) first, "
        "got a function. Pass that exercise, then your function."
    )


def test_a_function_exercise_whose_first_input_is_a_number_has_one_sample():
    exercise = FunctionExercise(
        "Scaled",
        reference=lambda a, x: a * torch.tanh(x),
        cases=[{"a": 2.0, "x": [[1.0, -0.5], [0.3, 2.0]]}],
    )

    class Scaled(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, x):
            h = torch.tanh(x)
            ctx.save_for_backward(a, h)
            return a * h

        @staticmethod
        def backward(ctx, dL_dy):
            a, h = ctx.saved_tensors
            return (dL_dy * h).sum() / 2, dL_dy * a * (1 - h**2) / 2

    verdict = check_autograd_function(exercise, Scaled)
    assert verdict.slips == ("half",), repr(verdict)


# --- Exercises made inside the tests (what is computed when an exercise is made) ----------------


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


HELPERS = """
def mse(y, y_hat):
    return (y - y_hat) ** 2


def sigmoid(s):
    return 1 / (1 + torch.exp(-s))


def size(x):
    return x.shape[0]


def one(v):
    return 1.0


def loss(w, x, y):
    return torch.sum(mse(y, y_hat=sigmoid(w * x))) * max(one(v) for v in [1.0]) * size(x) / size(x)


error = mse  # the same helper under another name


def right(w, x, y):
    y_hat = sigmoid(w * x)
    return (-2 * (y - y_hat) * y_hat * (1 - y_hat) * x).sum().reshape(1)


def differentiates_a_copy(w, x, y):
    return numerical_gradient(lambda v: error(y, sigmoid(v * x)).sum(), w)


def differentiates_loss(w, x, y):
    return numerical_gradient(lambda v: loss(v, x, y), w)
"""


def helpers_exercise():
    namespace = {"torch": torch, "numerical_gradient": numerical_gradient}
    exec(HELPERS, namespace)
    exercise = Exercise(
        name="Sigmoid",
        loss=namespace["loss"],
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [0.5], "x": [1.5, -1.0, 0.5], "y": [0.5, 0.2, 1.0]}],
    )
    return namespace, exercise


def test_only_the_helpers_that_carry_the_whole_loss_are_replaced():
    namespace, exercise = helpers_exercise()
    assert exercise._loss_names == {"loss", "mse"}, "not sigmoid, size, one, torch, max"
    assert exercise._loss_objects == [namespace["loss"], namespace["mse"]]
    assert check_gradient(exercise, namespace["right"])
    for answer in ("differentiates_a_copy", "differentiates_loss"):
        verdict = check_gradient(exercise, namespace[answer])
        assert not verdict and verdict.slips == ("autograd",), f"{answer}: {verdict!r}"
    assert namespace["mse"] is namespace["error"] and namespace["mse"].__name__ == "mse"


def test_a_loss_defined_again_under_its_name_is_replaced_too():
    namespace, exercise = helpers_exercise()
    exec(HELPERS.split("error = mse")[0], namespace)  # the cell run again: new functions
    assert namespace["loss"] is not exercise.loss
    verdict = check_gradient(exercise, namespace["differentiates_loss"])
    assert not verdict and verdict.slips == ("autograd",), repr(verdict)


def test_a_loss_reached_through_another_exercise_or_module_is_replaced():
    namespace, exercise = helpers_exercise()
    sibling = Exercise("Sibling", exercise.loss, "x", exercise.cases, ("x", "y"))
    other_module = {"sibling": sibling, "numerical_gradient": numerical_gradient}
    exec(
        "def through_the_sibling(w, x, y):\n"
        "    return numerical_gradient(lambda v: sibling.loss(v, x, y), w)\n",
        other_module,
    )
    verdict = check_gradient(exercise, other_module["through_the_sibling"])
    assert verdict.slips == ("autograd",), repr(verdict)
    assert sibling.loss is exercise.loss, "put back"
    # A loss that calls no helper: only the sibling's own `loss` can be replaced.
    other_module["sibling"] = Exercise("Sibling", mean_loss, "x", MEAN.cases, ("x", "y"))
    verdict = check_gradient(MEAN, other_module["through_the_sibling"])
    assert verdict.slips == ("autograd",), repr(verdict)

    # The answer's own module holds no loss; the loss's module, reached through a helper, does.
    def through_the_loss_module(w, x, y):
        return namespace["differentiates_loss"](w, x, y)

    assert check_gradient(exercise, through_the_loss_module).slips == ("autograd",)


def test_a_loss_that_is_no_function_is_replaced_where_the_answer_finds_it():
    exercise = Exercise("Partial", functools.partial(mean_loss), "w", MEAN.cases, ("x", "y"))
    assert exercise._loss_names == set()
    verdict = check_gradient(
        exercise, lambda w, x, y: numerical_gradient(lambda v: exercise.loss(v, x, y), w)
    )
    assert verdict.slips == ("autograd",), repr(verdict)
    assert check_gradient(exercise, right_mean)


def test_an_exception_message_is_cut_at_its_limit_and_no_sooner():
    limit = exercises.MAX_ERROR_TEXT
    exact = ValueError("a" * limit)
    assert exercises._error_words(exact) == f"ValueError ({'a' * limit})"
    longer = ValueError("a" * (limit - 1) + " " + "b" * 50)
    assert exercises._error_words(longer) == f"ValueError ({'a' * (limit - 1)} …)"
    spaced = ValueError("  several\n lines  of text ")
    assert exercises._error_words(spaced) == "ValueError (several lines of text)"


def yields(w, x, y):
    yield right_mean(w, x, y)


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda w, x, y: 2 + 0j, "got a complex number ((2+0j))."),
        (yields, "got a generator (from a `yield`)."),
        (lambda w, x, y: True, "got a boolean (True)."),
    ],
)
def test_what_a_value_is_said_in_words(answer, message):
    assert message in repr(check_gradient(MEAN, answer))


def made_layer():
    return FunctionExercise(
        "A tanh layer",
        reference=lambda x, w, b: torch.tanh(x @ w + b),
        cases=[layer_case(3, 2, 4, seed=1), layer_case(3, 2, 4, seed=2)],
        hint="tanh'(s) = 1 - tanh(s)**2.",
    )


def test_a_function_exercise_made_now_has_seeded_float64_upstream_gradients():
    first, second = made_layer(), made_layer()
    for a, b in zip(first._upstream, second._upstream, strict=True):
        assert a.dtype == torch.float64 and torch.equal(a, b)
    assert not torch.equal(first._upstream[0], first._upstream[1]), "one seed per case"
    assert torch.equal(
        first._outputs[0],
        torch.tanh(first.inputs[0]["x"] @ first.inputs[0]["w"] + first.inputs[0]["b"]),
    )


@pytest.mark.parametrize("which, name", [(0, "x"), (1, "w"), (2, "b")])
def test_a_function_exercise_made_now_names_each_input_and_slip(which, name):
    exercise = made_layer()
    assert check_autograd_function(exercise, TanhLayer)
    half = layer_with(lambda grads: tuple(g / 2 if i == which else g for i, g in enumerate(grads)))
    verdict = check_autograd_function(exercise, half)
    assert verdict.slips == ("half",) and f"the gradient for {name} is wrong." in repr(verdict)


# --- The second run, the guard, and where an answer can find the loss -------------------------


def test_an_answer_that_writes_to_the_streams_is_still_run_twice_silently(capsys):
    def writes_and_differentiates(w, x, y):
        sys.stdout.write("out\n")
        sys.stderr.write("err\n")
        return numerical_gradient(lambda v: mean_loss(v, x, y), w)

    verdict = check_gradient(MEAN, writes_and_differentiates)
    assert verdict.slips == ("autograd",), repr(verdict)
    captured = capsys.readouterr()
    assert (captured.out.count("out"), captured.err.count("err")) == (3, 3), "the first run only"
    assert repr(verdict) == (
        "Mean squared error: `writes_and_differentiates` returns another gradient when the loss "
        "is another function, so it lets the computer differentiate the loss (autograd, forward "
        "mode or finite differences). Write the formula you derived by hand; printing the loss "
        "is fine."
    )


def test_the_whole_message_for_autograd_switched_on():
    def tracks_two(w, x, y):
        x.requires_grad_()
        w.requires_grad_()
        return right_mean(w.detach(), x.detach(), y)

    assert repr(check_gradient(MEAN, tracks_two)) == (
        "Mean squared error: `tracks_two` switches autograd on for w, x (requires_grad), so the "
        "computer finds the derivative. Write the formula you derived by hand, computed from "
        "the inputs alone."
    )


def test_deterministic_algorithms_are_put_back_with_their_warn_only_flag():
    def changes_them(w, x, y):
        torch.use_deterministic_algorithms(True, warn_only=False)
        return right_mean(w, x, y)

    torch.use_deterministic_algorithms(False, warn_only=True)
    try:
        assert check_gradient(MEAN, changes_them)
        assert not torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


def test_a_failure_of_the_checker_itself_is_said_in_words(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(exercises, "_describe", broken)
    verdict = check_gradient(MEAN, raises_value_error)
    assert not verdict and verdict.slips == ("unjudged",)
    assert repr(verdict) == (
        "Mean squared error: the checker could not judge this answer (RuntimeError (boom)). "
        "Return a plain float64 tensor on the CPU, built from the inputs."
    )
    monkeypatch.setattr(exercises, "_not_an_exercise", broken)
    nameless = check_gradient("not an exercise", right_mean)
    assert repr(nameless).startswith("This exercise: the checker could not judge this answer")
    with pytest.raises(AssertionError, match="could not judge"):
        check_autograd_function("not an exercise", TanhLayer, must_pass=True)


def test_the_whole_messages_for_results_of_another_kind():
    where = CASE_1
    sparse = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y).to_sparse())
    assert repr(sparse) == (
        "Mean squared error: expected a dense tensor, got a sparse_coo one. Return it with "
        f"`.to_dense()`, or build it without sparse tensors ({where})."
    )
    meta = check_gradient(MEAN, lambda w, x, y: torch.zeros(1, device="meta"))
    assert repr(meta) == (
        "Mean squared error: expected a tensor on the CPU, got one on the 'meta' device. Build "
        f"it from the inputs (they are on the CPU), without `device=` ({where})."
    )
    complex_ = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y) * 1j)
    assert repr(complex_) == (
        "Mean squared error: expected a real float64 tensor, got dtype torch.complex128. The "
        "gradient of a real loss is real: build it from the inputs without complex numbers "
        f"({where})."
    )
    shape = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y).reshape(1, 1))
    assert shape.slips == ("shape",) and repr(shape).endswith(
        "\nDiagnosis: your numbers are right but their shape is not: return them with "
        "`.reshape(...)` to the shape of what the gradient is taken with respect to."
    )
    precision = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y) * (1 + 3e-6))
    assert precision.slips == ("precision",) and repr(precision).endswith(
        "\nDiagnosis: your gradient agrees with autograd only to float32's 7 digits: some step "
        "is computed in float32. Keep every step in float64 (no `.float()`, and "
        "`dtype=torch.float64` in any `torch.tensor(...)`)."
    )


OTHER_MODULE = """
import functools

alias = None  # set to the exercise's loss by the tests


def differentiates(w, x, y):
    return numerical_gradient(lambda v: alias(v, x, y), w)


class Learner:
    def method(self, w, x, y):
        return differentiates(w, x, y)

    def __call__(self, w, x, y):
        return differentiates(w, x, y)
"""


def other_module():
    module = {"numerical_gradient": numerical_gradient}
    exec(OTHER_MODULE, module)
    module["alias"] = mean_loss
    return module


def wrapped_answer(module):
    @functools.wraps(module["differentiates"])
    def decorated(w, x, y):
        return module["differentiates"](w, x, y)

    return decorated


@pytest.mark.parametrize(
    "answer",
    [
        lambda module: module["differentiates"],
        lambda module: module["Learner"]().method,
        lambda module: module["Learner"](),
        lambda module: functools.partial(module["differentiates"]),
        wrapped_answer,
    ],
    ids=["function", "bound method", "callable object", "partial", "decorated"],
)
def test_the_loss_is_replaced_in_the_module_of_whatever_the_answer_is(answer):
    module = other_module()
    verdict = check_gradient(MEAN, answer(module))
    assert verdict.slips == ("autograd",), repr(verdict)
    assert module["alias"] is mean_loss


def test_the_loss_in_a_closure_is_replaced_and_an_empty_cell_is_passed_over():
    def make(loss):
        def answer(w, x, y):
            if False:
                return later  # noqa: F821 (never bound: an empty cell)
            return numerical_gradient(lambda v: loss(v, x, y), w)

        return answer
        later = None

    verdict = check_gradient(MEAN, make(mean_loss))
    assert verdict.slips == ("autograd",), repr(verdict)
    answer = make(mean_loss)
    cells = dict(zip(answer.__code__.co_freevars, answer.__closure__, strict=True))
    assert cells["loss"].cell_contents is mean_loss, "put back"


def test_a_class_passed_as_the_answer_is_judged_like_any_callable():
    class Answer:
        def __init__(self, w, x, y):
            self.value = right_mean(w, x, y)

    verdict = check_gradient(MEAN, Answer)
    assert "got an Answer" in repr(verdict) and verdict.slips == ("type",)


def test_a_device_context_left_open_ends_with_the_answers_thread(monkeypatch):
    import threading

    failures = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    stacks = []

    def leaves_a_device_open(w, x, y):
        torch.device("meta").__enter__()
        return right_mean(w, x, y)

    def looks(w, x, y):
        stacks.append(torch._C._len_torch_function_stack())
        return right_mean(w, x, y)

    assert check_gradient(MEAN, leaves_a_device_open)
    assert check_gradient(MEAN, looks)
    assert failures == [] and stacks == [0] * 6, "3 cases, run twice"


def test_the_whole_message_for_a_gradient_of_the_wrong_shape():
    verdict = check_gradient(MATMUL, lambda x, w, y: torch.zeros(1, 3, dtype=torch.float64))
    assert repr(verdict) == (
        f"Matrix product: not yet. O{MATMUL_CASE_1[1:]}, expected a gradient of shape (1, 2) "
        "for w, got (1, 3): a gradient has the shape of what it is taken with respect to. It is "
        "wrong on 2 of the 2 cases.\nHint: dL/dW = X^T dL/dZ"
    )
