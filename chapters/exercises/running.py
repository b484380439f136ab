"""Running a learner's answer: in a thread of its own, the process-wide settings put back."""

import contextvars
import dis
import functools
import inspect
import threading
import types

import torch


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
            outcome.value = value
        # The learner's code: whatever it raises is reported in words, never re-raised.
        except BaseException as error:  # noqa: BLE001
            outcome.error = error
        finally:
            _end_thread_state()

    context = contextvars.copy_context()  # so that a notebook's output goes to its cell
    thread = threading.Thread(target=context.run, args=(work,))
    thread.start()
    thread.join()
    for state, setter in saved:
        setter(state)
    return outcome


def _end_thread_state():
    """Undo the per-thread settings that torch cannot drop when a thread ends."""
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
        elif callable(item):  # an object with __call__ (a class leads nowhere: type.__call__)
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
