"""Running a learner's code: in a thread of its own, with a time limit, everything put back.

``_call`` runs one call of the learner's code in a daemon thread and waits for it
at most ``TIME_LIMIT`` seconds; an interrupt (Jupyter's stop button) while it
waits, or the time running out, stops the check with ``_Stopped``, which
``_guarded`` turns into a sentence. The thread is then stopped if it can be (an
exception raised in it), else abandoned, and the learner is told which.

Whatever way the call ends, what the learner's code can change for later cells
is put back (``_Saved``): torch's process-wide settings, the working directory,
the standard streams, the recursion limit, the warning filters, the print
options, the float32 matmul precision, functions rebound in torch, NumPy and
builtins, functions and classes rebound or deleted in the learner's own notebook
namespace; threads the code started and left running are stopped where they can be. What
cannot be put back is listed in docs/checker.md.

While it runs, ``_Precision`` watches the dtypes its torch operations take and
make: one rule for every exercise (see ``_lowers``).
"""

import builtins
import contextlib
import contextvars
import ctypes
import dis
import functools
import inspect
import os
import sys
import threading
import time
import types
import warnings

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from .words import Verdict, _error_words

TIME_LIMIT = 10.0  # seconds one call of the learner's code may take
STOP_GRACE = 0.5  # seconds a stopped thread is given to end
_STEP = 0.05  # seconds between two looks at the thread (so that an interrupt is seen)
_LOW = (torch.float32, torch.float16, torch.bfloat16)
# CPython's PyThreadState_SetAsyncExc(thread id, exception class), its arguments declared (on a
# prototype of our own, not on ctypes.pythonapi's shared one), so that a call of the wrong shape
# raises a TypeError instead of crashing the interpreter
_set_async_exc = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)(
    ("PyThreadState_SetAsyncExc", ctypes.pythonapi)
)


class _Outcome:
    """One call of the learner's code: what it returned or raised, and whether it went
    through float32 (``lowered``, set however the call ends, before ``_call`` returns it).
    ``finished`` is set as the call's thread ends."""

    def __init__(self, value=None, error=None):
        self.value, self.error = value, error
        self.finished = threading.Event()


class _Stopped(Exception):
    """The check stopped waiting for the learner's code; ``ended`` tells whether the code's
    thread was stopped too. Never shown: ``_guarded`` turns it into a sentence."""

    def __init__(self, ended):
        self.ended = ended


class _TimeUp(_Stopped):
    """The learner's code ran past the time limit."""


class _Interrupted(_Stopped):
    """An interrupt (Jupyter's stop button, Ctrl+C) came while the learner's code ran."""


class _Abandoned(SystemExit):
    """Raised inside a runaway thread of the learner's code to stop it (a SystemExit, so
    that the thread ends without a traceback, and no `except Exception` catches it)."""


def _global_state():
    """The process-wide settings a learner's code can change, as (getter, setter) pairs."""
    return [
        (torch.get_default_dtype, torch.set_default_dtype),
        # torch's random generator (the CPU's): each call starts from the same state
        (torch.random.get_rng_state, torch.random.set_rng_state),
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
        (torch.get_float32_matmul_precision, torch.set_float32_matmul_precision),
        (sys.getrecursionlimit, sys.setrecursionlimit),
        (lambda: (sys.stdout, sys.stderr, sys.stdin), _set_streams),
        (lambda: (warnings.filters[:], warnings.showwarning), _set_warnings),
        (_print_options, _set_print_options),
        (_working_directory, os.chdir),  # None, or a directory removed since: it stays
    ]


def _set_streams(streams):
    sys.stdout, sys.stderr, sys.stdin = streams


def _set_warnings(state):
    warnings.filters[:], warnings.showwarning = state
    warnings._filters_mutated()


def _print_options():
    """torch's print options. NumPy's need no saving: the NumPy that requirements.txt
    installs (2.x) keeps them in a context variable, and the learner's code runs in a copy
    of the caller's context, so its change never reaches the caller."""
    return dict(vars(torch._tensor_str.PRINT_OPTS))


def _set_print_options(options):
    vars(torch._tensor_str.PRINT_OPTS).update(options)


def _working_directory():
    with contextlib.suppress(OSError):  # a directory removed under the kernel has no name
        return os.getcwd()
    return None


def _taken():
    """Each setting of ``_global_state()`` as it is now, with its setter, for ``_put_back``."""
    return [(getter(), setter) for getter, setter in _global_state()]


def _put_back(settings):
    """Put back each (state, setter) pair of ``settings``, from ``_taken()``."""
    for state, setter in settings:
        with contextlib.suppress(Exception):  # a setting that cannot be put back stays
            setter(state)


