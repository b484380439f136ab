"""Unit tests for chapters/exercises/catalogue.py."""

import dataclasses

import pytest
import torch

from exercises import Exercise, catalogue, check_gradient
from exercises_examples import MATMUL, MEAN, mean_loss, real_pairs, right_matmul, right_mean


def made(exercise):
    """The exercise made again where the test runs, as a page's cell makes it: what an
    Exercise works out when it is made (each case's facts) is then the code under test's."""
    return dataclasses.replace(exercise)


@pytest.fixture(scope="module")
def real():
    return real_pairs()


BIAS = Exercise(
    name="Bias",
    loss=lambda x, b, y: ((y - (x + b)) ** 2).sum(),
    wrt="b",
    batched=("x", "y"),
    cases=[
        {"x": [[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]], "b": [[0.5, -0.5]], "y": torch.ones(3, 2)},
        {"x": [[1.5, -2.0]], "b": [[0.25, 1.0]], "y": [[0.0, 3.0]]},
    ],
)


SUM = Exercise(
    name="Sum of squared errors",
    loss=lambda w, x, y: ((y - w * x) ** 2).sum(),
    wrt="w",
    batched=("x", "y"),
    cases=[
        {"w": [3.0], "x": [1.5, -1.0], "y": [0.5, 2.0]},
        {"w": [-0.5], "x": [0.3, 3.0, 4.0], "y": [1.0, -1.0, 2.0]},
    ],
)


def right_bias(x, b, y):
    return (-2 * (y - (x + b))).sum(dim=0, keepdim=True)


@pytest.mark.parametrize(
    "relative, passes", [(1e-4, False), (1e-5, False), (1e-8, True), (1e-10, True)]
)
def test_the_tolerance_is_tight_enough_and_no_tighter(relative, passes):
    verdict = check_gradient(made(MATMUL), lambda x, w, y: right_matmul(x, w, y) * (1 + relative))
    assert bool(verdict) is passes, repr(verdict)


def test_the_tolerance_is_stated_for_float64():
    assert (catalogue.RTOL, catalogue.ATOL) == (1e-6, 1e-8)


WRONG_ANSWERS = {
    "sign flipped": (MEAN, lambda w, x, y: -right_mean(w, x, y), "sign"),
    "factor 2 dropped": (MEAN, lambda w, x, y: right_mean(w, x, y) / 2, "half"),
    "factor 2 twice": (MEAN, lambda w, x, y: right_mean(w, x, y) * 2, "twice"),
    "sum, not mean": (MEAN, lambda w, x, y: right_mean(w, x, y) * x.numel(), "times N"),
    "mean, not sum": (MATMUL, lambda x, w, y: right_matmul(x, w, y) / x.shape[0], "divided by N"),
    "transposed": (MATMUL, lambda x, w, y: right_matmul(x, w, y).T, "transpose"),
    "bias not summed": (BIAS, lambda x, b, y: -2 * (y - (x + b)), "batch sum"),
    "sum without keepdim": (BIAS, lambda x, b, y: right_bias(x, b, y)[0], "keepdim"),
    "mean without keepdim": (MEAN, lambda w, x, y: (-2 * (y - w * x) * x).mean(), "keepdim"),
    "(N,) against (1,)": (MEAN, lambda w, x, y: -2 * (y - w * x) * x / x.numel(), "batch sum"),
    "input factor x dropped": (
        MEAN,
        lambda w, x, y: (-2 * (y - w * x)).mean(dim=0, keepdim=True),
        "input factor",
    ),
    "input factor x dropped from a sum": (
        SUM,
        lambda w, x, y: (-2 * (y - w * x)).sum().reshape(1),
        "input factor",
    ),
}


