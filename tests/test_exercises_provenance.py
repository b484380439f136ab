"""Unit tests for chapters/exercises/provenance.py."""

import functools
import sys
import types

import numpy as np
import pytest
import torch

from exercises import Exercise, check_gradient
from exercises_examples import (
    MEAN,
    mean_loss,
    real_pairs,
    right_mean,
    uses_backward,
)
from finite_differences import numerical_gradient


@pytest.fixture(scope="module")
def real():
    return real_pairs()


def uses_autograd_grad(w, x, y):
    w.requires_grad_()
    return torch.autograd.grad(((y - w * x) ** 2).mean(), w)[0]


def uses_enable_grad_and_backward(w, x, y):
    with torch.enable_grad():
        w.requires_grad_()
        ((y - w * x) ** 2).mean().backward()
    return w.grad


def uses_the_exercise_loss(w, x, y):
    return numerical_gradient(lambda v: MEAN.loss(v, x, y), w)


def uses_the_exercise_loss_by_hand(w, x, y):
    h = 1e-6
    return (MEAN.loss(w + h, x, y) - MEAN.loss(w - h, x, y)).reshape(1) / (2 * h)


def uses_torch_func(w, x, y):
    return torch.func.grad(lambda v: mean_loss(v, x, y))(w)


@pytest.mark.parametrize(
    "answer",
    [
        uses_backward,
        uses_autograd_grad,
        uses_enable_grad_and_backward,
        uses_the_exercise_loss,
        uses_the_exercise_loss_by_hand,
        uses_torch_func,
    ],
)
def test_an_answer_that_lets_the_computer_differentiate_is_told_to_do_it_by_hand(answer):
    verdict = check_gradient(MEAN, answer)
    assert not verdict and verdict.slips == ("autograd",), repr(verdict)
    assert "Write the formula you derived by hand" in repr(verdict)
    assert torch.is_grad_enabled()


def loss_of(exercise, arguments):
    """The exercise's loss as a function of the input it is differentiated by."""
    return lambda value: exercise.loss(**{**arguments, exercise.wrt: value})


def forward_mode_jacobian(f, value):
    """∂f/∂value one entry at a time, with torch.autograd.forward_ad."""
    import torch.autograd.forward_ad as fwAD

    grad = torch.zeros_like(value)
    for i in range(value.numel()):
        tangent = torch.zeros_like(value)
        tangent.view(-1)[i] = 1.0
        with fwAD.dual_level():
            out = f(fwAD.make_dual(value, tangent))
            grad.view(-1)[i] = fwAD.unpack_dual(out).tangent.sum()
    return grad


def in_another_thread(f, value):
    import threading

    result = {}

    def work():
        leaf = value.clone().requires_grad_()
        f(leaf).backward()
        result["grad"] = leaf.grad

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return result["grad"]


def by_the_engine(f, value):
    with torch.enable_grad():
        leaf = value.clone().requires_grad_()
        out = f(leaf)
        (grad,) = torch.autograd.Variable._execution_engine.run_backward(
            (out,), (torch.ones_like(out),), False, False, (leaf,), False
        )
    return grad


def linearized(f, value):
    """The derivative along all ones: the gradient where ``value`` has one entry."""
    _, jvp = torch.func.linearize(f, value)
    return jvp(torch.ones_like(value)) * torch.ones_like(value)


# Every way the issue lists of letting the computer differentiate the loss.
ROUTES = {
    "jacfwd": lambda f, v: torch.func.jacfwd(f)(v).reshape(v.shape),
    "jvp": lambda f, v: torch.stack(
        [
            torch.func.jvp(f, (v,), (e.reshape(v.shape),))[1]
            for e in torch.eye(v.numel(), dtype=v.dtype)
        ]
    ).reshape(v.shape),
    "linearize": linearized,
    "forward_ad": forward_mode_jacobian,
    "functional.jacobian forward-mode": lambda f, v: torch.autograd.functional.jacobian(
        f, v, strategy="forward-mode", vectorize=True
    ).reshape(v.shape),
    "backward in another thread": in_another_thread,
    "the autograd engine": by_the_engine,
    "numerical_gradient": lambda f, v: numerical_gradient(f, v),
    "torch.func.grad": lambda f, v: torch.func.grad(f)(v),
}


