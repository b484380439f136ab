"""``Exercise`` and ``check_gradient``: a derivative for the learner to write."""

from dataclasses import dataclass, field

import torch

from .cases import _copies, _float64_cases
from .catalogue import SUPPLIED, CaseFacts, _close, _compare, _plain
from .provenance import _loss_carriers, _provenance
from .running import _call, _guarded, _is_stub, _what
from .words import (
    HOW_TO_START_IN_THE_BOOK,
    Verdict,
    _describe,
    _error_words,
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
    on: dicts of numbers, lists or tensors, copied to float64; an integer
    tensor (labels, indices) stays an integer one, as int64. ``batched``
    names the inputs whose first dimension is the batch (the N samples).
    ``inputs`` and ``answers`` return copies: the stored ones never change.
    ``slip_values`` maps the name of a catalogue slip that has no test of its
    own (see catalogue.py) to a function of the case's inputs that returns what
    a learner with that slip returns; it runs once, here.
    """

    name: str
    loss: object
    wrt: str
    cases: list
    batched: tuple
    hint: str = ""
    slip_values: dict = field(default_factory=dict)
    _inputs: list = field(init=False, repr=False)
    _answers: list = field(init=False, repr=False)
    _facts: list = field(init=False, repr=False)
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
        unknown = sorted(set(self.slip_values) - set(SUPPLIED))
        if unknown:
            raise ValueError(
                f"Exercise {self.name!r}: slip_values names no slip of the catalogue that an "
                f"exercise supplies: {unknown}; the catalogue has {list(SUPPLIED)}"
            )
        self._answers = [self._autograd(case) for case in self._inputs]
        self._facts = [
            self._case_facts(case, self._answers[number])
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

    def _case_facts(self, case, expected):
        """What the slip tests know of ``case`` (catalogue.CaseFacts), computed once, here."""
        facts = CaseFacts(n=self.batch_size(case), inputs=case)
        shares = self._shares(case, expected)
        if shares is not None:
            facts.factors = self._without_an_input_factor(case, *shares)
            if expected.dim() >= 1 and expected.shape[0] == 1:
                rows, scale = shares
                facts.rows = (torch.stack(rows) * scale).reshape(-1, *expected.shape[1:])
        for slip, value in self.slip_values.items():
            supplied = value(**_copies([case])[0])
            facts.supplied[slip] = torch.as_tensor(supplied, dtype=torch.float64).detach()
        return facts

    def _shares(self, case, expected):
        """Each sample's share of the gradient, and the scale (1 or 1/N) that sums them
        to autograd's; None for a gradient that is not a sum of the samples' shares.

        Each sample's share is autograd's gradient on that sample alone.
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
            return None
        total = torch.stack(shares).sum(dim=0)
        # A sum adds the samples' shares; a mean also divides them by N. Any other
        # gradient is not a sum of shares, and these slips cannot be told from it.
        scale = next((s for s in (1.0, 1.0 / n) if _close(total * s, expected)), None)
        return None if scale is None else (shares, scale)

    def _without_an_input_factor(self, case, shares, scale):
        """The gradients a learner gets by leaving one input's factor out, on ``case``.

        Only for gradients that the samples add to one by one: the slip divides
        each sample's share by the sample's value of the input.
        """
        # Where an input is 0 for a sample, that share is divided by 0: inf or nan, which
        # no answer (all finite by then) is close to, so that input is not the slip.
        return [
            sum(share * scale / case[key][i] for i, share in enumerate(shares))
            for key in self.batched
            if case[key].dim() == 1 and case[key].is_floating_point()
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
            True,
            f"{exercise.name}: the reference solution matches autograd on all {count} cases.",
        )
    return verdict


def _judge(exercise, answer):
    if not isinstance(exercise, Exercise):
        return _not_an_exercise(exercise, answer, Exercise, "check_gradient", "your function")
    name, wrt = exercise.name, exercise.wrt
    signature = ", ".join(exercise._inputs[0])
    if answer is None:
        return Verdict(
            False,
            f"{name}: not attempted yet. {_how_to_start('your function')}",
            book_only=HOW_TO_START_IN_THE_BOOK,
        )
    if not callable(answer) or isinstance(answer, (type, torch.nn.Module)):
        return Verdict(
            False,
            f"{name}: expected a function of ({signature}) that returns dL/d{wrt}, "
            f"got {_kind(answer)}. Pass the function itself, without calling it.",
            slips=() if not callable(answer) else ("type",),
        )
    function = _what(answer)
    if _is_stub(answer):
        return Verdict(
            False,
            f"{name}: not attempted yet. {_how_to_start(function)}",
            slips=("not attempted",),
            book_only=HOW_TO_START_IN_THE_BOOK,
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
    origin, number = _provenance(exercise, answer, outcomes)
    if origin == "run to run":
        where = f"on case {number} of {count} ({_describe(exercise._inputs[number - 1])})"
        return Verdict(
            False,
            f"{name}: {function} returns another gradient each time it is called with the same "
            f"inputs ({where}), so it keeps something from one call to the next: a total it adds "
            "to (as `.grad` adds up), a counter, or random numbers. Compute the gradient from "
            "the inputs alone, so that the same inputs always give the same gradient.",
            slips=("run to run",),
        )
    if origin == "autograd":
        return Verdict(
            False,
            f"{name}: {function} returns another gradient when the loss is another function, "
            "so it lets the computer differentiate the loss (autograd, forward mode or finite "
            "differences). Write the formula you derived by hand; printing the loss is fine.",
            slips=("autograd",),
        )
    found = _compare(
        [_plain(outcome.value) for outcome in outcomes],
        exercise._answers,
        exercise._inputs,
        wrt,
        exercise._facts,
        exercise.hint,
        [outcome.lowered for outcome in outcomes],
    )
    if found:
        report, slips = found
        return Verdict(False, f"{name}: not yet. {report}", slips=slips)
    return Verdict(True, f"{name}: correct. Your gradient matches autograd on all {count} cases.")
