"""Every exercise of every chapter names the slip a learner made.

The exercises and their reference solutions are collected from the chapters
themselves: each chapter's code runs in this process, and every cell
``check_gradient(<exercise>, <solution>, must_pass=True)`` pairs an exercise
with its reference. Each slip below is applied to the reference, and the
checker must name that slip (the category, not the wording).
"""

import ast

import pytest
import torch

from chapter_runner import CHAPTERS as CHAPTER_DIR
from chapter_runner import chapter_cells, run_notebook
from exercises import FunctionExercise, check_autograd_function, check_gradient
from finite_differences import numerical_gradient

CHAPTERS = sorted(path.stem for path in CHAPTER_DIR.glob("*.ipynb"))

# Every test here reads the chapters' shared runs: kept on one worker (tests/conftest.py).
pytestmark = pytest.mark.shares_notebook_runs


def chapter_namespace(chapter):
    """The chapter's variables after running all its code (its one shared run)."""
    run = run_notebook(chapter)
    assert run.outcome is None, f"{chapter} fails: {run.outcome!r}"
    return run.namespace


def reference_pairs(chapter):
    """(exercise name, solution name) of each `check_gradient(e, s, must_pass=True)`."""
    pairs = []
    for cell in chapter_cells(chapter):
        for node in ast.walk(ast.parse(cell)):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "check_gradient"
                and any(k.arg == "must_pass" for k in node.keywords)
            ):
                pairs.append((node.args[0].id, node.args[1].id))
    return pairs


EXERCISES = [(chapter, *pair) for chapter in CHAPTERS for pair in reference_pairs(chapter)]
IDS = [f"{chapter}:{exercise}" for chapter, exercise, _ in EXERCISES]


def test_every_chapter_has_exercises_with_reference_solutions():
    for chapter in CHAPTERS:
        assert len(reference_pairs(chapter)) >= 3, f"{chapter}: fewer than 3 exercises found"


def n_of(exercise, arguments):
    return arguments[exercise.batched[0]].shape[0]


# slip -> how a learner with that slip changes the reference's answer
SLIPS = {
    "sign": lambda g, n: -g,
    "half": lambda g, n: g / 2,
    "twice": lambda g, n: 2 * g,
    "divided by N": lambda g, n: g / n,
    "times N": lambda g, n: g * n,
    "transpose": lambda g, n: g.T,
}


def slipped(exercise, solution, slip):
    def answer(**arguments):
        return SLIPS[slip](solution(**arguments), n_of(exercise, arguments))

    return answer


def transposable(exercise):
    """A 2-D gradient that some case holds as a non-square, or non-symmetric, matrix."""
    return any(e.dim() == 2 and not torch.equal(e, e.T) for e in exercise.answers)


def applicable(exercise, slip):
    if slip == "transpose":
        return transposable(exercise)
    if slip in ("divided by N", "times N"):
        return any(exercise.batch_size(case) > 1 for case in exercise.inputs)
    return True


SLIP_CASES = [
    (chapter, exercise, solution, slip)
    for chapter, exercise, solution in EXERCISES
    for slip in SLIPS
]


@pytest.mark.parametrize(
    "chapter, exercise, solution, slip",
    SLIP_CASES,
    ids=[f"{c}:{e}:{s}" for c, e, _, s in SLIP_CASES],
)
def test_a_slip_applied_to_the_reference_gets_its_diagnosis(chapter, exercise, solution, slip):
    namespace = chapter_namespace(chapter)
    exercise, solution = namespace[exercise], namespace[solution]
    if not applicable(exercise, slip):
        pytest.skip(f"{slip} does not apply to {exercise.name}")
    verdict = check_gradient(exercise, slipped(exercise, solution, slip))
    assert not verdict, f"{exercise.name}: the slip {slip!r} passed"
    assert verdict.slips == (slip,), f"{exercise.name}: {slip!r} diagnosed as {verdict!r}"


