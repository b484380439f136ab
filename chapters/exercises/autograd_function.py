"""``FunctionExercise`` and ``check_autograd_function``: a learner's torch.autograd.Function."""

from dataclasses import dataclass, field

import torch

from .cases import _copies, _float64_cases
from .catalogue import (
    FLOAT32_ATOL,
    FLOAT32_RTOL,
    CaseFacts,
    _close,
    _compare,
    _plain,
    slip_words,
)
from .running import _call, _guarded, _is_stub, _take_lowered
from .words import (
    HOW_TO_START_IN_THE_BOOK,
    Verdict,
    _describe,
    _difference,
    _error_words,
    _how_to_start,
    _kind,
    _not_an_exercise,
    _problem,
)

# the precision slip's words, said of a forward instead of a gradient
_FORWARD_WORDS = (
    ("your gradient agrees with autograd", "your forward agrees with the reference"),
    ("autograd's", "the reference's"),
)


def _leaf(value):
    """An input as the Function receives it: requiring grad, unless it is an integer one."""
    return value.requires_grad_(value.is_floating_point())


def _n(case):
    """N for a FunctionExercise's case: the first dimension of its first input."""
    first = next(iter(case.values()))
    return first.shape[0] if first.dim() else 1


@dataclass
class FunctionExercise:
    """A ``torch.autograd.Function`` for the learner to write.

    ``reference`` computes what the Function's forward must return, from
    keyword arguments; each case in ``cases`` gives them (their order is the
    order of ``apply``'s arguments), copied to float64 (an integer tensor stays
    an int64 one: its backward returns None for it). Each input's gradient
    is checked against autograd's gradient of ``reference``, for a seeded random
    upstream gradient (the gradient of the loss with respect to the output).
    N, for the slips, is the first dimension of the first input.
    """

    name: str
    reference: object
    cases: list
    hint: str = ""
    _inputs: list = field(init=False, repr=False)
    _outputs: list = field(init=False, repr=False)
    _upstream: list = field(init=False, repr=False)
    _gradients: list = field(init=False, repr=False)

    def __post_init__(self):
        if not self.cases:
            raise ValueError(f"FunctionExercise {self.name!r}: give at least one case")
        self._inputs = _float64_cases(self.cases)
        if any(list(case) != list(self._inputs[0]) for case in self._inputs):
            raise ValueError(
                f"FunctionExercise {self.name!r}: every case must name the same inputs, "
                "in the same order"
            )
        self._outputs, self._upstream, self._gradients = [], [], []
        for number, case in enumerate(self._inputs):
            with torch.enable_grad():
                leaves = {key: _leaf(value.clone()) for key, value in case.items()}
                output = self.reference(**leaves)
                generator = torch.Generator().manual_seed(number)
                upstream = torch.randn(output.shape, generator=generator, dtype=torch.float64)
                tracked = [leaf for leaf in leaves.values() if leaf.requires_grad]
                gradients = iter(torch.autograd.grad(output, tracked, upstream))
            self._outputs.append(output.detach())
            self._upstream.append(upstream)
            self._gradients.append(
                [
                    next(gradients).detach() if leaf.requires_grad else None
                    for leaf in leaves.values()
                ]
            )

    @property
    def inputs(self):
        """The cases as float64 tensors (copies)."""
        return _copies(self._inputs)


def check_autograd_function(exercise, function_class, must_pass=False):
    """Check the learner's ``torch.autograd.Function`` against ``exercise``.

    Its forward is compared with the reference, then the gradient its backward
    returns for each input with autograd's, naming the input (and the slip)
    where one is wrong, then ``torch.autograd.gradcheck`` runs in float64.
    Returns a ``Verdict``; ``must_pass=True`` raises AssertionError on any failure.
    """
    verdict = _guarded(_judge_function, exercise, function_class)
    if must_pass and not verdict:
        raise AssertionError(verdict.message)
    if must_pass:
        count = len(exercise._inputs)
        return Verdict(
            True,
            f"{exercise.name}: the reference solution matches autograd on all {count} cases "
            "and passes gradcheck.",
        )
    return verdict


