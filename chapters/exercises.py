"""The exercise checker: compares a learner's derivative with autograd, in plain words.

An ``Exercise`` holds a loss, the input to differentiate with respect to, and the
cases to check on; it computes autograd's gradient on every case once, when it is
made, so nothing a learner's code does later (rebinding a notebook global,
turning autograd off) can change the reference. ``check_gradient`` runs the
learner's function on every case with autograd off, and names the one slip that
explains how its answers differ from autograd's on all of them.

Importing it has no side effects.
"""

import dis
import sys
from dataclasses import dataclass, field

import torch

from finite_differences import numerical_gradient

__all__ = ["Exercise", "Verdict", "check_gradient"]

RTOL, ATOL = 1e-6, 1e-8  # float64 agreement asked of an answer


@dataclass
class Exercise:
    """A derivative for the learner to write.

    ``loss`` maps named tensors to a one-element tensor; the learner writes a
    function taking the same names and returning the gradient of ``loss`` with
    respect to the one named ``wrt``. ``cases`` are the inputs it is checked
    on: dicts of numbers, lists or tensors, converted to float64. ``batched``
    names the inputs whose first dimension is the batch (the N samples).
    """

    name: str
    loss: object
    wrt: str
    cases: list
    batched: tuple
    hint: str = ""
    inputs: list = field(init=False, repr=False)
    answers: list = field(init=False, repr=False)

    def __post_init__(self):
        if not self.cases:
            raise ValueError(f"Exercise {self.name!r}: give at least one case")
        if isinstance(self.batched, str) or not self.batched:
            raise ValueError(
                f"Exercise {self.name!r}: batched must name the inputs that hold the batch, "
                f"as a tuple such as ('x', 'y'), got {self.batched!r}"
            )
        self.batched = tuple(self.batched)
        self.inputs = [
            {key: torch.as_tensor(value, dtype=torch.float64) for key, value in case.items()}
            for case in self.cases
        ]
        for case in self.inputs:
            for key in (self.wrt, *self.batched):
                if key not in case:
                    raise ValueError(f"Exercise {self.name!r}: a case has no input {key!r}")
            sizes = {case[key].shape[0] if case[key].dim() else None for key in self.batched}
            if len(sizes) != 1 or None in sizes:
                raise ValueError(
                    f"Exercise {self.name!r}: the batched inputs {self.batched} must share "
                    "their first dimension"
                )
        self.answers = [self._autograd(case) for case in self.inputs]

    def _autograd(self, case):
        """Autograd's gradient of the loss with respect to ``wrt`` on ``case``."""
        with torch.enable_grad():
            leaves = {
                key: value.clone().requires_grad_(key == self.wrt) for key, value in case.items()
            }
            (grad,) = torch.autograd.grad(self.loss(**leaves), leaves[self.wrt])
        return grad

    def batch_size(self, case):
        """N, the number of samples in ``case``."""
        return case[self.batched[0]].shape[0]


class Verdict:
    """What the checker says: true when the answer is correct, shown as plain words.

    ``slips`` names the mistakes that explain every case (empty when none does).
    """

    def __init__(self, passed, message, slips=()):
        self.passed, self.message, self.slips = passed, message, tuple(slips)

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return self.message


def check_gradient(exercise, answer, must_pass=False):
    """Compare ``answer`` (the learner's derivative) with autograd on every case.

    Returns a ``Verdict``: shown in a notebook it reads as a sentence, and it is
    true only when the answer is correct. It never raises on a learner's
    mistake; with ``must_pass=True`` (used for reference solutions) a wrong
    answer raises AssertionError with the same sentence, and a right one says
    that the reference solution agrees, so that it does not read as the
    reader's own grade.
    """
    verdict = _judge(exercise, answer)
    if must_pass and not verdict:
        raise AssertionError(verdict.message)
    if must_pass:
        count = len(exercise.inputs)
        return Verdict(
            True, f"{exercise.name}: the reference solution matches autograd on all {count} cases."
        )
    return verdict


# --- Running the learner's function ----------------------------------------------------------

# Calls that mean the answer let autograd (or finite differences) do the derivative.
_AUTOGRAD_CALLS = {
    torch.Tensor.backward.__code__,
    torch.autograd.backward.__code__,
    torch.autograd.grad.__code__,
    numerical_gradient.__code__,
}


class _Outcome:
    """One call of the learner's function: what it returned or raised, and what it called."""

    def __init__(self, used_autograd, value=None, error=None):
        self.value, self.error, self.used_autograd = value, error, used_autograd


