"""The exercise checker: compares a learner's derivative with autograd, in plain words.

An ``Exercise`` holds a loss, the input to differentiate with respect to, and the
cases to check on; it computes autograd's gradient on every case once, when it is
made, so nothing a learner's code does later (rebinding a notebook global,
turning autograd off, changing a case in place) can change the reference.
``check_gradient`` runs the learner's function on every case with autograd off,
and names the one slip that explains how its answers differ from autograd's on
all of them.

An answer is the computer's, not the learner's, when its value depends on the
values of the loss: the checker runs it a second time with the exercise's loss,
and the functions that carry it, replaced by a different function, and a
derivative of the loss (by autograd, forward mode or finite differences) moves
while a hand formula does not.

A ``FunctionExercise`` and ``check_autograd_function`` do the same for a
learner's own ``torch.autograd.Function``: its forward against a reference, and
the gradient its backward returns for each input against autograd's.

Importing it has no side effects.
"""

import contextlib
import contextvars
import dis
import functools
import inspect
import io
import numbers
import threading
import types
import warnings
from dataclasses import dataclass, field

import torch

__all__ = [
    "Exercise",
    "FunctionExercise",
    "Verdict",
    "check_autograd_function",
    "check_gradient",
]

RTOL, ATOL = 1e-6, 1e-8  # float64 agreement asked of an answer
FLOAT32_RTOL, FLOAT32_ATOL = 1e-4, 1e-5  # agreement of an answer computed in float32
MAX_ERROR_TEXT = 300  # characters of an exception's message shown to the learner


def _float64_cases(cases):
    """Own float64 copies of the cases: nothing outside can change them in place."""
    return [
        {
            key: torch.as_tensor(value, dtype=torch.float64).detach().clone()
            for key, value in case.items()
        }
        for case in cases
    ]


def _copies(cases):
    return [{key: value.clone() for key, value in case.items()} for case in cases]


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
            self._without_an_input_factor(case, answer)
            for case, answer in zip(self._inputs, self._answers, strict=True)
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


def _global_names(code):
    """The global names ``code`` (and the functions defined in it) looks up."""
    names = {
        instruction.argval
        for instruction in dis.get_instructions(code)
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME")
    }
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def _loss_carriers(loss, case):
    """The loss and the functions that carry all of it, and the global names they had.

    A function the loss calls by a global name of its own module carries the loss
    when the loss depends on its inputs only through what that function returns
    (a squared error does; an activation, which the targets bypass, does not).
    """
    objects, names = [loss], set()
    namespace = getattr(loss, "__globals__", None)
    if not isinstance(namespace, dict):
        return objects, frozenset()
    names |= {name for name, value in namespace.items() if value is loss}
    for name in sorted(_global_names(loss.__code__)):
        helper = namespace.get(name)
        if isinstance(helper, types.FunctionType) and helper.__globals__ is namespace:
            if helper is not loss and _carries(loss, namespace, name, helper, case):
                objects.append(helper)
                names.add(name)
    return objects, frozenset(names)


def _carries(loss, namespace, name, helper, case):
    """True when ``loss`` depends on its inputs only through what ``helper`` returns."""

    def cut(*args, **kwargs):
        value = helper(*args, **kwargs)
        return value.detach() if isinstance(value, torch.Tensor) else value

    namespace[name] = cut
    try:
        with torch.enable_grad():
            leaves = {key: value.clone().requires_grad_() for key, value in case.items()}
            return not loss(**leaves).requires_grad
    # A helper the loss cannot run without (it may check its argument) carries nothing here.
    except Exception:  # noqa: BLE001
        return False
    finally:
        namespace[name] = helper


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
    verdict = _guarded(_judge, exercise, answer)
    if must_pass and not verdict:
        raise AssertionError(verdict.message)
    if must_pass:
        count = len(exercise._inputs)
        return Verdict(
            True, f"{exercise.name}: the reference solution matches autograd on all {count} cases."
        )
    return verdict


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


# --- Running the learner's function ----------------------------------------------------------


class _Outcome:
    """One call of the learner's code: what it returned or raised."""

    def __init__(self, value=None, error=None):
        self.value, self.error = value, error