@pytest.mark.parametrize("exercise, answer, slip", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_a_wrong_answer_gets_the_one_slip_that_explains_every_case(exercise, answer, slip):
    verdict = check_gradient(exercise, answer)
    assert not verdict
    assert verdict.slips == (slip,), repr(verdict)
    assert "Diagnosis: " in repr(verdict) and "Hint" not in repr(verdict)


def test_the_diagnosis_reads_as_words():
    twice = check_gradient(made(MEAN), lambda w, x, y: right_mean(w, x, y) * 2)
    assert "twice autograd's on every case: is a factor 2 counted twice?" in repr(twice)
    keepdim = check_gradient(made(BIAS), lambda x, b, y: right_bias(x, b, y)[0])
    assert "`.sum(dim=0, keepdim=True)`" in repr(keepdim)
    assert "expected a gradient of shape (1, 2) for b, got (2,)" in repr(keepdim)


def test_slips_that_cannot_be_told_apart_are_both_named():
    only_two = Exercise(
        name="Two samples",
        loss=lambda w, x, y: ((y - w * x) ** 2).sum(),
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [3.0], "x": [1.5, -1.0], "y": [0.5, 2.0]}],
    )
    verdict = check_gradient(only_two, lambda w, x, y: (-2 * (y - w * x) * x).mean().reshape(1))
    assert verdict.slips == ("half", "divided by N")
    assert repr(verdict).endswith(
        "It is wrong on 1 of the 1 cases.\n"
        "These slips fit every case alike: your gradient is half of autograd's on every case: "
        "a factor 2 is missing. In a squared error it is the 2 of the square's derivative, "
        "d(r²)/dr = 2r. Or: your gradient is autograd's divided by N, the number of samples, "
        "on every case: a sum does not divide by N (only a mean does)."
    )


def test_a_slip_is_named_only_within_the_tolerance_of_the_grade():
    verdict = check_gradient(made(MEAN), lambda w, x, y: -right_mean(w, x, y) * (1 + 1e-5))
    assert not verdict and verdict.slips == (), repr(verdict)


def test_rows_not_summed_are_named_only_when_their_sum_is_right():
    verdict = check_gradient(made(BIAS), lambda x, b, y: -(y - (x + b)))  # not summed, and half
    assert not verdict and verdict.slips == (), repr(verdict)


def test_a_loss_that_is_no_sum_over_the_samples_is_not_diagnosed_as_an_input_factor():
    squared_total = Exercise(
        name="Squared total",
        loss=lambda w, x, y: (y - w * x).sum() ** 2,
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [3.0], "x": [1.5, -1.0, 2.0], "y": [0.5, 2.0, 1.0]}],
    )
    verdict = check_gradient(squared_total, lambda w, x, y: 2 * (y - w * x).sum().reshape(1))
    assert not verdict and verdict.slips == (), repr(verdict)


@pytest.mark.parametrize("batched", [("x", "y"), ("y", "x")])
def test_the_input_factor_is_found_whichever_input_holds_it(batched):
    exercise = Exercise(
        name="Targets with a zero",
        loss=mean_loss,
        wrt="w",
        batched=batched,
        cases=[
            {"w": [3.0], "x": [1.5, -1.0, 2.0], "y": [0.0, 2.0, 1.0]},
            {"w": [-0.5], "x": [1.0, 1.0], "y": [1.0, 0.0]},  # x all 1: x changes nothing here
        ],
    )
    verdict = check_gradient(exercise, lambda w, x, y: (-2 * (y - w * x)).mean().reshape(1))
    assert verdict.slips == ("input factor",), repr(verdict)


def test_a_wrong_answer_no_slip_explains_gets_the_exercise_hint():
    verdict = check_gradient(made(MATMUL), lambda x, w, y: right_matmul(x, w, y) + 1)
    assert verdict.slips == ()
    assert repr(verdict).endswith("\nHint: dL/dW = X^T dL/dZ")
    assert "Diagnosis" not in repr(verdict)


def test_a_wrong_answer_with_no_slip_and_no_hint_says_where_it_is_wrong():
    verdict = check_gradient(made(MEAN), lambda w, x, y: right_mean(w, x, y) + 0.25)
    assert not verdict and verdict.slips == ()
    assert repr(verdict) == (
        "Mean squared error: not yet. On case 1 of 3 (w=[3.0], x=[1.5], y=[0.5]), the "
        "largest error is 0.25 at index (0,): expected 12, got 12.25. "
        "It is wrong on 3 of the 3 cases. Recheck each factor of the chain rule on that case."
    )