def per_sample_gradient(exercise):
    """What a learner who forgot the sum over the batch returns: one row per sample.

    The parameter is given one copy per sample (its first dimension, of size 1,
    expanded to N); autograd's gradient with respect to the copies is each
    sample's share, and the shares add up to the right answer.
    """

    def answer(**arguments):
        n = n_of(exercise, arguments)
        with torch.enable_grad():
            copies = arguments[exercise.wrt].expand(n, *arguments[exercise.wrt].shape[1:])
            copies = copies.clone().requires_grad_()
            loss = exercise.loss(**{**arguments, exercise.wrt: copies})
            return torch.autograd.grad(loss, copies)[0]

    return answer


@pytest.mark.parametrize("chapter, exercise, solution", EXERCISES, ids=IDS)
def test_a_missing_sum_over_the_batch_gets_its_diagnosis(chapter, exercise, solution):
    exercise = chapter_namespace(chapter)[exercise]
    shared = all(e.dim() >= 1 and e.shape[0] == 1 for e in exercise.answers)
    if not shared or exercise.wrt in exercise.batched:
        pytest.skip(f"{exercise.name}: {exercise.wrt} is not shared by the samples")
    # The checker's own guard would catch autograd here: the slip is computed first.
    shares = [per_sample_gradient(exercise)(**case) for case in exercise.inputs]

    def answer(**arguments):
        for case, share in zip(exercise.inputs, shares, strict=True):
            if all(torch.equal(arguments[k], case[k]) for k in case):
                return share.clone()
        raise AssertionError("called on an input that is not one of the exercise's cases")

    verdict = check_gradient(exercise, answer)
    assert not verdict and verdict.slips == ("batch sum",), f"{exercise.name}: {verdict!r}"


def autograd_answers(exercise):
    """Three ways a learner can let the computer do the derivative."""

    def with_grad(**arguments):
        leaf = arguments[exercise.wrt].requires_grad_()
        return torch.autograd.grad(exercise.loss(**arguments), leaf)[0]

    def with_backward(**arguments):
        leaf = arguments[exercise.wrt].requires_grad_()
        exercise.loss(**arguments).backward()
        return leaf.grad

    def with_finite_differences(**arguments):
        def loss_of(value):
            return exercise.loss(**{**arguments, exercise.wrt: value})

        return numerical_gradient(loss_of, arguments[exercise.wrt])

    return {"autograd.grad": with_grad, "backward": with_backward, "fd": with_finite_differences}


@pytest.mark.parametrize("chapter, exercise, solution", EXERCISES, ids=IDS)
def test_autograd_in_the_answer_is_named(chapter, exercise, solution):
    exercise = chapter_namespace(chapter)[exercise]
    for how, answer in autograd_answers(exercise).items():
        verdict = check_gradient(exercise, answer)
        assert not verdict and verdict.slips == ("autograd",), f"{how}: {verdict!r}"
    assert torch.is_grad_enabled(), "the checker must restore autograd"


@pytest.mark.parametrize("chapter, exercise, solution", EXERCISES, ids=IDS)
def test_the_reference_passes_and_so_do_answers_written_otherwise(chapter, exercise, solution):
    namespace = chapter_namespace(chapter)
    exercise, solution = namespace[exercise], namespace[solution]
    assert check_gradient(exercise, solution)

    def in_place_and_non_contiguous(**arguments):
        right = solution(**arguments)
        answer = torch.stack([right, right], dim=-1)[..., 0]  # same values, other strides
        assert answer.numel() == 1 or not answer.is_contiguous()
        for value in arguments.values():
            value.mul_(0)  # the learner's copies are theirs to spoil
        return answer

    def via_a_loop_over_entries(**arguments):
        answer = solution(**arguments)
        out = torch.empty_like(answer)
        for index in range(answer.numel()):
            out.view(-1)[index] = answer.reshape(-1)[index].item()
        return out

    for answer in (in_place_and_non_contiguous, via_a_loop_over_entries):
        verdict = check_gradient(exercise, answer)
        assert verdict, f"{exercise.name}, {answer.__name__}: {verdict!r}"