@pytest.mark.parametrize("route", ROUTES)
def test_every_way_of_differentiating_the_loss_fails(route):
    def answer(w, x, y):
        return ROUTES[route](lambda v: mean_loss(v, x, y), w.clone())

    verdict = check_gradient(MEAN, answer)
    assert not verdict and verdict.slips == ("autograd",), repr(verdict)
    assert "returns another gradient when the loss is another function" in repr(verdict)


@pytest.mark.parametrize("route", ROUTES)
def test_every_way_of_differentiating_a_chapters_loss_fails(real, route):
    for exercise, _ in real:

        def answer(exercise=exercise, **arguments):
            return ROUTES[route](loss_of(exercise, arguments), arguments[exercise.wrt].clone())

        verdict = check_gradient(exercise, answer)
        assert not verdict and verdict.slips == ("autograd",), f"{exercise.name}: {verdict!r}"
        assert torch.is_grad_enabled() and not torch.is_inference_mode_enabled()


def copy_of(loss):
    """The same function written again: not the exercise's loss, but calling its helpers."""
    return types.FunctionType(
        loss.__code__, loss.__globals__, "copy", loss.__defaults__, loss.__closure__
    )


def test_a_chapters_loss_written_again_and_differentiated_is_told_too(real):
    """The helper that carries the loss (the squared error, say) is replaced as well."""
    caught = 0
    for exercise, _ in real:
        if len(exercise._loss_objects) < 2:  # no helper of the chapter carries this loss
            continue
        again = copy_of(exercise.loss)

        def answer(exercise=exercise, again=again, **arguments):
            value = arguments[exercise.wrt]
            return numerical_gradient(lambda v: again(**{**arguments, exercise.wrt: v}), value)

        verdict = check_gradient(exercise, answer)
        assert not verdict and verdict.slips == ("autograd",), f"{exercise.name}: {verdict!r}"
        caught += 1
    assert caught > 0, "no chapter exercise's loss is carried by a helper of the chapter"


def test_a_helper_that_carries_the_loss_is_replaced_and_an_activation_is_not():
    namespace = {"torch": torch, "numerical_gradient": numerical_gradient}
    exec(
        "def mse(y, y_hat):\n    return (y - y_hat) ** 2\n\n"
        "def sigmoid(s):\n    return 1 / (1 + torch.exp(-s))\n\n"
        "def size(x):\n    return x.shape[0]\n\n"
        "def loss(w, x, y):\n    return mse(y, y_hat=sigmoid(w * x)).sum() * size(x) / size(x)\n\n"
        "def right(w, x, y):\n"
        "    y_hat = sigmoid(w * x)\n"
        "    return (-2 * (y - y_hat) * y_hat * (1 - y_hat) * x).sum().reshape(1)\n\n"
        "def differentiates_a_copy(w, x, y):\n"
        "    return numerical_gradient(lambda v: mse(y, sigmoid(v * x)).sum(), w)\n",
        namespace,
    )
    exercise = Exercise(
        name="Sigmoid",
        loss=namespace["loss"],
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [0.5], "x": [1.5, -1.0, 0.5], "y": [0.5, 0.2, 1.0]}],
    )
    assert exercise._loss_names == {"loss", "mse"}
    assert check_gradient(exercise, namespace["right"])
    verdict = check_gradient(exercise, namespace["differentiates_a_copy"])
    assert not verdict and verdict.slips == ("autograd",), repr(verdict)
    assert callable(namespace["mse"]) and namespace["mse"].__name__ == "mse", "put back"


def test_a_right_answer_that_prints_the_loss_or_checks_itself_passes(real, capsys):
    for exercise, solution in real:

        def prints_and_checks(exercise=exercise, solution=solution, **arguments):
            print("loss:", exercise.loss(**arguments))
            mine = solution(**arguments)
            numeric = numerical_gradient(loss_of(exercise, arguments), arguments[exercise.wrt])
            print("largest difference from finite differences:", (mine - numeric).abs().max())
            return mine

        assert check_gradient(exercise, prints_and_checks), exercise.name
    printed = capsys.readouterr().out
    assert printed.count("loss:") == sum(len(e._inputs) for e, _ in real), (
        "the learner's prints appear once per case: the second run is silent"
    )


