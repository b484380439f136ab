"""Unit tests for chapters/exercises/words.py."""

import functools
import html

import numpy as np
import pytest
import torch

from exercises import (
    Exercise,
    autograd_function,
    check_autograd_function,
    check_gradient,
    gradient,
    words,
)
from exercises_examples import (
    MATMUL,
    MEAN,
    TanhLayer,
    async_answer,
    right_matmul,
    right_mean,
    uses_backward,
)


def raises_not_implemented(w, x, y):
    """A stub, with its docstring."""
    raise NotImplementedError  # replace with your formula


def raises_value_error(w, x, y):
    raise ValueError("math domain error")


def raises_not_implemented_for_batches(w, x, y):
    if x.numel() > 1:
        raise NotImplementedError
    return right_mean(w, x, y)


BAD_INPUTS = {
    "None": (None, "not attempted yet. To try it, replace `raise NotImplementedError`"),
    "unfilled stub": (
        raises_not_implemented,
        "not attempted yet. To try it, replace "
        "`raise NotImplementedError` in `raises_not_implemented` with your formula",
    ),
    "NotImplementedError of its own": (
        raises_not_implemented_for_batches,
        "`raises_not_implemented_for_batches` raised NotImplementedError, on case 2 of 3",
    ),
    "a tensor, not a function": (torch.ones(1), "expected a function of (w, x, y)"),
    "function raises": (
        raises_value_error,
        "`raises_value_error` raised ValueError (math domain error), on case 1 of 3",
    ),
    "returns None": (lambda w, x, y: None, "returned None: did you forget `return`"),
    "returns a number": (lambda w, x, y: 16.0, "got a number (16.0)"),
    "returns a list": (lambda w, x, y: [16.0], "got a list"),
    "returns a tuple": (lambda w, x, y: (16,), "got a tuple"),
    "returns a NumPy array": (
        lambda w, x, y: right_mean(w, x, y).numpy(),
        "got a NumPy array of shape (1,)",
    ),
    "returns an object": (lambda w, x, y: object(), "got an object"),
    "integer dtype": (lambda w, x, y: right_mean(w, x, y).long(), "dtype torch.int64"),
    "float32": (lambda w, x, y: right_mean(w, x, y).float(), "dtype torch.float32"),
    "NaN": (lambda w, x, y: right_mean(w, x, y) * float("nan"), "holds nan at index (0,)"),
    "inf": (lambda w, x, y: right_mean(w, x, y) / 0, "holds inf at index (0,)"),
    "wrong arguments": (lambda weight: weight, "unexpected keyword argument 'w'"),
}


@pytest.mark.parametrize("answer, message", BAD_INPUTS.values(), ids=BAD_INPUTS)
def test_bad_input_gets_a_clear_message_not_a_traceback(answer, message):
    verdict = check_gradient(MEAN, answer)
    assert not verdict
    assert message in repr(verdict), repr(verdict)
    assert "Traceback" not in repr(verdict)


class NamelessAnswer:
    """A callable with no ``__name__``, as functools.partial or a class instance is."""

    def __call__(self, w, x, y):
        raise ValueError("math domain error")


def raises_type_error(w, x, y):
    raise TypeError


def raises_not_implemented_called(w, x, y):
    raise NotImplementedError()


CASE_1 = "on case 1 of 3 (w=[3.0], x=[1.5], y=[0.5])"


CALLED = (
    "It is called with w, x, y as float64 tensors: call it yourself on those inputs to see where."
)


MATMUL_CASE_1 = "on case 1 of 2 (x=[[2.0], [1.0]], w=[[3.0, 1.0]], y=[[5.0, 2.0], [2.5, 2.0]])"


HOW_TO_START = (
    "not attempted yet. To try it, replace "
    "`raise NotImplementedError` in {} with your formula, then run that cell and this one."
)


