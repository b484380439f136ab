"""Provenance: is an answer computer-made? The second run with another loss."""

import contextlib
import dis
import functools
import io
import types
import warnings

import torch

from .cases import _copies
from .catalogue import _close
from .running import _call, _unwrapped


def _global_names(code):
    """The global names ``code`` (and the functions defined in it) looks up."""
    names = {
        instruction.argval
        for instruction in dis.get_instructions(code)
        if instruction.opname == "LOAD_GLOBAL"
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
    objects = [loss]
    namespace = getattr(loss, "__globals__", None)
    if not isinstance(namespace, dict):
        return objects, frozenset()
    names = {name for name, value in namespace.items() if value is loss}
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
        return helper(*args, **kwargs).detach()

    namespace[name] = cut
    try:
        with torch.enable_grad():
            leaves = {
                key: value.clone().requires_grad_(value.is_floating_point())
                for key, value in case.items()
            }
            return not loss(**leaves).requires_grad
    # A helper that returns no tensor (a size, say) carries nothing.
    except Exception:  # noqa: BLE001
        return False
    finally:
        namespace[name] = helper


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
    # A namespace listed twice is swapped twice, and put back twice, in reverse order.
    namespaces = [f.__globals__ for f in functions]
    if isinstance(getattr(exercise.loss, "__globals__", None), dict):
        namespaces.append(exercise.loss.__globals__)
    undo = []

    def replace(owner, set_value, value):
        other = _other_loss(value)
        set_value(owner, other)
        undo.append((owner, set_value, value))

    for namespace in namespaces:
        for name, value in list(namespace.items()):
            if is_loss(value, name):
                replace(namespace, functools.partial(_set_item, key=name), value)
            elif isinstance(value, type(exercise)) and is_loss(value.loss):
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


def _quietly():
    """What the learner's code prints or warns on the checker's extra runs is not shown."""
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def _differs(outcome, other):
    return isinstance(other.value, torch.Tensor) and not (
        isinstance(outcome.value, torch.Tensor) and _close(other.value, outcome.value)
    )


def _provenance(exercise, answer, outcomes):
    """Where ``answer``'s gradient comes from, told by running it again.

    ``("autograd", None)`` when it returns something else once the loss is
    another function (the second run), and the same again with the loss put back
    (a third run): it follows the loss. ``("run to run", number)`` when the third
    run, with the same inputs and loss as the first, differs from it on case
    ``number``: the answer keeps state between calls (a total, a counter, random
    numbers), and its second run told nothing about the loss. ``(None, None)``
    when the second run returns what the first did.
    """
    with _quietly():
        with _swapped_loss(exercise, answer):
            again = [_call(answer, **case) for case in _copies(exercise._inputs)]
        if not any(_differs(o, a) for o, a in zip(outcomes, again, strict=True)):
            return None, None
        third = [_call(answer, **case) for case in _copies(exercise._inputs)]
    for number, (outcome, other) in enumerate(zip(outcomes, third, strict=True), 1):
        if not isinstance(other.value, torch.Tensor) or _differs(outcome, other):
            return "run to run", number
    return "autograd", None