def test_a_loss_helper_rebound_after_the_exercise_is_made_changes_nothing():
    """A learner writes `mse = mse(y, w * x).mean()` in a scratch cell."""
    namespace = {"torch": torch}
    exec(
        "def mse(y, y_hat):\n    return (y - y_hat) ** 2\n\n"
        "def loss(w, x, y):\n    return mse(y, w * x).sum()\n",
        namespace,
    )
    exercise = Exercise(
        name="Rebound",
        loss=namespace["loss"],
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [3.0], "x": [1.5, -1.0, 0.5], "y": [0.5, 2.0, 1.0]}],
    )
    w, x, y = torch.tensor([3.0]), torch.tensor([2.0]), torch.tensor([2.0])
    exec("mse = mse(y, w * x).mean()", {**namespace, "w": w, "x": x, "y": y}, namespace)
    assert isinstance(namespace["mse"], torch.Tensor)
    wrong = check_gradient(exercise, lambda w, x, y: (2 * (y - w * x) * x).sum().reshape(1))
    assert not wrong and wrong.slips == ("sign",), repr(wrong)
    half = check_gradient(exercise, lambda w, x, y: (-(y - w * x) * x).sum().reshape(1))
    assert half.slips == ("half",), repr(half)


def test_a_chapters_loss_helper_rebound_changes_nothing(real):
    for exercise, solution in real:
        namespace = getattr(exercise.loss, "__globals__", {})
        saved = {name: namespace[name] for name in exercise._loss_names if name in namespace}
        try:
            for name in saved:
                namespace[name] = torch.tensor(16.0)  # `mse = mse(y, w * x).mean()`
            assert check_gradient(exercise, solution), exercise.name
            # the solution rides in a keyword no exercise's inputs use (page 3.1's are s, y)
            verdict = check_gradient(exercise, lambda _solution=solution, **a: -_solution(**a))
            assert verdict.slips == ("sign",), f"{exercise.name}: {verdict!r}"
            factor = check_gradient(exercise, lambda _solution=solution, **a: _solution(**a) * 1.5)
            assert not factor and factor.slips == (), f"{exercise.name}: {factor!r}"
        finally:
            namespace.update(saved)


def test_an_answer_that_differentiates_its_own_copy_of_the_loss_is_not_told():
    def own_finite_differences(w, x, y):
        return numerical_gradient(lambda v: ((y - v * x) ** 2).mean(), w)

    def own_autograd_on_a_copy(w, x, y):
        with torch.enable_grad():
            v = w.clone().requires_grad_()
            return torch.autograd.grad(((y - v * x) ** 2).mean(), v)[0]

    assert check_gradient(MEAN, own_finite_differences)
    assert check_gradient(MEAN, own_autograd_on_a_copy)


HELPERS = """
def mse(y, y_hat):
    return (y - y_hat) ** 2


def sigmoid(s):
    return 1 / (1 + torch.exp(-s))


def size(x):
    return x.shape[0]


def one(v):
    return 1.0


def loss(w, x, y):
    return torch.sum(mse(y, y_hat=sigmoid(w * x))) * max(one(v) for v in [1.0]) * size(x) / size(x)


error = mse  # the same helper under another name


def right(w, x, y):
    y_hat = sigmoid(w * x)
    return (-2 * (y - y_hat) * y_hat * (1 - y_hat) * x).sum().reshape(1)


def differentiates_a_copy(w, x, y):
    return numerical_gradient(lambda v: error(y, sigmoid(v * x)).sum(), w)


def differentiates_loss(w, x, y):
    return numerical_gradient(lambda v: loss(v, x, y), w)
"""


def helpers_exercise():
    namespace = {"torch": torch, "numerical_gradient": numerical_gradient}
    exec(HELPERS, namespace)
    exercise = Exercise(
        name="Sigmoid",
        loss=namespace["loss"],
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [0.5], "x": [1.5, -1.0, 0.5], "y": [0.5, 0.2, 1.0]}],
    )
    return namespace, exercise