WHOLE_MESSAGES = {
    "None": (MEAN, None, (), HOW_TO_START.format("your function")),
    "unfilled stub": (
        MEAN,
        raises_not_implemented,
        ("not attempted",),
        HOW_TO_START.format("`raises_not_implemented`"),
    ),
    "unfilled stub with ()": (
        MEAN,
        raises_not_implemented_called,
        ("not attempted",),
        HOW_TO_START.format("`raises_not_implemented_called`"),
    ),
    "a tensor, not a function": (
        MEAN,
        torch.ones(1),
        (),
        "expected a function of (w, x, y) that returns dL/dw, got a tensor of shape (1,). "
        "Pass the function itself, without calling it.",
    ),
    "a lambda raises": (
        MEAN,
        lambda w, x, y: 1 / 0,
        ("raised",),
        f"your lambda raised ZeroDivisionError (division by zero), {CASE_1}. {CALLED}",
    ),
    "a callable without a name raises": (
        MEAN,
        NamelessAnswer(),
        ("raised",),
        f"your function raised ValueError (math domain error), {CASE_1}. {CALLED}",
    ),
    "a one-line raise that is not the stub's": (
        MEAN,
        raises_type_error,
        ("raised",),
        f"`raises_type_error` raised TypeError, {CASE_1}. {CALLED}",
    ),
    "autograd": (
        MEAN,
        uses_backward,
        ("autograd",),
        "`uses_backward` switches autograd on for w (requires_grad), so the computer finds the "
        "derivative. Write the formula you derived by hand, computed from the inputs alone.",
    ),
    "returns None": (
        MEAN,
        lambda w, x, y: None,
        ("type",),
        f"your lambda returned None: did you forget `return`? ({CASE_1}).",
    ),
    "returns a list, said with the shape of this case's gradient": (
        MATMUL,
        lambda x, w, y: [1.0],
        ("type",),
        "expected a torch.Tensor of shape (1, 2), got a list. Build the gradient from the "
        f"input tensors so it stays a tensor ({MATMUL_CASE_1}).",
    ),
    "integer dtype": (
        MEAN,
        lambda w, x, y: right_mean(w, x, y).long(),
        ("type",),
        "expected a float64 tensor, got dtype torch.int64. Integer or boolean tensors cannot "
        f"hold a gradient: compute it from the float64 inputs ({CASE_1}).",
    ),
    "float32": (
        MEAN,
        lambda w, x, y: right_mean(w, x, y).float(),
        ("type",),
        "expected a float64 tensor (the inputs are float64), got dtype torch.float32. Compute "
        f"it from the inputs instead of writing torch.tensor(...) ({CASE_1}).",
    ),
}


@pytest.mark.parametrize(
    "exercise, answer, slips, message", WHOLE_MESSAGES.values(), ids=WHOLE_MESSAGES
)
def test_the_whole_message_and_the_slip_it_names(exercise, answer, slips, message):
    verdict = check_gradient(exercise, answer)
    assert not verdict and verdict.slips == slips
    assert repr(verdict) == f"{exercise.name}: {message}"
    if message.startswith("not attempted"):  # the book, not JupyterLab, says where to run it
        rest = html.escape(message.split("To try it, ", 1)[1])
        assert verdict._repr_html_() == (
            f'<pre>{exercise.name}: not attempted yet. To try it, <span class="book-only" '
            f'style="display: none" hidden>run this chapter in JupyterLab, </span>{rest}</pre>'
        )
    else:
        assert verdict._repr_html_() is None


def test_a_function_without_a_name_is_checked_like_any_other():
    assert check_gradient(MEAN, functools.partial(right_mean))


def test_a_nan_beyond_the_first_entry_is_found_where_it_is():
    def nan_in_row_two(x, w, y):
        answer = right_matmul(x, w, y)
        answer[0, 1] = float("nan")
        return answer

    verdict = check_gradient(MATMUL, nan_in_row_two)
    assert repr(verdict) == (
        "Matrix product: your gradient holds nan at index (0, 1): look for a division by zero, "
        f"or a log or square root of a negative number ({MATMUL_CASE_1})."
    )


def test_a_numpy_array_is_not_called_a_ndarray():
    assert words._kind(np.zeros(3)) == "a NumPy array of shape (3,)"
    assert words._kind(object()) == "an object"
    assert words._kind(torch.zeros(2, 3)) == "a tensor of shape (2, 3)"

    class Table:  # has a shape, like a pandas DataFrame, but is no NumPy array
        shape = (2, 3)

    assert words._kind(Table()) == "a Table"


def test_messages_round_the_inputs_they_show():
    exercise = Exercise(
        name="Rounded",
        loss=lambda w, x: (w * x).sum(),
        wrt="w",
        batched=("x",),
        cases=[{"w": [0.123456789], "x": [-1.6052762948770103]}],
    )
    assert "(w=[0.1235], x=[-1.605])" in repr(check_gradient(exercise, lambda w, x: w))


def test_large_inputs_are_described_by_shape():
    def wrong_on_large_batches(w, x, y):
        return -right_mean(w, x, y) if x.numel() > 3 else right_mean(w, x, y)

    verdict = check_gradient(MEAN, wrong_on_large_batches)
    assert "On case 3 of 3 (w=[-0.5], x of shape (5,), y of shape (5,))" in repr(verdict)


class OnAnotherDevice(torch.Tensor):
    """A stand-in for a CUDA tensor (there is no GPU here): it says it is on cuda:0."""

    @property
    def device(self):
        return torch.device("cuda", 0)


class UnprintableError(Exception):
    def __str__(self):
        raise RuntimeError("no message")


def raises_unprintable(w, x, y):
    raise UnprintableError


