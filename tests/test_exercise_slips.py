"""Every exercise of every chapter names the slip a learner made.

The exercises and their reference solutions are collected from the chapters
themselves: each chapter's code runs in this process, and every cell
``check_gradient(<exercise>, <solution>, must_pass=True)`` pairs an exercise
with its reference. Each slip below is applied to the reference, and the
checker must name that slip (the category, not the wording).
"""

import ast
import inspect

import pytest
import torch

from chapter_runner import CHAPTERS as CHAPTER_DIR
from chapter_runner import chapter_cells, run_notebook
from exercises import FunctionExercise, check_autograd_function, check_gradient
from exercises_examples import TanhLayer
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
        found = len(reference_pairs(chapter)) + len(engine_pairs(chapter))
        assert found >= 3, f"{chapter}: fewer than 3 exercises found"


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
    "bce_mean_s": lambda s, y: (torch.special.expit(s) - y) / (s.shape[0] * s.shape[1]),
    # Page 3.2: the residual layer's two paths, and the BCE network, with expit and einsum.
    "residual_x": lambda x, y, w, b: (
        2 * (x + torch.special.expit(x @ w + b) - y)
        + torch.einsum(
            "nk,dk->nd",
            2
            * (x + torch.special.expit(x @ w + b) - y)
            * torch.special.expit(x @ w + b)
            * torch.special.expit(-(x @ w + b)),
            w,
        )
    ),
    "bce_network_w1": lambda x, y, w1, b1, w2, b2: torch.einsum(
        "nd,nj->dj",
        x,
        torch.einsum(
            "nk,jk->nj",
            torch.special.expit(torch.special.expit(x @ w1 + b1) @ w2 + b2) - y,
            w2,
        )
        * torch.special.expit(x @ w1 + b1)
        * torch.special.expit(-(x @ w1 + b1)),
    ),
    "three_layers_w1": lambda x, w1, w2, w3, y: _three_layers_w1(x, w1, w2, w3, y),
    # Page 3.3: through the log and the softmax's full Jacobian, or with einsum.
    "soft_targets_s": lambda s, y_soft: torch.einsum(
        "nq,nqc->nc",
        -y_soft / torch.softmax(s, dim=1) / len(s),
        torch.diag_embed(torch.softmax(s, dim=1))
        - torch.softmax(s, dim=1)[:, :, None] * torch.softmax(s, dim=1)[:, None, :],
    ),
    "softmax_squared_error_s": lambda s, y: torch.einsum(
        "nq,nqc->nc",
        2 * (torch.softmax(s, dim=1) - y),
        torch.diag_embed(torch.softmax(s, dim=1))
        - torch.softmax(s, dim=1)[:, :, None] * torch.softmax(s, dim=1)[:, None, :],
    ),
    "temperature": lambda s, y, tau: (
        -torch.einsum("nq,nq->", torch.softmax(s / tau, dim=1) - y, s) / (len(s) * tau**2)
    ),
    # Pages 2.2 and 2.3: with einsum, a centring matrix, a one-hot product, and the
    # normalisations' Jacobians built feature by feature.
    "scale_exercise": lambda x, gamma, y: torch.einsum("nd,nd->d", 2 * (x * gamma - y), x)[None],
    "centre_exercise": lambda x, y: (
        2
        * (x - x.mean(dim=1, keepdim=True) - y)
        @ (torch.eye(x.shape[1], dtype=x.dtype) - 1 / x.shape[1])
    ),
    "table_exercise": lambda ix, c_table, y: (
        torch.nn.functional.one_hot(ix.long(), len(c_table)).to(c_table.dtype).T
        @ (2 * (c_table[ix.long()] - y))
    ),
    "batch_norm_exercise": lambda x, gamma, beta, y: _normalised_columns_backward(
        x, 2 * (_normalised_columns(x) * gamma + beta - y) * gamma
    ),
    "layer_norm_exercise": lambda x, gamma, beta, y: (
        _normalised_columns_backward(
            x.T, (2 * (_normalised_columns(x.T).T * gamma + beta - y) * gamma).T
        ).T
    ),
    "layer_norm_gamma_exercise": lambda x, gamma, beta, y: torch.einsum(
        "nd,nd->d",
        2 * (_normalised_columns(x.T).T * gamma + beta - y),
        _normalised_columns(x.T).T,
    )[None],
}