def test_only_the_helpers_that_carry_the_whole_loss_are_replaced():
    namespace, exercise = helpers_exercise()
    assert exercise._loss_names == {"loss", "mse"}, "not sigmoid, size, one, torch, max"
    assert exercise._loss_objects == [namespace["loss"], namespace["mse"]]
    assert check_gradient(exercise, namespace["right"])
    for answer in ("differentiates_a_copy", "differentiates_loss"):
        verdict = check_gradient(exercise, namespace[answer])
        assert not verdict and verdict.slips == ("autograd",), f"{answer}: {verdict!r}"
    assert namespace["mse"] is namespace["error"] and namespace["mse"].__name__ == "mse"


def test_a_loss_defined_again_under_its_name_is_replaced_too():
    namespace, exercise = helpers_exercise()
    exec(HELPERS.split("error = mse")[0], namespace)  # the cell run again: new functions
    assert namespace["loss"] is not exercise.loss
    verdict = check_gradient(exercise, namespace["differentiates_loss"])
    assert not verdict and verdict.slips == ("autograd",), repr(verdict)


def test_a_loss_reached_through_another_exercise_or_module_is_replaced():
    namespace, exercise = helpers_exercise()
    sibling = Exercise("Sibling", exercise.loss, "x", exercise.cases, ("x", "y"))
    other_module = {"sibling": sibling, "numerical_gradient": numerical_gradient}
    exec(
        "def through_the_sibling(w, x, y):\n"
        "    return numerical_gradient(lambda v: sibling.loss(v, x, y), w)\n",
        other_module,
    )
    verdict = check_gradient(exercise, other_module["through_the_sibling"])
    assert verdict.slips == ("autograd",), repr(verdict)
    assert sibling.loss is exercise.loss, "put back"
    # A loss that calls no helper: only the sibling's own `loss` can be replaced.
    other_module["sibling"] = Exercise("Sibling", mean_loss, "x", MEAN.cases, ("x", "y"))
    verdict = check_gradient(MEAN, other_module["through_the_sibling"])
    assert verdict.slips == ("autograd",), repr(verdict)

    # The answer's own module holds no loss; the loss's module, reached through a helper, does.
    def through_the_loss_module(w, x, y):
        return namespace["differentiates_loss"](w, x, y)

    assert check_gradient(exercise, through_the_loss_module).slips == ("autograd",)


def test_a_loss_that_is_no_function_is_replaced_where_the_answer_finds_it():
    exercise = Exercise("Partial", functools.partial(mean_loss), "w", MEAN.cases, ("x", "y"))
    assert exercise._loss_names == set()
    verdict = check_gradient(
        exercise, lambda w, x, y: numerical_gradient(lambda v: exercise.loss(v, x, y), w)
    )
    assert verdict.slips == ("autograd",), repr(verdict)
    assert check_gradient(exercise, right_mean)


def test_an_answer_that_writes_to_the_streams_is_still_run_twice_silently(capsys):
    def writes_and_differentiates(w, x, y):
        sys.stdout.write("out\n")
        sys.stderr.write("err\n")
        return numerical_gradient(lambda v: mean_loss(v, x, y), w)

    verdict = check_gradient(MEAN, writes_and_differentiates)
    assert verdict.slips == ("autograd",), repr(verdict)
    captured = capsys.readouterr()
    assert (captured.out.count("out"), captured.err.count("err")) == (3, 3), "the first run only"
    assert repr(verdict) == (
        "Mean squared error: `writes_and_differentiates` returns another gradient when the loss "
        "is another function, so it lets the computer differentiate the loss (autograd, forward "
        "mode or finite differences). Write the formula you derived by hand; printing the loss "
        "is fine."
    )


def test_the_whole_message_for_autograd_switched_on():
    def tracks_two(w, x, y):
        x.requires_grad_()
        w.requires_grad_()
        return right_mean(w.detach(), x.detach(), y)

    assert repr(check_gradient(MEAN, tracks_two)) == (
        "Mean squared error: `tracks_two` switches autograd on for w, x (requires_grad), so the "
        "computer finds the derivative. Write the formula you derived by hand, computed from "
        "the inputs alone."
    )


