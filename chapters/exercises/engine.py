"""The checks of a learner's scalar autograd engine (page 1.2), in plain words.

Page 1.2 builds a ``Value``: a number ``data``, a gradient ``grad``, the values it was
computed from, ``inputs``, and ``local_rule``, a function that takes the gradient of the
output and returns one contribution per input. Three kinds of exercise are checked here:

- ``OperationExercise`` / ``check_operation``: a learner's operation (its value, its inputs
  and its local rule) against autograd's derivative;
- ``WalkExercise`` / ``check_walk``: a learner's ``backward(output)`` on graphs with reused
  values, called twice on the same graph, against autograd; the mistakes named are a
  gradient assigned instead of added, a node visited before its users are done, the output's
  gradient not set to 1 at the start, and gradients left over from an earlier call;
- ``ExpressionExercise`` / ``check_input_gradients``: every input's gradient of a small
  expression, written by hand, against autograd.

The learner's code runs in a thread of its own with a time limit; a walk that never ends,
recursion past the limit, an exception, a value of the wrong kind or the stop button each
becomes one sentence, never a traceback. The checks build their own ``Value``s, so the
page's values are never touched; the ``Value`` class, the recursion limit and the
process-wide settings that ``running`` restores after any learner's code are put back as
they were. Importing it has no side effects.
"""

import contextvars
import functools
import inspect
import math
import numbers
import threading
from dataclasses import dataclass

import torch

from .running import (
    _guarded,
    _is_stub,
    _Outcome,
    _put_back,
    _taken,
    _TimeUp,
    _wait,
    _what,
)
from .words import HOW_TO_START_IN_THE_BOOK, Verdict, _error_words, _how_to_start

__all__ = [
    "ExpressionExercise",
    "OperationExercise",
    "WalkExercise",
    "check_input_gradients",
    "check_operation",
    "check_walk",
]

TIME_LIMIT = 2.0  # seconds a learner's function may run
RTOL, ATOL = 1e-6, 1e-8
UPSTREAM = (1.0, -2.5, 0.5, 3.0)  # the gradients from above an operation, one per case


# --- Running the learner's code -------------------------------------------------------------


class _TimeLimit(Exception):
    """The error of a call stopped at the time limit."""


ADVICE = "Build what the exercise asks for from plain numbers and the page's Value."


def _guard(check):
    """``check``, made one that never raises on a learner's answer: an interrupt (the stop
    button), or anything the answer does that the check did not foresee, becomes a sentence.
    The page's own reference solution (``must_pass=True``) still stops the page with an
    AssertionError."""

    @functools.wraps(check)
    def guarded(exercise, answer, must_pass=False):
        if must_pass:
            return check(exercise, answer, must_pass=True)
        return _guarded(check, exercise, answer, advice=ADVICE)

    return guarded


def _run(function, *args, value_class=None):
    """``function(*args)`` in its own thread, stopped after ``TIME_LIMIT``; raises only
    ``_Interrupted``, on an interrupt (the stop button), which the checks' guard turns into
    a sentence."""
    saved_class = dict(vars(value_class)) if value_class is not None else None
    saved = _taken()
    outcome = _Outcome()

    def work():
        try:
            with torch.no_grad():
                outcome.value = function(*args)
        # The learner's code: whatever it raises is reported in words, never re-raised.
        except BaseException as error:  # noqa: BLE001
            outcome.error = error
        finally:
            outcome.finished.set()

    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True)
    try:
        thread.start()
        _wait(thread, outcome.finished, TIME_LIMIT)
    except _TimeUp:
        outcome.error = _TimeLimit()
    finally:
        _put_back(saved)
        if saved_class is not None:
            _restore_class(value_class, saved_class)
    return outcome


def _restore_class(value_class, saved):
    for name in set(vars(value_class)) - set(saved):
        delattr(value_class, name)
    for name, attribute in saved.items():
        # a class's own `__dict__` never changes (assigning it raises), so it is never set
        if vars(value_class).get(name) is not attribute:
            setattr(value_class, name, attribute)


def _error_sentence(name, what, error):
    if isinstance(error, _TimeLimit):
        return (
            f"{name}: your {what} did not finish within {TIME_LIMIT:g} seconds: a walk that "
            "never ends (a loop whose condition stays true, or nodes visited again and again?)."
        )
    if isinstance(error, RecursionError):
        return (
            f"{name}: your {what} called itself more deeply than Python allows (recursion past "
            "the limit): does it remember which nodes it has already visited?"
        )
    if isinstance(error, NotImplementedError):
        return (
            f"{name}: your {what} still raises NotImplementedError: replace that line with "
            "your code, run its cell, then run this check again."
        )
    return f"{name}: your {what} raised {_error_words(error)}."