def _run(exercise, answer, case):
    """Call ``answer`` on a copy of ``case`` with autograd off; never raises.

    Grad mode, the default dtype and the random generator are restored whatever
    the function does, so a learner's code cannot break the next check.
    """
    watched = set(_AUTOGRAD_CALLS)
    if hasattr(exercise.loss, "__code__"):
        watched.add(exercise.loss.__code__)
    calls = []

    def watch(frame, event, _arg):
        if event == "call" and frame.f_code in watched:
            calls.append(frame.f_code)

    arguments = {key: value.clone() for key, value in case.items()}
    grad_mode, dtype, profiler = (
        torch.is_grad_enabled(),
        torch.get_default_dtype(),
        sys.getprofile(),
    )
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            sys.setprofile(watch)
            try:
                value = answer(**arguments)
            finally:
                sys.setprofile(profiler)
    # The learner's code: whatever it raises is reported in words, never re-raised.
    except Exception as error:  # noqa: BLE001
        return _Outcome(bool(calls), error=error)
    finally:
        torch.set_grad_enabled(grad_mode)
        torch.set_default_dtype(dtype)
    if isinstance(value, torch.Tensor):
        value = value.detach()
    return _Outcome(bool(calls), value=value)


def _instructions(code):
    """What ``code`` does, as (operation, argument) pairs; a docstring or comment adds none."""
    return [(instruction.opname, instruction.argval) for instruction in dis.get_instructions(code)]


def _stub():
    raise NotImplementedError


def _stub_called():
    raise NotImplementedError()


# The instructions of a stub, in this Python's bytecode, with or without the ().
_STUBS = [_instructions(stub.__code__) for stub in (_stub, _stub_called)]


def _is_stub(answer):
    """True when ``answer``'s whole body is ``raise NotImplementedError`` (and a docstring).

    Read from the bytecode, so it needs no source file: any other statement (an
    ``if``, a computation) adds instructions, and the function is the learner's
    attempt, whose NotImplementedError is reported like any error.
    """
    code = getattr(answer, "__code__", None)
    return code is not None and _instructions(code) in _STUBS


# --- Judging -----------------------------------------------------------------------------------


def _judge(exercise, answer):
    name, wrt = exercise.name, exercise.wrt
    signature = ", ".join(exercise.inputs[0])
    if answer is None:
        return Verdict(False, f"{name}: not attempted yet. {_how_to_start('your function')}")
    if not callable(answer):
        return Verdict(
            False,
            f"{name}: expected a function of ({signature}) that returns dL/d{wrt}, "
            f"got {_kind(answer)}. Pass the function itself, without calling it.",
        )
    function = getattr(answer, "__name__", "your function")
    if function == "<lambda>":
        function = "your function"
    if _is_stub(answer):
        return Verdict(
            False,
            f"{name}: not attempted yet. {_how_to_start(f'`{function}`')}",
            slips=("not attempted",),
        )
    count = len(exercise.inputs)
    outcomes = [_run(exercise, answer, case) for case in exercise.inputs]
    if any(outcome.used_autograd for outcome in outcomes):
        return Verdict(
            False,
            f"{name}: `{function}` lets the computer find the derivative (it calls "
            "`.backward()`, `torch.autograd.grad`, `numerical_gradient` or the exercise's own "
            "loss). The exercise asks for the derivative by hand: write the formula you "
            "derived, using only the inputs.",
            slips=("autograd",),
        )
    for number, (case, outcome) in enumerate(zip(exercise.inputs, outcomes, strict=True), 1):
        where = f"on case {number} of {count} ({_describe(case)})"
        if outcome.error is not None:
            error = outcome.error
            return Verdict(
                False,
                f"{name}: `{function}` raised {type(error).__name__}: {error}\n"
                f"It is called as {function}({signature}) with float64 tensors; {where}.",
                slips=("raised",),
            )
        problem = _problem(outcome.value, exercise.answers[number - 1])
        if problem:
            return Verdict(False, f"{name}: {problem} ({where}).", slips=("type",))
    got = [outcome.value for outcome in outcomes]
    wrong = [
        number
        for number, (g, e) in enumerate(zip(got, exercise.answers, strict=True), 1)
        if not _close(g, e)
    ]
    if not wrong:
        return Verdict(
            True, f"{name}: correct. Your gradient matches autograd on all {count} cases."
        )
    slips = _slips(exercise, got)
    first = wrong[0] - 1
    where = f"on case {first + 1} of {count} ({_describe(exercise.inputs[first])})"
    report = _difference(got[first], exercise.answers[first], wrt, where)
    report += f" It is wrong on {len(wrong)} of the {count} cases."
    if slips:
        diagnosis = " Or: ".join(_SLIP_WORDS[slip] for slip in slips)
        label = "Diagnosis" if len(slips) == 1 else "These slips fit every case alike"
        report += f"\n{label}: {diagnosis}"
    elif exercise.hint:
        report += f"\nHint: {exercise.hint}"
    return Verdict(False, f"{name}: not yet. {report}", slips=slips)


def _how_to_start(function):
    return (
        "To try it, run this chapter in JupyterLab, replace `raise NotImplementedError` in "
        f"{function} with your formula, then run that cell and this one."
    )


def _difference(got, expected, wrt, where):
    """Where ``got`` differs most from ``expected``, in words."""
    where = where[0].upper() + where[1:]
    if got.shape != expected.shape:
        return (
            f"{where}, expected a gradient of shape {tuple(expected.shape)} for {wrt}, "
            f"got {tuple(got.shape)}: a gradient has the shape of what it is taken with "
            "respect to."
        )
    error = (got - expected).abs()
    index = _index(error.argmax(), expected.shape)
    return (
        f"{where}, the largest error is {error.max().item():.4g} at index {index}: "
        f"expected {expected[index].item():.6g}, got {got[index].item():.6g}."
    )