def _global_state():
    """The process-wide settings a learner's code can change, as (getter, setter) pairs."""
    return [
        (torch.get_default_dtype, torch.set_default_dtype),
        (
            lambda: (
                torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled(),
            ),
            lambda state: torch.use_deterministic_algorithms(state[0], warn_only=state[1]),
        ),
        (
            lambda: (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()),
            lambda state: torch.set_anomaly_enabled(*state),
        ),
        (torch.get_num_threads, torch.set_num_threads),
        (threading.gettrace, threading.settrace),
        (threading.getprofile, threading.setprofile),
    ]


def _call(function, *args, **kwargs):
    """Call the learner's ``function`` in a thread of its own; never raises.

    What is set per thread (grad and inference mode, the default device,
    ``sys.settrace``, a profiler) ends with that thread; the process-wide
    settings (default dtype, deterministic algorithms, anomaly detection, the
    number of threads, the random generator) are put back afterwards, so a
    learner's code cannot break the next check, nor a later cell.
    """
    saved = [(getter(), setter) for getter, setter in _global_state()]
    outcome = _Outcome()

    def work():
        try:
            with torch.random.fork_rng(devices=[]), torch.no_grad():
                value = function(*args, **kwargs)
            if inspect.iscoroutine(value):
                value.close()  # never awaited, and no warning that it was not
            outcome.value = value.detach() if isinstance(value, torch.Tensor) else value
        # The learner's code: whatever it raises is reported in words, never re-raised.
        except BaseException as error:  # noqa: BLE001
            outcome.error = error
        finally:
            _end_thread_state()

    context = contextvars.copy_context()  # so that a notebook's output goes to its cell
    thread = threading.Thread(target=context.run, args=(work,), name="exercise check")
    thread.start()
    thread.join()
    for state, setter in saved:
        with contextlib.suppress(Exception):
            setter(state)
    return outcome


def _end_thread_state():
    """Undo the per-thread settings that torch cannot drop when a thread ends."""
    with contextlib.suppress(Exception):
        torch.set_default_device(None)
    while torch._C._len_torch_function_stack():
        torch._C._pop_torch_function_stack()


def _instructions(code):
    """What ``code`` does, as (operation, argument) pairs; a docstring or comment adds none."""
    return [(instruction.opname, instruction.argval) for instruction in dis.get_instructions(code)]


def _stub():
    raise NotImplementedError


def _stub_called():
    raise NotImplementedError()


# The instructions of a stub, in this Python's bytecode, with or without the ().
_STUBS = [_instructions(stub.__code__) for stub in (_stub, _stub_called)]


def _is_stub(function):
    """True when ``function``'s whole body is ``raise NotImplementedError`` (and a docstring).

    Read from the bytecode, so it needs no source file: any other statement (an
    ``if``, a computation) adds instructions, and the function is the learner's
    attempt, whose NotImplementedError is reported like any error.
    """
    code = getattr(function, "__code__", None)
    return code is not None and _instructions(code) in _STUBS


def _unwrapped(answer):
    """The Python functions behind ``answer`` (a partial, a bound method, a callable object)."""
    found, todo = [], [answer]
    for _ in range(16):  # a wrapper of a wrapper of ...: a few levels are enough
        if not todo:
            break
        item = todo.pop()
        if isinstance(item, types.FunctionType):
            found.append(item)
        elif isinstance(item, functools.partial):
            todo.append(item.func)
        elif isinstance(item, types.MethodType):
            todo.append(item.__func__)
        elif callable(item) and not isinstance(item, type):
            todo.append(type(item).__call__)
        wrapped = getattr(item, "__wrapped__", None)
        if wrapped is not None:
            todo.append(wrapped)
    return found


def _what(answer):
    """How a message names the learner's function: `name`, or what it is."""
    for function in _unwrapped(answer):
        if function.__name__ == "<lambda>":
            return "your lambda"
        if function.__name__ != "__call__":
            return f"`{function.__name__}`"
    return "your function"


