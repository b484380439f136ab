"""``Exercise`` and ``check_gradient``: a derivative for the learner to write."""

from dataclasses import dataclass, field

import torch

from .cases import _copies, _float64_cases
from .catalogue import _close, _compare
from .provenance import _depends_on_the_loss, _loss_carriers
from .running import _call, _is_stub, _what
from .words import (
    Verdict,
    _describe,
    _error_words,
    _guarded,
    _how_to_start,
    _kind,
    _not_an_exercise,
    _problem,
)


@dataclass
class Exercise:
    """A derivative for the learner to write.

    ``loss`` maps named tensors to a one-element tensor; the learner writes a
    function taking the same names and returning the gradient of ``loss`` with
    respect to the one named ``wrt``. ``cases`` are the inputs it is checked
    on: dicts of numbers, lists or tensors, copied to float64. ``batched``
    names the inputs whose first dimension is the batch (the N samples).
    ``inputs`` and ``answers`` return copies: the stored ones never change.
    """

    name: str
    loss: object
    wrt: str
    cases: list
    batched: tuple
    hint: str = ""
    _inputs: list = field(init=False, repr=False)
    _answers: list = field(init=False, repr=False)
    _factor_answers: list = field(init=False, repr=False)
    _loss_objects: list = field(init=False, repr=False)
    _loss_names: frozenset = field(init=False, repr=False)

    def __post_init__(self):
        if not self.cases:
            raise ValueError(f"Exercise {self.name!r}: give at least one case")
        if isinstance(self.batched, str) or not self.batched:
            raise ValueError(
                f"Exercise {self.name!r}: batched must name the inputs that hold the batch, "
                f"as a tuple such as ('x', 'y'), got {self.batched!r}"
            )
        self.batched = tuple(self.batched)
        self._inputs = _float64_cases(self.cases)
        for case in self._inputs:
            for key in (self.wrt, *self.batched):
                if key not in case:
                    raise ValueError(f"Exercise {self.name!r}: a case has no input {key!r}")
            sizes = {case[key].shape[0] if case[key].dim() else None for key in self.batched}
            if len(sizes) != 1 or None in sizes:
                raise ValueError(
                    f"Exercise {self.name!r}: the batched inputs {self.batched} must share "
                    "their first dimension"
                )
        self._answers = [self._autograd(case) for case in self._inputs]
        self._factor_answers = [
            self._without_an_input_factor(case, self._answers[number])
            for number, case in enumerate(self._inputs)
        ]
        self._loss_objects, self._loss_names = _loss_carriers(self.loss, self._inputs[0])

    @property
    def inputs(self):
        """The cases as float64 tensors (copies)."""
        return _copies(self._inputs)

    @property
    def answers(self):
        """Autograd's gradient on each case (copies)."""
        return [answer.clone() for answer in self._answers]

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

    def _without_an_input_factor(self, case, expected):
        """The gradients a learner gets by leaving one input's factor out, on ``case``.

        Only for gradients that the samples add to one by one: each sample's share
        is autograd's gradient on that sample alone, and the slip divides it by the
        sample's value of the input. Computed once, here, like the answers.
        """
        n = self.batch_size(case)
        try:
            shares = [
                self._autograd(
                    {
                        key: value[i : i + 1] if key in self.batched else value
                        for key, value in case.items()
                    }
                )
                for i in range(n)
            ]
        # A loss that needs more than one sample (a variance, say) has no shares.
        except Exception:  # noqa: BLE001
            return []
        total = torch.stack(shares).sum(dim=0)
        # A sum adds the samples' shares; a mean also divides them by N. Any other
        # gradient is not a sum of shares, and this slip cannot be told from it.
        scale = next((s for s in (1.0, 1.0 / n) if _close(total * s, expected)), None)
        if scale is None:
            return []
        # Where an input is 0 for a sample, that share is divided by 0: inf or nan, which
        # no answer (all finite by then) is close to, so that input is not the slip.
        return [
            sum(share * scale / case[key][i] for i, share in enumerate(shares))
            for key in self.batched
            if case[key].dim() == 1
        ]


def check_gradient(exercise, answer, must_pass=False):
    """Compare ``answer`` (the learner's derivative) with autograd on every case.

    Returns a ``Verdict``: shown in a notebook it reads as a sentence, and it is
    true only when the answer is correct. It never raises on a learner's
    mistake; with ``must_pass=True`` (used for reference solutions) a wrong
    answer raises AssertionError with the same sentence, and a right one says
    that the reference solution agrees, so that it does not read as the
    reader's own grade.
    """
    verdict = _guarded(_judge, exercise, answer)
    if must_pass and not verdict:
        raise AssertionError(verdict.message)
    if must_pass:
        count = len(exercise._inputs)
        return Verdict(
            True, f"{exercise.name}: the reference solution matches autograd on all {count} cases."
        )
    return verdict


def _judge(exercise, answer):
    if not isinstance(exercise, Exercise):
        return _not_an_exercise(exercise, answer, Exercise, "check_gradient", "your function")
    name, wrt = exercise.name, exercise.wrt
    signature = ", ".join(exercise._inputs[0])
    if answer is None:
        return Verdict(False, f"{name}: not attempted yet. {_how_to_start('your function')}")
    if not callable(answer):
        return Verdict(
            False,
            f"{name}: expected a function of ({signature}) that returns dL/d{wrt}, "
            f"got {_kind(answer)}. Pass the function itself, without calling it.",
        )
    function = _what(answer)
    if _is_stub(answer):
        return Verdict(
            False,
            f"{name}: not attempted yet. {_how_to_start(function)}",
            slips=("not attempted",),
        )
    count = len(exercise._inputs)
    cases = _copies(exercise._inputs)
    outcomes = [_call(answer, **case) for case in cases]
    tracked = sorted({key for case in cases for key, value in case.items() if value.requires_grad})
    if tracked:
        return Verdict(
            False,
            f"{name}: {function} switches autograd on for {', '.join(tracked)} (requires_grad), "
            "so the computer finds the derivative. Write the formula you derived by hand, "
            "computed from the inputs alone.",
            slips=("autograd",),
        )
    for number, (case, outcome) in enumerate(zip(exercise._inputs, outcomes, strict=True), 1):
        where = f"on case {number} of {count} ({_describe(case)})"
        if outcome.error is not None:
            return Verdict(
                False,
                f"{name}: {function} raised {_error_words(outcome.error)}, {where}. "
                f"It is called with {signature} as float64 tensors: call it yourself on "
                "those inputs to see where.",
                slips=("raised",),
            )
        problem = _problem(outcome.value, exercise._answers[number - 1], function)
        if problem:
            return Verdict(False, f"{name}: {problem} ({where}).", slips=("type",))
    if _depends_on_the_loss(exercise, answer, outcomes):
        return Verdict(
            False,
            f"{name}: {function} returns another gradient when the loss is another function, "
            "so it lets the computer differentiate the loss (autograd, forward mode or finite "
            "differences). Write the formula you derived by hand; printing the loss is fine.",
            slips=("autograd",),
        )
    found = _compare(
        [outcome.value for outcome in outcomes],
        exercise._answers,
        exercise._inputs,
        wrt,
        [exercise.batch_size(case) for case in exercise._inputs],
        exercise._factor_answers,
        exercise.hint,
    )
    if found:
        report, slips = found
        return Verdict(False, f"{name}: not yet. {report}", slips=slips)
    return Verdict(True, f"{name}: correct. Your gradient matches autograd on all {count} cases.")