OTHER_MODULE = """
import functools

alias = None  # set to the exercise's loss by the tests


def differentiates(w, x, y):
    return numerical_gradient(lambda v: alias(v, x, y), w)


class Learner:
    def method(self, w, x, y):
        return differentiates(w, x, y)

    def __call__(self, w, x, y):
        return differentiates(w, x, y)
"""


def other_module():
    module = {"numerical_gradient": numerical_gradient}
    exec(OTHER_MODULE, module)
    module["alias"] = mean_loss
    return module


def wrapped_answer(module):
    @functools.wraps(module["differentiates"])
    def decorated(w, x, y):
        return module["differentiates"](w, x, y)

    return decorated


@pytest.mark.parametrize(
    "answer",
    [
        lambda module: module["differentiates"],
        lambda module: module["Learner"]().method,
        lambda module: module["Learner"](),
        lambda module: functools.partial(module["differentiates"]),
        wrapped_answer,
    ],
    ids=["function", "bound method", "callable object", "partial", "decorated"],
)
def test_the_loss_is_replaced_in_the_module_of_whatever_the_answer_is(answer):
    module = other_module()
    verdict = check_gradient(MEAN, answer(module))
    assert verdict.slips == ("autograd",), repr(verdict)
    assert module["alias"] is mean_loss


def test_the_loss_in_a_closure_is_replaced_and_an_empty_cell_is_passed_over():
    def make(loss):
        def answer(w, x, y):
            if False:
                return later  # noqa: F821 (never bound: an empty cell)
            return numerical_gradient(lambda v: loss(v, x, y), w)

        return answer
        later = None

    verdict = check_gradient(MEAN, make(mean_loss))
    assert verdict.slips == ("autograd",), repr(verdict)
    answer = make(mean_loss)
    cells = dict(zip(answer.__code__.co_freevars, answer.__closure__, strict=True))
    assert cells["loss"].cell_contents is mean_loss, "put back"


# --- Issue 26: an answer that keeps state is not called computer-made ----------------------------


def accumulates():
    total = torch.zeros(1, dtype=torch.float64)

    def answer(w, x, y):
        total.add_(right_mean(w, x, y).reshape(1))  # as .grad adds up, call after call
        return total.clone()

    return answer


def counts_calls():
    calls = []

    def answer(w, x, y):
        calls.append(1)
        return right_mean(w, x, y) * len(calls)

    return answer


def unseeded_numpy():
    def answer(w, x, y):
        noise = np.random.default_rng().normal(size=1)[0]
        return right_mean(w, x, y) + float(noise)

    return answer


STATEFUL = {
    "a global accumulator": accumulates,
    "a call counter": counts_calls,
    "unseeded NumPy randomness": unseeded_numpy,
}


@pytest.mark.parametrize("make", STATEFUL.values(), ids=STATEFUL)
def test_an_answer_that_keeps_state_is_told_it_differs_from_run_to_run(make):
    verdict = check_gradient(MEAN, make())
    assert not verdict and verdict.slips == ("run to run",), repr(verdict)
    assert "returns another gradient each time it is called with the same inputs" in repr(verdict)
    assert "differentiate" not in repr(verdict)


def test_the_whole_message_for_an_answer_that_keeps_state():
    verdict = check_gradient(MEAN, accumulates())
    assert repr(verdict) == (
        "Mean squared error: `answer` returns another gradient each time it is called with the "
        "same inputs (on case 1 of 3 (w=[3.0], x=[1.5], y=[0.5])), so it keeps something from "
        "one call to the next: a total it adds to (as `.grad` adds up), a counter, or random "
        "numbers. Compute the gradient from the inputs alone, so that the same inputs always "
        "give the same gradient."
    )


def test_a_computer_made_answer_is_still_told_so_after_the_third_run():
    def differentiates_the_loss(w, x, y):
        return numerical_gradient(lambda v: mean_loss(v, x, y), w)

    verdict = check_gradient(MEAN, differentiates_the_loss)
    assert verdict.slips == ("autograd",), repr(verdict)