def _number(value):
    """``value`` as a float if it is a plain real number (or a one-element tensor), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach().reshape(()))
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def _kind(value):
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if value is None:
        return "None"
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'aeiouAEIOU' else 'a'} {kind}"


def _close(got, expected):
    return abs(got - expected) <= ATOL + RTOL * abs(expected)


def _all_close(got, expected):
    return len(got) == len(expected) and all(map(_close, got, expected))


def _fmt(v):
    return f"{v:.6g}".replace("-", "−")


def _not_attempted(name, answer, must_pass):
    message = f"{name}: not attempted yet. {_how_to_start(_what(answer))}"
    verdict = Verdict(False, message, slips=("not attempted",), book_only=HOW_TO_START_IN_THE_BOOK)
    if must_pass:
        raise AssertionError(verdict.message)
    return verdict


def _passed(name, must_pass, message, count, what):
    if must_pass:
        return Verdict(
            True, f"{name}: the reference solution matches autograd on all {count} {what}."
        )
    return Verdict(True, message)


def _failed(message, slips, must_pass):
    if must_pass:
        raise AssertionError(message)
    return Verdict(False, message, slips=slips)


def _autograd(expression, values):
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    with torch.enable_grad():
        output = expression(*leaves)
        grads = torch.autograd.grad(output, leaves, materialize_grads=True)
    return [float(g) for g in grads]


# --- An operation's local rule --------------------------------------------------------------


@dataclass
class OperationExercise:
    """An operation of one input for the learner to write: ``reference`` is PyTorch's (such
    as ``torch.sqrt``), ``from_output`` its derivative written in terms of its output (so
    that plugging the input in is the mistake to name), ``inputs`` the numbers to try."""

    name: str
    value_class: type
    reference: object
    inputs: list
    from_output: object = None
    hint: str = ""


@_guard
def check_operation(exercise, operation, must_pass=False):
    """Run ``operation(a)`` on fresh values; compare its value and local rule with autograd."""
    name, Value = exercise.name, exercise.value_class
    if _is_stub(operation):
        return _not_attempted(name, operation, must_pass)
    cases = []  # per input: a, g, the learner's contribution, autograd's
    for number, v in enumerate(exercise.inputs):
        g = UPSTREAM[number % len(UPSTREAM)]
        a = Value(v)
        outcome = _run(operation, a, value_class=Value)
        if outcome.error is not None:
            return _failed(
                _error_sentence(name, "operation", outcome.error), ("error",), must_pass
            )
        out = outcome.value
        if not isinstance(out, Value):
            return _failed(
                f"{name}: your operation returns {_kind(out)}, not a Value: make "
                "out = Value(number, (a,), name), set out.local_rule, and return out.",
                ("wrong kind",),
                must_pass,
            )
        value = float(exercise.reference(torch.tensor(v, dtype=torch.float64)))
        if _number(out.data) is None or not _close(_number(out.data), value):
            return _failed(
                f"{name}: for a = {_fmt(v)} your Value holds {out.data!r}, but the operation "
                f"gives {_fmt(value)}.",
                ("value",),
                must_pass,
            )
        if tuple(getattr(out, "inputs", ())) != (a,):
            return _failed(
                f"{name}: the Value you return must record its input: inputs should be (a,).",
                ("inputs",),
                must_pass,
            )
        rule = getattr(out, "local_rule", None)
        if not callable(rule):
            return _failed(
                f"{name}: the Value you return has no local rule: set out.local_rule to a "
                "function of g.",
                ("no rule",),
                must_pass,
            )
        outcome = _run(rule, g, value_class=Value)
        if outcome.error is not None:
            return _failed(
                _error_sentence(name, "local rule", outcome.error), ("error",), must_pass
            )
        result = outcome.value
        if not isinstance(result, (tuple, list)) or len(result) != 1 or _number(result[0]) is None:
            return _failed(
                f"{name}: your local rule returns {_kind(result)}; it must return one number per "
                "input, as a tuple: (contribution,).",
                ("wrong kind",),
                must_pass,
            )
        (derivative,) = _autograd(exercise.reference, [v])
        cases.append((v, g, _number(result[0]), g * derivative))
    got, expected = [x for _, _, x, _ in cases], [e for _, _, _, e in cases]
    if _all_close(got, expected):
        count = len(cases)
        return _passed(name, must_pass, f"{name}: correct on all {count} inputs.", count, "inputs")
    slips = []
    if exercise.from_output is not None and _all_close(
        got, [g * exercise.from_output(v) for v, g, _, _ in cases]
    ):
        slips.append(("input for output", "you used the input where the output was needed"))
    if _all_close(got, [e / g for _, g, _, e in cases]):
        slips.append(("no upstream", "the gradient from above, g, is not multiplied in"))
    if _all_close(got, [-e for e in expected]):
        slips.append(("sign", "the sign is flipped"))
    v, g, x, e = next(case for case in cases if not _close(case[2], case[3]))
    message = (
        f"{name}: for a = {_fmt(v)} and g = {_fmt(g)} your rule hands a {_fmt(x)}, but it "
        f"should receive {_fmt(e)}."
    )
    if slips:
        message += " It looks as if " + " and ".join(words for _, words in slips) + "."
    elif exercise.hint:
        message += f" Hint: {exercise.hint}"
    return _failed(message, tuple(slip for slip, _ in slips), must_pass)


# --- The backward() walk --------------------------------------------------------------------


@dataclass
class WalkExercise:
    """A learner's ``backward(output)``, run on ``expressions``: (function of the leaves,
    the leaves' numbers) pairs, each using only operations that tensors have too."""

    name: str
    value_class: type
    expressions: list
    hint: str = ""