def test_the_report_of_a_wrong_answer_names_the_first_case_it_fails():
    def right_on_one_sample(w, x, y):
        return right_mean(w, x, y) if x.numel() == 1 else torch.full_like(w, 0.5)

    verdict = check_gradient(made(MEAN), right_on_one_sample)
    message = repr(verdict)
    assert "On case 2 of 3 (w=[3.0], x=[2.5, 1.0, -1.0], y=[2.0, 0.5, 1.0])" in message
    assert "expected 13.5, got 0.5" in message
    assert "It is wrong on 2 of the 3 cases." in message


def test_a_wrong_shape_says_what_shape_a_gradient_has():
    verdict = check_gradient(made(MATMUL), lambda x, w, y: torch.zeros(1, 3, dtype=torch.float64))
    assert "expected a gradient of shape (1, 2) for w, got (1, 3)" in repr(verdict)
    assert "a gradient has the shape of what it is taken with respect to" in repr(verdict)


def test_a_right_answer_in_the_wrong_shape_is_told_the_shape_not_the_formula(real):
    verdict = check_gradient(made(MATMUL), lambda x, w, y: right_matmul(x, w, y).unsqueeze(0))
    assert verdict.slips == ("shape",) and "Hint" not in repr(verdict), repr(verdict)
    for exercise, solution in real:
        verdict = check_gradient(
            exercise, lambda solution=solution, **a: solution(**a).unsqueeze(0)
        )
        assert verdict.slips == ("shape",), f"{exercise.name}: {verdict!r}"
        assert "Hint" not in repr(verdict) and "numbers are right" in repr(verdict)


def _float32(value):
    """A float input in float32; an integer one (an index, a label) unchanged."""
    return value.float() if value.is_floating_point() else value


def test_a_right_answer_computed_in_float32_is_told_the_precision_not_the_formula(real):
    told = 0
    for exercise, solution in real:

        def in_float32(solution=solution, **arguments):
            return solution(**{k: _float32(v) for k, v in arguments.items()}).double()

        try:
            in_float32(**exercise.inputs[0])
        except RuntimeError:  # the solution mixes in a float64 tensor of its own
            continue
        verdict = check_gradient(exercise, in_float32)
        if verdict:  # float32 happened to be exact enough on every case
            continue
        assert verdict.slips == ("precision",), f"{exercise.name}: {verdict!r}"
        assert "Hint" not in repr(verdict) and "float32" in repr(verdict)
        told += 1
    assert told > 0
    verdict = check_gradient(made(MATMUL), lambda x, w, y: right_matmul(x, w, y) * (1 + 3e-6))
    assert verdict.slips == ("precision",) and "Hint" not in repr(verdict), repr(verdict)


def remade(exercise):
    return Exercise(
        name=exercise.name,
        loss=exercise.loss,
        wrt=exercise.wrt,
        cases=exercise.cases,
        batched=exercise.batched,
        hint=exercise.hint,
    )


@pytest.mark.parametrize("exercise, answer, slip", WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_an_exercise_made_now_names_the_same_slip(exercise, answer, slip):
    verdict = check_gradient(remade(exercise), answer)
    assert verdict.slips == (slip,), repr(verdict)


def test_two_slips_and_an_input_factor_that_fit_alike_are_all_named():
    exercise = Exercise(
        name="x = 2",
        loss=mean_loss,
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [3.0], "x": [2.0, 2.0, 2.0], "y": [1.0, 0.5, -1.0]}],
    )
    verdict = check_gradient(exercise, lambda w, x, y: (-2 * (y - w * x)).mean().reshape(1))
    assert verdict.slips == ("half", "input factor"), repr(verdict)


# --- Issue 26: the catalogue as one table, and the next pages' slips -----------------------------


def test_the_catalogue_is_one_table_with_each_slips_words():
    names = [slip.name for slip in catalogue.SLIPS]
    assert len(names) == len(set(names))
    for slip in catalogue.SLIPS:
        assert slip.words, slip.name
    assert [s.name for s in catalogue.SLIPS if s.last_resort] == ["shape", "precision"]
    assert catalogue.SLIPS[-1].last_resort and catalogue.SLIPS[-2].last_resort
    assert "Adding a slip" in catalogue.__doc__ and "slip_values" in catalogue.__doc__
    for name in (
        "assigned instead of added",
        "a node visited before its users are done",
        "the output's gradient not seeded with 1",
        "gradients left over from an earlier call",
        "used the input where the output was needed",
        "batch statistics held constant",
    ):
        assert name in catalogue.SUPPLIED and catalogue.slip_words(name)


def randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def wide_bias_loss(x, b, y):
    return ((y - (x + b)) ** 2).sum()


WIDE_BIAS = Exercise(
    name="Wide bias",
    loss=wide_bias_loss,
    wrt="b",
    batched=("x", "y"),
    cases=[
        {"x": randn(3, 4, seed=1), "b": randn(1, 4, seed=2), "y": torch.ones(3, 4)},
        {"x": randn(2, 5, seed=3), "b": randn(1, 5, seed=4), "y": torch.zeros(2, 5)},
    ],
)


def test_a_sum_over_the_wrong_axis_is_named():
    def wrong_axis(x, b, y):
        return (-2 * (y - (x + b))).sum(dim=1, keepdim=True)

    verdict = check_gradient(made(WIDE_BIAS), wrong_axis)
    assert verdict.slips == ("wrong axis",), repr(verdict)
    assert "summed over the wrong axis" in repr(verdict)
    without_keepdim = check_gradient(
        made(WIDE_BIAS), lambda x, b, y: wrong_axis(x, b, y).squeeze(1)
    )
    assert without_keepdim.slips == ("wrong axis",), repr(without_keepdim)
    # The shape alone is not the slip: other numbers in that shape are not named.
    other = check_gradient(made(WIDE_BIAS), lambda x, b, y: 3 * wrong_axis(x, b, y) + 1)
    assert "wrong axis" not in other.slips, repr(other)
    assert check_gradient(
        made(WIDE_BIAS), lambda x, b, y: (-2 * (y - (x + b))).sum(0, keepdim=True)
    )


def column_loss(c, x, y):
    return ((y - c * x) ** 2).sum()


COLUMN = Exercise(
    name="A scale per sample",
    loss=column_loss,
    wrt="c",
    batched=("c", "x", "y"),
    cases=[
        {"c": [[0.5], [2.0], [-1.0]], "x": randn(3, 4, seed=5), "y": randn(3, 4, seed=6)},
        {"c": [[1.5], [0.3]], "x": randn(2, 3, seed=7), "y": randn(2, 3, seed=8)},
    ],
)


def test_a_lost_keepdim_reads_right_for_a_row_and_for_a_column():
    verdict = check_gradient(made(COLUMN), lambda c, x, y: (-2 * (y - c * x) * x).sum(dim=1))
    assert verdict.slips == ("keepdim",), repr(verdict)
    assert repr(verdict).endswith(
        "Diagnosis: your gradient has the right numbers but lost a dimension: the parameter is "
        "a column, broadcast across the columns, and a sum across them keeps its shape with "
        "`.sum(dim=1, keepdim=True)`."
    )
    over_the_batch = (
        "Diagnosis: your gradient has the right numbers but lost a dimension: a sum over the "
        "batch keeps the parameter's shape with `.sum(dim=0, keepdim=True)`."
    )
    row = check_gradient(made(WIDE_BIAS), lambda x, b, y: (-2 * (y - (x + b))).sum(dim=0))
    assert row.slips == ("keepdim",) and repr(row).endswith(over_the_batch), repr(row)
    # a parameter of one entry, shape (1,), is a row of the batch's sum too
    one = check_gradient(made(MEAN), lambda w, x, y: (-2 * (y - w * x) * x).mean())
    assert one.slips == ("keepdim",) and repr(one).endswith(over_the_batch), repr(one)


def embedding_loss(table, ix, y):
    return ((table[ix] - y) ** 2).sum()


EMBEDDING_ROWS = Exercise(
    name="Embedding rows",
    loss=embedding_loss,
    wrt="table",
    batched=("ix", "y"),
    cases=[
        {
            "table": randn(4, 3, seed=9),
            "ix": torch.tensor([0, 2, 2, 3]),
            "y": randn(4, 3, seed=10),
        },
        {
            "table": randn(5, 2, seed=11),
            "ix": torch.tensor([1, 1, 1, 4, 0]),
            "y": randn(5, 2, seed=12),
        },
    ],
)


