"""The slip catalogue: every slip the checker can name, its test and its words, in one table.

A slip is a mistake that explains how an answer differs from autograd's on
*every* case of an exercise. ``SLIPS`` lists them, one ``Slip`` per row, in the
order their names are given when several fit alike:

- ``name``: what ``Verdict.slips`` holds when it fits (tests and pages match on it);
- ``words``: what the learner reads after "Diagnosis: ", a string, or a function
  of (the answer, autograd's gradient) on the first case it is wrong on, for words
  that depend on a shape;
- ``test``: ``test(got, expected, facts)``, true when the answer ``got`` of one
  case is what this slip makes of autograd's gradient ``expected``; ``facts`` is the
  case's ``CaseFacts`` (N, the inputs, the gradients that lack an input's factor,
  each sample's share of a shared parameter's gradient, the exercise's own values);
- ``last_resort``: named only when no other slip fits (what stays right is the numbers).

**Adding a slip** takes one row here, and nothing elsewhere: append a ``Slip``
with its name, words and test (before the last resorts), and give it a unit
test in tests/test_exercises_catalogue.py: an answer with the slip gets its
name, and an answer with another slip, or a right one on some case, does not.

**A slip whose value only the exercise can compute** (an engine's walk, a
normalisation's batch statistics) has no ``test``: its row holds the words, and an
exercise supplies the value, as a function of the case, with
``Exercise(..., slip_values={name: function})``. The function takes the case's
inputs by name, as the learner's function does, and returns the gradient a
learner with that slip returns; it runs once, when the exercise is made. The slip
is named when the answer is close to that value on every case.
"""

from dataclasses import dataclass, field

import torch

from .words import _describe, _difference, _shape_difference

RTOL, ATOL = 1e-6, 1e-8  # float64 agreement asked of an answer
FLOAT32_RTOL, FLOAT32_ATOL = 1e-4, 1e-5  # agreement of an answer computed in float32

# The checker's comparisons, taken when it is imported: an answer that replaces
# torch.allclose (and every later one) is compared with these, on plain tensors.
_ALLCLOSE, _ISCLOSE = torch.allclose, torch.isclose


def _plain(tensor):
    """``tensor`` as a plain torch.Tensor: no subclass can answer for the comparison."""
    if type(tensor) is torch.Tensor:
        return tensor
    with torch._C.DisableTorchFunctionSubclass():
        return tensor.as_subclass(torch.Tensor)


def _close(got, expected, rtol=RTOL, atol=ATOL):
    return got.shape == expected.shape and _ALLCLOSE(
        _plain(got), _plain(expected), rtol=rtol, atol=atol
    )


def _isclose(got, expected, rtol=RTOL, atol=ATOL):
    return _ISCLOSE(_plain(got), _plain(expected), rtol=rtol, atol=atol)


@dataclass
class CaseFacts:
    """What the slip tests may know of one case, beyond the answer and autograd's gradient.

    ``n``: N, the number of samples. ``inputs``: the case's inputs by name.
    ``factors``: the gradients a learner gets by leaving one input's factor out.
    ``rows``: for a parameter shared by the samples (first dimension 1), each
    sample's share of its gradient, one row per sample, summing to autograd's
    (None when the loss is no sum over the samples). ``supplied``: the exercise's
    own values of the slips that have no test, by name.
    """

    n: int
    inputs: dict = field(default_factory=dict)
    factors: list = field(default_factory=list)
    rows: object = None
    supplied: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Slip:
    """One row of the catalogue: see the module's docstring."""

    name: str
    words: object
    test: object = None
    last_resort: bool = False

    def says(self, got, expected):
        return self.words(got, expected) if callable(self.words) else self.words


def _float32_close(g, e):
    return _close(g, e, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL)


_FLOAT64 = "(no `.float()`, and `dtype=torch.float64` in any `torch.tensor(...)`)"


def _precision_words(g, e):
    """A step in float32: the numbers within float32's reach of autograd's, or further."""
    if _float32_close(g, e):
        return (
            "your gradient agrees with autograd only to float32's 7 digits: some step is "
            f"computed in float32. Keep every step in float64 {_FLOAT64}."
        )
    return (
        "some step is computed in float32, and your numbers are further from autograd's than "
        f"float32's rounding usually leaves them. Keep every step in float64 first {_FLOAT64}; "
        "if they still differ, recheck the derivation."
    )


def _keepdim(g, e):
    """A sum that dropped the dimension it summed: over the batch (a row), or a column's."""
    row = e.dim() >= 1 and e.shape[0] == 1 and _close(g, e.reshape(e.shape[1:]))
    column = e.dim() >= 2 and e.shape[-1] == 1 and _close(g, e.reshape(e.shape[:-1]))
    return row or column