def _swapped_loss(exercise, answer):
    """While active, the loss and what carries it are replaced by a different function.

    Replaced wherever the answer can reach them: global names (also a loss
    defined again under its own name), the ``loss`` of any exercise among those
    globals, and the cells of the answer's closures. Yields nothing.
    """
    objects, names = exercise._loss_objects, exercise._loss_names

    def is_loss(value, name=None):
        return any(value is item for item in objects) or (
            name in names and isinstance(value, types.FunctionType)
        )

    functions = _unwrapped(answer)
    namespaces = {id(f.__globals__): f.__globals__ for f in functions}
    if isinstance(getattr(exercise.loss, "__globals__", None), dict):
        namespaces[id(exercise.loss.__globals__)] = exercise.loss.__globals__
    undo = []

    def replace(owner, set_value, value):
        other = _other_loss(value)
        set_value(owner, other)
        undo.append((owner, set_value, value))

    for namespace in namespaces.values():
        for name, value in list(namespace.items()):
            if is_loss(value, name):
                replace(namespace, functools.partial(_set_item, key=name), value)
            elif isinstance(value, Exercise) and is_loss(value.loss):
                replace(value, _set_loss, value.loss)
    if is_loss(exercise.loss):
        replace(exercise, _set_loss, exercise.loss)
    for function in functions:
        for cell in function.__closure__ or ():
            with contextlib.suppress(ValueError):  # an empty cell
                if is_loss(cell.cell_contents):
                    replace(cell, _set_cell, cell.cell_contents)
    return _Undo(undo)


def _set_item(namespace, value, key):
    namespace[key] = value


def _set_loss(exercise, value):
    exercise.loss = value


def _set_cell(cell, value):
    cell.cell_contents = value


class _Undo:
    """Puts back what ``_swapped_loss`` replaced, whatever the answer did meanwhile."""

    def __init__(self, undo):
        self.undo = undo

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for owner, set_value, value in reversed(self.undo):
            set_value(owner, value)
        return False


def _other_loss(loss):
    """A function that differs from ``loss`` in value and in every derivative."""

    @functools.wraps(loss)
    def other(*args, **kwargs):
        value = loss(*args, **kwargs)
        if not isinstance(value, torch.Tensor):
            return value
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
        return 2 * value + 1 + sum(t.sum() for t in tensors)

    return other