def raises_a_long_message(w, x, y):
    raise ValueError("shape mismatch " * 2000)


CRASHES = {
    "meta device": (
        lambda w, x, y: torch.zeros(1, device="meta", dtype=torch.float64),
        "got one on the 'meta' device",
    ),
    "sparse": (lambda w, x, y: right_mean(w, x, y).to_sparse(), "got a sparse_coo one"),
    "another device": (
        lambda w, x, y: right_mean(w, x, y).as_subclass(OnAnotherDevice),
        "got one on the 'cuda' device",
    ),
    "an exception that cannot be printed": (raises_unprintable, "raised UnprintableError, on"),
}


@pytest.mark.parametrize("answer, message", CRASHES.values(), ids=CRASHES)
def test_what_used_to_crash_the_checker_gets_a_sentence(answer, message):
    verdict = check_gradient(MEAN, answer)
    assert not verdict and message in repr(verdict), repr(verdict)


def test_a_long_exception_message_is_cut_short():
    verdict = check_gradient(MEAN, raises_a_long_message)
    assert "raised ValueError (shape mismatch shape mismatch" in repr(verdict)
    assert len(repr(verdict)) < 600 and " …)" in repr(verdict)


def test_the_arguments_swapped_or_no_exercise_get_a_sentence():
    swapped = check_gradient(right_mean, MEAN)
    assert not swapped and swapped.slips == ("arguments",)
    assert "check_gradient takes the exercise first, then your function" in repr(swapped)
    other = check_gradient(right_mean, right_mean)
    assert (
        "expects an exercise that the chapter made with Exercise(...) first, got a function"
        in (repr(other))
    )
    with pytest.raises(AssertionError, match="takes the exercise first"):
        check_gradient(right_mean, MEAN, must_pass=True)


MESSAGES = {
    "an empty exception message": (
        lambda w, x, y: (_ for _ in ()).throw(ValueError()),
        "your lambda raised ValueError, on case 1 of 3",
    ),
    "a complex result": (
        lambda w, x, y: right_mean(w, x, y) + 0j,
        "expected a real float64 tensor, got dtype torch.complex128",
    ),
    "a NumPy number": (lambda w, x, y: np.float64(2.0), "got a number (2.0)."),
    "a partial": (
        functools.partial(raises_value_error),
        "`raises_value_error` raised ValueError (math domain error)",
    ),
    "an async def": (async_answer, "`async_answer` is an `async def`: write it as a plain `def`"),
}


@pytest.mark.parametrize("answer, message", MESSAGES.values(), ids=MESSAGES)
def test_each_message_says_what_to_do(answer, message):
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        verdict = check_gradient(MEAN, answer)
        gc.collect()
    assert not verdict and message in repr(verdict), repr(verdict)
    assert "Traceback" not in repr(verdict) and ": \n" not in repr(verdict)
    assert not [w for w in caught if "never awaited" in str(w.message)]


def test_an_exception_message_is_cut_at_its_limit_and_no_sooner():
    limit = words.MAX_ERROR_TEXT
    exact = ValueError("a" * limit)
    assert words._error_words(exact) == f"ValueError ({'a' * limit})"
    longer = ValueError("a" * (limit - 1) + " " + "b" * 50)
    assert words._error_words(longer) == f"ValueError ({'a' * (limit - 1)} …)"
    spaced = ValueError("  several\n lines  of text ")
    assert words._error_words(spaced) == "ValueError (several lines of text)"


def yields(w, x, y):
    yield right_mean(w, x, y)


@pytest.mark.parametrize(
    "answer, message",
    [
        (lambda w, x, y: 2 + 0j, "got a complex number ((2+0j))."),
        (yields, "got a generator (from a `yield`)."),
        (lambda w, x, y: True, "got a boolean (True)."),
    ],
)
def test_what_a_value_is_said_in_words(answer, message):
    assert message in repr(check_gradient(MEAN, answer))