def _keepdim_words(g, e):
    if e.dim() >= 1 and e.shape[0] == 1:
        return (
            "your gradient has the right numbers but lost a dimension: a sum over the "
            "batch keeps the parameter's shape with `.sum(dim=0, keepdim=True)`."
        )
    return (
        "your gradient has the right numbers but lost a dimension: the parameter is a "
        "column, broadcast across the columns, and a sum across them keeps its shape with "
        f"`.sum(dim={e.dim() - 1}, keepdim=True)`."
    )


def _wrong_axis(g, e, facts):
    """Each sample's share summed over the parameter's entries instead of over the samples."""
    rows = facts.rows  # set only for a gradient of one row, e.shape[0] == 1
    if rows is None or e.dim() != 2 or e.shape[1] < 2:
        return False
    return _close(g, rows.sum(dim=1, keepdim=True)) or _close(g, rows.sum(dim=1))


def _repeated_index(g, e, facts):
    """Right on every row an integer input hits at most once, wrong on each it hits twice."""
    if g.shape != e.shape or e.dim() == 0:
        return False
    repeated = torch.zeros(e.shape[0], dtype=torch.bool)
    for value in facts.inputs.values():
        if value.dtype == torch.int64 and value.numel() and 0 <= value.min() <= value.max():
            if value.max() < e.shape[0]:
                repeated |= torch.bincount(value.flatten(), minlength=e.shape[0]) > 1
    if not repeated.any():  # every case of such an exercise picks some row twice
        return False
    close = torch.tensor([bool(_close(g[row], e[row])) for row in range(e.shape[0])])
    return bool((close == ~repeated).all())


SLIPS = [
    Slip(
        "sign",
        "every entry has the wrong sign, on every case. Check the sign of each factor "
        "of the chain rule.",
        lambda g, e, f: _close(g, -e),
    ),
    Slip(
        "half",
        "your gradient is half of autograd's on every case: a factor 2 is missing. In a "
        "squared error it is the 2 of the square's derivative, d(r²)/dr = 2r.",
        lambda g, e, f: _close(g, e / 2),
    ),
    Slip(
        "twice",
        "your gradient is twice autograd's on every case: is a factor 2 counted twice?",
        lambda g, e, f: _close(g, 2 * e),
    ),
    Slip(
        "divided by N",
        "your gradient is autograd's divided by N, the number of samples, on every "
        "case: a sum does not divide by N (only a mean does).",
        lambda g, e, f: _close(g, e / f.n),
    ),
    Slip(
        "times N",
        "your gradient is N times autograd's on every case, N the number of samples: "
        "a mean divides by N.",
        lambda g, e, f: _close(g, e * f.n),
    ),
    Slip(
        "transpose",
        "your gradient is the transpose of autograd's on every case: did you forget a "
        "transpose, or put one on the wrong factor?",
        lambda g, e, f: e.dim() == 2 and _close(g, e.T),
    ),
    Slip(
        "batch sum",
        "your gradient holds one row per sample, and summing them gives autograd's: "
        "the parameter is shared by every sample, so add up their contributions over the "
        "batch (the rows).",
        lambda g, e, f: (
            g.dim() >= 1
            and g.shape[0] == f.n
            and e.dim() >= 1
            and e.shape[0] == 1
            and g.shape[1:] == e.shape[1:]
            and _close(g.sum(dim=0, keepdim=True), e)
        ),
    ),
    Slip("keepdim", _keepdim_words, lambda g, e, f: _keepdim(g, e)),
    Slip(
        "input factor",
        "your gradient lacks a factor of one input on every case: the chain rule "
        "multiplies by the derivative of the inner function, such as d(w x)/dw = x.",
        lambda g, e, f: any(_close(g, c) for c in f.factors),
    ),
    Slip(
        "wrong axis",
        "your gradient holds one number per sample: it is summed over the wrong axis. The "
        "parameter is shared by the samples, so sum over the batch, the rows, and keep one "
        "entry per column: `.sum(dim=0, keepdim=True)`.",
        _wrong_axis,
    ),
    Slip(
        "repeated index added once",
        "your gradient is right on every row the index picks once, and wrong on each row it "
        "picks more than once: a row picked twice gets both gradients, added. Add them with "
        "`.index_add_(0, ix, ...)` (or `+=` row by row), not with an assignment "
        "`dC[ix] = ...`, which keeps only one of them.",
        _repeated_index,
    ),
    # Slips whose value the exercise supplies (slip_values): words only.
    Slip(
        "assigned instead of added",
        "a gradient is assigned where it must be added: a value used more than once "
        "receives a share from each use, so write `grad += ...`; `grad = ...` keeps only the "
        "last share.",
    ),
    Slip(
        "a node visited before its users are done",
        "a node passes its gradient on before every node that uses it has added its share: "
        "visit the nodes in reverse topological order, each one after all of its users.",
    ),
    Slip(
        "the output's gradient not seeded with 1",
        "the backward pass does not start from 1: the gradient of the output with respect to "
        "itself is dL/dL = 1, so set the output's grad to 1 before walking back.",
    ),
    Slip(
        "gradients left over from an earlier call",
        "the gradients of an earlier backward pass are added in: set every grad back to 0 "
        "before a new pass (as `zero_grad()` does).",
    ),
    Slip(
        "used the input where the output was needed",
        "the local derivative uses the operation's input where it needs its output: tanh's "
        "derivative is 1 − t² with t = tanh(x) the output, not 1 − x².",
    ),
    Slip(
        "batch statistics held constant",
        "your gradient leaves out the path through the batch statistics: the batch's mean "
        "(and variance) depend on every sample, so the gradient flows through them too. Add "
        "the terms that come from differentiating them.",
    ),
    Slip(
        "sample statistics held constant",
        "your gradient leaves out the path through each sample's own mean (and variance): "
        "they are computed from every feature of that sample, so each feature's gradient "
        "flows through them too. Add the terms that come from differentiating them.",
    ),
    # Named only when no slip above fits: what remains right is the numbers.
    Slip(
        "shape",
        "your numbers are right but their shape is not: return them with "
        "`.reshape(...)` to the shape of what the gradient is taken with respect to.",
        lambda g, e, f: (
            g.shape != e.shape and g.numel() == e.numel() and _close(g.reshape(e.shape), e)
        ),
        last_resort=True,
    ),
    Slip(
        "precision",
        lambda g, e: _precision_words(g, e),
        lambda g, e, f: _float32_close(g, e),
        last_resort=True,
    ),
]
_BY_NAME = {slip.name: slip for slip in SLIPS}
SUPPLIED = tuple(slip.name for slip in SLIPS if slip.test is None)