def _depends_on_the_loss(exercise, answer, outcomes):
    """True when ``answer`` returns something else once the loss is another function."""
    with (
        _swapped_loss(exercise, answer),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        again = [_call(answer, **case) for case in _copies(exercise._inputs)]
    return any(
        isinstance(other.value, torch.Tensor) and not _close(other.value, outcome.value)
        for outcome, other in zip(outcomes, again, strict=True)
    )


# --- Judging -----------------------------------------------------------------------------------


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
    tracked = [key for case in cases for key, value in case.items() if value.requires_grad]
    if tracked:
        return Verdict(
            False,
            f"{name}: {function} switches autograd on for {tracked[0]} (requires_grad), "
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


def _compare(got, expected, cases, wrt, sizes, factors, hint=""):
    """None when ``got`` matches ``expected`` on every case, else (report, slips) in words."""
    count = len(cases)
    wrong = [
        number
        for number, (g, e) in enumerate(zip(got, expected, strict=True), 1)
        if not _close(g, e)
    ]
    if not wrong:
        return None
    slips = _slips(got, expected, sizes, factors)
    first = wrong[0] - 1
    where = f"on case {first + 1} of {count} ({_describe(cases[first])})"
    report = _difference(got[first], expected[first], wrt, where)
    report += f" It is wrong on {len(wrong)} of the {count} cases."
    if slips:
        diagnosis = " Or: ".join(_SLIP_WORDS[slip] for slip in slips)
        label = "Diagnosis" if len(slips) == 1 else "These slips fit every case alike"
        report += f"\n{label}: {diagnosis}"
    elif hint:
        report += f"\nHint: {hint}"
    return report, slips


def _n(case):
    """N for a FunctionExercise's case: the first dimension of its first input."""
    first = next(iter(case.values()))
    return first.shape[0] if first.dim() else 1


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
    return tuple(
        slip for slip, test in _LAST_RESORT.items() if all(test(g, e) for g, e, _, _ in cases)
    )[:1]


# --- Words ---------------------------------------------------------------------------------------


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
    if inspect.iscoroutine(value):
        return "a coroutine (from an `async def`)"
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


def _problem(got, expected, function="your function"):
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
        return f"your gradient holds {got[index].item()} at index {index}"
    return None


def _index(flat, shape):
    """The position of flat index ``flat`` in a tensor of ``shape``, as a tuple."""
    return tuple(int(i) for i in torch.unravel_index(flat, tuple(shape)))


# --- A learner's own torch.autograd.Function -----------------------------------------------------


@dataclass
class FunctionExercise:
    """A ``torch.autograd.Function`` for the learner to write.

    ``reference`` computes what the Function's forward must return, from
    keyword arguments; each case in ``cases`` gives them (their order is the
    order of ``apply``'s arguments), copied to float64. Each input's gradient
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
                leaves = {key: value.clone().requires_grad_() for key, value in case.items()}
                output = self.reference(**leaves)
                generator = torch.Generator().manual_seed(number)
                upstream = torch.randn(output.shape, generator=generator, dtype=torch.float64)
                gradients = torch.autograd.grad(output, list(leaves.values()), upstream)
            self._outputs.append(output.detach())
            self._upstream.append(upstream)
            self._gradients.append([gradient.detach() for gradient in gradients])

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
            exercise, function_class, FunctionExercise, "check_autograd_function", "your class"
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
        )
    count = len(exercise._inputs)
    got = [[] for _ in names]
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
        output, gradients, error = outcome.value
        problem = _problem(output, exercise._outputs[number], f"`{cls}.forward`")
        if problem:
            return Verdict(False, f"{name}: the forward: {problem} ({where}).", slips=("type",))
        if not _close(output, exercise._outputs[number]):
            report = _difference(output, exercise._outputs[number], "the output", where)
            report = report.replace("a gradient of shape", "an output of shape").replace(
                ": a gradient has the shape of what it is taken with respect to.", "."
            )
            return Verdict(
                False,
                f"{name}: not yet. The forward is wrong: {report} Fix the forward first, "
                "then the backward.",
                slips=("forward",),
            )
        if error is not None:
            return Verdict(
                False,
                f"{name}: the forward is right, but `{cls}.backward` raised "
                f"{_error_words(error)}, {where}. {called}",
                slips=("raised",),
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
            problem = _problem(gradient, expected, f"`{cls}.backward`")
            if problem:
                return Verdict(
                    False,
                    f"{name}: the gradient for {key}: {problem} ({where}).",
                    slips=("type",),
                )
            slot.append(gradient)
    sizes = [_n(case) for case in exercise._inputs]
    no_factors = [[] for _ in exercise._inputs]
    found = {
        key: _compare(
            gradients, list(expected), exercise._inputs, key, sizes, no_factors, exercise.hint
        )
        for key, gradients, expected in zip(
            names, got, zip(*exercise._gradients, strict=True), strict=True
        )
    }
    wrong = [key for key in names if found[key]]
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


def _forward_and_backward(function_class, case, upstream):
    """The output of ``function_class.apply`` on ``case``, what its backward returns or raises.

    The backward is called as autograd calls it, with the node as its context,
    but directly, so that its gradients are seen as returned, before autograd
    would check or reshape them.
    """
    with torch.enable_grad():
        leaves = [value.requires_grad_() for value in case.values()]
        output = function_class.apply(*leaves)
    if not isinstance(output, torch.Tensor) or output.grad_fn is None:
        return output, (), None
    try:
        gradients = output.grad_fn.apply(upstream.clone())
    # Reported once the forward is known to be right.
    except Exception as error:  # noqa: BLE001
        return output.detach(), (), error
    if isinstance(gradients, tuple):
        gradients = tuple(g.detach() if isinstance(g, torch.Tensor) else g for g in gradients)
    elif isinstance(gradients, torch.Tensor):
        gradients = gradients.detach()
    return output.detach(), gradients, None


def _gradcheck(exercise, function_class):
    name, count = exercise.name, len(exercise._inputs)
    for number, case in enumerate(_copies(exercise._inputs)):

        def check(case=case):
            leaves = [value.requires_grad_() for value in case.values()]
            with torch.enable_grad():
                return torch.autograd.gradcheck(function_class.apply, leaves, raise_exception=True)

        outcome = _call(check)
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