def _shared_objects():
    """The modules and classes whose functions a learner's code could replace for everyone."""
    objects = [builtins, torch, torch.Tensor, torch._C.TensorBase, torch.nn.functional]
    objects += [torch.linalg, torch.special, torch.testing, torch.autograd]
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        objects += [numpy, numpy.random, numpy.linalg, numpy.testing]
    return objects


def _replaceable(value):
    """What is put back when rebound: functions and classes (not data, not modules)."""
    return callable(value) and not isinstance(value, types.ModuleType)


def _learner_namespaces(function, args):
    """The global namespaces of the learner's code: ``function``'s and its class arguments'."""
    functions = _unwrapped(function)
    for argument in args:
        if isinstance(argument, type):
            functions += [f for f in vars(argument).values() if isinstance(f, types.FunctionType)]
            functions += [
                f.__func__ for f in vars(argument).values() if isinstance(f, staticmethod)
            ]
    namespaces = []
    for f in functions:
        if not any(f.__globals__ is n for n in namespaces):
            namespaces.append(f.__globals__)
    # The checker's own functions (the forward-and-backward run) are not the learner's.
    return [n for n in namespaces if n.get("__package__") != __package__]


class _Saved:
    """Everything a learner's call could change for later cells, to put back."""

    def __init__(self, function, args):
        self.settings = _taken()
        self.objects = [(obj, dict(vars(obj))) for obj in _shared_objects()]
        self.namespaces = [(n, dict(n)) for n in _learner_namespaces(function, args)]
        self.threads = set(threading.enumerate())

    def restore(self):
        _put_back(self.settings)
        for obj, saved in self.objects:
            for name, value in list(vars(obj).items()):
                if name in saved and saved[name] is not value and _replaceable(saved[name]):
                    with contextlib.suppress(Exception):
                        setattr(obj, name, saved[name])
                elif name not in saved and isinstance(obj, type):
                    with contextlib.suppress(Exception):  # an override added to a class
                        delattr(obj, name)
        for namespace, saved in self.namespaces:
            for name, value in saved.items():  # rebound or deleted: each is put back as it was
                if _replaceable(value):
                    namespace[name] = value
        for thread in set(threading.enumerate()) - self.threads:
            if self._learners(thread):  # a background thread the learner's code left running
                _raise_in(thread)

    def _learners(self, thread):
        """True when ``thread`` runs the learner's code (its target, or its class's run)."""
        target = vars(thread).get("_target") or type(thread).run
        return any(
            function.__globals__ is namespace
            for function in _unwrapped(target)
            for namespace, _ in self.namespaces
        )


def _raise_in(thread):
    """Raise ``_Abandoned`` in ``thread`` at its next Python instruction.

    ``thread`` has been started (it is the learner's call, or one that
    ``threading.enumerate()`` lists), so it has its ``ident``.
    """
    if thread.is_alive():
        _set_async_exc(thread.ident, _Abandoned)


def _stop(thread, finished):
    """Try to stop the learner's runaway ``thread``; True when it ended.

    Whether it ended is read from ``finished``, the event the thread sets as it ends, not
    from ``thread.is_alive()``: after an interrupt inside ``Thread.join``, Python 3.11
    says False of a thread that still runs.
    """
    if not finished.is_set():
        _set_async_exc(thread.ident, _Abandoned)
    return finished.wait(STOP_GRACE)


def _call(function, *args, **kwargs):
    """Call the learner's ``function`` in a thread of its own; never raises but ``_Stopped``.

    What is set per thread (grad and inference mode, the default device,
    ``sys.settrace``, a profiler) ends with that thread; what is process-wide
    is put back afterwards (``_Saved``), however the call ends, so a learner's
    code cannot break the next check, nor a later cell. The random generator's
    state is put back too: each call sees the same random numbers.
    """
    saved = _Saved(function, args)
    outcome = _Outcome()

    def work():
        watcher = _Precision()
        try:
            with torch.no_grad(), watcher:
                value = function(*args, **kwargs)
            if inspect.iscoroutine(value):
                value.close()  # never awaited, and no warning that it was not
            outcome.value = value
        # The learner's code: whatever it raises is reported in words, never re-raised.
        except BaseException as error:  # noqa: BLE001
            outcome.error = error
        finally:
            outcome.lowered = watcher.lowered
            _end_thread_state()
            outcome.finished.set()

    context = contextvars.copy_context()  # so that a notebook's output goes to its cell
    thread = threading.Thread(target=context.run, args=(work,), daemon=True)
    try:
        thread.start()
        _wait(thread, outcome.finished, TIME_LIMIT)
    finally:
        saved.restore()
    return outcome


def _wait(thread, finished, limit):
    """Wait at most ``limit`` seconds for the learner's ``thread`` to set ``finished``; when
    the time runs out, or on an interrupt, stop it and raise ``_Stopped``. It looks every
    ``_STEP`` seconds, so that an interrupt is seen wherever waiting on a lock ignores it."""
    deadline = time.monotonic() + limit
    try:
        while not finished.wait(_STEP):
            if time.monotonic() >= deadline:
                raise _TimeUp(_stop(thread, finished))
    except KeyboardInterrupt:
        raise _Interrupted(_stop(thread, finished)) from None