def right_embedding(table, ix, y):
    return torch.zeros_like(table).index_add_(0, ix, 2 * (table[ix] - y))


def test_a_repeated_index_added_once_is_named():
    assert check_gradient(made(EMBEDDING_ROWS), right_embedding)

    def assigns(table, ix, y):
        grad = torch.zeros_like(table)
        grad[ix] = 2 * (table[ix] - y)
        return grad

    verdict = check_gradient(made(EMBEDDING_ROWS), assigns)
    assert verdict.slips == ("repeated index added once",), repr(verdict)

    # Wrong on a row picked once as well: not this slip.
    def also_wrong_elsewhere(table, ix, y):
        grad = assigns(table, ix, y)
        grad[3] += 1.0
        return grad

    assert (
        "repeated index added once"
        not in check_gradient(made(EMBEDDING_ROWS), also_wrong_elsewhere).slips
    )


def centred_loss(x, y):
    return ((x - x.mean()) * y).sum()


def test_an_exercise_supplies_the_value_of_a_slip_without_a_test():
    exercise = Exercise(
        name="Centred",
        loss=centred_loss,
        wrt="x",
        batched=("x", "y"),
        cases=[{"x": [1.0, 2.0, 4.0], "y": [0.5, -1.0, 3.0]}, {"x": [0.2, 0.1], "y": [2.0, 1.0]}],
        slip_values={"batch statistics held constant": lambda x, y: y},
    )
    assert check_gradient(exercise, lambda x, y: y - y.mean())
    verdict = check_gradient(exercise, lambda x, y: y.clone())
    assert verdict.slips == ("batch statistics held constant",), repr(verdict)
    assert catalogue.slip_words("batch statistics held constant") in repr(verdict)
    other = check_gradient(exercise, lambda x, y: 2 * y)
    assert "batch statistics held constant" not in other.slips
    with pytest.raises(ValueError, match="slip_values names no slip of the catalogue"):
        Exercise(
            name="Centred",
            loss=centred_loss,
            wrt="x",
            batched=("x", "y"),
            cases=exercise.cases,
            slip_values={"made up": lambda x, y: y},
        )


def row_centred_loss(x, y):
    return ((x - x.mean(dim=1, keepdim=True)) * y).sum()


def test_a_sample_statistic_held_constant_is_named_from_the_value_the_exercise_supplies():
    """Layer normalisation's slip (page 2.3): each row's mean taken as a constant."""
    exercise = Exercise(
        name="Row centred",
        loss=row_centred_loss,
        wrt="x",
        batched=("x", "y"),
        cases=[
            {"x": [[1.0, 2.0, 4.0], [0.5, -1.0, 2.0]], "y": [[0.5, -1.0, 3.0], [1.0, 2.0, 0.25]]},
            {
                "x": [[0.2, 0.1], [1.5, -0.3], [2.0, 0.7]],
                "y": [[2.0, 1.0], [0.5, 0.1], [1.0, 3.0]],
            },
        ],
        slip_values={
            "sample statistics held constant": lambda x, y: y,
            "batch statistics held constant": lambda x, y: y - y.mean(dim=0, keepdim=True),
        },
    )
    assert check_gradient(exercise, lambda x, y: y - y.mean(dim=1, keepdim=True))
    verdict = check_gradient(exercise, lambda x, y: y.clone())
    assert verdict.slips == ("sample statistics held constant",), repr(verdict)
    assert catalogue.slip_words("sample statistics held constant") in repr(verdict)
    batch = check_gradient(exercise, lambda x, y: y - y.mean(dim=0, keepdim=True))
    assert batch.slips == ("batch statistics held constant",), repr(batch)