def _order(output):
    order, seen, stack = [], set(), [(output, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((a, False) for a in reversed(node.inputs))  # a seen one is skipped
    return order


def _contributions(node):
    return zip(node.inputs, node.local_rule(node.grad), strict=True)


def _walk(output, seed=True, add=True, reverse=True):
    """The right walk, or one with a mistake: no seed, = for +=, forward order.

    It runs on graphs just built, whose gradients are all 0 (the page's ``Value``
    starts them so), so it sets no gradient to 0 first: called twice, it leaves
    the second call the gradients of the first, as a walk that never resets them.
    """
    order = _order(output)
    if seed:
        output.grad = 1.0
    for node in reversed(order) if reverse else order:
        if node.inputs:
            for a, contribution in _contributions(node):
                a.grad = a.grad + contribution if add else contribution


def _recursive(output):
    """A plain recursion: each node passes its gradient on each time one of its users reports
    (on a graph just built, like ``_walk``)."""
    output.grad = 1.0

    def push(node):
        for a, contribution in _contributions(node) if node.inputs else ():
            a.grad += contribution
            push(a)

    push(output)


WALK_SLIPS = {  # a mistaken walk: what it does, and the words that name it
    "assigned": (
        lambda out: _walk(out, add=False),
        "a gradient is assigned instead of added: a value used twice must receive the sum of "
        "its contributions (+=, not =)",
    ),
    "order": (
        _recursive,
        "a node is visited before its users are done: it passes its gradient on before every "
        "use has added its contribution (visit the nodes in reverse topological order)",
    ),
    "forward order": (
        lambda out: _walk(out, reverse=False),
        "a node is visited before its users are done: the nodes are visited in forward order, "
        "not in reverse",
    ),
    "not seeded": (
        lambda out: _walk(out, seed=False),
        "the output's gradient is not set to 1 at the start: ∂L/∂L = 1 starts the walk",
    ),
}


@_guard
def check_walk(exercise, walk, must_pass=False):
    """Run ``walk(output)`` on each expression, twice on the same graph; name the mistake."""
    name, Value = exercise.name, exercise.value_class
    if _is_stub(walk):
        return _not_attempted(name, walk, must_pass)
    results = []  # per expression: (learner's leaf gradients, autograd's, the expression)
    for build, values in exercise.expressions:
        leaves = [Value(v) for v in values]
        output = build(*leaves)
        outcome = _run(walk, output, value_class=Value)
        if outcome.error is not None:
            return _failed(
                _error_sentence(name, "backward()", outcome.error), ("error",), must_pass
            )
        got = []
        for position, leaf in enumerate(leaves):
            number = _number(leaf.grad)
            if number is None:
                return _failed(
                    f"{name}: after your backward(), the gradient of input {position + 1} holds "
                    f"{_kind(leaf.grad)}, not a number: each .grad must stay a plain number.",
                    ("wrong kind",),
                    must_pass,
                )
            got.append(number)
        expected = _autograd(build, values)
        results.append((got, expected, build, values, leaves, output))
    wrong = [r for r in results if not _all_close(r[0], r[1])]
    if wrong:
        return _failed(
            _walk_message(name, exercise, results, wrong[0]), _named(results), must_pass
        )
    for _, expected, build, values, leaves, output in results:
        outcome = _run(walk, output, value_class=Value)
        if outcome.error is not None:
            return _failed(
                _error_sentence(name, "backward()", outcome.error), ("error",), must_pass
            )
        second = [_number(leaf.grad) for leaf in leaves]
        if None in second:
            return _failed(
                f"{name}: after a second backward(), a gradient is no longer a plain number.",
                ("wrong kind",),
                must_pass,
            )
        if _all_close(second, [2 * e for e in expected]):
            continue
        if _all_close(second, expected):
            return _failed(
                f"{name}: a second backward() on the same graph should add to the inputs' "
                "gradients, as PyTorch's .grad does, but yours starts them from 0 again: reset "
                "only the values in between.",
                ("leaves reset",),
                must_pass,
            )
        fresh = [Value(v) for v in values]
        fresh_output = build(*fresh)
        _walk(fresh_output)
        _walk(fresh_output)  # the gradients of the first walk left over
        if _all_close(second, [leaf.grad for leaf in fresh]):
            return _failed(
                f"{name}: gradients are left over from an earlier call: a second backward() "
                f"gives the inputs {', '.join(map(_fmt, second))} instead of twice autograd's "
                f"{', '.join(_fmt(2 * e) for e in expected)}. Start the gradients of the values "
                "in between from 0 at each call.",
                ("left over",),
                must_pass,
            )
        return _failed(
            f"{name}: a second backward() on the same graph gives the inputs "
            f"{', '.join(map(_fmt, second))}, not twice autograd's "
            f"{', '.join(_fmt(2 * e) for e in expected)}.",
            ("twice",),
            must_pass,
        )
    count = len(results)
    message = f"{name}: correct on all {count} graphs, called twice on each."
    return _passed(name, must_pass, message, count, "graphs")


def _slip_result(slip, build, values, Value):
    leaves = [Value(v) for v in values]
    output = build(*leaves)
    WALK_SLIPS[slip][0](output)
    return [leaf.grad for leaf in leaves]


def _named(results):
    """The slips whose walk gives the learner's gradients on every expression."""
    named = []
    for slip in WALK_SLIPS:
        Value = type(results[0][5])
        if all(_all_close(got, _slip_result(slip, b, v, Value)) for got, _, b, v, *_ in results):
            named.append(slip)
    if "order" in named and "forward order" in named:
        named.remove("forward order")
    return tuple(named)


def _walk_message(name, exercise, results, first):
    got, expected, _, values, *_ = first
    message = (
        f"{name}: for inputs {', '.join(map(_fmt, values))} your backward() gives the gradients "
        f"{', '.join(map(_fmt, got))}, autograd {', '.join(map(_fmt, expected))}."
    )
    slips = _named(results)
    if slips:
        words = "; or ".join(WALK_SLIPS[s][1] for s in slips)
        return message + f" It looks as if {words}."
    return message + (f" Hint: {exercise.hint}" if exercise.hint else "")


# --- Every input's gradient, by hand --------------------------------------------------------


@dataclass
class ExpressionExercise:
    """An expression of a few numbers; the learner returns every input's gradient."""

    name: str
    expression: object
    cases: list
    hint: str = ""


@_guard
def check_input_gradients(exercise, answer, must_pass=False):
    """Call ``answer(*numbers)`` on each case; compare each returned number with autograd."""
    name = exercise.name
    if _is_stub(answer):
        return _not_attempted(name, answer, must_pass)
    names = list(inspect.signature(exercise.expression).parameters)
    for values in exercise.cases:
        outcome = _run(answer, *values)
        if outcome.error is not None:
            return _failed(_error_sentence(name, "function", outcome.error), ("error",), must_pass)
        result = outcome.value
        numbers_ = [_number(v) for v in result] if isinstance(result, (tuple, list)) else None
        if numbers_ is None or len(numbers_) != len(names) or None in numbers_:
            return _failed(
                f"{name}: your function returns {_kind(result)}; return {len(names)} numbers, "
                f"one per input, as a tuple: ({', '.join('dL_d' + n for n in names)}).",
                ("wrong kind",),
                must_pass,
            )
        expected = _autograd(exercise.expression, values)
        for n, g, e in zip(names, numbers_, expected, strict=True):
            if not _close(g, e):
                where = ", ".join(f"{k} = {_fmt(v)}" for k, v in zip(names, values, strict=True))
                message = f"{name}: at {where}, your ∂L/∂{n} is {_fmt(g)}, autograd's {_fmt(e)}."
                if math.isclose(g, -e, rel_tol=RTOL, abs_tol=ATOL):
                    message += " The sign is flipped."
                elif exercise.hint:
                    message += f" Hint: {exercise.hint}"
                return _failed(message, ("wrong",), must_pass)
    count = len(exercise.cases)
    message = f"{name}: every gradient correct on all {count} cases."
    return _passed(name, must_pass, message, count, "cases")
