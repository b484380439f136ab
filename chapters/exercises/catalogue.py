"""The slip catalogue: each slip's test and its words."""

import torch

from .words import _describe, _difference, _shape_difference

RTOL, ATOL = 1e-6, 1e-8  # float64 agreement asked of an answer


FLOAT32_RTOL, FLOAT32_ATOL = 1e-4, 1e-5  # agreement of an answer computed in float32


def _compare(got, expected, cases, wrt, sizes, factors, hint):
    """None when ``got`` matches ``expected`` on every case, else (report, slips) in words."""
    count = len(cases)
    wrong = [number for number, g in enumerate(got, 1) if not _close(g, expected[number - 1])]
    if not wrong:
        return None
    slips = _slips(got, expected, sizes, factors)
    first = wrong[0] - 1
    where = f"on case {first + 1} of {count} ({_describe(cases[first])})"
    if got[first].shape != expected[first].shape:
        report = _shape_difference(got[first], expected[first], wrt, where)
    else:
        report = _difference(got[first], expected[first], where)
    report += f" It is wrong on {len(wrong)} of the {count} cases."
    if slips:
        diagnosis = " Or: ".join(_SLIP_WORDS[slip] for slip in slips)
        label = "Diagnosis" if len(slips) == 1 else "These slips fit every case alike"
        report += f"\n{label}: {diagnosis}"
    elif hint:
        report += f"\nHint: {hint}"
    else:
        report += " Recheck each factor of the chain rule on that case."
    return report, slips


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
    "shape": "your numbers are right but their shape is not: return them with "
    "`.reshape(...)` to the shape of what the gradient is taken with respect to.",
    "precision": "your gradient agrees with autograd only to float32's 7 digits: some step is "
    "computed in float32. Keep every step in float64 (no `.float()`, and "
    "`dtype=torch.float64` in any `torch.tensor(...)`).",
}


def _close(got, expected, rtol=RTOL, atol=ATOL):
    return got.shape == expected.shape and torch.allclose(got, expected, rtol=rtol, atol=atol)


_SLIP_TESTS = {
    "sign": lambda g, e, n: _close(g, -e),
    "half": lambda g, e, n: _close(g, e / 2),
    "twice": lambda g, e, n: _close(g, 2 * e),
    "divided by N": lambda g, e, n: _close(g, e / n),
    "times N": lambda g, e, n: _close(g, e * n),
    "transpose": lambda g, e, n: e.dim() == 2 and _close(g, e.T),
    "batch sum": lambda g, e, n: (
        g.dim() >= 1
        and g.shape[0] == n
        and e.dim() >= 1
        and e.shape[0] == 1
        and g.shape[1:] == e.shape[1:]
        and _close(g.sum(dim=0, keepdim=True), e)
    ),
    "keepdim": lambda g, e, n: (
        e.dim() >= 1 and e.shape[0] == 1 and _close(g, e.reshape(e.shape[1:]))
    ),
}


# Named only when no slip above fits: what remains right is the numbers.
_LAST_RESORT = {
    "shape": lambda g, e: g.numel() == e.numel() and _close(g.reshape(e.shape), e),
    "precision": lambda g, e: _close(g, e, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL),
}


def _slips(got, expected, sizes, factors):
    """The slips that explain the answer on every case (several when they cannot be told apart).

    ``factors`` holds, for each case, the gradients that lack one input's factor.
    """
    cases = list(zip(got, expected, sizes, factors, strict=True))
    slips = tuple(
        slip for slip, test in _SLIP_TESTS.items() if all(test(g, e, n) for g, e, n, _ in cases)
    )
    if all(any(_close(g, c) for c in candidates) for g, _, _, candidates in cases):
        slips += ("input factor",)
    if slips:
        return slips
    # At most one fits: "precision" needs the right shape, and "shape" a wrong one.
    return tuple(
        slip for slip, test in _LAST_RESORT.items() if all(test(g, e) for g, e, _, _ in cases)
    )