def test_a_failure_of_the_checker_itself_is_said_in_words(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(gradient, "_describe", broken)
    verdict = check_gradient(MEAN, raises_value_error)
    assert not verdict and verdict.slips == ("unjudged",)
    assert repr(verdict) == (
        "Mean squared error: the checker could not judge this answer (RuntimeError (boom)). "
        "Return a plain float64 tensor on the CPU, built from the inputs."
    )
    monkeypatch.setattr(gradient, "_not_an_exercise", broken)
    monkeypatch.setattr(autograd_function, "_not_an_exercise", broken)
    nameless = check_gradient("not an exercise", right_mean)
    assert repr(nameless).startswith("This exercise: the checker could not judge this answer")
    with pytest.raises(AssertionError, match="could not judge"):
        check_autograd_function("not an exercise", TanhLayer, must_pass=True)


def test_the_whole_messages_for_results_of_another_kind():
    where = CASE_1
    sparse = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y).to_sparse())
    assert repr(sparse) == (
        "Mean squared error: expected a dense tensor, got a sparse_coo one. Return it with "
        f"`.to_dense()`, or build it without sparse tensors ({where})."
    )
    meta = check_gradient(MEAN, lambda w, x, y: torch.zeros(1, device="meta"))
    assert repr(meta) == (
        "Mean squared error: expected a tensor on the CPU, got one on the 'meta' device. Build "
        f"it from the inputs (they are on the CPU), without `device=` ({where})."
    )
    complex_ = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y) * 1j)
    assert repr(complex_) == (
        "Mean squared error: expected a real float64 tensor, got dtype torch.complex128. The "
        "gradient of a real loss is real: build it from the inputs without complex numbers "
        f"({where})."
    )
    shape = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y).reshape(1, 1))
    assert shape.slips == ("shape",) and repr(shape).endswith(
        "\nDiagnosis: your numbers are right but their shape is not: return them with "
        "`.reshape(...)` to the shape of what the gradient is taken with respect to."
    )
    precision = check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y) * (1 + 3e-6))
    assert precision.slips == ("precision",) and repr(precision).endswith(
        "\nDiagnosis: your gradient agrees with autograd only to float32's 7 digits: some step "
        "is computed in float32. Keep every step in float64 (no `.float()`, and "
        "`dtype=torch.float64` in any `torch.tensor(...)`)."
    )


def test_the_whole_message_for_a_gradient_of_the_wrong_shape():
    verdict = check_gradient(MATMUL, lambda x, w, y: torch.zeros(1, 3, dtype=torch.float64))
    assert repr(verdict) == (
        f"Matrix product: not yet. O{MATMUL_CASE_1[1:]}, expected a gradient of shape (1, 2) "
        "for w, got (1, 3): a gradient has the shape of what it is taken with respect to. It is "
        "wrong on 2 of the 2 cases.\nHint: dL/dW = X^T dL/dZ"
    )


# --- Issue 26: comparisons an answer cannot speak for, classes named ---------------------------


class AlwaysClose(torch.Tensor):
    """A tensor whose every comparison agrees."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.allclose, torch.equal):
            return True
        if func is torch.isclose:
            return torch.ones(args[0].shape, dtype=torch.bool)
        return super().__torch_function__(func, types, args, kwargs or {})


def test_a_tensor_subclass_whose_comparison_always_agrees_does_not_pass():
    verdict = check_gradient(MEAN, lambda w, x, y: torch.zeros_like(w).as_subclass(AlwaysClose))
    assert not verdict, repr(verdict)
    assert check_gradient(MEAN, lambda w, x, y: right_mean(w, x, y).as_subclass(AlwaysClose))


def test_a_class_is_said_to_be_a_class():
    class Table:
        pass

    assert words._kind(Table) == "the class `Table`"
    assert words._kind(torch.nn.Linear) == "the class `Linear`, an nn.Module (a layer)"
    assert words._kind(torch.nn.Linear(1, 1)) == "an nn.Module (a layer), `Linear`"


def test_a_verdict_shows_book_only_words_only_when_it_has_both_the_words_and_their_place():
    place = f"Not yet. To try it, {words.BOOK_ONLY}run this cell."
    assert words.Verdict(False, place)._repr_html_() is None, "no words: the plain text"
    no_place = words.Verdict(False, "Not yet.", book_only="run this chapter in JupyterLab, ")
    assert no_place._repr_html_() is None and no_place.message == "Not yet."
    both = words.Verdict(False, place, book_only="in the book, ")
    assert both.message == "Not yet. To try it, run this cell."
    assert both._repr_html_() == (
        '<pre>Not yet. To try it, <span class="book-only" style="display: none" hidden>'
        "in the book, </span>run this cell.</pre>"
    )


def test_a_kind_takes_an_before_a_vowel_of_either_case_and_a_before_any_other_letter():
    class Apple:
        pass

    class Umbrella:
        pass

    class Xylophone:
        pass

    assert words._kind(Apple()) == "an Apple"
    assert words._kind(Umbrella()) == "an Umbrella"
    assert words._kind(object()) == "an object"
    assert words._kind(Xylophone()) == "a Xylophone"
    assert words._kind(...) == "an ellipsis"
    assert words._kind(b"") == "a bytes"


def test_the_book_only_html_escapes_the_words_on_both_sides_of_the_place():
    verdict = words.Verdict(False, f"a < b & {words.BOOK_ONLY}c > d", book_only="x & y, ")
    assert verdict.message == "a < b & c > d"
    assert verdict._repr_html_() == (
        '<pre>a &lt; b &amp; <span class="book-only" style="display: none" hidden>'
        "x &amp; y, </span>c &gt; d</pre>"
    )