NORM_EPS = 1e-5  # the epsilon of page 2.3's exercises


def _normalised_columns(x):
    """Each column of x with mean 0 and variance 1 (divided by N), as batch normalisation."""
    centred = x - x.sum(dim=0) / len(x)
    return centred / torch.sqrt((centred**2).sum(dim=0) / len(x) + NORM_EPS)


def _normalised_columns_backward(x, g):
    """g (the gradient of the normalised columns) times each column's Jacobian."""
    n = len(x)
    out = torch.empty_like(x)
    for p in range(x.shape[1]):
        column = _normalised_columns(x[:, p : p + 1])
        scale = 1 / torch.sqrt(x[:, p].var(correction=0) + NORM_EPS)
        jacobian = scale / n * (n * torch.eye(n, dtype=x.dtype) - 1 - column @ column.T)
        out[:, p] = jacobian @ g[:, p]
    return out


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


"""
# the page's solution cell: the tanh layer of exercises_examples.py, then its check
EXAMPLE_CELL += inspect.getsource(TanhLayer)
EXAMPLE_CELL += "\n\ncheck_autograd_function(layer_exercise, TanhLayer, must_pass=True)\n"


def test_the_slip_table_collects_and_covers_an_autograd_function_exercise():
    """The collection and the slips on a cell of a known shape, beside page 3.2's own."""
    assert function_pairs_in([EXAMPLE_CELL, "check_autograd_function(a, B)"]) == [
        ("layer_exercise", "TanhLayer")
    ]
    torch.manual_seed(0)
    namespace = {"torch": torch, "FunctionExercise": FunctionExercise}
    namespace["check_autograd_function"] = check_autograd_function
    exec(EXAMPLE_CELL, namespace)
    # x, w and b each: sign, half, twice, /N, ×N; and transposed for the 2-D w (and x, b).
    named = assert_every_slip_is_named(namespace["layer_exercise"], namespace["TanhLayer"])
    assert named == 3 * 6


# --- Page 1.2's engine exercises (engine_checks) ---------------------------------------------
# Each reference solution's source is edited into a slip, run in the page's namespace, and the
# check must name that slip.

ENGINE_CHECKS = ("check_operation", "check_walk", "check_input_gradients")


def engine_pairs(chapter):
    """(check, exercise name, solution name) of each `check_...(e, s, must_pass=True)`."""
    pairs = []
    for cell in chapter_cells(chapter):
        for node in ast.walk(ast.parse(cell)):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ENGINE_CHECKS
                and any(k.arg == "must_pass" for k in node.keywords)
            ):
                pairs.append((node.func.id, node.args[0].id, node.args[1].id))
    return pairs


ENGINE_SLIPS = {  # solution: [(slip, [(correct text, wrong text), ...]), ...]
    "solution_sqrt": [
        ("input for output", [("g / (2 * out.data)", "g / (2 * a.data)")]),
        ("no upstream", [("(g / (2 * out.data),)", "(1 / (2 * out.data),)")]),
        ("sign", [("(g / (2 * out.data),)", "(-g / (2 * out.data),)")]),
    ],
    "solution_backward": [
        ("assigned", [("a.grad += contribution", "a.grad = contribution")]),
        ("forward order", [("in reversed(order):", "in order:")]),
        ("not seeded", [("    output.grad = 1.0\n", "")]),
        ("left over", [("            node.grad = 0.0\n", "            pass\n")]),
    ],
    "solution_gradients": [
        ("wrong", [("dL_da = dL_dab * b + t", "dL_da = dL_dab * b")]),
    ],
}
ENGINE_CASES = [
    (solution, slip, edits) for solution, slips in ENGINE_SLIPS.items() for slip, edits in slips
]


