"""The checker's words: verdicts, and what a value or a difference is, in a sentence."""

import inspect
import numbers

import torch

MAX_ERROR_TEXT = 300  # characters of an exception's message shown to the learner


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


def _guarded(judge, exercise, answer):
    """``judge(exercise, answer)``, or a sentence if the judging itself fails.

    The learner's code runs in its own thread and every error it raises becomes
    a sentence, so this last guard only matters for values nobody foresaw.
    """
    try:
        return judge(exercise, answer)
    # Nothing a learner hands in may end in a traceback.
    except Exception as error:  # noqa: BLE001
        name = getattr(exercise, "name", "This exercise")
        return Verdict(
            False,
            f"{name}: the checker could not judge this answer ({_error_words(error)}). "
            "Return a plain float64 tensor on the CPU, built from the inputs.",
            slips=("unjudged",),
        )


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


def _how_to_start(function):
    return (
        "To try it, run this chapter in JupyterLab, replace `raise NotImplementedError` in "
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
    """Where ``got`` differs most from ``expected`` (of the same shape), in words."""
    where = where[0].upper() + where[1:]
    error = (got - expected).abs()
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