def _judge_function(exercise, function_class):
    if not isinstance(exercise, FunctionExercise):
        return _not_an_exercise(
            exercise,
            function_class,
            FunctionExercise,
            "check_autograd_function",
            "your class",
        )
    name = exercise.name
    names = list(exercise._inputs[0])
    arguments = ", ".join(names)
    if not (
        isinstance(function_class, type) and issubclass(function_class, torch.autograd.Function)
    ):
        return Verdict(
            False,
            f"{name}: expected a class that subclasses torch.autograd.Function, got "
            f"{_kind(function_class)}. Pass the class itself, not `.apply` nor a call of it.",
        )
    cls = function_class.__name__
    if any(
        getattr(function_class, method) is getattr(torch.autograd.Function, method)
        or _is_stub(getattr(function_class, method))
        for method in ("forward", "backward")
    ):
        return Verdict(
            False,
            f"{name}: not attempted yet. {_how_to_start(f'`{cls}.forward` and `{cls}.backward`')}",
            slips=("not attempted",),
            book_only=HOW_TO_START_IN_THE_BOOK,
        )
    count = len(exercise._inputs)
    got, lowered = [[] for _ in names], []
    for number, case in enumerate(_copies(exercise._inputs)):
        where = f"on case {number + 1} of {count} ({_describe(exercise._inputs[number])})"
        outcome = _call(_forward_and_backward, function_class, case, exercise._upstream[number])
        called = (
            f"It is called as {cls}.apply({arguments}) with float64 tensors that require "
            "grad: call it yourself on those inputs to see where."
        )
        if outcome.error is not None:
            return Verdict(
                False,
                f"{name}: `{cls}.apply` raised {_error_words(outcome.error)}, {where}. {called}",
                slips=("raised",),
            )
        output, gradients, error, forward_lowered, changed = outcome.value
        problem = _problem(output, exercise._outputs[number], f"`{cls}.forward`")
        if problem:
            return Verdict(False, f"{name}: the forward: {problem} ({where}).", slips=("type",))
        output = _plain(output)
        expected = exercise._outputs[number]
        if output.shape != expected.shape:
            return Verdict(
                False,
                f"{name}: not yet. The forward returns shape {tuple(output.shape)}, where "
                f"{tuple(expected.shape)} is expected, {where}. Fix the forward first, "
                "then the backward.",
                slips=("forward",),
            )
        if forward_lowered or not _close(output, expected):
            report = _difference(output, expected, where)
            slips, diagnosis = ("forward",), ""
            if forward_lowered or _close(output, expected, FLOAT32_RTOL, FLOAT32_ATOL):
                slips += ("precision",)
                words = slip_words("precision", output, expected)
                for gradient, forward in _FORWARD_WORDS:
                    words = words.replace(gradient, forward)
                diagnosis = f"\nDiagnosis: {words}"
            return Verdict(
                False,
                f"{name}: not yet. The forward is wrong. {report} Fix the forward first, "
                f"then the backward.{diagnosis}",
                slips=slips,
            )
        if changed:
            return Verdict(
                False,
                f"{name}: the forward is right, but `{cls}.backward` changes the forward's "
                f"output in place, {where}: autograd saved that tensor, and every later use "
                "of it now reads other numbers. Compute new tensors in backward (such as "
                "`y * (1 - y)`), not in-place ones (`y.mul_(...)`, `y *= ...`).",
                slips=("in place",),
            )
        if error is not None:
            return Verdict(
                False,
                f"{name}: the forward is right, but `{cls}.backward` raised "
                f"{_error_words(error)}, {where}. {called}",
                slips=("raised",),
            )
        if gradients is _NEVER_CALLED:
            return Verdict(
                False,
                f"{name}: the forward is right, but autograd never calls `{cls}.backward`: "
                f"the output of `{cls}.forward` is not in autograd's graph ({where}). Did "
                "forward call `ctx.mark_non_differentiable` on it? Leave that out: the "
                "output needs a gradient, and backward is what computes the next one.",
                slips=("type",),
            )
        if gradients is None:
            return Verdict(
                False,
                f"{name}: `{cls}.backward` returned None: did you forget `return`? Return one "
                "gradient per input of forward: "
                f"`return {', '.join('dL_d' + key for key in names)}`.",
                slips=("type",),
            )
        if isinstance(gradients, list):
            return Verdict(
                False,
                f"{name}: `{cls}.backward` returns a list. Return the gradients as a tuple, "
                f"one per input of forward: `return {', '.join('dL_d' + key for key in names)}`.",
                slips=("type",),
            )
        if not isinstance(gradients, tuple):
            gradients = (gradients,)
        if len(gradients) != len(names):
            return Verdict(
                False,
                f"{name}: `{cls}.backward` returns {len(gradients)} gradient"
                f"{'s' if len(gradients) != 1 else ''}, for {len(names)} inputs "
                f"({arguments}). Return one gradient per input of forward, in that order.",
                slips=("count",),
            )
        for key, gradient, expected, slot in zip(
            names, gradients, exercise._gradients[number], got, strict=True
        ):
            if expected is None:  # an integer input (indices, labels) has no gradient
                if gradient is not None:
                    return Verdict(
                        False,
                        f"{name}: the gradient for {key}: `{cls}.backward` returns "
                        f"{_kind(gradient)} for {key}, an integer input (indices or labels), "
                        f"which has no gradient: return None in its place ({where}).",
                        slips=("type",),
                    )
                continue
            if gradient is None:
                problem = (
                    f"`{cls}.backward` returns None for {key}, which needs a gradient too: "
                    f"compute dL_d{key} and return it in {key}'s place"
                )
            else:
                problem = _problem(gradient, expected, f"`{cls}.backward`")
            if problem:
                return Verdict(
                    False,
                    f"{name}: the gradient for {key}: {problem} ({where}).",
                    slips=("type",),
                )
            slot.append(_plain(gradient))
        lowered.append(outcome.lowered)
    facts = [CaseFacts(n=_n(case), inputs=case) for case in exercise._inputs]
    found = {
        key: _compare(
            gradients,
            list(expected),
            exercise._inputs,
            key,
            facts,
            exercise.hint,
            lowered,
        )
        for key, gradients, expected in zip(
            names, got, zip(*exercise._gradients, strict=True), strict=True
        )
        if expected[0] is not None
    }
    wrong = [key for key in names if found.get(key)]
    if wrong:
        report, slips = found[wrong[0]]
        also = f" (and so is the gradient for {', '.join(wrong[1:])})" if len(wrong) > 1 else ""
        return Verdict(
            False,
            f"{name}: not yet. The forward is right, but the gradient for {wrong[0]} is wrong"
            f"{also}. {report}",
            slips=slips,
        )
    return _gradcheck(exercise, function_class)