# Right answers written unlike the references (another formula, another layout).
# Every exercise needs one: a new exercise fails below until it has its own.
OTHER_RIGHT_ANSWERS = {
    "abs_loss_exercise": lambda w, x, y: torch.stack([-(torch.sign(y - w * x) * x).sum()]),
    "decay_loss_exercise": lambda w, x, y: (2 * (w * x - y) * x).sum().reshape(1) + 0.2 * w,
    "bias_loss_exercise": lambda w, b, x, y: (2 * (w * x + b - y)).sum().unsqueeze(0),
    "bias_exercise": lambda x, w, b, y: (
        torch.ones(1, x.shape[0], dtype=x.dtype) @ (2 * (x @ w + b - y))
    ),
    "x_bias_exercise": lambda x, w, b, y: torch.einsum("nk,dk->nd", 2 * (x @ w + b - y), w),
    "two_products_exercise": lambda x, w1, w2, y: x.T @ (2 * (x @ w1 @ w2 - y)) @ w2.T,
    "tanh_w": lambda x, w, b, y: (
        x.T @ (2 * (torch.tanh(x @ w + b) - y) / torch.cosh(x @ w + b) ** 2)
    ),
    "relu_w": lambda x, w, b, y: x.T @ torch.where(x @ w + b > 0, 2 * (x @ w + b - y), 0.0),
    "tanh_network_w1": lambda x, w1, b1, w2, b2, y: torch.einsum(
        "nd,nh->dh",
        x,
        (2 * (torch.tanh(x @ w1 + b1) @ w2 + b2 - y) @ w2.T) / torch.cosh(x @ w1 + b1) ** 2,
    ),
    "bce_mean_s": lambda logits, y: (
        (torch.special.expit(logits) - y) / (logits.shape[0] * logits.shape[1])
    ),
    "relu_layer_x": lambda x, w, b, y: torch.einsum(
        "nk,dk->nd", torch.where(x @ w + b > 0, 2 * (x @ w + b - y), 0.0), w
    ),
    "three_layers_w1": lambda x, w1, w2, w3, y: _three_layers_w1(x, w1, w2, w3, y),
    # Page 3.3: through the log and the softmax's full Jacobian, or with F.one_hot.
    "soft_targets_z": lambda z, t: torch.einsum(
        "nq,nqc->nc",
        -t / torch.softmax(z, dim=1) / len(z),
        torch.diag_embed(torch.softmax(z, dim=1))
        - torch.softmax(z, dim=1)[:, :, None] * torch.softmax(z, dim=1)[:, None, :],
    ),
    "softmax_squared_error_z": lambda z, y: torch.einsum(
        "nq,nqc->nc",
        2 * (torch.softmax(z, dim=1) - y),
        torch.diag_embed(torch.softmax(z, dim=1))
        - torch.softmax(z, dim=1)[:, :, None] * torch.softmax(z, dim=1)[:, None, :],
    ),
    "linear_classifier_w": lambda x, w, b, labels: (
        torch.einsum(
            "nd,nk->dk",
            x,
            torch.softmax(x @ w + b, dim=1)
            - torch.nn.functional.one_hot(labels.long(), w.shape[1]),
        )
        / len(x)
    ),
}


def _three_layers_w1(x, w1, w2, w3, y):
    """Page 3.2's exercise 3 with expit and einsum, each slope as h (1 - h)."""
    h1 = torch.special.expit(x @ w1)
    h2 = torch.special.expit(h1 @ w2)
    y_hat = torch.special.expit(h2 @ w3)
    g3 = 2 * (y_hat - y) * y_hat * (1 - y_hat)
    g2 = torch.einsum("nk,jk->nj", g3, w3) * h2 * (1 - h2)
    g1 = torch.einsum("nj,ij->ni", g2, w2) * h1 * (1 - h1)
    return torch.einsum("nd,ni->di", x, g1)


@pytest.mark.parametrize("chapter, exercise, solution", EXERCISES, ids=IDS)
def test_a_right_answer_written_otherwise_passes(chapter, exercise, solution):
    assert exercise in OTHER_RIGHT_ANSWERS, f"give {exercise} a right answer of its own here"
    verdict = check_gradient(chapter_namespace(chapter)[exercise], OTHER_RIGHT_ANSWERS[exercise])
    assert verdict, repr(verdict)


# --- A learner's own torch.autograd.Function --------------------------------------------------


