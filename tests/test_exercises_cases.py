"""Unit tests for chapters/exercises/cases.py."""

import pytest
import torch

from exercises import Exercise, FunctionExercise, check_autograd_function, check_gradient
from exercises.cases import _float64_cases
from exercises_examples import LAYER, MEAN, TanhLayer, layer_case, real_pairs, right_mean


@pytest.fixture(scope="module")
def real():
    return real_pairs()


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


# --- Issue 26: integer inputs stay integers ------------------------------------------------------


def picked_loss(z, labels):
    return -(torch.log_softmax(z, dim=1)[torch.arange(len(labels)), labels]).mean()


LABELS = Exercise(
    name="Labels",
    loss=picked_loss,
    wrt="z",
    batched=("z", "labels"),
    cases=[
        {"z": [[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]], "labels": torch.tensor([2, 0])},
        {
            "z": [[1.0, 0.0, -1.0], [0.3, 0.3, 0.9], [2.0, 1.0, 0.5]],
            "labels": torch.tensor([1, 1, 0]),
        },
    ],
)


def test_integer_inputs_stay_integers_for_the_loss_and_the_answer():
    seen = []

    def answer(z, labels):
        seen.append(labels.dtype)
        p = torch.softmax(z, dim=1)
        p[torch.arange(len(labels)), labels] -= 1
        return p / len(labels)

    for case in LABELS.inputs:
        assert case["labels"].dtype == torch.int64 and case["z"].dtype == torch.float64
    assert check_gradient(LABELS, answer)
    assert seen and set(seen) == {torch.int64}
    # A number or a list is a float64 input, as before; an int32 tensor becomes int64.
    (case,) = _float64_cases([{"a": [1, 2], "b": 3, "c": torch.tensor([1, 2], dtype=torch.int32)}])
    assert [case[k].dtype for k in "abc"] == [torch.float64, torch.float64, torch.int64]


def test_a_message_shows_integer_inputs_as_integers():
    verdict = check_gradient(LABELS, lambda z, labels: torch.zeros_like(z))
    assert "labels=[2, 0]" in repr(verdict), repr(verdict)
