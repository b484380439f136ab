"""The checker's words: verdicts, and what a value or a difference is, in a sentence."""

import html
import inspect
import numbers

import torch

MAX_ERROR_TEXT = 300  # characters of an exception's message shown to the learner
BOOK_ONLY = "{book_only}"  # where a Verdict's words for the book alone go


class Verdict:
    """What the checker says: true when the answer is correct, shown as plain words.

    ``slips`` names the mistakes that explain every case (empty when none does).
    ``book_only`` holds words that only the book shows: JupyterLab and a terminal
    show ``message`` without them; the book's HTML has them, in an element hidden
    both by its ``hidden`` attribute and by ``display: none`` (JupyterLab drops the
    attribute when it cleans a stored output's HTML, and keeps the style), that
    only the book's stylesheet (``.book-only`` in _static/custom.css) reveals.
    ``message`` holds the text ``{book_only}`` where they go, if anywhere.
    """

    def __init__(self, passed, message, slips=(), book_only=""):
        self.passed, self.slips = passed, tuple(slips)
        self.message = message.replace(BOOK_ONLY, "")
        self._template, self._book_only = message, book_only

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return self.message

    def _repr_html_(self):
        if not self._book_only or BOOK_ONLY not in self._template:
            return None  # the plain text alone
        hidden = (
            f'<span class="book-only" style="display: none" hidden>'
            f"{html.escape(self._book_only)}</span>"
        )
        # html.escape leaves the place's braces and underscore as they are
        return f"<pre>{html.escape(self._template).replace(BOOK_ONLY, hidden)}</pre>"


def _not_an_exercise(exercise, answer, kind, checker, what):
    if isinstance(answer, kind):
        return Verdict(
            False,
            f"{checker} takes the exercise first, then {what}: "
            f"write {checker}(exercise, answer) with the two swapped back.",
            slips=("arguments",),
        )
    return Verdict(
        False,
        f"{checker} expects an exercise that the chapter made with {kind.__name__}(...) "
        f"first, got {_kind(exercise)}. Pass that exercise, then {what}.",
        slips=("arguments",),
    )


HOW_TO_START_IN_THE_BOOK = "run this chapter in JupyterLab, "


def _how_to_start(function):
    """How to try an exercise; "run this chapter in JupyterLab" is said in the book only
    (a ``Verdict``'s ``book_only``, where ``BOOK_ONLY`` stands)."""
    return (
        f"To try it, {BOOK_ONLY}replace `raise NotImplementedError` in "
        f"{function} with your formula, then run that cell and this one."
    )


def _shape_difference(got, expected, wrt, where):
    """How the shape of the gradient ``got`` differs from ``expected``'s, in words."""
    return (
        f"{where[0].upper() + where[1:]}, expected a gradient of shape {tuple(expected.shape)} "
        f"for {wrt}, got {tuple(got.shape)}: a gradient has the shape of what it is taken "
        "with respect to."
    )


def _difference(got, expected, where):
    """Where ``got`` differs most from ``expected`` (of the same shape), in words.

    The entry named is the one with the largest error among those outside the
    tolerance, so an entry that is within it is never blamed.
    """
    from .catalogue import _isclose

    where = where[0].upper() + where[1:]
    got, expected = got.detach(), expected.detach()
    error = (got - expected).abs()
    outside = ~_isclose(got, expected)  # the answer's tolerance, RTOL and ATOL
    if outside.any():
        error = torch.where(outside, error, torch.zeros_like(error))
    index = _index(error.argmax(), expected.shape)
    return (
        f"{where}, the largest error is {error.max().item():.4g} at index {index}: "
        f"expected {expected[index].item():.6g}, got {got[index].item():.6g}."
    )


def _error_words(error):
    """``Type: message`` for an exception, the message capped, whatever its ``__str__`` does."""
    kind = type(error).__name__
    try:
        text = " ".join(str(error).split())
    # An exception whose message cannot be made is still named.
    except Exception:  # noqa: BLE001
        text = ""
    if len(text) > MAX_ERROR_TEXT:
        text = text[:MAX_ERROR_TEXT].rstrip() + " …"
    return f"{kind} ({text})" if text else kind


def _kind(value):
    if isinstance(value, type):
        if issubclass(value, torch.nn.Module):
            return f"the class `{value.__name__}`, an nn.Module (a layer)"
        return f"the class `{value.__name__}`"
    if isinstance(value, torch.nn.Module):
        return f"an nn.Module (a layer), `{type(value).__name__}`"
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, numbers.Real):
        return f"a number ({float(value)!r})"
    if isinstance(value, numbers.Complex):
        return f"a complex number ({complex(value)!r})"
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        return f"a NumPy array of shape {tuple(value.shape)}"
    if inspect.isgenerator(value):
        return "a generator (from a `yield`)"
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'aeiouAEIOU' else 'a'} {kind}"


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
    if isinstance(values, int):  # an integer input (a label, an index) is shown as it is
        return values
    return float(f"{values:.4g}")


def _problem(got, expected, function):
    """What makes ``got`` unusable as a gradient, in words; None if nothing does."""
    want = tuple(expected.shape)
    if got is None:
        return f"{function} returned None: did you forget `return`?"
    if inspect.iscoroutine(got):
        return f"{function} is an `async def`: write it as a plain `def` that returns the tensor"
    if not isinstance(got, torch.Tensor):
        return (
            f"expected a torch.Tensor of shape {want}, got {_kind(got)}. "
            "Build the gradient from the input tensors so it stays a tensor"
        )
    if got.layout != torch.strided:
        return (
            f"expected a dense tensor, got a {str(got.layout).removeprefix('torch.')} one. "
            "Return it with `.to_dense()`, or build it without sparse tensors"
        )
    if got.device.type != "cpu":
        return (
            f"expected a tensor on the CPU, got one on the {got.device.type!r} device. "
            "Build it from the inputs (they are on the CPU), without `device=`"
        )
    if got.is_complex():
        return (
            f"expected a real float64 tensor, got dtype {got.dtype}. The gradient of a real "
            "loss is real: build it from the inputs without complex numbers"
        )
    if not got.is_floating_point():
        return (
            f"expected a float64 tensor, got dtype {got.dtype}. Integer or boolean tensors "
            "cannot hold a gradient: compute it from the float64 inputs"
        )
    if got.dtype != torch.float64:
        return (
            f"expected a float64 tensor (the inputs are float64), got dtype {got.dtype}. "
            "Compute it from the inputs instead of writing torch.tensor(...)"
        )
    if not torch.isfinite(got).all():
        index = _index((~torch.isfinite(got)).int().argmax(), got.shape)
        return (
            f"your gradient holds {got[index].item()} at index {index}: look for a division "
            "by zero, or a log or square root of a negative number"
        )
    return None


def _index(flat, shape):
    """The position of flat index ``flat`` in a tensor of ``shape``, as a tuple."""
    return tuple(int(i) for i in torch.unravel_index(flat, tuple(shape)))