def test_the_one_float32_rule_holds_on_every_chapter_exercise(real):
    """Issue 26: a reference on float32 copies was accepted on 9 exercises, "precision" on 5."""
    for exercise, solution in real:

        def in_float32(solution=solution, **arguments):
            return solution(**{k: _float32(v) for k, v in arguments.items()}).double()

        try:
            in_float32(**exercise.inputs[0])
        except RuntimeError:  # the solution mixes in a float64 tensor of its own
            continue
        verdict = check_gradient(exercise, in_float32)
        assert verdict.slips == ("precision",), f"{exercise.name}: {verdict!r}"


def test_the_float32_rule_on_exact_float32_values():
    """Float32 through which exact values pass changes nothing: whole numbers, one constant."""

    def with_exact_float32(w, x, y):
        two = torch.tensor(2.0)  # one entry, promoted to float64
        ones = torch.ones(len(x))  # whole numbers, exact in float32
        return (-two * (y - w * x) * x * ones).mean(dim=0, keepdim=True)

    assert check_gradient(made(MEAN), with_exact_float32)

    def casts(w, x, y):
        return right_mean(w.float().double(), x, y)  # 3.0 survives, yet a step is float32

    verdict = check_gradient(made(MEAN), casts)
    assert verdict.slips == ("precision",), repr(verdict)
    assert "your numbers are within the tolerance, but a step computes them in float32" in repr(
        verdict
    )


# --- Issue 26, mutation: the catalogue's tests on shapes the chapters do not have yet ------------


def channel_loss(c, x, y):
    return ((y - c * x) ** 2).sum()


CHANNELS = Exercise(
    name="A scale per sample and channel",
    loss=channel_loss,
    wrt="c",
    batched=("c", "x", "y"),
    cases=[
        {"c": randn(2, 3, 1, seed=13), "x": randn(2, 3, 4, seed=14), "y": randn(2, 3, 4, seed=15)},
        {"c": randn(3, 2, 1, seed=16), "x": randn(3, 2, 5, seed=17), "y": randn(3, 2, 5, seed=18)},
    ],
)


def test_a_lost_keepdim_of_a_column_is_named_in_three_dimensions():
    """A parameter of shape (N, C, 1) summed without keepdim: the last dimension is lost."""
    right = check_gradient(
        made(CHANNELS), lambda c, x, y: (-2 * (y - c * x) * x).sum(dim=2, keepdim=True)
    )
    assert right, repr(right)
    verdict = check_gradient(made(CHANNELS), lambda c, x, y: (-2 * (y - c * x) * x).sum(dim=2))
    assert verdict.slips == ("keepdim",), repr(verdict)
    assert repr(verdict).endswith(
        "a sum across them keeps its shape with `.sum(dim=2, keepdim=True)`."
    ), repr(verdict)


def test_a_sum_over_the_wrong_axis_is_named_for_a_parameter_of_two_entries():
    """BIAS's parameter is a row of 2: each sample's share summed to one number is named."""
    verdict = check_gradient(
        made(BIAS), lambda x, b, y: (-2 * (y - (x + b))).sum(dim=1, keepdim=True)
    )
    assert verdict.slips == ("wrong axis",), repr(verdict)


def picked_entries(table, ix, labels):
    """Each sample's row of the table, and in it the entry its label names."""
    return (table[ix].gather(1, labels[:, None]) ** 2).sum()


# (no cross_entropy here: with it this test hung in mutmut's forked test runs)
EMBEDDED_CLASSES = Exercise(
    name="Embedded classes",
    loss=picked_entries,
    wrt="table",
    batched=("ix", "labels"),
    cases=[
        # the index leaves the last row out; the labels, an integer input too, repeat no row
        {
            "table": randn(5, 4, seed=19),
            "ix": torch.tensor([0, 2, 2, 3]),
            "labels": torch.tensor([3, 1, 0, 2]),
        },
        # every sample picks the same row
        {
            "table": randn(6, 4, seed=20),
            "ix": torch.tensor([1, 1, 1]),
            "labels": torch.tensor([0, 2, 3]),
        },
    ],
)


def shares_of_the_samples(table, ix, labels):
    shares = torch.zeros(len(ix), table.shape[1], dtype=table.dtype)
    rows = torch.arange(len(ix))
    shares[rows, labels] = 2 * table[ix, labels]
    return shares


def right_embedded_classes(table, ix, labels):
    return torch.zeros_like(table).index_add_(0, ix, shares_of_the_samples(table, ix, labels))