# --- The slips ---------------------------------------------------------------------------------

_SLIP_WORDS = {
    "sign": "every entry has the wrong sign, on every case. Check the sign of each factor "
    "of the chain rule.",
    "half": "your gradient is half of autograd's on every case: a factor 2 is missing. In a "
    "squared error it is the 2 of the square's derivative, d(r²)/dr = 2r.",
    "twice": "your gradient is twice autograd's on every case: is a factor 2 counted twice?",
    "divided by N": "your gradient is autograd's divided by N, the number of samples, on every "
    "case: a sum does not divide by N (only a mean does).",
    "times N": "your gradient is N times autograd's on every case, N the number of samples: "
    "a mean divides by N.",
    "transpose": "your gradient is the transpose of autograd's on every case: did you forget a "
    "transpose, or put one on the wrong factor?",
    "batch sum": "your gradient holds one row per sample, and summing them gives autograd's: "
    "the parameter is shared by every sample, so add up their contributions over the batch "
    "(the rows).",
    "keepdim": "your gradient has the right numbers but lost a dimension: a sum over the "
    "batch keeps the parameter's shape with `.sum(dim=0, keepdim=True)`.",
    "input factor": "your gradient lacks a factor of one input on every case: the chain rule "
    "multiplies by the derivative of the inner function, such as d(w x)/dw = x.",
}


def _close(got, expected):
    return got.shape == expected.shape and torch.allclose(got, expected, rtol=RTOL, atol=ATOL)


def _slips(exercise, got):
    """The slips that explain the answer on every case (several when they cannot be told apart)."""
    tests = {
        "sign": lambda g, e, n, case: _close(g, -e),
        "half": lambda g, e, n, case: _close(g, e / 2),
        "twice": lambda g, e, n, case: _close(g, 2 * e),
        "divided by N": lambda g, e, n, case: _close(g, e / n),
        "times N": lambda g, e, n, case: _close(g, e * n),
        "transpose": lambda g, e, n, case: e.dim() == 2 and _close(g, e.T),
        "batch sum": lambda g, e, n, case: (
            g.dim() >= 1
            and g.shape[0] == n
            and e.dim() >= 1
            and e.shape[0] == 1
            and g.shape[1:] == e.shape[1:]
            and _close(g.sum(dim=0, keepdim=True), e)
        ),
        "keepdim": lambda g, e, n, case: (
            e.dim() >= 1 and e.shape[0] == 1 and _close(g, e.reshape(e.shape[1:]))
        ),
        "input factor": lambda g, e, n, case: _lacks_input_factor(exercise, g, e, case),
    }
    cases = list(zip(got, exercise.answers, exercise.inputs, strict=True))
    return tuple(
        slip
        for slip, test in tests.items()
        if all(test(g, e, exercise.batch_size(case), case) for g, e, case in cases)
    )


def _lacks_input_factor(exercise, got, expected, case):
    """True when ``got`` is autograd's gradient with one input's factor left out.

    Only for gradients that the samples add to one by one: each sample's share
    is autograd's gradient on that sample alone, and the slip divides it by the
    sample's value of the input.
    """
    if got.shape != expected.shape:
        return False
    n = exercise.batch_size(case)
    shares = [
        exercise._autograd(
            {
                key: value[i : i + 1] if key in exercise.batched else value
                for key, value in case.items()
            }
        )
        for i in range(n)
    ]
    total = torch.stack(shares).sum(dim=0)
    # A sum adds the samples' shares; a mean also divides them by N. Any other
    # gradient is not a sum of shares, and this slip cannot be told from it.
    scale = next((s for s in (1.0, 1.0 / n) if _close(total * s, expected)), None)
    if scale is None:
        return False
    shares = [share * scale for share in shares]
    # Where an input is 0 for a sample, that share is divided by 0: inf or nan, which
    # no answer (all finite by now) is close to, so that input is not the slip.
    return any(
        _close(got, sum(share / case[key][i] for i, share in enumerate(shares)))
        for key in exercise.batched
        if case[key].dim() == 1
    )


# --- Words ---------------------------------------------------------------------------------------


def _kind(value):
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, bool | int | float):
        return f"a number ({value!r})"
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        return f"a NumPy array of shape {tuple(value.shape)}"
    kind = type(value).__name__
    return f"{'an' if kind[0].lower() in 'aeiou' else 'a'} {kind}"


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


def _problem(got, expected):
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
    if not torch.isfinite(got).all():
        index = _index((~torch.isfinite(got)).int().argmax(), got.shape)
        return f"your gradient holds {got[index].item()} at index {index}"
    return None


def _index(flat, shape):
    """The position of flat index ``flat`` in a tensor of ``shape``, as a tuple."""
    return tuple(int(i) for i in torch.unravel_index(flat, tuple(shape)))
