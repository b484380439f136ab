"""The small exercises, answers and layers that the tests of chapters/exercises/ share."""

import pytest
import torch

from exercises import Exercise, FunctionExercise
from finite_differences import numerical_gradient


def mean_loss(w, x, y):
    return ((y - w * x) ** 2).mean()


MEAN = Exercise(
    name="Mean squared error",
    loss=mean_loss,
    wrt="w",
    batched=("x", "y"),
    cases=[
        {"w": [3.0], "x": [1.5], "y": [0.5]},
        {"w": [3.0], "x": [2.5, 1.0, -1.0], "y": [2.0, 0.5, 1.0]},
        {"w": [-0.5], "x": [0.3, 3.0, 4.0, -1.5, 0.7], "y": [1.0, -1.0, 2.0, 0.1, 0.2]},
    ],
)


MATMUL = Exercise(
    name="Matrix product",
    loss=lambda x, w, y: ((y - x @ w) ** 2).sum(),
    wrt="w",
    batched=("x", "y"),
    cases=[
        {"x": [[2.0], [1.0]], "w": [[3.0, 1.0]], "y": [[5.0, 2.0], [2.5, 2.0]]},
        {
            "x": [[1.0, -2.0, 0.5], [0.3, 1.0, 2.0], [-1.0, 0.7, 1.5]],
            "w": [[0.2, -1.0, 0.4], [1.5, 0.3, -0.7], [0.1, 0.9, 2.0]],
            "y": [[1.0, 0.0, 2.0], [-1.0, 0.5, 0.3], [0.2, 0.4, -0.6]],
        },
    ],
    hint="dL/dW = X^T dL/dZ",
)


def right_mean(w, x, y):
    return (-2 * (y - w * x) * x).mean(dim=0, keepdim=True)


def right_matmul(x, w, y):
    return x.T @ (-2 * (y - x @ w))


def uses_backward(w, x, y):
    w.requires_grad_()
    mean_loss(w, x, y).backward()
    return w.grad


def uses_finite_differences(w, x, y):
    return numerical_gradient(lambda v: ((y - v * x) ** 2).mean(), w)


def layer_case(n, d, k, seed):
    generator = torch.Generator().manual_seed(seed)
    return {
        "x": torch.randn(n, d, generator=generator, dtype=torch.float64),
        "w": torch.randn(d, k, generator=generator, dtype=torch.float64),
        "b": torch.randn(1, k, generator=generator, dtype=torch.float64),
    }


LAYER = FunctionExercise(
    "A tanh layer",
    reference=lambda x, w, b: torch.tanh(x @ w + b),
    cases=[layer_case(3, 2, 4, seed=1), layer_case(5, 3, 2, seed=2), layer_case(1, 4, 3, seed=3)],
    hint="tanh'(s) = 1 - tanh(s)**2.",
)


class TanhLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        h = torch.tanh(x @ w + b)
        ctx.save_for_backward(x, w, h)
        return h

    @staticmethod
    def backward(ctx, dL_dh):
        x, w, h = ctx.saved_tensors
        dL_ds = dL_dh * (1 - h**2)
        return dL_ds @ w.T, x.T @ dL_ds, dL_ds.sum(dim=0, keepdim=True)


def chapter_exercises():
    """(exercise, reference solution) of every chapter, found by type and by the
    `check_gradient(e, s, must_pass=True)` cells; none where the chapters are absent
    (the mutation run's workspace)."""
    try:
        import test_exercise_slips as slips
    except ImportError:  # no chapters beside these tests
        return []
    return [
        (slips.chapter_namespace(chapter)[e], slips.chapter_namespace(chapter)[s])
        for chapter, e, s in slips.EXERCISES
    ]


async def async_answer(w, x, y):
    return right_mean(w, x, y)


def real_pairs():
    """The chapters' (exercise, reference solution) pairs, for the `real` fixture."""
    pairs = chapter_exercises()
    if not pairs:
        pytest.skip("the chapters are not beside these tests")
    for exercise, _ in pairs:
        assert isinstance(exercise, Exercise)
    return pairs


def checked_with_the_stop_button(check):
    """``check(loops_forever)``, with Jupyter's stop button pressed once ``loops_forever``
    runs (however busy the machine is): the verdict, and the threads left running that were
    not there before."""
    import _thread
    import signal
    import threading

    timers = []

    def loops_forever(*args, **kwargs):
        timers.append(threading.Timer(0.3, _thread.interrupt_main))
        timers[-1].start()
        while True:
            pass

    # The stop button raises KeyboardInterrupt in the main thread, as Python's own handler
    # does: a test runner may have put another handler in its place.
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    before = set(threading.enumerate())
    try:
        verdict = check(loops_forever)
    finally:
        signal.signal(signal.SIGINT, handler)
    for timer in timers:  # a check that ended before the stop button came has a timer left
        timer.cancel()
        timer.join()
    return verdict, set(threading.enumerate()) - before