def slip_words(name, got=None, expected=None):
    """The words of the slip called ``name`` (for a checker that names it itself); the
    answer and the expected result for a slip whose words depend on them."""
    return _BY_NAME[name].says(got, expected)


def _fits(slip, g, e, facts):
    if slip.test is not None:
        return slip.test(g, e, facts)
    value = facts.supplied.get(slip.name)
    return value is not None and _close(g, value)


def _slips(got, expected, facts):
    """The slips that explain the answer on every case (several when they cannot be told apart).

    ``facts`` holds each case's ``CaseFacts``.
    """
    cases = list(zip(got, expected, facts, strict=True))
    for last_resort in (False, True):
        slips = tuple(
            slip.name
            for slip in SLIPS
            if slip.last_resort == last_resort and all(_fits(slip, g, e, f) for g, e, f in cases)
        )
        if slips:
            return slips
    return ()


def _compare(got, expected, cases, wrt, facts, hint, lowered):
    """None when ``got`` matches ``expected`` on every case, else (report, slips) in words.

    ``lowered`` tells, for each case, whether the answer computed a step in float32
    there: such a case is wrong whatever its numbers (the one float32 rule).
    """
    count = len(cases)
    wrong = [
        number
        for number, g in enumerate(got, 1)
        if lowered[number - 1] or not _close(g, expected[number - 1])
    ]
    if not wrong:
        return None
    slips = _slips(got, expected, facts)
    if any(lowered) and not slips:
        slips = ("precision",)
    first = wrong[0] - 1
    where = f"on case {first + 1} of {count} ({_describe(cases[first])})"
    if got[first].shape != expected[first].shape:
        report = _shape_difference(got[first], expected[first], wrt, where)
    elif _close(got[first], expected[first]):  # wrong only for a step computed in float32
        report = (
            f"{where[0].upper() + where[1:]}, your numbers are within the tolerance, but a step "
            "computes them in float32, which is exact to 7 digits only."
        )
    else:
        report = _difference(got[first], expected[first], where)
    report += f" It is wrong on {len(wrong)} of the {count} cases."
    if slips:
        diagnosis = " Or: ".join(
            _BY_NAME[slip].says(got[first], expected[first]) for slip in slips
        )
        label = "Diagnosis" if len(slips) == 1 else "These slips fit every case alike"
        report += f"\n{label}: {diagnosis}"
    elif hint:
        report += f"\nHint: {hint}"
    else:
        report += " Recheck each factor of the chain rule on that case."
    return report, slips