def test_a_repeated_index_added_once_is_named_beside_other_integer_inputs():
    assert check_gradient(made(EMBEDDED_CLASSES), right_embedded_classes)

    def assigns(table, ix, labels):
        grad = torch.zeros_like(table)
        grad[ix] = shares_of_the_samples(table, ix, labels)
        return grad

    verdict = check_gradient(made(EMBEDDED_CLASSES), assigns)
    assert verdict.slips == ("repeated index added once",), repr(verdict)


def test_a_step_in_float32_on_one_case_only_is_told_on_that_case():
    def first_case_in_float32(w, x, y):
        if x.numel() == 1:
            return right_mean(w.float(), x.float(), y.float()).double()
        return right_mean(w, x, y)

    verdict = check_gradient(made(MEAN), first_case_in_float32)
    assert verdict.slips == ("precision",), repr(verdict)
    assert repr(verdict).startswith(
        "Mean squared error: not yet. On case 1 of 3 (w=[3.0], x=[1.5], y=[0.5]), your numbers "
        "are within the tolerance, but a step computes them in float32, which is exact to 7 "
        "digits only. It is wrong on 1 of the 3 cases.\nDiagnosis: "
    ), repr(verdict)


def test_float32_that_cancels_past_its_tolerance_is_still_told_the_precision():
    """y - w x of two large, close numbers loses more in float32 than float32's tolerance:
    no slip's test fits, and the float32 step is what is wrong."""
    exercise = Exercise(
        name="Cancelling",
        loss=lambda w, x, y: ((y - w * x) ** 2).sum(),
        wrt="w",
        batched=("x", "y"),
        cases=[{"w": [1.0], "x": [10000.0, 20000.0], "y": [10000.1, 20000.3]}],
    )

    def in_float32(w, x, y):
        w, x, y = w.float(), x.float(), y.float()
        return (-2 * (y - w * x) * x).sum().reshape(1).double()

    assert not catalogue._close(in_float32(**exercise.inputs[0]), exercise.answers[0], 1e-4, 1e-5)
    verdict = check_gradient(exercise, in_float32)
    assert verdict.slips == ("precision",), repr(verdict)


def test_a_float32_answer_far_from_autograd_is_not_told_it_agrees_to_7_digits():
    """Three times the gradient, computed in float32: the float32 step is named, but the
    words do not say the numbers agree to float32's digits, and send back to the derivation."""
    verdict = check_gradient(MEAN, lambda w, x, y: 3 * right_mean(w.float(), x.float(), y))
    assert not verdict and verdict.slips == ("precision",), repr(verdict)
    assert "agrees with autograd only to float32's 7 digits" not in repr(verdict)
    assert (
        "some step is computed in float32, and your numbers are further from autograd's than "
        "float32's rounding usually leaves them" in repr(verdict)
    )
    assert "if they still differ, recheck the derivation" in repr(verdict)
    close = check_gradient(MEAN, lambda w, x, y: right_mean(w.float(), x.float(), y))
    assert close.slips == ("precision",)
    assert "agrees with autograd only to float32's 7 digits" in repr(close), repr(close)


def test_the_precision_words_tell_float32_rounding_from_a_wrong_derivation():
    """Within float32's reach (an absolute 1e-5 near 0, a relative 1e-4 elsewhere) the
    answer only lost digits; further off, the derivation may be wrong too."""
    expected = torch.tensor([0.0, 1.0], dtype=torch.float64)
    near = torch.tensor([5e-6, 1.00005], dtype=torch.float64)
    far = torch.tensor([5e-6, 1.01], dtype=torch.float64)
    assert catalogue._precision_words(near, expected) == (
        "your gradient agrees with autograd only to float32's 7 digits: some step is computed "
        f"in float32. Keep every step in float64 {catalogue._FLOAT64}."
    )
    assert catalogue._precision_words(far, expected) == (
        "some step is computed in float32, and your numbers are further from autograd's than "
        "float32's rounding usually leaves them. Keep every step in float64 first "
        f"{catalogue._FLOAT64}; if they still differ, recheck the derivation."
    )