# What the backward "returns" when autograd would never call it: the forward's output has no
# place in autograd's graph.
_NEVER_CALLED = object()


def _forward_and_backward(function_class, case, upstream):
    """The output of ``function_class.apply`` on ``case``, what its backward returns or raises.

    The backward is called as autograd calls it, with the node as its context,
    but directly, so that its gradients are seen as returned, before autograd
    would check or reshape them.
    """
    with torch.enable_grad():
        leaves = [_leaf(value) for value in case.values()]
        output = function_class.apply(*leaves)
    forward_lowered = _take_lowered()
    if not isinstance(output, torch.Tensor) or output.grad_fn is None:
        return output, _NEVER_CALLED, None, forward_lowered, False
    # The forward's result, kept before the backward runs: a backward that changes it
    # in place is named, not taken for a wrong forward.
    with torch.no_grad():
        kept = _plain(output).detach().clone()
    try:
        gradients = output.grad_fn.apply(upstream.clone())
    # Reported once the forward is known to be right.
    except Exception as error:  # noqa: BLE001
        return kept, (), error, forward_lowered, False
    changed = not torch.equal(_plain(output).detach(), kept)
    return kept, gradients, None, forward_lowered, changed


def _gradcheck(exercise, function_class):
    name, count = exercise.name, len(exercise._inputs)
    for number, case in enumerate(_copies(exercise._inputs)):

        def check(function_class, case=case):
            leaves = [_leaf(value) for value in case.values()]
            with torch.enable_grad():
                return torch.autograd.gradcheck(function_class.apply, leaves)  # raises if it fails

        outcome = _call(check, function_class)
        if outcome.error is not None:
            where = f"on case {number + 1} of {count} ({_describe(exercise._inputs[number])})"
            return Verdict(
                False,
                f"{name}: not yet. Forward and backward match autograd, but "
                f"torch.autograd.gradcheck refuses them {where}: {_error_words(outcome.error)}. "
                "Check that backward uses only what forward saved, and changes nothing in place.",
                slips=("gradcheck",),
            )
    return Verdict(
        True,
        f"{name}: correct. Your forward and backward match autograd on all {count} cases, "
        "and torch.autograd.gradcheck agrees.",
    )