def function_pairs_in(cells):
    """(exercise name, class name) of each `check_autograd_function(e, C, must_pass=True)`."""
    pairs = []
    for cell in cells:
        for node in ast.walk(ast.parse(cell)):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "check_autograd_function"
                and any(k.arg == "must_pass" for k in node.keywords)
            ):
                pairs.append((node.args[0].id, node.args[1].id))
    return pairs


FUNCTIONS = [
    (chapter, *pair) for chapter in CHAPTERS for pair in function_pairs_in(chapter_cells(chapter))
]


def backward_slipped(function_class, which, slip):
    """``function_class`` with ``slip`` applied to the gradient its backward returns for input
    number ``which``; N is the first dimension of the first input (its gradient's)."""

    class Slipped(function_class):
        @staticmethod
        def backward(ctx, *upstream):
            grads = function_class.backward(ctx, *upstream)
            grads = grads if isinstance(grads, tuple) else (grads,)
            n = grads[0].shape[0]
            return tuple(SLIPS[slip](g, n) if i == which else g for i, g in enumerate(grads))

    return Slipped


def function_slip_applies(exercise, which, slip):
    gradients = [case[which] for case in exercise._gradients]
    if slip == "transpose":
        return any(g.dim() == 2 and not torch.equal(g, g.T) for g in gradients)
    if slip in ("divided by N", "times N"):
        return any(next(iter(case.values())).shape[0] > 1 for case in exercise._inputs)
    return True


def assert_every_slip_is_named(exercise, function_class):
    """Each slip, on each input's gradient, is named with that input; returns how many."""
    assert check_autograd_function(exercise, function_class, must_pass=True)
    named = 0
    for which, name in enumerate(exercise._inputs[0]):
        for slip in SLIPS:
            if not function_slip_applies(exercise, which, slip):
                continue
            verdict = check_autograd_function(
                exercise, backward_slipped(function_class, which, slip)
            )
            assert not verdict and verdict.slips == (slip,), f"{name}, {slip}: {verdict!r}"
            assert f"the gradient for {name} is wrong." in repr(verdict), repr(verdict)
            named += 1
    return named


@pytest.mark.parametrize(
    "chapter, exercise, function_class", FUNCTIONS, ids=[f"{c}:{e}" for c, e, _ in FUNCTIONS]
)
def test_a_slip_in_an_autograd_function_names_the_input_and_the_slip(
    chapter, exercise, function_class
):
    namespace = chapter_namespace(chapter)
    assert assert_every_slip_is_named(namespace[exercise], namespace[function_class]) > 0


EXAMPLE_CELL = """
def reference(x, w, b):
    return torch.tanh(x @ w + b)


layer_exercise = FunctionExercise(
    "A tanh layer",
    reference=reference,
    cases=[
        {"x": torch.randn(3, 2, dtype=torch.float64), "w": torch.randn(2, 4, dtype=torch.float64),
         "b": torch.randn(1, 4, dtype=torch.float64)},
        {"x": torch.randn(5, 3, dtype=torch.float64), "w": torch.randn(3, 3, dtype=torch.float64),
         "b": torch.randn(1, 3, dtype=torch.float64)},
    ],
)


class SolutionTanhLayer(torch.autograd.Function):
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


check_autograd_function(layer_exercise, SolutionTanhLayer, must_pass=True)
"""


def test_the_slip_table_collects_and_covers_an_autograd_function_exercise():
    """No chapter has one yet: the same collection and slips, on an example cell."""
    assert function_pairs_in([EXAMPLE_CELL, "check_autograd_function(a, B)"]) == [
        ("layer_exercise", "SolutionTanhLayer")
    ]
    torch.manual_seed(0)
    namespace = {"torch": torch, "FunctionExercise": FunctionExercise}
    namespace["check_autograd_function"] = check_autograd_function
    exec(EXAMPLE_CELL, namespace)
    # x, w and b each: sign, half, twice, /N, ×N; and transposed for the 2-D w (and x, b).
    named = assert_every_slip_is_named(namespace["layer_exercise"], namespace["SolutionTanhLayer"])
    assert named == 3 * 6