def _end_thread_state():
    """Undo the per-thread settings that torch cannot drop when a thread ends."""
    torch.set_default_device(None)
    while torch._C._len_torch_function_stack():
        torch._C._pop_torch_function_stack()


_watching = threading.local()  # the _Precision watching this thread's call, if any


def _take_lowered():
    """Whether this thread's call went through float32 so far; the watch starts again.

    Called inside the learner's call only, in the thread where ``_call`` has made its
    watcher.
    """
    watcher = _watching.current
    lowered, watcher.lowered = watcher.lowered, False
    return lowered


class _Precision(TorchFunctionMode):
    """Watches the learner's torch operations for a step computed below float64."""

    def __init__(self):
        super().__init__()
        self.lowered = False
        _watching.current = self

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        if not self.lowered:
            with contextlib.suppress(Exception):  # whatever the operation, the answer's own
                self.lowered = _lowers((args, kwargs), result)
        return result


def _lowers(arguments, result):
    """True when an operation computes below float64: the one float32 rule.

    It does when it turns a float64 tensor into float32 (or float16, bfloat16),
    as ``.float()`` or ``.to(torch.float32)`` do, or when it takes such a tensor
    of more than one entry (data made in float32, as ``torch.tensor(a_list)``
    makes it). A one-entry float32 constant (``torch.tensor(2.0)``) that float64
    tensors promote is not a step computed in float32, nor is float32 that holds
    whole numbers only (``torch.eye(k)``, ``torch.ones(n)``), which it holds exactly.
    """
    inputs = [t for t in tree_flatten(arguments)[0] if isinstance(t, torch.Tensor)]
    outputs = [t for t in tree_flatten(result)[0] if isinstance(t, torch.Tensor)]
    if any(t.dtype in _LOW and t.numel() > 1 and not _whole(t) for t in inputs):
        return True
    return any(t.dtype == torch.float64 for t in inputs) and any(t.dtype in _LOW for t in outputs)


def _whole(tensor):
    """True when every entry of the floating ``tensor`` is a whole number (held exactly)."""
    return bool((tensor == tensor.round()).all())


TENSOR_ADVICE = "Return a plain float64 tensor on the CPU, built from the inputs."


def _guarded(judge, exercise, answer, advice=TENSOR_ADVICE):
    """``judge(exercise, answer)``, or a sentence if the judging itself fails or stops.

    The learner's code runs in its own thread and every error it raises becomes
    a sentence, so this last guard matters for a time limit, an interrupt, and
    values nobody foresaw (even one that raises SystemExit when looked at); then
    ``advice`` says what to hand in.
    """
    name = getattr(exercise, "name", "This exercise")
    try:
        return judge(exercise, answer)
    except _Stopped as stopped:
        return _stopped_verdict(name, answer, stopped)
    except KeyboardInterrupt:
        return Verdict(
            False,
            f"{name}: the check was interrupted (the stop button, or Ctrl+C), so it has no "
            "verdict. Run this cell again to check your answer.",
            slips=("interrupted",),
        )
    # Nothing a learner hands in may end in a traceback.
    except BaseException as error:  # noqa: BLE001
        return Verdict(
            False,
            f"{name}: the checker could not judge this answer ({_error_words(error)}). {advice}",
            slips=("unjudged",),
        )


def _stopped_verdict(name, answer, stopped):
    what = f"`{answer.__name__}`" if isinstance(answer, type) else _what(answer)
    if stopped.ended:
        after = "It was stopped."
    else:
        after = (
            "It could not be stopped and may still be running in the background: if the "
            "notebook slows down, restart the kernel (Kernel, then Restart Kernel)."
        )
    if isinstance(stopped, _Interrupted):
        return Verdict(
            False,
            f"{name}: the check was interrupted (the stop button, or Ctrl+C) while {what} was "
            f"running, so it has no verdict. {after} Run this cell again to check it.",
            slips=("interrupted",),
        )
    return Verdict(
        False,
        f"{name}: {what} did not return within {TIME_LIMIT:g} seconds, so the check stopped "
        "waiting for it. Look for a loop that never ends, such as a `while` whose condition "
        f"never changes. {after}",
        slips=("time limit",),
    )


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


_LOOKS = 16  # objects _unwrapped looks at, at most: so an object that makes wrappers ends


def _unwrapped(answer):
    """The Python functions behind ``answer`` (a partial, a bound method, a callable object),
    among the first ``_LOOKS`` objects met on the way in."""
    found, todo = [], [answer]
    for _ in range(_LOOKS):
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