def test_every_engine_exercise_has_slips_in_the_table():
    solutions = {solution for _, _, solution in engine_pairs("01_2_scalar_autograd")}
    assert solutions == set(ENGINE_SLIPS)


@pytest.mark.parametrize(
    "solution, slip, edits", ENGINE_CASES, ids=[f"{s}:{slip}" for s, slip, _ in ENGINE_CASES]
)
def test_an_engine_slip_applied_to_the_reference_gets_its_diagnosis(solution, slip, edits):
    chapter = "01_2_scalar_autograd"
    namespace = dict(chapter_namespace(chapter))
    (check, exercise, _), *_ = [p for p in engine_pairs(chapter) if p[2] == solution]
    (source,) = [c for c in chapter_cells(chapter) if f"def {solution}(" in c]
    source = source[: source.index(f"\n\n\n{check}(")]
    for correct, wrong in edits:
        assert correct in source, f"{solution} no longer contains {correct!r}"
        source = source.replace(correct, wrong)
    exec(source, namespace)
    verdict = namespace[check](namespace[exercise], namespace[solution])
    assert not verdict and slip in verdict.slips, (slip, verdict.message)


# --- Pages 2.2 and 2.3: slips that depend on the case -----------------------------------------

# (chapter, exercise, how a learner with the slip answers, the slip the checker must name)
CASE_SLIPS = [
    (
        "02_2_broadcasts_and_lookups",
        "scale_exercise",
        lambda x, gamma, y: (2 * (x * gamma - y) * x).sum(dim=0),
        "keepdim",
    ),
    (
        "02_2_broadcasts_and_lookups",
        "scale_exercise",
        lambda x, gamma, y: (2 * (x * gamma - y) * x).sum(dim=1, keepdim=True),
        "wrong axis",
    ),
    (
        "02_2_broadcasts_and_lookups",
        "centre_exercise",
        lambda x, y: 2 * (x - x.mean(dim=1, keepdim=True) - y),
        "sample statistics held constant",
    ),
    (
        "02_2_broadcasts_and_lookups",
        "table_exercise",
        lambda ix, c_table, y: _added_once(c_table, ix, 2 * (c_table[ix] - y)),
        "repeated index added once",
    ),
    (
        "02_3_normalisation",
        "batch_norm_exercise",
        lambda x, gamma, beta, y: (
            2 * (_normalised_columns(x) * gamma + beta - y) * gamma / _spread(x, dim=0)
        ),
        "batch statistics held constant",
    ),
    (
        "02_3_normalisation",
        "layer_norm_exercise",
        lambda x, gamma, beta, y: (
            2 * (_normalised_columns(x.T).T * gamma + beta - y) * gamma / _spread(x, dim=1)
        ),
        "sample statistics held constant",
    ),
    (
        "02_3_normalisation",
        "layer_norm_gamma_exercise",
        lambda x, gamma, beta, y: torch.einsum(
            "nd,nd->d",
            2 * (_normalised_columns(x.T).T * gamma + beta - y),
            _normalised_columns(x.T).T,
        ),
        "keepdim",
    ),
]


def _added_once(c_table, ix, rows):
    """`dC[ix] += rows`: a row of the table that ix picks twice receives one of its rows."""
    grad = torch.zeros_like(c_table)
    grad[ix] += rows
    return grad


def _spread(x, dim):
    """sqrt(biased variance + eps) along dim, kept: what the normalisations divide by."""
    return torch.sqrt(x.var(dim=dim, keepdim=True, correction=0) + NORM_EPS)


@pytest.mark.parametrize(
    "chapter, exercise, answer, slip",
    CASE_SLIPS,
    ids=[f"{c}:{e}:{s}" for c, e, _, s in CASE_SLIPS],
)
def test_a_slip_that_depends_on_the_case_gets_its_diagnosis(chapter, exercise, answer, slip):
    exercise = chapter_namespace(chapter)[exercise]
    verdict = check_gradient(exercise, answer)
    assert not verdict, f"{exercise.name}: the slip {slip!r} passed"
    assert verdict.slips == (slip,), f"{exercise.name}: {slip!r} diagnosed as {verdict!r}"
