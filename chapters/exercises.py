"""The exercise checker: compares a learner's derivative with autograd, in plain words.

Importing it has no side effects.
"""

from dataclasses import dataclass, field

import torch

__all__ = ["Exercise", "Verdict", "check_gradient"]

RTOL, ATOL = 1e-6, 1e-8  # float64 agreement asked of an answer


@dataclass
class Exercise:
    """A derivative for the learner to write.

    ``loss`` maps named tensors to a one-element tensor; the learner writes a
    function taking the same names and returning the gradient of ``loss`` with
    respect to the one named ``wrt``. ``cases`` are the inputs it is checked
    on: dicts of numbers, lists or tensors, converted to float64.
    """

    name: str
    loss: object
    wrt: str
    cases: list
    hint: str = ""
    inputs: list = field(init=False)

    def __post_init__(self):
        if not self.cases:
            raise ValueError(f"Exercise {self.name!r}: give at least one case")
        self.inputs = [
            {key: torch.as_tensor(value, dtype=torch.float64) for key, value in case.items()}
            for case in self.cases
        ]
        for case in self.inputs:
            if self.wrt not in case:
                raise ValueError(f"Exercise {self.name!r}: a case has no input {self.wrt!r}")

    def expected(self, case):
        """Autograd's gradient of the loss with respect to ``wrt`` on ``case``."""
        leaves = {
            key: value.clone().requires_grad_(key == self.wrt) for key, value in case.items()
        }
        (grad,) = torch.autograd.grad(self.loss(**leaves), leaves[self.wrt])
        return grad

    def call_signature(self):
        return ", ".join(self.inputs[0])


class Verdict:
    """What the checker says: true when the answer is correct, shown as plain words."""

    def __init__(self, passed, message):
        self.passed, self.message = passed, message

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return self.message


def check_gradient(exercise, answer, must_pass=False):
    """Compare ``answer`` (the learner's derivative) with autograd on every case.

    Returns a ``Verdict``: shown in a notebook it reads as a sentence, and it is
    true only when the answer is correct. It never raises on a learner's
    mistake; with ``must_pass=True`` (used for reference solutions) a wrong
    answer raises AssertionError with the same sentence.
    """
    verdict = _judge(exercise, answer)
    if must_pass and not verdict:
        raise AssertionError(verdict.message)
    return verdict


def _judge(exercise, answer):
    name, wrt = exercise.name, exercise.wrt
    signature = exercise.call_signature()
    if answer is None:
        return Verdict(False, f"{name}: not attempted yet. Write your function and run its cell.")
    if not callable(answer):
        return Verdict(
            False,
            f"{name}: expected a function of ({signature}) that returns dL/d{wrt}, "
            f"got {_kind(answer)}. Pass the function itself, without calling it.",
        )
    for number, case in enumerate(exercise.inputs, start=1):
        where = f"on case {number} of {len(exercise.inputs)} ({_describe(case)})"
        arguments = {key: value.clone() for key, value in case.items()}
        try:
            got = answer(**arguments)
        except NotImplementedError:
            return Verdict(
                False,
                f"{name}: not attempted yet. Replace `raise NotImplementedError` "
                "with your formula and run the cell again.",
            )
        # The learner's code: whatever it raises is reported in words, never re-raised.
        except Exception as error:  # noqa: BLE001
            return Verdict(
                False,
                f"{name}: your function raised {type(error).__name__}: {error}\n"
                f"It is called as answer({signature}) with float64 tensors; {where}.",
            )
        expected = exercise.expected(case)
        problem = _problem(got, expected, wrt)
        if problem:
            return Verdict(False, f"{name}: {problem} ({where}).")
        error = (got - expected).abs()
        if not torch.allclose(got, expected, rtol=RTOL, atol=ATOL):
            index = _index(error.argmax(), expected.shape)
            hint = _hint(got, expected, case) or exercise.hint
            return Verdict(
                False,
                f"{name}: not yet. {where[0].upper() + where[1:]}, the largest error is "
                f"{error.max().item():.4g} at index {index}: expected "
                f"{expected[index].item():.6g}, got {got[index].item():.6g}."
                + (f"\nHint: {hint}" if hint else ""),
            )
    return Verdict(
        True,
        f"{name}: correct. Your gradient matches autograd on all {len(exercise.inputs)} cases.",
    )


def _kind(value):
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, bool | int | float):
        return f"a number ({value!r})"
    return f"a {type(value).__name__}"


def _describe(case):
    """Small inputs by value, large ones by shape."""
    parts = []
    for key, value in case.items():
        if value.numel() <= 4:
            parts.append(f"{key}={_rounded(value.tolist())}")
        else:
            parts.append(f"{key} of shape {tuple(value.shape)}")
    return ", ".join(parts)


def _rounded(values):
    """Nested lists of floats with four significant digits, for messages."""
    if isinstance(values, list):
        return [_rounded(value) for value in values]
    return float(f"{values:.4g}")


def _problem(got, expected, wrt):
    """What makes ``got`` unusable as a gradient, in words; None if nothing does."""
    want = tuple(expected.shape)
    if got is None:
        return "your function returned None: did you forget `return`?"
    if not isinstance(got, torch.Tensor):
        return (
            f"expected a torch.Tensor of shape {want}, got {_kind(got)}. "
            "Build the gradient from the input tensors so it stays a tensor"
        )
    if not got.is_floating_point():
        return (
            f"expected a float64 tensor, got dtype {got.dtype}. "
            "Integer or boolean tensors cannot hold a gradient"
        )
    if got.dtype != torch.float64:
        return (
            f"expected a float64 tensor (the inputs are float64), got dtype {got.dtype}. "
            "Compute it from the inputs instead of writing torch.tensor(...)"
        )
    if tuple(got.shape) != want:
        return f"expected a gradient of shape {want} for {wrt}, got {tuple(got.shape)}" + (
            _shape_hint(tuple(got.shape), want)
        )
    if not torch.isfinite(got).all():
        index = _index((~torch.isfinite(got)).int().argmax(), got.shape)
        return f"your gradient holds {got[index].item()} at index {index}"
    return None


def _shape_hint(got, want):
    if len(got) == len(want) and got[1:] == want[1:] and got[0] > want[0] == 1:
        return ": did you forget to sum over the batch (the rows)?"
    if got == want[::-1] and len(want) == 2:
        return ": did you forget a transpose, or sum over the wrong dimension?"
    return ": a gradient has the shape of what it is taken with respect to"


def _hint(got, expected, case):
    """A guess at a common slip, from how ``got`` relates to ``expected``."""
    if torch.allclose(got, -expected, rtol=RTOL, atol=ATOL):
        return "every entry has the wrong sign. Check the sign of each factor of the chain rule."
    batch = max((value.shape[0] for value in case.values() if value.dim()), default=1)
    # The batch size first: with two rows, a mean where a sum belongs is also "half".
    for factor, words in [
        (batch, f"{batch} times the answer: a mean divides by the batch size."),
        (1 / batch, f"1/{batch} of the answer: a sum does not divide by the batch size."),
        (2.0, "twice the answer: is a factor 2 counted twice?"),
        (0.5, "half the answer: did you drop the 2 from the square's derivative?"),
    ]:
        if factor != 1 and torch.allclose(got, factor * expected, rtol=RTOL, atol=ATOL):
            return f"your gradient is {words}"
    return ""


def _index(flat, shape):
    """The position of flat index ``flat`` in a tensor of ``shape``, as a tuple."""
    return tuple(int(i) for i in torch.unravel_index(flat, tuple(shape)))
